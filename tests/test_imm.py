"""IMM and RR sets: the kernel against a pure-Python twin, RR estimates against Monte Carlo, greedy
coverage, the approximation guarantee against CELF, targeted IMM on a niche graph, real data sets."""

import math
import warnings

import numba
import numpy as np
import pytest

import microviral as mv
from microviral._memory import Limit
from microviral._kernels.rrsets import max_coverage
from microviral.seeding.imm import RRCollection, _imm, sorted_reverse

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64_py(z):
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def unit(z):
    return (z >> 11) * 2.0**-53


def rr_set_py(graph, pool, base, i):
    """Pure-Python twin of the RR kernel: root by hash, geometric jumps over sorted in-arcs."""
    roff, rsrc, rprob, rlogq, _ = sorted_reverse(graph)
    key = mix64_py(int(base) + (i + 1) * GOLDEN)
    root = int(pool[int(unit(mix64_py(key)) * len(pool))])
    members = [root]
    seen = {root}
    head = 0
    while head < len(members):
        v = members[head]
        head += 1
        stream = mix64_py(key + (v + 1) * GOLDEN)
        t = 0
        j, end = int(roff[v]), int(roff[v + 1])
        while j < end:
            rate = rprob[j]
            if rate <= 0:
                break
            if rate < 1:
                t += 1
                gap = math.floor(math.log(1.0 - unit(mix64_py(stream + t * GOLDEN))) / rlogq[j])
                if gap >= end - j:
                    break
                j += gap
            p = rprob[j]
            if p < rate:
                t += 1
                if unit(mix64_py(stream + t * GOLDEN)) * rate >= p:
                    j += 1
                    continue
            u = int(rsrc[j])
            j += 1
            if u not in seen:
                seen.add(u)
                members.append(u)
    return members


def random_graph(seed, n=40, m=160, directed=True, p=0.15, n_target=None):
    gen = np.random.default_rng(seed)
    src, dst = gen.integers(0, n, m), gen.integers(0, n, m)
    n_target = n // 3 if n_target is None else n_target
    comm = np.where(np.arange(n) < n_target, "t", "o")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, directed=directed, prob=p, community=comm)


def mixed_prob_graph(seed):
    g = random_graph(seed, n=30, m=150)
    gen = np.random.default_rng(seed)
    return mv.probabilities.from_array(g, gen.choice([0.0, 0.05, 0.3, 0.7, 1.0], size=g.n_arcs))


GRAPHS = {
    "uniform": lambda: random_graph(0),
    "wc_undirected": lambda: mv.probabilities.weighted_cascade(random_graph(1, directed=False, m=100)),
    "trivalency": lambda: mv.probabilities.trivalency(random_graph(2, m=300), rng=2),
    "resonance": lambda: mv.probabilities.resonance(random_graph(3, m=200), "t", 0.4, 0.05),
    "mixed": lambda: mixed_prob_graph(4),
}


# ---------------------------------------------------------------- the kernel
@pytest.fixture(params=["plain", "interleaved"])
def sampler(request, monkeypatch):
    """Run the test with IC's RR sets drawn by the plain kernel, then by the interleaved one."""
    from microviral.seeding import _rr

    monkeypatch.setattr(_rr, "INTERLEAVE_BYTES", 1 << 62 if request.param == "plain" else 0)
    return request.param


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_kernel_matches_python_twin(name, sampler):
    g = GRAPHS[name]()
    for pool in (None, np.flatnonzero(g.target_mask("t"))):
        rr = RRCollection(g, pool, base=12345)
        rr.extend(300)
        ref_pool = np.arange(g.n_nodes) if pool is None else pool
        for i in range(300):
            assert rr.set(i).tolist() == rr_set_py(g, ref_pool, 12345, i)


