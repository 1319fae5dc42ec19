"""IMM and OPIM-C with their RR sets on Dask workers choose exactly what the local backend chooses."""

import time
import warnings

import numpy as np
import pytest

import microviral as mv
from microviral import distributed as mvd
from microviral.seeding._rr import RRCollection
from microviral.seeding._rr_dask import ShardedRR, _Shard

distributed = pytest.importorskip("distributed")

# what must not depend on where the RR sets were kept (peak_rr_bytes does: each worker counts its own peak)
SAME = ("n_rr_sets", "rr_sets_drawn", "certified_ratio", "estimate", "lower_bound", "rr_bytes")


def random_graph(seed, n=250, m=1500, n_comm=3):
    gen = np.random.default_rng(seed)
    src, dst = gen.integers(0, n, m), gen.integers(0, n, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=gen.integers(0, n_comm, n))
    # weighted cascade: valid for both models (in-weights sum to 1)
    return mv.probabilities.weighted_cascade(g)


@pytest.fixture(scope="module")
def graph():
    return random_graph(0)


def assert_same_choice(a, b):
    assert np.asarray(a).dtype == np.asarray(b).dtype == np.int64
    assert np.asarray(a).tolist() == np.asarray(b).tolist()
    for name in SAME:
        if name in a.info:
            assert a.info[name] == b.info[name], name
    if "upper_bound" in a.info:
        for name in ("upper_bound", "instance_ratio", "validation_estimate", "rounds"):
            assert a.info[name] == b.info[name], name


@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize("target", [None, 1])
@pytest.mark.parametrize("algorithm, options", [("imm", {"eps": 0.3}), ("imm", {"eps": 0.3, "fresh": False}),
                                                ("opim_c", {"eps": 0.2})])
def test_same_seeds_and_certificate_as_local(client, graph, algorithm, options, target, model):
    fn = getattr(mv.seeding, algorithm)
    local = fn(graph, 5, target=target, rng=7, model=model, **options)
    dask = fn(graph, 5, target=target, rng=7, model=model, backend="dask", client=client, **options)
    assert_same_choice(dask, local)
    assert dask.info["n_rr_sets"] > 100  # enough sets that both workers hold some of every collection


def test_opim_c_several_rounds(client, graph):
    # a ratio above 1 - 1/e is never certified: every round runs, up to the cap, and the bound of each is compared
    with pytest.warns(RuntimeWarning, match="below the 'ratio'"):
        local = mv.seeding.opim_c(graph, 3, ratio=0.9, max_rr_sets=20_000, rng=2)
    with pytest.warns(RuntimeWarning, match="below the 'ratio'"):
        dask = mv.seeding.opim_c(graph, 3, ratio=0.9, max_rr_sets=20_000, rng=2, backend="dask", client=client)
    assert local.info["rounds"] > 2
    assert_same_choice(dask, local)


def test_strategy_registry_passes_the_backend(client, graph):
    for name in ("imm", "imm_target", "opim_c", "opim_c_target"):
        fn = mv.seeding.get_strategy(name)
        opts = {"eps": 0.3}
        assert_same_choice(fn(graph, 3, target=2, rng=1, backend="dask", client=client, **opts),
                           fn(graph, 3, target=2, rng=1, **opts))
    for name in ("imm_reach", "opim_c_reach"):
        fn = mv.seeding.get_strategy(name)
        assert np.array_equal(fn(graph, 3, target=2, rng=1, eps=0.3, backend="dask", client=client),
                              fn(graph, 3, target=2, rng=1, eps=0.3))


def test_compare_takes_the_backend_as_a_strategy_option(client, graph):
    kw = dict(k=3, target=1, n_runs=50, rng=4)
    local = mv.compare(graph, ["opim_c", "degree"], **kw)
    dask = mv.compare(graph, ["opim_c", "degree"], strategy_options={"opim_c": {"backend": "dask", "client": client}},
                      **kw)
    assert local["seeds"].tolist() == dask["seeds"].tolist()


