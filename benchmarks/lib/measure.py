"""Run a command and measure its wall time and the peak memory of its process tree.

Peak memory is the largest sum of resident set sizes over the process and all
its descendants (Beam's worker processes included), sampled from ``/proc``
every ``interval`` seconds — the figure that decides how many workers fit on a
machine. Linux only.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Optional, Sequence

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    seconds: float
    peak_rss: int  # bytes, whole process tree
    stdout: str
    stderr: str
    returncode: int


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the parenthesised command name; ppid is the second.
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


def tree_rss(pid: int) -> int:
    tree = _children()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, []))
        try:
            with open(f"/proc/{p}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


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
