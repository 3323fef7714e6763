"""The Deduplicate composite: strict outputs, worker-count independence, cross-run index."""

from __future__ import annotations

import textwrap
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import Article, Duplicate, IndexEntry, to_table
from newsbeam.transforms import dedup_core as core
from newsbeam.transforms.dedup import Deduplicate, ReadIndex, RunKeys, read_index_table
from newsbeam.transforms.warehouse import Run
from tests import SEED_FILES, records

# Runs of the whole dedup graph (some 40 keyed stages): slow; the functions
# behind it are unit-tested in test_dedup_core.py.
whole_graph = pytest.mark.slow

INGESTED = 1_700_000_000_000_000
DAY = 86_400_000_000


def article(aid: str, text: str, *, published: int | None = None, source: str | None = None,
            ingested: int = INGESTED) -> Article:
    return records.article(aid, text=text, source=source or f"in/{aid}.txt", published_at=published,
                           date_source="text" if published else "ingested", ingested_at=ingested)


def seed(i: int, **kw) -> Article:
    body = SEED_FILES[i].read_text(encoding="utf-8").split("\n", 1)[1].strip()
    return article(f"seed{i}", body, **kw)


def fingerprint(a: Article) -> tuple[str, np.ndarray]:
    norm = core.normalise(a.text)
    return core.content_hash(norm), core.Hasher(128, 1, 3).signature(norm)


def kept(a: Article, duplicates=()) -> Article:
    return a._replace(content_hash=fingerprint(a)[0], duplicates=sorted(duplicates))


def index_entry(a: Article) -> IndexEntry:
    chash, sig = fingerprint(a)
    return IndexEntry(a.article_id, chash, core.sig_to_index(sig), a.ingested_at)


def dup(copy: Article, of: str, kind: str, sim: float) -> Duplicate:
    return Duplicate(copy.source, copy.url, of, np.float32(sim), kind, copy.article_id, copy.title,
                     copy.ingested_at)


def similarity(a: Article, b: Article) -> float:
    return core.estimated_jaccard(core.sig_to_bytes(fingerprint(a)[1]), core.sig_to_bytes(fingerprint(b)[1]))


def typographic_copy(a: Article, aid: str) -> Article:
    """Curly quotes, hard-wrapped lines and doubled spaces: the same normalised body."""
    text = a.text.replace('"', "\u201d").replace("'", "\u2019").replace(". ", ".  ")
    wrapped = "\n\n".join(textwrap.fill(p, 64) for p in text.split("\n"))
    return article(aid, wrapped, source=f"mirror/{aid}.txt")


def edited_copy(a: Article, aid: str, **kw) -> Article:
    """Site chrome added, closing sentence dropped, a few words changed: a near copy."""
    words = a.text.rsplit(".", 2)[0].split(" ")
    for i in (10, 40, 90):
        words[i] = "changed"
    body = "Home | World | Politics | Sport\n\n" + " ".join(words) + ".\n\nRelated stories: more news"
    return article(aid, body, source=f"other/{aid}.txt", **kw)


def run(p, articles, **kw):
    return p | "Articles" >> beam.Create(articles) | "Dedup" >> Deduplicate(**kw)


@whole_graph
def test_seeds_none_merge():
    seeds = [seed(i) for i in range(5)]
    with TestPipeline() as p:
        out = run(p, seeds)
        assert_that(out["articles"], equal_to([kept(a) for a in seeds]), label="Articles")
        assert_that(out["duplicates"], equal_to([]), label="Duplicates")
        assert_that(out["index"], equal_to([index_entry(a) for a in seeds]), label="Index")


def composite_case():
    s0, s1, s2, s3 = (seed(i, published=(10 + i) * DAY) for i in range(4))
    exact0 = typographic_copy(s0, "copy0")  # exact copy of 0, published unknown -> 0 kept
    exact0b = exact0._replace(article_id="copy0b", source="b/copy0b.txt", url="file:///b")
    near1 = edited_copy(s1, "near1", published=20 * DAY)  # near copy of 1, later -> 1 kept
    near1b = edited_copy(near1, "near1b", published=21 * DAY)  # copy of the copy: transitive
    early2 = edited_copy(s2, "early2", published=5 * DAY)  # earlier than 2 -> it is kept
    same3 = s3._replace(source="z/seed3.txt")  # the same input given twice (sorts after)
    articles = [s0, s1, s2, s3, exact0, exact0b, near1, near1b, early2, same3]
    expected_articles = [
        kept(s0, [exact0.source, exact0b.source]),
        kept(s1, [near1.source, near1b.source]),
        kept(early2, [s2.source]),
        kept(s3, [same3.source]),
    ]
    expected_dups = [
        dup(exact0, "seed0", "exact", 1.0),
        dup(exact0b, "seed0", "exact", 1.0),
        dup(near1, "seed1", "near", similarity(near1, s1)),
        dup(near1b, "seed1", "near", similarity(near1b, s1)),
        dup(s2, "early2", "near", similarity(s2, early2)),
        dup(same3, "seed3", "exact", 1.0),
    ]
    # the case must exercise what it claims
    assert similarity(near1, s1) < 1.0 and similarity(near1b, s1) < similarity(near1, s1)
    return articles, expected_articles, expected_dups, [index_entry(a) for a in (s0, s1, early2, s3)]


