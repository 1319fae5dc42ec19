"""OPIM-C and the RR-set sampler, proven against exact enumeration of live-edge worlds.

Small graphs (at most 14 arcs) are solved exactly: every live-edge world is enumerated
with its probability, giving each node's reach in each world. From that follow the
exact distribution of an RR set under plain per-arc sampling (inclusion probability
of every node, distribution of the set size), the exact expected value of any seed
set, and the brute-force optimum over all seed sets of size k.
"""

import itertools
import math
import pickle
import sys
import warnings

import numba
import numpy as np
import pytest

import microviral as mv
from microviral._memory import Limit
from microviral._kernels.rrsets import max_coverage
from microviral.seeding.imm import RRCollection
from microviral.seeding.opim import _opim_c

E1 = 1.0 - 1.0 / math.e


# ---------------------------------------------------------------- exact enumeration
def _heads(g):
    return g.indices if hasattr(g, "indices") else g.targets


def world_reach(g):
    """``(weights[W], reach[W, n])``: world probabilities and, per world, a bitmask of the nodes u reaches."""
    m, n = g.n_arcs, g.n_nodes
    assert m <= 16 and n <= 62
    bits = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
    live = bits.astype(bool)
    p = np.asarray(g.prob, dtype=float)
    weights = np.prod(np.where(live, p, 1.0 - p), axis=1)
    reach = np.tile(np.left_shift(np.uint64(1), np.arange(n, dtype=np.uint64)), (2**m, 1))
    src, dst = np.asarray(g.arc_sources), np.asarray(_heads(g))
    for _ in range(n):
        for e in range(m):
            on = live[:, e]
            reach[on, src[e]] |= reach[on, dst[e]]
    return weights, reach


def exact_value(g, seeds, target_mask=None):
    """Exact expected number of activated nodes (or of activated members of ``target_mask``)."""
    weights, reach = world_reach(g)
    union = np.zeros(weights.size, dtype=np.uint64)
    for s in seeds:
        union |= reach[:, s]
    if target_mask is not None:
        union &= np.uint64(sum(1 << int(v) for v in np.flatnonzero(target_mask)))
    return float(weights @ np.bitwise_count(union))


def brute_force_opt(g, k, target_mask=None):
    weights, reach = world_reach(g)
    tbits = None if target_mask is None else np.uint64(sum(1 << int(v) for v in np.flatnonzero(target_mask)))
    best = 0.0
    for combo in itertools.combinations(range(g.n_nodes), k):
        union = np.zeros(weights.size, dtype=np.uint64)
        for s in combo:
            union |= reach[:, s]
        if tbits is not None:
            union &= tbits
        best = max(best, float(weights @ np.bitwise_count(union)))
    return best


def exact_rr_law(g, pool):
    """Exact law of one RR set under plain per-arc sampling: (P(u in RR) per node u, P(|RR| = s) per s)."""
    weights, reach = world_reach(g)
    n = g.n_nodes
    # inc[w, u, v]: u reaches v in world w, i.e. u belongs to the RR set of root v
    inc = ((reach[:, :, None] >> np.arange(n, dtype=np.uint64)[None, None, :]) & np.uint64(1)).astype(bool)
    inclusion = np.einsum("w,wuv->u", weights, inc[:, :, pool].astype(float)) / len(pool)
    sizes = inc[:, :, pool].sum(axis=1)  # (W, roots)
    law = np.zeros(n + 1)
    for j in range(len(pool)):
        np.add.at(law, sizes[:, j], weights)
    return np.clip(inclusion, 0.0, 1.0), np.clip(law / len(pool), 0.0, 1.0)


def graph_from(src, dst, prob, n, community=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, prob=prob, community=community)


def wc_graph():
    """Node 0 has six in-arcs of one probability (the geometric-skip shortcut); a few p = 1 arcs."""
    src = [1, 2, 3, 4, 5, 6, 7, 7, 3, 0, 5, 6]
    dst = [0, 0, 0, 0, 0, 0, 1, 2, 7, 5, 6, 3]
    g = graph_from(src, dst, 1.0, 8, community=list("ttoootto"))
    return mv.probabilities.weighted_cascade(g)


