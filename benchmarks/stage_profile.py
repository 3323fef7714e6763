"""Where a backfill's time goes, stage by stage and process by process.

    python -m benchmarks.stage_profile --n 2000 --workers 1
    python -m benchmarks.stage_profile --n 2000 --workers 2

Runs ``newsbeam backfill`` in this process on a corpus of N articles (the
throughput benchmark's, ``benchmarks/lib/corpus.py``) and prints, for each
phase of the run, its wall time and the CPU seconds spent in it by each
process of the tree: the runner (this process), each Beam worker process and
each cleaning child. A phase is a fused stage of the local runner, named by
the step that dominates it (read + clean, dedup, tag, write); the local
runner executes one stage at a time, so the phases follow one another.

This is how the scale-out issue's speed-up was diagnosed: a phase whose wall
time does not halve with two workers while its CPU is spread unevenly is a
balance problem; one whose CPU grows is overhead. It hooks the local runner's
private ``FnApiRunner._execute_bundle`` to learn which stage is running, so it
may need adjusting when Beam is upgraded. Linux only (CPU times from /proc).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from apache_beam.runners.portability.fn_api_runner import fn_runner

from benchmarks.lib import corpus, measure

# Fused stage names contain the names of the steps in them; the first match wins.
# Tagging and the story stage's first steps (vectors, blocking keys) fuse into one stage,
# counted as tag; "stories" is the rest of the story stage (benchmarks/throughput.py
# --stories measures the whole stage, with and without it).
PHASES = (("JoinCopies", "tag"), ("AssignStories", "stories"), ("StoryOfDuplicates", "stories"), ("OncePerPath", "read+clean"), ("ListInputs", "list inputs"),
          ("ReadIndex", "read index"), ("WriteArticles", "write"), ("WriteIndex", "write"),
          ("Deduplicate", "dedup"), ("WriteWarehouse", "write"))


def phase_of(stage_name: str) -> str:
    return next((phase for key, phase in PHASES if key in stage_name), "other")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Sampler:
    """Samples the CPU time of every process in this process's tree."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.phase = "start-up"
        self.cpu: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.wall: collections.Counter = collections.Counter()
        self._roles: dict[int, str] = {}
        self._workers = 0
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _role(self, pid: int, ppid: int) -> str:
        if pid not in self._roles:
            if pid == os.getpid():
                self._roles[pid] = "runner"
            elif "sdk_worker_main" in _cmdline(pid):
                self._workers += 1
                self._roles[pid] = f"worker{self._workers}"
            else:
                parent = self._roles.get(ppid, "runner")
                self._roles[pid] = f"{parent}'s child"
        return self._roles[pid]

    def _sample(self, phase: str) -> None:
        procs = measure.snapshot()
        for pid in measure.descendants(os.getpid(), procs):
            if pid not in procs:
                continue
            ppid, cpu = procs[pid]
            self.cpu[phase][self._role(pid, ppid)] += cpu - self._last.get(pid, 0.0)
            self._last[pid] = cpu

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.interval):
            now, phase = time.monotonic(), self.phase
            self.wall[phase] += now - last
            last = now
            self._sample(phase)
        self.wall[self.phase] += time.monotonic() - last
        self._sample(self.phase)

    def __enter__(self) -> "Sampler":
        self._sample("before")  # CPU spent before the run is not counted
        self.cpu.pop("before", None)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def phases_reported_to(sampler: Sampler):
    original = fn_runner.FnApiRunner._execute_bundle

    def execute(self, context, bundle_manager, bundle_input):
        sampler.phase = phase_of(bundle_manager.stage.name)
        try:
            return original(self, context, bundle_manager, bundle_input)
        finally:
            sampler.phase = "between stages"

    fn_runner.FnApiRunner._execute_bundle = execute
    try:
        yield
    finally:
        fn_runner.FnApiRunner._execute_bundle = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="corpus size")
    parser.add_argument("--workers", type=int, default=2, help="1: DirectRunner; >1: multi_processing")
    parser.add_argument("--topics", default=str(corpus.DEFAULT_TOPICS))
    args = parser.parse_args(argv)

    from newsbeam.pipeline.cli import main as newsbeam

    work = Path(tempfile.mkdtemp(prefix="newsbeam-stages-"))
    try:
        corpus.write(work / "in", corpus.items(args.n, corpus.load_pool(Path(args.topics))))
        cmd = ["backfill", str(work / "in"), "--out", str(work / "out"), "--no_progress"]
        if args.workers > 1:
            cmd += ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
        start = time.monotonic()
        with Sampler() as sampler, phases_reported_to(sampler), \
                contextlib.redirect_stdout(io.StringIO()) as summary:
            code = newsbeam(cmd)
        total = time.monotonic() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        raise SystemExit(f"backfill failed ({code}):\n{summary.getvalue()[-2000:]}")

    print(f"N={args.n}, {args.workers} worker(s): {total:.1f} s in newsbeam's main() "
          f"(interpreter start-up not included)")
    print(f"{'phase':<16}{'wall s':>8}{'CPU s':>8}  CPU seconds per process")
    # Number the workers that did work 1, 2, ... (Beam may start helper processes too).
    busy = sorted({r for roles in sampler.cpu.values() for r, sec in roles.items()
                   if sec >= 0.05 and r.startswith("worker") and "'" not in r}, key=lambda r: int(r[6:]))
    rename = {old: f"worker{i}" for i, old in enumerate(busy, 1)}

    def label(role: str) -> str:
        head, sep, tail = role.partition("'")
        return rename.get(head, head) + sep + tail

    order = ["start-up", "list inputs", "read index", "read+clean", "dedup", "tag", "write", "other", "between stages"]
    for phase in sorted(sampler.wall, key=lambda p: order.index(p) if p in order else len(order)):
        roles = sampler.cpu.get(phase, {})
        detail = "  ".join(f"{label(role)} {sec:.1f}" for role, sec in sorted(roles.items()) if sec >= 0.05)
        print(f"{phase:<16}{sampler.wall[phase]:>8.1f}{sum(roles.values()):>8.1f}  {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
