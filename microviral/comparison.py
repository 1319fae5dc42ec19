"""compare(): seeding strategies x budgets evaluated on common random worlds, as one tidy table."""

import inspect
import time

import numpy as np

from . import __version__
from ._progress import check_progress, iterate
from ._adaptive import KeyStream, check_tolerances, run_adaptive
from ._engine import check_graph, check_model, check_weights, output_bytes_per_run
from ._memory import check_memory
from ._rng import check_rng, rng_record
from ._stats import check_confidence, mean_ci
from ._validation import _describe, check_float, check_int
from .results import STATS, CascadeResult

__all__ = ["compare"]



def _paired_differences(res, base, theta, confidence):
    """``<metric>_diff_<stat>`` of ``res`` against ``base`` (same keys): penetration, reach, rounds_to_theta.

    Each per-run difference is bounded by the two quantities' ranges, which keeps the
    interval honest when every run gives the same difference; identical seed sets
    differ by exactly 0. ``rounds_to_theta`` is a conditional quantity: its difference
    is taken over the runs in which both seed sets reach ``theta`` (their number is
    ``rounds_to_theta_diff_n``), so both sides are measured on the same worlds.
    """
    out = {}
    same = np.array_equal(np.sort(res.seeds), np.sort(base.seeds))
    b_res, b_base = res.bounds(), base.bounds()
    per_run = {"penetration": (res.penetration, base.penetration), "reach": (res.reach, base.reach),
               "rounds_to_theta": (res.rounds_to(theta), base.rounds_to(theta))}
    for name, (mine, theirs) in per_run.items():
        diff = (mine - theirs).astype(np.float64)  # NaN where either never reaches theta
        if same:
            values = (0.0, 0.0, 0.0, 0.0)
        else:
            values = mean_ci(diff, confidence, low=b_res[name][0] - b_base[name][1],
                             high=b_res[name][1] - b_base[name][0])
        if same and name == "rounds_to_theta":
            values = (0.0, 0.0, 0.0, 0.0) if np.any(~np.isnan(diff)) else (np.nan,) * 4
        for stat, v in zip(STATS, values):
            out[f"{name}_diff_{stat}"] = float(v)
    out["rounds_to_theta_diff_n"] = int(np.count_nonzero(~np.isnan(per_run["rounds_to_theta"][0] -
                                                                   per_run["rounds_to_theta"][1])))
    return out


def _strategies(strategies):
    """Normalise to a list of (label, callable)."""
    from .seeding import get_strategy

    if isinstance(strategies, str) or callable(strategies):
        strategies = [strategies]
    if isinstance(strategies, dict):
        items = list(strategies.items())
    else:
        try:
            items = [(None, s) for s in strategies]
        except TypeError:
            raise TypeError(
                f"'strategies' must be a strategy name, a callable, a list of them or a dict label -> strategy. "
                f"Got {_describe(strategies)}."
            ) from None
    out = []
    for label, s in items:
        if isinstance(s, str):
            fn = get_strategy(s)
            label = s if label is None else label
        elif callable(s):
            fn = s
            label = getattr(s, "__name__", repr(s)) if label is None else label
        else:
            raise TypeError(f"'strategies' entries must be names (str) or callables. Got {_describe(s)}.")
        out.append((str(label), fn))
    if not out:
        raise ValueError("'strategies' must name at least one strategy. Got none.")
    labels = [lab for lab, _ in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"'strategies' must have distinct labels. Got {labels}.")
    return out


