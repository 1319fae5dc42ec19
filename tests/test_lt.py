"""Linear threshold: thresholds, kernel, oracle."""

import importlib
import warnings

import networkx as nx
import numba
import numpy as np
import pytest
from naive import lt_cascade, lt_exact, lt_rr_set, run_fields
from numba import njit

import microviral as mv
from microviral._kernels.hashing import arc_uniform_py, node_threshold, node_threshold_py
from microviral._kernels.lt import lt_runs
from microviral._kernels.rr_lt import in_weight_cumsum, rr_sample_lt
from microviral._rng import check_rng, run_keys

simulation = importlib.import_module("microviral.simulation")


@njit
def _thresholds(key, n):
    out = np.empty(n)
    for v in range(n):
        out[v] = node_threshold(key, v)
    return out


KEYS = [0, 1, 42, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15]


def test_threshold_kernel_equals_pure_python_twin():
    for key in KEYS:
        got = _thresholds(np.uint64(key), 200)
        want = np.array([node_threshold_py(key, v) for v in range(200)])
        assert np.array_equal(got, want), key


def test_thresholds_lie_in_the_half_open_unit_interval_and_are_uniform():
    keys = np.random.default_rng(1).integers(0, 2**63, size=40, dtype=np.uint64)
    t = np.concatenate([_thresholds(k, 2500) for k in keys])  # 100,000 values
    assert t.min() > 0.0 and t.max() <= 1.0
    # Kolmogorov-Smirnov distance to U(0, 1): 1.63 / sqrt(n) is the 1% critical value.
    t.sort()
    n = t.size
    d = max(np.max(np.arange(1, n + 1) / n - t), np.max(t - np.arange(n) / n))
    assert d < 1.63 / np.sqrt(n)
    assert abs(t.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)


def test_thresholds_are_independent_of_the_arc_coins():
    """Threshold of node i and coin of arc i under the same key: uncorrelated, and never the same stream."""
    n = 20000
    key = 12345
    t = np.array([node_threshold_py(key, i) for i in range(n)])
    u = np.array([arc_uniform_py(key, i) for i in range(n)])
    assert not np.any(t == u) and not np.any(t == 1.0 - u)
    assert abs(np.corrcoef(t, u)[0, 1]) < 4 / np.sqrt(n)
    assert abs(np.corrcoef(t, 1.0 - u)[0, 1]) < 4 / np.sqrt(n)
    # different keys give different thresholds for the same node
    assert len({node_threshold_py(k, 3) for k in range(100)}) == 100


# ------------------------------------------------------------------------------------------------ the kernel
def lt_graph(seed, n, m, *, directed=True, n_comm=2, full=0.3):
    """Random graph with LT weights: random in-weights per node, scaled to sum to 1 (share ``full``) or less."""
    gen = np.random.default_rng(seed)
    src = gen.integers(0, n, size=m)
    dst = gen.integers(0, n, size=m)
    keep = src != dst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, directed=directed,
                                         community=gen.integers(0, n_comm, size=n))
    raw = gen.uniform(0.05, 1.0, size=g.n_arcs)
    head = g.indices
    insum = np.bincount(head, weights=raw, minlength=n)
    scale = np.where(gen.uniform(size=n) < full, 1.0, gen.uniform(0.3, 1.0, size=n))
    return g.with_prob(np.minimum(raw / insum[head] * scale[head], 1.0))


def kernel_lt(graph, seeds, target_mask, keys, max_rounds=-1, n_chunks=3):
    """The LT kernel itself with room for every round; per-run fields as simulate returns them."""
    n = keys.size
    width = graph.n_nodes + 1
    out = dict(reach=np.empty(n, np.int64), target_activated=np.empty(n, np.int64), rounds=np.empty(n, np.int64),
               new_by_round=np.zeros((width, n), np.int32), new_target_by_round=np.zeros((width, n), np.int32),
               community_activated=np.zeros((n, graph.n_communities), np.int32))
    lt_runs(graph.indptr, graph.indices, graph.prob, -1.0, np.asarray(seeds, dtype=np.int32),
            np.ascontiguousarray(target_mask, dtype=np.uint8), graph.community, keys, max_rounds, n_chunks,
            *out.values())
    needed = int(out["rounds"].max()) + 1
    for name in ("new_by_round", "new_target_by_round"):
        buf = out[name][:needed].T.copy()
        buf[np.arange(needed)[None, :] > out["rounds"][:, None]] = 0  # cells past a run's end are not written
        out[name] = buf
    return out


