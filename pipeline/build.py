"""Pipeline assembly: wiring the stages, no logic of its own."""

from __future__ import annotations

import math
import time
from typing import Any, Optional

import apache_beam as beam
from apache_beam.transforms import window
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from newsbeam.pipeline.options import (
    IngestOptions,
    NewsbeamOptions,
    fetch_config,
    poll_settings,
)
from newsbeam.transforms import warehouse
from newsbeam.transforms.clean import CleanArticles, CleanConfig, CountLowKept
from newsbeam.transforms.dedup import Deduplicate
from newsbeam.transforms.feeds import (
    FetchArticles,
    PollFeeds,
    SelectNewItems,
    StageFeedState,
)
from newsbeam.transforms.ids import now_micros
from newsbeam.transforms.progress import CountProgress
from newsbeam.transforms.read import InputPattern, ReadArticles
from newsbeam.transforms.recorded import ReadRecordedIds, SkipRecorded
from newsbeam.transforms.stories import AssignStories, StoryOfDuplicates
from newsbeam.transforms.stories_core import StoryConfig
from newsbeam.transforms.tag import TagArticles
from newsbeam.transforms.write import BeginRun, CommitRun, IndexWritten, WriteWarehouse


def _given(**kwargs: Any) -> dict[str, Any]:
    """Only the settings the user gave: each stage keeps its own defaults."""
    return {k: v for k, v in kwargs.items() if v is not None}


def signature_window(opts: NewsbeamOptions) -> Optional[int]:
    """The near-duplicate window (``--dedup_window_days``) in micros, or None for all.

    Bounded by default: every index entry in the window goes through the LSH
    shuffle with its signature on every run (``benchmarks/dedup_window.py``:
    100,000 entries cost a 5-article run 78-89 s and 8-10 GB, against 8-9 s and 0.7 GB
    when they are older than the window).
    """
    if math.isinf(opts.dedup_window_days):
        return None
    return int(opts.dedup_window_days * 86_400_000_000)


def clean_dedup_tag_write(documents: beam.PCollection, earlier_errors: tuple, opts: NewsbeamOptions,
                          runs: beam.PCollection) -> beam.PCollection:
    """The stages every input shares: clean → deduplicate → tag → stories → stage files
    under ``opts.out``.

    ``earlier_errors``: error PCollections of the steps before (read, feed
    poll), written with this chain's. Inputs the warehouse already accounts
    for (``transforms.recorded``) add no row. Returns the staged files, for
    :class:`CommitRun`. ``runs``: the :class:`~transforms.warehouse.Run` of each
    window of the documents; what the warehouse holds is read again for each.
    """
    recorded = documents.pipeline | "ReadRecordedIds" >> ReadRecordedIds(opts.out, runs=runs)
    clean_config = CleanConfig(**_given(timeout_seconds=opts.extract_timeout))
    cleaned = documents | "CleanArticles" >> CleanArticles(clean_config)
    deduped = cleaned["articles"] | "Deduplicate" >> Deduplicate(
        index_pattern=warehouse.table_pattern(opts.out, "_index"), recorded=recorded,
        runs=runs, signature_window=signature_window(opts),
        **_given(threshold=opts.dedup_threshold, num_perm=opts.dedup_num_perm,
                 shingle_size=opts.dedup_shingle_size))
    tagged = deduped["articles"] | "TagArticles" >> TagArticles(
        **_given(model=opts.spacy_model, lexicon_path=opts.theme_lexicon,
                 batch_size=opts.tag_batch_size))
    articles = (tagged["articles"]
                | "ProgressTag" >> CountProgress(opts.progress_dir, "tagged")
                | "CountLowKept" >> CountLowKept(clean_config))
    duplicates = deduped["duplicates"]
    stories = {}
    if not opts.no_stories:
        stories = articles | "AssignStories" >> AssignStories(opts.out, runs, StoryConfig(**_given(
            window_days=opts.story_window_days, threshold=opts.story_threshold)))
        articles = stories["articles"]
        duplicates = ((duplicates, articles)
                      | "StoryOfDuplicates" >> StoryOfDuplicates(opts.out, runs))
    errors = ((*earlier_errors, cleaned["errors"], tagged["errors"])
              | "MergeErrors" >> beam.Flatten()
              | "SkipRecordedErrors" >> SkipRecorded(recorded))
    return {
        "articles": articles,
        "duplicates": duplicates,
        "errors": errors,
        "index": (deduped["index"], articles) | "IndexTagged" >> IndexWritten(),
        **stories,
    } | "WriteWarehouse" >> WriteWarehouse(opts.out, runs, opts.shards_per_partition)


def build_backfill(p: beam.Pipeline, inputs: list[InputPattern], opts: NewsbeamOptions,
                   run: warehouse.Run) -> None:
    """Read → clean → deduplicate → tag → write → commit, for the given input patterns.

    ``run``: begun by the caller (``warehouse.start``); its start is every
    document's ingestion time.
    """
    runs = p | "Run" >> beam.Create([run])
    read = p | "ReadArticles" >> ReadArticles(inputs, opts.max_input_bytes, run.started)
    documents = read["documents"] | "ProgressRead" >> CountProgress(opts.progress_dir, "read")
    staged = clean_dedup_tag_write(documents, (read["errors"],), opts, runs)
    staged | "CommitRun" >> CommitRun(opts.out, runs)


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
