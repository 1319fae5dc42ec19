"""Anatomy of cascades: traces replay the engine's runs exactly; per-node and per-seed counts are right.

Oracles: a pure-Python breadth-first trace on the same coins (IC) and thresholds (LT), the engine's own
per-run outputs, and exact enumeration of live-edge worlds on tiny graphs.
"""

import itertools
import warnings

import networkx as nx
import numpy as np
import pytest

import microviral as mv
from microviral._kernels.hashing import arc_uniform_py, node_threshold_py


def random_graph(seed, n, m, directed=True, n_comm=3, p_low=0.05, p_high=0.7, lt=False):
    gen = np.random.default_rng(seed)
    src = gen.integers(0, n, size=m)
    dst = gen.integers(0, n, size=m)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    labels = gen.integers(0, n_comm, size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=labels, directed=directed,
                                         prob=gen.uniform(p_low, p_high, size=src.size))
    if lt:  # random in-weights, normalised so each node's sum to a random value in (0.3, 1]
        w = gen.uniform(0.1, 1.0, size=g.n_arcs)
        sums = np.bincount(g.indices, weights=w, minlength=n)
        scale = gen.uniform(0.3, 1.0, size=n)
        g = g.with_prob(w / sums[g.indices] * scale[g.indices])
    return g


def reference_trace(graph, seeds, key, model="ic", max_rounds=None):
    """Obviously correct trace: (nodes, parent, round, seed) in breadth-first order, in plain Python."""
    indptr, indices, prob = graph.indptr.tolist(), graph.indices.tolist(), graph.prob.tolist()
    order = [int(s) for s in seeds]
    info = {s: (-1, 0, s) for s in order}
    acc = {}
    frontier = list(order)
    t = 0
    while frontier and (max_rounds is None or t < max_rounds):
        new = []
        for u in frontier:
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if v in info:
                    continue
                if model == "ic":
                    live = arc_uniform_py(key, e) < prob[e]
                else:
                    acc[v] = acc.get(v, 0.0) + prob[e]
                    live = acc[v] >= node_threshold_py(key, v)
                if live:
                    info[v] = (u, t + 1, info[u][2])
                    new.append(v)
                    order.append(v)
        if not new:
            break
        frontier = new
        t += 1
    return order, [info[v][0] for v in order], [info[v][1] for v in order], [info[v][2] for v in order]


def assert_trace_equals_run(c, res, r, graph):
    assert c.key == res.keys[r]
    assert c.reach == res.reach[r]
    assert c.target_activated == res.target_activated[r]
    assert c.rounds == res.rounds[r]
    width = res.new_by_round.shape[1]
    assert c.new_by_round.tolist() + [0] * (width - c.rounds - 1) == res.new_by_round[r].tolist()
    assert c.new_target_by_round.tolist() + [0] * (width - c.rounds - 1) == res.new_target_by_round[r].tolist()
    assert np.bincount(c.community, minlength=graph.n_communities).tolist() == res.community_activated[r].tolist()
    assert c.penetration == res.penetration[r]


# ---------------------------------------------------------------------------------------------------- trace
@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("max_rounds", [None, 0, 1, 3])
def test_traces_equal_the_runs_they_replay(model, directed, max_rounds):
    g = random_graph(11, n=60, m=200, directed=directed, p_low=0.05, p_high=0.5, lt=model == "lt")
    seeds = [3, 0, 17]
    res = mv.simulate(g, seeds, model=model, n_runs=300, target=1, rng=5, max_rounds=max_rounds)
    assert res.rounds.max() >= (1 if max_rounds is None else min(max_rounds, 1))  # the runs do spread
    for r in range(res.n_runs):
        c = res.trace(r)
        assert c.model == model
        assert_trace_equals_run(c, res, r, g)
        direct = mv.trace(g, seeds, res.keys[r], model=model, target=1, max_rounds=max_rounds)
        assert direct.nodes.tolist() == c.nodes.tolist() and direct.parent.tolist() == c.parent.tolist()


