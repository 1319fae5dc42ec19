import numpy as np
import pytest

import microviral as mv


@pytest.fixture
def g():
    return mv.CommunityGraph.from_edges([0, 0, 1, 2, 3, 3], [1, 2, 2, 3, 0, 2], community=["a", "a", "b", "b"])


def test_uniform(g):
    assert np.all(mv.probabilities.uniform(g, 0.3).prob == 0.3)
    assert np.all(g.prob == 0.1)  # the original is unchanged


def test_weighted_cascade_is_one_over_in_degree(g):
    wc = mv.probabilities.weighted_cascade(g)
    indeg = np.bincount(g.indices, minlength=g.n_nodes)
    assert np.allclose(wc.prob, 1 / indeg[g.indices])
    # the in-probabilities of every node with in-arcs sum to one
    sums = np.bincount(wc.indices, weights=wc.prob, minlength=g.n_nodes)
    assert np.allclose(sums[indeg > 0], 1.0)


def test_trivalency_draws_each_value_equally_often():
    big = mv.CommunityGraph.from_edges(np.arange(30000), (np.arange(30000) + 1) % 30000)
    p = mv.probabilities.trivalency(big, rng=3).prob
    counts = np.array([(p == v).sum() for v in (0.1, 0.01, 0.001)])
    assert counts.sum() == p.size
    # binomial counts: within 4 SE of n/3
    se = np.sqrt(p.size * (1 / 3) * (2 / 3))
    assert np.all(np.abs(counts - p.size / 3) < 4 * se)
    again = mv.probabilities.trivalency(big, rng=3).prob
    assert np.array_equal(p, again)


def test_resonance_in_and_out(g):
    r = mv.probabilities.resonance(g, "b", p_in=0.4, p_out=0.02)
    inside = g.community[g.indices] == 1
    assert np.all(r.prob[inside] == 0.4) and np.all(r.prob[~inside] == 0.02)


def test_by_community(g):
    r = mv.probabilities.per_community(g, {"a": 0.5, "b": 0.25})
    assert np.allclose(r.prob, np.where(g.community[g.indices] == 0, 0.5, 0.25))
    with pytest.raises(ValueError, match="Missing \\['b'\\]"):
        mv.probabilities.per_community(g, {"a": 0.5})


def test_from_array(g):
    vals = np.linspace(0, 1, g.n_arcs)
    assert np.array_equal(mv.probabilities.from_array(g, vals).prob, vals)


@pytest.mark.parametrize(
    "call,exc,words",
    [
        (lambda g: mv.probabilities.uniform(g, 1.2), ValueError, "'p' must be a finite number in [0, 1]. Got 1.2"),
        (lambda g: mv.probabilities.uniform(g, float("nan")), ValueError, "'p'"),
        (lambda g: mv.probabilities.uniform("g", 0.1), TypeError, "'graph' must be a microviral.CommunityGraph"),
        (lambda g: mv.probabilities.resonance(g, "zz", 0.1, 0.1), ValueError, "unknown community 'zz'"),
        (lambda g: mv.probabilities.resonance(g, "a", -0.1, 0.1), ValueError, "'p_in'"),
        (lambda g: mv.probabilities.from_array(g, [0.1]), ValueError, "'values' must have length 6"),
        (lambda g: mv.probabilities.trivalency(g, rng="x"), TypeError, "'rng'"),
    ],
)
def test_bad_input(g, call, exc, words):
    with pytest.raises(exc) as info:
        call(g)
    assert words in str(info.value)
