"""CELF lazy greedy (Leskovec et al. 2007) by Monte Carlo on common random worlds."""

import heapq

import numpy as np

from .._rng import run_keys
from .._validation import check_int
from .._engine import check_model, check_weights, output_bytes_per_run, pick_kernel, run_chunk
from .._memory import check_memory
from ._common import check_graph, check_k

__all__ = ["celf", "greedy_objective"]

_OBJECTIVES = ("reach", "target")


def _objective(objective, target):
    if objective is None:
        return "reach" if target is None else "target"
    if objective not in _OBJECTIVES:
        raise ValueError(f"'objective' must be one of {list(_OBJECTIVES)}. Got {objective!r} instead.")
    if objective == "target" and target is None:
        raise ValueError("objective='target' needs a 'target'. Got target=None.")
    return objective


def greedy_objective(graph, in_target, keys, objective, model="ic", kernel="auto"):
    """Return ``f(seeds)``: the total (over the runs of ``keys``) of reach or of activated target members.

    An integer, so marginal gains are exact and ties are real ties. ``seeds`` is any
    sequence of node indices; ``in_target`` a uint8 mask; ``model`` the diffusion
    model (its weights already checked); ``kernel`` the engine's kernel for every
    evaluation (all kernels give the same totals).
    """
    field = "reach" if objective == "reach" else "target_activated"

    def f(seeds):
        out = run_chunk(graph, np.asarray(seeds, dtype=np.int32), in_target, keys, count_communities=False,
                        model=model, kernel=kernel)
        return int(out[field].sum())

    return f


def celf(graph, k, *, target=None, rng=None, n_runs=200, objective=None, model="ic"):
    """Lazy greedy seed selection (CELF) on ``n_runs`` common live-edge worlds.

    Every evaluation of the objective uses the same run keys, i.e. the same
    ``n_runs`` random worlds (live arcs under IC, node thresholds under LT).
    Under IC the objective on those worlds (mean reach, or mean number of
    activated target members) is monotone and submodular, so the lazy
    evaluations of CELF pick exactly the seeds of the plain greedy algorithm on
    the same worlds (ties to the lowest index) with far fewer simulations. Under
    LT it is monotone, and submodular in expectation (Kempe et al. 2003) but not
    on every fixed set of thresholds, so there CELF is lazy greedy on an
    estimate whose lack of submodularity is sampling noise only.
    Meant for small graphs: the first round simulates once per node.

    Parameters
    ----------
    graph : CommunityGraph
    k : int
        Number of seeds, ``1 <= k <= n_nodes``.
    target : community name or label, boolean mask, node indices, or None
        The community whose activated members are counted by ``objective="target"``.
    rng : None, int, numpy SeedSequence or Generator
        Source of the run keys; the same ``rng`` gives the same seeds.
    n_runs : int, default 200
        Number of live-edge worlds the objective averages over.
    objective : {"reach", "target"}, optional
        What to maximise: expected reach, or expected number of activated target
        members (= penetration times target size). Default: "target" when
        ``target`` is given, else "reach".
    model : {"ic", "lt"}, default "ic"
        Diffusion model (see :func:`microviral.simulate`).

    Returns
    -------
    numpy.ndarray of int64, shape (k,)
        Seeds in the order greedy picked them.

    Raises
    ------
    TypeError, ValueError
        Bad graph, ``k`` outside ``[1, n_nodes]``, ``n_runs < 1``, unknown or empty
        target, unknown objective, unknown model, LT in-weights summing above 1.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=1.0)
    >>> mv.seeding.celf(g, 2, n_runs=10, rng=0).tolist()
    [0, 4]
    >>> mv.seeding.celf(g, 2, n_runs=10, rng=0, model="lt").tolist()
    [0, 4]
    """
    check_graph(graph)
    check_weights(graph, check_model(model))
    k = check_k(k, graph)
    n_runs = check_int(n_runs, "n_runs", minimum=1, maximum=2**31 - 1)
    # every evaluation runs all n_runs at once: their keys and the engine's outputs per run
    check_memory(n_runs * (8 + output_bytes_per_run(graph, count_communities=False)), f"CELF on {n_runs} runs",
                 hint="ask for fewer 'n_runs'")
    objective = _objective(objective, target)
    mask = graph.target_mask(target)
    in_target = np.ascontiguousarray(mask, dtype=np.uint8)
    keys = run_keys(rng, n_runs)
    # One kernel for every evaluation, chosen once from the highest-degree node's runs (a pure function of the
    # graph and the keys): a pilot per evaluation would cost more than the bit-parallel kernel can save.
    probe = np.array([np.argmax(graph.out_degree)], dtype=np.int32)
    kernel, _ = pick_kernel(graph, probe, in_target, keys, model=model, count_communities=False)
    f = greedy_objective(graph, in_target, keys, objective, model, kernel)
    # heap of (-gain, node, round in which the gain was computed)
    heap = [(-f([v]), v, 0) for v in range(graph.n_nodes)]
    heapq.heapify(heap)
    seeds = []
    value = 0
    while len(seeds) < k:
        neg_gain, v, stamp = heapq.heappop(heap)
        if stamp == len(seeds):
            seeds.append(v)
            value -= neg_gain
            continue
        gain = f(seeds + [v]) - value
        heapq.heappush(heap, (-gain, v, len(seeds)))
    return np.asarray(seeds, dtype=np.int64)
