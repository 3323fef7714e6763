"""Extraction benchmark: the project's cleaner vs trafilatura's default, side by side.

    python -m benchmarks.extraction [--eval-dir ../shared/eval] [--limit N]

Reads ``<eval-dir>/extraction/html/*.html.gz`` and ``ground-truth.json`` (the
dev half of the article-extraction benchmark) and scores both extractors with
the benchmark's metric (``benchmarks/lib/extraction_f1.py``). Pages are
processed in turn by both extractors, interleaved, so machine load affects
them alike. "ours" is the clean stage as the pipeline runs it: one
``RawDocument(kind="html")`` at a time through ``transforms.clean.Cleaner``
(worker process, time limit, metadata, language); "ours in-process" is the
same without the worker, to show the isolation overhead.

Targets: F1 >= 0.975, 0 failed pages, precision and recall not below
trafilatura's default; time per page within 1.5x of trafilatura alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import trafilatura

from benchmarks.lib.extraction_f1 import aggregate, page_counts
from newsbeam.schemas import RawDocument
from newsbeam.transforms.clean import CleanConfig, Cleaner

DEFAULT_EVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"


def load_pages(eval_dir: Path, limit: int | None = None) -> list:
    root = eval_dir / "extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
        pages.append((key, truth[key]["url"], html, truth[key].get("articleBody", "")))
    return pages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)
    if not (args.eval_dir / "extraction" / "ground-truth.json").exists():
        print(f"eval data not found under {args.eval_dir}", file=sys.stderr)
        return 2
    pages = load_pages(args.eval_dir, args.limit)
    names = ("trafilatura default", "ours", "ours in-process")
    counts = {n: [] for n in names}
    failed = {n: [] for n in names}
    seconds = {n: 0.0 for n in names}
    worker = Cleaner(CleanConfig(timeout_seconds=args.timeout)).start()
    inproc = Cleaner(CleanConfig(timeout_seconds=None))
    inproc.clean(RawDocument("warm", "warm", None, "html", None, pages[0][2], None, None, None, 0))
    try:
        for key, url, html, truth in pages:
            raw = RawDocument(source=key, locator=key, url=url, kind="html", title=None, body=html,
                              summary=None, published_at=None, date_source=None, ingested_at=0)
            for name in names:
                t = time.perf_counter()
                if name == "trafilatura default":
                    text = trafilatura.extract(html, url=url)
                    ok = bool(text)
                else:
                    result = (worker if name == "ours" else inproc).clean(raw)
                    ok = result[0] == "ok"
                    text = result[1].text if ok else None
                seconds[name] += time.perf_counter() - t
                if not ok:
                    failed[name].append(key if name == "trafilatura default" else f"{key[:8]}:{result[1]}")
                counts[name].append(page_counts(truth, text or ""))
    finally:
        worker.close()
    print(f"pages: {len(pages)} from {args.eval_dir / 'extraction'}")
    print(f"{'extractor':<22} {'F1':>6} {'prec':>6} {'recall':>6} {'failed':>6} {'pages/s':>8}")
    for name in names:
        s = aggregate(counts[name])
        print(f"{name:<22} {s.f1:6.4f} {s.precision:6.4f} {s.recall:6.4f} {len(failed[name]):6d} "
              f"{len(pages) / seconds[name]:8.1f}")
    base = seconds["trafilatura default"]
    print(f"time ratio ours / trafilatura: {seconds['ours'] / base:.2f}x "
          f"(in-process {seconds['ours in-process'] / base:.2f}x; target <= 1.5x)")
    for name in names:
        if failed[name]:
            print(f"failed ({name}): {', '.join(failed[name])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
