"""What a large warehouse costs the story stage: a run against 100,000 older articles
next to the same run against an empty warehouse.

    python -m benchmarks.stories_scale                  # 100,000 older articles
    python -m benchmarks.stories_scale --articles 20000 --repeats 1

Writes a warehouse holding N older articles: their ``_index/`` entries (with story
ids, ingested 60 days ago, so outside the near-duplicate window: what a large index
costs deduplication is ``benchmarks/dedup_window.py``'s), their stories in
``stories/`` (one story per 2.5 articles, each a centroid of 64 terms and 16
entities, ``last_seen`` spread evenly over the last 60 days, so about 5% are within
the 3-day window of today's articles; files of 10,000 rows) and ``_story_terms/``
counting N documents. Then backfills ``seeds/`` into an empty warehouse, into a
copy of that one, and into a copy with ``--no_stories``, in turn, ``--repeats``
times, each in a fresh process; prints wall time and the peak memory of each
run's process tree side by side, and the ratios (the issue's target: within 2x).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from benchmarks.lib import measure
from newsbeam.schemas import IndexEntry, Story, to_table
from newsbeam.transforms import stories_core as sc
from newsbeam.transforms.stories import Frequencies

REPO = Path(__file__).resolve().parents[1]
DAY = sc.DAY
MB = 1024 * 1024


def write_old_warehouse(out: Path, articles: int, per_file: int = 10_000) -> None:
    rng = np.random.default_rng(1)
    now = time.time_ns() // 1000
    stories = int(articles / 2.5)
    vocab = [f"term{i}" for i in range(50_000)]
    (out / "_index").mkdir(parents=True)
    for start in range(0, articles, per_file):
        rows = [IndexEntry(f"old{i:09d}", f"{rng.integers(1 << 62):016x}",
                           [np.int64(v) for v in rng.integers(0, 1 << 32, 128)],
                           now - 60 * DAY, story_id=f"story{i % stories:09d}")
                for i in range(start, min(articles, start + per_file))]
        pq.write_table(to_table(IndexEntry, rows), out / "_index" / f"part-old-{start:09d}.parquet")
    (out / "stories").mkdir()
    for start in range(0, stories, per_file):
        rows = []
        for i in range(start, min(stories, start + per_file)):
            last = now - int((1 - i / stories) * 60 * DAY)
            terms = rng.choice(len(vocab), 64, replace=False)
            rows.append(Story(
                f"story{i:09d}", last - DAY, last, np.int32(3), ["a.example", "b.example"], f"Story {i}",
                [f"entity{j}" for j in rng.integers(0, 20_000, 16)], ["politics"], None, last,
                [vocab[t] for t in terms], [np.float32(w) for w in rng.random(64)],
                [np.float32(w) for w in rng.random(16)], [np.int32(3)]))
        pq.write_table(to_table(Story, rows), out / "stories" / f"part-old-{start:09d}.parquet")
    freq = Frequencies(sc.StoryConfig().df_bits, articles)
    freq.df[:] = rng.integers(0, max(2, articles // 50), len(freq.df))
    (out / "_story_terms").mkdir()
    pq.write_table(freq.rows(), out / "_story_terms" / "part-00000000T000000Z-old-0.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsbeam-stories-scale-"))
    try:
        write_old_warehouse(work / "template", args.articles)
        size = sum(f.stat().st_size for f in (work / "template").rglob("*.parquet")) / MB
        print(f"older warehouse: {args.articles} articles in _index/, {int(args.articles / 2.5)} stories, "
              f"{size:.0f} MB of Parquet")
        print(f"{'run':<28}{'seconds':>9}{'peak MB':>9}")
        times: dict[str, list] = {"empty": [], "older": [], "older, --no_stories": []}
        for r in range(args.repeats):
            for name in times:
                out = work / f"{r}-{name.split(',')[0]}"
                if name != "empty":
                    shutil.copytree(work / "template", out)
                flags = ["--no_stories"] if "no_stories" in name else []
                got = measure.newsbeam(["backfill", str(REPO / "seeds"), "--out", str(out), "--no_progress",
                                        *flags])
                assert "wrote 5 article rows" in got.stdout, got.stdout
                times[name].append((got.seconds, got.peak_rss))
                print(f"{name:<28}{got.seconds:>9.1f}{got.peak_rss / MB:>9.0f}", flush=True)
                shutil.rmtree(out, ignore_errors=True)
        def median(name, i):
            return statistics.median(x[i] for x in times[name])

        print(f"\nolder / empty (medians): time {median('older', 0) / median('empty', 0):.2f}x, "
              f"peak memory {median('older', 1) / median('empty', 1):.2f}x  (target: time within 2x)")
        print(f"story stage against the older warehouse: {median('older', 0) - median('older, --no_stories', 0):.1f} s "
              f"(with stories {median('older', 0):.1f} s, without {median('older, --no_stories', 0):.1f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
