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

Two samplers draw exactly the same sets. :func:`rr_sample` runs one breadth-first
search at a time. On graphs whose arrays do not fit in the CPU's caches almost
every step of it waits for memory: the in-arcs of the node just dequeued, then the
tail of the arc just drawn, one miss after the other. :func:`rr_sample_interleaved`
runs ``LANES`` searches side by side, a step of each in turn, and prefetches what
a search will read at its next step (a drawn arc's tail, a queued node's in-arcs),
so the misses of different searches overlap. Each search draws the same live arcs
(they depend only on the key and the node) and meets its nodes in the same order,
so the sets are identical; only the work is reordered.
"""

import numpy as np
from numba import njit

from .._config import JIT
from .hashing import GOLDEN, _INV53, _S11, mix64
from .bits import prefetch

__all__ = ["rr_sample", "rr_sample_interleaved", "rr_gather", "rr_coverage", "max_coverage"]

# searches run side by side by rr_sample_interleaved, and the most live in-arcs one step of a search draws
LANES = 16
PICKS = 64
# nodes for which max_coverage builds its inverted index (see there)
CANDIDATES = 4096


@njit(**JIT)
def _node_uniform(stream, t):
    """Draw ``t`` (1, 2, ...) of the uniform stream ``stream``, in [0, 1)."""
    z = mix64(stream + np.uint64(t) * GOLDEN)
    return np.float64(z >> _S11) * _INV53


@njit(**JIT)
def chunk_rows(c, chunk_len, n, starts, sizes):
    """Rows ``lo .. hi - 1`` of ``ids`` that chunk ``c`` samples, marked not sampled (-1) until written."""
    lo = c * chunk_len
    hi = min(n, lo + chunk_len)
    for b in range(lo, hi):
        sizes[b] = -1
        starts[b] = -1
    return lo, hi


@njit(**JIT)
def set_key_root(base, ident, pool):
    """``(key, root)`` of RR set number ``ident`` of stream ``base``: the root is drawn from ``pool`` by ``mix64(key)``."""
    key = mix64(base + (np.uint64(ident) + np.uint64(1)) * GOLDEN)
    z = mix64(key)
    return key, pool[np.int64(np.float64(z >> _S11) * _INV53 * pool.size)]


@njit(**JIT)
def _draw_in_arcs(rprob, rlogq, stream, lq, j, j_end, t, picks, p0, limit, rsrc):
    """Draw live in-arcs of one node by geometric jumps, from arc position ``j`` and draw ``t`` of its stream.

    ``lq`` is the node's ``nlogq`` shortcut (jumps only) or 0 (jumps and thinning
    over ``rprob``, ``rlogq``); both samplers draw through here. Writes at most ``limit`` arc positions to ``picks[p0:]``, prefetching each
    arc's tail. Returns ``(count, j, t)``, with ``j == j_end`` once the node has no
    live in-arc left; otherwise the draw resumes from the returned ``(j, t)``.
    """
    na = 0
    if lq < 0.0:
        while j < j_end and na < limit:
            t += 1
            gap = np.floor(np.log(1.0 - _node_uniform(stream, t)) / lq)
            if gap >= j_end - j:
                return na, j_end, t
            j += np.int64(gap)
            picks[p0 + na] = j
            na += 1
            prefetch(rsrc, j)
            j += 1
        return na, j, t
    while j < j_end and na < limit:
        rate = rprob[j]
        if rate <= 0.0:
            return na, j_end, t
        if rate < 1.0:
            t += 1
            gap = np.floor(np.log(1.0 - _node_uniform(stream, t)) / rlogq[j])
            if gap >= j_end - j:
                return na, j_end, t
            j += np.int64(gap)
        p = rprob[j]
        if p < rate:
            t += 1
            if _node_uniform(stream, t) * rate >= p:
                j += 1
                continue
        picks[p0 + na] = j
        na += 1
        prefetch(rsrc, j)
        j += 1
    return na, j, t


@njit(**JIT)
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
    n_chunks = (n + chunk_len - 1) // chunk_len
    for c in range(n_chunks):
        lo, hi = chunk_rows(c, chunk_len, n, starts, sizes)
        stamp = np.zeros(n_nodes, dtype=np.int32)
        picks = np.empty(PICKS, dtype=np.int64)
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
                while j < j_end and not overflow:
                    na, j, t = _draw_in_arcs(rprob, rlogq, stream, lq, j, j_end, t, picks, 0, PICKS, rsrc)
                    for a in range(na):
                        u = rsrc[picks[a]]
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
def rr_sample_interleaved(roff, rsrc, rprob, rlogq, nlogq, pool, base, ids, chunk_len, cap, buf, starts, sizes):
    """:func:`rr_sample` with ``LANES`` searches side by side per chunk: the same arguments, the same sets.

    Each lane holds one RR set under construction: its queue (the members so far),
    a bitset of its members, and the live in-arcs drawn at its last step, whose
    tails were prefetched. A step of a lane first adds those tails that are new
    to the queue (prefetching their in-arcs), then draws up to ``PICKS`` live
    in-arcs of its next queued node; a node queued in this very step waits for the
    next one, when its prefetched in-arcs have arrived. A lane whose queue is
    exhausted writes its set to ``buf`` and takes the chunk's next key. Sets reach
    ``buf`` in the order they finish; ``starts`` and ``sizes`` say where each is.
    When a set does not fit, the chunk stops and every set it has not written
    keeps ``sizes[b] = -1``.
    """
    n_nodes = roff.size - 1
    n = ids.size
    n_chunks = (n + chunk_len - 1) // chunk_len
    words = (n_nodes + 63) >> 6
    one = np.uint64(1)
    for c in range(n_chunks):
        lo, hi = chunk_rows(c, chunk_len, n, starts, sizes)
        # a set has distinct members, and one larger than the chunk's room cannot be written anyway
        qcap = min(n_nodes, cap)
        queue = np.empty(LANES * qcap, dtype=np.int32)
        bits = np.zeros(LANES * words, dtype=np.uint64)
        picks = np.empty(LANES * PICKS, dtype=np.int64)
        lane_set = np.full(LANES, -1, dtype=np.int64)
        lane_key = np.zeros(LANES, dtype=np.uint64)
        head = np.zeros(LANES, dtype=np.int64)
        length = np.zeros(LANES, dtype=np.int64)
        ready = np.zeros(LANES, dtype=np.int64)
        n_picks = np.zeros(LANES, dtype=np.int64)
        # the node whose in-arcs are being drawn (-1: none), and where its draw stands
        node = np.full(LANES, -1, dtype=np.int64)
        arc = np.zeros(LANES, dtype=np.int64)
        arc_end = np.zeros(LANES, dtype=np.int64)
        draw = np.zeros(LANES, dtype=np.int64)
        stream = np.zeros(LANES, dtype=np.uint64)
        pos = c * cap
        end = pos + cap
        nxt = lo
        stop = False
        busy = True
        while busy and not stop:
            busy = False
            for lane in range(LANES):
                b = lane_set[lane]
                qb = lane * qcap
                wb = lane * words
                if b < 0:
                    if nxt < hi:
                        b = nxt
                        nxt += 1
                        lane_set[lane] = b
                        key, root = set_key_root(base, ids[b], pool)
                        lane_key[lane] = key
                        queue[qb] = root
                        bits[wb + (root >> 6)] |= one << np.uint64(root & 63)
                        head[lane] = 0
                        length[lane] = 1
                        ready[lane] = 0
                        n_picks[lane] = 0
                        node[lane] = -1
                        prefetch(roff, root)
                        prefetch(nlogq, root)
                        busy = True
                    continue
                busy = True
                pb = lane * PICKS
                ql = length[lane]
                for a in range(n_picks[lane]):
                    u = rsrc[picks[pb + a]]
                    w = wb + (u >> 6)
                    m = one << np.uint64(u & 63)
                    if bits[w] & m:
                        continue
                    if ql >= qcap:
                        stop = True
                        break
                    bits[w] |= m
                    queue[qb + ql] = u
                    ql += 1
                    prefetch(roff, u)
                    prefetch(nlogq, u)
                if stop:
                    break
                length[lane] = ql
                n_picks[lane] = 0
                if node[lane] < 0 and head[lane] < ready[lane]:
                    v = queue[qb + head[lane]]
                    head[lane] += 1
                    node[lane] = v
                    arc[lane] = roff[v]
                    arc_end[lane] = roff[v + 1]
                    draw[lane] = 0
                    stream[lane] = mix64(lane_key[lane] + (np.uint64(v) + one) * GOLDEN)
                if node[lane] >= 0:
                    na, j, t = _draw_in_arcs(rprob, rlogq, stream[lane], nlogq[node[lane]], arc[lane], arc_end[lane],
                                             draw[lane], picks, pb, PICKS, rsrc)
                    n_picks[lane] = na
                    arc[lane] = j
                    draw[lane] = t
                    if j >= arc_end[lane]:
                        node[lane] = -1
                ready[lane] = ql
                if n_picks[lane] == 0 and node[lane] < 0 and head[lane] == ql:
                    if pos + ql > end:
                        stop = True
                        break
                    starts[b] = pos
                    sizes[b] = ql
                    for i in range(ql):
                        u = queue[qb + i]
                        buf[pos + i] = u
                        bits[wb + (u >> 6)] = np.uint64(0)
                    pos += ql
                    lane_set[lane] = -1


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
def _cover(r, members, offsets, covered, count, hist, track):
    """Mark set ``r`` covered and take it out of its members' counts (and, with ``track``, of ``hist``, their histogram)."""
    covered[r] = 1
    for q in range(offsets[r], offsets[r + 1]):
        u = members[q]
        if track:
            hist[count[u]] -= 1
            hist[count[u] - 1] += 1
        count[u] -= 1


