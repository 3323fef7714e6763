"""Deduplicate cleaned articles: exact and near duplicates, within a run and
against the warehouse's previous runs.

In:  ``PCollection[Article]`` from ``clean`` (``content_hash == ""``, ``duplicates == []``),
     plus the previous runs' ``IndexEntry`` Parquet files matched by ``index_pattern``
     (read as a pipeline input; the glob may match nothing).
Out: ``{"articles": Article, "duplicates": Duplicate, "index": IndexEntry}``

* ``articles``: one per cluster of copies, the representative, with ``content_hash``
  set and ``duplicates`` = sorted sources of the copies merged into it;
* ``duplicates``: one per merged copy, ``duplicate_of`` = the kept ``article_id``
  (in this run or, for a new copy of an old article, from the index), ``kind``
  ``exact`` (same normalised body as the kept row) or ``near``, and ``similarity``
  (estimated Jaccard to the kept row, 1.0 for exact copies);
* ``index``: one per newly kept article, for later runs.

With ``signature_window`` set (the CLI's ``--dedup_window_days``), index entries
ingested that long before the run started are matched by id and content hash
only: the near-duplicate search across runs covers the window, and a run's cost
stops growing with the warehouse.

Nothing is rejected. An article whose ``article_id`` is already in the index is
the same input read again: it yields nothing and counts as
``already_in_warehouse``. Every other input is an article or a duplicate row.

How (each step keyed, none holds the collection in one worker):

1. ``Fingerprint``: normalise the body (``dedup_core.normalise``), content hash,
   MinHash signature of its word 3-shingles (datasketch).
2. ``SkipKnown``: join with the index by ``article_id``.
3. ``ExactGroups``: group by content hash; the group's representative is its
   node for the near-duplicate search, the others are exact copies of it.
4. ``Candidates``: LSH -- group nodes by band key; within a bucket, pairs whose
   estimated Jaccard is >= ``threshold`` are edges (pairs of two old nodes skipped).
5. ``Components``: hash-to-min connected components over the edges, a fixed
   number of rounds (``cc_rounds``; it needs about 2*log2(diameter)); the root is
   the component's minimum node key. A non-converged node is counted
   (``cc_unconverged``) and left as its own row: a missed merge, never a lost row.
   Ten rounds by default: a randomly labelled chain of 64 copies converges in 8,
   while copies of a story form stars of diameter 2. A round is one small fused
   stage on a local runner: rounds 6 -> 10 left the dedup phase of a 5,000-article
   two-worker backfill at 2.6 -> 2.5 s (``benchmarks/stage_profile.py``), so the
   margin costs nothing measurable.
6. ``Resolve`` / ``Assemble`` / ``AttachDuplicates``: join the outcome back to the
   articles by id.

The representative order is built into the node key (``dedup_core.node_key``):
previous-run entries first, then earliest ``published_at``, longest text, content
hash, smallest ``article_id`` -- so the result is the same on any runner and worker
count, and which near copy is kept does not depend on the inputs' paths.

Parameters, measured with ``benchmarks/dedup.py`` on ``benchmarks/neardup_corpus.py``
(BBC dev, 1,000 and 10,000 documents): word 3-shingles keep the edit variants
furthest from the threshold (lowest variant-to-original Jaccard 0.69 for k=3 vs
0.61 for k=5) while different BBC stories stay below 0.04; 128 permutations in
32 bands of 4 rows find a pair at Jaccard 0.6 with probability 0.99 and at 0.1
with 0.003; verification at estimated Jaccard >= 0.5 (standard error <= 0.045
at 128 permutations). Measured (``python benchmarks/dedup.py --eval-dir
/work/shared/eval``): precision 1.000 / recall 1.000 at 1,000 documents, 0.9963 /
1.000 at 10,000, no input lost, identical rows with two multi-processing workers,
10k/1k stage time 9.4x.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Optional

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.metrics import Metrics

from newsbeam.schemas import Article, Duplicate, IndexEntry, from_table
from newsbeam.schemas.arrow import arrow_schema
from newsbeam.transforms import dedup_core as core
from newsbeam.transforms.components import ConnectedComponents

NAMESPACE = "dedup"

DEFAULTS = dict(threshold=0.5, num_perm=128, shingle_size=3, rows=4, seed=1,
                cc_rounds=10, max_bucket=64)


# --- previous runs ------------------------------------------------------------


def key_hashes(keys: Iterable[str]) -> np.ndarray:
    """64-bit digests of ids and content hashes: what a run's keys are matched on."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(k.encode("utf-8", "surrogatepass"),
                                                       digest_size=8).digest(), "little")
                        for k in keys), dtype=np.uint64)


