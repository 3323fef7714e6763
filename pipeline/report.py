"""``newsbeam report WAREHOUSE --out report.html [--since D] [--until D] [--theme T]``

One self-contained HTML page about a warehouse: the summary figures of
``newsbeam stats`` and charts — articles per day stacked by theme, top
sources, top entities overall and per theme, the biggest stories and their
timelines, the duplicate share per source, errors by stage and reason, and
how dates were found (``date_source``; articles filed under the ingestion date
because they had no publication date are counted apart). A chart whose data
is empty is replaced by a sentence saying so (no stories yet, no errors).

The page makes no network request: it holds no script to run, only inline
CSS and one inline SVG per chart; the figures also sit in a
``<script type="application/json" id="newsbeam-figures">`` block for tools.

Filters: ``--since``/``--until`` keep articles whose partition date (the
publication date, else the ingestion date) is in the range, ``--theme`` those
whose ``themes`` include it; duplicates count when their kept article is
kept; errors are filtered by the date they happened (``--theme`` does not
apply to them); a story is shown when one of its kept articles is. A theme no
article of the warehouse has (answered with the closest one it has) and a
``--since`` after ``--until`` are usage errors (exit status 2); a chart the
filters leave empty says so and names them, its own sentence being kept for
when the whole warehouse has none.

Everything is aggregated by DuckDB over the Parquet (``pipeline.views``); only
the aggregates (a few hundred numbers) reach Python.

Charting: Vega-Lite specifications rendered to SVG by ``vl-convert-python``
(no JavaScript in the page). Measured with the same nine charts' data
(2026-12-01, 2-core machine shared with another test run):

* Vega-Lite -> SVG (chosen): 12 articles 77 KB in 0.6 s; 1M articles 498 KB
  in 6.3 s; no script in the page;
* Vega-Lite + the vega-embed bundle inlined: 883 KB in 0.2 s; 994 KB in 4.4 s
  (0.9 MB of it script);
* Plotly + its bundled plotly.js: 4.8 MB in 0.2 s; 4.8 MB in 4.9 s (4.7 MB
  of it script).

(build times: best of three, first build 0.5-1.3 s more for the vl-convert
start.) SVG makes the smallest page by far, and a page with no script cannot
fetch anything nor fail with a script error, on any browser, offline or
archived; it costs hover tooltips and a second of drawing at 1M rows. Vega-Lite
specs are plain dicts (no Altair: one dependency, ``vl-convert-python``, which
ships its own engine). Labels are measured in DejaVu Sans when drawn and the
page asks for it first (``FONT``). On 1,000,000 article rows in 1,440 files the
whole command takes 7.4 s and 0.6 GB (``python -m benchmarks.report``).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import os
import sys
import time
from collections.abc import Sequence

import duckdb

from newsbeam.pipeline.query import first_line, open_warehouse
from newsbeam.pipeline.stats import Summary, summary
from newsbeam.pipeline.usage import CommandParser, UsageError, suggest

TOP = 20  # bars in a "top" chart
THEMES_STACKED = 10  # themes with a colour of their own per day; the rest is "other"
STORIES = 10  # stories in the biggest-stories charts
WIDTH = 760


# What the summary and the charts read of each article.
ARTICLE_COLUMNS = ("article_id", "date", "theme", "themes", "source", "date_source", "language",
                   "entities", "story_id")


class Filters:
    """The report's selection, as SQL conditions on each view."""

    def __init__(self, since: str | None = None, until: str | None = None,
                 theme: str | None = None):
        self.since, self.until, self.theme = since, until, theme

    def describe(self, themes: bool = True) -> str:
        """The selection in words; ``themes=False``: as it applies to errors."""
        parts = []
        if self.since or self.until:
            parts.append(f"dates {self.since or '…'} to {self.until or '…'}")
        if themes and self.theme:
            parts.append(f"theme {self.theme}")
        return ", ".join(parts) or "everything"

    def selects(self, themes: bool = True) -> bool:
        """Whether the filters leave anything out (of articles, or of errors)."""
        return bool(self.since or self.until or (themes and self.theme))

    def check_dates(self) -> None:
        """A range that ends before it starts is a :class:`UsageError`."""
        if self.since and self.until and self.since > self.until:
            raise UsageError(f"--since {self.since} is after --until {self.until}: "
                             "no day is in that range")

    def check_theme(self, con: duckdb.DuckDBPyConnection) -> None:
        """A theme no article of the warehouse has is a :class:`UsageError`: a typo is
        answered with the closest theme the warehouse has, one of newsbeam's own
        themes that no article was given is said to be so."""
        if not self.theme:
            return
        if con.execute("SELECT 1 FROM articles WHERE list_contains(themes, ?) LIMIT 1",
                       [self.theme]).fetchone():
            return
        from newsbeam.transforms.themes import theme_slugs

        message = f"no article has theme {self.theme!r}"
        if self.theme in theme_slugs():
            raise UsageError(f"{message}: it is one of newsbeam's themes, but no article of "
                             "this warehouse was given it")
        have = [row[0] for row in con.execute(
            "SELECT DISTINCT t FROM (SELECT unnest(themes) AS t FROM articles) "
            "WHERE t IS NOT NULL ORDER BY t").fetchall()]
        best = suggest(self.theme, have)
        if best:
            raise UsageError(f"{message} — did you mean {best!r}?")
        raise UsageError(f"{message}; its articles' themes: {', '.join(have)}" if have
                         else f"{message}: the warehouse has no articles")

    def _where(self, day: str, themes: bool = False) -> str:
        # Views take no parameters: values are inlined as quoted literals.
        cond = ["true"]
        if self.since:
            cond.append(f"{day} >= {_literal(self.since)}::DATE")
        if self.until:
            cond.append(f"{day} <= {_literal(self.until)}::DATE")
        if themes and self.theme:
            cond.append(f"list_contains(themes, {_literal(self.theme)})")
        return " AND ".join(cond)

    def define(self, con: duckdb.DuckDBPyConnection) -> dict:
        """Create the selection's tables (``sel_*``) and return them by role."""
        # The selection's articles are read from the Parquet once, with only the
        # columns the charts use, into a DuckDB table every chart then reads:
        # one scan of the files instead of one per chart (1M rows: 9 s less).
        con.execute(f"CREATE TEMP TABLE sel_articles AS SELECT {', '.join(ARTICLE_COLUMNS)} "
                    "FROM articles WHERE " + self._where("date", themes=True))
        con.execute("CREATE TEMP TABLE sel_duplicates AS SELECT * FROM duplicates WHERE "
                    "duplicate_of IN (SELECT article_id FROM sel_articles)")
        con.execute("CREATE TEMP TABLE sel_errors AS SELECT * FROM errors WHERE "
                    + self._where('CAST("at" AS DATE)'))
        # Every story mapped to the story it ended in (merges can chain).
        con.execute("""
            CREATE TEMP TABLE story_roots AS
            WITH RECURSIVE chain(story_id, root, depth) AS (
                SELECT story_id, story_id, 0 FROM stories WHERE merged_into IS NULL
                UNION ALL
                SELECT s.story_id, c.root, c.depth + 1
                FROM stories s JOIN chain c ON s.merged_into = c.story_id
                WHERE c.depth < 100)
            SELECT story_id, root FROM chain""")
        con.execute("CREATE TEMP TABLE sel_stories AS SELECT * FROM stories WHERE story_id IN "
                    "(SELECT r.root FROM sel_articles a JOIN story_roots r USING (story_id))")
        return {"articles": "sel_articles", "duplicates": "sel_duplicates",
                "errors": "sel_errors", "stories": "sel_stories"}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise UsageError(f"not a date (YYYY-MM-DD): {text}") from exc


