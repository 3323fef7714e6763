"""Plain-text article cleaning: keep the article's paragraphs, drop the rest.

Used for text files, JSON records and feed summaries, and as the second pass
over the paragraphs trafilatura extracts from HTML. Every decision is made
from evidence that generalises beyond one site; the removed lines come back
with a reason so callers and tests can see why.

Rules, in the order they apply (reason in brackets):

1. Header: the headline is the first line that looks like one (at least three
   words, not a boilerplate label); the short navigation crumbs above it are
   dropped [``nav``]. A line repeating the headline or an earlier paragraph is
   dropped [``repeated``]. Lines without any letter or digit are separators
   [``separator``].
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
   very start or end of the body (an aside inside the article is kept).
   Data lines (line-ups, results, fixtures) and lines under eight words are
   not scored; those between the paragraphs of a removed run go with it.
6. Shape: a line without sentence punctuation is kept as a subheading only
   when the next kept line is a prose paragraph; otherwise it is a caption,
   a name or a label [``caption``]. Non-sentence lines after the last prose
   paragraph (bylines, bios, credits) are a footer [``footer``]. Kept
   anyway: long lines with the function words of running text (a paragraph
   cut off at a link), data lines inside the article, data tables of two or
   more lines at its foot, and items of a bulleted list inside the article.

Deliberate choices for ambiguous content: an embedded social-media post that
the article reports (quoted lines plus its "— Name (@handle) date"
attribution) is kept, because it is the statement being reported; in-body
digests of other news are removed (rule 3); generated FAQs are removed
(rule 4); subheadings followed by their paragraph are kept (rule 6).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from math import sqrt
from typing import NamedTuple, Optional, Sequence

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from newsbeam.transforms.text import letter_words, line_key

_ALNUM = re.compile(r"\w")
_SENTENCE_END = re.compile(r"""[.!?…:;]["'”’»)\]]*\s*$|[.!?]\s*\(.*\)\s*$""")
_BULLET = re.compile(r"^\s*(?:[-–—•·*⇒→►▶▸▪●○◦»>✓✔]|\d{1,2}[.)])\s+")
_QA = re.compile(r"^\s*(?:Q|A|Question|Answer)\s*[:.)-]\s*\S", re.I)
_FAQ_LABEL = re.compile(r"^\s*(?:FAQs?|Frequently asked questions|Questions and answers)\s*:?\s*$", re.I)

# Short-line boilerplate: calls to action, announcements of other content,
# credits and form labels. Applied only to lines that are short or not shaped
# like a sentence, so article prose using the same words is safe.
_LABEL_PATTERNS = [
    r"(?:leave|post|add|write|submit|cancel) (?:a |your )?(?:reply|comment|review|response)",
    r"(?:related|recommended|suggested|popular|trending|latest|more|other|top|further|similar|featured)"
    r" (?:articles?|stories|story|posts?|news|reads?|reading|headlines|videos?|links?|coverage|content)",
    r"(?:in )?other news", r"(?:you|we) (?:may|might|will) (?:also )?(?:like|enjoy|love)",
    r"(?:read|see|watch|show|load|view|click|tap) (?:more|also|next|full|here|all|comments?|the full)",
    r"(?:also read|read also|see also|don'?t miss|must read|editor'?s picks?|most read|most popular)",
    r"(?:share|tweet|email|print|follow us|follow|subscribe|sign up|sign in|log ?in|register|download)"
    r"(?: (?:this|on|to|now|for|our|the|with|up|in)\b.*)?",
    r"advertisement|sponsored(?: content)?|ad|promoted|skip (?:to )?(?:main )?content|jump to.*",
    r"back to (?:top|home)(?: button)?|scroll to top|top of page",
    r"(?:sources?|contributors?|credits?|photos?|images?|pictures?|illustrations?|video|graphics?|"
    r"editor|editing|edited by|written by|words by|reporting by|additional reporting.*|"
    r"translation|translated by|translator)(?:\s*(?:by|:|-|–)\s*.*|\s+by\b.*)?",
    r"tags?\s*:.*|topics?\s*:.*|categor(?:y|ies)\s*:.*|filed under.*",
    r"\d+\s+(?:comments?|thoughts|responses|replies|shares)\b.*",
    r"comments?(?: are closed| \(\d+\))?|view comments|no comments(?: yet)?|join the (?:conversation|discussion)",
    r"(?:get|download) (?:the|our) .* app\b.*",
    r"(?:thanks|thank you) for (?:signing up|subscribing|reading)\b.*",
    r"(?:sorry!?|oops!?)",
    r"(?:related|see more|read more|more|also read|read also|watch|listen|recommended|most read|"
    r"related coverage|further reading|trending|popular)\b\s*(?::|in\b).*",
]
_LABEL_RE = re.compile(r"^\W*(?:" + "|".join(_LABEL_PATTERNS) + r")\W*$", re.I)
# Footer phrases distinctive enough to match anywhere in a line.
_LEGAL_RE = re.compile(
    r"your email address will not be published|required fields are marked|all rights reserved|"
    r"^\W*(?:©|copyright\b)|this material may not be published|"
    r"(?:sign up|subscribe) (?:for|to) (?:our|the) .*newsletter|"
    r"we use cookies|by continuing to (?:browse|use)|privacy policy|terms of (?:use|service)",
    re.I,
)
# Imperatives addressed to the reader: "Get the latest ...", "Follow him on ...".
_CALL_TO_ACTION = re.compile(
    r"^\W*(?:get (?:the|our|access|\w+ on the go)|sign up|subscribe|join (?:our|us|the)|keep an eye on|"
    r"download|follow (?:us|him|her|them|\w+) on|listen (?:to|live|back)|watch (?:the|our|live)|"
    r"tap here|have a (?:tip|story)|send us|tell us|share (?:this|your)|like us on|"
    r"don'?t miss|never miss|want more)\b",
    re.I,
)
_CONTACT = re.compile(r"\b(?:may|can) be reached at\b|"
                      r"\bfollow (?:[\w@.]+ ){1,3}?on (?:twitter|facebook|instagram|x|threads|bluesky|linkedin|youtube)\b",
                      re.I)
