"""pipeline.rerun: one graph, translated once, run again with values of its own each time."""

import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from newsbeam.pipeline.rerun import RepeatedRun


def test_a_graph_built_once_runs_again_and_each_run_has_its_own_values_and_counters(tmp_path):
    built = []

    def stamp(_):
        beam.metrics.Metrics.counter("test", "stamps").inc()
        path = tmp_path / f"{time.time_ns()}.txt"
        path.write_text("x")
        return str(path)

    def build(p):
        built.append(p)
        _ = p | beam.Create([0]) | beam.Map(stamp)

    runs = RepeatedRun(PipelineOptions([]), build)
    results = [runs.run() for _ in range(3)]
    for result in results:
        result.wait_until_finish()
    assert len(built) == 1
    assert len(list(tmp_path.iterdir())) == 3  # the step ran in every run
    for result in results:  # each result counts its own run only
        (counter,) = result.metrics().query()["counters"]
        assert counter.committed == 1
