"""Build a labelled near-duplicate corpus from the BBC evaluation set.

    python -m benchmarks.neardup_corpus --n 1000 --out /tmp/neardup1k [--eval-dir ../shared/eval] [--txt]

Writes ``OUT/corpus.jsonl`` (records the read stage accepts: ``title``, ``text``,
``url``, ``published``, ``source``, plus the labels ``id``, ``cluster``,
``variant``, ``origin``), and with ``--txt`` the same records as ``OUT/txt/*.txt``
(headline on the first line, body after) for the clean stage to read.

Ground truth: ``cluster`` names the story. BBC dev holds exact duplicate
articles itself (same text under two ids) and ten pairs of versions of one article
(``KNOWN_VERSIONS``, reviewed by hand); each shares one cluster, and so do all
variants generated from either copy. ``exact_cluster`` is the stricter truth that
only joins identical BBC texts. Every original either stays a single or gets
variants, each of one kind:

* ``verbatim``  -- the same text re-posted elsewhere;
* ``chrome``    -- wrapped in another site's header, footer and "related stories";
* ``headline``  -- the same body under a rewritten headline;
* ``typo``      -- curly/straight quotes, dashes, ellipses, doubled and
  non-breaking spaces, full-width digits, ligatures;
* ``wrap``      -- hard-wrapped lines (and paragraph spacing changed);
* ``drop_last`` / ``add_last`` -- closing paragraph dropped / one added;
* ``edits``     -- a handful (2-8) of word substitutions, deletions, insertions;

and a third of the variants also get a light second change (typo, wrap or
headline). The BBC text stays in /work/shared; only this generator is in the repo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import textwrap
from pathlib import Path

KINDS = ("verbatim", "chrome", "headline", "typo", "wrap", "drop_last", "add_last", "edits")
LIGHT = ("typo", "wrap", "headline")
SITES = ("dailywire.example", "newsroom.example", "globalpost.example", "metro-times.example",
         "the-herald.example", "citydesk.example", "worldbrief.example", "pressline.example")
NAV = ("Home", "News", "World", "UK", "Business", "Politics", "Tech", "Science", "Health",
       "Sport", "Culture", "Opinion", "Video", "Live")
# Single originals: 30%; a story with variants gets 1..21 of them (mean 11).
SINGLE_SHARE = 0.3
MAX_VARIANTS = 21


# BBC dev also holds later versions of the same article under another id (an agency
# update: same lead, a few edits, a paragraph added or dropped). Found by listing every
# pair of BBC dev texts with word-3-shingle Jaccard >= 0.2 and reading them; these ten
# (Jaccard 0.63-1.0, the shorter text 88-100% contained in the longer) are the same
# article. Pairs judged different and left apart: entertainment-143/159 (0.43, two
# Band Aid stories), politics-111/293 (0.36, a 924-word story inside a 2,389-word
# one), and all below 0.36.
KNOWN_VERSIONS = (
    ("bbc-sport-432", "bbc-sport-438"), ("bbc-sport-332", "bbc-sport-344"),
    ("bbc-tech-045", "bbc-tech-341"), ("bbc-tech-095", "bbc-tech-311"),
    ("bbc-entertainment-079", "bbc-entertainment-331"), ("bbc-tech-019", "bbc-tech-329"),
    ("bbc-tech-009", "bbc-tech-379"), ("bbc-business-209", "bbc-business-229"),
    ("bbc-sport-444", "bbc-sport-458"), ("bbc-politics-043", "bbc-politics-313"),
)


def load_bbc(eval_dir: Path) -> list[dict]:
    """BBC dev rows with ``cluster`` (reviewed truth) and ``exact_cluster`` (identical text only)."""
    rows = [json.loads(line) for line in (eval_dir / "topics" / "bbc.dev.jsonl").open(encoding="utf-8")]
    # Exact duplicates inside BBC share a cluster: key by the text itself.
    first_id: dict[str, str] = {}
    for r in rows:
        r["exact_cluster"] = r["cluster"] = first_id.setdefault(r["text"].strip(), r["id"])
    merged = {}
    for a, b in KNOWN_VERSIONS:
        ca = next(r["cluster"] for r in rows if r["id"] == a)
        cb = next(r["cluster"] for r in rows if r["id"] == b)
        merged[max(ca, cb)] = min(ca, cb)
    for r in rows:
        while r["cluster"] in merged:
            r["cluster"] = merged[r["cluster"]]
    return rows


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def v_chrome(rng, title, text, others):
    site = rng.choice(SITES)
    nav = " | ".join(rng.sample(NAV, rng.randint(5, 9)))
    related = [o["title"] for o in rng.sample(others, rng.randint(3, 5))]
    head = f"{site.split('.')[0].replace('-', ' ').title()}\n\n{nav}\n\nAdvertisement"
    foot = ("Related stories\n\n" + "\n\n".join(related) +
            f"\n\nShare this article: Facebook Twitter Email\n\n"
            f"© {rng.randint(2004, 2006)} {site}. All rights reserved. Terms of use | Privacy | Contact us")
    return title, f"{head}\n\n{text}\n\n{foot}"


def v_headline(rng, title, text, others):
    forms = (
        lambda t: f"UPDATE: {t}",
        lambda t: f"{t} - report",
        lambda t: t.upper(),
        lambda t: " ".join(reversed(t.split(" ", 1))) if " " in t else t + " (update)",
        lambda t: f"Breaking: {t.lower()}",
    )
    return rng.choice(forms)(title), text


def v_typo(rng, title, text, others):
    t = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    t = t.replace("'", "\u2019")
    if rng.random() < 0.5:
        t = t.replace(" - ", " \u2014 ").replace("...", "\u2026")
    t = t.replace(". ", ".  ") if rng.random() < 0.5 else t.replace(" ", "\u00a0", rng.randint(3, 30))
    if rng.random() < 0.5:
        t = t.replace("fi", "\ufb01")
    if rng.random() < 0.5:
        t = re.sub(r"\d", lambda m: chr(0xFF10 + int(m.group())), t)
    return title, t


def v_wrap(rng, title, text, others):
    width = rng.randint(60, 80)
    sep = rng.choice(("\n\n", "\n"))
    return title, sep.join(textwrap.fill(p, width, break_long_words=False, break_on_hyphens=False)
                          for p in paragraphs(text))


_SENTENCE_RE = re.compile(r"(?<=[.!?\"'])\s+(?=[A-Z\"'])")


def v_drop_last(rng, title, text, others):
    # BBC dev joins the page's one- or two-sentence paragraphs into long blocks, so
    # a "closing paragraph" here is the final block when it is short (<= 15% of the
    # words), else its last one or two sentences within that 15%.
    ps = paragraphs(text)
    total = len(text.split())
    if len(ps) > 2 and len(ps[-1].split()) <= 0.15 * total:
        return title, "\n\n".join(ps[:-1])
    sents = _SENTENCE_RE.split(ps[-1])
    drop = 1
    if len(sents) > 2 and len(" ".join(sents[-2:]).split()) <= 0.15 * total and rng.random() < 0.5:
        drop = 2
    if len(sents) <= drop:
        return title, "\n\n".join(ps[:-1] if len(ps) > 1 else ps)
    return title, "\n\n".join(ps[:-1] + [" ".join(sents[:-drop])])


def v_add_last(rng, title, text, others):
    extra = rng.choice((
        "This story has been updated with additional reporting.",
        "Additional reporting by our correspondents. Follow us for the latest updates on this story.",
        _SENTENCE_RE.split(paragraphs(rng.choice(others)["text"])[-1])[-1],
    ))
    return title, f"{text}\n\n{extra}"


def v_edits(rng, title, text, others):
    words = text.split(" ")
    vocab = ("the", "said", "also", "new", "reported", "however", "very", "now", "officials", "year")
    for _ in range(rng.randint(2, 8)):
        i = rng.randrange(len(words))
        op = rng.random()
        if op < 0.4:
            words[i] = rng.choice(vocab)
        elif op < 0.7 and len(words) > 1:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return title, " ".join(words)


VARIANTS = {
    "verbatim": lambda rng, title, text, others: (title, text),
    "chrome": v_chrome, "headline": v_headline, "typo": v_typo, "wrap": v_wrap,
    "drop_last": v_drop_last, "add_last": v_add_last, "edits": v_edits,
}


def build(rows: list[dict], n: int, seed: int = 5) -> list[dict]:
    """``n`` labelled records; the same ``(rows, n, seed)`` always gives the same corpus."""
    rng = random.Random(seed)
    pool = list(rows)
    rng.shuffle(pool)
    base = dt.datetime(2005, 1, 1, tzinfo=dt.timezone.utc)
    out: list[dict] = []

    def add(rec, title, text, variant, origin, k):
        published = base + dt.timedelta(days=pool_pos, hours=k)
        out.append({
            "id": f"nd-{len(out):06d}", "title": title, "text": text,
            "url": f"https://{SITES[k % len(SITES)]}/story/{rec['id']}/{k}",
            "published": None if (k and rng.random() < 0.2) else published.isoformat(),
            "source": f"{SITES[k % len(SITES)]}/{rec['id']}/{k}",
            "cluster": rec["cluster"], "exact_cluster": rec["exact_cluster"],
            "variant": variant, "origin": origin,
        })

    # Past one pass over BBC an original reappears under a new id: still its cluster.
    for pool_pos, rec in enumerate(pool * (1 + n // max(1, len(pool)))):
        if len(out) >= n:
            break
        others = [r for r in rng.sample(pool, 8) if r["cluster"] != rec["cluster"]][:6]
        add(rec, rec["title"], rec["text"], "original", rec["id"], 0)
        if rng.random() < SINGLE_SHARE:
            continue
        for k in range(1, rng.randint(1, MAX_VARIANTS) + 1):
            if len(out) >= n:
                break
            kind = rng.choice(KINDS)
            title, text = VARIANTS[kind](rng, rec["title"], rec["text"], others)
            label = kind
            if rng.random() < 1 / 3:
                extra = rng.choice(LIGHT)
                title, text = VARIANTS[extra](rng, title, text, others)
                label = f"{kind}+{extra}"
            add(rec, title, text, label, rec["id"], k)
    return out


def write(records: list[dict], out: Path, txt: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if txt:
        d = out / "txt"
        d.mkdir(exist_ok=True)
        for r in records:
            (d / f"{r['id']}.txt").write_text(f"{r['title']}\n\n{r['text']}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of documents")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "eval")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--txt", action="store_true", help="also write one .txt file per record")
    args = ap.parse_args(argv)
    records = build(load_bbc(args.eval_dir), args.n, args.seed)
    write(records, args.out, args.txt)
    clusters = len({r["cluster"] for r in records})
    print(f"{len(records)} records, {clusters} stories -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
