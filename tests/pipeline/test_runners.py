"""The same backfill gives the same warehouse on every runner we can run here.

(a) the DirectRunner in one process, (b) the DirectRunner with two worker processes
(what ``newsbeam backfill`` picks on this 2-core machine for this many inputs),
(c) the portable job API (``PortableRunner`` with an embedded job server and a
loopback worker) — the API through which Flink, Spark and Dataflow run us.
A stage that depends on process-global state, on element order within a
bundle, or on something that does not survive pickling shows up here as a
difference between the warehouses.

Inputs: ``seeds/`` plus a few hundred synthetic articles written by
``synthetic_news`` (every input kind, exact copies, bad inputs), so the
comparison covers articles, duplicates and errors.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from newsbeam.pipeline.cli import main
from tests import REPO, SEEDS
from tests.pipeline.synthetic_news import write_corpus
from tests.warehouse_check import table_rows

pytestmark = pytest.mark.slow  # real newsbeam runs end to end

SYNTHETIC_ARTICLES = 300

RUNNERS = {
    "direct": ["--direct_num_workers=1"],  # one worker: what newsbeam picks for few inputs
    "direct-multiprocess": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    "portable-loopback": ["--runner=PortableRunner", "--job_endpoint=embed",
                          "--environment_type=LOOPBACK"],
}


def snapshot(out: Path) -> dict:
    """Everything a runner must reproduce, without what differs by design between runs
    (run ids in file names, ingestion times)."""
    articles = {}
    for row in table_rows(out, "articles"):
        # The partition date of an undated article is the ingestion date: equal
        # across runs only if they straddle no midnight, so it is not compared.
        date = row["date"] if row["date_source"] != "ingested" else None
        articles[row["article_id"]] = (
            row["title"], row["text"], row["url"], row["source"], row["language"],
            tuple(row["themes"]),
            tuple(sorted((e["text"], e["label"], e["count"]) for e in row["entities"])),
            row["word_count"], tuple(sorted(row["duplicates"])), row["published_at"],
            row["date_source"], str(row["theme"]), str(date), row["story_id"])
    duplicates = sorted(
        (r["source"], r["url"], r["duplicate_of"], r["kind"], round(float(r["similarity"]), 4),
         r["article_id"], r["story_id"])
        for r in table_rows(out, "duplicates"))
    errors = sorted((r["source"], r["stage"], r["error"], r["detail"]) for r in table_rows(out, "errors"))
    stories = sorted((r["story_id"], r["articles"], tuple(r["sources"]), r["title"], r["merged_into"],
                      tuple(r["terms"]), tuple(round(float(w), 4) for w in r["term_weights"]))
                     for r in table_rows(out, "stories"))
    merges = sorted((r["story_id"], r["merged_into"], r["article_id"]) for r in table_rows(out, "story_merges"))
    return {"articles": articles, "duplicates": duplicates, "errors": errors, "stories": stories,
            "merges": merges}


def run_backfill(inputs: Path, out: Path, runner_args: list[str]) -> None:
    status = main(["backfill", str(inputs), "--out", str(out), "--no_progress", *runner_args])
    assert status == 0
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.parent.name == "_tmp"]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    shutil.copytree(SEEDS, root / "seeds")
    return write_corpus(root / "news", count=SYNTHETIC_ARTICLES)


@pytest.fixture(scope="module")
def warehouses(corpus, tmp_path_factory):
    """One warehouse per runner, built once for the module."""
    built = {}
    with pytest.MonkeyPatch.context() as mp:
        # Worker processes (multi_processing) import our packages from this path,
        # as a distributed worker imports them from the installed distribution.
        mp.setenv("PYTHONPATH", os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
        for name, args in RUNNERS.items():
            out = tmp_path_factory.mktemp(f"warehouse-{name}")
            run_backfill(corpus.root.parent, out, args)
            built[name] = snapshot(out)
    return built


def test_reference_run_accounts_for_every_input(corpus, warehouses):
    """The reference warehouse is not trivially empty: the comparisons below mean something."""
    ref = warehouses["direct"]
    inputs = corpus.root.parent
    n_files = sum(1 for p in inputs.rglob("*") if p.is_file())
    n_jsonl_lines = sum(1 for a in corpus.articles if "#L" in a)
    expected_inputs = n_files - 1 + n_jsonl_lines  # the .jsonl file is its lines
    rows = len(ref["articles"]) + len(ref["duplicates"]) + len(ref["errors"])
    assert rows == expected_inputs

    sources = Counter(a[3] for a in ref["articles"].values())
    for name in ("000_486ac41e4a4fe722", "001_fe06e7e2c2ed499e", "002_d322f8fb9dd895ba",
                 "003_13e5ef5e76ae84ed", "004_c4b95118c996ebfb"):
        assert sources[str(inputs / "seeds" / f"{name}.txt")] == 1

    errors = {(Path(s).relative_to(corpus.root).as_posix(), e) for s, _, e, _ in ref["errors"]}
    assert errors == set(corpus.bad.items())

    by_source = {a[3]: (aid, a) for aid, a in ref["articles"].items()}
    dup_sources = {d[0]: d for d in ref["duplicates"]}
    for original, copy in corpus.exact_copies:
        pair = [str(corpus.root / original), str(corpus.root / copy)]
        kept = [s for s in pair if s in by_source]
        merged = [s for s in pair if s in dup_sources]
        assert len(kept) == 1 and len(merged) == 1, (pair, kept, merged)
        kept_id, kept_row = by_source[kept[0]]
        assert dup_sources[merged[0]][2] == kept_id
        assert dup_sources[merged[0]][3] == "exact"
        assert merged[0] in kept_row[8]


@pytest.mark.parametrize("runner", ["direct-multiprocess", "portable-loopback"])
def test_runner_writes_the_same_warehouse(warehouses, runner):
    ref, got = warehouses["direct"], warehouses[runner]
    assert sorted(got["articles"]) == sorted(ref["articles"])  # same ids first: a short diff
    assert got["articles"] == ref["articles"]
    assert got["duplicates"] == ref["duplicates"]
    assert got["errors"] == ref["errors"]
