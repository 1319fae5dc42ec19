"""Slow, obviously correct references: the oracle for the numba kernels."""

import itertools

import numpy as np

from microviral._kernels.hashing import arc_uniform_py, node_threshold_py


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


# ------------------------------------------------------------------------------------------------ linear threshold
def lt_cascade(graph, seeds, key, max_rounds=None):
    """Threshold-form linear threshold, one level per round; returns layers in activation order.

    Same thresholds (``node_threshold_py``) and the same order of additions as the
    kernel (levels in queue order, arcs in CSR order), so its runs are identical.
    """
    indptr, indices, prob = graph.indptr, graph.indices, graph.prob
    active = set(int(s) for s in seeds)
    acc = {}
    layers = [[int(s) for s in seeds]]
    frontier = layers[0]
    while frontier and (max_rounds is None or len(layers) - 1 < max_rounds):
        new = []
        for u in frontier:
            for e in range(indptr[u], indptr[u + 1]):
                v = int(indices[e])
                if v in active:
                    continue
                acc[v] = acc[v] + float(prob[e]) if v in acc else float(prob[e])
                if acc[v] >= node_threshold_py(key, v):
                    active.add(v)
                    new.append(v)
        if not new:
            break
        layers.append(new)
        frontier = new
    return layers


def run_fields(graph, layers, target_mask):
    """The kernel's per-run fields of one run given as layers."""
    counts = np.bincount(np.concatenate(layers), minlength=graph.n_nodes)
    return dict(
        reach=sum(len(layer) for layer in layers),
        target_activated=int(sum(target_mask[v] for layer in layers for v in layer)),
        rounds=len(layers) - 1,
        new_by_round=[len(layer) for layer in layers],
        new_target_by_round=[int(sum(target_mask[v] for v in layer)) for layer in layers],
        community_activated=np.bincount(graph.community[counts > 0], minlength=graph.n_communities).tolist(),
    )


def lt_live_edge_worlds(graph):
    """Every live-edge world of linear threshold: each node keeps at most one in-arc.

    Yields ``(probability, live)`` with ``live`` a boolean per arc; arc ``(u, v)`` is
    v's kept arc with probability ``w(u, v)``, none with ``1 - sum`` (Kempe et al. 2003).
    """
    heads = graph.indices
    options = []
    for v in range(graph.n_nodes):
        arcs = np.flatnonzero(heads == v)
        choice = [(None, max(0.0, 1.0 - float(graph.prob[arcs].sum())))]
        choice += [(int(e), float(graph.prob[e])) for e in arcs]
        options.append([c for c in choice if c[1] > 0.0])
    n_worlds = np.prod([len(o) for o in options], dtype=float)
    assert n_worlds <= 50000, "enumeration is the product of (in-degree + 1)"
    for combo in itertools.product(*options):
        weight = 1.0
        live = np.zeros(graph.n_arcs, dtype=bool)
        for e, w in combo:
            weight *= w
            if e is not None:
                live[e] = True
        yield weight, live


def lt_exact(graph, seeds, target_mask, theta=0.5, max_rounds=None):
    """Exact LT expectations by enumerating live-edge worlds (Kempe et al.: same active sets round by round).

    Returns E[reach], E[target activated], P(penetration >= theta) and E[new activations per round]
    (an array over rounds 0..n_nodes).
    """
    n = graph.n_nodes
    size = int(target_mask.sum())
    out = dict(reach=0.0, target_activated=0.0, p_theta=0.0, new_by_round=np.zeros(n + 1))
    for weight, live in lt_live_edge_worlds(graph):
        active = set(int(s) for s in seeds)
        frontier = list(active)
        per_round = [len(frontier)]
        while frontier and (max_rounds is None or len(per_round) - 1 < max_rounds):
            new = []
            for u in frontier:
                for e in range(graph.indptr[u], graph.indptr[u + 1]):
                    v = int(graph.indices[e])
                    if live[e] and v not in active:
                        active.add(v)
                        new.append(v)
            if not new:
                break
            per_round.append(len(new))
            frontier = new
        hits = sum(bool(target_mask[v]) for v in active)
        out["reach"] += weight * len(active)
        out["target_activated"] += weight * hits
        out["p_theta"] += weight * (hits >= theta * size - 1e-9)  # as CascadeResult.p_microviral
        out["new_by_round"][:len(per_round)] += weight * np.asarray(per_round, dtype=float)
    return out


def lt_rr_set(graph, pool, base, i):
    """RR set number ``i`` under LT by a plain reverse random walk (the oracle of ``rr_sample_lt``)."""
    from microviral._kernels.hashing import _mix64_py
    from microviral._kernels.rr_lt import _WALK_SALT

    mask = (1 << 64) - 1
    golden = 0x9E3779B97F4A7C15
    key = _mix64_py((int(base) + (i + 1) * golden) & mask)
    root = int(pool[int(((_mix64_py(key) >> 11) * 2.0**-53) * len(pool))])
    walk = _mix64_py(key ^ int(_WALK_SALT))
    heads, src, prob = graph.indices, graph.arc_sources, graph.prob
    members = [root]
    v = root
    while True:
        u = (_mix64_py((walk + (v + 1) * golden) & mask) >> 11) * 2.0**-53
        arcs = np.flatnonzero(heads == v)  # in forward-arc order, as in the reverse CSR
        acc, pick = 0.0, None
        for e in arcs:
            acc += float(prob[e])
            if u < acc:
                pick = int(src[e])
                break
        if pick is None or pick in members:
            return members
        members.append(pick)
        v = pick
