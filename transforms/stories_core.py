"""Plain functions behind the story stage: one stable ``story_id`` per real-world event.

Articles are assigned online, one at a time, in the order :func:`story_order`
gives (publication time, else ingestion time, then a digest of the headline and
text), so the result depends only on the articles: never on how a run was split
over workers, nor on where the files were read from (an ``article_id`` hashes the
file's path, and many pages give only a date, so equal times are common).

In: one :class:`ArticleFeatures` per article (what the pipeline already has after
tagging: title, cleaned text, time, outlet, spaCy entities, themes) and a
:class:`StoryIndex` (the compact state carried between runs).
Out: :func:`assign` returns the article's story id and the merges its arrival
revealed, and updates the index in place.

A story is a centroid, not its texts: the top ``centroid_terms`` weighted terms,
the top ``centroid_entities`` entities, first/last seen, article count, outlets,
a representative title. An article is compared only with stories active within
``window_days`` of it (``first_seen - window <= when <= last_seen + window``), on

    score = (1 - entity_weight) * cos(terms) + entity_weight * cos(entities)

(0 when both sides name two or more entities and share none), where a term's weight
is ``(1 + ln tf) * idf`` (headline words counted
``title_repeat`` extra times) and ``idf`` comes from the index's own hashed
document frequencies: the warehouse's articles seen so far, nothing shipped.
The article joins the best story scoring at least ``threshold``, else it starts
a story whose id is its own ``article_id``. An id once given never changes:
when an article scores above the threshold with two stories, the one begun
later is recorded as merged into the other (``Merge``) and only new articles see
the joined story. Stop words are spaCy's general English list; nothing else is
shipped.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from newsbeam.transforms.text import letter_words

DAY = 86_400_000_000  # microseconds, the unit of ``Article.published_at``


class StoryConfig(NamedTuple):
    window_days: float = 3.0     # how far around an article its candidate stories may be
    threshold: float = 0.18      # the one tuned number: minimum score to join a story
    entity_weight: float = 0.3   # share of the score given to named entities
    title_repeat: int = 2        # extra counts of each headline word
    body_words: int = 400        # leading body words used (the lead carries the event)
    centroid_terms: int = 64     # terms kept per story
    centroid_entities: int = 16  # entities kept per story
    block_terms: int = 32        # compared only with stories sharing a top term (or entity: half as many)
    df_bits: int = 18            # hashed document-frequency table of 2**df_bits counters


class ArticleFeatures(NamedTuple):
    article_id: str
    when: int                     # publication (else ingestion) time, microseconds
    source: str
    title: str
    text: str
    entities: Sequence[tuple]     # (text, label, count), as tagging writes them
    themes: Sequence[str] = ()


class ArticleVectors(NamedTuple):
    """What assignment needs of an article: its unit term and entity vectors
    (:meth:`StoryIndex.vectors`) and what a story keeps of it."""

    article_id: str
    when: int
    source: str
    title: str
    themes: Sequence[str]
    terms: Mapping[str, float]
    entities: Mapping[str, float]
    rank: str = ""  # content_rank: breaks ties of ``when``


class Merge(NamedTuple):
    story_id: str     # the story that stops receiving articles
    merged_into: str  # the story that receives them from now on
    when: int         # time of the article that revealed it
    article_id: str


@dataclass
class Story:
    story_id: str
    first_seen: int
    last_seen: int
    articles: int
    title: str
    sources: list = field(default_factory=list)
    terms: dict = field(default_factory=dict)     # term -> summed weight (top centroid_terms)
    entities: dict = field(default_factory=dict)  # lower-cased entity -> summed weight
    themes: dict = field(default_factory=dict)    # theme -> articles
    merged_into: str | None = None

    def active_at(self, when: int, window: int) -> bool:
        return self.merged_into is None and self.first_seen - window <= when <= self.last_seen + window


def content_rank(title: str, text: str) -> str:
    """A digest of what an article says, to order articles of the same time by their
    content rather than by their ids (which hash the input's path)."""
    data = f"{title}\0{text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def story_order(article: ArticleFeatures) -> tuple:
    """The order stories are built in: time, then content, then id (for identical
    copies only); well defined on any worker count and any input location."""
    return (article.when, content_rank(article.title or "", article.text or ""), article.article_id)


def vectors_order(article: ArticleVectors | Prepared) -> tuple:
    """:func:`story_order` for an article already prepared."""
    return (article.when, article.rank, article.article_id)


def story_rank(story: Story) -> tuple:
    """Which of two stories came first: first seen, then headline, then id."""
    return (story.first_seen, story.title, story.story_id)


def _stem(word: str) -> str:
    # A crude plural fold ("missiles" ~ "missile"); no model, no vocabulary.
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    # Numbers stay: tolls, magnitudes and scores tell look-alike events apart.
    return [_stem(w) for w in (w.lower() for w in letter_words(text)) if len(w) > 1 and w not in STOP_WORDS]


def term_counts(article: ArticleFeatures, config: StoryConfig) -> Counter:
    """Headline and leading body words, stop words dropped, headline words repeated."""
    title = _words(article.title or "")
    body = _words(article.text or "")[:config.body_words]
    counts = Counter(body)
    for w in title:
        counts[w] += 1 + config.title_repeat
    return counts


_POSSESSIVE = re.compile(r"['\u2019]s$")


def entity_key(text: str) -> str:
    """One key per way of writing a name: case, dots, spacing and a possessive
    dropped ("U.S." and "US", "Putin's" and "Putin")."""
    key = " ".join(text.lower().replace(".", "").split())
    return _POSSESSIVE.sub("", key).removeprefix("the ")


def entity_counts(article: ArticleFeatures) -> Counter:
    counts = Counter()
    for text, _label, count in article.entities:
        key = entity_key(text)
        if key:
            counts[key] += int(count)
    return counts


def _slot(key: str, bits: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & ((1 << bits) - 1)


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    if dot <= 0.0:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def similarity(terms: Mapping, ents: Mapping, other_terms: Mapping, other_ents: Mapping,
               entity_weight: float) -> float:
    """Weighted term and entity cosines; 0 when both sides name two or more entities
    and none in common (two arrests, two crashes: the same words, other names)."""
    if not ents or not other_ents:  # no entities on one side: terms alone
        return _cosine(terms, other_terms)
    shared = _cosine(ents, other_ents)
    if shared == 0.0 and len(ents) >= 2 and len(other_ents) >= 2:
        return 0.0
    return (1 - entity_weight) * _cosine(terms, other_terms) + entity_weight * shared


def blocking_keys(terms: Mapping, ents: Mapping, config: StoryConfig) -> list[str]:
    """The top terms and entities by weight: a story and an article that share none
    would score too low to matter, so they are never compared (the same keys in one
    sequential pass and in the pipeline's grouped one)."""
    k = config.block_terms
    return list(top_weights(terms, k)) + ["\x00" + e for e in top_weights(ents, k // 2)]


def top_weights(weights: Mapping[str, float], k: int) -> dict:
    """The ``k`` heaviest keys; ties by key, so the cut is the same in any order."""
    return dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


def _unit(weights: Mapping[str, float]) -> dict:
    norm = math.sqrt(sum(v * v for v in weights.values()))
    return {k: v / norm for k, v in weights.items()} if norm else {}


class StoryIndex:
    """The state carried between articles and runs: stories and hashed document frequencies.

    ``stories`` holds every story loaded or made (merged ones keep their
    ``merged_into``); :meth:`expire` drops those no article at or after a time can
    reach, so a run holds only its window's stories. Its table form is the
    ``stories/`` and ``_story_terms/`` tables (``transforms.stories``).
    """

    def __init__(self, config: StoryConfig | None = None, frozen: bool = False):
        self.config = config = config or StoryConfig()
        self.stories: dict[str, Story] = {}
        self.df = np.zeros(1 << config.df_bits, dtype=np.int32)
        self.docs = 0
        # Frozen: the frequencies are the run's, fixed before assignment (the
        # pipeline), so any split of the run's articles sees the same weights.
        self.frozen = frozen
        self._postings: dict[str, set] = {}  # blocking key -> ids of the stories it names
        self._keys: dict[str, list] = {}     # story id -> its blocking keys

    # ----------------------------------------------------------------- weights

    def idf(self, key: str) -> float:
        """Smoothed inverse document frequency from the articles seen so far."""
        return math.log((1 + self.docs) / (1 + self.df[_slot(key, self.config.df_bits)])) + 1.0

    def vectors(self, article: ArticleFeatures | Prepared) -> ArticleVectors:
        """The article's unit term and entity vectors under the current frequencies."""
        if not isinstance(article, Prepared):
            article = prepare(article, self.config)
        return vectors_of(article, self.df, self.docs)

    # ----------------------------------------------------------------- scoring

    def score(self, terms: Mapping, ents: Mapping, story: Story) -> float:
        return similarity(terms, ents, story.terms, story.entities, self.config.entity_weight)

    def blocking_keys(self, terms: Mapping, ents: Mapping) -> list[str]:
        return blocking_keys(terms, ents, self.config)

    def candidates(self, when: int, keys: Iterable[str]) -> list[Story]:
        """Stories active at ``when`` that share a blocking key with ``keys``."""
        window = int(self.config.window_days * DAY)
        ids = set().union(*(self._postings.get(k, ()) for k in keys))
        return [s for s in (self.stories[i] for i in sorted(ids)) if s.active_at(when, window)]

    def add_story(self, story: Story) -> None:
        """Put a story read back from the warehouse into the index."""
        self.stories[story.story_id] = story
        self._index(story)

    def _index(self, story: Story) -> None:
        for k in self._keys.pop(story.story_id, ()):
            self._postings[k].discard(story.story_id)
            if not self._postings[k]:
                del self._postings[k]
        if story.merged_into is None and story.story_id in self.stories:
            keys = self.blocking_keys(story.terms, story.entities)
            self._keys[story.story_id] = keys
            for k in keys:
                self._postings.setdefault(k, set()).add(story.story_id)

    # ----------------------------------------------------------------- updates

    def _add(self, story: Story, article: ArticleVectors, terms: Mapping, ents: Mapping) -> None:
        c = self.config
        story.terms = top_weights(Counter(story.terms) + Counter(terms), c.centroid_terms)
        story.entities = top_weights(Counter(story.entities) + Counter(ents), c.centroid_entities)
        story.first_seen = min(story.first_seen, article.when)
        story.last_seen = max(story.last_seen, article.when)
        story.articles += 1
        if article.source and article.source not in story.sources:
            story.sources = sorted(story.sources + [article.source])
        for t in article.themes[:1]:
            story.themes[t] = story.themes.get(t, 0) + 1
        self._index(story)

    def _absorb(self, into: Story, other: Story) -> None:
        c = self.config
        into.terms = top_weights(Counter(into.terms) + Counter(other.terms), c.centroid_terms)
        into.entities = top_weights(Counter(into.entities) + Counter(other.entities), c.centroid_entities)
        into.first_seen = min(into.first_seen, other.first_seen)
        into.last_seen = max(into.last_seen, other.last_seen)
        into.articles += other.articles
        into.sources = sorted(set(into.sources) | set(other.sources))
        for t, n in other.themes.items():
            into.themes[t] = into.themes.get(t, 0) + n
        other.merged_into = into.story_id
        self._index(other)
        self._index(into)

    def expire(self, before: int) -> list[Story]:
        """Remove and return the stories no article at or after ``before`` can join."""
        window = int(self.config.window_days * DAY)
        gone = [s for s in self.stories.values()
                if s.merged_into is not None or s.last_seen + window < before]
        for s in gone:
            del self.stories[s.story_id]
            self._index(s)
        return gone


class Prepared(NamedTuple):
    """An article's counts and hashed slots, computed once: what the frequencies and the
    vectors are made of."""

    article_id: str
    when: int
    source: str
    title: str
    themes: tuple
    terms: tuple          # distinct terms
    term_counts: np.ndarray
    term_slots: np.ndarray
    entities: tuple       # distinct lower-cased entities
    entity_counts: np.ndarray
    entity_slots: np.ndarray
    rank: str = ""        # content_rank

    def slots(self) -> np.ndarray:
        """The distinct slots the article adds one document to."""
        return np.unique(np.concatenate([self.term_slots, self.entity_slots]))


def prepare(article: ArticleFeatures, config: StoryConfig) -> Prepared:
    terms = term_counts(article, config)
    ents = {e: n for e, n in entity_counts(article).items() if n > 0}
    bits = config.df_bits
    return Prepared(
        article.article_id, article.when, article.source, article.title or "", tuple(article.themes),
        tuple(terms), np.fromiter(terms.values(), dtype=np.float64, count=len(terms)),
        np.fromiter((_slot(w, bits) for w in terms), dtype=np.int64, count=len(terms)),
        tuple(ents), np.fromiter(ents.values(), dtype=np.float64, count=len(ents)),
        np.fromiter((_slot("\x00" + e, bits) for e in ents), dtype=np.int64, count=len(ents)),
        content_rank(article.title or "", article.text or ""))


def _unit_weights(keys: tuple, counts: np.ndarray, slots: np.ndarray, df: np.ndarray, docs: int) -> dict:
    if not keys:
        return {}
    w = (1 + np.log(counts)) * (np.log((1 + docs) / (1 + df[slots].astype(np.float64))) + 1.0)
    norm = float(np.sqrt(np.dot(w, w)))
    return dict(zip(keys, (w / norm).tolist())) if norm else {}


def vectors_of(article: Prepared, df: np.ndarray, docs: int) -> ArticleVectors:
    """Unit term and entity vectors: weights ``(1 + ln count) * idf``, idf smoothed from ``df``."""
    a = article
    return ArticleVectors(a.article_id, a.when, a.source, a.title, a.themes,
                          _unit_weights(a.terms, a.term_counts, a.term_slots, df, docs),
                          _unit_weights(a.entities, a.entity_counts, a.entity_slots, df, docs),
                          a.rank)


def assign(article: ArticleFeatures, index: StoryIndex) -> tuple[str, list[Merge]]:
    """The story of ``article`` (an existing one, or a new one with the article's id) and
    the merges it revealed; ``index`` is updated. Deterministic: ties go to the story
    that began first (then by headline, then id: :func:`story_rank`)."""
    prepared = prepare(article, index.config)  # counted once: for the vectors and the frequencies
    result = assign_vectors(index.vectors(prepared), index)
    if not index.frozen:
        index.df[prepared.slots()] += 1
        index.docs += 1
    return result


def assign_vectors(article: ArticleVectors, index: StoryIndex) -> tuple[str, list[Merge]]:
    """:func:`assign` for an article whose vectors are already computed (frequencies
    are not updated)."""
    terms, ents = article.terms, article.entities
    threshold = index.config.threshold
    candidates = index.candidates(article.when, index.blocking_keys(terms, ents))
    scored = sorted(((index.score(terms, ents, s), s) for s in candidates),
                    key=lambda ss: (-ss[0], story_rank(ss[1])))
    above = [s for score, s in scored if score >= threshold]
    merges: list[Merge] = []
    if not above:
        story = Story(article.article_id, article.when, article.when, 0, article.title or "")
        index.stories[story.story_id] = story
    else:
        # The earliest matching story keeps receiving articles; the others fold into it.
        above.sort(key=story_rank)
        story = above[0]
        for other in above[1:]:
            index._absorb(story, other)
            merges.append(Merge(other.story_id, story.story_id, article.when, article.article_id))
    index._add(story, article, terms, ents)
    return story.story_id, merges


def assign_all(articles: Iterable[ArticleFeatures], index: StoryIndex) -> tuple[dict, list[Merge]]:
    """Assign a batch in :func:`story_order`: ``({article_id: story_id}, merges)``."""
    ids, merges = {}, []
    for article in sorted(articles, key=story_order):
        ids[article.article_id], m = assign(article, index)
        merges.extend(m)
    return ids, merges


def resolve(story_id: str, merges: Iterable[Merge]) -> str:
    """The story ``story_id`` ended up in after ``merges`` (for readers, not for rewriting rows)."""
    into = {m.story_id: m.merged_into for m in merges}
    seen = set()
    while story_id in into and story_id not in seen:
        seen.add(story_id)
        story_id = into[story_id]
    return story_id
