"""Input types at the public boundary: nothing passes by silently changing its meaning.

Each class is tested across every public entry that takes such an argument: bools are not integers nor
probabilities, masked arrays keep their mask or are refused, complex numbers keep their imaginary part or are
refused, object arrays hold exact numbers or are refused, floats that are not whole are not indices, NaN and
inf are not numbers, a scalar is not an array, and a name matches only a value of its own kind.
"""

import numpy as np
import pandas as pd
import pytest

import microviral as mv
from microviral import generators as gen

G = mv.CommunityGraph.from_edges([0, 0, 1, 2, 3], [1, 2, 2, 3, 4], prob=0.5, community=list("aabbb"))
NUM = mv.CommunityGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 4], prob=0.5, community=[0, 2, 2, 5, 5])

# Integer arguments: (argument name as the message must say it, call taking the value)
INT_ARGS = [
    ("n_runs", lambda v: mv.simulate(G, [0], n_runs=v, rng=0)),
    ("max_rounds", lambda v: mv.simulate(G, [0], n_runs=5, max_rounds=v, rng=0)),
    ("n_threads", lambda v: mv.simulate(G, [0], n_runs=5, n_threads=v, rng=0)),
    ("chunk_size", lambda v: mv.simulate(G, [0], n_runs=5, chunk_size=v, rng=0)),
    ("rng", lambda v: mv.simulate(G, [0], n_runs=5, rng=v)),
    ("seeds", lambda v: mv.simulate(G, v, n_runs=5, rng=0)),
    ("k", lambda v: mv.compare(G, ["degree"], k=v, n_runs=5, rng=0)),
    ("n_runs", lambda v: mv.compare(G, ["degree"], k=1, n_runs=v, rng=0)),
    ("n_runs", lambda v: mv.seeding.celf(G, 1, n_runs=v, rng=0)),
    ("n_nodes", lambda v: mv.CommunityGraph.from_edges([0], [1], n_nodes=v)),
    ("n_communities", lambda v: gen.planted_partition(v, 5, 0.5, 0.1, rng=0)),
    ("community_size", lambda v: gen.planted_partition(2, v, 0.5, 0.1, rng=0)),
    ("sizes", lambda v: gen.stochastic_block_model([5, v], [[0.5, 0.1], [0.1, 0.5]], rng=0)),
    ("n_niche", lambda v: gen.niche_in_background(50, v, niche_degree=2, background_degree=2, n_bridges=2, rng=0)),
    ("n", lambda v: gen.lfr(v, 3.0, 1.5, 0.1, average_degree=5, min_community=20, rng=0)),
    ("rng", lambda v: gen.planted_partition(2, 5, 0.5, 0.1, rng=v)),
    ("rng", lambda v: mv.probabilities.trivalency(G, rng=v)),
    ("rng", lambda v: mv.seeding.random(G, 1, rng=v)),
]
INT_ARGS += [("k", lambda v, name=name: mv.seeding.get_strategy(name)(G, v, target="b", rng=0))
             for name in sorted(mv.seeding.STRATEGIES)]
NOT_INTS = [True, np.bool_(False), 2.0, np.float64(2.0), 2 + 0j, np.complex128(2), "2", np.array([2]), np.nan]


def _int_cases():
    # An array is a documented form of seeds and of compare's budgets: those pairs are not refusals.
    for i, (name, call) in enumerate(INT_ARGS):
        for value in NOT_INTS:
            if isinstance(value, np.ndarray) and (name == "seeds" or "compare" in call.__code__.co_names):
                continue
            yield pytest.param(name, call, value, id=f"{i}-{name}-{value!r}")


@pytest.mark.parametrize("name, call, value", list(_int_cases()))
def test_integer_arguments_refuse_bools_floats_complex_strings_arrays(name, call, value):
    with pytest.raises((TypeError, ValueError), match=f"'{name}'"):
        call(value)


