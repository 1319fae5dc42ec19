"""Seeding heuristics: random, degree (global, inside the target, community insiders), degree discount,
PageRank and k-core.

Every function has the signature ``f(graph, k, *, target=None, rng=None, ...)`` and returns ``k``
node indices (an int64 array) in selection order; ties go to the lowest node index. Strategies that
do not look at the target accept it and ignore it, so :func:`microviral.compare` can call every
strategy the same way.
"""

import numbers

import numpy as np

from .._rng import check_rng
from .._validation import _describe, check_bool, check_float, check_int, check_probability
from ._common import check_graph, check_k, check_unused, target_nodes, top_k

__all__ = [
    "random",
    "random_target",
    "degree",
    "degree_target",
    "degree_insiders",
    "degree_discount",
    "pagerank",
    "kcore",
]


def _generator(rng):
    source = check_rng(rng)
    return source if isinstance(source, np.random.Generator) else np.random.default_rng(source)


def random(graph, k, *, target=None, rng=None):
    """``k`` distinct nodes drawn uniformly from the whole graph (``target`` is ignored).

    Parameters
    ----------
    graph : CommunityGraph
    k : int
        Number of seeds, ``1 <= k <= n_nodes``.
    target : ignored
        Accepted so that every strategy has the same signature.
    rng : None, int, numpy SeedSequence or Generator
        The same ``rng`` gives the same seeds.

    Returns
    -------
    numpy.ndarray of int64, shape (k,)

    Raises
    ------
    TypeError, ValueError
        ``graph`` is not a CommunityGraph, or ``k`` is not an int in ``[1, n_nodes]``.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 4])
    >>> s = mv.seeding.random(g, 2, rng=0)
    >>> len(s), bool((s == mv.seeding.random(g, 2, rng=0)).all())
    (2, True)
    """
    check_graph(graph)
    k = check_k(k, graph)
    check_unused(graph, target=target)
    return _generator(rng).choice(graph.n_nodes, size=k, replace=False).astype(np.int64)


def random_target(graph, k, *, target=None, rng=None):
    """``k`` distinct nodes drawn uniformly from inside ``target`` (required).

    Raises
    ------
    ValueError
        ``target`` is None or empty, or ``k`` exceeds its size.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 4], community=list("aabbb"))
    >>> sorted(mv.seeding.random_target(g, 3, target="b", rng=0).tolist())
    [2, 3, 4]
    """
    check_graph(graph)
    _, nodes = target_nodes(graph, target, "random_target")
    k = check_k(k, graph, pool_size=nodes.size, pool_name="the target")
    return nodes[_generator(rng).choice(nodes.size, size=k, replace=False)].astype(np.int64)


def degree(graph, k, *, target=None, rng=None):
    """The ``k`` nodes of highest out-degree (degree for an undirected graph); ``target`` ignored.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 1, 1], [1, 2, 3, 2, 3])
    >>> mv.seeding.degree(g, 2).tolist()
    [0, 1]
    """
    check_graph(graph)
    k = check_k(k, graph)
    check_unused(graph, target=target, rng=rng)
    return top_k(graph.out_degree, k)


def degree_target(graph, k, *, target=None, rng=None):
    """The ``k`` members of ``target`` with the highest out-degree (all arcs counted).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 1, 2], [1, 2, 3, 2, 3], community=list("abbb"))
    >>> mv.seeding.degree_target(g, 2, target="b").tolist()
    [1, 2]
    """
    check_graph(graph)
    _, nodes = target_nodes(graph, target, "degree_target")
    k = check_k(k, graph, pool_size=nodes.size, pool_name="the target")
    check_unused(graph, rng=rng)
    return top_k(graph.out_degree, k, nodes)


