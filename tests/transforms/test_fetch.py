"""Fetcher against a real loopback server: limits, redirects, robots, address checks."""

from __future__ import annotations

import concurrent.futures
import socket
import time

import pytest

from newsbeam.transforms.fetch import (
    ROBOTS_MAX_BYTES,
    FetchConfig,
    Fetcher,
    FetchError,
    HostGate,
    check_url,
    is_public_address,
    parse_retry_after,
    robots_key,
    robots_url,
)
from tests.feedserver import FeedServer, Reply, Route

LOCAL = FetchConfig(allow_private_addresses=True, per_host_delay=0.0, connect_timeout=2,
                    read_timeout=0.5, total_timeout=2.0, max_page_bytes=100_000, max_redirects=3)


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def fetcher():
    f = Fetcher(LOCAL)
    yield f
    f.close()


def _reason(call) -> str:
    with pytest.raises(FetchError) as exc:
        call()
    return exc.value.reason


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1/x", "private_address"),
    ("http://localhost:8080/x", "private_address"),
    ("http://10.1.2.3/", "private_address"),
    ("http://169.254.169.254/latest/meta-data/", "private_address"),
    ("http://[::1]/", "private_address"),
    ("http://[::ffff:127.0.0.1]/", "private_address"),
    ("http://0.0.0.0/", "private_address"),
    ("javascript:alert(1)", "unsafe_scheme"),
    ("file:///etc/passwd", "unsafe_scheme"),
    ("http:///nohost", "bad_url"),
    ("http://example.org:99999/", "bad_url"),
])
def test_non_public_and_non_http_urls_are_refused(url, reason):
    assert _reason(lambda: check_url(url, allow_private=False)) == reason


def test_public_address_classification():
    assert is_public_address("93.184.216.34") and is_public_address("2606:2800:220:1::1")
    for a in ("127.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "fe80::1", "fc00::1",
              "224.0.0.1", "::ffff:10.0.0.1"):
        assert not is_public_address(a), a


def test_loopback_server_is_refused_without_the_flag(server):
    server.routes["/x"] = Route(b"hello", "text/plain")
    f = Fetcher(LOCAL._replace(allow_private_addresses=False))
    try:
        assert _reason(lambda: f.get(server.url("/x"))) == "private_address"
    finally:
        f.close()
    assert server.requests_for("/x") == []


def test_rebinding_dns_cannot_reach_a_private_address(server, monkeypatch):
    """The name looked public when checked but the connection lands on loopback."""
    import newsbeam.transforms.fetch as fetch

    server.routes["/x"] = Route(b"secret", "text/plain")
    monkeypatch.setattr(fetch, "check_url", lambda url, allow_private=False: url)
    f = Fetcher(LOCAL._replace(allow_private_addresses=False))
    try:
        assert _reason(lambda: f.get(server.url("/x"))) == "private_address"
    finally:
        f.close()
    assert server.requests_for("/x") == []  # refused before a byte was sent


def test_gzip_is_decoded_and_user_agent_sent(server, fetcher):
    server.routes["/g"] = Route(b"<p>hello</p>" * 100, "text/html", gzip=True)
    resp = fetcher.get(server.url("/g"))
    assert resp.status == 200 and resp.body == b"<p>hello</p>" * 100
    headers = server.requests_for("/g")[0]
    assert headers["user-agent"].startswith("newsbeam/") and "gzip" in headers["accept-encoding"]


def test_size_caps_declared_actual_and_decompressed(server, fetcher):
    server.routes["/big"] = Route(b"x" * 200_000, "text/html")
    server.routes["/bomb"] = Route(b"\0" * 5_000_000, "text/html", gzip=True)  # ~5 KB on the wire
    assert _reason(lambda: fetcher.get(server.url("/big"))) == "too_large"
    assert _reason(lambda: fetcher.get(server.url("/bomb"))) == "too_large"


def test_redirects_followed_capped_and_loops_detected(server, fetcher):
    server.routes["/r1"] = Route(redirect="/r2")
    server.routes["/r2"] = Route(redirect="/final")
    server.routes["/final"] = Route(b"done", "text/plain")
    resp = fetcher.get(server.url("/r1"))
    assert (resp.status, resp.body, resp.url) == (200, b"done", server.url("/final"))
    server.routes["/loop"] = Route(redirect="/loop2")
    server.routes["/loop2"] = Route(redirect="/loop")
    assert _reason(lambda: fetcher.get(server.url("/loop"))) == "redirect_loop"
    for i in range(6):
        server.routes[f"/c{i}"] = Route(redirect=f"/c{i + 1}")
    assert _reason(lambda: fetcher.get(server.url("/c0"))) == "too_many_redirects"
    server.routes["/out"] = Route(redirect="file:///etc/passwd")
    assert _reason(lambda: fetcher.get(server.url("/out"))) == "unsafe_scheme"


