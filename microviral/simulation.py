"""simulate(): the only caller of the cascade kernels (independent cascade, linear threshold)."""

import os

import numpy as np

from . import __version__
from ._kernels.runtime import max_threads, num_threads, parallel_chunksize, parallel_guard
from ._kernels.runtime import threads as _threads
from ._progress import check_progress, wants_bar
from ._rng import check_keys, check_rng, rng_record, run_keys, target_record
from ._validation import _describe, check_bool, check_int, check_node_array
from .graph import CommunityGraph
from .results import CascadeResult

__all__ = ["simulate", "simulate_keys", "check_memory", "check_model", "check_lt_weights"]

MODELS = ("ic", "lt")
# In-weights may sum past 1 by rounding (e.g. 1/3 + 1/3 + 1/3); beyond this it is a modelling error.
_LT_WEIGHT_SLACK = 1e-9

# Per-round counts start this wide; runs with more rounds are replayed wider (exactly, from their keys).
_ROUND_WIDTH = 32
_MEMORY_FRACTION = 0.5


def _available_memory():
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # psutil is optional
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return 8 * 2**30


def check_memory(n_bytes, what, hint="ask for fewer runs or rounds"):
    """Refuse up front a request whose outputs would not fit in memory."""
    limit = _MEMORY_FRACTION * _available_memory()
    if n_bytes > limit:
        raise MemoryError(
            f"{what} would need about {n_bytes / 2**30:.2f} GiB, more than half of the "
            f"{limit / _MEMORY_FRACTION / 2**30:.2f} GiB available; {hint}."
        )


def _output_bytes_per_run(graph, count_communities=True):
    """Bytes of :func:`simulate` output per run (key, per-run counts, first per-round columns, communities)."""
    width = min(_ROUND_WIDTH, graph.n_nodes + 1)
    return 8 + 3 * 8 + 2 * width * 4 + (graph.n_communities * 4 if count_communities else 0)


def check_graph(graph, name="graph"):
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'{name}' must be a microviral.CommunityGraph. Got {_describe(graph)}.")
    return graph


def check_model(model):
    """The diffusion model's name: ``"ic"`` (independent cascade) or ``"lt"`` (linear threshold)."""
    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"'model' must be 'ic' (independent cascade) or 'lt' (linear threshold). "
                         f"Got {_describe(model)}.")
    return model


def check_lt_weights(graph):
    """Refuse, for linear threshold, a graph where some node's in-weights sum above 1.

    Kempe et al.'s model needs ``sum_u w(u, v) <= 1`` for every node ``v`` (up to
    rounding, 1e-9): the summed weight is compared with a threshold uniform on
    (0, 1], so a larger sum would silently act as 1.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1], [2, 2], prob=[0.7, 0.6])
    >>> check_lt_weights(g)
    Traceback (most recent call last):
    ...
    ValueError: model='lt' needs every node's in-weights to sum to at most 1; node 2 (id 2) has in-weights summing to 1.3 ...
    """
    insum = np.bincount(graph.indices, weights=graph.prob, minlength=graph.n_nodes)
    bad = np.flatnonzero(insum > 1.0 + _LT_WEIGHT_SLACK)
    if bad.size:
        v = int(bad[np.argmax(insum[bad])])
        ident = graph.node_ids[v]
        ident = ident.item() if isinstance(ident, np.generic) else ident
        raise ValueError(
            f"model='lt' needs every node's in-weights to sum to at most 1; node {v} (id {ident!r}) "
            f"has in-weights summing to {float(insum[v])!r} ({bad.size} node(s) above 1). Use LT weights, e.g. "
            f"mv.probabilities.weighted_cascade(graph) or mv.probabilities.random_normalized(graph, rng)."
        )
    return graph


def _uniform_p_scaled(graph):
    """``p * 2**53`` when every arc has the same probability ``p`` (memoised per graph), else -1."""
    cache = getattr(graph, "_cache", None)
    if cache is not None and "uniform_p_scaled" in cache:
        return cache["uniform_p_scaled"]
    prob = graph.prob
    value = -1.0
    if prob.size == 0:
        value = 0.0
    elif prob.min() == prob.max():
        value = float(prob[0]) * 2.0**53  # exact: scaling by a power of two
    if cache is not None:
        cache["uniform_p_scaled"] = value
    return value