PROB_ARGS = [
    ("prob", lambda v: mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=v)),
    ("prob", lambda v: mv.CommunityGraph([0, 1, 1], [1], prob=v)),
    ("prob", lambda v: G.with_prob(v)),
    ("p", lambda v: mv.probabilities.uniform(G, v)),
    ("p_in", lambda v: mv.probabilities.resonance(G, "b", v, 0.1)),
    ("theta", lambda v: mv.compare(G, ["degree"], k=1, n_runs=5, rng=0, theta=v)),
    ("eps", lambda v: mv.seeding.imm(G, 1, eps=v, rng=0)),
    ("p_in", lambda v: gen.planted_partition(2, 5, v, 0.1, rng=0)),
    ("prob", lambda v: gen.planted_partition(2, 5, 0.5, 0.1, rng=0, prob=v)),
    ("prob", lambda v: mv.datasets.load_karate(prob=v)),
    ("default_prob", lambda v: mv.CommunityGraph.from_networkx(__import__("networkx").path_graph(3),
                                                               community=None, default_prob=v)),
]
NOT_PROBS = [True, np.bool_(True), 0.5 + 0j, np.complex128(0.5), "0.5", np.nan, np.inf, -0.1, 1.5, None]


@pytest.mark.parametrize("value", NOT_PROBS, ids=repr)
@pytest.mark.parametrize("name, call", PROB_ARGS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(PROB_ARGS)])
def test_probability_arguments_refuse_bools_complex_strings_nan(name, call, value):
    try:
        call(value)
    except (TypeError, ValueError) as exc:
        assert f"'{name}" in str(exc) or name in str(exc)
    else:
        # None is the documented default of a graph's 'prob' (0.1): the only accepted value here
        assert value is None and name in ("prob", "default_prob"), f"{name}={value!r} was accepted"


def _masked(values, mask):
    return np.ma.masked_array(values, mask=mask)


# Array arguments of numbers: (name, call, a valid value of length 2 or more)
ARRAY_ARGS = [
    ("seeds", lambda v: mv.simulate(G, v, n_runs=5, rng=0), [0, 1]),
    ("target", lambda v: mv.simulate(G, [0], n_runs=5, target=v, rng=0), [3, 4]),
    ("src", lambda v: mv.CommunityGraph.from_edges(v, [1, 2], n_nodes=3), [0, 1]),
    ("dst", lambda v: mv.CommunityGraph.from_edges([0, 1], v, n_nodes=3), [1, 2]),
    ("prob", lambda v: mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=v), [0.5, 0.25]),
    ("values", lambda v: mv.probabilities.from_array(G, v), [0.5] * G.n_arcs),
    ("values", lambda v: mv.probabilities.trivalency(G, values=v, rng=0), [0.5, 0.25]),
    ("p", lambda v: mv.probabilities.per_community(G, v), [0.5, 0.25]),
    ("community", lambda v: mv.CommunityGraph.from_edges([0], [1], community=v), [0, 1]),
    ("node_ids", lambda v: mv.CommunityGraph.from_edges([0], [1], node_ids=v), [7, 9]),
    ("sizes", lambda v: gen.stochastic_block_model(v, [[0.5, 0.1], [0.1, 0.5]], rng=0), [5, 6]),
]

BAD_ARRAYS = {
    "masked": lambda ok: _masked(np.asarray(ok), [False] + [True] * (len(ok) - 1)),
    "complex": lambda ok: np.asarray(ok) + 1j,
    "bool in list": lambda ok: [True] + list(ok[1:]),
    "numpy bool in list": lambda ok: [np.bool_(True)] + list(ok[1:]),
    "object mixed": lambda ok: np.array(["a"] + list(ok[1:]), dtype=object),
    "pandas boolean": lambda ok: pd.Series([True] + [False] * (len(ok) - 1), dtype="boolean"),
    "pandas Int64 with NA": lambda ok: pd.Series([1] + [None] * (len(ok) - 1), dtype="Int64"),
    "nan": lambda ok: [np.nan] + list(ok[1:]),
    "2-d": lambda ok: np.asarray(ok)[None, :],
}