def test_redirect_to_a_private_address_is_checked_on_every_hop(server):
    # The first hop is allowed to be local here only because the redirect
    # check is the point: a public page redirecting to 10.x must be refused.
    server.routes["/to-private"] = Route(redirect="http://10.255.255.1/admin")
    f = Fetcher(LOCAL)
    try:
        import newsbeam.transforms.fetch as fetch_mod
        original = fetch_mod.check_url
        calls = []

        def strict_after_first(url, allow_private=False):
            calls.append(url)
            return original(url, allow_private=len(calls) == 1)

        fetch_mod.check_url = strict_after_first
        try:
            assert _reason(lambda: f.get(server.url("/to-private"))) == "private_address"
        finally:
            fetch_mod.check_url = original
    finally:
        f.close()
    assert calls == [server.url("/to-private"), "http://10.255.255.1/admin"]


def test_slow_server_times_out(server, fetcher):
    server.routes["/slow"] = Route(script=[Reply(200, b"late", {}, delay=2.0)])
    started = time.monotonic()
    assert _reason(lambda: fetcher.get(server.url("/slow"))) == "timeout"
    server.routes["/drip"] = Route(script=[Reply(200, b"x" * 100, {}, drip=0.1)])
    assert _reason(lambda: fetcher.get(server.url("/drip"))) == "timeout"
    assert time.monotonic() - started < 6


def test_robots_txt_is_respected(server, fetcher):
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    assert fetcher.allowed_by_robots(server.url("/news/1"))
    assert not fetcher.allowed_by_robots(server.url("/private/1"))
    assert len(server.requests_for("/robots.txt")) == 1  # cached


class FakeClock:
    """A monotonic clock the test moves by hand (robots.txt cache expiry)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _robots_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as exc:
        fetcher.allowed_by_robots(url)
    return exc.value


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _robots_verdict(server, status: int):
    """A fresh Fetcher's verdict on a page when robots.txt answers ``status`` once."""
    rules = b"User-agent: *\nDisallow: /\n"  # must be ignored unless the status is 2xx
    server.routes["/robots.txt"] = Route(script=[Reply(status, rules, {})])
    f = Fetcher(LOCAL)
    try:
        return f.allowed_by_robots(server.url("/news/1"))
    except FetchError as exc:
        return exc
    finally:
        f.close()


def test_robots_4xx_means_no_rules(server):
    # RFC 9309 2.3.1.3: 401 and 403 are "unavailable" too, not "disallow all".
    # (One server for all statuses: each FeedServer costs 0.5 s to shut down.)
    for status in (404, 401, 403, 410):
        assert _robots_verdict(server, status) is True, status


def test_robots_5xx_or_429_makes_the_host_unreachable(server):
    for status in (500, 503, 429):
        error = _robots_verdict(server, status)
        assert isinstance(error, FetchError), status
        assert error.reason == "robots_unreachable"
        assert error.detail == f"unreachable: {server.url('/robots.txt')} answered {status}"


def test_host_that_does_not_answer_is_unreachable_not_disallowed(fetcher):
    error = _robots_error(fetcher, f"http://127.0.0.1:{_closed_port()}/news/1")
    assert error.reason == "robots_unreachable"
    assert error.detail.startswith("unreachable: connect_error: ")
    assert "refused" in error.detail.lower()


