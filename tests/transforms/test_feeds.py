"""Feed lists, links, defusing and parsing (plain functions), SelectNewItems (Beam)."""

from __future__ import annotations

import pathlib
import time

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline  # noqa: F401
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import RawDocument
from newsbeam.transforms import feed_state, warehouse
from newsbeam.transforms.feed_lists import read_feed_list, resolve_feeds
from newsbeam.transforms.feed_parse import FeedRejected, ParserProcess, defuse
from newsbeam.transforms.feeds import (
    FetchArticles,
    PollSettings,
    SelectNewItems,
    after_failure,
    after_success,
    conditional_headers,
    fetch_page,
    items_to_documents,
)
from newsbeam.transforms.fetch import FetchConfig, Fetcher
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.links import normalise_link, safe_link
from tests.records import raw_document

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
BASE = "http://example.org/feed"


@pytest.fixture(scope="module")
def parser():
    proc = ParserProcess(timeout=10.0, memory_bytes=1024 * 1024 * 1024)
    yield proc
    proc.close()


def test_read_feed_list_txt_and_opml(tmp_path):
    assert read_feed_list("# my feeds\nhttp://a.example/rss  # comment\n\n  https://b.example/atom\n",
                          "f.txt") == ["http://a.example/rss", "https://b.example/atom"]
    opml = ('<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
            '<outline text="A" xmlUrl="http://a.example/rss"/><outline text="B" '
            'xmlUrl=" https://b.example/atom "/></outline></body></opml>')
    assert read_feed_list(opml, "f.opml") == ["http://a.example/rss", "https://b.example/atom"]
    with pytest.raises(ValueError, match="DOCTYPE"):
        read_feed_list('<!DOCTYPE x [<!ENTITY a "b">]><opml/>', "f.opml")
    listing = tmp_path / "feeds.txt"
    listing.write_text("http://a.example/rss\nhttp://c.example/rss\n")
    assert resolve_feeds([str(listing), "http://a.example/rss", "http://d.example/x"]) == [
        "http://a.example/rss", "http://c.example/rss", "http://d.example/x"]
    with pytest.raises(ValueError, match="not found"):
        resolve_feeds([str(tmp_path / "missing.txt")])


def test_links_are_absolute_http_and_normalised():
    assert safe_link("/a?b=1", BASE) == "http://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd",
                "ftp://example.org/x", "", None, "mailto:a@example.org"):
        assert safe_link(bad, BASE) is None, bad
    assert normalise_link("HTTP://Example.ORG:80/a?utm_source=x&id=3#top") == \
        "http://example.org/a?id=3"
    assert normalise_link("https://example.org") == "https://example.org/"


def test_defuse_strips_entity_doctypes_and_refuses_utf16_ones():
    doc = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss>&a;</rss>'
    assert defuse(doc) == b'<?xml version="1.0"?><rss>&a;</rss>'
    plain = b'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "x.dtd"><rss/>'
    assert defuse(plain) == plain
    with pytest.raises(FeedRejected) as exc:
        defuse('\ufeff<!DOCTYPE r [<!ENTITY a "x">]><r/>'.encode("utf-16-le"))
    assert exc.value.reason == "entity_declaration"


def _bomb(levels: int = 0) -> bytes:
    # Quadratic blowup: one 60 KB entity referenced 3000 times (~180 MB expanded).
    return (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"x" * 60_000 + b'">]>'
            b'<rss version="2.0"><channel><title>t</title><item><title>' + b"&a;" * 3000 +
            b"</title><link>http://e.example/1</link></item></channel></rss>")


def test_entity_blowup_is_not_expanded(parser):
    started = time.monotonic()
    parsed = parser.parse(_bomb(), BASE)
    assert time.monotonic() - started < 5
    assert len(parsed.items) == 1 and "x" * 100 not in (parsed.items[0].title or "")


def test_external_entity_is_not_resolved(parser, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<rss version="2.0"><channel><item><title>a &x; b</title>'
           '<link>http://e.example/1</link></item></channel></rss>').encode()
    parsed = parser.parse(doc, BASE)
    assert "TOP-SECRET" not in repr(parsed)


@pytest.mark.parametrize("name,version,count", [
    ("news/golem-rss20-iso8859-1.rss.xml", "rss20", 40),
    ("news/heise-developer.atom.xml", "atom10", 15),
    ("news/lecerclepsy-undeclared-iso8859-1.rss.xml", "rss20", 10),  # bozo but has items
    ("news/npr-technology.feed.json", "json1", 25),
    ("feedparser/encoding/utf-16le-bom.xml", None, None),
])
def test_fixture_feeds_yield_items(parser, name, version, count):
    data = (FIXTURES / name).read_bytes()
    if version is None:  # channel-only upstream test document: judged "no items"
        with pytest.raises(FeedRejected) as exc:
            parser.parse(data, BASE)
        assert exc.value.reason == "no_items"
        return
    parsed = parser.parse(data, BASE)
    assert parsed.version == version and len(parsed.items) == count
    assert all(i.link and i.link.startswith("http") for i in parsed.items if i.raw_link)
    assert all(i.published is None or i.published > 631152000 * 10**6 for i in parsed.items)


