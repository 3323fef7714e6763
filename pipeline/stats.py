"""``newsbeam stats WAREHOUSE``: the run summary, for the whole warehouse.

Every figure is aggregated by DuckDB over the Parquet (``pipeline.views``);
no row is loaded into Python, only the counts. :func:`summary` is also what
``newsbeam report`` puts at the top of its page, over its filtered views.
"""

from __future__ import annotations

import sys
from typing import NamedTuple, Optional, Sequence

import duckdb

from newsbeam.pipeline.query import first_line, open_warehouse
from newsbeam.pipeline.usage import CommandParser

# The relations a summary reads; the report passes filtered views of the same shape.
VIEWS = {"articles": "articles", "duplicates": "duplicates", "errors": "errors",
         "stories": "stories"}


class Summary(NamedTuple):
    articles: int
    first_date: Optional[str]  # partition dates, YYYY-MM-DD
    last_date: Optional[str]
    days: int  # distinct partition dates
    duplicates: int
    exact: int
    near: int
    errors: int
    error_reasons: list  # (stage, error, rows), most first
    date_sources: list  # (date_source, rows), most first
    ingested_date: int  # articles filed under the ingestion date: no publication date found
    themes: list  # (first theme, rows), most first
    languages: list  # (language, rows), most first
    stories: int  # current stories not merged into another
    multi_article_stories: int
    biggest_stories: list  # (articles, title), most first


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    return [tuple(row) for row in con.execute(sql).fetchall()]


def summary(con: duckdb.DuckDBPyConnection, views: Optional[dict] = None,
            top: int = 10) -> Summary:
    """The warehouse's figures, from ``views`` (default: the plain views)."""
    v = {**VIEWS, **(views or {})}
    articles, first, last, days, undated = con.execute(
        f"SELECT count(*), min(date)::VARCHAR, max(date)::VARCHAR, count(DISTINCT date), "
        f"count(*) FILTER (WHERE date_source = 'ingested') FROM {v['articles']}").fetchone()
    duplicates, exact, near = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE kind = 'exact'), "
        f"count(*) FILTER (WHERE kind = 'near') FROM {v['duplicates']}").fetchone()
    (errors,) = con.execute(f"SELECT count(*) FROM {v['errors']}").fetchone()
    stories, multi = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE articles > 1) FROM {v['stories']} "
        "WHERE merged_into IS NULL").fetchone()
    return Summary(
        articles=articles, first_date=first, last_date=last, days=days,
        duplicates=duplicates, exact=exact, near=near, errors=errors,
        error_reasons=_rows(con, f"SELECT stage, error, count(*) AS n FROM {v['errors']} "
                                 "GROUP BY ALL ORDER BY n DESC, stage, error"),
        date_sources=_rows(con, f"SELECT date_source, count(*) AS n FROM {v['articles']} "
                                "GROUP BY ALL ORDER BY n DESC, date_source"),
        ingested_date=undated,
        themes=_rows(con, f"SELECT theme, count(*) AS n FROM {v['articles']} "
                          "GROUP BY ALL ORDER BY n DESC, theme"),
        languages=_rows(con, f"SELECT language, count(*) AS n FROM {v['articles']} "
                             "GROUP BY ALL ORDER BY n DESC, language"),
        stories=stories, multi_article_stories=multi,
        biggest_stories=_rows(con, f"SELECT articles, title FROM {v['stories']} "
                                   "WHERE merged_into IS NULL AND articles > 1 "
                                   f"ORDER BY articles DESC, story_id LIMIT {int(top)}"),
    )


def _counts(pairs: list, limit: int = 12) -> str:
    shown = ", ".join(f"{name} {n}" for name, n in pairs[:limit])
    rest = sum(n for _, n in pairs[limit:])
    return shown + (f", {len(pairs) - limit} more ({rest})" if rest else "")


def format_summary(s: Summary, where: str) -> str:
    """The summary as ``newsbeam stats`` prints it."""
    if s.articles:
        span = (f"{s.first_date} to {s.last_date} ({s.days} date{'s' if s.days != 1 else ''})"
                if s.first_date != s.last_date else s.first_date)
    else:
        span = "no articles"
    lines = [f"newsbeam: {where}: {s.articles} articles, {span}",
             f"  duplicates: {s.duplicates} (exact {s.exact}, near {s.near})   "
             f"errors: {s.errors}"]
    if s.error_reasons:
        lines.append("  error reasons: " + _counts([(f"{stage}:{error}", n)
                                                   for stage, error, n in s.error_reasons]))
    if s.articles:
        lines.append("  dates found in: " + _counts(s.date_sources)
                     + f"   (filed under the ingestion date, no publication date: "
                       f"{s.ingested_date})")
        lines.append("  themes (first): " + _counts(s.themes))
        lines.append("  languages: " + _counts(s.languages))
    if s.stories:
        lines.append(f"  stories: {s.stories} ({s.multi_article_stories} with more than "
                     "one article)")
        for n, title in s.biggest_stories[:5]:
            lines.append(f"    {n:>5}  {title[:70]}")
    return "\n".join(lines)


def stats(argv: Sequence[str]) -> int:
    parser = CommandParser(prog="newsbeam stats", allow_abbrev=False,
                           description="Summarize a whole warehouse: articles, duplicates, "
                                       "errors, how dates were found, themes, languages, "
                                       "stories.")
    parser.add_argument("warehouse", help="the warehouse folder (backfill's --out)")
    args = parser.parse_args(argv)
    con = open_warehouse(args.warehouse)
    try:
        print(format_summary(summary(con), args.warehouse))
    except duckdb.Error as exc:  # an unreadable file, mostly
        print(f"newsbeam: error: {first_line(exc)}", file=sys.stderr)
        return 1
    return 0
