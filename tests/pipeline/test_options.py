import pytest

from newsbeam.pipeline.options import NewsbeamOptions, OptionsError, make_options, toml_flags


def test_toml_config_sits_under_the_command_line(tmp_path):
    config = tmp_path / "newsbeam.toml"
    config.write_text("[read]\nmax_input_bytes = 1000\n[dedup]\nthreshold = 0.7\n"
                      "[tag]\nspacy_model = \"en_core_web_sm\"\n")
    opts = make_options(["--out", "w", "--max_input_bytes=5"], str(config)).view_as(NewsbeamOptions)
    assert opts.max_input_bytes == 5  # the flag wins
    assert opts.dedup_threshold == 0.7  # the file fills what the flags leave
    assert opts.spacy_model == "en_core_web_sm"
    assert opts.out == "w"


def test_toml_flags_maps_tables_to_flags(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[clean]\ntimeout_seconds = 3.5\n[write]\nshards_per_partition = 2\n")
    assert toml_flags(str(config)) == ["--extract_timeout=3.5", "--shards_per_partition=2"]


@pytest.mark.parametrize("text, message", [
    ("[dedup]\nthreshhold = 0.7\n", "unknown setting in config file: dedup_threshhold"),
    ("[read\n", "not valid TOML"),
    ("[dedup]\nthreshold = 1.5\n", "--dedup_threshold must be in"),
    ("[dedup]\nwindow_days = 0\n", "--dedup_window_days must be positive"),
    ("[dedup]\nwindow_days = nan\n", "--dedup_window_days must be positive"),
])
def test_bad_config_fails_before_the_pipeline_with_a_clear_message(tmp_path, text, message):
    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(OptionsError, match=message):
        make_options(["--out", "w"], str(config))


def test_missing_config_file(tmp_path):
    with pytest.raises(OptionsError, match="config file not found"):
        make_options([], str(tmp_path / "absent.toml"))


def test_dedup_window_from_the_config_file(tmp_path):
    from newsbeam.pipeline.build import signature_window

    config = tmp_path / "c.toml"
    config.write_text("[dedup]\nwindow_days = 7\n")
    opts = make_options(["--out", "w"], str(config)).view_as(NewsbeamOptions)
    assert opts.dedup_window_days == 7
    assert signature_window(opts) == 7 * 86_400_000_000
    default = make_options(["--out", "w"]).view_as(NewsbeamOptions)
    assert signature_window(default) == 30 * 86_400_000_000
    every = make_options(["--out", "w", "--dedup_window_days", "inf"]).view_as(NewsbeamOptions)
    assert signature_window(every) is None
