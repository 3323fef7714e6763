"""Objects lent to DoFns and kept warm across pipeline runs (transforms/warm.py)."""

import threading

import apache_beam as beam
import pytest

from newsbeam.transforms import warm

built: list = []
closed: list = []


class _Resource:
    def __init__(self):
        built.append(self)


class _UsesResource(beam.DoFn):
    def setup(self):
        self.resource = warm.acquire("resource", _Resource)

    def process(self, x):
        yield id(self.resource)

    def teardown(self):
        warm.release("resource", self.resource, closed.append)


def _run() -> set:
    ids = set()
    with beam.Pipeline() as p:
        _ = (p | beam.Create([1, 2, 3]) | beam.ParDo(_UsesResource())
             | beam.Map(lambda i, ids=ids: ids.add(i)))
    return ids


@pytest.fixture(autouse=True)
def _clear():
    built.clear()
    closed.clear()


def test_outside_keep_warm_each_run_builds_and_closes_its_own():
    _run()
    _run()
    assert len(built) == 2 and closed == built


def test_inside_keep_warm_later_runs_reuse_the_first_runs_object_then_close_it():
    with warm.keep_warm():
        first, second, third = _run(), _run(), _run()
        assert len(built) == 1 and first == second == third and closed == []
        assert warm.idle_count() == 1
    assert closed == built  # closed once, when the follower stops
    assert warm.idle_count() == 0


def test_an_object_is_lent_to_one_holder_at_a_time():
    with warm.keep_warm():
        a = warm.acquire("k", _Resource)
        b = warm.acquire("k", _Resource)  # a is held: b is a new one
        assert a is not b
        warm.release("k", a, closed.append)
        warm.release("k", b, closed.append)
        got = {id(warm.acquire("k", _Resource)) for _ in range(2)}
        assert got == {id(a), id(b)} and len(built) == 2


def test_concurrent_holders_never_share():
    held, errors = set(), []
    lock = threading.Lock()

    def worker():
        for _ in range(200):
            obj = warm.acquire("t", _Resource)
            with lock:
                if id(obj) in held:
                    errors.append("shared")
                held.add(id(obj))
            with lock:
                held.discard(id(obj))
            warm.release("t", obj, closed.append)

    with warm.keep_warm():
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(built) <= 4 and sorted(map(id, closed)) == sorted(map(id, built))
