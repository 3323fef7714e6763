"""What every ``newsbeam`` command shares: parsing its arguments into pipeline
options, the writer lock, running a pipeline with a progress bar and Ctrl-C
handling, and the summary printed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
import threading
import uuid
from typing import Callable, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
)

from newsbeam.pipeline.options import (
    NewsbeamOptions,
    OptionsError,
    OptionsParser,
    _option_classes,
    make_options,
)
from newsbeam.pipeline.usage import UsageError, check_spacy_model
from newsbeam.transforms import warehouse
from newsbeam.transforms.progress import read_progress

__all__ = ["UsageError"]  # defined in pipeline.usage, which needs no Beam; imported from here too


_POSITIONAL_HELP = {"inputs": "files, folders or globs to read",
                    "feeds": "feed URLs, or .txt / .opml files listing them"}


def _command_parser(prog: str, positional: str, help_text: str,
                    own: Sequence[type] = (NewsbeamOptions,)) -> argparse.ArgumentParser:
    # Every Beam option is known to this parser, so "--runner X" never takes X
    # for an input and a misspelt option is an error instead of being ignored.
    parser = OptionsParser(prog=prog, description=help_text, allow_abbrev=False, own=own,
                           usage=f"{prog} {positional.upper()}... --out DIR [options]")
    for cls in set(_option_classes()):
        cls._add_argparse_args(parser)
    parser.add_argument(positional, nargs="+", help=_POSITIONAL_HELP.get(positional))
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    parser.add_argument("--detach", action="store_true",
                        help="submit the job and return without waiting (remote runners)")
    return parser


CLI_ONLY_FLAGS = ("--no_progress", "--detach")


def runner_name(options: PipelineOptions) -> str:
    """The runner as Beam resolves its name: "DirectRunner", "direct" -> "direct"."""
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    name = runner if isinstance(runner, str) else type(runner).__name__
    return name.lower().removesuffix("runner")


def runs_locally(options: PipelineOptions) -> bool:
    """Whether the workers share this machine (and so the progress directory)."""
    name = runner_name(options)
    if name in ("direct", "prism", "fnapi", "switchingdirect", "bundlebased"):
        return True
    return name == "portable" and options.view_as(PortableOptions).job_endpoint == "embed"


# Each worker process loads spaCy and trafilatura's sandbox (a few seconds): below this
# many input files (or megabytes) per extra worker, one process finishes first.
FILES_PER_WORKER = 32
MB_PER_WORKER = 8


def use_the_machine(options: PipelineOptions, argv: Sequence[str], files: int, size: int) -> int:
    """On the local runner, unless the user chose (``--direct_num_workers``,
    ``--direct_running_mode``), run one worker process per core, as many as the
    inputs (``files``, ``size`` bytes) pay for. Returns the number of workers."""
    direct = options.view_as(DirectOptions)
    chosen = any(a.startswith(("--direct_num_workers", "--direct_running_mode")) for a in argv)
    if chosen or runner_name(options) != "direct":
        return max(1, direct.direct_num_workers or 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = max(1, min(cores, max(files // FILES_PER_WORKER, size // (MB_PER_WORKER << 20))))
    if workers > 1:
        direct.direct_num_workers = workers
        direct.direct_running_mode = "multi_processing"
    return workers


def submit_detached(p: beam.Pipeline) -> int:
    result = p.run()
    job_id = getattr(result, "job_id", None)
    print(f"newsbeam: submitted job {job_id() if callable(job_id) else job_id or ''}".rstrip())
    return 0


def check_output(out: Optional[str]) -> None:
    if not out:
        raise UsageError("--out is required: the warehouse directory to write")
    probe = FileSystems.join(out, f".newsbeam-write-test-{uuid.uuid4().hex}")
    try:
        try:
            FileSystems.mkdirs(out)
        except OSError:
            pass
        with FileSystems.create(probe) as handle:
            handle.write(b"ok")
        FileSystems.delete([probe])
    except Exception as exc:  # any filesystem's failure means the same to the user
        raise UsageError(f"cannot write to output {out}: {exc}") from exc


def _worker_processes(p: beam.Pipeline) -> bool:
    """Whether the DirectRunner will start SDK worker subprocesses of its own."""
    return p.options.view_as(DirectOptions).direct_running_mode == "multi_processing"


@contextlib.contextmanager
def _worker_output_to_log(enabled: bool):
    """Send the output of worker subprocesses to a log file instead of the terminal.

    The DirectRunner's worker processes log every start-up step at INFO on the
    stderr they inherit; Beam offers no switch for it. The descriptor is swapped
    for the run, and our own stream (for the progress bar) keeps the terminal.
    Yields (terminal stream, log path or None).
    """
    if not enabled:
        yield sys.stderr, None
        return
    sys.stderr.flush()
    log = tempfile.NamedTemporaryFile(prefix="newsbeam-workers-", suffix=".log", delete=False)
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w")
    os.dup2(log.fileno(), 2)
    try:
        yield terminal, log.name
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        terminal.close()
        log.close()


def run_with_progress(p: beam.Pipeline, progress_dir: Optional[str], total_files: int,
                       run: Optional[Callable] = None):
    """Run the pipeline (``run()``, default ``p.run()``), drawing a progress bar
    from the workers' tick files.

    Returns ``(result, interrupted)``. A first Ctrl-C lets the run finish, so what
    is in flight is written (``interrupted`` is then True); a second one aborts.
    """
    outcome: dict = {}
    # An Event, not Thread.join(timeout): a Ctrl-C landing inside join() marks
    # the still-running thread as stopped (CPython bpo-45274).
    done = threading.Event()

    def target():
        try:
            result = (run or p.run)()
            result.wait_until_finish()
            outcome["result"] = result
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    with _worker_output_to_log(_worker_processes(p)) as (terminal, log_path):
        interrupts = 0

        def on_ctrl_c(signum, frame):
            # A flag, not an exception: a KeyboardInterrupt raised inside a
            # lock or Event wait can leave it half-released and hang the run.
            nonlocal interrupts
            interrupts += 1
            if interrupts > 1:
                raise KeyboardInterrupt
            print("\nnewsbeam: interrupted: writing what is in flight "
                  "(Ctrl-C again to abort)", file=terminal, flush=True)

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_ctrl_c) if in_main else None
        bar = None
        try:
            worker = threading.Thread(target=target, name="newsbeam-pipeline", daemon=True)
            worker.start()
            if progress_dir:
                from tqdm import tqdm

                bar = tqdm(total=total_files, unit="file", desc="reading", file=terminal,
                           dynamic_ncols=True, disable=not terminal.isatty())
            while not done.wait(0.5):
                if bar is not None:
                    counts = read_progress(progress_dir)
                    bar.n = min(counts.get("read", 0), bar.total or 0) if total_files else 0
                    bar.set_postfix(tagged=counts.get("tagged", 0), refresh=False)
                    bar.refresh()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            if bar is not None:
                bar.close()
        interrupted = interrupts > 0
    if "error" in outcome:
        if log_path:
            print(f"newsbeam: the workers' log is in {log_path}", file=sys.stderr)
        raise outcome["error"]
    if log_path:
        os.unlink(log_path)
    return outcome["result"], interrupted


def run_counters(result) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for c in result.metrics().query()["counters"]:
        value = c.committed if c.committed is not None else c.attempted
        key = (c.key.metric.namespace, c.key.metric.name)
        counts[key] = counts.get(key, 0) + int(value or 0)
    return counts


def summarize(written: list[warehouse.StagedFile], counters: dict[tuple[str, str], int], out: str,
              seconds: float) -> str:
    """The short report printed at the end of a run: what the log says was
    ``written`` (``warehouse.committed_since``), and from the counters what was
    not: inputs already recorded, error reasons, pages not used, rows that kept
    little of their input (``clean/low_kept:<text_source>``)."""
    partitions: dict[tuple[str, str], int] = {}
    tables: dict[str, int] = {}
    for f in written:
        tables[f.table] = tables.get(f.table, 0) + f.rows
        if f.table == "articles":  # articles/date=D/theme=T/part-….parquet
            date, theme = (part.split("=", 1)[1] for part in f.path.split("/")[1:3])
            partitions[date, theme] = partitions.get((date, theme), 0) + f.rows
    lines = [f"newsbeam: wrote {tables.get('articles', 0)} article rows to {out} in {seconds:.1f}s"]
    for date, theme in sorted(partitions):
        lines.append(f"  {date}  {theme:<36} {partitions[date, theme]:>6}")
    already = sum(v for (ns, n), v in counters.items()
                  if n in ("already_in_warehouse", "already_recorded"))
    lines.append(f"  duplicates: {tables.get('duplicates', 0)}   errors: {tables.get('errors', 0)}"
                 f"   already recorded: {already}")
    undated = counters.get(("write", "undated"), 0)
    if undated:
        lines.append(f"  no publication date found: {undated} (filed under the ingestion date, "
                     "date_source = 'ingested')")
    reasons = sorted((n.split(":", 1)[1], v) for (ns, n), v in counters.items()
                     if ns == "write" and n.startswith("reason:") and v)
    if reasons:
        lines.append("  error reasons: " + ", ".join(f"{r} {v}" for r, v in reasons))
    unused = sorted((n.split(":", 1)[1], v) for (ns, n), v in counters.items()
                    if ns == "fetch" and n.startswith("page:") and v)
    if unused:  # feed items whose page could not be used: rows from their summaries
        lines.append("  pages not used: " + ", ".join(f"{r} {v}" for r, v in unused))
    if tables.get("stories"):
        story = {n: v for (ns, n), v in counters.items() if ns == "stories"}
        lines.append(f"  stories: {tables['stories']} touched, {story.get('new_stories', 0)} new, "
                     f"{story.get('joined_earlier', 0)} articles joined earlier runs' stories, "
                     f"{tables.get('story_merges', 0)} merges")
    low = sorted((n.split(":", 1)[1], v) for (ns, n), v in counters.items()
                 if ns == "clean" and n.startswith("low_kept:") and v)
    if low:  # rows whose cleaning removed more than usual: worth a look
        lines.append("  kept little of their input: " + ", ".join(f"{s} {v}" for s, v in low)
                     + "  (column kept_ratio; newsbeam explain FILE shows each line's fate)")
    return "\n".join(lines)


def parse_command(argv: Sequence[str], prog: str, positional: str, help_text: str,
                  own: Sequence[type] = (NewsbeamOptions,)
                  ) -> tuple[argparse.Namespace, PipelineOptions]:
    """A command's arguments, and the pipeline options from the rest (config merged).

    ``own``: the newsbeam option classes the command uses, which its ``--help``
    lists. A spaCy model that is not installed stops a local run here, before
    anything starts (a remote runner's workers have their own packages).
    """
    args = _command_parser(prog, positional, help_text, own).parse_args(argv)
    given = set(getattr(args, positional))
    beam_argv = [a for a in argv if a not in given and a not in CLI_ONLY_FLAGS]
    try:
        options = make_options(beam_argv, args.config)
    except OptionsError as exc:
        raise UsageError(str(exc)) from exc
    if runs_locally(options):
        check_spacy_model(options.view_as(NewsbeamOptions).spacy_model)
    return args, options


def report_recovery(recovery: warehouse.Recovery) -> None:
    if recovery.rolled_forward or recovery.removed:
        print(f"newsbeam: settled interrupted runs: {recovery.rolled_forward} committed run(s) "
              f"finished publishing, {recovery.removed} uncommitted run(s) removed",
              file=sys.stderr)


@contextlib.contextmanager
def exclusive_run(out: str):
    """Hold the writer lock and settle earlier interrupted runs, for one command.

    Yields a function that starts a run (``warehouse.start``). Runs are settled
    again before the lock is let go, so no staged file lingers: a failed run's
    are removed when it had not committed and published when it had.
    """
    try:
        with warehouse.writer_lock(out):
            report_recovery(warehouse.recover(out))
            try:
                yield lambda: warehouse.start(out)
            except BaseException:
                with contextlib.suppress(Exception):
                    warehouse.recover(out)
                raise
            # A run with nothing to commit (all recorded already) leaves its marker.
            warehouse.recover(out)
    except warehouse.WriterBusy as exc:
        raise UsageError(str(exc)) from exc


_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] ([^\n:']+)(?:: '([^'\n]+)')?")


def describe_failure(exc: BaseException) -> Optional[str]:
    """The OS error that failed a run, as ``No space left on device: /path``.

    A DirectRunner with worker processes reports only the workers' traceback
    text, so the text is searched when no OSError is attached.
    """
    if isinstance(exc, warehouse.WarehouseError):
        return str(exc)
    inner = warehouse.os_error(exc)
    if isinstance(inner, OSError) and inner.errno is not None:
        return warehouse.describe(inner)
    found = _ERRNO_TEXT.findall(str(exc))
    if found:
        _, text, path = found[-1]
        return f"{text}: {path}" if path else text
    return None
