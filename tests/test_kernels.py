"""Every kernel variant gives exactly the scalar reference kernel's outputs for the same keys."""

import importlib
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import cascade

import microviral as mv
from microviral._kernels.bits import cttz, popcount
from microviral._kernels.hashing import arc_uniform_py
from microviral._kernels.ic import ic_runs
from microviral._rng import check_rng, run_keys

engine = importlib.import_module("microviral._engine")

KERNELS = ["scalar", "bitparallel", "auto"]

NAMES = ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated")


def make_graph(seed, n, m, *, directed=True, n_comm=3, p=None, p_low=0.0, p_high=1.0, hubs=0):
    """Random graph; ``hubs`` nodes get many arcs (degrees past one and two coin blocks)."""
    gen = np.random.default_rng(seed)
    src = gen.integers(0, n, size=m)
    dst = gen.integers(0, n, size=m)
    if hubs:
        hub_src = np.repeat(gen.integers(0, n, size=hubs), 80)
        src = np.concatenate([src, hub_src])
        dst = np.concatenate([dst, gen.integers(0, n, size=hub_src.size)])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    prob = p if p is not None else gen.uniform(p_low, p_high, size=src.size)
    labels = gen.integers(0, n_comm, size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=labels, directed=directed, prob=prob)


def reference(graph, seeds, in_target, keys, max_rounds=-1):
    """The plain scalar kernel, with room for every round."""
    n = keys.size
    width = graph.n_nodes + 1
    out = dict(reach=np.empty(n, np.int64), target_activated=np.empty(n, np.int64), rounds=np.empty(n, np.int64),
               new_by_round=np.zeros((n, width), np.int32), new_target_by_round=np.zeros((n, width), np.int32),
               community_activated=np.zeros((n, graph.n_communities), np.int32))
    ic_runs(graph.indptr, graph.indices, graph.prob, seeds, in_target, graph.community, keys, max_rounds, 3,
            *out.values())
    needed = int(out["rounds"].max()) + 1
    out["new_by_round"] = out["new_by_round"][:, :needed]
    out["new_target_by_round"] = out["new_target_by_round"][:, :needed]
    return out


# the kernel simulate_keys (below) and simulate use; the ``kernel`` fixture sets it
_KERNEL = "auto"


def simulate_keys(graph, seeds, in_target, keys, **kw):
    """The engine's entry with the kernel under test."""
    return engine.run_chunk(graph, seeds, in_target, keys, kernel=_KERNEL, **kw)


@pytest.fixture(params=KERNELS)
def kernel(request, monkeypatch):
    """Run the test with each kernel; "auto" with a pilot small enough to switch on these small graphs."""
    monkeypatch.setattr(sys.modules[__name__], "_KERNEL", request.param)
    monkeypatch.setattr(engine, "_PILOT_RUNS", 2)
    monkeypatch.setattr(engine, "_PILOT_MIN_RUNS", 16)
    monkeypatch.setattr(engine, "_BITPARALLEL_REACH", 0.0 if request.param == "auto" else 0.5)
    return request.param


def assert_same(got, want):
    for name in NAMES:
        assert got[name] is not None, name
        assert got[name].shape == want[name].shape, name
        assert np.array_equal(got[name], want[name]), name


def inputs(graph, seeds, target, n_runs, rng):
    seeds = np.asarray(seeds, dtype=np.int32)
    if isinstance(target, int):  # a position among the communities (names may be any labels)
        target = graph.community_names[target]
    in_target = np.ascontiguousarray(graph.target_mask(target), dtype=np.uint8)
    return seeds, in_target, run_keys(check_rng(rng), n_runs)


