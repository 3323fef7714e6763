"""The warehouse's layout and its commit protocol: the one module that knows the folders.

Layout under ``out``::

    articles/date=YYYY-MM-DD/theme=<slug>/part-<run>-<digest>.parquet
    duplicates/part-<run>-<digest>.parquet
    errors/part-<run>-<digest>.parquet
    _index/part-<run>-<digest>.parquet      what later runs deduplicate against
    stories/, story_merges/                  the stories each run touched, and joins found
    _story_terms/part-<run>-<start>.parquet  word frequencies for stories (newest is current)
    _state/feeds.json, _state/seen/*.txt     feed state (``feed_state``)
    _log/<seq>.json                          one commit record per committed run (or poll)
    _staging/<run>/BEGIN.json                a run in flight: the log position it started from
    _staging/<run>/<table>/...               ... and its files, under their final relative paths
    _lock                                    the writer lock (local warehouses)

The protocol, in the order a run follows it:

1. ``writer_lock``: one writer per warehouse; a second stops at once (:class:`WriterBusy`).
2. ``recover``: before anything is written, every staging folder left by a run that
   died is settled: a committed run is *rolled forward* (its files still under
   ``_staging`` are moved into place), an uncommitted one is *removed*.
3. ``begin``: the run records the newest commit it starts from (``BEGIN.json``).
4. ``stage_file``: every file goes to ``_staging/<run>/`` -- written under a
   temporary name and renamed, so a staged name always holds a whole file.
   No table glob (``articles/**/*.parquet``) matches it.
5. ``commit``: the commit record ``_log/<seq>.json`` listing the run's files is
   created with an exclusive create (a link, which fails if the name exists).
   That one step is the commit: before it the run added nothing, after it the
   run is in the warehouse. A record of another run newer than the run's start
   means a concurrent writer: the run stops (:class:`ConcurrentCommit`).
6. ``publish``: each staged file is renamed to its final name. Repeating it is
   harmless (a file already moved is skipped), which is what rolling forward does.

What a reader of the table globs sees: whole committed runs; while a run
publishes (renames only, well under a second locally) or after a crash in that
step (until the next newsbeam start finishes it), part of the newest committed
run. Never a file of a run that did not commit, never a row twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import socket
import uuid
from typing import BinaryIO, Callable, Iterator, NamedTuple, Optional

from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from newsbeam.transforms import layout
from newsbeam.transforms.ids import now_micros

TABLES = ("articles", "duplicates", "errors", "_index", "stories", "story_merges", "_story_terms")
STATE = "_state"
LOG = "_log"
STAGING = "_staging"
LEGACY_TMP = "_tmp"  # where files were staged before the commit protocol


class WarehouseError(Exception):
    """The warehouse cannot be written; the message names the path and the cause."""


class WriterBusy(WarehouseError):
    """Another run holds the writer lock."""


class ConcurrentCommit(WarehouseError):
    """Another writer committed while this run was in flight."""


class StagedFile(NamedTuple):
    table: str  # "articles", "duplicates", "errors", "_index" or "_state"
    path: str  # relative to the warehouse, with "/" separators
    rows: int


class Recovery(NamedTuple):
    rolled_forward: int  # committed runs whose files were moved into place
    removed: int  # uncommitted runs whose staged files were deleted


# --- layout -------------------------------------------------------------------


def join(out: str, relpath: str) -> str:
    return FileSystems.join(out, *relpath.split("/"))


def table_pattern(out: str, table: str) -> str:
    """The glob a reader uses for one table's committed files."""
    return FileSystems.join(out, *layout.table_glob(table))


def staging_dir(out: str, run_id: str) -> str:
    return FileSystems.join(out, STAGING, run_id)


def _is_local(out: str) -> bool:
    return "://" not in out or out.startswith("file://")


# --- errors the user must see ---------------------------------------------------


def os_error(exc: BaseException) -> BaseException:
    """The OSError behind a Beam filesystem error (Beam wraps them per path)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, BeamIOError) and getattr(exc, "exception_details", None):
            exc = next(iter(exc.exception_details.values()))
            continue
        if isinstance(exc, OSError) and exc.errno is not None:
            return exc
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = inner or exc.__cause__ or exc.__context__
    return exc


def describe(exc: BaseException) -> str:
    """``Permission denied: /w/articles/...`` rather than Beam's wrapper text."""
    inner = os_error(exc)
    if isinstance(inner, OSError) and inner.errno is not None:
        where = f": {inner.filename}" if inner.filename else ""
        return f"{inner.strerror or os.strerror(inner.errno)}{where}"
    return str(inner or exc)


