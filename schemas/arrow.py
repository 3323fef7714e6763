"""Arrow schemas derived from the record NamedTuples (see ``schemas.records``)."""

from __future__ import annotations

import collections.abc
import datetime as dt
import typing
from typing import Any, Iterable, Mapping

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
    """Integer fields named ``at`` or ``*_at`` hold UTC microseconds."""
    return name == "at" or name.endswith("_at")


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


def _to_arrow_value(value: Any, tp: Any, name: str) -> Any:
    if value is None:
        return None
    tp, _ = _unwrap_optional(tp)
    if typing.get_origin(tp) is not None and typing.get_args(tp):
        (item,) = typing.get_args(tp)[:1]
        return [_to_arrow_value(v, item, name) for v in value]
    if _is_record(tp):
        hints = typing.get_type_hints(tp)
        return {f: _to_arrow_value(getattr(value, f), hints[f], f) for f in tp._fields}
    if tp is int and is_timestamp_field(name):
        return dt.datetime.fromtimestamp(0, dt.timezone.utc) + dt.timedelta(microseconds=int(value))
    if tp in (np.int32, np.int64, int):
        return int(value)
    if tp in (np.float32, np.float64, float):
        return float(value)
    return value


def to_table(record: type, rows: Iterable[tuple]) -> pa.Table:
    """Build an Arrow table of ``record`` rows with the derived schema."""
    hints = typing.get_type_hints(record)
    rows = list(rows)
    columns = {
        name: [_to_arrow_value(getattr(r, name), hints[name], name) for r in rows]
        for name in record._fields
    }
    return pa.Table.from_pydict(columns, schema=arrow_schema(record))


def from_table(record: type, table: pa.Table) -> list:
    """Read rows of ``record`` back from an Arrow table (timestamps → micros)."""
    hints = typing.get_type_hints(record)
    out = []
    for row in table.to_pylist():
        out.append(record(**{f: _from_arrow_value(row.get(f), hints[f], f) for f in record._fields}))
    return out


def _from_arrow_value(value: Any, tp: Any, name: str) -> Any:
    if value is None:
        return None
    tp, _ = _unwrap_optional(tp)
    if typing.get_origin(tp) is not None and typing.get_args(tp):
        (item,) = typing.get_args(tp)[:1]
        return [_from_arrow_value(v, item, name) for v in value]
    if _is_record(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f: _from_arrow_value(value.get(f), hints[f], f) for f in tp._fields})
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1_000_000) if value.tzinfo else int(
            value.replace(tzinfo=dt.timezone.utc).timestamp() * 1_000_000
        )
    if tp in _SCALARS and tp not in (str, bytes):
        return tp(value)
    return value
