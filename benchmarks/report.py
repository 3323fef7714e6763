"""How long ``newsbeam report`` (and ``stats``) take on a large warehouse, and how big the page is.

Builds a synthetic warehouse of ``--rows`` article rows (default 1,000,000),
written as Parquet straight from Arrow arrays with the ``Article`` schema and
partitioned like a real one (``articles/date=.../theme=.../part-*.parquet``,
one file per partition), plus duplicates (10% of the rows), errors (2%) and
two versions of each of ``rows / 20`` stories; then builds the report and the
stats summary over it and prints the times and the page size::

    python -m benchmarks.report [--rows N] [--days D] [--keep DIR]

Figures (2026-12-01, 2-core machine shared with another test run; 1,000,000
rows over 120 days and 12 themes, 1,440 article files, 115 MB): warehouse
written in 17 s; stats 3.8 s; report 8.1 s, page 498 KB (``newsbeam report``
as a command: 7.4 s wall, 0.6 GB peak).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import newsbeam.transforms  # noqa: F401  (quietens Beam's import-time notice)
from newsbeam.schemas import Article, Duplicate, ErrorRecord, Story, arrow_schema

THEMES = ["politics", "economy-business-finance", "sport", "conflict-war-peace", "health",
          "science-technology", "crime-law-justice", "environment", "education",
          "arts-culture-entertainment", "society", "weather"]
DATE_SOURCES = ["feed", "html", "json", "text", "ingested"]
START = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def _strings(prefix: str, ids: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, ids.astype(str)).tolist(), pa.string())


def _lists(values: pa.Array, lengths: np.ndarray) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def articles_table(rows: int, days: int, rng: np.random.Generator) -> pa.Table:
    """``rows`` synthetic articles with the ``Article`` schema, plus ``date``/``theme``."""
    schema = arrow_schema(Article)
    ids = np.arange(rows)
    day = rng.integers(0, days, rows)
    theme = np.minimum(rng.zipf(1.6, rows) - 1, len(THEMES) - 1)
    source = np.minimum(rng.zipf(1.3, rows), 300)
    date_source = rng.choice(len(DATE_SOURCES), rows, p=[0.45, 0.3, 0.1, 0.05, 0.1])
    ingested = (START.timestamp() + day * 86400 + rng.integers(0, 86400, rows)) * 1_000_000
    published = np.where(DATE_SOURCES.index("ingested") == date_source, 0, ingested - 3_600e6)
    n_entities = rng.integers(0, 5, rows)
    entity_ids = np.minimum(rng.zipf(1.4, int(n_entities.sum())), 2000)
    labels = np.array(["PERSON", "ORG", "GPE"])[entity_ids % 3]
    entities = pa.StructArray.from_arrays(
        [_strings("Entity ", entity_ids), pa.array(labels.tolist(), pa.string()),
         pa.array(rng.integers(1, 6, len(entity_ids)).astype(np.int32))],
        fields=list(schema.field("entities").type.value_type))
    second = (theme + 1 + rng.integers(0, len(THEMES) - 1, rows)) % len(THEMES)
    theme_values = np.stack([theme, second], axis=1).reshape(-1)
    themes = _lists(pa.array(np.array(THEMES)[theme_values].tolist(), pa.string()),
                    np.full(rows, 2))
    scores = pa.StructArray.from_arrays(
        [pa.array(np.array(THEMES)[theme_values].tolist(), pa.string()),
         pa.array(rng.random(2 * rows).astype(np.float32))],
        fields=list(schema.field("theme_scores").type.value_type))
    in_story = rng.random(rows) < 0.4
    story = np.where(in_story, rng.integers(0, max(rows // 20, 1), rows), -1)
    source_urls = np.char.add(np.char.add("https://outlet", source.astype(str)), ".example/rss")
    columns = {
        "article_id": _strings("a", ids),
        "url": _strings("https://outlet.example/a", ids),
        "source": pa.array(source_urls.tolist(), pa.string()),
        "title": _strings("Headline number ", ids),
        "text": _strings("A short synthetic body of words for article ", ids),
        "published_at": pa.array(published.astype(np.int64), mask=published <= 0
                                 ).cast(pa.timestamp("us", tz="UTC")),
        "date_source": pa.array(np.array(DATE_SOURCES)[date_source].tolist(), pa.string()),
        "ingested_at": pa.array(ingested.astype(np.int64)).cast(pa.timestamp("us", tz="UTC")),
        "language": pa.array(np.where(rng.random(rows) < 0.9, "en", "de").tolist(), pa.string()),
        "themes": themes,
        "entities": _lists(entities, n_entities),
        "word_count": pa.array(rng.integers(50, 1500, rows).astype(np.int32)),
        "duplicates": _lists(pa.array([], pa.string()), np.zeros(rows, dtype=int)),
        "theme_scores": _lists(scores, np.full(rows, 2)),
        "text_source": pa.array(["feed"] * rows, pa.string()),
        "author": pa.nulls(rows, pa.string()),
        "site_name": pa.nulls(rows, pa.string()),
        "content_hash": _strings("h", ids),
        "page_status": pa.array(["ok"] * rows, pa.string()),
        "kept_ratio": pa.array(rng.random(rows)),
        "story_id": pa.array([f"s{s}" if s >= 0 else None for s in story.tolist()],
                             pa.string()),
    }
    table = pa.Table.from_pydict(columns, schema=schema)
    dates = [(START + dt.timedelta(days=int(d))).date().isoformat() for d in range(days)]
    return table.append_column("date", pa.array(np.array(dates)[day].tolist())) \
        .append_column("theme", pa.array(np.array(THEMES)[theme].tolist()))


def write_warehouse(out: str, rows: int, days: int, seed: int = 7) -> int:
    """Write the synthetic warehouse into ``out``; returns the number of article files."""
    rng = np.random.default_rng(seed)
    table = articles_table(rows, days, rng)
    files = 0
    keys = pa.table({"date": table["date"], "theme": table["theme"]})
    order = pa.compute.sort_indices(keys, [("date", "ascending"), ("theme", "ascending")])
    table = table.take(order)
    grouped = table.group_by(["date", "theme"]).aggregate([([], "count_all")])
    start = 0
    for date, theme, count in zip(*(grouped[c].to_pylist() for c in
                                    ("date", "theme", "count_all"))):
        folder = os.path.join(out, "articles", f"date={date}", f"theme={theme}")
        os.makedirs(folder, exist_ok=True)
        part = table.slice(start, count).drop_columns(["date", "theme"])
        pq.write_table(part, os.path.join(folder, f"part-bench-{files:05d}.parquet"))
        start += count
        files += 1
    _write_side_tables(out, table, rows, rng)
    return files


def _write_side_tables(out: str, articles: pa.Table, rows: int, rng) -> None:
    n = rows // 10
    picks = rng.integers(0, rows, n)
    kept = articles.take(pa.array(picks))
    duplicates = pa.Table.from_pydict({
        "source": kept["source"], "url": kept["url"], "duplicate_of": kept["article_id"],
        "similarity": pa.array(np.where(rng.random(n) < 0.6, 1.0, 0.8).astype(np.float32)),
        "kind": pa.array(np.where(rng.random(n) < 0.6, "exact", "near").tolist()),
        "article_id": _strings("d", np.arange(n)), "title": kept["title"],
        "ingested_at": kept["ingested_at"], "story_id": kept["story_id"],
    }, schema=arrow_schema(Duplicate))
    e = rows // 50
    reasons = np.array([("read", "empty"), ("clean", "too_short"), ("clean", "no_article"),
                        ("feed", "timeout"), ("read", "binary")])[rng.integers(0, 5, e)]
    errors = pa.Table.from_pydict({
        "source": _strings("in/e", np.arange(e)), "stage": pa.array(reasons[:, 0].tolist()),
        "error": pa.array(reasons[:, 1].tolist()), "detail": pa.array(["synthetic"] * e),
        "at": articles["ingested_at"].take(pa.array(rng.integers(0, rows, e))),
        "article_id": _strings("e", np.arange(e)),
    }, schema=arrow_schema(ErrorRecord))
    s = max(rows // 20, 1)
    story_ids = np.repeat(np.arange(s), 2)  # two versions of each story
    versions = len(story_ids)
    updated = (START.timestamp() * 1e6 + np.tile([0, 86400e6], s)).astype(np.int64)
    ts = pa.timestamp("us", tz="UTC")
    stories = pa.Table.from_pydict({
        "story_id": _strings("s", story_ids),
        "first_seen": pa.array(updated).cast(ts), "last_seen": pa.array(updated).cast(ts),
        "articles": pa.array((np.tile([1, 2], s) * rng.integers(1, 30, versions)
                              ).astype(np.int32)),
        "sources": _lists(pa.array(["https://outlet1.example/rss"] * versions),
                          np.ones(versions, dtype=int)),
        "title": _strings("Story ", story_ids),
        "entities": _lists(pa.array([], pa.string()), np.zeros(versions, dtype=int)),
        "themes": _lists(pa.array(["politics"] * versions), np.ones(versions, dtype=int)),
        "merged_into": pa.nulls(versions, pa.string()),
        "updated_at": pa.array(updated).cast(ts),
        "terms": _lists(pa.array([], pa.string()), np.zeros(versions, dtype=int)),
        "term_weights": _lists(pa.array([], pa.float32()), np.zeros(versions, dtype=int)),
        "entity_weights": _lists(pa.array([], pa.float32()), np.zeros(versions, dtype=int)),
        "theme_counts": _lists(pa.array([], pa.int32()), np.zeros(versions, dtype=int)),
    }, schema=arrow_schema(Story))
    for name, table in (("duplicates", duplicates), ("errors", errors), ("stories", stories)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        pq.write_table(table, os.path.join(out, name, "part-bench.parquet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--keep", help="build the warehouse here and keep it")
    args = parser.parse_args()

    from newsbeam.pipeline.report import build_report
    from newsbeam.pipeline.stats import summary
    from newsbeam.pipeline.views import connect

    with tempfile.TemporaryDirectory(prefix="newsbeam-report-bench-") as tmp:
        out = args.keep or tmp
        t0 = time.monotonic()
        files = write_warehouse(out, args.rows, args.days)
        print(f"warehouse: {args.rows:,} article rows in {files:,} files, built in "
              f"{time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        s = summary(connect(out))
        print(f"stats: {time.monotonic() - t0:.2f} s ({s.articles:,} articles, "
              f"{s.duplicates:,} duplicates, {s.errors:,} errors, {s.stories:,} stories)")
        for label, kwargs in (("report", {}),):
            t0 = time.monotonic()
            page = build_report(out, **kwargs)
            print(f"{label}: {time.monotonic() - t0:.2f} s, "
                  f"page {len(page.encode()) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
