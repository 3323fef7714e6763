"""Feed documents: bytes in, items out; plain functions, no Beam.

Parsing treats every feed as hostile:

* :func:`defuse` strips a DOCTYPE whose internal subset declares entities
  (billion-laughs / quadratic blowup, external entities) before any parser
  sees the bytes, and refuses (``entity_declaration``) when it cannot strip
  safely (e.g. UTF-16/32 documents declaring entities);
* :class:`ParserProcess` runs the parser in a child process with a memory
  limit and a time limit, so a pathological document costs at most
  ``timeout`` seconds and ``memory_bytes`` and never the worker;
* a feed is judged by whether it yields a version and entries, not by
  feedparser's ``bozo`` flag;
* links are made absolute and only http/https links are kept
  (``transforms.links``).

JSON Feed 1.x is parsed here (feedparser does not read it).
"""

from __future__ import annotations

import json
import re
from typing import NamedTuple, Optional

from newsbeam.transforms.dates import parse_date
from newsbeam.transforms.errors import Rejected
from newsbeam.transforms.links import normalise_link, safe_link
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure

MAX_ITEMS = 1000  # items taken from one feed document
PARSE_TIMEOUT = 10.0  # seconds to parse one feed document
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024  # memory of the parser's child process


class FeedRejected(Rejected):
    """A feed document that yields no items."""


class FeedItem(NamedTuple):
    link: Optional[str]  # absolute http(s) link, None if missing/unsafe
    raw_link: Optional[str]  # as given (for error rows about unsafe links)
    guid: Optional[str]
    title: Optional[str]
    summary: Optional[str]  # feed content (HTML or text), the fallback text
    published: Optional[int]  # UTC micros within the sane window, else None


class ParsedFeed(NamedTuple):
    version: str
    title: Optional[str]
    items: list  # list[FeedItem]
    truncated: int  # items dropped over the per-feed cap


def item_locator(item: FeedItem) -> Optional[str]:
    """Normalised link, else ``guid:`` + GUID; None when the item has neither."""
    if item.link:
        return normalise_link(item.link)
    if item.guid:
        return "guid:" + item.guid.strip()
    return None


# ---------------------------------------------------------------- defusing

_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]*)(\[.*?\]\s*)?>", re.I | re.S)
_ENTITY_UTF16 = ("<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"),
                 "<!ENTITY".encode("utf-32-le"), "<!ENTITY".encode("utf-32-be"))


def defuse(data: bytes) -> bytes:
    """Remove DOCTYPEs declaring entities; refuse what cannot be cleaned safely.

    Undeclared entity references left behind are harmless (feedparser keeps
    them as text in its lenient mode). External entities need a DOCTYPE too.
    """
    upper = data.upper()
    if any(p in data for p in _ENTITY_UTF16) or any(p.upper() in upper for p in _ENTITY_UTF16):
        raise FeedRejected("entity_declaration", "entity declarations in a UTF-16/32 document")
    if b"<!ENTITY" not in upper:
        return data
    cleaned = _DOCTYPE.sub(lambda m: b"" if m.group(1) and b"<!ENTITY" in m.group(1).upper()
                           else m.group(0), data)
    if b"<!ENTITY" in cleaned.upper():
        raise FeedRejected("entity_declaration", "entity declarations outside a DOCTYPE")
    return cleaned


# ---------------------------------------------------------------- parsing

