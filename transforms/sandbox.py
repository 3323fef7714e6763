"""Fragile work (HTML extraction, feed parsing) in a child process, under a time
limit per call and a memory limit for the child.

``Sandbox(timeout, memory_bytes, warm_up).call(fn, *args)`` returns ``fn(*args)``
computed in the child, re-raises what ``fn`` raised, or raises
:class:`SandboxFailure` with ``reason``:

* ``timeout``: the call took longer than ``timeout`` seconds; the child is
  killed and the next call starts a new one;
* ``memory_limit``: ``fn`` ran out of the child's ``memory_bytes``;
* ``crashed``: the child died (or never started).

``fn`` and ``warm_up`` are module-level functions: they travel pickled, by
reference, so the child imports their modules. ``warm_up`` runs before the
child counts as started: give one from ``fn``'s module (and let it import what
``fn`` needs), so that no import is charged to a call's time limit. The child is a plain subprocess talking pickled frames on its
stdin/stdout, not multiprocessing: forking a threaded Beam worker is unsafe,
and ``spawn`` re-imports the caller's ``__main__`` (a benchmark, the Beam
launcher). One per DoFn instance, started in ``setup``.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
from typing import Any, Callable, Optional

START_SECONDS = 120.0  # a cold child imports lxml, trafilatura, feedparser...


class SandboxFailure(Exception):
    """The child could not give an answer: ``reason`` is ``timeout``,
    ``memory_limit`` or ``crashed``; ``detail`` says more."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self):
        return type(self), (self.reason, self.detail)


def _send(stream, obj) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def _recv(stream):
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("sandbox pipe closed")
    (size,) = struct.unpack(">Q", header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("sandbox pipe closed")
    return pickle.loads(payload)


def _answer(fn: Callable, args: tuple, memory_bytes: Optional[int]) -> tuple:
    try:
        return ("ok", fn(*args))
    except MemoryError:
        return ("failed", SandboxFailure("memory_limit", f"needed more than {memory_bytes} bytes"))
    except BaseException as exc:  # noqa: BLE001 - the caller decides what a failure means
        return ("raised", exc)


def _child_main() -> None:
    """The child's loop: settings first, then one answer per request."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    memory_bytes, warm_up = _recv(stdin)
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if warm_up is not None:
        warm_up()  # imports paid once, not by the first call's time limit
    _send(stdout, "ready")
    while True:
        try:
            fn, args = _recv(stdin)
        except EOFError:
            return
        answer = _answer(fn, args, memory_bytes)
        try:
            _send(stdout, answer)
        except MemoryError:
            _send(stdout, ("failed", SandboxFailure("memory_limit", "the result is too large")))
        except Exception as exc:  # an exception that cannot be pickled
            _send(stdout, ("failed", SandboxFailure("crashed", f"{type(exc).__name__}: {exc}"
                                                    f" (answering {answer[0]})")))


class Sandbox:
    """A child process that runs calls under limits (see the module docstring).

    ``timeout=None`` runs calls in this process, without limits (benchmarks).
    """

    def __init__(self, timeout: Optional[float], memory_bytes: Optional[int] = None,
                 warm_up: Optional[Callable[[], Any]] = None):
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self.warm_up = warm_up
        self._proc: Optional[subprocess.Popen] = None

    def start(self) -> "Sandbox":
        if self.timeout is None or (self._proc is not None and self._proc.poll() is None):
            return self
        self.close()
        # Functions travel by reference: the child imports them from where we do.
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from newsbeam.transforms.sandbox import _child_main; "
                                   "_child_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            _send(self._proc.stdin, (self.memory_bytes, self.warm_up))
            ready, _, _ = select.select([self._proc.stdout], [], [], START_SECONDS)
            if ready and _recv(self._proc.stdout) == "ready":
                return self
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        code = self._proc.poll()
        self.close()
        raise SandboxFailure("crashed", f"the worker process did not start (exit code {code})")

    def call(self, fn: Callable, *args):
        if self.timeout is None:
            return fn(*args)
        self.start()
        try:
            _send(self._proc.stdin, (fn, args))
            ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout)
            if not ready:
                self.close()
                raise SandboxFailure("timeout", f"took longer than {self.timeout:g} s")
            status, value = _recv(self._proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            code = _exit_code(self._proc)
            self.close()
            raise SandboxFailure("crashed", f"the worker process died (exit code {code}): "
                                            f"{type(exc).__name__}") from exc
        if status == "ok":
            return value
        raise value

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _exit_code(proc) -> Optional[int]:
    """The exit code of a child whose pipe just closed. The pipe can close a
    moment before the child is reaped, so wait briefly rather than poll once."""
    if proc is None:
        return None
    try:
        return proc.wait(2)
    except subprocess.TimeoutExpired:
        return None
