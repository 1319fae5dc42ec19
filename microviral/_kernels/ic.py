"""Independent-cascade kernel: one breadth-first pass over the live-edge world of each run."""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .hashing import GOLDEN, _INV53, _S11, mix64


@njit(**JIT)
def _cascade(offsets, targets, prob, seeds, in_target, community, key, max_rounds, stamp, sid, queue,
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
            for e in range(offsets[u], offsets[u + 1]):
                v = targets[e]
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
def ic_runs(offsets, targets, prob, seeds, in_target, community, keys, max_rounds, n_chunks,
            reach, hits, rounds, by_round, by_round_target, comm_counts):
    """Run one cascade per key; run ``r`` writes only slot ``r`` of each output.

    Runs are split into ``n_chunks`` contiguous chunks; each chunk owns its scratch
    (stamp array, queue), so no run allocates and no run depends on another.
    """
    n_nodes = offsets.size - 1
    n_runs = keys.size
    for c in prange(n_chunks):
        lo = (n_runs * c) // n_chunks
        hi = (n_runs * (c + 1)) // n_chunks
        if lo == hi:
            continue
        stamp = np.zeros(n_nodes, dtype=np.int32)
        queue = np.empty(n_nodes, dtype=np.int32)
        for r in range(lo, hi):
            a, h, k = _cascade(offsets, targets, prob, seeds, in_target, community, keys[r], max_rounds,
                               stamp, np.int32(r - lo + 1), queue, by_round, by_round_target, comm_counts, r)
            reach[r] = a
            hits[r] = h
            rounds[r] = k
