"""Core numbers by the O(m) bucket algorithm of Batagelj and Zaversnik (2003)."""

import numpy as np
from numba import njit

from .._config import JIT

__all__ = ["core_numbers"]


@njit(**JIT)
def core_numbers(indptr, indices):
    """Core number of every node of a simple undirected graph in CSR form (each edge stored both ways)."""
    n = indptr.size - 1
    deg = np.empty(n, dtype=np.int64)
    max_deg = 0
    for v in range(n):
        deg[v] = indptr[v + 1] - indptr[v]
        if deg[v] > max_deg:
            max_deg = deg[v]
    # bucket sort of the nodes by degree: vert in order, pos[v] its place, start[d] first place of degree d
    start = np.zeros(max_deg + 2, dtype=np.int64)
    for v in range(n):
        start[deg[v] + 1] += 1
    for d in range(max_deg + 1):
        start[d + 1] += start[d]
    fill = start.copy()
    vert = np.empty(n, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    for v in range(n):
        pos[v] = fill[deg[v]]
        vert[pos[v]] = v
        fill[deg[v]] += 1
    for i in range(n):
        v = vert[i]
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if deg[u] > deg[v]:
                du = deg[u]
                pu = pos[u]
                pw = start[du]
                w = vert[pw]
                if u != w:
                    pos[u] = pw
                    vert[pu] = w
                    pos[w] = pu
                    vert[pw] = u
                start[du] += 1
                deg[u] -= 1
    return deg
