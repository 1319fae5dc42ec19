"""Greedy maximum coverage over RR sets split into shards, one step at a time.

A shard (a Dask worker's share of the RR sets) cannot pick a node by itself: the
node to pick maximises coverage over *all* shards. So the greedy loop of
:func:`microviral._kernels.rrsets.max_coverage` is cut at the pick: a shard
builds its inverted index and counts (:func:`shard_index`), the caller sums the
counts of every shard and picks, and each shard then covers its sets holding
the picked node (:func:`shard_cover`) and reports which counts fell. The sums
equal the counts over all the sets, so the picks equal the local greedy's.
"""

from numba import njit

from .._config import JIT
from .rrsets import CANDIDATES, candidate_index

__all__ = ["shard_index", "shard_cover"]


@njit(**JIT)
def shard_index(members, offsets, n_nodes, n_candidates=CANDIDATES):
    """``(count, slot, ioff, iset)``: sets holding each node, and the inverted index of the candidates.

    As in :func:`microviral._kernels.rrsets.max_coverage`, only the ``n_candidates``
    nodes in most of this shard's sets (and any tied with the last) are indexed
    (see :func:`~microviral._kernels.rrsets.candidate_index`): the index costs one
    int32 and a scattered write per member it holds, and the picks nearly always
    come from those nodes. :func:`shard_cover` finds the sets of any other node by a
    pass over the shard's sets.
    """
    count, _, slot, _, ioff, iset = candidate_index(members, offsets, n_nodes, n_candidates)
    return count, slot, ioff, iset


@njit(**JIT)
def _cover_set(r, members, offsets, covered, count, drop, touched, m):
    covered[r] = 1
    for q in range(offsets[r], offsets[r + 1]):
        u = members[q]
        count[u] -= 1
        if drop[u] == 0:
            touched[m] = u
            m += 1
        drop[u] += 1
    return m


@njit(**JIT)
def shard_cover(v, members, offsets, slot, ioff, iset, covered, count, drop, touched):
    """Cover the uncovered sets holding node ``v``; return how many nodes' counts fell.

    ``count`` (per node, over uncovered sets) is decremented in place; the nodes
    whose count fell are written to ``touched[:m]`` and by how much to
    ``drop[touched[:m]]`` (``drop`` must be all zero on entry, and the caller zeroes
    those entries again after reading them).
    """
    m = 0
    h = slot[v]
    if h >= 0:
        for i in range(ioff[h], ioff[h + 1]):
            r = iset[i]
            if covered[r] == 0:
                m = _cover_set(r, members, offsets, covered, count, drop, touched, m)
    elif count[v] > 0:
        for r in range(offsets.size - 1):
            if covered[r] == 0:
                for i in range(offsets[r], offsets[r + 1]):
                    if members[i] == v:
                        m = _cover_set(r, members, offsets, covered, count, drop, touched, m)
                        break
    return m