def mixed_graph():
    """Node 0's in-arcs have distinct probabilities, including 0 and 1 (jumps with thinning)."""
    src = [1, 2, 3, 4, 5, 6, 7, 2, 0, 3, 6, 1, 4]
    dst = [0, 0, 0, 0, 0, 0, 0, 1, 4, 2, 5, 7, 3]
    prob = [0.9, 0.5, 0.5, 0.2, 0.05, 0.0, 1.0, 0.6, 0.35, 0.7, 0.25, 0.4, 1.0]
    return graph_from(src, dst, prob, 8, community=list("tttooott"))


def uniform_graph():
    gen = np.random.default_rng(3)
    pairs = [(a, b) for a in range(7) for b in range(7) if a != b]
    pick = gen.choice(len(pairs), size=14, replace=False)
    src, dst = zip(*(pairs[i] for i in pick))
    return graph_from(list(src), list(dst), 0.35, 7, community=list("ttootto"))


SMALL = {"wc": wc_graph, "mixed": mixed_graph, "uniform": uniform_graph}


# ---------------------------------------------------------------- subset sampling has the law of plain sampling
@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("targeted", [False, True])
def test_rr_sets_have_the_exact_law_of_plain_sampling(name, targeted):
    g = SMALL[name]()
    pool = np.flatnonzero(g.target_mask("t")) if targeted else np.arange(g.n_nodes)
    inclusion, law = exact_rr_law(g, pool)
    n_sets = 200_000
    rr = RRCollection(g, None if not targeted else pool, base=2024)
    rr.extend(n_sets)
    members, offsets = rr.flat()
    freq = np.bincount(members, minlength=g.n_nodes) / n_sets
    se = np.sqrt(inclusion * (1 - inclusion) / n_sets)
    assert np.all(np.abs(freq - inclusion) <= 5 * se + 1e-12), (freq, inclusion)
    sizes = np.bincount(np.diff(offsets), minlength=law.size)[:law.size] / n_sets
    assert np.diff(offsets).max() < law.size
    se = np.sqrt(law * (1 - law) / n_sets)
    assert np.all(np.abs(sizes - law) <= 5 * se + 1e-12), (sizes, law)
    # the test has power: a sampler that ignores the thinning/jump probabilities would be caught
    assert inclusion[0] > 0 and law[1:].max() < 1


# ---------------------------------------------------------------- the greedy's upper bound
def best_cover(sets, n, k):
    return max(sum(1 for s in sets if set(s) & set(c)) for c in itertools.combinations(range(n), k))


