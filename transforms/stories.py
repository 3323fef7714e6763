"""Group tagged articles into stories: one stable ``story_id`` per real-world event,
across outlets and runs.

In:  ``PCollection[Article]`` from tagging (kept articles, ``story_id`` None), the
     run of each window (``runs``) and the warehouse (``out``): the stories earlier
     runs left (``stories/``) and the hashed word frequencies (``_story_terms/``).
Out: ``{"articles": Article with story_id, "stories": Story (one per story the run
     touched), "merges": StoryMerge, "terms": TermCount (the frequencies after this run)}``

The decision for one article is :func:`transforms.stories_core.assign_vectors`
(online, in publication order, against stories active within the window). What
this module adds is doing that without one worker seeing every article:

1. ``Frequencies``: the run's document frequencies (a combine of per-article slot
   counts) added to the newest committed table: fixed for the whole run, so the
   weights do not depend on how the run is split over workers.
2. ``Vectors``: each article's unit term and entity vectors; ``ReadStories``: the
   earlier stories that may still be active (current row of each, not merged,
   ``last_seen`` within the window of the run's earliest article).
3. ``CandidateEdges``: articles and stories meet under their top terms and
   entities (a few keys each); within a key, in time order, an article is scored
   against the stories and the ``neighbours`` articles before it that lie within the
   window; pairs scoring at least ``edge_ratio`` x threshold are edges.
4. ``Components`` (hash-to-min, ``transforms.components``): everything that could
   end in one story meets in one group; an article with no edge is a group alone.
5. ``AssignInGroups``: each group runs the online assignment over its articles
   against its stories. A story's id is its first article's id. An id in the
   warehouse never changes: when an article joins an earlier run's story to
   another, a ``StoryMerge`` row says so; when two stories of this run meet, their
   articles are not written yet and all take the surviving id.

A group is one worker's work: on the dev set the largest held 27 of 374 articles
(``benchmarks/stories.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator, Optional
from urllib.parse import urlsplit

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.metrics import Metrics

from newsbeam.schemas import Article, Duplicate, Story, StoryMerge, TermCount, from_table
from newsbeam.schemas.arrow import TIMESTAMP, arrow_schema
from newsbeam.transforms import stories_core as core
from newsbeam.transforms import warehouse

NAMESPACE = "stories"


# --- conversions ----------------------------------------------------------------


def outlet(article: Article) -> str:
    """The outlet an article counts for: its site name, else its link's host, else its input."""
    if article.site_name:
        return article.site_name
    host = urlsplit(article.url or "").hostname or ""
    return host.removeprefix("www.") or article.source


def features(article: Article) -> core.ArticleFeatures:
    when = article.published_at if article.published_at is not None else article.ingested_at
    return core.ArticleFeatures(
        article.article_id, when, outlet(article), article.title or "", article.text or "",
        [(e.text, e.label, int(e.count)) for e in article.entities], tuple(article.themes))


def story_record(story: core.Story, updated_at: int) -> Story:
    themes = sorted(story.themes, key=lambda t: (-story.themes[t], t))
    return Story(
        story_id=story.story_id, first_seen=story.first_seen, last_seen=story.last_seen,
        articles=np.int32(story.articles), sources=list(story.sources), title=story.title,
        entities=list(story.entities), themes=themes, merged_into=story.merged_into,
        updated_at=updated_at,
        terms=list(story.terms), term_weights=[np.float32(v) for v in story.terms.values()],
        entity_weights=[np.float32(v) for v in story.entities.values()],
        theme_counts=[np.int32(story.themes[t]) for t in themes])


def core_story(row: Story) -> core.Story:
    return core.Story(
        row.story_id, row.first_seen, row.last_seen, int(row.articles), row.title, list(row.sources),
        dict(zip(row.terms, map(float, row.term_weights))),
        dict(zip(row.entities, map(float, row.entity_weights))),
        {t: int(n) for t, n in zip(row.themes, row.theme_counts)}, row.merged_into)


# --- frequencies ------------------------------------------------------------------


