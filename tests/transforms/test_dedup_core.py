"""Plain-function tests for ``transforms.dedup_core`` (no Beam)."""

from __future__ import annotations

import collections
import itertools
import random

import numpy as np
import pytest

from newsbeam.transforms import dedup_core as core
from tests import SEEDS


def seed_body(i: int) -> str:
    (path,) = SEEDS.glob(f"{i:03d}_*.txt")
    return path.read_text(encoding="utf-8").split("\n", 1)[1]


# --- normalisation --------------------------------------------------------------


def test_normalise_folds_typography_case_and_wrapping():
    plain = 'He said "it\'s over" - and left... The 2nd fix cost 10 euros.\n\nNext paragraph here.'
    fancy = ("HE said \u201cit\u2019s over\u201d \u2014 and\u00a0left\u2026 The\n2nd \ufb01x   cost "
             "\uff11\uff10 euros.\r\n\r\n\r\nNext para\u00adgraph\u200b here.  ")
    assert core.normalise(fancy) == core.normalise(plain)
    assert core.normalise(plain) == ('he said "it\'s over" - and left... the 2nd fix cost 10 euros. '
                                     "next paragraph here.")


def test_normalise_joins_words_wrapped_after_their_hyphen():
    flat = "A well-known, long-term plan for the inter-city line.\n\nNext paragraph."
    wrapped = "A well-\nknown, long-  \r\n  term plan for the inter-\ncity line.\n\nNext paragraph."
    assert core.normalise(wrapped) == core.normalise(flat)
    # Not across a blank line, nor after a lone dash or a number.
    assert core.normalise("It was so-\n\ncalled.") == "it was so- called."
    assert core.normalise("Pages 10-\n12 and -\nthen") == "pages 10- 12 and - then"


def test_content_hash_equal_for_typographic_variants_only():
    a = core.content_hash(core.normalise("Austin said \u201cno\u201d.\nThen he left."))
    assert a == core.content_hash(core.normalise('austin said "no". then  he left.'))
    assert a != core.content_hash(core.normalise('Austin said "yes". Then he left.'))
    assert a != core.content_hash(core.normalise('Austin said "no". Then he left'))


def test_hash_and_signature_of_a_seed_are_what_earlier_runs_wrote():
    # _index/ keeps these across runs and releases: a change here makes every
    # warehouse's old entries unmatchable, so it must be a deliberate one.
    body = core.normalise(seed_body(2).strip())
    assert core.content_hash(body) == "5ce74ea0ab9d6a6904bfd4d6c18ba83a"
    assert list(core.Hasher(128, 1, 3).signature(body)[:6]) == [
        2878798, 25154754, 48969811, 11944970, 1775590, 4390649]


def test_tokens_ignore_punctuation_but_keep_inner_marks():
    assert core.tokens(core.normalise("Don't pay $3.5bn, (yes) - now!")) == ["don't", "pay", "3.5bn", "yes", "now"]


def test_shingles_sizes_and_short_texts():
    words = "a b c d e".split()
    assert core.shingles(words, 3) == {b"a b c", b"b c d", b"c d e"}
    assert core.shingles(words[:2], 3) == {b"a b"}
    assert core.shingles([], 3) == set()


# --- signatures ---------------------------------------------------------------


def jaccard(a: str, b: str, k: int = 3) -> float:
    sa = core.shingles(core.tokens(core.normalise(a)), k)
    sb = core.shingles(core.tokens(core.normalise(b)), k)
    return len(sa & sb) / len(sa | sb)


def test_signature_is_deterministic_and_depends_on_seed():
    text = seed_body(0)
    h1, h2 = core.Hasher(128, 1, 3), core.Hasher(128, 1, 3)
    s = h1.signature(core.normalise(text))
    assert s.dtype == core.SIG_DTYPE and len(s) == 128
    assert np.array_equal(s, h2.signature(core.normalise(text)))
    assert not np.array_equal(s, core.Hasher(128, 2, 3).signature(core.normalise(text)))
    assert len(h1.signature("")) == 0


