"""PLACEHOLDER clean stage (replaced by the clean branch): first line = title."""

from __future__ import annotations

import apache_beam as beam
import numpy as np

from schemas import Article, ErrorRecord, RawDocument
from transforms.ids import article_id, now_micros


def _clean(raw: RawDocument):
    lines = [l.strip() for l in raw.body.splitlines() if l.strip()]
    if not lines:
        yield beam.pvalue.TaggedOutput("errors", ErrorRecord(raw.source, "clean", "no_article", "empty", now_micros()))
        return
    title = raw.title or lines[0]
    body = lines if raw.title else lines[1:]
    text = "\n\n".join(body)
    yield Article(article_id(raw), raw.url or raw.locator, raw.source, title, text, raw.published_at,
                  raw.date_source or "ingested", raw.ingested_at, "en", [], [], np.int32(len(text.split())),
                  [], [], "file", None, None, "")


class CleanArticles(beam.PTransform):
    def __init__(self, timeout_seconds: float = 10.0):
        super().__init__()

    def expand(self, docs):
        out = docs | "CleanText" >> beam.FlatMap(_clean).with_outputs("errors", main="articles")
        return {"articles": out.articles, "errors": out.errors}
