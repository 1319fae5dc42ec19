"""Boundary checks shared by the seeding strategies."""

import numpy as np

from .._validation import _describe, check_int
from ..graph import CommunityGraph

__all__ = ["check_graph", "check_k", "check_unused", "target_nodes", "top_k"]


def check_graph(graph, name="graph"):
    if not isinstance(graph, CommunityGraph):
        raise TypeError(f"'{name}' must be a microviral.CommunityGraph. Got {_describe(graph)}.")
    return graph


def check_k(k, graph, *, pool_size=None, pool_name=None):
    """Return ``k`` as an int in ``[1, n_nodes]`` (or ``[1, pool_size]`` when seeds come from a pool)."""
    k = check_int(k, "k", minimum=1)
    if k > graph.n_nodes:
        raise ValueError(f"'k' must be <= the number of nodes ({graph.n_nodes}). Got {k} instead.")
    if pool_size is not None and k > pool_size:
        raise ValueError(
            f"'k' must be <= the size of {pool_name} ({pool_size}) because this strategy selects inside it. "
            f"Got {k} instead."
        )
    return k


def check_unused(graph, *, target=None, rng=None):
    """Validate a ``target`` or ``rng`` that a strategy accepts and ignores: a wrong one is still an error."""
    from .._rng import check_rng

    if target is not None:
        graph.target_mask(target)
    if rng is not None:
        check_rng(rng)


def target_nodes(graph, target, strategy):
    """Node indices of ``target`` (required) for a strategy that selects inside it."""
    if target is None:
        raise ValueError(f"'target' is required by the {strategy!r} strategy, which selects inside it. Got None.")
    mask = graph.target_mask(target)
    return mask, np.flatnonzero(mask)


def top_k(score, k, candidates=None):
    """Indices of the ``k`` highest scores, ties to the lowest index (int64, best first)."""
    score = np.asarray(score, dtype=np.float64)
    idx = np.arange(score.size) if candidates is None else np.asarray(candidates, dtype=np.int64)
    order = np.lexsort((idx, -score[idx]))
    return idx[order[:k]].astype(np.int64)