@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize("graph_seed", [0, 1, 2])
def test_traces_equal_the_pure_python_reference(model, graph_seed):
    g = random_graph(graph_seed, n=40, m=150, directed=graph_seed != 1, lt=model == "lt")
    seeds = [5, 2]
    keys = mv._rng.run_keys(graph_seed, 60)
    grew = 0
    for key in keys:
        for max_rounds in (None, 2):
            c = mv.trace(g, seeds, key, model=model, target=0, max_rounds=max_rounds)
            nodes, parent, rnd, seed = reference_trace(g, seeds, key, model, max_rounds)
            assert c.nodes.tolist() == nodes
            assert c.parent.tolist() == parent
            assert c.round.tolist() == rnd
            assert c.seed.tolist() == seed
            assert c.in_target.tolist() == [bool(g.target_mask(0)[v]) for v in nodes]
            grew += c.reach > len(seeds)
    assert grew > 20  # the check is not vacuous


def test_parents_are_live_in_arcs_from_the_previous_round():
    g = random_graph(4, n=50, m=250, directed=True)
    for key in range(40):
        c = mv.trace(g, [0, 1, 2], key)
        pos = {v: i for i, v in enumerate(c.nodes.tolist())}
        for v, p, t, s in zip(c.nodes.tolist(), c.parent.tolist(), c.round.tolist(), c.seed.tolist()):
            if p < 0:
                assert v in (0, 1, 2) and t == 0 and s == v
                continue
            arcs = [e for e in range(g.indptr[p], g.indptr[p + 1]) if g.indices[e] == v]
            assert any(arc_uniform_py(key, e) < g.prob[e] for e in arcs)
            assert c.round[pos[p]] == t - 1 and pos[p] < pos[v]
            assert c.seed[pos[p]] == s


def test_to_networkx_is_a_forest_rooted_at_the_seeds():
    g = random_graph(7, n=80, m=400, directed=False, p_low=0.1, p_high=0.4)
    seeds = [10, 20, 30]
    c = mv.trace(g, seeds, 12345, target=2)
    assert c.reach > 10
    f = c.to_networkx()
    assert nx.is_forest(f) and f.is_directed()
    assert sorted(f.nodes) == sorted(c.nodes.tolist())
    assert sorted(f.edges) == sorted((int(p), int(v)) for p, v in zip(c.parent, c.nodes) if p >= 0)
    assert sorted(v for v in f.nodes if f.in_degree(v) == 0) == seeds
    for v, p, t in zip(c.nodes.tolist(), c.parent.tolist(), c.round.tolist()):
        attrs = f.nodes[v]
        assert attrs["round"] == t
        assert attrs["community"] == g.community_names[g.community[v]]
        assert attrs["in_target"] == (g.community[v] == 2)
        assert nx.shortest_path_length(f, attrs["seed"], v) == t
    frame = c.to_frame()
    assert frame["node"].tolist() == c.nodes.tolist() and frame["round"].tolist() == c.round.tolist()
    per_seed = c.by_seed()
    assert per_seed["seed"].tolist() == seeds
    assert per_seed["reach"].tolist() == [sum(c.seed == s) for s in seeds]
    assert per_seed["reach"].sum() == c.reach and per_seed["target_activated"].sum() == c.target_activated


def test_trace_needs_the_result_graph_and_rejects_bad_input():
    g = random_graph(1, n=20, m=60)
    other = random_graph(2, n=20, m=60)
    res = mv.simulate(g, [0], n_runs=5, rng=0)
    assert res.trace(-1).key == res.keys[4]
    assert res.trace(0, g).nodes.tolist() == res.trace(0).nodes.tolist()
    with pytest.raises(ValueError, match="not the graph this result was simulated on"):
        res.trace(0, other)
    with pytest.raises(ValueError, match="'i' must be <= 4"):
        res.trace(5)
    with pytest.raises(TypeError, match="'key' must be an integer run key"):
        mv.trace(g, [0], 1.5)
    with pytest.raises(TypeError, match="'key' must be an integer run key"):
        mv.trace(g, [0], True)
    with pytest.raises(ValueError, match=r"'key' must be in \[0, 2\*\*64\). Got -1"):
        mv.trace(g, [0], -1)
    with pytest.raises(ValueError, match="'model' must be 'ic' .* or 'lt' .*Got str 'LT'"):
        mv.trace(g, [0], 1, model="LT")
    with pytest.raises(ValueError, match="'seeds' must not repeat"):
        mv.trace(g, [0, 0], 1)
    with pytest.raises(TypeError, match="'graph' must be a microviral.CommunityGraph"):
        mv.trace(nx.path_graph(3), [0], 1)
    heavy = g.with_prob(np.ones(g.n_arcs))
    if np.bincount(heavy.indices, minlength=heavy.n_nodes).max() > 1:
        with pytest.raises(ValueError, match="model='lt' needs every node's in-weights to sum to at most 1; node"):
            mv.trace(heavy, [0], 1, model="lt")


