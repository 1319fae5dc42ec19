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

import functools
import math

from .._rng import check_rng, run_keys
from .._validation import check_bool, check_float, check_int
from .._memory import check_memory
from ._common import check_graph, check_k
from ._rr import RRCollection, check_model, log_comb, pool_of, run_with_progress, sorted_reverse
from ._rr_dask import check_backend, run_on
from ._seedset import SeedSet

__all__ = ["imm", "rr_estimate", "RRCollection", "sorted_reverse"]

_log_comb = log_comb
_pool = pool_of


_HINT = "a larger 'eps' (the RR sets grow like 1 / eps**2) or a smaller 'ell' needs fewer, and opim_c usually far fewer"

# bytes an RR set needs at the least: its root (int32) and its offset (int64)
_MIN_SET_BYTES = 4 + 8


def _lambdas(n_nodes, k, eps, ell_user, N):
    """IMM's ``lambda'`` (sampling) and ``lambda*`` (selection); floats that may be ``inf`` for extreme parameters."""
    n = max(n_nodes, 2)
    ell = ell_user * (1.0 + math.log(2.0) / math.log(n))
    log_c = _log_comb(n_nodes, k)
    eps_p = math.sqrt(2.0) * eps
    big_n = max(N, 2)
    # eps**2 underflows to 0 for eps below about 1e-162: then no memory could hold the sets
    lam_p = (2.0 + 2.0 / 3.0 * eps_p) * (log_c + ell * math.log(n) + math.log(math.log2(big_n) if big_n > 2 else 1.0)) \
        * big_n / eps_p**2 if eps_p**2 > 0 else math.inf
    alpha = math.sqrt(ell * math.log(n) + math.log(2.0))
    beta = math.sqrt((1.0 - 1.0 / math.e) * (log_c + ell * math.log(n) + math.log(2.0)))
    lam_star = 2.0 * big_n * ((1.0 - 1.0 / math.e) * alpha + beta) ** 2 / eps**2 if eps**2 > 0 else math.inf
    return lam_p, lam_star


def _check_imm_memory(n_nodes, k, eps, ell, N, max_sets, n_shards=1):
    """Refuse before any RR set is drawn when even the fewest sets IMM can need would not fit.

    The lower bound found by sampling is at most ``N``, so node selection needs at
    least ``lambda* / N`` sets, and the first sampling phase draws ``2 lambda' / N``.
    With ``n_shards`` Dask workers each holds (and checks again) its share.
    """
    lam_p, lam_star = _lambdas(n_nodes, k, eps, ell, N)
    big_n = max(N, 2)
    fewest = max(2.0 * lam_p / big_n if big_n > 2 else 0.0, lam_star / big_n)
    if max_sets is not None:
        fewest = min(fewest, max_sets)
    count = f"{fewest:,.0f}" if fewest < 1e15 else f"{fewest:.3g}"
    check_memory(fewest * _MIN_SET_BYTES / n_shards, f"at least {count} RR sets (IMM with eps={eps:g}, ell={ell:g}; one node "
                 "each at the least)", hint=_HINT)