def _mkdirs(path: str) -> None:
    """Create a folder; an existing one is fine, any other failure is raised."""
    if _is_local(path):
        os.makedirs(path, exist_ok=True)
        return
    try:
        FileSystems.mkdirs(path)
    except OSError:
        pass  # object stores have no folders


# --- writing files ---------------------------------------------------------------


def stage_file(out: str, run_id: str, relpath: str, write: Callable[[BinaryIO], None]) -> str:
    """Write one file of a run under ``_staging/<run>/<relpath>``; returns its path.

    Written under a temporary name first, so a staged name never holds half a
    file: a retried bundle replaces it with the same bytes.
    """
    final = join(staging_dir(out, run_id), relpath)
    tmp_dir = FileSystems.join(staging_dir(out, run_id), "_tmp")
    _mkdirs(final.rsplit("/", 1)[0])
    _mkdirs(tmp_dir)
    tmp = FileSystems.join(tmp_dir, f"{uuid.uuid4().hex}.inprogress")
    try:
        with FileSystems.create(tmp) as handle:
            write(handle)
        FileSystems.rename([tmp], [final])
    except BaseException as exc:
        _delete_quietly(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and not exc.filename:
            # A failed write() names no file; the user needs to know where.
            raise OSError(exc.errno, exc.strerror, final) from exc
        raise
    return final


def _delete_quietly(path: str) -> None:
    with contextlib.suppress(Exception):
        if FileSystems.exists(path):
            FileSystems.delete([path])


def _delete_tree(path: str) -> None:
    """Delete a folder and everything under it. An object store has no folder
    to delete: there every object under the prefix is deleted."""
    if _is_local(path):
        if FileSystems.exists(path):
            FileSystems.delete([path])
        return
    found = FileSystems.match([path.rstrip("/") + "/**"])[0].metadata_list
    if found:
        FileSystems.delete([m.path for m in found])


def read_bytes(path: str) -> Optional[bytes]:
    """A file's bytes, or None when it does not exist."""
    try:
        with FileSystems.open(path) as handle:
            return handle.read()
    except Exception:
        if FileSystems.exists(path):
            raise
        return None


def _create_exclusive(path: str, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists; False if it did.

    Locally a hard link of a complete temporary file: atomic, and it fails if
    the name is taken. Object stores need a precondition on the write
    (``if_generation_match=0`` on GCS, ``If-None-Match: *`` on S3), which
    Beam's filesystems do not expose: there the check and the write are two
    steps, and only the writer lock keeps two runs apart (see deploy/README).
    """
    directory = path.rsplit("/", 1)[0]
    _mkdirs(directory)
    if _is_local(path):
        local = path.removeprefix("file://")
        tmp = f"{local}.{uuid.uuid4().hex}.inprogress"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, local)
            _fsync_dir(os.path.dirname(local))
            return True
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    if FileSystems.exists(path):
        return False
    tmp = f"{path}.{uuid.uuid4().hex}.inprogress"
    with FileSystems.create(tmp) as handle:
        handle.write(data)
    FileSystems.rename([tmp], [path])
    return True


def _fsync_dir(directory: str) -> None:
    """Make a new name durable: after a power cut the commit is there or not."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the log ---------------------------------------------------------------------


def _log_names(out: str) -> list[tuple[int, str]]:
    """(seq, path) of every commit record, oldest first."""
    pattern = FileSystems.join(out, LOG, "*.json")
    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception:
        return []
    records = []
    for meta in found:
        stem = meta.path.rsplit("/", 1)[-1].removesuffix(".json")
        if stem.isdigit():
            records.append((int(stem), meta.path))
    return sorted(records)


def last_seq(out: str) -> int:
    names = _log_names(out)
    return names[-1][0] if names else 0


def _records_after(out: str, seq: int, names: Optional[list[tuple[int, str]]] = None
                   ) -> Iterator[dict]:
    for number, path in _log_names(out) if names is None else names:
        if number > seq:
            yield json.loads(read_bytes(path))


def committed_since(out: str, seq: int) -> tuple[int, list[StagedFile]]:
    """The newest log position and every file committed after ``seq``, with its
    row count: what a command wrote, asked of the log rather than of the
    pipeline's counters. The position is where the next question starts."""
    files = []
    for record in _records_after(out, seq):
        seq = max(seq, record["seq"])
        files += [StagedFile(**f) for f in record["files"]]
    return seq, files


class Run(NamedTuple):
    """One run: a backfill, a feed poll, or a streaming job (whose windows share it).

    Pipelines carry it as data (a singleton per window), so a graph built once
    can be run again for each poll.
    """

    run_id: str  # its files are staged under _staging/<run_id>/
    base: int  # the log position it builds on (what begin() returned)
    started: int  # micros; the near-duplicate window ends here


def new_run_id(micros: Optional[int] = None) -> str:
    """``20261201T010203Z-3fa2c1``: sorts by start time, unique across hosts."""
    when = dt.datetime.fromtimestamp((now_micros() if micros is None else micros) / 1e6,
                                     dt.timezone.utc)
    return f"{when:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def start(out: str) -> Run:
    """Begin a new run now (the caller holds the writer lock, or the lease)."""
    started = now_micros()
    run_id = new_run_id(started)
    return Run(run_id, begin(out, run_id), started)


def begin(out: str, run_id: str) -> int:
    """Start a run: note the newest commit it builds on. Returns that sequence number."""
    base = last_seq(out)
    marker = json.dumps({"run_id": run_id, "base": base, "host": socket.gethostname(),
                         "pid": os.getpid()}).encode()
    stage_file(out, run_id, "BEGIN.json", lambda handle: handle.write(marker))
    return base


def _begin_of(run_dir: str) -> Optional[int]:
    """The base a staged run recorded, or None when it never got that far."""
    try:
        return json.loads(read_bytes(FileSystems.join(run_dir, "BEGIN.json")) or b"")["base"]
    except (ValueError, KeyError, TypeError):
        return None


def commit(out: str, run_id: str, base: int, files: list[StagedFile], *,
           final: bool = True, now: Optional[int] = None) -> int:
    """Commit the run's staged ``files`` (the commit point), then publish them.

    ``base``: the sequence number :func:`begin` returned. ``final``: the run
    writes nothing more, so its staging folder is removed after publishing
    (a streaming job commits once per window and keeps it). Raises
    :class:`ConcurrentCommit` when another run committed since ``base``.
    """
    files = sorted(set(files))
    listed = [f._asdict() for f in files]
    while True:
        names = _log_names(out)  # one listing for the check and the next number
        records = list(_records_after(out, base, names))
        others = [r["run_id"] for r in records if r["run_id"] != run_id]
        retried = [r["seq"] for r in records if r["run_id"] == run_id and r["files"] == listed]
        if retried:
            seq = retried[0]
            break  # a retried commit step: the record is there, finish publishing
        if others:
            raise ConcurrentCommit(
                f"another run ({others[0]}) committed to {out} while run {run_id} was in "
                f"flight; this run was not committed -- run it again")
        seq = (names[-1][0] if names else 0) + 1
        record = {"seq": seq, "run_id": run_id, "base": base,
                  "committed_at": now if now is not None else now_micros(),
                  "files": listed}
        path = FileSystems.join(out, LOG, f"{seq:012d}.json")
        if _create_exclusive(path, json.dumps(record, indent=1).encode()):
            break
        # Taken by a racing writer (the check above will name it) or by this run's
        # own earlier window: look again.
    publish(out, run_id, files)
    if final:
        with contextlib.suppress(Exception):  # settled by the next start otherwise
            _delete_tree(staging_dir(out, run_id))
    return seq


def publish(out: str, run_id: str, files: list[StagedFile]) -> int:
    """Move committed files from staging into place; returns how many moved.

    Idempotent: a file no longer in staging and present in place was moved by
    an earlier attempt.
    """
    moved = 0
    for f in files:
        staged = join(staging_dir(out, run_id), f.path)
        final = join(out, f.path)
        if not FileSystems.exists(staged):
            if FileSystems.exists(final):
                continue
            raise WarehouseError(f"committed file {f.path} of run {run_id} is missing from "
                                 f"{staging_dir(out, run_id)} and from {out}")
        _mkdirs(final.rsplit("/", 1)[0])
        FileSystems.rename([staged], [final])
        moved += 1
    return moved


def recover(out: str) -> Recovery:
    """Settle every run left in ``_staging``: roll committed ones forward, remove the rest.

    Call with the writer lock held, before the run writes anything.
    """
    rolled = removed = 0
    for run_dir in _staged_runs(out):
        run_id = run_dir.rstrip("/").rsplit("/", 1)[-1]
        base = _begin_of(run_dir)
        records = [] if base is None else [r for r in _records_after(out, base)
                                           if r["run_id"] == run_id]
        for record in records:
            publish(out, run_id, [StagedFile(**f) for f in record["files"]])
        rolled += bool(records)
        removed += not records
        _delete_tree(run_dir)
    _delete_tree(FileSystems.join(out, LEGACY_TMP))
    # Temporary files of commit records a killed run never linked.
    leftovers = FileSystems.match([FileSystems.join(out, LOG, "*.inprogress")])[0].metadata_list
    if leftovers:
        FileSystems.delete([m.path for m in leftovers])
    return Recovery(rolled, removed)


def _staged_runs(out: str) -> list[str]:
    root = FileSystems.join(out, STAGING)
    if _is_local(out):
        local = root.removeprefix("file://")
        if not os.path.isdir(local):
            return []
        return sorted(os.path.join(local, name) for name in os.listdir(local))
    found = FileSystems.match([FileSystems.join(root, "*", "BEGIN.json")])[0].metadata_list
    return sorted({m.path.rsplit("/", 1)[0] for m in found})


# --- one writer at a time -----------------------------------------------------------


@contextlib.contextmanager
def writer_lock(out: str, lease_seconds: float = 120.0) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block; :class:`WriterBusy` if taken.

    Locally an ``flock`` on ``_lock``: the kernel releases it when the holder
    dies, even by SIGKILL, so a crash never leaves a stale lock. On an object
    store a lease object, ``_lease.json``: created only if absent, renewed
    every third of ``lease_seconds`` while the run lasts, deleted at its end;
    a lease left by a holder that died is taken over once it has expired.
    """
    if not _is_local(out):
        with _lease(out, lease_seconds):
            yield
        return
    import fcntl

    path = os.path.join(out.removeprefix("file://"), "_lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
            raise WriterBusy(f"another newsbeam run is writing to {out} ({holder}); "
                             "wait for it to finish or use another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder().encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder() -> str:
    return (f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%SZ}")


@contextlib.contextmanager
def _lease(out: str, seconds: float) -> Iterator[None]:
    import threading
    import time

    path = FileSystems.join(out, "_lease.json")
    token = uuid.uuid4().hex

    def lease_bytes() -> bytes:
        return json.dumps({"holder": _holder(), "token": token,
                           "expires": time.time() + seconds}).encode()

    if not _create_exclusive(path, lease_bytes()):
        current = json.loads(read_bytes(path) or b"{}")
        if current.get("expires", 0) > time.time():
            raise WriterBusy(f"another newsbeam run is writing to {out} "
                             f"({current.get('holder', 'unknown')}; its lease runs until "
                             f"{dt.datetime.fromtimestamp(current['expires']):%H:%M:%S}); "
                             "wait for it to finish or use another --out")
        _delete_quietly(path)  # its holder died without giving it back
        if not _create_exclusive(path, lease_bytes()):
            raise WriterBusy(f"another newsbeam run took the lease of {out} just now")
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(seconds / 3):
            with contextlib.suppress(Exception):
                if json.loads(read_bytes(path) or b"{}").get("token") == token:
                    tmp = f"{path}.{uuid.uuid4().hex}.inprogress"
                    with FileSystems.create(tmp) as handle:
                        handle.write(lease_bytes())
                    FileSystems.rename([tmp], [path])

    renewer = threading.Thread(target=renew, name="newsbeam-lease", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        if json.loads(read_bytes(path) or b"{}").get("token") == token:
            _delete_quietly(path)