# ----------------------------------------------------------------------------------- per-node and per-seed counts
def exact_node_probabilities(graph, seeds, model="ic"):
    """P(node active) for every node, by enumerating every live-edge world.

    IC: each arc is live on its own with its probability. LT: each node keeps at most one in-arc, arc
    (u, v) with probability w(u, v) and none with 1 - sum (Kempe et al.: same distribution of active sets).
    """
    n, src, dst, p = graph.n_nodes, graph.arc_sources, graph.indices, graph.prob
    if model == "ic":
        choices = [[(e, p[e]), (None, 1.0 - p[e])] for e in range(graph.n_arcs)]
    else:
        choices = []
        for v in range(n):
            ins = [e for e in range(graph.n_arcs) if dst[e] == v]
            choices.append([(e, p[e]) for e in ins] + [(None, 1.0 - sum(p[e] for e in ins))])
    out = np.zeros(n)
    for world in itertools.product(*choices):
        weight = float(np.prod([w for _, w in world]))
        if weight <= 0.0:
            continue
        live = [e for e, _ in world if e is not None]
        adj = {}
        for e in live:
            adj.setdefault(int(src[e]), []).append(int(dst[e]))
        active = set(int(s) for s in seeds)
        stack = list(active)
        while stack:
            for v in adj.get(stack.pop(), []):
                if v not in active:
                    active.add(v)
                    stack.append(v)
        out[list(active)] += weight
    return np.clip(out, 0.0, 1.0)  # sums of world weights can pass 1 by rounding


TINY = [
    # (edges, n_nodes, directed, probabilities (IC) or weights (LT), labels, seeds)
    ([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (1, 4)], 5, True, [0.5, 0.3, 0.2, 0.7, 0.4, 0.6], [0, 0, 1, 1, 1], [0]),
    ([(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)], 4, False, [0.3, 0.5, 0.2, 0.6, 0.4], [0, 1, 1, 0], [0]),
    ([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (2, 5), (5, 0)], 6, True,
     [0.9, 0.1, 0.5, 0.45, 0.35, 0.5, 0.25, 0.6], [0, 0, 0, 1, 1, 1], [0, 4]),
]


def tiny_graph(case):
    edges, n, directed, p, labels, seeds = TINY[case]
    src, dst = zip(*edges)
    g = mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=labels, directed=directed, prob=p)
    return g, seeds


@pytest.mark.parametrize("case", range(len(TINY)))
def test_activation_probabilities_agree_with_exact_enumeration_ic(case):
    g, seeds = tiny_graph(case)
    exact = exact_node_probabilities(g, seeds)
    n_runs = 20000
    res = mv.simulate(g, seeds, n_runs=n_runs, rng=200 + case, per_node=True)
    table = res.activation_probability()
    p = table["p_activated_mean"].to_numpy()
    se = np.sqrt(exact * (1 - exact) / n_runs)
    assert np.all(np.abs(p - exact) <= 4 * se + 1e-9), (p, exact)
    assert 0 < exact[~np.isin(np.arange(g.n_nodes), seeds)].min()  # every node is uncertain: a real check
    assert (table["p_activated_ci_low"] <= p).all() and (p <= table["p_activated_ci_high"]).all()


