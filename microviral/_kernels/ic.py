"""Independent-cascade kernel: one breadth-first pass over the live-edge world of each run."""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .bfs import chunk_range, count_level, record_round, seed_level
from .bits import cttz, live_block, live_block_scaled, prefetch
from .hashing import _INV53, _S11, GOLDEN, mix64


@njit(**JIT)
def _cascade(indptr, indices, prob, seeds, in_target, community, key, max_rounds, stamp, sid, queue,
             by_round, by_round_target, comm_counts, row):
    """Run one cascade; return (reach, target activated, rounds). Writes row ``row`` of the outputs."""
    width = by_round.shape[1]
    count_comm = comm_counts.shape[0] > 0
    tail = 0
    hits = 0
    for i in range(seeds.size):
        s = seeds[i]
        stamp[s] = sid
        queue[tail] = s
        tail += 1
        hits += in_target[s]
        if count_comm:
            comm_counts[row, community[s]] += 1
    if width > 0:
        by_round[row, 0] = tail
        by_round_target[row, 0] = hits
    head = 0
    rounds = 0
    while head < tail and (max_rounds < 0 or rounds < max_rounds):
        level_end = tail
        new_hits = 0
        for i in range(head, level_end):
            u = queue[i]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] == sid:
                    continue
                z = mix64(key + np.uint64(e + 1) * GOLDEN)
                if np.float64(z >> _S11) * _INV53 < prob[e]:
                    stamp[v] = sid
                    queue[tail] = v
                    tail += 1
                    new_hits += in_target[v]
                    if count_comm:
                        comm_counts[row, community[v]] += 1
        head = level_end
        if tail == level_end:
            break
        rounds += 1
        hits += new_hits
        if rounds < width:
            by_round[row, rounds] = tail - level_end
            by_round_target[row, rounds] = new_hits
    return tail, hits, rounds


@njit(**PARALLEL_JIT)
def ic_runs(indptr, indices, prob, seeds, in_target, community, keys, max_rounds, n_chunks,
            reach, hits, rounds, by_round, by_round_target, comm_counts):
    """Run one cascade per key; run ``r`` writes only slot ``r`` of each output.

    Runs are split into ``n_chunks`` contiguous chunks; each chunk owns its scratch
    (stamp array, queue), so no run allocates and no run depends on another.
    """
    n_nodes = indptr.size - 1
    n_runs = keys.size
    for c in prange(n_chunks):
        lo = (n_runs * c) // n_chunks
        hi = (n_runs * (c + 1)) // n_chunks
        if lo == hi:
            continue
        stamp = np.zeros(n_nodes, dtype=np.int32)
        queue = np.empty(n_nodes, dtype=np.int32)
        for r in range(lo, hi):
            a, h, k = _cascade(indptr, indices, prob, seeds, in_target, community, keys[r], max_rounds,
                               stamp, np.int32(r - lo + 1), queue, by_round, by_round_target, comm_counts, r)
            reach[r] = a
            hits[r] = h
            rounds[r] = k


# ---------------------------------------------------------------------------------------------------------------
# Fast scalar kernel. Same worlds, same breadth-first order, same outputs as ``_cascade``; the changes:
# 1. Coins are computed for a whole block of ``_BLOCK`` consecutive arcs of a node at once, one LLVM vector
#    expression (``bits.live_block``: AVX-512 / AVX2 code, 8 hashes per instruction) giving a bit mask of
#    live arcs; only the live arcs' heads are then read and checked against the stamp array (at low p, most
#    arcs never touch memory beyond their probability). Coins of arcs whose head is already active are
#    computed and ignored: the coin of (key, arc) is stateless, so this changes nothing.
# 2. With one probability on every arc, it is compared as a scalar (no per-arc probability read).
#    ``z >> 11`` is below 2**53, so ``float(z >> 11) * 2**-53 < p`` and ``float(z >> 11) < p * 2**53`` are
#    the same exact comparison (scaling by a power of two is exact).
# 3. Software prefetch of the indptr, probabilities and heads of the nodes a few places ahead in the queue.
# 4. Indices are unsigned, so numba adds no negative-index wraparound (which had turned the block's
#    probability loads into gathers).
# 5. Two stages per level: first the coins of every node of the level (no data-dependent branch but the
#    block count), noting (block, live mask) pairs; then the live arcs' heads are checked and pushed, in the
#    same order as a one-stage loop would. The mispredicted exits of the short live-bit loops no longer stall
#    the long coin and load chains (25-35% faster).
# 6. Target and community counts are made per level from the queue, in a loop of their own (``bfs.count_level``).
# Per-round counts are written transposed (round, run): a buffer with room for many rounds costs only the
# pages actually touched. Seeding, level counts and round records are the shared ``bfs`` pieces.
_BLOCK = 32  # must equal bits._WIDTH
_PF_FAR = 16
_PF_NEAR = 6
_PENDING = 512
_U0 = np.uint64(0)
_U1 = np.uint64(1)


