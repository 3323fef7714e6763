"""Durable ingest state under ``DIR/_state/``: plain functions, no Beam.

Layout::

    _state/feeds.json             {feed URL: FeedState fields}  (validators, backoff)
    _state/seen/part-*.txt        article ids already ingested, one a line

The state of a poll is staged with the poll's rows and committed with them in
one commit (``transforms.warehouse``): the seen ids and validators of a poll
are in the warehouse exactly when its rows are, so a crash at any moment
neither loses an item (state ahead of rows) nor repeats one (rows ahead of state).
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping

from apache_beam.io.filesystems import FileSystems

from newsbeam.transforms import warehouse
from newsbeam.transforms.warehouse import StagedFile
from newsbeam.transforms.write import digest

FEEDS = f"{warehouse.STATE}/feeds.json"


def load_feed_states(out: str) -> dict[str, dict]:
    data = warehouse.read_bytes(warehouse.join(out, FEEDS))
    return json.loads(data) if data else {}


def load_seen(out: str) -> set[str]:
    seen: set[str] = set()
    try:
        pattern = warehouse.join(out, f"{warehouse.STATE}/seen/part-*.txt")
        matches = FileSystems.match([pattern])[0].metadata_list
    except Exception:
        return seen
    for meta in matches:
        data = warehouse.read_bytes(meta.path) or b""
        seen.update(line for line in data.decode("ascii").split("\n") if line)
    return seen


def stage(out: str, run_id: str, seen_ids: Iterable[str],
          feed_states: Mapping[str, dict]) -> list[StagedFile]:
    """Stage ``seen_ids`` and the new ``feed_states`` (merged into feeds.json) with run ``run_id``."""
    staged = []
    ids = sorted(set(seen_ids))
    if ids:
        relpath = f"{warehouse.STATE}/seen/part-{run_id}-{digest(ids)}.txt"
        data = ("\n".join(ids) + "\n").encode("ascii")
        warehouse.stage_file(out, run_id, relpath, lambda handle: handle.write(data))
        staged.append(StagedFile(warehouse.STATE, relpath, len(ids)))
    if feed_states:
        states = load_feed_states(out)
        states.update(feed_states)
        data = json.dumps(states, sort_keys=True, indent=1).encode()
        warehouse.stage_file(out, run_id, FEEDS, lambda handle: handle.write(data))
        staged.append(StagedFile(warehouse.STATE, FEEDS, len(feed_states)))
    return staged
