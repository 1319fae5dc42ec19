"""Refusing up front what would not fit in memory: one check shared by the graph, the engine and seeding.

The memory a request may use is the smallest of every limit that applies to this
process, not the host's free memory alone:

* the host's available memory (``psutil``, else ``MemAvailable`` in ``/proc/meminfo``,
  else ``sysconf``);
* ``RLIMIT_AS`` (``ulimit -v``) minus the address space in use (``VmSize``) and
  ``RLIMIT_DATA`` (``ulimit -d``) minus the data segment in use (``VmData``);
* the memory cgroup of the process, at every level up to the root: cgroup v2
  ``memory.max`` minus ``memory.current``, cgroup v1 ``memory.limit_in_bytes`` minus
  ``memory.usage_in_bytes`` (reclaimable page cache, ``inactive_file``, counted as free).

A container or ``ulimit -v`` therefore gets a clear ``MemoryError`` naming the limit
instead of a process killed by the kernel or numpy failing half-way.
"""

import os
import time
from typing import NamedTuple

__all__ = ["check_memory", "available_memory", "memory_limits", "Limit"]

_MEMORY_FRACTION = 0.5

# cgroup v1 writes "no limit" as LONG_MAX rounded down to a page (9223372036854771712); anything this large is none
_UNLIMITED = 2**60


class Limit(NamedTuple):
    """One limit on this process's memory: bytes still available under it, and where it was read."""

    available: int
    source: str
    detail: str = ""


def _read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except (OSError, ValueError):
        return None


def _int(text):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return None


def _fields(text, unit=1):
    """``key value`` lines (``/proc/meminfo``, ``/proc/self/status``, ``memory.stat``) as a dict of ints."""
    out = {}
    for line in (text or "").splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = int(parts[1]) * unit
            except ValueError:
                pass
    return out


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.2f} GiB"


def _host(root):
    if root is None:
        try:
            import psutil

            return Limit(int(psutil.virtual_memory().available), "host memory", "available, from psutil")
        except Exception:  # psutil is optional
            pass
    root = root or "/"
    kib = _fields(_read(os.path.join(root, "proc/meminfo")), 1024)
    if "MemAvailable" in kib:
        return Limit(kib["MemAvailable"], "host memory", "MemAvailable in /proc/meminfo")
    if root == "/":
        try:
            return Limit(int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")), "host memory",
                         "free pages, from sysconf")
        except (ValueError, OSError, AttributeError):
            pass
    return None


