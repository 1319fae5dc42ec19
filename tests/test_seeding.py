"""Seeding strategies: the common convention, each heuristic against a plain reference, CELF against
brute-force greedy on the same worlds, and bad input."""

import networkx as nx
import numpy as np
import pytest

import microviral as mv
from microviral._rng import run_keys
from microviral.seeding import STRATEGIES, get_strategy
from microviral.seeding.celf import greedy_objective
from microviral.seeding.heuristics import pagerank_scores


def small_graph(seed=0, n=40, m=120, directed=True, p=0.2):
    gen = np.random.default_rng(seed)
    src = gen.integers(0, n, m)
    dst = gen.integers(0, n, m)
    keep = src != dst
    comm = np.where(np.arange(n) < n // 4, "niche", "rest")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, directed=directed, prob=p,
                                            community=comm)


FAST = ["random", "random_target", "degree", "degree_target", "degree_insiders", "degree_discount", "pagerank",
        "kcore", "imm", "imm_target"]
INSIDE = ["random_target", "degree_target", "degree_insiders"]


# ---------------------------------------------------------------- the common convention
def test_registry_names():
    assert {"random", "random_target", "degree", "degree_target", "degree_insiders", "degree_discount", "pagerank",
            "kcore", "celf", "celf_target", "imm", "imm_target"} <= set(STRATEGIES)
    for name, fn in STRATEGIES.items():
        assert get_strategy(name) is fn


@pytest.mark.parametrize("name", FAST + ["celf", "celf_target"])
def test_convention(name):
    g = small_graph()
    fn = get_strategy(name)
    opts = {"n_runs": 20} if name.startswith("celf") else {}
    a = fn(g, 5, target="niche", rng=3, **opts)
    b = fn(g, 5, target="niche", rng=3, **opts)
    assert isinstance(a, np.ndarray) and a.dtype == np.int64 and a.shape == (5,)
    assert np.unique(a).size == 5 and a.min() >= 0 and a.max() < g.n_nodes
    assert np.array_equal(a, b)
    if name in INSIDE:
        assert g.target_mask("niche")[a].all()


def test_random_depends_on_rng_and_is_uniform():
    g = small_graph(n=10, m=20)
    counts = np.zeros(g.n_nodes)
    for r in range(2000):
        counts[mv.seeding.random(g, 3, rng=r)] += 1
    # each node is picked with chance 3/10: 600 expected, sd ~ 20.5
    assert np.all(np.abs(counts - 600) < 5 * 20.5)
    assert not np.array_equal(mv.seeding.random(g, 5, rng=1), mv.seeding.random(g, 5, rng=2))


def test_degree_variants_against_reference():
    g = small_graph(seed=4, n=60, m=400)
    deg = g.out_degree
    order = sorted(range(g.n_nodes), key=lambda v: (-deg[v], v))
    assert mv.seeding.degree(g, 7).tolist() == order[:7]
    mask = g.target_mask("niche")
    inside = [v for v in order if mask[v]]
    assert mv.seeding.degree_target(g, 4, target="niche").tolist() == inside[:4]
    src, dst = g.arc_sources, g.indices
    ins = {v: int(np.sum((src == v) & mask[dst])) for v in np.flatnonzero(mask)}
    ref = sorted(ins, key=lambda v: (-ins[v], v))
    assert mv.seeding.degree_insiders(g, 4, target="niche").tolist() == ref[:4]


def degree_discount_reference(g, k, p=None):
    """DegreeDiscountIC written as in Chen et al. 2009 (Algorithm 4), with per-arc sums when p is None."""
    n = g.n_nodes
    d = [float(x) for x in g.out_degree]
    dd = list(d)
    t = [0.0] * n
    q = [0.0] * n
    seeds = []
    for _ in range(k):
        u = max((v for v in range(n) if v not in seeds), key=lambda v: (dd[v], -v))
        seeds.append(u)
        for e in range(g.indptr[u], g.indptr[u + 1]):
            v = int(g.indices[e])
            if v in seeds:
                continue
            t[v] += 1
            q[v] += g.prob[e]
            qv = q[v] if p is None else t[v] * p
            dd[v] = d[v] - 2 * t[v] - (d[v] - t[v]) * qv
    return seeds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_degree_discount_matches_reference(seed):
    g = small_graph(seed=seed, n=50, m=300, directed=bool(seed % 2))
    g = mv.probabilities.trivalency(g, rng=seed)
    assert mv.seeding.degree_discount(g, 8).tolist() == degree_discount_reference(g, 8)
    assert mv.seeding.degree_discount(g, 8, p=0.05).tolist() == degree_discount_reference(g, 8, p=0.05)


