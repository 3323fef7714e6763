"""Changes of form that leave an article's words alone, and how to score a
cleaner's invariance to them (shared by ``benchmarks.invariance`` and
``tests/transforms/test_invariance.py``).

An article is a headline and its paragraphs; :func:`as_written` lays it out
one paragraph per line, and every form in :data:`FORMS` lays out the same
words another way (rewrapped, CRLF, re-typeset, ...). Scores compare the
cleaned output of a form with the cleaned output of the text as written,
word for word modulo the form (case, quotes, spaces, the added dateline).
"""

from __future__ import annotations

import collections
import random
import re
import textwrap
import unicodedata
from collections.abc import Callable, Sequence

DATELINE = "LONDON (Reuters) - "
_DATELINE_RE = re.compile(r"^LONDON \(Reuters\) - ")
_TO_STRAIGHT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_WORD = re.compile(r"[^\W_]+")


def as_written(title: str, paras: Sequence[str]) -> str:
    return "\n".join([title, *paras])


def hard_wrap(text: str, width: int) -> str:
    # Wrappers break at spaces and after hyphens, never inside a word.
    return textwrap.fill(text, width, break_long_words=False)


def typographic(text: str) -> str:
    text = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    return re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)


def soft_hyphens(rng: random.Random, text: str) -> str:
    def cut(m: re.Match) -> str:
        w = m.group()
        if rng.random() < 0.3:
            i = rng.randrange(2, len(w) - 1)
            return w[:i] + "\u00ad" + w[i:]
        return w
    return re.sub(r"[^\W\d_]{5,}", cut, text)


def _indent(rng: random.Random) -> str:
    return rng.choice(("  ", "    ", "     ", "\t"))


def _wrapped(rng, title, paras, width=None, sep="\n\n", indent=False):
    width = width or rng.randint(40, 100)
    return sep.join([hard_wrap(title, width)] +
                    [(_indent(rng) if indent else "") + hard_wrap(p, width) for p in paras])


def _dateline(paras: Sequence[str]) -> list[str]:
    """The dateline goes before the lede: the first paragraph of eight words or more."""
    out = list(paras)
    i = next((k for k, p in enumerate(out) if len(p.split()) >= 8), None)
    if i is not None:
        out[i] = DATELINE + out[i]
    return out


Form = Callable[[random.Random, str, Sequence[str]], str]

FORMS: dict[str, Form] = {
    "as written": lambda rng, t, ps: as_written(t, ps),
    "blank lines between": lambda rng, t, ps: "\n\n".join([t, *ps]),
    "CRLF": lambda rng, t, ps: as_written(t, ps).replace("\n", "\r\n"),
    "CR": lambda rng, t, ps: as_written(t, ps).replace("\n", "\r"),
    "wrap 40-100, blank lines": lambda rng, t, ps: _wrapped(rng, t, ps),
    "wrap 40-100, single newline": lambda rng, t, ps: _wrapped(rng, t, ps, sep="\n"),
    "wrap 70, CRLF": lambda rng, t, ps: _wrapped(rng, t, ps, 70).replace("\n", "\r\n"),
    "wrap 40-100, indented, single newline": lambda rng, t, ps: _wrapped(rng, t, ps, sep="\n", indent=True),
    "indented first lines": lambda rng, t, ps: "\n".join([t] + [_indent(rng) + p for p in ps]),
    "trailing spaces": lambda rng, t, ps: "\n".join(
        ln + rng.choice((" ", "  ", "\t", " \t ")) for ln in as_written(t, ps).split("\n")),
    "NBSP for some spaces": lambda rng, t, ps: re.sub(
        " ", lambda m: "\u00a0" if rng.random() < 0.2 else " ", as_written(t, ps)),
    "straight -> typographic quotes": lambda rng, t, ps: typographic(as_written(t, ps)),
    "typographic -> straight quotes": lambda rng, t, ps: as_written(t, ps).translate(_TO_STRAIGHT),
    "soft hyphens in words": lambda rng, t, ps: soft_hyphens(rng, as_written(t, ps)),
    "dateline prefix": lambda rng, t, ps: as_written(t, _dateline(ps)),
    "all-caps headline": lambda rng, t, ps: as_written(t.upper(), ps),
    "wrap 70 + re-typeset": lambda rng, t, ps: _wrapped(
        rng, t, [soft_hyphens(rng, typographic(p)).replace(", ", ",\u00a0") for p in ps], 70, indent=True),
}


def words(text: str) -> list[str]:
    """Words modulo form: NFKC, quotes, soft hyphens and case do not count."""
    text = unicodedata.normalize("NFKC", text.replace("\u00ad", "")).translate(_TO_STRAIGHT)
    return [w.casefold() for w in _WORD.findall(text)]


def _units(title, paras) -> list[tuple]:
    return [tuple(words(_DATELINE_RE.sub("", title or "")))] + [tuple(words(_DATELINE_RE.sub("", p))) for p in paras]


def score(base, other) -> tuple[int, int, int, int]:
    """(words of ``base`` kept in ``other``, words of ``base``, paragraphs restored,
    paragraphs of the larger output) for two ``Cleaned`` results; the title counts
    as a paragraph and a leading dateline is ignored."""
    b, o = _units(base.title, base.paragraphs), _units(other.title, other.paragraphs)
    bw = collections.Counter(w for u in b for w in u)
    ow = collections.Counter(w for u in o for w in u)
    restored = sum((collections.Counter(b) & collections.Counter(o)).values())
    return sum((bw & ow).values()), sum(bw.values()), restored, max(len(b), len(o))
