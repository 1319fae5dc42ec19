"""Reverse-reachable (RR) sets for IMM, stored flat, and greedy maximum coverage.

An RR set is identified by a 64-bit key. Its root is drawn from a pool of nodes
by the hash ``mix64(key)``; the set is every node with a live path to the root,
found by a breadth-first search along reversed arcs. Each visited node ``v`` draws
its live in-arcs from its own stateless uniform stream (SplitMix64 seeded with
``mix64(key + (v + 1) * GOLDEN)``), so nothing depends on threads or chunking.

Live in-arcs are drawn by geometric jumps (as in SUBSIM, Guo et al. SIGMOD 2020)
instead of one coin per arc: with a node's in-arcs sorted by non-increasing
probability, the next candidate after position ``j`` lies a Geometric(``p_j``) gap
ahead, and a candidate ``i`` is kept with chance ``p_i / p_j``. Each arc is then
live independently with exactly its own probability, while a node costs time in
proportion to its live in-arcs (about one under weighted cascade), not its
in-degree. The worlds of RR sets are therefore *not* those of the cascade kernel
for the same key; they have the same distribution.

RR sets are stored flat: ``members`` (int32) holds the sets one after the other
and ``offsets`` (int64, one more than the number of sets) delimits them.
"""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .hashing import GOLDEN, _INV53, _S11, mix64

__all__ = ["rr_sample", "rr_gather", "rr_coverage", "max_coverage"]


@njit(**JIT)
def _node_uniform(stream, t):
    """Draw ``t`` (1, 2, ...) of the uniform stream ``stream``, in [0, 1)."""
    z = mix64(stream + np.uint64(t) * GOLDEN)
    return np.float64(z >> _S11) * _INV53


@njit(**PARALLEL_JIT)
def rr_sample(roff, rsrc, rprob, rlogq, nlogq, pool, base, ids, chunk_len, cap, buf, starts, sizes):
    """Sample the RR sets numbered ``ids`` (stream ``base``) into ``buf``.

    ``roff, rsrc, rprob``: the reverse CSR (in-arcs of each node: tail and
    probability), each node's in-arcs sorted by non-increasing probability;
    ``rlogq = log1p(-rprob)``; ``nlogq[v]`` is ``log1p(-p)`` when every in-arc of
    ``v`` has the same probability ``p`` in (0, 1) and 0 otherwise (a shortcut
    that reads no per-arc probability; it draws exactly what the general loop draws).

    The sets are split into chunks of ``chunk_len`` consecutive entries of ``ids``;
    chunk ``c`` writes its sets one after the other into
    ``buf[c * cap:(c + 1) * cap]`` (the written members double as the BFS queue).
    Set ``b`` gets ``starts[b]`` (absolute position in ``buf``) and ``sizes[b]``;
    a set that did not fit, and every later set of its chunk, gets ``sizes[b] = -1``
    and must be sampled again with a larger ``cap``.
    """
    n_nodes = roff.size - 1
    n = ids.size
    n_pool = pool.size
    n_chunks = (n + chunk_len - 1) // chunk_len
    for c in prange(n_chunks):
        lo = c * chunk_len
        hi = min(n, lo + chunk_len)
        for b in range(lo, hi):
            sizes[b] = -1
            starts[b] = -1
        stamp = np.zeros(n_nodes, dtype=np.int32)
        pos = c * cap
        end = pos + cap
        for b in range(lo, hi):
            if pos >= end:
                break
            key = mix64(base + (np.uint64(ids[b]) + np.uint64(1)) * GOLDEN)
            z = mix64(key)
            root = pool[np.int64(np.float64(z >> _S11) * _INV53 * n_pool)]
            sid = np.int32(b - lo + 1)
            start = pos
            stamp[root] = sid
            buf[pos] = root
            pos += 1
            head = start
            overflow = False
            while head < pos and not overflow:
                v = buf[head]
                head += 1
                stream = mix64(key + (np.uint64(v) + np.uint64(1)) * GOLDEN)
                t = 0
                j = roff[v]
                j_end = roff[v + 1]
                lq = nlogq[v]
                if lq < 0.0:
                    # every in-arc of v has the same probability in (0, 1): jumps only, no thinning
                    while j < j_end:
                        t += 1
                        gap = np.floor(np.log(1.0 - _node_uniform(stream, t)) / lq)
                        if gap >= j_end - j:
                            break
                        j += np.int64(gap)
                        u = rsrc[j]
                        j += 1
                        if stamp[u] == sid:
                            continue
                        if pos >= end:
                            overflow = True
                            break
                        stamp[u] = sid
                        buf[pos] = u
                        pos += 1
                    continue
                while j < j_end:
                    rate = rprob[j]
                    if rate <= 0.0:
                        break
                    if rate < 1.0:
                        # arcs j, j+1, ... are candidates with chance ``rate`` each: jump to the first one
                        t += 1
                        gap = np.floor(np.log(1.0 - _node_uniform(stream, t)) / rlogq[j])
                        if gap >= j_end - j:
                            break
                        j += np.int64(gap)
                    p = rprob[j]
                    if p < rate:
                        # thinning: the candidate is live with chance p / rate
                        t += 1
                        if _node_uniform(stream, t) * rate >= p:
                            j += 1
                            continue
                    u = rsrc[j]
                    j += 1
                    if stamp[u] == sid:
                        continue
                    if pos >= end:
                        overflow = True
                        break
                    stamp[u] = sid
                    buf[pos] = u
                    pos += 1
            if overflow:
                break
            starts[b] = start
            sizes[b] = pos - start


