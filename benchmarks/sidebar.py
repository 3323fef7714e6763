"""Glued-sidebar benchmark: how much glued text the plain-text cleaner removes,
and how much of the real article it loses.

    python -m benchmarks.sidebar [--eval-dir ../shared/eval] [--n 300] [--seed 7]

Cases come from ``benchmarks/sidebar_corpus.py``. Figures are in words:
glued removed = words of glued paragraphs absent from the output / glued words;
article lost = words of real paragraphs absent from the output / real words
(micro-averaged over all cases). The same articles without glue are also
cleaned, to show the loss the cleaner causes on its own. Targets: glued
removed >= 95 %, article lost <= 2 %.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.sidebar_corpus import DEFAULT_EVAL, make_cases
from newsbeam.transforms.clean_text import clean_text
from newsbeam.transforms.text import letter_words


def score(kept: list, paragraphs: list) -> tuple:
    """(words of ``paragraphs`` missing from ``kept``, total words)."""
    keep = set(kept)
    total = sum(len(letter_words(p)) for p in paragraphs)
    missing = sum(len(letter_words(p)) for p in paragraphs if p not in keep)
    return missing, total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=0, help="print this many failing cases")
    args = ap.parse_args(argv)
    if not (args.eval_dir / "topics" / "bbc.dev.jsonl").exists():
        print(f"eval data not found under {args.eval_dir}", file=sys.stderr)
        return 2
    sums = defaultdict(lambda: [0, 0, 0, 0])  # glued removed, glued total, real lost, real total
    alone = [0, 0]
    shown = 0
    t = time.perf_counter()
    cases = list(make_cases(args.eval_dir, args.n, args.seed))
    for case in cases:
        out = clean_text(case["text"])
        g_missing, g_total = score(out.paragraphs, case["glued"])
        r_missing, r_total = score(out.paragraphs, case["article"])
        for key in (case["position"], "all"):
            s = sums[key]
            s[0] += g_missing
            s[1] += g_total
            s[2] += r_missing
            s[3] += r_total
        plain = clean_text(case["title"] + "\n" + "\n".join(case["article"]))
        a_missing, a_total = score(plain.paragraphs, case["article"])
        alone[0] += a_missing
        alone[1] += a_total
        if shown < args.show and (g_missing < g_total or r_missing):
            shown += 1
            print(f"--- {case['id']} ({case['position']}) glued removed {g_missing}/{g_total}, lost {r_missing}/{r_total}")
            for line, why in out.removed:
                print(f"    - [{why}] {line[:100]}")
    elapsed = time.perf_counter() - t
    print(f"cases: {len(cases)} (seed {args.seed}), {elapsed:.1f} s")
    print(f"{'position':<8} {'glued removed':>14} {'article lost':>13}")
    for key in ("before", "middle", "after", "all"):
        s = sums[key]
        print(f"{key:<8} {100 * s[0] / max(1, s[1]):13.1f}% {100 * s[2] / max(1, s[3]):12.2f}%")
    print(f"article lost without glue: {100 * alone[0] / max(1, alone[1]):.2f}%")
    s = sums["all"]
    ok = s[0] / max(1, s[1]) >= 0.95 and s[2] / max(1, s[3]) <= 0.02
    print("targets (>= 95% removed, <= 2% lost):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
