"""Throughput of the tag stage inside a Beam pipeline vs bare ``nlp.pipe`` (issue 6).

Both runs use the same spaCy model (loaded by ``transforms.tag.load_model``, with
the same components) over the same texts, in one process, one after the other:

* bare:     ``load_model(model)`` then ``list(nlp.pipe(texts, batch_size))``
* pipeline: ``beam.Create(articles) | TagArticles(...)`` on the DirectRunner,
            including model load in ``DoFn.setup``, theme scoring and entities.

Prints articles/second for each and the ratio (target: pipeline within 1.2x).

    python -m benchmarks.tagging [--eval-dir ../shared/eval] [--n 600] [--batch-size 64]

Texts come from the BBC and AG News dev splits when present (read in place,
evaluation only), else from the repository's seeds.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

import apache_beam as beam
import numpy as np
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from newsbeam.schemas import Article
from newsbeam.transforms.spacy_model import load_model
from newsbeam.transforms.tag import TagArticles, article_text

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_items(eval_dir: str, n: int) -> list[tuple[str, str]]:
    items = []
    for name in ("bbc", "ag_news"):
        path = os.path.join(eval_dir, "topics", f"{name}.dev.jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                items += [(r["title"], r["text"]) for r in map(json.loads, f)]
    if not items:
        for path in sorted(glob.glob(os.path.join(REPO, "seeds", "*.txt"))):
            lines = [x for x in open(path, encoding="utf-8").read().splitlines() if x.strip()]
            items.append((lines[0], "\n\n".join(lines[1:])))
    # Interleave long (BBC) and short (AG) items; repeat if there are too few.
    items = items[::2] + items[1::2]
    return [items[i % len(items)] for i in range(n)]


def make_article(i: int, title: str, text: str) -> Article:
    return Article(
        article_id=f"bench-{i}", url=f"file:///bench/{i}", source=f"bench/{i}", title=title, text=text,
        published_at=None, date_source="ingested", ingested_at=0, language="en", themes=[], entities=[],
        word_count=np.int32(len(text.split())), duplicates=[], theme_scores=[], text_source="file",
        author=None, site_name=None, content_hash="", page_status=None,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval-dir", default=os.path.join(REPO, "..", "shared", "eval"))
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--model", default="auto")
    args = ap.parse_args(argv)

    articles = [make_article(i, t, x) for i, (t, x) in enumerate(load_items(args.eval_dir, args.n))]
    texts = [article_text(a)[0] for a in articles]
    words = sum(len(t.split()) for t in texts)

    t0 = time.perf_counter()
    nlp = load_model(args.model)
    docs = list(nlp.pipe(texts, batch_size=args.batch_size))
    bare = time.perf_counter() - t0
    assert len(docs) == len(texts)
    del docs

    t0 = time.perf_counter()
    opts = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1"])
    p = beam.Pipeline(options=opts)
    _ = p | beam.Create(articles, reshuffle=False) | "Tag" >> TagArticles(model=args.model, batch_size=args.batch_size)
    result = p.run()
    result.wait_until_finish()
    piped = time.perf_counter() - t0
    tagged = result.metrics().query(MetricsFilter().with_name("tagged"))["counters"]
    n_tagged = sum(c.committed or 0 for c in tagged)
    assert n_tagged == len(articles), (n_tagged, len(articles))

    print(f"model: {nlp.meta.get('name')} {nlp.meta.get('version')}  pipes: {nlp.pipe_names}")
    print(f"articles: {len(articles)}  words: {words}  batch size: {args.batch_size}")
    print(f"bare nlp.pipe      : {bare:7.1f} s  {len(texts) / bare:7.1f} articles/s")
    print(f"TagArticles (Beam) : {piped:7.1f} s  {len(articles) / piped:7.1f} articles/s")
    ratio = piped / bare
    print(f"ratio pipeline/bare: {ratio:.2f}x  (target <= 1.2x: {'ok' if ratio <= 1.2 else 'BELOW TARGET'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
