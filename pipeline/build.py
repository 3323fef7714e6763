"""Pipeline assembly: wiring the stages, no logic of its own."""

from __future__ import annotations

import math
from typing import Any, Optional

import apache_beam as beam

from pipeline.options import NewsbeamOptions
from transforms.clean import CleanArticles
from transforms.dedup import Deduplicate
from transforms.progress import CountProgress
from transforms.read import InputPattern, ReadArticles
from transforms.recorded import ReadRecordedIds, SkipRecorded
from transforms.tag import TagArticles
from transforms import warehouse
from transforms.write import CommitRun, IndexWritten, WriteWarehouse


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
    """The stages every input shares: clean → deduplicate → tag → stage files under ``opts.out``.

    ``earlier_errors``: error PCollections of the steps before (read, feed
    poll), written with this chain's. Inputs the warehouse already accounts
    for (``transforms.recorded``) add no row. Returns the staged files, for
    :class:`CommitRun`. ``runs``: the :class:`~transforms.warehouse.Run` of each
    window of the documents; what the warehouse holds is read again for each.
    """
    recorded = documents.pipeline | "ReadRecordedIds" >> ReadRecordedIds(opts.out, runs=runs)
    cleaned = documents | "CleanArticles" >> CleanArticles(
        **_given(timeout_seconds=opts.extract_timeout))
    deduped = cleaned["articles"] | "Deduplicate" >> Deduplicate(
        index_pattern=warehouse.table_pattern(opts.out, "_index"), recorded=recorded,
        runs=runs, signature_window=signature_window(opts),
        **_given(threshold=opts.dedup_threshold, num_perm=opts.dedup_num_perm,
                 shingle_size=opts.dedup_shingle_size))
    tagged = deduped["articles"] | "TagArticles" >> TagArticles(
        **_given(model=opts.spacy_model, lexicon_path=opts.theme_lexicon,
                 batch_size=opts.tag_batch_size))
    articles = tagged["articles"] | "ProgressTag" >> CountProgress(opts.progress_dir, "tagged")
    errors = ((*earlier_errors, cleaned["errors"], tagged["errors"])
              | "MergeErrors" >> beam.Flatten()
              | "SkipRecordedErrors" >> SkipRecorded(recorded))
    return {
        "articles": articles,
        "duplicates": deduped["duplicates"],
        "errors": errors,
        "index": (deduped["index"], articles) | "IndexTagged" >> IndexWritten(),
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