def degree_insiders(graph, k, *, target=None, rng=None):
    """The ``k`` members of ``target`` with the most out-arcs to other members (community insiders).

    Examples
    --------
    >>> import microviral as mv
    >>> # node 0 has the most arcs overall, but node 3 has the most inside community "b"
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 0, 3, 3, 1], [4, 5, 6, 1, 1, 2, 6],
    ...                                  community=list("abbbaaa"))
    >>> mv.seeding.degree_insiders(g, 1, target="a").tolist()
    [0]
    >>> mv.seeding.degree_insiders(g, 1, target="b").tolist()
    [3]
    """
    check_graph(graph)
    mask, nodes = target_nodes(graph, target, "degree_insiders")
    k = check_k(k, graph, pool_size=nodes.size, pool_name="the target")
    check_unused(graph, rng=rng)
    src = graph.arc_sources
    inside = mask[src] & mask[graph.indices]
    deg_in = np.bincount(src[inside], minlength=graph.n_nodes)
    return top_k(deg_in, k, nodes)


def degree_discount(graph, k, *, target=None, rng=None, p=None):
    """Degree discount (Chen, Wang, Yang, KDD 2009), generalised to per-arc probabilities.

    The original DegreeDiscountIC assumes one probability ``p`` for every arc. After
    each pick ``u``, every out-neighbour ``v`` of ``u`` gets the discounted degree

    ``dd(v) = d(v) - 2 t(v) - (d(v) - t(v)) * q(v)``

    where ``d(v)`` is its out-degree and ``t(v)`` the number of seeds with an arc to
    it. With ``p=None`` (default), ``q(v)`` is the sum of the probabilities of the
    arcs from seeds to ``v`` (the first-order chance that the seeds already activate
    ``v``), which equals the paper's ``t(v) * p`` when all arcs carry ``p``. With a
    float ``p``, or ``p="mean"`` (the mean arc probability), ``q(v) = t(v) * p``: the
    paper's formula.

    Parameters
    ----------
    graph : CommunityGraph
    k : int
    target, rng : ignored
    p : None, "mean" or float in [0, 1]

    Examples
    --------
    >>> import microviral as mv
    >>> # a triangle 0-1-2 plus a star around 3: after 0, node 1 is discounted below 3
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 0, 3, 3], [1, 2, 2, 4, 5, 6], directed=False, prob=0.5)
    >>> mv.seeding.degree_discount(g, 2).tolist()
    [0, 3]
    """
    check_graph(graph)
    k = check_k(k, graph)
    check_unused(graph, target=target, rng=rng)
    if p is None:
        per_arc = True
    elif isinstance(p, str):
        if p != "mean":
            raise ValueError(f"'p' must be None, 'mean' or a probability. Got {p!r} instead.")
        per_arc = False
        p = float(graph.prob.mean()) if graph.n_arcs else 0.0
    elif isinstance(p, (numbers.Real, np.floating)) and not isinstance(p, (bool, np.bool_)):
        per_arc = False
        p = check_probability(p, "p")
    else:
        raise TypeError(f"'p' must be None, 'mean' or a probability. Got {_describe(p)} instead.")
    deg = graph.out_degree.astype(np.float64)
    dd = deg.copy()
    t = np.zeros(graph.n_nodes)
    q = np.zeros(graph.n_nodes)
    chosen = np.zeros(graph.n_nodes, dtype=bool)
    indptr, indices, prob = graph.indptr, graph.indices, graph.prob
    seeds = np.empty(k, dtype=np.int64)
    for j in range(k):
        u = int(np.argmax(np.where(chosen, -np.inf, dd)))
        seeds[j] = u
        chosen[u] = True
        v = indices[indptr[u]:indptr[u + 1]]
        np.add.at(t, v, 1.0)
        if per_arc:
            np.add.at(q, v, prob[indptr[u]:indptr[u + 1]])
            dd[v] = deg[v] - 2 * t[v] - (deg[v] - t[v]) * q[v]
        else:
            dd[v] = deg[v] - 2 * t[v] - (deg[v] - t[v]) * t[v] * p
    return seeds


