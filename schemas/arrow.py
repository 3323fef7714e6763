"""Arrow schemas derived from the record NamedTuples (see ``schemas.records``)."""

from __future__ import annotations

import collections.abc
import datetime as dt
import functools
import typing
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pyarrow as pa

_SCALARS: Mapping[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    bytes: pa.binary(),
    np.int32: pa.int32(),
    np.int64: pa.int64(),
    np.float32: pa.float32(),
    np.float64: pa.float64(),
}
TIMESTAMP = pa.timestamp("us", tz="UTC")


def is_timestamp_field(name: str) -> bool:
    """Integer fields named ``at``, ``*_at`` or ``*_seen`` hold UTC microseconds."""
    return name == "at" or name.endswith(("_at", "_seen"))


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "__annotations__")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _arrow_type(name: str, tp: Any) -> pa.DataType:
    origin = typing.get_origin(tp)
    if origin in (list, tuple, collections.abc.Sequence):
        (item,) = typing.get_args(tp)[:1]
        return pa.list_(_arrow_type(name, item))
    if _is_record(tp):
        return pa.struct(_fields(tp))
    if tp is int and is_timestamp_field(name):
        return TIMESTAMP
    if tp in _SCALARS:
        return _SCALARS[tp]
    raise TypeError(f"no Arrow type for field {name!r}: {tp!r}")


def _fields(record: type) -> list[pa.Field]:
    hints = typing.get_type_hints(record)
    fields = []
    for name in record._fields:
        tp, nullable = _unwrap_optional(hints[name])
        fields.append(pa.field(name, _arrow_type(name, tp), nullable=nullable))
    return fields


def arrow_schema(record: type) -> pa.Schema:
    """The Arrow schema of a record NamedTuple."""
    return pa.schema(_fields(record))


# Converters are built once per (type, field name): working the type out again for
# every value (``typing.get_type_hints`` per nested record) cost more than the data.
_EPOCH = dt.datetime.fromtimestamp(0, dt.timezone.utc)


@functools.lru_cache(maxsize=None)
def _to_arrow(tp: Any, name: str) -> Callable[[Any], Any]:
    tp, _ = _unwrap_optional(tp)
    if typing.get_origin(tp) is not None and typing.get_args(tp):
        item = _to_arrow(typing.get_args(tp)[0], name)
        convert = lambda v: [item(x) for x in v]  # noqa: E731
    elif _is_record(tp):
        hints = typing.get_type_hints(tp)
        fields = [(f, _to_arrow(hints[f], f)) for f in tp._fields]
        convert = lambda v: {f: c(getattr(v, f)) for f, c in fields}  # noqa: E731
    elif tp is int and is_timestamp_field(name):
        convert = lambda v: _EPOCH + dt.timedelta(microseconds=int(v))  # noqa: E731
    elif tp in (np.int32, np.int64, int):
        convert = int
    elif tp in (np.float32, np.float64, float):
        convert = float
    else:
        return lambda v: v
    return lambda v: None if v is None else convert(v)


def to_table(record: type, rows: Iterable[tuple]) -> pa.Table:
    """Build an Arrow table of ``record`` rows with the derived schema."""
    hints = typing.get_type_hints(record)
    rows = list(rows)
    columns = {}
    for name in record._fields:
        convert = _to_arrow(hints[name], name)
        columns[name] = [convert(getattr(r, name)) for r in rows]
    return pa.Table.from_pydict(columns, schema=arrow_schema(record))


def from_table(record: type, table: pa.Table) -> list:
    """Read rows of ``record`` back from an Arrow table (timestamps → micros)."""
    hints = typing.get_type_hints(record)
    fields = [(f, _from_arrow(hints[f], f)) for f in record._fields]
    return [record(**{f: c(row.get(f)) for f, c in fields}) for row in table.to_pylist()]


def to_micros(value: dt.datetime) -> int:
    """A datetime as the schema's timestamps: UTC microseconds (naive means UTC)."""
    if not value.tzinfo:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1_000_000)


@functools.lru_cache(maxsize=None)
def _from_arrow(tp: Any, name: str) -> Callable[[Any], Any]:
    tp, _ = _unwrap_optional(tp)
    if typing.get_origin(tp) is not None and typing.get_args(tp):
        item = _from_arrow(typing.get_args(tp)[0], name)
        convert = lambda v: [item(x) for x in v]  # noqa: E731
    elif _is_record(tp):
        hints = typing.get_type_hints(tp)
        fields = [(f, _from_arrow(hints[f], f)) for f in tp._fields]
        convert = lambda v: tp(**{f: c(v.get(f)) for f, c in fields})  # noqa: E731
    else:
        scalar = tp if tp in _SCALARS and tp not in (str, bytes) else None

        def convert(v):
            if isinstance(v, dt.datetime):
                return to_micros(v)
            return scalar(v) if scalar is not None else v
    return lambda v: None if v is None else convert(v)