class RunKeys(beam.CombineFn):
    """Article ids and content hashes -> the sorted distinct 64-bit digests of them
    (8 bytes per key: a 100,000-article run's are 1.6 MB)."""

    def create_accumulator(self):
        return [], np.zeros(0, dtype=np.uint64)  # keys not hashed yet, digests

    def add_input(self, acc, key):
        pending, done = acc
        pending.append(key)
        if len(pending) >= 4096:
            return [], np.union1d(done, key_hashes(pending))
        return pending, done

    def merge_accumulators(self, accs):
        pending, done = [], np.zeros(0, dtype=np.uint64)
        for keys, digests in accs:
            pending += keys
            done = np.union1d(done, digests)
        return [], np.union1d(done, key_hashes(pending))

    def extract_output(self, acc):
        return self.merge_accumulators([acc])[1]


def read_index_table(readable, signatures_since: Optional[int] = None,
                     wanted: Optional[np.ndarray] = None) -> list[IndexEntry]:
    """The entries of one index file; those ingested before ``signatures_since``
    (micros) come without their MinHash signature.

    The signature is ~1 KB of an entry's ~1.1 KB, so a file whose entries are all
    older is read without that column, and older rows of a mixed file are blanked
    before they are converted. ``wanted`` (:class:`RunKeys` of the run's articles):
    of the older entries, only those whose id or content hash the run has are
    returned; without a signature, nothing else of them can match.
    """
    schema = arrow_schema(IndexEntry)
    with readable.open() as f:
        pf = pq.ParquetFile(f)
        table = pf.read(columns=["article_id", "content_hash", "ingested_at"]).cast(
            pa.schema([schema.field(n) for n in ("article_id", "content_hash", "ingested_at")]))
        old = keep = None
        if signatures_since is not None:
            old = pc.less(table.column("ingested_at").cast("int64"), signatures_since)
            if wanted is not None:
                ids = table.column("article_id").to_pylist()
                hashes = table.column("content_hash").to_pylist()
                match = np.isin(key_hashes(ids), wanted) | np.isin(key_hashes(hashes), wanted)
                keep = pc.or_(pc.invert(old), pa.array(match))
                table, old = table.filter(keep), old.filter(keep)
        if old is not None and pc.all(old).as_py() is not False:  # all old, or no rows
            minhash = pa.array([[]] * len(table), schema.field("minhash").type)
        else:
            minhash = pf.read(columns=["minhash"]).column("minhash").cast(schema.field("minhash").type)
            if keep is not None:
                minhash = minhash.filter(keep)
            if old is not None:
                minhash = pc.if_else(old, pa.scalar([], schema.field("minhash").type), minhash)
    table = table.append_column("minhash", minhash)
    # Deduplication needs no story: the stage after tagging reads it (transforms.stories).
    table = table.append_column(schema.field("story_id"), pa.nulls(len(table), pa.string()))
    return from_table(IndexEntry, table.select(list(IndexEntry._fields)))


def _since(run, window: Optional[int]) -> Optional[int]:
    return None if run is None or window is None else run.started - window


