"""The story stage (transforms/stories.py) in Beam: the grouped pass gives the ids of
one sequential pass, ids survive later runs, duplicates take their article's story."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.schemas import Article, Entity, IndexEntry, Story, from_table, to_table
from newsbeam.transforms import stories_core as sc
from newsbeam.transforms.stories import (
    AssignStories,
    Frequencies,
    StoryOfDuplicates,
    features,
    read_story_rows,
    story_record,
)
from newsbeam.transforms.warehouse import Run
from tests import records
from tests.transforms.test_stories_core import ALL, ARREST_1B, QUAKE_A3, QUAKE_B, T0

RUN = Run("20260101T000000Z-aaaaaa", 0, 1_800_000_000_000_000)


def as_article(f: sc.ArticleFeatures):
    return records.article(
        f.article_id, title=f.title, text=f.text, source=f"in/{f.article_id}.txt", site_name=f.source,
        published_at=f.when, date_source="text", themes=list(f.themes),
        entities=[Entity(t, label, np.int32(n)) for t, label, n in f.entities])


def reference(articles, index: sc.StoryIndex | None = None) -> dict:
    """One sequential pass with the run's frequencies fixed, as the stage uses them."""
    index = index or sc.StoryIndex()
    freq = Frequencies(index.config.df_bits, index.docs, index.df.astype(np.int64).copy())
    for a in articles:
        freq.df[sc.prepare(features(a), index.config).slots()] += 1
        freq.docs += 1
    index.frozen, index.df, index.docs = True, freq.df, freq.docs
    ids, merges = {}, []
    for a in sorted(articles, key=lambda a: sc.story_order(features(a))):
        ids[a.article_id], found = sc.assign_vectors(index.vectors(features(a)), index)
        merges += found
    return {a: sc.resolve(s, merges) for a, s in ids.items()}


