"""simulate() and replay(): the public boundary of the engine (validation, provenance, results).

The runs themselves are :mod:`microviral._engine`'s: ``simulate`` validates once, then
hands trusted arrays to the local runner or to the Dask backend, both of which call
``_engine.run_chunk``.
"""

import numpy as np

from . import __version__
from ._engine import (check_graph, check_kernel, check_lt_weights, check_model, check_weights, merge_outputs,
                      output_bytes_per_run, run_local)
from ._kernels.runtime import max_threads, parallel_guard, threads
from ._memory import check_memory
from ._progress import check_progress
from ._rng import check_keys, check_rng, rng_from_record, rng_record, run_keys, target_record
from ._validation import _describe, check_bool, check_int, check_node_array
from .results import CascadeResult

__all__ = ["simulate", "replay", "check_model", "check_lt_weights"]


def prepare(graph, seeds, target, n_runs, rng, keys, max_rounds, *, bytes_per_run=None, model="ic"):
    """Validate the public arguments of :func:`simulate`; return trusted arrays and provenance.

    ``bytes_per_run`` (default: :func:`simulate`'s outputs with per-community counts)
    sizes the memory check made before any key is drawn. With ``model="lt"`` the
    graph's in-weights are checked here, before any run.
    """
    check_graph(graph)
    check_weights(graph, check_model(model))
    if bytes_per_run is None:
        bytes_per_run = output_bytes_per_run(graph)
    seeds = check_node_array(seeds, "seeds", graph.n_nodes)
    mask = graph.target_mask(target)
    in_target = np.ascontiguousarray(mask, dtype=np.uint8)
    if keys is not None:
        if rng is not None:
            raise ValueError("Give either 'rng' or 'keys', not both.")
        keys = check_keys(keys)
        check_memory(keys.size * bytes_per_run, f"{keys.size} runs")
        material = {"kind": "keys", "keys": keys.tolist()}
    else:
        n_runs = check_int(n_runs, "n_runs", minimum=1)
        # refuse before drawing keys: n_runs = 10**10 must not allocate anything
        check_memory(n_runs * bytes_per_run, f"{n_runs} runs")
        n_runs = check_int(n_runs, "n_runs", minimum=1, maximum=2**31 - 1)
        source = check_rng(rng)
        material = rng_record(source)  # before drawing: a Generator's state is the one given
        keys = run_keys(source, n_runs)
    # a cascade has at most n_nodes - 1 rounds; clamping keeps huge ints out of the int64 kernel argument
    max_rounds = -1 if max_rounds is None else min(check_int(max_rounds, "max_rounds", minimum=0), graph.n_nodes)
    provenance = {
        "model": model,
        "rng": material,
        # with the rest, JSON data from which microviral.replay re-runs the call bit for bit (docs/randomness.md)
        "n_runs": int(keys.size),
        "seeds": seeds.tolist(),
        "target": target_record(graph, target, mask),
        "max_rounds": None if max_rounds < 0 else max_rounds,
        "microviral_version": __version__,
        "graph_sha256": graph.fingerprint(),
        "community_sizes": graph.community_sizes.tolist(),
    }
    return seeds, mask, in_target, keys, max_rounds, provenance


