"""Records for tests: valid by default, any field given by keyword.

``article(article_id="a", text="...")`` and ``raw_document(body="...")`` are
the one way tests make records; a test module's own helpers only choose
fields.
"""

import datetime as dt

import numpy as np

from newsbeam.schemas import Article, Duplicate, RawDocument

INGESTED = int(dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone.utc).timestamp() * 1e6)


def article(article_id: str = "a", **fields) -> Article:
    """An ``Article`` as the clean stage makes it (no themes, entities or hash
    yet); ``word_count`` follows ``text`` unless given."""
    text = fields.pop("text", "Body.")
    defaults = dict(
        article_id=article_id, url=f"file:///{article_id}", source=f"in/{article_id}.txt",
        title=f"title {article_id}", text=text, published_at=None, date_source="ingested",
        ingested_at=INGESTED, language="en", themes=[], entities=[],
        word_count=np.int32(len(text.split())), duplicates=[], theme_scores=[],
        text_source="file", author=None, site_name=None, content_hash="", page_status=None)
    return Article(**{**defaults, **fields})


def raw_document(**fields) -> RawDocument:
    """A ``RawDocument`` as the reader makes it: a text file unless told otherwise."""
    defaults = dict(source="data/a.txt", locator="file:///data/a.txt", url=None, kind="text",
                    title=None, body="", summary=None, published_at=None, date_source=None,
                    ingested_at=INGESTED)
    return RawDocument(**{**defaults, **fields})


def duplicate(article_id: str = "d", **fields) -> Duplicate:
    """A ``Duplicate`` row as deduplication makes it (no story yet)."""
    defaults = dict(source=f"in/{article_id}.txt", url=f"file:///{article_id}", duplicate_of="a",
                    similarity=np.float32(1.0), kind="exact", article_id=article_id,
                    title=f"title {article_id}", ingested_at=INGESTED)
    return Duplicate(**{**defaults, **fields})