def run_lt(graph, seeds, target_mask, keys, max_rounds=-1, **kw):
    """``mv.simulate(model="lt")``'s per-run fields."""
    res = mv.simulate(graph, seeds, model="lt", keys=keys, target=np.asarray(target_mask, dtype=bool),
                      max_rounds=None if max_rounds < 0 else max_rounds, **kw)
    return {name: getattr(res, name) for name in FIELDS}


FIELDS = ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated")


def keys_for(n_runs, seed=0):
    return run_keys(check_rng(seed), n_runs)


@pytest.mark.parametrize("seed", range(6))
def test_kernel_gives_the_pure_python_threshold_cascade_run_for_run(seed):
    directed = seed % 2 == 0
    g = lt_graph(100 + seed, 40, 160, directed=directed, n_comm=3, full=0.6)
    seeds = [0, 5] if seed < 3 else [7]
    mask = g.community == 1
    keys = keys_for(60, seed)
    max_rounds = None if seed % 3 else 2
    got = run_lt(g, seeds, mask, keys, -1 if max_rounds is None else max_rounds, n_threads=2)
    kern = kernel_lt(g, seeds, mask, keys, -1 if max_rounds is None else max_rounds)
    for name in FIELDS:
        assert np.array_equal(got[name], kern[name]), name
    assert got["reach"].max() > len(seeds)  # cascades happen: the comparison is not vacuous
    for r, key in enumerate(keys):
        want = run_fields(g, lt_cascade(g, seeds, int(key), max_rounds), mask)
        for name, value in want.items():
            row = got[name][r]
            if np.ndim(row):
                row = row[:len(value)].tolist() if name.startswith("new") else row.tolist()
                if name.startswith("new"):
                    assert got[name][r][len(value):].sum() == 0, (name, r)
            assert row == value, (name, r)


def test_results_do_not_depend_on_threads_chunks_or_replays():
    g = lt_graph(7, 300, 1500, full=0.8)
    seeds = [0, 1, 2]
    mask = g.community == 0
    keys = keys_for(500, 3)
    base = run_lt(g, seeds, mask, keys, n_threads=1)
    assert base["reach"].std() > 0
    two = min(2, numba.config.NUMBA_NUM_THREADS)
    runs = [run_lt(g, seeds, mask, keys, n_threads=two)] + [run_lt(g, seeds, mask, keys, chunk_size=c)
                                                           for c in (1, 7, 499)]
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(two)
        runs += [kernel_lt(g, seeds, mask, keys, n_chunks=c) for c in (1, 2, 7, 500)]
    finally:
        numba.set_num_threads(old)
    for other in runs:
        for name in FIELDS:
            assert np.array_equal(base[name], other[name]), name
    pick = np.array([499, 3, 250])
    replay = run_lt(g, seeds, mask, keys[pick])
    for name in ("reach", "target_activated", "rounds", "community_activated"):
        assert np.array_equal(replay[name], base[name][pick]), name
    w = replay["new_by_round"].shape[1]
    assert np.array_equal(replay["new_by_round"], base["new_by_round"][pick, :w])
    assert not base["new_by_round"][pick, w:].any()


def within(est, se, exact, what):
    assert abs(est - exact) <= 4 * se + 1e-9, f"{what}: {est} +- {se} vs exact {exact}"


