"""Typed pipeline options and the TOML config file that feeds them.

Precedence: command-line flag > ``--config`` TOML file > default. The TOML
file uses one table per stage, keys named like the flags without the stage
prefix::

    [read]
    max_input_bytes = 20_000_000
    [dedup]
    threshold = 0.5
    [tag]
    spacy_model = "auto"

maps to ``--max_input_bytes``, ``--dedup_threshold``, ``--spacy_model``.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class OptionsError(ValueError):
    """Options a user must fix before the pipeline can start."""


# TOML (table, key) -> flag name, for keys whose flag is not "<table>_<key>".
_TOML_ALIASES = {
    ("read", "max_input_bytes"): "max_input_bytes",
    ("clean", "timeout_seconds"): "extract_timeout",
    ("tag", "spacy_model"): "spacy_model",
    ("tag", "lexicon"): "theme_lexicon",
    ("write", "shards_per_partition"): "shards_per_partition",
}


class NewsbeamOptions(PipelineOptions):
    """Options shared by every newsbeam pipeline (backfill and ingest)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--out", help="warehouse directory or URI (gs://, s3://, local)")
        parser.add_argument("--config", default=None, help="TOML config file")
        parser.add_argument("--max_input_bytes", type=int, default=20 * 1024 * 1024,
                            help="inputs (and pages) larger than this become error rows")
        parser.add_argument("--extract_timeout", type=float, default=10.0,
                            help="seconds allowed for extracting one HTML page")
        parser.add_argument("--dedup_threshold", type=float, default=None,
                            help="Jaccard similarity at or above which two bodies are one story")
        parser.add_argument("--dedup_num_perm", type=int, default=None,
                            help="MinHash permutations")
        parser.add_argument("--dedup_shingle_size", type=int, default=None,
                            help="words per shingle")
        parser.add_argument("--dedup_window_days", type=float, default=30.0,
                            help="near-duplicates are searched among articles ingested this many "
                                 "days back ('inf': all); re-reads and exact copies are always "
                                 "recognised")
        parser.add_argument("--spacy_model", default="auto",
                            help="spaCy model name or path; 'auto' picks an installed English model")
        parser.add_argument("--theme_lexicon", default=None,
                            help="theme knowledge TOML file (default: the packaged one)")
        parser.add_argument("--tag_batch_size", type=int, default=64,
                            help="texts per nlp.pipe batch")
        parser.add_argument("--shards_per_partition", type=int, default=1,
                            help="Parquet files per date/theme partition and run")
        parser.add_argument("--progress_dir", default=None,
                            help="(internal) local directory the CLI watches for progress")


def toml_flags(path: str) -> list[str]:
    """Turn a TOML config file into ``--flag=value`` arguments."""
    # Through Beam's filesystems, so a template can take its config from gs:// too.
    if not FileSystems.exists(path):
        raise OptionsError(f"config file not found: {path}")
    try:
        with FileSystems.open(path) as handle:
            data = tomllib.loads(handle.read().decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionsError(f"config file {path} is not valid TOML: {exc}") from exc
    flags = []
    for table, values in data.items():
        if not isinstance(values, dict):
            flags.append(_flag(table, values))
            continue
        for key, value in values.items():
            name = _TOML_ALIASES.get((table, key), f"{table}_{key}")
            flags.append(_flag(name, value))
    return flags


def _flag(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no{name}"  # argparse-style store_true
    if isinstance(value, (list, tuple)):
        return f"--{name}={','.join(map(str, value))}"
    return f"--{name}={value}"


def make_options(argv: Sequence[str], config: str | None = None) -> PipelineOptions:
    """PipelineOptions from argv with the TOML config merged underneath."""
    flags = toml_flags(config) if config else []
    # argparse keeps the last occurrence: config first, so the CLI wins.
    options = PipelineOptions(flags + list(argv))
    validate(options.view_as(NewsbeamOptions), known_flags=flags)
    return options


def validate(opts: NewsbeamOptions, known_flags: Sequence[str] = ()) -> None:
    """Fail early, with a message a user understands, on options that cannot work."""
    known = set(PipelineOptions([]).get_all_options(drop_default=False))
    for flag in known_flags:
        name = flag.split("=", 1)[0].lstrip("-")
        if name not in known and not (name.startswith("no") and name[2:] in known):
            raise OptionsError(f"unknown setting in config file: {name}")
    if opts.max_input_bytes <= 0:
        raise OptionsError("--max_input_bytes must be positive")
    if opts.extract_timeout <= 0:
        raise OptionsError("--extract_timeout must be positive")
    if opts.dedup_threshold is not None and not 0.0 < opts.dedup_threshold <= 1.0:
        raise OptionsError("--dedup_threshold must be in (0, 1]")
    if not opts.dedup_window_days > 0:  # also rejects nan
        raise OptionsError("--dedup_window_days must be positive ('inf' for no window)")
    if opts.tag_batch_size <= 0:
        raise OptionsError("--tag_batch_size must be positive")
    if opts.shards_per_partition <= 0:
        raise OptionsError("--shards_per_partition must be positive")
