"""A scripted HTTP server on 127.0.0.1 for the feed tests (started by the tests).

Routes map a path to a :class:`Route`: a fixed body with headers, optional
ETag/Last-Modified validation (answers 304 to a matching conditional GET), a
queue of scripted one-off responses served first (500s, Retry-After...), a
delay, or a redirect. Every request is logged with its headers.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers
    drip: float = 0.0  # seconds between body bytes (slow-drip server)


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml"
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    script: list = field(default_factory=list)  # Replies served (and removed) first
    gzip: bool = False
    redirect: Optional[str] = None


class FeedServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.log.append((self.path, headers))
                    route = server.routes.get(self.path)
                    reply = route.script.pop(0) if route is not None and route.script else None
                if reply is None:
                    reply = server._default(route, headers)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, reply: Reply):
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _default(self, route: Optional[Route], headers: dict) -> Reply:
        if route is None:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        if route.redirect is not None:
            return Reply(302, b"", {"Location": route.redirect})
        extra = {"Content-Type": route.content_type}
        if route.etag:
            extra["ETag"] = route.etag
            if headers.get("if-none-match") == route.etag:
                return Reply(304, b"", extra)
        if route.last_modified:
            extra["Last-Modified"] = route.last_modified
            if headers.get("if-modified-since") == route.last_modified and not route.etag:
                return Reply(304, b"", extra)
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        return Reply(200, body, extra)

    def url(self, path: str) -> str:
        return self.base + path

    def requests_for(self, path: str) -> list[dict]:
        with self._lock:
            return [h for p, h in self.log if p == path]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def rss(items: list[dict], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; items have link, title, description, pubDate, guid."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             f"<title>{title}</title><link>http://example.org/</link>"]
    for it in items:
        parts.append("<item>")
        for tag in ("title", "link", "guid", "pubDate"):
            if it.get(tag):
                parts.append(f"<{tag}>{it[tag]}</{tag}>")
        if it.get("description"):
            parts.append(f"<description><![CDATA[{it['description']}]]></description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f"<nav>Home News Sport</nav><article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright</footer></body></html>").encode("utf-8")


_WORDS = ("council budget river harbour school teacher vaccine hospital election senator "
          "court judge football striker orchestra violin museum painting drought farmer "
          "harvest bank interest inflation railway strike airport runway satellite rocket "
          "volcano earthquake glacier forest wildfire bridge tunnel mayor protest library "
          "festival cinema novelist poet chemist laboratory reactor turbine solar battery "
          "factory workers union wages tariff export port ship captain storm flood rescue "
          "police detective museum archive bishop parish market grocer bakery vineyard wine").split()


def story(i: int, words: int = 60) -> list[str]:
    """Two paragraphs that differ from every other story's (for dedup-proof pages)."""
    import random

    rnd = random.Random(i)
    pick = [rnd.choice(_WORDS) for _ in range(words)]
    half = words // 2
    return [f"Story {i}: " + " ".join(pick[:half]) + ".", " ".join(pick[half:]).capitalize() + "."]