def simulate(graph, seeds, *, model="ic", n_runs=1000, target=None, rng=None, max_rounds=None, keys=None,
             count_communities=True, n_threads=None, progress=None, backend="local", client=None, chunk_size=None,
             per_node=False, attribution=False, tol=None, rtol=None, metric="penetration", max_runs=100_000,
             kernel="auto"):
    """Run cascade simulations from ``seeds`` and measure penetration of ``target``.

    Each run is one random world fixed by its 64-bit key. Under independent
    cascade (``model="ic"``) arc ``e`` is live in run ``r`` iff a stateless hash
    of ``(keys[r], e)`` falls below ``prob[e]``. Under linear threshold
    (``model="lt"``) node ``v`` draws its threshold from a stateless hash of
    ``(keys[r], v)``, uniform on (0, 1], and becomes active in the first round in
    which the weights ``prob`` of its active in-neighbours sum to at least it.
    The result therefore does not depend on the number of threads, on chunking,
    on Dask workers or on the seed set: two seed sets simulated with the same
    ``rng`` see the same worlds (paired comparison).

    Parameters
    ----------
    graph : CommunityGraph
    seeds : array-like of int
        Initially active nodes (indices; use ``graph.index_of`` to map original ids).
        Non-empty, in range, no repeats.
    model : {"ic", "lt"}, default "ic"
        Diffusion model: independent cascade (``graph.prob`` are arc probabilities)
        or linear threshold (``graph.prob`` are arc weights; every node's in-weights
        must sum to at most 1, e.g. :func:`microviral.probabilities.weighted_cascade`).
    n_runs : int, default 1000
        Number of independent cascades. Ignored when ``keys`` is given.
    target : community name or label, boolean mask, node indices, or None
        The community whose penetration is measured. None: the whole graph.
    rng : None, int, numpy SeedSequence or Generator
        Source of the per-run keys. The same ``rng`` gives bit-identical results.
    max_rounds : int, optional
        Stop each cascade after this many rounds (None: run to the end).
    keys : array-like of uint64, optional
        Explicit run keys (e.g. ``result.keys[[i]]`` to replay run ``i``).
    count_communities : bool, default True
        Count activated nodes per community in each run.
    n_threads : int, optional
        numba threads for this call (default: numba's setting). Results do not depend on it.
    progress : bool, optional
        Show a progress bar. None (default): only when the runs are predicted to take
        more than a few seconds and stderr is a terminal; True forces it, False disables it.
    backend : {"local", "dask"}, default "local"
        "dask" runs chunks of runs on a Dask cluster (``pip install microviral[dask]``).
    client : dask.distributed.Client or str, optional
        Cluster (or scheduler address) for ``backend="dask"``; default a LocalCluster.
    chunk_size : int, optional
        Runs per chunk (progress and interruption happen between chunks; Dask tasks).
    per_node : bool, default False
        Also count, for every node, the runs that activated it
        (:meth:`CascadeResult.activation_probability`). A second pass over the same keys, run locally.
    attribution : bool, default False
        Also count each run's nodes and target members per seed's tree
        (:meth:`CascadeResult.attribution`). Same second pass.
    tol, rtol : float, optional
        Adaptive run count: ``n_runs`` is then the first stage (at least 30), and runs are added
        in stages until the 95% interval of the mean of ``metric`` has half-width
        within ``tol`` (absolute) or within ``rtol`` times the mean, or ``max_runs``
        is reached (then a ``RuntimeWarning`` gives the half-width reached). The
        stopping rule is Stein's two-stage procedure with re-estimation; see
        ``docs/metrics.md``. The keys are those of a fixed call: the result equals,
        bit for bit, ``simulate(..., n_runs=result.n_runs, rng=rng)`` with the same ``rng``.
    metric : {"penetration", "reach", "target_activated", "spillover"}, default "penetration"
        The per-run quantity whose mean ``tol``/``rtol`` apply to.
    max_runs : int, default 100000
        Most runs with ``tol``/``rtol``.
    kernel : {"auto", "scalar", "bitparallel"}, default "auto"
        Which cascade kernel runs the cascades; every kernel gives exactly the same
        results, so this changes only the speed. "scalar" follows one run at a time;
        "bitparallel" (IC only) runs 64 runs at once, one bit per run, and is faster
        when runs reach most of the graph. "auto" is a pure function of the call's
        inputs (nothing is remembered between calls): a model with one kernel (LT)
        takes it; a call of fewer than 512 runs runs scalar; otherwise the first 64
        runs are run scalar and, if they reach at least half of the nodes on
        average, the rest run bit-parallel.

    Returns
    -------
    CascadeResult

    Raises
    ------
    TypeError, ValueError
        Bad graph, seeds out of range, duplicated or empty, unknown target, ``n_runs <= 0``,
        unknown ``model`` or ``kernel`` (``"bitparallel"`` is IC's), or (``model="lt"``) a node whose
        in-weights sum above 1...
    MemoryError
        Outputs that would not fit in memory are refused up front.
    ConnectionError
        ``backend="dask"``: no scheduler answered at the ``client`` address, or the client was
        closed or lost its scheduler during the run.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0], [1, 2, 3], prob=0.5, community=[0, 0, 1, 1])
    >>> res = mv.simulate(g, [0], n_runs=2000, target=1, rng=42)
    >>> round(float(res.reach.mean()), 1)  # 1 + 3 * 0.5
    2.5
    >>> res2 = mv.simulate(g, [0], n_runs=2000, target=1, rng=42)
    >>> bool((res.reach == res2.reach).all())
    True

    Linear threshold: a node with two active in-neighbours of weights 0.25 and
    0.45 becomes active with probability 0.25 + 0.45.

    >>> h = mv.CommunityGraph.from_edges([0, 1], [2, 2], prob=[0.25, 0.45])
    >>> lt = mv.simulate(h, [0, 1], model="lt", n_runs=4000, rng=1)
    >>> round(float(lt.reach.mean() - 2), 1)
    0.7
    """
    adaptive = tol is not None or rtol is not None
    if adaptive:
        from ._adaptive import KeyStream, check_tolerances

        if keys is not None:
            raise ValueError("'tol'/'rtol' draw their runs from 'rng'; they cannot be used with 'keys'.")
        stream = KeyStream(rng)
        rng = stream.source  # one source: the first stage's keys and the later ones come from the same stream
    seeds, mask, in_target, keys, max_rounds, provenance = prepare(graph, seeds, target, n_runs, rng, keys,
                                                                    max_rounds, model=model)
    if adaptive:
        tol, rtol, max_runs = check_tolerances(tol, rtol, keys.size, max_runs)
        if metric not in _ADAPTIVE_METRICS:
            raise ValueError(f"'metric' must be one of {list(_ADAPTIVE_METRICS)}. Got {_describe(metric)}.")
        stream.keys = keys  # drawn by prepare from the same source
    count_communities = check_bool(count_communities, "count_communities")
    per_node, attribution = check_bool(per_node, "per_node"), check_bool(attribution, "attribution")
    provenance.update(count_communities=count_communities, per_node=per_node, attribution=attribution)
    if attribution:  # refused before the runs, not after them: outputs and two counts per seed and run together
        check_memory(keys.size * (output_bytes_per_run(graph, count_communities) + seeds.size * 8),
                     f"{keys.size} runs with per-seed counts of {seeds.size} seeds", hint="ask for fewer runs or seeds")
    progress = check_progress(progress)
    n_threads = check_int(n_threads, "n_threads", minimum=1, allow_none=True)
    if n_threads is not None:
        if n_threads > max_threads():
            raise ValueError(f"'n_threads' must be <= {max_threads()} (numba's maximum). "
                             f"Got {n_threads}.")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    kernel = check_kernel(kernel, model)
    if not isinstance(backend, str) or backend not in ("local", "dask"):
        raise ValueError(f"'backend' must be 'local' or 'dask'. Got {_describe(backend)}.")
    if backend == "dask":
        from .distributed import simulate_dask

        if n_threads is not None:
            raise ValueError("'n_threads' applies to backend='local'; with Dask, size the workers' threads instead.")

        def run(keys_):
            return simulate_dask(graph, seeds, in_target, keys_, max_rounds=max_rounds,
                                 count_communities=count_communities, client=client, chunk_size=chunk_size,
                                 progress=progress, model=model, kernel=kernel)
    else:
        if client is not None:
            raise ValueError("'client' is only used with backend='dask'.")

        def run(keys_):
            return run_local(graph, seeds, in_target, keys_, model=model, max_rounds=max_rounds,
                             count_communities=count_communities, kernel=kernel, n_threads=n_threads,
                             progress=progress, chunk_size=chunk_size)

    def result(out, keys_):
        return CascadeResult(**out, keys=keys_, seeds=seeds, target_mask=mask, n_nodes=graph.n_nodes,
                             community_names=graph.community_names, provenance=provenance, graph=graph,
                             model=model, max_rounds=None if max_rounds < 0 else max_rounds)

    if adaptive:
        out, keys = _run_adaptive(run, result, stream, keys.size, metric, tol, rtol, max_runs, provenance)
    else:
        out = run(keys)
    if per_node or attribution:
        from ._kernels.anatomy import count_runs

        check_memory(keys.size * seeds.size * 8 * attribution, f"per-seed counts of {keys.size} runs")
        with threads(n_threads), parallel_guard():
            out.update(count_runs(graph, seeds, in_target, keys, max_rounds, model, per_node, attribution,
                                  out["reach"]))
    return result(out, keys)


