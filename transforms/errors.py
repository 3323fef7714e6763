"""The one exception shape the stages use for a record they reject."""

from __future__ import annotations


class Rejected(Exception):
    """A record that yields no article: ``reason`` is the short machine-friendly
    code that lands in ``errors.error``, ``detail`` the human-readable message."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
