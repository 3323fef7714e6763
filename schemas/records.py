"""The records that flow through the pipeline, defined once.

Each record is a ``typing.NamedTuple``, registered with Beam's ``RowCoder`` by
``schemas.coders`` (imported with the ``transforms`` package, so reading the schemas
alone, as ``newsbeam query`` does, does not import Beam);
the Arrow schema of every Parquet table is derived from the same class by
:func:`schemas.arrow.arrow_schema`, never written twice.

Conventions the derivation relies on:

* ``Optional[X]`` is a nullable column, everything else is non-null.
* integer fields named ``at`` or ending in ``_at`` or ``_seen`` hold microseconds since the Unix
  epoch (UTC) and become ``timestamp[us, tz=UTC]`` in Arrow;
* ``np.int32`` / ``np.float32`` become ``int32`` / ``float32``;
* ``Sequence[NamedTuple]`` becomes ``list<struct<...>>``.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np

# Where a document's text came from.
TEXT_SOURCES = ("file", "page", "feed")
# Where the partition date came from (output contract).
DATE_SOURCES = ("feed", "html", "json", "text", "ingested")


class RawDocument(NamedTuple):
    """One input document as read, before cleaning.

    ``kind`` says how ``body`` is to be read: ``text`` (plain text, headline on
    the first line), ``html`` (a saved or fetched page), ``json`` (a record
    whose ``body`` is the article text and ``title`` its headline) or
    ``feed`` (a feed item: ``body`` is the fetched page's HTML, possibly
    empty, and ``summary`` the feed's own content to fall back on).
    ``page_status`` (feed items): ``ok`` when the page was fetched, else why
    not (``http_404``, ``robots_disallowed``, ``timeout``, ``no_link``, ...).
    """

    source: str  # input path as given, or the feed URL
    locator: str  # unique per input within a run: path, path#L<n>, item link
    url: Optional[str]  # canonical/feed link when known, else None
    kind: str
    title: Optional[str]
    body: str
    summary: Optional[str]  # feed content/summary (kind == "feed")
    published_at: Optional[int]  # from the record or feed entry, if valid
    date_source: Optional[str]  # "json" / "feed" when published_at is set
    ingested_at: int
    page_status: Optional[str] = None  # set by the page fetch (kind == "feed")


class Entity(NamedTuple):
    text: str
    label: str
    count: np.int32


class ThemeScore(NamedTuple):
    theme: str
    score: np.float32


class Article(NamedTuple):
    """One row of ``articles/``. Column order is the output contract's."""

    article_id: str
    url: str
    source: str
    title: str
    text: str
    published_at: Optional[int]
    date_source: str
    ingested_at: int
    language: str
    themes: Sequence[str]
    entities: Sequence[Entity]
    word_count: np.int32
    duplicates: Sequence[str]
    # Extensions beyond the contract's columns.
    theme_scores: Sequence[ThemeScore]
    text_source: str  # one of TEXT_SOURCES
    author: Optional[str]
    site_name: Optional[str]
    content_hash: str  # hex digest of the normalised body (exact-duplicate key)
    # Feed items: "ok" when ``text`` came from the fetched page, else why the page
    # was not used ("http_404", "no_article", "no_link", ...); None for files.
    page_status: Optional[str]
    # Share of the input's words the cleaner kept: (headline + body words) / words
    # of the text it was given (a text file or JSON record: its title and text; a
    # feed summary: its text less pictures; a page: what trafilatura extracted,
    # before the line rules). None in rows written before the column existed.
    kept_ratio: Optional[float] = None
    # The story (real-world event) the article reports; ids never change, see
    # ``story_merges/``. None in rows written before the column existed.
    story_id: Optional[str] = None


class Duplicate(NamedTuple):
    """One row of ``duplicates/``: an input merged into a kept article."""

    source: str
    url: str
    duplicate_of: str  # article_id of the kept row
    similarity: np.float32
    kind: str  # "exact" | "near"
    article_id: str  # the id this copy would have had
    title: str
    ingested_at: int
    story_id: Optional[str] = None  # the kept article's story


class ErrorRecord(NamedTuple):
    """One row of ``errors/``: an input (or part of one) that yielded no article."""

    source: str
    stage: str  # read | clean | dedup | tag | write | feed
    error: str  # short machine-friendly reason, e.g. "empty", "binary", "too_large"
    detail: str  # human-readable detail
    at: int
    # The input's article_id when it has one (a feed item, a document that was
    # read): lets a restarted ingest recognise items that already ended as errors.
    article_id: str = ""


class IndexEntry(NamedTuple):
    """One row of ``_index/``: what later runs need to recognise an article."""

    article_id: str
    content_hash: str
    minhash: Sequence[np.int64]  # signature; empty when the text is too short
    ingested_at: int
    story_id: Optional[str] = None  # so a later copy of the article joins its story


class Story(NamedTuple):
    """One row of ``stories/``: a story as a run left it, one row per story the run touched.

    The newest row of a ``story_id`` (greatest ``updated_at``) is its current
    state. The columns after ``updated_at`` are the story's centroid, what later
    runs compare new articles with (``transforms.stories_core``).
    """

    story_id: str  # the article_id of its first article
    first_seen: int  # earliest publication (else ingestion) time of its articles
    last_seen: int
    articles: np.int32  # articles so far, all runs
    sources: Sequence[str]  # distinct outlets
    title: str  # its first article's headline
    entities: Sequence[str]  # top entities, lower-cased, by weight
    themes: Sequence[str]  # by articles
    merged_into: Optional[str]  # set once later evidence joined it to an older story
    updated_at: int  # start of the run that wrote this row
    terms: Sequence[str]
    term_weights: Sequence[np.float32]
    entity_weights: Sequence[np.float32]
    theme_counts: Sequence[np.int32]


class StoryMerge(NamedTuple):
    """One row of ``story_merges/``: two stories found to be one event.

    Rows keep their ids; readers follow ``story_id -> merged_into``.
    """

    story_id: str  # stops receiving articles
    merged_into: str  # the older story, receives them from now on
    article_id: str  # the article that joined them
    at: int  # its time


class TermCount(NamedTuple):
    """One row of ``_story_terms/``: a hashed document frequency for story scoring
    (``slot`` -1 holds the number of documents). Each run writes the whole table;
    the newest committed file is the current one."""

    slot: np.int32
    count: np.int64


RECORDS = (RawDocument, Entity, ThemeScore, Article, Duplicate, ErrorRecord, IndexEntry,
           Story, StoryMerge, TermCount)
