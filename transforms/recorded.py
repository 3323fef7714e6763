"""What the warehouse already accounts for, so a re-run adds no row to any table.

``ReadRecordedIds``: PBegin (or once per run, in its window) -> PCollection[str], the id of every input that
already has its one row in a committed table: the ``article_id`` of each
``_index`` entry (kept articles), each ``duplicates`` row and each ``errors``
row that ends an input. Feed-level errors carry no input id. Warehouses
written before ``articles.page_status`` existed also hold ``stage`` "fetch"
rows, which did not end an item (it went on with its summary, and its one row
is in the same commit): they are ignored. No such rows are written any more.

``SkipRecorded``: ErrorRecord -> ErrorRecord whose input is not recorded yet
(counted ``write/already_recorded`` otherwise). ``Deduplicate`` uses the same
ids to skip re-read inputs before they are tagged.

Each file is read column-wise (one id column), from the committed files only:
staged files of runs in flight are not under the table globs.
"""

from __future__ import annotations

from typing import Iterator, Optional

import apache_beam as beam
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io import fileio

from newsbeam.schemas import ErrorRecord
from newsbeam.transforms import warehouse


def read_ids(readable) -> list[str]:
    """The input ids one committed Parquet file accounts for."""
    with readable.open() as handle:
        pf = pq.ParquetFile(handle)
        names = pf.schema_arrow.names
        if "article_id" not in names:
            return []  # errors/ files from before error rows carried ids
        columns = ["article_id"] + (["stage"] if "stage" in names else [])
        table = pf.read(columns=columns)
    ids = table.column("article_id")
    if "stage" in columns:  # old fetch rows: see the module docstring
        ids = ids.filter(pc.not_equal(table.column("stage"), "fetch"))
    return [i for i in ids.to_pylist() if i]


class ReadRecordedIds(beam.PTransform):
    """PBegin -> the ids of inputs with a row in ``_index``, ``duplicates`` or ``errors``."""

    def __init__(self, out: str, runs: Optional[beam.PCollection] = None):
        super().__init__()
        self.out = out
        self.runs = runs  # read again for each run (a poll), in its window

    def expand(self, pbegin) -> beam.PCollection[str]:
        patterns = [warehouse.table_pattern(self.out, t) for t in ("_index", "duplicates", "errors")]
        runs = self.runs if self.runs is not None else pbegin | "OneRead" >> beam.Create([None])
        listed = runs | "PatternsPerRun" >> beam.FlatMap(lambda _, p=patterns: p)
        return (listed
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "Open" >> fileio.ReadMatches()
                | "Ids" >> beam.FlatMap(read_ids).with_output_types(str))


def _unrecorded(kv) -> Iterator[ErrorRecord]:
    _, g = kv
    if g["recorded"]:
        beam.metrics.Metrics.counter("write", "already_recorded").inc(len(g["rows"]))
        return
    for row in g["rows"]:
        # What the run summary lists: reasons of the rows written, not of every attempt.
        beam.metrics.Metrics.counter("write", f"reason:{row.stage}:{row.error}").inc()
        yield row


class SkipRecorded(beam.PTransform):
    """ErrorRecord -> the rows whose input the warehouse does not account for yet.

    Rows without an input id (feed-level errors: one per poll that failed) pass.
    """

    def __init__(self, recorded: beam.PCollection[str]):
        super().__init__()
        self.recorded = recorded

    def expand(self, errors: beam.PCollection[ErrorRecord]) -> beam.PCollection[ErrorRecord]:
        keyed = errors | "KeyByInput" >> beam.Map(lambda e: (e.article_id or f"\0{e.source}\0{e.at}", e))
        return ({"rows": keyed, "recorded": self.recorded | "Mark" >> beam.Map(lambda i: (i, 1))}
                | "JoinRecorded" >> beam.CoGroupByKey()
                | "Unrecorded" >> beam.FlatMap(_unrecorded).with_output_types(ErrorRecord))
