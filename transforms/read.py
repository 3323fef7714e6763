"""Read local or remote input files into ``RawDocument`` records.

In:  the list of input files (resolved by :func:`list_inputs` before the
     pipeline starts, so a missing path is a clear CLI error, not a failed job).
Out: ``{"documents": PCollection[RawDocument], "errors": PCollection[ErrorRecord]}``.

Formats: ``.txt`` (plain text, headline first), ``.html``/``.htm`` (a saved
page), ``.json`` (an object or a list of objects) and ``.jsonl`` (one object a
line) with at least ``text``, each optionally gzip- or bzip2-compressed
(``.gz``, ``.bz2``). Symlinks are followed; ``source`` keeps the name the link
has under the input the user gave.

No single input can end a run. An input becomes an error row, and the run goes
on, when it is: of an unsupported type (``unsupported_type``), over the size
limit, also once decompressed (``too_large``), empty (``empty``), binary
(``binary``), undecodable in its declared and detected encodings or a corrupt
compressed stream (``undecodable``), unlistable or unreadable, e.g. a dangling
symlink, an unreadable directory or a file gone before it was read
(``io_error``); a JSON document or line that does not parse or is nested too
deeply (``invalid_json``) or lacks a non-empty ``text`` (``missing_text``);
anything unforeseen while reading it (``internal``). Every error row carries a
stable ``article_id`` (:func:`transforms.ids.input_id`), and every string that
leaves this stage is valid Unicode (:func:`transforms.text.clean_str`).

All I/O goes through ``apache_beam.io.filesystems`` so that ``gs://`` and
``s3://`` inputs work on a cloud runner as local paths do.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import os
import pathlib
import re
import zlib
from typing import Iterable, Iterator, NamedTuple, Optional

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from newsbeam.schemas import RawDocument
from newsbeam.transforms.dates import parse_date
from newsbeam.transforms.errors import Rejected, reject
from newsbeam.transforms.ids import input_id, now_micros
from newsbeam.transforms.text import clean_str

KINDS = {".txt": "text", ".html": "html", ".htm": "html", ".json": "json", ".jsonl": "json"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Compression suffix -> (format name, reader over the raw stream). The stdlib
# readers inflate a few KiB of input at a time with a cap on the output (zlib's
# and bz2's max_length) and read every member of a multi-member file.
COMPRESSIONS = {".gz": ("gzip", lambda raw: gzip.GzipFile(fileobj=raw)),
                ".bz2": ("bzip2", bz2.BZ2File)}


class InputFile(NamedTuple):
    path: str  # as matched, symlinks resolved (absolute for remote schemes): what is opened
    source: str  # as the user gave it (or joined under the directory they gave)
    size: int  # bytes, from the listing: no second lookup per file when reading
    error: str = ""  # why the listing could not use it (read as an io_error row), else ""


class InputError(ValueError):
    """An input named on the command line cannot be used."""


def _compression_of(path: str) -> str:
    """The compression suffix ``path`` ends with (a key of COMPRESSIONS), or ""."""
    return next((suffix for suffix in COMPRESSIONS if path.lower().endswith(suffix)), "")


def _uncompressed_name(path: str) -> str:
    return path.lower().removesuffix(_compression_of(path))


def kind_of(path: str) -> Optional[str]:
    return KINDS.get(pathlib.PurePosixPath(_uncompressed_name(path)).suffix)


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
    What cannot be listed (a dangling symlink, an unreadable directory, a
    listing that fails) comes back as an InputFile with ``error`` set: one bad
    input never ends the run.
    """
    arg, pattern = spec
    try:
        if pattern.endswith("/**") and "://" not in arg and not _is_glob(arg):
            out = list(_walk_local(arg, pattern[:-3]))
        else:
            out = _match(arg, pattern)
    except Exception as exc:  # Beam raises BeamIOError with per-pattern causes
        out = [InputFile(pattern, arg, 0, f"cannot list: {type(exc).__name__}: {exc}")]
    # A runner that splits a bundle into equal contiguous or round-robin parts
    # (the DirectRunner does) would hand neighbours in a listing -- often the same
    # kind of file, e.g. alternating .txt/.html -- to the same worker; a stable
    # hash order spreads every kind over all workers.
    out.sort(key=lambda f: hashlib.blake2b(_path_key(f.path), digest_size=8).digest())
    return out


def _match(arg: str, pattern: str) -> list[InputFile]:
    """The files Beam's filesystems match: remote directories, globs and single files."""
    out = []
    for meta in FileSystems.match([pattern])[0].metadata_list:
        path = source = meta.path
        if pattern.endswith("/**"):
            names = path[len(pattern) - 3:].lstrip("/").split("/")
        else:
            names = [path.rsplit("/", 1)[-1]] if _is_glob(pattern) else []
        if any(name.startswith(".") for name in names):
            continue
        if "://" not in path:
            source = path if _is_glob(arg) else arg
            path = os.path.realpath(path)
        out.append(InputFile(path, source, meta.size_in_bytes))
    return out


