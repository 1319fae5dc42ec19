"""Reordering the arcs of a CSR graph in linear time."""

import numpy as np
from numba import njit

from .._config import JIT

__all__ = ["group_by_head"]


@njit(**JIT)
def group_by_head(indices, n_nodes):
    """``(offsets, order)``: the arcs grouped by head, a stable counting sort of ``indices``.

    ``order`` lists the arc numbers with head 0 first, then head 1, ..., each group
    in increasing arc number (what ``np.argsort(indices, kind="stable")`` gives, in
    O(m + n) instead of O(m log m)); ``offsets[v]:offsets[v + 1]`` is head ``v``'s
    group. ``indices`` must lie in ``[0, n_nodes)``.
    """
    offsets = np.zeros(n_nodes + 1, dtype=np.int64)
    for e in range(indices.size):
        offsets[indices[e] + 1] += 1
    for v in range(n_nodes):
        offsets[v + 1] += offsets[v]
    fill = offsets[:-1].copy()
    order = np.empty(indices.size, dtype=np.int64)
    for e in range(indices.size):
        v = indices[e]
        order[fill[v]] = e
        fill[v] += 1
    return offsets, order