def check_against_oracle(g, seeds, mask, n_runs, max_rounds=None, theta=0.5, seed=0):
    exact = lt_exact(g, seeds, mask, theta=theta, max_rounds=max_rounds)
    out = run_lt(g, seeds, mask, keys_for(n_runs, seed), -1 if max_rounds is None else max_rounds)
    n = n_runs
    for name in ("reach", "target_activated"):
        x = out[name]
        within(x.mean(), x.std() / np.sqrt(n), exact[name], name)
    size = int(mask.sum())
    p = np.mean(out["target_activated"] >= theta * size - 1e-9)
    within(p, np.sqrt(max(p * (1 - p), 1.0 / n) / n), exact["p_theta"], "P(penetration >= theta)")
    per_round = out["new_by_round"]
    for t in range(g.n_nodes + 1):
        x = per_round[:, t] if t < per_round.shape[1] else np.zeros(n)
        within(x.mean(), x.std() / np.sqrt(n), exact["new_by_round"][t], f"new activations in round {t}")
    return exact


@pytest.mark.parametrize("seed", range(24))
def test_matches_exact_live_edge_enumeration_on_random_tiny_graphs(seed):
    gen = np.random.default_rng(seed)
    directed = bool(seed % 2)
    n = int(gen.integers(3, 7))
    m = int(gen.integers(n, 2 * n + 2)) if directed else int(gen.integers(n - 1, n + 2))
    g = lt_graph(seed, n, m, directed=directed, full=0.5)
    while np.prod(np.bincount(g.indices, minlength=n) + 1.0) > 20000:
        m -= 1
        g = lt_graph(seed, n, m, directed=directed, full=0.5)
    seeds = gen.choice(n, size=1 + seed % 2, replace=False)
    mask = g.community == seed % 2
    if not mask.any():
        mask = np.ones(n, dtype=bool)
    max_rounds = [None, 1, 2][seed % 3]
    exact = check_against_oracle(g, seeds, mask, 20000, max_rounds=max_rounds, theta=[0.3, 0.5, 1.0][seed % 3],
                                 seed=seed)
    assert exact["reach"] >= len(seeds)


def test_path_spreads_with_the_product_of_weights():
    w = [0.9, 0.6, 0.5]
    g = mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 3], prob=w)
    out = run_lt(g, [0], np.array([0, 0, 0, 1], dtype=bool), keys_for(40000, 1))
    p_end = np.prod(w)
    within(out["target_activated"].mean(), np.sqrt(p_end * (1 - p_end) / 40000), p_end, "P(end of path)")
    exact_reach = 1 + w[0] + w[0] * w[1] + p_end
    within(out["reach"].mean(), out["reach"].std() / 200, exact_reach, "E[reach]")
    # the end of the path, when reached, is reached in round 3
    assert np.all(out["rounds"][out["target_activated"] == 1] == 3)


def test_two_seeded_in_neighbours_activate_with_the_sum_of_weights():
    g = mv.CommunityGraph.from_edges([0, 1], [2, 2], prob=[0.25, 0.45])
    out = run_lt(g, [0, 1], np.array([0, 0, 1], dtype=bool), keys_for(40000, 2))
    p = 0.7
    within(out["target_activated"].mean(), np.sqrt(p * (1 - p) / 40000), p, "P(head active)")
    assert set(out["rounds"].tolist()) == {0, 1}
    # IC would give 1 - 0.75 * 0.55 = 0.5875: the two models are told apart
    assert abs(out["target_activated"].mean() - 0.5875) > 0.05


