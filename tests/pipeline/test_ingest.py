"""``newsbeam ingest`` end to end against a loopback feed server started here."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsbeam.pipeline.cli import main
from newsbeam.schemas import RawDocument
from newsbeam.transforms.feeds import FeedStatus  # noqa: F401  (registers its coder)
from newsbeam.transforms.ids import article_id
from newsbeam.transforms.links import normalise_link
from tests import REPO, SEEDS
from tests.feedserver import FeedServer, Reply, Route, page, rss, story
from tests.warehouse_check import assert_exactly_once, table_rows

pytestmark = pytest.mark.slow  # real newsbeam runs end to end

COMMON = ["--allow_private_addresses", "--per_host_delay", "0", "--no_progress"]
DATE = "Mon, 06 Jan 2025 10:00:00 GMT"


def _item(server, i, date=DATE):
    return dict(title=f"Story {i}", link=server.url(f"/a/{i}"), pubDate=date,
                description=f"Feed summary of story number {i}, with enough words to keep.")


def _serve_pages(server, ids):
    for i in ids:
        server.routes[f"/a/{i}"] = Route(
            page(f"Story {i}", story(i)),
            "text/html; charset=utf-8")


def _ids(server, ids):
    return sorted(article_id(RawDocument("", normalise_link(server.url(f"/a/{i}")), None, "feed",
                                         None, "", None, None, None, 0)) for i in ids)


def _ingest(feed_args, out, *extra):
    return main(["ingest", *feed_args, "--out", str(out), "--once", *COMMON, *extra])


def test_once_then_conditional_poll_then_new_items(tmp_path):
    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(3)]), etag='"v1"',
                                      last_modified="Mon, 06 Jan 2025 11:00:00 GMT")
        _serve_pages(s, range(4))
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        rows = table_rows(tmp_path, "articles", ["article_id", "url", "source", "date_source"])
        assert sorted(r["article_id"] for r in rows) == _ids(s, range(3))
        assert {(r["source"], r["date_source"]) for r in rows} == {(s.url("/feed.xml"), "feed")}
        # The partition date is the feed entry's date (themes may split the files).
        assert {Path(p).parent.parent.name for p in glob.glob(
            str(tmp_path / "articles/*/*/*.parquet"))} == {"date=2025-01-06"}
        first = s.requests_for("/feed.xml")
        assert "if-none-match" not in first[0]

        # Second poll: conditional, 304, nothing new anywhere.
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        second = s.requests_for("/feed.xml")[1]
        assert second["if-none-match"] == '"v1"'
        assert second["if-modified-since"] == "Mon, 06 Jan 2025 11:00:00 GMT"
        assert len(s.requests_for("/a/0")) == 1
        assert len(table_rows(tmp_path, "articles", ["article_id"])) == 3

        # A new item appears: only it is fetched and written.
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(4)]), etag='"v2"')
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        assert sorted(r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"])) == \
            _ids(s, range(4))
        assert [len(s.requests_for(f"/a/{i}")) for i in range(4)] == [1, 1, 1, 1]


def test_failures_backoff_retry_after_and_recovery(tmp_path):
    with FeedServer() as s:
        s.routes["/flaky.xml"] = Route(rss([_item(s, 0)]), script=[Reply(500, b"oops")])
        s.routes["/busy.xml"] = Route(rss([_item(s, 1)]),
                                      script=[Reply(503, b"busy", {"Retry-After": "3600"})])
        _serve_pages(s, range(2))
        feeds = [s.url("/flaky.xml"), s.url("/busy.xml")]
        assert _ingest(feeds, tmp_path, "--interval", "0.5") == 3  # every feed failed
        errors = sorted((r["source"], r["stage"], r["error"])
                        for r in table_rows(tmp_path, "errors", ["source", "stage", "error"]))
        assert errors == [(s.url("/busy.xml"), "feed", "http_503"),
                          (s.url("/flaky.xml"), "feed", "http_500")]
        time.sleep(0.6)  # past the flaky feed's first backoff (one interval)
        assert _ingest(feeds, tmp_path, "--interval", "0.5") == 0
        assert len(s.requests_for("/flaky.xml")) == 2  # retried and recovered
        assert len(s.requests_for("/busy.xml")) == 1  # Retry-After: 3600 honoured
        assert sorted(r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"])) == \
            _ids(s, [0])


def test_exit_status_and_summary_name_the_failing_feeds(tmp_path, capsys):
    """``--once``: exit 3 when every feed failed; follow mode: after
    ``--max_feed_failures`` polls in a row. The summary names each failing feed."""
    with FeedServer() as s:
        s.routes["/ok.xml"] = Route(rss([_item(s, 0)]))
        _serve_pages(s, [0])
        gone = s.url("/gone.xml")  # 404
        assert _ingest([gone], tmp_path) == 3
        out = capsys.readouterr().out
        assert "failing feeds: 1" in out and f"{gone}: http_404 (1 polls in a row), next try" in out
        assert _ingest([gone, s.url("/ok.xml")], tmp_path) == 0  # one feed still works
        # A warehouse of its own: in this one the feed backs off for --interval (300 s).
        assert main(["ingest", gone, "--out", str(tmp_path / "follow"), "--interval", "0.2",
                     "--backoff_max", "0.2", "--max_feed_failures", "4", *COMMON]) == 3
        assert "(4 polls in a row)" in capsys.readouterr().out


def _hostile_feeds():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"x" * 60_000 + b'">]>'
            b'<rss version="2.0"><channel><title>t</title>' + b"<item><title>" + b"&a;" * 3000 +
            b"</title><description>boom</description></item></channel></rss>")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<rss version="2.0"><channel><item><title>&x;</title><link>javascript:alert(1)'
           b"</link></item></channel></rss>")
    many = ("<rss version='2.0'><channel>" + "".join(
        f"<item><guid isPermaLink='false'>g{i}</guid><title>t{i}</title>"
        f"<link>data:text/html,{i}</link></item>" for i in range(15_000))
        + "</channel></rss>").encode()
    return {
        "/bomb.xml": (Route(bomb), "no_link"),
        "/xxe.xml": (Route(xxe), "unsafe_link"),
        "/many.xml": (Route(many), "too_many_items"),
        "/garbage.xml": (Route(os.urandom(1) + b"\x00\x01\x02" + os.urandom(20_000)), "binary"),
        "/latin.xml": (Route(b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                             b"<item><title>caf\xe9 \xff\xfe</title></item></channel></rss>"),
                       "no_link"),
        "/huge.xml": (Route(b"<rss>" + b" " * 3_000_000 + b"</rss>"), "too_large"),
        "/slow.xml": (Route(script=[Reply(200, b"<rss/>", {}, delay=3.0)]), "timeout"),
    }


def test_hostile_feeds_end_as_error_rows_quickly(tmp_path):
    with FeedServer() as s:
        hostile = _hostile_feeds()
        for path, (route, _) in hostile.items():
            s.routes[path] = route
        started = time.monotonic()
        assert _ingest([s.url(p) for p in hostile], tmp_path, "--max_feed_bytes", "2000000",
                       "--read_timeout", "1", "--total_timeout", "2", "--max_items", "500") == 0
        assert time.monotonic() - started < 60
        errors = table_rows(tmp_path, "errors", ["source", "stage", "error"])
        by_feed = {}
        for e in errors:
            by_feed.setdefault(e["source"], set()).add(e["error"])
        for path, (_, reason) in hostile.items():
            if reason in ("too_many_items", "no_link", "binary", "too_large", "timeout"):
                assert reason in by_feed.get(s.url(path), set()), (path, by_feed)
        assert "unsafe_link" in by_feed.get("javascript:alert(1)", set())
        assert "unsafe_link" in by_feed.get("data:text/html,0", set())
        texts = " ".join(r["text"] for r in table_rows(tmp_path, "articles", ["text"]))
        assert "root:" not in texts and "x" * 1000 not in texts


def test_restart_after_sigkill_loses_and_repeats_nothing(tmp_path):
    """Kill the ingest process at several moments; the final warehouse has each item once."""
    n_items = 12
    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(n_items)]), etag='"e"')
        _serve_pages(s, range(n_items))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-c", "import sys; from newsbeam.pipeline.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "ingest", s.url("/feed.xml"), "--out",
               str(tmp_path), "--once", *COMMON]
        for delay in (0.5, None):  # killed before writing, then killed right after a write
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and proc.poll() is None:
                    if delay is None and glob.glob(str(tmp_path / "articles/**/*.parquet"),
                                                   recursive=True):
                        break
                    if delay is not None and time.monotonic() > deadline - 120 + delay:
                        break
                    time.sleep(0.01)
                proc.send_signal(signal.SIGKILL)
            finally:
                proc.wait(30)
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=180)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        ids = [r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"])]
        assert sorted(ids) == _ids(s, range(n_items))  # every item, exactly once
        # A further run adds nothing.
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        assert len(table_rows(tmp_path, "articles", ["article_id"])) == n_items


def test_follower_killed_mid_poll_again_and_again_loses_and_repeats_nothing(tmp_path):
    """A follower with a short interval, SIGKILLed (its process group) at a
    different moment of a poll four times in a row while its feed keeps
    growing; a last follower catches up. Every item ends as one row."""
    import random

    from tests.warehouse_check import assert_exactly_once

    rng = random.Random(5)
    with FeedServer() as s:
        count = 4
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(count)]))
        _serve_pages(s, range(40))
        cmd = [sys.executable, "-m", "newsbeam.pipeline.cli", "ingest", s.url("/feed.xml"), "--out",
               str(tmp_path), "--interval", "0.5", *COMMON]
        for attempt in range(4):
            polled = len(s.requests_for("/feed.xml"))
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                deadline = time.monotonic() + 120
                while len(s.requests_for("/feed.xml")) == polled:  # a poll has started
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 4.0))  # somewhere in that poll or the next
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
            count += 3  # new items while the follower is down
            s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(count)]))
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        ids = [r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"])]
        assert sorted(ids) == _ids(s, range(count))
        assert_exactly_once(str(tmp_path), count)


def test_poll_failing_at_its_commit_adds_nothing_and_is_polled_again(tmp_path, monkeypatch):
    """Rows staged but the commit failed (as a kill between the writes and the
    commit would leave them): nothing is visible, and the next poll writes each
    row once -- the error rows of items without a summary included."""
    from newsbeam.transforms import warehouse

    with FeedServer() as s:
        gone = [dict(title=f"Gone {i}", link=s.url(f"/gone/{i}"), pubDate=DATE) for i in range(2)]
        s.routes["/feed.xml"] = Route(rss([_item(s, 0), *gone]))  # no validators: full each time
        _serve_pages(s, [0])  # /gone/* answer 404 and have no feed summary to fall back on

        def fail(*_args, **_kwargs):
            raise OSError(5, "Input/output error", str(tmp_path / "_log"))

        with monkeypatch.context() as m:
            m.setattr(warehouse, "commit", fail)
            assert _ingest([s.url("/feed.xml")], tmp_path) == 1
        assert not list(tmp_path.glob("[!_]*/**/*.parquet")) and not list(tmp_path.glob("_state/*"))
        assert not list((tmp_path / "_staging").iterdir())  # the failed run cleaned up

        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        columns = ["source", "stage", "error", "article_id"]
        rows = sorted(tuple(r.values()) for r in table_rows(tmp_path, "errors", columns))
        gone_ids = sorted(article_id(RawDocument("", normalise_link(s.url(f"/gone/{i}")), None,
                                                 "feed", None, "", None, None, None, 0))
                          for i in range(2))
        # One row per item: the failed fetches are no rows of their own.
        assert sorted((stage, error, aid) for _, stage, error, aid in rows) == \
            [("clean", "no_article", aid) for aid in gone_ids]
        assert table_rows(tmp_path, "articles", ["page_status"]) == [{"page_status": "ok"}]
        assert_exactly_once(str(tmp_path), inputs=3)
        # A further poll finds them all seen.
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        assert sorted(tuple(r.values()) for r in table_rows(tmp_path, "errors", columns)) == rows
        assert [len(s.requests_for(p)) for p in ("/a/0", "/gone/0", "/gone/1")] == [2, 2, 2]


def test_one_follower_ingests_new_items_over_three_polls(tmp_path):
    """``ingest --interval``: one process, three polls, each finding a new item
    (its second poll used to crash on the index the first one wrote)."""
    import threading

    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, 0)]))
        _serve_pages(s, range(3))

        def publish_between_polls():
            for n in (1, 2):  # after poll n the feed gains item n
                while len(s.requests_for("/feed.xml")) < n:
                    time.sleep(0.02)
                s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(n + 1)]))

        feeder = threading.Thread(target=publish_between_polls, daemon=True)
        feeder.start()
        code = main(["ingest", s.url("/feed.xml"), "--out", str(tmp_path), "--interval", "1",
                     "--polls", "3", *COMMON])
        feeder.join(5)
        assert code == 0
        assert len(s.requests_for("/feed.xml")) == 3
        ids = [r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"])]
        assert sorted(ids) == _ids(s, range(3))
        assert [len(s.requests_for(f"/a/{i}")) for i in range(3)] == [1, 1, 1]
        assert len(list((tmp_path / "_log").glob("*.json"))) == 3  # one commit per poll


def test_failed_page_fetch_is_no_row_of_its_own(tmp_path):
    """Each item ends as exactly one row: a page that answers 404 leaves the
    article from the feed summary (page_status says why), or -- without a
    summary -- one error row naming the page's reason."""
    with FeedServer() as s:
        items = [_item(s, 0), _item(s, 1),
                 dict(title="Gone", link=s.url("/a/2"), pubDate=DATE)]  # no summary
        s.routes["/feed.xml"] = Route(rss(items))
        _serve_pages(s, [0])  # /a/1 and /a/2 answer 404
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        articles = sorted((r["url"], r["text_source"], r["page_status"]) for r in table_rows(
            tmp_path, "articles", ["url", "text_source", "page_status"]))
        assert articles == [(s.url("/a/0"), "page", "ok"), (s.url("/a/1"), "feed", "http_404")]
        errors = [(r["source"], r["stage"], r["error"], r["detail"], r["article_id"])
                  for r in table_rows(tmp_path, "errors", ["source", "stage", "error", "detail",
                                                      "article_id"])]
        assert errors == [(normalise_link(s.url("/a/2")), "clean", "no_article",
                           "no article in the feed summary; page: http_404", _ids(s, [2])[0])]
        assert assert_exactly_once(str(tmp_path), inputs=3).rows["duplicates"] == 0