CASES = [
    # (graph kwargs, seeds, n_runs)
    (dict(seed=0, n=60, m=200, p_low=0.0, p_high=0.5), [0, 1], 200),
    (dict(seed=1, n=60, m=200, directed=False, p_low=0.0, p_high=0.3), [3], 200),
    (dict(seed=2, n=300, m=900, p=0.2, hubs=3), [0, 5, 9], 150),  # uniform probability: the scalar-p path
    (dict(seed=3, n=300, m=600, directed=False, p=0.07, hubs=4), [1], 150),
    (dict(seed=4, n=200, m=1200, p_low=0.0, p_high=0.15, hubs=5), [2, 3], 150),  # degrees > 64
    (dict(seed=5, n=50, m=300, p=1.0), [0], 20),  # p = 1: exactly the reachable set
    (dict(seed=6, n=50, m=300, p=0.0), [0, 1, 2], 20),  # p = 0: exactly the seeds
    (dict(seed=7, n=1, m=0, p=0.5), [0], 5),  # a single node, no arcs
    (dict(seed=8, n=120, m=100, p_low=0.5, p_high=1.0, n_comm=1), [7], 80),  # sparse, long chains
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fast_kernel_equals_reference_kernel(case, kernel):
    kw, seeds, n_runs = CASES[case]
    g = make_graph(**kw)
    seeds, in_target, keys = inputs(g, seeds, 1 if g.n_communities > 1 else None, n_runs, case)
    assert_same(simulate_keys(g, seeds, in_target, keys), reference(g, seeds, in_target, keys))


@pytest.mark.parametrize("max_rounds", [0, 1, 3])
def test_fast_kernel_equals_reference_with_max_rounds(max_rounds, kernel):
    g = make_graph(11, 200, 1000, p_low=0.1, p_high=0.6, hubs=2)
    seeds, in_target, keys = inputs(g, [0, 1], 2, 100, 5)
    got = simulate_keys(g, seeds, in_target, keys, max_rounds=max_rounds)
    assert_same(got, reference(g, seeds, in_target, keys, max_rounds))
    assert got["rounds"].max() <= max_rounds


def test_fast_kernel_matches_pure_python_cascade(kernel):
    g = make_graph(12, 80, 400, directed=False, p_low=0.0, p_high=0.4, hubs=1)
    seeds, in_target, keys = inputs(g, [0, 4], 0, 40, 9)
    got = simulate_keys(g, seeds, in_target, keys)
    mask = g.target_mask(0)
    for r in range(keys.size):
        layers = cascade(g, seeds, keys[r], mask)
        assert got["reach"][r] == sum(len(x) for x in layers)
        sizes = [len(x) for x in layers]
        assert got["new_by_round"][r, : len(sizes)].tolist() == sizes
        assert got["new_target_by_round"][r, : len(sizes)].tolist() == [int(mask[x].sum()) for x in layers]


def test_probability_on_a_coin_boundary(kernel):
    """Live iff uniform < p, exactly: p equal to an arc's uniform is dead, the next float up is live."""
    n = 70  # a star with 69 arcs: two full coin blocks and a partial one
    key = np.uint64(0x1234_5678_9ABC_DEF0)
    u = np.array([arc_uniform_py(key, e) for e in range(n - 1)])
    prob = np.where(np.arange(n - 1) % 2 == 0, u, np.nextafter(u, 1.0))
    g = mv.CommunityGraph.from_edges(np.zeros(n - 1, int), np.arange(1, n), prob=prob)
    seeds = np.array([0], np.int32)
    in_target = np.ones(n, np.uint8)
    keys = np.array([key], np.uint64)
    got = simulate_keys(g, seeds, in_target, keys)
    assert got["reach"][0] == 1 + (n - 1) // 2  # the odd arcs only
    assert_same(got, reference(g, seeds, in_target, keys))
    # the same boundary with one probability on every arc (the scalar-p path)
    for e in (0, 5, 40):
        ge = g.with_prob(np.full(n - 1, u[e]))
        got = simulate_keys(ge, seeds, in_target, keys)
        assert got["reach"][0] == 1 + int((u < u[e]).sum())
        assert_same(got, reference(ge, seeds, in_target, keys))


def test_levels_with_more_live_blocks_than_the_pending_buffer(kernel):
    """A hub with 40,000 arcs: more live 32-arc blocks in one level than the kernel buffers before draining."""
    n = 40_001
    gen = np.random.default_rng(17)
    src = np.concatenate([np.zeros(n - 1, int), gen.integers(1, n, 20_000)])
    dst = np.concatenate([np.arange(1, n), gen.integers(1, n, 20_000)])
    keep = src != dst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, prob=gen.uniform(0.0, 0.6, keep.sum()),
                                         community=np.arange(n) % 3)
    seeds, in_target, keys = inputs(g, [0], 2, 12, 8)
    assert_same(simulate_keys(g, seeds, in_target, keys), reference(g, seeds, in_target, keys))


def test_runs_longer_than_the_round_buffer_are_replayed_exactly(monkeypatch, kernel):
    n = 60  # a chain of likely arcs plus random shortcuts: runs of very different lengths
    gen = np.random.default_rng(13)
    src = np.concatenate([np.arange(n - 1), gen.integers(0, n, 30)])
    dst = np.concatenate([np.arange(1, n), gen.integers(0, n, 30)])
    keep = src != dst
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, prob=gen.uniform(0.85, 1.0, keep.sum()),
                                         community=np.arange(n) % 2)
    seeds, in_target, keys = inputs(g, [0], 1, 64, 3)
    want = reference(g, seeds, in_target, keys)
    assert want["rounds"].max() > 4
    monkeypatch.setattr(engine, "_ROUND_WIDTH", 2)
    monkeypatch.setattr(engine, "_ROUND_BUFFER_BYTES", 4 * 64 * 3)  # room for 3 rounds per run
    assert_same(simulate_keys(g, seeds, in_target, keys), want)


