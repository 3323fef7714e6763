"""Strings shared by the stages: hygiene, and the word tokenisers (one per
meaning; no stage splits words with a regex of its own)."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional, overload

import regex

_SURROGATE = re.compile(r"[\ud800-\udfff]")


@overload
def clean_str(value: str) -> str: ...
@overload
def clean_str(value: None) -> None: ...


def clean_str(value: Optional[str]) -> Optional[str]:
    """``value`` with every surrogate code point replaced by U+FFFD (None stays None).

    A Python string can hold surrogates that no UTF-8 encoder accepts: JSON's
    ``"\\ud800"`` parses to one, and ``os.fsdecode`` turns each byte of a file
    name that is not UTF-8 into one (U+DC80..U+DCFF). Beam's coders and Arrow
    encode strict UTF-8 and would fail on them stages later, so strings are
    cleaned where they enter the pipeline. Any other string comes back equal,
    so ids derived from ordinary text do not change.
    """
    return None if value is None else _SURROGATE.sub("\ufffd", value)


# Scripts written without spaces between words, by their Unicode script
# property: Han, Hiragana, Katakana (with the prolonged sound mark, which is
# "Common"), Bopomofo, Thai, Lao, Khmer and Myanmar. Their text is counted by
# the length of its runs of these characters, not by whitespace tokens (a
# Chinese paragraph has none). Hangul is not here: Korean separates its words
# with spaces.
_UNSPACED_CHARS = (r"\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\u30fc\p{sc=Bopomofo}"
                   r"\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}")
_UNSPACED_RUN = regex.compile(f"[{_UNSPACED_CHARS}]+")
# Characters per word unit in those runs. In news sentences segmented by hand
# (tests/transforms/test_text.py) Chinese words average 1.7-1.9 characters and
# Japanese short-unit words 1.5, so a run of N characters counts ceil(N / 2)
# words: 78-100% of the real count, where one word per character would give
# 150-190% (as Unicode's default word boundaries, UAX #29, would for Han and
# Hiragana). A 20-word minimum thus asks for about 40 characters, a sentence
# or two. Thai, Lao, Khmer and Myanmar words are longer in code points, so
# their count errs high; it only decides length limits and ``word_count``.
_CHARS_PER_UNIT = 2

_WORDISH = regex.compile(rf"[\w{_UNSPACED_CHARS}]+")
# Letters with inner apostrophes ("don't", "l’eau"), or a number with its unit;
# in unspaced scripts, word units of _CHARS_PER_UNIT characters.
_LETTER_WORD = regex.compile(
    rf"[{_UNSPACED_CHARS}]{{1,{_CHARS_PER_UNIT}}}"
    rf"|[^\W\d_{_UNSPACED_CHARS}]+(?:['’][^\W\d_{_UNSPACED_CHARS}]+)*|\d+[^\W{_UNSPACED_CHARS}]*")
# For near-duplicate shingles: inner apostrophes, dots and commas stay in the
# token ("3.5", "10,000"), so punctuation and spacing never change a token.
_SHINGLE_TOKEN = re.compile(r"\w+(?:['.,]\w+)*")


def _units(token: str) -> int:
    """Words in one whitespace-free token: 1 when it has a letter or digit, but
    runs of an unspaced script count ceil(N / _CHARS_PER_UNIT) each, and each
    stretch of other letters or digits between them one more ("iPhone发布会": 3)."""
    if not _UNSPACED_RUN.search(token):
        return 1 if _WORDISH.search(token) else 0
    runs = sum(-(-len(run) // _CHARS_PER_UNIT) for run in _UNSPACED_RUN.findall(token))
    return runs + sum(1 for piece in _UNSPACED_RUN.split(token) if _WORDISH.search(piece))


# A character of those scripts, or CJK punctuation and full-width forms.
_UNSPACED_EDGE = regex.compile(rf"[{_UNSPACED_CHARS}\u3000-\u303f\uff00-\uffef]")


def joins_without_space(before: str, after: str) -> bool:
    """Whether a line ending in ``before`` and one starting with ``after`` are
    joined with no space between them (Chinese, Japanese, Thai wrapped lines)."""
    return bool(before and after and _UNSPACED_EDGE.fullmatch(before[-1]) and _UNSPACED_EDGE.fullmatch(after[0]))


def word_count(text: str) -> int:
    """Whitespace-separated tokens with a letter or digit: "U.S." and "don't" are one
    word each, a lone dash is none. Text in scripts written without spaces
    (Chinese, Japanese, Thai, ...) counts one word per two characters of each run
    of that script, so "新闻发布会" is three words."""
    return sum(_units(token) for token in text.split())


def has_words(text: str, at_least: int) -> bool:
    """Whether ``text`` holds ``at_least`` runs of letters or digits (runs of an
    unspaced script counted as in :func:`word_count`)."""
    n = 0
    for m in _WORDISH.finditer(text):
        n += _units(m.group())
        if n >= at_least:
            return True
    return at_least <= 0


def letter_words(line: str) -> list[str]:
    """The words of a line as the line rules see them (letters, or a number and
    its unit; in unspaced scripts, pieces of two characters, so a line of
    Chinese has as many words as :func:`word_count` says)."""
    return _LETTER_WORD.findall(line)


def line_key(line: str) -> str:
    """A line's lowercased words: equal for lines that differ only in case,
    punctuation or spacing (repeated headlines, boilerplate). Unspaced scripts
    are keyed character by character, so "你好，世界" and "你好世界" are the same line."""
    line = _UNSPACED_RUN.sub(lambda m: " ".join(m.group()), unicodedata.normalize("NFKC", line))
    return " ".join(w.lower() for w in letter_words(line))


def shingle_tokens(canonical: str) -> list[str]:
    """The tokens of a canonical body (``dedup_core.normalise``) that shingles are made of.

    In unspaced scripts each character is a token, so shingles there are
    character n-grams: a Chinese sentence would otherwise be one token, and two
    copies differing by one character would share no shingle in it."""
    if _UNSPACED_RUN.search(canonical):
        canonical = _UNSPACED_RUN.sub(lambda m: " " + " ".join(m.group()) + " ", canonical)
    return _SHINGLE_TOKEN.findall(canonical)
