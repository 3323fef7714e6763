"""Polite, bounded, address-checked HTTP for feeds and article pages.

Plain classes and functions, no Beam: :class:`Fetcher` is built once per
worker in ``DoFn.setup`` from a :class:`FetchConfig` (which comes from the
pipeline options) and used by the feed and page fetching steps.

A fetch fails with :class:`FetchError` (``reason`` is the error-row reason) for:
``unsafe_scheme`` (not http/https), ``bad_url``, ``dns_error``,
``private_address`` (loopback, private, link-local, reserved... after DNS
resolution, checked again on every redirect hop), ``too_many_redirects``,
``redirect_loop``, ``timeout`` (connect, read, or the whole transfer past
``total_timeout``), ``connect_error``, ``too_large`` (declared or actual
decoded size over the cap, so gzip bombs stop at the cap too) and, from
:meth:`Fetcher.allowed_by_robots` only, ``robots_unreachable`` (robots.txt
answered 5xx/429 or could not be fetched; the detail names the cause). A
robots.txt disallow is not an error here: ``allowed_by_robots`` returns False
and the caller records it. HTTP statuses are returned, not raised: the caller
decides what a 304, 429 or 500 means.

The address is checked twice: on the resolved name before each hop, and on
the socket's peer right after it connects and before any byte is sent, so a
DNS server answering differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from typing import Callable, Mapping, NamedTuple, Optional
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection

from newsbeam.transforms.dates import parse_rfc822
from newsbeam.transforms.errors import Rejected
from newsbeam.transforms.read import DEFAULT_MAX_BYTES

DEFAULT_USER_AGENT = ("newsbeam/0.1 (news feed reader; +https://github.com/newsbeam/newsbeam)")

# RFC 9309 2.3.1.2, 2.4, 2.5: follow at least five redirects for robots.txt,
# keep a cached copy at most 24 hours, parse at least the first 500 KiB.
ROBOTS_MAX_REDIRECTS = 5
ROBOTS_MAX_TTL = 24 * 3600.0
ROBOTS_MAX_BYTES = 500 * 1024


class FetchConfig(NamedTuple):
    """Politeness and safety settings (from ``IngestOptions``)."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0  # whole transfer: stops slow-drip servers
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = DEFAULT_MAX_BYTES  # a page is an input like a file
    max_redirects: int = 5
    allow_private_addresses: bool = False
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # seconds between request starts to one host
    respect_robots: bool = True
    robots_ttl: float = 3600.0  # seconds a fetched robots.txt (or its 4xx) is trusted
    robots_unreachable_ttl: float = 300.0  # shorter, so a host that comes back is retried soon


class FetchError(Rejected):
    """A request that yields no usable response."""


class Response(NamedTuple):
    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_private: bool = False) -> str:
    """Return the URL when it may be fetched, else raise FetchError.

    Only http/https with a host; unless ``allow_private``, every address the
    host resolves to must be public (one private answer is enough to refuse).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("bad_url", f"{url!r}: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("unsafe_scheme", f"{parts.scheme or 'no'} scheme in {url[:200]!r}")
    host = parts.hostname
    if not host:
        raise FetchError("bad_url", f"no host in {url[:200]!r}")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError("dns_error", f"{host}: {exc}") from exc
    for info in infos:
        address = info[4][0]
        if not is_public_address(address):
            raise FetchError("private_address", f"{host} resolves to {address}")
    return url


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 7 * 24 * 3600))
    when = parse_rfc822(value)
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, min(when.timestamp() - now, 7 * 24 * 3600))


class HostGate:
    """Per-host concurrency limit and minimum delay between request starts.

    Per worker: a distributed runner multiplies the limit by its workers.
    """

    def __init__(self, concurrency: int, delay: float):
        self.concurrency = max(1, concurrency)
        self.delay = max(0.0, delay)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def __call__(self, host: str):
        return _GateSlot(self, host)

    def _acquire(self, host: str) -> None:
        with self._lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self.concurrency))
        slot.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, 0.0))
            self._next_start[host] = start + self.delay
        if start > now:
            time.sleep(start - now)

    def _release(self, host: str) -> None:
        self._slots[host].release()


class _GateSlot:
    def __init__(self, gate: HostGate, host: str):
        self.gate, self.host = gate, host

    def __enter__(self):
        self.gate._acquire(self.host)

    def __exit__(self, *exc):
        self.gate._release(self.host)


class _RefusedPeer(Exception):
    """Raised from inside urllib3 when a new connection reaches a non-public address."""


def _checked_socket(sock):
    address = sock.getpeername()[0]
    if not is_public_address(address):
        sock.close()
        raise _RefusedPeer(address)
    return sock


class _PublicHTTPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self):
        return _checked_socket(super()._new_conn())


class _PublicHTTPSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self):
        return _checked_socket(super()._new_conn())


class _PublicHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    """Checks the connected peer, so the address used is the address checked."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}


