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
   earlier stories an article of the run may join (current row of each, not
   merged, its span widened by the window overlapping a day the run has articles
   on: a backfill of last year reads last year's stories, not all of them), and
   of those only the ones sharing a blocking key with an article of the run.
3. ``CandidateEdges``: articles and stories meet under their top terms and
   entities (a few keys each); within a key, in time order, an article is scored
   against the stories and the ``neighbours`` articles before it that lie within the
   window; pairs scoring at least ``edge_ratio`` x threshold are edges.
4. ``Components`` (hash-to-min, ``transforms.components``): everything that could
   end in one story meets in one group; an article with no edge is a group alone.
   A component of more than ``max_group`` nodes (a run heavy on one topic can
   chain most of its articles) is split into the components of its edges that
   clear the threshold itself, so no worker assigns most of a run alone.
5. ``AssignInGroups``: each group runs the online assignment over its articles
   against its stories. A story's id is its first article's id. An id in the
   warehouse never changes: when an article joins an earlier run's story to
   another, a ``StoryMerge`` row says so; when two stories of this run meet, their
   articles are not written yet and all take the surviving id.

A group is one worker's work, so ``max_group`` also bounds what one worker holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.metrics import Metrics

from newsbeam.schemas import Article, Duplicate, Story, StoryMerge, TermCount, from_table
from newsbeam.schemas.arrow import arrow_schema
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


def index_of(rows: Iterable[Story], config: core.StoryConfig, freq: Frequencies | None = None,
             frozen: bool = False) -> core.StoryIndex:
    """A story index holding ``rows`` (and ``freq``): the warehouse's state, ready to assign."""
    index = core.StoryIndex(config, frozen=frozen)
    for row in rows:
        index.add_story(core_story(row))
    if freq is not None:
        index.df, index.docs = freq.df.astype(np.int32), freq.docs
    return index


def rows_of(index: core.StoryIndex, updated_at: int = 0) -> tuple[list[Story], Frequencies]:
    """What a run writes of ``index``: its stories' ``stories/`` records and its
    frequencies (``_story_terms/``); :func:`index_of` reads them back."""
    stories = [story_record(s, updated_at) for s in index.stories.values()]
    return stories, Frequencies(index.config.df_bits, index.docs, index.df.astype(np.int64))


# --- frequencies ------------------------------------------------------------------


class Frequencies:
    """Hashed document frequencies: ``docs`` documents, ``df[slot]`` of them with a key."""

    def __init__(self, bits: int, docs: int = 0, df: np.ndarray | None = None):
        self.docs = docs
        self.df = np.zeros(1 << bits, dtype=np.int64) if df is None else df

    def add(self, other: Frequencies) -> Frequencies:
        return Frequencies(0, self.docs + other.docs, self.df + other.df)

    def rows(self) -> pa.Table:
        slots = np.flatnonzero(self.df)
        # The ``TermCount`` schema, built column-wise: up to 2**df_bits rows.
        return pa.table({"slot": np.concatenate([[-1], slots]).astype(np.int32),
                         "count": np.concatenate([[self.docs], self.df[slots]]).astype(np.int64)},
                        schema=arrow_schema(TermCount))

    @classmethod
    def from_rows(cls, table: pa.Table, bits: int) -> Frequencies:
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


def _newest(paths: list[str]) -> str | None:
    # Run ids sort by start time, and a window's start follows the run id.
    return max(paths) if paths else None


def read_frequencies(path: str | None, bits: int) -> Frequencies:
    if path is None:
        return Frequencies(bits)
    with beam.io.filesystems.FileSystems.open(path) as handle:
        return Frequencies.from_rows(pq.read_table(handle), bits)


# --- earlier stories --------------------------------------------------------------


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.int64()).to_numpy(zero_copy_only=False)


def read_story_rows(readable, days: Sequence[int] | None, window: int) -> list[Story]:
    """Rows of one ``stories/`` file that an article of the run may join: the story's
    span widened by ``window`` (micros) overlaps one of ``days`` (the days the run's
    articles fall on, ``when // DAY``; None or empty: nothing is read). The time
    columns are read first, the rest only when a row qualifies."""
    if not days:
        return []
    with readable.open() as handle:
        pf = pq.ParquetFile(handle)
        times = pf.read(columns=["first_seen", "last_seen"])
        starts = np.asarray(sorted(days), dtype=np.int64) * core.DAY
        lo, hi = _micros(times.column("first_seen")) - window, _micros(times.column("last_seen")) + window
        # The first article day starting after ``hi``: the one before it must end after ``lo``.
        after = np.searchsorted(starts, hi, side="right")
        keep = (after > 0) & (starts[np.maximum(after - 1, 0)] + core.DAY > lo)
        if not keep.any():
            return []
        table = pf.read(columns=list(Story._fields)).filter(pa.array(keep))
    return from_table(Story, table)


