"""Generators: exact edge-count laws (4 SE), structure, determinism, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microviral as mv
from microviral import generators as gen_mod


def checked(g):
    """Rebuild through the validating constructor: CSR invariants, symmetry for undirected graphs."""
    return mv.CommunityGraph(g.indptr, g.indices, g.prob, g.community, community_names=g.community_names,
                             directed=g.directed)


def pair_counts(g):
    """Number of edges between each pair of blocks (arcs for directed, edges once for undirected)."""
    k = g.n_communities
    c = g.community
    src, dst = g.arc_sources, g.indices
    if not g.directed:
        keep = src < dst
        src, dst = src[keep], dst[keep]
        a, b = np.minimum(c[src], c[dst]), np.maximum(c[src], c[dst])
    else:
        a, b = c[src], c[dst]
    return np.bincount(a.astype(np.int64) * k + b, minlength=k * k).reshape(k, k)


def assert_simple(g):
    src, dst = g.arc_sources.astype(np.int64), g.indices.astype(np.int64)
    assert not np.any(src == dst), "self-loop"
    key = src * g.n_nodes + dst
    assert np.unique(key).size == key.size, "repeated arc"
    checked(g)


@pytest.mark.parametrize("directed", [False, True])
def test_sbm_block_pair_counts_follow_their_binomial_law(directed):
    sizes = [300, 200, 120]
    p = np.array([[0.05, 0.01, 0.002], [0.01, 0.08, 0.02], [0.002, 0.02, 0.3]])
    g = mv.generators.stochastic_block_model(sizes, p, directed=directed, rng=11)
    assert_simple(g)
    assert g.community_sizes.tolist() == sizes
    counts = pair_counts(g)
    for a in range(3):
        for b in range(3):
            if not directed and b < a:
                assert counts[a, b] == 0
                continue
            if a == b:
                n_pairs = sizes[a] * (sizes[a] - 1) // (1 if directed else 2)
            else:
                n_pairs = sizes[a] * sizes[b]
            mean = n_pairs * p[a, b]
            se = np.sqrt(n_pairs * p[a, b] * (1 - p[a, b]))
            assert abs(counts[a, b] - mean) <= 4 * se, (a, b, counts[a, b], mean, se)


def test_sbm_total_edge_count_over_many_graphs_within_4_se():
    # 40 graphs: the mean count of a 2-block SBM against its exact expectation
    sizes, p = [40, 25], [[0.2, 0.05], [0.05, 0.3]]
    n_pairs = np.array([40 * 39 / 2, 40 * 25, 25 * 24 / 2])
    dens = np.array([0.2, 0.05, 0.3])
    mean = (n_pairs * dens).sum()
    var = (n_pairs * dens * (1 - dens)).sum()
    seq = np.random.SeedSequence(5).spawn(40)
    edges = [mv.generators.stochastic_block_model(sizes, p, rng=s).n_edges for s in seq]
    assert abs(np.mean(edges) - mean) <= 4 * np.sqrt(var / 40)


def test_every_pair_is_equally_likely():
    # one diagonal undirected block of 6 nodes, p = 0.2, 3000 graphs: each of 15 pairs appears ~600 times
    seq = np.random.SeedSequence(1).spawn(3000)
    hits = np.zeros((6, 6))
    for s in seq:
        g = mv.generators.stochastic_block_model([6], [[0.2]], rng=s)
        np.add.at(hits, (g.arc_sources, g.indices), 1)
    upper = hits[np.triu_indices(6, 1)]
    se = np.sqrt(3000 * 0.2 * 0.8)
    assert np.all(np.abs(upper - 600) <= 4 * se), upper
    assert np.array_equal(hits, hits.T) and np.all(np.diag(hits) == 0)


@pytest.mark.parametrize("directed", [False, True])
def test_density_one_and_zero(directed):
    g = mv.generators.stochastic_block_model([5, 4], [[1, 0], [0, 1]], directed=directed, rng=0)
    assert g.n_arcs == 5 * 4 + 4 * 3
    assert_simple(g)
    full = mv.generators.stochastic_block_model([5, 4], np.ones((2, 2)), directed=directed, rng=0)
    assert full.n_arcs == 9 * 8
    assert mv.generators.stochastic_block_model([5, 4], np.zeros((2, 2)), rng=0).n_arcs == 0


def test_same_rng_same_graph_and_generator_accepted():
    a = mv.generators.stochastic_block_model([50, 50], [[0.1, 0.01], [0.01, 0.1]], rng=3)
    b = mv.generators.stochastic_block_model([50, 50], [[0.1, 0.01], [0.01, 0.1]], rng=3)
    c = mv.generators.stochastic_block_model([50, 50], [[0.1, 0.01], [0.01, 0.1]], rng=4)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    d = mv.generators.stochastic_block_model([50, 50], [[0.1, 0.01], [0.01, 0.1]], rng=np.random.default_rng(3))
    e = mv.generators.stochastic_block_model([50, 50], [[0.1, 0.01], [0.01, 0.1]], rng=np.random.default_rng(3))
    assert d.fingerprint() == e.fingerprint()
    n1 = mv.generators.niche_in_background(500, 30, n_bridges=10, rng=8)
    n2 = mv.generators.niche_in_background(500, 30, n_bridges=10, rng=8)
    assert n1.fingerprint() == n2.fingerprint()


def test_prob_and_names():
    g = mv.generators.stochastic_block_model([3, 3], np.ones((2, 2)), rng=0, prob=0.25,
                                             community_names=["x", "y"])
    assert np.all(g.prob == 0.25) and g.community_names == ("x", "y")
    assert mv.generators.planted_partition(2, 3, 1, 1, rng=0).community_names == (0, 1)


def test_planted_partition():
    g = mv.generators.planted_partition(4, 100, 0.1, 0.005, rng=2)
    assert_simple(g)
    counts = pair_counts(g)
    inside, outside = np.trace(counts), counts.sum() - np.trace(counts)
    n_in, n_out = 4 * 100 * 99 / 2, 6 * 100 * 100
    assert abs(inside - n_in * 0.1) <= 4 * np.sqrt(n_in * 0.1 * 0.9)
    assert abs(outside - n_out * 0.005) <= 4 * np.sqrt(n_out * 0.005 * 0.995)
    d = mv.generators.planted_partition(3, 30, 0.2, 0.0, directed=True, rng=1)
    assert d.directed and np.all(d.community[d.arc_sources] == d.community[d.indices])


@pytest.mark.parametrize("n_bridges", [0, 1, 37, 250])
def test_niche_in_background_structure(n_bridges):
    g = mv.generators.niche_in_background(3000, 100, niche_degree=15, background_degree=6, n_bridges=n_bridges,
                                          rng=n_bridges)
    assert_simple(g)
    assert g.community_names == ("background", "niche")
    assert g.community_sizes.tolist() == [3000, 100]
    assert np.all(g.community[:3000] == 0) and np.all(g.community[3000:] == 1)
    counts = pair_counts(g)
    assert counts[0, 1] == n_bridges
    assert g.info["n_bridges"] == n_bridges
    n_niche_pairs, p_niche = 100 * 99 / 2, 15 / 99
    n_bg_pairs, p_bg = 3000 * 2999 / 2, 6 / 2999
    assert abs(counts[1, 1] - n_niche_pairs * p_niche) <= 4 * np.sqrt(n_niche_pairs * p_niche * (1 - p_niche))
    assert abs(counts[0, 0] - n_bg_pairs * p_bg) <= 4 * np.sqrt(n_bg_pairs * p_bg * (1 - p_bg))


def test_niche_in_background_all_bridges():
    g = mv.generators.niche_in_background(10, 3, niche_degree=0, background_degree=0, n_bridges=30, rng=0)
    assert g.n_edges == 30 and pair_counts(g)[0, 1] == 30


def test_niche_defaults():
    g = mv.generators.niche_in_background(rng=0)
    assert g.n_nodes == 10_200 and pair_counts(g)[0, 1] == 200


def test_lfr_small_and_deterministic():
    g = mv.generators.lfr(250, 3, 1.5, 0.1, average_degree=5, min_community=20, rng=1, prob=0.2)
    h = mv.generators.lfr(250, 3, 1.5, 0.1, average_degree=5, min_community=20, rng=1, prob=0.2)
    assert g.fingerprint() == h.fingerprint()
    assert_simple(g)
    assert g.n_nodes == 250 and not g.directed and np.all(g.prob == 0.2)
    assert g.community_sizes.min() >= 20
    # communities are numbered in order of their lowest node
    firsts = [int(np.flatnonzero(g.community == c)[0]) for c in range(g.n_communities)]
    assert firsts == sorted(firsts)
    # mu = 0.1: most edges stay inside
    inside = np.mean(g.community[g.arc_sources] == g.community[g.indices])
    assert inside > 0.75


def test_lfr_failure_is_a_clear_value_error():
    with pytest.raises(ValueError, match="LFR generation failed for n=50"):
        mv.generators.lfr(50, 3, 1.5, 0.1, average_degree=5, min_community=40, max_community=45, rng=0,
                          max_iters=50)


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 400), st.data())
def test_sample_distinct_gives_m_distinct_values_in_range(n_pairs, data):
    m = data.draw(st.integers(0, n_pairs))
    out = gen_mod._sample_distinct(np.random.default_rng(data.draw(st.integers(0, 2**32))), n_pairs, m)
    assert out.size == m and np.unique(out).size == m
    assert m == 0 or (out.min() >= 0 and out.max() < n_pairs)


@pytest.mark.parametrize("m", [3, 8])   # the resampling branch and the complement branch
def test_sample_distinct_is_uniform(m):
    gen = np.random.default_rng(7)
    hits = np.zeros(10)
    reps = 4000
    for _ in range(reps):
        hits[gen_mod._sample_distinct(gen, 10, m)] += 1
    q = m / 10
    assert np.all(np.abs(hits - reps * q) <= 4 * np.sqrt(reps * q * (1 - q))), hits


def test_decode_triangle_exact():
    k = np.arange(0, 20_000, dtype=np.int64)
    i, j = gen_mod._decode_triangle(k)
    assert np.all(j < i) and np.all(j >= 0) and np.array_equal(i * (i - 1) // 2 + j, k)
    n = 2**31 - 2
    big = np.array([n * (n - 1) // 2 - 1, n * (n - 1) // 2 - 2, 10**17 + 12345], dtype=np.int64)
    i, j = gen_mod._decode_triangle(big)
    assert np.array_equal(i * (i - 1) // 2 + j, big) and np.all(j < i) and i.max() < n


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mv.generators.stochastic_block_model([3, 0], np.ones((2, 2))), ValueError, "'sizes' must be >= 1"),
        (lambda: mv.generators.stochastic_block_model([3, 2.5], np.ones((2, 2))), TypeError, "'sizes' must be an int"),
        (lambda: mv.generators.stochastic_block_model([], []), ValueError, "at least one block"),
        (lambda: mv.generators.stochastic_block_model(5, [[1]]), TypeError, "'sizes' must be a 1-d"),
        (lambda: mv.generators.stochastic_block_model([3, 3], [0.1, 0.1]), ValueError, "2 x 2"),
        (lambda: mv.generators.stochastic_block_model([3, 3], [[0.1, 2], [2, 0.1]]), ValueError, "in \\[0, 1\\]"),
        (lambda: mv.generators.stochastic_block_model([3], [[np.nan]]), ValueError, "finite"),
        (lambda: mv.generators.stochastic_block_model([3, 3], [[0.1, 0.2], [0.3, 0.1]]), ValueError, "symmetric"),
        (lambda: mv.generators.stochastic_block_model([3], [["a"]]), TypeError, "'p' must be"),
        (lambda: mv.generators.stochastic_block_model([3], [[0.1]], prob=1.2), ValueError, "'prob'"),
        (lambda: mv.generators.stochastic_block_model([3], [[0.1]], rng="x"), TypeError, "'rng'"),
        (lambda: mv.generators.stochastic_block_model([3], [[0.1]], directed=1), TypeError, "'directed'"),
        (lambda: mv.generators.stochastic_block_model([3, 3], np.ones((2, 2)), community_names=["a"]), ValueError,
         "'community_names'"),
        (lambda: mv.generators.planted_partition(0, 5, 0.1, 0.1), ValueError, "'n_communities'"),
        (lambda: mv.generators.planted_partition(2, 5, 1.1, 0.1), ValueError, "'p_in'"),
        (lambda: mv.generators.planted_partition(2, 5, 0.1, -0.1), ValueError, "'p_out'"),
        (lambda: mv.generators.niche_in_background(100, 1), ValueError, "'n_niche'"),
        (lambda: mv.generators.niche_in_background(100, 10, niche_degree=10), ValueError, "'niche_degree'"),
        (lambda: mv.generators.niche_in_background(100, 10, niche_degree=5, background_degree=-1), ValueError,
         "'background_degree'"),
        (lambda: mv.generators.niche_in_background(100, 10, niche_degree=5, n_bridges=1001), ValueError, "'n_bridges'"),
        (lambda: mv.generators.niche_in_background(100, 10, niche_degree=5, n_bridges=2.0), TypeError, "'n_bridges'"),
        (lambda: mv.generators.lfr(100, 3, 1.5, 0.1), ValueError, "Exactly one of 'average_degree'"),
        (lambda: mv.generators.lfr(100, 3, 1.5, 0.1, average_degree=5, min_degree=2), ValueError, "Exactly one"),
        (lambda: mv.generators.lfr(100, 1.0, 1.5, 0.1, average_degree=5), ValueError, "'tau1'"),
        (lambda: mv.generators.lfr(100, 3, 1.5, 1.5, average_degree=5), ValueError, "'mu'"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
