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
  ``detail`` with ``; page: <page_status>``. A summary loses its pictures
  with their captions and credits (``<figure>``, ``<figcaption>``, lines
  repeating an image's ``alt``, "Photo: Reuters", "(Image credit: ...)",
  see ``transforms.media``) and its "Continue reading" link; a short one
  is kept whole when the body-paragraph rules would leave less than
  ``min_summary_words`` (a summary restating its headline, one without a
  sentence end, a video item's "Watch the moment ..."), unless it is
  boilerplate.

``kept_ratio``: words of the headline and body kept over the words the
cleaner was given (text/JSON: title and text; feed summary: its text less
pictures; page: trafilatura's extraction with its title, before the line
rules). Rows below ``CleanConfig.low_kept`` for their ``text_source`` are
counted by :class:`CountLowKept` for the run summary.

Language: the language of the text before the line rules (py3langid) decides
which rules run, since the rules built on English words delete prose of other
languages (see :func:`transforms.clean_text.clean_paragraphs`); the article's
``language`` is detected again on the cleaned body. Words are counted as
:func:`transforms.text.word_count` says, which also counts Chinese, Japanese
and Thai text (written without spaces) for ``min_words``.

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
from newsbeam.transforms.language import detect_language
from newsbeam.transforms.media import caption_reason, strip_figures, strip_media
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure
from newsbeam.transforms.text import line_key, word_count


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
    # True skips trafilatura's fallback comparison with its readability/jusText
    # copies: faster, and better on the pages it was once tuned on, but worse
    # on sources it was not (benchmarks/extraction.py, leave-one-source-out).
    fast: bool = False
    # Limits of the child process that cleans (transforms.sandbox); a timeout
    # of None cleans in-process, without limits. Extraction rarely needs more
    # than a few hundred MB; a pathological page is stopped, not the worker.
    timeout_seconds: Optional[float] = 10.0
    memory_bytes: Optional[int] = 2 * 1024 * 1024 * 1024
    # An article whose ``kept_ratio`` is below its text source's floor is
    # counted in the run summary (see :func:`kept_little`). Measured (Dec 2026):
    # the seeds, built with boilerplate, keep 0.56-1.0 of their words; clean
    # JSON articles (eval topics/bbc, 1,113) keep 1.0 at the median and 0.73 at
    # the 1st percentile, the newscluster records (372) 0.45 there: under 0.5,
    # 8 of 1,485, is more than boilerplate. Pages lose only short boilerplate
    # lines after trafilatura: 691 eval pages keep 0.67 at the least (terms-of-use
    # lines), 0.9 at the 1st percentile. Feed summaries (872 items of 33 real
    # feeds) keep 0.72 at the 1st percentile; 2 fall under 0.5.
    low_kept: tuple = (("file", 0.5), ("page", 0.6), ("feed", 0.5))


class CleanFailure(Rejected):
    """A document the clean stage rejects."""


def _strip_markup(text: str) -> tuple[str, frozenset]:
    """Feed summaries are often HTML fragments; reduce them to lines of text.

    Pictures go with their captions and credits (``<figure>``,
    ``<figcaption>``, ``<picture>``), and so do galleries and players
    (:func:`transforms.media.strip_media`). Also returns the ``line_key`` of
    every image's ``alt`` text: a line repeating one is a caption.
    """
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except Exception:  # malformed fragment: fall back to a tag-stripping regex
        return html_lib.unescape(re.sub(r"<[^>]+>", "\n", text)), frozenset()
    alts = frozenset(line_key(img.get("alt") or "") for img in root.iter("img")) - {""}
    strip_figures(root)
    strip_media(root, min_words=5)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        el.tail = "\n" + (el.tail or "")
        if el.text:
            el.text = "\n" + el.text
    return root.text_content(), alts


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
    # What the cleaner was given, in words (the denominator of ``kept_ratio``),
    # and what it removed, as (line, reason) pairs in input order.
    input_words: int = 0
    removed: tuple = ()
    # A page's lines as trafilatura returned them, in order, with the reason
    # a line rule gives against each (``clean_html.Extracted.decisions``).
    decisions: tuple = ()


def _from_text(text: str, title: Optional[str], text_source: str) -> _Body:
    # The raw text's language decides which line rules run (English vocabulary
    # rules would delete prose of other languages); the article's own
    # ``language`` is detected again on the cleaned body.
    headline = title.strip() if title and title.strip() else None
    cleaned = clean_text(text, headline=headline,
                         language=detect_language(f"{headline}\n{text}" if headline else text))
    date = parse_date_text(find_dateline(cleaned.paragraphs))
    paragraphs = list(cleaned.paragraphs)
    removed = list(cleaned.removed)
    if date is not None and paragraphs and word_count(paragraphs[0]) <= 8 and find_dateline(paragraphs[:1]):
        removed.append((paragraphs[0], "dateline"))
        paragraphs = paragraphs[1:]  # a standalone dateline is metadata, not body
    return _Body(cleaned.title, paragraphs, date, "text" if date is not None else None,
                 None, None, None, text_source, None,
                 input_words=word_count(text) + word_count(headline or ""), removed=tuple(removed))


def _from_html(html: str, url: Optional[str], config: CleanConfig, text_source: str) -> _Body:
    ext = extract_html(html, url, favor_precision=config.favor_precision,
                       favor_recall=config.favor_recall, include_comments=config.include_comments,
                       include_tables=config.include_tables, fast=config.fast)
    date = parse_date_text(ext.published)
    # The denominator is what trafilatura extracted (its title, every line it
    # returned): the ratio measures the line rules, not the page's chrome.
    extracted = [ext.title or ""] + list(ext.paragraphs) + [
        line for line, why in ext.removed if why != "headline"]  # the echo is the title again
    return _Body(ext.title, ext.paragraphs, date, "html" if date is not None else None,
                 ext.url, ext.author, ext.site_name, text_source, ext.html_lang,
                 input_words=sum(word_count(t) for t in extracted), removed=tuple(ext.removed),
                 decisions=ext.decisions)


# Links to the page at the end of a feed summary: "Continue reading…", "View Entire Post ›".
_READ_ON = re.compile(r"^\W*(?:continue reading|keep reading|read on|view (?:the )?entire "
                      r"(?:post|story|article)|read (?:the )?(?:full|rest|whole|entire)\b.*)\W*$",
                      re.I)
# Rules written for article bodies that drop the one paragraph of a summary:
# a summary restating its headline ("repeated"), one without a sentence end
# ("caption", "footer"), a video item's description ("Watch the moment ...").
_SUMMARY_KEEPS = ("repeated", "caption", "footer", "off_topic", "nav")
_MEDIA_ITEM = re.compile(r"^\W*(?:watch|listen)\b", re.I)


def _from_summary(summary: str, title: Optional[str], config: CleanConfig,
                  alts: frozenset = frozenset()) -> _Body:
    """A feed item's own text: its lines less captions, credits and links to the page,
    then the plain-text rules. A summary is short by nature: when those rules leave
    fewer than ``min_summary_words`` words, the lines they dropped for the shape
    or position of a body paragraph come back (their vocabulary verdicts stand).
    ``alts``: keys (``line_key``) of the summary's image ``alt`` texts."""
    lines = [ln.strip() for ln in summary.split("\n") if ln.strip()]
    dropped = [(ln, "caption" if line_key(ln) in alts else caption_reason(ln)
                 or ("boilerplate" if _READ_ON.match(ln) else None)) for ln in lines]
    if not any(why is None for _, why in dropped):
        # Lines repeating an alt text are all there is: the image was described
        # with the summary, not the summary with a caption.
        dropped = [(ln, None if line_key(ln) in alts else why) for ln, why in dropped]
    text_lines = [ln for ln, why in dropped if why is None]
    if not text_lines:
        raise CleanFailure("no_article",
                           "only captions, credits or links to the page in the feed summary")
    body = _from_text("\n".join(text_lines), title, "feed")
    removed = [(ln, why) for ln, why in dropped if why] + list(body.removed)
    input_words = word_count(summary) + word_count(title or "")
    if word_count(" ".join(body.paragraphs)) < config.min_summary_words:
        why = {ln: reason for ln, reason in body.removed}
        kept = set(body.paragraphs)
        back = [ln for ln in text_lines if ln in kept or why.get(ln) in _SUMMARY_KEEPS
                or (why.get(ln) == "call_to_action" and _MEDIA_ITEM.match(ln))]
        if not back and body.title and body.title in text_lines and not (title and title.strip()):
            back = [body.title]  # the summary's one line was taken for its headline
        if word_count(" ".join(back)) > word_count(" ".join(body.paragraphs)):
            removed = [(ln, r) for ln, r in removed if ln not in back]
            return body._replace(paragraphs=back, removed=tuple(removed), input_words=input_words)
    return body._replace(removed=tuple(removed), input_words=input_words)


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
        summary, alts = raw.summary or "", frozenset()
        if looks_like_html(summary) or "<" in summary:
            summary, alts = _strip_markup(summary)
        elif "&" in summary:
            summary = html_lib.unescape(summary)  # escaped twice: "[&#8230;]"
        if not summary.strip():
            raise CleanFailure("no_article", "no article in the feed summary" +
                               (f" (the page: {page_error})" if page_error else ""))
        return _from_summary(summary, raw.title, config, alts)
    raise CleanFailure("unknown_kind", f"unknown document kind {raw.kind!r}")


def clean_body(raw: RawDocument, config: CleanConfig = CleanConfig()) -> _Body:
    """What the cleaner makes of one document before the article checks: headline,
    kept paragraphs, removed ``(line, reason)`` pairs and ``input_words``
    (for ``newsbeam explain``). Raises :class:`CleanFailure` as :func:`clean_document`."""
    if len(raw.body) + len(raw.summary or "") > config.max_chars:
        raise CleanFailure("too_large", f"{len(raw.body)} characters > limit {config.max_chars}")
    return _body_of(raw, config)


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
    return article_from_body(raw, clean_body(raw, config), config)


def article_from_body(raw: RawDocument, body: _Body, config: CleanConfig = CleanConfig()) -> Article:
    """The ``Article`` of ``raw`` from its cleaned ``body`` (:func:`clean_body`); raises
    :class:`CleanFailure` (``no_article``, ``too_short``) when too little is left."""
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
        kept_ratio=kept_ratio(body, n),
    )


