"""Exactly once under kills, failing writes, concurrent writers and re-runs.

Each fault is injected into a real ``newsbeam backfill`` process by
``tests.faultfs`` (kill -9 of its process group, or ENOSPC/EIO/EACCES raised at
a chosen file operation); the same backfill is then run again and the
warehouse is checked with DuckDB (``tests.warehouse_check``).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import REPO, SEED_FILES
from tests.warehouse_check import assert_exactly_once, tally

pytestmark = pytest.mark.slow  # real newsbeam processes, killed and restarted

INPUTS = 8  # 5 seeds, an exact copy, an empty file, broken JSON


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for seed in SEED_FILES:
        shutil.copy(seed, folder)
    shutil.copy(SEED_FILES[0], folder / "copy-of-000.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.json").write_text("{oops")
    return folder


def _newsbeam(out: Path, inputs: Path, *fault: str, trace: str = "") -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "tests.faultfs", "--root", str(out), *fault]
    if trace:
        cmd += ["--trace", trace]
    cmd += ["--", "backfill", str(inputs), "--out", str(out), "--no_progress"]
    # A session of its own: a "kill" fault takes down the process group, not pytest.
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          start_new_session=True)


@pytest.fixture(scope="module")
def operations(inputs, tmp_path_factory) -> list[tuple[int, str, str]]:
    """The file operations of a clean backfill, in order: where faults can strike."""
    out = tmp_path_factory.mktemp("traced")
    trace = out.parent / "ops.txt"
    proc = _newsbeam(out, inputs, trace=str(trace))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_exactly_once(str(out), INPUTS)
    ops = []
    for line in trace.read_text().splitlines():
        n, op, path = line.split(" ", 2)
        ops.append((int(n), op, path))
    return ops


def _matching(ops, op: str, test) -> list[int]:
    found = [n for n, o, p in ops if o == op and test(p)]
    assert found, op
    return found


def _staged_article_write(ops) -> int:
    """The last write before the first article file is renamed into staging."""
    rename = _matching(ops, "rename", lambda p: p.startswith("_staging/") and "/articles/" in p)[0]
    return max(n for n, o, _ in ops if o == "write" and n < rename)


# Where a fault strikes, by the protocol's steps (see transforms/warehouse.py);
# renames and links are traced by their destination.
POINTS = {
    "staging an article file": _staged_article_write,
    "staging the first index file": lambda ops: _matching(
        ops, "rename", lambda p: p.startswith("_staging/") and "/_index/" in p)[0],
    "writing the commit record": lambda ops: _matching(ops, "write", lambda p: "_log/" in p)[0],
    "the commit (link)": lambda ops: _matching(ops, "link", lambda p: "_log/" in p)[0],
    "publishing the first file": lambda ops: _matching(
        ops, "rename", lambda p: not p.startswith(("_staging", "_log")))[0],
    "publishing an article file": lambda ops: _matching(
        ops, "rename", lambda p: p.startswith("articles/"))[-1],
    "publishing the last file": lambda ops: _matching(ops, "rename", lambda p: True)[-1],
    "removing the staging folder": lambda ops: _matching(
        ops, "delete", lambda p: p.startswith("_staging/"))[-1],
}


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_at_any_step_then_restart_counts_each_input_once(point, inputs, operations,
                                                               tmp_path):
    at = POINTS[point](operations)
    killed = _newsbeam(tmp_path, inputs, "--at", str(at), "--fault", "kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    # Whatever the kill left, a reader of the table globs never sees a row twice.
    assert not any(tally(str(tmp_path)).repeated.values())

    again = _newsbeam(tmp_path, inputs)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_exactly_once(str(tmp_path), INPUTS)
    rerun = _newsbeam(tmp_path, inputs)
    assert "already recorded: 8" in rerun.stdout
    assert_exactly_once(str(tmp_path), INPUTS)


@pytest.mark.parametrize("fault,point", [
    ("enospc", "staging an article file"), ("enospc", "writing the commit record"),
    ("eio", "the commit (link)"), ("eio", "publishing an article file"),
    ("eacces", "publishing the first file"),
])
def test_failed_write_reports_the_os_error_and_a_rerun_completes(fault, point, inputs,
                                                                  operations, tmp_path):
    at = POINTS[point](operations)
    failed = _newsbeam(tmp_path, inputs, "--at", str(at), "--fault", fault)
    assert failed.returncode == 1, failed.stderr[-3000:]
    message = {"enospc": "No space left on device", "eio": "Input/output error",
               "eacces": "Permission denied"}[fault]
    assert f"newsbeam: error: {message}: {tmp_path}" in failed.stderr, failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr
    # A failed run leaves nothing staged behind and never a repeated row.
    assert not list((tmp_path / "_staging").glob("*/*")), list((tmp_path / "_staging").rglob("*"))
    assert not any(tally(str(tmp_path)).repeated.values())

    again = _newsbeam(tmp_path, inputs)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_exactly_once(str(tmp_path), INPUTS)


def test_a_second_writer_stops_at_once_with_exit_2(inputs, tmp_path):
    """Two backfills into one warehouse: the second one is refused, the first completes."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SEED_FILES[0], other / "same-story-again.txt")  # an exact copy of the first's
    out = tmp_path / "w"
    first = subprocess.Popen(
        [sys.executable, "-m", "newsbeam.pipeline.cli", "backfill", str(inputs), "--out", str(out),
         "--no_progress"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("_staging/*/BEGIN.json")):  # the first holds the lock
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-m", "newsbeam.pipeline.cli", "backfill", str(other), "--out", str(out),
             "--no_progress"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert "another newsbeam run is writing to" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    # Run after the first, the second finds the copy: cross-run dedup holds.
    again = subprocess.run(
        [sys.executable, "-m", "newsbeam.pipeline.cli", "backfill", str(other), "--out", str(out),
         "--no_progress"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "duplicates: 1" in again.stdout
    assert_exactly_once(str(out), INPUTS + 1)


def test_rerun_of_a_folder_with_bad_files_adds_no_row_to_any_table(inputs, tmp_path):
    from newsbeam.pipeline.cli import main

    assert main(["backfill", str(inputs), "--out", str(tmp_path), "--no_progress"]) == 0
    first = assert_exactly_once(str(tmp_path), INPUTS)
    assert (first.rows["duplicates"], first.rows["errors"]) == (1, 2)
    assert main(["backfill", str(inputs), "--out", str(tmp_path), "--no_progress"]) == 0
    assert assert_exactly_once(str(tmp_path), INPUTS).rows == first.rows


def test_read_only_table_folder_names_the_real_error(inputs, tmp_path, monkeypatch, capsys):
    """An EACCES while publishing reaches the user with its path, and the run,
    committed, is finished by the next start once the folder is writable."""
    from newsbeam.pipeline.cli import main
    from newsbeam.transforms import warehouse

    real = warehouse.FileSystems.rename

    def refuse(sources, destinations):
        if destinations[0].startswith(str(tmp_path / "articles")):
            raise OSError(13, "Permission denied", destinations[0])
        return real(sources, destinations)

    with monkeypatch.context() as m:
        m.setattr(warehouse.FileSystems, "rename", refuse)
        assert main(["backfill", str(inputs), "--out", str(tmp_path), "--no_progress"]) == 1
    err = capsys.readouterr().err
    assert f"newsbeam: error: Permission denied: {tmp_path}/articles/" in err
    assert "FileNotFoundError" not in err
    # Committed before the publish failed: finished at the next start, and nothing repeated.
    assert main(["backfill", str(inputs), "--out", str(tmp_path), "--no_progress"]) == 0
    assert "1 committed run(s) finished publishing" in capsys.readouterr().err
    assert_exactly_once(str(tmp_path), INPUTS)


def test_a_warehouse_on_an_object_store_commits_once_and_reruns_add_nothing(inputs, tmp_path):
    """The code paths of gs:// and s3:// (no folders, rename = copy + delete, a
    lease instead of flock), on a local stand-in registered with Beam."""
    from newsbeam.pipeline.cli import main
    from tests.fakestore import PREFIX

    out = PREFIX + str(tmp_path)
    for _ in range(2):
        assert main(["backfill", str(inputs), "--out", out, "--no_progress"]) == 0
        assert_exactly_once(str(tmp_path), INPUTS)
    assert len(list((tmp_path / "_log").glob("*.json"))) == 1  # the re-run had nothing to commit
    assert not (tmp_path / "_lease.json").exists()
