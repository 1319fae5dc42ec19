"""compare(): tidy table, common worlds (paired differences equal per-run differences), provenance,
rng handling, and bad input."""

import math

import numpy as np
import pandas as pd
import pytest

import microviral as mv
from microviral._rng import run_keys


def graph():
    gen = np.random.default_rng(0)
    n = 80
    src, dst = gen.integers(0, n, 300), gen.integers(0, n, 300)
    keep = src != dst
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, prob=0.15,
                                            community=np.where(np.arange(n) < 20, "niche", "rest"))


def test_table_shape_and_columns():
    g = graph()
    t = mv.compare(g, ["random", "degree", "degree_target"], k=[2, 4], target="niche", n_runs=300, rng=0)
    assert isinstance(t, pd.DataFrame) and len(t) == 6
    assert t[["strategy", "k"]].values.tolist() == [["random", 2], ["degree", 2], ["degree_target", 2],
                                                     ["random", 4], ["degree", 4], ["degree_target", 4]]
    for metric in ("reach", "penetration", "spillover", "spillover_share", "lift", "p_microviral",
                   "rounds_to_theta", "penetration_diff", "reach_diff", "rounds_to_theta_diff"):
        for col in ("mean", "se", "ci_low", "ci_high"):
            assert f"{metric}_{col}" in t.columns
    assert (t["selection_time_s"] >= 0).all()
    assert all(len(s) == k for s, k in zip(t["seeds"], t["k"]))
    assert (t["penetration_ci_low"] <= t["penetration_mean"]).all()
    assert (t["penetration_mean"] <= t["penetration_ci_high"]).all()
    assert t.attrs["graph_sha256"] == g.fingerprint()
    assert t.attrs["microviral_version"] == mv.__version__
    assert t.attrs["rng"]["kind"] == "SeedSequence" and t.attrs["rng"]["entropy"] == 0
    assert t.attrs["baseline"] == "random" and t.attrs["target_size"] == 20


def test_metrics_and_paired_differences_equal_simulate_on_common_keys():
    g = graph()
    t = mv.compare(g, ["degree", "degree_target"], k=3, target="niche", n_runs=500, rng=7, theta=0.2)
    keys = run_keys(np.random.SeedSequence(7).spawn(3)[0], 500)
    res = {}
    for _, row in t.iterrows():
        res[row["strategy"]] = r = mv.simulate(g, list(row["seeds"]), keys=keys, target="niche")
        s = r.summary(theta=0.2).iloc[0]
        for column in s.index:  # the same columns, the same values
            assert row[column] == pytest.approx(s[column], nan_ok=True), column
    diff = res["degree_target"].penetration - res["degree"].penetration
    row = t.set_index("strategy").loc["degree_target"]
    assert row["penetration_diff_mean"] == pytest.approx(diff.mean())
    assert row["penetration_diff_se"] == pytest.approx(diff.std(ddof=1) / math.sqrt(diff.size))
    rdiff = res["degree_target"].reach - res["degree"].reach
    assert row["reach_diff_mean"] == pytest.approx(rdiff.mean())
    base = t.set_index("strategy").loc["degree"]
    assert base["penetration_diff_mean"] == 0 and base["penetration_diff_se"] == 0


def test_paired_ci_is_narrower_than_unpaired():
    g = graph()
    t = mv.compare(g, ["degree", "degree_discount"], k=3, target="niche", n_runs=2000, rng=3)
    row = t.set_index("strategy").loc["degree_discount"]
    base = t.set_index("strategy").loc["degree"]
    if row["penetration_diff_se"] > 0:
        unpaired = math.hypot(row["penetration_se"], base["penetration_se"])
        assert row["penetration_diff_se"] < unpaired


def test_deterministic_and_rng_split():
    g = graph()
    a = mv.compare(g, ["random", "random_target"], k=[3, 5], target="niche", n_runs=200, rng=11)
    b = mv.compare(g, ["random", "random_target"], k=[3, 5], target="niche", n_runs=200, rng=11)
    pd.testing.assert_frame_equal(a.drop(columns="selection_time_s"), b.drop(columns="selection_time_s"))
    # each strategy gets the same child at every budget, an independent one from the other strategies
    children = np.random.SeedSequence(11).spawn(3)
    assert a["seeds"][0] == tuple(mv.seeding.random(g, 3, rng=children[1]).tolist())
    assert a["seeds"][3] == tuple(mv.seeding.random_target(g, 5, target="niche", rng=children[2]).tolist())
    c = mv.compare(g, ["random"], k=3, target="niche", n_runs=200, rng=12)
    assert c["seeds"][0] != a["seeds"][0] or c["reach_mean"][0] != a["reach_mean"][0]
    gen_table = mv.compare(g, ["random"], k=3, n_runs=50, rng=np.random.default_rng(5))
    assert "derived_entropy" in gen_table.attrs["rng"]


