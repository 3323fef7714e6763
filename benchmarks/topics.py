"""Primary-theme quality of the tag stage on labelled news (issue 6 bars).

Scores the first theme of each article against
``<eval-dir>/topics/{bbc,ag_news,reuters21578}.dev.jsonl`` with ``label_map.json``:
a prediction is correct when the primary theme is in the acceptable list for the
gold label. Prints accuracy, macro-F1 (over gold labels; a prediction counts for
the gold label when acceptable, else for the label whose canonical slug it is)
and coverage (share not ``unclassified``) per data set.

    python -m benchmarks.topics [--eval-dir ../shared/eval] [--split dev] [--limit N]

The corpora are for evaluation only: they are read in place, never copied.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter

from newsbeam.transforms.spacy_model import load_model
from newsbeam.transforms.themes import UNCLASSIFIED, ThemeScorer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DATASETS = ("bbc", "ag_news", "reuters21578")
TARGETS = {"bbc": 0.92, "ag_news": 0.80, "reuters21578": 0.92}


def macro_f1(golds: list[str], preds: list[str], label_map: dict) -> float:
    canonical = {}
    for label, slugs in label_map.items():
        canonical.setdefault(slugs[0], label)
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(golds, preds):
        if pred in label_map[gold]:
            tp[gold] += 1
            continue
        fn[gold] += 1
        other = canonical.get(pred)
        if other is not None:
            fp[other] += 1
    f1s = []
    for label in set(golds):
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(f1s) / len(f1s)


def evaluate(name: str, rows: list[dict], label_map: dict, nlp, scorer: ThemeScorer, batch_size: int) -> dict:
    titles = [(r.get("title") or "").strip() for r in rows]
    texts = [f"{t}\n\n{r.get('text') or ''}" if t else (r.get("text") or "") for t, r in zip(titles, rows)]
    preds = []
    for title, doc in zip(titles, nlp.pipe(texts, batch_size=batch_size)):
        preds.append(scorer.select(scorer.score(doc, len(title)))[0])
    golds = [r["label"] for r in rows]
    correct = sum(p in label_map[g] for g, p in zip(golds, preds))
    return {
        "n": len(rows),
        "accuracy": correct / len(rows),
        "macro_f1": macro_f1(golds, preds, label_map),
        "coverage": sum(p != UNCLASSIFIED for p in preds) / len(rows),
        "confusions": Counter((g, p) for g, p in zip(golds, preds) if p not in label_map[g]).most_common(5),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", default=os.path.join(REPO, "..", "shared", "eval"))
    ap.add_argument("--split", default="dev")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--limit", type=int, default=0, help="first N rows per data set (0 = all)")
    ap.add_argument("--model", default="auto")
    ap.add_argument("--lexicon", default=None, help="theme TOML (default: the packaged one)")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)

    topics = os.path.join(args.eval_dir, "topics")
    if not os.path.isdir(topics):
        print(f"no evaluation data at {topics} (use --eval-dir)", file=sys.stderr)
        return 2
    with open(os.path.join(topics, "label_map.json"), encoding="utf-8") as f:
        label_maps = json.load(f)
    nlp = load_model(args.model)
    scorer = ThemeScorer.from_file(args.lexicon)
    print(f"model: {nlp.meta.get('name')} {nlp.meta.get('version')}  pipes: {nlp.pipe_names}")
    print(f"{'data set':<14}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'coverage':>10}{'target':>8}{'sec':>7}")
    for name in args.datasets:
        path = os.path.join(topics, f"{name}.{args.split}.jsonl")
        if not os.path.exists(path):
            print(f"{name:<14} missing: {path}")
            continue
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        if args.limit:
            rows = rows[: args.limit]
        t0 = time.perf_counter()
        res = evaluate(name, rows, label_maps[name], nlp, scorer, args.batch_size)
        sec = time.perf_counter() - t0
        target = TARGETS.get(name)
        flag = "" if target is None else (" ok" if res["accuracy"] >= target else " BELOW")
        print(f"{name:<14}{res['n']:>6}{res['accuracy']:>10.3f}{res['macro_f1']:>10.3f}{res['coverage']:>10.3f}"
              f"{target if target else '':>8}{sec:>7.1f}{flag}")
        print(f"{'':<14}top confusions (gold, predicted): {res['confusions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
