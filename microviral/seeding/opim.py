"""OPIM-C (Tang, Tang, Xiao, Yuan, SIGMOD 2018): IMM's guarantee with far fewer RR sets.

OPIM-C keeps two independent collections of RR sets of equal size ``theta``: ``R1``
chooses the seeds (greedy maximum coverage) and ``R2`` validates them. After each
round it computes, with failure probability ``delta / (3 i_max)`` each,

* a lower bound on the expected value of the chosen seeds ``S`` from their
  coverage ``L2`` of ``R2`` (independent of how ``S`` was chosen)::

      sigma_low = ((sqrt(L2 + 2a/9) - sqrt(a/2))**2 - a/18) * N / theta

* an upper bound on the optimum from an upper bound ``U1`` on the sets of ``R1`` that
  any ``k`` nodes cover::

      sigma_up = (sqrt(U1 + a/2) + sqrt(a/2))**2 * N / theta

  with ``a = log(3 i_max / delta)`` and ``N`` the pool size. ``U1`` is the paper's
  tighter bound: the minimum, over the greedy prefixes ``S_i`` (``i = 0..k``), of
  ``cov(S_i)`` plus the ``k`` largest marginal coverages given ``S_i``; it is never
  above ``cov(S_k) / (1 - 1/e)``.

``sigma_low / sigma_up`` is an *instance-specific* approximation ratio. OPIM-C
stops as soon as it reaches ``1 - 1/e - eps`` (or the ``ratio`` asked for), and
otherwise doubles both collections, up to ``theta_max`` sets, the count for which
the worst-case analysis alone guarantees ``1 - 1/e - eps``. With probability at
least ``1 - delta`` the returned seeds are worth at least the reported
``certified_ratio`` times the optimum.

Targeted OPIM-C draws RR roots from the target ``T`` only (``N = |T|``), so every
bound is about the expected number of activated target members; ``theta_max``
uses the lower bound ``OPT >= min(k, |T|)`` (seeds inside ``T`` are activated
members) and the union bound over seed sets keeps the graph's ``n``.
"""

import functools
import math
import warnings

from .._rng import run_keys
from .._validation import check_float, check_int
from .._memory import check_memory
from ._common import check_graph, check_k
from ._rr import RRCollection, check_model, grow_pair, log_comb, pool_of, run_with_progress
from ._rr_dask import check_backend, run_on
from ._seedset import SeedSet

__all__ = ["opim_c"]

_HINT = "ask for a larger 'eps' or 'delta' or a smaller 'ratio', or cap 'max_rr_sets'"
# bytes an RR set needs at the least: its root (int32) and its offset (int64)
_MIN_SET_BYTES = 4 + 8

_E1 = 1.0 - 1.0 / math.e


def lower_bound(covered, n_sets, scale, a):
    """OPIM-C's lower bound on a fixed seed set's value from its coverage of independent RR sets."""
    inner = (math.sqrt(covered + 2.0 * a / 9.0) - math.sqrt(a / 2.0)) ** 2 - a / 18.0
    return max(inner, 0.0) * scale / n_sets


def upper_bound(covered_ub, n_sets, scale, a):
    """OPIM-C's upper bound on the optimum from an upper bound on the RR sets any k nodes cover."""
    return (math.sqrt(covered_ub + a / 2.0) + math.sqrt(a / 2.0)) ** 2 * scale / n_sets


def theta_max(n, pool_size, k, eps, delta):
    """RR sets per collection for which the worst-case analysis gives ``1 - 1/e - eps``."""
    alpha = math.sqrt(math.log(6.0 / delta))
    beta = math.sqrt(_E1 * (log_comb(n, k) + math.log(6.0 / delta)))
    # eps**2 underflows to 0 for eps below about 1e-162: no cap then, the rounds stop at the memory guard
    return 2.0 * pool_size * (_E1 * alpha + beta) ** 2 / (eps**2 * min(k, pool_size)) if eps**2 > 0 else math.inf


