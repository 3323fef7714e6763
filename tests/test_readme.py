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
    # The sh example calls the virtual environment's Python by its README path.
    python = here / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return here


def test_the_readme_has_query_examples():
    kinds = [kind for kind, _ in _query_blocks()]
    assert "sh" in kinds and "python" in kinds


@pytest.mark.parametrize("kind,code", _query_blocks())
def test_query_example_runs_as_written(kind, code, folder):
    cmd = ["bash", "-c", code] if kind == "sh" else [sys.executable, "-c", code]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "conflict-war-peace" in proc.stdout  # a theme every seed has