def test_estimated_jaccard_tracks_exact_jaccard():
    rng = random.Random(0)
    base = seed_body(1).split()
    hasher = core.Hasher(128, 1, 3)
    for edits in (5, 40, 150):
        words = list(base)
        for _ in range(edits):
            words[rng.randrange(len(words))] = f"w{rng.randrange(10**6)}"
        a, b = " ".join(base), " ".join(words)
        est = core.estimated_jaccard(core.sig_to_bytes(hasher.signature(core.normalise(a))),
                                     core.sig_to_bytes(hasher.signature(core.normalise(b))))
        # 4 standard errors of a 128-slot estimate
        assert abs(est - jaccard(a, b)) <= 4 * 0.5 / np.sqrt(128)


def test_index_round_trip_and_incomparable_signatures():
    sig = core.Hasher(128, 1, 3).signature(core.normalise(seed_body(2)))
    stored = core.sig_to_index(sig)
    assert all(type(v) is np.int64 for v in stored)
    assert np.array_equal(core.sig_from_index(stored), sig)
    raw = core.sig_to_bytes(sig)
    assert core.estimated_jaccard(raw, raw) == 1.0
    assert core.estimated_jaccard(raw, raw[:64 * 4]) == 0.0  # other settings: no near match
    assert core.estimated_jaccard(b"", b"") == 0.0


def test_band_keys():
    sig = np.arange(128, dtype=core.SIG_DTYPE)
    keys = core.band_keys(core.sig_to_bytes(sig), 32, 4, 128)
    assert len(set(keys)) == 32
    other = sig.copy()
    other[5] = 999  # band 1 (slots 4..7) differs, the rest are shared
    keys2 = core.band_keys(core.sig_to_bytes(other), 32, 4, 128)
    assert [i for i in range(32) if keys[i] != keys2[i]] == [1]
    assert core.band_keys(core.sig_to_bytes(sig[:64]), 32, 4, 128) == []
    assert len(core.band_keys(core.sig_to_bytes(sig), 20, 6, 128)) == 20  # 8 slots unused


# --- the seeds stay apart ------------------------------------------------------


def test_seeds_are_far_apart():
    hasher = core.Hasher(128, 1, 3)
    sigs = [core.sig_to_bytes(hasher.signature(core.normalise(seed_body(i)))) for i in range(5)]
    for a, b in itertools.combinations(range(5), 2):
        assert core.estimated_jaccard(sigs[a], sigs[b]) < 0.2, (a, b)


# --- node order and candidates ------------------------------------------------------


def test_node_key_orders_representatives():
    k = core.node_key
    ordered = [
        k("zz", old=True, when=5),
        k("aa", old=True, when=9),
        k("zz", old=False, when=-10, text_len=1),  # before 1970 still sorts first
        k("zz", old=False, when=100, text_len=500),
        k("aa", old=False, when=100, text_len=10),
        k("bb", old=False, when=100, text_len=10),
        k("aa", old=False, when=None, text_len=10**6),
    ]
    assert sorted(ordered) == ordered
    # Same time and length: the content decides, then the id (the id hashes the path).
    by_content = [k("zz", old=False, when=100, text_len=10, content="0a"),
                  k("aa", old=False, when=100, text_len=10, content="0b"),
                  k("aa", old=True, when=5, content="ff")]
    assert sorted(by_content) == [by_content[2], by_content[0], by_content[1]]
    assert core.node_id(by_content[0]) == "zz"
    assert core.node_id(k("x|y", old=False, when=None)) == "x|y"
    assert core.node_is_old(ordered[1]) and not core.node_is_old(ordered[2])


def sig_with_changes(changed: int, offset: int) -> bytes:
    """A signature sharing 128 - ``changed`` slots with the all-zero one, none of the rest."""
    sig = np.zeros(128, dtype=core.SIG_DTYPE)
    sig[:changed] = np.arange(offset + 1, offset + changed + 1)
    return core.sig_to_bytes(sig)