@njit(**JIT)
def _drain(pend_blk, pend_mask, fill, indices, stamp, sid, queue, tail):
    """Activate the unstamped heads of the live arcs noted in ``pend_*``, in order; return the new tail."""
    for k in range(fill):
        blk = np.uint64(pend_blk[k])
        live = pend_mask[k]
        while live != _U0:
            v = np.uint64(indices[blk + cttz(live)])
            live &= live - _U1
            if stamp[v] != sid:
                stamp[v] = sid
                queue[tail] = v
                tail += 1
    return tail


@njit(**JIT)
def _cascade_fast(indptr, indices, prob, p_scaled, seeds, in_target, community, key, max_rounds, stamp, sid,
                  queue, pend_blk, pend_mask, by_round_t, by_round_target_t, comm_counts, row):
    """Run one cascade; return (reach, target activated, rounds). Writes column ``row`` of the round buffers."""
    n_arcs = indices.size
    uniform = p_scaled >= 0.0
    tail, hits = seed_level(seeds, stamp, sid, queue, in_target, community, comm_counts, row, by_round_t,
                            by_round_target_t)
    head = 0
    rounds = 0
    while head < tail and (max_rounds < 0 or rounds < max_rounds):
        level_end = tail
        fill = 0
        for i in range(head, level_end):
            if i + _PF_FAR < tail:
                prefetch(indptr, queue[i + _PF_FAR])
            if i + _PF_NEAR < tail:
                w = np.uint64(queue[i + _PF_NEAR])
                ahead = indptr[w]
                if not uniform:
                    prefetch(prob, ahead)
                prefetch(indices, ahead)
            u = np.uint64(queue[i])
            blk = indptr[u]
            end = indptr[u + _U1]
            while blk < end:
                live = _U0
                if uniform:
                    live = live_block_scaled(key, blk, p_scaled)
                elif blk + _BLOCK <= n_arcs:
                    live = live_block(key, blk, prob)
                else:  # the last arcs of the array: a shorter block
                    base = key + np.uint64(blk + 1) * GOLDEN
                    for j in range(n_arcs - blk):
                        z = mix64(base + np.uint64(j) * GOLDEN)
                        ok = np.float64(np.int64(z >> _S11)) * _INV53 < prob[np.uint64(blk + j)]
                        live |= np.uint64(ok) << np.uint64(j)
                left = end - blk
                if left < _BLOCK:
                    live &= (_U1 << np.uint64(left)) - _U1
                # note the block; its live arcs are drained after the level's coins (or when the buffer is full)
                pend_blk[fill] = blk
                pend_mask[fill] = live
                fill += np.int64(live != _U0)
                if fill == pend_blk.size:
                    tail = _drain(pend_blk, pend_mask, fill, indices, stamp, sid, queue, tail)
                    fill = 0
                blk += _BLOCK
        tail = _drain(pend_blk, pend_mask, fill, indices, stamp, sid, queue, tail)
        new_hits = count_level(queue, level_end, tail, in_target, community, comm_counts, row)
        head = level_end
        if tail == level_end:
            break
        rounds += 1
        hits += new_hits
        record_round(by_round_t, by_round_target_t, rounds, row, tail - level_end, new_hits)
    return tail, hits, rounds


@njit(**PARALLEL_JIT)
def ic_runs_fast(indptr, indices, prob, p_scaled, seeds, in_target, community, keys, max_rounds, n_chunks,
                 reach, hits, rounds, by_round_t, by_round_target_t, comm_counts):
    """Like :func:`ic_runs` with the fast cascade; per-round buffers are (width, n_runs).

    ``p_scaled >= 0`` means every arc has probability ``p_scaled * 2**-53`` and ``prob`` is not read.
    Rows ``0..rounds[r]`` of column ``r`` are written (those below ``width``); other cells are left as they were.
    """
    n_nodes = indptr.size - 1
    for c in prange(n_chunks):
        lo, hi = chunk_range(keys.size, n_chunks, c)
        if lo == hi:
            continue
        stamp = np.zeros(n_nodes, dtype=np.int32)
        queue = np.empty(n_nodes, dtype=np.int32)
        pend_blk = np.empty(_PENDING, dtype=np.int64)
        pend_mask = np.empty(_PENDING, dtype=np.uint64)
        for r in range(lo, hi):
            a, h, k = _cascade_fast(indptr, indices, prob, p_scaled, seeds, in_target, community, keys[r],
                                    max_rounds, stamp, np.int32(r - lo + 1), queue, pend_blk, pend_mask, by_round_t,
                                    by_round_target_t, comm_counts, r)
            reach[r] = a
            hits[r] = h
            rounds[r] = k


def uniform_p_scaled(prob):
    """``p * 2**53`` when every arc has the same probability ``p`` (the fast cascade's scalar path), else -1.

    A function of the probabilities alone: the engine computes it once per call, never stores it.
    """
    if prob.size == 0:
        return 0.0
    return float(prob[0]) * 2.0**53 if prob.min() == prob.max() else -1.0  # exact: scaling by a power of two
