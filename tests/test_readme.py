"""The README's query examples run as written against a fresh backfill of seeds/."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import REPO

pytestmark = pytest.mark.slow  # real newsbeam runs end to end


def _query_blocks() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Query the warehouse", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, seeds_warehouse) -> Path:
    here = tmp_path_factory.mktemp("readme")
    (here / "warehouse").symlink_to(seeds_warehouse)
    # The sh examples call the virtual environment's programs by their README paths.
    bin_dir = here / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, command in (("python", ""), ("newsbeam", " -m newsbeam.pipeline.cli")):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{sys.executable}"{command} "$@"\n')
        (bin_dir / name).chmod(0o755)
    return here


def test_the_readme_has_query_examples():
    kinds = [kind for kind, _ in _query_blocks()]
    assert "sh" in kinds and "python" in kinds


def _run(kind: str, code: str, folder: Path) -> subprocess.CompletedProcess:
    cmd = ["bash", "-c", code] if kind == "sh" else [sys.executable, "-c", code]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind,code", _query_blocks())
def test_query_example_runs_as_written(kind, code, folder):
    proc = _run(kind, code, folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and "Error" not in proc.stderr, proc.stderr


def test_the_first_example_finds_the_seeds_theme(folder):
    kind, code = _query_blocks()[0]
    assert "conflict-war-peace" in _run(kind, code, folder).stdout  # a theme every seed has


def test_the_story_examples_follow_the_seeds_story(folder):
    """The biggest seed story is the three reports of 23 Oct 2024 (seeds 000-002) and,
    undated as they are in seeds/, 004 (see the README's stories section); 003 is apart."""
    (kind, code), = [b for b in _query_blocks() if "WHERE r.root" in b[1]]
    out = _run(kind, code, folder).stdout
    for start in ("U.S. Confirms", "US says it has", "Pentagon confirms", "Firm Res"):
        assert start in out
    assert "Global leaders" not in out
