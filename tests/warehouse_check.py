"""Reading a warehouse in tests: its rows (``rows``) and the exactly-once
invariants (``assert_exactly_once``), checked with DuckDB over the table globs
a user would query (shared by tests and ``benchmarks/faults.py``)."""

from __future__ import annotations

import glob
import os
from typing import NamedTuple, Optional

import duckdb
import pyarrow.dataset as ds

GLOBS = {"articles": "articles/**/*.parquet", "duplicates": "duplicates/*.parquet",
         "errors": "errors/*.parquet", "_index": "_index/*.parquet",
         "stories": "stories/*.parquet", "story_merges": "story_merges/*.parquet"}


class Tally(NamedTuple):
    rows: dict  # table -> rows
    repeated: dict  # table -> rows beyond the first with the same input id
    inputs: int  # distinct input ids over articles, duplicates and errors
    in_two_tables: int  # input ids with a row in more than one of those tables
    leftovers: list  # staged or temporary files still on disk


def table_rows(out, table: str, columns: Optional[list] = None) -> list[dict]:
    """The rows of ``table``'s committed files (articles with their ``date`` and
    ``theme`` partition columns), as dicts of ``columns`` (default: all)."""
    files = sorted(glob.glob(os.path.join(out, GLOBS[table]), recursive=True))
    if not files:
        return []
    data = ds.dataset(files, format="parquet", partitioning="hive" if table == "articles" else None,
                      partition_base_dir=os.path.join(out, table))
    return data.to_table(columns=columns).to_pylist()


def ids(out: str, table: str) -> list[str]:
    """The input id of every row of ``table`` (article_id), read through its glob."""
    pattern = os.path.join(out, GLOBS[table])
    if not glob.glob(pattern, recursive=True):
        return []
    hive = ", hive_partitioning=1" if table == "articles" else ""
    # Every error row counts, a failed page fetch included (there should be none:
    # the item goes on with its summary and page_status says why).
    rows = duckdb.sql(f"SELECT article_id FROM read_parquet('{pattern}'{hive}, "
                      f"union_by_name=true)").fetchall()
    return [r[0] for r in rows]


INPUT_TABLES = ("articles", "duplicates", "errors", "_index")  # one row per input id


def tally(out: str) -> Tally:
    per = {t: ids(out, t) for t in INPUT_TABLES}
    repeated = {t: len(v) - len(set(v)) for t, v in per.items()}
    owners: dict[str, int] = {}
    for table in ("articles", "duplicates", "errors"):
        for i in set(per[table]):
            owners[i] = owners.get(i, 0) + 1
    leftovers = [p for p in glob.glob(os.path.join(out, "**", "*"), recursive=True)
                 if p.endswith(".inprogress") or
                 (os.path.isfile(p) and os.sep + "_staging" + os.sep in p)]
    return Tally({t: len(v) for t, v in per.items()}, repeated, len(owners),
                 sum(1 for n in owners.values() if n > 1), leftovers)


def assert_exactly_once(out: str, inputs: Optional[int] = None) -> Tally:
    """Every input has exactly one row in one table; the index matches the articles."""
    t = tally(out)
    assert not any(t.repeated.values()), f"repeated rows: {t.repeated}"
    assert t.in_two_tables == 0, f"{t.in_two_tables} inputs with rows in two tables"
    assert sorted(ids(out, "_index")) == sorted(ids(out, "articles")), "index != articles"
    assert not t.leftovers, f"left behind: {t.leftovers[:5]}"
    if inputs is not None:
        assert t.inputs == inputs, f"{t.inputs} inputs accounted for, expected {inputs}"
    assert_stories_consistent(out)
    return t


def assert_stories_consistent(out: str) -> None:
    """Every article's story has a row in ``stories/``, written once per run."""
    stories = table_rows(out, "stories", ["story_id", "updated_at"])
    versions = [(r["story_id"], r["updated_at"]) for r in stories]
    assert len(versions) == len(set(versions)), "a story written twice by one run"
    named = {r["story_id"] for r in table_rows(out, "articles", ["story_id"])} - {None}
    missing = named - {r["story_id"] for r in stories}
    assert not missing, f"articles name {len(missing)} stories with no row, e.g. {sorted(missing)[:3]}"