def test_count_communities_off_gives_no_counts_and_same_rest(kernel):
    g = make_graph(14, 100, 400, p_low=0.0, p_high=0.4)
    seeds, in_target, keys = inputs(g, [0], 1, 50, 4)
    got = simulate_keys(g, seeds, in_target, keys, count_communities=False)
    want = reference(g, seeds, in_target, keys)
    assert got["community_activated"] is None
    for name in NAMES[:-1]:
        assert np.array_equal(got[name], want[name]), name


@settings(deadline=None, max_examples=30)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 90), density=st.floats(0.5, 6.0),
       directed=st.booleans(), uniform=st.booleans(), p=st.floats(0.0, 1.0), n_runs=st.integers(1, 140),
       kernel=st.sampled_from(KERNELS))
def test_fast_kernel_equals_reference_on_random_graphs(seed, n, density, directed, uniform, p, n_runs, kernel):
    g = make_graph(seed, n, int(n * density) + 1, directed=directed, p=p if uniform else None, p_high=p)
    seeds, in_target, keys = inputs(g, [0], 0, n_runs, seed)
    old = engine._PILOT_RUNS, engine._PILOT_MIN_RUNS, engine._BITPARALLEL_REACH
    engine._PILOT_RUNS, engine._PILOT_MIN_RUNS, engine._BITPARALLEL_REACH = 3, 24, 0.0
    try:
        got = engine.run_chunk(g, seeds, in_target, keys, kernel=kernel)
    finally:
        engine._PILOT_RUNS, engine._PILOT_MIN_RUNS, engine._BITPARALLEL_REACH = old
    assert_same(got, reference(g, seeds, in_target, keys))


def spy_kernels(monkeypatch):
    """Record (kernel name, numba threads) of every kernel call of the engine (for this test only)."""
    import numba

    seen = []
    for model in engine.MODELS.values():
        for name in model.kernels:
            reals = {one_thread: model.kernel(name, one_thread) for one_thread in (False, True)}
            for one_thread, real in reals.items():
                monkeypatch.setitem(model.loaded, (name, one_thread), lambda *args, _real=real, _name=name,
                                    _one=one_thread: (seen.append((_name, 1 if _one else numba.get_num_threads())),
                                                      _real(*args)))
    return seen


def test_short_calls_run_on_one_thread_with_the_same_results(monkeypatch):
    g = make_graph(18, 300, 1500, p_low=0.0, p_high=0.3)
    seeds, in_target, keys = inputs(g, [0, 1], 1, 300, 2)
    big = make_graph(19, 3000, 30000, p_low=0.0, p_high=0.3)
    big_seeds, big_target, _ = inputs(big, [0, 1], 1, 300, 2)
    seen = spy_kernels(monkeypatch)
    with engine.threads(2):
        short = simulate_keys(g, seeds, in_target, keys)  # at most 300 runs x 1500 arcs: short, one thread
        simulate_keys(big, big_seeds, big_target, keys)  # up to 300 runs x 30000 arcs: all threads
    assert [t for _, t in seen] == [1, 2]
    assert_same(short, reference(g, seeds, in_target, keys))


def test_auto_picks_bit_parallel_for_large_cascades_only(monkeypatch):
    g = make_graph(16, 400, 2400, directed=False, p=0.5)  # nearly everyone is reached
    seeds, in_target, keys = inputs(g, [0], 0, 600, 1)
    seen = spy_kernels(monkeypatch)
    got = simulate_keys(g, seeds, in_target, keys)
    assert [k for k, _ in seen] == ["scalar", "bitparallel"]  # a scalar pilot, then the rest
    assert_same(got, reference(g, seeds, in_target, keys))
    seen.clear()
    assert_same(simulate_keys(g, seeds, in_target, keys), got)
    assert [k for k, _ in seen] == ["scalar", "bitparallel"]  # the same again: nothing is remembered
    seen.clear()
    simulate_keys(g.with_prob(np.full(g.n_arcs, 0.01)), seeds, in_target, keys)
    assert [k for k, _ in seen] == ["scalar", "scalar"]
    seen.clear()
    simulate_keys(g.with_prob(g.prob), seeds, in_target, keys[:100])  # too few runs for a pilot
    assert [k for k, _ in seen] == ["scalar"]


