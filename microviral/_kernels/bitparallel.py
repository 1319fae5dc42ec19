"""Bit-parallel independent cascade: 64 runs at once, one uint64 of run lanes per node.

Lane ``l`` of word ``w`` is run ``64 * w + l`` with its own key, and the coin of arc ``e`` in that lane is the
same stateless hash as in the scalar kernel, so every lane reproduces its run exactly: the same live-edge world,
the same breadth-first levels (a level-synchronous search over all lanes at once), the same per-run, per-round
and per-community counts. What is shared across lanes is the walk: each (node, round) is visited once for every
lane that activated the node in that round, and an arc is skipped with one AND when its head is already active in
all those lanes. The coins of the remaining lanes are drawn one lane at a time, or for all 64 lanes in one
vectorised loop when many lanes need them.
"""

import numpy as np
from numba import njit, prange

from .._config import JIT, PARALLEL_JIT
from .bfs import chunk_range
from .bits import cttz, live_lanes, popcount
from .hashing import _INV53, _S11, GOLDEN, mix64

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_LANES = 64
_DENSE = 4  # lanes needing a coin from which all 64 are drawn vectorised
_TWO53 = 9007199254740992.0


@njit(**JIT)
def _coins(keys64, e, cand, pe, p_scaled, uniform):
    """Mask of the lanes in ``cand`` whose coin on arc ``e`` is live."""
    c = np.uint64(e + 1) * GOLDEN
    live = _U0
    if popcount(cand) <= _DENSE:
        while cand != _U0:
            lane = cttz(cand)
            cand &= cand - _U1
            z = mix64(keys64[lane] + c)
            x = np.float64(np.int64(z >> _S11))
            if uniform:
                ok = x < p_scaled
            else:
                ok = x * _INV53 < pe
            live |= np.uint64(ok) << lane
        return live
    thr = p_scaled if uniform else pe * _TWO53  # exact: scaling by a power of two
    live = live_lanes(keys64, c, thr)
    return live & cand


@njit(**JIT)
def _word(indptr, indices, prob, p_scaled, seeds, in_target, community, keys, r0, n_lanes, max_rounds, active,
          cur, nxt, cur_list, nxt_list, touched, keys64, n_new, n_hit, reach, hits, rounds, by_round_t,
          by_round_target_t, comm_counts):
    """Runs ``r0 .. r0 + n_lanes - 1`` together. Leaves ``active``, ``cur`` and ``nxt`` all zero."""
    uniform = p_scaled >= 0.0
    width = by_round_t.shape[0]
    count_comm = comm_counts.shape[0] > 0
    full = ~_U0 if n_lanes == _LANES else (_U1 << np.uint64(n_lanes)) - _U1
    for lane in range(_LANES):
        keys64[lane] = keys[r0 + lane] if lane < n_lanes else _U0
    n_cur = 0
    n_touched = 0
    seed_hits = 0
    for i in range(seeds.size):
        s = seeds[i]
        active[s] = full
        cur[s] = full
        cur_list[n_cur] = s
        n_cur += 1
        touched[n_touched] = s
        n_touched += 1
        seed_hits += in_target[s]
    for lane in range(n_lanes):
        r = r0 + lane
        reach[r] = seeds.size
        hits[r] = seed_hits
        rounds[r] = 0
        if width > 0:
            by_round_t[0, r] = seeds.size
            by_round_target_t[0, r] = seed_hits
        if count_comm:
            for i in range(seeds.size):
                comm_counts[r, community[seeds[i]]] += 1
    t = 0
    while n_cur > 0 and (max_rounds < 0 or t < max_rounds):
        n_next = 0
        for i in range(n_cur):
            u = np.uint64(cur_list[i])
            front = cur[u]
            cur[u] = _U0
            for e in range(indptr[u], indptr[u + _U1]):
                v = np.uint64(indices[np.uint64(e)])
                was = active[v]
                cand = front & ~was
                if cand == _U0:
                    continue
                live = _coins(keys64, e, cand, 0.0 if uniform else prob[np.uint64(e)], p_scaled, uniform)
                if live != _U0:
                    if was == _U0:
                        touched[n_touched] = v
                        n_touched += 1
                    active[v] = was | live
                    if nxt[v] == _U0:
                        nxt_list[n_next] = v
                        n_next += 1
                    nxt[v] |= live
        t += 1
        # per-lane counts of the new level
        for i in range(n_next):
            v = nxt_list[i]
            lanes = nxt[v]
            hit = in_target[v]
            c = community[v]
            while lanes != _U0:
                lane = cttz(lanes)
                lanes &= lanes - _U1
                n_new[lane] += 1
                n_hit[lane] += hit
                if count_comm:
                    comm_counts[r0 + np.int64(lane), c] += 1
        for lane in range(n_lanes):
            if n_new[lane] > 0:
                r = r0 + lane
                reach[r] += n_new[lane]
                hits[r] += n_hit[lane]
                rounds[r] = t
                if t < width:
                    by_round_t[t, r] = n_new[lane]
                    by_round_target_t[t, r] = n_hit[lane]
                n_new[lane] = 0
                n_hit[lane] = 0
        cur, nxt = nxt, cur
        cur_list, nxt_list = nxt_list, cur_list
        n_cur = n_next
    for i in range(n_cur):  # stopped by max_rounds: clear the unexpanded frontier
        cur[cur_list[i]] = _U0
    for i in range(n_touched):
        active[touched[i]] = _U0


@njit(**PARALLEL_JIT)
def ic_runs_bitparallel(indptr, indices, prob, p_scaled, seeds, in_target, community, keys, max_rounds, n_chunks,
                        reach, hits, rounds, by_round_t, by_round_target_t, comm_counts):
    """Same contract and outputs as :func:`microviral._kernels.ic.ic_runs_fast`, 64 runs per word."""
    n_nodes = indptr.size - 1
    n_runs = keys.size
    n_words = (n_runs + _LANES - 1) // _LANES
    for c in prange(n_chunks):
        lo, hi = chunk_range(n_words, n_chunks, c)
        if lo == hi:
            continue
        active = np.zeros(n_nodes, dtype=np.uint64)
        cur = np.zeros(n_nodes, dtype=np.uint64)
        nxt = np.zeros(n_nodes, dtype=np.uint64)
        cur_list = np.empty(n_nodes, dtype=np.int32)
        nxt_list = np.empty(n_nodes, dtype=np.int32)
        touched = np.empty(n_nodes, dtype=np.int32)
        keys64 = np.zeros(_LANES, dtype=np.uint64)
        n_new = np.zeros(_LANES, dtype=np.int64)
        n_hit = np.zeros(_LANES, dtype=np.int64)
        for w in range(lo, hi):
            r0 = w * _LANES
            _word(indptr, indices, prob, p_scaled, seeds, in_target, community, keys, r0, min(_LANES, n_runs - r0),
                  max_rounds, active, cur, nxt, cur_list, nxt_list, touched, keys64, n_new, n_hit, reach, hits,
                  rounds, by_round_t, by_round_target_t, comm_counts)
