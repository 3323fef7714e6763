"""Stable identifiers and clock helpers shared by the stages."""

from __future__ import annotations

import hashlib
import time

from newsbeam.schemas import RawDocument


def now_micros() -> int:
    return time.time_ns() // 1000


def article_id(raw: RawDocument) -> str:
    """A stable id: the same input gives the same id on every run.

    Files are identified by their location and their exact bytes, so an edited
    file is a new input; feed items by their normalised link/GUID alone, because
    a re-fetched page differs byte-wise on every poll (ads, timestamps).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(raw.locator.encode("utf-8", "surrogatepass"))
    if raw.kind != "feed":
        h.update(b"\0")
        h.update(hashlib.sha256(raw.body.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()


def input_id(locator: str) -> str:
    """A stable id for an input (a file, or ``<file>#L<n>``) that ended as an error row.

    The same locator gives the same id on every run, so a re-run can recognise
    an error it already recorded; the prefix keeps it apart from every
    :func:`article_id` (bare hex).
    """
    digest = hashlib.blake2b(locator.encode("utf-8", "surrogatepass"), digest_size=16)
    return "input-" + digest.hexdigest()
