"""Plain functions behind ``transforms.dedup``: normalisation, signatures,
banding, pair verification and the connected-components step.

Nothing here imports Beam, so every piece is unit-tested directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence

import numpy as np
from datasketch import MinHash

from newsbeam.transforms.text import shingle_tokens

# datasketch >= 2.0 "affine32": one bijective affine permutation per slot over
# murmur-mixed 32-bit shingle hashes; values fit in uint32.
SCHEME = "affine32"
SIG_DTYPE = np.dtype("<u4")

# Typographic variants that NFKC leaves alone.
_TRANSLATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
})
_SPACE_RE = re.compile(r"\s+")
# A word broken after its hyphen at a single line break ("well-\nknown"), as
# hard wrappers leave it; not across a blank line (a paragraph ending in "-").
_HYPHEN_BREAK_RE = re.compile(r"(?<=[^\W\d_])-[ \t]*(?:\r\n|\r|\n)[ \t]*(?=[^\W\d_])")


def normalise(text: str) -> str:
    """Canonical form of a cleaned body for hashing and shingling.

    NFKC (full-width forms, ligatures, non-breaking spaces), curly quotes and
    dashes to ASCII, soft hyphens and zero-width characters removed, case
    folded, and every run of whitespace -- including line breaks, so
    hard-wrapped lines and paragraph spacing do not matter -- one space; a
    word wrapped after its hyphen is joined again ("well-known"). Cleaned
    bodies hold no single line breaks, so that last step changes no hash of
    a body the clean stage wrote.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = _HYPHEN_BREAK_RE.sub("-", text).casefold()
    return _SPACE_RE.sub(" ", text).strip()


def content_hash(normalised: str) -> str:
    """Exact-duplicate key: hex digest of the normalised body."""
    return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def tokens(normalised: str) -> list[str]:
    return shingle_tokens(normalised)


def shingles(words: Sequence[str], size: int) -> set[bytes]:
    """Distinct word ``size``-grams; a text shorter than ``size`` is one shingle."""
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8", "surrogatepass")}
    return {
        " ".join(words[i:i + size]).encode("utf-8", "surrogatepass")
        for i in range(len(words) - size + 1)
    }


class Hasher:
    """MinHash signatures with fixed permutations (built once per worker)."""

    def __init__(self, num_perm: int, seed: int, shingle_size: int):
        self.num_perm = num_perm
        self.seed = seed
        self.shingle_size = shingle_size
        self._perms = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations

    def signature(self, normalised: str) -> np.ndarray:
        """uint32 signature of the text's shingle set; empty when it has no words."""
        sh = shingles(tokens(normalised), self.shingle_size)
        if not sh:
            return np.zeros(0, dtype=SIG_DTYPE)
        m = MinHash(num_perm=self.num_perm, seed=self.seed, permutations=self._perms, scheme=SCHEME)
        m.update_batch(sh)
        return np.asarray(m.hashvalues, dtype=SIG_DTYPE)


def sig_to_bytes(sig: np.ndarray) -> bytes:
    return np.asarray(sig, dtype=SIG_DTYPE).tobytes()


def sig_from_bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=SIG_DTYPE)


def sig_to_index(sig: np.ndarray) -> list:
    """Signature as stored in ``IndexEntry.minhash`` (np.int64 list)."""
    return [np.int64(v) for v in np.asarray(sig, dtype=np.int64)]


def sig_from_index(values: Sequence[int]) -> np.ndarray:
    return np.asarray(list(values), dtype=np.int64).astype(SIG_DTYPE)


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """Fraction of equal MinHash slots; 0.0 for empty or incomparable signatures."""
    if not a or len(a) != len(b):
        return 0.0
    return float(np.mean(sig_from_bytes(a) == sig_from_bytes(b)))


def band_keys(sig: bytes, bands: int, rows: int, num_perm: int) -> list[bytes]:
    """One LSH key per band: band number + digest of its ``rows`` slots.

    A signature of another length than ``num_perm`` (an index written with other
    settings) gets no band keys: it is only matched exactly, by content hash.
    """
    width = rows * SIG_DTYPE.itemsize
    if len(sig) != num_perm * SIG_DTYPE.itemsize:
        return []
    return [
        i.to_bytes(2, "big") + hashlib.blake2b(sig[i * width:(i + 1) * width], digest_size=8).digest()
        for i in range(bands)
    ]