@njit(**JIT)
def rr_gather(buf, starts, sizes, dest, members):
    """Copy set ``b`` (``buf[starts[b]:starts[b] + sizes[b]]``) to ``members[dest[b]:]``."""
    for b in range(starts.size):
        s = starts[b]
        d = dest[b]
        for i in range(sizes[b]):
            members[d + i] = buf[s + i]


@njit(**JIT)
def rr_coverage(members, offsets, is_seed):
    """Number of RR sets that hold at least one node with ``is_seed[node] != 0``."""
    hits = 0
    for r in range(offsets.size - 1):
        for i in range(offsets[r], offsets[r + 1]):
            if is_seed[members[i]]:
                hits += 1
                break
    return hits


@njit(**JIT)
def _topk_sum(count, k, heap):
    """Sum of the ``k`` largest entries of ``count`` (a min-heap of size ``k`` in ``heap``)."""
    size = 0
    total = 0
    for v in range(count.size):
        c = count[v]
        if size < k:
            # sift up
            i = size
            size += 1
            total += c
            while i > 0:
                parent = (i - 1) >> 1
                if heap[parent] <= c:
                    break
                heap[i] = heap[parent]
                i = parent
            heap[i] = c
        elif c > heap[0]:
            total += c - heap[0]
            # replace the root, sift down
            i = 0
            while True:
                child = 2 * i + 1
                if child >= size:
                    break
                if child + 1 < size and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= c:
                    break
                heap[i] = heap[child]
                i = child
            heap[i] = c
    return total


@njit(**JIT)
def max_coverage(members, offsets, n_nodes, k, seeds, with_bound):
    """Greedy maximum coverage of the flat RR sets by ``k`` nodes: ``(sets covered, upper bound)``.

    Writes the chosen nodes, in order, to ``seeds``. Each step takes the node
    covering the most uncovered sets, the lowest index among equals. Uses an
    inverted index (node -> sets holding it) stored flat.

    With ``with_bound`` the second value bounds from above the sets that *any*
    ``k`` nodes cover: for every greedy prefix ``S_i`` (``i = 0 .. k``), no ``k`` nodes
    cover more than ``cov(S_i)`` plus the ``k`` largest marginal coverages given
    ``S_i`` (submodularity); the minimum over ``i`` is returned (OPIM-C's bound,
    Tang et al. 2018). Without it the second value is -1.
    """
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
    covered = np.zeros(n_sets, dtype=np.uint8)
    chosen = np.zeros(n_nodes, dtype=np.uint8)
    heap = np.empty(max(k, 1), dtype=np.int64)
    total = 0
    upper = -1
    for j in range(k):
        if with_bound:
            # a chosen node's count is 0 once its sets are covered, so it never inflates the sum
            bound = total + _topk_sum(count, k, heap)
            if upper < 0 or bound < upper:
                upper = bound
        best = -1
        best_count = -1
        for v in range(n_nodes):
            if chosen[v] == 0 and count[v] > best_count:
                best = v
                best_count = count[v]
        chosen[best] = 1
        seeds[j] = best
        total += best_count
        for i in range(ioff[best], ioff[best + 1]):
            r = iset[i]
            if covered[r] == 0:
                covered[r] = 1
                for q in range(offsets[r], offsets[r + 1]):
                    count[members[q]] -= 1
    if with_bound:
        bound = total + _topk_sum(count, k, heap)
        if bound < upper:
            upper = bound
    return total, upper