class Frequencies:
    """Hashed document frequencies: ``docs`` documents, ``df[slot]`` of them with a key."""

    def __init__(self, bits: int, docs: int = 0, df: Optional[np.ndarray] = None):
        self.docs = docs
        self.df = np.zeros(1 << bits, dtype=np.int64) if df is None else df

    def add(self, other: "Frequencies") -> "Frequencies":
        return Frequencies(0, self.docs + other.docs, self.df + other.df)

    def rows(self) -> pa.Table:
        slots = np.flatnonzero(self.df)
        # The ``TermCount`` schema, built column-wise: up to 2**df_bits rows.
        return pa.table({"slot": np.concatenate([[-1], slots]).astype(np.int32),
                         "count": np.concatenate([[self.docs], self.df[slots]]).astype(np.int64)},
                        schema=arrow_schema(TermCount))

    @classmethod
    def from_rows(cls, table: pa.Table, bits: int) -> "Frequencies":
        slot = table.column("slot").to_numpy()
        count = table.column("count").to_numpy()
        freq = cls(bits)
        keep = slot >= 0
        freq.df[slot[keep]] = count[keep]
        freq.docs = int(count[~keep].sum())
        return freq


class _SumSlots(beam.CombineFn):
    """Prepared article -> the run's Frequencies (one document per article)."""

    def __init__(self, config: core.StoryConfig):
        self.config = config

    def create_accumulator(self):
        return Frequencies(self.config.df_bits)

    def add_input(self, acc, article: core.Prepared):
        acc.df[article.slots()] += 1
        acc.docs += 1
        return acc

    def merge_accumulators(self, accs):
        accs = iter(accs)
        total = next(accs)
        for a in accs:
            total.df += a.df
            total.docs += a.docs
        return total

    def extract_output(self, acc):
        return acc


def _newest(paths: list[str]) -> Optional[str]:
    # Run ids sort by start time, and a window's start follows the run id.
    return max(paths) if paths else None


def read_frequencies(path: Optional[str], bits: int) -> Frequencies:
    if path is None:
        return Frequencies(bits)
    with beam.io.filesystems.FileSystems.open(path) as handle:
        return Frequencies.from_rows(pq.read_table(handle), bits)


# --- earlier stories --------------------------------------------------------------


def read_story_rows(readable, since: Optional[int]) -> list[Story]:
    """Rows of one ``stories/`` file whose ``last_seen`` is at or after ``since``
    (micros; None: the run has no article, nothing is read)."""
    if since is None:
        return []
    with readable.open() as handle:
        table = pq.read_table(handle)
    cut = pa.scalar(dt.datetime.fromtimestamp(since / 1e6, dt.timezone.utc), TIMESTAMP)
    table = table.filter(pc.greater_equal(table.column("last_seen"), cut))
    return from_table(Story, table.select(list(Story._fields)))


def _newest_row(rows: Iterable[Story]) -> Story:
    return max(rows, key=lambda r: (r.updated_at, r.articles))


class ReadStories(beam.PTransform):
    """PBegin -> the current row of every earlier story that may take an article of
    the run: not merged, ``last_seen`` no earlier than ``since`` (per run window)."""

    def __init__(self, out: str, runs: beam.PCollection, since: beam.PCollection):
        super().__init__()
        self.out, self.runs, self.since = out, runs, since

    def expand(self, pbegin):
        pattern = warehouse.table_pattern(self.out, "stories")
        return (self.runs
                | "Pattern" >> beam.Map(lambda _, p=pattern: p)
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "Open" >> fileio.ReadMatches()
                | "Rows" >> beam.FlatMap(read_story_rows,
                                         beam.pvalue.AsSingleton(self.since, default_value=None))
                | "ById" >> beam.Map(lambda r: (r.story_id, r))
                | "Newest" >> beam.CombinePerKey(_newest_row)
                | "Current" >> beam.MapTuple(lambda _, r: r).with_output_types(Story)
                | "OpenStories" >> beam.Filter(lambda r: r.merged_into is None))