def test_grouped_pass_gives_the_sequential_passs_ids(tmp_path):
    articles = [as_article(f) for f in ALL]
    expected = reference(articles)
    assert expected["qa2"] == expected["qa3"] == "qa1"  # one earthquake, three outlets
    assert expected["qb1"] == "qb1" and expected["ar2"] == "ar2"  # look-alikes apart
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN])
        result = p | beam.Create(articles) | AssignStories(str(tmp_path), runs)
        assert_that(result["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)),
                    equal_to(sorted(expected.items())), label="ids")
        assert_that(result["stories"] | beam.Map(lambda s: (s.story_id, int(s.articles))),
                    equal_to(sorted((sid, list(expected.values()).count(sid)) for sid in set(expected.values()))),
                    label="stories")
        assert_that(result["terms"] | beam.Map(lambda f: f.docs), equal_to([len(articles)]), label="terms")


def test_an_oversized_component_is_split_along_the_edges_that_clear_the_threshold():
    from newsbeam.transforms.stories import _group_of

    big = {"a:1"}
    # In a small component: its root. In an oversized one: the root over strong edges,
    # else a group of its own.
    assert list(_group_of(("a:5", {"root": ["a:4"], "strong": ["a:5"]}), big)) == [("a:5", "a:4")]
    assert list(_group_of(("a:2", {"root": ["a:1"], "strong": ["a:2"]}), big)) == [("a:2", "a:2")]
    assert list(_group_of(("a:3", {"root": ["a:1"], "strong": []}), big)) == [("a:3", "a:3")]


def group_sizes(tmp_path, articles, **kwargs) -> tuple[list, int]:
    p = TestPipeline()
    runs = p | "Run" >> beam.Create([RUN])
    result = p | beam.Create(articles) | AssignStories(str(tmp_path), runs, **kwargs)
    ids = result["articles"] | beam.Map(lambda a: (a.article_id, a.story_id))
    assert_that(ids, equal_to(sorted(reference(articles, sc.StoryIndex(kwargs.get("config"))).items())))
    sizes = p.run().metrics().query(MetricsFilter().with_name("group_size"))["distributions"]
    return max(d.committed.max for d in sizes)


def test_an_oversized_group_is_split_where_no_pair_could_join(tmp_path):
    articles = [as_article(f) for f in ALL]
    # A threshold the three quake reports clear only at the candidates' half of it: one
    # group of three. Over a limit of two, it is split into groups of one; the two
    # arrest reports stay a group (within the limit), and every id stays the same.
    config = sc.StoryConfig(threshold=0.6)
    assert group_sizes(tmp_path, articles, config=config) == 3
    assert group_sizes(tmp_path, articles, config=config, max_group=2) == 2


def write_state(out: Path, stories: list[Story], freq: Frequencies) -> None:
    (out / "stories").mkdir(parents=True)
    pq.write_table(to_table(Story, stories), out / "stories" / "part-1.parquet")
    (out / "_story_terms").mkdir()
    pq.write_table(freq.rows(), out / "_story_terms" / "part-1.parquet")


def test_a_later_run_joins_earlier_stories_and_keeps_their_ids(tmp_path):
    first = [as_article(f) for f in ALL if f not in (QUAKE_A3, ARREST_1B, QUAKE_B)]
    later = [as_article(f) for f in (QUAKE_A3, ARREST_1B, QUAKE_B)]
    index = sc.StoryIndex()
    ids = reference(first, index)
    freq = Frequencies(index.config.df_bits, index.docs, index.df)
    write_state(tmp_path, [story_record(s, RUN.started) for s in index.stories.values()], freq)

    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN._replace(started=RUN.started + 1)])
        result = p | beam.Create(later) | AssignStories(str(tmp_path), runs)
        assert_that(result["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)),
                    equal_to([("qa3", ids["qa1"]), ("ar1b", ids["ar1"]), ("qb1", "qb1")]), label="ids")
        # The earlier stories come back with their counts carried on.
        assert_that(result["stories"] | beam.Map(lambda s: (s.story_id, int(s.articles))),
                    equal_to([("qa1", 3), ("ar1", 2), ("qb1", 1)]), label="stories")
        assert_that(result["terms"] | beam.Map(lambda f: f.docs), equal_to([len(first) + len(later)]),
                    label="terms")


class _Readable:
    def __init__(self, path):
        self.path = path

    def open(self):
        return open(self.path, "rb")


def test_only_stories_that_may_still_take_an_article_are_read(tmp_path):
    index = sc.StoryIndex()
    reference([as_article(f) for f in ALL if f is not QUAKE_B], index)
    write_state(tmp_path, [story_record(s, RUN.started) for s in index.stories.values()],
                Frequencies(index.config.df_bits, index.docs, index.df))
    readable = _Readable(tmp_path / "stories" / "part-1.parquet")
    window = int(index.config.window_days * sc.DAY)

    def read(*whens):
        return sorted(r.story_id for r in read_story_rows(readable, [w // sc.DAY for w in whens], window))

    assert read(T0) == ["ar1", "ar2", "qa1"]
    # The look-alike quake 150 days on: nothing earlier is within its window.
    assert read(QUAKE_B.when) == []
    # A backfill of older days: stories that begin after the window of its last day are not read.
    assert read(T0 - 5 * sc.DAY) == []
    assert read(T0 - 2 * sc.DAY) == ["ar1", "ar2", "qa1"]
    assert read(T0 - 60 * sc.DAY, QUAKE_B.when, T0 + int(4.4 * sc.DAY)) == ["qa1"]  # qa3 on day 1.5
    assert read() == []  # a run without articles reads nothing


def test_duplicates_take_the_story_of_the_article_they_copy(tmp_path):
    (tmp_path / "_index").mkdir()
    old = IndexEntry("old1", "h", [], 1, story_id="story-of-old1")
    pq.write_table(to_table(IndexEntry, [old, IndexEntry("old2", "h2", [], 1)]),
                   tmp_path / "_index" / "part-1.parquet")
    kept = records.article("new1", text="x")._replace(story_id="story-of-new1")
    copies = [records.duplicate("c1", duplicate_of="new1"), records.duplicate("c2", duplicate_of="old1"),
              records.duplicate("c3", duplicate_of="old2")]
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN])
        out = ((p | "Copies" >> beam.Create(copies), p | "Kept" >> beam.Create([kept]))
               | StoryOfDuplicates(str(tmp_path), runs))
        assert_that(out | beam.Map(lambda d: (d.article_id, d.story_id)),
                    equal_to([("c1", "story-of-new1"), ("c2", "story-of-old1"), ("c3", None)]))


def bridge_articles():
    """Two stories of a run, then an article that matches both (test_stories_core's)."""
    a = as_article(sc.ArticleFeatures("m1", T0, "x.example", "Dam at Korvel fails",
                                      "The Korvel dam failed after heavy rain, flooding the Korvel valley farms.",
                                      [("Korvel", "GPE", 1)]))
    b = as_article(sc.ArticleFeatures("m2", T0 + sc.DAY // 10, "y.example", "Floods cut Senna railway",
                                      "Floodwater cut the Senna railway line and stranded trains near Senna station.",
                                      [("Senna", "GPE", 1)]))
    bridge = as_article(sc.ArticleFeatures(
        "m3", T0 + sc.DAY // 2, "z.example", "Korvel dam failure floods Senna railway",
        "The Korvel dam failure sent floodwater down the Korvel valley, cutting the Senna railway "
        "and stranding trains near Senna station.", [("Korvel", "GPE", 1), ("Senna", "GPE", 1)]))
    return a, b, bridge


def test_stories_of_one_run_joined_by_a_later_article_share_one_id_and_no_merge_is_written(tmp_path):
    config = sc.StoryConfig(threshold=0.3)
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN])
        result = p | beam.Create(list(bridge_articles())) | AssignStories(str(tmp_path), runs, config)
        assert_that(result["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)),
                    equal_to([("m1", "m1"), ("m2", "m1"), ("m3", "m1")]), label="ids")
        assert_that(result["stories"] | beam.Map(lambda s: (s.story_id, int(s.articles), s.merged_into)),
                    equal_to([("m1", 3, None)]), label="stories")
        assert_that(result["merges"], equal_to([]), label="merges")


def test_an_earlier_runs_story_joined_to_another_keeps_its_id_and_gets_a_merge_row(tmp_path):
    config = sc.StoryConfig(threshold=0.3)
    a, b, bridge = bridge_articles()
    index = sc.StoryIndex(config)
    reference([a, b], index)  # run 1: two stories, m1 and m2
    write_state(tmp_path, [story_record(s, RUN.started) for s in index.stories.values()],
                Frequencies(config.df_bits, index.docs, index.df))
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN._replace(started=RUN.started + 1)])
        result = p | beam.Create([bridge]) | AssignStories(str(tmp_path), runs, config)
        assert_that(result["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)),
                    equal_to([("m3", "m1")]), label="ids")
        assert_that(result["stories"] | beam.Map(lambda s: (s.story_id, int(s.articles), s.merged_into)),
                    equal_to([("m1", 3, None), ("m2", 1, "m1")]), label="stories")
        assert_that(result["merges"] | beam.Map(lambda m: (m.story_id, m.merged_into, m.article_id)),
                    equal_to([("m2", "m1", "m3")]), label="merges")


def seeds_articles(seeds_warehouse) -> dict:
    files = sorted(Path(seeds_warehouse, "articles").rglob("*.parquet"))
    table = pa.concat_tables(pq.read_table(f, columns=list(Article._fields)) for f in files)
    return {Path(a.source).name[:3]: a._replace(story_id=None) for a in from_table(Article, table)}


def test_seeds_three_reports_of_one_event_share_a_story_and_later_events_do_not(seeds_warehouse):
    from tests.warehouse_check import assert_stories_consistent, table_rows

    story = {Path(r["source"]).name[:3]: r["story_id"]
             for r in table_rows(seeds_warehouse, "articles", ["source", "story_id"])}
    assert story["000"] == story["001"] == story["002"]  # US confirms troops in Russia, 23 Oct 2024
    # 003 (reactions) is dated 28 Oct 2024 in its text. 000-002 and 004 carry no date,
    # so all four stand at the run's ingestion time, and 004 (Blinken's warning, same
    # thread, shares most of their words and names) joins them: time is what tells it apart.
    assert story["003"] not in (story["000"], story["004"])
    stories = {r["story_id"]: r for r in table_rows(seeds_warehouse, "stories")}
    assert set(stories) == set(story.values())
    assert len(stories[story["000"]]["sources"]) == stories[story["000"]]["articles"] >= 3
    assert_stories_consistent(str(seeds_warehouse))


def test_seeds_with_their_publication_dates_give_each_event_its_own_story(seeds_warehouse, tmp_path):
    # The dates the seeds were published on (the issue's): what a feed or a JSON input gives.
    published = {"000": "2024-10-23", "001": "2024-10-23", "002": "2024-10-23", "003": "2024-10-28",
                 "004": "2024-11-05"}
    articles = seeds_articles(seeds_warehouse)
    dated = [a._replace(published_at=int(dt.datetime.fromisoformat(published[k] + "T12:00:00+00:00")
                                         .timestamp()) * 1_000_000)
             for k, a in articles.items()]
    name = {a.article_id: k for k, a in articles.items()}
    with TestPipeline() as p:
        runs = p | "Run" >> beam.Create([RUN])
        result = p | beam.Create(dated) | AssignStories(str(tmp_path), runs)
        assert_that(result["articles"] | beam.Map(lambda a: (a.story_id, name[a.article_id]))
                    | beam.GroupByKey() | beam.MapTuple(lambda _, ks: "".join(sorted(k[2] for k in ks))),
                    equal_to(["012", "3", "4"]))