def prefix_bound_py(sets, n, k, seeds):
    best = None
    for i in range(k + 1):
        chosen = set(seeds[:i])
        left = [s for s in sets if not (set(s) & chosen)]
        gains = sorted((sum(1 for s in left if v in s) for v in range(n)), reverse=True)
        bound = (len(sets) - len(left)) + sum(gains[:k])
        best = bound if best is None else min(best, bound)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_greedy_upper_bound_is_valid_and_exact(seed):
    gen = np.random.default_rng(seed)
    n, k = 9, 3
    sets = [gen.choice(n, size=gen.integers(1, 4), replace=False).tolist() for _ in range(60)]
    members = np.array([v for s in sets for v in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    seeds = np.empty(k, dtype=np.int64)
    covered, upper = max_coverage(members, offsets, n, k, seeds, True)
    opt = best_cover(sets, n, k)
    assert covered <= opt <= upper
    assert upper == prefix_bound_py(sets, n, k, seeds.tolist())
    for n_candidates in (0, 1, 2):   # picks outside the indexed candidates give the same seeds and bound
        again = np.empty(k, dtype=np.int64)
        assert max_coverage(members, offsets, n, k, again, True, n_candidates) == (covered, upper)
        assert np.array_equal(again, seeds)
    assert max_coverage(members, offsets, n, k, seeds, False)[1] == -1


def test_greedy_and_bound_on_many_small_instances_with_ties():
    # small counts (many 1s and 2s, many ties) and few indexed candidates: the cases where a node outside the
    # candidates ties for a pick, and where the k largest counts include low ones
    gen = np.random.default_rng(7)
    for _ in range(150):
        n, k = int(gen.integers(4, 16)), int(gen.integers(1, 5))
        sets = [gen.choice(n, size=gen.integers(1, 4), replace=False).tolist() for _ in range(gen.integers(3, 30))]
        members = np.array([v for s in sets for v in s], dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
        left, ref = list(sets), []
        for _ in range(k):
            best = max((v for v in range(n) if v not in ref), key=lambda v: (sum(v in s for s in left), -v))
            ref.append(best)
            left = [s for s in left if best not in s]
        bound = prefix_bound_py(sets, n, k, ref)
        for n_candidates in (0, 1, 2, 3):
            seeds = np.empty(k, dtype=np.int64)
            covered, upper = max_coverage(members, offsets, n, k, seeds, True, n_candidates)
            assert seeds.tolist() == ref and covered == len(sets) - len(left) and upper == bound


@pytest.mark.parametrize("seed", range(4))
def test_greedy_bound_with_hubs_ties_and_more_seeds_than_covering_nodes(seed):
    # skewed sizes (a hub in most sets), many equal counts, and k above the nodes in any set (picks of count 0)
    gen = np.random.default_rng(seed)
    n, k = 14, 9
    sets = [sorted({0} | set(gen.choice(6, size=gen.integers(0, 3), replace=False).tolist()))
            if gen.random() < 0.7 else gen.choice(6, size=gen.integers(1, 3), replace=False).tolist()
            for _ in range(80)]
    members = np.array([v for s in sets for v in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    for n_candidates in (0, 1, 2, 4096):
        seeds = np.empty(k, dtype=np.int64)
        covered, upper = max_coverage(members, offsets, n, k, seeds, True, n_candidates)
        plain = np.empty(k, dtype=np.int64)
        assert max_coverage(members, offsets, n, k, plain, False, n_candidates)[0] == covered
        assert np.array_equal(plain, seeds)
        assert covered == len(sets) and upper == prefix_bound_py(sets, n, k, seeds.tolist())
        # plain greedy: most uncovered sets, lowest index among equals (the lowest unchosen once all are covered)
        left, ref = list(sets), []
        for _ in range(k):
            best = max((v for v in range(n) if v not in ref), key=lambda v: (sum(v in s for s in left), -v))
            ref.append(best)
            left = [s for s in left if best not in s]
        assert seeds.tolist() == ref


# ---------------------------------------------------------------- OPIM-C against brute force
CASES = [(name, k, targeted) for name in sorted(SMALL) for k in (1, 2, 3) for targeted in (False, True)]


@pytest.mark.parametrize("name,k,targeted", CASES)
def test_opim_c_within_guarantee_of_the_brute_force_optimum(name, k, targeted):
    g = SMALL[name]()
    mask = g.target_mask("t") if targeted else None
    eps = 0.1
    seeds, info = _opim_c(g, k, eps=eps, target="t" if targeted else None, rng=k)
    value = exact_value(g, seeds, mask)
    opt = brute_force_opt(g, k, mask)
    assert value >= (E1 - eps) * opt - 1e-9
    # the certificate never claims more than brute force shows, and its bounds hold
    assert info["certified_ratio"] >= E1 - eps
    assert info["certified_ratio"] <= value / opt + 1e-12
    assert info["lower_bound"] <= value + 1e-9
    assert info["upper_bound"] >= opt - 1e-9


@pytest.mark.parametrize("name", sorted(SMALL))
def test_requested_ratio_is_certified_and_true(name):
    g = SMALL[name]()
    default = _opim_c(g, 2, rng=5)[1]
    seeds, info = _opim_c(g, 2, ratio=0.75, rng=5, max_rr_sets=2**18)
    opt = brute_force_opt(g, 2)
    assert info["certified_ratio"] >= 0.75
    assert info["certified_ratio"] <= exact_value(g, seeds) / opt + 1e-12
    assert info["n_rr_sets"] > default["n_rr_sets"]


def test_validation_estimate_is_unbiased_against_the_exact_value():
    g = mixed_graph()
    mask = g.target_mask("t")
    for target in (None, "t"):
        seeds, info = _opim_c(g, 2, target=target, rng=9)
        N = g.n_nodes if target is None else int(mask.sum())
        exact = exact_value(g, seeds, None if target is None else mask)
        f = info["validation_estimate"] / N
        se = N * math.sqrt(f * (1 - f) / info["n_rr_sets"])
        assert abs(info["validation_estimate"] - exact) < 4 * se + 1e-9


# ---------------------------------------------------------------- against Monte Carlo on a larger graph
def sbm(seed=0):
    g = mv.generators.planted_partition(4, 60, 0.12, 0.01, directed=True, rng=seed)
    return mv.probabilities.weighted_cascade(g)


@pytest.mark.parametrize("target", [None, 1])
def test_opim_c_estimate_agrees_with_monte_carlo(target):
    g = sbm()
    seeds = mv.seeding.opim_c(g, 5, eps=0.1, target=target, rng=3)
    info = seeds.info
    res = mv.simulate(g, seeds, n_runs=4000, target=target, rng=4)
    mc = res.target_activated.astype(float)
    N = info["pool_size"]
    f = info["validation_estimate"] / N
    se = N * math.sqrt(f * (1 - f) / info["n_rr_sets"])
    assert abs(info["validation_estimate"] - mc.mean()) < 4 * math.hypot(se, mc.std(ddof=1) / math.sqrt(mc.size))
    assert info["lower_bound"] <= mc.mean() + 4 * mc.std(ddof=1) / math.sqrt(mc.size)


def test_opim_c_close_to_imm_and_far_fewer_rr_sets():
    g = sbm(1)
    a = mv.seeding.opim_c(g, 5, rng=0)
    b = mv.seeding.imm(g, 5, rng=0)
    assert a.info["rr_sets_drawn"] * 3 < b.info["rr_sets_drawn"]
    va = mv.simulate(g, a, n_runs=3000, rng=1).reach.astype(float)
    vb = mv.simulate(g, b, n_runs=3000, rng=1).reach.astype(float)
    diff = va - (E1 - 0.1) * vb
    assert diff.mean() > 4 * diff.std(ddof=1) / math.sqrt(diff.size)


# ---------------------------------------------------------------- reproducibility, API
def test_same_rng_same_seeds_at_any_thread_count():
    g = sbm(2)
    old = numba.get_num_threads()
    out = []
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            out.append(mv.seeding.opim_c(g, 4, target=0, rng=11))
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(out[0], out[1]) and out[0].info == out[1].info
    assert not np.array_equal(out[0], mv.seeding.opim_c(g, 4, target=0, rng=12)) or \
        out[0].info != mv.seeding.opim_c(g, 4, target=0, rng=12).info


def test_strategies_registered_with_the_imm_convention():
    g = sbm(3)
    assert mv.seeding.get_strategy("opim_c") is mv.seeding.opim_c
    assert np.array_equal(mv.seeding.get_strategy("opim_c_reach")(g, 3, target=1, rng=2),
                          mv.seeding.opim_c(g, 3, rng=2))
    targeted = mv.seeding.opim_c(g, 3, target=1, rng=2)
    assert np.array_equal(mv.seeding.get_strategy("opim_c_target")(g, 3, target=1, rng=2), targeted)
    assert targeted.info["pool_size"] == int(g.target_mask(1).sum())
    with pytest.raises(ValueError, match="'target' is required"):
        mv.seeding.get_strategy("opim_c_target")(g, 3)


def test_seedset_behaves_as_an_array():
    g = sbm(4)
    s = mv.seeding.opim_c(g, 3, rng=0)
    assert isinstance(s, np.ndarray) and s.dtype == np.int64 and s.shape == (3,)
    assert 0 < s.certified_ratio <= 1 and s.certified_ratio == s.info["certified_ratio"]
    assert type(s[:2]) is np.ndarray and type(s + 1) is np.ndarray
    back = pickle.loads(pickle.dumps(s))
    assert np.array_equal(back, s) and back.info == s.info
    assert mv.seeding.imm(g, 3, rng=0).certified_ratio == pytest.approx(E1 - 0.1)


def test_ratio_out_of_reach_warns():
    g = sbm(5)
    with pytest.warns(RuntimeWarning, match="below the 'ratio' asked for"):
        s = mv.seeding.opim_c(g, 3, ratio=0.99, max_rr_sets=500, rng=0)
    assert s.info["n_rr_sets"] == 500 and s.certified_ratio < 0.99


def test_bad_opim_input():
    g = sbm(6)
    for name, value in (("eps", 0.0), ("eps", 1.0), ("delta", 0.0), ("delta", 1.5), ("ratio", 1.0), ("ratio", -1)):
        with pytest.raises(ValueError, match=f"'{name}' must be"):
            mv.seeding.opim_c(g, 2, **{name: value})
    with pytest.raises(TypeError, match="'eps' must be a real number"):
        mv.seeding.opim_c(g, 2, eps="0.1")
    with pytest.raises(ValueError, match="'model' must be one of 'ic'"):
        mv.seeding.opim_c(g, 2, model="sir")
    with pytest.raises(ValueError, match="'max_rr_sets' must be >= 1"):
        mv.seeding.opim_c(g, 2, max_rr_sets=0)
    with pytest.raises(ValueError, match="'k' must be <= the number of nodes"):
        mv.seeding.opim_c(g, g.n_nodes + 1)
    with pytest.raises(TypeError, match="'progress' must be"):
        mv.seeding.opim_c(g, 2, progress="yes")


def test_opim_c_refuses_rr_sets_that_do_not_fit(monkeypatch):
    g = sbm(7)
    monkeypatch.setattr(sys.modules["microviral._memory"], "_limits", lambda: [Limit(400_000, "test")])
    with pytest.raises(MemoryError, match="RR sets"):
        mv.seeding.opim_c(g, 3, ratio=0.95, max_rr_sets=2**24, rng=0)


def test_progress_bar_forced(capsys):
    g = sbm(8)
    a = mv.seeding.opim_c(g, 3, rng=1, progress=True)
    assert "OPIM-C" in capsys.readouterr().err
    assert np.array_equal(a, mv.seeding.opim_c(g, 3, rng=1, progress=False))


@pytest.mark.parametrize("serial_members", [0, 10**9])
def test_two_collections_grown_side_by_side_equal_those_grown_one_after_the_other(monkeypatch, serial_members):
    # 0: every batch split into parts on both collections' threads; 10**9: each collection on one thread
    from microviral.seeding import _rr

    monkeypatch.setattr(_rr, "_SERIAL_MEMBERS", serial_members)
    g = mv.probabilities.weighted_cascade(mv.planted_partition(5, 300, 0.05, 0.004, rng=4))
    bar = _rr.Progress(False, "test")
    pair = [RRCollection(g, None, base, progress=bar) for base in (5, 6)]
    alone = [RRCollection(g, None, base) for base in (5, 6)]
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        for size in (300, 5000, 12_000):
            _rr.grow_pair(pair[0], pair[1], size)
            for rr in alone:
                rr.grow_to(size)
            for a, b in zip(pair, alone):
                assert all(np.array_equal(x, y) for x, y in zip(a.flat(), b.flat()))
    finally:
        numba.set_num_threads(old)
    assert bar.done == 2 * 12_000
    assert not np.array_equal(pair[0].flat()[0], pair[1].flat()[0])
