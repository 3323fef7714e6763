"""Local progress reporting for the CLI's progress bar.

Each worker appends one byte per element to its own file under a local
directory that the CLI polls; nothing is shared in memory, so this works with
threads, processes or the portable runner on one machine. Off (no step added)
when no directory is given, e.g. on a distributed runner.
"""

from __future__ import annotations

import os
import uuid

import apache_beam as beam


class _TickFn(beam.DoFn):
    def __init__(self, directory: str, stage: str):
        self.directory = directory
        self.stage = stage
        self._handle = None

    def setup(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"{self.stage}.{uuid.uuid4().hex}")
        self._handle = open(path, "ab", buffering=0)

    def process(self, element):
        self._handle.write(b".")
        yield element

    def teardown(self) -> None:
        if self._handle is not None:
            self._handle.close()


class CountProgress(beam.PTransform):
    """Pass elements through unchanged, counting them for the CLI's progress bar."""

    def __init__(self, directory: str | None, stage: str):
        super().__init__()
        self.directory = directory
        self.stage = stage

    def expand(self, pcoll):
        if not self.directory:
            return pcoll
        return pcoll | "Tick" >> beam.ParDo(_TickFn(self.directory, self.stage)).with_output_types(
            pcoll.element_type)


def read_progress(directory: str) -> dict[str, int]:
    """Elements counted so far per stage."""
    counts: dict[str, int] = {}
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return counts
    for name in names:
        stage = name.split(".", 1)[0]
        try:
            counts[stage] = counts.get(stage, 0) + os.path.getsize(os.path.join(directory, name))
        except FileNotFoundError:
            continue
    return counts