# --- graph ------------------------------------------------------------------------

# A node: (key, start, end, terms, entities, payload). Article keys sort before story
# keys only by accident of the prefix; the root is any fixed member.
_ARTICLE, _STORY = "a:", "s:"


def _article_node(article: core.Prepared, freq: Frequencies) -> tuple:
    """Prepared article -> article node, its vectors under the run's fixed frequencies."""
    v = core.vectors_of(article, freq.df, freq.docs)
    return (_ARTICLE + v.article_id, v.when, v.when, v.terms, v.entities, v)


def _story_node(row: Story) -> tuple:
    story = core_story(row)
    return (_STORY + row.story_id, story.first_seen, story.last_seen, story.terms, story.entities, row)


def _block_keys(node: tuple, config: core.StoryConfig) -> list:
    """A node under each of its top terms and entities, with its vectors cut to what a
    story keeps (its centroid's size): fewer bytes to shuffle, as much as a story compares."""
    key, start, end, terms, ents, _ = node
    k = max(1, config.block_terms // 4)
    top_terms, top_ents = core._top(terms, config.centroid_terms), core._top(ents, config.centroid_entities)
    small = (key, start, end, top_terms, top_ents)
    return [(b, small) for b in list(top_terms)[:k] + ["\x00" + e for e in list(top_ents)[:k // 2]]]


class _CandidateEdges(beam.DoFn):
    """(block key, nodes) -> ((u, v), (None, None)) for each pair that may share a story."""

    def __init__(self, config: core.StoryConfig, neighbours: int, edge_ratio: float):
        self.config, self.neighbours = config, neighbours
        self.min_score = edge_ratio * config.threshold
        self.scored = Metrics.counter(NAMESPACE, "scored_pairs")

    def process(self, kv) -> Iterator[tuple]:
        _, nodes = kv
        nodes = sorted(nodes, key=lambda n: (n[1], n[0]))
        window = int(self.config.window_days * core.DAY)
        stories = [n for n in nodes if n[0].startswith(_STORY)]
        recent: list = []
        for node in nodes:
            if node[0].startswith(_STORY):
                continue
            key, when, _, terms, ents = node
            near = [n for n in recent if n[2] + window >= when][-self.neighbours:]
            near += [s for s in stories if s[1] - window <= when <= s[2] + window]
            for other in near:
                self.scored.inc()
                score = core.similarity(terms, ents, other[3], other[4], self.config.entity_weight)
                if score >= self.min_score:
                    yield (min(key, other[0]), max(key, other[0])), (None, None)
            recent.append(node)


def _roots(kv) -> Iterator[tuple[str, str]]:
    node, cluster = kv
    if node == min(cluster):
        for member in cluster:
            yield member, node


def _to_group(kv) -> Iterator[tuple[str, tuple]]:
    key, g = kv
    nodes = list(g["node"])
    if not nodes:
        return
    roots = sorted(g["root"])
    if roots:
        yield roots[0], nodes[0][5]
    elif key.startswith(_ARTICLE):  # no candidate: a story of its own
        yield key, nodes[0][5]


class _AssignInGroup(beam.DoFn):
    """(group, articles' vectors and earlier stories) -> (article_id, story_id), plus
    tagged ``stories`` (every story the group touched) and ``merges``."""

    def __init__(self, config: core.StoryConfig):
        self.config = config
        self.new = Metrics.counter(NAMESPACE, "new_stories")
        self.joined = Metrics.counter(NAMESPACE, "joined_earlier")
        self.merged = Metrics.counter(NAMESPACE, "merges")
        self.largest = Metrics.distribution(NAMESPACE, "group_size")

    def process(self, kv, run: warehouse.Run) -> Iterator:
        _, members = kv
        members = list(members)
        self.largest.update(len(members))
        index = core.StoryIndex(self.config, frozen=True)
        earlier = set()
        for m in members:
            if isinstance(m, Story):
                index.stories[m.story_id] = core_story(m)
                index._index(index.stories[m.story_id])
                earlier.add(m.story_id)
        articles = sorted((m for m in members if isinstance(m, core.ArticleVectors)),
                          key=lambda v: (v.when, v.article_id))
        assigned, touched, merges = [], set(), []
        for v in articles:
            story_id, found = core.assign_vectors(v, index)
            assigned.append((v.article_id, story_id))
            touched.add(story_id)
            touched.update(m.story_id for m in found)
            merges.extend(found)
        # Nothing of this run is written yet: its articles take the story their own
        # ended in, and a story begun and absorbed within the run never appears.
        # Only a story already in the warehouse keeps its id and gets a merge row.
        into = {m.story_id: m.merged_into for m in merges}
        final = {s: _follow(s, into) for s in touched}
        for article_id, story_id in assigned:
            if final[story_id] == article_id:
                self.new.inc()
            elif final[story_id] in earlier:
                self.joined.inc()
            yield article_id, final[story_id]
        for m in merges:
            if m.story_id in earlier:
                self.merged.inc()
                yield beam.pvalue.TaggedOutput(
                    "merges", StoryMerge(m.story_id, final[m.story_id], m.article_id, m.when))
        for story_id in sorted(touched):
            if story_id in earlier or final[story_id] == story_id:
                story = index.stories[story_id]
                if story.merged_into is not None:
                    story.merged_into = final[story_id]
                yield beam.pvalue.TaggedOutput("stories", story_record(story, run.started))


def _follow(story_id: str, into: dict) -> str:
    seen = set()
    while story_id in into and story_id not in seen:
        seen.add(story_id)
        story_id = into[story_id]
    return story_id


def _with_story(kv) -> Iterator[Article]:
    _, g = kv
    ids = list(g["story"])
    for a in g["article"]:
        yield a._replace(story_id=ids[0] if ids else None)


def _same(x):
    return x


class AssignStories(beam.PTransform):
    """Article -> {"articles", "stories", "merges", "terms"}; see the module docstring."""

    def __init__(self, out: str, runs: beam.PCollection, config: Optional[core.StoryConfig] = None,
                 neighbours: int = 32, edge_ratio: float = 0.5, rounds: int = 10):
        super().__init__()
        self.out, self.runs = out, runs
        self.config = config or core.StoryConfig()
        self.neighbours, self.edge_ratio, self.rounds = neighbours, edge_ratio, rounds

    def expand(self, articles: beam.PCollection[Article]) -> dict:
        from newsbeam.transforms.components import ConnectedComponents

        config, p = self.config, articles.pipeline
        window = int(config.window_days * core.DAY)
        earlier_freq = (self.runs
                        | "TermsPattern" >> beam.Map(
                            lambda _, p=warehouse.table_pattern(self.out, "_story_terms"): p)
                        | "MatchTerms" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                        | "TermsPath" >> beam.Map(lambda m: m.path)
                        | "NewestTerms" >> beam.combiners.ToList().without_defaults()
                        | "ReadTerms" >> beam.Map(
                            lambda paths, b=config.df_bits: read_frequencies(_newest(paths), b)))
        prepared = articles | "Prepare" >> beam.Map(lambda a, c: core.prepare(features(a), c), config)
        freq = (prepared
                | "RunFrequencies" >> beam.CombineGlobally(_SumSlots(config)).without_defaults()
                | "AddEarlier" >> beam.Map(
                    lambda run_freq, old: run_freq.add(old) if old is not None else run_freq,
                    beam.pvalue.AsSingleton(earlier_freq, default_value=None)))
        since = (prepared
                 | "When" >> beam.Map(lambda a: a.when)
                 | "Earliest" >> beam.CombineGlobally(min).without_defaults()
                 | "WindowStart" >> beam.Map(lambda t, w=window: t - w))

        article_nodes = prepared | "Vectors" >> beam.Map(_article_node, beam.pvalue.AsSingleton(freq))
        story_nodes = (p | "ReadStories" >> ReadStories(self.out, self.runs, since)
                       | "StoryNodes" >> beam.Map(_story_node))
        nodes = (article_nodes, story_nodes) | "AllNodes" >> beam.Flatten()

        edges = (nodes
                 | "BlockKeys" >> beam.FlatMap(_block_keys, config)
                 | "GroupByBlock" >> beam.GroupByKey()
                 | "CandidateEdges" >> beam.ParDo(_CandidateEdges(config, self.neighbours, self.edge_ratio))
                 | "DistinctEdges" >> beam.Distinct())
        roots = (edges
                 | "Components" >> ConnectedComponents(self.rounds)
                 | "Roots" >> beam.FlatMap(_roots))
        assigned = ({"node": nodes | "KeyNodes" >> beam.Map(lambda n: (n[0], n)), "root": roots}
                    | "JoinRoots" >> beam.CoGroupByKey()
                    | "ToGroup" >> beam.FlatMap(_to_group)
                    | "GroupMembers" >> beam.GroupByKey()
                    | "AssignInGroups" >> beam.ParDo(
                        _AssignInGroup(config), beam.pvalue.AsSingleton(self.runs)
                    ).with_outputs("stories", "merges", main="ids"))

        with_ids = ({"article": articles | "KeyArticles" >> beam.Map(lambda a: (a.article_id, a)),
                     "story": assigned.ids}
                    | "JoinStoryIds" >> beam.CoGroupByKey()
                    | "WithStory" >> beam.FlatMap(_with_story).with_output_types(Article))
        return {
            "articles": with_ids,
            "stories": assigned.stories | "Stories" >> beam.Map(_same).with_output_types(Story),
            "merges": assigned.merges | "Merges" >> beam.Map(_same).with_output_types(StoryMerge),
            "terms": freq,
        }


# --- duplicates -------------------------------------------------------------------


def read_index_stories(readable, wanted: list[str]) -> Iterator[tuple[str, str]]:
    """(article_id, story_id) of the ``wanted`` ids in one ``_index`` file."""
    if not wanted:
        return
    with readable.open() as handle:
        pf = pq.ParquetFile(handle)
        if "story_id" not in pf.schema_arrow.names:
            return
        table = pf.read(columns=["article_id", "story_id"])
    table = table.filter(pc.and_(pc.is_in(table.column("article_id"), pa.array(sorted(set(wanted)))),
                                 pc.is_valid(table.column("story_id"))))
    yield from zip(table.column("article_id").to_pylist(), table.column("story_id").to_pylist())


def _duplicate_with_story(kv) -> Iterator[Duplicate]:
    _, g = kv
    story = sorted(g["story"])
    for d in g["duplicate"]:
        yield d._replace(story_id=story[0] if story else None)


class StoryOfDuplicates(beam.PTransform):
    """(Duplicate, Article with story_id) -> Duplicate with the story of the article it
    copies: this run's, else the one recorded in the warehouse's ``_index``."""

    def __init__(self, out: str, runs: beam.PCollection):
        super().__init__()
        self.out, self.runs = out, runs

    def expand(self, inputs):
        duplicates, articles = inputs
        this_run = articles | "RunStories" >> beam.Map(lambda a: (a.article_id, a.story_id))
        targets = duplicates | "Targets" >> beam.Map(lambda d: d.duplicate_of)
        earlier = (self.runs
                   | "IndexPattern" >> beam.Map(lambda _, p=warehouse.table_pattern(self.out, "_index"): p)
                   | "MatchIndex" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                   | "OpenIndex" >> fileio.ReadMatches()
                   | "IndexStories" >> beam.FlatMap(read_index_stories, beam.pvalue.AsList(targets)))
        return ({"duplicate": duplicates | "ByTarget" >> beam.Map(lambda d: (d.duplicate_of, d)),
                 "story": (this_run, earlier) | "KnownStories" >> beam.Flatten()}
                | "JoinTargets" >> beam.CoGroupByKey()
                | "WithStory" >> beam.FlatMap(_duplicate_with_story).with_output_types(Duplicate))