def test_shards_leave_the_workers(client, graph):
    mv.seeding.opim_c(graph, 3, rng=5, backend="dask", client=client)
    deadline = time.monotonic() + 20
    while True:
        held = client.run(lambda dask_worker: len(dask_worker.state.actors))
        if not any(held.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert held == {w: 0 for w in held}


def test_three_thread_workers(graph):
    # another worker count, workers as threads of this process: the same sets go elsewhere, the choice stays
    local = mv.seeding.imm(graph, 4, target=0, rng=3, eps=0.3)
    with mvd.client_context(n_workers=3, processes=False) as c:
        dask = mv.seeding.imm(graph, 4, target=0, rng=3, eps=0.3, backend="dask", client=c)
    assert_same_choice(dask, local)


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_a_shard_samples_the_local_sets(graph, model):
    # sets lo .. hi - 1 of a shard are sets lo .. hi - 1 of the local collection, bit for bit (base near 2**64 wraps)
    pool = np.flatnonzero(graph.target_mask(1)).astype(np.int32)
    base = 2**64 - 5
    rr = RRCollection(graph, pool, base, model=model)
    rr.extend(3000)
    shard = _Shard(graph, pool, base, model, {})
    shard.sample(0, 0, "")
    shard.sample(0, 1001, "")
    shard.sample(1001, 3000, "")
    members, offsets = rr.flat()
    assert np.array_equal(shard.members, members)
    assert np.array_equal(shard.offsets, offsets)
    later = _Shard(graph, pool, base, model, {})
    later.sample(1001, 3000, "")
    assert np.array_equal(later.members, members[offsets[1001]:])


def test_sharded_greedy_is_the_local_greedy(graph):
    # in-process shards (no cluster): the rounds give max_coverage's seeds, coverage and OPIM-C bound
    rr = RRCollection(graph, None, 11)
    rr.extend(4000)

    class Call:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    class Proxy:
        def __init__(self, shard):
            self.shard = shard

        def __getattr__(self, name):
            method = getattr(self.shard, name)
            return lambda *args: Call(method(*args))

    sharded = ShardedRR.__new__(ShardedRR)
    sharded.graph, sharded.progress, sharded.n_sets, sharded.n_members, sharded.peak_bytes = graph, None, 0, 0, 0
    sharded._futures = []
    sharded._shards = [Proxy(_Shard(graph, None, 11, "ic", {})) for _ in range(3)]
    sharded._ranges, sharded._picked = [[] for _ in range(3)], None
    sharded.grow_to(4000)
    assert sharded.n_members == rr.n_members and sharded.nbytes() == rr.nbytes()
    for k in (1, 5, graph.n_nodes):
        seeds, covered, upper = sharded.greedy(k, bound=True)
        want = rr.greedy(k, bound=True)
        assert seeds.tolist() == want[0].tolist()
        assert (covered, upper) == want[1:]
        assert sharded.covered(seeds[:2]) == rr.covered(seeds[:2])


def test_bad_backend_and_client(graph, client):
    for fn in (mv.seeding.imm, mv.seeding.opim_c, mv.seeding.imm_target, mv.seeding.opim_c_reach):
        with pytest.raises(ValueError, match="'backend' must be 'local' or 'dask'. Got str 'ray'"):
            fn(graph, 2, target=1, backend="ray")
        with pytest.raises(ValueError, match="'backend' must be 'local' or 'dask'"):
            fn(graph, 2, target=1, backend=None)
        with pytest.raises(ValueError, match="'client' is only used with backend='dask'"):
            fn(graph, 2, target=1, client=client)
    with pytest.raises(TypeError, match="'client' must be None, a dask.distributed.Client"):
        mv.seeding.imm(graph, 2, backend="dask", client=3)


def test_lt_weights_refused_before_any_worker_samples(client):
    g = mv.CommunityGraph.from_edges([0, 1], [2, 2], prob=0.8)
    with pytest.raises(ValueError, match="in-weights"):
        mv.seeding.opim_c(g, 1, model="lt", backend="dask", client=client)


# ---------------------------------------------------------------- a worker lost while it holds RR sets
def _close_worker(cluster, address):
    worker = next(w for w in cluster.workers.values() if w.address == address)
    cluster.sync(worker.close)


class _LosesItsWorker:
    """A shard's proxy whose worker is closed just before its ``after``-th ``cover`` call (mid-greedy)."""

    def __init__(self, proxy, cluster, address, after):
        self.proxy, self.cluster, self.address, self.calls, self.after = proxy, cluster, address, 0, after

    def __getattr__(self, name):
        return getattr(self.proxy, name)

    def cover(self, v):
        self.calls += 1
        if self.calls == self.after:
            _close_worker(self.cluster, self.address)
        return self.proxy.cover(v)


@pytest.mark.parametrize("when", ["between calls", "mid-greedy"])
def test_a_lost_worker_costs_its_shard_not_the_run(graph, when):
    from distributed import Client, LocalCluster

    from microviral.seeding._rr_dask import dask_collections

    local = RRCollection(graph, None, 5)
    local.grow_to(3000)
    want = local.greedy(6, bound=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c, dask_collections(c, graph, None) as (make_rr, _):
        c.wait_for_workers(2, timeout=60)
        rr = make_rr(graph, None, 5)
        rr.grow_to(2000)
        lost = sorted(c.nthreads())[1]
        holder = next(i for i, f in enumerate(rr._futures) if lost in c.who_has(f)[f.key])
        if when == "between calls":
            _close_worker(cluster, lost)
            rr.grow_to(3000)
        else:
            rr.grow_to(3000)
            rr._shards[holder] = _LosesItsWorker(rr._shards[holder], cluster, lost, after=3)
        got = rr.greedy(6, bound=True)
        assert rr.revived == 1 and sorted(c.nthreads()) != [lost]
        assert got[0].tolist() == want[0].tolist() and got[1:] == want[1:]
        assert rr.covered(got[0]) == local.covered(want[0]) and rr.n_members == local.n_members


def test_no_worker_left_to_take_over_is_a_connection_error(graph, monkeypatch):
    from distributed import Client, LocalCluster

    from microviral.seeding import _rr_dask

    monkeypatch.setattr(_rr_dask, "_REVIVE_WAIT", 1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c, _rr_dask.dask_collections(c, graph, None) as (make_rr, _):
        c.wait_for_workers(1, timeout=60)
        rr = make_rr(graph, None, 5)
        rr.grow_to(500)
        _close_worker(cluster, sorted(c.nthreads())[0])
        with pytest.raises(ConnectionError, match="no worker is left"):
            rr.greedy(3)