def pagerank_scores(graph, *, alpha=0.85, weighted=True, tol=1e-12, max_iter=1000):
    """Influence PageRank: the stationary distribution of a walk that follows arcs backwards.

    From node ``v`` the walk moves to an in-neighbour ``u`` with probability
    proportional to ``prob[u -> v]`` (``weighted=True``) or uniformly, and with
    probability ``1 - alpha`` (or when ``v`` has no usable in-arc) jumps to a node
    drawn uniformly. A node scores high when many likely paths lead *from* it, i.e.
    when it can influence many. On an undirected graph with one probability this
    is the ordinary PageRank. Power iteration on a scipy sparse matrix built
    straight from the CSR arrays.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0], [1, 2, 3])
    >>> s = mv.seeding.heuristics.pagerank_scores(g)
    >>> int(s.argmax()), round(float(s.sum()), 6)
    (0, 1.0)
    """
    import scipy.sparse as sp

    check_graph(graph)
    alpha = check_float(alpha, "alpha", low=0.0, high=1.0, high_open=True)
    weighted = check_bool(weighted, "weighted")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_float(tol, "tol", low=0.0, low_open=True)
    n = graph.n_nodes
    w = graph.prob if weighted else np.ones(graph.n_arcs)
    insum = np.bincount(graph.indices, weights=w, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.where(insum[graph.indices] > 0, w / insum[graph.indices], 0.0)
    # row u, column v holds the chance of stepping from v back to u along arc u -> v
    M = sp.csr_array((data, graph.indices, graph.indptr), shape=(n, n))
    dangling = insum <= 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = alpha * (M @ x)
        new += (alpha * x[dangling].sum() + (1.0 - alpha)) / n
        if np.abs(new - x).sum() < tol:
            x = new
            break
        x = new
    return x / x.sum()


def pagerank(graph, k, *, target=None, rng=None, alpha=0.85, weighted=True):
    """The ``k`` nodes of highest influence PageRank (see :func:`pagerank_scores`); ``target`` ignored.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 0, 1])
    >>> mv.seeding.pagerank(g, 2).tolist()
    [4, 0]
    """
    check_graph(graph)
    k = check_k(k, graph)
    check_unused(graph, target=target, rng=rng)
    return top_k(pagerank_scores(graph, alpha=alpha, weighted=weighted), k)


def coreness(graph):
    """Core number of every node in the undirected view of ``graph``.

    The undirected view joins ``u`` and ``v`` when there is an arc either way;
    core numbers come from the O(m) algorithm of Batagelj and Zaversnik (2003)
    (the same numbers as networkx's ``core_number``).

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 2], [1, 2, 2, 3], directed=False)
    >>> mv.seeding.heuristics.coreness(g).tolist()
    [2, 2, 2, 1]
    """
    import scipy.sparse as sp

    from .._kernels.cores import core_numbers

    check_graph(graph)
    n = graph.n_nodes
    A = sp.csr_array((np.ones(graph.n_arcs), graph.indices, graph.indptr), shape=(n, n))
    if graph.directed:
        A = (A + A.T).tocsr()
    A.sort_indices()
    return core_numbers(A.indptr.astype(np.int64), A.indices.astype(np.int64))


def kcore(graph, k, *, target=None, rng=None):
    """The ``k`` nodes of highest coreness (Kitsak et al. 2010), ties by degree then index.

    Coreness is computed on the undirected view of the graph; ``target`` is ignored.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 4, 4, 4], [1, 2, 2, 3, 5, 6, 7], directed=False)
    >>> mv.seeding.kcore(g, 3).tolist()
    [2, 0, 1]
    """
    check_graph(graph)
    k = check_k(k, graph)
    check_unused(graph, target=target, rng=rng)
    core = coreness(graph)
    idx = np.arange(graph.n_nodes)
    order = np.lexsort((idx, -graph.out_degree, -core))
    return order[:k].astype(np.int64)
