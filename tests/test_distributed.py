"""The Dask backend returns exactly what the local backend returns, also when a worker dies."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import microviral as mv
from microviral import distributed as mvd

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
from distributed import Client  # noqa: E402

FIELDS = ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated",
          "keys", "penetration", "spillover")


def assert_same(a, b):
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
            continue
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert np.array_equal(x, y), name


def random_graph(seed, n=300, m=1500, p=0.08, n_comm=3, directed=True):
    gen = np.random.default_rng(seed)
    src, dst = gen.integers(0, n, m), gen.integers(0, n, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=gen.integers(0, n_comm, n),
                                            prob=gen.uniform(0, 2 * p, src.size), directed=directed)


def pids_alive(pids):
    import psutil

    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="module")
def graph():
    return random_graph(0)


@pytest.fixture(scope="module")
def local(graph):
    return mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11)


@pytest.mark.parametrize("chunk_size", [None, 1000, 997, 500, 64, 37])
def test_two_worker_processes_give_the_local_result(client, graph, local, chunk_size):
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask", client=client,
                      chunk_size=chunk_size)
    assert_same(res, local)
    assert res.provenance.keys() == local.provenance.keys()
    for name, value in local.provenance.items():
        assert np.array_equal(res.provenance[name], value) if isinstance(value, np.ndarray) \
            else res.provenance[name] == value, name


def test_chunks_of_one_run(client, graph, local):
    res = mv.simulate(graph, [0, 1, 2, 3], keys=local.keys[:40], target=1, backend="dask", client=client,
                      chunk_size=1)
    ref = mv.simulate(graph, [0, 1, 2, 3], keys=local.keys[:40], target=1)
    assert_same(res, ref)
    assert np.array_equal(res.reach, local.reach[:40])


def test_long_cascades_pad_per_round_counts_like_local(client):
    # A path of 80 nodes: runs last 0..79 rounds, some chunks beyond the 32 rounds first allotted, some not.
    n = 80
    g = mv.CommunityGraph.from_edges(np.arange(n - 1), np.arange(1, n), prob=0.97,
                                     community=(np.arange(n) >= 40).astype(int))
    ref = mv.simulate(g, [0], n_runs=300, target=1, rng=np.random.default_rng(3))
    assert ref.rounds.max() > 32 and ref.rounds.min() < 32
    for chunk_size in (7, 50, 300):
        res = mv.simulate(g, [0], n_runs=300, target=1, rng=np.random.default_rng(3), backend="dask",
                          client=client, chunk_size=chunk_size)
        assert_same(res, ref)


def test_options_travel_to_the_workers(client, graph):
    kw = dict(n_runs=300, target=2, rng=np.random.SeedSequence(5), max_rounds=2, count_communities=False)
    ref = mv.simulate(graph, [7, 8], **kw)
    kw["rng"] = np.random.SeedSequence(5)
    res = mv.simulate(graph, [7, 8], backend="dask", client=client, chunk_size=45, **kw)
    assert res.community_activated is None
    assert res.rounds.max() <= 2
    assert_same(res, ref)


def test_undirected_graph_and_other_seeds(client):
    g = random_graph(4, n=200, m=600, p=0.15, directed=False)
    for seeds in ([0], [3, 50, 120]):
        ref = mv.simulate(g, seeds, n_runs=256, target=0, rng=8)
        res = mv.simulate(g, seeds, n_runs=256, target=0, rng=8, backend="dask", client=client, chunk_size=30)
        assert_same(res, ref)


@pytest.fixture(scope="module")
def cluster1():
    lc = mvd._local_cluster(1, 2)
    try:
        yield lc
    finally:
        lc.close()


@pytest.fixture(scope="module")
def client1(cluster1):
    c = Client(cluster1)
    try:
        c.wait_for_workers(1, timeout=60)
        yield c
    finally:
        c.close()


def test_one_worker_with_two_threads(cluster1, client1, graph, local):
    assert list(client1.nthreads().values()) == [2]
    for chunk_size in (None, 100, 13):
        res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask", client=client1,
                          chunk_size=chunk_size)
        assert_same(res, local)
    # The cluster object itself and its scheduler address are accepted too.
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask", client=cluster1)
    assert_same(res, local)
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask",
                      client=cluster1.scheduler_address, chunk_size=250)
    assert_same(res, local)
    assert client1.status == "running"  # a passed client is left open


def test_graph_is_broadcast_once_and_reused(client, graph):
    a = mv.simulate(graph, [0], n_runs=50, rng=1, backend="dask", client=client, chunk_size=10)
    held_graph, future = mvd._SCATTERED[client]["graph"]
    target_future = mvd._SCATTERED[client]["target"][1]
    assert held_graph is graph
    # Broadcast to every worker; Dask may later drop idle replicas, but the data stays on the cluster.
    assert len(client.who_has([future])[future.key]) >= 1
    b = mv.simulate(graph, [5], n_runs=50, rng=1, backend="dask", client=client, chunk_size=10)
    # Same graph, same target, other seeds: nothing sent again.
    assert mvd._SCATTERED[client]["graph"][1].key == future.key
    assert mvd._SCATTERED[client]["target"][1].key == target_future.key
    assert np.array_equal(a.keys, b.keys) and not np.array_equal(a.reach, b.reach)
    c = mv.simulate(graph, [5], n_runs=50, rng=1, target=2, backend="dask", client=client, chunk_size=10)
    assert mvd._SCATTERED[client]["target"][1].key != target_future.key  # a new target mask is sent
    assert_same(c, mv.simulate(graph, [5], n_runs=50, rng=1, target=2))
    other = random_graph(9)
    d = mv.simulate(other, [0], n_runs=20, rng=1, backend="dask", client=client)
    assert mvd._SCATTERED[client]["graph"][0] is other
    assert_same(d, mv.simulate(other, [0], n_runs=20, rng=1))


def test_tasks_are_released_after_the_run(client, graph):
    mv.simulate(graph, [0], n_runs=200, rng=1, backend="dask", client=client, chunk_size=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        keys = [k for k in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks))
                if "microviral-chunk" in str(k)]
        if not keys:
            break
        time.sleep(0.1)
    assert keys == []


def test_progress_bar_over_chunks(client, graph, local, capsys):
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask", client=client,
                      chunk_size=100, progress=True)
    assert_same(res, local)
    err = capsys.readouterr().err
    assert "10/10" in err


def kill_a_busy_worker_mid_run(client, n_workers, seed):
    """Run a long simulate, SIGKILL a worker process mid-run from a watcher thread, return (result, ref).

    The simulate call stays on the main thread (the client's calls are not made from two threads at once);
    the watcher only reads the in-process scheduler's task states and sends the signal.
    """
    g = random_graph(seed, n=2000, m=12000, p=0.12)
    kw = dict(n_runs=6000, target=1, rng=seed)
    ref = mv.simulate(g, [0, 1, 2], **kw)
    scheduler = client.cluster.scheduler
    victim = sorted(client.nthreads())[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    killed = {}

    def watcher():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [ts.state for k, ts in list(scheduler.tasks.items()) if "microviral-chunk" in str(k)]
            if sum(s == "memory" for s in states) >= 5 and any(s == "processing" for s in states):
                killed["at"] = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    res = mv.simulate(g, [0, 1, 2], backend="dask", client=client, chunk_size=20, **kw)
    finished = time.monotonic()
    thread.join(timeout=10)
    assert "at" in killed and killed["at"] < finished, "the run finished before a worker could be killed"
    client.wait_for_workers(n_workers, timeout=60)
    after = set(client.nthreads())
    assert victim not in after and len(after) == n_workers  # the worker really died and was replaced
    assert not pids_alive([pid])
    return res, ref


def test_worker_killed_mid_run_result_unchanged(client):
    res, ref = kill_a_busy_worker_mid_run(client, 2, seed=21)
    assert_same(res, ref)


def test_only_worker_killed_mid_run_result_unchanged(client1, monkeypatch):
    # The graph scattered to the only worker dies with it: it is scattered again and lost chunks resubmitted.
    rounds = []
    original = mvd._run_chunks

    def counting(*args, **kw):
        rounds.append(len(args[6]))  # chunks submitted in this round
        return original(*args, **kw)

    monkeypatch.setattr(mvd, "_run_chunks", counting)
    res, ref = kill_a_busy_worker_mid_run(client1, 1, seed=22)
    assert_same(res, ref)
    # a second round resubmitted the lost chunks (all of them if none was fetched before the kill)
    assert len(rounds) >= 2 and rounds[0] == 300 and 0 < rounds[1] <= 300, rounds


def test_simulate_without_client_starts_and_closes_a_local_cluster(graph, local, monkeypatch):
    started = []
    original = mvd._local_cluster

    def recording(*args, **kw):
        lc = original(*args, **kw)
        started.append((lc, [nanny.pid for nanny in lc.workers.values()]))
        return lc

    monkeypatch.setattr(mvd, "_local_cluster", recording)
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask")
    assert_same(res, local)
    (lc, pids), = started
    assert len(pids) == 2 and all(pids)  # two worker processes...
    assert lc.status.name == "closed"  # ...closed with their cluster
    deadline = time.monotonic() + 15
    while pids_alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pids_alive(pids)


def test_default_cluster_closed_after_an_error():
    seen = {}
    with pytest.raises(RuntimeError, match="boom"):
        with mvd.client_context(n_workers=1, processes=False) as c:
            seen["client"], seen["cluster"] = c, c.cluster
            raise RuntimeError("boom")
    assert seen["client"].status == "closed"
    assert seen["cluster"].status.name == "closed"


# -- bad input ---------------------------------------------------------------------------------------------


def test_unreachable_scheduler_is_a_clear_error(graph):
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        t0 = time.monotonic()
        with pytest.raises(ConnectionError, match=r"tcp://127\.0\.0\.1:1"):
            mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client="tcp://127.0.0.1:1")
        assert time.monotonic() - t0 < 30
    with pytest.raises(ConnectionError, match="scheduler"):
        with mvd.client_context("tcp://127.0.0.1:1", timeout=0.5):
            pass


def test_closed_client_is_a_clear_error(cluster, graph):
    c = Client(cluster)
    c.close()
    with pytest.raises(ValueError, match="'client'.*closed"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client=c)


@pytest.mark.parametrize("chunk_size", [0, -3])
def test_chunk_size_below_one_is_refused(client, graph, chunk_size):
    with pytest.raises(ValueError, match="'chunk_size' must be >= 1"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client=client, chunk_size=chunk_size)
    keys = np.arange(10, dtype=np.uint64)
    with pytest.raises(ValueError, match="'chunk_size' must be >= 1"):
        mvd.simulate_dask(graph, np.array([0], np.int32), np.ones(graph.n_nodes, np.uint8), keys, client=client,
                          chunk_size=chunk_size)


def test_other_bad_arguments(client, graph):
    with pytest.raises(TypeError, match="'chunk_size' must be an integer"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client=client, chunk_size=2.5)
    with pytest.raises(TypeError, match="'client' must be None, a dask.distributed.Client"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client=42)
    with pytest.raises(ValueError, match="'client'"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask", client="  ")
    with pytest.raises(ValueError, match="'in_target' must have shape"):
        mvd.simulate_dask(graph, np.array([0], np.int32), np.ones(3, np.uint8), np.arange(4, dtype=np.uint64),
                          client=client)
    with pytest.raises(TypeError, match="'progress' must be a bool"):
        mvd.simulate_dask(graph, np.array([0], np.int32), np.ones(graph.n_nodes, np.uint8),
                          np.arange(4, dtype=np.uint64), client=client, progress="yes")
    with pytest.raises(ValueError, match="'timeout'"):
        with mvd.client_context("tcp://127.0.0.1:1", timeout=0):
            pass
    with pytest.raises(ValueError, match="'n_workers' must be >= 1"):
        with mvd.client_context(None, n_workers=0):
            pass


def test_missing_dask_names_the_extra(monkeypatch, graph):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install microviral\[dask\]"):
        mv.simulate(graph, [0], n_runs=10, rng=0, backend="dask")


def test_importing_microviral_does_not_import_dask():
    code = ("import sys, microviral, microviral.distributed; "
            "print(any(m == 'dask' or m.startswith(('dask.', 'distributed')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_default_chunk_size_rules():
    # ~4 chunks per Dask thread...
    assert mvd.default_chunk_size(100_000, 100_000, 8) == 3125
    # ...but not below ~2e7 arc visits per chunk...
    assert mvd.default_chunk_size(100_000, 1_000, 8) == 20_000
    # ...nor above ~2e9, never more than n_runs, never below 1.
    assert mvd.default_chunk_size(10_000, 10_000_000, 1) == 200
    assert mvd.default_chunk_size(5, 10, 64) == 5
    assert mvd.default_chunk_size(10, 10**12, 4) == 1
    with pytest.raises(ValueError, match="'n_threads' must be >= 1"):
        mvd.default_chunk_size(10, 10, 0)
    # With a measured time per run: at least 0.2 s and at most 30 s of work per chunk.
    assert mvd.default_chunk_size(10_000, 500_000, 64, seconds_per_run=2e-4) == 1000
    assert mvd.default_chunk_size(10_000, 500_000, 2, seconds_per_run=2e-4) == 1250
    assert mvd.default_chunk_size(10_000, 500_000, 1, seconds_per_run=0.1) == 300
    assert mvd.default_chunk_size(10_000, 500_000, 1, seconds_per_run=0.0) == 10_000


def test_default_chunks_reuse_the_timed_pilot(client, graph, local, monkeypatch):
    seen = []
    original = mvd._run_chunks

    def recording(client_, graph_, seeds, in_target, keys, bounds, todo, *args):
        seen.append((list(bounds), list(todo)))
        return original(client_, graph_, seeds, in_target, keys, bounds, todo, *args)

    monkeypatch.setattr(mvd, "_run_chunks", recording)
    res = mv.simulate(graph, [0, 1, 2, 3], n_runs=997, target=1, rng=11, backend="dask", client=client)
    assert_same(res, local)
    (bounds, todo), = seen
    assert bounds[:2] == [0, mvd._PILOT_RUNS] and bounds[-1] == 997
    assert todo == list(range(1, len(bounds) - 1))  # the pilot chunk is not sent to the cluster


def test_compare_on_dask_equals_local_and_ships_the_graph_once(client, monkeypatch):
    g = random_graph(6, n=250, m=1200, p=0.1)
    kw = dict(k=[2, 4], target=1, n_runs=300, rng=0)
    strategies = ["random", "degree", "degree_discount"]
    local_table = mv.compare(g, strategies, **kw)
    scattered = []
    original = client.scatter

    def counting(data, *args, **kwargs):
        scattered.append(type(data).__name__)
        return original(data, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", counting)
    dask_table = mv.compare(g, strategies, backend="dask", client=client, chunk_size=70, **kw)
    assert scattered == ["CommunityGraph", "ndarray"]  # 6 simulations, one graph and one target shipped
    timing = ["selection_time_s"]
    assert dask_table.drop(columns=timing).equals(local_table.drop(columns=timing))
    assert dask_table.attrs == local_table.attrs


def test_linear_threshold_on_the_workers_gives_the_local_result(client, graph):
    g = mv.probabilities.weighted_cascade(graph)
    ref = mv.simulate(g, [0, 1, 2, 3], model="lt", n_runs=600, target=1, rng=4)
    assert ref.reach.std() > 0
    for chunk_size in (None, 77):  # None: the first 64 runs are a pilot here, the rest on the workers
        res = mv.simulate(g, [0, 1, 2, 3], model="lt", n_runs=600, target=1, rng=4, backend="dask", client=client,
                          chunk_size=chunk_size)
        assert_same(res, ref)
    bad = graph.with_prob(np.full(graph.n_arcs, 0.9))
    with pytest.raises(ValueError, match="in-weights"):
        mvd.simulate_dask(bad, np.array([0], np.int32), np.ones(bad.n_nodes, np.uint8),
                          np.arange(1, 5, dtype=np.uint64), client=client, model="lt")


# -- addresses that cannot be reached, clients that go away mid-run ------------------------------------------

# One interpreter walks through sequences of addresses; each must fail as stated, at once or within the connect
# timeout, leave no client, IO loop or thread behind, and a LocalCluster must still work at the end. Run in a
# child with a hard limit, so that a hang fails the test instead of CI. A garbage collection is forced where
# distributed starts each client's loop under its lock: there, a failed client left for the collector used to
# deadlock the process for ever (an invalid IP, then garbage, then a closed port hung every time).
ADDRESS_CHILD = r'''
import gc, json, socket, sys, threading, time

import dask
import distributed
import distributed.utils
import numpy as np

import microviral as mv

start_loop = distributed.utils._CollectErrorThread.__init__


def collect_then_start(self, *args, **kwargs):
    gc.collect()
    start_loop(self, *args, **kwargs)


distributed.utils._CollectErrorThread.__init__ = collect_then_start


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def silent_server():
    """A port that accepts connections and never answers (not a Dask scheduler)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(srv.accept()) for _ in iter(int, 1)], daemon=True).start()
    return srv.getsockname()[1]


