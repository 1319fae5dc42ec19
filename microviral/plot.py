"""Plots of penetration: against budget, against reach, and over rounds.

Each function takes ``ax=None`` (a new figure is made when None) and returns the
matplotlib Axes it drew on. Bands and bars are the confidence intervals stored in
the table or computed from the per-run values.
"""

import numpy as np

from ._stats import check_confidence, mean_ci
from ._validation import _describe

__all__ = ["penetration_vs_budget", "penetration_vs_reach", "penetration_over_rounds"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"'ax' must be a matplotlib Axes or None. Got {_describe(ax)}.")
    return ax


def _check_table(table, columns, name="table"):
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"'{name}' must be the DataFrame returned by microviral.compare. Got {_describe(table)}.")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"'{name}' lacks the columns {missing}; pass the table returned by microviral.compare.")
    if table.empty:
        raise ValueError(f"'{name}' is empty.")


def _results(results, name="results"):
    """Normalise one CascadeResult, or a dict/list of them, to a list of (label, result)."""
    from .results import CascadeResult

    if isinstance(results, CascadeResult):
        return [("result", results)]
    if isinstance(results, dict):
        items = list(results.items())
    elif isinstance(results, (list, tuple)):
        items = [(f"result {i}", r) for i, r in enumerate(results)]
    else:
        raise TypeError(f"'{name}' must be a CascadeResult or a dict name -> CascadeResult. Got {_describe(results)}.")
    if not items:
        raise ValueError(f"'{name}' is empty.")
    for label, r in items:
        if not isinstance(r, CascadeResult):
            raise TypeError(f"'{name}[{label!r}]' must be a CascadeResult. Got {_describe(r)}.")
    return [(str(label), r) for label, r in items]


def penetration_vs_budget(table, ax=None, *, metric="penetration"):
    """Mean penetration (or another metric) against the budget ``k``, one line per strategy, CI bands.

    Parameters
    ----------
    table : pandas.DataFrame
        As returned by :func:`microviral.compare`.
    ax : matplotlib Axes, optional
    metric : str, default "penetration"
        Any metric with ``<metric>_mean``, ``_ci_low`` and ``_ci_high`` columns
        (e.g. "reach", "p_microviral", "penetration_diff").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 2], [1, 2, 3, 3], prob=0.5, community=list("aabb"))
    >>> t = mv.compare(g, ["random", "degree"], k=[1, 2], target="b", n_runs=100, rng=0)
    >>> ax = mv.plot.penetration_vs_budget(t)
    >>> len(ax.get_lines())
    2
    """
    cols = [f"{metric}_mean", f"{metric}_ci_low", f"{metric}_ci_high"]
    _check_table(table, ["strategy", "k"] + cols)
    ax = _axes(ax)
    for label, part in table.groupby("strategy", sort=False):
        part = part.sort_values("k")
        (line,) = ax.plot(part["k"], part[cols[0]], marker="o", label=str(label))
        ax.fill_between(part["k"], part[cols[1]], part[cols[2]], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("budget k (seeds)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend()
    return ax


def penetration_vs_reach(table_or_results, ax=None, *, max_points=2000):
    """Penetration of the target against total reach.

    With a table from :func:`microviral.compare`: one point per strategy and budget,
    with confidence-interval bars in both directions, budgets of a strategy joined
    by a line. With a CascadeResult or a dict name -> CascadeResult: a faint cloud
    of per-run values (at most ``max_points`` runs each) and the mean with its
    confidence bars.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 2], [1, 2, 3, 3], prob=0.5, community=list("aabb"))
    >>> res = {"0": mv.simulate(g, [0], n_runs=100, target="b", rng=0),
    ...        "2": mv.simulate(g, [2], n_runs=100, target="b", rng=0)}
    >>> ax = mv.plot.penetration_vs_reach(res)
    >>> ax.get_xlabel()
    'reach (activated nodes)'
    """
    import pandas as pd

    if isinstance(table_or_results, pd.DataFrame):
        cols = ["reach_mean", "reach_ci_low", "reach_ci_high", "penetration_mean", "penetration_ci_low",
                "penetration_ci_high"]
        _check_table(table_or_results, ["strategy", "k"] + cols, "table_or_results")
        ax = _axes(ax)
        for label, part in table_or_results.groupby("strategy", sort=False):
            part = part.sort_values("k")
            x, y = part["reach_mean"].to_numpy(), part["penetration_mean"].to_numpy()
            xerr = np.vstack([x - part["reach_ci_low"], part["reach_ci_high"] - x])
            yerr = np.vstack([y - part["penetration_ci_low"], part["penetration_ci_high"] - y])
            ax.errorbar(x, y, xerr=xerr, yerr=yerr, marker="o", capsize=3, label=str(label))
    else:
        items = _results(table_or_results, "table_or_results")
        ax = _axes(ax)
        for label, res in items:
            step = max(1, res.n_runs // max_points)
            sc = ax.scatter(res.reach[::step], res.penetration[::step], s=6, alpha=0.15)
            color = sc.get_facecolor()[0]
            summary = res.summary().iloc[0]
            mx, xlo, xhi = (summary[f"reach_{s}"] for s in ("mean", "ci_low", "ci_high"))
            my, ylo, yhi = (summary[f"penetration_{s}"] for s in ("mean", "ci_low", "ci_high"))
            ax.errorbar([mx], [my], xerr=[[mx - xlo], [xhi - mx]], yerr=[[my - ylo], [yhi - my]], marker="o",
                        capsize=3, color=color, alpha=1.0, label=label)
    ax.set_xlabel("reach (activated nodes)")
    ax.set_ylabel("penetration of the target")
    ax.legend()
    return ax


def penetration_over_rounds(results, ax=None, *, confidence=0.95):
    """Mean cumulative penetration after each round, with confidence bands.

    Parameters
    ----------
    results : CascadeResult or dict name -> CascadeResult
    ax : matplotlib Axes, optional
    confidence : float in (0, 1), default 0.95

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 3], prob=0.5, community=list("aabb"))
    >>> ax = mv.plot.penetration_over_rounds(mv.simulate(g, [0], n_runs=100, target="b", rng=0))
    >>> ax.get_xlabel()
    'round'
    """
    confidence = check_confidence(confidence)
    items = _results(results)
    ax = _axes(ax)
    for label, res in items:
        curve = res.penetration_by_round()
        low = res.bounds()["penetration"][0]
        stats = np.column_stack(mean_ci(curve.T, confidence, low=low, high=1.0))  # one interval per round
        rounds = np.arange(curve.shape[1])
        (line,) = ax.plot(rounds, stats[:, 0], label=label)
        if res.n_runs > 1:
            ax.fill_between(rounds, stats[:, 2], stats[:, 3], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("round")
    ax.set_ylabel("penetration of the target")
    ax.legend()
    return ax
