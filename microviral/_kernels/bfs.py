"""Pieces of the breadth-first pass shared by the cascade kernels (IC, LT), and the gathering of their outputs.

A cascade kernel keeps, per chunk of runs, a queue of the activated nodes in
activation order; level ``t`` is the slice of the queue activated in round ``t``.
Every kernel starts a run with :func:`seed_level`, counts each new level with
:func:`count_level` and records it with :func:`record_round`, so the per-run,
per-round and per-community outputs mean the same thing whatever the model.
Per-round counts are written transposed, ``(round, run)``, into buffers that
:func:`gather_rounds_pair` turns into ``(run, round)`` arrays.

The per-run pieces are inlined into each kernel by numba (``inline="always"``): as calls they cost a
quarter more per run on small graphs, where a run is a few hundred nanoseconds.
"""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT

__all__ = ["chunk_range", "seed_level", "count_level", "record_round", "gather_rounds", "gather_rounds_pair"]


@njit(inline="always", **JIT)
def chunk_range(n_items, n_chunks, c):
    """Bounds ``[lo, hi)`` of chunk ``c`` of ``n_items`` cut into ``n_chunks`` contiguous chunks."""
    return (n_items * c) // n_chunks, (n_items * (c + 1)) // n_chunks


@njit(inline="always", **JIT)
def seed_level(seeds, mark, value, queue, in_target, community, comm_counts, row, by_round_t, by_round_target_t):
    """Activate the seeds (``mark[s] = value``, queued in order), count them as round 0; return (tail, hits)."""
    count_comm = comm_counts.shape[0] > 0
    tail = 0
    hits = 0
    for i in range(seeds.size):
        s = seeds[i]
        mark[s] = value
        queue[tail] = s
        tail += 1
        hits += in_target[s]
        if count_comm:
            comm_counts[row, community[s]] += 1
    if by_round_t.shape[0] > 0:
        by_round_t[0, row] = tail
        by_round_target_t[0, row] = hits
    return tail, hits


@njit(inline="always", **JIT)
def count_level(queue, lo, hi, in_target, community, comm_counts, row):
    """Target members among ``queue[lo:hi]`` (a new level); adds the level to row ``row`` of ``comm_counts``.

    A loop of its own, off the search's critical path.
    """
    count_comm = comm_counts.shape[0] > 0
    new_hits = 0
    for i in range(lo, hi):
        v = np.uint64(queue[i])  # unsigned: no negative-index wraparound code
        new_hits += in_target[v]
        if count_comm:
            comm_counts[row, np.uint64(community[v])] += 1
    return new_hits


@njit(inline="always", **JIT)
def record_round(by_round_t, by_round_target_t, rounds, row, n_new, new_hits):
    """Store round ``rounds`` of run ``row`` when the buffers have room for it (longer runs are replayed)."""
    if rounds < by_round_t.shape[0]:
        by_round_t[rounds, row] = n_new
        by_round_target_t[rounds, row] = new_hits


@njit(**JIT)
def gather_rounds(buf_t, rounds, needed):
    """(width, n_runs) buffer -> (n_runs, needed) C array; cells past a run's last round are zero."""
    n_runs = rounds.size
    out = np.zeros((n_runs, needed), dtype=np.int32)
    top = min(needed, buf_t.shape[0])
    for k in range(top):
        for r in range(n_runs):
            if k <= rounds[r]:
                out[r, k] = buf_t[k, r]
    return out


@njit(**PARALLEL_JIT)
def gather_rounds_pair(buf_a, buf_b, rounds, out_a, out_b, n_chunks):
    """:func:`gather_rounds` of two buffers at once into zeroed ``out_*``, in parallel over chunks of runs.

    The outputs are allocated by the caller: an allocation in a parallel function is itself a parallel loop,
    which a chunk size of 1 makes very slow.
    """
    n_runs = rounds.size
    top = min(out_a.shape[1], buf_a.shape[0])
    for c in prange(n_chunks):
        lo = (n_runs * c) // n_chunks
        hi = (n_runs * (c + 1)) // n_chunks
        for t in range(lo, hi, 16):  # tiles of 16 runs: reads and writes both stay within a few cache lines
            t_end = min(t + 16, hi)
            last = 0
            for r in range(t, t_end):
                last = max(last, rounds[r])
            for k in range(min(top, last + 1)):
                for r in range(t, t_end):
                    if k <= rounds[r]:
                        out_a[r, k] = buf_a[k, r]
                        out_b[r, k] = buf_b[k, r]
