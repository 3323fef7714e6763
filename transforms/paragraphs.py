"""Paragraphs of a plain text in any line layout.

The line rules of ``transforms.clean_text`` judge *paragraphs*: a short line
without a sentence end is a caption, a label or a footer. Hard-wrapped text
(wire copy, e-mail newsletters, old archives) cuts every paragraph into
lines of ~70 columns, and each cut-off fragment would be judged, and mostly
dropped, on its own. :func:`paragraphs` undoes the wrapping first.

Layouts handled: one paragraph per line (left as it is), blank lines between
paragraphs, hard wraps at any width, with blank lines, single newlines or
indented first lines between paragraphs; CRLF, CR and Unicode line breaks;
trailing spaces, tabs and soft hyphens.

How lines are joined. A text counts as hard-wrapped only when its lines
cluster just below one width and most of those lines end mid-sentence (see
:func:`wrap_width`); text with one paragraph per line ends its lines with
sentence punctuation at any length, so it is never rewrapped. In wrapped text
a line continues onto the next one only when it is *full*: the next line's
first word would not have fitted on it, which is the very reason a wrapper
breaks a line. A short line (a headline, a subheading, a byline, the end of a
paragraph) is not full and so stays a paragraph of its own, and so do a
bulleted item and an indented first line. Where blank lines or indents mark
the paragraphs, that is all. Without them, a full line that ends a sentence
may still end a paragraph, and nothing at that break tells: headlines and
labels are told by their words (Title Case, capitals, a sentence-opening
"The" after a line without a sentence end), and for the rest the text's own
sentences per paragraph decide (:func:`_stops_end_paragraphs`). That layout
(hard wraps, single newlines, no indents) is the one where paragraphs can
still come out joined or split.

Words hyphenated at a line break ("inter-" / "national") are joined without
a space. The hyphen is kept, because wrapping tools only break at hyphens
that are part of the text ("well-" / "known"); it is dropped only when the
unhyphenated word occurs elsewhere in the same text, the hyphenated one does
not, and the two parts are not both words of the text themselves ("pay-off"
stays even where "payoff" occurs): typeset text that hyphenated a word to fit
the line. No word list is consulted, so nothing outside the text decides.
"""

from __future__ import annotations

import collections
import itertools
import re
from typing import NamedTuple

from newsbeam.transforms.boilerplate import ALNUM, BULLET, SENTENCE_END, STOP
from newsbeam.transforms.text import joins_without_space

# A short line ending in a spaced dash is a dateline whose paragraph goes on
# below it ("LONDON (Reuters) -").
_OPEN_DASH = re.compile(r"\w\S*\s+[-\u2013\u2014]$")
# A letter, a hyphen, end of line: a word cut at a hyphen.
_CUT_WORD = re.compile(r"([^\W\d_]+)-$")
_CUT_LINE = re.compile(r"[^\W\d_]-[ \t]*$", re.MULTILINE)
# What a wrapper would have tried to fit: the next word, or its part up to a
# hyphen between two letters each side ("well-known"), where wrappers also break.
_FIRST_CHUNK = re.compile(r"[^ \t]*?(?:[^\W\d_]{2}-(?=[^\W\d_]{2})|(?=[ \t])|$)")
# Dash bullets and numbers also begin wrapped lines of running text ("... said
# the minister\n- a claim ..."), so they start an item only after a line that
# is not full or that ends a sentence.
_WEAK_BULLET = re.compile(r"^\s*(?:[-\u2013\u2014]|\d{1,2}[.)])\s+")
# A sentence end; not after a capital, which is an initial or abbreviation ("U.S.").
_FULL_STOP = re.compile(r"""(?<![A-Z])[.!?\u2026]["'\u201d\u2019\u00bb)\]]*$""")
_NEW_SENTENCE = re.compile(r"""\s*["'\u201c\u2018(]*[A-Z0-9]""")
_INNER_STOP = re.compile(r"""(?<![A-Z])[.!?\u2026]["'\u201d\u2019)]*\s+["'\u201c\u2018(]*[A-Z0-9]""")
# Greedy wrappers leave at most about one word of room at the end of a full line.
_WORD_ROOM = 12


