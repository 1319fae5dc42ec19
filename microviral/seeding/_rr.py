"""Reverse-reachable (RR) sets stored flat, shared by IMM and OPIM-C.

An RR set is drawn by picking a root ``v`` uniformly from a *pool* and collecting
every node that reaches ``v`` through live arcs of one random live-edge world. For
any seed set ``S``, ``P(S meets an RR set) * |pool|`` is the expected number of
activated pool members: the expected reach when the pool is every node, the
expected number of activated target members when it is the target.

The sampler of a diffusion model is looked up in :data:`SAMPLERS` by the ``model``
name, so another model plugs in by adding an entry (a class with the methods of
:class:`_ICSampler`).
"""

import functools
import math
import sys
import threading
import time

import numpy as np

from .._kernels.runtime import max_threads, num_threads, run_parts
from .._memory import check_memory
from .._validation import _describe, check_bool

__all__ = ["RRCollection", "sorted_reverse", "check_model", "pool_of", "SAMPLERS", "sample_in_parts", "grow_pair"]


def sorted_reverse(graph):
    """The in-arcs of each node, sorted by non-increasing probability.

    Returns ``(offsets, tails, probs, log1p(-probs), node_logq)``, where ``node_logq[v]``
    is ``log1p(-p)`` when all in-arcs of ``v`` share one probability ``p`` in (0, 1), else 0.

    Cached on the graph (graphs are immutable), so repeated calls (several budgets in
    :func:`microviral.compare`, OPIM-C's rounds) sort once.
    """
    cache = graph._cache
    hit = cache.get("rr_sorted")
    if hit is not None:
        return hit
    roff, rsrc, rarc = graph._in_arcs()
    p = graph.prob[rarc]
    deg = np.diff(roff)
    has = deg > 0
    # only nodes whose in-arcs differ in probability need sorting (none under uniform or weighted cascade);
    # lexsort is stable, so this is the order a sort of every node's arcs by (node, -p) gives
    order = np.arange(p.size)
    if p.size:
        starts = roff[:-1][has]
        mixed = np.zeros(graph.n_nodes, dtype=bool)
        mixed[has] = np.minimum.reduceat(p, starts) < np.maximum.reduceat(p, starts)
        if mixed.any():
            sel = np.flatnonzero(np.repeat(mixed, deg))
            order[sel] = sel[np.lexsort((-p[sel], np.repeat(np.flatnonzero(mixed), deg[mixed])))]
    p = np.ascontiguousarray(p[order])
    with np.errstate(divide="ignore"):
        logq = np.log1p(-p)
    # nodes whose in-arcs all share one probability in (0, 1) (uniform, weighted cascade, resonance)
    first = np.zeros(graph.n_nodes)
    last = np.zeros(graph.n_nodes)
    first[has] = p[roff[:-1][has]]
    last[has] = p[roff[1:][has] - 1]
    same = has & (first == last) & (first > 0) & (first < 1)
    node_logq = np.zeros(graph.n_nodes)
    node_logq[same] = np.log1p(-first[same])
    out = (roff, np.ascontiguousarray(rsrc[order]), p, logq, node_logq)
    cache["rr_sorted"] = out
    return out


# Reverse-CSR bytes (offsets, tails, per-node shortcut) from which IC's RR sets are drawn by the interleaved
# sampler. `python benchmarks/bench_seeding.py --samplers --repeats 5 --workloads nethept slashdot pp200k pp1m`
# (2 threads, 2026-12-04 05:50, load 1.7), plain / interleaved time: 0.81x on NetHEPT (0.5 MiB), 1.11x on
# soc-Slashdot0902 (4.6 MiB), 2.24x at 200k nodes (18 MiB), 2.14x at 1M nodes (92 MiB).
# The sets are the same either way.
INTERLEAVE_BYTES = 4 << 20