# Per-round buffers are (rounds, runs) and allocated uninitialised (only the pages a run writes are touched), with
# room for this many bytes of rounds each (at least _ROUND_WIDTH rounds); runs with more rounds are replayed
# (a replay costs their cascade again: near-critical cascades can run for hundreds of rounds).
# Much larger buffers cost more than they save: with transparent huge pages each touched region is zeroed in 2 MiB.
_ROUND_BUFFER_BYTES = 1 << 25


def _check_memory(n_bytes, what):
    """:func:`check_memory`, skipped for small requests (reading the free memory costs ~50 us a call)."""
    if n_bytes > 64 * 2**20:
        check_memory(n_bytes, what)


# A kernel call predicted to take less than this on one thread runs on one thread: starting and joining the
# threads costs more, and on a machine shared with other processes a parallel call waits for its slowest thread.
_SERIAL_BELOW_S = 0.002


def _predicted_seconds(graph, n_runs):
    """Rough one-thread seconds for ``n_runs`` runs, from the mean reach of this graph's last call (inf if none).

    A run costs about 0.3 us plus ~1.5 ns per arc leaving its activated nodes.
    """
    cache = getattr(graph, "_cache", None)
    reach = None if cache is None else cache.get("last_mean_reach")
    if reach is None:
        return float("inf")
    return n_runs * (0.3e-6 + 1.5e-9 * reach * graph.n_arcs / graph.n_nodes)


def _record_reach(graph, reach):
    cache = getattr(graph, "_cache", None)
    if cache is not None and reach.size:
        cache["last_mean_reach"] = float(reach.mean())


def _kernel(name):
    if name == "lt":
        from ._kernels.lt import lt_runs

        return lt_runs
    if name == "bitparallel":
        from ._kernels.bitparallel import ic_runs_bitparallel

        return ic_runs_bitparallel
    from ._kernels.ic import ic_runs_fast

    return ic_runs_fast


# Which kernel simulate_keys uses: "auto", "scalar" or "bitparallel" (identical outputs). "auto" takes
# bit-parallel when runs reach at least _BITPARALLEL_REACH of the graph on average (large, overlapping cascades:
# many runs share each node's visit): as measured by the graph's last call, or else by a scalar pilot of the
# first _PILOT_RUNS runs. See docs/benchmarks.md.
_KERNEL = "auto"
_PILOT_RUNS = 64
_BITPARALLEL_REACH = 0.5


def simulate_keys(graph, seeds, in_target, keys, *, max_rounds=-1, count_communities=True, n_chunks=None,
                  model="ic"):
    """Run one cascade per key on trusted, validated arrays; return a dict of per-run arrays.

    This is the engine's inner entry point, shared by :func:`simulate`, the
    seeding strategies and the Dask backend. ``seeds`` is int32, ``in_target``
    uint8 of length ``n_nodes``, ``keys`` uint64; with ``model="lt"`` the
    in-weights are already checked (:func:`check_lt_weights`). Under IC the
    kernel (scalar or bit-parallel) is chosen by regime; both give exactly the
    same outputs.
    """
    if model == "lt":
        return _simulate_keys(graph, seeds, in_target, keys, max_rounds, count_communities, n_chunks, "lt")
    kernel = _KERNEL
    if kernel == "auto":
        cache = getattr(graph, "_cache", None)
        last = None if cache is None else cache.get("last_mean_reach")
        if last is not None:  # the graph's last call tells the regime: no pilot needed
            kernel = "bitparallel" if last >= _BITPARALLEL_REACH * graph.n_nodes else "scalar"
        elif keys.size < 8 * _PILOT_RUNS:
            kernel = "scalar"
        else:
            head = _simulate_keys(graph, seeds, in_target, keys[:_PILOT_RUNS], max_rounds, count_communities, n_chunks,
                                  "scalar")
            big = head["reach"].mean() >= _BITPARALLEL_REACH * graph.n_nodes
            rest = _simulate_keys(graph, seeds, in_target, keys[_PILOT_RUNS:], max_rounds, count_communities, n_chunks,
                                  "bitparallel" if big else "scalar")
            return merge_outputs([head, rest])
    return _simulate_keys(graph, seeds, in_target, keys, max_rounds, count_communities, n_chunks, kernel)