def robots_key(url: str) -> tuple[str, str, int]:
    """The robots.txt cache key of a URL: (scheme, host, port), default port filled in.

    RFC 9309 2.1: a robots.txt file applies to one scheme, host and port only.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


def robots_url(key: tuple[str, str, int]) -> str:
    """The robots.txt URL for a :func:`robots_key` (default port left out)."""
    scheme, host, port = key
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    return f"{scheme}://{host}/robots.txt"


def parse_robots(body: bytes, truncated: bool = False) -> urllib.robotparser.RobotFileParser:
    """A parser for a robots.txt body (UTF-8 per RFC 9309; a BOM is ignored).

    When ``truncated``, the last, possibly cut line is dropped: a cut
    ``Disallow: /private`` could otherwise read as ``Disallow: /`` (everything).
    """
    if truncated:
        body = body[:body.rfind(b"\n") + 1]
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(body.decode("utf-8-sig", "replace").splitlines())
    return parser


def no_robots_rules() -> urllib.robotparser.RobotFileParser:
    """A parser that allows everything (robots.txt "unavailable", RFC 9309 2.3.1.3)."""
    parser = urllib.robotparser.RobotFileParser()
    parser.allow_all = True
    return parser


class _RobotsEntry(NamedTuple):
    """One host's cached robots.txt outcome: rules, or why the host is unreachable."""

    expires: float  # on the Fetcher's clock
    parser: Optional[urllib.robotparser.RobotFileParser]  # None: unreachable
    unreachable: str = ""  # FetchError detail when parser is None


