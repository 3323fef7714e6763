"""Dates: every date string any stage parses (feeds, pages, datelines, HTTP
headers), and the sanity window a publication date must fall in."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import Optional, Sequence

from newsbeam.schemas import to_micros
from newsbeam.transforms.text import letter_words

# Dates outside this window are junk more often than news: epoch defaults,
# typos, "impossible" feed dates that parsers turn into plausible wrong ones.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)
FUTURE_SLACK = dt.timedelta(days=1)


def sane_micros(value: dt.datetime, now: Optional[dt.datetime] = None) -> Optional[int]:
    """``value`` as UTC microseconds, or None when outside the sane window."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    if value < EARLIEST or value > now + FUTURE_SLACK:
        return None
    return to_micros(value)


def parse_date(text: object, now: Optional[dt.datetime] = None) -> Optional[int]:
    """Parse a date string (ISO 8601, RFC 822, or free-form) to UTC micros.

    Returns None for anything unparseable or outside the sane window.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        # Unix seconds (JSON records sometimes carry them).
        try:
            return sane_micros(dt.datetime.fromtimestamp(float(text), dt.timezone.utc), now)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:  # RFC 822, without the slow free-form parser
        parsed = parse_rfc822(text)
    if parsed is None:
        import dateparser  # slow to import; only needed off the ISO fast path

        parsed = dateparser.parse(
            text, settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
                            "PREFER_DAY_OF_MONTH": "first"}
        )
    if parsed is None:
        return None
    return sane_micros(parsed, now)


def parse_rfc822(text: str) -> Optional[dt.datetime]:
    """An RFC 822 date (feeds, e-mail, HTTP headers), UTC when no zone is given."""
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")


def parse_date_text(value: Optional[str], now: Optional[dt.datetime] = None) -> Optional[int]:
    """Date text from a page or a dateline -> micros UTC (None when unknown or implausible)."""
    if not value:
        return None
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value.strip())
    text = re.sub(r"[,.]", " ", text)
    text = " ".join(text.split())
    iso = re.match(r"(\d{4}-\d{2}-\d{2})", text)
    cand = iso.group(1) if iso else re.sub(r"\bSept\b", "Sep", text, flags=re.I)
    for fmt in _FORMATS:
        try:
            return sane_micros(dt.datetime.strptime(cand, fmt), now)
        except ValueError:
            continue
    return None


# A standalone dateline-like line: "Published 12 March 2024", "Oct. 5, 2024 10:00".
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")


_DATE_IN_LINE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)",
    re.I,
)


_DATELINE_LABEL = re.compile(r"^\W*(?:published|posted|updated|last updated|date|on)?\s*:?\s*", re.I)


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