@pytest.mark.parametrize("name", sorted(GRAPHS) + ["empty", "some_mixed"])
def test_sorted_reverse_sorts_each_nodes_in_arcs_by_probability(name):
    """Only nodes with unequal in-arc probabilities are sorted; the result is a full stable sort's."""
    if name == "empty":
        g = mv.CommunityGraph.from_edges([], [], n_nodes=3)
    elif name == "some_mixed":
        g = random_graph(9, n=200, m=2000)
        prob = np.full(g.n_arcs, 0.2)
        odd = np.isin(g.indices, np.arange(0, 200, 7))
        prob[odd] = np.random.default_rng(9).choice([0.05, 0.2, 0.6], size=odd.sum())
        g = mv.probabilities.from_array(g, prob)
    else:
        g = GRAPHS[name]()
    roff, rsrc, rprob, rlogq, node_logq = sorted_reverse(g)
    r0, t0, a0 = g._in_arcs()
    p0 = g.prob[a0]
    order = np.lexsort((-p0, np.repeat(np.arange(g.n_nodes), np.diff(r0))))
    assert np.array_equal(rsrc, t0[order]) and np.array_equal(rprob, p0[order])
    assert np.array_equal(roff, r0)
    with np.errstate(divide="ignore"):
        assert np.array_equal(rlogq, np.log1p(-rprob))
    for v in range(g.n_nodes):
        ps = rprob[roff[v]:roff[v + 1]]
        one = ps.size > 0 and ps.min() == ps.max() and 0 < ps[0] < 1
        assert node_logq[v] == (np.log1p(-ps[0]) if one else 0.0)


def test_rr_sets_independent_of_threads_and_batches(sampler):
    g = GRAPHS["trivalency"]()
    old = numba.get_num_threads()
    flats = []
    try:
        for threads, batches in ((1, [2000]), (numba.config.NUMBA_NUM_THREADS, [2000]), (1, [1, 499, 700, 800])):
            numba.set_num_threads(threads)
            rr = RRCollection(g, None, base=99)
            for b in batches:
                rr.extend(b)
            flats.append(tuple(a.copy() for a in rr.flat()))
    finally:
        numba.set_num_threads(old)
    for members, offsets in flats[1:]:
        assert np.array_equal(members, flats[0][0]) and np.array_equal(offsets, flats[0][1])


def test_overflow_retry_gives_the_same_sets(sampler):
    # p = 1 on a dense graph: every RR set is large, far above the first size guess
    g = mv.probabilities.uniform(random_graph(5, n=60, m=600), 1.0)
    rr = RRCollection(g, None, base=7)
    rr.extend(500)
    one = RRCollection(g, None, base=7)
    for _ in range(5):
        one.extend(1)
    sizes = np.diff(rr.flat()[1])
    assert sizes.mean() > 20
    for i in range(5):
        assert np.array_equal(rr.set(i), one.set(i))
        assert sorted(rr.set(i).tolist()) == sorted(rr_set_py(g, np.arange(60), 7, i))
    assert rr.peak_bytes >= rr.nbytes()


def _flat_sets(graph, n_sets, base, pool=None, *, interleaved, monkeypatch, threads=None):
    from microviral.seeding import _rr

    monkeypatch.setattr(_rr, "INTERLEAVE_BYTES", 0 if interleaved else 1 << 62)
    old = numba.get_num_threads()
    try:
        if threads:
            numba.set_num_threads(threads)
        rr = RRCollection(graph, pool, base=base)
        assert rr._sampler.interleaved is interleaved
        rr.extend(n_sets)
    finally:
        numba.set_num_threads(old)
    return tuple(a.copy() for a in rr.flat())


