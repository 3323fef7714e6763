"""Small warehouses for the query, stats and report tests, written as Parquet
directly (``schemas.to_table``): what a few runs would leave, in milliseconds.

``write_sample(out)`` writes 12 articles over three dates and three themes
(one partition in the layout of an older newsbeam, without ``kept_ratio`` and
``story_id``), 3 duplicates, 4 errors, stories with two versions of one story
and a merge. ``SAMPLE`` holds the figures the tests check against.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from newsbeam.schemas import (
    Article,
    Duplicate,
    Entity,
    ErrorRecord,
    Story,
    StoryMerge,
    ThemeScore,
    to_micros,
    to_table,
)
from tests.records import article


def micros(day: int, hour: int = 8) -> int:
    return to_micros(dt.datetime(2026, 11, day, hour, tzinfo=dt.timezone.utc))


# (id, day, theme, source, date_source, language, entities, story)
ROWS = [
    ("a01", 1, "politics", "https://north.example/rss", "feed", "en", ["Kallas", "NATO"], "s1"),
    ("a02", 1, "politics", "https://north.example/rss", "html", "en", ["NATO"], "s1"),
    ("a03", 1, "sport", "https://south.example/rss", "ingested", "en", ["FIFA"], None),
    ("a04", 2, "politics", "https://south.example/rss", "feed", "en", ["Kallas"], "s1"),
    ("a05", 2, "economy", "https://east.example/rss", "html", "de", [], "s2"),
    ("a06", 2, "economy", "https://east.example/rss", "ingested", "en", ["ECB"], "s2"),
    ("a07", 2, "sport", "https://north.example/rss", "feed", "en", ["FIFA", "UEFA"], None),
    ("a08", 3, "politics", "https://north.example/rss", "json", "en", ["NATO"], "s3"),
    ("a09", 3, "sport", "https://south.example/rss", "ingested", "en", ["UEFA"], None),
    ("a10", 3, "economy", "https://east.example/rss", "feed", "en", ["ECB", "IMF"], None),
    ("a11", 3, "politics", "https://west.example/rss", "text", "en", ["Kallas"], None),
    ("a12", 3, "politics", "https://west.example/rss", "feed", "en", [], None),  # old layout
]
LEGACY = {"a12"}  # written without kept_ratio and story_id, as before those columns

SAMPLE = dict(articles=12, duplicates=3, exact=2, near=1, errors=4, ingested_date=3,
              dates=3, stories=2, story_versions=4)


def sample_articles() -> list[Article]:
    rows = []
    for aid, day, theme, source, date_source, language, names, story in ROWS:
        rows.append(article(
            aid, source=source, url=f"https://{source.split('/')[2]}/{aid}",
            title=f"Headline {aid}", text=f"Body of {aid} with some words.",
            published_at=None if date_source == "ingested" else micros(day, 6),
            date_source=date_source, ingested_at=micros(day), language=language,
            themes=[theme, "society"],
            entities=[Entity(n, "ORG", np.int32(2)) for n in names],
            theme_scores=[ThemeScore(theme, np.float32(0.9))],
            content_hash=f"h{aid}", kept_ratio=0.9, story_id=story))
    return rows


def sample_duplicates() -> list[Duplicate]:
    return [
        Duplicate("https://south.example/rss", "https://south.example/c1", "a01",
                  np.float32(1.0), "exact", "c1", "Copy 1", micros(1), "s1"),
        Duplicate("https://south.example/rss", "https://south.example/c2", "a04",
                  np.float32(1.0), "exact", "c2", "Copy 2", micros(2), "s1"),
        Duplicate("https://east.example/rss", "https://east.example/c3", "a06",
                  np.float32(0.8), "near", "c3", "Copy 3", micros(2), "s2"),
    ]


def sample_errors() -> list[ErrorRecord]:
    return [
        ErrorRecord("in/e1.txt", "read", "empty", "no bytes", micros(1), "e1"),
        ErrorRecord("in/e2.txt", "read", "empty", "no bytes", micros(2), "e2"),
        ErrorRecord("in/e3.txt", "clean", "too_short", "3 words", micros(2), "e3"),
        ErrorRecord("https://west.example/rss", "feed", "timeout", "30 s", micros(3), ""),
    ]


def story(story_id: str, articles: int, updated_day: int, title: str,
          merged_into=None) -> Story:
    return Story(story_id=story_id, first_seen=micros(1, 6), last_seen=micros(updated_day, 6),
                 articles=np.int32(articles), sources=["https://north.example/rss"],
                 title=title, entities=["nato"], themes=["politics"], merged_into=merged_into,
                 updated_at=micros(updated_day, 9), terms=["nato"],
                 term_weights=[np.float32(1.0)], entity_weights=[np.float32(1.0)],
                 theme_counts=[np.int32(articles)])


def sample_stories() -> list[Story]:
    return [
        story("s1", 2, 1, "Headline a01"),  # first version, run of day 1
        story("s1", 3, 2, "Headline a01"),  # current version, run of day 2
        story("s2", 2, 2, "Headline a05"),
        story("s3", 1, 3, "Headline a08", merged_into="s1"),
    ]


def write_sample(out: Path, stories: bool = True) -> Path:
    """Write the sample warehouse into ``out`` (created); returns ``out``."""
    by_partition: dict = {}
    for row in sample_articles():
        day = dt.datetime.fromtimestamp(row.ingested_at / 1e6, dt.timezone.utc).date()
        by_partition.setdefault((day.isoformat(), row.themes[0], row.article_id in LEGACY),
                                []).append(row)
    for (day, theme, legacy), rows in by_partition.items():
        folder = out / "articles" / f"date={day}" / f"theme={theme}"
        folder.mkdir(parents=True, exist_ok=True)
        table = to_table(Article, rows)
        if legacy:
            table = table.drop_columns(["kept_ratio", "story_id"])
        pq.write_table(table, folder / f"part-{'old' if legacy else 'r1'}-{len(rows)}.parquet")
    tables = {"duplicates": (Duplicate, sample_duplicates()),
              "errors": (ErrorRecord, sample_errors())}
    if stories:
        tables["stories"] = (Story, sample_stories())
        tables["story_merges"] = (StoryMerge, [StoryMerge("s3", "s1", "a08", micros(3))])
    for name, (record, rows) in tables.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(to_table(record, rows), out / name / "part-r1.parquet")
    return out
