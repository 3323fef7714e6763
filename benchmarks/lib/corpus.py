"""A corpus of N realistic news inputs from ``../shared/eval/topics/`` texts.

The labelled corpora there are for research and evaluation only: this module
reads them at benchmark time and writes the inputs to a temporary directory;
nothing derived from them is committed.

Articles come from the BBC and Reuters-21578 dev splits (full bodies of a few
hundred words; AG News is left out, its items are two-line summaries). Even
indices are written as ``.txt`` (headline, blank line, body), odd ones as a
saved ``.html`` page with navigation and footer chrome. When N exceeds the
pool, later rounds splice quarters of four different articles together, so
inputs stay distinct bodies (the dedup stage should keep them all) instead of
repeating the pool as duplicates, which would skip the tag stage and flatter
the pipeline.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from pathlib import Path


def _find_topics() -> Path:
    """``../shared/eval/topics`` beside the checkout (a worktree may sit deeper)."""
    repo = Path(__file__).resolve().parents[2]
    for parent in repo.parents:
        candidate = parent / "shared" / "eval" / "topics"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "eval" / "topics"


DEFAULT_TOPICS = _find_topics()
SOURCES = ("bbc.dev.jsonl", "reuters21578.dev.jsonl")


@dataclass(frozen=True)
class Item:
    title: str
    text: str  # paragraphs separated by a blank line


def load_pool(topics_dir: Path = DEFAULT_TOPICS) -> list[Item]:
    pool, seen = [], set()
    for name in SOURCES:
        path = topics_dir / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            title, text = record.get("title", "").strip(), record.get("text", "").strip()
            # The BBC set holds exact duplicate articles: keep one of each.
            if title and len(text.split()) >= 40 and text not in seen:
                seen.add(text)
                pool.append(Item(title, text))
    if not pool:
        raise FileNotFoundError(f"no topic corpora ({', '.join(SOURCES)}) under {topics_dir}")
    return pool


def items(n: int, pool: list[Item]) -> list[Item]:
    """N distinct articles: the pool in order, then spliced variants."""
    out = []
    # Splice only articles long enough for a quarter to be a small part of them.
    long_pool = [item for item in pool if len(item.text.split("\n\n")) >= 6] or pool
    for i in range(n):
        base = pool[i % len(pool)]
        rnd = i // len(pool)
        if rnd == 0:
            out.append(base)
            continue
        # A quarter from each of four articles: a small share of any source's
        # shingles, far under the dedup threshold (halves of two articles sat
        # near it, and 38% of N=5,000 merged as near-duplicates).
        sources = random.Random(i).sample(range(len(long_pool)), 4)  # four different ones
        parts = [long_pool[k].text.split("\n\n") for k in sources]
        pieces = []
        for j, paragraphs in enumerate(parts):
            quarter = max(1, len(paragraphs) // 4)
            pieces.extend(paragraphs[j * quarter:(j + 1) * quarter] or paragraphs[-1:])
        out.append(Item(base.title, "\n\n".join(pieces)))
    return out


def _page(item: Item, index: int) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in item.text.split("\n\n"))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(item.title)} - Example News</title>"
            f'<link rel="canonical" href="https://news.example.org/a/{index}"></head><body>'
            f'<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a>'
            f"</nav><article><h1>{html.escape(item.title)}</h1>\n{paragraphs}\n</article>"
            f"<aside><h2>Most read</h2><ul><li>Markets close higher</li>"
            f"<li>Weekend weather outlook</li></ul></aside>"
            f"<footer>&copy; Example News. All rights reserved.</footer></body></html>\n")


def write(directory: Path, articles: list[Item]) -> None:
    """Write the inputs: ``.txt`` for even indices, ``.html`` for odd ones."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, item in enumerate(articles):
        if i % 2 == 0:
            (directory / f"{i:06d}.txt").write_text(f"{item.title}\n\n{item.text}\n", encoding="utf-8")
        else:
            (directory / f"{i:06d}.html").write_text(_page(item, i), encoding="utf-8")


def texts(articles: list[Item]) -> list[str]:
    """What the tag stage gives spaCy for each article: headline, blank line, body."""
    return [f"{a.title}\n\n{a.text}" for a in articles]
