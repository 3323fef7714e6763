"""``newsbeam ingest FEEDS... --out DIR [--once] [--interval S] [--allow_private_addresses]``

Follow RSS/Atom/JSON feeds into the warehouse: poll → keep new items → fetch
pages → clean → deduplicate → tag → write → commit ``_state/``.

Streaming: ticks come from ``PeriodicImpulse`` and every branch is cut into
fixed windows of ``--interval`` seconds, so each poll's rows are written (and
its state committed) when its window closes. ``--once`` runs the same
transforms on a single tick as a bounded pipeline.

On the DirectRunner, the Python SDK only hands a ``PeriodicImpulse``'s output
downstream once the impulse has finished, so an endless impulse would never
write anything: there the command runs the streaming pipeline one tick at a
time (one pipeline run per poll, ``--interval`` apart). On Dataflow or Flink
(``--runner``) it is one unbounded streaming job.

Settings (flags, or the ``[feeds]`` table of the TOML config: ``interval = 60``
is ``--feeds_interval=60``): see ``IngestOptions``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms import window
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from pipeline.build import clean_dedup_tag_write
from pipeline.options import NewsbeamOptions, OptionsError
from pipeline.rerun import RepeatedRun
from transforms import feed_state, warehouse, warm
from transforms.feed_parse import resolve_feeds
from transforms.feeds import FetchArticles, PollFeeds, PollSettings, SelectNewItems, \
    StageFeedState
from transforms.fetch import DEFAULT_USER_AGENT, FetchConfig
from transforms.ids import now_micros
from transforms.write import BeginRun, CommitRun


class IngestOptions(PipelineOptions):
    """Feed-following options. Each flag also has a ``--feeds_<name>`` spelling,
    which is what the ``[feeds]`` table of the TOML config maps to."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        def add(name, *extra, short=True, **kwargs):
            flags = ([f"--{name}"] if short else []) + [f"--feeds_{name}", *extra]
            parser.add_argument(*flags, dest=f"feeds_{name}", **kwargs)

        add("interval", type=float, default=300.0, help="seconds between polls (default 300)")
        add("once", action="store_true", default=False, help="poll once and stop (for cron)")
        add("polls", type=int, default=0, help="stop after this many polls (0: follow forever)")
        add("allow_private_addresses", "--allow-private-addresses", action="store_true",
            default=False, help="allow loopback/private/link-local addresses (tests only)")
        add("user_agent", short=False, default=DEFAULT_USER_AGENT,  # Beam owns --user_agent
        help="User-Agent sent with every request")
        add("connect_timeout", type=float, default=5.0, help="seconds to connect")
        add("read_timeout", type=float, default=15.0, help="seconds between bytes")
        add("total_timeout", type=float, default=30.0, help="seconds for a whole response")
        add("max_feed_bytes", type=int, default=10 * 1024 * 1024, help="largest feed document")
        add("max_items", type=int, default=1000, help="items taken from one feed document")
        add("max_redirects", type=int, default=5, help="redirects followed per request")
        add("per_host_concurrency", type=int, default=2, help="parallel requests per host")
        add("per_host_delay", type=float, default=1.0,
            help="seconds between requests to one host")
        add("fetch_workers", type=int, default=8, help="parallel page fetches per worker")
        add("ignore_robots", action="store_true", default=False,
            help="do not consult robots.txt for article pages")
        add("backoff_max", type=float, default=6 * 3600.0,
            help="longest wait before re-polling a failing feed")
        add("parse_timeout", type=float, default=10.0, help="seconds to parse one feed")
        add("parse_memory_mb", type=int, default=1024, help="memory limit of the feed parser")
        add("max_feed_failures", type=int, default=0,
            help="stop with exit status 3 once every feed has failed this many polls in a "
                 "row (0: never; --once stops so when every feed failed its poll)")


def validate_ingest(opts: IngestOptions) -> None:
    positive = ("interval", "connect_timeout", "read_timeout", "total_timeout", "max_feed_bytes",
                "max_items", "per_host_concurrency", "fetch_workers", "backoff_max",
                "parse_timeout", "parse_memory_mb")
    for name in positive:
        if getattr(opts, f"feeds_{name}") <= 0:
            raise OptionsError(f"--{name} must be positive")
    for name in ("max_redirects", "per_host_delay", "polls", "max_feed_failures"):
        if getattr(opts, f"feeds_{name}") < 0:
            raise OptionsError(f"--{name} must not be negative")


