"""The commit protocol (transforms/warehouse.py) as plain functions, crashes included."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbeam.transforms import warehouse
from newsbeam.transforms.warehouse import StagedFile


class Crash(Exception):
    """The process dying at this point."""


@contextlib.contextmanager
def crash_after(n: int):
    """Let ``n`` renames, links and deletes succeed; the next one "kills" the run."""
    left = [n]
    real = (warehouse.FileSystems.rename, warehouse.FileSystems.delete, os.link)

    def counted(fn):
        def step(*args, **kwargs):
            if left[0] == 0:
                raise Crash()
            left[0] -= 1
            return fn(*args, **kwargs)
        return step

    warehouse.FileSystems.rename, warehouse.FileSystems.delete = map(counted, real[:2])
    os.link = counted(real[2])
    try:
        yield
    finally:
        warehouse.FileSystems.rename, warehouse.FileSystems.delete, os.link = real


def _stage_run(out: str, run_id: str, count: int) -> list[StagedFile]:
    files = []
    for j in range(count):
        table = ("articles", "_index", "errors")[j % 3]
        folder = "articles/date=2024-01-01/theme=sport" if table == "articles" else table
        relpath = f"{folder}/part-{run_id}-{j}.parquet"
        warehouse.stage_file(out, run_id, relpath, lambda h, p=relpath: h.write(p.encode()))
        files.append(StagedFile(table, relpath, 1))
    return files


def _visible(out: str) -> dict[str, str]:
    root = Path(out)
    return {str(p.relative_to(root)): p.read_text() for table in warehouse.TABLES
            for p in (root / table).rglob("*.parquet")}


def _records(out: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(Path(out, "_log").glob("*.json"))]


@given(runs=st.lists(st.tuples(st.integers(1, 4), st.integers(0, 30)), min_size=1, max_size=4))
@settings(max_examples=80, deadline=None)
def test_a_crash_anywhere_then_recovery_leaves_exactly_the_committed_runs(runs):
    """Runs of 1-4 files, each crashing after 0-30 file operations (in recovery,
    staging, the commit or publishing): after the next recovery the tables hold
    exactly the files of the runs that have a commit record, each whole and once."""
    with tempfile.TemporaryDirectory() as out:
        for i, (count, crash_at) in enumerate(runs):
            run_id = f"r{i}"
            with contextlib.suppress(Crash), crash_after(crash_at):
                warehouse.recover(out)
                base = warehouse.begin(out, run_id)
                warehouse.commit(out, run_id, base, _stage_run(out, run_id, count))
            warehouse.recover(out)
            committed = {f["path"] for r in _records(out) for f in r["files"]}
            assert _visible(out) == {p: p for p in committed}
            assert not list(Path(out, "_staging").glob("*")), list(Path(out).rglob("*"))
            assert not list(Path(out).rglob("*.inprogress"))
        # Commit records are numbered without gaps, one per committed run.
        records = _records(out)
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
        assert len({r["run_id"] for r in records}) == len(records)


def test_nothing_is_visible_before_the_commit(tmp_path):
    out = str(tmp_path)
    base = warehouse.begin(out, "r1")
    files = _stage_run(out, "r1", 3)
    assert _visible(out) == {}
    assert warehouse.commit(out, "r1", base, files) == 1
    assert sorted(_visible(out)) == sorted(f.path for f in files)
    (record,) = _records(out)
    assert (record["run_id"], record["base"], len(record["files"])) == ("r1", 0, 3)


def test_committed_since_lists_the_files_of_later_commits_and_the_newest_position(tmp_path):
    out = str(tmp_path)
    first = _stage_run(out, "r1", 2)
    warehouse.commit(out, "r1", warehouse.begin(out, "r1"), first)
    second = _stage_run(out, "r2", 3)
    warehouse.commit(out, "r2", warehouse.begin(out, "r2"), second)
    assert warehouse.committed_since(out, 0) == (2, sorted(first) + sorted(second))
    assert warehouse.committed_since(out, 1) == (2, sorted(second))
    assert warehouse.committed_since(out, 2) == (2, [])


def test_a_committed_run_interrupted_while_publishing_is_rolled_forward(tmp_path):
    out = str(tmp_path)
    base = warehouse.begin(out, "r1")
    files = _stage_run(out, "r1", 3)
    with pytest.raises(Crash), crash_after(2):  # the link, then one rename
        warehouse.commit(out, "r1", base, files)
    assert len(_visible(out)) == 1  # part of the newest committed run, never a repeat
    assert warehouse.recover(out) == warehouse.Recovery(rolled_forward=1, removed=0)
    assert sorted(_visible(out)) == sorted(f.path for f in files)


def test_an_uncommitted_run_is_removed(tmp_path):
    out = str(tmp_path)
    warehouse.begin(out, "r1")
    _stage_run(out, "r1", 3)
    assert warehouse.recover(out) == warehouse.Recovery(rolled_forward=0, removed=1)
    assert _visible(out) == {} and not list(tmp_path.rglob("*.parquet"))


def test_a_retried_commit_step_commits_once(tmp_path):
    out = str(tmp_path)
    base = warehouse.begin(out, "r1")
    files = _stage_run(out, "r1", 2)
    with pytest.raises(Crash), crash_after(1):  # the link succeeds, publishing dies
        warehouse.commit(out, "r1", base, files)
    assert warehouse.commit(out, "r1", base, files, final=True) == 1
    assert len(_records(out)) == 1 and len(_visible(out)) == 2


def test_a_run_that_raced_another_writer_is_refused(tmp_path):
    out = str(tmp_path)
    base_a = warehouse.begin(out, "a")
    base_b = warehouse.begin(out, "b")
    warehouse.commit(out, "b", base_b, _stage_run(out, "b", 1))
    files = _stage_run(out, "a", 1)
    with pytest.raises(warehouse.ConcurrentCommit, match="another run .b. committed"):
        warehouse.commit(out, "a", base_a, files)
    b_only = ["articles/date=2024-01-01/theme=sport/part-b-0.parquet"]
    assert list(_visible(out)) == b_only
    warehouse.recover(out)
    assert list(_visible(out)) == b_only  # a's files are gone with its staging folder


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with warehouse.writer_lock(str(tmp_path)):
        with pytest.raises(warehouse.WriterBusy, match=f"pid {os.getpid()}"):
            with warehouse.writer_lock(str(tmp_path)):
                pass
    with warehouse.writer_lock(str(tmp_path)):  # released: free again
        pass


def test_describe_names_the_os_error_and_its_path():
    from apache_beam.io.filesystem import BeamIOError

    inner = OSError(28, "No space left on device", "/w/_staging/x")
    wrapped = BeamIOError("Rename operation failed", {("/a", "/b"): IOError(inner)})
    assert warehouse.describe(wrapped) == "No space left on device: /w/_staging/x"


def test_on_an_object_store_a_lease_keeps_a_second_writer_out(tmp_path):
    import time

    from tests.fakestore import PREFIX

    out = PREFIX + str(tmp_path)
    with warehouse.writer_lock(out, lease_seconds=2.0):
        time.sleep(2.5)  # renewed meanwhile (every 0.7 s): still held past its first expiry
        with pytest.raises(warehouse.WriterBusy, match="another newsbeam run is writing"):
            with warehouse.writer_lock(out):
                pass
    assert not (tmp_path / "_lease.json").exists()  # given back
    # A holder that died leaves its lease; it is taken over once expired.
    (tmp_path / "_lease.json").write_text(json.dumps(
        {"holder": "pid 1 on gone", "token": "x", "expires": time.time() - 1}))
    with warehouse.writer_lock(out):
        assert json.loads((tmp_path / "_lease.json").read_text())["token"] != "x"


def test_commit_and_recovery_on_an_object_store(tmp_path):
    from tests.fakestore import PREFIX

    out = PREFIX + str(tmp_path)
    base = warehouse.begin(out, "r1")
    files = _stage_run(out, "r1", 3)
    with pytest.raises(Crash), crash_after(2):  # committed, one file published
        warehouse.commit(out, "r1", base, files)
    warehouse.begin(out, "r2")
    _stage_run(out, "r2", 2)  # never committed
    assert warehouse.recover(out) == warehouse.Recovery(rolled_forward=1, removed=1)
    assert sorted(_visible(str(tmp_path))) == sorted(f.path for f in files)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "_staging" in p.parts]
