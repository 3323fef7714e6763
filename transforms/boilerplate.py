"""Line-level boilerplate: what a line of navigation, a credit, a call to action
or a footer looks like, and whether a line reads as prose. Plain functions,
shared by the text and HTML cleaners."""

from __future__ import annotations

import re
from typing import Optional

from spacy.lang.en.stop_words import STOP_WORDS

from newsbeam.transforms.text import letter_words

ALNUM = re.compile(r"\w")

# Chinese and Japanese end sentences with full-width marks and close quotes with 」』.
SENTENCE_END = re.compile(r"""[.!?…:;。！？：；]["'”’»)\]」』）]*\s*$|[.!?]\s*\(.*\)\s*$""")


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

DIGEST_LABEL = re.compile(
    r"^\W*(?:(?:in )?other (?:news|stories|headlines)|(?:more|latest|top|related|also)\s+"
    r"(?:news|stories|headlines|articles|reads?)|(?:also|read) (?:read|also)|see also|"
    r"news in brief|briefly|in brief|what else (?:is|you need)\b.*)\W*$",
    re.I,
)

STOP = frozenset(STOP_WORDS) | frozenset({"said", "says", "according", "told", "would", "also", "new"})


def is_prose(line: str) -> bool:
    """A sentence-shaped line: ends like a sentence and has some function words."""
    ws = letter_words(line)
    if len(ws) < 4 or not SENTENCE_END.search(line):
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


# Longer than any headline, label or crumb: a paragraph of the article's body.
BODY_WORDS = 40


def boilerplate_reason(line: str, n: Optional[int] = None) -> Optional[str]:
    """Why a single line is boilerplate on its own, or None."""
    n = len(letter_words(line)) if n is None else n
    if n > BODY_WORDS:
        return None  # long paragraphs are judged by coherence and shape, not vocabulary
    if n <= 3 and _METADATA.match(line):
        return "metadata"
    if n <= 12 and is_label_like(line):
        return "boilerplate"
    # These phrases match anywhere in a line, so only in short lines or lines
    # that are not prose: a report may discuss a "privacy policy", and a
    # paragraph may end with "Follow @NFL on Instagram." and still be article.
    if (n <= 15 or not is_prose(line)) and (_LEGAL_RE.search(line) or _CONTACT.search(line)):
        return "boilerplate"
    if n <= 30 and _CALL_TO_ACTION.match(line) and not line.rstrip().endswith(":") and not BULLET.match(line):
        return "call_to_action"
    if is_shouting(line) or (n <= 25 and _TEASER_TAG.search(line)):
        return "teaser"
    return None


def is_boilerplate(line: str) -> bool:
    return boilerplate_reason(line) is not None


def plausible_headline(line: str) -> bool:
    ws = letter_words(line)
    return 3 <= len(ws) <= BODY_WORDS and not is_boilerplate(line) and not BULLET.match(line)

BULLET = re.compile(r"^\s*(?:[-–—•·*⇒→►▶▸▪●○◦»>✓✔]|\d{1,2}[.)])\s+")