def _imm(graph, k, *, eps=0.1, ell=1.0, target=None, rng=None, fresh=True, max_sets=None, model="ic",
         progress=None, backend="local", client=None):
    """IMM returning ``(seeds, info)``; ``info`` holds the bounds, set counts and memory."""
    check_graph(graph)
    model = check_model(model)
    k = check_k(k, graph)
    eps = check_float(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    ell = check_float(ell, "ell", low=0.0, low_open=True)
    fresh = check_bool(fresh, "fresh")
    max_sets = check_int(max_sets, "max_sets", minimum=1, allow_none=True)
    backend = check_backend(backend, client)
    pool, N = _pool(graph, target)
    bases = run_keys(rng, 2)

    def run(make_rr, n_shards):
        _check_imm_memory(graph.n_nodes, k, eps, ell, N, max_sets, n_shards)
        return run_with_progress(progress, "IMM", functools.partial(_imm_run, make_rr=make_rr), graph, k, eps, ell,
                                 pool, N, bases, fresh, max_sets, model)

    return run_on(backend, client, graph, pool, run)


def _imm_run(graph, k, eps, ell_user, pool, N, bases, fresh, max_sets, model, progress, *, make_rr=RRCollection):
    n = max(graph.n_nodes, 2)
    eps_p = math.sqrt(2.0) * eps
    big_n = max(N, 2)
    lam_p, lam_star = _lambdas(graph.n_nodes, k, eps, ell_user, N)
    cap = max_sets if max_sets is not None else 2**31 - 2
    rr = make_rr(graph, pool, bases[0], model=model, progress=progress)
    rr.hint = _HINT
    lb = 1.0
    phases = 0
    for i in range(1, int(math.ceil(math.log2(big_n)))):
        x = big_n / 2.0**i
        n_rr_i = int(math.ceil(min(lam_p / x, cap)))
        progress.expect(n_rr_i)
        rr.grow_to(n_rr_i)
        phases = i
        _, frac = rr.select(k)
        if N * frac >= (1.0 + eps_p) * x:
            lb = N * frac / (1.0 + eps_p)
            break
        if n_rr_i >= cap:
            break
    n_rr_sets = int(math.ceil(min(lam_star / lb, cap)))
    sampling_sets = rr.n_sets
    check_memory(rr.bytes_for(n_rr_sets) + (0 if fresh else rr.nbytes()),
                 f"IMM's {n_rr_sets:,} RR sets (about {rr.mean_size:.1f} nodes each)",
                 hint=_HINT)
    progress.expect(n_rr_sets + (sampling_sets if fresh else 0))
    if fresh:
        sampling_peak = rr.peak_bytes
        rr = make_rr(graph, pool, bases[1], model=model, progress=progress)
        rr.hint = _HINT
        rr.peak_bytes = 0
    else:
        sampling_peak = 0
    rr.grow_to(n_rr_sets)
    seeds, frac = rr.select(k)
    capped = n_rr_sets >= cap and max_sets is not None
    info = dict(
        algorithm="imm", model=model, eps=eps, ell=ell_user, pool_size=N, lower_bound=lb, n_rr_sets=n_rr_sets,
        lambda_prime=lam_p, lambda_star=lam_star, sampling_phases=phases, sampling_sets=sampling_sets,
        selection_sets=rr.n_sets, rr_sets_drawn=rr.n_sets + (sampling_sets if fresh else 0),
        estimate=N * frac, rr_bytes=rr.nbytes(), peak_rr_bytes=max(sampling_peak, rr.peak_bytes),
        capped=capped, certified_ratio=None if capped else 1.0 - 1.0 / math.e - eps,
        failure_probability=float(n) ** -ell_user,
    )
    return seeds, info


def imm(graph, k, *, eps=0.1, ell=1.0, target=None, rng=None, fresh=True, model="ic", progress=None, backend="local",
        client=None):
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
    model : {"ic", "lt"}, default "ic"
        Diffusion model whose RR sets are drawn: IC's live arcs, or LT's reverse
        random walks (each node keeps at most one in-arc, with probability its
        weight); under LT the in-weights must sum to at most 1 per node.
    progress : bool, optional
        Progress bar over RR sets drawn (default: only when the run has taken a few
        seconds and stderr is a terminal).
    backend : {"local", "dask"}, default "local"
        Where the RR sets are drawn and kept. ``"dask"``: on the workers of a Dask
        cluster, each holding a contiguous range of set numbers in its memory, with
        greedy maximum coverage run in rounds (the workers send per-node counts,
        this process picks). The seeds, ``n_rr_sets`` and every bound are those of
        ``"local"`` for the same ``rng``, whatever the number of workers (see
        docs/scaling.md). Worth it when the RR sets do not fit in one machine.
    client : None, dask.distributed.Client, a Dask cluster, or str, optional
        With ``backend="dask"``: the cluster to use (see
        :func:`microviral.distributed.client_context`); None starts a LocalCluster
        of 2 worker processes and closes it afterwards.

    Returns
    -------
    SeedSet
        The seeds (an int64 array, shape ``(k,)``, greedy order) with ``.info``:
        ``certified_ratio`` (``1 - 1/e - eps``), ``failure_probability`` (``1/n**ell``),
        ``n_rr_sets`` (RR sets for node selection, the paper's theta), ``rr_sets_drawn``,
        ``lower_bound`` (of the optimum), ``estimate`` (RR estimate of the seeds' value,
        biased upwards since the same sets chose them), ``rr_bytes``, ``peak_rr_bytes``.

    Raises
    ------
    TypeError, ValueError
        Bad graph, ``k`` outside ``[1, n_nodes]``, ``eps`` outside (0, 1), ``ell <= 0``,
        an unknown or empty target, an unknown model, ``backend`` not "local" or "dask",
        a ``client`` with ``backend="local"``.
    ImportError
        ``backend="dask"`` without dask.distributed (``pip install microviral[dask]``).
    MemoryError
        Before sampling, when the RR sets would not fit in memory (with the estimated size).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> mv.seeding.imm(g, 1, rng=0).tolist()
    [0]
    >>> mv.seeding.imm(g, 1, target="b", rng=0).tolist()
    [4]

    The same seeds with the RR sets kept on Dask workers (here threads of this process):

    >>> from microviral.distributed import client_context
    >>> with client_context(n_workers=2, processes=False) as client:
    ...     mv.seeding.imm(g, 1, target="b", rng=0, backend="dask", client=client).tolist()
    [4]
    """
    seeds, info = _imm(graph, k, eps=eps, ell=ell, target=target, rng=rng, fresh=fresh, model=model,
                       progress=progress, backend=backend, client=client)
    return SeedSet(seeds, info)


def rr_estimate(graph, seeds, *, target=None, n_sets=100_000, rng=None, confidence=0.95, model="ic"):
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
    model = check_model(model)
    pool, N = _pool(graph, target)
    check_memory(n_sets * _MIN_SET_BYTES, f"at least {n_sets:,} RR sets (one node each at the least)",
                 hint="ask for fewer 'n_sets' (the interval narrows like 1 / sqrt(n_sets))")
    rr = RRCollection(graph, pool, run_keys(check_rng(rng), 1)[0], model=model)
    rr.hint = "ask for fewer 'n_sets'"
    rr.extend(n_sets)
    covered = round(rr.coverage(seeds) * n_sets)
    return tuple(N * v for v in proportion_ci(covered, n_sets, confidence))
