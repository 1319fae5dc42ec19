"""``trace``: replay one run from its key and see who activated whom (:class:`microviral.anatomy.Cascade`)."""

import numbers

import numpy as np

from ._engine import check_graph, check_model, check_weights
from ._validation import _describe, check_int, check_node_array
from .anatomy import replay

__all__ = ["trace"]


def _check_key(key):
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (numbers.Integral, np.integer)):
        raise TypeError(f"'key' must be an integer run key in [0, 2**64) (e.g. result.keys[i]). "
                        f"Got {_describe(key)}.")
    key = int(key)
    if not 0 <= key < 2**64:
        raise ValueError(f"'key' must be in [0, 2**64). Got {key}.")
    return np.uint64(key)


def trace(graph, seeds, key, *, model="ic", target=None, max_rounds=None):
    """Replay the run with key ``key`` and return who activated whom.

    The run is the one :func:`microviral.simulate` computes for this key (the same
    live-edge world for IC, the same thresholds for LT), so its reach, target count
    and per-round counts equal that run's entries in the result.

    Parameters
    ----------
    graph : CommunityGraph
    seeds : array-like of int
        Initially active nodes (indices), non-empty, no repeats.
    key : int
        The run key, in [0, 2**64) (e.g. ``result.keys[i]``).
    model : {"ic", "lt"}, default "ic"
        Diffusion model.
    target : community name or label, boolean mask, node indices, or None
        The community measured (None: the whole graph).
    max_rounds : int, optional
        Stop after this many rounds, as in :func:`microviral.simulate`.

    Returns
    -------
    microviral.anatomy.Cascade

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=1.0, community=list("aabb"))
    >>> c = mv.trace(g, [0], key=7, target="b")
    >>> c.nodes.tolist(), c.parent.tolist(), c.round.tolist()
    ([0, 1, 2, 3], [-1, 0, 0, 1], [0, 1, 1, 2])
    >>> c.reach, c.target_activated, c.new_by_round.tolist()
    (4, 2, [1, 2, 1])
    """
    graph = check_graph(graph)
    seeds = check_node_array(seeds, "seeds", graph.n_nodes)
    key = _check_key(key)
    check_weights(graph, check_model(model))
    mask = graph.target_mask(target)
    max_rounds = -1 if max_rounds is None else min(check_int(max_rounds, "max_rounds", minimum=0), graph.n_nodes)
    return replay(graph, seeds, key, model, mask, max_rounds)
