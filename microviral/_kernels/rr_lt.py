"""Reverse-reachable sets under linear threshold: reverse random walks.

Under LT's live-edge form (Kempe et al. 2003) each node keeps at most one in-arc,
arc ``(u, v)`` with probability ``w(u, v)`` and none with ``1 - sum_u w(u, v)``.
The nodes that reach a root ``v`` in such a world are found by walking backwards:
``v`` picks its kept in-arc, its tail picks its own, and so on, until a node
keeps none or the walk returns to a node already on it (every node before it is
already in the set, and a node's choice is one draw, the same on every visit).
The set is the walk. Choosing the in-arc costs a binary search over the node's
cumulative in-weights.

Each node's choice is one uniform of a stateless stream of (set key, node), like
IC's RR sets; roots are drawn from the pool by ``mix64(key)``, the same rule as
:func:`microviral._kernels.rrsets.rr_sample`, whose arguments and outputs these
follow (chunks of ``ids``, per-chunk buffers, ``sizes[b] = -1`` for sets that did
not fit).
"""

import numpy as np
from numba import njit

from .._config import JIT
from .hashing import _INV53, _S11, GOLDEN, mix64
from .rrsets import chunk_rows, set_key_root

__all__ = ["in_weight_cumsum", "rr_sample_lt"]

# A second stream per (set key, node): IC's RR sampler uses t = 1, 2, ... of mix64(key + (v + 1) * GOLDEN);
# the walk uses one draw of a salted stream, so the two samplers never share draws.
_WALK_SALT = np.uint64(0x524C_5457_616C_6B21)


@njit(**JIT)
def in_weight_cumsum(roff, rprob):
    """Per node, the running sum of its in-weights (summed within the node only, so no rounding carries over)."""
    out = np.empty(rprob.size, dtype=np.float64)
    for v in range(roff.size - 1):
        acc = 0.0
        for j in range(roff[v], roff[v + 1]):
            acc += rprob[j]
            out[j] = acc
    return out


@njit(**JIT)
def _pick(rcum, lo, hi, u):
    """First position ``j`` in ``[lo, hi)`` with ``u < rcum[j]``, or -1 if ``u`` is past the node's total weight."""
    if lo == hi or u >= rcum[hi - 1]:
        return -1
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < rcum[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(**JIT)
def rr_sample_lt(roff, rsrc, rcum, pool, base, ids, chunk_len, cap, buf, starts, sizes):
    """Sample the LT RR sets numbered ``ids`` (stream ``base``) into ``buf``.

    ``roff, rsrc``: the reverse CSR (in-arcs of each node: tail), ``rcum`` each
    node's cumulative in-weights (:func:`in_weight_cumsum`). Chunking, buffers and
    outputs as in :func:`microviral._kernels.rrsets.rr_sample`.
    """
    n_nodes = roff.size - 1
    n = ids.size
    n_chunks = (n + chunk_len - 1) // chunk_len
    for c in range(n_chunks):
        lo, hi = chunk_rows(c, chunk_len, n, starts, sizes)
        stamp = np.zeros(n_nodes, dtype=np.int32)
        pos = c * cap
        end = pos + cap
        for b in range(lo, hi):
            if pos >= end:
                break
            key, root = set_key_root(base, ids[b], pool)
            sid = np.int32(b - lo + 1)
            start = pos
            stamp[root] = sid
            buf[pos] = root
            pos += 1
            walk = mix64(key ^ _WALK_SALT)
            v = root
            overflow = False
            while True:
                z = mix64(walk + (np.uint64(v) + np.uint64(1)) * GOLDEN)
                j = _pick(rcum, roff[v], roff[v + 1], np.float64(z >> _S11) * _INV53)
                if j < 0:
                    break
                u = rsrc[j]
                if stamp[u] == sid:
                    break
                if pos >= end:
                    overflow = True
                    break
                stamp[u] = sid
                buf[pos] = u
                pos += 1
                v = u
            if overflow:
                break
            starts[b] = start
            sizes[b] = pos - start
