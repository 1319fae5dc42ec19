"""Anatomy of cascades: who activated whom, in the same worlds as the engine.

One breadth-first pass per run, in exactly the engine's order (frontier in queue order, each node's arcs in
CSR order), so the activated set, the rounds and the per-round counts are the engine's. On top it records,
for every activated node, its parent (the node whose arc reached it first; for LT the in-neighbour whose
weight made the sum reach the threshold) and the index of the seed whose tree it belongs to.

IC: arc ``e`` is live iff ``arc_uniform(key, e) < prob[e]`` (the engine's coin, see ``hashing``).
LT: node ``v`` becomes active in round ``t + 1`` when the weights of its in-neighbours active by round ``t``
sum to at least ``node_threshold(key, v)``; weights are added in the order the frontier pushes them.
"""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .hashing import _INV53, _S11, GOLDEN, mix64, node_threshold
from .bfs import chunk_range
from .ic import _PENDING, _cascade_fast, uniform_p_scaled
from .runtime import num_threads, parallel_chunksize


@njit(**JIT)
def _trace_run(indptr, indices, prob, seeds, key, max_rounds, lt, stamp, sid, acc, acc_stamp, queue, parent,
               level, root):
    """Run one cascade; return (reach, rounds).

    ``queue[:reach]`` holds the activated nodes in activation order; for an activated ``v``, ``parent[v]``
    (-1 for seeds), ``level[v]`` (its round) and ``root[v]`` (index of its seed in ``seeds``) are set.
    ``stamp[v] == sid`` marks the active nodes of this run; ``acc``/``acc_stamp`` hold LT's in-weight sums.
    """
    tail = 0
    for i in range(seeds.size):
        s = seeds[i]
        stamp[s] = sid
        queue[tail] = s
        parent[s] = -1
        level[s] = 0
        root[s] = i
        tail += 1
    head = 0
    rounds = 0
    while head < tail and (max_rounds < 0 or rounds < max_rounds):
        level_end = tail
        for i in range(head, level_end):
            u = queue[i]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] == sid:
                    continue
                if lt:
                    if acc_stamp[v] != sid:
                        acc_stamp[v] = sid
                        acc[v] = 0.0
                    acc[v] += prob[e]
                    live = acc[v] >= node_threshold(key, v)
                else:
                    z = mix64(key + np.uint64(e + 1) * GOLDEN)
                    live = np.float64(z >> _S11) * _INV53 < prob[e]
                if live:
                    stamp[v] = sid
                    queue[tail] = v
                    parent[v] = u
                    level[v] = rounds + 1
                    root[v] = root[u]
                    tail += 1
        head = level_end
        if tail == level_end:
            break
        rounds += 1
    return tail, rounds


@njit(**JIT)
def _scratch(n, lt):
    """Per-node scratch of :func:`_trace_run` for a graph of ``n`` nodes (LT sums only under LT)."""
    return (np.zeros(n, dtype=np.int32), np.empty(n if lt else 0, dtype=np.float64),
            np.zeros(n if lt else 0, dtype=np.int32), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32),
            np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32))


@njit(**JIT)
def trace_one(indptr, indices, prob, seeds, key, max_rounds, lt):
    """Trace the run with key ``key``: (nodes in activation order, parent, round, seed index) of each."""
    n = indptr.size - 1
    stamp, acc, acc_stamp, queue, parent, level, root = _scratch(n, lt)
    reach, _ = _trace_run(indptr, indices, prob, seeds, key, max_rounds, lt, stamp, np.int32(1), acc, acc_stamp,
                          queue, parent, level, root)
    nodes = queue[:reach].copy()
    return nodes, parent[nodes], level[nodes], root[nodes]


@njit(**PARALLEL_JIT)
def anatomy_runs(indptr, indices, prob, seeds, in_target, keys, max_rounds, lt, n_chunks, reach, node_counts,
                 seed_reach, seed_hits):
    """Per-node and per-seed counts over the runs of ``keys``, in parallel over ``n_chunks`` chunks of runs.

    ``reach[r]`` gets run ``r``'s reach. If ``node_counts`` has ``n_chunks`` rows, row ``c`` counts, per node,
    the runs of chunk ``c`` that activated it (the caller sums the rows: integer sums, any order). If
    ``seed_reach`` has ``keys.size`` rows, ``seed_reach[r, i]`` / ``seed_hits[r, i]`` get the nodes / target
    members of run ``r`` in the tree of seed ``i``.
    """
    n = indptr.size - 1
    n_runs = keys.size
    per_node = node_counts.shape[0] > 0
    per_seed = seed_reach.shape[0] > 0
    for c in prange(n_chunks):
        lo, hi = chunk_range(n_runs, n_chunks, c)
        if lo == hi:
            continue
        stamp, acc, acc_stamp, queue, parent, level, root = _scratch(n, lt)
        for r in range(lo, hi):
            a, _ = _trace_run(indptr, indices, prob, seeds, keys[r], max_rounds, lt, stamp, np.int32(r - lo + 1),
                              acc, acc_stamp, queue, parent, level, root)
            reach[r] = a
            if per_node:
                for i in range(a):
                    node_counts[c, queue[i]] += 1
            if per_seed:
                for i in range(a):
                    v = queue[i]
                    seed_reach[r, root[v]] += 1
                    seed_hits[r, root[v]] += in_target[v]


