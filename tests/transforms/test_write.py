import datetime as dt
import json
import pathlib

import apache_beam as beam
import numpy as np
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import (
    Article,
    Duplicate,
    ErrorRecord,
    IndexEntry,
    Story,
    StoryMerge,
    arrow_schema,
    from_table,
)
from newsbeam.transforms import warehouse
from newsbeam.transforms.write import (
    EMPTY_TABLES,
    BeginRun,
    CommitRun,
    WriteWarehouse,
    empty_tables,
    partition_of,
)
from tests import records

DAY = int(dt.datetime(2024, 10, 23, 23, 59, tzinfo=dt.timezone.utc).timestamp() * 1e6)
INGESTED = int(dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone.utc).timestamp() * 1e6)


def article(aid, themes, published=None):
    return records.article(aid, url=f"https://e.org/{aid}", title=f"T {aid}",
                           published_at=published, date_source="html" if published else "ingested",
                           themes=themes, content_hash=f"h{aid}")


def test_partition_of_prefers_publication_date_and_first_theme():
    assert partition_of(article("a", ["politics", "sport"], DAY)) == ("2024-10-23", "politics")
    assert partition_of(article("b", [])) == ("2026-11-21", "unclassified")


def _run(out, articles, duplicates=(), errors=(), index=(), run_id="r1"):
    run = warehouse.Run(run_id, warehouse.begin(str(out), run_id), INGESTED)
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([run])
        tables = {
            "articles": p | "A" >> beam.Create(articles, reshuffle=False).with_output_types(Article),
            "duplicates": p | "D" >> beam.Create(list(duplicates)).with_output_types(Duplicate),
            "errors": p | "E" >> beam.Create(list(errors)).with_output_types(ErrorRecord),
            "index": p | "I" >> beam.Create(list(index)).with_output_types(IndexEntry),
        }
        tables | WriteWarehouse(str(out), runs) | CommitRun(str(out), runs)


def test_write_warehouse_layout_schema_and_atomic_names(tmp_path):
    rows = [article("a", ["politics"], DAY), article("b", ["politics"], DAY),
            article("c", ["sport"])]
    dup = Duplicate("in/d.txt", "u", "a", np.float32(0.9), "near", "d", "T d", INGESTED)
    err = ErrorRecord("in/e.txt", "read", "empty", "the file is empty", INGESTED)
    idx = IndexEntry("a", "ha", [np.int64(1), np.int64(-2)], INGESTED)
    _run(tmp_path, rows, [dup], [err], [idx])

    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet")
                   if not p.is_relative_to(tmp_path / "_staging"))
    dirs = sorted({f.rsplit("/", 1)[0] for f in files})
    assert dirs == ["_index", "articles/date=2024-10-23/theme=politics",
                    "articles/date=2026-11-21/theme=sport", "duplicates", "errors",
                    "stories", "story_merges"]  # no story rows: empty files, see below
    assert all(pathlib.PurePath(f).name.startswith("part-r1-") for f in files)
    assert not list((tmp_path / "_staging").iterdir())  # nothing staged left behind
    (log,) = (tmp_path / "_log").iterdir()
    assert sorted(f["path"] for f in json.loads(log.read_text())["files"]) == files

    politics = pq.read_table(next((tmp_path / "articles/date=2024-10-23/theme=politics")
                                  .glob("*.parquet")))
    assert politics.schema.remove_metadata() == arrow_schema(Article)
    assert from_table(Article, politics) == rows[:2]
    assert from_table(Duplicate, pq.read_table(tmp_path / "duplicates")) == [dup]
    assert from_table(ErrorRecord, pq.read_table(tmp_path / "errors")) == [err]
    assert from_table(IndexEntry, pq.read_table(tmp_path / "_index")) == [idx]


def test_every_table_exists_from_the_first_run_and_gets_one_empty_file(tmp_path):
    _run(tmp_path, [article("a", ["politics"], DAY)])
    for table, record in (("duplicates", Duplicate), ("errors", ErrorRecord), ("stories", Story),
                          ("story_merges", StoryMerge)):
        (empty,) = (tmp_path / table).glob("*.parquet")
        read = pq.read_table(empty)
        assert read.num_rows == 0 and read.schema.remove_metadata() == arrow_schema(record)
    _run(tmp_path, [article("b", ["politics"], DAY)], run_id="r2")
    assert len(list((tmp_path / "errors").glob("*.parquet"))) == 1  # not one per run
    committed = [f for log in (tmp_path / "_log").iterdir() for f in json.loads(log.read_text())["files"]]
    assert sum(f["table"] == "errors" for f in committed) == 1  # committed like any file


def test_a_follower_globs_for_empty_tables_only_until_each_has_a_file(tmp_path, monkeypatch):
    from newsbeam.transforms import write

    globbed = []
    match = write.FileSystems.match
    monkeypatch.setattr(write.FileSystems, "match",
                        lambda patterns: globbed.extend(patterns) or match(patterns))
    present: set = set()
    first = empty_tables(str(tmp_path), "r1", [], present)
    assert sorted(f.table for f in first) == sorted(EMPTY_TABLES)
    assert len(globbed) == len(EMPTY_TABLES) and present == set(EMPTY_TABLES)
    assert empty_tables(str(tmp_path), "r2", [], present) == []
    assert len(globbed) == len(EMPTY_TABLES)  # the second commit globbed nothing
    # Without the memo (a new commit step), the warehouse itself is asked: nothing
    # committed yet, so every table still needs its empty file.
    assert len(empty_tables(str(tmp_path), "r3", [])) == len(EMPTY_TABLES)


def test_a_retried_write_replaces_the_same_staged_file(tmp_path):
    rows = [article("a", ["politics"], DAY)]
    _run(tmp_path, rows)
    _run(tmp_path, rows)  # the same run id again: what a retried bundle does
    files = list((tmp_path / "articles").rglob("*.parquet"))
    assert len(files) == 1
    assert pq.read_table(files[0]).num_rows == 1


def test_begin_run_starts_a_run_when_the_pipeline_reaches_it(tmp_path):
    out = str(tmp_path)
    _run(tmp_path, [article("a", ["politics"], DAY)])  # one commit: the log is at 1
    with TestPipeline() as p:
        runs = p | beam.Create([0]) | BeginRun(out)
        assert_that(runs | beam.Map(lambda r: (r.base, len(r.run_id) > 0)), equal_to([(1, True)]))
    (staged,) = list((tmp_path / "_staging").iterdir())
    begun = json.loads((staged / "BEGIN.json").read_text())
    assert begun["base"] == 1 and begun["run_id"] == staged.name