_ADAPTIVE_METRICS = ("penetration", "reach", "target_activated", "spillover")


def _run_adaptive(run, result, stream, n_first, metric, tol, rtol, max_runs, provenance):
    """Outputs and keys of the runs that :func:`microviral._adaptive.run_adaptive` asks for."""
    from ._adaptive import run_adaptive

    parts, state = [], {}

    def extend(n):
        done = sum(p["reach"].size for p in parts)
        parts.append(run(stream.take(n)[done:n]))
        state["out"] = merge_outputs(parts) if len(parts) > 1 else parts[0]

    def measure():
        out = state["out"]
        summary = result(out, stream.take(out["reach"].size)).summary().iloc[0]
        return [tuple(summary[f"{metric}_{s}"] for s in ("mean", "ci_low", "ci_high"))]

    info = run_adaptive(extend, measure, n_first=n_first, tol=tol, rtol=rtol, max_runs=max_runs,
                        what=f"the mean {metric}")
    provenance["adaptive"] = dict(tol=tol, rtol=rtol, metric=metric, max_runs=max_runs, **info)
    return dict(state["out"]), stream.take(info["n_runs"])


# simulate's keywords that change results, recorded in its provenance
_REPLAYED = ("model", "max_rounds", "count_communities", "per_node", "attribution")


