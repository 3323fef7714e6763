"""Follow feeds: poll them, keep the new items, fetch their pages, commit state.

Composites (``expand()`` only wires; the logic is in plain functions here and
in ``feed_parse``, ``fetch`` and ``feed_state``):

* ``PollFeeds``      : poll ticks   -> {"items": RawDocument (kind "feed", empty body),
                                        "status": FeedStatus, "errors": ErrorRecord}
* ``SelectNewItems`` : RawDocument  -> RawDocument whose id was never ingested
* ``FetchArticles``  : RawDocument  -> {"documents": RawDocument with the page in body
                                        and ``page_status`` set}
* ``StageFeedState``: (new items, feed status) -> staged ``_state/`` files

Error rows (``stage`` "feed", the feed URL or the item link as ``source``):
any :class:`transforms.fetch.FetchError` reason, ``http_<status>``, any
:class:`transforms.feed_parse.FeedRejected` reason, ``unsafe_link``
(javascript:, data:, file:... item links), ``no_link`` (neither link nor GUID),
``too_many_items`` (items over the per-feed cap were dropped).

A failed page fetch is not an error row: the item goes on with an empty
``body`` and the reason in ``page_status`` (see :func:`fetch_page`), so the
clean stage falls back to the feed's summary (``text_source`` "feed") and the
item still ends as exactly one row.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import time
from typing import Iterator, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import BooleanCoder, StrUtf8Coder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.windowed_value import WindowedValue

from newsbeam.schemas import ErrorRecord, RawDocument
from newsbeam.transforms import feed_state, warm
from newsbeam.transforms.errors import error_row, reject, rejected
from newsbeam.transforms.feed_parse import (
    MAX_ITEMS,
    PARSE_MEMORY_BYTES,
    PARSE_TIMEOUT,
    FeedRejected,
    ParserProcess,
    item_locator,
)
from newsbeam.transforms.fetch import FetchConfig, Fetcher, FetchError, parse_retry_after
from newsbeam.transforms.ids import article_id, now_micros
from newsbeam.transforms.read import decode
from newsbeam.transforms.text import clean_str
from newsbeam.transforms.warehouse import StagedFile


class FeedStatus(NamedTuple):
    """A feed's state after a poll, committed once the poll's rows are written."""

    feed_url: str
    state_json: str


beam.coders.registry.register_coder(FeedStatus, beam.coders.RowCoder)


class PollSettings(NamedTuple):
    interval: float = 300.0  # seconds between polls
    backoff_max: float = 6 * 3600.0  # longest wait after failures
    max_items: int = MAX_ITEMS
    parse_timeout: float = PARSE_TIMEOUT
    parse_memory_bytes: int = PARSE_MEMORY_BYTES


# ---------------------------------------------------------------- plain logic

def conditional_headers(state: dict) -> dict[str, str]:
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    return headers


def after_failure(state: dict, now: float, settings: PollSettings, reason: str,
                  retry_after: Optional[float] = None) -> dict:
    """Exponential backoff from the base interval, at least Retry-After."""
    failures = int(state.get("failures", 0)) + 1
    delay = min(settings.backoff_max, settings.interval * 2 ** (failures - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return {**state, "failures": failures, "not_before": now + delay, "last_error": reason,
            "last_poll": now}


def after_success(state: dict, now: float, settings: PollSettings, headers: dict,
                  body_hash: Optional[str]) -> dict:
    """Store validators; a feed that keeps not changing is polled less often."""
    unchanged = int(state.get("unchanged", 0)) + 1 if body_hash is None or \
        body_hash == state.get("body_hash") else 0
    new = {**state, "failures": 0, "last_error": None, "last_poll": now, "unchanged": unchanged,
           "not_before": now + settings.interval * min(2 ** (unchanged // 3), 8)
           if unchanged >= 3 else 0}
    if body_hash is not None:
        new["body_hash"] = body_hash
        new["etag"] = headers.get("etag")
        new["last_modified"] = headers.get("last-modified")
    return new


def items_to_documents(feed_url: str, parsed, ingested_at: int) -> Iterator:
    """ParsedFeed → RawDocument items, or ErrorRecord for items that cannot be used."""
    for item in parsed.items:
        if item.link is None and item.raw_link:
            yield error_row("feed", item.raw_link[:2000], "unsafe_link",
                            f"item link in {feed_url} is not http(s): {item.raw_link[:200]!r}",
                            at=ingested_at)
            continue
        locator = item_locator(item)
        if locator is None:
            yield error_row("feed", feed_url, "no_link",
                            f"item {item.title!r} has neither link nor GUID", at=ingested_at)
            continue
        # A JSON Feed's "\ud800" escapes decode to lone surrogates no later stage can encode.
        yield RawDocument(source=feed_url, locator=locator, url=clean_str(item.link),
                          kind="feed", title=clean_str(item.title), body="",
                          summary=clean_str(item.summary),
                          published_at=item.published,
                          date_source="feed" if item.published is not None else None,
                          ingested_at=ingested_at)
    if parsed.truncated:
        yield error_row("feed", feed_url, "too_many_items",
                        f"{parsed.truncated} items over the cap of {len(parsed.items)} dropped",
                        at=ingested_at)


def page_text(body: bytes, headers: dict) -> Optional[str]:
    """Decoded HTML, or None when the response is not an HTML page."""
    content_type = headers.get("content-type", "").lower()
    if content_type and "html" not in content_type and "xml" not in content_type:
        return None
    declared = None
    if "charset=" in content_type:
        declared = content_type.split("charset=", 1)[1].split(";")[0].strip().strip('"')
    return decode(body, declared)


# ---------------------------------------------------------------- polling

def _close_poller(pair) -> None:
    fetcher, parser = pair
    parser.close()
    fetcher.close()


class _PollFeedFn(beam.DoFn):
    """Poll one feed (keyed by URL); the per-feed state lives in Beam state."""

    FEED_STATE = ReadModifyWriteStateSpec("feed_state", StrUtf8Coder())

    def __init__(self, out: str, fetch_config: FetchConfig, settings: PollSettings):
        self.out = out
        self.fetch_config = fetch_config
        self.settings = settings

    def _key(self):
        return ("poller", self.fetch_config, self.settings)

    def setup(self) -> None:
        # Warm across a local follower's polls: the session, its robots.txt
        # cache and the parser process (its imports) are kept.
        self.fetcher, self.parser = warm.acquire(self._key(), lambda: (
            Fetcher(self.fetch_config),
            ParserProcess(self.settings.parse_timeout, self.settings.parse_memory_bytes)))
        self.committed = feed_state.load_feed_states(self.out)

    def teardown(self) -> None:
        warm.release(self._key(), (self.fetcher, self.parser), _close_poller)

    def process(self, element, stored=beam.DoFn.StateParam(FEED_STATE)) -> Iterator:
        url, _tick = element
        raw = stored.read()
        state = json.loads(raw) if raw else dict(self.committed.get(url, {}))
        now = time.time()
        if state.get("not_before", 0) > now:
            beam.metrics.Metrics.counter("feeds", "skipped_backoff").inc()
            return
        new_state, outputs = self._poll(url, state, now)
        state_json = json.dumps(new_state)
        stored.write(state_json)
        yield beam.pvalue.TaggedOutput("status", FeedStatus(url, state_json))
        yield from outputs

    def _poll(self, url: str, state: dict, now: float) -> tuple[dict, list]:
        counter = lambda name: beam.metrics.Metrics.counter("feeds", name).inc()
        at = now_micros()
        counter("polled")

        def failed(reason: str, detail: str, retry_after: Optional[float] = None):
            return (after_failure(state, now, self.settings, reason, retry_after),
                    [reject("feed", url, reason, detail, at=at)])

        try:
            resp = self.fetcher.get(url, conditional_headers(state),
                                    self.fetch_config.max_feed_bytes)
        except FetchError as exc:
            return failed(exc.reason, exc.detail)
        if resp.status == 304:
            counter("not_modified")
            return after_success(state, now, self.settings, resp.headers, None), []
        if resp.status != 200:
            return failed(f"http_{resp.status}", f"{url} answered {resp.status}",
                          parse_retry_after(resp.headers.get("retry-after"), now))
        body_hash = hashlib.sha256(resp.body).hexdigest()
        if body_hash == state.get("body_hash"):
            counter("unchanged")  # no validators, same bytes: nothing to parse
            return after_success(state, now, self.settings, resp.headers, body_hash), []
        try:
            parsed = self.parser.parse(resp.body, resp.url, resp.headers, self.settings.max_items)
        except FeedRejected as exc:
            return failed(exc.reason, exc.detail)
        outputs = []
        for record in items_to_documents(url, parsed, at):
            if isinstance(record, ErrorRecord):
                outputs.append(rejected(record))
            else:
                counter("items")
                outputs.append(record)
        return after_success(state, now, self.settings, resp.headers, body_hash), outputs


class PollFeeds(beam.PTransform):
    """Poll every feed on each tick.

    In:  PCollection of ticks (any element; one poll round per element).
    Out: {"items": RawDocument, "status": FeedStatus, "errors": ErrorRecord}.
    A feed in backoff (failures, Retry-After, or unchanged for a while) is
    skipped on that tick and counted (``feeds/skipped_backoff``).
    """

    def __init__(self, feeds: list[str], out: str, fetch_config: FetchConfig,
                 settings: PollSettings):
        super().__init__()
        self.feeds = list(feeds)
        self.out = out
        self.fetch_config = fetch_config
        self.settings = settings

    def expand(self, ticks: beam.PCollection) -> dict:
        polled = (
            ticks
            | "FanOutFeeds" >> beam.FlatMap(lambda tick, feeds=self.feeds:
                                            [(url, str(tick)) for url in feeds])
            .with_output_types(Tuple[str, str])  # deterministic key coder for state
            | "PollFeed" >> beam.ParDo(_PollFeedFn(self.out, self.fetch_config, self.settings))
            .with_outputs("status", "errors", main="items"))
        return {"items": polled.items, "status": polled.status, "errors": polled.errors}


# ---------------------------------------------------------------- new items

class _FirstSightingFn(beam.DoFn):
    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())

    def __init__(self, out: str):
        self.out = out

    def setup(self) -> None:
        self.committed = feed_state.load_seen(self.out)

    def process(self, element, seen=beam.DoFn.StateParam(SEEN)) -> Iterator[RawDocument]:
        item_id, raw = element
        if item_id in self.committed or seen.read():
            beam.metrics.Metrics.counter("feeds", "already_seen").inc()
            return
        seen.write(True)
        beam.metrics.Metrics.counter("feeds", "new_items").inc()
        yield raw


class SelectNewItems(beam.PTransform):
    """Keep items never ingested before (committed ``_state/seen``) nor earlier in this run.

    In/out: RawDocument. Keyed by ``article_id`` (the normalised link/GUID), so
    the same story in two feeds passes once. Must run in the global window.
    """

    def __init__(self, out: str):
        super().__init__()
        self.out = out

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        return (items
                | "KeyById" >> beam.Map(lambda raw: (article_id(raw), raw))
                .with_output_types(Tuple[str, RawDocument])
                | "FirstSighting" >> beam.ParDo(_FirstSightingFn(self.out))
                .with_output_types(RawDocument))


# ---------------------------------------------------------------- pages

class _FetchPageFn(beam.DoFn):
    """Fetch item pages concurrently (per-host limits apply) within a bundle."""

    def __init__(self, fetch_config: FetchConfig, workers: int, batch: int = 64):
        self.fetch_config = fetch_config
        self.workers = max(1, workers)
        self.batch = batch

    def _key(self):
        return ("page-fetcher", self.fetch_config)

    def setup(self) -> None:
        self.fetcher = warm.acquire(self._key(), lambda: Fetcher(self.fetch_config))
        self.pool = concurrent.futures.ThreadPoolExecutor(self.workers,
                                                          thread_name_prefix="newsbeam-fetch")

    def teardown(self) -> None:
        self.pool.shutdown(wait=True)
        warm.release(self._key(), self.fetcher, Fetcher.close)

    def start_bundle(self) -> None:
        self.pending = []

    def process(self, raw: RawDocument, timestamp=beam.DoFn.TimestampParam,
                window=beam.DoFn.WindowParam) -> Iterator:
        self.pending.append((raw, timestamp, window))
        if len(self.pending) >= self.batch:
            yield from self._flush()

    def finish_bundle(self) -> Iterator:
        yield from self._flush()

    def _flush(self) -> Iterator:
        pending, self.pending = self.pending, []
        results = self.pool.map(lambda p: fetch_page(self.fetcher, p[0]), pending)
        for (_raw, timestamp, window), document in zip(pending, results):
            if document.page_status == "ok":
                beam.metrics.Metrics.counter("fetch", "pages").inc()
            elif document.page_status != "no_link":  # nothing to fetch is no failure
                # Not an error row: the item goes on with its feed summary.
                beam.metrics.Metrics.counter("fetch", f"page:{document.page_status}").inc()
            yield WindowedValue(document, timestamp, [window])


def fetch_page(fetcher: Fetcher, raw: RawDocument) -> RawDocument:
    """The item with its page's HTML in ``body`` and ``page_status`` "ok".

    When the page cannot be used the item comes back with an empty ``body`` and
    the reason in ``page_status`` (the clean stage then uses the feed summary):
    ``no_link`` (GUID-only item, nothing to fetch), ``robots_disallowed``, any
    :class:`transforms.fetch.FetchError` reason (``timeout``, ``too_large``,
    ``connect_error``, ...), ``http_<status>``, ``not_html``.
    """
    if not raw.url:
        return raw._replace(page_status="no_link")  # the feed's content is all there is
    failed = lambda reason: raw._replace(body="", page_status=reason)
    try:
        if not fetcher.allowed_by_robots(raw.url):
            return failed("robots_disallowed")
        resp = fetcher.get(raw.url)
    except FetchError as exc:
        return failed(exc.reason)
    if resp.status != 200:
        return failed(f"http_{resp.status}")
    text = page_text(resp.body, resp.headers)
    if text is None:
        return failed("not_html")
    return raw._replace(body=text, page_status="ok")


class FetchArticles(beam.PTransform):
    """Fetch each item's page (robots.txt, size caps, timeouts, address checks).

    In:  RawDocument (kind "feed", empty body).
    Out: {"documents": RawDocument with the page HTML in ``body`` (empty when
    the page could not be fetched) and ``page_status`` ("ok" or why not, see
    :func:`fetch_page`)}. Every input item comes out as exactly one document
    and no error row, so none is lost to a failed page nor counted twice.
    """

    def __init__(self, fetch_config: FetchConfig, workers: int = 8):
        super().__init__()
        self.fetch_config = fetch_config
        self.workers = workers

    def expand(self, items: beam.PCollection) -> dict:
        documents = items | "FetchPage" >> beam.ParDo(
            _FetchPageFn(self.fetch_config, self.workers)).with_output_types(RawDocument)
        return {"documents": documents}


# ---------------------------------------------------------------- state

class _StageStateFn(beam.DoFn):
    def __init__(self, out: str):
        self.out = out

    def process(self, element, run) -> Iterator[StagedFile]:
        _key, entries = element
        seen, feeds = [], {}
        for kind, key, value in entries:
            if kind == "seen":
                seen.append(key)
            else:
                feeds[key] = json.loads(value)
        beam.metrics.Metrics.counter("feeds", "committed_items").inc(len(seen))
        yield from feed_state.stage(self.out, run.run_id, seen, feeds)


class StageFeedState(beam.PTransform):
    """Stage the poll's seen ids and feed states, to be committed with its rows.

    In:  (new items, feed status).
    Out: StagedFile for ``_state/`` files, one group per window; give them to
    ``write.CommitRun`` together with the rows' files, so state and rows are
    committed in one step. ``run``: the :class:`transforms.warehouse.Run` of
    each window.
    """

    def __init__(self, out: str, run: beam.PCollection):
        super().__init__()
        self.out = out
        self.run = run

    def expand(self, inputs: tuple) -> beam.PCollection[StagedFile]:
        items, status = inputs
        return (
            (items | "SeenIds" >> beam.Map(lambda raw: ("state", ("seen", article_id(raw), ""))),
             status | "FeedStates" >> beam.Map(lambda s: ("state", ("feed", s.feed_url,
                                                                    s.state_json))))
            | "MergeState" >> beam.Flatten()
            | "OnePerPoll" >> beam.GroupByKey()
            | "StageState" >> beam.ParDo(_StageStateFn(self.out),
                                         beam.pvalue.AsSingleton(self.run)))
