"""CascadeResult: per-run reach and penetration, per-round curves, summaries with confidence intervals."""

import math

import numpy as np

from ._engine import merge_outputs
from ._stats import check_confidence, mean_ci, proportion_ci, ratio_ci
from ._validation import check_float

__all__ = ["CascadeResult", "METRICS", "STATS", "metric_view"]

#: Metrics of :meth:`CascadeResult.summary` and :func:`microviral.compare`, in column order.
METRICS = ("reach", "penetration", "target_activated", "spillover", "spillover_share", "lift", "p_microviral",
           "rounds_to_theta", "rounds")
# Per-run arrays that simulation.merge_outputs concatenates.
_PER_RUN = ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated")
#: Statistics per metric: columns ``<metric>_<stat>``.
STATS = ("mean", "se", "ci_low", "ci_high")


def metric_view(table, row=0):
    """One line per metric (columns ``mean, se, ci_low, ci_high``) from row ``row`` of a summary or compare table.

    For reading only: files and programs use the one-row scheme of :meth:`CascadeResult.summary`.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0], [1], prob=1.0, community=["a", "b"])
    >>> view = metric_view(mv.simulate(g, [0], n_runs=5, target="b", rng=0).summary())
    >>> float(view.loc["reach", "mean"])
    2.0
    """
    import pandas as pd

    line = table.iloc[row]
    names = [m for m in METRICS if f"{m}_mean" in table.columns]
    return pd.DataFrame([[line[f"{m}_{s}"] for s in STATS] for m in names], index=pd.Index(names, name="metric"),
                        columns=list(STATS))