def _walk_local(arg: str, root: str) -> Iterator[InputFile]:
    """Every non-hidden file under the local directory ``root`` (given as ``arg``).

    Not Beam's LocalFileSystem listing: that drops what it cannot stat (a
    dangling symlink, a file that vanished) and directories it cannot read
    without a word; here each becomes an InputFile with ``error`` set.
    Symlinks are followed, to files and to directories, and ``source`` is the
    unresolved name under ``arg``; a directory already walked (a link loop,
    two links to one place) is not walked again, so the walk always ends and
    visits each directory once.
    """
    seen: set[tuple[int, int]] = set()
    failed: list[OSError] = []
    _first_visit(root, seen)
    for dirpath, dirnames, filenames in os.walk(root, onerror=failed.append, followlinks=True):
        dirnames[:] = _subdirs_to_walk(dirpath, dirnames, seen)
        for name in filenames:
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            source = _source_under(arg, root, path)
            try:
                yield InputFile(os.path.realpath(path), source, os.stat(path).st_size)
            except OSError as exc:
                yield InputFile(os.path.abspath(path), source, 0, f"{type(exc).__name__}: {exc}")
    for exc in failed:
        yield InputFile(os.path.abspath(exc.filename), _source_under(arg, root, exc.filename), 0,
                        f"{type(exc).__name__}: {exc}")


def _subdirs_to_walk(dirpath: str, names: list[str], seen: set[tuple[int, int]]) -> list[str]:
    """The non-hidden subdirectories of ``dirpath`` not walked yet.

    In a stable order, real directories before links: os.walk descends in this
    order, so a directory reached two ways is always listed under the same
    name, its own when it has one there.
    """
    ordered = sorted((name for name in names if not name.startswith(".")),
                     key=lambda name: (os.path.islink(os.path.join(dirpath, name)), name))
    return [name for name in ordered if _first_visit(os.path.join(dirpath, name), seen)]


