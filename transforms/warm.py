"""Expensive worker objects kept warm across the pipeline runs of one process.

A DoFn takes its spaCy model, extraction sandbox, feed parser or HTTP session
with :func:`acquire` in ``setup`` and gives it back with :func:`release` in
``teardown``. Normally giving back closes it, exactly as if the DoFn had built
and closed it itself. Inside :func:`keep_warm` -- the local feed follower runs
its polls, one short pipeline each, in it -- a given-back object is kept idle
and handed to the next DoFn that asks for the same key, so poll 2 starts with
poll 1's model and child processes instead of loading them again.

Objects are lent, not shared: one DoFn at a time holds each (an idle list per
key), so objects that are not thread-safe (spaCy's ``Language``, a pipe to a
child process) stay safe when a runner runs DoFns on several threads. Beam's
``apache_beam.utils.shared.Shared`` shares one instance instead and keeps only
the most recently acquired one alive, which would drop all but one of a
poll's several objects between runs. Nothing is kept outside ``keep_warm``, so
a distributed runner's workers own their objects as before.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Hashable, Iterator, Optional, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
# key -> idle (object, close) pairs; None when nothing is being kept warm.
_idle: Optional[dict[Hashable, list[tuple[object, Callable]]]] = None


def acquire(key: Hashable, build: Callable[[], T]) -> T:
    """An idle object kept under ``key``, or a new one from ``build()``."""
    with _lock:
        if _idle is not None and _idle.get(key):
            return _idle[key].pop()[0]
    return build()


def release(key: Hashable, obj: T, close: Callable[[T], None]) -> None:
    """Give ``obj`` back: kept idle under ``key`` inside ``keep_warm``, else closed."""
    with _lock:
        if _idle is not None:
            _idle.setdefault(key, []).append((obj, close))
            return
    close(obj)


@contextlib.contextmanager
def keep_warm() -> Iterator[None]:
    """Keep given-back objects for the next pipeline run of this process; close them at the end."""
    global _idle
    with _lock:
        if _idle is not None:
            raise RuntimeError("keep_warm() is already active")
        _idle = {}
    try:
        yield
    finally:
        with _lock:
            idle, _idle = _idle, None
        for pairs in idle.values():
            for obj, close in pairs:
                with contextlib.suppress(Exception):
                    close(obj)


def idle_count() -> int:
    """How many objects are kept idle (for tests and the follower's status)."""
    with _lock:
        return sum(len(v) for v in (_idle or {}).values())