def test_streaming_run_writes_each_poll_in_its_window(tmp_path):
    """A short real streaming run (PeriodicImpulse, fixed windows): 2 polls, items once."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from newsbeam.pipeline.ingest import IngestOptions, build_ingest
    from newsbeam.pipeline.options import NewsbeamOptions
    from newsbeam.transforms import warehouse

    # A warehouse that already holds rows: the windowed polls meet its index.
    assert main(["backfill", str(SEEDS), "--out", str(tmp_path), "--no_progress"]) == 0
    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(2)]))
        _serve_pages(s, range(3))
        options = PipelineOptions(["--out", str(tmp_path), "--interval", "1.5", *COMMON[:-1],
                                   "--streaming"])

        def change_feed():
            # Between the polls the feed gains an item (body changes, no validators).
            while len(s.requests_for("/feed.xml")) < 1:
                time.sleep(0.05)
            s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(3)]))

        import threading
        t = threading.Thread(target=change_feed, daemon=True)
        t.start()
        p = beam.Pipeline(options=options)
        build_ingest(p, [s.url("/feed.xml")], options.view_as(IngestOptions),
                     options.view_as(NewsbeamOptions),
                     warehouse.Run("stream", warehouse.begin(str(tmp_path), "stream"), 0), ticks=2)
        p.run().wait_until_finish()
        t.join(5)
        assert len(s.requests_for("/feed.xml")) == 2
        ids = [r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id", "source"])
               if r["source"].startswith("http")]
        assert sorted(ids) == _ids(s, range(3))
        # One set of files per window: the second poll's item has a file of its own.
        file_of = {}
        for f in glob.glob(str(tmp_path / "articles/date=2025-*/**/*.parquet"), recursive=True):
            for row in pq.read_table(f, columns=["article_id"]).to_pylist():
                file_of[row["article_id"]] = f
        first_poll, second_poll = _ids(s, range(2)), _ids(s, [2])
        assert file_of[second_poll[0]] not in {file_of[i] for i in first_poll}
        assert [len(s.requests_for(f"/a/{i}")) for i in range(3)] == [1, 1, 1]
        # One commit per window (after the backfill's), nothing left staged but the marker.
        assert len(list((tmp_path / "_log").glob("*.json"))) == 3
        assert warehouse.recover(str(tmp_path)) == warehouse.Recovery(1, 0)


EXTRACTION = REPO.parent / "shared" / "eval" / "extraction"


def _shingles(text: str) -> set:
    import re
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + 4]) for i in range(len(words) - 3)}


@pytest.mark.skipif(not (EXTRACTION / "ground-truth.json").exists(),
                    reason="evaluation pages (../shared/eval/extraction) not present")
def test_real_news_pages_behind_feed_items_are_extracted(tmp_path):
    """Items link to real saved news pages; the rows carry their article bodies."""
    import gzip
    import json

    truth = json.loads((EXTRACTION / "ground-truth.json").read_text(encoding="utf-8"))
    page_ids = sorted(truth)[0:8:2][:3]  # dev half: even indices
    with FeedServer() as s:
        items = []
        for n, pid in enumerate(page_ids):
            html = gzip.decompress((EXTRACTION / "html" / f"{pid}.html.gz").read_bytes())
            s.routes[f"/p/{n}"] = Route(html, "text/html; charset=utf-8")
            items.append(dict(title=f"Item {n}", link=s.url(f"/p/{n}"), pubDate=DATE,
                              description="A two-line summary that is not the article."))
        s.routes["/feed.xml"] = Route(rss(items))
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        rows = {r["url"]: r for r in table_rows(tmp_path, "articles", ["url", "text", "text_source"])}
        assert len(rows) == len(page_ids)
        for n, pid in enumerate(page_ids):
            row = next(r for url, r in rows.items() if url == s.url(f"/p/{n}") or
                       url.rstrip("/") == truth[pid]["url"].rstrip("/"))
            assert row["text_source"] == "page"
            gold = _shingles(truth[pid]["articleBody"])
            got = _shingles(row["text"])
            assert len(gold & got) / len(gold) >= 0.8, (pid, len(gold & got) / len(gold))


def test_a_second_ctrl_c_aborts_and_the_next_start_loses_and_repeats_nothing(tmp_path):
    n_items = 6
    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(n_items)]), etag='"e"')
        for i in range(n_items):  # slow pages: the poll is still running at the Ctrl-Cs
            s.routes[f"/a/{i}"] = Route(page(f"Story {i}", story(i)), "text/html")
            s.routes[f"/a/{i}"].script = [Reply(200, page(f"Story {i}", story(i)),
                                                {"Content-Type": "text/html"}, delay=2.0)]
        cmd = [sys.executable, "-c", "import sys; from newsbeam.pipeline.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "ingest", s.url("/feed.xml"), "--out",
               str(tmp_path), "--interval", "600", *COMMON]
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not s.requests_for("/a/0") and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err.decode()[-2000:]
        assert time.monotonic() - started < 30  # aborted, not finished
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        assert_exactly_once(str(tmp_path), n_items)
        ids = sorted(r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"]))
        assert ids == _ids(s, range(n_items))


def test_ctrl_c_finishes_the_poll_in_flight_then_stops(tmp_path):
    n_items = 6
    with FeedServer() as s:
        s.routes["/feed.xml"] = Route(rss([_item(s, i) for i in range(n_items)]), etag='"e"')
        for i in range(n_items):  # slow pages: the poll is still running at the Ctrl-C
            s.routes[f"/a/{i}"] = Route(script=[Reply(200, page(f"Story {i}", story(i)),
                                                      {"Content-Type": "text/html"}, delay=1.0)])
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-c", "import sys; from newsbeam.pipeline.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "ingest", s.url("/feed.xml"), "--out",
               str(tmp_path), "--interval", "600", *COMMON]
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not s.requests_for("/a/0") and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 130, err.decode()[-2000:]
        assert b"writing what is in flight" in err
        ids = sorted(r["article_id"] for r in table_rows(tmp_path, "articles", ["article_id"]))
        assert ids == _ids(s, range(n_items))  # the poll in flight was written
        # ...and committed: the next pass fetches no page again and adds nothing.
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        assert len(table_rows(tmp_path, "articles", ["article_id"])) == n_items
        assert [len(s.requests_for(f"/a/{i}")) for i in range(n_items)] == [1] * n_items


def test_a_later_polls_items_join_the_stories_of_earlier_polls(tmp_path):
    """Stories across polls: the next day's report of an event takes the story id the
    first poll gave it; a look-alike event the same day does not."""
    from tests.transforms.test_stories_core import ARREST_1, ARREST_2, QUAKE_A1, QUAKE_A2

    reports = {0: QUAKE_A1, 1: ARREST_1, 2: QUAKE_A2, 3: ARREST_2}
    dates = {0: DATE, 1: DATE, 2: "Tue, 07 Jan 2025 09:00:00 GMT", 3: "Tue, 07 Jan 2025 09:30:00 GMT"}
    with FeedServer() as s:
        for i, r in reports.items():
            s.routes[f"/a/{i}"] = Route(page(r.title, [r.text, f"Reported by {r.source}."]),
                                        "text/html; charset=utf-8")

        def feed(ids):
            return Route(rss([dict(title=reports[i].title, link=s.url(f"/a/{i}"), pubDate=dates[i],
                                   description=reports[i].text) for i in ids]))

        s.routes["/feed.xml"] = feed([0, 1])
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        s.routes["/feed.xml"] = feed([0, 1, 2, 3])
        assert _ingest([s.url("/feed.xml")], tmp_path) == 0
        story = {r["title"]: r["story_id"] for r in table_rows(tmp_path, "articles", ["title", "story_id"])}
        assert story[QUAKE_A2.title] == story[QUAKE_A1.title]
        assert story[ARREST_2.title] not in (story[ARREST_1.title], story[QUAKE_A1.title])
        assert_exactly_once(str(tmp_path), 4)
