"""Measure deduplication on the labelled near-duplicate corpus.

    python -m benchmarks.dedup [--eval-dir ../shared/eval] [--sizes 1000,10000] [--modes single,multi] [--e2e]

For each size, a fresh subprocess generates the corpus (``neardup_corpus.build``),
builds one ``Article`` per record (a clean-stage stand-in: the record's text is the
cleaned body) and runs the ``Deduplicate`` composite alone on the DirectRunner, once
per mode (``single``: one worker; ``multi``: ``--direct_num_workers=2
--direct_running_mode=multi_processing``). It prints, per run: pairwise precision
and recall of "same row" against the corpus clusters (and the precision against
the stricter truth that ignores BBC's own reviewed same-article versions), inputs lost (neither an
article nor a duplicate row), rows out vs stories, the stage's wall time and the
subprocess's peak RSS (with its worker processes), recall per variant kind, and
whether both modes gave the same rows. The last line is the 10k/1k time ratio.

Besides the corpus's variants, ``--form-share`` of the originals (default 0.1)
get three copies that differ only in form: ``form_wrap70`` (hard-wrapped at 70
columns, blank lines between paragraphs), ``form_crlf`` (CRLF line ends) and
``form_retypeset`` (typographic quotes, NBSP after commas, soft hyphens inside
words, indented first lines). Their recall by variant (merged with the
original as ``exact`` or ``near``) is printed with the others; target 0.99.

``--e2e`` instead runs ``pipeline.cli.main(["backfill", TXT_DIR, "--out", ...])``
(read -> clean -> dedup -> tag -> write) on the corpus as ``.txt`` files and scores
the warehouse it writes (needs the pipeline on this branch).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MULTI = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


def pair_scores(truth: dict[str, str], pred: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision/recall of "in the same row" (doc -> cluster, doc -> row)."""
    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())
    docs = list(truth)
    both = pairs(collections.Counter((truth[d], pred[d]) for d in docs if d in pred))
    p_pairs = pairs(collections.Counter(pred[d] for d in docs if d in pred))
    t_pairs = pairs(collections.Counter(truth[d] for d in docs))
    return (both / p_pairs if p_pairs else 1.0), (both / t_pairs if t_pairs else 1.0)


def _form_variants() -> dict:
    from benchmarks.lib.forms import soft_hyphens, typographic
    from benchmarks.neardup_corpus import paragraphs

    def retypeset(rng, text):
        return "\n\n".join("    " + soft_hyphens(rng, typographic(p)).replace(", ", ",\u00a0")
                             for p in paragraphs(text))
    return {
        "form_wrap70": lambda rng, text: "\n\n".join(
            textwrap.fill(p, 70, break_long_words=False) for p in paragraphs(text)),
        "form_crlf": lambda rng, text: text.replace("\n", "\r\n"),
        "form_retypeset": retypeset,
    }


def add_form_variants(records: list[dict], share: float, seed: int) -> list[dict]:
    """``records`` plus, for ``share`` of the originals, one copy per change of form."""
    rng = random.Random(f"forms|{seed}")
    forms = _form_variants()
    out = list(records)
    for r in records:
        if r["variant"] != "original" or rng.random() >= share:
            continue
        for kind, change in forms.items():
            out.append({**r, "id": f"nd-{len(out):06d}", "text": change(rng, r["text"]), "variant": kind,
                        "source": f"{r['source']}/{kind}", "url": f"{r['url']}/{kind}"})
    return out


def _micros(iso: str | None) -> int | None:
    return None if iso is None else int(dt.datetime.fromisoformat(iso).timestamp() * 1_000_000)


def to_article(r: dict):
    import numpy as np

    from newsbeam.schemas import Article
    return Article(
        article_id=r["id"], url=r["url"], source=r["source"], title=r["title"], text=r["text"],
        published_at=_micros(r["published"]), date_source="json" if r["published"] else "ingested",
        ingested_at=1_700_000_000_000_000, language="en", themes=[], entities=[],
        word_count=np.int32(len(r["text"].split())), duplicates=[], theme_scores=[], text_source="file",
        author=None, site_name=None, content_hash="", page_status=None)


