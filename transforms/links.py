"""Link identity: an item's link made absolute and safe (http/https with a
host), and normalised into the key that says two links are one story
(lower-case host, no default port, fragment or tracking parameters)."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$", re.I)


def safe_link(link: Optional[str], base: str) -> Optional[str]:
    """``link`` made absolute against ``base``; None unless http/https with a host."""
    if not link or not isinstance(link, str):
        return None
    try:
        absolute = urljoin(base, link.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def normalise_link(url: str) -> str:
    """The item key: lower-case scheme/host, no default port, fragment or tracking params."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) \
        else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))
