"""Resource guards, interruption, reproducibility records, immutability and concurrency."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest

import microviral as mv
from microviral._memory import Limit

simulate_module = sys.modules["microviral.simulation"]
engine_module = sys.modules["microviral._engine"]


def chain_graph(n=60, p=0.6, n_comm=3, directed=False):
    src = np.arange(n - 1)
    labels = [f"c{i % n_comm}" for i in range(n)]
    extra_src = np.arange(0, n - 5, 5)
    return mv.CommunityGraph.from_edges(np.concatenate([src, extra_src]), np.concatenate([src + 1, extra_src + 5]),
                                        prob=p, community=labels, directed=directed)


def same(a, b):
    """Every per-run output of two results is bit-identical."""
    for name in ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "keys"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    if a.community_activated is not None or b.community_activated is not None:
        assert np.array_equal(a.community_activated, b.community_activated)


# ----------------------------------------------------------------------------- resource guards


def test_ten_billion_runs_are_refused_before_any_key_is_drawn(monkeypatch):
    def no_keys(*args, **kwargs):
        raise AssertionError("keys were drawn before the memory check")

    monkeypatch.setattr(simulate_module, "run_keys", no_keys)
    g = chain_graph()
    with pytest.raises(MemoryError, match=r"10000000000 runs would need about [\d.]+ GiB"):
        mv.simulate(g, [0], n_runs=10**10, rng=0)


def test_runs_times_communities_are_refused_up_front(monkeypatch):
    calls = []
    monkeypatch.setattr(engine_module, "run_chunk", lambda *a, **k: calls.append(1))
    n = 100_000
    g = mv.CommunityGraph.from_edges(np.arange(n - 1), np.arange(1, n), community=np.arange(n))
    assert g.n_communities == n
    # 10**6 runs x 100,000 per-community counts x 4 bytes: 400 GB
    with pytest.raises(MemoryError, match="GiB"):
        mv.simulate(g, [0], n_runs=10**6, rng=0)
    assert not calls


def test_the_guard_counts_all_chunks_together(monkeypatch):
    """Each chunk alone fits; all of them together do not: refused before the first chunk runs."""
    g = chain_graph()
    per_run = engine_module.output_bytes_per_run(g)
    monkeypatch.setattr(sys.modules["microviral._memory"], "_limits", lambda: [Limit(2 * per_run * 5000, "test")])  # half: 5000 runs
    calls = []
    real = engine_module.run_chunk
    monkeypatch.setattr(engine_module, "run_chunk", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(MemoryError, match="20000 runs"):
        mv.simulate(g, [0], n_runs=20_000, rng=0, chunk_size=100)
    assert not calls
    with pytest.raises(MemoryError, match="GiB"):  # explicit keys are sized too
        mv.simulate(g, [0], keys=np.arange(20_000, dtype=np.uint64), chunk_size=100)
    assert not calls
    res = mv.simulate(g, [0], n_runs=1000, rng=0, chunk_size=100)  # a request that fits still runs
    assert res.n_runs == 1000 and len(calls) == 10


def test_a_huge_node_count_from_a_small_edge_list_is_refused():
    with pytest.raises(MemoryError, match="check 'n_nodes'"):
        mv.CommunityGraph.from_edges([0], [1], n_nodes=2**31 - 2)


def test_max_rounds_beyond_int64_is_accepted_and_means_no_limit():
    g = chain_graph(p=1.0)
    a = mv.simulate(g, [0], n_runs=5, rng=1, max_rounds=2**80)
    b = mv.simulate(g, [0], n_runs=5, rng=1)
    same(a, b)


# ----------------------------------------------------------------------------- interruption


def test_keyboard_interrupt_between_chunks_stops_at_once_and_returns_nothing(monkeypatch):
    g = chain_graph()
    calls = []
    real = engine_module.run_chunk

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "run_chunk", interrupted)
    threads_before = numba.get_num_threads()
    result = None
    with pytest.raises(KeyboardInterrupt):
        result = mv.simulate(g, [0], n_runs=100, rng=0, chunk_size=10, n_threads=1)
    assert len(calls) == 2  # no chunk after the interrupted one
    assert result is None
    assert numba.get_num_threads() == threads_before  # the thread setting is restored
    monkeypatch.setattr(engine_module, "run_chunk", real)
    same(mv.simulate(g, [0], n_runs=100, rng=0, chunk_size=10), mv.simulate(g, [0], n_runs=100, rng=0))


def test_keyboard_interrupt_in_compare_propagates(monkeypatch):
    g = chain_graph()
    calls = []
    real = engine_module.run_chunk

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mv.compare(g, ["random", "degree"], k=[1, 2, 3], target="c1", n_runs=50, rng=0)
    assert len(calls) == 3


_SIGINT_CHILD = textwrap.dedent("""
    import sys, numpy as np, microviral as mv
    sm = sys.modules["microviral._engine"]
    n = 3000
    g = mv.CommunityGraph.from_edges(np.arange(n - 1), np.arange(1, n), prob=1.0)
    mv.simulate(g, [0], n_runs=4, rng=0)  # compile / load the kernel
    real, done = sm.run_chunk, []
    def counted(*a, **k):
        out = real(*a, **k)
        done.append(1)
        if len(done) == 1:
            print("started", flush=True)
        return out
    sm.run_chunk = counted
    try:
        mv.simulate(g, [0], n_runs=400_000, rng=0, chunk_size=200)
        print("finished", len(done), flush=True)
    except KeyboardInterrupt:
        print("interrupted", len(done), flush=True)
