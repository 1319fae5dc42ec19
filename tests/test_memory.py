"""The memory guard: the limit that actually applies (host, RLIMIT_AS/RLIMIT_DATA, cgroup v2/v1), named."""

import subprocess
import sys
import textwrap

import pytest

import microviral as mv
import microviral._memory as memory
from microviral._memory import Limit, memory_limits

GiB = 2**30


def write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A folder standing for ``/``: a host with 64 GiB available, no cgroup limit yet."""
    monkeypatch.setattr(memory, "_cgroup_cache", {})
    write(tmp_path, "proc/meminfo", f"MemTotal: {128 * GiB // 1024} kB\nMemAvailable: {64 * GiB // 1024} kB\n")
    write(tmp_path, "proc/self/status", f"Name:\tpython\nVmSize:\t{GiB // 1024} kB\nVmData:\t{GiB // 2048} kB\n")
    write(tmp_path, "proc/self/cgroup", "0::/\n")
    return tmp_path


def use(monkeypatch, root, rlimits=None):
    monkeypatch.setattr(memory, "_limits", lambda: memory_limits(root=str(root), rlimits=rlimits or {}))


def by_source(root, rlimits=None):
    return {limit.source: limit for limit in memory_limits(root=str(root), rlimits=rlimits or {})}


def test_host_memory_from_meminfo(fake_root):
    limits = memory_limits(root=str(fake_root), rlimits={})
    assert limits == [Limit(64 * GiB, "host memory", "MemAvailable in /proc/meminfo")]


def test_nothing_readable_gives_a_modest_default(tmp_path):
    assert memory_limits(root=str(tmp_path), rlimits={}) == [Limit(8 * GiB, "default", "no limit could be read; "
                                                                                       "8 GiB assumed")]


def test_rlimit_as_and_data_count_what_is_already_in_use(fake_root):
    limits = by_source(fake_root, {"RLIMIT_AS": 4 * GiB, "RLIMIT_DATA": 2 * GiB})
    assert limits["RLIMIT_AS"].available == 3 * GiB           # 4 GiB minus VmSize 1 GiB
    assert limits["RLIMIT_DATA"].available == 2 * GiB - GiB // 2  # minus VmData 0.5 GiB
    assert "VmSize" in limits["RLIMIT_AS"].detail and "VmData" in limits["RLIMIT_DATA"].detail


def test_cgroup_v2_limits_at_every_level(fake_root):
    write(fake_root, "proc/self/cgroup", "0::/user.slice/app.scope\n")
    cg = "sys/fs/cgroup"
    write(fake_root, f"{cg}/user.slice/app.scope/memory.max", "max\n")  # no limit of its own
    write(fake_root, f"{cg}/user.slice/app.scope/memory.current", f"{GiB}\n")
    write(fake_root, f"{cg}/user.slice/memory.max", f"{6 * GiB}\n")
    write(fake_root, f"{cg}/user.slice/memory.current", f"{3 * GiB}\n")
    # one of the 3 GiB in use is reclaimable page cache
    write(fake_root, f"{cg}/user.slice/memory.stat", f"anon {2 * GiB}\nfile {GiB}\ninactive_file {GiB}\n")
    limits = memory_limits(root=str(fake_root), rlimits={})
    v2 = [limit for limit in limits if limit.source == "cgroup v2 memory.max"]
    assert [limit.available for limit in v2] == [4 * GiB]
    assert "/sys/fs/cgroup/user.slice" in v2[0].detail and "6.00 GiB" in v2[0].detail
    assert memory.available_memory.__module__ == "microviral._memory"


def test_cgroup_v2_at_the_root_of_a_container(fake_root):
    write(fake_root, "sys/fs/cgroup/memory.max", f"{2 * GiB}\n")
    write(fake_root, "sys/fs/cgroup/memory.current", f"{GiB // 2}\n")
    assert by_source(fake_root)["cgroup v2 memory.max"].available == GiB + GiB // 2


def test_cgroup_v1_limit_and_its_unlimited_sentinel(fake_root):
    write(fake_root, "proc/self/cgroup", "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n")
    v1 = "sys/fs/cgroup/memory"
    write(fake_root, f"{v1}/memory.limit_in_bytes", "9223372036854771712\n")  # LONG_MAX rounded: no limit
    write(fake_root, f"{v1}/memory.usage_in_bytes", f"{10 * GiB}\n")
    write(fake_root, f"{v1}/docker/abc/memory.limit_in_bytes", f"{3 * GiB}\n")
    write(fake_root, f"{v1}/docker/abc/memory.usage_in_bytes", f"{2 * GiB}\n")
    write(fake_root, f"{v1}/docker/abc/memory.stat", f"cache {GiB}\ntotal_inactive_file {GiB // 2}\n")
    limits = memory_limits(root=str(fake_root), rlimits={})
    v1_limits = [limit for limit in limits if limit.source.startswith("cgroup v1")]
    assert [limit.available for limit in v1_limits] == [GiB + GiB // 2]
    assert "/sys/fs/cgroup/memory/docker/abc" in v1_limits[0].detail


def test_garbage_files_are_ignored(fake_root):
    write(fake_root, "proc/self/cgroup", "nonsense\n0::/a\n4:memory:/b\n")
    write(fake_root, "sys/fs/cgroup/a/memory.max", "lots\n")
    write(fake_root, "sys/fs/cgroup/memory/b/memory.limit_in_bytes", "\n")
    write(fake_root, "proc/self/status", "VmSize: many kB\n")
    limits = by_source(fake_root, {"RLIMIT_AS": GiB})
    assert set(limits) == {"host memory", "RLIMIT_AS"}
    assert limits["RLIMIT_AS"].available == GiB  # usage unreadable: counted as 0


@pytest.mark.parametrize("setup, source", [
    (lambda root: None, "RLIMIT_AS"),
    (lambda root: (write(root, "sys/fs/cgroup/memory.max", f"{GiB}\n"),
                   write(root, "sys/fs/cgroup/memory.current", "0\n")), "cgroup v2 memory.max"),
    (lambda root: (write(root, "proc/self/cgroup", "4:memory:/\n"),
                   write(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", f"{GiB}\n"),
                   write(root, "sys/fs/cgroup/memory/memory.usage_in_bytes", "0\n")), "cgroup v1 memory.limit_in_bytes"),
])
def test_the_tightest_limit_is_applied_and_named(fake_root, monkeypatch, setup, source):
    setup(fake_root)
    # RLIMIT_AS leaves 2 GiB (3 minus VmSize), a cgroup (when set up) 1 GiB: the smaller one applies
    use(monkeypatch, fake_root, {"RLIMIT_AS": 3 * GiB})
    memory.check_memory(GiB // 2 - 1, "a small request")
    with pytest.raises(MemoryError) as info:
        memory.check_memory(3 * GiB, "a request of three", hint="ask for less")
    message = str(info.value)
    assert message.startswith("a request of three would need about 3.00 GiB")
    assert source in message and message.endswith("; ask for less.")


def test_a_huge_float_estimate_is_refused_without_overflow(fake_root, monkeypatch):
    use(monkeypatch, fake_root)
    for n_bytes in (1e30, float("inf"), 2**200):
        with pytest.raises(MemoryError, match="GiB"):
            memory.check_memory(n_bytes, "everything")


def test_the_public_guards_use_the_tightest_limit(fake_root, monkeypatch):
    write(fake_root, "sys/fs/cgroup/memory.max", f"{GiB}\n")
    write(fake_root, "sys/fs/cgroup/memory.current", "0\n")
    use(monkeypatch, fake_root)
    with pytest.raises(MemoryError, match=r"cgroup v2 memory\.max.*check 'n_nodes'"):
        mv.CommunityGraph.from_edges([0], [1], n_nodes=50_000_000)  # 1.5 GiB: fine for the host, not the cgroup
    g = mv.CommunityGraph.from_edges([0], [1])
    with pytest.raises(MemoryError, match=r"10000000 runs .*cgroup v2 memory\.max"):
        mv.simulate(g, [0], n_runs=10_000_000, rng=0)


def test_check_memory_is_not_public():
    import microviral.simulation as simulation

    assert "check_memory" not in mv.__all__ and "check_memory" not in simulation.__all__


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_under_ulimit_v_a_request_gets_the_guards_error_not_numpys(tmp_path):
    """A real child process under RLIMIT_AS = 2 GiB: requests that fit the host but not the limit are refused."""
    code = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))
        import microviral as mv
        from microviral._memory import available_memory
        assert available_memory() < 2 * 2**30, available_memory()
        g = mv.CommunityGraph.from_edges([0, 1], [1, 2], n_nodes=1000)  # small requests still work
        for call in (lambda: mv.CommunityGraph.from_edges([0], [1], n_nodes=60_000_000),
                     lambda: mv.simulate(g, [0], n_runs=40_000_000, rng=0),
                     lambda: mv.seeding.imm(g, 1, eps=1e-5, rng=0)):
            try:
                call()
            except MemoryError as exc:
                assert "RLIMIT_AS" in str(exc) and "GiB" in str(exc), exc
                print("refused:", exc)
            else:
                raise SystemExit("not refused")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("refused:") == 3


# ------------------------------------------------------------------ seeding: refused from the parameters alone
import importlib  # noqa: E402

import numpy as np  # noqa: E402

# the modules, not the functions of the same names that microviral.seeding exports
celf_module = importlib.import_module("microviral.seeding.celf")
imm_module = importlib.import_module("microviral.seeding.imm")
opim_module = importlib.import_module("microviral.seeding.opim")


@pytest.fixture
def small_graph():
    return mv.CommunityGraph.from_edges([0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 5, 5], prob=0.3, community=list("aaabbb"))


@pytest.fixture
def one_gib(monkeypatch):
    monkeypatch.setattr(memory, "_limits", lambda: [Limit(GiB, "test limit", "1 GiB")])


@pytest.fixture
def no_rr_sets(monkeypatch):
    """Any RR-set collection made is an error: the refusal must come before the first allocation."""
    def refuse(*args, **kwargs):
        raise AssertionError("an RR-set collection was made before the memory check")

    for module in (imm_module, opim_module):
        monkeypatch.setattr(module, "RRCollection", refuse)


@pytest.mark.parametrize("kwargs", [dict(eps=1e-9), dict(eps=1e-200), dict(eps=5e-324), dict(ell=1e300),
                                    dict(ell=1e308), dict(eps=1e-5, ell=1e6)])
def test_imm_refuses_extreme_parameters_before_any_rr_set(small_graph, no_rr_sets, kwargs):
    for target in (None, "b"):
        with pytest.raises(MemoryError, match=r"at least .* RR sets \(IMM with eps=.*GiB.*a larger 'eps'"):
            mv.seeding.imm(small_graph, 2, target=target, rng=0, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(eps=1e-4), dict(ell=1e5), dict(eps=1e-3, ell=500.0)])
def test_imm_refuses_what_does_not_fit_the_limit_that_applies(small_graph, no_rr_sets, one_gib, kwargs):
    with pytest.raises(MemoryError, match=r"RR sets .*test limit"):
        mv.seeding.imm(small_graph, 2, rng=0, **kwargs)


def test_imm_parameters_that_fit_still_run(small_graph, one_gib):
    seeds = mv.seeding.imm(small_graph, 2, eps=0.2, ell=2.0, rng=0)
    assert len(seeds) == 2 and seeds.info["n_rr_sets"] * 12 < GiB / 2


@pytest.mark.parametrize("value, name", [(0.0, "eps"), (1.0, "eps"), (-0.1, "eps"), (float("nan"), "eps"),
                                         (0.0, "ell"), (-1.0, "ell"), (float("inf"), "ell")])
def test_imm_ranges(small_graph, value, name):
    with pytest.raises(ValueError, match=f"'{name}' must be a finite number in"):
        mv.seeding.imm(small_graph, 1, **{name: value})


@pytest.mark.parametrize("value, name", [(5e-324, "delta"), (1e-301, "delta"), (0.0, "delta"), (1.0, "delta"),
                                         (0.0, "eps"), (1.0, "eps"), (0.0, "ratio"), (1.0, "ratio")])
def test_opim_ranges(small_graph, value, name):
    with pytest.raises(ValueError, match=f"'{name}' must be a finite number in"):
        mv.seeding.opim_c(small_graph, 1, **{name: value})


def test_opim_tiny_eps_and_delta_do_not_overflow(small_graph):
    for kwargs in (dict(eps=1e-200), dict(eps=5e-324), dict(delta=1e-300), dict(eps=1e-9, delta=1e-300)):
        seeds = mv.seeding.opim_c(small_graph, 1, rng=0, max_rr_sets=5000, **kwargs)
        assert len(seeds) == 1 and seeds.info["n_rr_sets"] <= 5000


def test_opim_refuses_its_first_round_before_any_rr_set(small_graph, no_rr_sets, monkeypatch):
    monkeypatch.setattr(memory, "_limits", lambda: [Limit(10_000, "test limit", "tiny")])
    with pytest.raises(MemoryError, match=r"OPIM-C's first 2 x [\d,]+ RR sets.*test limit.*'eps'"):
        mv.seeding.opim_c(small_graph, 1, delta=1e-300, rng=0)  # about 2,800 sets a collection


def test_rr_estimate_refuses_huge_n_sets_before_any_rr_set(small_graph, no_rr_sets, one_gib):
    with pytest.raises(MemoryError, match=r"2,147,483,646 RR sets.*'n_sets'"):
        mv.seeding.rr_estimate(small_graph, [0], n_sets=2**31 - 2, rng=0)


def test_celf_refuses_huge_n_runs_before_any_key(small_graph, one_gib, monkeypatch):
    def no_keys(*args, **kwargs):
        raise AssertionError("keys were drawn before the memory check")

    monkeypatch.setattr(celf_module, "run_keys", no_keys)
    with pytest.raises(MemoryError, match=r"CELF on 10000000 runs.*'n_runs'"):
        mv.seeding.celf(small_graph, 1, n_runs=10_000_000)


def test_rr_collection_checks_before_growing(small_graph, one_gib, monkeypatch):
    rr = imm_module.RRCollection(small_graph, None, 7)
    rr.extend(2000)
    before = (rr.n_sets, rr.members.size, rr.offsets.size)
    with pytest.raises(MemoryError, match=r"RR sets"):
        rr.extend(10**9)
    assert (rr.n_sets, rr.members.size, rr.offsets.size) == before  # nothing drawn, nothing grown
    fresh = imm_module.RRCollection(small_graph, None, 7)
    with pytest.raises(MemoryError, match=r"1,000,000,000 RR sets \(about 1.0 nodes each\)"):
        fresh.extend(10**9)  # refused at one node a set, before the pilot batch
    assert fresh.n_sets == 0 and np.all(fresh.offsets == 0)


# ------------------------------------------------------------------ generators: refused from the expected edges
generators_module = importlib.import_module("microviral.generators")


@pytest.fixture
def no_draws(monkeypatch):
    def refuse(rng):
        raise AssertionError("randomness was drawn before the memory check")

    monkeypatch.setattr(generators_module, "_generator", refuse)


@pytest.mark.parametrize("make", [
    lambda: mv.generators.planted_partition(10, 100_000, 0.9, 0.01),            # dense blocks
    lambda: mv.generators.planted_partition(2, 20_000, 0.0, 1.0, directed=True),  # dense between blocks
    lambda: mv.stochastic_block_model([60_000], [[0.99]]),
    lambda: mv.stochastic_block_model([2**30 - 1, 2**30 - 1], np.zeros((2, 2))),  # no edge, too many nodes
    lambda: mv.niche_in_background(1_000_000, 50_000, niche_degree=49_000),
    lambda: mv.niche_in_background(200_000_000, 10, background_degree=1.0, niche_degree=0.0, n_bridges=0),
    lambda: mv.niche_in_background(200_000, 20_000, background_degree=0.0, niche_degree=0.0, n_bridges=3 * 10**9),
    lambda: mv.lfr(2_000_000_000, 3, 1.5, 0.1, average_degree=20),
    lambda: mv.lfr(10_000_000, 3, 1.5, 0.1, min_degree=50),
], ids=["planted-in", "planted-out", "sbm-dense", "sbm-nodes", "niche-dense", "niche-nodes", "niche-bridges",
        "lfr-nodes", "lfr-degree"])
def test_generators_refuse_before_drawing(make, no_draws, one_gib):
    with pytest.raises(MemoryError, match=r"(graph|LFR graph) of [\d,]+ nodes and .* edges would need about "
                                          r"[\d.]+ GiB.*test limit.*; ask for (fewer|smaller)"):
        make()


@pytest.mark.parametrize("kwargs", [dict(n_communities=4, community_size=1500, p_in=0.3, p_out=0.01),
                                    dict(n_communities=2, community_size=2000, p_in=0.8, p_out=0.6),
                                    dict(n_communities=40, community_size=100, p_in=0.2, p_out=0.01)])
@pytest.mark.parametrize("directed", [False, True])
def test_generator_estimate_covers_the_peak(monkeypatch, kwargs, directed):
    """The estimate is not below what generation really allocates (traced), nor far above it."""
    import tracemalloc

    estimates = []
    monkeypatch.setattr(generators_module, "check_memory", lambda n_bytes, what, hint="": estimates.append(n_bytes))
    tracemalloc.start()
    try:
        g = mv.generators.planted_partition(**kwargs, directed=directed, rng=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert g.n_arcs > 0 and len(estimates) == 1
    assert peak <= estimates[0] <= 3 * peak


def test_generators_that_fit_still_run(one_gib):
    g = mv.generators.planted_partition(4, 500, 0.9, 0.05, rng=0)
    assert g.n_nodes == 2000 and g.n_arcs > 0
    assert mv.niche_in_background(5000, 100, rng=0).n_nodes == 5100


def test_attribution_is_refused_before_any_run(one_gib, monkeypatch):
    engine = importlib.import_module("microviral._engine")
    monkeypatch.setattr(engine, "run_chunk", lambda *a, **k: pytest.fail("a run started before the memory check"))
    n = 20_000
    g = mv.CommunityGraph.from_edges(np.arange(n - 1), np.arange(1, n))
    # the outputs alone (about 300 bytes a run) fit the 1 GiB easily; 2 x 4 bytes per seed and run do not
    with pytest.raises(MemoryError, match=r"10000 runs with per-seed counts of 10000 seeds .*test limit"):
        mv.simulate(g, np.arange(10_000), n_runs=10_000, rng=0, attribution=True)


def test_compare_is_refused_before_any_strategy_runs(small_graph, one_gib):
    def never(graph, k, **kwargs):
        raise AssertionError("a strategy ran before the memory check")

    with pytest.raises(MemoryError, match=r"2000000 runs for each of 3 strategies x 2 budgets.*test limit"):
        mv.compare(small_graph, {"a": never, "b": never, "c": never}, k=[1, 2], n_runs=2_000_000, rng=0)


def test_limits_are_read_again_unless_recent_and_far_from_the_request(monkeypatch):
    reads = []

    def fake():
        reads.append(1)
        return [Limit(8 * GiB, "test")]

    monkeypatch.setattr(memory, "_limits", fake)
    memory.check_memory(GiB // 16, "small")
    memory.check_memory(GiB // 16, "small")
    assert len(reads) == 1                      # reused: a small request, read moments ago
    memory.check_memory(2 * GiB, "large")       # an eighth of the limit or more: always read afresh
    assert len(reads) == 2
    with pytest.raises(MemoryError, match="tight"):
        monkeypatch.setattr(memory, "_limits", lambda: [Limit(GiB // 16, "tight")])   # a new reader: never stale
        memory.check_memory(GiB // 16, "small")
    monkeypatch.setattr(memory, "_limits", fake)
    monkeypatch.setattr(memory, "_REUSE_SECONDS", 0.0)
    memory.check_memory(GiB // 16, "small")
    memory.check_memory(GiB // 16, "small")
    assert len(reads) == 4                      # no reuse window: every check reads
    assert memory.available_memory() == 8 * GiB and len(reads) == 5