def run_stage(records: list[dict], mode: str, workdir: Path) -> tuple[dict[str, str], float]:
    """Run Deduplicate alone; return doc id -> row (kept article_id) and wall seconds."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from newsbeam.transforms.dedup import Deduplicate

    articles = [to_article(r) for r in records]
    out = workdir / mode
    opts = PipelineOptions(MULTI if mode == "multi" else [])
    t0 = time.perf_counter()
    with beam.Pipeline(options=opts) as p:
        res = p | "Articles" >> beam.Create(articles, reshuffle=False) | "Dedup" >> Deduplicate(None)
        (res["articles"] | "KeptRows" >> beam.Map(lambda a: json.dumps([a.article_id, a.article_id]))
         | "WriteKept" >> beam.io.WriteToText(str(out / "kept")))
        (res["duplicates"] | "DupRows" >> beam.Map(lambda d: json.dumps([d.article_id, d.duplicate_of]))
         | "WriteDups" >> beam.io.WriteToText(str(out / "dups")))
    seconds = time.perf_counter() - t0
    pred = {}
    for f in sorted(out.glob("*-of-*")):
        for line in f.read_text().splitlines():
            doc, row = json.loads(line)
            pred[doc] = row
    return pred, seconds


def run_e2e(records: list[dict], workdir: Path) -> tuple[dict[str, str], float]:
    import pyarrow.parquet as pq

    from benchmarks.neardup_corpus import write
    from newsbeam.pipeline.cli import main as cli_main

    write(records, workdir / "corpus", txt=True)
    out = workdir / "warehouse"
    t0 = time.perf_counter()
    rc = cli_main(["backfill", str(workdir / "corpus" / "txt"), "--out", str(out)])
    seconds = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"backfill exited {rc}")
    doc = lambda source: Path(source).name.split(".")[0]  # noqa: E731
    arts = pq.read_table(out / "articles", columns=["article_id", "source"]).to_pylist()
    row_of_id = {a["article_id"]: doc(a["source"]) for a in arts}
    pred = {doc(a["source"]): doc(a["source"]) for a in arts}
    if (out / "duplicates").exists():
        for d in pq.read_table(out / "duplicates", columns=["source", "duplicate_of"]).to_pylist():
            pred[doc(d["source"])] = row_of_id.get(d["duplicate_of"], d["duplicate_of"])
    return pred, seconds


def worker(args) -> None:
    from benchmarks.neardup_corpus import build, load_bbc
    records = add_form_variants(build(load_bbc(args.eval_dir), args.n, args.seed), args.form_share, args.seed)
    truth = {r["id"]: r["cluster"] for r in records}
    exact_truth = {r["id"]: r["exact_cluster"] for r in records}
    results = []
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        for mode in (["e2e"] if args.e2e else args.modes.split(",")):
            pred, seconds = (run_e2e(records, Path(tmp)) if mode == "e2e"
                             else run_stage(records, mode, Path(tmp)))
            precision, recall = pair_scores(truth, pred)
            strict_precision, _ = pair_scores(exact_truth, pred)
            origin_row = {r["cluster"]: pred.get(r["id"]) for r in reversed(records) if r["variant"] == "original"}
            per_kind = collections.defaultdict(lambda: [0, 0])
            for r in records:
                if r["variant"] != "original":
                    k = per_kind[r["variant"].split("+")[0]]
                    k[0] += pred.get(r["id"]) == origin_row[r["cluster"]]
                    k[1] += 1
            results.append({
                "mode": mode, "n": len(records), "stories": len(set(truth.values())),
                "rows": len(set(pred.values())), "lost": sum(d not in pred for d in truth),
                "precision": precision, "recall": recall, "seconds": seconds,
                "precision_exact_truth": strict_precision,
                "recall_by_kind": {k: round(a / b, 4) for k, (a, b) in sorted(per_kind.items())},
                "pred_digest": hash(tuple(sorted(pred.items()))),
            })
    usage = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"results": results, "peak_rss_mb": usage / 1024}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=ROOT / ".." / "shared" / "eval")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--modes", default="single,multi")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--e2e", action="store_true")
    ap.add_argument("--form-share", type=float, default=0.1,
                    help="share of originals that get copies differing only in form")
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)  # worker subprocess
    args = ap.parse_args(argv)
    if args.n:
        worker(args)
        return 0
    if not (args.eval_dir / "topics" / "bbc.dev.jsonl").exists():
        print(f"no BBC data under {args.eval_dir} (use --eval-dir)", file=sys.stderr)
        return 2
    times = {}
    for n in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, "-m", "benchmarks.dedup", "--n", str(n), "--eval-dir", str(args.eval_dir),
               "--seed", str(args.seed), "--modes", args.modes, "--form-share", str(args.form_share)] + (
                   ["--e2e"] if args.e2e else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        digests = {r["pred_digest"] for r in report["results"]}
        for r in report["results"]:
            print(f"n={r['n']:>6} mode={r['mode']:<6} stories={r['stories']:>5} rows={r['rows']:>5} "
                  f"lost={r['lost']} precision={r['precision']:.4f} recall={r['recall']:.4f} "
                  f"time={r['seconds']:.1f}s")
            print(f"          precision if only identical BBC texts were the same story: "
                  f"{r['precision_exact_truth']:.4f}")
            print(f"          recall by variant: {r['recall_by_kind']}")
        print(f"n={n:>6} peak RSS {report['peak_rss_mb']:.0f} MB (largest process of this size's runs); "
              f"modes agree: {len(digests) == 1}")
        times[n] = report["results"][0]["seconds"]
    if len(times) > 1:
        lo, hi = min(times), max(times)
        print(f"time ratio n={hi}/n={lo}: {times[hi] / times[lo]:.2f} (target <= 12)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