""")


def test_a_real_sigint_returns_control_between_chunks():
    """Ctrl-C in a child running 2,000 chunks: it stops long before the end and exits normally."""
    proc = subprocess.Popen([sys.executable, "-c", _SIGINT_CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    word, count = out.split()
    assert word == "interrupted", out
    assert int(count) < 2000


def _write_edges(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{i} {i + 1}\n" for i in range(30)))
    return path


def test_cli_interrupted_simulation_leaves_no_files(tmp_path, monkeypatch, capsys):
    from microviral.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_module, "run_chunk", interrupted)
    out = tmp_path / "out"
    status = main(["simulate", str(_write_edges(tmp_path)), "--seeds", "0", "--runs", "50", "--out", str(out)])
    assert status == 130
    assert not out.exists() or os.listdir(out) == []


def test_cli_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from microviral import _outputs
    from microviral.cli import main

    out = tmp_path / "out"
    assert main(["simulate", str(_write_edges(tmp_path)), "--seeds", "0", "--runs", "50", "--out", str(out)]) == 0
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    assert set(before) == {"simulate.csv", "simulate.json"}

    real = _outputs._write_temp

    def half_then_interrupt(path, write):
        if not str(path).endswith(".json"):   # the set's last file: the CSV is already written to its temp file
            return real(path, write)

        def broken(f):
            f.write(b"half a fi")
            raise KeyboardInterrupt

        return real(path, broken)

    monkeypatch.setattr(_outputs, "_write_temp", half_then_interrupt)
    status = main(["simulate", str(_write_edges(tmp_path)), "--seeds", "1", "--runs", "50", "--out", str(out)])
    assert status == 130
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before  # untouched, no temp file


# ----------------------------------------------------------------------------- reproducibility record


def _seed_sequence_from(material):
    assert material["kind"] == "SeedSequence"
    return np.random.SeedSequence(int(material["entropy"]), spawn_key=tuple(material["spawn_key"]))


@pytest.mark.parametrize("rng", [None, 0, 2**100 + 7, np.random.SeedSequence(5).spawn(3)[2]])
def test_every_result_carries_provenance_that_re_derives_it(rng):
    g = chain_graph()
    res = mv.simulate(g, [0, 7], n_runs=300, target="c1", rng=rng)
    prov = res.provenance
    assert prov["microviral_version"] == mv.__version__
    assert prov["graph_sha256"] == g.fingerprint() and len(prov["graph_sha256"]) == 64
    again = mv.simulate(g, [0, 7], n_runs=300, target="c1", rng=_seed_sequence_from(prov["rng"]))
    same(res, again)
    # the summary table carries the same record
    attrs = res.summary().attrs
    assert attrs["rng"] == prov["rng"] and attrs["graph_sha256"] == prov["graph_sha256"]


def test_a_generator_rng_is_recorded_before_use_and_re_derives_the_result():
    g = chain_graph()
    gen = np.random.default_rng(123)
    gen.integers(0, 10, size=3)  # a generator part-way through its stream
    res = mv.simulate(g, [0], n_runs=200, rng=gen)
    material = res.provenance["rng"]
    assert material["kind"] == "Generator"
    assert material["state"]["state"] == {k: int(v) for k, v in material["state"]["state"].items()}  # ints, not a repr
    same(res, mv.simulate(g, [0], n_runs=200, rng=mv.rng_from_record(material)))


def test_keys_replay_runs_and_the_fingerprint_tracks_what_matters():
    g = chain_graph()
    res = mv.simulate(g, [0], n_runs=100, rng=9)
    sub = mv.simulate(g, [0], keys=res.keys[[3, 50]])
    assert sub.provenance["rng"] == {"kind": "keys", "keys": res.keys[[3, 50]].tolist()}
    assert sub.reach.tolist() == res.reach[[3, 50]].tolist()
    assert g.fingerprint() == chain_graph().fingerprint()
    assert g.with_prob(0.61).fingerprint() != g.fingerprint()
    assert g.with_community(np.zeros(g.n_nodes, dtype=int)).fingerprint() != g.fingerprint()


def test_a_compare_table_re_derives_from_its_attrs():
    g = chain_graph()
    table = mv.compare(g, ["random", "degree_target"], k=[1, 2], target="c2", n_runs=200, rng=11)
    attrs = table.attrs
    assert attrs["microviral_version"] == mv.__version__ and attrs["graph_sha256"] == g.fingerprint()
    again = mv.compare(g, ["random", "degree_target"], k=[1, 2], target="c2", n_runs=200,
                       rng=_seed_sequence_from(attrs["rng"]))
    cols = [c for c in table.columns if c != "selection_time_s"]
    assert table[cols].equals(again[cols])
    gen_table = mv.compare(g, ["random"], k=2, target="c2", n_runs=100, rng=np.random.default_rng(4))
    derived = gen_table.attrs["rng"]["derived_entropy"]
    replay = mv.compare(g, ["random"], k=2, target="c2", n_runs=100, rng=np.random.SeedSequence(derived))
    assert gen_table[cols].equals(replay[cols])


# ----------------------------------------------------------------------------- immutability


def test_the_graph_never_shares_or_freezes_the_callers_arrays():
    indptr = np.array([0, 1, 2, 2], dtype=np.int64)
    indices = np.array([1, 2], dtype=np.int32)
    prob = np.array([1.0, 1.0])
    ids = np.array([10, 20, 30])
    g = mv.CommunityGraph(indptr, indices, prob=prob, node_ids=ids)
    h = mv.CommunityGraph.from_edges([0, 1], [1, 2], prob=1.0, node_ids=ids)
    k = g.with_prob(prob)
    for arr in (indptr, indices, prob, ids):
        assert arr.flags.writeable
    # a caller who reuses their arrays cannot corrupt the graphs (here: out-of-range indices for the kernel)
    indptr[:] = [0, 5, 9, 10**9]
    indices[:] = [10**6, -(10**6)]
    prob[:] = np.nan
    ids[:] = 0
    for graph in (g, h, k):
        res = mv.simulate(graph, [0], n_runs=3, rng=0)
        assert res.reach.tolist() == [3, 3, 3]
    assert g.node_ids.tolist() == [10, 20, 30] and h.node_ids.tolist() == [10, 20, 30]
    with pytest.raises(ValueError):
        g.indptr[0] = 1


# ----------------------------------------------------------------------------- concurrency


def test_two_threads_at_once_equal_sequential_calls():
    g = chain_graph(n=400, p=0.7)
    jobs = [dict(seeds=[0], rng=1), dict(seeds=[5, 9], rng=2, target="c0"), dict(seeds=[3], rng=3, chunk_size=37),
            dict(seeds=[1], rng=4, n_threads=1), dict(seeds=[2], rng=5, max_rounds=3)]
    sequential = [mv.simulate(g, job["seeds"], n_runs=2000, **{k: v for k, v in job.items() if k != "seeds"})
                  for job in jobs]
    barrier = threading.Barrier(2)

    def run(job):
        barrier.wait(timeout=60)
        return mv.simulate(g, job["seeds"], n_runs=2000, **{k: v for k, v in job.items() if k != "seeds"})

    for _ in range(2):
        for i in range(len(jobs)):
            pair = [jobs[i], jobs[(i + 1) % len(jobs)]]
            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(run, pair))
            same(results[0], sequential[i])
            same(results[1], sequential[(i + 1) % len(jobs)])


@pytest.mark.parametrize("chunk_size", [None, 7])
def test_same_rng_is_bit_identical_with_one_and_two_threads(chunk_size):
    g = chain_graph(n=300, p=0.65, directed=True)
    one = mv.simulate(g, [0, 50], n_runs=1500, rng=77, n_threads=1, chunk_size=chunk_size, target="c2")
    two = mv.simulate(g, [0, 50], n_runs=1500, rng=77, n_threads=2, chunk_size=chunk_size, target="c2")
    same(one, two)
    assert one.provenance["rng"] == two.provenance["rng"]


_CONCURRENT_CHILD = textwrap.dedent("""
    import threading, numpy as np, microviral as mv
    g = mv.CommunityGraph.from_edges(np.arange(499), np.arange(1, 500), prob=0.95)
    expected = mv.simulate(g, [0], n_runs=3000, rng=1).reach
    out = []
    def f():
        out.append(mv.simulate(g, [0], n_runs=3000, rng=1).reach)
    threads = [threading.Thread(target=f) for _ in range(4)]
    [t.start() for t in threads]; [t.join() for t in threads]
    assert len(out) == 4 and all(np.array_equal(o, expected) for o in out)
    best = mv.seeding.imm(g, 2, rng=3)  # IMM's parallel reverse-reachable-set sampler
    picks = []
    threads = [threading.Thread(target=lambda: picks.append(mv.seeding.imm(g, 2, rng=3))) for _ in range(3)]
    [t.start() for t in threads]; [t.join() for t in threads]
    assert len(picks) == 3 and all(np.array_equal(p, best) for p in picks)
    import numba; print(numba.threading_layer())