def test_weight_limits():
    """Weight 0 never activates; in-weight 1 from an active node always does; 1/2 + 1/2 also always."""
    g = mv.CommunityGraph.from_edges([0, 0, 1, 3, 2], [1, 2, 3, 4, 4], prob=[1.0, 0.0, 1.0, 0.5, 0.5])
    out = run_lt(g, [0], np.ones(5, dtype=bool), keys_for(2000, 4))
    # 0, 1, 3 always; node 2 never, so node 4 has 1/2 of in-weight: active iff its threshold is <= 1/2...
    assert set(out["reach"].tolist()) == {3, 4}
    within(np.mean(out["reach"] == 4), np.sqrt(0.25 / 2000), 0.5, "P(node 4 active)")
    g2 = g.with_prob([1.0, 1.0, 1.0, 0.5, 0.5])
    out2 = run_lt(g2, [0], np.ones(5, dtype=bool), keys_for(2000, 4))
    assert np.all(out2["reach"] == 5)  # ...and with node 2 active, 1/2 + 1/2 reaches every threshold
    # node 4 joins in round 2 (threshold <= 1/2, from node 2 alone) or in round 3 (once node 3 adds its 1/2)
    early = out2["rounds"] == 2
    assert np.all(out2["new_by_round"][early, :3] == [1, 2, 2])
    assert np.all(out2["new_by_round"][~early, :4] == [1, 2, 1, 1])
    assert np.array_equal(early, [node_threshold_py(int(k), 4) <= 0.5 for k in keys_for(2000, 4)])


# ------------------------------------------------------------------------------------------------ the public API
def test_simulate_refuses_in_weights_above_one_before_any_run(monkeypatch):
    G = nx.DiGraph()
    G.add_weighted_edges_from([("a", "x", 0.5), ("b", "x", 0.4), ("c", "x", 0.3), ("d", "a", 1.0)], weight="p")
    nx.set_node_attributes(G, 0, "community")
    g = mv.CommunityGraph.from_networkx(G, prob="p")
    ran = []
    monkeypatch.setattr(importlib.import_module("microviral._engine"), "_run", lambda *a, **k: ran.append(1))
    with pytest.raises(ValueError, match=r"node \d+ \(id 'x'\) has in-weights summing to 1\.2"):
        mv.simulate(g, [0], model="lt", n_runs=10, rng=0)
    assert not ran
    # rounding is tolerated: three in-weights of 1/3 (and one of exactly 1)
    h = mv.probabilities.weighted_cascade(mv.CommunityGraph.from_edges([0, 1, 2, 0], [3, 3, 3, 1]))
    monkeypatch.undo()
    assert mv.simulate(h, [0, 1, 2], model="lt", n_runs=50, rng=0).reach.min() == 4
    # the same graph is fine under IC, where prob are probabilities
    mv.simulate(g, [0], model="ic", n_runs=10, rng=0)


def test_check_lt_weights_reports_the_worst_node_and_the_count():
    g = mv.CommunityGraph.from_edges([0, 1, 0, 1, 2], [2, 2, 3, 3, 3], prob=[0.6, 0.5, 0.2, 0.9, 0.4])
    with pytest.raises(ValueError, match=r"node 3 .* summing to 1\.5 \(2 node\(s\) above 1\)"):
        simulation.check_lt_weights(g)
    g2 = g.with_prob([0.6, 0.2, 0.4, 0.3, 0.5 + 1e-12])  # CSR order: arcs 0->2, 0->3, 1->2, 1->3, 2->3
    assert simulation.check_lt_weights(g2) is g2


@pytest.mark.parametrize("bad", ["LT", "threshold", None, 1])
def test_unknown_model_is_refused(bad):
    g = mv.CommunityGraph.from_edges([0], [1], prob=0.5)
    with pytest.raises(ValueError, match="'model' must be 'ic' .* or 'lt'"):
        mv.simulate(g, [0], model=bad, n_runs=5, rng=0)


def test_lt_and_ic_differ_and_provenance_names_the_model():
    g = mv.probabilities.weighted_cascade(lt_graph(3, 200, 1000))
    a = mv.simulate(g, [0, 1], model="lt", n_runs=300, rng=5)
    b = mv.simulate(g, [0, 1], n_runs=300, rng=5)
    assert a.provenance["model"] == "lt" and b.provenance["model"] == "ic"
    assert not np.array_equal(a.reach, b.reach)


