"""The warehouse as DuckDB views, for ``newsbeam query``, ``stats`` and ``report``.

:func:`connect` opens an in-memory DuckDB with one view per table:

* ``articles``: every article row, with the ``date`` and ``theme`` partition columns;
* ``duplicates``, ``errors``, ``story_merges``: one row per row written;
* ``stories``: the current state of each story (its row with the greatest
  ``updated_at``); ``story_versions``: every row of ``stories/``, one per story
  and run that touched it;
* ``story_roots``: ``(story_id, root)`` for every story, ``root`` the story it ended
  in once ``story_merges`` are followed (itself when never merged): join articles on
  ``story_id`` and group by ``root`` to count a merged story as one.

Every view has every column of its record type (``schemas.records``), typed as
the Arrow schema derived from it says, whatever the files hold: a table with no
file yet is an empty view, and a column that older files lack (``story_id``,
``kept_ratio``, ...) reads as null. Files of different versions are read
together by column name (``union_by_name``). Views read the Parquet when a
query runs: nothing is loaded into Python.
"""

from __future__ import annotations

import glob
import os

import duckdb

from newsbeam.schemas import Article, Duplicate, ErrorRecord, Story, StoryMerge, arrow_schema
from newsbeam.transforms.layout import table_glob

# view -> (table folder, record type of its rows)
TABLES = {
    "articles": ("articles", Article),
    "duplicates": ("duplicates", Duplicate),
    "errors": ("errors", ErrorRecord),
    "story_merges": ("story_merges", StoryMerge),
    "story_versions": ("stories", Story),
}
# The partition columns of articles/ (articles/date=YYYY-MM-DD/theme=<slug>/...).
PARTITIONS = {"date": "DATE", "theme": "VARCHAR"}
VIEWS = ("articles", "duplicates", "errors", "stories", "story_versions", "story_merges", "story_roots")


class WarehouseNotFound(Exception):
    """The warehouse folder does not exist."""


def table_pattern(warehouse_dir: str, table: str) -> str:
    """A table's local glob (``transforms.warehouse.table_pattern`` is the same glob
    through Beam's filesystems, which a query does not import)."""
    return os.path.join(warehouse_dir, *table_glob(table))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _schema_types(con: duckdb.DuckDBPyConnection, view: str, record: type) -> dict[str, str]:
    """Column -> DuckDB type of ``record``'s rows, from its Arrow schema."""
    empty = arrow_schema(record).empty_table()
    con.register(f"_empty_{view}", empty)
    try:
        described = con.execute(f"DESCRIBE _empty_{view}").fetchall()
    finally:
        con.unregister(f"_empty_{view}")
    return {name: kind for name, kind, *_ in described}


def _define(con: duckdb.DuckDBPyConnection, view: str, pattern: str, types: dict[str, str],
            partitioned: bool) -> None:
    if partitioned:
        types = {**types, **PARTITIONS}
    files = glob.glob(pattern, recursive=True)
    if not files:
        columns = ", ".join(f"CAST(NULL AS {kind}) AS {_quote(name)}"
                            for name, kind in types.items())
        con.execute(f"CREATE VIEW {view} AS SELECT {columns} WHERE false")
        return
    hive = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in PARTITIONS.items())
    scan = (f"read_parquet({_literal(pattern)}, union_by_name=true"
            f"{f', hive_partitioning=true, hive_types={{{hive}}}' if partitioned else ''})")
    present = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    # Columns the files lack (written by an older newsbeam) read as typed nulls.
    columns = [_quote(name) if name in present else f"CAST(NULL AS {kind}) AS {_quote(name)}"
               for name, kind in types.items()]
    columns += [_quote(name) for name in present if name not in types]
    con.execute(f"CREATE VIEW {view} AS SELECT {', '.join(columns)} FROM {scan}")


def connect(warehouse_dir: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the warehouse's views defined (see the
    module docstring). Raises :class:`WarehouseNotFound` when the folder is missing."""
    if not os.path.isdir(warehouse_dir):
        raise WarehouseNotFound(f"warehouse not found: {warehouse_dir}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # timestamps are UTC in the files; show them so
    con.execute("SET enable_progress_bar = false")  # our commands' output is theirs alone
    for view, (table, record) in TABLES.items():
        types = _schema_types(con, view, record)
        _define(con, view, table_pattern(warehouse_dir, table), types,
                partitioned=table == "articles")
    con.execute("CREATE VIEW stories AS SELECT * FROM story_versions "
                "QUALIFY row_number() OVER (PARTITION BY story_id ORDER BY updated_at DESC) = 1")
    # Merges chain (c into b, later b into a): follow them to the story not merged.
    con.execute("""
        CREATE VIEW story_roots AS
        WITH RECURSIVE up(story_id, root) AS (
            SELECT story_id, story_id FROM stories
            UNION
            SELECT up.story_id, m.merged_into FROM up JOIN story_merges m ON m.story_id = up.root)
        SELECT story_id, root FROM up WHERE root NOT IN (SELECT story_id FROM story_merges)""")
    return con
