import gzip
import json
import pathlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas import RawDocument
from transforms.read import (InputError, ReadArticles, decode, kind_of, list_inputs, locator_for,
                             resolve_inputs,
                             looks_binary)

INGESTED = 1_700_000_000_000_000


def test_kind_of_knows_the_supported_extensions():
    assert kind_of("a/b.txt") == "text"
    assert kind_of("a/b.HTML.gz") == "html"
    assert kind_of("x.htm") == "html"
    assert kind_of("x.jsonl.gz") == "json"
    assert kind_of("x.json") == "json"
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
