"""Write the warehouse: Hive-partitioned articles plus duplicates, errors, index.

In:  ``{"articles": Article, "duplicates": Duplicate, "errors": ErrorRecord,
       "index": IndexEntry}`` PCollections (any may be empty).
Out: PCollection of ``(table, path, rows)`` for every file written.

Layout under ``out``::

    articles/date=YYYY-MM-DD/theme=<slug>/part-<run>-<digest>.parquet
    duplicates/part-<run>-<digest>.parquet
    errors/part-<run>-<digest>.parquet
    _index/part-<run>-<digest>.parquet     # what later runs dedup against

Every file is written under ``_tmp/`` with a name no Parquet glob matches and
renamed into place when complete, so readers never see a half-written file
(a local rename is atomic; on object stores the copy publishes one complete
object). File names are digests of their rows, so a retried bundle rewrites
the same file instead of adding a second copy. ``_index`` files are written
only after every article file of the run is in place, so a crash never leaves
index entries without their articles (which would lose them). It can leave a
run's articles unindexed: re-running the same inputs then rebuilds the same
rows into the same file names, replacing them; only a re-run whose partition
groups differ from the crashed run's would write such rows a second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import BinaryIO, Callable, Iterable, Iterator, Optional

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas import Article, Duplicate, ErrorRecord, IndexEntry, to_table

_SLUG = re.compile(r"[^a-z0-9-]+")


def partition_of(article: Article) -> tuple[str, str]:
    """(date, theme): publication date when known, else ingestion date; first theme."""
    micros = article.published_at if article.published_at is not None else article.ingested_at
    date = dt.datetime.fromtimestamp(micros / 1_000_000, dt.timezone.utc).date().isoformat()
    theme = article.themes[0] if article.themes else "unclassified"
    return date, _SLUG.sub("-", theme.lower()).strip("-") or "unclassified"


def digest(ids: Iterable[str]) -> str:
    """A short stable name for ids given in a fixed order: files named by their
    content, so a retried write replaces its file instead of adding one."""
    h = hashlib.blake2b(digest_size=8)
    for i in ids:
        h.update(i.encode())
        h.update(b"\n")
    return h.hexdigest()


def _bucket(key: str, buckets: int) -> int:
    return int(hashlib.blake2b(key.encode(), digest_size=4).hexdigest(), 16) % buckets


def _mkdirs(path: str) -> None:
    try:
        FileSystems.mkdirs(path)
    except OSError:
        pass  # already there (local), or a no-op on object stores


def publish_atomically(final: str, write: Callable[[BinaryIO], None],
                       tmp_dir: Optional[str] = None) -> str:
    """Write a file under a temporary name (``tmp_dir``, default beside it) and
    rename it to ``final``, so a reader sees the old file or the new, never half."""
    final_dir = final.rsplit("/", 1)[0]
    tmp_dir = tmp_dir or final_dir
    _mkdirs(final_dir)
    _mkdirs(tmp_dir)
    tmp = FileSystems.join(tmp_dir, f"{uuid.uuid4().hex}.inprogress")
    with FileSystems.create(tmp) as handle:
        write(handle)
    # Rename replaces a file of the same name on local disks and object stores
    # alike; deleting first would let a reader (or a crash) see neither.
    FileSystems.rename([tmp], [final])
    return final


def write_parquet_atomically(out: str, directory: str, record: type, rows: list, run_id: str,
                             id_of: Callable) -> str:
    """Write ``rows`` to ``out/directory/part-<run>-<digest>.parquet`` via ``_tmp/``."""
    rows = sorted(rows, key=id_of)
    name = f"part-{run_id}-{digest(id_of(r) for r in rows)}.parquet"
    final = FileSystems.join(out, *directory.split("/"), name)
    table = to_table(record, rows)
    return publish_atomically(
        final, lambda handle: pq.write_table(table, handle, compression="zstd"),
        tmp_dir=FileSystems.join(out, "_tmp"))


class _WriteGroupFn(beam.DoFn):
    def __init__(self, out: str, record: type, table: str, run_id: str, id_of: Callable,
                 directory_of: Callable[[str], str]):
        self.out = out
        self.record = record
        self.table = table
        self.run_id = run_id
        self.id_of = id_of
        self.directory_of = directory_of

    def process(self, element, *_wait_for) -> Iterator[tuple[str, str, int]]:
        key, rows = element
        rows = list(rows)
        path = write_parquet_atomically(self.out, self.directory_of(key), self.record, rows,
                                        self.run_id, self.id_of)
        beam.metrics.Metrics.counter("write", f"{self.table}:{key}").inc(len(rows))
        yield self.table, path, len(rows)


class _WriteTable(beam.PTransform):
    """Group rows into files by key and write each group atomically."""

    def __init__(self, out: str, record: type, table: str, run_id: str, key_of: Callable,
                 id_of: Callable, directory_of: Callable[[str], str], wait_for=None):
        super().__init__()
        self.args = (out, record, table, run_id, id_of, directory_of)
        self.key_of = key_of
        self.wait_for = wait_for

    def expand(self, rows):
        side = [beam.pvalue.AsList(self.wait_for)] if self.wait_for is not None else []
        return (
            rows
            | "KeyByFile" >> beam.Map(lambda r, key_of=self.key_of: (key_of(r), r))
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteGroupFn(*self.args), *side)
        )


def _article_key(shards: int) -> Callable[[Article], str]:
    def key(article: Article) -> str:
        date, theme = partition_of(article)
        return f"date={date}/theme={theme}/{_bucket(article.article_id, shards)}"
    return key


def _article_dir(key: str) -> str:
    return "articles/" + key.rsplit("/", 1)[0]


def _flat_key(buckets: int, id_of: Callable) -> Callable:
    return lambda row: str(_bucket(id_of(row), buckets))


def _duplicate_id(row: Duplicate) -> str:
    return f"{row.article_id}:{row.source}"


def _error_id(row: ErrorRecord) -> str:
    return f"{row.source}\0{row.stage}\0{row.error}"


def _article_id(row) -> str:
    """Articles and index entries: one file row per article id."""
    return row.article_id


class WriteWarehouse(beam.PTransform):
    """Write the run's articles, duplicates, errors and index under ``out``."""

    def __init__(self, out: str, run_id: str, shards_per_partition: int = 1,
                 buckets: int = 8):
        super().__init__()
        self.out = out
        self.run_id = run_id
        self.shards = max(1, shards_per_partition)
        self.buckets = max(1, buckets)

    def expand(self, tables: dict) -> beam.PCollection:
        out, run = self.out, self.run_id
        articles = tables["articles"] | "WriteArticles" >> _WriteTable(
            out, Article, "articles", run, _article_key(self.shards), _article_id, _article_dir)
        duplicates = tables["duplicates"] | "WriteDuplicates" >> _WriteTable(
            out, Duplicate, "duplicates", run, _flat_key(self.buckets, _duplicate_id),
            _duplicate_id, lambda _key: "duplicates")
        errors = tables["errors"] | "WriteErrors" >> _WriteTable(
            out, ErrorRecord, "errors", run, _flat_key(self.buckets, _error_id), _error_id,
            lambda _key: "errors")
        index = tables["index"] | "WriteIndex" >> _WriteTable(
            out, IndexEntry, "index", run, _flat_key(self.buckets, _article_id), _article_id,
            lambda _key: "_index", wait_for=articles)
        return (articles, duplicates, errors, index) | "WrittenFiles" >> beam.Flatten()
