"""PLACEHOLDER tag stage (replaced by the tag branch)."""

from __future__ import annotations

import apache_beam as beam


class TagArticles(beam.PTransform):
    def __init__(self, model: str = "auto", lexicon_path=None, batch_size: int = 64):
        super().__init__()

    def expand(self, articles):
        tagged = articles | "Tag" >> beam.Map(lambda a: a._replace(themes=["unclassified"]))
        errors = articles.pipeline | "NoTagErrors" >> beam.Create([])
        return {"articles": tagged, "errors": errors}
