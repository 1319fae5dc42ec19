"""The engine: one entry, :func:`run_chunk`, runs a chunk of run keys for a diffusion model.

Everything that simulates calls it: :func:`microviral.simulate` (through the
local chunked runner :func:`run_local` below, or through the Dask backend,
whose worker function calls it too), CELF, ``compare`` and adaptive runs (both
through ``simulate``). A backend only decides where chunks run.

A diffusion model is one kernel module of ``microviral._kernels`` and one line
of :data:`MODELS`: its kernels (same arguments, same outputs) and the check its
arc values must pass before any run. Kernel choice is explicit (``kernel=``) or,
with ``"auto"``, a pure function of the inputs (see :func:`pick_kernel`); nothing
here writes to the graph or keeps state between calls.
"""

import importlib
from contextlib import nullcontext
import time
from dataclasses import dataclass, field

import numpy as np

from ._kernels.runtime import num_threads, parallel_chunksize, parallel_guard, serial, threads
from ._memory import check_memory
from ._progress import wants_bar
from ._validation import _describe
from .graph import CommunityGraph

__all__ = ["MODELS", "KERNELS", "run_chunk", "run_local", "pick_kernel", "merge_outputs", "check_graph",
           "check_model", "check_kernel", "check_lt_weights", "check_weights", "output_bytes_per_run"]

# In-weights may sum past 1 by rounding (e.g. 1/3 + 1/3 + 1/3); beyond this it is a modelling error.
_LT_WEIGHT_SLACK = 1e-9


def check_graph(graph, name="graph"):
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'{name}' must be a microviral.CommunityGraph. Got {_describe(graph)}.")
    return graph


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


@dataclass(frozen=True)
class Model:
    """A diffusion model as the engine sees it.

    ``kernels`` maps a kernel name to ``"module:function"`` in ``microviral._kernels`` (imported on first use,
    so ``import microviral`` does not load numba); every kernel of a model takes the same arguments and gives
    the same outputs, the first is the default. ``scratch`` is each kernel's scratch in bytes per node and
    chunk of runs (for the memory check). ``check`` refuses a graph whose arc values the model cannot use.
    """

    description: str
    kernels: dict
    scratch: dict
    check: object = None
    loaded: dict = field(default_factory=dict, compare=False, repr=False)

    def kernel(self, name, one_thread=False):
        """The kernel ``name``; with ``one_thread``, its serial twin (no parallel region to start)."""
        key = (name, one_thread)
        if key not in self.loaded:
            if one_thread:
                self.loaded[key] = serial(self.kernel(name))
            else:
                module, function = self.kernels[name].split(":")
                self.loaded[key] = getattr(importlib.import_module(f"microviral._kernels.{module}"), function)
        return self.loaded[key]


MODELS = {
    "ic": Model("independent cascade", {"scalar": "ic:ic_runs_fast", "bitparallel": "bitparallel:ic_runs_bitparallel"},
                {"scalar": 8, "bitparallel": 36}),
    "lt": Model("linear threshold", {"scalar": "lt:lt_runs"}, {"scalar": 28}, check_lt_weights),
}
KERNELS = ("auto", "scalar", "bitparallel")


def check_model(model):
    """The diffusion model's name: ``"ic"`` (independent cascade) or ``"lt"`` (linear threshold)."""
    if not isinstance(model, str) or model not in MODELS:
        known = " or ".join(f"'{name}' ({m.description})" for name, m in MODELS.items())
        raise ValueError(f"'model' must be {known}. Got {_describe(model)}.")
    return model


def check_weights(graph, model):
    """Run the model's check of the graph's arc values (LT: in-weights summing to at most 1); return ``graph``."""
    check = MODELS[model].check
    return graph if check is None else check(graph)


def check_kernel(kernel, model):
    """``kernel`` for ``model``: ``"auto"`` or one of the model's kernels."""
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"'kernel' must be one of {list(KERNELS)}. Got {_describe(kernel)}.")
    if kernel != "auto" and kernel not in MODELS[model].kernels:
        raise ValueError(f"'kernel' must be 'auto' or one of {list(MODELS[model].kernels)} for model={model!r}. "
                         f"Got {kernel!r}.")
    return kernel


# ------------------------------------------------------------------------------------------------ kernel choice
# "auto" takes bit-parallel (IC) when the runs reach at least _BITPARALLEL_REACH of the graph on average (large,
# overlapping cascades: many runs share each node's visit), as measured by a scalar pilot of the first
# _PILOT_RUNS runs, for calls of at least _PILOT_MIN_RUNS runs; smaller calls run scalar (the bit-parallel gain is
# at most ~10-20%, see docs/benchmarks.md, less than a pilot costs them). The pilot's runs are part of the output.
_PILOT_RUNS = 64
_PILOT_MIN_RUNS = 8 * _PILOT_RUNS
_BITPARALLEL_REACH = 0.5


