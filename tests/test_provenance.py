"""Provenance replays: for every kind of rng, simulate -> JSON -> replay gives a bit-identical result; run keys
read back from JSON or CSV are accepted exactly."""

import csv
import json

import numpy as np
import pandas as pd
import pytest

import microviral as mv

G = mv.CommunityGraph.from_edges([0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 6], prob=0.6,
                                 community=list("aabbbcc"))


def _bit_generator(name, seed):
    return np.random.Generator(getattr(np.random, name)(seed))


def _advanced(rng):
    rng.integers(0, 10, size=7)  # a state that is not the seeded one
    return rng


def _spawned_parent():
    ss = np.random.SeedSequence(11)
    ss.spawn(3)  # n_children_spawned = 3: spawning again gives other children
    return ss


RNGS = {
    "None": lambda: None,
    "int": lambda: 7,
    "numpy int": lambda: np.uint64(2**64 - 1),
    "huge int": lambda: 2**200 + 12345,
    "SeedSequence": lambda: np.random.SeedSequence(5),
    "SeedSequence pool_size": lambda: np.random.SeedSequence(5, pool_size=8),
    "SeedSequence spawn_key": lambda: np.random.SeedSequence(5).spawn(4)[3],
    "SeedSequence list entropy": lambda: np.random.SeedSequence([1, 2**70, 3]),
    "SeedSequence array entropy": lambda: np.random.SeedSequence(np.array([9, 2**63], dtype=np.uint64)),
    "SeedSequence spawned before": _spawned_parent,
    "default_rng": lambda: np.random.default_rng(3),
    "Generator advanced": lambda: _advanced(np.random.default_rng(4)),
    "Generator of a spawned SeedSequence": lambda: np.random.default_rng(np.random.SeedSequence(8).spawn(2)[1]),
    **{f"Generator {name}": (lambda name=name: _advanced(_bit_generator(name, 5)))
       for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")},
}


def assert_same_result(a, b):
    for name in ("keys", "reach", "target_activated", "rounds", "new_by_round", "new_target_by_round",
                 "community_activated", "seeds", "target_mask"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None and y is None) or (x.dtype == y.dtype and np.array_equal(x, y)), name


def json_round_trip(data):
    text = json.dumps(data, allow_nan=False)
    rng_text = json.dumps(data.get("rng", data))
    assert "SeedSequence(" not in rng_text and "array(" not in rng_text and "'" not in rng_text  # data, not reprs
    return json.loads(text)


@pytest.mark.parametrize("kind", sorted(RNGS))
def test_every_kind_of_rng_replays_bit_for_bit_from_json(kind):
    res = mv.simulate(G, [0, 2], n_runs=300, target="c", rng=RNGS[kind](), max_rounds=4)
    prov = json_round_trip(res.provenance)
    assert prov == res.provenance  # nothing lost or changed by JSON
    again = mv.replay(G, prov)
    assert_same_result(again, res)
    # the lower-level recipe: the same call with the rebuilt rng
    alone = mv.simulate(G, [0, 2], n_runs=300, target="c", rng=mv.rng_from_record(prov["rng"]), max_rounds=4)
    assert_same_result(alone, res)


def test_rng_records_keep_every_part_of_a_seed_sequence():
    rec = mv.rng_record(np.random.SeedSequence([1, 2**70], spawn_key=(3, 4), pool_size=8, n_children_spawned=2))
    assert rec == {"kind": "SeedSequence", "entropy": [1, 2**70], "spawn_key": [3, 4], "pool_size": 8,
                   "n_children_spawned": 2}
    ss = mv.rng_from_record(json_round_trip(rec))
    assert ss.spawn(1)[0].spawn_key == (3, 4, 2)  # spawning continues where the original would
    fresh = mv.rng_record(None)
    assert isinstance(fresh["entropy"], int) and fresh["entropy"] > 0  # the entropy actually drawn
    gen = mv.rng_from_record(json_round_trip(mv.rng_record(np.random.default_rng(np.random.SeedSequence(1)))))
    assert gen.spawn(1)[0].integers(2**62) == np.random.default_rng(1).spawn(1)[0].integers(2**62)


def test_explicit_keys_replay_from_json():
    keys = [0, 1, 2**63 - 1, 2**63, 2**64 - 1, 12345678901234567891]
    res = mv.simulate(G, [0], keys=keys, target="b")
    prov = json_round_trip(res.provenance)
    assert prov["rng"] == {"kind": "keys", "keys": keys}
    assert_same_result(mv.replay(G, prov), res)
    with pytest.raises(ValueError, match="explicit run keys"):
        mv.rng_from_record(prov["rng"])


@pytest.mark.parametrize("kw", [dict(model="lt"), dict(per_node=True, attribution=True), dict(count_communities=False)])
def test_every_result_changing_option_replays(kw):
    g = G.with_prob(0.3)  # LT weights: in-weights sum to at most 1
    res = mv.simulate(g, [0, 2], n_runs=100, target="c", rng=2, **kw)
    again = mv.replay(g, json_round_trip(res.provenance))
    assert_same_result(again, res)
    assert again.model == res.model
    for name in ("node_activated", "seed_reach", "seed_target_activated"):
        a, b = getattr(res, name), getattr(again, name)
        assert (a is None and b is None) or np.array_equal(a, b), name
    if kw.get("per_node"):
        assert res.node_activated is not None and res.node_activated.sum() > 0  # the option took effect


def test_targets_of_every_form_replay():
    mask = np.zeros(G.n_nodes, bool)
    mask[[1, 5]] = True
    for target in (None, "b", 2, np.int64(1), [3, 6], mask):
        res = mv.simulate(G, [0], n_runs=50, target=target, rng=1, count_communities=False)
        assert_same_result(mv.replay(G, json_round_trip(res.provenance)), res)
    numeric = G.with_community([0, 0, 2, 2, 2, 5, 5])
    res = mv.simulate(numeric, [0], n_runs=50, target=5, rng=1)
    assert_same_result(mv.replay(numeric, json_round_trip(res.provenance)), res)


def test_replay_refuses_another_graph_and_bad_records():
    res = mv.simulate(G, [0], n_runs=20, rng=0)
    with pytest.raises(ValueError, match="not the graph"):
        mv.replay(G.with_prob(0.5), res.provenance)
    with pytest.raises(ValueError, match="'provenance' must be"):
        mv.replay(G, {"rng": res.provenance["rng"]})
    with pytest.raises(ValueError, match="must not set"):
        mv.replay(G, res.provenance, n_runs=5)
    for bad in ("SeedSequence(5)", {"kind": "nope"}, {"kind": "Generator", "bit_generator": "os", "state": {}},
                {"kind": "SeedSequence"}, {"kind": "Generator", "bit_generator": "PCG64", "state": {"x": 1}}):
        with pytest.raises(ValueError, match="'record'"):
            mv.rng_from_record(bad)


@pytest.mark.parametrize("kind", ["int", "SeedSequence pool_size", "Generator advanced", "None"])
def test_compare_replays_from_its_recorded_rng(kind):
    kw = dict(k=[1, 2], target="c", n_runs=100)
    table = mv.compare(G, ["random", "degree_target"], rng=RNGS[kind](), **kw)
    attrs = json_round_trip(table.attrs)
    again = mv.compare(G, ["random", "degree_target"], rng=mv.rng_from_record(attrs["rng"]), **kw)
    cols = [c for c in table.columns if c != "selection_time_s"]
    pd.testing.assert_frame_equal(again[cols], table[cols])


# ---------------------------------------------------------------- keys read back from JSON or CSV
STRADDLING = [5, 2**63 - 2, 2**63 + 7, 2**64 - 1]


def test_keys_straddling_2_63_are_accepted_exactly_from_json_lists_and_object_arrays():
    ref = mv.simulate(G, [0], keys=np.array(STRADDLING, dtype=np.uint64), target="c")
    loaded = json.loads(json.dumps({"keys": STRADDLING}))["keys"]
    for form in (loaded, tuple(loaded), np.array(loaded, dtype=object), pd.Series(loaded, dtype=object),
                 np.array(STRADDLING[:2], dtype=np.int64), [np.uint64(k) for k in STRADDLING], [3.0, 2.0**53]):
        got = mv.simulate(G, [0], keys=form, target="c")
        want = [int(k) for k in (form.tolist() if hasattr(form, "tolist") else form)]
        assert got.keys.dtype == np.uint64 and got.keys.tolist() == want
        n = len(want)
        if n == len(STRADDLING) and want == STRADDLING:
            assert_same_result(got, ref)


def test_keys_round_trip_through_the_cli_csv(tmp_path):
    from microviral.cli import main

    g = mv.probabilities.uniform(mv.datasets.load_karate(), 0.2)
    out = tmp_path / "o"
    code = main(["simulate", "--dataset", "karate", "--target", "Mr. Hi", "--seeds", "0,33", "--p", "0.2",
                 "--per-run", "--runs", "60", "--rng", "9", "--out", str(out)])
    assert code in (0, None)
    path = out / "simulate_runs.csv"
    runs = pd.read_csv(path)  # no dtype given: pandas picks int64, uint64 or object
    again = mv.simulate(g, g.index_of([0, 33]), keys=runs["key"].to_numpy(), target="Mr. Hi")
    assert np.array_equal(again.reach, runs["reach"].to_numpy())
    with open(path, newline="") as fh:  # the csv module gives text: converted by int(), as the message says
        keys = [int(row["key"]) for row in csv.DictReader(fh)]
    assert again.keys.tolist() == keys
    with pytest.raises(TypeError, match="int\\(text\\)"):
        mv.simulate(g, [0], keys=[str(k) for k in keys])


def test_keys_that_are_not_exact_integers_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="cannot hold a 64-bit key exactly"):
        mv.simulate(G, [0], keys=np.array(STRADDLING, dtype=np.float64))
    with pytest.raises(ValueError, match="cannot hold a 64-bit key exactly"):
        mv.simulate(G, [0], keys=[1, 2.5])
    for bad, err, msg in (([1, True], TypeError, "not bools"), ([-1, 2], ValueError, r"\[0, 2\*\*64\)"),
                          ([2**64], ValueError, r"\[0, 2\*\*64\)"), ([], ValueError, "non-empty"),
                          (np.array([-3, 4]), ValueError, "Got -3 at position 0"), ([[1, 2]], ValueError, "1-d"),
                          ([1, None], TypeError, "position 1"), (np.ma.masked_array([1, 2], mask=[0, 1]),
                                                                 ValueError, "masked"),
                          (np.array([1 + 0j]), TypeError, "complex"), ([float("nan")], ValueError, "exactly")):
        with pytest.raises(err, match=msg):
            mv.simulate(G, [0], keys=bad)


def test_keys_round_trip_through_to_frame_csv_and_json(tmp_path):
    res = mv.simulate(G, [0, 2], n_runs=200, target="c", rng=5)
    assert (res.keys >= 2**63).any() and (res.keys < 2**63).any()  # the keys straddle 2**63
    path = tmp_path / "runs.csv"
    res.to_frame().to_csv(path, index=False)
    for keys in (pd.read_csv(path)["key"], pd.read_csv(path, dtype={"key": "uint64"})["key"].to_numpy(),
                 pd.read_csv(path, dtype={"key": object})["key"].map(int),
                 json.loads(json.dumps(res.to_frame()["key"].tolist()))):
        again = mv.simulate(G, [0, 2], keys=keys, target="c")
        assert_same_result(again, res)
