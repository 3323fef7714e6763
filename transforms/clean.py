"""Clean stage: ``RawDocument`` -> ``Article`` (or ``ErrorRecord``).

``CleanArticles`` takes the reader's documents and returns
``{"articles": PCollection[Article], "errors": PCollection[ErrorRecord]}``.
Every input ends as exactly one of the two.

Per ``kind``:

* ``text``: headline = first plausible headline line (navigation crumbs above
  it are dropped), body through :func:`transforms.clean_text.clean_text`;
* ``json``: ``title`` when given, otherwise derived as for text; body through
  the plain-text cleaner;
* ``html``: trafilatura + residual-boilerplate pass
  (:func:`transforms.clean_html.extract_html`) with page metadata;
* ``feed``: the fetched page (``body``) when it yields an article
  (``text_source="page"``, ``page_status="ok"``), else the feed's own
  ``summary`` (HTML or text, ``text_source="feed"``) with ``page_status`` saying
  why the page was not used: the fetch's reason (``http_404``, ``timeout``,
  ``no_link``, ...) or ``no_article`` (fetched, but no article in it). When
  the summary gives no article either, the item's one error row ends its
  ``detail`` with ``; page: <page_status>``.

Rejection reasons (``ErrorRecord.error``): ``empty`` (nothing to clean),
``too_large`` (over ``max_chars``), ``not_html`` (an HTML document without
markup), ``no_article`` (no main text, or only boilerplate), ``too_short``
(fewer than ``min_words`` words left), ``timeout`` (the extraction exceeded
``timeout_seconds``), ``extractor_crash`` (the extractor raised or its worker
died).

Each document is cleaned in a child process owned by the DoFn (created in
``setup``, see ``transforms.sandbox``) under a time and memory limit, because
Beam calls DoFns from worker threads where ``signal.alarm`` cannot interrupt a
runaway parser. A child that times out or dies is replaced.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Iterable, NamedTuple, Optional

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from newsbeam.schemas import Article, RawDocument
from newsbeam.transforms import warm
from newsbeam.transforms.clean_html import ExtractionError, extract_html, looks_like_html
from newsbeam.transforms.clean_text import clean_text
from newsbeam.transforms.dates import find_dateline, parse_date_text
from newsbeam.transforms.errors import ERRORS, Rejected, reject
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure
from newsbeam.transforms.text import has_words, word_count


class CleanConfig(NamedTuple):
    """Plain configuration values (picklable, passed to the worker process)."""

    min_words: int = 20
    # A feed's own summary is short by nature (a headline and a line or two):
    # keep it when the page fails rather than losing the item.
    min_summary_words: int = 5
    max_chars: int = 5_000_000
    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    # Skip trafilatura's fallback comparison with its readability/jusText copies:
    # on the dev benchmark it lowered F1 (0.973 vs 0.977) and costs ~20% time.
    fast: bool = True
    # Limits of the child process that cleans (transforms.sandbox); a timeout
    # of None cleans in-process, without limits. Extraction rarely needs more
    # than a few hundred MB; a pathological page is stopped, not the worker.
    timeout_seconds: Optional[float] = 10.0
    memory_bytes: Optional[int] = 2 * 1024 * 1024 * 1024


class CleanFailure(Rejected):
    """A document the clean stage rejects."""


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` (py3langid), "und" when there is too little text."""
    if not has_words(text, 5):
        return "und"
    import py3langid

    lang, _ = py3langid.classify(text[:1500])
    return lang or "und"


