"""Topical coherence of a text's lines: which runs of lines are about something
else than the article around them (a sidebar, another story glued onto the
page). Plain functions over word vectors; see off_topic_segments."""

from __future__ import annotations

import statistics
from collections import Counter
from math import sqrt
from typing import Optional, Sequence

import numpy as np

from newsbeam.transforms.boilerplate import (
    STOP,
)
from newsbeam.transforms.text import letter_words, line_key


def stems(line: str) -> list:
    """Content-word stems: lower-cased, stop words dropped, cut to five letters
    so inflections (Ukraine/Ukrainian, Korea/Korean) meet."""
    out = []
    for w in letter_words(line):
        lw = w.lower().replace("’", "'")
        if lw.endswith("'s"):
            lw = lw[:-2]
        if lw in STOP or (len(lw) < 3 and not w.isupper()) or lw.isdigit():
            continue
        out.append(lw[:5])
    return out


def near_title(line: str, headline: Optional[str], threshold: float = 0.6) -> bool:
    """True when ``line`` is a variant of the headline (most words shared)."""
    if not headline:
        return False
    a, b = set(line_key(line).split()), set(line_key(headline).split())
    if not a or not b or len(a) > 2 * len(b) + 3:
        return False
    return len(a & b) / len(a | b) >= threshold


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = sqrt(sum(v * v for v in a.values()))
    nb = sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def coherence_scores(paragraphs: Sequence[str], headline: Optional[str], rounds: int = 3,
                     low: float = 0.4, window: int = 2) -> list:
    """Similarity of each paragraph to the headline plus the rest of the text.

    Paragraph vectors use sublinear term weights; each round rebuilds the
    reference from the paragraphs that are not outliers, so a glued block
    stops supporting itself after the first round.
    """
    vecs = [Counter({k: 1 + 0.5 * (v - 1) for k, v in Counter(stems(p)).items()}) for p in paragraphs]
    head = Counter({k: 3.0 for k in stems(headline or "")})
    weights = [1.0] * len(vecs)
    scores = [0.0] * len(vecs)
    for _ in range(rounds):
        total = Counter(head)
        for v, w in zip(vecs, weights):
            if w:
                for k, x in v.items():
                    total[k] += w * x
        for i, v in enumerate(vecs):
            ref = Counter(total)
            # Leave out the paragraph and its neighbours: a glued run must not vouch for itself.
            near = range(max(0, i - window), min(len(vecs), i + window + 1))
            if len(vecs) - len(near) < 3:
                near = range(i, i + 1)
            for j in near:
                if weights[j]:
                    for k, x in vecs[j].items():
                        ref[k] -= weights[j] * x
            scores[i] = _cosine(v, +ref)
        valid = [s for s, v in zip(scores, vecs) if v]
        if not valid:
            break
        med = statistics.median(valid)
        weights = [0.0 if (v and s < low * med) else 1.0 for s, v in zip(scores, vecs)]
    return scores


# Words common to news on any subject (time, quantity, reporting, generic
# actors): shared by two stories without making them one story, so they count
# for little in topic vectors. A hand-written general-English list.
_GENERIC_WORDS = """
year years time times day days week weeks month months today yesterday tomorrow morning night
people person man men woman women number numbers percent cent million millions billion billions
thousand thousands hundred hundreds first second third last next former later early late recent
make makes made making take takes took taken give gives gave given get gets got come comes came
go goes going went want wants wanted need needs needed think thinks thought know known see seen
look looked find found work works worked working use used using help helped way ways part parts
place end start started home world country countries national government public state states
old high higher low lower big bigger small long good bad great best better top major big
including include includes added report reports reported reporting news plan plans set put
back told tell like many much lot lots good important important able likely expected believe
believed called call calls case cases point points issue issues question questions group groups
area areas figures figure total level levels rise rose fall fell increase increased cut cuts
deal move moved run running show shows showed shown head general chief leader leaders official
officials spokesman spokeswoman statement interview programme program company companies
""".split()


_GENERIC = frozenset(w[:5] for w in _GENERIC_WORDS)


def topic_vector(line: str, proper_weight: float = 2.0, generic_weight: float = 0.3) -> Counter:
    """Content-word stems with sublinear weights; capitalised words inside a
    line (names, places, organisations) count ``proper_weight`` times, since
    shared names are the strongest sign two passages report the same story."""
    c: Counter = Counter()
    for k, w in enumerate(letter_words(line)):
        lw = w.lower().replace("’", "'")
        if lw.endswith("'s"):
            lw = lw[:-2]
        if lw in STOP or (len(lw) < 3 and not w.isupper()) or lw.isdigit():
            continue
        key = lw[:5]
        c[key] += proper_weight if (k > 0 and w[0].isupper()) else generic_weight if key in _GENERIC else 1.0
    return Counter({k: sqrt(v) for k, v in c.items()})