def kernel_for_reach(graph, model, reach):
    """The kernel "auto" takes given the pilot runs' ``reach`` (a pure function of the graph and the runs)."""
    kernels = MODELS[model].kernels
    if "bitparallel" in kernels and reach.size and reach.mean() >= _BITPARALLEL_REACH * graph.n_nodes:
        return "bitparallel"
    return next(iter(kernels))


def pick_kernel(graph, seeds, in_target, keys, *, model, max_rounds=-1, count_communities=True):
    """Resolve ``kernel="auto"`` for a call on ``keys``; return ``(kernel, pilot outputs or None)``.

    A pure function of the inputs: a model with one kernel takes it; a call of
    fewer than 512 runs runs scalar; otherwise the first 64 runs are run scalar
    (their outputs are returned, to be kept) and their mean reach decides. All
    kernels give identical outputs, so the choice changes only the speed.
    """
    kernels = MODELS[model].kernels
    if len(kernels) == 1 or keys.size < _PILOT_MIN_RUNS:
        return next(iter(kernels)), None
    head = _run(graph, seeds, in_target, keys[:_PILOT_RUNS], max_rounds, count_communities, model, "scalar")
    return kernel_for_reach(graph, model, head["reach"]), head


# ------------------------------------------------------------------------------------------------ one chunk
# Per-round counts start this wide; runs with more rounds are replayed wider (exactly, from their keys).
_ROUND_WIDTH = 32
# Per-round buffers are (rounds, runs) and allocated uninitialised (only the pages a run writes are touched), with
# room for this many bytes of rounds each (at least _ROUND_WIDTH rounds); runs with more rounds are replayed
# (a replay costs their cascade again: near-critical cascades can run for hundreds of rounds).
# Much larger buffers cost more than they save: with transparent huge pages each touched region is zeroed in 2 MiB.
_ROUND_BUFFER_BYTES = 1 << 25
# A kernel call predicted to take less than this on one thread runs on one thread: starting and joining the
# threads costs more, and on a machine shared with other processes a parallel call waits for its slowest thread.
_SERIAL_BELOW_S = 0.002


def output_bytes_per_run(graph, count_communities=True):
    """Bytes of the engine's output per run (key, per-run counts, first per-round columns, communities)."""
    width = min(_ROUND_WIDTH, graph.n_nodes + 1)
    return 8 + 3 * 8 + 2 * width * 4 + (graph.n_communities * 4 if count_communities else 0)


def _check_memory(n_bytes, what):
    """:func:`check_memory`, skipped for small requests (reading the free memory costs ~50 us a call)."""
    if n_bytes > 64 * 2**20:
        check_memory(n_bytes, what)


def _most_seconds(graph, n_runs):
    """An upper bound of the one-thread seconds of ``n_runs`` runs: each run examining every arc.

    A run costs about 0.3 us plus ~1.5 ns per arc leaving its activated nodes.
    """
    return n_runs * (0.3e-6 + 1.5e-9 * graph.n_arcs)


def run_chunk(graph, seeds, in_target, keys, *, model="ic", max_rounds=-1, count_communities=True, kernel="auto",
              n_threads=None, n_chunks=None):
    """Run one cascade per key on trusted, validated arrays; return a dict of per-run arrays.

    The engine's one entry, shared by :func:`microviral.simulate` (local and Dask
    backends), CELF and ``compare``. ``seeds`` is int32, ``in_target`` uint8 of
    length ``n_nodes``, ``keys`` uint64, ``max_rounds`` -1 for no limit; the
    graph has passed :func:`check_weights` for ``model``. ``kernel`` is ``"auto"``
    (:func:`pick_kernel`) or one of the model's kernels; all give the same outputs.
    ``n_threads``: numba threads for this call (None: the current setting).

    Returns
    -------
    dict
        ``reach``, ``target_activated``, ``rounds`` (int64, per run),
        ``new_by_round``, ``new_target_by_round`` (int32, (runs, rounds + 1)) and
        ``community_activated`` (int32, (runs, communities), or None).
    """
    with threads(n_threads):
        head = None
        if kernel == "auto":
            kernel, head = pick_kernel(graph, seeds, in_target, keys, model=model, max_rounds=max_rounds,
                                       count_communities=count_communities)
        if head is None:
            return _run(graph, seeds, in_target, keys, max_rounds, count_communities, model, kernel, n_chunks)
        rest = _run(graph, seeds, in_target, keys[head["reach"].size:], max_rounds, count_communities, model, kernel,
                    n_chunks)
        return merge_outputs([head, rest])