def _opim_c(graph, k, *, eps=0.1, delta=None, ratio=None, target=None, rng=None, model="ic", max_rr_sets=None,
            progress=None, backend="local", client=None):
    """OPIM-C returning ``(seeds, info)``."""
    check_graph(graph)
    model = check_model(model)
    k = check_k(k, graph)
    eps = check_float(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    n = graph.n_nodes
    if delta is None:
        delta = 1.0 / max(n, 2)
    # below 1e-300, log(1 / delta) and the bounds built on it are no longer finite floats
    delta = check_float(delta, "delta", low=1e-300, high=1.0, high_open=True)
    if ratio is not None:
        ratio = check_float(ratio, "ratio", low=0.0, high=1.0, low_open=True, high_open=True)
    max_rr_sets = check_int(max_rr_sets, "max_rr_sets", minimum=1, maximum=2**30, allow_none=True)
    backend = check_backend(backend, client)
    pool, N = pool_of(graph, target)
    bases = run_keys(rng, 2)

    def run(make_rr, n_shards):
        return run_with_progress(progress, "OPIM-C", functools.partial(_opim_c_run, make_rr=make_rr), graph, k, eps,
                                 delta, ratio, pool, N, bases, model, max_rr_sets)

    return run_on(backend, client, graph, pool, run)


def _opim_c_run(graph, k, eps, delta, ratio, pool, N, bases, model, max_rr_sets, progress, *, make_rr=RRCollection):
    n = graph.n_nodes
    worst = theta_max(max(n, 2), N, k, eps, delta)
    theta_0 = 2.0 * (_E1 * math.sqrt(math.log(6.0 / delta))
                     + math.sqrt(_E1 * (log_comb(max(n, 2), k) + math.log(6.0 / delta)))) ** 2
    cap = int(math.ceil(min(worst, 2**30))) if max_rr_sets is None else max_rr_sets
    start = max(1, min(int(math.ceil(theta_0)), cap))
    # rounds: start, 2 start, 4 start, ..., and the last one exactly at the cap
    i_max = 1 + max(0, math.ceil(math.log2(cap / start)))
    a = math.log(3.0 * i_max / delta)
    goal = _E1 - eps if ratio is None else ratio
    check_memory(2 * start * _MIN_SET_BYTES, f"OPIM-C's first 2 x {start:,} RR sets (one node each at the least)",
                 hint=_HINT)
    r1 = make_rr(graph, pool, bases[0], model=model, progress=progress)
    r2 = make_rr(graph, pool, bases[1], model=model, progress=progress)
    r1.hint = r2.hint = _HINT
    for i in range(1, i_max + 1):
        size = cap if i == i_max else start << (i - 1)
        if r1.n_sets:
            check_memory(2 * r1.bytes_for(size), f"OPIM-C's 2 x {size:,} RR sets (about {r1.mean_size:.1f} nodes each)",
                         hint=f"after {r1.n_sets:,} sets per collection the certified ratio was {alpha:.3f}; "
                              "ask for a larger 'eps' or a smaller 'ratio', or cap 'max_rr_sets'")
        progress.expect(2 * size)
        grow_pair(r1, r2, size)
        seeds, covered, covered_ub = r1.greedy(k, bound=True)
        covered_ub = min(covered_ub, covered / _E1)
        low = lower_bound(r2.covered(seeds), size, N, a)
        up = upper_bound(covered_ub, size, N, a)
        alpha = min(low / up, 1.0)
        if alpha >= goal:
            break
    rounds = i
    guarantee = alpha
    if r1.n_sets >= worst:
        # the worst-case analysis (OPIM-C's theta_max) holds whatever the bounds say
        guarantee = max(alpha, _E1 - eps)
    if ratio is not None and guarantee < ratio:
        warnings.warn(f"OPIM-C certified a ratio of {guarantee:.4f}, below the 'ratio' asked for ({ratio}), "
                      f"after {r1.n_sets:,} RR sets per collection (the cap); raise 'max_rr_sets' to sample on.",
                      RuntimeWarning, stacklevel=3)
    info = dict(
        algorithm="opim_c", model=model, eps=eps, delta=delta, ratio_goal=goal, pool_size=N,
        certified_ratio=guarantee, instance_ratio=alpha, failure_probability=delta,
        lower_bound=low, upper_bound=up, estimate=N * covered / r1.n_sets,
        validation_estimate=N * r2.covered(seeds) / r2.n_sets, n_rr_sets=r1.n_sets, rr_sets_drawn=2 * r1.n_sets,
        n_rr_sets_max=worst, rounds=rounds, max_rounds=i_max, reached_cap=r1.n_sets >= cap,
        rr_bytes=r1.nbytes() + r2.nbytes(), peak_rr_bytes=r1.peak_bytes + r2.peak_bytes,
    )
    return seeds, info


def opim_c(graph, k, *, eps=0.1, delta=None, ratio=None, target=None, rng=None, model="ic", max_rr_sets=None,
           progress=None, backend="local", client=None):
    """Influence maximisation by OPIM-C (Tang, Tang, Xiao, Yuan 2018), global or targeted.

    Same objective and conventions as :func:`~microviral.seeding.imm`: with
    ``target=None`` the seeds maximise expected reach, with a target the expected
    number of activated target members (RR roots drawn from the target). OPIM-C
    samples RR sets until an instance-specific bound certifies, with probability at
    least ``1 - delta``, that the seeds are within ``1 - 1/e - eps`` of the optimum
    (or within ``ratio``, when asked). It usually needs an order of magnitude fewer
    RR sets than IMM at the same ``eps``, at the price of seeds that are somewhat
    weaker in practice (IMM's many sets give a better greedy than its guarantee).

    Parameters
    ----------
    graph : CommunityGraph
        Any per-arc probabilities.
    k : int
        Number of seeds, ``1 <= k <= n_nodes``.
    eps : float in (0, 1), default 0.1
        Stop once ``1 - 1/e - eps`` is certified; also fixes the most RR sets ever
        drawn (``theta_max``, at which the worst-case analysis suffices).
    delta : float in [1e-300, 1), optional
        Failure probability of the certificate (default ``1 / n``).
    ratio : float in (0, 1), optional
        The quality-for-time option: stop only once this ratio is certified instead
        of ``1 - 1/e - eps``. Above ``1 - 1/e`` there is no worst-case cap, so
        sampling stops at ``max_rr_sets`` (default ``theta_max``) with a
        ``RuntimeWarning`` when the ratio was not reached.
    target : community name or label, boolean mask, node indices, or None
        The community whose activated members are maximised (None: all nodes).
    rng : None, int, numpy SeedSequence or Generator
        Source of the RR-set keys; the same ``rng`` gives the same seeds at any
        thread count.
    model : {"ic", "lt"}, default "ic"
        Diffusion model whose RR sets are drawn: IC's live arcs, or LT's reverse
        random walks (each node keeps at most one in-arc, with probability its
        weight); under LT the in-weights must sum to at most 1 per node.
    max_rr_sets : int, optional
        Most RR sets per collection (default ``theta_max``).
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
        The seeds (an int64 array, shape ``(k,)``, greedy order) with
        ``.certified_ratio`` and ``.info``: ``certified_ratio`` (with probability
        ``1 - delta`` the seeds' expected value is at least this fraction of the
        optimum), ``instance_ratio`` (the bound ratio of the last round),
        ``lower_bound`` (of the seeds' value) and ``upper_bound`` (of the optimum),
        ``validation_estimate`` (unbiased RR estimate of the seeds' value from ``R2``),
        ``n_rr_sets`` (per collection), ``rr_sets_drawn``, ``rounds``, ``rr_bytes``,
        ``peak_rr_bytes``.

    Raises
    ------
    TypeError, ValueError
        Bad graph, ``k`` outside ``[1, n_nodes]``, ``eps``, ``delta`` or ``ratio``
        outside (0, 1), an unknown or empty target, an unknown model, ``backend`` not
        "local" or "dask", a ``client`` with ``backend="local"``.
    ImportError
        ``backend="dask"`` without dask.distributed (``pip install microviral[dask]``).
    MemoryError
        Before a round whose RR sets would not fit in memory (with the estimated size).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))
    >>> seeds = mv.seeding.opim_c(g, 1, rng=0)
    >>> seeds.tolist(), seeds.certified_ratio >= 1 - 1 / 2.718281828 - 0.1
    ([0], True)
    >>> mv.seeding.opim_c(g, 1, target="b", rng=0).tolist()
    [4]
    """
    seeds, info = _opim_c(graph, k, eps=eps, delta=delta, ratio=ratio, target=target, rng=rng, model=model,
                          max_rr_sets=max_rr_sets, progress=progress, backend=backend, client=client)
    return SeedSet(seeds, info)
