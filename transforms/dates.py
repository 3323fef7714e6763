"""Publication-date parsing with a sanity window shared by every stage."""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Optional

# Dates outside this window are junk more often than news: epoch defaults,
# typos, "impossible" feed dates that parsers turn into plausible wrong ones.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)
FUTURE_SLACK = dt.timedelta(days=1)


def to_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1_000_000)


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
    if parsed is None:
        try:  # RFC 822 (feeds, e-mail, HTTP), without the slow free-form parser
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
    if parsed is None:
        import dateparser  # slow to import; only needed off the ISO fast path

        parsed = dateparser.parse(
            text, settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
                            "PREFER_DAY_OF_MONTH": "first"}
        )
    if parsed is None:
        return None
    return sane_micros(parsed, now)