# --- nodes ---------------------------------------------------------------
# A node is an exact-duplicate group's representative. Its key is a string whose
# order *is* the representative order, so "min key" picks the kept row anywhere:
#   previous-run index entries first (they are already in the warehouse; the oldest
#   ingested wins), then new articles by earliest published_at (unknown last),
#   then longest text, then content (the hash of the normalised text), and only then
#   smallest article_id, which hashes the input's path: which of two near copies
#   is kept must not change when the files are renamed or moved.
_OFFSET = 1 << 62
_NO_DATE = (1 << 63) - 1
_MAX_LEN = 10 ** 12


def node_key(article_id: str, *, old: bool, when: Optional[int], text_len: int = 0,
             content: str = "") -> str:
    when_part = _NO_DATE if when is None else when + _OFFSET
    length_part = _MAX_LEN - min(text_len, _MAX_LEN - 1)
    # `content` (a hex content hash) has no "|", so the id still follows the first one.
    return f"{0 if old else 1}{when_part:019d}{length_part:013d}{content}|{article_id}"


def node_id(key: str) -> str:
    return key.split("|", 1)[1]


def node_is_old(key: str) -> bool:
    return key[0] == "0"


# --- candidates ----------------------------------------------------------


def candidate_pairs(
    members: Iterable[tuple[str, bytes]], threshold: float, max_bucket: int
) -> list[tuple[str, str, float]]:
    """Verified pairs ``(smaller key, larger key, similarity)`` within one LSH bucket.

    Pairs of two previous-run nodes are skipped (they were resolved when written).
    All pairs are compared while the bucket holds at most ``max_bucket`` members;
    a larger bucket (boilerplate shared by many texts) compares every member with
    the first ``max_bucket`` in key order only, so the work stays linear in its size.
    """
    ordered = sorted(dict(members).items())
    out = []
    for j in range(1, len(ordered)):
        kj, sj = ordered[j]
        for i in range(min(j, max_bucket)):
            ki, si = ordered[i]
            if node_is_old(ki) and node_is_old(kj):
                continue
            sim = estimated_jaccard(si, sj)
            if sim >= threshold:
                out.append((ki, kj, sim))
    return out


# --- connected components: hash-to-min -------------------------------------
# Rastogi et al., "Finding Connected Components in Map-Reduce in Logarithmic
# Rounds" (ICDE 2013). Each node v holds a cluster C_v (node -> signature), at
# first itself and its neighbours. A round sends C_v to min(C_v) and {min(C_v)}
# to every member; the new C_v is the union of what v receives. It converges in
# O(log d) rounds (d = component diameter): then the minimum node -- the
# representative -- holds the whole component and every other node holds just
# the minimum. Only nodes that have a verified edge take part, so the data is
# the duplicate graph, not the collection.


def initial_clusters(u: str, su: bytes, v: str, sv: bytes) -> list[tuple[str, dict]]:
    both = {u: su, v: sv}
    return [(u, both), (v, both)]


def hash_to_min_messages(cluster: Mapping[str, bytes]) -> list[tuple[str, dict]]:
    m = min(cluster)
    out = [(m, dict(cluster))]
    out.extend((u, {m: cluster[m]}) for u in cluster if u != m)
    return out


def merge_clusters(parts: Iterable[Mapping[str, bytes]]) -> dict:
    merged: dict = {}
    for part in parts:
        merged.update(part)
    return merged


class Assignment(NamedTuple):
    member: str  # node key of the merged node
    root: str  # node key of the representative
    similarity: float


def component_assignments(node: str, cluster: Mapping[str, bytes]) -> tuple[list[Assignment], bool]:
    """Read the result off a converged node: the root lists its members.

    Returns the assignments and whether this node's state looks converged (a
    non-root node holding more than the root means the round bound was too low).
    """
    root = min(cluster)
    if node != root:
        return [], len(cluster) == 1
    return [
        Assignment(u, root, estimated_jaccard(cluster[u], cluster[root]))
        for u in sorted(cluster) if u != root
    ], True