def test_degree_discount_per_arc_equals_paper_for_uniform_p():
    g = small_graph(seed=5, n=80, m=500, directed=False, p=0.03)
    a = mv.seeding.degree_discount(g, 10)
    assert np.array_equal(a, mv.seeding.degree_discount(g, 10, p=0.03))
    assert np.array_equal(a, mv.seeding.degree_discount(g, 10, p="mean"))


def test_pagerank_matches_networkx_on_undirected_uniform():
    G = nx.karate_club_graph()
    g = mv.CommunityGraph.from_networkx(G, community="club", prob=0.1)
    ours = pagerank_scores(g)
    ref = nx.pagerank(nx.Graph(G.edges()), alpha=0.85, tol=1e-12)
    assert np.allclose(ours, [ref[v] for v in range(34)], atol=1e-8)
    top = sorted(range(34), key=lambda v: (-ref[v], v))[:5]
    assert mv.seeding.pagerank(g, 5).tolist() == top


def test_pagerank_follows_influence_direction():
    # 0 -> 1..5: node 0 influences five nodes; reversing arcs makes it the top node
    g = mv.CommunityGraph.from_edges([0] * 5 + [6], [1, 2, 3, 4, 5, 0], prob=0.5)
    assert mv.seeding.pagerank(g, 2).tolist() == [6, 0]  # forward PageRank would rank 1..5 first
    s = pagerank_scores(g)
    assert s[0] > s[1:6].max()


@pytest.mark.parametrize("seed,directed", [(0, True), (1, False), (2, True)])
def test_coreness_matches_networkx(seed, directed):
    from microviral.seeding.heuristics import coreness

    g = small_graph(seed=seed, n=120, m=700, directed=directed)
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_edges_from(zip(g.arc_sources.tolist(), g.indices.tolist()))
    ref = nx.core_number(G)
    assert coreness(g).tolist() == [ref[v] for v in range(g.n_nodes)]


def test_kcore_matches_networkx():
    G = nx.karate_club_graph()
    g = mv.CommunityGraph.from_networkx(G, community="club")
    core = nx.core_number(G)
    deg = dict(G.degree())
    ref = sorted(range(34), key=lambda v: (-core[v], -deg[v], v))
    assert mv.seeding.kcore(g, 10).tolist() == ref[:10]


# ---------------------------------------------------------------- CELF
def brute_force_greedy(g, k, keys, objective, target=None):
    mask = np.ascontiguousarray(g.target_mask(target), dtype=np.uint8)
    f = greedy_objective(g, mask, keys, objective)
    seeds = []
    for _ in range(k):
        base = f(seeds) if seeds else 0
        gains = [(f(seeds + [v]) - base, -v) for v in range(g.n_nodes) if v not in seeds]
        seeds.append(-max(gains)[1])
    return seeds


@pytest.mark.parametrize("seed,directed,objective", [(0, True, "reach"), (1, False, "reach"), (2, True, "target"),
                                                     (3, False, "target")])
def test_celf_equals_brute_force_greedy(seed, directed, objective):
    g = small_graph(seed=seed, n=25, m=50, directed=directed, p=0.3)
    target = "niche" if objective == "target" else None
    keys = run_keys(seed, 60)
    ref = brute_force_greedy(g, 4, keys, objective, target)
    got = mv.seeding.celf(g, 4, target=target, rng=seed, n_runs=60, objective=objective)
    assert got.tolist() == ref


