"""Kill newsbeam at random instants, restart it, and count what the warehouse holds.

    python -m benchmarks.faults                       # 20 kills of a backfill, 20 of ingest polls
    python -m benchmarks.faults --kills 5 --articles 100 --skip-bomb

Backfill: a 300-article synthetic corpus (``tests/pipeline/synthetic_news.py``:
.txt, .html, .json(l), gzipped files, exact copies and bad inputs). A clean
run is traced first (``tests/faultfs.py``) to number its file operations; then,
N times, a fresh warehouse: the backfill is SIGKILLed (its whole process group)
at a random one of those operations, run again to completion, and run a third
time. Ingest: the same with ``newsbeam ingest --once`` polling a loopback feed
server whose items link to pages (some missing, so failed page fetches and
feed summaries are exercised), killed at a random operation of a traced poll.

Each scenario prints: inputs expected and accounted for, rows per table after
recovery, repeated rows (same input id twice in one table, or in two tables),
lost inputs, what the third run added, and whether the stories hold (every
article has a story with a ``stories/`` row, and articles group as in the clean
run). Last, peak memory (process tree) of a backfill of ``seeds/`` next to the
same plus a 6 MB ``.txt.gz`` that inflates to 6 GB (it must become a
``too_large`` error row).
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from benchmarks.lib import measure
from tests.feedserver import FeedServer, Route, page, rss, story
from tests.pipeline.synthetic_news import write_corpus
from tests.warehouse_check import assert_stories_consistent, table_rows, tally

REPO = Path(__file__).resolve().parents[1]


def run_under_faults(out: Path, command: list[str], at: int = 0, trace: str = "") -> int:
    cmd = [sys.executable, "-m", "tests.faultfs", "--root", str(out), "--fault", "kill"]
    cmd += ["--at", str(at)] if at else []
    cmd += ["--trace", trace] if trace else []
    proc = subprocess.run([*cmd, "--", *command], cwd=REPO, capture_output=True, text=True,
                          start_new_session=True, timeout=1800)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise SystemExit(f"newsbeam failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode


def operations(trace: Path) -> int:
    return len(trace.read_text().splitlines())


def scenario(name: str, make_command, expected_inputs: int, kills: int, rng: random.Random,
             work: Path) -> list[tuple]:
    """Trace one clean run, then ``kills`` runs killed at random operations."""
    clean = work / f"{name}-clean"
    trace = work / f"{name}-ops.txt"
    run_under_faults(clean, make_command(clean), trace=str(trace))
    reference = tally(str(clean))
    grouping = story_grouping(clean)
    total = operations(trace)
    rows = [(name, "clean run", "-", expected_inputs, reference, story_check(clean, grouping))]
    for k in range(kills):
        out = work / f"{name}-{k}"
        at = rng.randint(1, total)
        killed = run_under_faults(out, make_command(out), at=at)
        run_under_faults(out, make_command(out))  # restart
        after = tally(str(out))
        stories = story_check(out, grouping)
        run_under_faults(out, make_command(out))  # and once more: must add nothing
        third = tally(str(out))
        added = sum(third.rows.values()) - sum(after.rows.values())
        when = f"op {at}/{total}" + ("" if killed == -signal.SIGKILL else " (ended first)")
        rows.append((name, when, added, expected_inputs, after, stories))
        shutil.rmtree(out)
    return rows


def story_grouping(out: Path) -> set[frozenset]:
    """The articles each story holds, as sets of article ids (story ids aside)."""
    members: dict = {}
    for row in table_rows(str(out), "articles", ["article_id", "story_id"]):
        members.setdefault(row["story_id"], set()).add(row["article_id"])
    return {frozenset(ids) for ids in members.values()}


def story_check(out: Path, clean: set[frozenset]) -> str:
    """"ok" when every article has a story with a row, each written once per run, and
    the articles are grouped as in the clean run; else what is wrong."""
    try:
        assert_stories_consistent(str(out))
    except AssertionError as exc:
        return str(exc)
    if None in {row["story_id"] for row in table_rows(str(out), "articles", ["story_id"])}:
        return "articles without a story"
    return "ok" if story_grouping(out) == clean else "grouped unlike the clean run"


def print_table(rows: list[tuple]) -> None:
    head = ("scenario", "killed at", "inputs", "accounted", "articles", "duplicates", "errors",
            "index", "repeated", "lost", "3rd run added", "stories")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, when, added, expected, t, stories in rows:
        repeated = sum(t.repeated.values()) + t.in_two_tables
        print(f"| {name} | {when} | {expected} | {t.inputs} | {t.rows['articles']} | "
              f"{t.rows['duplicates']} | {t.rows['errors']} | {t.rows['_index']} | {repeated} | "
              f"{expected - t.inputs} | {added} | {stories} |")


def gzip_bomb(path: Path, gigabytes: float) -> None:
    """A .txt.gz of a headline and ``gigabytes`` of spaces, compressed as a stream."""
    chunk = b" " * (16 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open(path, "wb") as handle:
        handle.write(compressor.compress(b"A headline\n\n"))
        for _ in range(int(gigabytes * 1024 / 16)):
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())


def bomb_memory(work: Path, gigabytes: float) -> None:
    seeds = work / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    normal = measure.newsbeam(["backfill", str(seeds), "--out", str(work / "w-normal"),
                               "--no_progress"])
    bombed = work / "bombed"
    shutil.copytree(seeds, bombed)
    gzip_bomb(bombed / "bomb.txt.gz", gigabytes)
    size = (bombed / "bomb.txt.gz").stat().st_size
    with_bomb = measure.newsbeam(["backfill", str(bombed), "--out", str(work / "w-bomb"),
                                  "--no_progress"])
    print(f"\npeak memory of the process tree: seeds alone {normal.peak_rss / 2**20:.0f} MB "
          f"({normal.seconds:.1f} s); seeds + a {size / 2**20:.1f} MB .txt.gz inflating to "
          f"{gigabytes:g} GB {with_bomb.peak_rss / 2**20:.0f} MB ({with_bomb.seconds:.1f} s)")
    print("  " + " ".join(line.strip() for line in with_bomb.stdout.splitlines()
                          if "error" in line))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="random kills per scenario")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--feed-items", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bomb-gb", type=float, default=6.0)
    parser.add_argument("--skip-bomb", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="newsbeam-faults-") as tmp:
        work = Path(tmp)
        corpus = write_corpus(work / "corpus", count=args.articles)
        expected = len(corpus.articles) + len(corpus.exact_copies) + len(corpus.bad)
        rows = scenario("backfill", lambda out: ["backfill", str(work / "corpus"), "--out",
                                                 str(out), "--no_progress"],
                        expected, args.kills, rng, work)
        with FeedServer() as server:
            items = []
            for i in range(args.feed_items):
                link = server.url(f"/a/{i}")
                items.append(dict(title=f"Story {i}", link=link,
                                  pubDate="Mon, 06 Jan 2025 10:00:00 GMT",
                                  description=f"Feed summary of story {i}, long enough to keep."))
                if i % 5:  # every fifth page is missing: the summary (page_status http_404)
                    server.routes[f"/a/{i}"] = Route(page(f"Story {i}", story(i)),
                                                     "text/html; charset=utf-8")
            server.routes["/feed.xml"] = Route(rss(items))
            rows += scenario("ingest --once", lambda out: [
                "ingest", server.url("/feed.xml"), "--out", str(out), "--once",
                "--allow_private_addresses", "--per_host_delay", "0", "--no_progress"],
                args.feed_items, args.kills, rng, work)
        print_table(rows)
        if not args.skip_bomb:
            bomb_memory(work, args.bomb_gb)
    print(f"\n({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