class CascadeResult:
    """Outcome of ``n_runs`` independent cascades from one seed set.

    Per-run arrays (one entry per run, in run order):

    - ``reach``: activated nodes, seeds included.
    - ``target_activated``: activated members of the target.
    - ``penetration``: ``target_activated / target_size``.
    - ``spillover``: activated nodes outside the target (``reach - target_activated``).
    - ``rounds``: rounds in which someone new was activated (0 if the seeds activate no one).
    - ``new_by_round``, ``new_target_by_round``: shape ``(n_runs, n_rounds + 1)``; column 0
      counts the seeds, column ``t`` those first activated in round ``t``.
    - ``community_activated``: shape ``(n_runs, n_communities)`` or None.
    - ``keys``: the uint64 key of each run; ``microviral.simulate(..., keys=result.keys[[i]])``
      replays run ``i`` exactly, and :meth:`trace` shows who activated whom in it.
    - ``seed_reach``, ``seed_target_activated``: shape ``(n_runs, n_seeds)``, the nodes and target
      members in each seed's tree (``simulate(..., attribution=True)``; else None).

    ``node_activated`` (``simulate(..., per_node=True)``; else None) counts, per node, the runs that
    activated it.

    Aggregates (:meth:`summary`) are means with standard errors and confidence
    intervals; ``docs/metrics.md`` gives each definition as a formula.
    """

    def __init__(self, *, reach, target_activated, rounds, new_by_round, new_target_by_round,
                 community_activated, keys, seeds, target_mask, n_nodes, community_names=None,
                 provenance=None, graph=None, model="ic", max_rounds=None, node_activated=None, seed_reach=None,
                 seed_target_activated=None):
        self.reach = reach
        self.target_activated = target_activated
        self.rounds = rounds
        self.new_by_round = new_by_round
        self.new_target_by_round = new_target_by_round
        self.community_activated = community_activated
        self.keys = keys
        self.seeds = seeds
        self.target_mask = target_mask
        self.n_nodes = int(n_nodes)
        self.target_size = int(target_mask.sum())
        self.community_names = community_names
        self.provenance = dict(provenance or {})
        # what replaying a run needs (a reference to the graph, not a copy), and the opt-in anatomy counts
        self._graph = graph
        self.model = model
        self.max_rounds = max_rounds
        self.node_activated = node_activated
        self.seed_reach = seed_reach
        self.seed_target_activated = seed_target_activated

    @classmethod
    def concat(cls, parts):
        """One result from results of the same seeds and target on consecutive keys, in run order.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=0.5)
        >>> res = mv.simulate(g, [0], n_runs=10, rng=0)
        >>> both = mv.CascadeResult.concat([mv.simulate(g, [0], keys=res.keys[:4]),
        ...                                 mv.simulate(g, [0], keys=res.keys[4:])])
        >>> bool((both.reach == res.reach).all() and (both.new_by_round == res.new_by_round).all())
        True
        """
        first = parts[0]
        out = merge_outputs([{name: getattr(p, name) for name in _PER_RUN} for p in parts])
        anatomy = {}
        if first.node_activated is not None:  # counts over runs add up
            anatomy["node_activated"] = sum(p.node_activated for p in parts)
        for name in ("seed_reach", "seed_target_activated"):
            if getattr(first, name) is not None:
                anatomy[name] = np.concatenate([getattr(p, name) for p in parts], axis=0)
        return cls(**out, **anatomy, keys=np.concatenate([p.keys for p in parts]), seeds=first.seeds,
                   target_mask=first.target_mask, n_nodes=first.n_nodes, community_names=first.community_names,
                   provenance=first.provenance, graph=first._graph, model=first.model, max_rounds=first.max_rounds)

    # ------------------------------------------------------------------ per-run views
    @property
    def n_runs(self):
        return int(self.reach.size)

    @property
    def penetration(self):
        """Share of the target activated in each run, seeds included."""
        return self.target_activated / self.target_size

    @property
    def spillover(self):
        """Activated nodes outside the target in each run."""
        return self.reach - self.target_activated

    def penetration_by_round(self):
        """Cumulative penetration after each round, shape ``(n_runs, n_rounds + 1)``.

        Runs that stopped early keep their final value in later columns.
        """
        return np.cumsum(self.new_target_by_round, axis=1) / self.target_size

    def reach_by_round(self):
        """Cumulative reach after each round, shape ``(n_runs, n_rounds + 1)``."""
        return np.cumsum(self.new_by_round, axis=1)

    def rounds_to(self, theta):
        """First round at which penetration reaches ``theta`` in each run (``nan`` if never)."""
        theta = check_float(theta, "theta", low=0.0, high=1.0)
        need = theta * self.target_size
        cum = np.cumsum(self.new_target_by_round, axis=1)
        hit = cum >= need - 1e-9
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1).astype(np.float64)
        first[first < 0] = np.nan
        return first

    def to_frame(self, theta=None):
        """One row per run: ``run, key, reach, target_activated, penetration, spillover, rounds``.

        Parameters
        ----------
        theta : float in [0, 1], optional
            Also add ``rounds_to_theta`` (NaN in runs that never reach ``theta``).

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0], [1], prob=1.0, community=["a", "b"])
        >>> mv.simulate(g, [0], n_runs=3, target="b", rng=0).to_frame()["reach"].tolist()
        [2, 2, 2]
        """
        import pandas as pd

        columns = {"run": np.arange(self.n_runs), "key": self.keys, "reach": self.reach,
                   "target_activated": self.target_activated, "penetration": self.penetration,
                   "spillover": self.spillover, "rounds": self.rounds}
        if theta is not None:
            columns["rounds_to_theta"] = self.rounds_to(theta)
        return pd.DataFrame(columns)

    def bounds(self):
        """A priori range ``(low, high)`` of each per-run quantity (the intervals are clipped to it)."""
        n_seeds = int(self.seeds.size)
        seeds_in = int(np.count_nonzero(self.target_mask[self.seeds]))
        size = self.target_size
        most_rounds = self.n_nodes - n_seeds
        return {
            "reach": (n_seeds, self.n_nodes),
            "target_activated": (seeds_in, size),
            "penetration": (seeds_in / size, 1.0),
            "spillover": (n_seeds - seeds_in, self.n_nodes - size),
            "rounds": (0, most_rounds),
            "rounds_to_theta": (0, most_rounds),
        }

    # ------------------------------------------------------------------ aggregates
    def p_microviral(self, theta, confidence=0.95):
        """P(penetration >= theta), with its Wilson interval: ``(p, se, low, high)``."""
        theta = check_float(theta, "theta", low=0.0, high=1.0)
        confidence = check_confidence(confidence)
        hits = int(np.count_nonzero(self.target_activated >= theta * self.target_size - 1e-9))
        return proportion_ci(hits, self.n_runs, confidence)

    def summary(self, theta=0.1, confidence=0.95):
        """One-row table: for each metric its mean, standard error and confidence interval.

        Columns ``n_runs, target_size`` and, for each metric in :data:`METRICS`,
        ``<metric>_mean, <metric>_se, <metric>_ci_low, <metric>_ci_high``, plus
        ``rounds_to_theta_n``: the number of runs behind the conditional mean
        ``rounds_to_theta`` (those that reach ``theta``). The same columns appear in
        :func:`microviral.compare`, the CLI and the demo. :func:`metric_view` turns the
        row into one line per metric for reading. Methods: ``docs/metrics.md``.

        Parameters
        ----------
        theta : float, default 0.1
            Penetration threshold for ``p_microviral`` and ``rounds_to_theta``.
        confidence : float in (0, 1), default 0.95

        Returns
        -------
        pandas.DataFrame
            One row; ``attrs`` holds ``theta``, ``confidence``, ``target_size`` and the provenance.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 0], [1, 2], prob=1.0, community=["a", "a", "b"])
        >>> res = mv.simulate(g, [0], n_runs=10, target="b", rng=0)
        >>> float(res.summary()["penetration_mean"].iloc[0])
        1.0
        """
        import pandas as pd

        theta = check_float(theta, "theta", low=0.0, high=1.0)
        confidence = check_confidence(confidence)
        row = {"n_runs": self.n_runs, "target_size": self.target_size}
        row.update(self._stats_row(theta, confidence))
        table = pd.DataFrame([row])
        table.attrs.update(theta=theta, confidence=confidence, target_size=self.target_size, **self.provenance)
        return table

    def _stats_row(self, theta, confidence):
        """``{<metric>_<stat>: value}`` for :meth:`summary` and :func:`microviral.compare`."""
        bounds = self.bounds()
        size, n = self.target_size, self.n_nodes
        values = {}
        for name in ("reach", "penetration", "target_activated", "spillover"):
            values[name] = mean_ci(getattr(self, name), confidence, low=bounds[name][0], high=bounds[name][1])
        # a ratio that is constant a priori (no node outside the target) gets a zero-width interval
        outside = (0.0, 0.0) if size == n else (0.0, 1.0)
        values["spillover_share"] = ratio_ci(self.spillover, self.reach, confidence, low=outside[0],
                                             high=outside[1], y_low=bounds["spillover"][0],
                                             y_high=bounds["spillover"][1], x_low=bounds["reach"][0],
                                             x_high=bounds["reach"][1], share=True)
        inside = (1.0, 1.0) if size == n else (0.0, 1.0)
        values["lift"] = ratio_ci(self.target_activated, self.reach, confidence, scale=n / size, low=inside[0],
                                  high=inside[1], y_low=bounds["target_activated"][0],
                                  y_high=bounds["target_activated"][1], x_low=bounds["reach"][0],
                                  x_high=bounds["reach"][1], share=True)
        values["p_microviral"] = self.p_microviral(theta, confidence)
        r = self.rounds_to(theta)
        values["rounds_to_theta"] = mean_ci(r, confidence, low=0, high=bounds["rounds_to_theta"][1])
        values["rounds"] = mean_ci(self.rounds, confidence, low=0, high=bounds["rounds"][1])
        row = {}
        for name in METRICS:
            for stat, v in zip(STATS, values[name]):
                row[f"{name}_{stat}"] = float(v)
            if name == "rounds_to_theta":
                row["rounds_to_theta_n"] = int(np.count_nonzero(~np.isnan(r)))
        return row

    def by_community(self, confidence=0.95):
        """Per-community mean activated count and share with confidence intervals.

        Returns
        -------
        pandas.DataFrame
            One row per community: ``community, size, activated_mean, activated_se,
            activated_ci_low, activated_ci_high, share_mean, share_se, share_ci_low, share_ci_high``.
        """
        import pandas as pd

        confidence = check_confidence(confidence)
        if self.community_activated is None:
            raise ValueError("This result has no per-community counts; run simulate(..., count_communities=True).")
        names = self.community_names or tuple(range(self.community_activated.shape[1]))
        sizes = self.provenance.get("community_sizes")
        rows = []
        for c, name in enumerate(names):
            size = int(sizes[c]) if sizes is not None else self.n_nodes
            counts = self.community_activated[:, c]
            # seeds of the community are always active: a lower bound that is 0 would be too loose, never wrong
            m, se, lo, hi = mean_ci(counts, confidence, low=0, high=size)
            share = (m / size, se / size, lo / size, hi / size) if size else (math.nan,) * 4
            rows.append((name, size if sizes is not None else math.nan, m, se, lo, hi, *share))
        return pd.DataFrame(rows, columns=["community", "size", "activated_mean", "activated_se",
                                           "activated_ci_low", "activated_ci_high", "share_mean", "share_se",
                                           "share_ci_low", "share_ci_high"])

    # ------------------------------------------------------------------ anatomy
    def trace(self, i, graph=None):
        """Replay run ``i``: who activated whom (see :func:`microviral.trace`).

        Parameters
        ----------
        i : int
            Run index (negative counts from the end).
        graph : CommunityGraph, optional
            Needed only for a result not made by :func:`microviral.simulate`; it must be the graph
            simulated (checked by fingerprint).

        Returns
        -------
        microviral.anatomy.Cascade
            Its reach, target count and per-round counts equal run ``i``'s entries here.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=0.5, community=list("aabb"))
        >>> res = mv.simulate(g, [0], n_runs=50, target="b", rng=1)
        >>> c = res.trace(3)
        >>> bool(c.reach == res.reach[3]), bool(c.target_activated == res.target_activated[3])
        (True, True)
        """
        from .anatomy import trace_run

        return trace_run(self, i, graph)

    def activation_probability(self, confidence=0.95):
        """Per node: the share of runs that activated it, with its Wilson interval.

        Needs ``simulate(..., per_node=True)``. The interval is Wilson's score interval, with
        the exact ends 0 (no run activated the node) and 1 (every run did).

        Returns
        -------
        pandas.DataFrame
            One row per node: ``node, community, in_target, activated`` (runs),
            ``p_activated_mean, p_activated_se, p_activated_ci_low, p_activated_ci_high``.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 0], [1, 2], prob=[1.0, 0.0], community=list("abb"))
        >>> res = mv.simulate(g, [0], n_runs=20, target="b", rng=0, per_node=True)
        >>> res.activation_probability()["p_activated_mean"].tolist()
        [1.0, 1.0, 0.0]
        """
        from .anatomy import activation_table

        return activation_table(self, confidence)

    def activation_by_community(self, *, most=0.5, rare=0.05, confidence=0.95):
        """Per community: how much of it is reached, which members are reached in most runs, which almost never.

        Needs ``simulate(..., per_node=True)``.

        Parameters
        ----------
        most : float, default 0.5
            A member counts in ``members_most`` when the share of runs activating it exceeds this.
        rare : float, default 0.05
            A member counts in ``members_rare`` when the upper end of its interval is below this
            (almost never reached, with the stated confidence).
        confidence : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            One row per community: ``community, size``, ``p_activated_mean`` (the expected share of the
            community activated), ``p_activated_median`` (over its members), ``members_most``,
            ``members_rare``, ``members_never`` (activated in no run).
        """
        from .anatomy import activation_by_community

        return activation_by_community(self, most=most, rare=rare, confidence=confidence)

    def attribution(self, confidence=0.95):
        """Per seed: its tree's share of the reach and of the target members reached, averaged over runs.

        Needs ``simulate(..., attribution=True)``. Each activated node belongs to the tree of the
        seed it was reached from (see :meth:`trace`), so in every run the shares of the seeds sum to 1.

        Returns
        -------
        pandas.DataFrame
            One row per seed: ``seed``, then ``_mean, _se, _ci_low, _ci_high`` of ``reach`` (nodes in the
            tree), ``reach_share`` (tree / reach), ``target_activated`` (target members in the tree) and
            ``target_share`` (tree's target members / target members activated; over the
            ``target_share_n`` runs that activated some).

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 1], [2, 3], prob=[1.0, 0.0], community=list("aabb"))
        >>> res = mv.simulate(g, [0, 1], n_runs=10, target="b", rng=0, attribution=True)
        >>> res.attribution()[["seed", "reach_share_mean", "target_share_mean"]].round(3).values.tolist()
        [[0.0, 0.667, 1.0], [1.0, 0.333, 0.0]]
        """
        from .anatomy import attribution_table

        return attribution_table(self, confidence)

    def __repr__(self):
        return (
            f"CascadeResult(n_runs={self.n_runs}, mean reach={self.reach.mean():.4g}, "
            f"mean penetration={self.penetration.mean():.4g} of {self.target_size} target nodes)"
        )
