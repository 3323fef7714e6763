"""String hygiene shared by the stages."""

from __future__ import annotations

import re
from typing import Optional, overload

_SURROGATE = re.compile(r"[\ud800-\udfff]")


@overload
def clean_str(value: str) -> str: ...
@overload
def clean_str(value: None) -> None: ...


def clean_str(value: Optional[str]) -> Optional[str]:
    """``value`` with every surrogate code point replaced by U+FFFD (None stays None).

    A Python string can hold surrogates that no UTF-8 encoder accepts: JSON's
    ``"\\ud800"`` parses to one, and ``os.fsdecode`` turns each byte of a file
    name that is not UTF-8 into one (U+DC80..U+DCFF). Beam's coders and Arrow
    encode strict UTF-8 and would fail on them stages later, so strings are
    cleaned where they enter the pipeline. Any other string comes back equal,
    so ids derived from ordinary text do not change.
    """
    return None if value is None else _SURROGATE.sub("\ufffd", value)
