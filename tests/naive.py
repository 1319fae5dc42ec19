"""Slow, obviously correct references: the oracle for the numba kernels."""

import itertools

import numpy as np

from microviral._kernels.hashing import arc_uniform_py


def live_arcs(graph, key):
    """Boolean per arc: is it live in the world of ``key``? Same coins as the kernel."""
    return np.array([arc_uniform_py(key, e) < graph.prob[e] for e in range(graph.n_arcs)], dtype=bool)


def cascade(graph, seeds, key, target_mask, max_rounds=None):
    """Breadth-first spread over the live arcs of one world; returns layers (list of sets)."""
    live = live_arcs(graph, key)
    indptr, indices = graph.indptr, graph.indices
    active = set(int(s) for s in seeds)
    layers = [sorted(active)]
    frontier = list(layers[0])
    while frontier and (max_rounds is None or len(layers) - 1 < max_rounds):
        new = []
        for u in frontier:
            for e in range(indptr[u], indptr[u + 1]):
                v = int(indices[e])
                if live[e] and v not in active:
                    active.add(v)
                    new.append(v)
        if not new:
            break
        layers.append(sorted(new))
        frontier = new
    return layers


def exact_expectations(graph, seeds, target_mask):
    """E[reach] and E[target activated] by enumerating every live-edge world (<= ~16 arcs)."""
    m = graph.n_arcs
    assert m <= 20, "enumeration is 2**n_arcs"
    p = graph.prob
    src = graph.arc_sources
    e_reach = 0.0
    e_hits = 0.0
    for bits in itertools.product((False, True), repeat=m):
        live = np.array(bits)
        weight = float(np.prod(np.where(live, p, 1.0 - p)))
        if weight == 0.0:
            continue
        active = set(int(s) for s in seeds)
        stack = list(active)
        while stack:
            u = stack.pop()
            for e in range(graph.indptr[u], graph.indptr[u + 1]):
                v = int(graph.indices[e])
                if live[e] and v not in active:
                    active.add(v)
                    stack.append(v)
        e_reach += weight * len(active)
        e_hits += weight * sum(bool(target_mask[v]) for v in active)
    del src
    return e_reach, e_hits
