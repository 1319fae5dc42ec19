"""Coverage of every interval, by repetition against exact answers on tiny graphs.

Runs are independent, so one simulation of ``B * n`` runs split into ``B`` blocks of
``n`` gives ``B`` independent result sets of ``n`` runs each; the intervals of all
blocks are computed at once. Exact answers come from enumerating every live-edge
world. Seeds are fixed, so every figure here is deterministic; a coverage must lie
within 3 binomial standard errors of the nominal level (below: never; above: only
where the quantity is continuous enough for a 95% interval to be 95%).
"""

import itertools
import math

import numpy as np
import pytest

import microviral as mv
from microviral._rng import run_keys
from microviral._stats import mean_ci, proportion_ci, ratio_ci


def exact_worlds(graph, seeds, target_mask, theta):
    """Every live-edge world: (weight, reach, target activated, rounds, rounds to theta or NaN)."""
    p = graph.prob
    need = theta * target_mask.sum() - 1e-9
    out = []
    for bits in itertools.product((False, True), repeat=graph.n_arcs):
        live = np.array(bits)
        weight = float(np.prod(np.where(live, p, 1.0 - p)))
        if weight == 0.0:
            continue
        active = set(int(s) for s in seeds)
        frontier, rounds = sorted(active), 0
        hits = sum(bool(target_mask[v]) for v in active)
        first = 0.0 if hits >= need else math.nan
        while frontier:
            new = []
            for u in frontier:
                for e in range(graph.indptr[u], graph.indptr[u + 1]):
                    v = int(graph.indices[e])
                    if live[e] and v not in active:
                        active.add(v)
                        new.append(v)
            if new:
                rounds += 1
                hits += sum(bool(target_mask[v]) for v in new)
                if math.isnan(first) and hits >= need:
                    first = float(rounds)
            frontier = new
        out.append((weight, len(active), hits, rounds, first))
    return np.array(out)


def exact_answers(graph, seeds, target_mask, theta):
    w, reach, hits, rounds, first = exact_worlds(graph, seeds, target_mask, theta).T
    size, n = target_mask.sum(), graph.n_nodes
    ok = ~np.isnan(first)
    return {
        "reach": w @ reach,
        "target_activated": w @ hits,
        "penetration": w @ hits / size,
        "spillover": w @ (reach - hits),
        "rounds": w @ rounds,
        "spillover_share": w @ (reach - hits) / (w @ reach),
        "lift": (w @ hits / (w @ reach)) / (size / n),
        "p_microviral": w[ok].sum(),
        "rounds_to_theta": w[ok] @ first[ok] / w[ok].sum(),
    }


def blocks(graph, seeds, target, n_blocks, n_runs, rng, theta):
    res = mv.simulate(graph, seeds, n_runs=n_blocks * n_runs, target=target, rng=rng)
    per_run = {name: getattr(res, name).astype(float).reshape(n_blocks, n_runs)
               for name in ("reach", "target_activated", "penetration", "spillover", "rounds")}
    per_run["rounds_to_theta"] = res.rounds_to(theta).reshape(n_blocks, n_runs)
    return res, per_run


def intervals(res, per_run, theta, confidence=0.95):
    """(low, high) per block for every metric, by the same functions summary() uses."""
    bounds = res.bounds()
    out = {}
    for name in ("reach", "target_activated", "penetration", "spillover", "rounds", "rounds_to_theta"):
        _, _, lo, hi = mean_ci(per_run[name], confidence, low=bounds[name][0], high=bounds[name][1])
        out[name] = (lo, hi)
    hits = per_run["target_activated"] >= theta * res.target_size - 1e-9
    _, _, lo, hi = proportion_ci(hits.sum(axis=1), hits.shape[1], confidence)
    out["p_microviral"] = (lo, hi)
    size, n = res.target_size, res.n_nodes
    share, lift = [], []
    for reach, tgt, spill in zip(per_run["reach"], per_run["target_activated"], per_run["spillover"]):
        share.append(ratio_ci(spill, reach, confidence, low=0, high=0 if size == n else 1,
                              y_low=bounds["spillover"][0], y_high=bounds["spillover"][1],
                              x_low=bounds["reach"][0], x_high=bounds["reach"][1], share=True)[2:])
        lift.append(ratio_ci(tgt, reach, confidence, scale=n / size, low=1 if size == n else 0, high=1,
                             y_low=bounds["target_activated"][0], y_high=bounds["target_activated"][1],
                             x_low=bounds["reach"][0], x_high=bounds["reach"][1], share=True)[2:])
    out["spillover_share"] = tuple(np.array(share).T)
    out["lift"] = tuple(np.array(lift).T)
    return out


def coverage(lo, hi, truth):
    """Share of the intervals (those that exist) that hold ``truth``, and their number."""
    ok = ~np.isnan(lo)
    held = (lo[ok] <= truth + 1e-12) & (truth - 1e-12 <= hi[ok])
    return float(held.mean()), int(ok.sum())


