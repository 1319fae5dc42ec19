"""IMM (Tang, Shi, Xiao, SIGMOD 2015), global and community-targeted, on flat RR sets.

Reverse-reachable (RR) sets
---------------------------
An RR set is drawn by picking a root ``v`` uniformly from a *pool* and collecting
every node that reaches ``v`` through live arcs of one random live-edge world. For
any seed set ``S``, ``P(S meets an RR set) * |pool|`` is the expected number of
activated pool members. With the pool = all nodes this is the expected reach
(global IMM); with the pool = the target community it is the expected number of
activated target members, i.e. ``|T| * E[penetration]`` (targeted IMM).

The approximation guarantee of IMM holds for both: with probability at least
``1 - 1/n**ell`` the seeds returned have expected value at least
``(1 - 1/e - eps) * OPT``. For targeted IMM the bounds of the paper are used with
``n`` replaced by ``N = |T|`` where ``n`` is the scale of the estimator (the values
``x = N / 2**i`` tried for the lower bound, ``lambda'`` and ``lambda*``), while the
union bound over seed sets (``log C(n, k)``) and the failure probability
(``ell * log n``) keep the graph's ``n`` because seeds may be any node.

Following Chen (2018, "An issue in the martingale analysis of the influence
maximization algorithm IMM"), the node-selection phase uses a fresh, independent
collection of RR sets rather than reusing the sampling phase's (``fresh=True``,
default); ``fresh=False`` gives the original algorithm (reuse), which is faster.

RR sets are stored flat (one int32 array of members and int64 offsets), grown in
batches; the randomness of RR set ``i`` is a stateless hash of its 64-bit key, so
results do not depend on the number of threads. Live in-arcs are drawn by
geometric jumps over each node's in-arcs sorted by probability (see
:mod:`microviral._kernels.rrsets`), so a visited node costs time in proportion to
its live in-arcs rather than to its in-degree.
"""

import math

import numpy as np

from .._rng import check_rng, run_keys
from .._validation import check_bool, check_float, check_int
from ..simulation import check_memory
from ._common import check_graph, check_k

__all__ = ["imm", "rr_estimate", "RRCollection"]


_SORTED_CACHE = {}


def sorted_reverse(graph):
    """The in-arcs of each node, sorted by non-increasing probability.

    Returns ``(offsets, tails, probs, log1p(-probs), node_logq)``, where ``node_logq[v]``
    is ``log1p(-p)`` when all in-arcs of ``v`` share one probability ``p`` in (0, 1), else 0.

    Cached for the last graph seen (by fingerprint), so repeated calls on one graph
    (several budgets in :func:`microviral.compare`) sort once.
    """
    fp = graph.fingerprint()
    hit = _SORTED_CACHE.get(fp)
    if hit is not None:
        return hit
    roff, rsrc, rarc = graph._in_arcs()
    p = graph.prob[rarc]
    head = np.repeat(np.arange(graph.n_nodes), np.diff(roff))
    order = np.lexsort((-p, head))
    p = np.ascontiguousarray(p[order])
    with np.errstate(divide="ignore"):
        logq = np.log1p(-p)
    # nodes whose in-arcs all share one probability in (0, 1) (uniform, weighted cascade, resonance)
    deg = np.diff(roff)
    has = deg > 0
    first = np.zeros(graph.n_nodes)
    last = np.zeros(graph.n_nodes)
    first[has] = p[roff[:-1][has]]
    last[has] = p[roff[1:][has] - 1]
    same = has & (first == last) & (first > 0) & (first < 1)
    node_logq = np.zeros(graph.n_nodes)
    node_logq[same] = np.log1p(-first[same])
    out = (roff, np.ascontiguousarray(rsrc[order]), p, logq, node_logq)
    _SORTED_CACHE.clear()
    _SORTED_CACHE[fp] = out
    return out