def test_candidate_pairs_threshold_edges_and_old_pairs():
    base = core.sig_to_bytes(np.zeros(128, dtype=core.SIG_DTYPE))
    new = lambda i: core.node_key(f"n{i}", old=False, when=None)  # noqa: E731
    old = lambda i: core.node_key(f"o{i}", old=True, when=0)  # noqa: E731
    at = sig_with_changes(64, 0)  # estimated Jaccard exactly 0.5
    below = sig_with_changes(65, 1000)
    pairs = core.candidate_pairs([(new(0), base), (new(1), at), (new(2), below)], 0.5, 64)
    assert [(u, v) for u, v, _ in pairs] == [(new(0), new(1))]
    assert pairs[0][2] == 0.5
    # two previous-run nodes are never paired; an old and a new one are
    pairs = core.candidate_pairs([(old(0), base), (old(1), base), (new(0), base)], 0.5, 64)
    assert sorted((u, v) for u, v, _ in pairs) == [(old(0), new(0)), (old(1), new(0))]


def test_candidate_pairs_bounded_in_large_buckets():
    base = core.sig_to_bytes(np.zeros(128, dtype=core.SIG_DTYPE))
    members = [(core.node_key(f"n{i:03d}", old=False, when=None), base) for i in range(100)]
    assert len(core.candidate_pairs(members, 0.5, 100)) == 100 * 99 // 2
    # each member meets the first 10 only: still one connected group
    assert len(core.candidate_pairs(members, 0.5, 10)) == 45 + 90 * 10


# --- connected components -----------------------------------------------------------


def components(edges, rounds):
    """Drive the hash-to-min functions the way the Beam composite does."""
    sigs = {n: n.encode().ljust(8, b"\0") for e in edges for n in e}
    state = collections.defaultdict(list)
    for u, v in edges:
        for node, cluster in core.initial_clusters(u, sigs[u], v, sigs[v]):
            state[node].append(cluster)
    clusters = {n: core.merge_clusters(parts) for n, parts in state.items()}
    for _ in range(rounds):
        msgs = collections.defaultdict(list)
        for cluster in clusters.values():
            for node, part in core.hash_to_min_messages(cluster):
                msgs[node].append(part)
        clusters = {n: core.merge_clusters(parts) for n, parts in msgs.items()}
    out, unconverged, assigned_twice = {}, 0, 0
    for node, cluster in clusters.items():
        assigned, ok = core.component_assignments(node, cluster)
        unconverged += not ok
        for a in assigned:
            assigned_twice += a.member in out
            out[a.member] = a.root
    # converged: every member has exactly one root
    assert unconverged or not assigned_twice
    return out, unconverged


def test_components_are_transitive_with_min_root():
    edges = [("b", "c"), ("c", "d"), ("a", "d"), ("x", "y")]
    out, unconverged = components(edges, 6)
    assert out == {"b": "a", "c": "a", "d": "a", "y": "x"}
    assert unconverged == 0


def test_components_long_chain_within_round_bound_and_detection_beyond():
    nodes = [f"n{i:03d}" for i in range(64)]
    chain = list(zip(nodes, nodes[1:]))
    random.Random(1).shuffle(nodes)  # ids unrelated to chain position
    chain = [(nodes[i], nodes[i + 1]) for i in range(63)]
    out, unconverged = components(chain, 10)
    root = min(nodes)
    assert out == {n: root for n in nodes if n != root} and unconverged == 0
    # too few rounds: flagged (the composite then keeps the unmerged parts as rows)
    _, unconverged = components(chain, 1)
    assert unconverged > 0


def test_components_independent_of_edge_order():
    rng = random.Random(3)
    edges = [(f"{rng.randrange(40):02d}", f"{rng.randrange(40):02d}") for _ in range(50)]
    edges = [e for e in edges if e[0] != e[1]]
    first, _ = components(edges, 10)
    for _ in range(3):
        rng.shuffle(edges)
        swapped = [(v, u) if rng.random() < 0.5 else (u, v) for u, v in edges]
        assert components(swapped, 10)[0] == first


@pytest.mark.parametrize("member_sig,expected", [(b"\0\0\0\0" * 4, 1.0), (b"\1\0\0\0" * 4, 0.0)])
def test_assignment_similarity_is_to_the_root(member_sig, expected):
    cluster = {"a": b"\0\0\0\0" * 4, "b": member_sig}
    (a,), ok = core.component_assignments("a", cluster)
    assert ok and a == core.Assignment("b", "a", expected)
    assert core.component_assignments("b", {"a": cluster["a"]}) == ([], True)
