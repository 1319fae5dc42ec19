"""Edge-activation probability models; each returns a new CommunityGraph.

Examples
--------
>>> import microviral as mv
>>> g = mv.CommunityGraph.from_edges([0, 1, 2], [2, 2, 0], community=["a", "a", "b"])
>>> mv.probabilities.weighted_cascade(g).prob.tolist()   # arcs 0->2, 1->2, 2->0: 1 / in-degree of the head
[0.5, 0.5, 1.0]
>>> mv.probabilities.resonance(g, "b", p_in=0.3, p_out=0.01).prob.tolist()
[0.3, 0.3, 0.01]
"""

import numpy as np

from ._rng import check_rng
from ._validation import _describe, as_1d_array, check_probability, check_probability_array
from .graph import CommunityGraph

__all__ = ["uniform", "weighted_cascade", "random_normalized", "trivalency", "from_array", "resonance",
           "per_community"]


def _check_graph(graph):
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'graph' must be a microviral.CommunityGraph. Got {_describe(graph)}.")


def uniform(graph, p):
    """Every arc gets probability ``p``.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0], [1])
    >>> mv.probabilities.uniform(g, 0.25).prob.tolist()
    [0.25]
    """
    _check_graph(graph)
    return graph.with_prob(np.full(graph.n_arcs, check_probability(p, "p")))


def weighted_cascade(graph):
    """Arc ``u -> v`` gets ``1 / in_degree(v)`` (Kempe, Kleinberg, Tardos 2003).

    Under independent cascade these are probabilities; under linear threshold
    (``model="lt"``) it is the standard weighting: every node's in-weights sum to 1.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1], [2, 2])
    >>> mv.probabilities.weighted_cascade(g).prob.tolist()
    [0.5, 0.5]
    """
    _check_graph(graph)
    indeg = graph.in_degree
    return graph.with_prob(1.0 / indeg[graph.indices])


def random_normalized(graph, rng=None):
    """Random linear-threshold weights: each arc draws a uniform weight, then each node's in-weights are
    divided by their sum, so they sum to exactly 1 (up to rounding) for every node with in-arcs.

    This is the random weighting of Kempe, Kleinberg, Tardos (2003)'s experiments
    for the linear threshold model (``model="lt"``). Under independent cascade the
    same values are valid probabilities too.

    Parameters
    ----------
    graph : CommunityGraph
    rng : None, int, numpy SeedSequence or Generator
        Source of the weights; the same ``rng`` gives the same weights.

    Examples
    --------
    >>> import numpy as np
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1, 2, 0], [3, 3, 3, 1])
    >>> w = mv.probabilities.random_normalized(g, rng=1).prob
    >>> np.bincount(g.indices, weights=w).round(12).tolist()   # in-weights of nodes 0..3
    [0.0, 1.0, 0.0, 1.0]
    """
    _check_graph(graph)
    source = check_rng(rng)
    gen = source if isinstance(source, np.random.Generator) else np.random.default_rng(source)
    # (0, 1]: a zero draw on a node's only in-arc would leave nothing to normalise
    raw = 1.0 - gen.random(graph.n_arcs)
    heads = graph.indices
    insum = np.bincount(heads, weights=raw, minlength=graph.n_nodes)
    return graph.with_prob(np.minimum(raw / insum[heads], 1.0))


def trivalency(graph, rng=None, values=(0.1, 0.01, 0.001)):
    """Each arc gets a probability drawn uniformly from ``values`` (default {0.1, 0.01, 0.001}).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 2])
    >>> p = mv.probabilities.trivalency(g, rng=1).prob
    >>> set(p.tolist()) <= {0.1, 0.01, 0.001}
    True
    """
    _check_graph(graph)
    values = as_1d_array(values, "values", kind="f")
    values = check_probability_array(values, "values", values.size)
    if values.size == 0:
        raise ValueError("'values' must hold at least one probability.")
    source = check_rng(rng)
    gen = source if isinstance(source, np.random.Generator) else np.random.default_rng(source)
    return graph.with_prob(values[gen.integers(0, values.size, size=graph.n_arcs)])


def from_array(graph, values, *, per="arc"):
    """Probabilities from an array: one per arc (``per="arc"``), or one per edge of an
    undirected graph in the order of ``graph.to_networkx()`` edges is not tracked, so
    only ``per="arc"`` and ``per="head"`` (one value per node, given to its in-arcs) exist.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2])
    >>> mv.probabilities.from_array(g, [0.2, 0.9], per="arc").prob.tolist()
    [0.2, 0.9]
    >>> mv.probabilities.from_array(g, [0.0, 0.5, 0.7], per="head").prob.tolist()
    [0.5, 0.7]
    """
    _check_graph(graph)
    if not isinstance(per, str) or per not in ("arc", "head"):
        raise ValueError(f"'per' must be 'arc' or 'head'. Got {_describe(per)}.")
    if per == "arc":
        return graph.with_prob(check_probability_array(values, "values", graph.n_arcs))
    if per == "head":
        node_p = check_probability_array(values, "values", graph.n_nodes)
        return graph.with_prob(node_p[graph.indices])
    raise ValueError(f"'per' must be 'arc' or 'head'. Got {per!r}.")


def per_community(graph, p):
    """Arc ``u -> v`` gets ``p[community of v]``: a per-community resonance.

    ``p`` is a sequence indexed by label or a dict from community name (or label)
    to probability; communities missing from the dict raise.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=["x", "x", "y"])
    >>> mv.probabilities.per_community(g, {"x": 0.2, "y": 0.05}).prob.tolist()
    [0.2, 0.05]
    """
    _check_graph(graph)
    if isinstance(p, dict):
        per = np.full(graph.n_communities, np.nan)
        for name, value in p.items():
            per[graph.community_label(name, "p")] = check_probability(value, f"p[{name!r}]")
        if np.isnan(per).any():
            missing = [graph.community_names[i] for i in np.flatnonzero(np.isnan(per))[:5]]
            raise ValueError(f"'p' must give a probability for every community. Missing {missing}.")
    else:
        per = check_probability_array(p, "p", graph.n_communities)
    return graph.with_prob(per[graph.community[graph.indices]])


def resonance(graph, target, p_in, p_out):
    """Content made for a niche: arcs landing inside ``target`` get ``p_in``, all others ``p_out``.

    Parameters
    ----------
    graph : CommunityGraph
    target : community name or label, boolean mask, or node indices
    p_in, p_out : float in [0, 1]

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=["x", "x", "y"])
    >>> mv.probabilities.resonance(g, "y", p_in=0.5, p_out=0.1).prob.tolist()
    [0.1, 0.5]
    """
    _check_graph(graph)
    p_in = check_probability(p_in, "p_in")
    p_out = check_probability(p_out, "p_out")
    mask = graph.target_mask(target)
    return graph.with_prob(np.where(mask[graph.indices], p_in, p_out))