def _newest_row(rows: Iterable[Story]) -> Story:
    return max(rows, key=lambda r: (r.updated_at, r.articles))


class ReadStories(beam.PTransform):
    """PBegin -> the current row of every earlier story an article of the run may join:
    not merged, its span within the window of a day the run has articles on."""

    def __init__(self, out: str, runs: beam.PCollection, days: beam.PCollection, window: int):
        super().__init__()
        self.out, self.runs, self.days, self.window = out, runs, days, window

    def expand(self, pbegin):
        pattern = warehouse.table_pattern(self.out, "stories")
        return (self.runs
                | "Pattern" >> beam.Map(lambda _, p=pattern: p)
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
                | "Open" >> fileio.ReadMatches()
                | "Rows" >> beam.FlatMap(read_story_rows, beam.pvalue.AsList(self.days), self.window)
                | "ById" >> beam.Map(lambda r: (r.story_id, r))
                | "Newest" >> beam.CombinePerKey(_newest_row)
                | "Current" >> beam.MapTuple(lambda _, r: r).with_output_types(Story)
                | "OpenStories" >> beam.Filter(lambda r: r.merged_into is None))


# --- graph ------------------------------------------------------------------------

# A node: (key, start, end, terms, entities, payload, rank). Article keys sort before story
# keys only by accident of the prefix; the root is any fixed member.
_ARTICLE, _STORY = "a:", "s:"


def _article_node(article: core.Prepared, freq: Frequencies) -> tuple:
    """Prepared article -> article node, its vectors under the run's fixed frequencies."""
    v = core.vectors_of(article, freq.df, freq.docs)
    return (_ARTICLE + v.article_id, v.when, v.when, v.terms, v.entities, v, v.rank)


def _story_node(row: Story) -> tuple:
    story = core_story(row)
    return (_STORY + row.story_id, story.first_seen, story.last_seen, story.terms, story.entities, row,
            row.title)


def _block_keys(node: tuple, config: core.StoryConfig) -> list:
    """A node under each of its top terms and entities, with its vectors cut to what a
    story keeps (its centroid's size): fewer bytes to shuffle, as much as a story compares."""
    key, start, end, terms, ents, _, rank = node
    top_terms = core.top_weights(terms, config.centroid_terms)
    top_ents = core.top_weights(ents, config.centroid_entities)
    small = (key, start, end, top_terms, top_ents, rank)
    return [(b, small) for b in core.blocking_keys(top_terms, top_ents, config)]


def _key_of_node(node: tuple, config: core.StoryConfig) -> list:
    """(block key, node key) for each of a node's blocking keys: no vectors."""
    return [(b, node[0]) for b in core.blocking_keys(node[3], node[4], config)]


def _stories_met(kv) -> Iterator[str]:
    """(block key, {"article": [...], "story": [...]}) -> the stories under a key an
    article of the run has too: the only stories that can get an edge."""
    _, g = kv
    if any(True for _ in g["article"]):
        yield from g["story"]


def _wanted_node(kv) -> Iterator[tuple]:
    _, g = kv
    nodes = list(g["node"])
    if nodes and any(True for _ in g["wanted"]):
        yield nodes[0]


class _CandidateEdges(beam.DoFn):
    """(block key, nodes) -> ((u, v), score) for each pair that may share a story."""

    def __init__(self, config: core.StoryConfig, neighbours: int, edge_ratio: float):
        self.config, self.neighbours = config, neighbours
        self.min_score = edge_ratio * config.threshold
        self.scored = Metrics.counter(NAMESPACE, "scored_pairs")

    def process(self, kv) -> Iterator[tuple]:
        _, nodes = kv
        # Time, then content (never the id alone: it hashes the input's path).
        nodes = sorted(nodes, key=lambda n: (n[1], n[5], n[0]))
        window = int(self.config.window_days * core.DAY)
        stories = [n for n in nodes if n[0].startswith(_STORY)]
        recent: list = []
        for node in nodes:
            if node[0].startswith(_STORY):
                continue
            key, when, _, terms, ents, _ = node
            near = [n for n in recent if n[2] + window >= when][-self.neighbours:]
            near += [s for s in stories if s[1] - window <= when <= s[2] + window]
            for other in near:
                self.scored.inc()
                score = core.similarity(terms, ents, other[3], other[4], self.config.entity_weight)
                if score >= self.min_score:
                    yield (min(key, other[0]), max(key, other[0])), score
            recent.append(node)


