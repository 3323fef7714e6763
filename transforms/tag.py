"""Tag stage: IPTC Media Topic themes and named entities with spaCy.

``TagArticles`` takes deduplicated ``Article`` records (``themes``,
``entities`` and ``theme_scores`` empty) and returns

* ``"articles"``: the same articles with ``themes`` (ranked IPTC top-level
  slugs, the first is the partition theme, ``["unclassified"]`` when nothing
  fits), ``theme_scores`` (each matched theme's share of the evidence) and
  ``entities`` (PERSON, ORG, GPE, ... merged across mentions, with counts);
* ``"errors"``: one ``ErrorRecord(stage="tag")`` per article that spaCy or the
  scorer failed on (reason ``nlp_error`` or ``tag_error``), so nothing is lost.

The model and the lexicon are written for languages (an English model and
English terms by default): an article whose ``language`` the lexicon does not
cover is ``["unclassified"]`` with no theme scores, and one the model does not
cover gets no entities, instead of English rules applied to another language
("Umsatzprognosen" as a PERSON). An article neither covers skips the model.

Themes come from a readable lexicon (``transforms/data/themes.toml``) scored
by ``transforms.themes.ThemeScorer``; entities from
``transforms.entities.extract_entities``; the model from
``transforms.spacy_model``. All three are plain code tested without Beam;
this module batches articles through the model and assembles the rows.
"""

from __future__ import annotations

import logging
from typing import Iterator, Optional, Sequence

import apache_beam as beam

from newsbeam.schemas import Article, ErrorRecord
from newsbeam.transforms import warm
from newsbeam.transforms.entities import extract_entities
from newsbeam.transforms.errors import reject
from newsbeam.transforms.language import covers
from newsbeam.transforms.spacy_model import load_model, model_languages
from newsbeam.transforms.themes import UNCLASSIFIED, ThemeScorer

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 100_000


# --------------------------------------------------------------------------- article


def article_text(article: Article, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[str, int]:
    """The text spaCy sees (headline, blank line, body) and the headline's length."""
    title = (article.title or "").strip()
    body = (article.text or "")[:max_chars]
    return (f"{title}\n\n{body}" if title else body), len(title)


def tag_article(article: Article, doc, title_chars: int, scorer: ThemeScorer,
                model_langs: Sequence[str] = ("en",)) -> Article:
    """``article`` with themes, theme scores and entities from ``doc`` (the model's
    analysis of :func:`article_text`), each only when the lexicon (themes) or the
    model (``model_langs``, entities) covers the article's language; ``doc`` may
    be None when neither does."""
    if covers(scorer.languages, article.language):
        scores = scorer.score(doc, title_chars)
        themes, shares = scorer.select(scores), scorer.shares(scores)
    else:
        themes, shares = [UNCLASSIFIED], []
    entities = extract_entities(doc, title_chars) if covers(model_langs, article.language) else []
    return article._replace(themes=themes, theme_scores=shares, entities=entities)


def needs_model(article: Article, scorer: ThemeScorer, model_langs: Sequence[str]) -> bool:
    """Whether the lexicon or the model covers the article's language, so that it is worth analysing."""
    return covers(scorer.languages, article.language) or covers(model_langs, article.language)


# --------------------------------------------------------------------------- Beam


class _TagBatchFn(beam.DoFn):
    """Tags a batch of articles with one ``nlp.pipe`` call."""

    def __init__(self, model: str, lexicon_path: Optional[str], scoring: dict, max_chars: int):
        self._model = model
        self._lexicon_path = lexicon_path
        self._scoring = scoring
        self._max_chars = max_chars
        self._tagged = beam.metrics.Metrics.counter("tag", "tagged")
        self._unclassified = beam.metrics.Metrics.counter("tag", "unclassified")
        self._not_covered = beam.metrics.Metrics.counter("tag", "language_not_covered")

    def _key(self):
        return ("tagger", self._model, self._lexicon_path, tuple(sorted(self._scoring.items())))

    def setup(self):
        # Warm across a local follower's polls: loading the model is the slow part.
        self._nlp, self._scorer = warm.acquire(self._key(), lambda: (
            load_model(self._model), ThemeScorer.from_file(self._lexicon_path, **self._scoring)))
        self._model_langs = model_languages(self._nlp)

    def teardown(self):
        warm.release(self._key(), (self._nlp, self._scorer), lambda _: None)

    def process(self, batch: Sequence[Article]) -> Iterator:
        inputs = [article_text(a, self._max_chars) for a in batch]
        analyse = [needs_model(a, self._scorer, self._model_langs) for a in batch]
        try:
            piped = iter(self._nlp.pipe([t for (t, _), yes in zip(inputs, analyse) if yes],
                                        batch_size=max(1, len(batch))))
            docs = [next(piped) if yes else None for yes in analyse]
        except Exception:  # one bad text must not fail its neighbours: retry one by one
            docs = [None] * len(batch)
        for article, (text, title_chars), doc, yes in zip(batch, inputs, docs, analyse):
            if not yes:
                self._not_covered.inc()
            try:
                if yes and doc is None:
                    doc = self._nlp(text)
            except Exception as e:
                yield self._error(article, "nlp_error", e)
                continue
            try:
                tagged = tag_article(article, doc, title_chars, self._scorer, self._model_langs)
            except Exception as e:
                yield self._error(article, "tag_error", e)
                continue
            self._tagged.inc()
            if tagged.themes[0] == UNCLASSIFIED:
                self._unclassified.inc()
            yield tagged

    def _error(self, article: Article, reason: str, exc: Exception):
        return reject("tag", article.source, reason,
                      f"{article.article_id}: {type(exc).__name__}: {exc}",
                      article_id=article.article_id)


class TagArticles(beam.PTransform):
    """Article -> {"articles": tagged Article, "errors": ErrorRecord}.

    Configuration: ``model`` ("auto", "blank", or a spaCy model name/path),
    ``lexicon_path`` (default: the packaged ``transforms/data/themes.toml``),
    ``batch_size`` (texts per ``nlp.pipe`` call), ``max_themes`` and
    ``min_score`` (override the lexicon's ``[scoring]`` values when given),
    ``max_chars`` (body characters analysed per article).
    """

    def __init__(
        self,
        model: str = "auto",
        lexicon_path: Optional[str] = None,
        batch_size: int = 64,
        max_themes: Optional[int] = None,
        min_score: Optional[float] = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        label: Optional[str] = None,
    ):
        super().__init__(label)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._model = model
        self._lexicon_path = lexicon_path
        self._scoring = {"max_themes": max_themes, "min_score": min_score}
        self._batch_size = batch_size
        self._max_chars = max_chars

    def expand(self, articles: beam.PCollection[Article]) -> dict[str, beam.PCollection]:
        results = (
            articles
            | "BatchForNlp" >> beam.BatchElements(min_batch_size=self._batch_size, max_batch_size=self._batch_size)
            | "TagBatch"
            >> beam.ParDo(_TagBatchFn(self._model, self._lexicon_path, self._scoring, self._max_chars)).with_outputs(
                "errors", main="articles"
            )
        )
        # Typed outputs so that downstream stages encode them with RowCoder.
        results.articles.element_type = Article
        results.errors.element_type = ErrorRecord
        return {"articles": results.articles, "errors": results.errors}