""")


def test_concurrent_calls_survive_numbas_workqueue_threading_layer():
    """The workqueue layer aborts the process on concurrent parallel launches; microviral serialises them."""
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    proc = subprocess.run([sys.executable, "-c", _CONCURRENT_CHILD], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "workqueue"


def test_run_parts_runs_every_part_on_its_own_thread_and_raises_a_parts_error():
    from microviral._kernels.runtime import run_parts

    seen = {}
    barrier = threading.Barrier(3, timeout=30)   # passes only if the three parts run at the same time

    def record(i):
        seen[i] = threading.get_ident()
        barrier.wait()

    run_parts(record, 3)
    assert sorted(seen) == [0, 1, 2] and len(set(seen.values())) == 3 and seen[0] == threading.get_ident()
    before = threading.active_count()

    def part(i):
        if i == 1:
            raise ValueError("part 1 failed")

    with pytest.raises(ValueError, match="part 1 failed"):
        run_parts(part, 2)
    assert threading.active_count() == before   # nothing outlives the call (a later fork() is safe)


def test_rr_sampling_on_two_threads_leaves_no_thread_behind():
    g = mv.planted_partition(4, 400, 0.05, 0.005, rng=1)
    before = threading.active_count()
    one, two = (mv.seeding.opim_c(g, 5, rng=3, max_rr_sets=40_000) for _ in range(2))
    assert threading.active_count() == before and np.array_equal(one, two) and one.info == two.info


# After a parallel kernel has run, the child of a fork() must be able to run one too: multiprocessing's
# default start method on Linux forks, and numba's GNU OpenMP layer kills such children (a Pool then hangs).
_FORK_CHILD = textwrap.dedent("""
    import multiprocessing as mp, os, sys
    import numpy as np
    import microviral as mv
    from microviral._kernels.runtime import threading_layer

    g = mv.planted_partition(4, 60, 0.1, 0.01, rng=1)

    def reach(rng):
        return mv.simulate(g, [0, 1], n_runs=600, rng=rng, n_threads=2).reach

    def picks(rng):
        return mv.seeding.opim_c(g, 3, rng=rng)

    if __name__ == "__main__":
        parent = [reach(r) for r in (1, 2, 3)]
        best = picks(4)
        with mp.get_context("fork").Pool(2) as pool:
            child = pool.map(reach, (1, 2, 3))
            child_picks = pool.apply(picks, (4,))
        assert all(np.array_equal(a, b) for a, b in zip(parent, child))
        assert np.array_equal(best, child_picks)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if np.array_equal(reach(1), parent[0]) else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        print(threading_layer())