def leftovers():
    deadline = time.monotonic() + 15
    while True:
        gc.collect()
        threads = sorted(t.name for t in threading.enumerate() if t.name in ("IO loop", "microviral-dask-connect"))
        clients = [c.status for c in gc.get_objects() if isinstance(c, distributed.Client) and c.status != "closed"]
        if not (threads or clients) or time.monotonic() > deadline:
            return threads + clients
        time.sleep(0.05)


g = mv.CommunityGraph.from_edges([0, 0, 1, 2], [1, 2, 3, 3], prob=0.5, community=[0, 0, 1, 1])
closed, silent = free_port(), silent_server()
names = {"CLOSED": f"tcp://127.0.0.1:{closed}", "SILENT": f"tcp://127.0.0.1:{silent}"}
out = []
with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}):
    for sequence in json.loads(sys.argv[1]):
        for client in sequence:
            client = eval(client, {"CLOSED": names["CLOSED"], "SILENT": names["SILENT"]})
            try:
                mv.simulate(g, [0], n_runs=20, rng=1, backend="dask", client=client)
                got = ["no error", ""]
            except Exception as exc:
                got = [type(exc).__name__, str(exc)]
            out.append([repr(client)] + got + [leftovers()])
res = mv.simulate(g, [0], n_runs=50, rng=3, backend="dask", client=None, chunk_size=10)
out.append(["LocalCluster", "ok", str(np.array_equal(res.reach, mv.simulate(g, [0], n_runs=50, rng=3).reach)), []])
print(json.dumps(out))
'''

MALFORMED = {  # address -> what the message says is wrong
    "'garbage://??'": "unknown scheme 'garbage'",
    "'tcp://999.1.1.1:8786'": "'999.1.1.1' is not a valid IPv4 address",
    "'tcp://127.0.0.1:0'": "from 1 to 65535, not '0'",
    "'tcp://127.0.0.1:65536'": "from 1 to 65535, not '65536'",
    "'tcp://127.0.0.1:\u0663'": "from 1 to 65535",
    "'tcp://127.0.0.1'": "no port",
    "'tcp://:8786'": "no host",
    "'tcp://::1:8786'": "needs brackets",
    "'tcp://[::zz]:8786'": "not an IPv6 address",
    "'tcp://bad host:8786'": "not a valid host name",
    "'tcp://-x-.example:8786'": "not a valid host name",
    "''": "",
    "'   '": "",
}
UNREACHABLE = ["CLOSED", "SILENT", "'tcp://no-such-host.invalid:8786'", "'[::1]:1'"]
NOT_STR = ["42", "b'tcp://127.0.0.1:8786'", "1.5", "['tcp://127.0.0.1:8786']", "object()"]
SEQUENCES = [
    ["'tcp://999.1.1.1:8786'", "'garbage://??'", "CLOSED"],  # the order that hung
    ["CLOSED", "'garbage://??'", "'tcp://999.1.1.1:8786'", "SILENT", "'garbage://??'", "CLOSED"],
    ["'garbage://??'", "'garbage://??'", "SILENT", "CLOSED"],
    list(MALFORMED) + UNREACHABLE[2:] + NOT_STR + ["CLOSED"],
]


def test_address_sequences_fail_cleanly_and_never_hang():
    import json

    try:
        proc = subprocess.run([sys.executable, "-c", ADDRESS_CHILD, json.dumps(SEQUENCES)], capture_output=True,
                              text=True, timeout=150, cwd=os.getcwd())
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the address sequence hung: {exc.stdout}\n{exc.stderr}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    *rows, last = rows
    assert last == ["LocalCluster", "ok", "True", []]
    expected = [a for seq in SEQUENCES for a in seq]
    assert len(rows) == len(expected)
    for given, (shown, kind, message, left) in zip(expected, rows):
        assert left == [], (shown, left)  # no client, IO loop or connecting thread outlives a failed call
        if given in MALFORMED:
            assert kind == "ValueError", (shown, kind, message)
            assert message.startswith("'client' must be a scheduler address 'scheme://host:port' such as "
                                      "'tcp://10.0.0.5:8786'. Got " + shown), message
            assert MALFORMED[given] in message, message
        elif given in NOT_STR:
            assert kind == "TypeError", (shown, kind, message)
            assert "'client' must be None, a dask.distributed.Client" in message and shown[:20] in message
        else:
            assert kind == "ConnectionError", (shown, kind, message)
            assert "Could not reach a Dask scheduler at 'tcp://" in message and "timeout 0.5 s" in message
            if given == "SILENT":
                assert "did not complete Dask's handshake" in message


def start_then_break(run, break_it, scheduler):
    """Call ``run()`` on a thread; once 2 chunks are done, ``break_it()``; return what ``run`` raised."""
    outcome = {}

    def target():
        try:
            run()
            outcome["result"] = True
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and thread.is_alive():
        states = [ts.state for k, ts in list(scheduler.tasks.items()) if "microviral-chunk" in str(k)]
        if sum(s == "memory" for s in states) >= 2:
            break
        time.sleep(0.01)
    assert thread.is_alive(), f"the run ended before it could be interrupted: {outcome}"
    break_it()
    thread.join(120)
    assert not thread.is_alive(), "the run hung after its client went away"
    assert "error" in outcome, "the run finished although its client was closed"
    return outcome["error"]


@pytest.mark.parametrize("what", ["simulate", "compare"])
@pytest.mark.parametrize("breaks", ["client closed", "cluster closed"])
def test_client_gone_mid_run_is_a_clear_error(what, breaks):
    g = random_graph(5, n=2000, m=12000, p=0.12)
    lc = mvd._local_cluster(1, 1, processes=False)
    c = Client(lc)
    address = lc.scheduler_address
    try:
        if what == "simulate":
            def run():
                mv.simulate(g, [0, 1, 2], n_runs=6000, rng=1, backend="dask", client=c, chunk_size=20)
        else:
            def run():
                mv.compare(g, ["degree", "random"], k=3, n_runs=3000, rng=1, backend="dask", client=c, chunk_size=15)
        err = start_then_break(run, c.close if breaks == "client closed" else lc.close, lc.scheduler)
    finally:
        c.close()
        lc.close()
    assert isinstance(err, ConnectionError), repr(err)
    message = str(err)
    assert f"The Dask client was closed or lost its scheduler at {address} during the run" in message, message
    assert re.search(r"; \d+ of (300|200) chunks of runs were done\. ", message), message
    assert "start a new client" in message


def test_client_closed_inside_client_context_is_a_clear_error(cluster):
    c = Client(cluster)
    with pytest.raises(ConnectionError, match="closed or lost its scheduler") as info:
        with mvd.client_context(c) as same:
            same.close()
            same.nthreads()
    assert info.value.__cause__ is not None  # distributed's own error, kept as the cause
    with pytest.raises(ConnectionError, match=f"lost its scheduler at {cluster.scheduler_address} during"):
        with mvd.client_context(cluster.scheduler_address) as own:
            own.close()
            own.submit(len, [1]).result()
    # an error unrelated to the client is left alone
    with pytest.raises(KeyError):
        with mvd.client_context(cluster) as own:
            {}["x"]
    assert own.status == "closed"


def test_the_watcher_waits_out_a_reconnect_but_not_a_close(monkeypatch):
    from microviral import distributed as mvd

    class FakeClient:
        status = "running"

    def watch(client):
        calls, stop = [], threading.Event()
        thread = threading.Thread(target=mvd._watch_client, args=(client, stop, lambda: calls.append(1), 0.01))
        thread.start()
        return calls, stop, thread

    monkeypatch.setattr(mvd, "_RECONNECT_GRACE", 0.3)
    client = FakeClient()
    calls, stop, thread = watch(client)
    client.status = "connecting"     # a brief loss of the scheduler: the run goes on
    time.sleep(0.1)
    client.status = "running"
    time.sleep(0.5)
    assert calls == [] and thread.is_alive()
    client.status = "connecting"     # reconnecting for longer than the grace: given up
    thread.join(timeout=5)
    assert calls == [1] and not thread.is_alive()
    client.status = "running"
    calls, stop, thread = watch(client)
    client.status = "closed"         # closed: at once
    thread.join(timeout=0.2)
    assert calls == [1] and not thread.is_alive()
    calls, stop, thread = watch(FakeClient())
    stop.set()                       # the run ended: the watcher ends without a call
    thread.join(timeout=5)
    assert calls == [] and not thread.is_alive()