# --- the charts' data: one aggregate query each --------------------------------


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (_plain(v) for v in row))) for row in cursor.fetchall()]


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def chart_data(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """The aggregates behind every chart, from the ``sel_*`` views."""
    return {
        "per_day": _records(con, f"""
            WITH top AS (SELECT theme FROM sel_articles GROUP BY theme
                         ORDER BY count(*) DESC, theme LIMIT {THEMES_STACKED})
            SELECT date::VARCHAR AS date,
                   CASE WHEN theme IN (SELECT theme FROM top) THEN theme ELSE 'other' END
                       AS theme,
                   count(*) AS articles
            FROM sel_articles GROUP BY ALL ORDER BY date, theme"""),
        "sources": _records(con, f"""
            SELECT source, count(*) AS articles FROM sel_articles
            GROUP BY source ORDER BY articles DESC, source LIMIT {TOP}"""),
        "entities": _records(con, f"""
            SELECT e.text || ' (' || e.label || ')' AS entity, count(*) AS articles
            FROM (SELECT unnest(entities) AS e FROM sel_articles)
            GROUP BY ALL ORDER BY articles DESC, entity LIMIT {TOP}"""),
        "entities_by_theme": _records(con, """
            WITH top_themes AS (SELECT theme FROM sel_articles GROUP BY theme
                                ORDER BY count(*) DESC, theme LIMIT 6),
            counted AS (
                SELECT theme, e.text AS entity, count(*) AS articles
                FROM (SELECT theme, unnest(entities) AS e FROM sel_articles
                      WHERE theme IN (SELECT theme FROM top_themes))
                GROUP BY ALL)
            SELECT theme, entity, articles FROM counted
            QUALIFY row_number() OVER (PARTITION BY theme ORDER BY articles DESC, entity) <= 5
            ORDER BY theme, articles DESC, entity"""),
        "stories": _records(con, f"""
            SELECT r.root AS story_id, any_value(s.title) AS title, count(*) AS articles,
                   min(a.date)::VARCHAR AS first_date, max(a.date)::VARCHAR AS last_date
            FROM sel_articles a JOIN story_roots r USING (story_id)
            JOIN stories s ON s.story_id = r.root
            GROUP BY r.root ORDER BY articles DESC, story_id LIMIT {STORIES}"""),
        "story_days": _records(con, f"""
            WITH biggest AS (
                SELECT r.root FROM sel_articles a JOIN story_roots r USING (story_id)
                GROUP BY r.root ORDER BY count(*) DESC, r.root LIMIT {STORIES})
            SELECT r.root AS story_id, any_value(s.title) AS title, a.date::VARCHAR AS date,
                   count(*) AS articles
            FROM sel_articles a JOIN story_roots r USING (story_id)
            JOIN stories s ON s.story_id = r.root
            WHERE r.root IN (SELECT root FROM biggest)
            GROUP BY r.root, a.date ORDER BY story_id, date"""),
        "duplicate_share": _records(con, f"""
            WITH kept AS (SELECT source, count(*) AS n FROM sel_articles GROUP BY source),
            copies AS (SELECT source, count(*) AS n FROM sel_duplicates GROUP BY source)
            SELECT source, coalesce(copies.n, 0) AS duplicates, coalesce(kept.n, 0) AS articles,
                   coalesce(copies.n, 0) / (coalesce(copies.n, 0) + coalesce(kept.n, 0))
                       AS share
            FROM kept FULL JOIN copies USING (source)
            WHERE coalesce(copies.n, 0) > 0
            ORDER BY share DESC, duplicates DESC, source LIMIT {TOP}"""),
        "errors": _records(con, """
            SELECT stage, error, count(*) AS rows FROM sel_errors
            GROUP BY ALL ORDER BY rows DESC, stage, error"""),
        "date_sources": _records(con, """
            SELECT date_source, count(*) AS articles,
                   date_source = 'ingested' AS ingestion_date
            FROM sel_articles GROUP BY ALL ORDER BY articles DESC, date_source"""),
    }


# --- Vega-Lite specifications --------------------------------------------------


def _bars(values: list[dict], category: str, amount: str, title: str, **extra) -> dict:
    """A horizontal bar chart, biggest first."""
    encoding = {
        "y": {"field": category, "type": "nominal", "sort": "-x", "title": None,
              "axis": {"labelLimit": 360}},
        "x": {"field": amount, "type": "quantitative", "title": title,
              "axis": {"tickMinStep": 1}},
    }
    encoding.update(extra)
    return {"data": {"values": values}, "mark": {"type": "bar"}, "encoding": encoding,
            "width": WIDTH - 400, "height": {"step": 18}}


def specs(data: dict[str, list[dict]]) -> dict[str, tuple[str, dict | None, str]]:
    """Chart id -> (heading, Vega-Lite spec or None when there is nothing to draw,
    the sentence shown instead or under it)."""
    out: dict[str, tuple[str, dict | None, str]] = {}
    days = len({r["date"] for r in data["per_day"]})
    out["per_day"] = ("Articles per day, by theme", {
        "data": {"values": data["per_day"]}, "mark": {"type": "bar"},
        "width": WIDTH, "height": 260,
        "encoding": {
            "x": {"field": "date", "type": "ordinal", "title": None,
                  "axis": {"labelAngle": -45, "labelOverlap": "greedy"}},
            "y": {"field": "articles", "type": "quantitative", "stack": "zero"},
            "color": {"field": "theme", "type": "nominal", "scale": {"scheme": "tableau20"},
                      "legend": {"orient": "right"}},
        }} if data["per_day"] else None,
        (f"{days} {'date' if days == 1 else 'dates'}; the partition date is the publication "
         f"date, else the ingestion date; themes after the {THEMES_STACKED} biggest are 'other'."))
    out["sources"] = ("Top sources", _bars(data["sources"], "source", "articles", "articles")
                      if data["sources"] else None, "Articles kept per source.")
    out["entities"] = ("Top entities", _bars(data["entities"], "entity", "articles",
                                             "articles naming it")
                       if data["entities"] else None, "Named entities, by articles naming them.")
    out["entities_by_theme"] = ("Top entities per theme", {
        "data": {"values": data["entities_by_theme"]},
        "facet": {"field": "theme", "type": "nominal", "title": None},
        "columns": 3,
        "spec": {"mark": "bar", "width": 170, "height": {"step": 14},
                 "encoding": {"y": {"field": "entity", "type": "nominal", "sort": "-x",
                                    "title": None},
                              "x": {"field": "articles", "type": "quantitative",
                                    "axis": {"tickMinStep": 1}}}},
        "resolve": {"scale": {"y": "independent"}},
    } if data["entities_by_theme"] else None, "Five per theme, for the six biggest themes.")
    stories = data["stories"]
    out["stories"] = ("Biggest stories", _bars(
        [{**s, "story": _short(s["title"])} for s in stories], "story", "articles",
        "articles in the selection") if stories else None,
        "Stories with merged ones counted in the story they joined."
        if stories else "No stories yet: this warehouse was written before stories were "
                        "assigned, or no article has a story.")
    story_dates = sorted(d["date"] for d in data["story_days"])
    span = ((dt.date.fromisoformat(story_dates[-1]) - dt.date.fromisoformat(story_dates[0])).days
            + 1 if story_dates else 0)
    out["story_timelines"] = ("Story timelines", {
        "data": {"values": [{**d, "story": _short(d["title"])} for d in data["story_days"]]},
        "mark": {"type": "circle", "opacity": 0.8}, "width": WIDTH - 300,
        "height": {"step": 22},
        "encoding": {
            "x": {"field": "date", "type": "temporal", "timeUnit": "utcyearmonthdate",
                  "title": None, "axis": {"format": "%Y-%m-%d", "labelAngle": -45,
                                          "labelOverlap": "greedy",
                                          **({"tickCount": {"interval": "day"}}
                                             if span <= 31 else {})}},
            "y": {"field": "story", "type": "nominal", "title": None,
                  "axis": {"labelLimit": 300}},
            "size": {"field": "articles", "type": "quantitative",
                     "legend": {"tickMinStep": 1}},
        }} if data["story_days"] else None,
        "Articles per day of the biggest stories." if data["story_days"] else
        "No story timelines yet.")
    out["duplicate_share"] = ("Duplicate share per source", _bars(
        data["duplicate_share"], "source", "share", "share of its inputs that were duplicates",
        tooltip=[{"field": "duplicates"}, {"field": "articles"}])
        if data["duplicate_share"] else None,
        "Copies recognised and not kept, over copies + articles kept, per source."
        if data["duplicate_share"] else "No duplicates in the selection.")
    if out["duplicate_share"][1]:
        out["duplicate_share"][1]["encoding"]["x"]["axis"] = {"format": "%"}
    filed = {True: "ingestion date (none found)", False: "publication date"}
    out["errors"] = ("Errors by stage and reason", _bars(
        [{**e, "reason": f"{e['stage']}: {e['error']}"} for e in data["errors"]],
        "reason", "rows", "error rows", color={"field": "stage", "type": "nominal"})
        if data["errors"] else None,
        "Inputs that ended as error rows, by the stage that rejected them and why."
        if data["errors"] else "No errors in the selection.")
    undated = sum(r["articles"] for r in data["date_sources"] if r["ingestion_date"])
    total = sum(r["articles"] for r in data["date_sources"])
    out["date_sources"] = ("How dates were found", _bars(
        [{**r, "filed under": filed[r["ingestion_date"]]} for r in data["date_sources"]],
        "date_source", "articles", "articles",
        color={"field": "filed under", "type": "nominal",
               "scale": {"domain": [filed[False], filed[True]],
                         "range": ["#4c78a8", "#e45756"]}})
        if data["date_sources"] else None,
        f"{undated:,} of {total:,} articles had no publication date and are filed under the "
        "date they were ingested (red)." if total else "No articles in the selection.")
    return out


# What each chart shows, when the selection leaves it empty, and a query that
# finds whether the whole warehouse has any (None: errors, filtered by dates only).
_EMPTY_SELECTION = {
    "per_day": ("articles", "SELECT 1 FROM articles LIMIT 1"),
    "sources": ("articles", "SELECT 1 FROM articles LIMIT 1"),
    "entities": ("named entities", "SELECT 1 FROM articles WHERE len(entities) > 0 LIMIT 1"),
    "entities_by_theme": ("named entities",
                          "SELECT 1 FROM articles WHERE len(entities) > 0 LIMIT 1"),
    "stories": ("stories", "SELECT 1 FROM articles JOIN story_roots USING (story_id) LIMIT 1"),
    "story_timelines": ("stories",
                        "SELECT 1 FROM articles JOIN story_roots USING (story_id) LIMIT 1"),
    "duplicate_share": ("duplicates", "SELECT 1 FROM duplicates LIMIT 1"),
    "errors": ("errors", "SELECT 1 FROM errors LIMIT 1"),
    "date_sources": ("articles", "SELECT 1 FROM articles LIMIT 1"),
}


def empty_selection_notes(con: duckdb.DuckDBPyConnection, filters: Filters,
                          charts: dict[str, tuple[str, dict | None, str]]) -> dict:
    """``charts`` with the empty state of a chart the filters emptied saying so (and
    naming them); a chart empty because the warehouse has none keeps its sentence."""
    out = dict(charts)
    has: dict[str, bool] = {}  # several charts ask the same question of the warehouse
    for chart_id, (heading, spec, note) in charts.items():
        themes = chart_id != "errors"  # --theme does not apply to errors
        if spec is not None or chart_id not in _EMPTY_SELECTION or not filters.selects(themes):
            continue
        what, anywhere = _EMPTY_SELECTION[chart_id]
        if anywhere not in has:
            has[anywhere] = con.execute(anywhere).fetchone() is not None
        if has[anywhere]:
            note = f"No {what} in the selection ({filters.describe(themes)})."
            out[chart_id] = (heading, None, note)
    return out


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[:limit - 1] + "…"


# Labels are measured in this font when the SVG is drawn, and the page asks the
# browser for it (or the similarly wide Verdana): a narrower measuring font would
# let long labels run past the chart's left edge.
FONT = "DejaVu Sans"
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)