def _simulate_keys(graph, seeds, in_target, keys, max_rounds, count_communities, n_chunks, kernel):
    from ._kernels.bfs import gather_rounds, gather_rounds_pair

    run_kernel = _kernel(kernel)
    n_runs = keys.size
    n_comm = graph.n_communities if count_communities else 0
    # A run has at most n_nodes - 1 rounds, so n_nodes rows never overflow.
    width = min(graph.n_nodes, max(_ROUND_WIDTH, _ROUND_BUFFER_BYTES // (4 * max(n_runs, 1))))
    if max_rounds >= 0:
        width = min(width, max_rounds + 1)
    threads = num_threads()
    serial = threads > 1 and _predicted_seconds(graph, n_runs) < _SERIAL_BELOW_S
    if n_chunks is None:
        # Many chunks per thread balance uneven runs (a few giant cascades); but each chunk zeroes scratch for every
        # node, so on a large graph with few runs use fewer, larger chunks (at least n_nodes / 256 runs each), and
        # one chunk for a call short enough to run on one thread.
        n_chunks = 1 if serial else max(1, min(n_runs, 64 * threads, max(threads, n_runs * 256 // graph.n_nodes)))
    # outputs (per-round buffers: the pages of the first rounds), plus each chunk's scratch per node
    scratch = {"bitparallel": 36, "lt": 28}.get(kernel, 8)
    _check_memory(n_runs * (3 * 8 + 4 * min(width, _ROUND_WIDTH) * 4 + n_comm * 4) + n_chunks * graph.n_nodes * scratch,
                  f"{n_runs} runs")
    reach = np.empty(n_runs, dtype=np.int64)
    hits = np.empty(n_runs, dtype=np.int64)
    rounds = np.empty(n_runs, dtype=np.int64)
    buf = np.empty((width, n_runs), dtype=np.int32)
    buf_t = np.empty((width, n_runs), dtype=np.int32)
    comm = np.zeros((n_runs if n_comm else 0, n_comm), dtype=np.int32)
    args = (graph.indptr, graph.indices, graph.prob, _uniform_p_scaled(graph), seeds, in_target, graph.community)
    # threads take chunks one at a time: balanced if runs vary
    with parallel_chunksize(1), _threads(1 if serial else None):
        with parallel_guard():
            run_kernel(*args, keys, max_rounds, n_chunks, reach, hits, rounds, buf, buf_t, comm)
        needed = int(rounds.max()) + 1 if n_runs else 1
        _check_memory(n_runs * 2 * needed * 4, f"per-round counts for {n_runs} runs x {needed} rounds")
        by_round = np.zeros((n_runs, needed), dtype=np.int32)
        by_round_t = np.zeros((n_runs, needed), dtype=np.int32)
        with parallel_guard():
            gather_rounds_pair(buf, buf_t, rounds, by_round, by_round_t, max(1, min(n_chunks, n_runs // 1024)))
    if kernel != "lt":  # the IC kernel choice reads this: keep it about IC cascades
        _record_reach(graph, reach)
    del buf, buf_t
    if needed > width:
        # Replay only the long runs, wide enough for their every round; same keys, same worlds.
        long_runs = np.flatnonzero(rounds + 1 > width)
        sub = keys[long_runs]
        m = sub.size
        r2, h2, k2 = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64)
        b2 = np.empty((needed, m), dtype=np.int32)
        bt2 = np.empty((needed, m), dtype=np.int32)
        c2 = np.zeros((0, n_comm), dtype=np.int32)
        with parallel_guard():
            run_kernel(*args, sub, max_rounds, min(m, n_chunks), r2, h2, k2, b2, bt2, c2)
        by_round[long_runs] = gather_rounds(b2, k2, needed)
        by_round_t[long_runs] = gather_rounds(bt2, k2, needed)
    return dict(reach=reach, target_activated=hits, rounds=rounds, new_by_round=by_round,
                new_target_by_round=by_round_t, community_activated=comm if n_comm else None)


def merge_outputs(parts):
    """Concatenate per-chunk outputs of :func:`simulate_keys` in run order (pads per-round columns)."""
    width = max(p["new_by_round"].shape[1] for p in parts)
    out = {}
    for name in ("reach", "target_activated", "rounds"):
        out[name] = np.concatenate([p[name] for p in parts])
    for name in ("new_by_round", "new_target_by_round"):
        out[name] = np.concatenate(
            [np.pad(p[name], ((0, 0), (0, width - p[name].shape[1]))) for p in parts], axis=0
        )
    comm = [p["community_activated"] for p in parts]
    out["community_activated"] = None if comm[0] is None else np.concatenate(comm, axis=0)
    return out


def prepare(graph, seeds, target, n_runs, rng, keys, max_rounds, *, bytes_per_run=None, model="ic"):
    """Validate the public arguments of :func:`simulate`; return trusted arrays and provenance.

    ``bytes_per_run`` (default: :func:`simulate`'s outputs with per-community counts)
    sizes the memory check made before any key is drawn. With ``model="lt"`` the
    graph's in-weights are checked here, before any run.
    """
    check_graph(graph)
    if check_model(model) == "lt":
        check_lt_weights(graph)
    if bytes_per_run is None:
        bytes_per_run = _output_bytes_per_run(graph)
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
             per_node=False, attribution=False, tol=None, rtol=None, metric="penetration", max_runs=100_000):
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

    Returns
    -------
    CascadeResult

    Raises
    ------
    TypeError, ValueError
        Bad graph, seeds out of range, duplicated or empty, unknown target, ``n_runs <= 0``,
        unknown ``model``, or (``model="lt"``) a node whose in-weights sum above 1...
    MemoryError
        Outputs that would not fit in memory are refused up front.

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
    progress = check_progress(progress)
    n_threads = check_int(n_threads, "n_threads", minimum=1, allow_none=True)
    if n_threads is not None:
        if n_threads > max_threads():
            raise ValueError(f"'n_threads' must be <= {max_threads()} (numba's maximum). "
                             f"Got {n_threads}.")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if not isinstance(backend, str) or backend not in ("local", "dask"):
        raise ValueError(f"'backend' must be 'local' or 'dask'. Got {_describe(backend)}.")
    if backend == "dask":
        from .distributed import simulate_dask

        if n_threads is not None:
            raise ValueError("'n_threads' applies to backend='local'; with Dask, size the workers' threads instead.")

        def run(keys_):
            return simulate_dask(graph, seeds, in_target, keys_, max_rounds=max_rounds,
                                 count_communities=count_communities, client=client, chunk_size=chunk_size,
                                 progress=progress, model=model)
    else:
        if client is not None:
            raise ValueError("'client' is only used with backend='dask'.")

        def run(keys_):
            return _simulate_local(graph, seeds, in_target, keys_, max_rounds, count_communities, n_threads,
                                   progress, chunk_size, model)

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

        _check_memory(keys.size * seeds.size * 8 * attribution, f"per-seed counts of {keys.size} runs")
        with _threads(n_threads), parallel_guard():
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


# Without an explicit chunk_size, runs go in chunks of about this many seconds (timed as they go): long enough
# for both threads to have real work, short enough for progress and Ctrl-C to stay responsive.
_CHUNK_SECONDS = 0.5
_FIRST_CHUNK_RUNS = 256


def _simulate_local(graph, seeds, in_target, keys, max_rounds, count_communities, n_threads, progress, chunk_size,
                    model="ic"):
    import time

    n_runs = keys.size
    parts = []
    done = 0
    elapsed = 0.0
    bar = None
    try:
        with _threads(n_threads):
            while done < n_runs:
                per_run = elapsed / done if done else None
                if bar is None and wants_bar(progress, done, n_runs, elapsed):
                    from tqdm.auto import tqdm

                    bar = tqdm(total=n_runs, initial=done, desc="cascades", unit="run")
                if chunk_size is not None:
                    size = chunk_size
                elif not done:
                    size = _FIRST_CHUNK_RUNS
                else:
                    size = int(min(max(_CHUNK_SECONDS / max(per_run, 1e-9), _FIRST_CHUNK_RUNS), 2**31 - 1))
                size = min(size, n_runs - done)
                t0 = time.perf_counter()
                parts.append(simulate_keys(graph, seeds, in_target, keys[done:done + size],
                                           max_rounds=max_rounds, count_communities=count_communities, model=model))
                elapsed += time.perf_counter() - t0
                done += size
                if bar is not None:
                    bar.update(size)
    finally:
        if bar is not None:
            bar.close()
    return parts[0] if len(parts) == 1 else merge_outputs(parts)
