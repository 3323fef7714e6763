"""Run one bounded pipeline again and again in this process, translated once.

A local follower runs its poll graph every ``--interval`` seconds. Building
that graph and translating it for the runner took about 1.5 s of a quiet
poll's 2.5 s (``benchmarks/follow.py``); the graph holds nothing that changes
between polls (each poll begins its run inside the pipeline, see
``transforms.write.BeginRun``), so the first translation serves every poll.

The runner is the one the DirectRunner picks for a bounded pipeline (the
FnApiRunner, given the options as the DirectRunner gives them), without the
DirectRunner's attempt to start the Prism runner first.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.pipeline_options_context import scoped_pipeline_options
from apache_beam.options.value_provider import RuntimeValueProvider
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle


class _KeepsTranslation(fn_runner.FnApiRunner):
    """An FnApiRunner that remembers the pipeline proto it last ran."""

    translated = None

    def run_via_runner_api(self, pipeline_proto, options):
        self.translated = pipeline_proto
        return super().run_via_runner_api(pipeline_proto, options)


class RepeatedRun:
    """``build(pipeline)`` wires a bounded graph once; every :meth:`run` executes it.

    ``run()`` returns the runner's result (``metrics()``, ``wait_until_finish()``),
    like ``Pipeline.run()``.
    """

    def __init__(self, options: PipelineOptions, build) -> None:
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(
            pipeline_options=JobServiceHandle.encode_pipeline_options(
                options.get_all_options())))
        self._runner = _KeepsTranslation(provision_info=provision)
        self._options = options
        self.pipeline = beam.Pipeline(runner=self._runner, options=options)
        build(self.pipeline)

    def run(self):
        if self._runner.translated is None:
            return self.pipeline.run()  # translates, with Beam's checks
        # What Pipeline.run and FnApiRunner.run_pipeline set up around the
        # translation, without translating again.
        with scoped_pipeline_options(self._options):
            RuntimeValueProvider.set_runtime_options({})
            return self._runner.run_via_runner_api(self._runner.translated, self._options)