def _array_cases():
    # Labels and ids may be bools, strings or other objects (their own tests cover them): those pairs are valid.
    for i, (name, call, ok) in enumerate(ARRAY_ARGS):
        for kind in sorted(BAD_ARRAYS):
            if name in ("community", "node_ids") and kind in ("object mixed", "nan", "pandas Int64 with NA",
                                                              "pandas boolean"):
                continue
            yield pytest.param(name, call, ok, kind, id=f"{i}-{name}-{kind}")


@pytest.mark.parametrize("name, call, ok, kind", list(_array_cases()))
def test_array_arguments_refuse_what_numpy_would_silently_change(name, call, ok, kind):
    call(ok)  # the valid form is accepted
    bad = BAD_ARRAYS[kind](ok)
    with pytest.raises((TypeError, ValueError), match=f"'{name}"):
        call(bad)


@pytest.mark.parametrize("name, call, ok", ARRAY_ARGS, ids=[f"{i}-{n}" for i, (n, _, _) in enumerate(ARRAY_ARGS)])
def test_array_arguments_honour_the_one_obvious_meaning(name, call, ok):
    """A masked array with nothing masked, an object array of numbers and a pandas Series mean their values."""
    forms = [_masked(np.asarray(ok), False), np.asarray(ok, dtype=object), pd.Series(ok)]
    if all(float(x).is_integer() for x in ok):
        forms.append(pd.Series(ok, dtype="Int64"))
    expected = call(ok)
    for form in forms:
        got = call(form)
        if isinstance(expected, mv.CascadeResult):
            assert np.array_equal(got.reach, expected.reach) and np.array_equal(got.target_mask, expected.target_mask)
        elif isinstance(expected, mv.CommunityGraph):
            assert got.fingerprint() == expected.fingerprint(), type(form)


def test_non_integral_floats_are_not_indices():
    for call, name in ((lambda v: mv.simulate(G, v, n_runs=5, rng=0), "seeds"),
                       (lambda v: mv.CommunityGraph.from_edges(v, [1, 2]), "src"),
                       (lambda v: mv.simulate(G, [0], target=v, n_runs=5, rng=0), "target")):
        for bad in ([0.5, 1.0], np.array([0.0, 1.5]), [np.inf, 1.0], [2**70, 1]):
            with pytest.raises(ValueError, match=f"'{name}'"):
                call(bad)
        # whole floats are the indices they spell
        call([0.0, 1.0])


def test_a_scalar_is_not_an_array_and_an_array_is_not_a_scalar():
    with pytest.raises(TypeError, match="'prob'"):
        mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=True)
    with pytest.raises((TypeError, ValueError), match="'prob'"):
        mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=np.array([[0.5, 0.5]]))
    with pytest.raises(TypeError, match="'p'"):
        mv.probabilities.uniform(G, np.array([0.5]))
    with pytest.raises((TypeError, ValueError), match="'src'"):
        mv.CommunityGraph.from_edges(np.array(0), [1])


def test_stochastic_block_model_densities_refuse_complex_masked_bools():
    ok = [[0.5, 0.1], [0.1, 0.5]]
    a = gen.stochastic_block_model([5, 5], ok, rng=0)
    assert gen.stochastic_block_model([5, 5], np.array(ok, dtype=object), rng=0).fingerprint() == a.fingerprint()
    assert gen.stochastic_block_model([5, 5], np.ma.masked_array(ok), rng=0).fingerprint() == a.fingerprint()
    for bad in (np.array(ok) + 0.5j, np.ma.masked_array(ok, mask=[[0, 1], [1, 0]]), [[True, 0.1], [0.1, True]],
                np.ones((2, 2), dtype=bool), [["a", 0.1], [0.1, 0.5]]):
        with pytest.raises((TypeError, ValueError), match="'p'"):
            gen.stochastic_block_model([5, 5], bad, rng=0)