class Fetcher:
    """One HTTP session plus robots.txt cache and host gate, for one worker.

    ``clock`` (monotonic seconds) times the robots.txt cache; tests inject one.
    """

    def __init__(self, config: FetchConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.session = requests.Session()
        if not config.allow_private_addresses:
            for scheme in ("http://", "https://"):
                self.session.mount(scheme, _PublicOnlyAdapter())
        self.session.headers["User-Agent"] = config.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.trust_env = False  # no proxies or netrc from the environment
        self.gate = HostGate(config.per_host_concurrency, config.per_host_delay)
        self._robots: dict[tuple[str, str, int], _RobotsEntry] = {}
        self._robots_locks: dict[tuple[str, str, int], threading.Lock] = {}
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, headers: Optional[Mapping[str, str]] = None,
            max_bytes: Optional[int] = None, max_redirects: Optional[int] = None,
            truncate: bool = False) -> Response:
        """GET with manual redirects (each hop checked), size cap and deadline.

        ``max_bytes`` and ``max_redirects`` default to the config's page cap and
        redirect limit. With ``truncate`` a body over ``max_bytes`` is cut at
        the cap instead of failing with ``too_large``.
        """
        cfg = self.config
        max_bytes = cfg.max_page_bytes if max_bytes is None else max_bytes
        max_redirects = cfg.max_redirects if max_redirects is None else max_redirects
        deadline = time.monotonic() + cfg.total_timeout
        seen = set()
        current = url
        for _hop in range(max_redirects + 1):
            check_url(current, cfg.allow_private_addresses)
            if current in seen:
                raise FetchError("redirect_loop", f"{url} loops at {current}")
            seen.add(current)
            status, resp_headers, body = self._one(current, headers, max_bytes, deadline, truncate)
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                current = urljoin(current, resp_headers["location"].strip())
                continue
            return Response(current, status, resp_headers, body)
        raise FetchError("too_many_redirects", f"{url}: more than {max_redirects} redirects")

    def _one(self, url: str, headers, max_bytes: int, deadline: float, truncate: bool = False):
        cfg = self.config
        host = urlsplit(url).netloc.lower()
        with self.gate(host):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError("timeout", f"{url}: no time left")
            try:
                resp = self.session.get(
                    url, headers=dict(headers or {}), allow_redirects=False, stream=True,
                    timeout=(min(cfg.connect_timeout, remaining), min(cfg.read_timeout, remaining)))
            except _RefusedPeer as exc:
                raise FetchError("private_address", f"{url} connected to {exc}") from exc
            except requests.exceptions.Timeout as exc:
                raise FetchError("timeout", f"{url}: {exc}") from exc
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                raise FetchError("connect_error", f"{url}: {type(exc).__name__}: {exc}") from exc
            try:
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                declared = resp_headers.get("content-length", "")
                if not truncate and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError("too_large", f"{url}: Content-Length {declared} > {max_bytes}")
                return resp.status_code, resp_headers, self._read_body(resp, url, max_bytes,
                                                                       deadline, truncate)
            finally:
                resp.close()

    def _read_body(self, resp, url: str, max_bytes: int, deadline: float, truncate: bool) -> bytes:
        """The decoded body, at most ``max_bytes`` (cut there with ``truncate``, else too_large)."""
        chunks, size = [], 0
        try:
            # read1 returns after one socket read, so a slow-drip server
            # meets the deadline; decoding gzip/deflate here makes the cap
            # count decoded bytes.
            while True:
                chunk = resp.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                if size + len(chunk) > max_bytes:
                    if not truncate:
                        raise FetchError("too_large", f"{url}: more than {max_bytes} bytes")
                    chunks.append(chunk[:max_bytes - size])
                    break
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise FetchError("timeout", f"{url}: transfer exceeded "
                                                f"{self.config.total_timeout}s")
                chunks.append(chunk)
        except requests.exceptions.Timeout as exc:
            raise FetchError("timeout", f"{url}: {exc}") from exc
        except (requests.exceptions.RequestException, OSError,
                urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                raise FetchError("timeout", f"{url}: {exc}") from exc
            raise FetchError("connect_error", f"{url}: {type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)

    def allowed_by_robots(self, url: str) -> bool:
        """robots.txt verdict for our User-Agent on ``url`` (RFC 9309 2.3.1).

        True when allowed, False only when the host's robots.txt disallows it.
        robots.txt answering 2xx is parsed and obeyed; 4xx ("unavailable",
        401 and 403 included) means no rules. A 5xx or 429 answer, or a fetch
        failure (DNS, connect, timeout, TLS, redirects...), makes the host
        unreachable: raises ``FetchError("robots_unreachable", "unreachable: <cause>")``
        so the caller records the real cause and fetches nothing from that host.
        A malformed URL raises its own ``bad_url``/``unsafe_scheme``.

        Cached per (scheme, host, port): ``robots_ttl`` after an answer,
        ``robots_unreachable_ttl`` after a failure, both capped at 24 hours.
        """
        if not self.config.respect_robots:
            return True
        check_url(url, allow_private=True)  # syntax only: no DNS lookup here
        entry = self._robots_entry(robots_key(url))
        if entry.parser is None:
            raise FetchError("robots_unreachable", entry.unreachable)
        return entry.parser.can_fetch(self.config.user_agent, url)

    def _robots_entry(self, key: tuple[str, str, int]) -> _RobotsEntry:
        """The cached entry for a host, fetched again once expired."""
        with self._robots_lock:
            host_lock = self._robots_locks.setdefault(key, threading.Lock())
        # One fetch per host even when many page fetches ask at once; others wait for it.
        with host_lock:
            entry = self._robots.get(key)
            if entry is None or entry.expires <= self.clock():
                entry = self._load_robots(key)
                self._robots[key] = entry
            return entry

    def _load_robots(self, key: tuple[str, str, int]) -> _RobotsEntry:
        """Fetch and classify one host's robots.txt (RFC 9309 2.3.1.1-2.3.1.4)."""
        cfg = self.config
        url = robots_url(key)
        try:
            resp = self.get(url, max_bytes=ROBOTS_MAX_BYTES, max_redirects=ROBOTS_MAX_REDIRECTS,
                            truncate=True)
        except FetchError as exc:
            return self._unreachable(f"unreachable: {exc.reason}: {exc.detail}")
        if 200 <= resp.status < 300:
            parser = parse_robots(resp.body, truncated=len(resp.body) >= ROBOTS_MAX_BYTES)
        elif 400 <= resp.status < 500 and resp.status != 429:
            parser = no_robots_rules()
        else:
            # 5xx, and 429 (the host asks us to slow down, not "no file"), as
            # Google does; also a 3xx without Location or a 1xx.
            return self._unreachable(f"unreachable: {url} answered {resp.status}")
        return _RobotsEntry(self.clock() + min(cfg.robots_ttl, ROBOTS_MAX_TTL), parser)

    def _unreachable(self, detail: str) -> _RobotsEntry:
        ttl = min(self.config.robots_unreachable_ttl, ROBOTS_MAX_TTL)
        return _RobotsEntry(self.clock() + ttl, None, detail)