def test_long_lt_cascades_keep_every_round():
    """A path longer than the first per-round buffer: the long runs are replayed wider, exactly."""
    n = 120
    g = mv.CommunityGraph.from_edges(np.arange(n - 1), np.arange(1, n), prob=1.0)
    res = mv.simulate(g, [0], model="lt", n_runs=40, rng=0)
    assert np.all(res.rounds == n - 1)
    assert np.all(res.new_by_round == 1)


# ------------------------------------------------------------------------------------------------ seeding, compare
def test_random_normalized_weights_sum_to_one_per_node_and_replay():
    g = lt_graph(11, 200, 900)
    a = mv.probabilities.random_normalized(g, rng=3)
    b = mv.probabilities.random_normalized(g, rng=3)
    assert np.array_equal(a.prob, b.prob)
    assert not np.array_equal(a.prob, mv.probabilities.random_normalized(g, rng=4).prob)
    insum = np.bincount(a.indices, weights=a.prob, minlength=a.n_nodes)
    has_in = a.in_degree > 0
    assert np.allclose(insum[has_in], 1.0, rtol=0, atol=1e-12) and not insum[~has_in].any()
    assert a.prob.min() > 0 and len(np.unique(a.prob)) > a.n_arcs // 2  # random, not 1 / in-degree
    simulation.check_lt_weights(a)
    mv.simulate(a, [0], model="lt", n_runs=20, rng=0)


def test_celf_under_lt_picks_by_lt_spread():
    """Seed 0 activates 1 and 2, which feed 3 with 1/2 each: 3 is active w.p. 1 under LT, 3/4 under IC.
    Seed 4 activates 5 and 6, and 7 through 5 w.p. 0.85 under both. Reach: LT 4 vs 3.85, IC 3.75 vs 3.85."""
    g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 4, 4, 5], [1, 2, 3, 3, 5, 6, 7],
                                     prob=[1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.85], community=[0, 0, 0, 1, 0, 0, 0, 1])
    ones = np.ones(g.n_nodes, bool)
    assert lt_exact(g, [0], ones)["reach"] == pytest.approx(4.0)
    assert lt_exact(g, [4], ones)["reach"] == pytest.approx(3.85)
    assert mv.seeding.celf(g, 1, rng=0, n_runs=2000, model="lt").tolist() == [0]
    assert mv.seeding.celf(g, 1, rng=0, n_runs=2000).tolist() == [4]
    # activated members of community 1 = {3, 7}: seed 0 gives exactly 1 under LT, a tie with seeding 3 itself
    # (ties go to the lowest index), but 3/4 under IC
    assert mv.seeding.celf_target(g, 1, target=1, rng=0, n_runs=2000, model="lt").tolist() == [0]
    assert mv.seeding.celf_target(g, 1, target=1, rng=0, n_runs=2000).tolist() == [3]
    assert mv.seeding.get_strategy("celf")(g, 1, rng=0, n_runs=2000, model="lt").tolist() == [0]
    bad = g.with_prob(np.full(g.n_arcs, 0.6))
    with pytest.raises(ValueError, match="in-weights"):
        mv.seeding.celf(bad, 1, rng=0, model="lt")


def test_compare_under_lt_simulates_lt_and_tells_model_aware_strategies():
    g = mv.probabilities.weighted_cascade(lt_graph(5, 120, 500))
    seen = []

    def spy(graph, k, *, target=None, rng=None, model="ic"):
        seen.append(model)
        return np.arange(k)

    t = mv.compare(g, {"spy": spy, "degree": "degree"}, k=2, model="lt", target=0, n_runs=300, rng=2)
    assert seen == ["lt"] and t.attrs["model"] == "lt"
    ref = mv.simulate(g, [0, 1], model="lt", keys=run_keys(np.random.SeedSequence(2).spawn(3)[0], 300), target=0)
    row = t.set_index("strategy").loc["spy"]
    assert row["reach_mean"] == pytest.approx(ref.reach.mean(), abs=1e-12)
    ic = mv.compare(g, {"spy": spy}, k=2, target=0, n_runs=300, rng=2)
    assert seen[-1] == "ic" and ic.loc[0, "reach_mean"] != row["reach_mean"]
    with pytest.raises(ValueError, match="in-weights"):
        mv.compare(g.with_prob(np.full(g.n_arcs, 0.9)), "degree", k=1, model="lt", n_runs=10, rng=0)