def _run(graph, seeds, in_target, keys, max_rounds, count_communities, model, kernel, n_chunks=None):
    """One kernel call over ``keys`` (plus the replay of runs longer than the per-round buffers)."""
    from ._kernels.bfs import gather_rounds, gather_rounds_pair
    from ._kernels.ic import uniform_p_scaled

    spec = MODELS[model]
    n_runs = keys.size
    n_comm = graph.n_communities if count_communities else 0
    # A run has at most n_nodes - 1 rounds, so n_nodes rows never overflow.
    width = min(graph.n_nodes, max(_ROUND_WIDTH, _ROUND_BUFFER_BYTES // (4 * max(n_runs, 1))))
    if max_rounds >= 0:
        width = min(width, max_rounds + 1)
    n_threads = num_threads()
    one_thread = n_threads == 1 or _most_seconds(graph, n_runs) < _SERIAL_BELOW_S
    if n_chunks is None:
        # Many chunks per thread balance uneven runs (a few giant cascades); but each chunk zeroes scratch for every
        # node, so on a large graph with few runs use fewer, larger chunks (at least n_nodes / 256 runs each), and
        # one chunk for a call short enough to run on one thread.
        n_chunks = 1 if one_thread else max(1, min(n_runs, 64 * n_threads, max(n_threads, n_runs * 256 // graph.n_nodes)))
    # outputs (per-round buffers: the pages of the first rounds), plus each chunk's scratch per node
    _check_memory(n_runs * (3 * 8 + 4 * min(width, _ROUND_WIDTH) * 4 + n_comm * 4)
                  + n_chunks * graph.n_nodes * spec.scratch[kernel], f"{n_runs} runs")
    reach = np.empty(n_runs, dtype=np.int64)
    hits = np.empty(n_runs, dtype=np.int64)
    rounds = np.empty(n_runs, dtype=np.int64)
    buf = np.empty((width, n_runs), dtype=np.int32)
    buf_t = np.empty((width, n_runs), dtype=np.int32)
    comm = np.zeros((n_runs if n_comm else 0, n_comm), dtype=np.int32)
    # a function of the probabilities alone, computed per call: the graph is never written to
    args = (graph.indptr, graph.indices, graph.prob, uniform_p_scaled(graph.prob), seeds, in_target, graph.community)
    # threads take chunks one at a time: balanced if runs vary
    # a call for one thread runs the kernels' serial twins: no parallel region to start
    run_kernel = spec.kernel(kernel, one_thread)
    gather = serial(gather_rounds_pair) if one_thread else gather_rounds_pair
    with parallel_chunksize(1), (nullcontext() if one_thread else parallel_guard()):
        run_kernel(*args, keys, max_rounds, n_chunks, reach, hits, rounds, buf, buf_t, comm)
        needed = int(rounds.max()) + 1 if n_runs else 1
        _check_memory(n_runs * 2 * needed * 4, f"per-round counts for {n_runs} runs x {needed} rounds")
        by_round = np.zeros((n_runs, needed), dtype=np.int32)
        by_round_t = np.zeros((n_runs, needed), dtype=np.int32)
        gather(buf, buf_t, rounds, by_round, by_round_t, max(1, min(n_chunks, n_runs // 1024)))
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
    """Concatenate per-chunk outputs of :func:`run_chunk` in run order (pads per-round columns)."""
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


# ------------------------------------------------------------------------------------------------ local runner
# Without an explicit chunk_size, runs go in chunks of about this many seconds (timed as they go): long enough
# for both threads to have real work, short enough for progress and Ctrl-C to stay responsive.
_CHUNK_SECONDS = 0.5
_FIRST_CHUNK_RUNS = 256


def run_local(graph, seeds, in_target, keys, *, model="ic", max_rounds=-1, count_communities=True, kernel="auto",
              n_threads=None, progress=None, chunk_size=None):
    """:func:`run_chunk` over ``keys`` in chunks on this machine, with a progress bar; outputs merged in run order.

    ``kernel="auto"`` is resolved once for the whole call (:func:`pick_kernel` on
    all of ``keys``), so every chunk runs the same kernel. Chunks are
    ``chunk_size`` runs, or sized from the time the runs so far took (about
    half a second each); KeyboardInterrupt stops between chunks.
    """
    n_runs = keys.size
    parts = []
    done = 0
    elapsed = 0.0
    bar = None
    try:
        with threads(n_threads):
            if kernel == "auto":
                t0 = time.perf_counter()
                kernel, head = pick_kernel(graph, seeds, in_target, keys, model=model, max_rounds=max_rounds,
                                           count_communities=count_communities)
                if head is not None:
                    parts.append(head)
                    done = head["reach"].size
                    elapsed = time.perf_counter() - t0
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
                parts.append(run_chunk(graph, seeds, in_target, keys[done:done + size], model=model,
                                       max_rounds=max_rounds, count_communities=count_communities, kernel=kernel))
                elapsed += time.perf_counter() - t0
                done += size
                if bar is not None:
                    bar.update(size)
    finally:
        if bar is not None:
            bar.close()
    return parts[0] if len(parts) == 1 else merge_outputs(parts)
