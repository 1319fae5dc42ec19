"""The anatomy of a cascade: who reached whom, which members are never reached, which seed did the work.

- :func:`microviral.trace` replays one run from its key and returns a :class:`Cascade` (activation order, rounds,
  parents, the seed of each node's tree).
- ``simulate(..., per_node=True)`` counts, for every node, the runs that activated it;
  :meth:`CascadeResult.activation_probability` and :meth:`CascadeResult.activation_by_community` turn the
  counts into probabilities with confidence intervals.
- ``simulate(..., attribution=True)`` splits each run's reach and target hits between the seeds' trees;
  :meth:`CascadeResult.attribution` averages the shares over runs.

Both counts come from a second pass over the same keys (the default engine is untouched), which replays the
engine's worlds exactly: the per-node counts sum to the sum of the runs' reach.
"""

import math

import numpy as np

from ._stats import check_confidence, mean_ci, proportion_ci
from ._validation import _describe, check_float, check_int
from .graph import CommunityGraph

__all__ = ["Cascade"]


class Cascade:
    """One run, replayed: every activated node with its round, its parent and the seed of its tree.

    Attributes
    ----------
    nodes : ndarray of int32
        Activated nodes in activation order (seeds first, in the order given, then round by round).
    round : ndarray of int32
        Round in which each of ``nodes`` was activated (0 for seeds).
    parent : ndarray of int32
        The node through which each of ``nodes`` was reached; -1 for seeds. IC: the first node, in
        breadth-first order, whose live arc reached it. LT: the in-neighbour whose weight made the
        summed weight of its active in-neighbours reach its threshold.
    seed : ndarray of int32
        The seed at the root of each node's tree.
    community : ndarray of int32
        Community label of each of ``nodes``.
    in_target : ndarray of bool
        Whether each of ``nodes`` is in the target.
    key : numpy.uint64
        The run key; the cascade is a pure function of graph, seeds, key, model and ``max_rounds``.
    model : str
        "ic" or "lt".
    """

    def __init__(self, graph, seeds, key, model, target_mask, max_rounds, nodes, parent, round_, root):
        self.graph = graph
        self.seeds = seeds
        self.key = key
        self.model = model
        self.max_rounds = None if max_rounds < 0 else int(max_rounds)
        self.target_mask = target_mask
        self.nodes = nodes
        self.parent = parent
        self.round = round_
        self._root = root
        self.seed = seeds[root]
        self.community = graph.community[nodes]
        self.in_target = target_mask[nodes]
        for name in ("nodes", "parent", "round", "seed", "community", "in_target"):
            getattr(self, name).setflags(write=False)

    @property
    def reach(self):
        """Number of activated nodes, seeds included."""
        return int(self.nodes.size)

    @property
    def target_activated(self):
        """Number of activated target members, seeds included."""
        return int(np.count_nonzero(self.in_target))

    @property
    def target_size(self):
        return int(np.count_nonzero(self.target_mask))

    @property
    def penetration(self):
        """Share of the target activated."""
        return self.target_activated / self.target_size

    @property
    def rounds(self):
        """Rounds in which someone new was activated."""
        return int(self.round.max())

    @property
    def new_by_round(self):
        """Nodes first activated in each round (entry 0: the seeds), length ``rounds + 1``."""
        return np.bincount(self.round, minlength=self.rounds + 1).astype(np.int64)

    @property
    def new_target_by_round(self):
        """Target members first activated in each round, length ``rounds + 1``."""
        return np.bincount(self.round, weights=self.in_target, minlength=self.rounds + 1).astype(np.int64)

    def by_seed(self):
        """Per seed: the size of its tree and the target members in it.

        Returns
        -------
        pandas.DataFrame
            One row per seed (in the order given): ``seed, reach, target_activated``.
        """
        import pandas as pd

        k = self.seeds.size
        return pd.DataFrame({
            "seed": self.seeds,
            "reach": np.bincount(self._root, minlength=k),
            "target_activated": np.bincount(self._root, weights=self.in_target, minlength=k).astype(np.int64),
        })

    def to_frame(self):
        """One row per activated node, in activation order: ``node, round, parent, seed, community, in_target``."""
        import pandas as pd

        names = self.graph.community_names
        return pd.DataFrame({
            "node": self.nodes,
            "round": self.round,
            "parent": self.parent,
            "seed": self.seed,
            "community": [names[c] for c in self.community] if names else self.community,
            "in_target": self.in_target,
        })

    def to_networkx(self):
        """The cascade as a directed forest, parent -> child, one tree per seed.

        Nodes are graph node indices with attributes ``round``, ``community`` (the name),
        ``seed``, ``in_target`` and ``id`` (the original node id).
        """
        import networkx as nx

        g = nx.DiGraph()
        names = self.graph.community_names
        ids = self.graph.node_ids
        for v, t, c, s, tg in zip(self.nodes.tolist(), self.round.tolist(), self.community.tolist(),
                                  self.seed.tolist(), self.in_target.tolist()):
            g.add_node(v, round=t, community=names[c] if names else c, seed=s, in_target=tg,
                       id=ids[v].item() if hasattr(ids[v], "item") else ids[v])
        g.add_edges_from((int(p), int(v)) for p, v in zip(self.parent, self.nodes) if p >= 0)
        return g

    def __len__(self):
        return self.reach

    def __repr__(self):
        return (f"Cascade(model={self.model!r}, key={int(self.key)}, reach={self.reach}, "
                f"target_activated={self.target_activated} of {self.target_size}, rounds={self.rounds})")