def _first_visit(directory: str, seen: set[tuple[int, int]]) -> bool:
    """Whether ``directory`` (symlinks followed) is not in ``seen`` yet; adds it."""
    try:
        stat = os.stat(directory)
    except OSError:
        return True  # os.walk reports it through onerror
    key = (stat.st_dev, stat.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _source_under(arg: str, root: str, path: str) -> str:
    return str(pathlib.PurePath(arg) / os.path.relpath(path, root))


def _path_key(path: str) -> bytes:
    """``path`` as bytes, for keys: a local name that is not UTF-8 holds surrogates
    (``os.fsdecode``), which Beam's str coder cannot encode."""
    return path.encode("utf-8", "surrogatepass")


def list_inputs(args: Iterable[str]) -> list[InputFile]:
    """Every input file the arguments stand for, each once (for local use and tests)."""
    seen: dict[str, InputFile] = {}
    for spec in resolve_inputs(args):
        for item in expand_input(spec):
            seen.setdefault(item.path, item)
    return list(seen.values())


def locator_for(path: str) -> str:
    """An absolute URI for a file: ``file:///abs/path`` locally, as-is remotely.

    Local names are percent-encoded byte by byte, so the URI is ASCII even for
    a name that is not UTF-8.
    """
    if "://" in path:
        return path
    # realpath, not Path.resolve(): it does not raise on a symlink loop.
    return pathlib.Path(os.path.realpath(path)).as_uri()


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


def read_content(path: str, max_bytes: int) -> bytes:
    """The bytes of the file at ``path``, decompressed when it ends in .gz or .bz2.

    Raises Rejected("too_large") when the content passes ``max_bytes`` -- having
    inflated no more than that plus a few MiB, however far a compressed file
    would grow -- Rejected("undecodable") for a corrupt compressed stream, and
    OSError when the file cannot be opened or read.
    """
    suffix = _compression_of(path)
    # Beam is asked for the raw bytes only: its own decompression inflates up to
    # 16 MiB of compressed input at once, gigabytes for a small bomb.
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        if not suffix:
            data = raw.read(max_bytes + 1)
        else:
            name, reader = COMPRESSIONS[suffix]
            try:
                with reader(raw) as stream:
                    data = stream.read(max_bytes + 1)
            except (OSError, EOFError, zlib.error) as exc:
                raise Rejected("undecodable", f"not a valid {name} file: {exc}") from exc
    if len(data) > max_bytes:
        raise Rejected("too_large", f"over the {max_bytes}-byte limit"
                                    + (" once decompressed" if suffix else ""))
    return data


def parse_json(text: str) -> object:
    """``json.loads``, with every way ``text`` can fail raised as Rejected("invalid_json")."""
    try:
        return json.loads(text)
    except RecursionError as exc:  # the parser recurses once per "[" or "{"
        raise Rejected("invalid_json", "nested too deeply to parse") from exc
    except ValueError as exc:  # JSONDecodeError, or an integer over Python's digit limit
        raise Rejected("invalid_json", str(exc)) from exc


# --- the DoFn -------------------------------------------------------------------


class ReadFileFn(beam.DoFn):
    """InputFile -> RawDocument(s); rejected inputs go to the ``errors`` output.

    An exception while reading one input ends that input only, as an error row:
    its Rejected reason, ``io_error`` for an OSError, ``internal`` (type and
    message in the detail) for anything else. Every error row carries the
    :func:`transforms.ids.input_id` of the file's locator, or of
    ``<locator>#L<n>`` for one JSON record: the same on every run.
    """

    ERRORS = "errors"

    def __init__(self, max_bytes: int, ingested_at: int):
        self.max_bytes = max_bytes
        self.ingested_at = ingested_at
        self.read = beam.metrics.Metrics.counter("read", "files")
        self.documents = beam.metrics.Metrics.counter("read", "documents")

    def process(self, item: InputFile) -> Iterator:
        self.read.inc()
        locator = locator_for(item.path)
        try:
            for out in self._documents(item, locator):
                if isinstance(out, RawDocument):
                    self.documents.inc()
                yield out
        except Rejected as rej:
            yield self._error(item.source, rej.reason, rej.detail, locator)
        except OSError as exc:
            yield self._error(item.source, "io_error", f"{type(exc).__name__}: {exc}", locator)
        except Exception as exc:  # a bug or an odd input: one error row, not a failed run
            yield self._error(item.source, "internal", f"{type(exc).__name__}: {exc}", locator)

    def _error(self, source: str, error: str, detail: str,
               locator: str) -> beam.pvalue.TaggedOutput:
        return reject("read", source, error, detail, article_id=input_id(locator))

    def _documents(self, item: InputFile, locator: str) -> Iterator:
        if item.error:
            raise Rejected("io_error", item.error)
        kind = kind_of(item.path)
        if kind is None:
            raise Rejected("unsupported_type",
                           "not .txt, .html, .htm, .json or .jsonl (optionally .gz or .bz2)")
        if item.size > self.max_bytes:
            raise Rejected("too_large", f"{item.size} bytes, over the {self.max_bytes}-byte limit")
        data = read_content(item.path, self.max_bytes)
        if not data.strip():
            raise Rejected("empty", "the file is empty")
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
        doc = RawDocument(
            source=source, locator=locator, url=url, kind=kind, title=title, body=body,
            summary=None, published_at=published_at, date_source=date_source,
            ingested_at=self.ingested_at)
        return RawDocument(*(clean_str(v) if isinstance(v, str) else v for v in doc))

    def _json_documents(self, item: InputFile, locator: str, text: str) -> Iterator:
        if _uncompressed_name(item.path).endswith(".jsonl"):
            records = _json_lines(text)
        else:
            value = parse_json(text)
            values = value if isinstance(value, list) else [value]
            records = ((i, v, None) for i, v in enumerate(values, 1))
        for number, record, problem in records:
            where, record_locator = f"{item.source}#L{number}", f"{locator}#L{number}"
            if problem:
                yield self._error(where, "invalid_json", problem, record_locator)
                continue
            body = record.get("text") if isinstance(record, dict) else None
            if not isinstance(body, str) or not body.strip():
                yield self._error(where, "missing_text", "record has no non-empty string 'text'",
                                  record_locator)
                continue
            published_at = parse_date(record.get("published"))
            title = record.get("title")
            url = record.get("url")
            source = record.get("source")
            yield self._raw(
                source if isinstance(source, str) and source.strip() else item.source,
                record_locator, "json", body,
                title=title if isinstance(title, str) and title.strip() else None,
                url=url if isinstance(url, str) and url.strip() else None,
                published_at=published_at,
                date_source="json" if published_at is not None else None)


def _json_lines(text: str) -> Iterator[tuple[int, object, Optional[str]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value, problem = parse_json(line), None
        except Rejected as rej:
            value, problem = None, rej.detail
        yield number, value, problem


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
            | "KeyByPath" >> beam.Map(lambda f: (_path_key(f.path), f))
            # Also spreads the files over workers before the (slow) per-file work.
            | "OncePerPath" >> beam.CombinePerKey(min)
            | "DropKeys" >> beam.Values()
            | "ReadFiles" >> beam.ParDo(ReadFileFn(self.max_bytes, self.ingested_at))
            .with_outputs(ReadFileFn.ERRORS, main="documents")
        )
        return {"documents": outputs.documents, "errors": outputs[ReadFileFn.ERRORS]}