def test_golem_text_is_decoded_from_latin1(parser):
    parsed = parser.parse((FIXTURES / "news/golem-rss20-iso8859-1.rss.xml").read_bytes(), BASE)
    text = " ".join((i.title or "") + (i.summary or "") for i in parsed.items)
    assert "\ufffd" not in text and any(ch in text for ch in "äöüß")


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, "binary"),
    (b"<html><body>Not a feed</body></html>", "not_a_feed"),
    ((FIXTURES / "news/reuters-mostread-truncated.rss.xml").read_bytes(), "no_items"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "not_a_feed"),
    (b'{"version": "https://jsonfeed.org/version/1", "items": [' + b"[" * 100_000, "invalid_json_feed"),
    (b"\xff\xfe" + "<rss>".encode("utf-16-le") + b"\x00\xd8" * 100, "not_a_feed"),
])
def test_broken_and_garbage_feeds_are_rejected_with_a_reason(parser, data, reason):
    with pytest.raises(FeedRejected) as exc:
        parser.parse(data, BASE)
    assert exc.value.reason == reason


def test_huge_item_count_is_capped(parser):
    items = "".join(f"<item><title>t{i}</title><link>http://e.example/{i}</link></item>"
                    for i in range(20_000))
    doc = f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()
    parsed = parser.parse(doc, BASE, max_items=50)
    assert len(parsed.items) == 50 and parsed.truncated == 19_950
    errors = [r for r in items_to_documents(BASE, parsed, 1) if not isinstance(r, RawDocument)]
    assert [(e.error, e.source) for e in errors] == [("too_many_items", BASE)]


def test_slow_parse_is_stopped_and_the_parser_recovers():
    proc = ParserProcess(timeout=0.2)
    try:
        items = "".join(f"<item><title>t{i}</title><description>{'word ' * 200}</description>"
                        f"<link>http://e.example/{i}</link></item>" for i in range(20_000))
        with pytest.raises(FeedRejected) as exc:
            proc.parse(f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(), BASE,
                       max_items=100_000)
        assert exc.value.reason == "parse_timeout"
        ok = proc.parse(b'<rss version="2.0"><channel><item><link>http://e.example/1</link>'
                        b"</item></channel></rss>", BASE)
        assert [i.link for i in ok.items] == ["http://e.example/1"]
    finally:
        proc.close()


def test_impossible_and_unsafe_items_become_error_rows(parser):
    doc = (b'<rss version="2.0"><channel><title>x</title>'
           b"<item><title>js</title><link>javascript:alert(1)</link></item>"
           b"<item><title>ok</title><link>http://e.example/ok?utm_medium=rss</link>"
           b"<pubDate>Mon, 01 Jan 1968 00:00:00 GMT</pubDate></item>"
           b"<item><title>future</title><guid isPermaLink='false'>id-7</guid>"
           b"<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
           b"<item><title>nothing</title></item></channel></rss>")
    records = list(items_to_documents(BASE, parser.parse(doc, BASE), 5))
    docs = [r for r in records if isinstance(r, RawDocument)]
    errors = sorted((r.error, r.source) for r in records if not isinstance(r, RawDocument))
    assert errors == [("no_link", BASE), ("unsafe_link", "javascript:alert(1)")]
    assert [(d.locator, d.url, d.published_at, d.date_source) for d in docs] == [
        ("http://e.example/ok", "http://e.example/ok?utm_medium=rss", None, None),
        ("guid:id-7", None, None, None)]


def test_backoff_grows_and_honours_retry_after():
    s = PollSettings(interval=60, backoff_max=3600)
    st = after_failure({}, 1000.0, s, "http_500")
    assert (st["failures"], st["not_before"]) == (1, 1060.0)
    st = after_failure(st, 1000.0, s, "http_500")
    assert st["not_before"] == 1120.0
    st = after_failure(st, 1000.0, s, "http_503", retry_after=1800)
    assert st["not_before"] == 2800.0
    for _ in range(10):
        st = after_failure(st, 1000.0, s, "http_500")
    assert st["not_before"] == 4600.0  # capped
    ok = after_success(st, 2000.0, s, {"etag": '"e"', "last-modified": "Mon"}, "h1")
    assert (ok["failures"], ok["not_before"], conditional_headers(ok)) == (
        0, 0, {"If-None-Match": '"e"', "If-Modified-Since": "Mon"})
    for _ in range(3):
        ok = after_success(ok, 2000.0, s, {}, None)  # 304s: feed is quiet
    assert ok["unchanged"] == 3 and ok["not_before"] == 2000.0 + 120


