"""How soon a followed feed's new item is a row in the warehouse.

    python -m benchmarks.follow                          # 20 feeds x 10 new items a round
    python -m benchmarks.follow --interval 20 --rounds 6 --feeds 20 --items 10

Starts ``newsbeam ingest FEEDS --interval I`` as a real process against a
loopback site of ``--feeds`` feeds. After a warm-up poll and ``--quiet`` polls
with nothing new, each of ``--rounds`` rounds publishes ``--items`` new items
in every feed, each feed at a random moment within the round. An item's
latency is from the moment it appeared in its feed to the commit that made its
row visible (``_log/<seq>.json``'s ``committed_at``; the rename into place
follows within milliseconds). Prints the latency distribution, each poll's
duration from the follower's status lines (quiet polls are the per-poll fixed
cost) and items/s while busy.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

from newsbeam.schemas import RawDocument
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.links import normalise_link
from tests.feedserver import FeedServer, Route, page, rss, story

REPO = Path(__file__).resolve().parents[1]

STATUS = re.compile(r"poll (\d+): .*new items (\d+).*\[([\d.]+)s\]")


class Site:
    """Feeds on a loopback server that gain items on demand; remembers when."""

    def __init__(self, server: FeedServer, feeds: int):
        self.server, self.feeds = server, feeds
        self.items: list[list[dict]] = [[] for _ in range(feeds)]
        self.published: dict[str, float] = {}  # article_id -> wall time it appeared
        self.lock = threading.Lock()
        for f in range(feeds):
            self._publish_feed(f)

    def url(self, f: int) -> str:
        return self.server.url(f"/feed{f}.xml")

    def _publish_feed(self, f: int) -> None:
        self.server.routes[f"/feed{f}.xml"] = Route(rss(self.items[f][-100:]),
                                                     etag=f'"{f}-{len(self.items[f])}"')

    def add(self, f: int, count: int) -> None:
        with self.lock:
            start = len(self.items[f])
            for i in range(start, start + count):
                path = f"/a/{f}/{i}"
                self.server.routes[path] = Route(page(f"Story {f}-{i}", story(f * 100_000 + i, 120)),
                                                 "text/html; charset=utf-8")
                link = self.server.url(path)
                self.items[f].append(dict(title=f"Story {f}-{i}", link=link,
                                          pubDate="Mon, 06 Jan 2025 10:00:00 GMT",
                                          description=f"Summary of story {f}-{i}."))
                raw = RawDocument("", normalise_link(link), None, "feed", None, "", None, None,
                                  None, 0)
                self.published[article_id(raw)] = time.time()
            self._publish_feed(f)


def visible_at(out: Path) -> dict[str, float]:
    """article_id -> wall time of the commit that made its row visible."""
    seen = {}
    for record_path in sorted((out / "_log").glob("*.json")):
        record = json.loads(record_path.read_text())
        at = record["committed_at"] / 1e6
        for f in record["files"]:
            if f["table"] == "articles":
                for aid in pq.read_table(out / f["path"], columns=["article_id"]).column(0).to_pylist():
                    seen.setdefault(aid, at)
    return seen


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 \
        else values[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=10, help="new items per feed per round")
    parser.add_argument("--interval", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quiet", type=int, default=2, help="polls with nothing new")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="newsbeam-follow-") as tmp, FeedServer() as server:
        out = Path(tmp) / "w"
        site = Site(server, args.feeds)
        for f in range(args.feeds):
            site.add(f, 2)  # the warm-up poll's items
        cmd = [sys.executable, "-m", "newsbeam.pipeline.cli", "ingest", *[site.url(f) for f in range(args.feeds)],
               "--out", str(out), "--interval", str(args.interval), "--allow_private_addresses",
               "--per_host_delay", "0", "--per_host_concurrency", "8", "--no_progress"]
        follower = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
        polls: list[tuple[int, int, float]] = []

        def read_status():
            for line in follower.stderr:
                m = STATUS.search(line)
                if m:
                    polls.append((int(m[1]), int(m[2]), float(m[3])))
                    print(line.rstrip(), flush=True)

        reader = threading.Thread(target=read_status, daemon=True)
        reader.start()
        while len(polls) < 1 + args.quiet:  # warm-up, then quiet polls
            time.sleep(0.1)
        started = time.time()
        for r in range(args.rounds):
            offsets = sorted((rng.uniform(0, args.interval), f) for f in range(args.feeds))
            round_start = started + r * args.interval
            for offset, f in offsets:
                time.sleep(max(0.0, round_start + offset - time.time()))
                site.add(f, args.items)
        expected = 2 * args.feeds + args.rounds * args.feeds * args.items
        deadline = time.time() + 10 * args.interval + 120
        while len(visible_at(out)) < expected and time.time() < deadline:
            time.sleep(1)
        follower.send_signal(signal.SIGINT)  # finishes the poll in flight, then stops
        follower.wait(timeout=300)
        reader.join(5)
        shown = visible_at(out)
        latencies = [shown[a] - t for a, t in site.published.items()
                     if a in shown and t >= started]
        missing = sum(1 for a in site.published if a not in shown)
    quiet = [s for n, new, s in polls[1:1 + args.quiet]]
    busy = [(new, s) for n, new, s in polls[1 + args.quiet:] if new]
    print(f"\n{args.feeds} feeds, {args.items} new items per feed per round, "
          f"interval {args.interval:g} s, {args.rounds} rounds; {len(latencies)} items measured, "
          f"{missing} never visible")
    if latencies:
        print(f"latency appeared -> visible: p50 {percentile(latencies, 50):.1f} s, "
              f"p95 {percentile(latencies, 95):.1f} s, max {max(latencies):.1f} s "
              f"(target p95 <= interval + 15 = {args.interval + 15:g} s)")
    print(f"first poll (cold start, {polls[0][1] if polls else 0} items): "
          f"{polls[0][2] if polls else float('nan'):.1f} s")
    print(f"per-poll fixed cost (quiet polls): {', '.join(f'{s:.1f}' for s in quiet)} s")
    if busy:
        items, seconds = sum(n for n, _ in busy), sum(s for _, s in busy)
        print(f"busy polls: {len(busy)}, {items} items in {seconds:.1f} s = "
              f"{items / seconds:.1f} items/s; longest poll {max(s for _, s in busy):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