def _text(value) -> Optional[str]:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_json_feed(data: bytes, base: str, max_items: int) -> ParsedFeed:
    """JSON Feed 1.0/1.1 → ParsedFeed; FeedRejected when it is not one."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FeedRejected("invalid_json_feed", f"{type(exc).__name__}: {exc}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/1" not in version:
        raise FeedRejected("not_a_feed", "JSON without a jsonfeed.org version")
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        raise FeedRejected("not_a_feed", "JSON Feed without an items list")
    items = []
    for raw in raw_items[:max_items]:
        if not isinstance(raw, dict):
            continue
        raw_link = _text(raw.get("url")) or _text(raw.get("external_url"))
        summary = _text(raw.get("content_html")) or _text(raw.get("content_text")) \
            or _text(raw.get("summary"))
        items.append(FeedItem(
            link=safe_link(raw_link, base), raw_link=raw_link,
            guid=_text(str(raw["id"])) if raw.get("id") is not None else None,
            title=_text(raw.get("title")), summary=summary,
            published=parse_date(raw.get("date_published")) or parse_date(raw.get("date_modified"))))
    v = "json" + version.rsplit("/", 1)[-1].replace(".", "")
    return ParsedFeed(v, _text(doc.get("title")), items, max(0, len(raw_items) - max_items))


def _entry_date(entry) -> Optional[int]:
    # feedparser's *_parsed can turn impossible dates into plausible wrong
    # ones; parse the raw strings ourselves, within the sane window.
    for key in ("published", "updated", "created"):
        micros = parse_date(entry.get(key))
        if micros is not None:
            return micros
    return None


def _entry_summary(entry) -> Optional[str]:
    for content in entry.get("content") or []:
        value = _text(content.get("value"))
        if value:
            return value
    return _text(entry.get("summary"))


def parse_xml_feed(data: bytes, base: str, headers: dict, max_items: int) -> ParsedFeed:
    import feedparser

    parsed = feedparser.parse(data, response_headers={**headers, "content-location": base},
                              sanitize_html=True, resolve_relative_uris=True)
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    if not entries:
        reason = "no_items" if version else "not_a_feed"
        detail = repr(parsed.get("bozo_exception")) if parsed.get("bozo") else "no entries"
        raise FeedRejected(reason, f"version={version or 'none'}; {detail}"[:500])
    items = []
    for entry in entries[:max_items]:
        raw_link = _text(entry.get("link"))
        guid = _text(entry.get("id"))
        if raw_link is None and guid and entry.get("guidislink"):
            raw_link = guid
        items.append(FeedItem(link=safe_link(raw_link, base), raw_link=raw_link, guid=guid,
                              title=_text(entry.get("title")), summary=_entry_summary(entry),
                              published=_entry_date(entry)))
    return ParsedFeed(version or "unknown", _text(parsed.get("feed", {}).get("title")), items,
                      max(0, len(entries) - max_items))


def looks_json(data: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or data.lstrip()[:1] in (b"{", b"[")


def parse_feed(data: bytes, base: str, headers: Optional[dict] = None,
               max_items: int = MAX_ITEMS) -> ParsedFeed:
    """Any feed document → ParsedFeed, or FeedRejected with a reason.

    Reasons: ``empty``, ``binary``, ``entity_declaration``, ``not_a_feed``,
    ``no_items``, ``invalid_json_feed``, ``parser_error``.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not data.strip():
        raise FeedRejected("empty", "empty document")
    head = data[:4096]
    utf16_or_32 = head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00",
                                   b"\x00<", b"\x00\x00\x00<"))
    if b"\x00" in head and not utf16_or_32:
        raise FeedRejected("binary", "NUL bytes in a document that is not UTF-16/32")
    if looks_json(data, headers.get("content-type", "")):
        return parse_json_feed(data, base, max_items)
    data = defuse(data)
    try:
        return parse_xml_feed(data, base, headers, max_items)
    except FeedRejected:
        raise
    except Exception as exc:  # feedparser raises on some inputs instead of flagging them
        raise FeedRejected("parser_error", f"{type(exc).__name__}: {exc}"[:500]) from exc


# ---------------------------------------------------------------- sandbox

def _import_parser() -> None:
    import feedparser  # noqa: F401  (imported once, before the first parse's time limit)


class ParserProcess:
    """Parse feeds in a :class:`~newsbeam.transforms.sandbox.Sandbox`: a parse
    past ``timeout`` raises FeedRejected(``parse_timeout``), one past
    ``memory_bytes`` ``memory_limit``, a dead parser ``parser_crashed``; the next
    parse starts a new child. One per worker (built in ``DoFn.setup``).
    """

    _REASONS = {"timeout": "parse_timeout", "memory_limit": "memory_limit",
                "crashed": "parser_crashed"}

    def __init__(self, timeout: float = PARSE_TIMEOUT, memory_bytes: int = PARSE_MEMORY_BYTES):
        self.timeout = timeout
        self._sandbox = Sandbox(timeout, memory_bytes, warm_up=_import_parser)

    def parse(self, data: bytes, base: str, headers: Optional[dict] = None,
              max_items: int = MAX_ITEMS) -> ParsedFeed:
        try:
            return self._sandbox.call(parse_feed, data, base, dict(headers or {}), max_items)
        except SandboxFailure as exc:
            raise FeedRejected(self._REASONS[exc.reason], f"parsing: {exc.detail}") from exc
        except (FeedRejected, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is a verdict
            raise FeedRejected("parser_error", f"{type(exc).__name__}: {exc}"[:500]) from exc

    def close(self) -> None:
        self._sandbox.close()