# A line that is only a URL or only a timestamp: page metadata, not text.
_METADATA = re.compile(r"^\s*(?:(?:https?://|www\.)\S+\.(?:jpe?g|png|gif|webp|svg|ico)(?:\?\S*)?|\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)\s*$",
                       re.I)
# Teaser links tagged with a media/type marker: "... [VIDEO]", "... [INSIGHT]|".
_TEASER_TAG = re.compile(r"\[(?:video|insight|reaction|pictures?|photos?|gallery|live|watch|poll|quiz|"
                         r"review|analysis|opinion|latest|revealed|pics)\]\W*$", re.I)
_DIGEST_LABEL = re.compile(
    r"^\W*(?:(?:in )?other (?:news|stories|headlines)|(?:more|latest|top|related|also)\s+"
    r"(?:news|stories|headlines|articles|reads?)|(?:also|read) (?:read|also)|see also|"
    r"news in brief|briefly|in brief|what else (?:is|you need)\b.*)\W*$",
    re.I,
)
# A standalone dateline-like line: "Published 12 March 2024", "Oct. 5, 2024 10:00".
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE_IN_LINE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)",
    re.I,
)
_DATELINE_LABEL = re.compile(r"^\W*(?:published|posted|updated|last updated|date|on)?\s*:?\s*", re.I)

STOP = frozenset(STOP_WORDS) | frozenset({"said", "says", "according", "told", "would", "also", "new"})


class Cleaned(NamedTuple):
    """Result of :func:`clean_text`: the headline (or None), the kept paragraphs
    in order, and the removed lines as ``(line, reason)`` pairs."""

    title: Optional[str]
    paragraphs: list
    removed: list


@dataclass
class _Line:
    text: str
    words: list = field(default_factory=list)
    reason: Optional[str] = None
    _prose: Optional[bool] = None

    @property
    def prose(self) -> bool:
        if self._prose is None:
            self._prose = is_prose(self.text)
        return self._prose

    @property
    def kept(self) -> bool:
        return self.reason is None


def is_prose(line: str) -> bool:
    """A sentence-shaped line: ends like a sentence and has some function words."""
    ws = letter_words(line)
    if len(ws) < 4 or not _SENTENCE_END.search(line):
        return False
    return sum(w.lower() in STOP for w in ws) / len(ws) >= 0.15


def is_label_like(line: str) -> bool:
    """Short boilerplate line: a call to action, credit, form or list label."""
    ws = letter_words(line)
    if len(ws) > 12 or (len(ws) > 6 and is_prose(line)):
        return False
    return bool(_LABEL_RE.match(line.strip()))


def is_shouting(line: str) -> bool:
    """An all-capitals line of several words: a promo link or teaser headline."""
    ws = letter_words(line)
    letters = [c for c in line if c.isalpha()]
    if len(ws) < 6 or line.rstrip().endswith("?") or line.lstrip().startswith("|"):
        return False
    return len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.85


