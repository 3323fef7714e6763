"""Does cleaning a plain text hold when only its form changes? Before and after
paragraph reassembly, side by side.

    python -m benchmarks.invariance [--eval-dir ../shared/eval] [--limit N] [--seed 13]

For every change of form in ``benchmarks.lib.forms.FORMS`` (rewrapped at a
width from 40 to 100, CRLF, indents, NBSP, quotes, soft hyphens, a dateline,
an all-caps headline, ...) it prints, per corpus:

* words kept: of the words the cleaner keeps of the text as written, the
  share it also keeps of the changed text (modulo the change: case, quotes,
  the added dateline);
* paragraphs restored: cleaned paragraphs (headline included) that come out
  word for word the same, over the larger of the two counts;

``before`` is the cleaner as it was before ``transforms.paragraphs`` (one
paragraph per line, then the same rules), ``after`` is ``clean_text`` now.
Corpora: the bundled seeds, and when present the gold article bodies of
``extraction/`` and ``extraction-more/`` under the eval dir (paragraphs one a
line; the first is taken as the headline). The eval data are read here at run
time only. Target: 99.5% for every form (hard wraps with single newlines and
no indents are ambiguous at full lines that end a sentence; see
``transforms.paragraphs``). For that form it also prints how many paragraph
breaks fall after a full line: what the layout alone cannot tell.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from benchmarks.lib.forms import FORMS, as_written, hard_wrap, score
from newsbeam.transforms.boilerplate import plausible_headline
from newsbeam.transforms.clean_text import Cleaned, clean_paragraphs, clean_text

ROOT = Path(__file__).resolve().parents[1]


def before(text: str) -> Cleaned:
    """``clean_text`` as it was: every line a paragraph."""
    lines = [s.strip() for s in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [s for s in lines if s]
    h = next((i for i, s in enumerate(lines[:6]) if plausible_headline(s)), None)
    removed = [(s, "nav") for s in lines[:h]] if h is not None else []
    headline = lines[h] if h is not None else None
    out = clean_paragraphs(lines[h + 1:] if h is not None else lines, headline)
    return Cleaned(headline, out.paragraphs, removed + out.removed)


def corpora(eval_dir: Path, limit: int | None) -> dict[str, list[tuple[str, str, list[str]]]]:
    """name -> [(id, headline, paragraphs)]."""
    seeds = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        i = lines.index(clean_text(text).title)  # navigation above the headline left out
        seeds.append((path.stem, lines[i], lines[i + 1:]))
    out = {"seeds": seeds[:limit]}
    for name in ("extraction", "extraction-more"):
        path = eval_dir / name / "ground-truth.json"
        if not path.exists():
            continue
        docs = []
        for key, rec in json.loads(path.read_text(encoding="utf-8")).items():
            paras = [p.strip() for p in (rec.get("articleBody") or "").split("\n") if p.strip()]
            if len(paras) >= 2:
                docs.append((key, paras[0], paras[1:]))
        out[name] = docs[:limit]
    return out


def measure(docs, seed: int) -> dict[str, dict[str, list[int]]]:
    """form -> {"before"/"after": [kept, words, restored, paragraphs]} summed over ``docs``."""
    totals = {form: {"before": [0, 0, 0, 0], "after": [0, 0, 0, 0]} for form in FORMS}
    for key, title, paras in docs:
        text = as_written(title, paras)
        base = {"before": before(text), "after": clean_text(text)}
        for form, change in FORMS.items():
            changed = change(random.Random(f"{seed}|{form}|{key}"), title, paras)
            for which, clean in (("before", before), ("after", clean_text)):
                s = score(base[which], clean(changed))
                totals[form][which] = [a + b for a, b in zip(totals[form][which], s)]
    return totals


AMBIGUOUS_FORM = "wrap 40-100, single newline"


def full_line_breaks(docs, seed: int) -> tuple[float, float]:
    """For :data:`AMBIGUOUS_FORM`: the share of paragraph breaks that fall after a full
    line (the next paragraph's first word would not have fitted on it), where nothing in
    the layout marks the break, and the share of paragraphs next to such a break. A
    reassembly that reads only the layout restores at most the other paragraphs."""
    breaks = unmarked = paragraphs = touched = 0
    for key, title, paras in docs:
        # The width the form drew: its first draw from the same seed (see forms._wrapped).
        width = random.Random(f"{seed}|{AMBIGUOUS_FORM}|{key}").randint(40, 100)
        lines = [hard_wrap(block, width).split("\n") for block in (title, *paras)]
        near = set()
        for i in range(len(lines) - 1):
            breaks += 1
            if len(lines[i][-1]) + 1 + len(lines[i + 1][0].split(" ")[0]) > width:
                unmarked += 1
                near.update((i, i + 1))
        paragraphs += len(lines)
        touched += len(near)
    return unmarked / max(breaks, 1), touched / max(paragraphs, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=ROOT / ".." / "shared" / "eval")
    ap.add_argument("--limit", type=int, help="documents per corpus (default: all)")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    pct = lambda a, b: f"{100 * a / b:6.2f}%" if b else "    n/a"
    for name, docs in corpora(args.eval_dir, args.limit).items():
        totals = measure(docs, args.seed)
        print(f"\n{name}: {len(docs)} documents")
        print(f"| {'form':<38} | words kept before | after   | paragraphs restored before | after   |")
        print(f"|{'-' * 40}|-------------------|---------|----------------------------|---------|")
        for form, t in totals.items():
            b, a = t["before"], t["after"]
            print(f"| {form:<38} | {pct(b[0], b[1]):>17} | {pct(a[0], a[1])} | "
                  f"{pct(b[2], b[3]):>26} | {pct(a[2], a[3])} |")
        at_full, near = full_line_breaks(docs, args.seed)
        print(f"{AMBIGUOUS_FORM}: {100 * at_full:.1f}% of paragraph breaks fall after a full line "
              f"(unmarked); {100 * near:.1f}% of paragraphs are next to one, so reading the layout "
              f"alone restores at most {100 * (1 - near):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
