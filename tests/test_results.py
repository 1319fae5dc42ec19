"""CascadeResult's aggregates against their formulas in docs/metrics.md."""

import numpy as np
import pytest

import microviral as mv


@pytest.fixture(scope="module")
def res():
    gen = np.random.default_rng(0)
    n = 300
    src, dst = gen.integers(0, n, 1500), gen.integers(0, n, 1500)
    keep = src != dst
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, prob=0.2,
                                         community=np.where(np.arange(n) < 60, "niche", "rest"))
    return mv.simulate(g, [0, 100], n_runs=2000, target="niche", rng=5)


def test_summary_rows_follow_the_formulas(res):
    t = res.summary(theta=0.2).iloc[0]
    R = res.n_runs
    assert t["n_runs"] == R and t["target_size"] == 60
    assert t["reach_mean"] == pytest.approx(res.reach.mean())
    assert t["reach_se"] == pytest.approx(res.reach.std(ddof=1) / np.sqrt(R))
    # the skewness-corrected score interval of docs/metrics.md, written out
    x = res.reach.astype(float)
    d = x - x.mean()
    from scipy.stats import t as student

    c = student.ppf(0.975, R - 1) ** 2 / R
    gamma = (d**3).mean() / (d**2).mean()
    s2 = x.var(ddof=1)
    root = np.sqrt((c * gamma / 2) ** 2 + c * s2)
    assert t["reach_ci_high"] == pytest.approx(x.mean() + c * gamma / 2 + root, rel=1e-6)
    assert t["reach_ci_low"] == pytest.approx(x.mean() + c * gamma / 2 - root, rel=1e-6)
    assert t["reach_ci_high"] - t["reach_mean"] > t["reach_mean"] - t["reach_ci_low"]  # right-skewed reach
    assert t["penetration_mean"] == pytest.approx(res.target_activated.mean() / 60)
    assert t["spillover_share_mean"] == pytest.approx(res.spillover.sum() / res.reach.sum())
    lift = (res.target_activated.sum() / res.reach.sum()) / (60 / 300)
    assert t["lift_mean"] == pytest.approx(lift)
    q = np.mean(res.target_activated >= 0.2 * 60)
    assert t["p_microviral_mean"] == pytest.approx(q)
    assert t["p_microviral_ci_low"] <= q <= t["p_microviral_ci_high"]
    assert 0 < q < 1  # the threshold is informative for this graph
    assert t["rounds_to_theta_n"] == np.count_nonzero(~np.isnan(res.rounds_to(0.2)))
    assert t["rounds_to_theta_mean"] == pytest.approx(np.nanmean(res.rounds_to(0.2)))


def test_summary_columns_are_the_one_scheme(res):
    t = res.summary()
    assert len(t) == 1
    expected = ["n_runs", "target_size"]
    for metric in mv.results.METRICS:
        expected += [f"{metric}_{stat}" for stat in ("mean", "se", "ci_low", "ci_high")]
        if metric == "rounds_to_theta":
            expected.append("rounds_to_theta_n")
    assert list(t.columns) == expected
    view = mv.metric_view(t)
    assert view.loc["penetration", "ci_high"] == t["penetration_ci_high"].iloc[0]


def test_to_frame_has_one_row_per_run(res):
    frame = res.to_frame(theta=0.2)
    assert len(frame) == res.n_runs
    assert list(frame.columns) == ["run", "key", "reach", "target_activated", "penetration", "spillover", "rounds",
                                   "rounds_to_theta"]
    assert np.array_equal(frame["key"].to_numpy(), res.keys)
    assert np.array_equal(frame["penetration"].to_numpy(), res.penetration)
    assert np.array_equal(frame["rounds_to_theta"].to_numpy(), res.rounds_to(0.2), equal_nan=True)
    assert "rounds_to_theta" not in res.to_frame().columns


def test_rounds_to_theta_matches_cumulative_curves(res):
    curve = res.penetration_by_round()
    first = res.rounds_to(0.2)
    for r in range(50):
        hit = np.flatnonzero(curve[r] >= 0.2)
        if hit.size:
            assert first[r] == hit[0]
        else:
            assert np.isnan(first[r])
    assert np.allclose(curve[:, -1], res.penetration)
    assert np.array_equal(res.reach_by_round()[:, -1], res.reach)


def test_by_community_sums_to_reach(res):
    table = res.by_community()
    assert list(table["community"]) == ["niche", "rest"]
    assert table["activated_mean"].sum() == pytest.approx(res.reach.mean())
    assert table.set_index("community").loc["niche", "activated_mean"] == pytest.approx(res.target_activated.mean())


def test_provenance_is_recorded(res):
    p = res.provenance
    assert p["microviral_version"] == mv.__version__
    assert len(p["graph_sha256"]) == 64
    assert p["rng"]["entropy"] == 5


def test_summary_rejects_bad_theta(res):
    with pytest.raises(ValueError, match="'theta'"):
        res.summary(theta=1.5)
    for bad in (1.0, 0.0, 95, -0.5, float("nan")):
        with pytest.raises(ValueError, match="'confidence' must be a float in \\(0, 1\\)"):
            res.summary(confidence=bad)
    for bad in (True, "0.95", None):
        with pytest.raises(TypeError, match="'confidence'"):
            res.summary(confidence=bad)
