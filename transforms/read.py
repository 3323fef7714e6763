"""Read local or remote input files into ``RawDocument`` records.

In:  the list of input files (resolved by :func:`list_inputs` before the
     pipeline starts, so a missing path is a clear CLI error, not a failed job).
Out: ``{"documents": PCollection[RawDocument], "errors": PCollection[ErrorRecord]}``.

Formats: ``.txt`` (plain text, headline first), ``.html``/``.htm`` (a saved
page), ``.json`` (an object or a list of objects) and ``.jsonl`` (one object a
line) with at least ``text``, each optionally gzip-compressed (``.gz``).

An input becomes an error row, and the run goes on, when it is: of an
unsupported type (``unsupported_type``), over the size limit (``too_large``),
empty (``empty``), binary (``binary``), undecodable in its declared and
detected encodings (``undecodable``), unreadable (``io_error``); a JSON
document or line that does not parse (``invalid_json``) or lacks a non-empty
``text`` (``missing_text``).

All I/O goes through ``apache_beam.io.filesystems`` so that ``gs://`` and
``s3://`` inputs work on a cloud runner as local paths do.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
from typing import Iterable, Iterator, NamedTuple, Optional

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from schemas import ErrorRecord, RawDocument
from transforms.dates import parse_date
from transforms.errors import Rejected
from transforms.ids import now_micros

KINDS = {".txt": "text", ".html": "html", ".htm": "html", ".json": "json", ".jsonl": "json"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class InputFile(NamedTuple):
    path: str  # as matched (absolute for remote schemes)
    source: str  # as the user gave it (or joined under the directory they gave)
    size: int  # bytes, from the listing: no second lookup per file when reading


class InputError(ValueError):
    """An input named on the command line cannot be used."""


def kind_of(path: str) -> Optional[str]:
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return KINDS.get(pathlib.PurePosixPath(name).suffix)


def _is_glob(arg: str) -> bool:
    return any(ch in arg for ch in "*?[")


class InputPattern(NamedTuple):
    arg: str  # as the user gave it
    pattern: str  # what to match: the file itself, a glob, or "<dir>/**"


def resolve_inputs(args: Iterable[str]) -> list[InputPattern]:
    """Check each command-line input and turn it into a pattern to expand.

    Raises InputError for a path that does not exist or a glob that matches
    nothing, before any pipeline starts. Listing itself happens inside the
    pipeline (:func:`expand_input`), so millions of inputs never travel in the
    job graph.
    """
    patterns = []
    for arg in args:
        remote = "://" in arg
        if (not remote and pathlib.Path(arg).is_dir()) or (not _is_glob(arg) and arg.endswith("/")):
            pattern = arg.rstrip("/") + "/**"
        elif remote and not _is_glob(arg) and not FileSystems.exists(arg):
            pattern = arg.rstrip("/") + "/**"  # an object-store "directory" given without "/"
        else:
            pattern = arg
        if not _is_glob(pattern) and not FileSystems.exists(pattern):
            raise InputError(f"input not found: {arg}")
        try:
            found = FileSystems.match([pattern], limits=[1])[0].metadata_list
        except Exception as exc:  # Beam raises BeamIOError with per-pattern causes
            raise InputError(f"cannot list input {arg}: {exc}") from exc
        if not found:
            raise InputError(f"no input files match: {arg}")
        patterns.append(InputPattern(arg, pattern))
    return patterns


def expand_input(spec: InputPattern) -> list[InputFile]:
    """The files an input stands for, with ``source`` as the user would write it.

    Hidden files are skipped (as a shell glob would); every other file is
    listed, supported or not, so that an unsupported one becomes an error row.
    """
    arg, pattern = spec
    sizes = {m.path: m.size_in_bytes for m in FileSystems.match([pattern])[0].metadata_list}
    files = sorted(sizes)
    if pattern.endswith("/**"):
        base = pattern[:-3]
        files = [f for f in files if not any(
            part.startswith(".") for part in _relative(f, base).split("/"))]
    elif _is_glob(pattern):
        files = [f for f in files if not f.rsplit("/", 1)[-1].startswith(".")]
    out = []
    for matched in files:
        path = source = matched
        if pattern.endswith("/**") and "://" not in arg:
            source = str(pathlib.PurePath(arg) / _relative(path, pattern[:-3]))
        elif "://" not in arg and not _is_glob(arg):
            source = arg
        if "://" not in path:
            path = str(pathlib.Path(path).resolve())
        out.append(InputFile(path, source, sizes[matched]))
    # A runner that splits a bundle into equal contiguous or round-robin parts
    # (the DirectRunner does) would hand neighbours in a listing -- often the same
    # kind of file, e.g. alternating .txt/.html -- to the same worker; a stable
    # hash order spreads every kind over all workers.
    out.sort(key=lambda f: hashlib.blake2b(f.path.encode(), digest_size=8).digest())
    return out


def list_inputs(args: Iterable[str]) -> list[InputFile]:
    """Every input file the arguments stand for, each once (for local use and tests)."""
    seen: dict[str, InputFile] = {}
    for spec in resolve_inputs(args):
        for item in expand_input(spec):
            seen.setdefault(item.path, item)
    return list(seen.values())


def _relative(path: str, base: str) -> str:
    if "://" in path:
        return path[len(base):].lstrip("/")
    return str(pathlib.Path(path).resolve().relative_to(pathlib.Path(base).resolve()))


def locator_for(path: str) -> str:
    """An absolute URI for a file: ``file:///abs/path`` locally, as-is remotely."""
    if "://" in path:
        return path
    return pathlib.Path(path).resolve().as_uri()


