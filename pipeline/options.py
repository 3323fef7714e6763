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

import argparse
import shutil
import sys
from typing import Any, Sequence

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

from newsbeam.pipeline.usage import OneLineErrors
from newsbeam.transforms.clean import CleanConfig
from newsbeam.transforms.feeds import PollSettings
from newsbeam.transforms.fetch import FetchConfig
from newsbeam.transforms.read import DEFAULT_MAX_BYTES

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
        parser.add_argument("--max_input_bytes", type=int, default=DEFAULT_MAX_BYTES,
                            help="inputs (and pages) larger than this become error rows")
        parser.add_argument("--extract_timeout", type=float, default=None,
                            help="seconds allowed for cleaning one document (default "
                                 f"{CleanConfig().timeout_seconds:g})")
        parser.add_argument("--dedup_threshold", type=float, default=None,
                            help="Jaccard similarity at or above which two bodies are near-duplicates")
        parser.add_argument("--dedup_num_perm", type=int, default=None,
                            help="MinHash permutations")
        parser.add_argument("--dedup_shingle_size", type=int, default=None,
                            help="words per shingle")
        parser.add_argument("--dedup_window_days", type=float, default=30.0,
                            help="near-duplicates are searched among articles ingested this many "
                                 "days back ('inf': all); re-reads and exact copies are always "
                                 "recognised")
        parser.add_argument("--no_stories", action="store_true",
                            help="do not group articles into stories (story_id stays empty)")
        parser.add_argument("--story_window_days", type=float, default=None,
                            help="an article joins only stories active within this many days of "
                                 "it (default 3)")
        parser.add_argument("--story_threshold", type=float, default=None,
                            help="similarity at or above which an article joins a story (default 0.18)")
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
    if opts.extract_timeout is not None and opts.extract_timeout <= 0:
        raise OptionsError("--extract_timeout must be positive")
    if opts.dedup_threshold is not None and not 0.0 < opts.dedup_threshold <= 1.0:
        raise OptionsError("--dedup_threshold must be in (0, 1]")
    if not opts.dedup_window_days > 0:  # also rejects nan
        raise OptionsError("--dedup_window_days must be positive ('inf' for no window)")
    if opts.story_window_days is not None and not opts.story_window_days > 0:
        raise OptionsError("--story_window_days must be positive")
    if opts.story_threshold is not None and not 0.0 < opts.story_threshold <= 1.0:
        raise OptionsError("--story_threshold must be in (0, 1]")
    if opts.tag_batch_size <= 0:
        raise OptionsError("--tag_batch_size must be positive")
    if opts.shards_per_partition <= 0:
        raise OptionsError("--shards_per_partition must be positive")


FETCH, POLL = FetchConfig(), PollSettings()  # the defaults live in the stage configs


