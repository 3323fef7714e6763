"""Fault injection for the warehouse: fail or kill the process at the Nth file
operation under a folder, in a real ``newsbeam`` process.

    python -m tests.faultfs --root W --at N --fault enospc -- backfill IN --out W
    python -m tests.faultfs --root W --trace ops.txt -- backfill IN --out W

The wrapper patches what every write of the warehouse goes through -- Python's
``open``/``io.open`` for writing and the writes to the files it opens,
``os.rename``/``replace``/``link``/``makedirs``/``mkdir``/``unlink``/``remove``
and ``shutil.rmtree`` -- and counts the calls on paths under ``--root``.
``--trace`` writes one ``<n> <operation> <path under root>`` line per call and
injects nothing, so a test can pick its fault points from a clean run.
Faults: ``enospc``, ``eio``, ``eacces`` raise the OSError a full disk, a failing
device or a permission change would (with the path); ``kill`` SIGKILLs the
whole process group, as ``kill -9 -PGID`` does.

The pipeline must run in this process (the default DirectRunner, one worker),
so every operation is seen.
"""

from __future__ import annotations

import argparse
import builtins
import errno
import io
import os
import shutil
import signal
import sys

ERRNOS = {"enospc": errno.ENOSPC, "eio": errno.EIO, "eacces": errno.EACCES}


class Injector:
    def __init__(self, root: str, at: int = 0, fault: str = "", trace: str = ""):
        self.root = os.path.realpath(root) + os.sep
        self.at, self.fault = at, fault
        self.count = 0
        self.trace = open(trace, "w", buffering=1) if trace else None

    def check(self, operation: str, path) -> None:
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        full = os.path.realpath(os.fsdecode(path))
        if not (full + os.sep).startswith(self.root):
            return
        self.count += 1
        if self.trace:
            self.trace.write(f"{self.count} {operation} {full[len(self.root):] or '.'}\n")
        if self.count != self.at:
            return
        if self.fault == "kill":
            os.killpg(os.getpgrp(), signal.SIGKILL)
        code = ERRNOS[self.fault]
        raise OSError(code, os.strerror(code), full)


class _Writes:
    """A file opened for writing whose every write is an operation."""

    def __init__(self, inner, path, injector: Injector):
        self._inner, self._path, self._injector = inner, path, injector

    def write(self, data):
        self._injector.check("write", self._path)
        return self._inner.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._inner.close()

    def __iter__(self):
        return iter(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def install(injector: Injector) -> None:
    real_open = io.open

    def opened(file, mode="r", *args, **kwargs):
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writing:
            injector.check("create", file)
        handle = real_open(file, mode, *args, **kwargs)
        return _Writes(handle, file, injector) if writing else handle

    io.open = builtins.open = opened

    def wrap(module, name, operation, arg=0):
        real = getattr(module, name)

        def patched(*args, **kwargs):
            injector.check(operation, args[arg] if len(args) > arg else None)
            return real(*args, **kwargs)

        setattr(module, name, patched)

    # A rename or link is traced by its destination: where the file ends up.
    for name in ("rename", "replace"):
        wrap(os, name, "rename", arg=1)
    wrap(os, "link", "link", arg=1)
    wrap(os, "makedirs", "mkdir")
    wrap(os, "mkdir", "mkdir")
    wrap(os, "unlink", "delete")
    wrap(os, "remove", "delete")
    wrap(shutil, "rmtree", "delete")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--at", type=int, default=0, help="1-based operation to fault")
    parser.add_argument("--fault", choices=[*ERRNOS, "kill"], default="kill")
    parser.add_argument("--trace", default="")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    install(Injector(args.root, args.at, args.fault, args.trace))
    from newsbeam.pipeline.cli import main as newsbeam

    return newsbeam(command)


if __name__ == "__main__":
    sys.exit(main())