class _ICSampler:
    """Independent cascade: live in-arcs by geometric jumps (see :mod:`microviral._kernels.rrsets`).

    Graphs whose reverse CSR takes ``INTERLEAVE_BYTES`` or more are sampled by
    :func:`~microviral._kernels.rrsets.rr_sample_interleaved`, smaller ones by
    :func:`~microviral._kernels.rrsets.rr_sample`: the same sets either way.
    """

    def __init__(self, graph):
        self.arrays = sorted_reverse(graph)
        roff, rsrc, _, _, node_logq = self.arrays
        self.interleaved = roff.nbytes + rsrc.nbytes + node_logq.nbytes >= INTERLEAVE_BYTES

    def sample(self, pool, base, ids, chunk_len, cap, buf, starts, sizes):
        from .._kernels import rrsets

        kernel = rrsets.rr_sample_interleaved if self.interleaved else rrsets.rr_sample
        kernel(*self.arrays, pool, base, ids, chunk_len, cap, buf, starts, sizes)


class _LTSampler:
    """Linear threshold: reverse random walks (see :mod:`microviral._kernels.rr_lt`).

    Each visited node keeps at most one in-arc, arc ``(u, v)`` with probability
    ``w(u, v)``: LT's live-edge worlds (Kempe et al. 2003), so the RR sets estimate
    LT spread. The in-weights are checked first (at most 1 per node).
    """

    def __init__(self, graph):
        from .._kernels.rr_lt import in_weight_cumsum
        from .._engine import check_lt_weights

        check_lt_weights(graph)
        roff, rsrc, rarc = graph._in_arcs()
        self.arrays = (roff, np.ascontiguousarray(rsrc), in_weight_cumsum(roff, np.ascontiguousarray(graph.prob[rarc])))

    def sample(self, pool, base, ids, chunk_len, cap, buf, starts, sizes):
        from .._kernels.rr_lt import rr_sample_lt

        rr_sample_lt(*self.arrays, pool, base, ids, chunk_len, cap, buf, starts, sizes)


SAMPLERS = {"ic": _ICSampler, "lt": _LTSampler}
"""Diffusion model name -> RR-set sampler class (built from the graph)."""


def check_model(model):
    """Return ``model`` if an RR-set sampler exists for it, else raise ValueError."""
    if not isinstance(model, str) or model not in SAMPLERS:
        known = ", ".join(repr(m) for m in sorted(SAMPLERS))
        raise ValueError(f"'model' must be one of {known} (the diffusion models with RR sets). "
                         f"Got {_describe(model)}.")
    return model


def pool_of(graph, target):
    """``(pool node indices or None, pool size)`` for RR roots: all nodes, or the target."""
    if target is None:
        return None, graph.n_nodes
    mask = graph.target_mask(target)
    nodes = np.flatnonzero(mask).astype(np.int32)
    return nodes, int(nodes.size)


def check_progress(progress):
    """``progress``: None (auto), True or False."""
    return None if progress is None else check_bool(progress, "progress")


def run_with_progress(progress, desc, fn, *args):
    """``fn(*args, bar)`` with a :class:`Progress` bar that is closed however ``fn`` ends."""
    bar = Progress(check_progress(progress), desc)
    try:
        return fn(*args, bar)
    finally:
        bar.close()