@njit(**JIT)
def _top_sum(hist, top, k):
    """Sum of the ``k`` largest counts, from their histogram ``hist`` whose last non-zero entry is at or below ``top``."""
    total = 0
    left = k
    c = top
    while left > 0 and c > 0:
        h = hist[c]
        if h > 0:
            take = min(h, left)
            total += take * c
            left -= take
        c -= 1
    return total


@njit(**JIT)
def candidate_index(members, offsets, n_nodes, n_candidates):
    """Sets per node and the inverted index of the *candidates*: ``(count, floor, slot, cand, ioff, iset)``.

    ``count[v]`` is the number of sets holding ``v``. Candidates are the nodes in at
    least ``floor`` sets: the ``n_candidates``-th largest count (every node in a set
    when ``n_candidates`` is 0 or not below ``n_nodes``). ``cand`` lists them in
    increasing order, ``slot[v]`` is ``v``'s place in it (-1 for the others), and
    the sets holding ``cand[h]`` are ``iset[ioff[h]:ioff[h + 1]]``, in increasing order.
    """
    count = np.zeros(n_nodes, dtype=np.int64)
    for i in range(members.size):
        count[members[i]] += 1
    # at least 1: a node in no set needs no index
    floor = 1
    if 0 < n_candidates < n_nodes:
        floor = max(1, np.partition(count, n_nodes - n_candidates)[n_nodes - n_candidates])
    slot = np.full(n_nodes, -1, dtype=np.int64)
    cand = np.empty(n_nodes, dtype=np.int64)
    n_slots = 0
    for v in range(n_nodes):
        if count[v] >= floor:
            slot[v] = n_slots
            cand[n_slots] = v
            n_slots += 1
    ioff = np.zeros(n_slots + 1, dtype=np.int64)
    for h in range(n_slots):
        ioff[h + 1] = ioff[h] + count[cand[h]]
    fill = ioff[:-1].copy()
    iset = np.empty(ioff[n_slots], dtype=np.int32)
    for r in range(offsets.size - 1):
        for i in range(offsets[r], offsets[r + 1]):
            h = slot[members[i]]
            if h >= 0:
                iset[fill[h]] = r
                fill[h] += 1
    return count, floor, slot, cand[:n_slots], ioff, iset


