"""``newsbeam query``: SQL over the views, printed as a table, CSV, JSON or Parquet."""

import csv
import io
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from newsbeam.pipeline.cli import main
from tests.pipeline.sample_warehouse import SAMPLE, write_sample

PER_THEME = "SELECT theme, count(*) AS n FROM articles GROUP BY theme ORDER BY n DESC, theme"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return str(write_sample(tmp_path_factory.mktemp("sample")))


def test_table_is_aligned_with_the_column_names_and_types(sample, capsys):
    assert main(["query", sample, PER_THEME]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "theme" in lines[1] and "n" in lines[1] and "varchar" in lines[2]
    body = [line for line in lines if "│" in line][2:]
    assert [line.split("│")[1:3] for line in body] == [
        [" politics ", "     6 "], [" economy  ", "     3 "], [" sport    ", "     3 "]]
    assert len({len(line) for line in lines}) == 1  # every line as wide: aligned


def test_csv_and_json_go_to_stdout_whole(sample, capsys):
    assert main(["query", sample, PER_THEME, "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [
        ["theme", "n"], ["politics", "6"], ["economy", "3"], ["sport", "3"]]
    assert main(["query", sample, "SELECT article_id, entities FROM articles "
                 "WHERE article_id = 'a01'", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"article_id": "a01", "entities": [
        {"text": "Kallas", "label": "ORG", "count": 2},
        {"text": "NATO", "label": "ORG", "count": 2}]}]


def test_parquet_needs_an_output_file(sample, tmp_path, capsys):
    assert main(["query", sample, PER_THEME, "--format", "parquet"]) == 2
    assert "--format parquet needs --output" in capsys.readouterr().err
    out = tmp_path / "themes.parquet"
    assert main(["query", sample, PER_THEME, "--format", "parquet", "--output", str(out)]) == 0
    assert pq.read_table(out).to_pylist()[0] == {"theme": "politics", "n": 6}


def test_sql_may_start_with_a_comment(sample, capsys):
    assert main(["query", sample, "-- errors\nSELECT count(*) AS n FROM errors",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", str(SAMPLE["errors"])]


def test_the_last_of_several_statements_is_printed(sample, capsys):
    sql = "CREATE TEMP TABLE t AS SELECT * FROM errors; SELECT count(*) AS n FROM t"
    assert main(["query", sample, sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", str(SAMPLE["errors"])]


@pytest.mark.parametrize("sql,message", [
    ("SELEC 1", 'syntax error at or near "SELEC"'),
    ("SELECT nope FROM articles", 'column "nope"'),
    ("SELECT * FROM nothing_here", "nothing_here"),
])
def test_bad_sql_is_one_line_and_exit_status_1(sample, capsys, sql, message):
    assert main(["query", sample, sql]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbeam: query failed: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unusable_arguments_exit_2(sample, tmp_path, capsys):
    assert main(["query", str(tmp_path / "missing"), "SELECT 1"]) == 2
    assert capsys.readouterr().err == f"newsbeam: error: warehouse not found: {tmp_path}/missing\n"
    assert main(["query", sample]) == 2
    assert "required: sql" in capsys.readouterr().err
    assert main(["query", sample, "SELECT 1", "--formt", "csv"]) == 2
    assert "unknown option '--formt' — did you mean '--format'?" in capsys.readouterr().err


def test_the_console_script_writes_csv_to_a_pipe(sample):
    proc = subprocess.run([sys.executable, "-m", "newsbeam.pipeline.cli", "query", sample,
                           "SELECT count(*) AS n FROM articles", "--format", "csv"],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"n\n{SAMPLE['articles']}\n", "")


@pytest.mark.parametrize("sql", ["", "   \n"])
def test_empty_sql_is_a_usage_error_not_a_silent_success(sample, capsys, sql):
    assert main(["query", sample, sql]) == 2
    assert "no SQL given" in capsys.readouterr().err


def test_max_rows_is_spelled_either_way(sample, capsys):
    sql = "SELECT * FROM range(100)"
    assert main(["query", sample, sql, "--max-rows", "6"]) == 0
    dashed = capsys.readouterr().out
    assert main(["query", sample, sql, "--max_rows", "6"]) == 0
    assert capsys.readouterr().out == dashed
    shown = [line.strip("│ ") for line in dashed.splitlines() if line.strip("│ ").isdigit()]
    assert shown == ["0", "1", "2", "97", "98", "99"]  # the middle elided