@pytest.mark.parametrize("case", range(len(TINY)))
def test_activation_probabilities_agree_with_exact_enumeration_lt(case):
    g, seeds = tiny_graph(case)
    w = g.prob / np.maximum(1.0, np.bincount(g.indices, weights=g.prob, minlength=g.n_nodes)[g.indices])
    g = g.with_prob(w)  # in-weights sum to at most 1
    exact = exact_node_probabilities(g, seeds, model="lt")
    n_runs = 20000
    res = mv.simulate(g, seeds, model="lt", n_runs=n_runs, rng=300 + case, per_node=True)
    p = res.activation_probability()["p_activated_mean"].to_numpy()
    se = np.sqrt(exact * (1 - exact) / n_runs)
    assert np.all(np.abs(p - exact) <= 4 * se + 1e-9), (p, exact)


@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize("max_rounds", [None, 1])
def test_node_and_seed_counts_equal_the_traced_runs(model, max_rounds):
    g = random_graph(21, n=70, m=300, directed=True, p_low=0.05, p_high=0.45, lt=model == "lt")
    seeds = [4, 9, 33]
    res = mv.simulate(g, seeds, model=model, n_runs=200, target=1, rng=8, max_rounds=max_rounds, per_node=True,
                      attribution=True)
    counts = np.zeros(g.n_nodes, dtype=np.int64)
    for r in range(res.n_runs):
        c = res.trace(r)
        counts[c.nodes] += 1
        by_seed = c.by_seed()
        assert res.seed_reach[r].tolist() == by_seed["reach"].tolist()
        assert res.seed_target_activated[r].tolist() == by_seed["target_activated"].tolist()
    assert res.node_activated.tolist() == counts.tolist()
    assert res.node_activated.sum() == res.reach.sum()
    assert (res.seed_reach.sum(axis=1) == res.reach).all()
    assert (res.seed_target_activated.sum(axis=1) == res.target_activated).all()
    assert res.reach.max() > len(seeds) + 2


def test_counts_do_not_depend_on_threads_or_chunks():
    g = random_graph(3, n=300, m=1500, directed=False, p_low=0.02, p_high=0.3)
    a = mv.simulate(g, [0, 1, 2, 3], n_runs=700, rng=1, per_node=True, attribution=True, n_threads=1)
    b = mv.simulate(g, [0, 1, 2, 3], n_runs=700, rng=1, per_node=True, attribution=True, chunk_size=100)
    assert np.array_equal(a.node_activated, b.node_activated)
    assert np.array_equal(a.seed_reach, b.seed_reach)
    assert np.array_equal(a.seed_target_activated, b.seed_target_activated)
    # per_node alone takes the engine's fast cascade, with attribution the tracing pass: same counts
    alone = mv.simulate(g, [0, 1, 2, 3], n_runs=700, rng=1, per_node=True)
    assert np.array_equal(alone.node_activated, a.node_activated)
    uniform = g.with_prob(0.15)  # the fast cascade's one-probability path
    u1 = mv.simulate(uniform, [0, 1], n_runs=300, rng=2, per_node=True)
    u2 = mv.simulate(uniform, [0, 1], n_runs=300, rng=2, per_node=True, attribution=True)
    assert np.array_equal(u1.node_activated, u2.node_activated) and u1.node_activated.sum() == u1.reach.sum()
    plain = mv.simulate(g, [0, 1, 2, 3], n_runs=700, rng=1)
    assert plain.node_activated is None and plain.seed_reach is None
    assert np.array_equal(plain.reach, a.reach)