class RRCollection:
    """A growing collection of RR sets stored flat: ``members`` (int32) and ``offsets`` (int64).

    RR set ``i`` has key ``mix64(base + (i + 1) * GOLDEN)`` and a root drawn from
    ``pool``; sets are appended in batches, in key order, whatever the threads.

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

    def __init__(self, graph, pool, base):
        self.graph = graph
        self.pool = np.arange(graph.n_nodes, dtype=np.int32) if pool is None else np.ascontiguousarray(pool, np.int32)
        self.base = np.uint64(base)
        self.members = np.empty(1024, dtype=np.int32)
        self.offsets = np.zeros(1025, dtype=np.int64)
        self.n_sets = 0
        self.peak_bytes = 0
        self._rev = sorted_reverse(graph)

    @property
    def n_members(self):
        return int(self.offsets[self.n_sets])

    def flat(self):
        """Views ``(members, offsets)`` of the sets drawn so far."""
        return self.members[:self.n_members], self.offsets[:self.n_sets + 1]

    def set(self, i):
        return self.members[self.offsets[i]:self.offsets[i + 1]]

    def nbytes(self):
        return int(self.n_members * 4 + (self.n_sets + 1) * 8)

    def _note(self, extra):
        self.peak_bytes = max(self.peak_bytes, self.members.nbytes + self.offsets.nbytes + int(extra))

    def extend(self, count):
        """Append ``count`` RR sets (numbers ``n_sets .. n_sets + count - 1``)."""
        import numba

        from .._kernels.rrsets import rr_gather, rr_sample

        count = int(count)
        if count <= 0:
            return
        if self.n_sets == 0 and count > 4096:
            # a small pilot batch measures the mean set size, so the buffers of the big one rarely overflow
            self.extend(1024)
            count -= 1024
        roff, rsrc, rprob, rlogq, nlogq = self._rev
        ids = np.arange(self.n_sets, self.n_sets + count, dtype=np.int64)
        mean = self.n_members / self.n_sets if self.n_sets else 4.0
        per_set = max(2.0, 1.5 * mean)
        sizes_all = np.empty(count, dtype=np.int64)
        pieces = []
        pending = np.arange(count, dtype=np.int64)
        n_threads = numba.get_num_threads()
        while pending.size:
            chunk_len = max(64, -(-pending.size // (4 * n_threads)))
            n_chunks = -(-pending.size // chunk_len)
            cap = int(min(chunk_len * per_set + 64, 2**31 - 1))
            check_memory(n_chunks * cap * 4 + self.members.nbytes, "RR sets")
            buf = np.empty(n_chunks * cap, dtype=np.int32)
            starts = np.empty(pending.size, dtype=np.int64)
            sizes = np.empty(pending.size, dtype=np.int64)
            from ..simulation import parallel_guard  # numba's workqueue layer aborts on concurrent launches

            with parallel_guard():
                rr_sample(roff, rsrc, rprob, rlogq, nlogq, self.pool, self.base, ids[pending], chunk_len, cap,
                          buf, starts, sizes)
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

    def _reserve(self, n_members, n_offsets):
        if n_members > self.members.size:
            size = max(n_members, int(self.members.size * 1.5))
            check_memory(size * 4, "RR sets")
            grown = np.empty(size, dtype=np.int32)
            grown[:self.n_members] = self.members[:self.n_members]
            self.members = grown
        if n_offsets > self.offsets.size:
            size = max(n_offsets, int(self.offsets.size * 1.5))
            grown = np.zeros(size, dtype=np.int64)
            grown[:self.n_sets + 1] = self.offsets[:self.n_sets + 1]
            self.offsets = grown
        self._note(0)

    def grow_to(self, n_sets):
        if n_sets > self.n_sets:
            self.extend(n_sets - self.n_sets)

    def select(self, k):
        """Greedy max coverage: ``(seeds, fraction of sets covered)``; also records the index memory."""
        from .._kernels.rrsets import max_coverage

        members, offsets = self.flat()
        seeds = np.empty(k, dtype=np.int64)
        covered = max_coverage(members, offsets, self.graph.n_nodes, k, seeds)
        # inverted index: one int32 per member, int64 per node offset, uint8 per set
        self._note(members.size * 4 + (self.graph.n_nodes + 1) * 8 * 2 + self.n_sets)
        return seeds, covered / self.n_sets

    def coverage(self, seeds):
        """Fraction of the sets that hold at least one of ``seeds``."""
        from .._kernels.rrsets import rr_coverage

        is_seed = np.zeros(self.graph.n_nodes, dtype=np.uint8)
        is_seed[np.asarray(seeds, dtype=np.int64)] = 1
        members, offsets = self.flat()
        return rr_coverage(members, offsets, is_seed) / self.n_sets


def _log_comb(n, k):
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _pool(graph, target):
    if target is None:
        return None, graph.n_nodes
    mask = graph.target_mask(target)
    nodes = np.flatnonzero(mask).astype(np.int32)
    return nodes, int(nodes.size)


def _imm(graph, k, *, eps=0.1, ell=1.0, target=None, rng=None, fresh=True, max_sets=None):
    """IMM returning ``(seeds, info)``; ``info`` holds the bounds, set counts and memory."""
    check_graph(graph)
    k = check_k(k, graph)
    eps = check_float(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    ell = check_float(ell, "ell", low=0.0, low_open=True)
    fresh = check_bool(fresh, "fresh")
    max_sets = check_int(max_sets, "max_sets", minimum=1, allow_none=True)
    pool, N = _pool(graph, target)
    bases = run_keys(rng, 2)
    n = max(graph.n_nodes, 2)
    ell = ell * (1.0 + math.log(2.0) / math.log(n))
    log_c = _log_comb(graph.n_nodes, k)
    eps_p = math.sqrt(2.0) * eps
    big_n = max(N, 2)
    lam_p = (2.0 + 2.0 / 3.0 * eps_p) * (log_c + ell * math.log(n) + math.log(math.log2(big_n) if big_n > 2 else 1.0)) \
        * big_n / eps_p**2
    cap = max_sets if max_sets is not None else 2**31 - 2
    rr = RRCollection(graph, pool, bases[0])
    lb = 1.0
    phases = 0
    for i in range(1, int(math.ceil(math.log2(big_n)))):
        x = big_n / 2.0**i
        n_rr_i = min(int(math.ceil(lam_p / x)), cap)
        rr.grow_to(n_rr_i)
        phases = i
        _, frac = rr.select(k)
        if N * frac >= (1.0 + eps_p) * x:
            lb = N * frac / (1.0 + eps_p)
            break
        if n_rr_i >= cap:
            break
    alpha = math.sqrt(ell * math.log(n) + math.log(2.0))
    beta = math.sqrt((1.0 - 1.0 / math.e) * (log_c + ell * math.log(n) + math.log(2.0)))
    lam_star = 2.0 * big_n * ((1.0 - 1.0 / math.e) * alpha + beta) ** 2 / eps**2
    n_rr_sets = min(int(math.ceil(lam_star / lb)), cap)
    sampling_sets = rr.n_sets
    mean_size = rr.n_members / max(rr.n_sets, 1)
    check_memory(n_rr_sets * (4.0 * mean_size + 8.0) * 1.5,
                 f"IMM's {n_rr_sets:,} RR sets (about {mean_size:.1f} nodes each; a larger 'eps' needs fewer)")
    if fresh:
        sampling_peak = rr.peak_bytes
        rr = RRCollection(graph, pool, bases[1])
        rr.peak_bytes = 0
    else:
        sampling_peak = 0
    rr.grow_to(n_rr_sets)
    seeds, frac = rr.select(k)
    info = dict(
        eps=eps, ell=ell, pool_size=N, lower_bound=lb, n_rr_sets=n_rr_sets, lambda_prime=lam_p, lambda_star=lam_star,
        sampling_phases=phases, sampling_sets=sampling_sets, selection_sets=rr.n_sets,
        estimate=N * frac, rr_bytes=rr.nbytes(), peak_rr_bytes=max(sampling_peak, rr.peak_bytes),
        capped=n_rr_sets >= cap and max_sets is not None,
    )
    return seeds, info


def imm(graph, k, *, eps=0.1, ell=1.0, target=None, rng=None, fresh=True):
    """Influence maximisation by IMM (Tang, Shi, Xiao 2015), global or targeted at a community.

    With ``target=None`` the seeds maximise expected reach; with a target they
    maximise the expected number of activated target members (expected
    penetration times ``|T|``): RR-set roots are drawn from the target only.
    Seeds may be any node of the graph in both cases. With probability at least
    ``1 - 1/n**ell`` the result is within ``(1 - 1/e - eps)`` of the optimum
    (see the module documentation for the bounds used).

    Parameters
    ----------
    graph : CommunityGraph
        Any per-arc probabilities (uniform, weighted cascade, trivalency, resonance...).
    k : int
        Number of seeds, ``1 <= k <= n_nodes``.
    eps : float in (0, 1), default 0.1
        Approximation slack; the number of RR sets grows like ``1 / eps**2``.
    ell : float > 0, default 1.0
        Confidence: the guarantee fails with probability at most ``1 / n**ell``.
    target : community name or label, boolean mask, node indices, or None
        The community whose activated members are maximised (None: all nodes).
    rng : None, int, numpy SeedSequence or Generator
        Source of the RR-set keys; the same ``rng`` gives the same seeds.
    fresh : bool, default True
        Draw new RR sets for node selection (Chen 2018's fix) instead of reusing
        the sampling phase's.

    Returns
    -------
    numpy.ndarray of int64, shape (k,)
        Seeds in greedy order.

    Raises
    ------
    TypeError, ValueError
        Bad graph, ``k`` outside ``[1, n_nodes]``, ``eps`` outside (0, 1), ``ell <= 0``,
        an unknown or empty target.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.imm(g, 1, rng=0).tolist()
    [0]
    >>> mv.seeding.imm(g, 1, target="b", rng=0).tolist()
    [4]
    """
    return _imm(graph, k, eps=eps, ell=ell, target=target, rng=rng, fresh=fresh)[0]


def rr_estimate(graph, seeds, *, target=None, n_sets=100_000, rng=None, confidence=0.95):
    """Estimate from RR sets the expected number of activated nodes (or target members).

    ``|pool| * (share of RR sets that meet seeds)``, the pool being all nodes or the
    target. The share is a binomial proportion over ``n_sets`` independent RR sets:
    its interval is Wilson's (exactly 0 or ``|pool|`` at the ends), scaled by ``|pool|``.

    Returns
    -------
    (estimate, se, ci_low, ci_high) : tuple of float
        ``se`` is the binomial standard error, or where that is 0 (no set or every
        set covered) the width of the interval over ``2 z``.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0], [1, 2, 3], prob=0.5)
    >>> est, se, low, high = mv.seeding.rr_estimate(g, [0], n_sets=20000, rng=1)
    >>> low < 2.5 < high   # 1 + 3 * 0.5
    True
    """
    from .._stats import check_confidence, proportion_ci
    from .._validation import check_node_array

    check_graph(graph)
    seeds = check_node_array(seeds, "seeds", graph.n_nodes)
    n_sets = check_int(n_sets, "n_sets", minimum=1, maximum=2**31 - 2)
    confidence = check_confidence(confidence)
    pool, N = _pool(graph, target)
    rr = RRCollection(graph, pool, run_keys(check_rng(rng), 1)[0])
    rr.extend(n_sets)
    covered = round(rr.coverage(seeds) * n_sets)
    return tuple(N * v for v in proportion_ci(covered, n_sets, confidence))