def replay(graph, provenance, **options):
    """Re-run the simulation that ``provenance`` (``res.provenance``, also after JSON) records, bit for bit.

    The model, seeds, target, number of runs or keys, ``max_rounds``,
    ``count_communities``, ``per_node``, ``attribution`` and the ``rng`` all come
    from the record; ``graph`` must be the same graph (its
    SHA-256 fingerprint is checked). ``options`` are the keywords of
    :func:`microviral.simulate` that do not change results (``n_threads``,
    ``backend``, ``client``, ``chunk_size``, ``progress``, ``kernel``).

    Returns
    -------
    CascadeResult
        Equal, run for run, to the recorded result.

    Raises
    ------
    ValueError
        Not a provenance record, or a different graph.

    Examples
    --------
    >>> import json, microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=0.5, community=list("aabb"))
    >>> res = mv.simulate(g, [0], n_runs=100, target="b")          # rng=None: fresh entropy, recorded
    >>> again = mv.replay(g, json.loads(json.dumps(res.provenance)))
    >>> bool((again.reach == res.reach).all() and (again.keys == res.keys).all())
    True
    """
    check_graph(graph)
    needed = ("rng", "seeds", "target", "n_runs", "graph_sha256")
    if not isinstance(provenance, dict) or any(k not in provenance for k in needed):
        raise ValueError(f"'provenance' must be a result's provenance (res.provenance) with the entries {list(needed)}. "
                         f"Got {_describe(provenance)}.")
    if provenance["graph_sha256"] != graph.fingerprint():
        raise ValueError("'graph' is not the graph this provenance was recorded on (SHA-256 fingerprints differ: "
                         f"{graph.fingerprint()[:12]}... against {str(provenance['graph_sha256'])[:12]}...).")
    fixed = {"seeds", "target", "n_runs", "rng", "keys", *_REPLAYED} & set(options)
    if fixed:
        raise ValueError(f"'options' must not set {sorted(fixed)}: replay takes them from the provenance.")
    target = provenance["target"]
    if isinstance(target, dict) and "nodes" in target:
        target = np.asarray(target["nodes"], dtype=np.int64)
    elif isinstance(target, dict) and "community" in target:
        target = target["community"]
    record = provenance["rng"]
    if isinstance(record, dict) and record.get("kind") == "keys":
        source = {"keys": record.get("keys")}
    else:
        source = {"rng": rng_from_record(record), "n_runs": provenance["n_runs"]}
    for name in _REPLAYED:
        if name in provenance:
            options[name] = provenance[name]
    return simulate(graph, provenance["seeds"], target=target, **source, **options)
