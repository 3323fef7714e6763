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
decoded size over the cap, so gzip bombs stop at the cap too) and
``robots_disallowed``. HTTP statuses are returned, not raised: the caller
decides what a 304, 429 or 500 means.

The address is checked twice: on the resolved name before each hop, and on
the socket's peer right after it connects and before any byte is sent, so a
DNS server answering differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import socket
import threading
import time
import urllib.robotparser
from typing import Mapping, NamedTuple, Optional
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection

from transforms.errors import Rejected

DEFAULT_USER_AGENT = ("newsbeam/0.1 (news feed reader; +https://github.com/newsbeam/newsbeam)")


class FetchConfig(NamedTuple):
    """Politeness and safety settings (from ``IngestOptions``)."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0  # whole transfer: stops slow-drip servers
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    allow_private_addresses: bool = False
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # seconds between request starts to one host
    respect_robots: bool = True
    robots_ttl: float = 3600.0


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
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
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


class Fetcher:
    """One HTTP session plus robots.txt cache and host gate, for one worker."""

    def __init__(self, config: FetchConfig):
        self.config = config
        self.session = requests.Session()
        if not config.allow_private_addresses:
            for scheme in ("http://", "https://"):
                self.session.mount(scheme, _PublicOnlyAdapter())
        self.session.headers["User-Agent"] = config.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.trust_env = False  # no proxies or netrc from the environment
        self.gate = HostGate(config.per_host_concurrency, config.per_host_delay)
        self._robots: dict[str, tuple[float, Optional[urllib.robotparser.RobotFileParser]]] = {}
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, headers: Optional[Mapping[str, str]] = None,
            max_bytes: Optional[int] = None) -> Response:
        """GET with manual redirects (each hop checked), size cap and deadline."""
        cfg = self.config
        max_bytes = cfg.max_page_bytes if max_bytes is None else max_bytes
        deadline = time.monotonic() + cfg.total_timeout
        seen = set()
        current = url
        for _hop in range(cfg.max_redirects + 1):
            check_url(current, cfg.allow_private_addresses)
            if current in seen:
                raise FetchError("redirect_loop", f"{url} loops at {current}")
            seen.add(current)
            status, resp_headers, body = self._one(current, headers, max_bytes, deadline)
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                current = urljoin(current, resp_headers["location"].strip())
                continue
            return Response(current, status, resp_headers, body)
        raise FetchError("too_many_redirects", f"{url}: more than {cfg.max_redirects} redirects")

    def _one(self, url: str, headers, max_bytes: int, deadline: float):
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
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError("too_large", f"{url}: Content-Length {declared} > {max_bytes}")
                chunks, size = [], 0
                try:
                    # read1 returns after one socket read, so a slow-drip server
                    # meets the deadline; decoding gzip/deflate here makes the cap
                    # count decoded bytes.
                    while True:
                        chunk = resp.raw.read1(64 * 1024, decode_content=True)
                        if not chunk:
                            break
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchError("too_large", f"{url}: more than {max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise FetchError("timeout", f"{url}: transfer exceeded "
                                                        f"{cfg.total_timeout}s")
                        chunks.append(chunk)
                except requests.exceptions.Timeout as exc:
                    raise FetchError("timeout", f"{url}: {exc}") from exc
                except (requests.exceptions.RequestException, OSError,
                        urllib3.exceptions.HTTPError) as exc:
                    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                        raise FetchError("timeout", f"{url}: {exc}") from exc
                    raise FetchError("connect_error", f"{url}: {type(exc).__name__}: {exc}") from exc
                return resp.status_code, resp_headers, b"".join(chunks)
            finally:
                resp.close()

    def allowed_by_robots(self, url: str) -> bool:
        """robots.txt verdict for our User-Agent (RFC 9309 semantics).

        4xx robots.txt: everything allowed; 5xx or unreachable: nothing allowed
        (the server may be overloaded). Cached per host for ``robots_ttl``.
        """
        if not self.config.respect_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = time.monotonic()
        with self._robots_lock:
            cached = self._robots.get(origin)
        if cached is None or cached[0] < now:
            parser = self._load_robots(origin)
            cached = (now + self.config.robots_ttl, parser)
            with self._robots_lock:
                self._robots[origin] = cached
        parser = cached[1]
        if parser is None:
            return False
        return parser.can_fetch(self.config.user_agent, url)

    def _load_robots(self, origin: str) -> Optional[urllib.robotparser.RobotFileParser]:
        parser = urllib.robotparser.RobotFileParser()
        try:
            resp = self.get(origin + "/robots.txt", max_bytes=512 * 1024)
        except FetchError as exc:
            if exc.reason in ("too_large",):
                parser.parse([])  # unusable file: treat as no rules, like a 4xx
                return parser
            return None
        if 400 <= resp.status < 500:
            parser.parse([])
        elif resp.status >= 500:
            return None
        else:
            parser.parse(resp.body.decode("utf-8", "replace").splitlines())
        return parser