@njit(**JIT)
def max_coverage(members, offsets, n_nodes, k, seeds, with_bound, n_candidates=CANDIDATES):
    """Greedy maximum coverage of the flat RR sets by ``k`` nodes: ``(sets covered, upper bound)``.

    Writes the chosen nodes, in order, to ``seeds``. Each step takes the node
    covering the most uncovered sets, the lowest index among equals.

    Every node's count of uncovered sets is kept exactly, but the inverted index
    (node -> sets holding it, stored flat) is built only for *candidates*: the
    ``n_candidates`` nodes in most sets, and any tied with the last of them. The
    index is what costs (a scattered write per member), while the picks nearly
    always come from the best-covered nodes. A pick outside the candidates finds its
    sets by one pass over all the sets instead, so the result is the same as with
    a full index. Picks are looked for among the candidates, and among all nodes
    only when another could equal them (counts only fall, so no other node ever
    counts more than the candidates' floor less one).

    With ``with_bound`` the second value bounds from above the sets that *any*
    ``k`` nodes cover: for every greedy prefix ``S_i`` (``i = 0 .. k``), no ``k`` nodes
    cover more than ``cov(S_i)`` plus the ``k`` largest marginal coverages given
    ``S_i`` (submodularity); the minimum over ``i`` is returned (OPIM-C's bound,
    Tang et al. 2018). Without it the second value is -1. The ``k`` largest counts
    are read off a histogram of the counts, kept as sets are covered, instead of a
    pass over all nodes per prefix.
    """
    n_sets = offsets.size - 1
    count, floor, slot, cand, ioff, iset = candidate_index(members, offsets, n_nodes, n_candidates)
    # counts only fall, so no node outside the candidates is ever in more than `low` uncovered sets
    low = floor - 1
    covered = np.zeros(n_sets, dtype=np.uint8)
    chosen = np.zeros(n_nodes, dtype=np.uint8)
    # the k largest counts for the bound come from the histogram of counts (they are small integers)
    top = count.max() if n_nodes and with_bound else 0
    hist = np.zeros(top + 1, dtype=np.int64)
    if with_bound:
        for v in range(n_nodes):
            hist[count[v]] += 1
    total = 0
    upper = -1
    for j in range(k):
        if with_bound:
            # a chosen node's count is 0 once its sets are covered, so it never inflates the sum
            while top > 0 and hist[top] == 0:
                top -= 1
            bound = total + _top_sum(hist, top, k)
            if upper < 0 or bound < upper:
                upper = bound
        # the candidate in most sets, the lowest index among equals; outside them only when one could tie
        best = -1
        best_count = -1
        for i in range(cand.size):
            v = cand[i]
            if chosen[v] == 0 and count[v] > best_count:
                best = v
                best_count = count[v]
        if best_count <= low:
            best_count = -1
            for v in range(n_nodes):
                if chosen[v] == 0 and count[v] > best_count:
                    best = v
                    best_count = count[v]
        chosen[best] = 1
        seeds[j] = best
        total += best_count
        h = slot[best]
        if h >= 0:
            for i in range(ioff[h], ioff[h + 1]):
                r = iset[i]
                if covered[r] == 0:
                    _cover(r, members, offsets, covered, count, hist, with_bound)
        elif best_count > 0:
            for r in range(n_sets):
                if covered[r] == 0:
                    for i in range(offsets[r], offsets[r + 1]):
                        if members[i] == best:
                            _cover(r, members, offsets, covered, count, hist, with_bound)
                            break
    if with_bound:
        bound = total + _top_sum(hist, top, k)
        if bound < upper:
            upper = bound
    return total, upper