class IngestOptions(PipelineOptions):
    """Feed-following options. Each flag also has a ``--feeds_<name>`` spelling,
    which is what the ``[feeds]`` table of the TOML config maps to."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        def add(name, *extra, short=True, **kwargs):
            flags = ([f"--{name}"] if short else []) + [f"--feeds_{name}", *extra]
            parser.add_argument(*flags, dest=f"feeds_{name}", **kwargs)

        add("interval", type=float, default=POLL.interval,
            help="seconds between polls (default %(default)s)")
        add("once", action="store_true", default=False, help="poll once and stop (for cron)")
        add("polls", type=int, default=0, help="stop after this many polls (0: follow forever)")
        add("allow_private_addresses", "--allow-private-addresses", action="store_true",
            default=False, help="allow loopback/private/link-local addresses (tests only)")
        add("user_agent", short=False, default=FETCH.user_agent,  # Beam owns --user_agent
            help="User-Agent sent with every request")
        add("connect_timeout", type=float, default=FETCH.connect_timeout, help="seconds to connect")
        add("read_timeout", type=float, default=FETCH.read_timeout, help="seconds between bytes")
        add("total_timeout", type=float, default=FETCH.total_timeout,
            help="seconds for a whole response")
        add("max_feed_bytes", type=int, default=FETCH.max_feed_bytes, help="largest feed document")
        add("max_items", type=int, default=POLL.max_items,
            help="items taken from one feed document")
        add("max_redirects", type=int, default=FETCH.max_redirects,
            help="redirects followed per request")
        add("per_host_concurrency", type=int, default=FETCH.per_host_concurrency,
            help="parallel requests per host")
        add("per_host_delay", type=float, default=FETCH.per_host_delay,
            help="seconds between requests to one host")
        add("fetch_workers", type=int, default=8, help="parallel page fetches per worker")
        add("ignore_robots", action="store_true", default=False,
            help="do not consult robots.txt for article pages")
        add("backoff_max", type=float, default=POLL.backoff_max,
            help="longest wait before re-polling a failing feed")
        add("parse_timeout", type=float, default=POLL.parse_timeout,
            help="seconds to parse one feed")
        add("parse_memory_mb", type=int, default=POLL.parse_memory_bytes // (1024 * 1024),
            help="memory limit of the feed parser")
        add("max_feed_failures", type=int, default=0,
            help="stop with exit status 3 once every feed has failed this many polls in a "
                 "row (0: never; --once stops so when every feed failed its poll)")


def validate_ingest(opts: IngestOptions) -> None:
    positive = ("interval", "connect_timeout", "read_timeout", "total_timeout", "max_feed_bytes",
                "max_items", "per_host_concurrency", "fetch_workers", "backoff_max",
                "parse_timeout", "parse_memory_mb")
    for name in positive:
        if getattr(opts, f"feeds_{name}") <= 0:
            raise OptionsError(f"--{name} must be positive")
    for name in ("max_redirects", "per_host_delay", "polls", "max_feed_failures"):
        if getattr(opts, f"feeds_{name}") < 0:
            raise OptionsError(f"--{name} must not be negative")


def fetch_config(opts: IngestOptions, nb: NewsbeamOptions) -> FetchConfig:
    return FetchConfig(
        user_agent=opts.feeds_user_agent, connect_timeout=opts.feeds_connect_timeout,
        read_timeout=opts.feeds_read_timeout, total_timeout=opts.feeds_total_timeout,
        max_feed_bytes=opts.feeds_max_feed_bytes, max_page_bytes=nb.max_input_bytes,
        max_redirects=opts.feeds_max_redirects,
        allow_private_addresses=opts.feeds_allow_private_addresses,
        per_host_concurrency=opts.feeds_per_host_concurrency,
        per_host_delay=opts.feeds_per_host_delay, respect_robots=not opts.feeds_ignore_robots)


def poll_settings(opts: IngestOptions) -> PollSettings:
    return PollSettings(interval=opts.feeds_interval, backoff_max=opts.feeds_backoff_max,
                        max_items=opts.feeds_max_items, parse_timeout=opts.feeds_parse_timeout,
                        parse_memory_bytes=opts.feeds_parse_memory_mb * 1024 * 1024)


# ``newsbeam COMMAND --help`` lists a command's own options by stage, in this
# order; an option's stage is the first word of its name unless named here.
HELP_STAGES = ("run", "read", "clean", "dedup", "tag", "story", "write", "feeds")
_HELP_STAGE = {"out": "run", "config": "run", "max_input_bytes": "read",
               "extract_timeout": "clean", "spacy_model": "tag", "theme_lexicon": "tag",
               "no_stories": "story",
               "shards_per_partition": "write"}
# Beam options most local runs want, listed with newsbeam's own; the rest: --help-beam.
COMMON_BEAM = ("runner", "direct_num_workers", "direct_running_mode")


def help_stage(dest: str) -> str:
    if dest in _HELP_STAGE:
        return _HELP_STAGE[dest]
    first = dest.split("_", 1)[0]
    return first if first in HELP_STAGES else "other"


def _dests(classes: Sequence[type]) -> set:
    probe = _BeamArgumentParser(add_help=False)
    for cls in classes:
        cls._add_argparse_args(probe)
    return {action.dest for action in probe._actions}


# Beam's help for the options listed with newsbeam's own is written for every
# runner; these say what a local user needs.
_SHORT_HELP = {
    "runner": "where the pipeline runs: DirectRunner (default: this machine), DataflowRunner, "
              "FlinkRunner, SparkRunner, PrismRunner",
    "direct_num_workers": "parallel workers of the DirectRunner (default: one process per core, "
                          "as many as the inputs pay for)",
    "direct_running_mode": "how they run: in_memory, multi_threading or multi_processing",
}


_PLACEHOLDERS = {"out": "DIR", "config": "FILE", "spacy_model": "NAME", "theme_lexicon": "FILE",
                 "runner": "NAME"}


class _CompactHelp(argparse.HelpFormatter):
    """One line per option where it fits: its first spelling and a short
    placeholder (N, X, VALUE) instead of the upper-cased name."""

    def __init__(self, prog: str):
        width = min(100, shutil.get_terminal_size().columns) - 2
        super().__init__(prog, max_help_position=32, width=width)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return action.dest
        flags = action.option_strings
        # "-h, --help"; of an option's several long spellings, the first
        shown = ", ".join(flags[:2]) if not flags[0].startswith("--") else flags[0]
        if action.nargs == 0:
            return shown
        kind = getattr(action.type, "__name__", "")
        placeholder = (_PLACEHOLDERS.get(action.dest)
                       or {"int": "N", "float": "X"}.get(kind, "VALUE"))
        if action.choices:
            placeholder = "{" + ",".join(map(str, action.choices)) + "}"
        return f"{shown} {placeholder}"

    def _expand_help(self, action: argparse.Action) -> str:
        if action.dest in _SHORT_HELP:
            return _SHORT_HELP[action.dest]
        return super()._expand_help(action)


class _BeamHelp(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help_beam()
        parser.exit()


class OptionsParser(OneLineErrors, _BeamArgumentParser):
    """The parser of a command that runs a pipeline: it knows every Beam option
    (so ``--runner X`` never takes X for an input), errors in one line with a
    suggestion, and its ``--help`` lists only the command's own options (``own``:
    newsbeam's option classes it uses, plus what the command adds itself) grouped
    by stage, with the Beam options behind ``--help-beam``."""

    def __init__(self, *args, own: Sequence[type] = (NewsbeamOptions,), **kwargs):
        super().__init__(*args, **kwargs)
        self._own = tuple(own)
        self.add_argument("--help-beam", action=_BeamHelp, nargs=0,
                          help="list every Beam pipeline option (runners, workers, cloud)")

    def _groups(self) -> dict[str, list[argparse.Action]]:
        own = _dests(self._own)
        every = _dests(list(set(_option_classes())))
        groups: dict[str, list[argparse.Action]] = {}
        for action in self._actions:
            if (action.help or "").startswith("(internal)"):
                continue
            if action.dest in COMMON_BEAM:
                stage = "beam"
            elif action.dest in own:
                stage = help_stage(action.dest)
            elif action.dest in every:
                continue  # Beam's, or another command's: --help-beam
            else:
                stage = "run"  # what the command added (inputs, --no_progress, --help)
            groups.setdefault(stage, []).append(action)
        # the command's inputs first, the ways to more help last
        groups.get("run", []).sort(key=lambda a: (bool(a.option_strings), a.nargs == 0 and
                                                  a.dest in ("help", "help_beam")))
        return groups

    def format_help(self) -> str:
        formatter = _CompactHelp(self.prog)
        formatter.add_usage(self.usage, [], [])
        formatter.add_text(self.description)
        groups = self._groups()
        for stage in (*HELP_STAGES, "other", "beam"):
            if stage not in groups:
                continue
            title = "Beam (more with --help-beam)" if stage == "beam" else stage
            formatter.start_section(title)
            formatter.add_arguments(groups[stage])
            formatter.end_section()
        formatter.add_text("Settings also come from a TOML file (--config): one table per stage.")
        return formatter.format_help()

    def print_help_beam(self) -> None:
        self._print_message(argparse.ArgumentParser.format_help(self), sys.stdout)


def _option_classes(cls=PipelineOptions):
    for sub in cls.__subclasses__():
        yield sub
        yield from _option_classes(sub)