def floor(confidence, n):
    return confidence - 3 * math.sqrt(confidence * (1 - confidence) / n)


def test_single_rare_arc_reach_covers():
    # issue 13: 0 -> 1 with p = 0.002, 300 runs; the normal interval covered 1.002 in 44% of repetitions
    g = mv.CommunityGraph.from_edges([0], [1], prob=0.002, community=["a", "b"])
    mask = g.target_mask("b")
    truth = exact_answers(g, [0], mask, 1.0)
    assert truth["reach"] == pytest.approx(1.002)
    res, per_run = blocks(g, [0], "b", 1000, 300, 1, theta=1.0)
    ivs = intervals(res, per_run, 1.0)
    assert np.mean(per_run["reach"].max(axis=1) == 1) > 0.5  # most blocks: every run the same
    for name in ("reach", "penetration", "target_activated", "p_microviral", "rounds", "spillover_share", "lift"):
        cov, n = coverage(*ivs[name], truth[name])
        assert cov >= floor(0.95, n), (name, cov)
    lo, hi = ivs["reach"]
    assert (hi > lo).all() and (lo >= 1).all() and (hi <= 2).all()  # never zero width, clipped to [1, 2]


def test_rounds_to_theta_rare_second_route_covers():
    # issue 13: arcs 0->1 .05, 0->2 .05, 2->1 .1, target {1}, theta = 1: the normal interval covered 76%
    g = mv.CommunityGraph.from_edges([0, 0, 2], [1, 2, 1], prob=[0.05, 0.05, 0.1], community=["a", "b", "a"])
    mask = g.target_mask("b")
    truth = exact_answers(g, [0], mask, 1.0)
    assert truth["rounds_to_theta"] == pytest.approx((0.05 + 2 * 0.95 * 0.05 * 0.1) / (0.05 + 0.95 * 0.005))
    res, per_run = blocks(g, [0], "b", 1000, 300, 2, theta=1.0)
    ivs = intervals(res, per_run, 1.0)
    for name, iv in ivs.items():
        cov, n = coverage(*iv, truth[name])
        assert n >= 990 and cov >= floor(0.95, n), (name, cov, n)


@pytest.mark.parametrize("n_runs", [10, 40, 200])
def test_every_interval_covers_on_a_small_graph(n_runs):
    # a 6-node graph with a target of 3: reach, rounds and the ratios take several values
    src, dst = [0, 0, 1, 1, 2, 3, 4, 2], [1, 2, 3, 4, 4, 5, 5, 5]
    p = [0.5, 0.3, 0.4, 0.6, 0.5, 0.7, 0.2, 0.1]
    g = mv.CommunityGraph.from_edges(src, dst, prob=p, community=list("aabbab"))
    mask = g.target_mask("b")
    theta = 2 / 3
    truth = exact_answers(g, [0], mask, theta)
    res, per_run = blocks(g, [0], "b", 2000, n_runs, 3 + n_runs, theta)
    ivs = intervals(res, per_run, theta)
    for name, iv in ivs.items():
        cov, n = coverage(*iv, truth[name])
        assert cov >= floor(0.95, n), (name, n_runs, cov)
        if n_runs == 200 and name in ("reach", "penetration", "target_activated", "spillover", "spillover_share",
                                      "lift"):
            assert cov <= 0.95 + 3 * math.sqrt(0.95 * 0.05 / n), (name, cov)  # not merely wide


def test_paired_differences_cover():
    src, dst = [0, 0, 1, 1, 2, 3, 4, 2], [1, 2, 3, 4, 4, 5, 5, 5]
    p = [0.5, 0.3, 0.4, 0.6, 0.5, 0.7, 0.2, 0.1]
    g = mv.CommunityGraph.from_edges(src, dst, prob=p, community=list("aabbab"))
    mask = g.target_mask("b")
    a, b = exact_answers(g, [0], mask, 0.5), exact_answers(g, [1], mask, 0.5)
    keys = run_keys(7, 1000 * 50)
    ra = mv.simulate(g, [0], keys=keys, target="b")
    rb = mv.simulate(g, [1], keys=keys, target="b")
    diffs = [_block_diff(ra, rb, slice(50 * i, 50 * (i + 1)), 0.5) for i in range(1000)]
    for name in ("penetration", "reach"):
        lows = np.array([d[f"{name}_diff_ci_low"] for d in diffs])
        highs = np.array([d[f"{name}_diff_ci_high"] for d in diffs])
        cov, n = coverage(lows, highs, a[name] - b[name])
        assert cov >= floor(0.95, n), (name, cov)