def test_callables_labels_options_and_baseline():
    g = graph()

    def first_nodes(graph, k, *, target=None, rng=None, offset=0):
        return np.arange(offset, offset + k)

    t = mv.compare(g, {"first": first_nodes, "dd": "degree_discount", "deg": "degree"}, k=2, n_runs=100, rng=0,
                   baseline="deg", strategy_options={"first": {"offset": 10}})
    assert t["strategy"].tolist() == ["first", "dd", "deg"]
    assert t["seeds"][0] == (10, 11)
    assert t.set_index("strategy").loc["deg", "reach_diff_mean"] == 0
    assert t.attrs["baseline"] == "deg"
    # target=None: penetration is the share of the whole graph reached
    assert np.allclose(t["penetration_mean"] * g.n_nodes, t["reach_mean"])


def test_dask_backend_matches_local():
    pytest.importorskip("dask.distributed")
    g = graph()
    local = mv.compare(g, ["degree", "random"], k=2, target="niche", n_runs=100, rng=2)
    with mv.distributed.client_context(processes=False, n_workers=1) as client:
        dask = mv.compare(g, ["degree", "random"], k=2, target="niche", n_runs=100, rng=2, backend="dask",
                          client=client, chunk_size=40)
    cols = [c for c in local.columns if c != "selection_time_s"]
    pd.testing.assert_frame_equal(local[cols], dask[cols])


# ---------------------------------------------------------------- bad input
def test_bad_input():
    g = graph()
    with pytest.raises(ValueError, match=r"Unknown strategy 'imn'.*Known strategies: \[.*'imm'"):
        mv.compare(g, ["imn"], k=2, n_runs=10)
    with pytest.raises(TypeError, match="'strategies'"):
        mv.compare(g, [3], k=2, n_runs=10)
    with pytest.raises(ValueError, match="at least one strategy"):
        mv.compare(g, [], k=2, n_runs=10)
    with pytest.raises(ValueError, match="distinct labels"):
        mv.compare(g, ["degree", "degree"], k=2, n_runs=10)
    with pytest.raises(ValueError, match="'k' must be >= 1"):
        mv.compare(g, ["degree"], k=0, n_runs=10)
    with pytest.raises(ValueError, match="'k' must be <= the number of nodes"):
        mv.compare(g, ["degree"], k=[2, 81], n_runs=10)
    with pytest.raises(ValueError, match="'k' must not repeat"):
        mv.compare(g, ["degree"], k=[2, 2], n_runs=10)
    with pytest.raises(ValueError, match="'k' must be an int or a non-empty list"):
        mv.compare(g, ["degree"], k=[], n_runs=10)
    with pytest.raises(ValueError, match="'n_runs' must be >= 1"):
        mv.compare(g, ["degree"], k=2, n_runs=0)
    with pytest.raises(ValueError, match="'baseline' must be one of"):
        mv.compare(g, ["degree"], k=2, n_runs=10, baseline="random")
    with pytest.raises(ValueError, match="'target' is empty"):
        mv.compare(g, ["degree"], k=2, n_runs=10, target=np.zeros(g.n_nodes, dtype=bool))
    with pytest.raises(ValueError, match="unknown community"):
        mv.compare(g, ["degree"], k=2, n_runs=10, target="nope")
    with pytest.raises(ValueError, match=r"size of the target \(20\)"):
        mv.compare(g, ["degree_target"], k=21, n_runs=10, target="niche")
    with pytest.raises(ValueError, match="'target' is required"):
        mv.compare(g, ["imm_target"], k=2, n_runs=10)
    with pytest.raises(ValueError, match="'strategy_options' has options for 'imm'"):
        mv.compare(g, ["degree"], k=2, n_runs=10, strategy_options={"imm": {}})
    with pytest.raises(ValueError, match="'backend' must be"):
        mv.compare(g, ["degree"], k=2, n_runs=10, backend="spark")
    with pytest.raises(ValueError, match="'theta' must be"):
        mv.compare(g, ["degree"], k=2, n_runs=10, theta=2)
    with pytest.raises(ValueError, match="returned 1 seeds for k=2"):
        mv.compare(g, [lambda graph, k, **kw: np.array([0])], k=2, n_runs=10)
    with pytest.raises(TypeError, match="'graph' must be a microviral.CommunityGraph"):
        mv.compare("graph", ["degree"], k=2, n_runs=10)
