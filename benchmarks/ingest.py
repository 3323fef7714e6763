"""Ingest throughput: N feeds x M items served from a loopback server.

    /work/venv/bin/python -m benchmarks.ingest [--feeds 200] [--items 50]

Prints items/second end to end (one ``--once`` poll into a fresh warehouse)
and the share of wall time per stage, from timing each stage's work in
isolation on the same items: fetch (feed polls + page fetches), extract
(clean stage), tag, write. Shares are of the end-to-end time; the rest is
Beam overhead (serialisation, grouping, dedup).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import apache_beam as beam

from newsbeam.pipeline.cli import main
from tests.feedserver import FeedServer, Route, page, rss, story


def _serve(server, feeds, items):
    for f in range(feeds):
        entries = []
        for i in range(items):
            path = f"/f{f}/a{i}"
            entries.append(dict(title=f"Story {f}-{i}", link=server.url(path),
                                pubDate="Mon, 06 Jan 2025 10:00:00 GMT",
                                description=f"Summary of story {f}-{i}."))
            server.routes[path] = Route(page(f"Story {f}-{i}", story(f * items + i, 120)),
                "text/html; charset=utf-8")
        server.routes[f"/f{f}.xml"] = Route(rss(entries), etag=f'"{f}"')


def _stage_times(server, feeds, items, out):
    """Time fetch, clean, tag and write on the same items, each stage alone."""
    from newsbeam.transforms import warehouse
    from newsbeam.transforms.clean import CleanArticles, clean_document
    from newsbeam.transforms.errors import Rejected
    from newsbeam.transforms.feed_parse import ParserProcess
    from newsbeam.transforms.feeds import fetch_page, items_to_documents
    from newsbeam.transforms.fetch import FetchConfig, Fetcher
    from newsbeam.transforms.tag import TagArticles
    from newsbeam.transforms.write import WriteWarehouse

    config = FetchConfig(allow_private_addresses=True, per_host_delay=0, per_host_concurrency=8)
    fetcher, parser = Fetcher(config), ParserProcess()
    t0 = time.monotonic()
    docs = []
    for f in range(feeds):
        resp = fetcher.get(server.url(f"/f{f}.xml"), max_bytes=config.max_feed_bytes)
        docs.extend(d for d in items_to_documents(server.url(f"/f{f}.xml"),
                                                  parser.parse(resp.body, resp.url), 1))
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        docs = list(pool.map(lambda d: fetch_page(fetcher, d), docs))
    fetch = time.monotonic() - t0
    parser.close()
    fetcher.close()

    def timed(build):
        start = time.monotonic()
        with beam.Pipeline() as p:
            build(p)
        return time.monotonic() - start

    with beam.Pipeline() as p:  # baseline: Beam's own cost for moving the items
        _ = p | beam.Create(docs) | beam.Map(lambda d: d)
    base = timed(lambda p: p | beam.Create(docs) | beam.Map(lambda d: d))
    clean = timed(lambda p: p | beam.Create(docs) | CleanArticles()) - base
    # The inputs of the later stages, made outside Beam: a DoFn appending to a
    # list would append to a pickled copy of it.
    articles = []
    for doc in docs:
        try:
            articles.append(clean_document(doc))
        except Rejected:
            pass
    deduped = articles  # distinct items: dedup keeps them all
    tag = timed(lambda p: p | beam.Create(deduped) | TagArticles()) - base
    write = timed(lambda p: {"articles": p | "A" >> beam.Create(deduped),
                             "duplicates": p | "D" >> beam.Create([]),
                             "errors": p | "E" >> beam.Create([]),
                             "index": p | "I" >> beam.Create([])}
                  | WriteWarehouse(out, p | "Run" >> beam.Create([warehouse.Run("bench", 0, 0)]))
                  ) - base
    return {"fetch": fetch, "extract": max(clean, 0), "tag": max(tag, 0), "write": max(write, 0)}


def run(feeds: int, items: int) -> None:
    with FeedServer() as server, tempfile.TemporaryDirectory() as tmp:
        _serve(server, feeds, items)
        feed_list = os.path.join(tmp, "feeds.txt")
        with open(feed_list, "w") as handle:
            handle.write("\n".join(server.url(f"/f{f}.xml") for f in range(feeds)))
        out = os.path.join(tmp, "warehouse")
        started = time.monotonic()
        rc = main(["ingest", feed_list, "--out", out, "--once", "--allow_private_addresses",
                   "--per_host_delay", "0", "--per_host_concurrency", "8", "--no_progress"])
        total = time.monotonic() - started
        n = feeds * items
        print(f"end to end: {n} items from {feeds} feeds in {total:.1f}s "
              f"= {n / total:.1f} items/s (exit {rc})")
        stages = _stage_times(server, feeds, items, os.path.join(tmp, "w2"))
        for name, seconds in stages.items():
            print(f"  {name:<8} {seconds:7.1f}s  {100 * seconds / total:5.1f}% of end-to-end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    run(args.feeds, args.items)
