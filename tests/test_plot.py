"""Plots: each returns the Axes it drew on, draws one line/band per strategy or result, rejects bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import microviral as mv  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 5, 5], prob=0.5, community=list("aaabbb"))
    table = mv.compare(g, ["random", "degree", "degree_target"], k=[1, 2, 3], target="b", n_runs=200, rng=0)
    results = {"0": mv.simulate(g, [0], n_runs=200, target="b", rng=1),
               "3": mv.simulate(g, [3], n_runs=200, target="b", rng=1)}
    yield g, table, results
    plt.close("all")


def test_penetration_vs_budget(setup):
    _, table, _ = setup
    fig, ax = plt.subplots()
    out = mv.plot.penetration_vs_budget(table, ax=ax)
    assert out is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["random", "degree", "degree_target"]
    row = table[table.strategy == "degree"].sort_values("k")
    assert np.allclose(lines[1].get_ydata(), row["penetration_mean"])
    assert np.allclose(lines[1].get_xdata(), [1, 2, 3])
    assert len(ax.collections) == 3  # one CI band per strategy
    band = ax.collections[1].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(row["penetration_ci_low"].min())
    assert band.max() == pytest.approx(row["penetration_ci_high"].max())
    reach_ax = mv.plot.penetration_vs_budget(table, metric="reach")
    assert reach_ax is not ax and reach_ax.get_ylabel() == "reach"


def test_penetration_vs_reach_table_and_results(setup):
    _, table, results = setup
    ax = mv.plot.penetration_vs_reach(table)
    assert ax.get_xlabel() == "reach (activated nodes)"
    assert len(ax.containers) == 3  # one errorbar container per strategy
    ax2 = mv.plot.penetration_vs_reach(results)
    assert len(ax2.collections) >= 2
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["0", "3"]
    ax3 = mv.plot.penetration_vs_reach(results["0"])
    x = ax3.containers[0].lines[0].get_xdata()
    assert x[0] == pytest.approx(results["0"].reach.mean())


def test_penetration_over_rounds(setup):
    _, _, results = setup
    ax = mv.plot.penetration_over_rounds(results)
    lines = ax.get_lines()
    assert len(lines) == 2 and len(ax.collections) == 2
    expected = results["0"].penetration_by_round().mean(axis=0)
    assert np.allclose(lines[0].get_ydata(), expected)
    single = mv.plot.penetration_over_rounds(results["3"])
    assert len(single.get_lines()) == 1


def test_bad_input(setup):
    _, table, results = setup
    with pytest.raises(TypeError, match="'table' must be the DataFrame returned by microviral.compare"):
        mv.plot.penetration_vs_budget(results)
    with pytest.raises(ValueError, match="lacks the columns"):
        mv.plot.penetration_vs_budget(table[["strategy", "k"]])
    with pytest.raises(ValueError, match="lacks the columns"):
        mv.plot.penetration_vs_budget(table, metric="nope")
    with pytest.raises(TypeError, match="'results' must be a CascadeResult"):
        mv.plot.penetration_over_rounds(table)
    with pytest.raises(TypeError, match=r"'results\['x'\]' must be a CascadeResult"):
        mv.plot.penetration_over_rounds({"x": 1})
    with pytest.raises(ValueError, match="'results' is empty"):
        mv.plot.penetration_over_rounds({})
    with pytest.raises(TypeError, match="'ax' must be a matplotlib Axes"):
        mv.plot.penetration_over_rounds(results, ax="left")
    with pytest.raises(TypeError, match="'table_or_results'"):
        mv.plot.penetration_vs_reach(42)


def test_cascade_tree_draws_every_node_in_its_round_and_every_parent_arc():
    g = mv.CommunityGraph.from_edges([0, 0, 1, 1, 2, 4, 5], [1, 2, 3, 4, 5, 6, 7], prob=1.0,
                                     community=list("aabbbaab"))
    c = mv.trace(g, [0], key=3, target="b")
    ax = mv.plot.cascade_tree(c)
    nodes = ax.collections[-1]
    xy = nodes.get_offsets()
    assert xy[:, 1].tolist() == (-c.round).tolist()
    pos = {int(v): i for i, v in enumerate(c.nodes)}
    segments = ax.collections[0].get_segments()
    assert len(segments) == c.reach - 1
    want = sorted(((xy[pos[int(p)], 0], xy[pos[int(p)], 1]), (xy[i, 0], xy[i, 1]))
                  for i, p in enumerate(c.parent) if p >= 0)
    assert sorted(tuple(map(tuple, s)) for s in segments) == want
    # leaves are spread 0, 1, 2, ...; each parent sits over the middle of its children
    leaves = [i for i in range(c.reach) if int(c.nodes[i]) not in set(c.parent.tolist())]
    assert sorted(xy[leaves, 0].tolist()) == list(range(len(leaves)))
    assert xy[pos[1], 0] == np.mean([xy[pos[3], 0], xy[pos[4], 0]])
    # colours: one per community, the same for nodes of one community; outlines mark the target
    faces = nodes.get_facecolors()
    for a in range(c.reach):
        for b in range(c.reach):
            assert (c.community[a] == c.community[b]) == bool(np.allclose(faces[a], faces[b]))
    outlined = nodes.get_edgecolors()[:, 3] > 0
    assert outlined.tolist() == c.in_target.tolist()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    by_round = mv.plot.cascade_tree(c, color="round").collections[-1].get_facecolors()
    for a in range(c.reach):
        assert (c.round[a] == c.round[0]) == bool(np.allclose(by_round[a], by_round[0]))


def test_cascade_tree_bad_input():
    g = mv.CommunityGraph.from_edges([0], [1], prob=1.0)
    c = mv.trace(g, [0], key=0)
    with pytest.raises(TypeError, match="'cascade' must be a Cascade"):
        mv.plot.cascade_tree(g)
    with pytest.raises(ValueError, match="'color' must be 'community' or 'round'"):
        mv.plot.cascade_tree(c, color="seed")
    with pytest.raises(ValueError, match="more than max_nodes=1"):
        mv.plot.cascade_tree(c, max_nodes=1)


def test_activation_curve_ranks_the_target_members():
    g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 5, 5], prob=0.5, community=list("aaabbb"))
    results = {s: mv.simulate(g, [s], n_runs=300, target="b", rng=2, per_node=True) for s in (0, 3)}
    ax = mv.plot.activation_curve(results)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["0", "3"]
    for line, res in zip(lines, results.values()):
        p = res.node_activated[[3, 4, 5]] / res.n_runs
        assert line.get_ydata().tolist() == sorted(p.tolist(), reverse=True)
        assert np.allclose(line.get_xdata(), [1 / 6, 1 / 2, 5 / 6])
    assert lines[1].get_ydata()[0] == 1.0  # the seed itself is always active
    assert len(ax.collections) == 2
    every = mv.plot.activation_curve(results[0], target_only=False)
    assert len(every.get_lines()[0].get_ydata()) == g.n_nodes
    with pytest.raises(ValueError, match=r"no per-node counts; run simulate\(\.\.\., per_node=True\)"):
        mv.plot.activation_curve(mv.simulate(g, [0], n_runs=10, rng=0))