def test_celf_target_objective_prefers_the_niche():
    # 0 reaches 3 background nodes surely; 4 reaches the 2 niche nodes surely
    g = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=1.0, community=list("aaaabbb"))
    assert mv.seeding.celf(g, 1, n_runs=5, rng=0).tolist() == [0]
    assert mv.seeding.celf(g, 1, target="b", n_runs=5, rng=0).tolist() == [4]
    assert STRATEGIES["celf"](g, 1, target="b", n_runs=5, rng=0).tolist() == [4]
    assert STRATEGIES["celf_reach"](g, 1, target="b", n_runs=5, rng=0).tolist() == [0]
    assert STRATEGIES["celf_target"](g, 1, target="b", n_runs=5, rng=0).tolist() == [4]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("k", [0, -1, 41])
def test_bad_k(name, k):
    g = small_graph()
    with pytest.raises(ValueError, match="'k' must be"):
        get_strategy(name)(g, k, target="niche", rng=0)


@pytest.mark.parametrize("name", FAST)
def test_k_not_an_int(name):
    g = small_graph()
    with pytest.raises(TypeError, match="'k' must be an integer"):
        get_strategy(name)(g, 2.5, target="niche", rng=0)


@pytest.mark.parametrize("name", INSIDE)
def test_k_larger_than_target(name):
    g = small_graph()  # 10 niche nodes
    with pytest.raises(ValueError, match=r"size of the target \(10\)"):
        get_strategy(name)(g, 11, target="niche", rng=0)


@pytest.mark.parametrize("name", INSIDE + ["imm_target", "celf_target"])
def test_target_required(name):
    g = small_graph()
    with pytest.raises(ValueError, match="'target' is required"):
        get_strategy(name)(g, 2, rng=0)


@pytest.mark.parametrize("name", INSIDE + ["imm_target", "celf_target"])
def test_empty_target(name):
    g = small_graph()
    with pytest.raises(ValueError, match="'target' is empty"):
        get_strategy(name)(g, 2, target=np.zeros(g.n_nodes, dtype=bool), rng=0)


def test_unknown_target_and_names():
    g = small_graph()
    with pytest.raises(ValueError, match="unknown community 'nope'"):
        mv.seeding.degree_target(g, 2, target="nope")
    with pytest.raises(ValueError, match=r"Unknown strategy 'degre'.*Known strategies: \['celf', "):
        get_strategy("degre")
    with pytest.raises(TypeError, match="strategy name"):
        get_strategy(3)


@pytest.mark.parametrize("name", FAST)
def test_not_a_graph(name):
    with pytest.raises(TypeError, match="'graph' must be a microviral.CommunityGraph"):
        get_strategy(name)(nx.karate_club_graph(), 2, target="niche", rng=0)


def test_bad_options():
    g = small_graph()
    with pytest.raises(ValueError, match="'p' must be None, 'mean'"):
        mv.seeding.degree_discount(g, 2, p="median")
    with pytest.raises(ValueError, match="'p' must be a finite number in"):
        mv.seeding.degree_discount(g, 2, p=1.5)
    with pytest.raises(ValueError, match="'objective' must be one of"):
        mv.seeding.celf(g, 2, objective="spread")
    with pytest.raises(ValueError, match="objective='target' needs a 'target'"):
        mv.seeding.celf(g, 2, objective="target")
    with pytest.raises(ValueError, match="'n_runs' must be >= 1"):
        mv.seeding.celf(g, 2, n_runs=0)
    with pytest.raises(ValueError, match="'alpha' must be"):
        mv.seeding.pagerank(g, 2, alpha=1.0)
    with pytest.raises(TypeError, match="'rng' must be"):
        mv.seeding.random(g, 2, rng="seed")


# ---------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 30), density=st.floats(0.5, 4.0), directed=st.booleans(),
       k=st.integers(1, 8), name=st.sampled_from(FAST))
def test_any_graph_gives_k_distinct_valid_seeds(seed, n, density, directed, k, name):
    g = small_graph(seed=seed, n=n, m=max(1, int(density * n)), directed=directed, p=0.3)
    target_size = int(g.target_mask("niche").sum())
    if name in INSIDE:
        k = min(k, target_size)
    seeds = get_strategy(name)(g, k, target="niche", rng=seed)
    assert seeds.shape == (k,) and np.unique(seeds).size == k
    assert 0 <= seeds.min() and seeds.max() < g.n_nodes
    assert np.array_equal(seeds, get_strategy(name)(g, k, target="niche", rng=seed))