def _run_scorer(gram, to_head, hh: float):
    """``score(s, e)``: coherence of paragraphs ``s:e`` with the rest plus the
    headline, relative to the rest's own cohesion, from the Gram matrix of the
    paragraph vectors (O(n) per run, so long texts stay fast)."""
    k = len(gram)
    row_total = gram.sum(axis=1)                     # m_i . T
    cum = np.concatenate([np.zeros((k, 1)), np.cumsum(gram, axis=1)], axis=1)
    pre2 = np.zeros((k + 1, k + 1))
    pre2[1:, 1:] = np.cumsum(np.cumsum(gram, axis=0), axis=1)
    diag = np.diag(gram)
    tt = float(row_total.sum())
    th = float(to_head.sum())
    pre_row = np.concatenate([[0.0], np.cumsum(row_total)])
    pre_head = np.concatenate([[0.0], np.cumsum(to_head)])
    idx = np.arange(k)

    def score(s: int, e: int) -> float:
        ss = pre2[e, e] - pre2[s, e] - pre2[e, s] + pre2[s, s]   # |S|^2
        ts = pre_row[e] - pre_row[s]                            # T . S
        sh = pre_head[e] - pre_head[s]                          # S . H
        r2 = tt + ss + hh - 2 * ts + 2 * th - 2 * sh            # |T - S + H|^2
        if ss <= 0 or r2 <= 0:
            return 1.0
        sim = (ts - ss + sh) / sqrt(ss * r2)
        out = (idx < s) | (idx >= e)
        mr = row_total[out] - (cum[out, e] - cum[out, s]) + to_head[out]  # m_i . R
        d = diag[out]
        denom = np.sqrt(d * np.maximum(r2 - 2 * mr + d, 0.0))
        ok = denom > 0
        if not ok.any():
            return 1.0
        ref = float(np.median((mr[ok] - d[ok]) / denom[ok]))
        return sim / ref if ref > 0 else 1.0

    return score


def off_topic_segments(paragraphs: Sequence[str], headline: Optional[str], *, ratio: float = 0.35,
                       head_weight: float = 3.0, max_segments: int = 2, max_run: int = 10) -> list:
    """Contiguous runs of paragraphs that belong to another story: ``[(start, end)]``.

    Every run S covering at most half the text is scored by the cosine of its
    summed vector with the rest of the text plus the headline (the run never
    vouches for itself), divided by the cohesion of the rest (median cosine of
    each remaining paragraph with the others plus the headline). The lowest
    run below ``ratio`` is removed, then grown by any neighbour that is itself
    below ``ratio`` against what is left; this repeats up to ``max_segments``
    times. A single paragraph counts as a run only at the start or end of the
    text: an aside inside the article is kept.
    """
    n = len(paragraphs)
    if n < 4:
        return []
    vecs = [topic_vector(p) for p in paragraphs]
    hv = topic_vector(headline or "")
    vocab: dict = {}
    for v in (*vecs, hv):
        for k in v:
            vocab.setdefault(k, len(vocab))
    if not vocab:
        return []
    m = np.zeros((n, len(vocab)))
    for i, v in enumerate(vecs):
        for k, x in v.items():
            m[i, vocab[k]] = x
    head = np.zeros(len(vocab))
    for k, x in hv.items():
        head[vocab[k]] = head_weight * x
    gram = m @ m.T
    to_head = m @ head
    hh = float(head @ head)
    alive = np.ones(n, dtype=bool)
    found = []
    for _ in range(max_segments):
        pos = np.flatnonzero(alive)
        k = len(pos)
        if k < 4:
            break
        score = _run_scorer(gram[np.ix_(pos, pos)], to_head[pos], hh)
        best, where = ratio, None
        for length in range(1, min(k // 2, max_run) + 1):
            for s in range(0, k - length + 1):
                if length == 1 and 0 < s < k - 1:
                    continue
                if pos[s + length - 1] - pos[s] != length - 1:
                    continue  # runs do not bridge a run removed earlier
                sc = score(s, s + length)
                if sc < best:
                    best, where = sc, (s, s + length)
        if where is None:
            break
        a, b = int(pos[where[0]]), int(pos[where[1] - 1]) + 1
        alive[a:b] = False
        # Grow by neighbours that are themselves off-topic against what is left.
        while True:
            pos = np.flatnonzero(alive)
            if len(pos) < 3 or b - a >= k // 2:
                break
            score = _run_scorer(gram[np.ix_(pos, pos)], to_head[pos], hh)
            at = {int(p): j for j, p in enumerate(pos)}
            if a > 0 and alive[a - 1] and score(at[a - 1], at[a - 1] + 1) < ratio:
                a -= 1
                alive[a] = False
            elif b < n and alive[b] and score(at[b], at[b] + 1) < ratio:
                alive[b] = False
                b += 1
            else:
                break
        found.append((a, b))
    return sorted(found)