@njit(**PARALLEL_JIT)
def node_counts_ic(indptr, indices, prob, p_scaled, seeds, keys, max_rounds, n_chunks, reach, node_counts):
    """Per-node run counts under IC through the engine's own fast cascade (no parents needed).

    Same chunks and outputs as :func:`anatomy_runs` with only ``node_counts``; ``p_scaled`` as in
    ``ic.ic_runs_fast``.
    """
    n = indptr.size - 1
    n_runs = keys.size
    no_target = np.zeros(n, dtype=np.uint8)
    no_comm = np.zeros(1, dtype=np.int32)
    no_rounds = np.zeros((0, n_runs), dtype=np.int32)
    no_counts = np.zeros((0, 1), dtype=np.int32)
    for c in prange(n_chunks):
        lo, hi = chunk_range(n_runs, n_chunks, c)
        if lo == hi:
            continue
        stamp = np.zeros(n, dtype=np.int32)
        queue = np.empty(n, dtype=np.int32)
        pend_blk = np.empty(_PENDING, dtype=np.int64)
        pend_mask = np.empty(_PENDING, dtype=np.uint64)
        for r in range(lo, hi):
            a, _, _ = _cascade_fast(indptr, indices, prob, p_scaled, seeds, no_target, no_comm, keys[r], max_rounds,
                                    stamp, np.int32(r - lo + 1), queue, pend_blk, pend_mask, no_rounds, no_rounds,
                                    no_counts, r)
            reach[r] = a
            for i in range(a):
                node_counts[c, queue[i]] += 1


def count_runs(graph, seeds, in_target, keys, max_rounds, model, per_node, attribution, reach):
    """The anatomy pass over ``keys``: per-node run counts and per-seed tree counts (trusted arrays).

    ``reach`` is the engine's per-run reach for the same keys (or None); the pass replays the same worlds,
    so a difference is a bug and raises. Launch inside the engine's parallel guard and thread setting.

    Returns
    -------
    dict with ``node_activated`` (int64 per node, or None), ``seed_reach`` and
    ``seed_target_activated`` (int32, shape ``(n_runs, n_seeds)``, or None).
    """
    n_runs = keys.size
    threads = num_threads()
    # chunks balance uneven runs; each chunk owns a row of per-node counts, so keep them few on big graphs
    n_chunks = max(1, min(n_runs, 4 * threads, max(threads, (2**26) // (8 * max(graph.n_nodes, 1)))))
    node_counts = np.zeros((n_chunks if per_node else 0, graph.n_nodes), dtype=np.int64)
    k = seeds.size
    seed_reach = np.zeros((n_runs if attribution else 0, k), dtype=np.int32)
    seed_hits = np.zeros((n_runs if attribution else 0, k), dtype=np.int32)
    own_reach = np.empty(n_runs, dtype=np.int64)
    indptr, indices, prob = graph.indptr, graph.indices, graph.prob
    with parallel_chunksize(1):
        if model == "ic" and not attribution:  # no parents needed: the engine's own (faster) cascade
            node_counts_ic(indptr, indices, prob, uniform_p_scaled(prob), seeds, keys, max_rounds, n_chunks,
                           own_reach, node_counts)
        else:
            anatomy_runs(indptr, indices, prob, seeds, in_target, keys, max_rounds, model == "lt", n_chunks,
                         own_reach, node_counts, seed_reach, seed_hits)
    if reach is not None and not np.array_equal(own_reach, reach):
        raise RuntimeError("internal error: the anatomy pass did not replay the engine's runs")
    return dict(node_activated=node_counts.sum(axis=0) if per_node else None,
                seed_reach=seed_reach if attribution else None,
                seed_target_activated=seed_hits if attribution else None)
