"""Write a run's rows into the warehouse, exactly once.

In:  ``{"articles": Article, "duplicates": Duplicate, "errors": ErrorRecord,
       "index": IndexEntry}`` PCollections (any may be empty).
Out: PCollection of :class:`transforms.warehouse.StagedFile` for every file written.

Files go to the run's staging folder (``transforms.warehouse`` owns the layout
and the commit protocol), under the relative paths they will have::

    articles/date=YYYY-MM-DD/theme=<slug>/part-<run>-<digest>.parquet
    duplicates/part-<run>-<digest>.parquet
    errors/part-<run>-<digest>.parquet
    _index/part-<run>-<digest>.parquet     # what later runs dedup against
    stories/part-<run>-<digest>.parquet    # the stories the run touched
    story_merges/part-<run>-<digest>.parquet
    _story_terms/part-<run>-<window start>.parquet   # word frequencies for stories

Nothing is visible in the warehouse until :class:`CommitRun` commits the run.
File names are digests of their rows, so a retried bundle rewrites the same
file instead of adding a second copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Callable, Iterable, Iterator

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from newsbeam.schemas import Article, Duplicate, ErrorRecord, IndexEntry, Story, StoryMerge, to_table
from newsbeam.transforms import warehouse
from newsbeam.transforms.warehouse import StagedFile

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


def stage_parquet(out: str, run_id: str, directory: str, record: type, rows: list,
                  id_of: Callable) -> StagedFile:
    """Stage ``rows`` as ``directory/part-<run>-<digest>.parquet`` of run ``run_id``."""
    rows = sorted(rows, key=id_of)
    relpath = f"{directory}/part-{run_id}-{digest(id_of(r) for r in rows)}.parquet"
    table = to_table(record, rows)
    warehouse.stage_file(out, run_id, relpath,
                         lambda handle: pq.write_table(table, handle, compression="zstd"))
    return StagedFile(directory.split("/", 1)[0], relpath, len(rows))


class _WriteGroupFn(beam.DoFn):
    def __init__(self, out: str, record: type, table: str, id_of: Callable,
                 directory_of: Callable[[str], str]):
        self.out = out
        self.record = record
        self.table = table
        self.id_of = id_of
        self.directory_of = directory_of

    def process(self, element, run: warehouse.Run) -> Iterator[StagedFile]:
        key, rows = element
        rows = list(rows)
        staged = stage_parquet(self.out, run.run_id, self.directory_of(key), self.record, rows,
                               self.id_of)
        beam.metrics.Metrics.counter("write", f"{self.table}:{key}").inc(len(rows))
        if self.table == "articles":  # the summary says how many are filed under their ingestion date
            beam.metrics.Metrics.counter("write", "undated").inc(sum(r.published_at is None for r in rows))
        yield staged


class _WriteTable(beam.PTransform):
    """Group rows into files by key and write each group atomically."""

    def __init__(self, out: str, record: type, table: str, run: beam.PCollection,
                 key_of: Callable, id_of: Callable, directory_of: Callable[[str], str]):
        super().__init__()
        self.args = (out, record, table, id_of, directory_of)
        self.run = run
        self.key_of = key_of

    def expand(self, rows):
        return (
            rows
            | "KeyByFile" >> beam.Map(lambda r, key_of=self.key_of: (key_of(r), r))
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteGroupFn(*self.args),
                                         beam.pvalue.AsSingleton(self.run))
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


def _story_id(row) -> str:
    return row.story_id


class _WriteTermsFn(beam.DoFn):
    """The run's story word frequencies (``transforms.stories.Frequencies``) -> one file."""

    def __init__(self, out: str):
        self.out = out

    def process(self, freq, run: warehouse.Run) -> Iterator[StagedFile]:
        table = freq.rows()
        # Named by the window's start: the newest committed file is the current table.
        relpath = f"_story_terms/part-{run.run_id}-{run.started:020d}.parquet"
        warehouse.stage_file(self.out, run.run_id, relpath,
                             lambda handle: pq.write_table(table, handle, compression="zstd"))
        yield StagedFile("_story_terms", relpath, table.num_rows)


def _article_id(row) -> str:
    """Articles and index entries: one file row per article id."""
    return row.article_id


class WriteWarehouse(beam.PTransform):
    """Stage the run's articles, duplicates, errors and index files (see the module
    docstring); commit them with :class:`CommitRun`. ``run``: the run's
    :class:`~transforms.warehouse.Run`, one per window (see :class:`BeginRun`)."""

    def __init__(self, out: str, run: beam.PCollection, shards_per_partition: int = 1,
                 buckets: int = 8):
        super().__init__()
        self.out = out
        self.run = run
        self.shards = max(1, shards_per_partition)
        self.buckets = max(1, buckets)

    def expand(self, tables: dict) -> beam.PCollection:
        out, run = self.out, self.run
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
            lambda _key: "_index")
        written = [articles, duplicates, errors, index]
        if "stories" in tables:
            written.append(tables["stories"] | "WriteStories" >> _WriteTable(
                out, Story, "stories", run, _flat_key(self.buckets, _story_id), _story_id,
                lambda _key: "stories"))
            written.append(tables["merges"] | "WriteMerges" >> _WriteTable(
                out, StoryMerge, "story_merges", run, lambda _row: "0", _story_id,
                lambda _key: "story_merges"))
            written.append(tables["terms"] | "WriteTerms" >> beam.ParDo(
                _WriteTermsFn(out), beam.pvalue.AsSingleton(run)))
        return tuple(written) | "WrittenFiles" >> beam.Flatten()