def _roots(kv) -> Iterator[tuple[str, str]]:
    node, cluster = kv
    if node == min(cluster):
        for member in cluster:
            yield member, node


def _unscored(edge):
    return edge[0], (None, None)


def _group_of(kv, big: set) -> Iterator[tuple[str, str]]:
    """(node, {"root": [its component's root], "strong": [its root over strong edges]})
    -> (node, group): the component, unless it is oversized, then the strong one."""
    node, g = kv
    root, strong = list(g["root"]), list(g["strong"])
    if root and root[0] not in big:
        yield node, root[0]
    elif root:
        yield node, strong[0] if strong else node


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
        rows = [m for m in members if isinstance(m, Story)]
        index = index_of(rows, self.config, frozen=True)
        earlier = {r.story_id for r in rows}
        articles = sorted((m for m in members if isinstance(m, core.ArticleVectors)),
                          key=core.vectors_order)
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

    def __init__(self, out: str, runs: beam.PCollection, config: core.StoryConfig | None = None,
                 neighbours: int = 32, edge_ratio: float = 0.5, rounds: int = 10, max_group: int = 500):
        super().__init__()
        self.out, self.runs = out, runs
        self.config = config or core.StoryConfig()
        self.neighbours, self.edge_ratio, self.rounds = neighbours, edge_ratio, rounds
        self.max_group = max_group

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
        # The days the run's articles fall on: a few hundred for years of backfill, so a
        # side input; stories far from all of them are never read.
        days = (prepared
                | "Day" >> beam.Map(lambda a: a.when // core.DAY)
                | "Days" >> beam.Distinct())
        article_nodes = prepared | "Vectors" >> beam.Map(_article_node, beam.pvalue.AsSingleton(freq))
        earlier_nodes = (p | "ReadStories" >> ReadStories(self.out, self.runs, days, window)
                         | "StoryNodes" >> beam.Map(_story_node))
        # Of the stories in the window, only those sharing a blocking key with an article
        # of the run go on with their vectors: the keys meet first, without them.
        met = ({"article": article_nodes | "ArticleKeys" >> beam.FlatMap(_key_of_node, config),
                "story": earlier_nodes | "StoryKeys" >> beam.FlatMap(_key_of_node, config)}
               | "MeetKeys" >> beam.CoGroupByKey()
               | "StoriesMet" >> beam.FlatMap(_stories_met)
               | "OnceEach" >> beam.Distinct())
        story_nodes = ({"node": earlier_nodes | "KeyStoryNodes" >> beam.Map(lambda n: (n[0], n)),
                        "wanted": met | "KeyMet" >> beam.Map(lambda k: (k, None))}
                       | "JoinMet" >> beam.CoGroupByKey()
                       | "StoriesWithAMatch" >> beam.FlatMap(_wanted_node))
        nodes = (article_nodes, story_nodes) | "AllNodes" >> beam.Flatten()

        edges = (nodes
                 | "BlockKeys" >> beam.FlatMap(_block_keys, config)
                 | "GroupByBlock" >> beam.GroupByKey()
                 | "CandidateEdges" >> beam.ParDo(_CandidateEdges(config, self.neighbours, self.edge_ratio))
                 | "DistinctEdges" >> beam.CombinePerKey(max))
        loose = (edges
                 | "Unscored" >> beam.Map(_unscored)
                 | "Components" >> ConnectedComponents(self.rounds)
                 | "Roots" >> beam.FlatMap(_roots))
        # A topic-heavy run can chain most of its articles into one component, which
        # one worker would then assign alone. Such a component is split along the
        # edges that clear the threshold itself (a join needs that much).
        big = (loose
               | "PerRoot" >> beam.MapTuple(lambda _, root: (root, 1))
               | "ComponentSize" >> beam.CombinePerKey(sum)
               | "Oversized" >> beam.Filter(lambda kv, n=self.max_group: kv[1] > n)
               | "BigRoot" >> beam.Keys())
        strong = (edges
                  | "StrongEdges" >> beam.Filter(lambda e, t=config.threshold: e[1] >= t)
                  | "StrongUnscored" >> beam.Map(_unscored)
                  | "StrongComponents" >> ConnectedComponents(self.rounds)
                  | "StrongRoots" >> beam.FlatMap(_roots))
        roots = ({"root": loose, "strong": strong}
                 | "JoinSplits" >> beam.CoGroupByKey()
                 | "GroupOf" >> beam.FlatMap(
                     lambda kv, big: _group_of(kv, set(big)), beam.pvalue.AsList(big)))
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