class ReadIndex(beam.PTransform):
    """Previous runs' ``IndexEntry`` rows from the Parquet files matching ``pattern``
    (none when ``pattern`` is None or matches nothing).

    ``runs``: read the index once for each :class:`transforms.warehouse.Run`
    in it, in its window, so a poll sees what earlier polls committed and joins
    with the items of its own window; once when None. ``window`` (micros): entries
    ingested that long before the run started come without their signature.
    """

    def __init__(self, pattern: Optional[str], window: Optional[int] = None,
                 runs: Optional[beam.PCollection] = None, wanted: Optional[beam.PCollection] = None):
        super().__init__()
        if window is not None and runs is None:
            raise ValueError("a signature window needs the runs it ends at")
        self.pattern = pattern
        self.window = window
        self.runs = runs
        self.wanted = wanted

    def expand(self, pbegin) -> beam.PCollection[IndexEntry]:
        if not self.pattern:
            return pbegin | "NoIndex" >> beam.Create([]).with_output_types(IndexEntry)
        runs = self.runs if self.runs is not None else pbegin | "OneRead" >> beam.Create([None])
        since = runs | "WindowStart" >> beam.Map(_since, self.window)
        return (
            runs
            | "PatternPerRun" >> beam.Map(lambda _, p=self.pattern: p)
            | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
            | "Open" >> fileio.ReadMatches()
            | "Rows" >> beam.FlatMap(
                read_index_table, beam.pvalue.AsSingleton(since),
                beam.pvalue.AsSingleton(self.wanted, default_value=None) if self.wanted is not None else None,
            ).with_output_types(IndexEntry)
        )


# --- steps --------------------------------------------------------------------


class _Fingerprint(beam.DoFn):
    """Article -> (article_id, (node key, content hash, signature bytes))."""

    def __init__(self, num_perm: int, seed: int, shingle_size: int):
        self.num_perm, self.seed, self.shingle_size = num_perm, seed, shingle_size

    def setup(self):
        self._hasher = core.Hasher(self.num_perm, self.seed, self.shingle_size)

    def process(self, a: Article) -> Iterable[tuple[str, tuple[str, str, bytes]]]:
        norm = core.normalise(a.text)
        chash = core.content_hash(norm)
        key = core.node_key(a.article_id, old=False, when=a.published_at, text_len=len(a.text),
                            content=chash)
        yield a.article_id, (key, chash, core.sig_to_bytes(self._hasher.signature(norm)))


def _old_item(e: IndexEntry) -> tuple[str, tuple[str, str, bytes]]:
    key = core.node_key(e.article_id, old=True, when=e.ingested_at, content=e.content_hash or "")
    return e.article_id, (key, e.content_hash, core.sig_to_bytes(core.sig_from_index(e.minhash)))


def _skip_known(kv):
    """New items not in the index nor otherwise recorded; ids that are go to ``known``."""
    aid, g = kv
    new = sorted(g["new"])
    if not new:
        return
    if g["old"] or g["recorded"]:
        yield beam.pvalue.TaggedOutput("known", (aid, True))
    else:
        yield aid, new[0]  # the same id twice in one input: Assemble handles the extra copies


def _exact_group(kv):
    """Group of one content hash -> its node (key, sig) and (node key, member key) pairs."""
    _, members = kv
    members = sorted(set(members))
    rep_key = members[0][0]
    # Equal texts have equal signatures, but an old entry outside the window comes
    # without one: take a member's, so this run's near copies still find the group.
    rep_sig = next((sig for _, sig in members if sig), members[0][1])
    yield rep_key, rep_sig
    for key, _ in members:
        if not core.node_is_old(key):
            yield beam.pvalue.TaggedOutput("members", (rep_key, key))


class _Verify(beam.DoFn):
    def __init__(self, threshold: float, max_bucket: int):
        self.threshold, self.max_bucket = threshold, max_bucket
        self.verified = Metrics.counter(NAMESPACE, "verified_pairs")

    def process(self, kv):
        _, members = kv
        sigs = dict(members)
        if len(sigs) < 2 or all(core.node_is_old(k) for k in sigs):
            return
        for u, v, _ in core.candidate_pairs(sigs.items(), self.threshold, self.max_bucket):
            self.verified.inc()
            yield (u, v), (sigs[u], sigs[v])


class _Assignments(beam.DoFn):
    def __init__(self):
        self.unconverged = Metrics.counter(NAMESPACE, "cc_unconverged")

    def process(self, kv):
        node, cluster = kv
        assignments, converged = core.component_assignments(node, cluster)
        if not converged:
            self.unconverged.inc()
        for a in assignments:
            yield a.member, (a.root, a.similarity)


def _resolve(kv):
    """Final status of every new article of one exact group, keyed by article_id."""
    rep, g = kv
    near = sorted(g["near"])
    for member in sorted(g["members"]):
        if near:
            root, sim = near[0]
            yield core.node_id(member), ("near", core.node_id(root), sim)
        elif member != rep:
            yield core.node_id(member), ("exact", core.node_id(rep), 1.0)
        else:
            yield core.node_id(member), ("kept", member, 1.0)