def _block_diff(ra, rb, part, theta):
    from microviral.comparison import _paired_differences
    from microviral.results import CascadeResult

    def cut(r):
        return CascadeResult(reach=r.reach[part], target_activated=r.target_activated[part], rounds=r.rounds[part],
                             new_by_round=r.new_by_round[part], new_target_by_round=r.new_target_by_round[part],
                             community_activated=None, keys=r.keys[part], seeds=r.seeds, target_mask=r.target_mask,
                             n_nodes=r.n_nodes)

    return _paired_differences(cut(ra), cut(rb), theta, 0.95)


def test_wilson_bounds_are_exact_at_the_ends():
    for n in (1, 7, 300, 10**6):
        assert proportion_ci(n, n)[3] == 1.0 and proportion_ci(0, n)[2] == 0.0
        p, se, lo, hi = proportion_ci(n, n)
        assert lo < 1.0 and se > 0
    g = mv.CommunityGraph.from_edges([0], [1], prob=1.0, community=["a", "b"])
    res = mv.simulate(g, [0], n_runs=300, target="b", rng=0)
    t = res.summary(theta=1.0).iloc[0]
    assert t["p_microviral_ci_high"] == 1.0 and t["p_microviral_mean"] == 1.0
    assert t["penetration_ci_high"] == 1.0 and t["penetration_ci_low"] < 1.0


def test_intervals_are_clipped_to_the_range():
    # rare activation: the normal interval of penetration would dip below 0
    g = mv.CommunityGraph.from_edges([0, 0], [1, 2], prob=0.01, community=["a", "b", "b"])
    res = mv.simulate(g, [0], n_runs=200, target="b", rng=4)
    assert 0 < res.target_activated.sum() < 5
    t = res.summary().iloc[0]
    assert 0.0 <= t["penetration_ci_low"] <= t["penetration_mean"] <= t["penetration_ci_high"] <= 1.0
    assert 1.0 <= t["reach_ci_low"] and t["reach_ci_high"] <= 3.0
    assert 0.0 <= t["spillover_share_ci_low"] and t["spillover_share_ci_high"] <= 1.0


def test_rr_estimate_honours_confidence_and_is_never_degenerate():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=0.5)
    narrow = mv.seeding.rr_estimate(g, [0], n_sets=5000, rng=3, confidence=0.8)
    wide = mv.seeding.rr_estimate(g, [0], n_sets=5000, rng=3, confidence=0.99)
    assert narrow[0] == wide[0] and narrow[1] == wide[1]
    assert wide[2] < narrow[2] < narrow[0] < narrow[3] < wide[3]
    # every RR set meets the seeds (p = 1): the estimate is |pool|, the interval ends exactly there
    full = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=1.0)
    est, se, lo, hi = mv.seeding.rr_estimate(full, [0], n_sets=1000, rng=0)
    assert est == 3.0 and hi == 3.0 and lo < 3.0 and se > 0
    est, se, lo, hi = mv.seeding.rr_estimate(mv.CommunityGraph.from_edges([0], [1], prob=0.0), [1], n_sets=1000,
                                             rng=0, target=None)
    assert lo < est < hi
    with pytest.raises(ValueError, match="'confidence'"):
        mv.seeding.rr_estimate(g, [0], confidence=2)


def test_rr_estimate_covers():
    g = mv.CommunityGraph.from_edges([0, 1, 0], [1, 2, 2], prob=[0.5, 0.5, 0.2])
    truth = exact_answers(g, [0], np.ones(3, bool), 1.0)["reach"]
    held = [lo <= truth <= hi for lo, hi in
            (mv.seeding.rr_estimate(g, [0], n_sets=300, rng=r)[2:] for r in range(300))]
    assert np.mean(held) >= floor(0.95, 300)


@pytest.mark.parametrize("call", ["summary", "p_microviral", "by_community", "compare", "rr_estimate", "plot"])
def test_confidence_is_checked_everywhere(call):
    g = mv.CommunityGraph.from_edges([0], [1], prob=0.5, community=["a", "b"])
    res = mv.simulate(g, [0], n_runs=10, target="b", rng=0)

    def attempt(conf):
        if call == "summary":
            res.summary(confidence=conf)
        elif call == "p_microviral":
            res.p_microviral(0.5, confidence=conf)
        elif call == "by_community":
            res.by_community(confidence=conf)
        elif call == "compare":
            mv.compare(g, ["degree"], 1, target="b", n_runs=10, rng=0, confidence=conf)
        elif call == "rr_estimate":
            mv.seeding.rr_estimate(g, [0], n_sets=10, rng=0, confidence=conf)
        else:
            import matplotlib

            matplotlib.use("Agg")
            mv.plot.penetration_over_rounds(res, confidence=conf)

    for bad in (2, 0, 1.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"'confidence' must be a float in \(0, 1\), e.g. 0.95. Got"):
            attempt(bad)
    for bad in (True, np.bool_(False), "0.95", None, [0.95]):
        with pytest.raises(TypeError, match="'confidence' must be a float in"):
            attempt(bad)
    attempt(np.float32(0.9))
