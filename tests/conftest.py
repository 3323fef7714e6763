"""Fixtures shared across the test modules: the seeds, and warehouses built from them.

Records are made with ``tests.records``; warehouses are read with
``tests.warehouse_check``. End-to-end modules (real newsbeam processes or
whole pipelines) are marked ``slow``: ``python -m pytest -m "not slow"`` runs
the unit tests alone.
"""

from pathlib import Path

import pytest

from newsbeam.pipeline.cli import main
from tests import SEED_FILES, SEEDS


@pytest.fixture(scope="session")
def seed_files() -> list[Path]:
    """The five bundled sample articles, in name order."""
    return SEED_FILES


@pytest.fixture(scope="session")
def seeds_warehouse(tmp_path_factory) -> Path:
    """A warehouse holding one backfill of ``seeds/``; tests must only read it."""
    out = tmp_path_factory.mktemp("seeds") / "warehouse"
    assert main(["backfill", str(SEEDS), "--out", str(out), "--no_progress"]) == 0
    return out