@pytest.mark.parametrize("name", ["wc_5k", "hubs_p1", "hubs_mixed", "targeted"])
def test_interleaved_sampler_draws_the_plain_samplers_sets(name, monkeypatch):
    """The same sets, in the same order within each set, on graphs large enough for many chunks and lanes.

    ``hubs_*`` have nodes with hundreds of live in-arcs, more than one step of a lane
    draws (``PICKS``), so a node's draw is resumed across steps; ``hubs_p1`` makes
    every set huge, so chunks overflow and are sampled again with more room.
    """
    from microviral._kernels.rrsets import PICKS

    gen = np.random.default_rng(11)
    pool = None
    if name in ("wc_5k", "targeted"):
        g = mv.probabilities.weighted_cascade(random_graph(6, n=5000, m=40_000, directed=False))
        pool = np.flatnonzero(g.target_mask("t")) if name == "targeted" else None
    else:
        n = 3000
        src = np.concatenate([gen.integers(0, n, 20_000), gen.integers(0, n, 3 * 500)])
        dst = np.concatenate([gen.integers(0, n, 20_000), np.repeat([0, 1, 2], 500)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mv.DataWarning)
            g = mv.CommunityGraph.from_edges(src, dst, n_nodes=n, directed=True, prob=0.02)
        if name == "hubs_p1":
            prob = np.where(np.isin(g.indices, [0, 1, 2]), 1.0, 0.02)
        else:
            prob = gen.choice([0.0, 0.01, 0.2, 0.9, 1.0], size=g.n_arcs)
        g = mv.probabilities.from_array(g, prob)
        assert np.diff(g._in_arcs()[0]).max() > PICKS
    n_sets = 3000 if name == "hubs_p1" else 20_000
    plain = _flat_sets(g, n_sets, 5, pool, interleaved=False, monkeypatch=monkeypatch)
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        both = _flat_sets(g, n_sets, 5, pool, interleaved=True, monkeypatch=monkeypatch, threads=threads)
        assert np.array_equal(both[1], plain[1]) and np.array_equal(both[0], plain[0])
    if name == "hubs_p1":
        assert np.diff(plain[1]).max() > 500


def test_sampler_chosen_by_the_graphs_size(monkeypatch):
    from microviral.seeding import _rr

    assert not _rr.SAMPLERS["ic"](GRAPHS["uniform"]()).interleaved
    g = GRAPHS["trivalency"]()
    roff, rsrc, _, _, node_logq = sorted_reverse(g)
    size = roff.nbytes + rsrc.nbytes + node_logq.nbytes
    for limit, interleaved in ((size, True), (size + 1, False)):
        monkeypatch.setattr(_rr, "INTERLEAVE_BYTES", limit)
        assert _rr.SAMPLERS["ic"](g).interleaved is interleaved


def test_imm_seeds_the_same_with_either_sampler(monkeypatch):
    g = mv.probabilities.weighted_cascade(random_graph(8, n=3000, m=20_000, directed=False))
    from microviral.seeding import _rr

    out = []
    for limit in (1 << 62, 0):
        monkeypatch.setattr(_rr, "INTERLEAVE_BYTES", limit)
        for target in (None, "t"):
            seeds, info = _imm(g, 5, eps=0.3, rng=3, target=target)
            out.append((seeds.tolist(), info["n_rr_sets"], info["estimate"]))
    assert out[:2] == out[2:]


def greedy_cover_py(sets, n, k):
    covered = [False] * len(sets)
    seeds = []
    total = 0
    for _ in range(k):
        gain = [0] * n
        for r, s in enumerate(sets):
            if not covered[r]:
                for v in s:
                    gain[v] += 1
        best = max((v for v in range(n) if v not in seeds), key=lambda v: (gain[v], -v))
        seeds.append(best)
        total += gain[best]
        for r, s in enumerate(sets):
            if best in s:
                covered[r] = True
    return seeds, total


@pytest.mark.parametrize("seed", range(4))
def test_max_coverage_matches_plain_greedy(seed):
    gen = np.random.default_rng(seed)
    n = 15
    sets = [gen.choice(n, size=gen.integers(1, 5), replace=False).tolist() for _ in range(200)]
    members = np.array([v for s in sets for v in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    ref, ref_total = greedy_cover_py(sets, n, 6)
    # an inverted index for every node (0), for the best-covered 1 or 3 only (the other picks find their sets
    # by a pass over all sets), and the default
    for n_candidates in (0, 1, 3, None):
        out = np.empty(6, dtype=np.int64)
        extra = () if n_candidates is None else (n_candidates,)
        total, _ = max_coverage(members, offsets, n, 6, out, False, *extra)
        assert out.tolist() == ref and total == ref_total


# ---------------------------------------------------------------- RR estimates against Monte Carlo
@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("targeted", [False, True])
def test_rr_estimate_agrees_with_monte_carlo(name, targeted):
    g = GRAPHS[name]()
    seeds = [0, 17, 25]
    target = "t" if targeted else None
    est, se, _, _ = mv.seeding.rr_estimate(g, seeds, target=target, n_sets=40_000, rng=11)
    res = mv.simulate(g, seeds, n_runs=4000, target=target, rng=12)
    mc = res.target_activated
    mc_mean, mc_se = mc.mean(), mc.std(ddof=1) / math.sqrt(mc.size)
    assert abs(est - mc_mean) < 4 * math.hypot(se, mc_se) + 1e-9, (est, se, mc_mean, mc_se)


def test_rr_estimate_exact_on_a_path():
    # 0 -> 1 -> 2, p = 0.5: E[reach from {0}] = 1 + 0.5 + 0.25
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=0.5)
    est, se, _, _ = mv.seeding.rr_estimate(g, [0], n_sets=60_000, rng=3)
    assert abs(est - 1.75) < 4 * se


# ---------------------------------------------------------------- IMM
def test_imm_info_and_determinism():
    g = GRAPHS["uniform"]()
    seeds, info = _imm(g, 4, eps=0.3, rng=5)
    again, _ = _imm(g, 4, eps=0.3, rng=5)
    assert np.array_equal(seeds, again) and seeds.dtype == np.int64
    assert info["selection_sets"] >= info["n_rr_sets"] >= 1
    assert info["lower_bound"] >= 1 and info["n_rr_sets"] == math.ceil(info["lambda_star"] / info["lower_bound"])
    assert info["peak_rr_bytes"] >= info["rr_bytes"] > 0
    # more precision asks for more RR sets (n_rr_sets ~ 1 / eps^2)
    assert _imm(g, 4, eps=0.15, rng=5)[1]["n_rr_sets"] > 2 * info["n_rr_sets"]


@pytest.mark.parametrize("seed,objective", [(0, "reach"), (1, "reach"), (2, "target"), (3, "target")])
def test_imm_within_guarantee_of_celf(seed, objective):
    g = random_graph(seed, n=30, m=90, p=0.25)
    target = "t" if objective == "target" else None
    eps = 0.1
    celf_seeds = mv.seeding.celf(g, 3, target=target, n_runs=300, rng=seed, objective=objective)
    imm_seeds = mv.seeding.imm(g, 3, eps=eps, target=target, rng=seed)
    a = mv.simulate(g, imm_seeds, n_runs=4000, target=target, rng=100 + seed).target_activated
    b = mv.simulate(g, celf_seeds, n_runs=4000, target=target, rng=100 + seed).target_activated
    diff = a - (1 - 1 / math.e - eps) * b
    assert diff.mean() > -4 * diff.std(ddof=1) / math.sqrt(diff.size)
    # in practice IMM is much closer than the guarantee
    assert a.mean() >= 0.9 * b.mean()


def niche_graph(seed=0):
    """A niche of 60 nodes (resonant content) in a background of 1500 better-connected nodes."""
    g = mv.generators.niche_in_background(1500, 60, niche_degree=6, background_degree=12, n_bridges=30, rng=seed)
    return mv.probabilities.resonance(g, "niche", p_in=0.25, p_out=0.05)


def test_targeted_imm_beats_global_imm_and_degree_on_a_niche():
    g = niche_graph()
    table = mv.compare(g, ["imm_target", "imm_reach", "degree"], k=5, target="niche", n_runs=2000, rng=1,
                       strategy_options={"imm_target": {"eps": 0.2}, "imm_reach": {"eps": 0.2}})
    rows = table.set_index("strategy")
    niche = g.target_mask("niche")
    assert niche[np.array(rows.loc["imm_target", "seeds"])].all()
    assert not niche[np.array(rows.loc["degree", "seeds"])].any()
    for other in ("imm_reach", "degree"):
        # paired differences are other - imm_target: the whole CI lies below zero
        assert rows.loc[other, "penetration_diff_ci_high"] < 0, rows.loc[other]
    # global IMM still wins on reach, which is what it maximises
    assert rows.loc["imm_reach", "reach_diff_ci_low"] > 0


# ---------------------------------------------------------------- real data sets
LOADERS = {
    "polbooks": mv.datasets.load_polbooks,
    "football": mv.datasets.load_football,
    "email-eu-core": mv.datasets.load_email_eu_core,
    "polblogs": mv.datasets.load_polblogs,
    "github-musae": mv.datasets.load_github,
}


def load_real(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)  # self-loops and repeated edges, dropped and reported
        return mv.probabilities.weighted_cascade(LOADERS[name]())


@pytest.mark.parametrize("name,k,eps,n_runs", [("polbooks", 5, 0.1, 1000), ("football", 5, 0.1, 1000),
                                               ("email-eu-core", 10, 0.1, 1000), ("polblogs", 10, 0.1, 1000),
                                               ("github-musae", 20, 0.3, 150)])
def test_imm_not_below_degree_discount_on_real_data(name, k, eps, n_runs):
    g = load_real(name)
    imm_seeds = mv.seeding.imm(g, k, eps=eps, rng=0)
    dd_seeds = mv.seeding.degree_discount(g, k)
    a = mv.simulate(g, imm_seeds, n_runs=n_runs, rng=1, count_communities=False).reach
    b = mv.simulate(g, dd_seeds, n_runs=n_runs, rng=1, count_communities=False).reach
    diff = (a - b).astype(float)
    assert diff.mean() >= -4 * diff.std(ddof=1) / math.sqrt(diff.size), (diff.mean(), a.mean(), b.mean())


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_bad_eps(eps):
    g = GRAPHS["uniform"]()
    with pytest.raises(ValueError, match=r"'eps' must be a finite number in \(0(\.0)?, 1(\.0)?\)"):
        mv.seeding.imm(g, 2, eps=eps)


def test_bad_imm_input():
    g = GRAPHS["uniform"]()
    with pytest.raises(ValueError, match="'ell' must be"):
        mv.seeding.imm(g, 2, ell=0)
    with pytest.raises(TypeError, match="'eps' must be a real number"):
        mv.seeding.imm(g, 2, eps="0.1")
    with pytest.raises(ValueError, match="'k' must be <= the number of nodes"):
        mv.seeding.imm(g, g.n_nodes + 1)
    with pytest.raises(ValueError, match="'target' must hold at least one node"):
        mv.seeding.imm(g, 2, target=[])
    with pytest.raises(ValueError, match="'target' is empty"):
        mv.seeding.imm(g, 2, target=np.zeros(g.n_nodes, dtype=bool))
    with pytest.raises(ValueError, match="'seeds' must"):
        mv.seeding.rr_estimate(g, [g.n_nodes])
    with pytest.raises(ValueError, match="'n_sets' must be >= 1"):
        mv.seeding.rr_estimate(g, [0], n_sets=0)


def test_imm_refuses_rr_sets_that_do_not_fit(monkeypatch):
    import sys

    g = GRAPHS["uniform"]()
    monkeypatch.setattr(sys.modules["microviral._memory"], "_limits", lambda: [Limit(200_000, "test")])
    with pytest.raises(MemoryError, match="RR sets"):
        mv.seeding.imm(g, 2, eps=0.05, rng=0)
