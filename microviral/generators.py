"""Random community graphs: stochastic block model, planted partition, LFR, niche in a background.

Every generator returns a :class:`~microviral.CommunityGraph` whose arcs all carry
probability ``prob`` (default 0.1; apply :mod:`microviral.probabilities` for other
models) and takes one randomness argument ``rng`` (None, an int, a
``numpy.random.SeedSequence`` or a ``numpy.random.Generator``): the same ``rng``
gives the same graph.

Sampling is exact and vectorised: for each pair of blocks the number of edges
is drawn from its binomial law, then that many distinct node pairs are drawn
uniformly among the block pair's possible pairs (as integers, decoded to
``(u, v)``), so no Python loop ever runs over nodes or node pairs. There are no
self-loops and no repeated edges.

Examples
--------
>>> import microviral as mv
>>> g = mv.generators.planted_partition(4, 50, 0.2, 0.01, rng=1)
>>> g.n_nodes, g.community_sizes.tolist()
(200, [50, 50, 50, 50])
"""

import numbers

import numpy as np

from ._memory import check_memory
from ._rng import check_rng
from ._validation import _describe, as_array, check_float, check_int, check_probability
from .graph import CommunityGraph, _name_tuple

__all__ = ["stochastic_block_model", "planted_partition", "lfr", "niche_in_background"]

_MAX_NODES = 2**31 - 2


# Bytes while a graph is generated, per expected edge: the sampled pair indices, their (u, v) arrays and the
# concatenation of every block pair's; per arc: the sort keys, the tails, then the CSR heads (int32) and
# probabilities (float64); per node: labels, offsets and the degree count.
_EDGE_BYTES = 8 + 16 + 16
_ARC_BYTES = 8 + 8 + 4 + 8
_NODE_BYTES = 32
_HINT = "ask for fewer nodes or lower densities"


def _check_size(n_nodes, n_edges, directed, extra=0, hint=_HINT):
    """Refuse, before anything is drawn, a graph whose expected edges would not fit in memory.

    ``extra``: bytes of the largest transient array beyond the edges (the mask of all
    of a block pair's pairs when more than half of them are drawn).
    """
    n_arcs = n_edges if directed else 2.0 * n_edges
    check_memory(n_edges * _EDGE_BYTES + n_arcs * _ARC_BYTES + n_nodes * _NODE_BYTES + extra,
                 f"a graph of {n_nodes:,} nodes and about {n_edges:,.0f} expected edges", hint=hint)


def _pairs(n_a, n_b, same, directed):
    """Number of possible edges between two blocks (floats: they may pass 2**63)."""
    if same:
        return n_a * (n_a - 1.0) if directed else n_a * (n_a - 1.0) / 2.0
    return float(n_a) * n_b


def _generator(rng):
    source = check_rng(rng)
    return source if isinstance(source, np.random.Generator) else np.random.default_rng(source)


def _sample_distinct(gen, n_pairs, m):
    """``m`` distinct integers drawn uniformly from ``[0, n_pairs)``, sorted.

    Draw with replacement, keep the distinct values, draw the shortfall again,
    until there are ``m``. The kept set is exchangeable under any relabelling of
    ``[0, n_pairs)``, so it is a uniform ``m``-subset; when ``m > n_pairs / 2`` the
    complement is sampled instead, so every round keeps at least half its draws.
    """
    if m == 0:
        return np.empty(0, dtype=np.int64)
    if m > n_pairs // 2:
        keep = np.ones(n_pairs, dtype=bool)
        keep[_sample_distinct(gen, n_pairs, n_pairs - m)] = False
        return np.flatnonzero(keep).astype(np.int64)
    out = _sorted_unique(gen.integers(0, n_pairs, size=m, dtype=np.int64))
    while out.size < m:
        out = _sorted_unique(np.concatenate([out, gen.integers(0, n_pairs, size=m - out.size, dtype=np.int64)]))
    return out


