"""End-to-end backfill throughput against its floor, bare ``nlp.pipe``.

    python -m benchmarks.throughput                      # N = 500 and 5,000; 1 and 2 workers
    python -m benchmarks.throughput --sizes 100,300      # a quick check
    python -m benchmarks.throughput --stories --sizes 5000 --workers 2   # the story stage's share

For each N: builds a corpus of N articles from ``../shared/eval/topics/``
texts (``.txt`` and ``.html``; see ``benchmarks/lib/corpus.py``), runs
``newsbeam backfill`` on it end to end in a fresh process with 1 worker (the
DirectRunner) and with 2 worker processes (``multi_processing``), and runs the
floor: bare ``nlp.pipe`` with the same spaCy model over the same texts in one
process. Prints articles/second and the peak memory of each run's process tree,
then the ratios the scale-out issue sets targets for (on a 2-core machine):

* 2 workers at the largest N vs the floor: time ratio <= 1.0;
* 2 workers vs 1 worker at the largest N: speed-up >= 1.6;
* time per article at the largest N <= at the smallest N (each worker count);
* peak memory grows sub-linearly (memory ratio < size ratio).

End-to-end times are wall-clock for the whole command (interpreter start,
pipeline construction, model loading in each worker, writing Parquet): what a
user waits for. The floor's time is the ``nlp.pipe`` loop alone, model load
excluded, so the comparison is strict.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.lib import corpus, measure

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def backfill(inputs: Path, out: Path, workers: int, extra: list[str]) -> measure.Measured:
    args = ["backfill", str(inputs), "--out", str(out), "--no_progress", *extra]
    if workers > 1:
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    else:  # newsbeam's own default would use every core for this many inputs
        args += ["--direct_num_workers=1"]
    return measure.newsbeam(args)


def story_share(n: int, workers: int, pool, extra: list[str], work: Path, repeats: int) -> None:
    """The story stage's share of a backfill: the same corpus with and without it
    (``--no_stories``), alternately, side by side."""
    inputs = work / f"in-{n}"
    corpus.write(inputs, corpus.items(n, pool))
    times: dict[str, list] = {"with stories": [], "--no_stories": []}
    print(f"{'run':<22}{'N':>7}{'seconds':>10}{'peak MB':>10}")
    for r in range(repeats):
        for label, flags in (("with stories", []), ("--no_stories", ["--no_stories"])):
            out = work / f"out-{label}-{r}"
            got = backfill(inputs, out, workers, extra + flags)
            assert accounted(got.stdout) == n, got.stdout
            times[label].append(got.seconds)
            print(f"{label:<22}{n:>7}{got.seconds:>10.2f}{got.peak_rss / MB:>10.0f}", flush=True)
            shutil.rmtree(out, ignore_errors=True)
    with_s, without = min(times["with stories"]), min(times["--no_stories"])
    share = (with_s - without) / with_s
    print(f"\nstory stage share of the backfill at N={n}, {workers} worker(s) (best of {repeats}): "
          f"{100 * share:.1f}%  target <= 10%  {'ok' if share <= 0.10 else 'MISSED'}")


def accounted(summary: str) -> int:
    """Rows the run wrote: articles + duplicates + errors, from the CLI summary."""
    rows = int(re.search(r"wrote (\d+) article rows", summary).group(1))
    dups = int(re.search(r"duplicates: (\d+)", summary).group(1))
    errors = int(re.search(r"errors: (\d+)", summary).group(1))
    return rows + dups + errors


def floor(texts_file: Path, model: str, batch_size: int) -> tuple[dict, measure.Measured]:
    got = measure.run([sys.executable, "-m", "benchmarks.lib.floor", str(texts_file), model,
                       str(batch_size)], cwd=str(REPO))
    if got.returncode != 0:
        raise SystemExit(f"floor failed:\n{got.stderr[-4000:]}")
    return json.loads(got.stdout.strip().splitlines()[-1]), got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,5000", help="comma-separated corpus sizes")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--topics", default=str(corpus.DEFAULT_TOPICS),
                        help="directory with bbc.dev.jsonl / reuters21578.dev.jsonl")
    parser.add_argument("--model", default="auto", help="spaCy model (as --spacy_model)")
    parser.add_argument("--batch_size", type=int, default=64, help="as --tag_batch_size")
    parser.add_argument("--keep", action="store_true", help="keep the corpora and warehouses")
    parser.add_argument("--stories", action="store_true",
                        help="only the story stage's share: the largest N with and without it")
    parser.add_argument("--repeats", type=int, default=2, help="with --stories: runs of each")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    workers = sorted(int(w) for w in args.workers.split(","))
    pool = corpus.load_pool(Path(args.topics))
    extra = [f"--spacy_model={args.model}", f"--tag_batch_size={args.batch_size}"]

    work = Path(tempfile.mkdtemp(prefix="newsbeam-throughput-"))
    if args.stories:
        try:
            story_share(sizes[-1], workers[-1], pool, extra, work, args.repeats)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    results: dict[tuple[str, int], tuple[float, int]] = {}
    print(f"corpus pool: {len(pool)} distinct articles from {args.topics}; cpus: {os.cpu_count()}")
    print(f"{'run':<22}{'N':>7}{'seconds':>10}{'art/s':>9}{'peak MB':>10}  note")
    try:
        for n in sizes:
            articles = corpus.items(n, pool)
            inputs = work / f"in-{n}"
            corpus.write(inputs, articles)
            texts_file = work / f"texts-{n}.jsonl"
            texts_file.write_text("".join(json.dumps(t) + "\n" for t in corpus.texts(articles)))

            info, got = floor(texts_file, args.model, args.batch_size)
            results[("floor", n)] = (info["pipe_seconds"], got.peak_rss)
            print(f"{'floor nlp.pipe':<22}{n:>7}{info['pipe_seconds']:>10.2f}"
                  f"{n / info['pipe_seconds']:>9.1f}{got.peak_rss / MB:>10.0f}  "
                  f"load {info['load_seconds']:.1f}s, {info['tokens']} tokens, "
                  f"{'+'.join(info['pipeline'])}", flush=True)
            for w in workers:
                out = work / f"out-{n}-{w}"
                got = backfill(inputs, out, w, extra)
                rows = accounted(got.stdout)
                results[(f"{w}w", n)] = (got.seconds, got.peak_rss)
                written = int(re.search(r"wrote (\d+) article rows", got.stdout).group(1))
                # Duplicates skip tagging, so say how many articles were tagged.
                note = f"{written} articles tagged" if rows == n else f"ROWS {rows} != inputs {n}"
                print(f"{f'backfill {w} worker(s)':<22}{n:>7}{got.seconds:>10.2f}"
                      f"{n / got.seconds:>9.1f}{got.peak_rss / MB:>10.0f}  {note}", flush=True)
                if not args.keep:
                    shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("\nratios (targets from the scale-out issue)")
    big, small = sizes[-1], sizes[0]

    def line(label: str, value: float, target: str, ok: bool) -> None:
        print(f"  {label:<58}{value:>7.2f}  target {target:<8}{'ok' if ok else 'MISSED'}")

    top = max(workers)
    if ("floor", big) in results and (f"{top}w", big) in results:
        r = results[(f"{top}w", big)][0] / results[("floor", big)][0]
        line(f"{top} workers / floor time at N={big}", r, "<= 1.0", r <= 1.0)
    if 1 in workers and top > 1:
        s = results[("1w", big)][0] / results[(f"{top}w", big)][0]
        line(f"speed-up {top} workers vs 1 at N={big}", s, ">= 1.6", s >= 1.6)
    if big != small:
        for w in workers:
            per_big = results[(f"{w}w", big)][0] / big
            per_small = results[(f"{w}w", small)][0] / small
            line(f"{w} worker(s): time/article N={big} / N={small}", per_big / per_small,
                 "<= 1.0", per_big <= per_small)
        for w in workers:
            m = results[(f"{w}w", big)][1] / results[(f"{w}w", small)][1]
            line(f"{w} worker(s): peak memory N={big} / N={small} (size x{big / small:g})", m,
                 f"< {big / small:g}", m < big / small)
    return 0


if __name__ == "__main__":
    sys.exit(main())
