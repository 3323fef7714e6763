"""The ``newsbeam`` command line.

``newsbeam backfill INPUT... --out DIR [--config FILE.toml] [Beam options]``
``newsbeam ingest FEED... --out DIR [--once | --interval S] [Beam options]``
``newsbeam explain FILE`` (what the cleaner keeps and drops of one input, and why)
``newsbeam query WAREHOUSE "SQL"``, ``newsbeam stats WAREHOUSE``,
``newsbeam report WAREHOUSE --out report.html``

Beam, spaCy and trafilatura are imported only when a command that needs them
runs: ``newsbeam --help`` and a mistyped command answer at once.
"""

from __future__ import annotations

import logging
import sys
from typing import Callable, Optional, Sequence

from newsbeam.pipeline.usage import UsageError, did_you_mean


def backfill(argv: Sequence[str]) -> int:
    import tempfile
    import time

    import newsbeam.transforms  # noqa: F401  (before Beam: see newsbeam.pipeline)
    import apache_beam as beam  # noqa: I001

    from newsbeam.pipeline.build import build_backfill
    from newsbeam.pipeline.command import (
        check_output,
        exclusive_run,
        parse_command,
        report_recovery,
        run_counters,
        run_with_progress,
        runs_locally,
        submit_detached,
        summarize,
        use_the_machine,
    )
    from newsbeam.pipeline.options import NewsbeamOptions
    from newsbeam.transforms import warehouse
    from newsbeam.transforms.read import InputError, expand_input, resolve_inputs

    args, options = parse_command(argv, "newsbeam backfill", "inputs",
                                  "Read files into the warehouse: clean, deduplicate, tag, write.")
    opts = options.view_as(NewsbeamOptions)
    try:
        patterns = resolve_inputs(args.inputs)
        check_output(opts.out)
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    if args.detach:
        # The job outlives this process: no lock is held; the commit step still
        # refuses to commit over a run that committed meanwhile.
        report_recovery(warehouse.recover(opts.out))
        p = beam.Pipeline(options=options)
        build_backfill(p, patterns, opts, warehouse.start(opts.out))
        return submit_detached(p)
    with exclusive_run(opts.out) as begin, \
            tempfile.TemporaryDirectory(prefix="newsbeam-progress-") as progress_dir:
        show = not args.no_progress and opts.progress_dir is None and runs_locally(options)
        total, workers = 0, 1
        if runs_locally(options):
            # Listing local inputs is cheap; it gives the bar its total and sizes the workers.
            files = {f.path: f.size for spec in patterns for f in expand_input(spec)}
            total = len(files)
            workers = use_the_machine(options, argv, total, sum(files.values()))
        if show:
            opts.progress_dir = progress_dir
        p = beam.Pipeline(options=options)
        run = begin()
        build_backfill(p, patterns, opts, run)
        t0 = time.monotonic()
        result, interrupted = run_with_progress(p, progress_dir if show else None, total)
        seconds = time.monotonic() - t0
    _, written = warehouse.committed_since(opts.out, run.base)
    print(summarize(written, run_counters(result), opts.out, seconds))
    if workers > 1:
        print(f"  ran on {workers} worker processes, one per core (--direct_num_workers=1 for one)")
    return 130 if interrupted else 0


def ingest(argv: Sequence[str]) -> int:
    import newsbeam.transforms  # noqa: F401  (before Beam: see newsbeam.pipeline)
    from newsbeam.pipeline.ingest import ingest

    return ingest(argv)


def explain(argv: Sequence[str]) -> int:
    import newsbeam.transforms  # noqa: F401  (before Beam: see newsbeam.pipeline)
    from newsbeam.pipeline.explain import explain

    return explain(argv)


def query(argv: Sequence[str]) -> int:
    from newsbeam.pipeline.query import query

    return query(argv)


def stats(argv: Sequence[str]) -> int:
    from newsbeam.pipeline.stats import stats

    return stats(argv)


def report(argv: Sequence[str]) -> int:
    from newsbeam.pipeline.report import report

    return report(argv)


# name -> (command, what it does in one line)
COMMANDS: dict[str, tuple[Callable[[Sequence[str]], int], str]] = {
    "backfill": (backfill, "read files into the warehouse: clean, deduplicate, tag, write"),
    "ingest": (ingest, "follow RSS/Atom/JSON feeds into the warehouse"),
    "explain": (explain, "show what the cleaner keeps and drops of one input file, and why"),
    "query": (query, "run SQL on the warehouse (views articles, duplicates, errors, stories)"),
    "stats": (stats, "summarize a whole warehouse: rows, duplicates, errors, dates, themes"),
    "report": (report, "write a self-contained HTML page of charts about a warehouse"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    head = ("usage: newsbeam COMMAND [ARGS...]   (newsbeam COMMAND --help: its options;"
            " newsbeam --version)")
    lines = [head, "", "commands:"]
    lines += [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ("-V", "--version", "version"):
        from importlib.metadata import version

        print(f"newsbeam {version('newsbeam')}")
        return 0
    if argv[0] not in COMMANDS:
        print(f"newsbeam: {did_you_mean('command', argv[0], COMMANDS)}"
              "  (newsbeam --help lists the commands)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Beam logs worker chatter at WARNING and a failing bundle's traceback at
    # ERROR; the failure itself still raises, and is reported once, below.
    logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    try:
        return COMMANDS[argv[0]][0](argv[1:])
    except UsageError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help of a command
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:
        from newsbeam.pipeline.command import describe_failure

        cause = describe_failure(exc)
        if cause is None:
            raise
        print(f"newsbeam: error: {cause}\nnewsbeam: a run that had not committed added "
              "nothing; a committed one is finished at the next start", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