def test_community_view_adds_up_to_the_engines_community_counts():
    g = random_graph(5, n=120, m=300, directed=True, n_comm=4, p_low=0.02, p_high=0.3)
    res = mv.simulate(g, [0, 1], n_runs=400, target=2, rng=4, per_node=True)
    nodes = res.activation_probability()
    view = res.activation_by_community(most=0.5, rare=0.05)
    sizes = np.bincount(g.community, minlength=4)
    assert view["size"].tolist() == sizes.tolist()
    expected_share = res.community_activated.mean(axis=0) / sizes
    assert np.allclose(view["p_activated_mean"], expected_share, rtol=0, atol=1e-12)
    for c in range(4):
        members = nodes[g.community == c]
        assert view.loc[c, "members_most"] == (members["p_activated_mean"] > 0.5).sum()
        assert view.loc[c, "members_rare"] == (members["p_activated_ci_high"] < 0.05).sum()
        assert view.loc[c, "members_never"] == (members["activated"] == 0).sum()
        assert view.loc[c, "p_activated_median"] == pytest.approx(members["p_activated_mean"].median())
    assert nodes["in_target"].tolist() == (g.community == 2).tolist()
    assert view["members_never"].sum() > 0 and view["members_most"].sum() > 0


def test_wilson_interval_has_exact_ends_and_covers():
    g = mv.CommunityGraph.from_edges([0, 0, 0], [1, 2, 3], prob=[1.0, 0.0, 0.5], community=[0, 0, 1, 1])
    res = mv.simulate(g, [0], n_runs=300, rng=0, per_node=True)
    t = res.activation_probability()
    assert t.loc[1, "p_activated_ci_high"] == 1.0 and t.loc[1, "p_activated_mean"] == 1.0  # always
    assert t.loc[2, "p_activated_ci_low"] == 0.0 and t.loc[2, "p_activated_ci_high"] > 0  # never
    assert t.loc[1, "p_activated_ci_low"] < 1.0
    assert t.loc[3, "p_activated_ci_low"] < 0.5 < t.loc[3, "p_activated_ci_high"]
    from microviral._stats import proportion_ci

    k = int(t.loc[3, "activated"])
    _, se, lo, hi = proportion_ci(k, 300)
    assert (t.loc[3, "p_activated_se"], t.loc[3, "p_activated_ci_low"], t.loc[3, "p_activated_ci_high"]) == \
        pytest.approx((se, lo, hi))


def test_attribution_shares():
    # seed 0 reaches the target node 2 for sure; seed 1 reaches node 3 (outside) half the time
    g = mv.CommunityGraph.from_edges([0, 1], [2, 3], prob=[1.0, 0.5], community=list("aaba"))
    res = mv.simulate(g, [0, 1], n_runs=2000, target="b", rng=3, attribution=True)
    t = res.attribution().set_index("seed")
    assert t.loc[0, "target_share_mean"] == 1.0 and t.loc[1, "target_share_mean"] == 0.0
    assert t.loc[0, "target_activated_mean"] == 1.0
    # reach share of seed 0: 2/3 when node 3 is reached, 2/2 / 2 = 1/2 otherwise
    reached = res.reach == 4
    expected = np.where(reached, 0.5, 2 / 3).mean()
    assert t.loc[0, "reach_share_mean"] == pytest.approx(expected)
    assert t["reach_share_mean"].sum() == pytest.approx(1.0)
    assert t.loc[1, "reach_mean"] == pytest.approx(1 + reached.mean())
    assert abs(t.loc[1, "reach_mean"] - 1.5) < 4 * t.loc[1, "reach_se"]


def test_anatomy_methods_say_what_to_switch_on():
    g = mv.CommunityGraph.from_edges([0], [1], prob=0.5)
    res = mv.simulate(g, [0], n_runs=10, rng=0)
    with pytest.raises(ValueError, match=r"simulate\(\.\.\., per_node=True\)"):
        res.activation_probability()
    with pytest.raises(ValueError, match=r"simulate\(\.\.\., per_node=True\)"):
        res.activation_by_community()
    with pytest.raises(ValueError, match=r"simulate\(\.\.\., attribution=True\)"):
        res.attribution()
    with pytest.raises(TypeError, match="'per_node' must be a bool"):
        mv.simulate(g, [0], n_runs=10, rng=0, per_node="yes")
    with pytest.raises(TypeError, match="'attribution' must be a bool"):
        mv.simulate(g, [0], n_runs=10, rng=0, attribution=1)
    res = mv.simulate(g, [0], n_runs=10, rng=0, per_node=True)
    with pytest.raises(ValueError, match="'rare' must be a finite number in"):
        res.activation_by_community(rare=2)
