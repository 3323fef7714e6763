"""End to end: the CLI on the bundled seeds into a temporary warehouse."""

import pathlib
import re

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from newsbeam.pipeline.cli import main
from newsbeam.schemas import Article, arrow_schema
from tests import SEEDS
from tests.warehouse_check import table_rows

pytestmark = pytest.mark.slow  # real newsbeam runs end to end

PARTITION = re.compile(r"^articles/date=\d{4}-\d{2}-\d{2}/theme=[a-z-]+/part-[^/]+\.parquet$")


def articles(out: pathlib.Path):
    return duckdb.sql(
        f"SELECT * FROM read_parquet('{out}/articles/**/*.parquet', hive_partitioning=1) "
        "ORDER BY source").fetchall(), duckdb.sql(
        f"SELECT * FROM read_parquet('{out}/articles/**/*.parquet', hive_partitioning=1) LIMIT 0"
    ).columns


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    out = tmp_path_factory.mktemp("warehouse")
    bad = tmp_path_factory.mktemp("bad")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (bad / "records.jsonl").write_text('{"title": "no body"}\n{oops\n')
    code = main(["backfill", str(SEEDS), str(bad), "--out", str(out), "--no_progress"])
    assert code == 0
    return out


def test_layout_and_schema(warehouse):
    files = sorted(str(p.relative_to(warehouse)) for p in (warehouse / "articles").rglob("*"))
    parquet = [f for f in files if f.endswith(".parquet")]
    assert parquet and all(PARTITION.match(f) for f in parquet), parquet
    for f in parquet:
        assert pq.read_schema(warehouse / f).remove_metadata() == arrow_schema(Article)
    dataset = ds.dataset(warehouse / "articles", format="parquet", partitioning="hive")
    assert {"date", "theme"} <= set(dataset.schema.names)


def test_seed_rows(warehouse):
    rows, columns = articles(warehouse)
    assert len(rows) == 5  # five different articles: none merged
    by_source = {pathlib.Path(r[columns.index("source")]).name[:3]: dict(zip(columns, r))
                 for r in rows}
    assert sorted(by_source) == ["000", "001", "002", "003", "004"]
    for seed, row in by_source.items():
        assert "conflict-war-peace" in row["themes"], (seed, row["themes"])
        assert row["themes"][0] in ("conflict-war-peace", "politics"), (seed, row["themes"])
        assert row["theme"] == row["themes"][0]
        assert row["duplicates"] == []
        assert row["language"] == "en"
        assert row["word_count"] == sum(1 for t in row["text"].split() if re.search(r"\w", t))
        assert not row["text"].startswith(row["title"])
        assert row["url"].startswith("file:///")
    assert by_source["001"]["title"].startswith("US says it has proof of North Korean presence")
    assert "COP29" not in by_source["000"]["text"]
    assert "Leave a review" not in by_source["000"]["text"]
    assert "Kaja Kallas" in by_source["001"]["text"]
    for boilerplate in ("Leave a Reply", "Back to top button", "Related Articles",
                        "Your email address will not be published"):
        assert boilerplate not in by_source["001"]["text"]
    assert "Translation by" not in by_source["003"]["text"]


def test_bad_inputs_become_error_rows(warehouse):
    errors = duckdb.sql(
        f"SELECT error FROM read_parquet('{warehouse}/errors/*.parquet') ORDER BY error").fetchall()
    assert [e[0] for e in errors] == ["binary", "empty", "invalid_json", "missing_text"]


def test_rerun_adds_no_rows(warehouse, capsys):
    before = (len(articles(warehouse)[0]), len(table_rows(warehouse, "duplicates")))
    assert main(["backfill", str(SEEDS), "--out", str(warehouse), "--no_progress"]) == 0
    assert (len(articles(warehouse)[0]), len(table_rows(warehouse, "duplicates"))) == before
    assert "already recorded: 5" in capsys.readouterr().out


def test_summary_lists_partitions(tmp_path, capsys):
    assert main(["backfill", str(SEEDS / "002_d322f8fb9dd895ba.txt"), "--out", str(tmp_path),
                 "--no_progress"]) == 0
    out = capsys.readouterr().out
    assert f"wrote 1 article rows to {tmp_path}" in out
    assert re.search(r"\d{4}-\d{2}-\d{2}\s+(conflict-war-peace|politics)\s+1", out)
    assert "no publication date found: 1 (filed under the ingestion date" in out  # seed 002 has none
    assert "stories: 1 touched, 1 new" in out


def test_summary_lists_the_reason_of_every_error_row_with_its_stage(tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "short.txt").write_text(
        "A harbour vote\n\nThe council met on Tuesday and voted to rebuild the harbour wall.\n")
    assert main(["backfill", str(inputs), "--out", str(tmp_path / "w"), "--no_progress"]) == 0
    assert "error reasons: clean:too_short 1, read:empty 1" in capsys.readouterr().out


def test_unusable_arguments_fail_before_the_pipeline(tmp_path, capsys):
    assert main(["backfill", str(tmp_path / "missing"), "--out", str(tmp_path / "w")]) == 2
    assert "input not found" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["backfill", str(SEEDS), "--out", str(blocker / "w")]) == 2
    assert "cannot write to output" in capsys.readouterr().err


def test_worker_processes_do_not_flood_the_terminal(tmp_path, capfd):
    assert main(["backfill", str(SEEDS / "002_d322f8fb9dd895ba.txt"), "--out", str(tmp_path),
                 "--no_progress", "--direct_running_mode=multi_processing",
                 "--direct_num_workers=2"]) == 0
    out, err = capfd.readouterr()
    assert "wrote 1 article rows" in out
    assert "sdk_worker" not in err and "INFO" not in err, err[:2000]


def test_runner_names_are_resolved_as_beam_resolves_them():
    from apache_beam.options.pipeline_options import PipelineOptions

    from newsbeam.pipeline.command import runner_name, runs_locally

    for flags in ([], ["--runner=DirectRunner"], ["--runner=directrunner"], ["--runner=direct"]):
        assert runner_name(PipelineOptions(flags)) == "direct"
        assert runs_locally(PipelineOptions(flags))
    assert runner_name(PipelineOptions(["--runner=DataflowRunner"])) == "dataflow"
    assert not runs_locally(PipelineOptions(["--runner=DataflowRunner"]))
    assert runs_locally(PipelineOptions(["--runner=PortableRunner", "--job_endpoint=embed"]))
    assert not runs_locally(PipelineOptions(["--runner=PortableRunner",
                                             "--job_endpoint=localhost:8099"]))
