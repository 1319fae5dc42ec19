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
    t = res.summary(theta=0.2).set_index("metric")
    R = res.n_runs
    assert t.loc["reach", "mean"] == pytest.approx(res.reach.mean())
    assert t.loc["reach", "se"] == pytest.approx(res.reach.std(ddof=1) / np.sqrt(R))
    assert t.loc["reach", "ci_high"] - t.loc["reach", "mean"] == pytest.approx(1.959964 * t.loc["reach", "se"], rel=1e-5)
    assert t.loc["penetration", "mean"] == pytest.approx(res.target_activated.mean() / 60)
    assert t.loc["spillover_share", "mean"] == pytest.approx(res.spillover.sum() / res.reach.sum())
    lift = (res.target_activated.sum() / res.reach.sum()) / (60 / 300)
    assert t.loc["lift", "mean"] == pytest.approx(lift)
    q = np.mean(res.target_activated >= 0.2 * 60)
    assert t.loc["p_microviral", "mean"] == pytest.approx(q)
    assert t.loc["p_microviral", "ci_low"] <= q <= t.loc["p_microviral", "ci_high"]
    assert 0 < q < 1  # the threshold is informative for this graph


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
    assert p["rng"]["entropy"] == "5"


def test_summary_rejects_bad_theta(res):
    with pytest.raises(ValueError, match="'theta'"):
        res.summary(theta=1.5)
    with pytest.raises(ValueError, match="'confidence'"):
        res.summary(confidence=1.0)