@whole_graph
def test_composite_strict_output():
    articles, exp_articles, exp_dups, exp_index = composite_case()
    with TestPipeline() as p:
        out = run(p, articles)
        assert_that(out["articles"], equal_to(exp_articles), label="Articles")
        assert_that(out["duplicates"], equal_to(exp_dups), label="Duplicates")
        assert_that(out["index"], equal_to(exp_index), label="Index")


@whole_graph
def test_composite_same_output_with_two_workers_and_shuffled_input():
    articles, exp_articles, exp_dups, exp_index = composite_case()
    opts = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_threading"])
    with TestPipeline(options=opts) as p:
        out = run(p, list(reversed(articles)))
        assert_that(out["articles"], equal_to(exp_articles), label="Articles")
        assert_that(out["duplicates"], equal_to(exp_dups), label="Duplicates")
        assert_that(out["index"], equal_to(exp_index), label="Index")


@whole_graph
def test_the_kept_near_copy_depends_on_the_text_not_on_the_files_names():
    words = seed(1).text.split(" ")
    first, second = (" ".join([*words[:50], w, *words[51:]]) for w in ("alpha", "gamma"))
    assert len(first) == len(second) and 0.5 < similarity(article("x", first), article("y", second)) < 1
    # Same time, same length: the content decides which is kept, whatever the ids.
    expected = min((first, second), key=lambda t: core.content_hash(core.normalise(t)))
    for ids in (("a", "b"), ("b", "a")):
        with TestPipeline() as p:
            out = run(p, [article(ids[0], first, published=DAY), article(ids[1], second, published=DAY)])
            assert_that(out["articles"] | beam.Map(lambda a: a.text), equal_to([expected]))


@whole_graph
def test_threshold_is_configurable():
    s1 = seed(1, published=DAY)
    near1 = edited_copy(s1, "near1", published=2 * DAY)
    sim = similarity(near1, s1)
    with TestPipeline() as p:  # just above the pair's similarity: two rows
        out = run(p, [s1, near1], threshold=min(1.0, sim + 1 / 128))
        assert_that(out["articles"], equal_to([kept(s1), kept(near1)]), label="Articles")
        assert_that(out["duplicates"], equal_to([]), label="Duplicates")


def test_invalid_settings_fail_early():
    with pytest.raises(ValueError, match="bands"):
        Deduplicate(num_perm=128, bands=30, rows=5)
    assert Deduplicate(num_perm=64).bands == 16  # rows stay 4 when only num_perm is set
    with pytest.raises(ValueError, match="threshold"):
        Deduplicate(threshold=0)


# --- across runs --------------------------------------------------------------


def write_index(entries: list[IndexEntry], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(IndexEntry, entries), path)


@whole_graph
def test_second_run_recognises_first_runs_articles(tmp_path):
    first = [seed(i, published=(10 + i) * DAY) for i in range(5)]
    # run 1: what the warehouse writer persists is the index output
    write_index([index_entry(a) for a in first[:3]], tmp_path / "_index" / "run1-0.parquet")
    write_index([index_entry(a) for a in first[3:]], tmp_path / "_index" / "run1-1.parquet")

    later = 30 * DAY + INGESTED
    new_copy = typographic_copy(first[3], "copy3")._replace(ingested_at=later)
    new_near = edited_copy(first[4], "near4", ingested=later)
    fresh = article("fresh", "An unrelated story about the harvest festival in a small town. " * 5,
                    ingested=later)
    pattern = str(tmp_path / "_index" / "*.parquet")
    p = TestPipeline()
    out = run(p, first + [new_copy, new_near, fresh], index_pattern=pattern)
    assert_that(out["articles"], equal_to([kept(fresh)]), label="Articles")
    assert_that(out["duplicates"], equal_to([
        dup(new_copy, "seed3", "exact", 1.0),
        dup(new_near, "seed4", "near", similarity(new_near, first[4])),
    ]), label="Duplicates")
    assert_that(out["index"], equal_to([index_entry(fresh)]), label="Index")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}
    assert counters["already_in_warehouse"] == 5
    assert counters["kept"] == 1


class _Readable:
    """What ``fileio.ReadMatches`` hands over: something with ``open()``."""

    def __init__(self, path: Path):
        self.path = path

    def open(self):
        return open(self.path, "rb")