def test_a_community_name_matches_only_a_value_of_its_own_kind():
    # names {0, 2, 5}: an integer is a name, never a position
    assert NUM.target_mask(2).tolist() == [False, True, True, False, False]
    with pytest.raises(ValueError, match=r"unknown community 1 \(the community names are numbers"):
        NUM.target_mask(1)
    for bad in (True, np.bool_(True), 2.0, np.float64(2.0), 2 + 0j):
        with pytest.raises(ValueError, match="'target': unknown community"):
            NUM.target_mask(bad)
        with pytest.raises(ValueError, match="'target': unknown community"):
            mv.simulate(NUM, [0], n_runs=5, target=bad, rng=0)
    # string names: an integer is a position, as documented
    assert G.target_mask(1).tolist() == G.target_mask("b").tolist()
    with pytest.raises(ValueError, match="unknown community True"):
        G.target_mask(True)
    # names that are bools match bools only
    gb = mv.CommunityGraph.from_edges([0], [1], community=[True, False])
    assert gb.target_mask(True).tolist() == [True, False]
    with pytest.raises(ValueError, match="unknown community 1"):
        gb.target_mask(1)
    with pytest.raises(ValueError, match=r"'p': unknown community"):
        mv.probabilities.per_community(NUM, {1: 0.5})


def test_node_ids_match_only_ids_of_their_own_kind():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], node_ids=[1, 0, 5])
    assert g.index_of([5, 1]).tolist() == [2, 0]
    for bad in (True, 1.0, np.float64(5.0)):
        with pytest.raises(ValueError, match="'ids': node id"):
            g.index_of(bad)
        with pytest.raises(ValueError, match="'ids': node id"):
            g.index_of([bad])


def test_bools_mixed_into_labels_are_not_merged_with_numbers():
    with pytest.raises(TypeError, match="'community'"):
        mv.CommunityGraph.from_edges([0, 1], [1, 2], community=[1, True, 0])


# ---------------------------------------------------------------- one name, one meaning for strategies
STRATEGY_OPTIONS = {"celf": {"n_runs": 10}, "celf_target": {"n_runs": 10}, "celf_reach": {"n_runs": 10}}
NICHE = mv.CommunityGraph.from_edges([0, 0, 0, 4, 4], [1, 2, 3, 5, 6], prob=0.9, community=list("aaaabbb"))


@pytest.mark.parametrize("name", sorted(mv.seeding.STRATEGIES))
def test_a_strategy_name_means_one_thing_however_it_is_called(name):
    """Registry, direct call and compare give the same seeds for the same arguments."""
    direct = getattr(mv.seeding, name)
    assert mv.seeding.get_strategy(name) is direct and direct.__name__ == name
    opts = STRATEGY_OPTIONS.get(name, {})
    for target in ("b", None) if not name.endswith("_target") and "insiders" not in name else ("b",):
        via_registry = mv.seeding.get_strategy(name)(NICHE, 2, target=target, rng=0, **opts)
        assert via_registry.tolist() == direct(NICHE, 2, target=target, rng=0, **opts).tolist()
        # compare gives strategy i the child 1 + i of the rng's SeedSequence
        table = mv.compare(NICHE, [name], k=2, target=target, n_runs=5, rng=3,
                           strategy_options={name: opts} if opts else None)
        child = np.random.SeedSequence(3).spawn(2)[1]
        assert list(table["seeds"][0]) == direct(NICHE, 2, target=target, rng=child, **opts).tolist()


@pytest.mark.parametrize("name", ["imm", "celf"])
def test_imm_and_celf_honour_the_target_and_reach_variants_ignore_it(name):
    opts = STRATEGY_OPTIONS.get(name, {})
    get = mv.seeding.get_strategy
    assert get(name)(NICHE, 1, target="b", rng=0, **opts).tolist() == [4]
    assert get(name + "_target")(NICHE, 1, target="b", rng=0, **opts).tolist() == [4]
    assert get(name)(NICHE, 1, rng=0, **opts).tolist() == [0]
    assert get(name + "_reach")(NICHE, 1, target="b", rng=0, **opts).tolist() == [0]
    table = mv.compare(NICHE, [name, name + "_reach"], k=1, target="b", n_runs=50, rng=0,
                       strategy_options={name: opts, name + "_reach": opts} if opts else None)
    assert [list(s) for s in table["seeds"]] == [[4], [0]]


