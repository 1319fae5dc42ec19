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