def _raw(link: str) -> RawDocument:
    return raw_document(source="http://f.example/rss", locator=normalise_link(link), url=link,
                        kind="feed", title="t", summary="s", ingested_at=1)


def _commit_state(out: str, run_id: str, seen, feeds) -> None:
    """Stage and commit feed state as a poll does."""
    base = warehouse.begin(out, run_id)
    warehouse.commit(out, run_id, base, feed_state.stage(out, run_id, seen, feeds))


def test_select_new_items_drops_committed_and_repeated_ids(tmp_path):
    out = str(tmp_path)
    old = _raw("http://e.example/old")
    _commit_state(out, "r1", [article_id(old)], {})
    new = _raw("http://e.example/new")
    again = _raw("HTTP://E.example/new#comments")  # same story, other feed or poll
    with TestPipeline() as p:
        kept = p | beam.Create([old, new, again]) | SelectNewItems(out)
        assert_that(kept | beam.Map(lambda r: r.locator), equal_to(["http://e.example/new"]))


def test_state_is_visible_only_once_committed(tmp_path):
    out = str(tmp_path)
    assert feed_state.load_seen(out) == set() and feed_state.load_feed_states(out) == {}
    _commit_state(out, "r1", ["a", "b"], {"http://f/1": {"etag": "x"}})
    _commit_state(out, "r2", ["c"], {"http://f/2": {"etag": "y"}})
    assert feed_state.load_seen(out) == {"a", "b", "c"}
    assert feed_state.load_feed_states(out) == {"http://f/1": {"etag": "x"},
                                                "http://f/2": {"etag": "y"}}
    # Staged but never committed (a poll killed before its commit): not there,
    # and removed at the next start.
    warehouse.begin(out, "r3")
    feed_state.stage(out, "r3", ["d"], {"http://f/1": {"etag": "z"}})
    assert feed_state.load_seen(out) == {"a", "b", "c"}
    assert feed_state.load_feed_states(out)["http://f/1"] == {"etag": "x"}
    assert warehouse.recover(out) == warehouse.Recovery(0, 1)
    assert not list(tmp_path.rglob("*.inprogress")) and not list((tmp_path / "_staging").iterdir())


LOOPBACK = FetchConfig(allow_private_addresses=True, per_host_delay=0.0, connect_timeout=2,
                       read_timeout=0.5, total_timeout=2.0, max_page_bytes=100_000)


def _page_routes(server) -> None:
    from tests.feedserver import Reply, Route, page, story

    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    server.routes["/a/ok"] = Route(page("Story", story(1)), "text/html; charset=utf-8")
    server.routes["/a/pdf"] = Route(b"%PDF-1.4", "application/pdf")
    server.routes["/a/big"] = Route(b"<p>" + b"x" * 200_000 + b"</p>", "text/html")
    server.routes["/a/slow"] = Route(script=[Reply(200, b"<p>late</p>", {}, delay=3.0)])
    server.routes["/private/a"] = Route(page("Secret", story(2)), "text/html")


def test_fetch_page_sets_page_status_and_never_an_error_row():
    """Every item comes back as one document: the page and "ok", or an empty
    body and the reason the page could not be used."""
    from tests.feedserver import FeedServer

    fetcher = Fetcher(LOOPBACK)
    try:
        with FeedServer() as s:
            _page_routes(s)
            got = {}
            for path in ("/a/ok", "/a/missing", "/a/pdf", "/a/big", "/a/slow", "/private/a"):
                doc = fetch_page(fetcher, _raw(s.url(path)))
                assert isinstance(doc, RawDocument)
                got[path] = (doc.page_status, bool(doc.body))
            guid_only = _raw("urn:guid:1")._replace(url=None)
            assert fetch_page(fetcher, guid_only) == guid_only._replace(page_status="no_link")
    finally:
        fetcher.close()
    assert got == {"/a/ok": ("ok", True), "/a/missing": ("http_404", False),
                   "/a/pdf": ("not_html", False), "/a/big": ("too_large", False),
                   "/a/slow": ("timeout", False), "/private/a": ("robots_disallowed", False)}


def test_fetch_articles_outputs_one_document_per_item():
    from tests.feedserver import FeedServer

    with FeedServer() as s:
        _page_routes(s)
        items = [_raw(s.url(p)) for p in ("/a/ok", "/a/missing")]
        with TestPipeline() as p:
            out = p | beam.Create(items) | FetchArticles(LOOPBACK, workers=2)
            assert set(out) == {"documents"}
            assert_that(out["documents"] | beam.Map(lambda d: (d.locator, d.page_status)),
                        equal_to([(items[0].locator, "ok"), (items[1].locator, "http_404")]))
