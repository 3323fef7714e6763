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
from typing import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions

from newsbeam.pipeline.build import build_ingest
from newsbeam.pipeline.command import (
    UsageError,
    check_output,
    exclusive_run,
    parse_command,
    report_recovery,
    run_counters,
    run_with_progress,
    runner_name,
    submit_detached,
    summarize,
)
from newsbeam.pipeline.options import (
    IngestOptions,
    NewsbeamOptions,
    OptionsError,
    validate_ingest,
)
from newsbeam.pipeline.rerun import RepeatedRun
from newsbeam.transforms import feed_state, warehouse, warm
from newsbeam.transforms.feed_lists import resolve_feeds


def status_line(written: list[warehouse.StagedFile], counters: dict, poll: int,
                seconds: float) -> str:
    get = lambda ns, name: counters.get((ns, name), 0)
    rows = lambda table: sum(f.rows for f in written if f.table == table)
    return (f"{dt.datetime.now():%H:%M:%S} poll {poll}: feeds polled {get('feeds', 'polled')}"
            f" (not modified {get('feeds', 'not_modified')},"
            f" backing off {get('feeds', 'skipped_backoff')}), new items"
            f" {get('feeds', 'new_items')}, new articles {rows('articles')},"
            f" errors {rows('errors')} [{seconds:.1f}s]")


def ingest(argv: Sequence[str]) -> int:
    args, options = parse_command(argv, "newsbeam ingest", "feeds",
                                  "Follow feeds (URLs, .txt or .opml lists) into the warehouse.",
                                  own=(NewsbeamOptions, IngestOptions))
    try:
        nb = options.view_as(NewsbeamOptions)
        opts = options.view_as(IngestOptions)
        validate_ingest(opts)
        feeds = resolve_feeds(args.feeds)
        if not feeds:
            raise OptionsError("no feed URLs given")
        check_output(nb.out)
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
    totals: dict = {}
    started = time.monotonic()
    # The writer lock is held: every commit after this position is ours.
    position, written = warehouse.last_seq(nb.out), []
    poll = 0
    # A bounded pipeline per poll: the local runner only hands a
    # PeriodicImpulse's output on once the impulse ends.
    polls = RepeatedRun(options, lambda p: build_ingest(p, feeds, opts, nb))

    def finish(code: int) -> int:
        _, late = warehouse.committed_since(nb.out, position)  # a poll cut short by Ctrl-C
        report = summarize(written + late, totals, nb.out, time.monotonic() - started)
        failing = failing_feeds(nb.out, feeds)
        print(report + ("\n" + failing_report(failing) if failing else ""))
        return code

    try:
        while True:
            poll += 1
            tick_start = time.time()
            # The first poll's time includes building the graph (before the loop).
            t0 = started if poll == 1 else time.monotonic()
            result, interrupted = run_with_progress(polls.pipeline, None, 0, polls.run)
            position, this_poll = warehouse.committed_since(nb.out, position)
            written += this_poll
            counters = run_counters(result)
            for key, value in counters.items():
                totals[key] = totals.get(key, 0) + value
            print(status_line(this_poll, counters, poll, time.monotonic() - t0), file=sys.stderr,
                  flush=True)
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