def test_index_entries_before_the_window_come_without_signatures(tmp_path):
    a, b = seed(0), seed(1)._replace(ingested_at=INGESTED + 10 * DAY)
    write_index([index_entry(a)], tmp_path / "old.parquet")
    write_index([index_entry(a), index_entry(b)], tmp_path / "mixed.parquet")
    since = INGESTED + 5 * DAY
    assert read_index_table(_Readable(tmp_path / "old.parquet"), since) == [
        index_entry(a)._replace(minhash=[])]
    mixed = read_index_table(_Readable(tmp_path / "mixed.parquet"), since)
    assert mixed == [index_entry(a)._replace(minhash=[]), index_entry(b)]
    assert read_index_table(_Readable(tmp_path / "mixed.parquet")) == [index_entry(a), index_entry(b)]


def test_older_entries_are_read_only_when_the_run_has_their_id_or_text(tmp_path):
    a, b, c = seed(0), seed(1), seed(2)._replace(ingested_at=INGESTED + 10 * DAY)
    write_index([index_entry(a), index_entry(b), index_entry(c)], tmp_path / "i.parquet")
    since = INGESTED + 5 * DAY  # a and b are older, c is within the window
    combine = RunKeys()

    def wanted(*keys):
        acc = combine.create_accumulator()
        for k in keys:
            acc = combine.add_input(acc, k)
        return combine.extract_output(combine.merge_accumulators([acc, combine.create_accumulator()]))

    read = read_index_table
    assert read(_Readable(tmp_path / "i.parquet"), since, wanted()) == [index_entry(c)]
    assert read(_Readable(tmp_path / "i.parquet"), since, wanted(a.article_id, "other")) == [
        index_entry(a)._replace(minhash=[]), index_entry(c)]  # the same input again
    assert read(_Readable(tmp_path / "i.parquet"), since, wanted(index_entry(b).content_hash)) == [
        index_entry(b)._replace(minhash=[]), index_entry(c)]  # an exact copy of its text
    # No window: every entry keeps its signature and may be a near copy, so all are read.
    assert len(read(_Readable(tmp_path / "i.parquet"), None, wanted())) == 3


@whole_graph
def test_window_bounds_near_duplicates_not_reads_or_exact_copies(tmp_path):
    first = [seed(i, published=(10 + i) * DAY) for i in range(5)]
    write_index([index_entry(a) for a in first], tmp_path / "_index" / "run1.parquet")
    later = 30 * DAY + INGESTED
    again = first[0]  # the same input read again
    new_copy = typographic_copy(first[3], "copy3")._replace(ingested_at=later)
    new_near = edited_copy(first[4], "near4", ingested=later)
    pattern = str(tmp_path / "_index" / "*.parquet")
    for window, near_merged in ((7 * DAY, False), (60 * DAY, True)):
        p = TestPipeline()
        out = run(p, [again, new_copy, new_near], index_pattern=pattern, signature_window=window,
                  runs=p | "Run" >> beam.Create([Run("r", 0, later)]))
        expected = [dup(new_copy, "seed3", "exact", 1.0)]
        if near_merged:
            expected.append(dup(new_near, "seed4", "near", similarity(new_near, first[4])))
        assert_that(out["duplicates"], equal_to(expected), label="Duplicates")
        assert_that(out["articles"], equal_to([] if near_merged else [kept(new_near)]),
                    label="Articles")
        result = p.run()
        result.wait_until_finish()
        counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}
        assert counters["already_in_warehouse"] == 1


@whole_graph
def test_window_keeps_this_runs_near_copies_of_an_old_exact_copy(tmp_path):
    # Old A is outside the window; this run has an exact copy of A and a near copy
    # of it: the near copy still joins the group, whose representative is A.
    a = seed(3, published=13 * DAY)
    write_index([index_entry(a)], tmp_path / "_index" / "run1.parquet")
    later = 90 * DAY + INGESTED
    exact = typographic_copy(a, "copy3")._replace(ingested_at=later)
    near = edited_copy(a, "near3", ingested=later)
    with TestPipeline() as p:
        out = run(p, [exact, near], index_pattern=str(tmp_path / "_index" / "*.parquet"),
                  signature_window=30 * DAY, runs=p | "Run" >> beam.Create([Run("r", 0, later)]))
        assert_that(out["articles"], equal_to([]), label="Articles")
        assert_that(out["duplicates"], equal_to([
            dup(exact, "seed3", "exact", 1.0),
            dup(near, "seed3", "near", similarity(near, a)),
        ]), label="Duplicates")


@whole_graph
def test_index_pattern_matching_nothing_is_a_first_run(tmp_path):
    seeds = [seed(i) for i in range(2)]
    with TestPipeline() as p:
        out = run(p, seeds, index_pattern=str(tmp_path / "_index" / "*.parquet"))
        assert_that(out["articles"], equal_to([kept(a) for a in seeds]), label="Articles")
        assert_that(out["index"], equal_to([index_entry(a) for a in seeds]), label="Index")


def test_a_signature_window_needs_the_runs_it_ends_at():
    with pytest.raises(ValueError, match="runs it ends at"):
        ReadIndex("_index/*.parquet", window=DAY)