# Tables a query may name before any row of theirs was written: each gets an empty
# file with its schema in the first commit that has none, so a reader's glob never
# fails with "no files found". (``articles/`` is partitioned: an empty file would need
# a made-up date and theme.)
EMPTY_TABLES = {"duplicates": (Duplicate, _duplicate_id), "errors": (ErrorRecord, _error_id),
                "stories": (Story, _story_id), "story_merges": (StoryMerge, _story_id)}


def empty_tables(out: str, run_id: str, files: list[StagedFile],
                 present: set | None = None) -> list[StagedFile]:
    """Stage an empty file for each of :data:`EMPTY_TABLES` that neither the warehouse nor
    ``files`` has yet.

    ``present`` holds tables already known to have a committed file; it is updated, so
    a caller that commits again (a follower, every poll) globs each table at most
    until it has one, not on every commit.
    """
    present = set() if present is None else present
    present.update(f.table for f in files)
    added = []
    for table, (record, id_of) in EMPTY_TABLES.items():
        if table in present:
            continue
        if not FileSystems.match([warehouse.table_pattern(out, table)])[0].metadata_list:
            added.append(stage_parquet(out, run_id, table, record, [], id_of))
        present.add(table)
    return added


class _CommitFn(beam.DoFn):
    def __init__(self, out: str, final: bool):
        self.out, self.final = out, final

    def setup(self):
        self._present: set = set()

    def process(self, element, run: warehouse.Run) -> Iterator[int]:
        _, files = element
        files = list(files)
        # A failed commit raises and the bundle is retried on a new instance:
        # `present` may then name a table whose empty file never committed, so only
        # trust it once this commit went through.
        present = set(self._present)
        files += empty_tables(self.out, run.run_id, files, present)
        yield warehouse.commit(self.out, run.run_id, run.base, files, final=self.final)
        self._present = present
        beam.metrics.Metrics.counter("write", "committed_files").inc(len(files))


class CommitRun(beam.PTransform):
    """StagedFile -> the run's commit: one record in the log, then the files in place.

    In:  every file the run (or, streaming, the window) staged.
    Out: the commit's sequence number, one per window that staged anything.

    All of a window's file names meet under one key, so the commit runs after
    the last write; that is one small row per file, never the articles.
    ``run``: the :class:`~transforms.warehouse.Run` of each window; ``final``
    (batch runs) removes the staging folder once published.
    """

    def __init__(self, out: str, run: beam.PCollection, final: bool = True):
        super().__init__()
        self.out, self.run, self.final = out, run, final

    def expand(self, staged: beam.PCollection[StagedFile]) -> beam.PCollection[int]:
        return (staged
                | "OneKey" >> beam.Map(lambda f: ("run", f))
                | "AllFiles" >> beam.GroupByKey()
                | "Commit" >> beam.ParDo(_CommitFn(self.out, self.final),
                                         beam.pvalue.AsSingleton(self.run)))


class _BeginFn(beam.DoFn):
    def __init__(self, out: str):
        self.out = out

    def process(self, _tick) -> Iterator[warehouse.Run]:
        yield warehouse.start(self.out)


class BeginRun(beam.PTransform):
    """Any one element (a poll's tick) -> a new :class:`~transforms.warehouse.Run`.

    The run starts when the pipeline reaches it, not when it is built, so a
    local follower builds its graph once and runs it again for every poll.
    Needs the writer lock (or lease) held by the process running the pipeline.
    """

    def __init__(self, out: str):
        super().__init__()
        self.out = out

    def expand(self, ticks: beam.PCollection) -> beam.PCollection:
        return ticks | "Start" >> beam.ParDo(_BeginFn(self.out))


def _indexed(kv):
    _, g = kv
    written = list(g["written"])
    if written:
        for entry in g["entry"]:
            yield entry._replace(story_id=written[0])


class IndexWritten(beam.PTransform):
    """(IndexEntry, Article) -> the entries of articles that are written, with their
    story: one that failed tagging ends as an error row and must not be matched later."""

    def expand(self, inputs):
        entries, articles = inputs
        return ({"entry": entries | "KeyEntry" >> beam.Map(lambda e: (e.article_id, e)),
                 "written": articles | "KeyWritten" >> beam.Map(lambda a: (a.article_id, a.story_id))}
                | "JoinWritten" >> beam.CoGroupByKey()
                | "Written" >> beam.FlatMap(_indexed).with_output_types(IndexEntry))


beam.coders.registry.register_coder(StagedFile, beam.coders.RowCoder)