""")


def _without_layer_choice():
    return {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}


def test_forked_children_run_kernels_after_the_parent_has():
    """The default threading layer survives fork: forked Pool workers and a bare os.fork child give the parent's results."""
    proc = subprocess.run([sys.executable, "-c", _FORK_CHILD], capture_output=True, text=True,
                          env=_without_layer_choice(), timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() in ("workqueue", "tbb")
    assert "Terminating" not in proc.stderr


def test_a_users_threading_layer_is_left_alone():
    """NUMBA_THREADING_LAYER (or numba.config set before the first call) wins over microviral's fork-safe default."""
    code = ("import sys, numba, microviral as mv\n"
            "if len(sys.argv) > 1: numba.config.THREADING_LAYER = sys.argv[1]\n"
            "mv.simulate(mv.planted_partition(2, 20, 0.2, 0.01, rng=1), [0], n_runs=600, rng=1, n_threads=2)\n"
            "print(numba.config.THREADING_LAYER, numba.threading_layer())")
    cases = [({}, [], "forksafe"), ({"NUMBA_THREADING_LAYER": "workqueue"}, [], "workqueue workqueue"),
             ({"NUMBA_THREADING_LAYER_PRIORITY": "workqueue omp tbb"}, [], "default workqueue"),
             ({}, ["workqueue"], "workqueue workqueue")]
    for extra, argv, expected in cases:
        env = dict(_without_layer_choice(), **extra)
        proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip().startswith(expected), (extra, argv, proc.stdout)
