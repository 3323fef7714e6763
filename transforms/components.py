"""Connected components of a graph given as edges, by hash-to-min, with no step
that holds the graph in one worker.

In:  ``((u, v), (payload_u, payload_v))`` per edge; nodes are strings that sort
     (the component's root is its smallest node), payloads ride along (``None`` is fine).
Out: ``(node, cluster)`` per node of an edge, ``cluster`` a dict node -> payload; the
     root's cluster lists the whole component once the rounds converged
     (:func:`transforms.dedup_core.component_assignments` reads it off).

Each round is one ``GroupByKey``: every node sends its cluster to its smallest
member and its smallest member to the others. A component of diameter d needs
about 2*log2(d) rounds; ``rounds`` is fixed so the graph of the pipeline is.
Used by deduplication (copies) and stories (candidate pairs).
"""

from __future__ import annotations

import apache_beam as beam

from newsbeam.transforms import dedup_core as core


def _start(edge):
    (u, v), (pu, pv) = edge
    return core.initial_clusters(u, pu, v, pv)


def _messages(kv):
    return core.hash_to_min_messages(kv[1])


def _merge(kv):
    return kv[0], core.merge_clusters(kv[1])


class ConnectedComponents(beam.PTransform):
    """Edges -> (node, cluster) after ``rounds`` hash-to-min rounds (see the module docstring)."""

    def __init__(self, rounds: int):
        super().__init__()
        if rounds < 1:
            raise ValueError("rounds must be >= 1")
        self.rounds = rounds

    def expand(self, edges):
        clusters = (edges
                    | "StartClusters" >> beam.FlatMap(_start)
                    | "GroupStart" >> beam.GroupByKey()
                    | "MergeStart" >> beam.Map(_merge))
        for i in range(self.rounds):
            clusters = (clusters
                        | f"HashToMin{i}" >> beam.FlatMap(_messages)
                        | f"GroupRound{i}" >> beam.GroupByKey()
                        | f"MergeRound{i}" >> beam.Map(_merge))
        return clusters
