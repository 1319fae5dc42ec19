"""The main job: ``microviral demo``.

A small dense niche community sits inside a large sparse background population.
Content made for the niche resonates there (a higher activation probability on
arcs that land inside the niche). A few seedings are compared on the same random
worlds: the question is not how many people a cascade reaches, but how much of
the niche it penetrates, and how often it goes micro-viral there.
"""

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ._outputs import write_atomic, write_set

__all__ = ["run_demo", "DemoResult", "write_atomic", "save_figure"]

DEFAULT_OUT = os.path.join("microviral-output", "demo.png")

# Sized so the full demo takes 10-20 s on 2 cores including numba compilation.
_FULL = dict(n_background=20_000, n_niche=400, niche_degree=10, background_degree=15, n_bridges=200,
             n_runs=2000, k=10, theta=0.1, p_in=0.1, p_out=0.06)
_QUICK = dict(_FULL, n_background=5_000, n_niche=200, n_bridges=100, n_runs=300, k=5)


def save_figure(fig, path, dpi=120):
    """Save a matplotlib figure as PNG, atomically (see :func:`write_atomic`).

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from microviral.demo import save_figure
    >>> fig, ax = plt.subplots()
    >>> path = save_figure(fig, os.path.join(tempfile.mkdtemp(), "fig.png"))
    >>> open(path, "rb").read(4)
    b'\\x89PNG'
    """
    return write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight"))


@dataclass
class DemoResult:
    """What :func:`run_demo` computed: the graph, one CascadeResult per seeding, the table and the PNG path.

    Attributes
    ----------
    graph : CommunityGraph
        The niche-in-background graph with resonance probabilities.
    target : str
        The niche's community name.
    results : dict
        Strategy label -> :class:`~microviral.CascadeResult`, all on the same run keys.
    table : pandas.DataFrame
        One row per strategy: penetration, reach, spillover share and P(micro-viral) with 95% CIs.
    path : str or None
        The PNG written, if any.
    seconds : float
        Wall time of the demo.
    params : dict
        The sizes and probabilities used.

    Examples
    --------
    >>> from microviral.demo import run_demo
    >>> demo = run_demo(quick=True, n_runs=20, out=None, file=False, progress=False)
    >>> sorted(demo.results) == sorted(demo.table["strategy"])
    True
    """

    graph: object
    target: object
    results: dict
    table: object
    path: str
    seconds: float
    params: dict = field(default_factory=dict)


# The demo's seedings: table label -> name in microviral.seeding. Every strategy has the signature
# f(graph, k, *, target=None, rng=None); those that do not aim at the target ignore it.
STRATEGIES = {
    "random": "random",
    "highest degree": "degree",
    "highest degree in niche": "degree_target",
    "degree discount": "degree_discount",
    "targeted IMM": "imm_target",
}


def _table(results, theta, confidence=0.95):
    """One row per strategy: ``strategy, k`` and the columns of :meth:`CascadeResult.summary`."""
    import pandas as pd

    rows = []
    for name, res in results.items():
        row = {"strategy": name, "k": int(res.seeds.size)}
        row.update(res.summary(theta=theta, confidence=confidence).iloc[0].to_dict())
        rows.append(row)
    return pd.DataFrame(rows)


def _format_table(table, theta, target_size, n_nodes):
    lines = []
    head = (f"{'strategy':<24} {'penetration [95% CI]':>24} {'reach [95% CI]':>26} {'spillover':>10} "
            f"{f'P(pen>={theta:g}) [95% CI]':>24}")
    lines.append(head)
    lines.append("-" * len(head))
    for r in table.itertuples(index=False):
        pen = f"{r.penetration_mean:.3f} [{r.penetration_ci_low:.3f}, {r.penetration_ci_high:.3f}]"
        reach = f"{r.reach_mean:.1f} [{r.reach_ci_low:.1f}, {r.reach_ci_high:.1f}]"
        pmv = f"{r.p_microviral_mean:.3f} [{r.p_microviral_ci_low:.3f}, {r.p_microviral_ci_high:.3f}]"
        lines.append(f"{r.strategy:<24} {pen:>24} {reach:>26} {r.spillover_share_mean:>10.1%} {pmv:>24}")
    lines.append(f"penetration = share of the {target_size}-node niche activated; reach = activated nodes of "
                 f"{n_nodes}; spillover = share of reach outside the niche.")
    return "\n".join(lines)


def _same_seeds(results):
    """Notes for strategies that picked exactly the seeds of an earlier one (their rows are then equal)."""
    notes, seen = [], {}
    for name, res in results.items():
        key = frozenset(res.seeds.tolist())
        if key in seen:
            notes.append(f"note: '{name}' chose the same seeds as '{seen[key]}', so their rows are equal.")
        else:
            seen[key] = name
    return notes


def _figure(results, table, theta, title):
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    plot.penetration_vs_reach(results, ax=left)
    left.set_xscale("log")
    left.set_title("each run (dots), mean with 95% CI (bars)", fontsize="small")
    left.legend(fontsize="small")
    plot.penetration_over_rounds(results, ax=right)
    # Long, thin tails of rounds would squeeze the interesting part: show the rounds that 95% of runs finish in.
    last = max(float(np.percentile(res.rounds, 95)) for res in results.values())
    right.set_xlim(0, max(2.0, last + 1))
    right.axhline(theta, color="0.5", lw=0.8, ls=":")
    right.set_title(f"mean penetration after each round (dotted: theta = {theta:g})", fontsize="small")
    right.legend(fontsize="small", loc="lower right")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    return fig


