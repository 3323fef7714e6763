"""Plain-text article cleaning: keep the article's paragraphs, drop the rest.

Used for text files, JSON records and feed summaries, and as the second pass
over the paragraphs trafilatura extracts from HTML. Every decision is made
from evidence that generalises beyond one site; the removed lines come back
with a reason so callers and tests can see why.

Rules, in the order they apply (reason in brackets):

1. Header: the headline is the first line that looks like one (at least three
   words, not a boilerplate label) before any paragraph of body text (over 40
   words); the short navigation crumbs above it are dropped [``nav``]. A line
   repeating the headline or an earlier paragraph is dropped [``repeated``].
   Lines without any letter or digit are separators [``separator``].
2. Boilerplate vocabulary on short or non-sentence lines: calls to action
   ("Leave a reply", "Subscribe", "Read more", "Back to top"), lists
   announcements ("Related articles", "Other news", "You may also like"),
   credit labels ("Source", "Contributor", "Photo:", "Translation by ..."),
   legal and comment-form footers ("Your email address will not be
   published", "All rights reserved", "Comments are closed")
   [``boilerplate``].
3. Digests: a label announcing other stories ("Other news", "Read also",
   "More headlines", ...) followed by bulleted items is a list of *other*
   stories even when they are on the same broad subject, so the label and its
   items go [``digest``]. Runs of three or more bulleted, headline-shaped items
   (no sentence punctuation) are lists of links [``link_list``].
4. Generated FAQ: a "FAQ"/"Frequently asked questions" label followed by
   Q:/A: pairs restates the article rather than reporting, so it is removed
   [``faq``]. Q:/A: lines without such a label (interviews) are kept.
5. Topical coherence [``off_topic``]. A block introduced by a label and split
   by separator lines whose paragraphs score far below the article's typical
   coherence with the headline and the rest of the text goes as a whole.
   Otherwise contiguous *runs* of paragraphs are scored as segments
   (:func:`off_topic_segments`): a run's summed topic vector (content-word
   stems; names count double, generic news words such as "year", "people",
   "government" count 0.3) is compared with the headline plus everything
   outside the run, relative to how well the rest of the text holds
   together. The least coherent run far below that level is another story
   glued on; it is grown by neighbours that are off-topic on their own, and
   the search repeats once. A single paragraph counts as a run only at the
   very start or end of the body (an aside inside the article is kept). In
   hard-wrapped text whose paragraph breaks were guessed, a paragraph split
   off at a guessed break is scored with the one before it, so the wrapping
   does not turn an aside into a run.
   Data lines (line-ups, results, fixtures) and lines under eight words are
   not scored; those between the paragraphs of a removed run go with it.
6. Shape: a line without sentence punctuation is kept as a subheading only
   when the next kept line is a prose paragraph; otherwise it is a caption,
   a name or a label [``caption``]. Non-sentence lines after the last prose
   paragraph (bylines, bios, credits) are a footer [``footer``]. Kept
   anyway: long lines with the function words of running text (a paragraph
   cut off at a link), data lines inside the article, data tables of two or
   more lines at its foot, and items of a bulleted list inside the article.

Language: the link-list, coherence and shape rules judge a line by English
function words or content-word stems and delete prose of other languages, so
they run only on English text (or text too short to tell); see
:func:`clean_paragraphs`.

Where the pieces live: the line vocabulary of rule 2 and the prose test in
``transforms.boilerplate``, the coherence scoring of rule 5 in
``transforms.coherence``, dateline finding in ``transforms.dates``; this
module applies the rules in order.

Deliberate choices for ambiguous content: an embedded social-media post that
the article reports (quoted lines plus its "— Name (@handle) date"
attribution) is kept, because it is the statement being reported; in-body
digests of other news are removed (rule 3); generated FAQs are removed
(rule 4); subheadings followed by their paragraph are kept (rule 6).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence

from newsbeam.transforms.boilerplate import (
    ALNUM,
    BODY_WORDS,
    BULLET,
    DIGEST_LABEL,
    SENTENCE_END,
    STOP,
    boilerplate_reason,
    is_prose,
    plausible_headline,
)
from newsbeam.transforms.coherence import coherence_scores, near_title, off_topic_segments
from newsbeam.transforms.language import english_rules_apply
from newsbeam.transforms.paragraphs import guessed_paragraphs
from newsbeam.transforms.text import letter_words, line_key

_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")

_QA = re.compile(r"^\s*(?:Q|A|Question|Answer)\s*[:.)-]\s*\S", re.I)
_FAQ_LABEL = re.compile(r"^\s*(?:FAQs?|Frequently asked questions|Questions and answers)\s*:?\s*$", re.I)


class Cleaned(NamedTuple):
    """Result of :func:`clean_text`: the headline (or None), the kept paragraphs
    in order, the removed lines as ``(line, reason)`` pairs, and every line in
    input order with its reason (None: kept)."""

    title: Optional[str]
    paragraphs: list
    removed: list
    decisions: tuple = ()


@dataclass
class _Line:
    text: str
    words: list = field(default_factory=list)
    reason: Optional[str] = None
    _prose: Optional[bool] = None
    guessed: bool = False  # the break before this line was guessed (see clean_paragraphs)

    @property
    def prose(self) -> bool:
        if self._prose is None:
            self._prose = is_prose(self.text)
        return self._prose

    @property
    def kept(self) -> bool:
        return self.reason is None


def _pick_headline(lines: list) -> tuple:
    """Index of the headline among ``lines`` (or None); the lines above it are nav.

    The search ends at the first paragraph of body text: crumbs are short, so a
    text that opens with a long paragraph has no header, and a short line after
    it ("Pocket published it in 1980.") is not a headline whose "nav" would be
    the article's first paragraphs. How many body paragraphs come before such a
    line depends on how the text was wrapped; this does not.
    """
    for i, ln in enumerate(lines[:6]):
        if plausible_headline(ln.text):
            return i
        if len(ln.words) > BODY_WORDS:
            return None
    return None


def clean_paragraphs(paragraphs: Sequence[str], headline: Optional[str] = None, *,
                     topical: bool = True, shape: bool = True, dedupe: bool = True,
                     link_lists: bool = True,
                     off_topic_ratio: float = 0.35, language: Optional[str] = None,
                     guessed: Optional[Sequence[bool]] = None) -> Cleaned:
    """Apply rules 1-6 (see module docstring) to paragraphs under a known headline.

    ``guessed`` (one per paragraph, from :func:`transforms.paragraphs.guessed_paragraphs`)
    marks paragraphs whose break from the one before was guessed: rule 5 judges
    such paragraphs together with the one before, as the text may have been
    one paragraph there.

    ``language`` (ISO 639-1, None when not known) decides which rules run.
    The rules that keep a line only when it reads like English (the link
    lists of rule 3 and the shape of rule 6 ask for English function words,
    the coherence of rule 5 compares English content-word stems) run only on
    English or undetermined text: on other languages they delete prose. The
    vocabulary rules (2-4) run on every language: they match whole short
    lines of English labels ("Filed under: ...", "Related articles"), which
    pages in other languages carry from their publishing software, and no
    line of another language.
    """
    english = english_rules_apply(language)
    # No-break and other typographic spaces read as spaces: the vocabulary rules
    # match "Other news", not "Other\u00a0news" (a change of form, not of text).
    guessed = guessed or [False] * len(paragraphs)
    lines = [_Line(p.strip(), letter_words(p), guessed=g)
             for p, g in zip((_SPACES.sub(" ", p) for p in paragraphs), guessed, strict=True)
             if p.strip()]
    seen = set()
    if headline:
        seen.add(line_key(headline))
    for ln in lines:
        key = line_key(ln.text)
        if not ALNUM.search(ln.text):
            ln.reason = "separator"
        elif key in seen and (dedupe or key == line_key(headline or "")):
            ln.reason = "repeated"
        elif near_title(ln.text, headline) and ln is lines[0]:
            ln.reason = "repeated"
        else:
            ln.reason = boilerplate_reason(ln.text, len(ln.words))
        if key:
            seen.add(key)
    _mark_lists(lines, link_lists and english)
    if topical and english:
        _mark_off_topic(lines, headline, off_topic_ratio)
    if shape and english:
        _mark_shape(lines)
    return Cleaned(headline, [ln.text for ln in lines if ln.kept],
                   [(ln.text, ln.reason) for ln in lines if not ln.kept],
                   tuple((ln.text, ln.reason) for ln in lines))


def _mark_lists(lines: list, link_lists: bool = True) -> None:
    n = len(lines)
    i = 0
    while i < n:
        ln = lines[i]
        # Rule 4: FAQ label with Q/A items.
        if _FAQ_LABEL.match(ln.text):
            j = i + 1
            while j < n and (_QA.match(lines[j].text) or not lines[j].kept):
                j += 1
            if j - i > 2:
                for k in range(i, j):
                    lines[k].reason = lines[k].reason or "faq"
                i = j
                continue
        # Rule 3: digest label followed by bulleted items.
        if DIGEST_LABEL.match(ln.text):
            j = i + 1
            items = 0
            while j < n and (BULLET.match(lines[j].text) or not ALNUM.search(lines[j].text)):
                items += bool(BULLET.match(lines[j].text))
                j += 1
            if items >= 2:
                for k in range(i, j):
                    lines[k].reason = lines[k].reason or "digest"
                i = j
                continue
        i += 1
    # Runs of headline-shaped bulleted items with no prose after them: lists
    # of links at the foot of the page (lists inside the article are kept).
    if not link_lists:
        return
    last_prose = max((k for k, ln in enumerate(lines) if ln.kept and ln.prose), default=-1)
    i = 0
    while i < n:
        j = i
        while j < n and BULLET.match(lines[j].text) and not SENTENCE_END.search(lines[j].text):
            j += 1
        if j - i >= 3 and j > last_prose:
            for k in range(i, j):
                lines[k].reason = lines[k].reason or "link_list"
        i = max(j, i + 1)


def _blocks(lines: list) -> list:
    """Blocks delimited by separator lines: [(start, end)] covering a label plus items.

    A block exists only where separators split the text; the label directly
    above the first separator belongs to it.
    """
    seps = [i for i, ln in enumerate(lines) if ln.reason == "separator"]
    if len(seps) < 2:
        return []
    start = seps[0]
    if start > 0 and not is_prose(lines[start - 1].text) and len(lines[start - 1].words) <= 5:
        start -= 1
    end = seps[-1] + 1
    # Items after the last separator up to a paragraph boundary belong too.
    if end < len(lines) and is_prose(lines[end].text):
        end += 1
    return [(start, end)]


def _mark_off_topic(lines: list, headline: Optional[str], ratio: float) -> None:
    idx = [i for i, ln in enumerate(lines) if ln.kept and len(ln.words) >= 8]
    if len(idx) < 4:
        return
    scores = coherence_scores([lines[i].text for i in idx], headline)
    med = statistics.median(scores)
    if med <= 0:
        return
    score_of = dict(zip(idx, scores))

    # Separator-delimited blocks with a low mean score go as a whole.
    for start, end in _blocks(lines):
        members = [i for i in range(start, end) if i in score_of]
        if members and statistics.mean(score_of[i] for i in members) < 0.6 * med:
            for k in range(start, end):
                lines[k].reason = lines[k].reason or "off_topic"

    # Runs of paragraphs about another story (short lines inside a run go with it).
    # Data lines (line-ups, results) share few words with any prose and are
    # left out of the comparison rather than judged by it.
    # A paragraph split off at a guessed break is judged with the one before:
    # how a text was wrapped must not decide what is an aside and what a run.
    idx = [i for i in idx if not is_data(lines[i].text)]
    units: list = []
    for i in idx:
        if units and lines[i].guessed and units[-1][-1] == i - 1:
            units[-1].append(i)
        else:
            units.append([i])
    texts = [" ".join(lines[i].text for i in unit) for unit in units]
    for s, e in off_topic_segments(texts, headline, ratio=ratio):
        start, end = units[s][0], units[e - 1][-1] + 1
        if start > 0 and lines[start - 1].kept and not lines[start - 1].prose and len(lines[start - 1].words) < 8:
            start -= 1
        for k in range(start, end):
            lines[k].reason = lines[k].reason or "off_topic"


_FIXTURE = re.compile(r"\b[A-Z][\w'.-]*\s+(?:v|vs\.?)\s+[A-Z]")


def is_data(line: str) -> bool:
    """A line of data rather than a caption or label: mostly names and numbers
    with list punctuation or figures (line-ups, scorers, results, fixtures,
    attendances, kick-off times)."""
    ws = letter_words(line)
    if not ws:
        return False
    names = sum(w[0].isupper() or w[0].isdigit() for w in ws) / len(ws)
    if names < 0.6:
        return False
    seps = line.count(",") + line.count(";")
    return seps >= 2 or any(ch.isdigit() for ch in line) or bool(_FIXTURE.search(line))


def _prose_like(ln: "_Line") -> bool:
    """A long line with the function words of running text, even without a
    sentence end (a paragraph cut off at a link, a standfirst)."""
    return len(ln.words) >= 12 and _stop_ratio(ln.words) >= 0.25


def _mark_shape(lines: list) -> None:
    kept = [i for i, ln in enumerate(lines) if ln.kept]
    prose = {i for i in kept if lines[i].prose or _prose_like(lines[i])}
    if not prose:
        return
    last_prose = max(prose)
    bullets = {i for i in kept if BULLET.match(lines[i].text)}
    footer_data = sum(1 for i in kept if i > last_prose and is_data(lines[i].text))
    for n, i in enumerate(kept):
        if i in prose or lines[i].reason:
            continue
        data = is_data(lines[i].text)
        if i > last_prose:
            # A table at the foot of a report (line-ups, results) is data, not a byline.
            if not (data and footer_data >= 2):
                lines[i].reason = "footer"
            continue
        if data:
            continue
        if i in bullets and ((n > 0 and kept[n - 1] in bullets) or
                             (n + 1 < len(kept) and kept[n + 1] in bullets)):
            continue  # an item of a list inside the article
        nxt = next((j for j in kept[n + 1:] if lines[j].kept), None)
        if nxt is None or not lines[nxt].prose or len(lines[i].words) > 15:
            # Long non-sentence lines followed by prose are still kept when they
            # carry function words (a standfirst without final punctuation).
            if nxt is not None and lines[nxt].prose and _stop_ratio(lines[i].words) >= 0.3:
                continue
            lines[i].reason = "caption"


def _stop_ratio(ws: list) -> float:
    return sum(w.lower() in STOP for w in ws) / len(ws) if ws else 0.0


def clean_text(text: str, headline: Optional[str] = None, *, topical: bool = True,
               language: Optional[str] = None) -> Cleaned:
    """Clean a plain-text article.

    ``text`` may have any line layout: one paragraph per line, blank lines
    between paragraphs, or hard-wrapped lines; :func:`transforms.paragraphs.paragraphs`
    reassembles the paragraphs before any rule looks at a line. Without a
    ``headline`` the first plausible headline paragraph (or a first paragraph
    set in capitals) is taken as the title and the crumbs above it are
    removed as ``nav``.
    """
    raw_lines = [_Line(p, letter_words(p), guessed=g) for p, g in guessed_paragraphs(text)]
    removed = []
    if headline is None:
        h = _pick_headline(raw_lines)
        # A headline set in capitals (wire copy) reads as a shouting teaser to
        # the line rules; as the text's first line it is still the headline.
        if h != 0 and raw_lines and raw_lines[0].text.isupper() \
                and plausible_headline(raw_lines[0].text.capitalize()):
            h = 0
        if h is not None:
            headline = raw_lines[h].text
            removed += [(ln.text, "nav") for ln in raw_lines[:h]]
            raw_lines = raw_lines[h + 1:]
    out = clean_paragraphs([ln.text for ln in raw_lines], headline, topical=topical, language=language,
                           guessed=[ln.guessed for ln in raw_lines])
    return Cleaned(headline, out.paragraphs, removed + out.removed, tuple(removed) + out.decisions)


