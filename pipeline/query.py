"""``newsbeam query WAREHOUSE "SQL" [--format table|csv|json|parquet] [--output FILE]``

Runs SQL in DuckDB over the warehouse's views (``pipeline.views``: ``articles``
with its ``date`` and ``theme`` partition columns, ``duplicates``, ``errors``,
``stories``, ``story_versions``, ``story_merges``). Several statements may be
given, separated by ``;``: the result of the last is printed.

Output: ``table`` (default) an aligned table as DuckDB draws it, as wide as
the terminal, long results shortened in the middle (``--max-rows``); ``csv``
(with a header) and ``json`` (an array of objects) are written whole, to
stdout or ``--output``; ``parquet`` needs ``--output``. Exit status 0; 1 when
DuckDB rejects the SQL or fails running it (its first line of explanation on
stderr, no traceback); 2 for unusable arguments or a missing warehouse.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import duckdb

from newsbeam.pipeline.usage import CommandParser, UsageError
from newsbeam.pipeline.views import VIEWS, WarehouseNotFound, connect

FORMATS = ("table", "csv", "json", "parquet")
# DuckDB's COPY options per format (json: one array, as DuckDB's CLI prints it).
_COPY = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true",
         "parquet": "FORMAT parquet"}


class QueryFailed(Exception):
    """DuckDB rejected the SQL or failed running it; the message is one line."""


def open_warehouse(path: str) -> duckdb.DuckDBPyConnection:
    """``views.connect``, with a missing warehouse as a :class:`UsageError`."""
    try:
        return connect(path)
    except WarehouseNotFound as exc:
        raise UsageError(str(exc)) from exc


def first_line(exc: duckdb.Error) -> str:
    """DuckDB's explanation without the caret drawing under the query text."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def run(con: duckdb.DuckDBPyConnection, sql: str, fmt: str = "table",
        output: Optional[str] = None, max_rows: Optional[int] = None) -> None:
    """Run ``sql`` and write its result as ``fmt`` to ``output`` (default stdout)."""
    try:
        result = con.sql(sql)
        if result is None:  # a statement without a result (CREATE, SET, ...)
            return
        if fmt == "table":
            width = shutil.get_terminal_size().columns
            result.show(max_width=width, max_rows=max_rows)
            return
        result.create_view("_newsbeam_result")
        if output:
            con.execute(f"COPY _newsbeam_result TO '{_escape(output)}' ({_COPY[fmt]})")
            return
        with tempfile.TemporaryDirectory(prefix="newsbeam-query-") as tmp:
            path = Path(tmp) / f"result.{fmt}"
            con.execute(f"COPY _newsbeam_result TO '{_escape(str(path))}' ({_COPY[fmt]})")
            sys.stdout.flush()
            with open(path, "rb") as handle:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            sys.stdout.flush()
    except duckdb.Error as exc:
        raise QueryFailed(first_line(exc)) from exc


def _escape(path: str) -> str:
    return path.replace("'", "''")


def query(argv: Sequence[str]) -> int:
    parser = CommandParser(
        prog="newsbeam query", allow_abbrev=False,
        description="Run SQL on a warehouse. Views: " + ", ".join(VIEWS) + ".",
        epilog="example: newsbeam query warehouse/ \"SELECT theme, count(*) FROM articles "
               "GROUP BY 1 ORDER BY 2 DESC\"")
    parser.add_argument("warehouse", help="the warehouse folder (backfill's --out)")
    parser.add_argument("sql", help="SQL; several statements separated by ';' print the last")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default: aligned, for a terminal), csv, json or parquet")
    parser.add_argument("--output", metavar="FILE",
                        help="write the result to FILE (required for parquet)")
    parser.add_argument("--max-rows", "--max_rows", type=int, default=None, metavar="N",
                        help="table format: rows shown before the middle is elided "
                             "(default: DuckDB's)")
    args = parser.parse_args(argv)
    if not args.sql.strip():
        raise UsageError("no SQL given: name it as the second argument, e.g. "
                         "\"SELECT count(*) FROM articles\"")
    if args.format == "parquet" and not args.output:
        raise UsageError("--format parquet needs --output FILE (Parquet is not for a terminal)")
    if args.format == "table" and args.output:
        raise UsageError("--output takes --format csv, json or parquet")
    con = open_warehouse(args.warehouse)
    try:
        run(con, args.sql, args.format, args.output, args.max_rows)
    except QueryFailed as exc:
        print(f"newsbeam: query failed: {exc}", file=sys.stderr)
        return 1
    return 0
