"""Strings shared by the stages: hygiene, and the word tokenisers (one per
meaning; no stage splits words with a regex of its own)."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional, overload

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


_WORDISH = re.compile(r"\w+")
# Letters with inner apostrophes ("don't", "l’eau"), or a number with its unit.
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+\w*")
# For near-duplicate shingles: inner apostrophes, dots and commas stay in the
# token ("3.5", "10,000"), so punctuation and spacing never change a token.
_SHINGLE_TOKEN = re.compile(r"\w+(?:['.,]\w+)*")


def word_count(text: str) -> int:
    """Whitespace-separated tokens with a letter or digit: "U.S." and "don't" are one
    word each, a lone dash is none."""
    return sum(1 for token in text.split() if _WORDISH.search(token))


def has_words(text: str, at_least: int) -> bool:
    """Whether ``text`` holds ``at_least`` runs of letters or digits."""
    return sum(1 for _ in zip(range(at_least), _WORDISH.finditer(text))) >= at_least


def letter_words(line: str) -> list[str]:
    """The words of a line as the line rules see them (letters, or a number and its unit)."""
    return _LETTER_WORD.findall(line)


def line_key(line: str) -> str:
    """A line's lowercased words: equal for lines that differ only in case,
    punctuation or spacing (repeated headlines, boilerplate)."""
    return " ".join(w.lower() for w in letter_words(unicodedata.normalize("NFKC", line)))


def shingle_tokens(canonical: str) -> list[str]:
    """The tokens of a canonical body (``dedup_core.normalise``) that shingles are made of."""
    return _SHINGLE_TOKEN.findall(canonical)
