"""Linear-threshold kernel: the threshold form, one breadth-first level per round.

Node ``v``'s threshold in the run with key ``key`` is ``node_threshold(key, v)``
(in (0, 1]); ``v`` becomes active in round ``t + 1`` when the summed weights
``prob[e]`` of its in-arcs from nodes active by round ``t`` reach it. Each level
pushes the weights of its nodes' out-arcs, in queue order and CSR order, into a
per-node sum; a node that reaches its threshold joins the next level at once
(later pushes to it in the same level are skipped: it is already active, and
the level is fixed before it starts, so rounds are exact).

Per-node scratch (sum, threshold) is reset lazily: ``state[v]`` below
``2 * sid`` means "untouched in this run", ``2 * sid`` "touched, inactive",
``2 * sid + 1`` "active", so a run costs only the nodes it touches. Thresholds
are hashed once per touched node.

Outputs are those of :func:`microviral._kernels.ic.ic_runs_fast` (same arguments,
same transposed per-round buffers, same seeding and level counts from ``bfs``), so
the engine calls either one.
"""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .bfs import chunk_range, count_level, record_round, seed_level
from .hashing import stream_threshold, threshold_stream


@njit(**JIT)
def _cascade(indptr, indices, prob, seeds, in_target, community, key, max_rounds, state, acc, thr, sid, queue,
             by_round_t, by_round_target_t, comm_counts, row):
    """Run one cascade; return (reach, target activated, rounds). Writes column ``row`` of the round buffers."""
    touched = np.int64(2) * sid
    active = touched + 1
    stream = threshold_stream(key)
    tail, hits = seed_level(seeds, state, active, queue, in_target, community, comm_counts, row, by_round_t,
                            by_round_target_t)
    head = 0
    rounds = 0
    while head < tail and (max_rounds < 0 or rounds < max_rounds):
        level_end = tail
        for i in range(head, level_end):
            u = queue[i]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                s = state[v]
                if s == active:
                    continue
                if s == touched:
                    a = acc[v] + prob[e]
                    t = thr[v]
                else:
                    state[v] = touched
                    a = prob[e]
                    t = stream_threshold(stream, v)
                    thr[v] = t
                acc[v] = a
                if a >= t:
                    state[v] = active
                    queue[tail] = v
                    tail += 1
        new_hits = count_level(queue, level_end, tail, in_target, community, comm_counts, row)
        head = level_end
        if tail == level_end:
            break
        rounds += 1
        hits += new_hits
        record_round(by_round_t, by_round_target_t, rounds, row, tail - level_end, new_hits)
    return tail, hits, rounds


@njit(**PARALLEL_JIT)
def lt_runs(indptr, indices, prob, p_scaled, seeds, in_target, community, keys, max_rounds, n_chunks,
            reach, hits, rounds, by_round_t, by_round_target_t, comm_counts):
    """Run one linear-threshold cascade per key; run ``r`` writes only slot ``r`` of each output.

    Same arguments and outputs as ``ic_runs_fast`` (``p_scaled`` is not used: the
    weights are always read from ``prob``). Runs are split into ``n_chunks``
    contiguous chunks, each with its own scratch, so results do not depend on
    chunking or threads.
    """
    n_nodes = indptr.size - 1
    for c in prange(n_chunks):
        lo, hi = chunk_range(keys.size, n_chunks, c)
        if lo == hi:
            continue
        state = np.zeros(n_nodes, dtype=np.int64)
        acc = np.empty(n_nodes, dtype=np.float64)
        thr = np.empty(n_nodes, dtype=np.float64)
        queue = np.empty(n_nodes, dtype=np.int32)
        for r in range(lo, hi):
            a, h, k = _cascade(indptr, indices, prob, seeds, in_target, community, keys[r], max_rounds, state, acc,
                               thr, np.int64(r - lo + 1), queue, by_round_t, by_round_target_t, comm_counts, r)
            reach[r] = a
            hits[r] = h
            rounds[r] = k