def test_results_identical_with_one_and_two_threads(kernel, monkeypatch):
    monkeypatch.setattr(engine, "_SERIAL_BELOW_S", 0.0)  # really use two threads, however short the call
    g = make_graph(15, 3000, 15000, directed=False, n_comm=4, p_low=0.0, p_high=0.25, hubs=10)
    a = mv.simulate(g, [0, 1, 2], n_runs=2000, target=2, rng=77, n_threads=1, kernel=kernel)
    b = mv.simulate(g, [0, 1, 2], n_runs=2000, target=2, rng=77, n_threads=2, kernel=kernel)
    for name in NAMES:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.reach.std() > 0
    gu = g.with_prob(np.full(g.n_arcs, 0.08))  # the scalar-p path too
    a = mv.simulate(gu, [0, 1, 2], n_runs=2000, rng=78, n_threads=1, kernel=kernel)
    b = mv.simulate(gu, [0, 1, 2], n_runs=2000, rng=78, n_threads=2, kernel=kernel)
    for name in NAMES:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_bit_intrinsics():
    from numba import njit

    @njit
    def both(x):
        return cttz(x), popcount(x)

    gen = np.random.default_rng(0)
    for x in [1, 2, 3, 2**63, 2**64 - 1, *gen.integers(1, 2**63, size=50).tolist()]:
        tz, pc = both(np.uint64(x))
        assert tz == (x & -x).bit_length() - 1
        assert pc == bin(x).count("1")


def test_vector_coin_intrinsics_match_the_pure_python_coin():
    from numba import njit

    from microviral._kernels.bits import live_block, live_block_scaled, live_lanes

    @njit
    def blocks(key, blk, prob, p_scaled):
        return live_block(key, blk, prob), live_block_scaled(key, blk, p_scaled)

    @njit
    def lanes(keys64, arc, threshold):
        return live_lanes(keys64, (np.uint64(arc) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15), threshold)

    gen = np.random.default_rng(3)
    prob = gen.uniform(0.0, 1.0, 200)
    for key in [0, 2**64 - 1, *gen.integers(0, 2**63, size=5).tolist()]:
        for blk in (0, 7, 100, 168):
            u = [arc_uniform_py(key, blk + j) for j in range(32)]
            got_arcs, got_scaled = blocks(np.uint64(key), blk, prob, 0.25 * 2.0**53)
            assert int(got_arcs) == sum(1 << j for j in range(32) if u[j] < prob[blk + j])
            assert int(got_scaled) == sum(1 << j for j in range(32) if u[j] < 0.25)
    keys64 = gen.integers(0, 2**63, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    for arc in (0, 1, 12345, 10**9):
        for p in (0.0, 0.3, 1.0):
            got = int(lanes(keys64, arc, p * 2.0**53))
            assert got == sum(1 << lane for lane in range(64) if arc_uniform_py(int(keys64[lane]), arc) < p)


@pytest.mark.parametrize("n_candidates", [1, 2, 5])
def test_shard_cover_outside_the_indexed_candidates_equals_a_full_index(n_candidates):
    from microviral._kernels.rr_shard import shard_cover, shard_index

    gen = np.random.default_rng(n_candidates)
    n = 15   # small counts (1s and 2s), so picks outside the index cover single sets too
    sets = [gen.choice(n, size=gen.integers(1, 4), replace=False) for _ in range(25)]
    members = np.concatenate(sets).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    states = []
    for k in (0, n_candidates):   # 0: every node indexed
        count, slot, ioff, iset = shard_index(members, offsets, n, k)
        states.append((count, slot, ioff, iset, np.zeros(len(sets), np.uint8), np.zeros(n, np.int64),
                       np.empty(n, np.int32)))
    assert (states[1][1] >= 0).sum() < n   # some nodes are left out of the small index
    picked = []
    for v in gen.permutation(n)[:12]:
        picked.append(int(v))
        fell = []
        for count, slot, ioff, iset, covered, drop, touched in states:
            m = shard_cover(np.int64(v), members, offsets, slot, ioff, iset, covered, count, drop, touched)
            nodes = np.sort(touched[:m])
            fell.append((nodes.tolist(), drop[nodes].tolist()))
            drop[nodes] = 0
        assert fell[0] == fell[1]
        assert np.array_equal(states[0][0], states[1][0]) and np.array_equal(states[0][4], states[1][4])
    hit = [bool(set(s.tolist()) & set(picked)) for s in sets]
    assert states[1][4].astype(bool).tolist() == hit
    assert states[1][0].tolist() == [sum(v in s for s, h in zip(sets, hit) if not h) for v in range(n)]