@functools.cache
def _converter():
    import vl_convert

    for folder in _FONT_DIRS:
        if os.path.isdir(folder):
            vl_convert.register_font_directory(folder)
    return vl_convert


def render_svg(spec: dict) -> str:
    vl_convert = _converter()
    spec = {"config": {"font": FONT, "view": {"stroke": None}}, "padding": 8, **spec}
    return vl_convert.vegalite_to_svg(spec)


# --- the page --------------------------------------------------------------------

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1000px;
       padding: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #666; margin-top: 0; }
.tiles { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 1.2em 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 8em; }
.tile b { display: block; font-size: 1.5em; }
.tile.warn b { color: #c0392b; }
figure { margin: 2em 0; }
figure h2 { font-size: 1.15em; margin-bottom: 0.3em; }
figcaption, .empty { color: #555; }
.empty { border: 1px dashed #bbb; padding: 1em; border-radius: 6px; }
svg { max-width: 100%; height: auto; }
svg text { font-family: "DejaVu Sans", Verdana, sans-serif; }
"""


def _tile(key: str, label: str, value, warn: bool = False) -> str:
    shown = f"{value:,}" if isinstance(value, int) else str(value)
    return (f'<div class="tile{" warn" if warn else ""}"><b data-key="{key}">'
            f'{html.escape(shown)}</b>{html.escape(label)}</div>')


def page(title: str, s: Summary, charts: dict, filters: Filters, seconds_label: str) -> str:
    """The HTML of the report: the summary tiles, then each chart (or its empty state)."""
    span = (f"{s.first_date} to {s.last_date}" if s.articles else "no articles")
    tiles = "".join([
        _tile("articles", "articles", s.articles),
        _tile("duplicates", f"duplicates (exact {s.exact:,}, near {s.near:,})", s.duplicates),
        _tile("errors", "error rows", s.errors, warn=s.errors > 0),
        _tile("stories", "stories", s.stories),
        _tile("ingested_date", "filed under the ingestion date", s.ingested_date,
              warn=s.ingested_date > 0),
        _tile("dates", f"{'date' if s.days == 1 else 'dates'}, {span}", s.days),
    ])
    figures = []
    for chart_id, (heading, svg, note) in charts.items():
        body = (f'<div class="chart" data-chart="{chart_id}">{svg}</div>'
                f"<figcaption>{html.escape(note)}</figcaption>") if svg else \
            f'<p class="empty" data-empty="{chart_id}">{html.escape(note)}</p>'
        figures.append(f'<figure id="{chart_id}"><h2>{html.escape(heading)}</h2>{body}</figure>')
    figures_json = json.dumps(s._asdict(), default=str).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">Selection: {html.escape(filters.describe())}. {html.escape(seconds_label)}</p>
<div class="tiles">{tiles}</div>
{"".join(figures)}
<script type="application/json" id="newsbeam-figures">{figures_json}</script>
</body></html>
"""


def build_report(warehouse: str, filters: Filters | None = None) -> str:
    """The report page of ``warehouse`` as HTML text."""
    filters = filters or Filters()
    filters.check_dates()
    started = time.monotonic()
    con = open_warehouse(warehouse)
    filters.check_theme(con)
    views = filters.define(con)
    figures = summary(con, views)
    charts = {}
    planned = empty_selection_notes(con, filters, specs(chart_data(con)))
    for chart_id, (heading, spec, note) in planned.items():
        charts[chart_id] = (heading, render_svg(spec) if spec else None, note)
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    label = f"Made {made} in {time.monotonic() - started:.1f} s."
    return page(f"newsbeam report: {warehouse}", figures, charts, filters, label)


def report(argv: Sequence[str]) -> int:
    parser = CommandParser(prog="newsbeam report", allow_abbrev=False,
                           description="Write one self-contained HTML page of charts about a "
                                       "warehouse (opens offline: no script, no request).")
    parser.add_argument("warehouse", help="the warehouse folder (backfill's --out)")
    parser.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    parser.add_argument("--since", type=_date, metavar="YYYY-MM-DD",
                        help="only articles dated on or after this day")
    parser.add_argument("--until", type=_date, metavar="YYYY-MM-DD",
                        help="only articles dated on or before this day")
    parser.add_argument("--theme", help="only articles with this theme (any rank)")
    args = parser.parse_args(argv)
    try:
        text = build_report(args.warehouse, Filters(args.since, args.until, args.theme))
    except duckdb.Error as exc:
        print(f"newsbeam: error: {first_line(exc)}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"newsbeam: wrote {args.out} ({len(text.encode()) // 1024} KB)")
    return 0