def _strip_markup(text: str) -> str:
    """Feed summaries are often HTML fragments; reduce them to lines of text."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except Exception:  # malformed fragment: fall back to a tag-stripping regex
        return html_lib.unescape(re.sub(r"<[^>]+>", "\n", text))
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        el.tail = "\n" + (el.tail or "")
        if el.text:
            el.text = "\n" + el.text
    return root.text_content()


class _Body(NamedTuple):
    title: Optional[str]
    paragraphs: list
    published_at: Optional[int]
    date_source: Optional[str]  # "html" / "text" when found in the content
    url: Optional[str]
    author: Optional[str]
    site_name: Optional[str]
    text_source: str
    language_hint: Optional[str]


def _from_text(text: str, title: Optional[str], text_source: str) -> _Body:
    cleaned = clean_text(text, headline=title.strip() if title and title.strip() else None)
    date = parse_date_text(find_dateline(cleaned.paragraphs))
    paragraphs = list(cleaned.paragraphs)
    if date is not None and paragraphs and word_count(paragraphs[0]) <= 8 and find_dateline(paragraphs[:1]):
        paragraphs = paragraphs[1:]  # a standalone dateline is metadata, not body
    return _Body(cleaned.title, paragraphs, date, "text" if date is not None else None,
                 None, None, None, text_source, None)


def _from_html(html: str, url: Optional[str], config: CleanConfig, text_source: str) -> _Body:
    ext = extract_html(html, url, favor_precision=config.favor_precision,
                       favor_recall=config.favor_recall, include_comments=config.include_comments,
                       include_tables=config.include_tables, fast=config.fast)
    date = parse_date_text(ext.published)
    return _Body(ext.title, ext.paragraphs, date, "html" if date is not None else None,
                 ext.url, ext.author, ext.site_name, text_source, ext.html_lang)


def _body_of(raw: RawDocument, config: CleanConfig) -> _Body:
    if raw.kind in ("text", "json"):
        if not raw.body.strip():
            raise CleanFailure("empty", "no text")
        return _from_text(raw.body, raw.title, "file")
    if raw.kind == "html":
        if not raw.body.strip():
            raise CleanFailure("empty", "empty page")
        try:
            return _from_html(raw.body, raw.url, config, "page")
        except ExtractionError as exc:
            raise CleanFailure(exc.reason, exc.detail) from exc
    if raw.kind == "feed":
        page_error = None
        if raw.body and raw.body.strip():
            try:
                body = _from_html(raw.body, raw.url, config, "page")
                if word_count(" ".join(body.paragraphs)) >= config.min_words:
                    return body
                page_error = "page text too short"
            except ExtractionError as exc:
                page_error = exc.detail
        summary = raw.summary or ""
        if looks_like_html(summary) or "<" in summary:
            summary = _strip_markup(summary)
        if not summary.strip():
            raise CleanFailure("no_article", "no article in the feed summary" +
                               (f" (the page: {page_error})" if page_error else ""))
        body = _from_text(summary, raw.title, "feed")
        return body
    raise CleanFailure("unknown_kind", f"unknown document kind {raw.kind!r}")


def page_status(raw: RawDocument, text_source: Optional[str]) -> Optional[str]:
    """A feed item's ``page_status``: "ok" when its text is the page's,
    "no_article" when a page was fetched but gave no article, else the fetch's
    reason. Other documents keep theirs (None for files)."""
    if raw.kind != "feed":
        return raw.page_status
    if text_source == "page":
        return "ok"
    if raw.page_status == "ok" or raw.body.strip():
        return "no_article"
    return raw.page_status


def clean_document(raw: RawDocument, config: CleanConfig = CleanConfig()) -> Article:
    """Clean one document into an ``Article``; raises :class:`CleanFailure` with a reason
    (for a feed item, the detail also says why its page was not used)."""
    try:
        return _clean_document(raw, config)
    except CleanFailure as exc:
        if raw.kind != "feed":
            raise
        page = page_status(raw, None) or "not fetched"
        raise CleanFailure(exc.reason, f"{exc.detail}; page: {page}") from exc


def _clean_document(raw: RawDocument, config: CleanConfig) -> Article:
    if len(raw.body) + len(raw.summary or "") > config.max_chars:
        raise CleanFailure("too_large", f"{len(raw.body)} characters > limit {config.max_chars}")
    body = _body_of(raw, config)
    text = "\n\n".join(body.paragraphs)
    n = word_count(text)
    if n == 0:
        raise CleanFailure("no_article", "nothing left after cleaning")
    least = config.min_summary_words if body.text_source == "feed" else config.min_words
    if n < least:
        raise CleanFailure("too_short", f"{n} words < {least}")
    title = (raw.title if raw.title and raw.title.strip() else body.title) or ""
    if raw.published_at is not None:
        published, date_source = raw.published_at, raw.date_source or "ingested"
    elif body.published_at is not None:
        published, date_source = body.published_at, body.date_source
    else:
        published, date_source = None, "ingested"
    language = detect_language(text)
    if language == "und" and body.language_hint:
        language = body.language_hint
    return Article(
        article_id=article_id(raw),
        url=body.url or raw.url or raw.locator,
        source=raw.source,
        title=title.strip(),
        text=text,
        published_at=published,
        date_source=date_source,
        ingested_at=raw.ingested_at,
        language=language,
        themes=[],
        entities=[],
        word_count=np.int32(n),
        duplicates=[],
        theme_scores=[],
        text_source=body.text_source,
        author=body.author,
        site_name=body.site_name,
        content_hash="",
        page_status=page_status(raw, body.text_source),
    )


def _clean_in_worker(raw: RawDocument, config: CleanConfig):
    """Runs in the worker process: returns ("ok", article) or ("error", reason, detail)."""
    try:
        return ("ok", clean_document(raw, config))
    except CleanFailure as exc:
        return ("error", exc.reason, exc.detail)
    except RecursionError as exc:
        return ("error", "extractor_crash", f"markup too deeply nested: {exc}")
    except Exception as exc:  # any extractor bug becomes an error row, with its type
        return ("error", "extractor_crash", f"{type(exc).__name__}: {exc}"[:500])


def _warm_up() -> None:
    import py3langid  # imported once, before the first document's time limit

    py3langid.classify("warm up the language model")


class Cleaner:
    """Cleans documents in a :class:`~newsbeam.transforms.sandbox.Sandbox` under
    ``config.timeout_seconds`` per document and ``config.memory_bytes``
    (``timeout_seconds=None``: in this process, without limits).

    One per DoFn instance, started in ``setup``; also used by the benchmark.
    """

    _REASONS = {"timeout": "timeout", "memory_limit": "extractor_crash",
                "crashed": "extractor_crash"}

    def __init__(self, config: CleanConfig = CleanConfig()):
        self.config = config
        self._sandbox = Sandbox(config.timeout_seconds, config.memory_bytes, warm_up=_warm_up)

    def start(self) -> "Cleaner":
        self._sandbox.start()
        return self

    def clean(self, raw: RawDocument):
        """("ok", Article) or ("error", reason, detail)."""
        try:
            return self._sandbox.call(_clean_in_worker, raw, self.config)
        except SandboxFailure as exc:
            return ("error", self._REASONS[exc.reason], f"cleaning: {exc.detail}")

    def close(self) -> None:
        self._sandbox.close()

    def __enter__(self) -> "Cleaner":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class _CleanDoFn(beam.DoFn):
    def __init__(self, config: CleanConfig):
        self._config = config
        self._cleaner: Optional[Cleaner] = None
        self._kept = Metrics.counter("clean", "articles")

    def _key(self):
        return ("cleaner", self._config)

    def setup(self):
        # Warm across a local follower's polls: the worker's imports take seconds.
        self._cleaner = warm.acquire(self._key(), lambda: Cleaner(self._config).start())

    def teardown(self):
        if self._cleaner is not None:
            warm.release(self._key(), self._cleaner, Cleaner.close)
            self._cleaner = None

    def process(self, raw: RawDocument) -> Iterable:
        result = self._cleaner.clean(raw)
        if result[0] == "ok":
            self._kept.inc()
            yield result[1]
            return
        _, reason, detail = result
        yield reject("clean", raw.locator or raw.source, reason, detail,
                     article_id=article_id(raw))


class CleanArticles(beam.PTransform):
    """``PCollection[RawDocument]`` -> ``{"articles": Article, "errors": ErrorRecord}``.

    See the module docstring for the per-kind rules and rejection reasons.
    """

    def __init__(self, config: CleanConfig = CleanConfig(), label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, docs):
        results = docs | "CleanDocuments" >> beam.ParDo(
            _CleanDoFn(self._config)).with_outputs(ERRORS, main="articles")
        return {"articles": results.articles, "errors": results.errors}
