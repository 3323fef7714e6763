"""PLACEHOLDER dedup stage (replaced by the dedup branch): exact hash only."""

from __future__ import annotations

import hashlib

import apache_beam as beam
import numpy as np

from schemas import Article, Duplicate, IndexEntry


def _pick(element):
    _, articles = element
    articles = sorted(articles, key=lambda a: a.article_id)
    kept = articles[0]._replace(duplicates=sorted(a.source for a in articles[1:]))
    yield kept
    yield beam.pvalue.TaggedOutput("index", IndexEntry(kept.article_id, kept.content_hash, [], kept.ingested_at))
    for a in articles[1:]:
        yield beam.pvalue.TaggedOutput("duplicates", Duplicate(a.source, a.url, kept.article_id, np.float32(1.0), "exact", a.article_id, a.title, a.ingested_at))


class Deduplicate(beam.PTransform):
    def __init__(self, index_pattern=None, **_config):
        super().__init__()

    def expand(self, articles):
        out = (articles
               | "Hash" >> beam.Map(lambda a: a._replace(content_hash=hashlib.sha256(" ".join(a.text.lower().split()).encode()).hexdigest()))
               | "KeyByHash" >> beam.Map(lambda a: (a.content_hash, a))
               | "GroupByHash" >> beam.GroupByKey()
               | "Pick" >> beam.FlatMap(_pick).with_outputs("duplicates", "index", main="articles"))
        return {"articles": out.articles, "duplicates": out.duplicates, "index": out.index}