def replay(graph, seeds, key, model, target_mask, max_rounds):
    """Trace the run with key ``key`` on trusted arguments (``max_rounds`` -1: no limit)."""
    from ._kernels.anatomy import trace_one

    nodes, parent, round_, root = trace_one(graph.indptr, graph.indices, graph.prob, seeds, key, max_rounds,
                                            model == "lt")
    return Cascade(graph, seeds, key, model, target_mask, max_rounds, nodes, parent, round_, root)


def trace_run(result, i, graph=None):
    """Trace run ``i`` of ``result`` (see :meth:`CascadeResult.trace`)."""
    i = check_int(i, "i", minimum=-result.n_runs, maximum=result.n_runs - 1)
    if graph is None:
        graph = result._graph
        if graph is None:
            raise ValueError("This result does not know its graph; pass it: result.trace(i, graph).")
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'graph' must be a microviral.CommunityGraph. Got {_describe(graph)}.")
    expected = result.provenance.get("graph_sha256")
    if graph is not result._graph and expected is not None and graph.fingerprint() != expected:
        raise ValueError("'graph' is not the graph this result was simulated on (its fingerprint differs).")
    max_rounds = -1 if result.max_rounds is None else result.max_rounds
    return replay(graph, result.seeds, result.keys[i], result.model, result.target_mask, max_rounds)


def activation_table(result, confidence=0.95):
    """Per-node activation probabilities of ``result`` (see :meth:`CascadeResult.activation_probability`)."""
    import pandas as pd

    confidence = check_confidence(confidence)
    counts = result.node_activated
    if counts is None:
        raise ValueError("This result has no per-node counts; run simulate(..., per_node=True).")
    p, se, low, high = proportion_ci(counts, result.n_runs, confidence)
    names = result.community_names
    labels = result._graph.community
    frame = pd.DataFrame({
        "node": np.arange(result.n_nodes),
        "community": [names[c] for c in labels] if names else labels,
        "in_target": result.target_mask,
        "activated": counts,
        "p_activated_mean": p,
        "p_activated_se": se,
        "p_activated_ci_low": low,
        "p_activated_ci_high": high,
    })
    frame.attrs.update(confidence=confidence, n_runs=result.n_runs)
    return frame


def activation_by_community(result, *, most=0.5, rare=0.05, confidence=0.95):
    """Per community: the expected share reached, members reached in most runs, members almost never reached."""
    import pandas as pd

    most = check_float(most, "most", low=0.0, high=1.0)
    rare = check_float(rare, "rare", low=0.0, high=1.0)
    nodes = activation_table(result, confidence)
    labels = result._graph.community
    rows = []
    for c in range(result._graph.n_communities):
        part = nodes[labels == c]
        size = len(part)
        p = part["p_activated_mean"].to_numpy()
        rows.append((part["community"].iloc[0] if size else c, size, float(p.mean()) if size else math.nan,
                     float(np.median(p)) if size else math.nan,
                     int(np.count_nonzero(p > most)),
                     int(np.count_nonzero(part["p_activated_ci_high"].to_numpy() < rare)),
                     int(np.count_nonzero(part["activated"].to_numpy() == 0))))
    frame = pd.DataFrame(rows, columns=["community", "size", "p_activated_mean", "p_activated_median",
                                        "members_most", "members_rare", "members_never"])
    frame.attrs.update(most=most, rare=rare, confidence=confidence, n_runs=result.n_runs)
    return frame


def attribution_table(result, confidence=0.95):
    """Per-seed shares of reach and of target hits (see :meth:`CascadeResult.attribution`)."""
    import pandas as pd

    confidence = check_confidence(confidence)
    tree = result.seed_reach
    hits = result.seed_target_activated
    if tree is None:
        raise ValueError("This result has no per-seed counts; run simulate(..., attribution=True).")
    reach = tree.sum(axis=1)
    target = hits.sum(axis=1)
    has_target = target > 0
    rows = []
    for i, s in enumerate(result.seeds.tolist()):
        share = tree[:, i] / reach
        tshare = hits[has_target, i] / target[has_target]
        rows.append((s, *mean_ci(tree[:, i], confidence, low=1, high=result.n_nodes),
                     *mean_ci(share, confidence, low=0, high=1),
                     *mean_ci(hits[:, i], confidence, low=int(result.target_mask[s]), high=result.target_size),
                     *mean_ci(tshare, confidence, low=0, high=1), int(has_target.sum())))
    cols = ["seed"]
    for metric in ("reach", "reach_share", "target_activated", "target_share"):
        cols += [f"{metric}_mean", f"{metric}_se", f"{metric}_ci_low", f"{metric}_ci_high"]
    cols.append("target_share_n")
    frame = pd.DataFrame(rows, columns=cols)
    frame.attrs.update(confidence=confidence, n_runs=result.n_runs)
    return frame