# --- decoding -----------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or a high share of control bytes: not a text document.

    UTF-16/32 files carry a BOM and are decoded before this check.
    """
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) * 0.05


def decode(data: bytes, declared: Optional[str] = None) -> str:
    """Decode bytes: BOM, then the declared charset, then UTF-8, then detection.

    Raises UnicodeDecodeError-like ValueError when nothing fits.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    candidates = [declared] if declared else []
    candidates.append("utf-8")
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("no encoding decodes these bytes")
    return str(best)


def declared_charset(html: bytes) -> Optional[str]:
    match = _META_CHARSET.search(html[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


# --- the DoFn -------------------------------------------------------------------




class ReadFileFn(beam.DoFn):
    """InputFile -> RawDocument(s); rejected inputs go to the ``errors`` output."""

    ERRORS = "errors"

    def __init__(self, max_bytes: int, ingested_at: int):
        self.max_bytes = max_bytes
        self.ingested_at = ingested_at
        self.read = beam.metrics.Metrics.counter("read", "files")
        self.documents = beam.metrics.Metrics.counter("read", "documents")

    def process(self, item: InputFile) -> Iterator:
        self.read.inc()
        try:
            for doc in self._documents(item):
                self.documents.inc()
                yield doc
        except Rejected as rej:
            yield self._error(item.source, rej.reason, rej.detail)
        except OSError as exc:
            yield self._error(item.source, "io_error", f"{type(exc).__name__}: {exc}")

    def _error(self, source: str, error: str, detail: str) -> beam.pvalue.TaggedOutput:
        beam.metrics.Metrics.counter("read", f"error:{error}").inc()
        return beam.pvalue.TaggedOutput(
            self.ERRORS, ErrorRecord(source, "read", error, detail, now_micros()))

    def _documents(self, item: InputFile) -> Iterator:
        kind = kind_of(item.path)
        if kind is None:
            raise Rejected("unsupported_type",
                            "not .txt, .html, .htm, .json or .jsonl (optionally .gz)")
        data = self._read_bytes(item.path, item.size)
        if not data.strip():
            raise Rejected("empty", "the file is empty")
        locator = locator_for(item.path)
        if kind == "html":
            text = self._decode(data, declared_charset(data))
            yield self._raw(item.source, locator, kind, text)
        elif kind == "text":
            text = self._decode(data)
            if not text.strip():
                raise Rejected("empty", "the file holds only whitespace")
            yield self._raw(item.source, locator, kind, text)
        else:
            text = self._decode(data)
            yield from self._json_documents(item, locator, text)

    def _read_bytes(self, path: str, size: int) -> bytes:
        if size > self.max_bytes:
            raise Rejected("too_large", f"{size} bytes, over the {self.max_bytes}-byte limit")
        compression = CompressionTypes.GZIP if path.lower().endswith(".gz") else (
            CompressionTypes.UNCOMPRESSED)
        try:
            with FileSystems.open(path, compression_type=compression) as handle:
                # Read one byte past the limit: a small .gz can inflate to gigabytes.
                data = handle.read(self.max_bytes + 1)
        except (OSError, EOFError, ValueError) as exc:
            if compression == CompressionTypes.GZIP:
                raise Rejected("undecodable", f"not a valid gzip file: {exc}") from exc
            raise
        if len(data) > self.max_bytes:
            raise Rejected("too_large", f"over the {self.max_bytes}-byte limit once decompressed")
        return data

    def _decode(self, data: bytes, declared: Optional[str] = None) -> str:
        bom = data[:4]
        if not bom.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) and looks_binary(data):
            raise Rejected("binary", "binary content (NUL or control bytes), not text")
        try:
            return decode(data, declared)
        except ValueError as exc:
            raise Rejected("undecodable", str(exc)) from exc

    def _raw(self, source: str, locator: str, kind: str, body: str, *, title=None, url=None,
             published_at=None, date_source=None) -> RawDocument:
        return RawDocument(
            source=source, locator=locator, url=url, kind=kind, title=title, body=body,
            summary=None, published_at=published_at, date_source=date_source,
            ingested_at=self.ingested_at)

    def _json_documents(self, item: InputFile, locator: str, text: str) -> Iterator:
        if item.path.lower().removesuffix(".gz").endswith(".jsonl"):
            records = _json_lines(text)
        else:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise Rejected("invalid_json", f"line {exc.lineno}: {exc.msg}") from exc
            values = value if isinstance(value, list) else [value]
            records = ((i, v, None) for i, v in enumerate(values, 1))
        for number, record, problem in records:
            where = f"{item.source}#L{number}"
            if problem:
                yield self._error(where, "invalid_json", problem)
                continue
            body = record.get("text") if isinstance(record, dict) else None
            if not isinstance(body, str) or not body.strip():
                yield self._error(where, "missing_text", "record has no non-empty string 'text'")
                continue
            published_at = parse_date(record.get("published"))
            title = record.get("title")
            url = record.get("url")
            source = record.get("source")
            yield self._raw(
                source if isinstance(source, str) and source.strip() else item.source,
                f"{locator}#L{number}", "json", body,
                title=title if isinstance(title, str) and title.strip() else None,
                url=url if isinstance(url, str) and url.strip() else None,
                published_at=published_at,
                date_source="json" if published_at is not None else None)


def _json_lines(text: str) -> Iterator[tuple[int, object, Optional[str]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, f"column {exc.colno}: {exc.msg}"


class ReadArticles(beam.PTransform):
    """Input patterns -> RawDocument records, plus an error row per unusable input.

    Patterns are expanded on the workers; a file named by two inputs is read once.
    """

    def __init__(self, inputs: list[InputPattern], max_bytes: int = DEFAULT_MAX_BYTES,
                 ingested_at: Optional[int] = None):
        super().__init__()
        self.inputs = inputs
        self.max_bytes = max_bytes
        self.ingested_at = ingested_at if ingested_at is not None else now_micros()

    def expand(self, pbegin: beam.pvalue.PBegin) -> dict:
        outputs = (
            pbegin
            | "ListInputs" >> beam.Create(self.inputs, reshuffle=False)
            | "ExpandInputs" >> beam.FlatMap(expand_input)
            | "KeyByPath" >> beam.Map(lambda f: (f.path, f))
            # Also spreads the files over workers before the (slow) per-file work.
            | "OncePerPath" >> beam.CombinePerKey(min)
            | "DropKeys" >> beam.Values()
            | "ReadFiles" >> beam.ParDo(ReadFileFn(self.max_bytes, self.ingested_at))
            .with_outputs(ReadFileFn.ERRORS, main="documents")
        )
        return {"documents": outputs.documents, "errors": outputs[ReadFileFn.ERRORS]}