def boilerplate_reason(line: str, n: Optional[int] = None) -> Optional[str]:
    """Why a single line is boilerplate on its own, or None."""
    n = len(letter_words(line)) if n is None else n
    if n > 40:
        return None  # long paragraphs are judged by coherence and shape, not vocabulary
    if n <= 3 and _METADATA.match(line):
        return "metadata"
    if n <= 12 and is_label_like(line):
        return "boilerplate"
    if _LEGAL_RE.search(line) or _CONTACT.search(line):
        return "boilerplate"
    if n <= 30 and _CALL_TO_ACTION.match(line) and not line.rstrip().endswith(":") and not _BULLET.match(line):
        return "call_to_action"
    if is_shouting(line) or (n <= 25 and _TEASER_TAG.search(line)):
        return "teaser"
    return None


def is_boilerplate(line: str) -> bool:
    return boilerplate_reason(line) is not None


def plausible_headline(line: str) -> bool:
    ws = letter_words(line)
    return 3 <= len(ws) <= 40 and not is_boilerplate(line) and not _BULLET.match(line)


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


def _pick_headline(lines: list) -> tuple:
    """Index of the headline among ``lines`` (or None) and the nav lines above it."""
    for i, ln in enumerate(lines[:6]):
        if plausible_headline(ln.text):
            return i
    return None


def clean_paragraphs(paragraphs: Sequence[str], headline: Optional[str] = None, *,
                     topical: bool = True, shape: bool = True, dedupe: bool = True,
                     link_lists: bool = True,
                     off_topic_ratio: float = 0.35) -> Cleaned:
    """Apply rules 1-6 (see module docstring) to paragraphs under a known headline."""
    lines = [_Line(p.strip(), letter_words(p)) for p in paragraphs if p and p.strip()]
    seen = set()
    if headline:
        seen.add(line_key(headline))
    for ln in lines:
        key = line_key(ln.text)
        if not _ALNUM.search(ln.text):
            ln.reason = "separator"
        elif key in seen and (dedupe or key == line_key(headline or "")):
            ln.reason = "repeated"
        elif near_title(ln.text, headline) and ln is lines[0]:
            ln.reason = "repeated"
        else:
            ln.reason = boilerplate_reason(ln.text, len(ln.words))
        if key:
            seen.add(key)
    _mark_lists(lines, link_lists)
    if topical:
        _mark_off_topic(lines, headline, off_topic_ratio)
    if shape:
        _mark_shape(lines)
    return Cleaned(headline, [ln.text for ln in lines if ln.kept],
                   [(ln.text, ln.reason) for ln in lines if not ln.kept])


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
        if _DIGEST_LABEL.match(ln.text):
            j = i + 1
            items = 0
            while j < n and (_BULLET.match(lines[j].text) or not _ALNUM.search(lines[j].text)):
                items += bool(_BULLET.match(lines[j].text))
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
        while j < n and _BULLET.match(lines[j].text) and not _SENTENCE_END.search(lines[j].text):
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
    idx = [i for i in idx if not is_data(lines[i].text)]
    texts = [lines[i].text for i in idx]
    for s, e in off_topic_segments(texts, headline, ratio=ratio):
        start, end = idx[s], idx[e - 1] + 1
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
    bullets = {i for i in kept if _BULLET.match(lines[i].text)}
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


def clean_text(text: str, headline: Optional[str] = None, *, topical: bool = True) -> Cleaned:
    """Clean a plain-text article.

    ``text`` holds one paragraph per line (blank lines are ignored). Without a
    ``headline`` the first plausible headline line is taken as the title and
    the crumbs above it are removed as ``nav``.
    """
    raw_lines = [_Line(s.strip(), letter_words(s)) for s in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    raw_lines = [ln for ln in raw_lines if ln.text]
    removed = []
    if headline is None:
        h = _pick_headline(raw_lines)
        if h is not None:
            headline = raw_lines[h].text
            removed += [(ln.text, "nav") for ln in raw_lines[:h]]
            raw_lines = raw_lines[h + 1:]
    out = clean_paragraphs([ln.text for ln in raw_lines], headline, topical=topical)
    return Cleaned(headline, out.paragraphs, removed + out.removed)


def find_dateline(paragraphs: Sequence[str], max_lines: int = 3) -> Optional[str]:
    """A publication date written as a dateline near the top of the text.

    Only a line that is (nearly) just a date, or a date at the very start of
    the first paragraph, counts: dates inside quoted posts or prose are
    reported events, not publication dates.
    """
    for p in list(paragraphs)[:max_lines]:
        rest = _DATELINE_LABEL.sub("", p.strip(), count=1)
        m = _DATE_IN_LINE.search(rest)
        if not m:
            continue
        if len(letter_words(p)) <= 8 or m.start() <= 2:
            return m.group(0)
    return None