def fetch_config(opts: IngestOptions, nb: NewsbeamOptions) -> FetchConfig:
    return FetchConfig(
        user_agent=opts.feeds_user_agent, connect_timeout=opts.feeds_connect_timeout,
        read_timeout=opts.feeds_read_timeout, total_timeout=opts.feeds_total_timeout,
        max_feed_bytes=opts.feeds_max_feed_bytes, max_page_bytes=nb.max_input_bytes,
        max_redirects=opts.feeds_max_redirects,
        allow_private_addresses=opts.feeds_allow_private_addresses,
        per_host_concurrency=opts.feeds_per_host_concurrency,
        per_host_delay=opts.feeds_per_host_delay, respect_robots=not opts.feeds_ignore_robots)


def poll_settings(opts: IngestOptions) -> PollSettings:
    return PollSettings(interval=opts.feeds_interval, backoff_max=opts.feeds_backoff_max,
                        max_items=opts.feeds_max_items, parse_timeout=opts.feeds_parse_timeout,
                        parse_memory_bytes=opts.feeds_parse_memory_mb * 1024 * 1024)


def build_ingest(p: beam.Pipeline, feeds: list[str], opts: IngestOptions, nb: NewsbeamOptions,
                 run: Optional[warehouse.Run] = None, ticks: Optional[int] = None,
                 start: Optional[float] = None) -> None:
    """Wire the ingest pipeline.

    ``ticks=None``: bounded, one poll, which begins its own run when it runs
    (``BeginRun``), so a local follower builds this graph once and runs it for
    every poll. Otherwise a ``PeriodicImpulse`` of ``ticks`` polls from
    ``start`` (``0``: endless) and fixed windows, each window committed on its
    own under ``run`` (begun by the caller).
    """
    out = nb.out
    config = fetch_config(opts, nb)
    if ticks is None:
        impulses = p | "PollOnce" >> beam.Create([0])
        runs = impulses | "BeginPoll" >> BeginRun(out)
    else:
        start = time.time() if start is None else start
        stop = start + opts.feeds_interval * (ticks - 0.5) if ticks else float(
            beam.utils.timestamp.MAX_TIMESTAMP.micros // 1_000_000)
        impulses = p | "PollEvery" >> PeriodicImpulse(
            start_timestamp=start, stop_timestamp=stop, fire_interval=opts.feeds_interval)
    polled = impulses | "PollFeeds" >> PollFeeds(feeds, out, config, poll_settings(opts))
    new = polled["items"] | "SelectNewItems" >> SelectNewItems(out)
    status, poll_errors = polled["status"], polled["errors"]
    if ticks is not None:
        # Stateful steps above run in the global window; everything after is per
        # poll, and each poll reads what earlier polls committed (``polls``).
        fixed = lambda: beam.WindowInto(window.FixedWindows(opts.feeds_interval))
        new = new | "WindowItems" >> fixed()
        status = status | "WindowStatus" >> fixed()
        poll_errors = poll_errors | "WindowPollErrors" >> fixed()
        # One run for the job; each window's near-duplicate window ends at its poll.
        runs = (impulses
                | "WindowPolls" >> fixed()
                | "RunOfWindow" >> beam.Map(lambda _, r=run: r._replace(started=now_micros())))
    fetched = new | "FetchArticles" >> FetchArticles(config, opts.feeds_fetch_workers)
    staged = clean_dedup_tag_write(fetched["documents"], (poll_errors,), nb, runs)
    state = (new, status) | "StageFeedState" >> StageFeedState(out, runs)
    _ = ((staged, state)
         | "RowsAndState" >> beam.Flatten()
         | "CommitPoll" >> CommitRun(out, runs, final=ticks in (None, 1)))


def status_line(counters: dict, poll: int, seconds: float) -> str:
    get = lambda ns, name: counters.get((ns, name), 0)
    errors = sum(v for (ns, n), v in counters.items() if ns == "write" and n.startswith("errors:"))
    articles = sum(v for (ns, n), v in counters.items()
                   if ns == "write" and n.startswith("articles:"))
    return (f"{dt.datetime.now():%H:%M:%S} poll {poll}: feeds polled {get('feeds', 'polled')}"
            f" (not modified {get('feeds', 'not_modified')},"
            f" backing off {get('feeds', 'skipped_backoff')}), new items"
            f" {get('feeds', 'new_items')}, new articles {articles}, errors {errors}"
            f" [{seconds:.1f}s]")


def ingest(argv: Sequence[str]) -> int:
    # Imported here: pipeline.cli registers this command, so a module-level
    # import would be circular.
    from pipeline.cli import UsageError, _check_output, exclusive_run, parse_command, \
        report_recovery, runner_name, submit_detached

    args, options = parse_command(argv, "newsbeam ingest", "feeds",
                                  "Follow feeds (URLs, .txt or .opml lists) into the warehouse.")
    try:
        nb = options.view_as(NewsbeamOptions)
        opts = options.view_as(IngestOptions)
        validate_ingest(opts)
        feeds = resolve_feeds(args.feeds)
        if not feeds:
            raise OptionsError("no feed URLs given")
        _check_output(nb.out)
    except (OptionsError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    if not opts.feeds_once and runner_name(options) != "direct":
        # One unbounded streaming job on a streaming runner; it outlives this
        # process when detached, so no lock is held (the commit step still
        # refuses to commit over another writer's commit).
        report_recovery(warehouse.recover(nb.out))
        options.view_as(StandardOptions).streaming = True
        p = beam.Pipeline(options=options)
        build_ingest(p, feeds, opts, nb, warehouse.start(nb.out), ticks=opts.feeds_polls)
        if args.detach:
            return submit_detached(p)
        p.run().wait_until_finish()
        return 0
    # Models, worker processes and HTTP sessions outlive each poll's pipeline.
    with exclusive_run(nb.out), warm.keep_warm():
        return _follow_locally(options, feeds, opts, nb)


FEEDS_FAILING = 3  # exit status: every feed is failing (see --max_feed_failures)


def failing_feeds(out: str, feeds: list[str]) -> list[tuple[str, dict]]:
    """(url, committed state) of the feeds whose last poll failed."""
    states = feed_state.load_feed_states(out)
    return [(url, states[url]) for url in feeds if states.get(url, {}).get("failures", 0) > 0]


def failing_report(failing: list[tuple[str, dict]]) -> str:
    lines = [f"  failing feeds: {len(failing)}"]
    for url, state in failing:
        retry = dt.datetime.fromtimestamp(state.get("not_before", 0)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"    {url}: {state.get('last_error')} ({state['failures']} polls in a row), "
                     f"next try {retry}")
    return "\n".join(lines)


def all_failing(failing: list[tuple[str, dict]], feeds: list[str], polls_in_a_row: int) -> bool:
    """Whether every feed has failed at least ``polls_in_a_row`` polls in a row."""
    return len(failing) == len(set(feeds)) and all(
        state["failures"] >= polls_in_a_row for _, state in failing)


def _follow_locally(options, feeds, opts: IngestOptions, nb: NewsbeamOptions) -> int:
    """One run of one bounded pipeline (and one commit) per poll, ``--interval``
    apart; a slow poll delays the next one, polls never overlap. The graph is
    built and translated once (``pipeline.rerun``).

    Exit status: 0, 130 after Ctrl-C, or FEEDS_FAILING when every feed failed
    (``--once``) or failed ``--max_feed_failures`` polls in a row.
    """
    from pipeline.cli import _counters, _run_with_progress, summarize

    totals: dict = {}
    started = time.monotonic()
    poll = 0
    # A bounded pipeline per poll: the local runner only hands a
    # PeriodicImpulse's output on once the impulse ends.
    polls = RepeatedRun(options, lambda p: build_ingest(p, feeds, opts, nb))

    def finish(code: int) -> int:
        report = summarize(totals, nb.out, time.monotonic() - started)
        failing = failing_feeds(nb.out, feeds)
        print(report + ("\n" + failing_report(failing) if failing else ""))
        return code

    try:
        while True:
            poll += 1
            tick_start = time.time()
            t0 = time.monotonic()
            result, interrupted = _run_with_progress(polls.pipeline, None, 0, polls.run)
            counters = _counters(result)
            for key, value in counters.items():
                totals[key] = totals.get(key, 0) + value
            print(status_line(counters, poll, time.monotonic() - t0), file=sys.stderr, flush=True)
            if interrupted:
                return finish(130)  # the poll in flight was finished and committed
            threshold = 1 if opts.feeds_once else opts.feeds_max_feed_failures
            if threshold and all_failing(failing_feeds(nb.out, feeds), feeds, threshold):
                print(f"newsbeam: every feed failed {threshold} poll(s) in a row; stopping",
                      file=sys.stderr)
                return finish(FEEDS_FAILING)
            if opts.feeds_once or (opts.feeds_polls and poll >= opts.feeds_polls):
                break
            time.sleep(max(0.0, tick_start + opts.feeds_interval - time.time()))
    except KeyboardInterrupt:
        # Between polls, or a second Ctrl-C during one: an aborted poll did not
        # commit, so its items are polled again at the next start.
        print("newsbeam: interrupted; stopping", file=sys.stderr)
        return finish(130)
    return finish(0)
