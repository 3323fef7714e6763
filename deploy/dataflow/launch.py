"""Dataflow Flex Template entry point: template parameters -> a ``newsbeam`` command line.

The Flex Template launcher runs this file as ``python launch.py --name=value ...``
with one flag per template parameter (plus the Dataflow options it adds, such
as ``--project``, ``--region``, ``--temp_location``, ``--sdk_container_image``).
Templates have no positional arguments, so the command comes from
``NEWSBEAM_COMMAND`` (set per template with ``gcloud dataflow flex-template
build --env``) and the inputs from a comma-separated ``--inputs`` (backfill) or
``--feeds`` (ingest) parameter. Every other flag is passed to the CLI unchanged,
so the template accepts exactly what ``newsbeam`` accepts.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

# Parameters that carry the positional arguments of each command.
POSITIONAL = {"backfill": "inputs", "ingest": "feeds"}
# Added to every launch: nobody watches the launcher's terminal for a progress bar.
EXTRA = {"backfill": ["--no_progress"], "ingest": []}


def to_cli(command: str, argv: Sequence[str]) -> list[str]:
    """The ``newsbeam`` argv for a template launch."""
    if command not in POSITIONAL:
        raise SystemExit(f"launch.py: unknown NEWSBEAM_COMMAND {command!r}; "
                         f"expected one of {sorted(POSITIONAL)}")
    flag = f"--{POSITIONAL[command]}"
    positional: list[str] = []
    rest: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == flag and args:
            arg = f"{flag}={args.pop(0)}"
        if arg.startswith(flag + "="):
            positional.extend(p.strip() for p in arg.split("=", 1)[1].split(",") if p.strip())
        else:
            rest.append(arg)
    if not positional:
        raise SystemExit(f"launch.py: the {flag[2:]} parameter is required")
    return [command, *positional, *rest, *EXTRA[command]]


if __name__ == "__main__":
    from newsbeam.pipeline.cli import main

    sys.exit(main(to_cli(os.environ.get("NEWSBEAM_COMMAND", "backfill"), sys.argv[1:])))
