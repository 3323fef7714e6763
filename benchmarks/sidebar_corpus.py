"""Generate the glued-sidebar corpus from ../shared/eval/topics/bbc.dev.jsonl.

Each case is a real BBC article (headline, then its paragraphs, one per line)
with a run of 2-4 consecutive paragraphs from an article of a *different*
BBC section glued in as plain text: right after the headline ("before"),
between two paragraphs of the body ("middle") or at the end ("after").
Nothing marks the glued text (no label, no separator): only its content
tells it apart. Articles with fewer than 5 paragraphs are skipped, so a
glued run is never the majority of the text.

    python -m benchmarks.sidebar_corpus [--eval-dir ../shared/eval] [--n 300] [--seed 7] [--out FILE]

The corpus is research-only data: it is generated on the fly, never committed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Iterator

POSITIONS = ("before", "middle", "after")
DEFAULT_EVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"


def load_articles(eval_dir: Path) -> list:
    rows = []
    with open(eval_dir / "topics" / "bbc.dev.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            paras = [p.strip() for p in row["text"].split("\n\n") if p.strip()]
            rows.append({"id": row["id"], "label": row["label"], "title": row["title"].strip(), "paragraphs": paras})
    return rows


def make_cases(eval_dir: Path, n: int = 300, seed: int = 7) -> Iterator[dict]:
    """Yield ``n`` cases: {id, title, article, glued, position, text}."""
    rng = random.Random(seed)
    articles = load_articles(eval_dir)
    hosts = [a for a in articles if len(a["paragraphs"]) >= 5]
    rng.shuffle(hosts)
    for i, host in enumerate(hosts[:n]):
        donors = [a for a in articles if a["label"] != host["label"] and len(a["paragraphs"]) >= 3]
        donor = rng.choice(donors)
        k = min(rng.randint(2, 4), len(donor["paragraphs"]))
        start = rng.randint(0, len(donor["paragraphs"]) - k)
        glued = donor["paragraphs"][start:start + k]
        position = POSITIONS[i % 3]
        body = list(host["paragraphs"])
        at = {"before": 0, "after": len(body), "middle": rng.randint(2, len(body) - 2)}[position]
        mixed = body[:at] + glued + body[at:]
        yield {
            "id": f"{host['id']}+{donor['id']}",
            "title": host["title"],
            "article": body,
            "glued": glued,
            "position": position,
            "text": host["title"] + "\n" + "\n".join(mixed),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, help="write JSONL here (default: stdout)")
    args = ap.parse_args(argv)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    for case in make_cases(args.eval_dir, args.n, args.seed):
        out.write(json.dumps(case, ensure_ascii=False) + "\n")
    if args.out:
        out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