def _rlimits():
    """Soft ``RLIMIT_AS`` and ``RLIMIT_DATA`` of this process (None: unlimited or unknown)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return {}
    out = {}
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        try:
            soft = resource.getrlimit(getattr(resource, name))[0]
        except (AttributeError, OSError, ValueError):
            continue
        if soft != resource.RLIM_INFINITY and soft >= 0:
            out[name] = int(soft)
    return out


def _process_limits(root, rlimits):
    if rlimits is None:
        rlimits = _rlimits()
    if not rlimits:
        return []
    status = _fields(_read(os.path.join(root or "/", "proc/self/status")), 1024)
    out = []
    for name, used_key, what in (("RLIMIT_AS", "VmSize", "address space"), ("RLIMIT_DATA", "VmData", "data segment")):
        limit = rlimits.get(name)
        if limit is None:
            continue
        used = status.get(used_key, 0)
        out.append(Limit(max(limit - used, 0), name,
                         f"{what} limit {_gib(limit)} (ulimit), {_gib(used)} in use ({used_key})"))
    return out


def _cgroup_paths(root):
    """``{"v2": path, "v1": path}`` of this process's memory cgroup, from ``/proc/self/cgroup``."""
    out = {}
    for line in (_read(os.path.join(root, "proc/self/cgroup")) or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            out["v2"] = path
        elif "memory" in controllers.split(","):
            out["v1"] = path
    return out


def _levels(base, path):
    """``base/path`` and each of its parents up to ``base``, the deepest first, that exist."""
    parts = [p for p in path.split("/") if p and p != ".."]
    for depth in range(len(parts), -1, -1):
        folder = os.path.join(base, *parts[:depth])
        if os.path.isdir(folder):
            yield folder


_CGROUP_FILES = {
    # version: (mount points under the root, limit file, usage file, reclaimable cache in memory.stat, source)
    "v2": (("sys/fs/cgroup", "sys/fs/cgroup/unified"), "memory.max", "memory.current", "inactive_file",
           "cgroup v2 memory.max"),
    "v1": (("sys/fs/cgroup/memory",), "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file",
           "cgroup v1 memory.limit_in_bytes"),
}

# Which cgroup folders hold a finite limit, found again after this many seconds: finding them reads
# /proc/self/cgroup and every level's limit file (~0.5 ms), while the check itself may run once per batch.
_CGROUP_CACHE_SECONDS = 10.0
_cgroup_cache = {}


def _limited_cgroups(root):
    """``[(version, folder)]``: this process's memory cgroups, at every level, that have a finite limit."""
    import time

    now = time.monotonic()
    hit = _cgroup_cache.get(root)
    if hit is not None and now - hit[0] < _CGROUP_CACHE_SECONDS and hit[1] == os.getpid():
        return hit[2]
    found = []
    for version, path in _cgroup_paths(root).items():
        bases, limit_file = _CGROUP_FILES[version][:2]
        for base in bases:
            for folder in _levels(os.path.join(root, base), path):
                limit = _int(_read(os.path.join(folder, limit_file)))  # v2's "max" (no limit) reads as None
                if limit is not None and limit < _UNLIMITED:
                    found.append((version, folder))
    _cgroup_cache[root] = (now, os.getpid(), found)
    return found


def _cgroup_limits(root):
    root = root or "/"
    out = []
    for version, folder in _limited_cgroups(root):
        _, limit_file, usage_file, cache_key, source = _CGROUP_FILES[version]
        limit = _int(_read(os.path.join(folder, limit_file)))
        used = _int(_read(os.path.join(folder, usage_file)))
        if limit is None or used is None or limit >= _UNLIMITED:
            continue
        used = max(used - _fields(_read(os.path.join(folder, "memory.stat"))).get(cache_key, 0), 0)
        shown = "/" + os.path.relpath(folder, root)
        out.append(Limit(max(limit - used, 0), source, f"{_gib(limit)} in {shown}, {_gib(used)} in use ({usage_file})"))
    return out


def memory_limits(root=None, rlimits=None):
    """Every memory limit that applies to this process, as :class:`Limit` s (the host's first).

    ``root`` (tests): a folder standing for ``/``, holding ``proc/meminfo``,
    ``proc/self/status``, ``proc/self/cgroup`` and ``sys/fs/cgroup/...``; psutil and
    sysconf are then not consulted. ``rlimits`` (tests): ``{"RLIMIT_AS": bytes,
    "RLIMIT_DATA": bytes}`` instead of this process's soft limits.
    """
    limits = []
    host = _host(root)
    if host is not None:
        limits.append(host)
    limits += _process_limits(root, rlimits)
    limits += _cgroup_limits(root)
    if not limits:  # nothing readable (an unknown platform): a modest default rather than no guard
        limits.append(Limit(8 * 2**30, "default", "no limit could be read; 8 GiB assumed"))
    return limits


def _limits():
    return memory_limits()


# A check may reuse the tightest limit read this recently, for a request below an eighth of what it left:
# reading every limit costs about 0.1 ms (psutil, /proc, cgroup files), and RR sampling checks each batch
# (OPIM-C on NetHEPT: 61 checks, 15% of its time). A request that could come near a limit always reads afresh.
_REUSE_SECONDS = 0.05
_REUSE_SHARE = 8
_recent = None  # (time.monotonic(), the _limits function that read it, the tightest Limit)


def _tightest(n_bytes=float("inf")):
    global _recent
    read = _limits  # compared by identity, so a replaced reader (the tests' fakes) is never served stale limits
    now = time.monotonic()
    recent = _recent
    if recent is not None and recent[1] is read and now - recent[0] < _REUSE_SECONDS \
            and n_bytes * _REUSE_SHARE < recent[2].available:
        return recent[2]
    limit = min(read(), key=lambda limit: limit.available)
    _recent = (now, read, limit)
    return limit


def available_memory():
    """Bytes this process may still allocate: the smallest of :func:`memory_limits`."""
    return _tightest().available


def _size(n_bytes):
    gib = n_bytes / 2**30
    if gib == float("inf"):
        return "inf GiB (more than any memory)"
    return f"{gib:.2f} GiB" if gib < 1e6 else f"{gib:.3g} GiB"


def check_memory(n_bytes, what, hint="ask for fewer runs or rounds"):
    """Refuse up front a request that needs more than half of the memory available under the tightest limit.

    ``n_bytes`` may be a float (even ``inf``) so that estimates from huge parameters
    never overflow. The message names the request, its size, the limit that applied,
    where that limit was read, and ``hint`` (what to do instead).
    """
    limit = _tightest(n_bytes)
    if n_bytes > _MEMORY_FRACTION * limit.available:
        where = f"{limit.source}: {limit.detail}" if limit.detail else limit.source
        raise MemoryError(
            f"{what} would need about {_size(n_bytes)}, more than half of the {_size(limit.available)} "
            f"available under the tightest memory limit ({where}); {hint}."
        )