def test_dns_failure_is_unreachable_with_the_dns_error(monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    f = Fetcher(LOCAL._replace(allow_private_addresses=False))
    try:
        error = _robots_error(f, "http://news.example/story")
    finally:
        f.close()
    assert error.reason == "robots_unreachable"
    assert error.detail.startswith("unreachable: dns_error: news.example: ")
    assert "Name or service not known" in error.detail


def test_malformed_url_keeps_its_own_reason(fetcher):
    assert _robots_error(fetcher, "javascript:alert(1)").reason == "unsafe_scheme"
    assert _robots_error(fetcher, "http://example.org:99999/").reason == "bad_url"


def test_robots_redirects_followed_up_to_five(server, fetcher):
    # LOCAL allows 3 redirects for pages; RFC 9309 2.3.1.2 asks for 5 for robots.txt.
    server.routes["/robots.txt"] = Route(redirect="/r1")
    for i in range(1, 5):
        server.routes[f"/r{i}"] = Route(redirect=f"/r{i + 1}")
    server.routes["/r5"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    assert not fetcher.allowed_by_robots(server.url("/private/1"))
    server.routes["/r5"] = Route(redirect="/r6")  # a sixth redirect: too many
    server.routes["/r6"] = Route(b"", "text/plain")
    g = Fetcher(LOCAL)
    try:
        error = _robots_error(g, server.url("/private/1"))
    finally:
        g.close()
    assert error.reason == "robots_unreachable"
    assert error.detail.startswith("unreachable: too_many_redirects: ")


def test_large_robots_txt_is_cut_at_500_kib_not_refused(server, fetcher):
    head = b"User-agent: *\nDisallow: /private/\n"
    late = b"Disallow: /news/late\n"
    # The cut falls inside the last line, after "Disallow: /": read as written
    # it would disallow everything, so the cut line must be dropped.
    filler = b"#" + b"x" * (ROBOTS_MAX_BYTES - len(head) - 11 - 2) + b"\n"
    assert len(head + filler) + len("Disallow: /") == ROBOTS_MAX_BYTES
    server.routes["/robots.txt"] = Route(head + filler + late, "text/plain")
    assert not fetcher.allowed_by_robots(server.url("/private/1"))
    assert fetcher.allowed_by_robots(server.url("/news/late"))
    assert fetcher.allowed_by_robots(server.url("/news/1"))


def test_robots_cache_is_used_within_ttl_and_refreshed_after(server):
    clock = FakeClock()
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    f = Fetcher(LOCAL._replace(robots_ttl=60.0), clock=clock)
    try:
        assert f.allowed_by_robots(server.url("/a"))
        clock.now += 59
        assert not f.allowed_by_robots(server.url("/private/b"))
        assert len(server.requests_for("/robots.txt")) == 1
        clock.now += 2
        server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /\n", "text/plain")
        assert not f.allowed_by_robots(server.url("/a"))  # the new rules are used
        assert len(server.requests_for("/robots.txt")) == 2
    finally:
        f.close()


def test_unreachable_host_is_retried_after_the_short_ttl(server):
    clock = FakeClock()
    server.routes["/robots.txt"] = Route(script=[Reply(503, b"busy", {})])
    f = Fetcher(LOCAL._replace(robots_ttl=3600.0, robots_unreachable_ttl=300.0), clock=clock)
    try:
        assert _robots_error(f, server.url("/a")).reason == "robots_unreachable"
        clock.now += 299
        assert _robots_error(f, server.url("/b")).reason == "robots_unreachable"  # cached
        assert len(server.requests_for("/robots.txt")) == 1
        del server.routes["/robots.txt"]  # the host is back, with no robots.txt (404)
        clock.now += 2
        assert f.allowed_by_robots(server.url("/a"))
        assert len(server.requests_for("/robots.txt")) == 2
    finally:
        f.close()


def test_concurrent_first_asks_fetch_robots_txt_once(server):
    server.routes["/robots.txt"] = Route(script=[Reply(200, b"User-agent: *\nDisallow:\n",
                                                       {}, delay=0.3)])
    f = Fetcher(LOCAL._replace(per_host_concurrency=4))
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            verdicts = list(pool.map(f.allowed_by_robots,
                                     [server.url(f"/n/{i}") for i in range(8)]))
    finally:
        f.close()
    assert verdicts == [True] * 8
    assert len(server.requests_for("/robots.txt")) == 1


def test_robots_cache_key_is_scheme_host_port():
    assert robots_key("http://Example.org/a") == robots_key("http://example.org:80/b")
    assert robots_key("https://example.org/a") != robots_key("http://example.org/a")
    assert robots_key("http://example.org:8080/a") == ("http", "example.org", 8080)
    assert (robots_url(robots_key("http://u:p@Example.org:80/a?q"))
            == "http://example.org/robots.txt")
    assert robots_url(robots_key("http://[::1]:8080/a")) == "http://[::1]:8080/robots.txt"


def test_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_host_gate_spaces_requests():
    gate = HostGate(concurrency=1, delay=0.2)
    started = time.monotonic()
    for _ in range(3):
        with gate("a.example"):
            pass
    with gate("b.example"):
        pass
    assert 0.35 < time.monotonic() - started < 1.5
