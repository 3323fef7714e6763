"""transforms.sandbox: calls in a child process under a time and a memory limit."""

import os
import time

import pytest

from newsbeam.transforms.errors import Rejected
from newsbeam.transforms.sandbox import Sandbox, SandboxFailure


def ready():
    """Imports this module in the child before it counts as started."""


def double(x):
    return 2 * x


def pid():
    return os.getpid()


def sleep(seconds):
    time.sleep(seconds)


def die():
    os._exit(3)


def allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))


def reject():
    raise Rejected("no_article", "nothing here")


def test_a_call_runs_in_a_child_and_the_child_is_reused():
    with Sandbox(timeout=30) as box:
        assert box.call(double, 21) == 42
        child = box.call(pid)
        assert child != os.getpid() and box.call(pid) == child


def test_a_call_past_its_time_limit_is_stopped_and_the_next_call_gets_a_new_child():
    with Sandbox(timeout=0.5, warm_up=ready) as box:
        first = box.call(pid)
        started = time.monotonic()
        with pytest.raises(SandboxFailure) as failure:
            box.call(sleep, 30)
        assert failure.value.reason == "timeout" and time.monotonic() - started < 10
        assert box.call(double, 2) == 4 and box.call(pid) != first


def test_a_dead_child_is_a_crash_and_is_replaced():
    with Sandbox(timeout=30) as box:
        with pytest.raises(SandboxFailure) as failure:
            box.call(die)
        assert failure.value.reason == "crashed" and "exit code 3" in failure.value.detail
        assert box.call(double, 3) == 6


def test_the_memory_limit_holds_in_the_child_only():
    with Sandbox(timeout=30, memory_bytes=1024 * 1024 * 1024) as box:
        with pytest.raises(SandboxFailure) as failure:
            box.call(allocate, 2048)
        assert failure.value.reason == "memory_limit"
        assert box.call(allocate, 64) == 64 * 1024 * 1024
    assert allocate(1100) == 1100 * 1024 * 1024  # this process has no such limit


def test_what_the_function_raises_is_raised_here_intact():
    with Sandbox(timeout=30) as box:
        with pytest.raises(Rejected) as raised:
            box.call(reject)
        assert (raised.value.reason, raised.value.detail) == ("no_article", "nothing here")


def test_without_a_time_limit_calls_run_in_this_process():
    box = Sandbox(timeout=None)
    assert box.call(pid) == os.getpid()
