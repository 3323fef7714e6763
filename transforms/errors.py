"""The one reject path: every stage turns a record it cannot use into one error
row on its ``errors`` output, counted as ``rejected/<stage>:<reason>``."""

from __future__ import annotations

from typing import Optional

from newsbeam.schemas import ErrorRecord
from newsbeam.transforms.ids import now_micros
from newsbeam.transforms.text import clean_str

ERRORS = "errors"  # the tagged output of every stage that rejects records
DETAIL_CHARS = 1000  # an exception's message can quote a whole input: rows keep its start


class Rejected(Exception):
    """A record that yields no article: ``reason`` is the short machine-friendly
    code that lands in ``errors.error``, ``detail`` the human-readable message."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # travels intact out of a sandbox's child process
        return type(self), (self.reason, self.detail)


def error_row(stage: str, source: str, reason: str, detail: str, *, article_id: str = "",
              at: Optional[int] = None) -> ErrorRecord:
    """The ``errors/`` row for one rejected input (``article_id``: the input's id
    when it has one, so a re-run recognises it)."""
    return ErrorRecord(clean_str(source), stage, reason, clean_str(detail[:DETAIL_CHARS]),
                       now_micros() if at is None else at, article_id)


def rejected(row: ErrorRecord):
    """Count ``row`` and send it to the stage's ``errors`` output (a TaggedOutput)."""
    # Imported here: the feed parser's child process imports this module under
    # a memory limit, and needs none of Beam.
    import apache_beam as beam

    beam.metrics.Metrics.counter("rejected", f"{row.stage}:{row.error}").inc()
    return beam.pvalue.TaggedOutput(ERRORS, row)


def reject(stage: str, source: str, reason: str, detail: str, *, article_id: str = "",
           at: Optional[int] = None):
    """:func:`error_row` counted and tagged for the ``errors`` output (in a DoFn)."""
    return rejected(error_row(stage, source, reason, detail, article_id=article_id, at=at))
