"""Run a command and measure its wall time and the peak memory of its process tree.

Peak memory is the largest sum of resident set sizes over the process and all
its descendants (Beam's worker processes included), sampled from ``/proc``
every ``interval`` seconds — the figure that decides how many workers fit on a
machine. Linux only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Measured:
    seconds: float
    peak_rss: int  # bytes, whole process tree
    stdout: str
    stderr: str
    returncode: int


def proc_stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds used so far) of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        stat = handle.read()
    # Fields after the parenthesised command name: ppid is the 2nd, utime/stime the 12th/13th.
    fields = stat[stat.rindex(b")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def snapshot() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds) of every process on the machine."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                procs[int(name)] = proc_stat(int(name))
            except (OSError, ValueError, IndexError):
                continue  # exited while we looked
    return procs


def descendants(pid: int, procs: dict[int, tuple[int, float]]) -> list[int]:
    """``pid`` and every process below it in a ``snapshot``."""
    children: dict[int, list[int]] = {}
    for child, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(child)
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def tree_rss(pid: int) -> int:
    total = 0
    for p in descendants(pid, snapshot()):
        try:
            with open(f"/proc/{p}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def newsbeam(args: list[str]) -> Measured:
    """``python -m pipeline.cli ARGS`` from the repository root, measured; exits on failure."""
    got = run([sys.executable, "-m", "newsbeam.pipeline.cli", *args], cwd=str(REPO))
    if got.returncode != 0:
        raise SystemExit(f"newsbeam {args[0]} failed ({got.returncode}):\n{got.stderr[-4000:]}")
    return got


def run(cmd: Sequence[str], env: Optional[dict] = None, cwd: Optional[str] = None,
        interval: float = 0.05, timeout: float = 3600) -> Measured:
    start = time.monotonic()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    import threading

    out: dict[str, str] = {}

    def drain(name, stream):
        out[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    try:
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            if time.monotonic() - start > timeout:
                proc.kill()
                break
            time.sleep(interval)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    seconds = time.monotonic() - start
    for r in readers:
        r.join()
    return Measured(seconds, peak, out.get("stdout", ""), out.get("stderr", ""), proc.returncode)
