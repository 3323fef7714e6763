"""Durable ingest state under ``DIR/_state/``: plain functions, no Beam.

Layout::

    _state/feeds.json             {feed URL: FeedState fields}  (validators, backoff)
    _state/seen/part-*.txt        article ids already ingested, one a line
    _state/commit.json            {"committed_at": micros} of the last commit

Every file is written to a temporary name and renamed, so a reader sees the
old or the new version, never half of one. ``commit`` is called only after
the rows it covers are in the warehouse (the pipeline orders it after the
writes), and writes the ``seen`` delta before ``feeds.json``: a crash between
the two leaves old validators, so the feed is fetched in full again and its
items are recognised as seen — nothing lost, nothing repeated.

A crash after the rows are written but before ``commit`` is repaired by
:func:`recover`, run before the next pipeline starts: the article ids of
every article, duplicate and error file written since the last commit are
added to ``seen``, so those items are not ingested (or rejected) a second time.
"""

from __future__ import annotations

import json
import time
from typing import Iterable, Mapping, Optional

from apache_beam.io.filesystems import FileSystems

from transforms.ids import now_micros
from transforms.write import digest, publish_atomically

STATE_DIR = "_state"


def _path(out: str, *parts: str) -> str:
    return FileSystems.join(out, STATE_DIR, *parts)


def _read(path: str) -> Optional[bytes]:
    try:
        with FileSystems.open(path) as handle:
            return handle.read()
    except Exception:  # missing file: any filesystem's error means "no state yet"
        if FileSystems.exists(path):
            raise
        return None


def _write_atomically(path: str, data: bytes) -> None:
    publish_atomically(path, lambda handle: handle.write(data))


def load_feed_states(out: str) -> dict[str, dict]:
    data = _read(_path(out, "feeds.json"))
    return json.loads(data) if data else {}


def load_seen(out: str) -> set[str]:
    seen: set[str] = set()
    try:
        matches = FileSystems.match([_path(out, "seen", "part-*.txt")])[0].metadata_list
    except Exception:
        return seen
    for meta in matches:
        data = _read(meta.path) or b""
        seen.update(line for line in data.decode("ascii").split("\n") if line)
    return seen


def last_commit(out: str) -> Optional[int]:
    data = _read(_path(out, "commit.json"))
    return json.loads(data)["committed_at"] if data else None


def commit(out: str, seen_ids: Iterable[str], feed_states: Mapping[str, dict]) -> None:
    """Record ``seen_ids`` and the new ``feed_states`` (merged into feeds.json)."""
    ids = sorted(set(seen_ids))
    if ids:
        _write_atomically(_path(out, "seen", f"part-{time.time_ns()}-{digest(ids)}.txt"),
                          ("\n".join(ids) + "\n").encode("ascii"))
    if feed_states:
        states = load_feed_states(out)
        states.update(feed_states)
        _write_atomically(_path(out, "feeds.json"),
                          json.dumps(states, sort_keys=True, indent=1).encode())
    _write_atomically(_path(out, "commit.json"), json.dumps({"committed_at": now_micros()}).encode())


def _files_since(pattern: str, since_seconds: float) -> list[str]:
    try:
        matches = FileSystems.match([pattern])[0].metadata_list
    except Exception:
        return []
    return [m.path for m in matches if (m.last_updated_in_seconds or 0) >= since_seconds]


def recover(out: str) -> int:
    """Mark as seen the items written after the last commit (as articles,
    duplicates or errors); returns how many.

    Before the first commit every file counts (an ingest may have been killed
    before committing anything); ids of backfilled files are harmless there.
    """
    import pyarrow.parquet as pq

    committed = last_commit(out)
    since = 0.0 if committed is None else committed / 1_000_000 - 2.0  # mtime slack
    ids: set[str] = set()
    for pattern in (FileSystems.join(out, "articles", "**", "*.parquet"),
                    FileSystems.join(out, "duplicates", "*.parquet"),
                    FileSystems.join(out, "errors", "*.parquet")):
        for path in _files_since(pattern, since):
            with FileSystems.open(path) as handle:
                pf = pq.ParquetFile(handle)
                if "article_id" not in pf.schema_arrow.names:
                    continue  # an error file from before error rows carried ids
                columns = ["article_id"] + (["stage"] if "stage" in pf.schema_arrow.names else [])
                for row in pf.read(columns=columns).to_pylist():
                    # A failed fetch does not end an item: it goes on with its
                    # feed summary, so only its later rows mark it as done.
                    if row["article_id"] and row.get("stage") != "fetch":
                        ids.add(row["article_id"])
    ids -= load_seen(out)
    if ids:
        commit(out, ids, {})
    return len(ids)