def kept_ratio(body: _Body, n: int) -> float:
    """Words kept (headline + ``n`` body words) over the words the cleaner was given
    (``_Body.input_words``), at most 1, to four decimals."""
    if body.input_words <= 0:
        return 1.0
    return round(min(1.0, (word_count(body.title or "") + n) / body.input_words), 4)


def kept_little(article: Article, config: CleanConfig = CleanConfig()) -> bool:
    """Whether ``article`` kept less of its input than its text source's floor
    (``CleanConfig.low_kept``): rules that removed more than they should have."""
    floor = dict(config.low_kept).get(article.text_source)
    return floor is not None and article.kept_ratio is not None and article.kept_ratio < floor


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


def _count_low_kept(article: Article, config: CleanConfig) -> Article:
    if kept_little(article, config):
        Metrics.counter("clean", f"low_kept:{article.text_source}").inc()
    return article


class CountLowKept(beam.PTransform):
    """``PCollection[Article]`` -> the same articles, counting as
    ``clean/low_kept:<text_source>`` those that kept little of their input
    (:func:`kept_little`). Applied to the rows a run writes (after
    deduplication), so the run summary names only rows it added."""

    def __init__(self, config: CleanConfig = CleanConfig(), label: Optional[str] = None):
        super().__init__(label)
        self._config = config

    def expand(self, articles):
        return articles | "CountLowKept" >> beam.Map(_count_low_kept, self._config)


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