def _duplicate(a: Article, of: str, kind: str, sim: float) -> Duplicate:
    return Duplicate(source=a.source, url=a.url, duplicate_of=of, similarity=np.float32(sim),
                     kind=kind, article_id=a.article_id, title=a.title, ingested_at=a.ingested_at)


class _Assemble(beam.DoFn):
    """Join statuses back to the articles: kept -> (id, article) + index entry, else a Duplicate."""

    def __init__(self):
        self.already = Metrics.counter(NAMESPACE, "already_in_warehouse")
        self.kept = Metrics.counter(NAMESPACE, "kept")
        self.exact = Metrics.counter(NAMESPACE, "exact_duplicates")
        self.near = Metrics.counter(NAMESPACE, "near_duplicates")

    def process(self, kv):
        aid, g = kv
        articles = sorted(g["article"], key=lambda a: (a.ingested_at, a.source, a.url, a.title))
        if not articles:
            return
        if g["known"]:
            self.already.inc(len(articles))
            return
        (status, target, sim), = g["status"]
        _, chash, sig = list(g["item"])[0]
        first, extra = articles[0], articles[1:]
        if status == "kept":
            self.kept.inc()
            yield aid, first._replace(content_hash=chash)
            yield beam.pvalue.TaggedOutput("index", IndexEntry(
                article_id=aid, content_hash=chash,
                minhash=core.sig_to_index(core.sig_from_bytes(sig)), ingested_at=first.ingested_at))
            target = aid
        else:
            (self.near if status == "near" else self.exact).inc()
            yield beam.pvalue.TaggedOutput("duplicates", _duplicate(first, target, status, sim))
        for a in extra:  # the very same input given twice in one run
            self.exact.inc()
            yield beam.pvalue.TaggedOutput("duplicates", _duplicate(a, target, "exact", 1.0))


def _same(x):
    return x


def _attach(kv):
    _, g = kv
    sources = sorted(g["sources"])
    for a in g["kept"]:
        yield a._replace(duplicates=sources)


# --- the composite --------------------------------------------------------------