class Progress:
    """A progress bar over RR sets drawn, shown only when wanted.

    ``mode=None`` (auto) opens the bar once the work has run for ``after`` seconds and
    stderr is a terminal; True opens it at the first update; False never does.
    """

    def __init__(self, mode, desc, after=3.0):
        self.mode = mode
        self.desc = desc
        self.after = after
        self.t0 = time.perf_counter()
        self.bar = None
        self.done = 0
        self.total = None
        self._lock = threading.Lock()

    def expect(self, total):
        """The total number of RR sets now expected (it may grow)."""
        self.total = int(total)
        if self.bar is not None:
            self.bar.total = max(self.total, self.done)
            self.bar.refresh()

    def update(self, n):
        with self._lock:  # two collections may grow at once (grow_pair)
            self._update(n)

    def _update(self, n):
        self.done += int(n)
        if self.bar is None and self.mode is not False and (
                self.mode or (time.perf_counter() - self.t0 > self.after and sys.stderr.isatty())):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=max(self.total or 0, self.done), initial=0, desc=self.desc, unit="RR set")
            n = self.done
        if self.bar is not None:
            self.bar.update(n)

    @property
    def active(self):
        return self.mode is not False

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def sample_in_parts(sample, ids, chunk_len, cap, buf, starts, sizes, n_parts):
    """``sample(ids, chunk_len, cap, buf, starts, sizes)`` with the chunks split into ``n_parts`` runs side by side.

    ``sample`` is a sampler kernel bound to its graph, pool and stream (see
    :func:`microviral._kernels.rrsets.rr_sample` for the chunks, buffers and
    outputs). Part ``i`` samples a contiguous run of chunks into its own slices of
    the arrays, on its own thread (:func:`~microviral._kernels.runtime.run_parts`);
    the set positions it reports are then made absolute in ``buf``.
    """
    n_chunks = -(-ids.size // chunk_len)
    n_parts = max(1, min(n_parts, n_chunks))
    bounds = [i * n_chunks // n_parts for i in range(n_parts + 1)]

    def part(i):
        c0, c1 = bounds[i], bounds[i + 1]
        lo, hi = c0 * chunk_len, min(ids.size, c1 * chunk_len)
        sample(ids[lo:hi], chunk_len, cap, buf[c0 * cap:c1 * cap], starts[lo:hi], sizes[lo:hi])
        starts[lo:hi][sizes[lo:hi] >= 0] += c0 * cap

    run_parts(part, n_parts)


# Below this many expected members (about 1 ms of sampling) a batch is sampled on the calling thread alone:
# a second thread costs about 0.1 ms to start. OPIM-C on NetHEPT (k=50, 2 threads, 2026-12-04), timed with
# each value: 38-48 ms at 200,000, 30-36 ms at 20,000 and below.
_SERIAL_MEMBERS = 10_000


# Sets per kernel call while a progress bar may be shown: large enough to keep both threads busy,
# small enough for the bar to move every second or so on big graphs.
_BLOCK = 1 << 19


class RRCollection:
    """A growing collection of RR sets stored flat: ``members`` (int32) and ``offsets`` (int64).

    RR set ``i`` has key ``mix64(base + (i + 1) * GOLDEN)`` and a root drawn from
    ``pool``; sets are appended in batches, in key order, whatever the threads or
    batch sizes. No per-set object is ever made: the sampler writes into per-chunk
    buffers that are copied once into the flat arrays.

    Examples
    --------
    >>> import microviral as mv
    >>> from microviral.seeding.imm import RRCollection
    >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=1.0)
    >>> rr = RRCollection(g, pool=None, base=7)
    >>> rr.extend(4); rr.n_sets
    4
    >>> sorted(rr.set(0).tolist()) in ([0], [0, 1], [0, 1, 2])   # all nodes that reach the root
    True
    """

    def __init__(self, graph, pool, base, *, model="ic", progress=None):
        self.graph = graph
        self.pool = np.arange(graph.n_nodes, dtype=np.int32) if pool is None else np.ascontiguousarray(pool, np.int32)
        self.base = np.uint64(base)
        self.members = np.empty(1024, dtype=np.int32)
        self.offsets = np.zeros(1025, dtype=np.int64)
        self.n_sets = 0
        self.peak_bytes = 0
        self.progress = progress
        self._sampler = SAMPLERS[check_model(model)](graph)

    @property
    def n_members(self):
        return int(self.offsets[self.n_sets])

    @property
    def mean_size(self):
        """Mean number of nodes per RR set so far (4 before any is drawn)."""
        return self.n_members / self.n_sets if self.n_sets else 4.0

    def flat(self):
        """Views ``(members, offsets)`` of the sets drawn so far."""
        return self.members[:self.n_members], self.offsets[:self.n_sets + 1]

    def set(self, i):
        return self.members[self.offsets[i]:self.offsets[i + 1]]

    def nbytes(self):
        return int(self.n_members * 4 + (self.n_sets + 1) * 8)

    def bytes_for(self, n_sets):
        """Estimated bytes of ``n_sets`` sets and of greedy's index over them (from the mean size so far)."""
        members = n_sets * self.mean_size
        return int(members * 8 + n_sets * 9 + (self.graph.n_nodes + 1) * 16)

    # what to do when the sets would not fit: callers (IMM, OPIM-C, rr_estimate) name their own parameters
    hint = "ask for fewer RR sets"

    def check_room(self, count, what=None):
        """Refuse, before anything is allocated, ``count`` more sets whose flat arrays would not fit.

        Sized from the mean set size so far, or at one node a set (the root) before any is drawn.
        """
        n_sets = self.n_sets + count
        per_set = self.mean_size if self.n_sets else 1.0
        check_memory((self.n_members + count * per_set) * 4 + (n_sets + 1) * 8,
                     what or f"{n_sets:,} RR sets (about {per_set:.1f} nodes each)", hint=self.hint)

    def _note(self, extra):
        self.peak_bytes = max(self.peak_bytes, self.members.nbytes + self.offsets.nbytes + int(extra))

    def extend(self, count, threads=None):
        """Append ``count`` RR sets (numbers ``n_sets .. n_sets + count - 1``) on at most ``threads`` threads."""
        count = int(count)
        if count <= 0:
            return
        self.check_room(count)
        if self.n_sets == 0 and count > 4096:
            # a small pilot batch measures the mean set size, so the buffers of the big one rarely overflow
            self._extend(1024, threads)
            count -= 1024
            self.check_room(count)
        if count > _BLOCK:
            # one allocation of about the final size instead of repeated 1.5x growth (each a copy at 2.5x peak)
            self._reserve(int(self.n_members + 1.05 * count * self.mean_size), self.n_sets + count + 1)
        # in blocks: the sampling buffers stay small, and a progress bar moves
        block = _BLOCK
        while count > 0:
            step = min(block, count)
            self._extend(step, threads)
            count -= step

    def _extend(self, count, threads=None):
        from .._kernels.rrsets import rr_gather

        ids = np.arange(self.n_sets, self.n_sets + count, dtype=np.int64)
        per_set = max(2.0, 1.5 * self.mean_size)
        sizes_all = np.empty(count, dtype=np.int64)
        pieces = []
        pending = np.arange(count, dtype=np.int64)
        # small batches run on the calling thread alone (the sets are the same at any thread count); the chunks
        # depend on the batch and the process's most threads, not on the threads in use, so neither do the
        # buffers nor the peak bytes reported
        serial = count * per_set < _SERIAL_MEMBERS
        width = 1 if serial else max_threads()
        n_threads = 1 if serial else (num_threads() if threads is None else threads)
        while pending.size:
            chunk_len = max(64, -(-pending.size // (4 * width)))
            n_chunks = -(-pending.size // chunk_len)
            cap = int(min(chunk_len * per_set + 64, 2**31 - 1))
            check_memory(n_chunks * cap * 4 + self.members.nbytes, "RR sets", hint=self.hint)
            buf = np.empty(n_chunks * cap, dtype=np.int32)
            starts = np.empty(pending.size, dtype=np.int64)
            sizes = np.empty(pending.size, dtype=np.int64)
            sample_in_parts(functools.partial(self._sampler.sample, self.pool, self.base), ids[pending], chunk_len, cap,
                            buf, starts, sizes, min(n_threads, n_chunks))
            done = sizes >= 0
            sizes_all[pending[done]] = sizes[done]
            pieces.append((buf, starts[done], sizes[done], pending[done]))
            self._note(sum(p[0].nbytes for p in pieces))
            pending = pending[~done]
            per_set *= 4.0
        # append in key order
        total = int(sizes_all.sum())
        start = self.n_members
        new_n = self.n_sets + count
        self._reserve(start + total, new_n + 1)
        dest_rel = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(sizes_all, out=dest_rel[1:])
        self.offsets[self.n_sets + 1:new_n + 1] = start + dest_rel[1:]
        self._note(sum(p[0].nbytes for p in pieces))
        for buf, st, sz, where in pieces:
            rr_gather(buf, st, sz, start + dest_rel[where], self.members)
        self.n_sets = new_n
        if self.progress is not None:
            self.progress.update(count)

    def _reserve(self, n_members, n_offsets):
        if n_members > self.members.size:
            size = max(n_members, int(self.members.size * 1.5))
            check_memory(size * 4, f"{n_offsets - 1:,} RR sets", hint=self.hint)
            grown = np.empty(size, dtype=np.int32)
            grown[:self.n_members] = self.members[:self.n_members]
            self._note(grown.nbytes)  # old and new arrays both live during the copy
            self.members = grown
        if n_offsets > self.offsets.size:
            size = max(n_offsets, int(self.offsets.size * 1.5))
            check_memory(size * 8, f"{n_offsets - 1:,} RR sets' offsets", hint=self.hint)
            grown = np.zeros(size, dtype=np.int64)
            grown[:self.n_sets + 1] = self.offsets[:self.n_sets + 1]
            self._note(grown.nbytes)
            self.offsets = grown
        self._note(0)

    def grow_to(self, n_sets, threads=None):
        if n_sets > self.n_sets:
            self.extend(n_sets - self.n_sets, threads)

    def greedy(self, k, bound=False):
        """Greedy max coverage: ``(seeds, sets covered, upper bound on the sets any k nodes cover)``.

        The bound is OPIM-C's (see :func:`microviral._kernels.rrsets.max_coverage`), or -1
        without ``bound``. Also records the memory of greedy's inverted index.
        """
        from .._kernels.rrsets import max_coverage

        members, offsets = self.flat()
        seeds = np.empty(k, dtype=np.int64)
        covered, upper = max_coverage(members, offsets, self.graph.n_nodes, k, seeds, bool(bound))
        # inverted index, at most (it covers only candidates): one int32 per member, int64 per node offset, uint8 per set
        self._note(members.size * 4 + (self.graph.n_nodes + 1) * 8 * 2 + self.n_sets)
        return seeds, int(covered), int(upper)

    def select(self, k):
        """Greedy max coverage: ``(seeds, fraction of sets covered)``."""
        seeds, covered, _ = self.greedy(k)
        return seeds, covered / self.n_sets

    def covered(self, seeds):
        """Number of sets that hold at least one of ``seeds``."""
        from .._kernels.rrsets import rr_coverage

        is_seed = np.zeros(self.graph.n_nodes, dtype=np.uint8)
        is_seed[np.asarray(seeds, dtype=np.int64)] = 1
        members, offsets = self.flat()
        return int(rr_coverage(members, offsets, is_seed))

    def coverage(self, seeds):
        """Fraction of the sets that hold at least one of ``seeds``."""
        return self.covered(seeds) / self.n_sets


def grow_pair(first, second, n_sets):
    """Grow two independent collections to ``n_sets`` sets each, side by side when there are threads for both.

    Each then samples on its share of the threads (OPIM-C's two collections: its early rounds are too small
    to split one collection's batch, but two batches run at once). The sets do not depend on it.
    """
    n_threads = num_threads()
    if n_threads < 2 or not (isinstance(first, RRCollection) and isinstance(second, RRCollection)):
        first.grow_to(n_sets)
        second.grow_to(n_sets)
        return
    share = (n_threads + 1) // 2, n_threads // 2
    pair = (first, second)
    run_parts(lambda i: pair[i].grow_to(n_sets, share[i]), 2)


def log_comb(n, k):
    """``log C(n, k)``."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
