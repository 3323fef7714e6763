"""What a large ``_index/`` costs a run, with and without ``--dedup_window_days``.

    python -m benchmarks.dedup_window                 # 100,000 old index entries
    python -m benchmarks.dedup_window --entries 50000

Writes a warehouse whose ``_index/`` holds N entries ingested 60 days ago
(random 128-slot signatures, in files of 10,000 as runs would leave them), then
backfills ``seeds/`` into it twice, each in a fresh process: with every entry's
signature searched (``--dedup_window_days inf``) and with the default 30-day
window, which all of them are outside. Prints
wall time and the peak memory of each run's process tree, side by side.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from benchmarks.lib import measure
from newsbeam.schemas import IndexEntry, to_table

REPO = Path(__file__).resolve().parents[1]

DAY = 86_400_000_000
MB = 1024 * 1024


def write_old_index(out: Path, entries: int, per_file: int = 10_000) -> None:
    rng = np.random.default_rng(1)
    ingested = time.time_ns() // 1000 - 60 * DAY
    (out / "_index").mkdir(parents=True)
    for start in range(0, entries, per_file):
        rows = [IndexEntry(f"old{i:09d}", f"{rng.integers(1 << 62):016x}",
                           [np.int64(v) for v in rng.integers(0, 1 << 32, 128)], ingested)
                for i in range(start, min(entries, start + per_file))]
        pq.write_table(to_table(IndexEntry, rows), out / "_index" / f"part-old-{start:09d}.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsbeam-window-"))
    try:
        write_old_index(work / "template", args.entries)
        print(f"_index/: {args.entries} entries ingested 60 days ago, "
              f"{sum(f.stat().st_size for f in (work / 'template' / '_index').iterdir()) / MB:.0f} MB")
        print(f"{'run':<34}{'seconds':>9}{'peak MB':>9}")
        for name, label, extra in (("all", "--dedup_window_days inf", ["--dedup_window_days", "inf"]),
                                   ("window", "30-day window (the default)", [])):
            out = work / name
            shutil.copytree(work / "template", out)
            got = measure.newsbeam(["backfill", str(REPO / "seeds"), "--out", str(out),
                                    "--no_progress", *extra])
            assert "wrote 5 article rows" in got.stdout, got.stdout
            print(f"{label:<34}{got.seconds:>9.1f}{got.peak_rss / MB:>9.0f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
