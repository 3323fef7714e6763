"""The ``newsbeam`` command line.

``newsbeam backfill INPUT... --out DIR [--config FILE.toml] [Beam options]``
``newsbeam ingest FEED... --out DIR [--once | --interval S] [Beam options]``
``newsbeam explain FILE`` (what the cleaner keeps and drops of one input, and why)
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from typing import Optional, Sequence

import apache_beam as beam

from newsbeam.pipeline.build import build_backfill
from newsbeam.pipeline.command import (
    UsageError,
    check_output,
    describe_failure,
    exclusive_run,
    parse_command,
    report_recovery,
    run_counters,
    run_with_progress,
    runs_locally,
    submit_detached,
    summarize,
)
from newsbeam.pipeline.explain import explain
from newsbeam.pipeline.ingest import ingest
from newsbeam.pipeline.options import NewsbeamOptions
from newsbeam.transforms import warehouse
from newsbeam.transforms.read import InputError, expand_input, resolve_inputs


def backfill(argv: Sequence[str]) -> int:
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
        total = 0
        if show:
            opts.progress_dir = progress_dir
            # Listing local inputs is cheap; it gives the bar its total.
            total = len({f.path for spec in patterns for f in expand_input(spec)})
        p = beam.Pipeline(options=options)
        run = begin()
        build_backfill(p, patterns, opts, run)
        t0 = time.monotonic()
        result, interrupted = run_with_progress(p, progress_dir if show else None, total)
        seconds = time.monotonic() - t0
    _, written = warehouse.committed_since(opts.out, run.base)
    print(summarize(written, run_counters(result), opts.out, seconds))
    return 130 if interrupted else 0


COMMANDS = {"backfill": backfill, "ingest": ingest, "explain": explain}


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Beam logs worker chatter at WARNING and a failing bundle's traceback at
    # ERROR; the failure itself still raises, and is reported once, below.
    logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        wanted = bool(argv) and argv[0] in ("-h", "--help")
        print("usage: newsbeam {" + ",".join(COMMANDS) + "} ...  (newsbeam COMMAND --help)",
              file=sys.stdout if wanted else sys.stderr)
        return 0 if wanted else 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except UsageError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        cause = describe_failure(exc)
        if cause is None:
            raise
        print(f"newsbeam: error: {cause}\nnewsbeam: a run that had not committed added "
              "nothing; a committed one is finished at the next start", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
