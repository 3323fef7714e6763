"""Scoring of the article-extraction benchmark (scrapinghub/article-extraction-benchmark).

Re-implemented from the benchmark's description: each text is tokenised into
``\\w+`` tokens, turned into a multiset of 4-token shingles, and compared with
the ground truth as true/false positives and negatives. The three counts are
normalised per page so that long articles do not weigh more. Precision is
averaged over the pages where the extractor produced shingles, recall over the
pages with a ground truth, and F1 is computed from the two averages.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Iterable, NamedTuple

_WORD = re.compile(r"\w+")


class Counts(NamedTuple):
    tp: float
    fp: float
    fn: float


class Scores(NamedTuple):
    f1: float
    precision: float
    recall: float


def shingles(text: str | None, n: int = 4) -> Counter:
    tokens = _WORD.findall(text or "")
    # A text shorter than n tokens still yields one (short) shingle, as upstream.
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_counts(true: str | None, pred: str | None, n: int = 4) -> Counts:
    want, got = shingles(true, n), shingles(pred, n)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    if total:
        return Counts(tp / total, fp / total, fn / total)
    return Counts(0.0, 0.0, 0.0)


def _precision(c: Counts) -> float:
    if c.fp == 0 and c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def _recall(c: Counts) -> float:
    if c.fp == 0 and c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def aggregate(counts: Iterable[Counts]) -> Scores:
    counts = list(counts)
    with_output = [_precision(c) for c in counts if c.tp + c.fp > 0]
    with_truth = [_recall(c) for c in counts if c.tp + c.fn > 0]
    p = statistics.mean(with_output) if with_output else 0.0
    r = statistics.mean(with_truth) if with_truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(f1, p, r)