# ------------------------------------------------------------------------------------------------ RR sets under LT
def lt_rr_sets(graph, pool, base, n, chunk_len=64, cap=None):
    """Flat LT RR sets ``0..n-1`` from the kernel: a list of arrays."""
    roff, rsrc, rarc = graph._in_arcs()
    rcum = in_weight_cumsum(roff, np.ascontiguousarray(graph.prob[rarc]))
    ids = np.arange(n, dtype=np.int64)
    pool = np.ascontiguousarray(pool, dtype=np.int32)
    n_chunks = -(-n // chunk_len)
    cap = cap or chunk_len * (graph.n_nodes + 1)
    buf = np.empty(n_chunks * cap, np.int32)
    starts, sizes = np.empty(n, np.int64), np.empty(n, np.int64)
    rr_sample_lt(roff, np.ascontiguousarray(rsrc), rcum, pool, np.uint64(base), ids, chunk_len, cap, buf, starts,
                 sizes)
    assert (sizes >= 0).all()
    return [buf[s:s + z] for s, z in zip(starts, sizes)]


def rr_spread(sets, seeds, pool_size):
    """(estimate, SE) of the expected activated pool members of ``seeds``: pool size x share of sets hit."""
    sizes = np.array([r.size for r in sets])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    hit = (np.add.reduceat(np.isin(np.concatenate(sets), seeds), starts) > 0).astype(float)
    return pool_size * hit.mean(), pool_size * hit.std() / np.sqrt(hit.size)


def test_lt_rr_walks_equal_the_plain_walk():
    g = lt_graph(21, 60, 300, full=0.7)
    pool = np.flatnonzero(g.community == 1)
    for chunk_len in (1, 64):
        sets = lt_rr_sets(g, pool, 99, 80, chunk_len=chunk_len)
        assert max(len(r) for r in sets) > 2
        for i, r in enumerate(sets):
            assert r.tolist() == lt_rr_set(g, pool, 99, i), i
    # a set that does not fit its chunk's buffer is marked for a retry, never truncated
    roff, rsrc, rarc = g._in_arcs()
    rcum = in_weight_cumsum(roff, np.ascontiguousarray(g.prob[rarc]))
    buf = np.empty(3, np.int32)
    starts, sizes = np.empty(8, np.int64), np.empty(8, np.int64)
    rr_sample_lt(roff, np.ascontiguousarray(rsrc), rcum, pool.astype(np.int32), np.uint64(99),
                 np.arange(8, dtype=np.int64), 8, 3, buf, starts, sizes)
    ok = sizes >= 0
    assert not ok.all() and sizes[ok].sum() <= 3
    assert all(buf[s:s + z].tolist() == lt_rr_set(g, pool, 99, i) for i, (s, z) in enumerate(zip(starts, sizes))
               if z >= 0)


@pytest.mark.parametrize("seed", range(8))
def test_lt_rr_estimate_matches_exact_enumeration(seed):
    """The pitfall of Huang et al. (VLDB 2017, appendix A): RR sets must follow LT's live-edge worlds."""
    gen = np.random.default_rng(50 + seed)
    n = int(gen.integers(4, 7))
    g = lt_graph(50 + seed, n, 2 * n, directed=bool(seed % 2), full=0.6)
    while np.prod(np.bincount(g.indices, minlength=n) + 1.0) > 20000:
        g = lt_graph(50 + seed, n, n + 1, directed=bool(seed % 2), full=0.6)
    seeds = gen.choice(n, size=1 + seed % 2, replace=False)
    targeted = seed % 4 >= 2
    mask = (g.community == 0) if targeted and (g.community == 0).any() else np.ones(n, dtype=bool)
    pool = np.flatnonzero(mask)
    sets = lt_rr_sets(g, pool, 1000 + seed, 40000)
    est, se = rr_spread(sets, seeds, pool.size)
    exact = lt_exact(g, seeds, mask)["target_activated"]
    within(est, se, exact, "RR estimate")
    # IC on the same weights differs on these graphs (which is what the pitfall would look like)
    assert exact >= len(np.intersect1d(seeds, pool))


def test_lt_rr_estimate_matches_monte_carlo_global_and_targeted():
    g = mv.probabilities.random_normalized(lt_graph(8, 400, 2400, n_comm=4), rng=1)
    seeds = np.array([3, 77, 150, 299])
    for target in (None, 2):
        mask = np.ones(g.n_nodes, bool) if target is None else g.community == target
        pool = np.flatnonzero(mask)
        est, se = rr_spread(lt_rr_sets(g, pool, 7, 20000), seeds, pool.size)
        mc = mv.simulate(g, seeds, model="lt", n_runs=20000, rng=5, target=target).target_activated
        ic = mv.simulate(g, seeds, n_runs=20000, rng=5, target=target).target_activated
        z = abs(est - mc.mean()) / np.hypot(se, mc.std() / np.sqrt(mc.size))
        assert z < 4, (target, est, mc.mean())
        assert abs(ic.mean() - mc.mean()) > 8 * np.hypot(se, mc.std() / np.sqrt(mc.size))  # the models differ here


def test_rr_estimate_under_lt_matches_monte_carlo_global_and_targeted():
    g = mv.probabilities.random_normalized(lt_graph(9, 300, 1800, n_comm=3), rng=2)
    seeds = [5, 60, 200]
    for target in (None, 1):
        est, se, low, high = mv.seeding.rr_estimate(g, seeds, target=target, n_sets=30000, rng=3, model="lt")
        mc = mv.simulate(g, seeds, model="lt", n_runs=20000, rng=4, target=target).target_activated
        assert abs(est - mc.mean()) < 4 * np.hypot(se, mc.std() / np.sqrt(mc.size)), target
        ic, ic_se, _, _ = mv.seeding.rr_estimate(g, seeds, target=target, n_sets=30000, rng=3)
        assert abs(ic - est) > 8 * np.hypot(se, ic_se)  # LT's walks are not IC's sets on these weights


def test_imm_under_lt_picks_by_lt_spread():
    """The graph of the CELF test: seed 0 spreads to 4 nodes under LT (3.75 under IC), seed 4 to 3.85 under both."""
    g = mv.CommunityGraph.from_edges([0, 0, 1, 2, 4, 4, 5], [1, 2, 3, 3, 5, 6, 7],
                                     prob=[1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.85], community=[0, 0, 0, 1, 0, 0, 0, 1])
    assert np.asarray(mv.seeding.imm(g, 1, rng=0, model="lt")).tolist() == [0]
    assert np.asarray(mv.seeding.imm(g, 1, rng=0)).tolist() == [4]
    # activated members of {1, 2, 3, 5, 6, 7}: seed 0 gives 3 under LT (2.75 under IC), seed 4 gives 2.85
    h = g.with_community([0, 1, 1, 1, 0, 1, 1, 1])
    assert np.asarray(mv.seeding.imm_target(h, 1, target=1, rng=0, model="lt")).tolist() == [0]
    assert np.asarray(mv.seeding.imm_target(h, 1, target=1, rng=0)).tolist() == [4]
    assert np.asarray(mv.seeding.opim_c_target(h, 1, target=1, rng=0, model="lt")).tolist() == [0]
    bad = g.with_prob(np.full(g.n_arcs, 0.6))
    with pytest.raises(ValueError, match="in-weights"):
        mv.seeding.imm(bad, 1, rng=0, model="lt")
    t = mv.compare(g, ["imm_target"], k=1, model="lt", target=1, n_runs=100, rng=0)
    assert t.attrs["model"] == "lt"
