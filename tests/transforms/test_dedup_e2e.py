"""End to end across runs: ``newsbeam backfill`` twice into one warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsbeam.pipeline import cli
from tests import SEEDS
from tests.warehouse_check import table_rows

pytestmark = pytest.mark.slow  # real newsbeam runs end to end


def test_second_backfill_recognises_old_articles(tmp_path, capsys):
    out = tmp_path / "warehouse"
    assert cli.main(["backfill", str(SEEDS), "--out", str(out), "--no_progress"]) == 0
    first = table_rows(out, "articles")
    assert len(first) == 5 and table_rows(out, "duplicates") == []  # seeds never merge
    assert len(table_rows(out, "_index")) == 5

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

    assert sorted(a["article_id"] for a in table_rows(out, "articles")) == sorted(a["article_id"] for a in first)
    seed3 = next(a["article_id"] for a in first if Path(a["source"]).name == path.name)
    dups = table_rows(out, "duplicates")
    assert sorted((Path(d["source"]).name, d["duplicate_of"]) for d in dups) == [
        ("003-again.txt", seed3), ("repost-003.txt", seed3)]
    assert len(table_rows(out, "_index")) == 5
