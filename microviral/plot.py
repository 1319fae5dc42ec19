"""Plots of penetration (against budget, against reach, over rounds) and of cascade anatomy.

Each function takes ``ax=None`` (a new figure is made when None) and returns the
matplotlib Axes it drew on. Bands and bars are the confidence intervals stored in
the table or computed from the per-run values.
"""

import numpy as np

from ._stats import check_confidence, mean_ci
from ._validation import _describe

__all__ = ["penetration_vs_budget", "penetration_vs_reach", "penetration_over_rounds", "cascade_tree",
           "activation_curve"]


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


def cascade_tree(cascade, ax=None, *, color="community", max_nodes=2000):
    """One cascade drawn as a forest: a tree per seed, one row per round, nodes coloured by community.

    Rows are rounds (round 0, the seeds, on top); arrows go from parent to child; target members
    have a black outline. Leaves are spread evenly and each parent sits above the middle of its
    children, so trees never cross.

    Parameters
    ----------
    cascade : microviral.anatomy.Cascade
        As returned by :func:`microviral.trace` or ``CascadeResult.trace``.
    ax : matplotlib Axes, optional
    color : {"community", "round"}, default "community"
        What the node colours show (rows always show the round).
    max_nodes : int, default 2000
        Refuse larger cascades (a drawing of more nodes is unreadable; use ``cascade.to_networkx()``).

    Returns
    -------
    matplotlib.axes.Axes
        Nodes are ``ax.collections[-1]`` (a scatter, in ``cascade.nodes`` order), the arcs
        ``ax.collections[0]`` (one segment per non-seed node).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=1.0, community=list("aabb"))
    >>> ax = mv.plot.cascade_tree(mv.trace(g, [0], key=1, target="b"))
    >>> ax.collections[-1].get_offsets()[:, 1].tolist()  # rows: minus the round
    [0.0, -1.0, -1.0, -2.0]
    """
    from matplotlib.collections import LineCollection

    from .anatomy import Cascade

    if not isinstance(cascade, Cascade):
        raise TypeError(f"'cascade' must be a Cascade (from microviral.trace). Got {_describe(cascade)}.")
    if not isinstance(color, str) or color not in ("community", "round"):
        raise ValueError(f"'color' must be 'community' or 'round'. Got {_describe(color)}.")
    if cascade.reach > max_nodes:
        raise ValueError(f"The cascade has {cascade.reach} nodes, more than max_nodes={max_nodes}; "
                         f"raise max_nodes or draw a smaller cascade.")
    ax = _axes(ax)
    x, y = tree_layout(cascade)
    pos = {int(v): i for i, v in enumerate(cascade.nodes)}
    segments = [((x[pos[int(p)]], y[pos[int(p)]]), (x[i], y[i])) for i, p in enumerate(cascade.parent) if p >= 0]
    ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.8, zorder=1))
    import matplotlib.pyplot as plt

    if color == "community":
        labels = cascade.community
        names = cascade.graph.community_names
        cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
        colours = [cmap(int(c) % cmap.N) for c in labels]
        for c in np.unique(labels):
            ax.scatter([], [], color=cmap(int(c) % cmap.N), label=str(names[c]))
    else:
        cmap = plt.get_cmap("viridis")
        colours = [cmap(t / max(cascade.rounds, 1)) for t in cascade.round]
    edge = np.where(cascade.in_target, "black", "none")
    ax.scatter(x, y, c=colours, edgecolors=edge, linewidths=1.2, s=40, zorder=2)
    ax.set_yticks(-np.arange(cascade.rounds + 1))
    ax.set_yticklabels([str(t) for t in range(cascade.rounds + 1)])
    ax.set_ylabel("round")
    ax.set_xticks([])
    ax.set_title(f"reach {cascade.reach}, target {cascade.target_activated} of {cascade.target_size}")
    if color == "community":
        ax.legend(title="community", fontsize="small")
    ax.autoscale_view()
    return ax


def tree_layout(cascade):
    """Positions (x, y) of a cascade's nodes, in ``cascade.nodes`` order: y = -round, leaves at 0, 1, 2, ..."""
    n = cascade.reach
    pos = {int(v): i for i, v in enumerate(cascade.nodes)}
    children = [[] for _ in range(n)]
    for i, p in enumerate(cascade.parent):
        if p >= 0:
            children[pos[int(p)]].append(i)
    x = np.zeros(n)
    next_leaf = 0.0
    # children come after their parent in activation order, so a reverse pass sees every child first;
    # leaves are numbered in depth-first order (an explicit stack: trees can be deep)
    order = []
    stack = [i for i in range(n) if cascade.parent[i] < 0][::-1]
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(children[i][::-1])
    for i in order:
        if not children[i]:
            x[i] = next_leaf
            next_leaf += 1.0
    for i in reversed(range(n)):
        if children[i]:
            x[i] = np.mean(x[children[i]])
    return x, -cascade.round.astype(np.float64)


def activation_curve(results, ax=None, *, target_only=True, confidence=0.95):
    """Activation probability of the target's members, ranked, one curve per result, with CI bands.

    For each result (from ``simulate(..., per_node=True)``), the members' probabilities are sorted
    from highest to lowest and drawn against the member's rank as a share of the target (x in
    [0, 1]): a strategy that reaches the whole niche now and then has a flat, low curve; one that
    reliably reaches a core and never the rest has a high start and a cliff.

    Parameters
    ----------
    results : CascadeResult or dict name -> CascadeResult
    ax : matplotlib Axes, optional
    target_only : bool, default True
        Members of the target only (False: every node).
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=0.5, community=list("abbb"))
    >>> res = mv.simulate(g, [0], n_runs=200, target="b", rng=0, per_node=True)
    >>> ax = mv.plot.activation_curve({"hub": res})
    >>> len(ax.get_lines()[0].get_ydata())  # one point per target member
    3
    """
    confidence = check_confidence(confidence)
    items = _results(results)
    for label, res in items:
        if res.node_activated is None:
            raise ValueError(f"'results[{label!r}]' has no per-node counts; run simulate(..., per_node=True).")
    ax = _axes(ax)
    for label, res in items:
        table = res.activation_probability(confidence)
        if target_only:
            table = table[table["in_target"]]
        table = table.sort_values("p_activated_mean", ascending=False, kind="stable")
        rank = (np.arange(len(table)) + 0.5) / len(table)
        (line,) = ax.step(rank, table["p_activated_mean"], where="mid", label=label)
        ax.fill_between(rank, table["p_activated_ci_low"], table["p_activated_ci_high"], step="mid",
                        color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("members of the target, ranked (share)" if target_only else "nodes, ranked (share)")
    ax.set_ylabel("activation probability")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    return ax
