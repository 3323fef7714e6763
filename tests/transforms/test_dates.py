import datetime as dt

from newsbeam.transforms.dates import parse_date, parse_date_text

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 6, 1, tzinfo=UTC)


def micros(*args) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


def test_iso_rfc822_and_free_form_dates():
    assert parse_date("2025-01-06T10:00:00Z", NOW) == micros(2025, 1, 6, 10)
    assert parse_date("Mon, 06 Jan 2025 10:00:00 GMT", NOW) == micros(2025, 1, 6, 10)
    assert parse_date("Mon, 06 Jan 2025 12:00:00 +0200", NOW) == micros(2025, 1, 6, 10)
    assert parse_date("14 March 2023", NOW) == micros(2023, 3, 14)
    assert parse_date(1_736_157_600, NOW) == micros(2025, 1, 6, 10)  # Unix seconds


def test_junk_and_dates_outside_the_window_are_none():
    assert parse_date(None) is None and parse_date("  ") is None and parse_date(True) is None
    assert parse_date("not a date at all", NOW) is None
    assert parse_date("Thu, 01 Jan 1970 00:00:00 GMT", NOW) is None  # an epoch default
    assert parse_date("Mon, 06 Jan 2031 10:00:00 GMT", NOW) is None  # the future


def test_parse_date_text_limits():
    assert parse_date_text("1989-12-31") is None
    assert parse_date_text("2999-01-01") is None
    assert parse_date_text("not a date") is None
    assert parse_date_text("Sept 5, 2021") == parse_date_text("2021-09-05")