class _Layout(NamedTuple):
    width: int        # the wrap width, 0 when not hard-wrapped
    margin: int       # indent of most lines; deeper ones begin paragraphs
    blank: bool       # blank lines separate the paragraphs
    guess: bool       # neither blank lines nor indents: breaks at full lines are guessed
    stops_end: bool   # see _stops_end_paragraphs


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``, in order, each stripped and on one line.

    Soft hyphens (U+00AD) are removed: they are invisible and only split words.
    A text that is not hard-wrapped comes back one paragraph per non-blank line.
    """
    return [p for p, _ in guessed_paragraphs(text)]


def guessed_paragraphs(text: str) -> list[tuple[str, bool]]:
    """:func:`paragraphs` with, for each, whether the break before it was
    guessed: it falls after a full line and nothing in the layout marks it, so
    it may as well not be there (see :func:`_stops_end_paragraphs`)."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():  # every line break: CRLF, CR, U+2028, ...
        if line.replace("\u00ad", "").strip():
            blocks[-1].append(line.expandtabs(8).rstrip())
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if not blocks:
        return []
    layout = _layout(blocks)
    # The words of the text, for words cut at a line-end hyphen (see _attested).
    vocab = set(re.findall(r"[\w-]+", text.casefold())) if _CUT_LINE.search(text) else set()
    out = []
    for block in blocks:
        current, guessed = [block[0]], False
        for i in range(1, len(block)):
            prev, line = block[i - 1], block[i]
            if _continues(prev, line, block[i + 1:i + 2], current[0], layout):
                current.append(line)
            else:
                out.append((_join(current, vocab), guessed))
                current = [line]
                guessed = (layout.guess and bool(layout.width) and _full(prev, line, layout.width)
                           and not BULLET.match(line))
        out.append((_join(current, vocab), guessed))
    return [(p, g) for p, g in out if p]


def _layout(blocks: list[list[str]]) -> _Layout:
    width = wrap_width(blocks)
    pairs = [(a, b) for blk in blocks for a, b in itertools.pairwise(blk)]
    margin = collections.Counter(_indent(ln) for blk in blocks for ln in blk).most_common(1)[0][0]
    # Blank lines, where they are used, carry the structure: inside a block
    # only a line short of the width ends a paragraph. Without them, breaks at
    # full lines are guessed, unless indented first lines mark the paragraphs.
    short = sum(1 for a, b in pairs if width and not _full(a, b, width))
    blank = len(blocks) >= 3 and short <= len(blocks)
    if blank and not width and pairs:
        # Too few wrapped lines to tell a width by their count, but blank
        # lines mark the paragraphs: the longest line cut inside a block is it.
        width = max(len(a.lstrip()) for a, _ in pairs)
    guess = not blank and not any(_indent(b) > margin for _, b in pairs)
    stops_end = guess and width > 0 and _stops_end_paragraphs(blocks, width)
    return _Layout(width, margin, blank, guess, stops_end)