def run_demo(*, quick=False, out=DEFAULT_OUT, n_runs=None, k=None, rng=0, theta=None, progress=None, file=None):
    """Compare a few seedings on a niche-in-background graph; print the table and write the PNG.

    The graph (:func:`microviral.generators.niche_in_background`) is a dense niche
    inside a sparse background population joined by a few bridges; arcs into the
    niche activate with a higher probability than others
    (:func:`microviral.probabilities.resonance`). Each seeding picks ``k`` seeds
    and is simulated on the same ``n_runs`` random worlds (paired comparison).

    Parameters
    ----------
    quick : bool, default False
        A smaller graph and fewer runs (a few seconds instead of 10-20).
    out : str or os.PathLike, default ``"microviral-output/demo.png"``
        Where to write the PNG (a folder: ``demo.png`` inside it); the table is written beside it as CSV
        (same name, ``.csv``). Folders are created; both files are written atomically. None writes nothing.
    n_runs : int, optional
        Cascades per seeding (default 2000, quick 300).
    k : int, optional
        Seeds per strategy (default 10, quick 5).
    rng : None, int, numpy SeedSequence or Generator, default 0
        Source of the graph, the random seedings and the run keys.
    theta : float, optional
        Penetration that counts as micro-viral (default 0.1).
    progress : bool, optional
        Progress bar on stderr (default: only on a terminal).
    file : file-like, optional
        Where to print the table (default ``sys.stdout``); ``False`` prints nothing.

    Returns
    -------
    DemoResult

    Raises
    ------
    TypeError, ValueError
        Bad ``n_runs``, ``k``, ``rng`` or ``theta``.
    OSError
        The output folder cannot be written.

    Examples
    --------
    >>> from microviral.demo import run_demo
    >>> demo = run_demo(quick=True, n_runs=50, out=None, file=False, progress=False)
    >>> list(demo.table["strategy"])[:3]
    ['random', 'highest degree', 'highest degree in niche']
    >>> bool((demo.table["penetration_mean"] <= 1).all())
    True
    """
    from . import generators, probabilities
    from ._rng import check_rng, run_keys, spawn
    from ._validation import check_float, check_int
    from .simulation import simulate

    start = time.perf_counter()
    params = dict(_QUICK if quick else _FULL)
    if n_runs is not None:
        params["n_runs"] = check_int(n_runs, "n_runs", minimum=1)
    if k is not None:
        params["k"] = check_int(k, "k", minimum=1, maximum=params["n_niche"])
    if theta is not None:
        params["theta"] = check_float(theta, "theta", low=0.0, high=1.0)
    source = check_rng(rng)
    graph_rng, pick_rng, sim_rng = spawn(source, 3)
    if file is None:
        file = sys.stdout

    from tqdm.auto import tqdm

    from . import seeding

    strategies = {label: seeding.get_strategy(name) for label, name in STRATEGIES.items()}
    bar = tqdm(total=len(strategies) + 1, desc="demo", unit="step", disable=None if progress is None else not progress,
               file=sys.stderr, leave=False)
    try:
        bar.set_postfix_str("building graph")
        graph = generators.niche_in_background(
            params["n_background"], params["n_niche"], niche_degree=params["niche_degree"],
            background_degree=params["background_degree"], n_bridges=params["n_bridges"], rng=graph_rng)
        target = "niche"
        graph = probabilities.resonance(graph, target, p_in=params["p_in"], p_out=params["p_out"])
        bar.update()
        # One set of run keys for every seeding: every strategy plays out on the same live-edge worlds.
        keys = run_keys(sim_rng, params["n_runs"])
        results = {}
        picks = spawn(pick_rng, len(strategies))
        for (name, pick), r in zip(strategies.items(), picks):
            bar.set_postfix_str(name)
            seeds = pick(graph, params["k"], target=target, rng=r)
            results[name] = simulate(graph, seeds, keys=keys, target=target, progress=False)
            bar.update()
    finally:
        bar.close()
    table = _table(results, params["theta"])
    size = int(graph.target_mask(target).sum())
    path = csv = None
    if out is not None:
        out = os.fspath(out)
        if os.path.isdir(out) or out.endswith(("/", os.sep)):
            out = os.path.join(out, "demo.png")  # a folder: the default file name inside it
        import matplotlib.pyplot as plt

        title = (f"niche of {size} inside {graph.n_nodes} nodes; k={params['k']} seeds, {params['n_runs']} runs, "
                 f"p_in={params['p_in']}, p_out={params['p_out']}")
        fig = _figure(results, table, params["theta"], title)
        csv = os.path.splitext(out)[0] + ".csv"
        text = table.to_csv(index=False)
        try:  # the plot and its table appear together or not at all
            path, _ = write_set({out: lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"),
                                 csv: lambda f: f.write(text.encode())})
        finally:
            plt.close(fig)
    seconds = time.perf_counter() - start
    if file is not False:
        print(f"graph: {graph.n_nodes} nodes, {graph.n_arcs} arcs; niche '{target}' of {size} nodes; "
              f"k={params['k']} seeds per strategy; {params['n_runs']} runs on common random worlds", file=file)
        print(_format_table(table, params["theta"], size, graph.n_nodes), file=file)
        for note in _same_seeds(results):
            print(note, file=file)
        if path is not None:
            print(f"table written to {os.path.abspath(csv)}", file=file)
            print(f"plot written to {os.path.abspath(path)}", file=file)
        print(f"done in {seconds:.1f} s", file=file, flush=True)
    return DemoResult(graph=graph, target=target, results=results, table=table, path=path, seconds=seconds,
                      params=params)