def _sorted_unique(values):
    """Sorted distinct values (sort + neighbour compare; faster than np.unique's hashing here)."""
    values.sort()
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _decode_triangle(k):
    """Index ``k`` of the strict lower triangle (row-major) -> ``(i, j)`` with ``j < i``."""
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    # float rounding can put i one off for very large k: fix exactly with integers
    i -= i * (i - 1) // 2 > k
    i += (i + 1) * i // 2 <= k
    j = k - i * (i - 1) // 2
    return i, j


def _block_pair_edges(gen, n_a, n_b, p, same, directed, start_a, start_b):
    """Edges between block a (``n_a`` nodes from ``start_a``) and block b, as two int64 arrays."""
    if same:
        n_pairs = n_a * (n_a - 1) if directed else n_a * (n_a - 1) // 2
    else:
        n_pairs = n_a * n_b
    if n_pairs == 0 or p == 0.0:
        return None
    m = int(gen.binomial(n_pairs, p))
    return _decode(_sample_distinct(gen, n_pairs, m), n_a, n_b, same, directed, start_a, start_b)


def _decode(idx, n_a, n_b, same, directed, start_a, start_b):
    if not same:
        return start_a + idx // n_b, start_b + idx % n_b
    if directed:
        i = idx // (n_a - 1)
        r = idx % (n_a - 1)
        return start_a + i, start_a + r + (r >= i)
    i, j = _decode_triangle(idx)
    return start_a + j, start_a + i


def _assemble(parts, n_nodes, labels, names, directed, prob, info=None):
    """CSR graph from lists of (u, v) edge arrays (distinct, no self-loops)."""
    parts = [p for p in parts if p is not None and p[0].size]
    if parts:
        u = np.concatenate([p[0] for p in parts])
        v = np.concatenate([p[1] for p in parts])
    else:
        u = v = np.empty(0, dtype=np.int64)
    if directed:
        key = u * np.int64(n_nodes) + v
    else:
        key = np.concatenate([u * np.int64(n_nodes) + v, v * np.int64(n_nodes) + u])
    del u, v
    key.sort()
    src = key // n_nodes
    indices = (key - src * n_nodes).astype(np.int32)
    del key
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_nodes), out=indptr[1:])
    del src
    arc_prob = np.full(indices.size, prob, dtype=np.float64)
    return CommunityGraph._trusted(indptr, indices, arc_prob, labels, names, None, directed, info or {})


def _check_sizes(sizes):
    arr = as_array(sizes, "sizes", "block sizes")
    if arr.ndim != 1:
        raise TypeError(f"'sizes' must be a 1-d sequence of positive block sizes. Got {_describe(sizes)} instead.")
    sizes = arr
    sizes = [check_int(s, "sizes", minimum=1) for s in sizes.astype(object).tolist()]
    if not sizes:
        raise ValueError("'sizes' must hold at least one block size. Got an empty sequence.")
    if sum(sizes) > _MAX_NODES:
        raise ValueError(f"'sizes' must add up to at most {_MAX_NODES} nodes. Got {sum(sizes)}.")
    return sizes


