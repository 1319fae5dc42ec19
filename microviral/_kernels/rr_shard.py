"""Greedy maximum coverage over RR sets split into shards, one step at a time.

A shard (a Dask worker's share of the RR sets) cannot pick a node by itself: the
node to pick maximises coverage over *all* shards. So the greedy loop of
:func:`microviral._kernels.rrsets.max_coverage` is cut at the pick: a shard
builds its inverted index and counts (:func:`shard_index`), the caller sums the
counts of every shard and picks, and each shard then covers its sets holding
the picked node (:func:`shard_cover`) and reports which counts fell. The sums
equal the counts over all the sets, so the picks equal the local greedy's.
"""

import numpy as np
from numba import njit

from .._config import JIT

__all__ = ["shard_index", "shard_cover"]


@njit(**JIT)
def shard_index(members, offsets, n_nodes):
    """``(count, ioff, iset)``: sets holding each node, and the inverted index (node -> its sets) stored flat."""
    n_sets = offsets.size - 1
    count = np.zeros(n_nodes, dtype=np.int64)
    for i in range(members.size):
        count[members[i]] += 1
    ioff = np.zeros(n_nodes + 1, dtype=np.int64)
    for v in range(n_nodes):
        ioff[v + 1] = ioff[v] + count[v]
    fill = ioff[:-1].copy()
    iset = np.empty(members.size, dtype=np.int32)
    for r in range(n_sets):
        for i in range(offsets[r], offsets[r + 1]):
            v = members[i]
            iset[fill[v]] = r
            fill[v] += 1
    return count, ioff, iset


@njit(**JIT)
def shard_cover(v, members, offsets, ioff, iset, covered, count, drop, touched):
    """Cover the uncovered sets holding node ``v``; return how many nodes' counts fell.

    ``count`` (per node, over uncovered sets) is decremented in place; the nodes
    whose count fell are written to ``touched[:m]`` and by how much to
    ``drop[touched[:m]]`` (``drop`` must be all zero on entry, and the caller zeroes
    those entries again after reading them).
    """
    m = 0
    for i in range(ioff[v], ioff[v + 1]):
        r = iset[i]
        if covered[r] == 0:
            covered[r] = 1
            for q in range(offsets[r], offsets[r + 1]):
                u = members[q]
                count[u] -= 1
                if drop[u] == 0:
                    touched[m] = u
                    m += 1
                drop[u] += 1
    return m
