"""End to end across runs: ``newsbeam backfill`` twice into one warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

cli = pytest.importorskip("pipeline.cli")

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def rows(out: Path, table: str) -> list[dict]:
    path = out / table
    return pq.read_table(path).to_pylist() if path.exists() and any(path.rglob("*.parquet")) else []


def test_second_backfill_recognises_old_articles(tmp_path, capsys):
    out = tmp_path / "warehouse"
    assert cli.main(["backfill", str(SEEDS), "--out", str(out), "--no_progress"]) == 0
    first = rows(out, "articles")
    assert len(first) == 5 and rows(out, "duplicates") == []  # seeds never merge
    assert len(pq.read_table(out / "_index").to_pylist()) == 5

    # run 2: the same seeds again, plus a re-post of seed 003 under another name with
    # curly quotes and hard-wrapped lines
    (path,) = SEEDS.glob("003_*.txt")
    repost = tmp_path / "new" / "repost-003.txt"
    repost.parent.mkdir()
    lines = path.read_text(encoding="utf-8").replace("'", "\u2019").split("\n")
    repost.write_text("\n".join(lines[:1] + [l.replace(". ", ".\n") for l in lines[1:]]), encoding="utf-8")
    shutil.copy(path, tmp_path / "new" / "003-again.txt")  # same text, new path: a new id
    capsys.readouterr()
    assert cli.main(["backfill", str(SEEDS), str(repost.parent), "--out", str(out), "--no_progress"]) == 0
    assert "already recorded: 5" in capsys.readouterr().out

    assert sorted(a["article_id"] for a in rows(out, "articles")) == sorted(a["article_id"] for a in first)
    seed3 = next(a["article_id"] for a in first if Path(a["source"]).name == path.name)
    dups = rows(out, "duplicates")
    assert sorted((Path(d["source"]).name, d["duplicate_of"]) for d in dups) == [
        ("003-again.txt", seed3), ("repost-003.txt", seed3)]
    assert len(pq.read_table(out / "_index").to_pylist()) == 5