class Deduplicate(beam.PTransform):
    """Article -> {"articles": Article, "duplicates": Duplicate, "index": IndexEntry}.

    See the module docstring for the contract and the parameter choice. Old index
    entries written with another ``num_perm`` are matched by content hash only; a
    changed ``seed`` or ``shingle_size`` makes old signatures incomparable, so keep
    them fixed for a warehouse.

    ``runs`` (optional): the :class:`transforms.warehouse.Run` of each of the
    items' windows; the index is read once per run (see ``ReadIndex``).

    ``recorded`` (optional): ids of inputs the warehouse already holds a
    duplicate or error row for (``transforms.recorded``); they are skipped like
    re-read articles, so a re-run writes no second duplicate row.

    ``signature_window`` (micros, optional; needs ``runs``) bounds the
    near-duplicate search across runs: index entries ingested that long before
    the run started are still recognised by
    ``article_id`` (the same input again) and content hash (an exact copy), but
    not as near-duplicates. Their signatures are not read, and they do not go
    through the LSH shuffle, which is what a run costs per entry of the index.
    """

    def __init__(self, index_pattern: Optional[str] = None, *, threshold: float = DEFAULTS["threshold"],
                 num_perm: int = DEFAULTS["num_perm"], shingle_size: int = DEFAULTS["shingle_size"],
                 bands: Optional[int] = None, rows: int = DEFAULTS["rows"], seed: int = DEFAULTS["seed"],
                 cc_rounds: int = DEFAULTS["cc_rounds"], max_bucket: int = DEFAULTS["max_bucket"],
                 signature_window: Optional[int] = None,
                 recorded: Optional[beam.PCollection] = None,
                 runs: Optional[beam.PCollection] = None):
        super().__init__()
        # Only num_perm given (the CLI's --dedup_num_perm): as many bands of ``rows`` as fit.
        bands = num_perm // rows if bands is None else bands
        if bands < 1 or rows < 1 or bands * rows > num_perm:
            raise ValueError(f"need 1 <= bands * rows <= num_perm, got {bands} * {rows} and {num_perm}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if shingle_size < 1 or cc_rounds < 1 or max_bucket < 2:
            raise ValueError("shingle_size and cc_rounds must be >= 1, max_bucket >= 2")
        self.index_pattern = index_pattern
        self.threshold, self.num_perm, self.shingle_size = threshold, num_perm, shingle_size
        self.bands, self.rows, self.seed = bands, rows, seed
        self.cc_rounds, self.max_bucket = cc_rounds, max_bucket
        self.signature_window = signature_window
        self.recorded = recorded
        self.runs = runs

    def expand(self, articles: beam.PCollection[Article]) -> dict[str, beam.PCollection[Any]]:
        bands, rows, num_perm = self.bands, self.rows, self.num_perm
        items = articles | "Fingerprint" >> beam.ParDo(
            _Fingerprint(self.num_perm, self.seed, self.shingle_size))
        # Older entries (no signature) matter only when their id or text is the run's:
        # a run of a few articles against a large index reads a few entries of it.
        wanted = (items
                  | "RunKeys" >> beam.FlatMap(lambda kv: (kv[0], kv[1][1]))
                  | "RunKeySet" >> beam.CombineGlobally(RunKeys()).without_defaults())
        old = (articles.pipeline
               | "ReadIndex" >> ReadIndex(self.index_pattern, self.signature_window, self.runs, wanted)
               | "OldItems" >> beam.Map(_old_item))

        recorded = (self.recorded if self.recorded is not None else
                    articles.pipeline | "NoRecorded" >> beam.Create([]).with_output_types(str))
        fresh = ({"new": items, "old": old,
                  "recorded": recorded | "MarkRecorded" >> beam.Map(lambda i: (i, True))}
                 | "JoinIndexById" >> beam.CoGroupByKey()
                 | "SkipKnown" >> beam.FlatMap(_skip_known).with_outputs("known", main="fresh"))

        by_hash = ((fresh.fresh, old)
                   | "AllItems" >> beam.Flatten()
                   | "KeyByHash" >> beam.Map(lambda kv: (kv[1][1], (kv[1][0], kv[1][2])))
                   | "GroupByHash" >> beam.GroupByKey()
                   | "ExactGroups" >> beam.FlatMap(_exact_group).with_outputs("members", main="nodes"))

        edges = (by_hash.nodes
                 | "BandKeys" >> beam.FlatMap(
                     lambda n: [(k, n) for k in core.band_keys(n[1], bands, rows, num_perm)])
                 | "GroupByBand" >> beam.GroupByKey()
                 | "Verify" >> beam.ParDo(_Verify(self.threshold, self.max_bucket))
                 | "GroupByPair" >> beam.GroupByKey()
                 | "Edges" >> beam.MapTuple(lambda uv, sigs: (uv, next(iter(sigs)))))

        clusters = edges | "Components" >> ConnectedComponents(self.cc_rounds)
        near = clusters | "Assignments" >> beam.ParDo(_Assignments())

        status = ({"members": by_hash.members, "near": near}
                  | "JoinByNode" >> beam.CoGroupByKey()
                  | "Resolve" >> beam.FlatMap(_resolve))

        assembled = ({"article": articles | "KeyById" >> beam.Map(lambda a: (a.article_id, a)),
                      "item": items, "known": fresh.known, "status": status}
                     | "JoinById" >> beam.CoGroupByKey()
                     | "Assemble" >> beam.ParDo(_Assemble()).with_outputs(
                         "duplicates", "index", main="kept"))
        # Tagged outputs carry no element type: declare it so the RowCoder is used.
        duplicates = assembled.duplicates | "Duplicates" >> beam.Map(_same).with_output_types(Duplicate)
        index = assembled.index | "Index" >> beam.Map(_same).with_output_types(IndexEntry)

        kept = ({"kept": assembled.kept,
                 "sources": duplicates | "SourceByKept" >> beam.Map(lambda d: (d.duplicate_of, d.source))}
                | "JoinCopies" >> beam.CoGroupByKey()
                | "AttachDuplicates" >> beam.FlatMap(_attach).with_output_types(Article))
        return {"articles": kept, "duplicates": duplicates,
                "index": index}