def test_from_scipy_reads_only_real_values_as_probabilities():
    import scipy.sparse as sp

    def matrix(values):
        return sp.csr_array((np.asarray(values), ([0, 1], [1, 2])), shape=(3, 3))

    ok = mv.CommunityGraph.from_scipy(matrix([0.5, 0.25]), prob="data")
    assert ok.prob.tolist() == [0.5, 0.25]
    for bad in ([0.5 + 0.5j, 0.25 + 0j], [True, True]):
        with pytest.raises(TypeError, match="'matrix' values must be real numbers"):
            mv.CommunityGraph.from_scipy(matrix(bad), prob="data")
    # structure alone: any nonzero value, bool or complex, is an arc with the given probability
    assert mv.CommunityGraph.from_scipy(matrix([True, True]), prob=0.3).prob.tolist() == [0.3, 0.3]


@pytest.mark.parametrize("name", sorted(mv.seeding.STRATEGIES))
def test_every_strategy_refuses_a_bad_target_or_rng_even_when_it_ignores_them(name):
    opts = STRATEGY_OPTIONS.get(name, {})
    for bad in ("nope", True, 1 + 0j, np.ma.masked_array([1, 2], mask=[0, 1])):
        with pytest.raises((TypeError, ValueError), match="'target'"):
            mv.seeding.get_strategy(name)(NICHE, 1, target=bad, rng=0, **opts)
    for bad in ("x", True, 1.5, -1):
        with pytest.raises((TypeError, ValueError), match="'rng'"):
            mv.seeding.get_strategy(name)(NICHE, 1, target="b", rng=bad, **opts)


def test_option_arguments_name_themselves():
    for bad in (True, 1 + 0j, "x", 0.0, np.nan):
        with pytest.raises((TypeError, ValueError), match="'tol'"):
            mv.seeding.heuristics.pagerank_scores(G, tol=bad)
    for bad in (True, 3, ["a"], [["a"], ["b"]]):
        with pytest.raises((TypeError, ValueError), match="'community_names'"):
            gen.stochastic_block_model([5, 5], [[0.5, 0.1], [0.1, 0.5]], community_names=bad, rng=0)


def test_numbers_mixed_with_strings_keep_their_kind():
    """numpy turns [1, "1"] into ["1", "1"]: labels and ids would merge or change kind."""
    with pytest.raises(TypeError, match="'community'"):
        mv.CommunityGraph.from_edges([0], [1], community=[1, "1"])
    g = mv.CommunityGraph.from_edges([0], [1], node_ids=[1, "1"])
    assert g.index_of(1) == 0 and g.index_of("1") == 1
    g = mv.CommunityGraph.from_edges([0], [1], node_ids=[2, "x"])
    assert g.index_of([2, "x"]).tolist() == [0, 1]
    with pytest.raises(ValueError, match="'ids': node id '2'"):
        g.index_of("2")
    with pytest.raises(TypeError, match="'seeds' must hold integers"):
        mv.simulate(G, [0, "1"], n_runs=5, rng=0)


@pytest.mark.parametrize("name", ["imm", "imm_reach", "celf", "celf_reach", "degree_target"])
def test_the_command_line_gives_a_strategy_name_the_same_meaning(name, tmp_path):
    import json

    from microviral.cli import main

    out = tmp_path / "o"
    code = main(["simulate", "--dataset", "karate", "--target", "Officer", "--strategy", name, "--k", "2",
                 "--p", "0.2", "--runs", "5", "--rng", "9", "--out", str(out)])
    assert code in (0, None)
    picked = json.loads((out / "simulate.json").read_text())["seeds"]
    g = mv.probabilities.uniform(mv.datasets.load_karate(), 0.2)
    pick_rng = np.random.SeedSequence(9).spawn(3)[1]  # the command line's seeding stream
    direct = getattr(mv.seeding, name)(g, 2, target="Officer", rng=pick_rng)
    assert picked == g.node_ids[direct].tolist()
