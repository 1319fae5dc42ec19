"""The engine against exact answers: a pure-Python reference, enumeration, closed forms, limits."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microviral as mv
from naive import cascade, exact_expectations


def random_graph(rng, n, m, directed, n_comm=2, p_low=0.0, p_high=1.0):
    gen = np.random.default_rng(rng)
    src = gen.integers(0, n, size=m)
    dst = gen.integers(0, n, size=m)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    prob = gen.uniform(p_low, p_high, size=src.size)
    labels = gen.integers(0, n_comm, size=n)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=labels, directed=directed, prob=prob)


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("graph_seed", [0, 1, 2])
def test_kernel_matches_reference_cascade_run_by_run(directed, graph_seed):
    g = random_graph(graph_seed, n=30, m=90, directed=directed, n_comm=3, p_low=0.05, p_high=0.6)
    seeds = [0, 5, 7]
    res = mv.simulate(g, seeds, n_runs=40, target=1, rng=graph_seed)
    mask = g.target_mask(1)
    for r in range(res.n_runs):
        layers = cascade(g, seeds, res.keys[r], mask)
        active = [v for layer in layers for v in layer]
        assert res.reach[r] == len(active)
        assert res.target_activated[r] == sum(mask[v] for v in active)
        assert res.rounds[r] == len(layers) - 1
        sizes = [len(layer) for layer in layers]
        assert res.new_by_round[r, : len(sizes)].tolist() == sizes
        assert not res.new_by_round[r, len(sizes):].any()
        t_sizes = [sum(mask[v] for v in layer) for layer in layers]
        assert res.new_target_by_round[r, : len(sizes)].tolist() == t_sizes
        per_comm = np.bincount(g.community[active], minlength=g.n_communities)
        assert res.community_activated[r].tolist() == per_comm.tolist()


def test_max_rounds_truncates_like_the_reference():
    g = random_graph(5, n=40, m=160, directed=True, p_low=0.2, p_high=0.9)
    res = mv.simulate(g, [0, 1], n_runs=30, rng=3, max_rounds=2)
    mask = g.target_mask(None)
    for r in range(res.n_runs):
        layers = cascade(g, [0, 1], res.keys[r], mask, max_rounds=2)
        assert res.reach[r] == sum(len(x) for x in layers)
        assert res.rounds[r] <= 2


TINY = [
    # (edges, n_nodes, directed, probabilities, labels, seeds, target)
    ([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (1, 4)], 5, True, [0.5, 0.3, 0.2, 0.7, 0.4, 0.6], [0, 0, 1, 1, 1], [0], 1),
    ([(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)], 4, False, [0.3, 0.5, 0.2, 0.6, 0.4], [0, 1, 1, 0], [0], 1),
    ([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (2, 5), (5, 0)], 6, True, [0.9, 0.1, 0.5, 0.5, 0.35, 0.8, 0.25, 0.6],
     [0, 0, 0, 1, 1, 1], [0, 4], 1),
    ([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3)], 6, False, [0.2, 0.45, 0.3, 0.15, 0.5, 0.4, 0.35],
     [1, 1, 1, 0, 0, 0], [1], 0),
]


@pytest.mark.parametrize("case", range(len(TINY)))
def test_estimates_agree_with_exact_enumeration(case):
    edges, n, directed, p, labels, seeds, target = TINY[case]
    src, dst = zip(*edges)
    g = mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=labels, directed=directed, prob=p)
    assert g.n_arcs <= 16
    mask = g.target_mask(target)
    exact_reach, exact_hits = exact_expectations(g, seeds, mask)
    res = mv.simulate(g, seeds, n_runs=40000, target=target, rng=100 + case)
    for values, exact in ((res.reach, exact_reach), (res.target_activated, exact_hits)):
        se = values.std(ddof=1) / np.sqrt(values.size)
        assert abs(values.mean() - exact) < 4 * se, (values.mean(), exact, se)
    # and the estimate is informative: the SE is small against the exact value
    assert res.reach.std(ddof=1) / np.sqrt(res.n_runs) < 0.02 * exact_reach


@pytest.mark.parametrize("n,p", [(11, 0.3), (50, 0.07), (6, 0.9)])
def test_star_closed_form(n, p):
    g = mv.CommunityGraph.from_edges([0] * (n - 1), list(range(1, n)), prob=p)
    res = mv.simulate(g, [0], n_runs=20000, rng=n)
    expected = 1 + (n - 1) * p
    se = res.reach.std(ddof=1) / np.sqrt(res.n_runs)
    assert abs(res.reach.mean() - expected) < 4 * se
    assert res.rounds.max() <= 1


@pytest.mark.parametrize("length,p", [(10, 0.5), (30, 0.9), (5, 0.2)])
def test_path_closed_form(length, p):
    g = mv.CommunityGraph.from_edges(range(length - 1), range(1, length), prob=p)
    res = mv.simulate(g, [0], n_runs=20000, rng=length)
    expected = sum(p**i for i in range(length))
    se = res.reach.std(ddof=1) / np.sqrt(res.n_runs)
    assert abs(res.reach.mean() - expected) < 4 * se
    # the run's rounds are the path length it covered
    assert np.array_equal(res.rounds, res.reach - 1)


def test_p_zero_gives_exactly_the_seeds():
    g = mv.probabilities.uniform(random_graph(1, n=60, m=400, directed=True), 0.0)
    res = mv.simulate(g, [3, 9, 10], n_runs=200, rng=0)
    assert np.all(res.reach == 3)
    assert np.all(res.rounds == 0)


@pytest.mark.parametrize("directed", [True, False])
def test_p_one_gives_exactly_the_reachable_set(directed):
    g = mv.probabilities.uniform(random_graph(2, n=80, m=120, directed=directed, n_comm=3), 1.0)
    G = g.to_networkx()
    seeds = [0, 1]
    reachable = set(seeds)
    for s in seeds:
        reachable |= nx.descendants(G, s) if directed else nx.node_connected_component(G, s)
    res = mv.simulate(g, seeds, n_runs=50, target=2, rng=1)
    assert np.all(res.reach == len(reachable))
    in_target = sum(g.community[v] == 2 for v in reachable)
    assert np.all(res.target_activated == in_target)
    # the rounds are the BFS distances
    dist = nx.multi_source_dijkstra_path_length(G, seeds, weight=None)
    layer_sizes = np.bincount(list(dist.values()))
    assert res.new_by_round[0, : layer_sizes.size].tolist() == layer_sizes.tolist()


def test_long_cascades_keep_every_round():
    n = 300  # longer than the first per-round buffer; those runs are replayed wider
    g = mv.CommunityGraph.from_edges(range(n - 1), range(1, n), prob=1.0)
    res = mv.simulate(g, [0], n_runs=5, rng=0)
    assert res.new_by_round.shape == (5, n)
    assert np.all(res.new_by_round == 1)
    assert np.all(res.rounds == n - 1)


def test_same_rng_is_bit_identical_with_one_and_two_threads():
    g = random_graph(9, n=500, m=3000, directed=True, n_comm=4, p_low=0.0, p_high=0.3)
    a = mv.simulate(g, [0, 1, 2], n_runs=3000, target=2, rng=2024, n_threads=1)
    b = mv.simulate(g, [0, 1, 2], n_runs=3000, target=2, rng=2024, n_threads=2)
    for name in ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.reach.std() > 0  # the cascades really vary


def test_runs_do_not_depend_on_how_many_or_how_they_are_chunked():
    g = random_graph(4, n=200, m=1000, directed=False, p_low=0.0, p_high=0.2)
    full = mv.simulate(g, [0], n_runs=500, rng=7)
    prefix = mv.simulate(g, [0], n_runs=50, rng=7)
    chunked = mv.simulate(g, [0], n_runs=500, rng=7, chunk_size=33)
    assert np.array_equal(full.reach[:50], prefix.reach)
    assert np.array_equal(full.reach, chunked.reach)
    assert np.array_equal(full.new_by_round, chunked.new_by_round)


def test_a_run_replays_from_its_key():
    g = random_graph(6, n=100, m=500, directed=True, p_low=0.0, p_high=0.5)
    res = mv.simulate(g, [0, 4], n_runs=100, rng=11)
    for i in (0, 17, 99):
        one = mv.simulate(g, [0, 4], keys=res.keys[[i]])
        assert one.reach[0] == res.reach[i]
        assert np.array_equal(one.new_by_round[0], res.new_by_round[i, : one.new_by_round.shape[1]])


def test_generator_and_seed_sequence_rngs():
    g = random_graph(6, n=50, m=200, directed=True)
    a = mv.simulate(g, [0], n_runs=20, rng=np.random.SeedSequence(5))
    b = mv.simulate(g, [0], n_runs=20, rng=5)
    assert np.array_equal(a.keys, b.keys)
    c = mv.simulate(g, [0], n_runs=20, rng=np.random.default_rng(5))
    d = mv.simulate(g, [0], n_runs=20, rng=np.random.default_rng(5))
    assert np.array_equal(c.reach, d.reach)
    assert not np.array_equal(a.keys, c.keys)


def test_two_seed_sets_see_the_same_worlds():
    g = random_graph(8, n=80, m=400, directed=True, p_low=0.0, p_high=0.4)
    a = mv.simulate(g, [0], n_runs=300, rng=1)
    b = mv.simulate(g, [0, 5], n_runs=300, rng=1)
    assert np.array_equal(a.keys, b.keys)
    # same worlds: a superset of seeds never reaches fewer nodes in any run
    assert np.all(b.reach >= a.reach)
    for r in range(5):
        ref = cascade(g, [0, 5], b.keys[r], g.target_mask(None))
        assert b.reach[r] == sum(len(x) for x in ref)


@settings(deadline=None, max_examples=40)
@given(
    graph_seed=st.integers(0, 10**6),
    n=st.integers(2, 40),
    density=st.floats(0.5, 4.0),
    directed=st.booleans(),
    seeds=st.lists(st.integers(0, 39), min_size=1, max_size=5, unique=True),
    extra=st.integers(0, 39),
    rng=st.integers(0, 2**32),
)
def test_reach_bounds_and_monotone_in_seeds(graph_seed, n, density, directed, seeds, extra, rng):
    g = random_graph(graph_seed, n=n, m=int(density * n) + 1, directed=directed)
    seeds = sorted({s % n for s in seeds})
    res = mv.simulate(g, seeds, n_runs=25, rng=rng)
    assert np.all(res.reach >= len(seeds)) and np.all(res.reach <= n)
    assert np.all(res.target_activated == res.reach)  # target None = every node
    more = sorted(set(seeds) | {extra % n})
    res2 = mv.simulate(g, more, n_runs=25, rng=rng)
    assert np.all(res2.reach >= res.reach)
    assert np.all(res.new_by_round.sum(axis=1) == res.reach)


def test_target_forms_agree():
    g = random_graph(3, n=60, m=300, directed=True, n_comm=3)
    by_label = mv.simulate(g, [0], n_runs=200, target=2, rng=0)
    mask = g.community == 2
    by_mask = mv.simulate(g, [0], n_runs=200, target=mask, rng=0)
    by_index = mv.simulate(g, [0], n_runs=200, target=np.flatnonzero(mask), rng=0)
    for other in (by_mask, by_index):
        assert np.array_equal(by_label.target_activated, other.target_activated)
    assert by_label.target_size == int(mask.sum())
    assert np.allclose(by_label.penetration, by_label.target_activated / mask.sum())
    assert np.array_equal(by_label.spillover, by_label.reach - by_label.target_activated)


@pytest.mark.parametrize(
    "kwargs,exc,words",
    [
        (dict(seeds=[]), ValueError, "'seeds'"),
        (dict(seeds=[0, 0]), ValueError, "duplicates"),
        (dict(seeds=[99]), ValueError, "'seeds' must hold node indices in [0, 9]"),
        (dict(seeds=[-1]), ValueError, "'seeds'"),
        (dict(seeds=[0.5]), ValueError, "'seeds'"),
        (dict(seeds="0"), TypeError, "'seeds'"),
        (dict(seeds=[[0, 1]]), ValueError, "'seeds' must be 1-d"),
        (dict(n_runs=0), ValueError, "'n_runs' must be >= 1"),
        (dict(n_runs=-5), ValueError, "'n_runs'"),
        (dict(n_runs=2.5), TypeError, "'n_runs' must be an integer"),
        (dict(target="nope"), ValueError, "unknown community 'nope'"),
        (dict(target=np.zeros(10, dtype=bool)), ValueError, "'target' is empty"),
        (dict(target=np.ones(3, dtype=bool)), ValueError, "shape (10,)"),
        (dict(rng="abc"), TypeError, "'rng'"),
        (dict(rng=-3), ValueError, "'rng'"),
        (dict(max_rounds=-1), ValueError, "'max_rounds'"),
        (dict(backend="spark"), ValueError, "'backend'"),
        (dict(n_threads=0), ValueError, "'n_threads'"),
        (dict(chunk_size=0), ValueError, "'chunk_size'"),
        (dict(keys=[1.5]), ValueError, "'keys'"),
        (dict(keys=[1, 2], rng=3), ValueError, "either 'rng' or 'keys'"),
        (dict(backend="dask", n_threads=1), ValueError, "'n_threads' applies to backend='local'"),
        (dict(client="tcp://127.0.0.1:1"), ValueError, "'client' is only used with backend='dask'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, exc, words):
    g = mv.CommunityGraph.from_edges(range(9), range(1, 10), community=["a"] * 5 + ["b"] * 5)
    args = dict(seeds=[0], n_runs=10)
    args.update(kwargs)
    seeds = args.pop("seeds")
    with pytest.raises(exc) as info:
        mv.simulate(g, seeds, **args)
    assert words in str(info.value)


def test_graph_must_be_a_community_graph():
    with pytest.raises(TypeError, match="'graph' must be a microviral.CommunityGraph"):
        mv.simulate(nx.path_graph(3), [0])


def test_memory_guard_refuses_huge_requests_up_front():
    g = mv.CommunityGraph.from_edges([0], [1])
    with pytest.raises(MemoryError, match="would need about .* GiB"):
        mv.simulate(g, [0], n_runs=2**31 - 1)
