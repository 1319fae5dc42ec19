"""Adaptive run counts: equal to the fixed call with the same keys, and keeping their coverage.

Coverage is measured by repetition against exact answers (every live-edge world
enumerated): one long simulation is cut into disjoint streams of runs, one per
repetition (runs are independent), and the stopping rule of
:func:`microviral._adaptive.run_adaptive` is run on each stream.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from test_intervals import exact_answers, floor

import microviral as mv
from microviral._adaptive import run_adaptive
from microviral._stats import mean_ci

PER_RUN = ("keys", "reach", "target_activated", "rounds", "new_by_round", "new_target_by_round",
           "community_activated")


def six_nodes():
    return mv.CommunityGraph.from_edges([0, 0, 1, 1, 2, 3, 4, 2], [1, 2, 3, 4, 4, 5, 5, 5],
                                        prob=[0.5, 0.3, 0.4, 0.6, 0.5, 0.7, 0.2, 0.1], community=list("aabbab"))


@pytest.mark.parametrize("rng", [5, "generator", "seedsequence"])
def test_adaptive_result_equals_the_fixed_call(rng):
    def source():
        return {5: 5, "generator": np.random.default_rng(5), "seedsequence": np.random.SeedSequence(9)}[rng]

    g = six_nodes()
    res = mv.simulate(g, [0], target="b", n_runs=50, tol=0.01, rng=source())
    info = res.provenance["adaptive"]
    assert info["reached"] and len(info["stages"]) >= 2 and info["n_runs"] == res.n_runs == info["stages"][-1]
    fixed = mv.simulate(g, [0], target="b", n_runs=res.n_runs, rng=source())
    for name in PER_RUN:
        assert np.array_equal(getattr(res, name), getattr(fixed, name)), name
    s = res.summary().iloc[0]
    assert (s["penetration_ci_high"] - s["penetration_ci_low"]) / 2 <= 0.01
    assert info["half_width"] == pytest.approx((s["penetration_ci_high"] - s["penetration_ci_low"]) / 2)


def test_adaptive_with_anatomy_counts_equals_the_fixed_call():
    g = six_nodes()
    kw = dict(target="b", per_node=True, attribution=True)
    res = mv.simulate(g, [0, 3], n_runs=40, tol=0.02, rng=8, **kw)
    fixed = mv.simulate(g, [0, 3], n_runs=res.n_runs, rng=8, **kw)
    assert res.n_runs > 40
    for name in PER_RUN + ("node_activated", "seed_reach", "seed_target_activated"):
        assert np.array_equal(getattr(res, name), getattr(fixed, name)), name


def test_rtol_and_other_metrics():
    g = six_nodes()
    res = mv.simulate(g, [0], target="b", n_runs=100, rtol=0.02, metric="reach", rng=1)
    s = res.summary().iloc[0]
    assert (s["reach_ci_high"] - s["reach_ci_low"]) / 2 <= 0.02 * s["reach_mean"]
    both = mv.simulate(g, [0], target="b", n_runs=100, tol=1.0, rtol=0.02, metric="reach", rng=1)
    assert both.n_runs == 100  # tol=1 node is already met: either tolerance suffices


def test_max_runs_warns_with_the_width_reached():
    g = six_nodes()
    with pytest.warns(RuntimeWarning, match=r"stopped at max_runs=500: the 95% interval of the mean penetration "
                                            r"has half-width 0\.0\d+, wider than asked \(tol=0\.001\)"):
        res = mv.simulate(g, [0], target="b", n_runs=100, tol=0.001, max_runs=500, rng=2)
    assert res.n_runs == 500 and not res.provenance["adaptive"]["reached"]


def test_adaptive_arguments_are_checked():
    g = six_nodes()
    with pytest.raises(ValueError, match="'tol' must be a finite number in \\(0, inf\\]"):
        mv.simulate(g, [0], tol=0, rng=0)
    with pytest.raises(TypeError, match="'rtol'"):
        mv.simulate(g, [0], rtol="0.1", rng=0)
    with pytest.raises(ValueError, match="'metric' must be one of"):
        mv.simulate(g, [0], tol=0.1, metric="lift", rng=0)
    with pytest.raises(ValueError, match="'max_runs' must be >= 'n_runs'"):
        mv.simulate(g, [0], tol=0.1, n_runs=1000, max_runs=10, rng=0)
    with pytest.raises(ValueError, match="cannot be used with 'keys'"):
        mv.simulate(g, [0], tol=0.1, keys=[1, 2, 3])
    with pytest.raises(ValueError, match="'metric' must be 'penetration' or 'reach'"):
        mv.compare(g, ["degree", "random"], 1, tol=0.1, metric="rounds", rng=0)
    with pytest.raises(TypeError, match="'max_runs'"):
        mv.compare(g, ["degree", "random"], 1, tol=0.1, max_runs=1e5, rng=0)


def test_compare_tol_keeps_the_pairing_and_equals_the_fixed_call():
    g = six_nodes()
    kw = dict(k=[1, 2], target="b", rng=3)
    t = mv.compare(g, ["degree", "random", "degree_target"], n_runs=100, tol=0.02, **kw)
    info = t.attrs["adaptive"]
    assert info["reached"] and len(info["stages"]) >= 2
    assert (t["n_runs"] == info["n_runs"]).all()
    half = (t["penetration_diff_ci_high"] - t["penetration_diff_ci_low"]) / 2
    assert (half <= 0.02).all() and (half[t["strategy"] != "degree"] > 0).all()
    fixed = mv.compare(g, ["degree", "random", "degree_target"], n_runs=info["n_runs"], **kw)
    pd.testing.assert_frame_equal(t.drop(columns="selection_time_s"), fixed.drop(columns="selection_time_s"))


# ------------------------------------------------------------------------------------------- coverage
def adaptive_coverage(values, truth, low, high, *, n_first, tol=None, rtol=None, max_runs, n_reps):
    """Coverage of the final interval over ``n_reps`` disjoint streams of ``values``; mean runs used."""
    held, used = [], []
    for i in range(n_reps):
        stream = values[i * max_runs:(i + 1) * max_runs]
        state = {}

        def extend(n):
            state["n"] = n

        def measure():
            m, _, lo, hi = mean_ci(stream[:state["n"]], low=low, high=high)
            state["iv"] = (lo, hi)
            return [(m, lo, hi)]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run_adaptive(extend, measure, n_first=n_first, tol=tol, rtol=rtol, max_runs=max_runs)
        lo, hi = state["iv"]
        held.append(lo <= truth <= hi)
        used.append(state["n"])
    return float(np.mean(held)), float(np.mean(used))


def pool(graph, target, n, rng):
    return mv.simulate(graph, [0], n_runs=n, target=target, rng=rng, count_communities=False)


@pytest.mark.parametrize("tol, rtol, metric", [(0.02, None, "penetration"), (None, 0.03, "reach")])
def test_adaptive_coverage_on_a_small_graph(tol, rtol, metric):
    g = six_nodes()
    truth = exact_answers(g, [0], g.target_mask("b"), 0.5)[metric]
    n_reps, max_runs = 600, 3000
    res = pool(g, "b", n_reps * max_runs, 11)
    low, high = res.bounds()[metric]
    cov, used = adaptive_coverage(getattr(res, metric).astype(float), truth, low, high, n_first=50, tol=tol,
                                  rtol=rtol, max_runs=max_runs, n_reps=n_reps)
    assert cov >= floor(0.95, n_reps), (cov, used)
    assert used < max_runs  # it stopped on the tolerance, not on max_runs


def test_adaptive_coverage_for_a_rare_event():
    # 0 -> 1 with p = 0.002: the first stage of 100 runs usually sees no activation at all
    g = mv.CommunityGraph.from_edges([0], [1], prob=0.002, community=["a", "b"])
    n_reps, max_runs = 400, 6000
    res = pool(g, "b", n_reps * max_runs, 12)
    cov, used = adaptive_coverage(res.penetration, 0.002, 0.0, 1.0, n_first=100, tol=0.002, max_runs=max_runs,
                                  n_reps=n_reps)
    assert cov >= floor(0.95, n_reps), (cov, used)
    assert 1000 < used < max_runs
    assert math.isfinite(used)
