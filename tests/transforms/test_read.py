import bz2
import gzip
import json
import os
import pathlib
import pickle
import shutil
import tempfile
import traceback
import tracemalloc
import zlib

import apache_beam as beam
import pytest
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import ErrorRecord, RawDocument
from newsbeam.transforms import read
from newsbeam.transforms.errors import Rejected
from newsbeam.transforms.ids import article_id, input_id
from newsbeam.transforms.read import (
    DEFAULT_MAX_BYTES,
    InputError,
    ReadArticles,
    ReadFileFn,
    decode,
    kind_of,
    list_inputs,
    locator_for,
    looks_binary,
    read_content,
    resolve_inputs,
)
from newsbeam.transforms.text import clean_str

INGESTED = 1_700_000_000_000_000


def test_kind_of_knows_the_supported_extensions():
    assert kind_of("a/b.txt") == "text"
    assert kind_of("a/b.HTML.gz") == "html"
    assert kind_of("x.htm") == "html"
    assert kind_of("x.jsonl.gz") == "json"
    assert kind_of("x.json") == "json"
    assert kind_of("x.TXT.bz2") == "text"
    assert kind_of("x.md") is None
    assert kind_of("x.gz") is None


def test_list_inputs_walks_directories_and_keeps_the_given_path(tmp_path, monkeypatch):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "a.txt").write_text("A\nbody")
    (tmp_path / "in" / "sub" / "b.html").write_text("<p>x</p>")
    (tmp_path / "in" / ".hidden.txt").write_text("skip me")
    (tmp_path / "one.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    found = list_inputs(["in/", "one.json", "in/*.txt"])
    assert sorted(f.source for f in found) == ["in/a.txt", "in/sub/b.html", "one.json"]
    assert all(pathlib.Path(f.path).is_absolute() for f in found)


def test_list_inputs_spreads_neighbouring_files_over_workers(tmp_path):
    # A listing alternating .txt/.html, split round-robin in two (what the
    # DirectRunner does with a bundle), must give each half both kinds.
    for i in range(400):
        (tmp_path / f"{i:04d}.{'txt' if i % 2 == 0 else 'html'}").write_text("x")
    found = list_inputs([str(tmp_path)])
    assert found == list_inputs([str(tmp_path)])  # a stable order
    assert len(found) == 400
    for half in (found[0::2], found[1::2], found[:200], found[200:]):
        html = sum(f.path.endswith(".html") for f in half)
        assert 60 <= html <= 140, html  # 100 expected; sorted names would give 0 or 200


def test_list_inputs_rejects_missing_paths_and_empty_globs(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        list_inputs([str(tmp_path / "nope")])
    with pytest.raises(InputError, match="no input files match"):
        list_inputs([str(tmp_path / "*.txt")])


def test_decode_tries_bom_declared_utf8_then_detection():
    assert decode("café".encode("utf-8-sig")) == "café"
    assert decode("café".encode("utf-16")) == "café"
    assert decode("naïve €".encode("cp1252"), "cp1252") == "naïve €"
    latin = ("Le président a déclaré que la réunion était très importante pour l'économie "
             "française et européenne.").encode("latin-1")
    assert "président" in decode(latin)


def test_looks_binary():
    assert looks_binary(b"\x00\x01\x02abc")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary("Ordinary text,\ttabs\r\nand lines.".encode())


def _files(tmp_path, names):
    return list_inputs([str(tmp_path / n) for n in names])


def test_read_articles_emits_documents_and_error_rows(tmp_path):
    (tmp_path / "story.txt").write_text("Headline\n\nBody paragraph.\n", encoding="utf-8")
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(
        b'<html><head><meta charset="iso-8859-1"></head><body><p>caf\xe9</p></body></html>'))
    (tmp_path / "recs.jsonl").write_text("\n".join([
        json.dumps({"text": "First record body.", "title": "First", "url": "https://e.org/1",
                    "published": "2024-10-23T10:00:00Z", "source": "wire"}),
        "{not json",
        json.dumps({"title": "no text"}),
        json.dumps({"text": "Old record.", "published": "1970-01-01"}),
    ]))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.txt").write_bytes(b"\x00\xff" * 100)
    (tmp_path / "big.txt").write_text("x" * 500)
    (tmp_path / "notes.md").write_text("# not an article")
    files = _files(tmp_path, ["story.txt", "page.html.gz", "recs.jsonl", "empty.txt",
                              "blob.txt", "big.txt", "notes.md"])
    src = {f.source.rsplit("/", 1)[-1]: f.source for f in files}
    loc = {f.source.rsplit("/", 1)[-1]: locator_for(f.path) for f in files}

    def raw(name, kind, body, *, suffix="", title=None, url=None, published=None, source=None):
        return RawDocument(source or src[name], loc[name] + suffix, url, kind, title, body, None,
                           published, "json" if published else None, INGESTED)

    expected_docs = [
        raw("story.txt", "text", "Headline\n\nBody paragraph.\n"),
        raw("page.html.gz", "html",
            '<html><head><meta charset="iso-8859-1"></head><body><p>café</p></body></html>'),
        raw("recs.jsonl", "json", "First record body.", suffix="#L1", title="First",
            url="https://e.org/1", published=1_729_677_600_000_000, source="wire"),
        raw("recs.jsonl", "json", "Old record.", suffix="#L4"),
    ]
    expected_errors = sorted([
        (src["recs.jsonl"] + "#L2", "invalid_json"),
        (src["recs.jsonl"] + "#L3", "missing_text"),
        (src["empty.txt"], "empty"),
        (src["blob.txt"], "binary"),
        (src["big.txt"], "too_large"),
        (src["notes.md"], "unsupported_type"),
    ])
    with TestPipeline() as p:
        out = p | ReadArticles(resolve_inputs([str(tmp_path)]), max_bytes=400,
                               ingested_at=INGESTED)
        assert_that(out["documents"], equal_to(expected_docs), label="Documents")
        errors = out["errors"] | beam.Map(lambda e: (e.source, e.error))
        assert_that(errors, equal_to(expected_errors), label="Errors")


# --- hostile inputs: each one an error row, never the end of the run ------------


def _read_items(items, max_bytes=DEFAULT_MAX_BYTES):
    """What ReadFileFn makes of ``items``, in plain Python: (documents, error rows)."""
    fn = ReadFileFn(max_bytes, INGESTED)
    out = [row for item in items for row in fn.process(item)]
    return ([r for r in out if isinstance(r, RawDocument)],
            [r.value for r in out if isinstance(r, TaggedOutput)])


def _read(inputs, max_bytes=DEFAULT_MAX_BYTES):
    return _read_items(list_inputs(inputs), max_bytes)


def _names(rows):
    return sorted(os.path.basename(r.source) for r in rows)


def _reasons(errors):
    return sorted((os.path.basename(e.source), e.error) for e in errors)


def _good(folder):
    (folder / "good.txt").write_text("Good headline\n\nGood body.\n")


def test_read_rejects_json_nested_too_deeply(tmp_path):
    _good(tmp_path)
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.json").write_text(deep)
    (tmp_path / "deep.jsonl").write_text(json.dumps({"text": "Fine record."}) + "\n" + deep + "\n")
    docs, errors = _read([str(tmp_path)])
    assert _names(docs) == ["deep.jsonl", "good.txt"]  # deep.jsonl#L1 is fine
    assert _reasons(errors) == [("deep.json", "invalid_json"), ("deep.jsonl#L2", "invalid_json")]
    assert all("nested too deeply" in e.detail for e in errors)


def test_read_replaces_lone_surrogates_in_records_and_file_names(tmp_path):
    _good(tmp_path)
    (tmp_path / "recs.jsonl").write_text(
        '{"text": "Body \\ud800 here.", "title": "Title \\udfff",'
        ' "url": "https://e.org/\\ud800"}\n')
    for name in (b"caf\xe9.txt", b"caf\xe9.md"):  # names that are not UTF-8
        with open(os.path.join(os.fsencode(tmp_path), name), "wb") as f:
            f.write(b"Latin name\n\nBody.")
    docs, errors = _read([str(tmp_path)])
    assert _reasons(errors) == [("caf\ufffd.md", "unsupported_type")]
    by_name = {os.path.basename(d.source): d for d in docs}
    assert sorted(by_name) == ["caf\ufffd.txt", "good.txt", "recs.jsonl"]
    rec = by_name["recs.jsonl"]
    assert (rec.title, rec.body, rec.url) == (
        "Title \ufffd", "Body \ufffd here.", "https://e.org/\ufffd")
    assert by_name["caf\ufffd.txt"].locator.endswith("/caf%E9.txt")  # still names the real file
    coder = beam.coders.registry.get_coder(RawDocument)
    assert all(coder.decode(coder.encode(d)) == d for d in docs)  # strict UTF-8, as Arrow
    error_coder = beam.coders.registry.get_coder(ErrorRecord)
    assert error_coder.decode(error_coder.encode(errors[0])) == errors[0]
    assert clean_str("naïve € text") == "naïve € text"  # ordinary text (and ids) unchanged
    # Through Beam too: the listing's sort and the OncePerPath key once failed on the name.
    with TestPipeline() as p:
        out = p | ReadArticles(resolve_inputs([str(tmp_path)]), ingested_at=INGESTED)
        names = out["documents"] | beam.Map(lambda d: os.path.basename(d.source))
        assert_that(names, equal_to(["caf\ufffd.txt", "good.txt", "recs.jsonl"]))


def test_read_follows_symlinks_and_survives_loops_and_dangling_links(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    (tmp_path / "outside.txt").write_text("Outside headline\n\nOutside body.")
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "sub").mkdir()
    (folder / "sub" / "deeper.txt").write_text("Deeper headline\n\nDeeper body.")
    (folder / "alias").symlink_to(folder / "sub", target_is_directory=True)  # read once, as sub/
    (folder / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "self.txt").symlink_to(folder / "self.txt")
    monkeypatch.chdir(tmp_path)
    with TestPipeline() as p:
        out = p | ReadArticles(resolve_inputs(["in"]), ingested_at=INGESTED)
        assert_that(out["documents"] | beam.Map(lambda d: (d.source, d.body.split("\n")[0])),
                    equal_to([("in/good.txt", "Good headline"),
                              ("in/link.txt", "Outside headline"),
                              ("in/sub/deeper.txt", "Deeper headline")]), label="Documents")
        assert_that(out["errors"] | beam.Map(lambda e: (e.source, e.error)),
                    equal_to([("in/dangling.txt", "io_error"), ("in/self.txt", "io_error")]),
                    label="Errors")


def _as_nobody(fn):
    """fn() in a forked child without root's right to read anything (tests run as root)."""
    if os.geteuid() != 0:
        return fn()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(writer, "wb") as out:
                pickle.dump(fn(), out)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as result:
        data = result.read()
    assert os.waitpid(pid, 0)[1] == 0
    return pickle.loads(data)


def test_read_reports_vanished_files_and_unreadable_ones(tmp_path):
    _good(tmp_path)
    (tmp_path / "gone.txt").write_text("Here at listing time\n\nbody")
    items = list_inputs([str(tmp_path)])
    (tmp_path / "gone.txt").unlink()
    docs, errors = _read_items(items)
    assert _names(docs) == ["good.txt"]
    assert _reasons(errors) == [("gone.txt", "io_error")]
    assert "FileNotFoundError" in errors[0].detail
    assert str(tmp_path / "gone.txt") in errors[0].detail

    # Unreadable files and directories: a folder an unprivileged user can reach.
    folder = pathlib.Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        _good(folder)
        (folder / "secret.txt").write_text("Secret\n\nbody")
        (folder / "secret.txt").chmod(0)
        (folder / "locked").mkdir()
        (folder / "locked" / "inside.txt").write_text("Inside\n\nbody")
        (folder / "locked").chmod(0)
        docs, errors = _as_nobody(lambda: _read([str(folder)]))
        assert _names(docs) == ["good.txt"]
        assert _reasons(errors) == [("locked", "io_error"), ("secret.txt", "io_error")]
        assert all("PermissionError" in e.detail for e in errors)
    finally:
        (folder / "locked").chmod(0o755)
        shutil.rmtree(folder)


def _gzip_bomb(path, size):
    """``size`` zero bytes, gzip-compressed a chunk at a time (about 1000:1)."""
    packer, chunk = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS), bytes(1 << 20)
    with open(path, "wb") as out:
        for _ in range(size // len(chunk)):
            out.write(packer.compress(chunk))
        out.write(packer.flush())


def test_read_stops_inflating_compression_bombs(tmp_path):
    _good(tmp_path)
    _gzip_bomb(tmp_path / "bomb.txt.gz", 200 << 20)
    (tmp_path / "bomb.txt.bz2").write_bytes(bz2.compress(bytes(50 << 20)))
    (tmp_path / "corrupt.txt.gz").write_bytes(gzip.compress(b"Some text\n" * 100)[:-30] + b"x" * 30)
    (tmp_path / "members.txt.gz").write_bytes(gzip.compress(b"Head\n\n") + gzip.compress(b"Body."))
    (tmp_path / "small.txt.bz2").write_bytes(bz2.compress(b"Head\n\nBody."))
    docs, errors = _read([str(tmp_path)], max_bytes=1_000_000)
    assert _names(docs) == ["good.txt", "members.txt.gz", "small.txt.bz2"]
    assert {d.body for d in docs if "members" in d.source} == {"Head\n\nBody."}
    assert _reasons(errors) == [("bomb.txt.bz2", "too_large"), ("bomb.txt.gz", "too_large"),
                                ("corrupt.txt.gz", "undecodable")]

    tracemalloc.start()
    try:
        with pytest.raises(Rejected, match="once decompressed"):
            read_content(str(tmp_path / "bomb.txt.gz"), 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20, peak  # Beam's reader inflated all 200 MiB at once


def test_read_turns_an_unexpected_exception_into_an_internal_row(tmp_path, monkeypatch):
    _good(tmp_path)
    (tmp_path / "recs.json").write_text(json.dumps({"text": "Body.", "published": "boom"}))

    def parse_date(value):
        if value == "boom":
            raise ZeroDivisionError("a bug in the date parser")

    monkeypatch.setattr(read, "parse_date", parse_date)
    docs, errors = _read([str(tmp_path)])
    assert _names(docs) == ["good.txt"]
    assert _reasons(errors) == [("recs.json", "internal")]
    assert errors[0].detail == "ZeroDivisionError: a bug in the date parser"


def test_read_error_rows_carry_stable_input_ids(tmp_path):
    _good(tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "recs.jsonl").write_text('{"text": "Fine."}\n{broken\n')
    docs, errors = _read([str(tmp_path)])
    again = _read([str(tmp_path)])[1]
    assert _reasons(errors) == [("empty.txt", "empty"), ("recs.jsonl#L2", "invalid_json")]
    file_locator = locator_for(str(tmp_path / "recs.jsonl"))
    assert {e.article_id for e in errors} == {
        input_id(locator_for(str(tmp_path / "empty.txt"))), input_id(file_locator + "#L2")}
    assert sorted(e.article_id for e in again) == sorted(e.article_id for e in errors)
    assert not {e.article_id for e in errors} & {article_id(d) for d in docs}