def _check_matrix(p, k, directed):
    arr = as_array(p, "p", "edge densities")
    if arr.dtype.kind == "O" and arr.ndim == 2:  # e.g. nested lists of Python numbers of mixed types
        items = arr.ravel().tolist()
        if all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in items):
            arr = np.array(items, dtype=np.float64).reshape(arr.shape)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"'p' must be a {k} x {k} array of edge densities (real numbers). Got {_describe(arr)} instead.")
    arr = arr.astype(np.float64)
    if arr.shape != (k, k):
        raise ValueError(f"'p' must be a {k} x {k} array (one density per block pair). Got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("Entries of 'p' must be finite probabilities in [0, 1].")
    if not directed and not np.array_equal(arr, arr.T):
        raise ValueError("'p' must be symmetric when directed=False.")
    return arr


def _check_names(community_names, k):
    if community_names is None:
        return tuple(range(k))
    names = _name_tuple(community_names)
    if len(names) != k:
        raise ValueError(f"'community_names' must hold {k} distinct names (one per block). Got {names!r}.")
    return names


def stochastic_block_model(sizes, p, *, directed=False, rng=None, prob=0.1, community_names=None):
    """Stochastic block model: nodes in blocks, each pair present with its block pair's density.

    Node ``u`` in block ``a`` and node ``v`` in block ``b`` are joined with
    probability ``p[a][b]``, independently (no self-loops). Nodes are numbered
    block by block and labelled by their block.

    Parameters
    ----------
    sizes : sequence of int
        Number of nodes in each block (each >= 1).
    p : array-like, shape (k, k)
        Edge density of each block pair, in [0, 1]; symmetric when undirected.
    directed : bool, default False
        If True, ``u -> v`` and ``v -> u`` are drawn independently.
    rng : None, int, SeedSequence or Generator
        Source of randomness; the same value gives the same graph.
    prob : float, default 0.1
        Activation probability of every arc.
    community_names : sequence, optional
        One name per block (default ``0 .. k-1``).

    Returns
    -------
    CommunityGraph

    Raises
    ------
    TypeError
        ``sizes``, ``p`` or ``rng`` has the wrong type.
    ValueError
        A block size < 1, ``p`` of the wrong shape, outside [0, 1] or not
        symmetric for an undirected graph, ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.generators.stochastic_block_model([30, 20], [[0.3, 0.02], [0.02, 0.4]], rng=0)
    >>> g.n_nodes, g.community_sizes.tolist(), g.directed
    (50, [30, 20], False)
    """
    if not isinstance(directed, (bool, np.bool_)):
        raise TypeError(f"'directed' must be a bool. Got {_describe(directed)} instead.")
    sizes = _check_sizes(sizes)
    k = len(sizes)
    p = _check_matrix(p, k, directed)
    prob = check_probability(prob, "prob")
    names = _check_names(community_names, k)
    n_pairs = np.outer(np.asarray(sizes, dtype=np.float64), np.asarray(sizes, dtype=np.float64))
    np.fill_diagonal(n_pairs, [_pairs(s, s, True, directed) for s in sizes])
    if not directed:
        n_pairs = np.triu(n_pairs)
    dense = n_pairs[p > 0.5]  # drawn as the complement, through a mask of all the block pair's pairs
    _check_size(sum(sizes), float((n_pairs * p).sum()), directed, extra=float(dense.max()) if dense.size else 0.0,
                hint="ask for smaller blocks or lower densities")
    gen = _generator(rng)
    starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    parts = []
    for a in range(k):
        for b in range(k) if directed else range(a, k):
            parts.append(_block_pair_edges(gen, sizes[a], sizes[b], float(p[a, b]), a == b, directed,
                                           starts[a], starts[b]))
    labels = np.repeat(np.arange(k, dtype=np.int32), sizes)
    return _assemble(parts, starts[-1], labels, names, bool(directed), prob)


def planted_partition(n_communities, community_size, p_in, p_out, *, directed=False, rng=None, prob=0.1):
    """Planted partition: equal communities, density ``p_in`` inside and ``p_out`` between.

    A stochastic block model with ``n_communities`` blocks of ``community_size``
    nodes each (labels ``0 .. n_communities-1``).

    Parameters
    ----------
    n_communities : int
        Number of communities (>= 1).
    community_size : int
        Nodes per community (>= 1).
    p_in, p_out : float
        Edge density inside a community and between two communities, in [0, 1].
    directed : bool, default False
    rng : None, int, SeedSequence or Generator
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    TypeError, ValueError
        Counts that are not positive integers, densities outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.generators.planted_partition(3, 40, 0.25, 0.0, rng=2)
    >>> bool((g.community[g.arc_sources] == g.community[g.indices]).all())   # p_out = 0
    True
    """
    n_communities = check_int(n_communities, "n_communities", minimum=1)
    community_size = check_int(community_size, "community_size", minimum=1)
    p_in = check_probability(p_in, "p_in")
    p_out = check_probability(p_out, "p_out")
    matrix = np.full((n_communities, n_communities), p_out)
    np.fill_diagonal(matrix, p_in)
    return stochastic_block_model([community_size] * n_communities, matrix, directed=directed, rng=rng, prob=prob)


def niche_in_background(n_background=10000, n_niche=200, *, niche_degree=20, background_degree=8, n_bridges=200,
                        rng=None, prob=0.1):
    """A small dense niche community embedded in a large sparse background population.

    Undirected. Nodes ``0 .. n_background-1`` form the community ``"background"``
    (an Erdos-Renyi graph of mean degree ``background_degree``), nodes
    ``n_background .. n_background+n_niche-1`` the community ``"niche"`` (mean
    degree ``niche_degree`` among themselves), and exactly ``n_bridges`` distinct
    edges, drawn uniformly among all niche-background pairs, join the two.

    Parameters
    ----------
    n_background : int, default 10000
        Background nodes (>= 2).
    n_niche : int, default 200
        Niche nodes (>= 2).
    niche_degree : float, default 20
        Expected number of niche neighbours of a niche node, in [0, n_niche - 1].
    background_degree : float, default 8
        Expected number of background neighbours of a background node, in
        [0, n_background - 1].
    n_bridges : int, default 200
        Exact number of niche-background edges, in [0, n_niche * n_background].
    rng : None, int, SeedSequence or Generator
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph
        Community names ``("background", "niche")``.

    Raises
    ------
    TypeError, ValueError
        A size or count that is not an integer in range, a degree outside its range.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.generators.niche_in_background(2000, 50, n_bridges=30, rng=0)
    >>> g.community_names, g.community_sizes.tolist()
    (('background', 'niche'), [2000, 50])
    >>> c = g.community
    >>> int((c[g.arc_sources] != c[g.indices]).sum()) // 2   # bridges
    30
    """
    n_background = check_int(n_background, "n_background", minimum=2)
    n_niche = check_int(n_niche, "n_niche", minimum=2)
    if n_background + n_niche > _MAX_NODES:
        raise ValueError(f"'n_background' + 'n_niche' must be at most {_MAX_NODES}. Got {n_background + n_niche}.")
    niche_degree = check_float(niche_degree, "niche_degree", low=0.0, high=float(n_niche - 1))
    background_degree = check_float(background_degree, "background_degree", low=0.0, high=float(n_background - 1))
    n_bridges = check_int(n_bridges, "n_bridges", minimum=0, maximum=n_niche * n_background)
    prob = check_probability(prob, "prob")
    p_bg = min(1.0, background_degree / (n_background - 1))
    p_niche = min(1.0, niche_degree / (n_niche - 1))
    blocks = [(_pairs(n_background, n_background, True, False), p_bg), (_pairs(n_niche, n_niche, True, False), p_niche),
              (_pairs(n_background, n_niche, False, False), n_bridges / (float(n_background) * n_niche))]
    _check_size(n_background + n_niche, sum(pairs * p for pairs, p in blocks), False,
                extra=max([pairs for pairs, p in blocks if p > 0.5], default=0.0),
                hint="ask for fewer nodes, lower degrees or fewer bridges")
    gen = _generator(rng)
    parts = [
        _block_pair_edges(gen, n_background, n_background, p_bg, True, False, 0, 0),
        _block_pair_edges(gen, n_niche, n_niche, p_niche, True, False, n_background, n_background),
        _decode(_sample_distinct(gen, n_background * n_niche, n_bridges), n_background, n_niche, False, False,
                0, n_background),
    ]
    labels = np.repeat(np.array([0, 1], dtype=np.int32), [n_background, n_niche])
    return _assemble(parts, n_background + n_niche, labels, ("background", "niche"), False, prob,
                     {"n_bridges": n_bridges})


def lfr(n, tau1, tau2, mu, *, average_degree=None, min_degree=None, max_degree=None, max_community=None,
        min_community=None, max_iters=500, rng=None, prob=0.1):
    """LFR benchmark graph (Lancichinetti, Fortunato, Radicchi 2008), via networkx.

    Degrees and community sizes follow power laws with exponents ``tau1`` and
    ``tau2``; each node has a share ``mu`` of its edges outside its community.
    Wraps :func:`networkx.LFR_benchmark_graph` (pure Python, so meant for graphs
    of up to some ten thousand nodes). Undirected; communities are numbered
    ``0 .. C-1`` in order of their lowest node. networkx's sampler retries until
    the degree and community-size constraints fit; for tight constraints it can
    be slow or fail, and a failure is raised as ``ValueError`` (try another
    ``rng``, a larger ``n`` or looser bounds).

    Parameters
    ----------
    n : int
        Number of nodes.
    tau1 : float
        Degree power-law exponent, > 1.
    tau2 : float
        Community-size power-law exponent, > 1.
    mu : float
        Mixing: share of each node's edges leaving its community, in [0, 1].
    average_degree, min_degree : float or int
        Exactly one of them must be given.
    max_degree, max_community, min_community : int, optional
        Passed to networkx (defaults there: ``n``, ``n`` and ``min_degree``).
    max_iters : int, default 500
        Attempts networkx makes at each sampling step.
    rng : None, int, SeedSequence or Generator
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    TypeError
        An argument has the wrong type.
    ValueError
        Parameters out of range, both or neither of ``average_degree`` and
        ``min_degree``, or networkx could not build a graph with these
        parameters (its message is included).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.generators.lfr(250, 3, 1.5, 0.1, average_degree=5, min_community=20, rng=1)
    >>> g.n_nodes, g.directed
    (250, False)
    """
    import networkx as nx

    n = check_int(n, "n", minimum=1, maximum=_MAX_NODES)
    tau1 = check_float(tau1, "tau1", low=1.0, low_open=True)
    tau2 = check_float(tau2, "tau2", low=1.0, low_open=True)
    mu = check_float(mu, "mu", low=0.0, high=1.0)
    if (average_degree is None) == (min_degree is None):
        raise ValueError(
            "Exactly one of 'average_degree' and 'min_degree' must be given. "
            f"Got average_degree={average_degree!r}, min_degree={min_degree!r}."
        )
    if average_degree is not None:
        average_degree = check_float(average_degree, "average_degree", low=0.0, high=float(n), low_open=True)
    if min_degree is not None:
        min_degree = check_int(min_degree, "min_degree", minimum=1, maximum=n)
    max_degree = check_int(max_degree, "max_degree", minimum=1, allow_none=True)
    max_community = check_int(max_community, "max_community", minimum=1, allow_none=True)
    min_community = check_int(min_community, "min_community", minimum=1, allow_none=True)
    max_iters = check_int(max_iters, "max_iters", minimum=1)
    prob = check_probability(prob, "prob")
    # networkx holds the graph as Python dicts: about 200 bytes an edge and 500 a node (measured); the degrees
    # are at least min_degree
    degree = average_degree if average_degree is not None else min_degree
    check_memory(n * 500.0 + n * degree / 2.0 * 200.0, f"networkx's LFR graph of {n:,} nodes and at least "
                 f"{n * degree / 2.0:,.0f} edges", hint="ask for fewer nodes or a lower degree")
    seed = int(_generator(rng).integers(0, 2**32))
    try:
        G = nx.LFR_benchmark_graph(n, tau1, tau2, mu, average_degree=average_degree, min_degree=min_degree,
                                   max_degree=max_degree, min_community=min_community,
                                   max_community=max_community, max_iters=max_iters, seed=seed)
    except (nx.NetworkXException, ValueError, ZeroDivisionError) as exc:
        raise ValueError(
            f"LFR generation failed for n={n}, tau1={tau1}, tau2={tau2}, mu={mu}, "
            f"average_degree={average_degree}, min_degree={min_degree}, max_degree={max_degree}, "
            f"min_community={min_community}, max_community={max_community}: {exc}. "
            "Try a larger n, another rng, larger max_iters or looser community-size bounds."
        ) from None
    label_of = {}
    labels = np.empty(n, dtype=np.int32)
    for u in range(n):
        members = frozenset(G.nodes[u]["community"])
        if members not in label_of:
            label_of[members] = len(label_of)
        labels[u] = label_of[members]
    edges = np.array([(u, v) for u, v in G.edges() if u != v], dtype=np.int64).reshape(-1, 2)
    lo, hi = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    return _assemble([(lo, hi)], n, labels, tuple(range(len(label_of))), False, prob)
