"""Themes: IPTC Media Topic top-level slugs scored from a readable lexicon
(transforms/data/themes.toml): terms and phrases per theme, matched on
lower-cased text or lemma, the headline counting more than the body. Plain
functions and ThemeScorer, tested without Beam."""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from newsbeam.schemas import ThemeScore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

UNCLASSIFIED = "unclassified"


def default_lexicon_path() -> str:
    return str(resources.files("newsbeam.transforms").joinpath("data/themes.toml"))


def read_lexicon(path: str | None = None) -> dict:
    """A lexicon TOML (default: the packaged one) as its table."""
    with open(path or default_lexicon_path(), "rb") as f:
        return tomllib.load(f)


def theme_slugs(path: str | None = None) -> frozenset[str]:
    """Every theme a lexicon can give, ``unclassified`` included, without building a scorer."""
    return frozenset({*read_lexicon(path).get("themes", {}), UNCLASSIFIED})


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
        # The languages the terms are written in: text in any other language
        # matches nothing meaningful (or worse, an English word by accident).
        self.languages: tuple[str, ...] = tuple(lexicon.get("languages", ["en"]))
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
        scorer = cls(read_lexicon(path))
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
