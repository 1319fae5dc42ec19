"""CascadeResult: per-run reach and penetration, per-round curves, summaries with confidence intervals."""

import math

import numpy as np

from ._stats import mean_ci, proportion_ci, ratio_ci
from ._validation import check_float

__all__ = ["CascadeResult"]


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
      replays run ``i`` exactly.

    Aggregates (:meth:`summary`) are means with standard errors and confidence
    intervals; ``docs/metrics.md`` gives each definition as a formula.
    """

    def __init__(self, *, reach, target_activated, rounds, new_by_round, new_target_by_round,
                 community_activated, keys, seeds, target_mask, n_nodes, community_names=None,
                 provenance=None):
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

    # ------------------------------------------------------------------ aggregates
    def p_microviral(self, theta, confidence=0.95):
        """P(penetration >= theta), with its Wilson interval: ``(p, se, low, high)``."""
        theta = check_float(theta, "theta", low=0.0, high=1.0)
        hits = int(np.count_nonzero(self.target_activated >= theta * self.target_size - 1e-9))
        return proportion_ci(hits, self.n_runs, confidence)

    def summary(self, theta=0.1, confidence=0.95):
        """A tidy table: one row per metric with mean, standard error and confidence interval.

        Parameters
        ----------
        theta : float, default 0.1
            Penetration threshold for ``p_microviral`` and ``rounds_to_theta``.
        confidence : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            Columns ``metric, mean, se, ci_low, ci_high, n``.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 0], [1, 2], prob=1.0, community=["a", "a", "b"])
        >>> res = mv.simulate(g, [0], n_runs=10, target="b", rng=0)
        >>> float(res.summary().set_index("metric").loc["penetration", "mean"])
        1.0
        """
        import pandas as pd

        theta = check_float(theta, "theta", low=0.0, high=1.0)
        confidence = check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
        n = self.n_runs
        share = self.target_size / self.n_nodes
        rows = [
            ("reach", *mean_ci(self.reach, confidence), n),
            ("penetration", *mean_ci(self.penetration, confidence), n),
            ("target_activated", *mean_ci(self.target_activated, confidence), n),
            ("spillover", *mean_ci(self.spillover, confidence), n),
            ("spillover_share", *ratio_ci(self.spillover, self.reach, confidence), n),
            ("lift", *ratio_ci(self.target_activated, self.reach, confidence, scale=1.0 / share), n),
            ("p_microviral", *self.p_microviral(theta, confidence), n),
        ]
        r = self.rounds_to(theta)
        ok = r[~np.isnan(r)]
        rows.append(("rounds_to_theta", *mean_ci(ok, confidence), int(ok.size)))
        rows.append(("rounds", *mean_ci(self.rounds, confidence), n))
        table = pd.DataFrame(rows, columns=["metric", "mean", "se", "ci_low", "ci_high", "n"])
        table.attrs.update(theta=theta, confidence=confidence, target_size=self.target_size, **self.provenance)
        return table

    def by_community(self, confidence=0.95):
        """Per-community mean activated count and share with confidence intervals.

        Returns
        -------
        pandas.DataFrame
            One row per community: ``community, size, activated_mean, activated_se,
            share_mean, share_ci_low, share_ci_high``.
        """
        import pandas as pd

        if self.community_activated is None:
            raise ValueError("This result has no per-community counts; run simulate(..., count_communities=True).")
        names = self.community_names or tuple(range(self.community_activated.shape[1]))
        sizes = self.provenance.get("community_sizes")
        rows = []
        for c, name in enumerate(names):
            m, se, lo, hi = mean_ci(self.community_activated[:, c], confidence)
            size = int(sizes[c]) if sizes is not None else math.nan
            rows.append((name, size, m, se, m / size if size else math.nan,
                         lo / size if size else math.nan, hi / size if size else math.nan))
        return pd.DataFrame(rows, columns=["community", "size", "activated_mean", "activated_se", "share_mean",
                                           "share_ci_low", "share_ci_high"])

    def __repr__(self):
        return (
            f"CascadeResult(n_runs={self.n_runs}, mean reach={self.reach.mean():.4g}, "
            f"mean penetration={self.penetration.mean():.4g} of {self.target_size} target nodes)"
        )