def _takes_model(fn):
    """Whether strategy ``fn`` accepts a ``model`` keyword (model-aware: CELF, IMM...)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins and other callables without a signature
        return False
    # an explicit parameter only: a callable's **options may be forwarded where 'model' means nothing
    return any(p.name == "model" and p.kind is not inspect.Parameter.VAR_POSITIONAL for p in params)


def _budgets(k, n_nodes):
    ks = [k] if np.ndim(k) == 0 else list(np.asarray(k).tolist()) if isinstance(k, np.ndarray) else list(k)
    if not ks:
        raise ValueError("'k' must be an int or a non-empty list of ints. Got an empty list.")
    out = []
    for kk in ks:
        kk = check_int(kk, "k", minimum=1)
        if kk > n_nodes:
            raise ValueError(f"'k' must be <= the number of nodes ({n_nodes}). Got {kk} instead.")
        out.append(kk)
    if len(set(out)) != len(out):
        raise ValueError(f"'k' must not repeat budgets. Got {out}.")
    return out


def _seed_sequence(rng):
    """Return (SeedSequence, material): a Generator is turned into a SeedSequence by drawing entropy from it."""
    source = check_rng(rng)
    material = rng_record(source)  # before drawing from a Generator: replays with rng_from_record
    if isinstance(source, np.random.Generator):
        entropy = [int(x) for x in source.integers(0, 2**63, size=4, dtype=np.int64)]
        material = dict(material, derived_entropy=entropy)
        source = np.random.SeedSequence(entropy)
    return source, material


def compare(graph, strategies, k, *, model="ic", target=None, n_runs=1000, rng=None, baseline=None, theta=0.1,
            confidence=0.95, strategy_options=None, backend="local", client=None, chunk_size=None, progress=None,
            tol=None, metric="penetration", max_runs=100_000):
    """Compare seeding strategies on the same live-edge worlds; return a tidy table.

    Every strategy's seeds, at every budget, are simulated with the same ``n_runs``
    run keys, i.e. on the same live-edge worlds. Differences between strategies
    are therefore paired: the difference in each run is computed first and then
    averaged, which removes the world-to-world noise the strategies share.

    Parameters
    ----------
    graph : CommunityGraph
    strategies : str, callable, list of them, or dict label -> str or callable
        Names from :data:`microviral.seeding.STRATEGIES` or callables
        ``f(graph, k, *, target=None, rng=None, **options)`` returning ``k`` node indices;
        each is called with the ``target`` given here (as given: a name, label, mask or indices),
        and with ``model`` when it takes a ``model`` keyword (CELF, IMM: seeds chosen for the model).
    model : {"ic", "lt"}, default "ic"
        Diffusion model every strategy is evaluated under (see :func:`microviral.simulate`).
    k : int or list of int
        Budget(s): number of seeds.
    target : community name or label, boolean mask, node indices, or None
        The community whose penetration is measured (and that targeted strategies aim at).
    n_runs : int, default 1000
        Number of common worlds.
    rng : None, int, numpy SeedSequence or Generator
        One source for everything: ``rng`` is split with ``SeedSequence.spawn`` into
        one child for the run keys and one per strategy (by position in ``strategies``);
        a strategy gets the same child at every budget.
    baseline : str, optional
        Label of the strategy the paired differences are taken against (default: the first).
    theta : float in [0, 1], default 0.1
        Threshold for ``p_microviral`` and ``rounds_to_theta``.
    confidence : float in (0, 1), default 0.95
        Level of every confidence interval in the table.
    strategy_options : dict label -> dict, optional
        Keyword options for a strategy, e.g. ``{"imm": {"eps": 0.2}}``.
    backend : {"local", "dask"}, default "local"
    client : dask.distributed.Client or str, optional
        Cluster for ``backend="dask"``; the whole comparison runs inside one client context.
    chunk_size : int, optional
        Runs per chunk of each simulation.
    tol : float, optional
        Adaptive run count: ``n_runs`` is then the first stage (at least 30), and runs are added on
        the same keys for every strategy (the pairing survives) until the interval of
        every paired difference of ``metric`` against the baseline has half-width within
        ``tol``, or ``max_runs`` is reached (then a ``RuntimeWarning``). Same procedure
        as :func:`microviral.simulate`'s ``tol``; the table equals a fixed call with
        ``n_runs`` set to the final count.
    metric : {"penetration", "reach"}, default "penetration"
        The paired difference ``tol`` applies to.
    max_runs : int, default 100000
        Most runs with ``tol``.
    progress : bool, optional
        Show a progress bar over strategies and budgets. None (default): only when
        the comparison is predicted to take more than a few seconds and stderr is a
        terminal; True forces it, False disables it.

    Returns
    -------
    pandas.DataFrame
        One row per strategy and budget: ``strategy, k, n_runs, target_size``; the
        columns of :meth:`CascadeResult.summary` (for each metric in reach,
        penetration, target_activated, spillover, spillover_share, lift,
        p_microviral, rounds_to_theta, rounds: ``<metric>_mean, <metric>_se,
        <metric>_ci_low, <metric>_ci_high``, and ``rounds_to_theta_n``, the runs
        behind that conditional mean); ``selection_time_s``; ``seeds`` (a tuple of node indices); and the paired
        differences against the baseline at the same budget,
        ``penetration_diff_{mean,se,ci_low,ci_high}``, ``reach_diff_{...}`` and
        ``rounds_to_theta_diff_{...}``; the last is taken over the runs where both
        strategies reach ``theta`` (``rounds_to_theta_diff_n`` of them), whereas each
        row's ``rounds_to_theta_mean`` is over its own ``rounds_to_theta_n`` runs.
        ``table.attrs`` holds the provenance: rng seed material, microviral
        version, graph fingerprint, baseline, theta, confidence.

    Raises
    ------
    TypeError, ValueError
        Unknown strategy names (the message lists the known ones), bad budgets,
        an unknown or empty target, a baseline that is not among the strategies...
    ConnectionError
        ``backend="dask"``: no scheduler answered at the ``client`` address, or the client was
        closed or lost its scheduler during the run.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 3], [1, 2, 2, 3, 4], prob=0.5, community=list("aabbb"))
    >>> t = mv.compare(g, ["random", "degree"], k=[1, 2], target="b", n_runs=200, rng=0)
    >>> t[["strategy", "k"]].values.tolist()
    [['random', 1], ['degree', 1], ['random', 2], ['degree', 2]]
    >>> float(t.loc[0, "penetration_diff_mean"])   # the baseline against itself
    0.0
    """
    import pandas as pd

    from .simulation import simulate

    check_graph(graph)
    check_weights(graph, check_model(model))
    items = _strategies(strategies)
    labels = [lab for lab, _ in items]
    budgets = _budgets(k, graph.n_nodes)
    n_runs = check_int(n_runs, "n_runs", minimum=1, maximum=2**31 - 1)
    theta = check_float(theta, "theta", low=0.0, high=1.0)
    confidence = check_confidence(confidence)
    mask = graph.target_mask(target)
    if baseline is None:
        baseline = labels[0]
    elif not isinstance(baseline, str) or baseline not in labels:  # labels are strings; arrays never match
        raise ValueError(f"'baseline' must be one of the strategies {labels}. Got {_describe(baseline)}.")
    options = {} if strategy_options is None else strategy_options
    if not isinstance(options, dict):
        raise TypeError(f"'strategy_options' must be a dict label -> dict of options. Got {_describe(options)}.")
    for lab, opts in options.items():
        if lab not in labels:
            raise ValueError(f"'strategy_options' has options for {lab!r}, which is not among the strategies {labels}.")
        if not isinstance(opts, dict):
            raise TypeError(f"'strategy_options[{lab!r}]' must be a dict. Got {_describe(opts)}.")
    progress = check_progress(progress)
    if backend not in ("local", "dask"):
        raise ValueError(f"'backend' must be 'local' or 'dask'. Got {backend!r}.")
    if backend == "local" and client is not None:
        raise ValueError("'client' is only used with backend='dask'.")

    # every strategy's runs at every budget are kept together, on one set of keys: refused before any strategy runs
    n_results = len(items) * len(budgets)
    check_memory(n_runs * (8 + n_results * output_bytes_per_run(graph, count_communities=False)),
                 f"{n_runs} runs for each of {len(items)} strategies x {len(budgets)} budgets",
                 hint="ask for fewer runs, strategies or budgets")
    source, material = _seed_sequence(rng)
    children = source.spawn(1 + len(items))
    stream = KeyStream(children[0])
    if tol is not None:
        tol, _, max_runs = check_tolerances(tol, None, n_runs, max_runs, relative=False)
        if metric not in ("penetration", "reach"):
            raise ValueError(f"'metric' must be 'penetration' or 'reach' (the paired differences). "
                             f"Got {_describe(metric)}.")

    def run(client_):
        picked = []
        tasks = [(kk, i) for kk in budgets for i in range(len(items))]
        for kk, i in iterate(tasks, progress, "compare", "strategy"):
            label, fn = items[i]
            t0 = time.perf_counter()
            opts = options.get(label, {})
            if "model" not in opts and _takes_model(fn):
                opts = dict(opts, model=model)
            seeds = fn(graph, kk, target=target, rng=children[1 + i], **opts)
            elapsed = time.perf_counter() - t0
            seeds = np.asarray(seeds)
            if seeds.shape != (kk,):
                raise ValueError(f"Strategy {label!r} returned {seeds.size} seeds for k={kk}; expected exactly {kk}.")
            picked.append((label, kk, seeds, elapsed))
        parts = {(label, kk): [] for label, kk, _, _ in picked}
        per_run = {}

        def extend(n):
            # every strategy gets the same new keys: the runs stay paired
            done = sum(p.n_runs for p in parts[picked[0][:2]])
            new = stream.take(n)[done:n]
            for label, kk, seeds, _ in picked:
                parts[(label, kk)].append(simulate(graph, seeds, model=model, keys=new, target=mask,
                                                   count_communities=False, backend=backend, client=client_,
                                                   chunk_size=chunk_size, progress=False))
                per_run[(label, kk)] = CascadeResult.concat(parts[(label, kk)])

        def measure():
            out = []
            for label, kk, _, _ in picked:
                if label != baseline:
                    d = _paired_differences(per_run[(label, kk)], per_run[(baseline, kk)], theta, confidence)
                    out.append(tuple(d[f"{metric}_diff_{s}"] for s in ("mean", "ci_low", "ci_high")))
            return out

        if tol is None:
            extend(n_runs)
        else:
            info.update(run_adaptive(extend, measure, n_first=n_runs, tol=tol, rtol=None, max_runs=max_runs,
                                     confidence=confidence, what=f"every paired difference of {metric}"))
        rows = []
        for label, kk, seeds, elapsed in picked:
            res = per_run[(label, kk)]
            row = {"strategy": label, "k": kk, "n_runs": res.n_runs, "target_size": res.target_size}
            row.update(res._stats_row(theta, confidence))
            row["selection_time_s"] = elapsed
            row["seeds"] = tuple(int(s) for s in seeds)
            row.update(_paired_differences(res, per_run[(baseline, kk)], theta, confidence))
            rows.append(row)
        return rows

    info = {}
    if backend == "dask":
        from .distributed import client_context

        with client_context(client) as c:
            rows = run(c)
    else:
        rows = run(None)
    table = pd.DataFrame(rows)
    table.attrs.update(
        rng=material,
        keys_from="run_keys(S.spawn(1 + n_strategies)[0], n_runs), S the SeedSequence of 'rng' "
                  "(for a Generator: SeedSequence(derived_entropy)); replay: rng=microviral.rng_from_record(rng)",
        model=model,
        microviral_version=__version__,
        graph_sha256=graph.fingerprint(),
        baseline=baseline,
        theta=theta,
        confidence=confidence,
        target_size=int(mask.sum()),
        strategies=labels,
    )
    if info:
        table.attrs["adaptive"] = dict(tol=tol, metric=metric, max_runs=max_runs, **info)
    return table