def wrap_width(blocks: list[list[str]]) -> int:
    """The width the lines of ``blocks`` are hard-wrapped at, or 0 when they are not wrapped.

    Evidence for wrapping: many lines end within a word's length of one width,
    most of them mid-sentence, and the lines after them mostly go on in lower
    case; no line with a space runs far past the width (a wrapper would have
    broken it there). Lists, tables and one-paragraph-per-line text fail at
    least one of these.
    """
    lines = [ln for b in blocks for ln in b]
    # Only a line followed by another in its block can have been wrapped; the
    # last lines of blank-line-separated paragraphs, and rows set apart by blank
    # lines, say nothing about the width.
    pairs = [(ln, nxt) for b in blocks for ln, nxt in itertools.pairwise(b)]
    if len(pairs) < 3:
        return 0
    # Indents are left out: a first-line indent may be added outside the width.
    lengths = sorted(len(ln.lstrip()) for ln, _ in pairs)
    # The 90th percentile, not the maximum: an unbreakable URL may overrun the width.
    width = lengths[int(0.9 * (len(lengths) - 1))]
    near = [(ln, nxt) for ln, nxt in pairs if len(ln.lstrip()) >= width - _WORD_ROOM]
    open_ended = sum(1 for ln, _ in near if not SENTENCE_END.search(ln))
    # (Chinese and Japanese have no case: a line going on in their script counts.)
    lower = sum(1 for ln, nxt in near if nxt.lstrip()[:1].islower() or joins_without_space(ln, nxt.lstrip()))
    overlong = sum(1 for ln in lines if len(ln.strip()) > width + _WORD_ROOM and " " in ln.strip())
    if (len(near) >= 3 and len(near) >= 0.25 * len(pairs) and open_ended >= 0.5 * len(near)
            and lower >= 0.2 * len(near) and overlong <= len(lines) // 50):
        return width
    return 0


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _stops_end_paragraphs(blocks: list[list[str]], width: int) -> bool:
    """Whether a full line that ends a sentence, followed by a new sentence,
    more likely ends a paragraph than goes on with it.

    Nothing at that line break tells, but the text does on average: a sentence
    inside a paragraph ends at a line break as often as at any other gap
    between words, so the sentence ends seen inside lines, per gap, estimate
    how many of the ambiguous breaks are inside paragraphs; the rest end one.
    Texts of one- or two-sentence paragraphs (news) come out breaking there,
    texts of long paragraphs joining.
    """
    gaps = inner = full = ambiguous = 0
    for b in blocks:
        for prev, line in itertools.pairwise(b):
            if _full(prev, line, width):
                full += 1
                ambiguous += bool(_FULL_STOP.search(prev) and _NEW_SENTENCE.match(line))
        for ln in b[:-1] if len(b) > 1 else []:
            gaps += len(ln.split()) - 1
            inner += len(_INNER_STOP.findall(ln))
    return ambiguous > 0 and inner / max(gaps, 1) * full < ambiguous / 2


def _title_case(line: str) -> bool:
    """A line in Title Case, where capitalised function words go on the line."""
    ws = re.findall(r"[^\W\d_]+", line)
    return len(ws) >= 3 and sum(w[0].isupper() for w in ws) >= 0.6 * len(ws)


def _sentence_start(line: str) -> bool:
    """Whether ``line`` opens with a capitalised function word ("The", "After"):
    inside a sentence these are lower-case ("I" aside)."""
    m = re.match(r"\W*([^\W\d_]+)", line.replace("\u00ad", ""))
    w = m.group(1) if m else ""
    return len(w) > 1 and w[0].isupper() and w[1:].islower() and w.lower() in STOP


def _full(line: str, nxt: str, width: int) -> bool:
    """Whether the first word of ``nxt`` would not have fitted on ``line``."""
    # Text without spaces between words (Chinese, Japanese) wraps at any character.
    chunk = nxt.lstrip()[:1] if joins_without_space(line, nxt.lstrip()) else _FIRST_CHUNK.match(nxt.lstrip()).group()
    # The space is counted even after a hyphen: "cheese-" / "or" may have had one.
    return len(line) + 1 + len(chunk) > width


def _continues(prev: str, line: str, after: list, first: str, layout: _Layout) -> bool:
    """Whether ``line`` goes on the paragraph that ``prev`` ends (``first`` began
    it; ``after`` holds the line after ``line``, if any)."""
    width = layout.width
    if not ALNUM.search(line) or not ALNUM.search(prev):
        return False  # separator lines stand alone
    if line.strip() == prev.strip():
        return False  # a repeated line (a headline printed twice)
    if (_OPEN_DASH.search(prev) and len(prev.split()) <= 8 and not BULLET.match(line)
            and _indent(line) <= layout.margin):
        return True
    if not width or not _full(prev, line, width):
        return False
    if BULLET.match(line) and (not _WEAK_BULLET.match(line) or SENTENCE_END.search(prev)):
        return False
    # An indented first line begins a paragraph; a line aligned with the text
    # of a bullet above it is that item's hanging indent.
    item = BULLET.match(first)
    if _indent(line) > layout.margin and not (item and _indent(line) == item.end()):
        return False
    if not layout.guess:
        return True
    if _FULL_STOP.search(prev):
        if (line.lstrip()[:1].isupper() and not SENTENCE_END.search(line)
                and not (after and _full(line, after[0], width))):
            return False  # a sentence, then a short capitalised fragment: a heading or a label
        return not (layout.stops_end and _NEW_SENTENCE.match(line))
    if prev.isupper() and not line.isupper():
        return False  # a heading in capitals
    # A line without a sentence end (a headline), then a new sentence.
    # (In a Title Case headline the next line may go on in Title Case, and a
    # dash after a full line is running text: "... in Europe" / "— It will".)
    return not (_sentence_start(line) and prev[-1:].isalnum()
                and prev.split()[-1].lower() not in STOP
                and not (_title_case(prev) and _title_case(line)) and not _WEAK_BULLET.match(line))


def _join(lines: list[str], vocab: set) -> str:
    out = lines[0].strip()
    for line in lines[1:]:
        line = line.strip()
        cut = _CUT_WORD.search(out)
        if out.endswith("\u00ad"):
            out += line  # broken at a soft hyphen: the word goes on
        elif cut and line[:1].isalpha():
            head = cut.group(1)
            tail = re.match(r"\w+", line).group()
            if _attested(head, tail, vocab):
                out = out[:-1]
            out += line
        elif joins_without_space(out, line):
            out += line  # Chinese or Japanese: no spaces between words
        else:
            out += " " + line
    # Soft hyphens are invisible; they were kept this far because naive wrappers count them.
    return out.replace("\u00ad", "").strip()


def _attested(head: str, tail: str, vocab: set) -> bool:
    """Whether ``head`` + ``tail``, cut at a line-end hyphen, is one word: the
    text (``vocab``: its runs of word characters and hyphens, casefolded)
    writes it whole elsewhere, never hyphenated, and its parts are not both
    words of their own ("pay-off" stays: "pay" and "off" are words)."""
    head, tail = head.casefold(), tail.casefold()
    return (head + tail in vocab and f"{head}-{tail}" not in vocab
            and not (head in vocab and tail in vocab))
