"""Fetcher against a real loopback server: limits, redirects, robots, address checks."""

from __future__ import annotations

import time

import pytest

from tests.feedserver import FeedServer, Reply, Route
from transforms.fetch import (FetchConfig, Fetcher, FetchError, HostGate, check_url,
                              is_public_address, parse_retry_after)

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
    import transforms.fetch as fetch

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
        import transforms.fetch as fetch_mod
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


def test_robots_5xx_disallows_and_404_allows(server):
    server.routes["/robots.txt"] = Route(script=[Reply(503, b"busy", {})])
    f = Fetcher(LOCAL)
    try:
        assert not f.allowed_by_robots(server.url("/a"))
    finally:
        f.close()
    del server.routes["/robots.txt"]  # now a 404: no rules
    g = Fetcher(LOCAL)
    try:
        assert g.allowed_by_robots(server.url("/a"))
    finally:
        g.close()


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
