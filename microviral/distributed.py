"""The Dask backend: chunks of runs on a ``dask.distributed`` cluster, with the local results.

``simulate(..., backend="dask")`` cuts the run keys into chunks, sends the graph's
arrays to every worker once (``client.scatter(..., broadcast=True)``), runs one
task per chunk with the same engine as the local backend
(:func:`microviral._engine.run_chunk`) and merges the chunks in run order.
Each run depends only on its 64-bit key, so the result is bit-identical to the
local backend whatever the number of workers, threads per worker or chunk size,
and a chunk lost with its worker is simply recomputed.

Dask is optional (``pip install microviral[dask]``); this module imports it only
when a function here is called, so ``import microviral`` stays fast.
"""

import contextlib
import hashlib
import ipaddress
import math
import os
import re
import socket
import threading
import time
import uuid
import weakref

import numpy as np

from ._engine import (check_graph, check_kernel, check_model, check_weights, kernel_for_reach, merge_outputs,
                      output_bytes_per_run, run_chunk)
from ._kernels.runtime import max_threads
from ._memory import check_memory
from ._rng import check_keys
from ._validation import _describe, check_bool, check_float, check_int, check_node_array

__all__ = ["client_context", "simulate_dask", "default_chunk_size"]

_INSTALL_HINT = "pip install microviral[dask]"
# Dask retries a chunk whose task raised (e.g. a worker running out of memory) this many times; a chunk
# lost with a dead worker is rescheduled by the scheduler itself (``distributed.scheduler.allowed-failures``).
_RETRIES = 2
# seconds a client may be reconnecting to its scheduler before a run gives up on it
_RECONNECT_GRACE = 30.0
# Chunks whose scattered inputs were lost with every worker holding them are resubmitted this many times.
_RESUBMITS = 3
# Default chunking: about this many chunks per Dask thread (load balance, progress), never chunks so
# small that the fixed cost per task (a few ms, see docs/scaling.md) dominates.
_CHUNKS_PER_THREAD = 4
_MIN_ARC_VISITS_PER_CHUNK = 2e7
_MAX_ARC_VISITS_PER_CHUNK = 2e9
_MAX_CHUNKS = 10_000
_MIN_CHUNK_SECONDS = 0.2
_MAX_CHUNK_SECONDS = 30.0
# Without a chunk size, the first runs are timed here (and kept) to size the chunks.
_PILOT_RUNS = 64

# One scattered graph per client, reused by consecutive calls on the same graph (e.g. ``compare`` running
# every strategy on one graph ships the graph once, not once per strategy).
_SCATTERED = weakref.WeakKeyDictionary()
_SCATTER_LOCK = threading.Lock()


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - exercised only where dask is absent
        raise ImportError(
            f"The Dask backend needs dask.distributed, which is not installed. Install it with "
            f"`{_INSTALL_HINT}` (or `pip install 'dask[distributed]'`)."
        ) from exc
    return distributed


def _connect_timeout(timeout):
    if timeout is None:
        import dask.config
        from dask.utils import parse_timedelta

        return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds"))
    return check_float(timeout, "timeout", low=0.0, low_open=True)


@contextlib.contextmanager
def client_context(client=None, *, n_workers=2, threads_per_worker=1, processes=True, timeout=None):
    """Yield a running ``dask.distributed.Client``; close what this call started.

    Parameters
    ----------
    client : None, dask.distributed.Client, a Dask cluster object, or str
        None: start a ``LocalCluster`` of worker processes on this machine and
        close it (and its processes) on exit, also after an error. A ``Client``:
        use it as it is and leave it open. A cluster object (``LocalCluster``,
        ``SLURMCluster``, ``KubeCluster``...): connect a client to it, close the
        client on exit and leave the cluster running. A str: the address of a
        running scheduler, ``"scheme://host:port"`` (``"tcp://10.0.0.5:8786"``;
        the scheme defaults to tcp, an IPv6 host is written ``[::1]``), checked
        here before any connection, connected to and disconnected from on exit.
    n_workers, threads_per_worker : int, default 2 and 1
        Size of the LocalCluster started when ``client`` is None.
    processes : bool, default True
        Whether that LocalCluster's workers are processes (False: threads of
        this process, quicker to start, for small jobs and examples).
    timeout : float, optional
        Seconds to wait for a scheduler given by address or cluster. Default:
        Dask's ``distributed.comm.timeouts.connect`` setting. A server that
        accepts the connection but does not answer as a Dask scheduler is given
        up after twice this time.

    Yields
    ------
    dask.distributed.Client

    Raises
    ------
    ImportError
        dask.distributed is not installed (``pip install microviral[dask]``).
    TypeError
        ``client`` is none of the above.
    ValueError
        The client is closed or closing, or the address is malformed (an
        unknown scheme, no port, a port outside 1-65535, a host that is not a
        valid IP address or host name).
    ConnectionError
        No scheduler answered at the given address within ``timeout``; or,
        from inside the ``with`` block, the client was closed or lost its
        scheduler there (whatever error distributed raised is its cause).
        A failed connection leaves no client, IO loop or thread behind.

    Examples
    --------
    >>> from microviral.distributed import client_context
    >>> with client_context(n_workers=1, processes=False) as client:  # a LocalCluster, closed on exit
    ...     with client_context(client) as c:  # a running client is used as it is
    ...         c is client, sum(c.nthreads().values())
    (True, 1)
    >>> client.status
    'closed'
    """
    distributed = _import_distributed()
    if client is None:
        n_workers = check_int(n_workers, "n_workers", minimum=1)
        threads_per_worker = check_int(threads_per_worker, "threads_per_worker", minimum=1)
        cluster = _local_cluster(n_workers, threads_per_worker, processes=check_bool(processes, "processes"))
        try:
            own = _connect(distributed, cluster, _connect_timeout(None))
            with _owning(own):
                yield own
        finally:
            cluster.close()
        return
    if isinstance(client, distributed.Client):
        status = getattr(client, "status", None)
        if status != "running":
            raise ValueError(f"'client' must be a running dask.distributed.Client. Got a client whose status "
                             f"is {status!r}; create a new Client or pass client=None for a LocalCluster.")
        with _watching(client):
            yield client
        return
    if isinstance(client, str):
        address = _check_address(client)
        seconds = _connect_timeout(timeout)
        try:
            own = _connect(distributed, address, seconds)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"Could not reach a Dask scheduler at {address!r} (timeout {seconds:g} s; is the "
                                  f"scheduler running and the address right?): {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"'client' must be {_ADDRESS_FORM}. Got {client!r}: {exc}") from exc
        except Exception as exc:  # e.g. a scheme whose comm backend cannot be used here
            raise ConnectionError(f"Could not connect to a Dask scheduler at {address!r}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        with _owning(own):
            yield own
        return
    from distributed.deploy import Cluster

    if isinstance(client, Cluster):
        seconds = _connect_timeout(timeout)
        try:
            own = _connect(distributed, client, seconds)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"Could not connect a client to the cluster {client!r} (timeout {seconds:g} s; "
                                  f"is it running?): {exc}") from exc
        with _owning(own):
            yield own
        return
    raise TypeError(f"'client' must be None, a dask.distributed.Client, a Dask cluster or a scheduler address "
                    f"string. Got {_describe(client)}.")


# The forms of address checked here; other schemes (inproc, ucx) are handed to distributed as they are.
_HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss")
_ADDRESS_FORM = "a scheduler address 'scheme://host:port' such as 'tcp://10.0.0.5:8786'"
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _check_address(address):
    """The scheduler address ``address``, checked and normalised before distributed sees it.

    distributed refuses some malformed addresses only inside a started client (an
    unknown scheme, a missing port), and retries others until its timeout (a port
    of 0, an impossible IPv4 address); both are refused here, at once, with a
    ValueError that says what is wrong.
    """
    from distributed.comm import registry

    def bad(why):
        return ValueError(f"'client' must be {_ADDRESS_FORM}. Got {address!r}: {why}.")

    text = address.strip()
    if not text:
        raise ValueError(f"'client' must be {_ADDRESS_FORM}. Got {address!r}.")
    scheme, sep, loc = text.partition("://")
    if not sep:
        import dask.config

        scheme, loc = dask.config.get("distributed.comm.default-scheme"), text
    known = sorted(registry.backends)
    if scheme not in known:
        raise bad(f"unknown scheme {scheme!r} (known: {', '.join(known)})")
    if scheme not in _HOST_PORT_SCHEMES:
        return f"{scheme}://{loc}"
    if loc.startswith("["):
        host, sep, tail = loc[1:].partition("]")
        if not sep or not tail.startswith(":"):
            raise bad("an IPv6 address is written '[address]:port'")
        port = tail[1:]
        try:
            ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            raise bad(f"{host!r} is not an IPv6 address") from None
        shown = f"[{host}]"
    else:
        host, sep, port = loc.rpartition(":")
        if not sep:
            raise bad("no port (expected host:port)")
        if ":" in host:
            raise bad("an IPv6 address needs brackets, as in 'tcp://[::1]:8786'")
        if not host:
            raise bad("no host")
        if re.fullmatch(r"[0-9.]+", host):
            try:  # what the resolver would accept as a numeric address (also '127.1')
                socket.inet_aton(host)
            except OSError:
                raise bad(f"{host!r} is not a valid IPv4 address") from None
        elif len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.removesuffix(".").split(".")):
            raise bad(f"{host!r} is not a valid host name")
        shown = host
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise bad(f"the port must be a number from 1 to 65535, not {port!r}")
    return f"{scheme}://{shown}:{int(port)}"


def _connect(distributed, target, seconds):
    """A ``Client`` connected to ``target`` within about ``seconds``; a failure leaves no client, loop or thread.

    Two ways in which ``Client(target)`` alone misbehaves. A failed one is left
    half-started: its IO loop thread keeps running and, when it failed on a
    malformed address, it stays "connecting"; the garbage collector finalises it
    later, at any point, possibly while distributed holds the lock under which
    it starts the next client's loop, and closing it then waits for that same
    lock: the process hangs for ever. And its handshake has no timeout: a server
    that accepts the connection but never answers (not a Dask scheduler) holds it
    for ever. So the client is built in two steps, to keep a handle on it, on a
    helper thread that is waited for at most ``2 * seconds`` (the connection
    itself is bounded by ``seconds``; the rest is a handshake and one request,
    normally milliseconds); a client that failed or did not finish in time is
    closed and its loop stopped here, at once.
    """
    own = distributed.Client.__new__(distributed.Client)
    outcome = {}

    def attempt():
        try:
            own.__init__(target, timeout=seconds)
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    helper = threading.Thread(target=attempt, name="microviral-dask-connect", daemon=True)
    try:
        helper.start()
        helper.join(2 * seconds)
        if helper.is_alive():
            raise TimeoutError(f"the server at {_target_name(target)} accepted the connection but did not complete "
                               f"Dask's handshake within {2 * seconds:g} s (is it a Dask scheduler?)")
        if "error" in outcome:
            raise outcome.pop("error")
    except BaseException:
        _discard(own, seconds)
        raise
    return own


def _target_name(target):
    return repr(target) if isinstance(target, str) else getattr(target, "scheduler_address", type(target).__name__)


def _discard(client, seconds):
    """Close a client whose start failed, stop its IO loop thread, and leave nothing for its finaliser."""
    with contextlib.suppress(Exception):
        if getattr(client, "status", "newly-created") not in ("closed", "newly-created"):
            client.close(timeout=seconds)
    with contextlib.suppress(Exception):
        # a client whose connection failed closed itself but never stops its loop (close() skips it)
        runner = getattr(client, "_loop_runner", None)
        if runner is not None:
            runner.stop()
    client.status = "closed"  # its __del__ is then a no-op


def _client_lost(client, scheduler=None, detail=""):
    """The ConnectionError for a client that stopped running while this module used it."""
    status = getattr(client, "status", None)
    at = f" at {scheduler}" if scheduler else ""
    exc = ConnectionError(f"The Dask client was closed or lost its scheduler{at} during the run (client status "
                          f"now {status!r}){detail}. The results of this call are lost; start a new client (or "
                          f"pass client=None) and call again.")
    exc.microviral_client_lost = True
    return exc


def _client_gone(client, exc):
    """Whether ``exc`` came from ``client`` having stopped running (closed, or its scheduler gone).

    A dead scheduler can surface as a communication error before the client has
    noticed it (its status still "running"); then the scheduler is asked once,
    within the connect timeout, whether it is there.
    """
    if getattr(client, "status", None) != "running":
        return True
    from distributed.client import ClosedClientError

    if not isinstance(exc, (OSError, ClosedClientError)):
        return False
    try:
        client.sync(client.scheduler.identity, callback_timeout=_connect_timeout(None))
    except Exception:
        return True
    return getattr(client, "status", None) != "running"


@contextlib.contextmanager
def _owning(client):
    """Watch a client connected by :func:`client_context`; forget its scattered data and close it on exit."""
    try:
        with _watching(client):
            yield client
    finally:
        _SCATTERED.pop(client, None)
        client.close()

@contextlib.contextmanager
def _watching(client):
    """Turn any error raised while ``client`` is no longer running into one clear ConnectionError.

    A client closed (or left by its scheduler) mid-run makes distributed fail in
    many internal ways (an AttributeError on its missing scheduler, a
    CommClosedError, a ClosedClientError, cancelled futures); none of them says
    what happened.
    """
    scheduler = getattr(getattr(client, "scheduler", None), "address", None)
    try:
        yield client
    except Exception as exc:
        if getattr(exc, "microviral_client_lost", False) or not _client_gone(client, exc):
            raise
        raise _client_lost(client, scheduler) from exc


def _local_cluster(n_workers, threads_per_worker, processes=True):
    """A quiet LocalCluster: no dashboard, its HTTP endpoint on a free localhost port (not 8787)."""
    import logging

    import distributed

    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                    processes=processes, dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                    silence_logs=logging.ERROR)


def _worker_threads(client):
    """{worker address: Dask threads} for every worker, and their total."""
    threads = {addr: int(n) for addr, n in client.nthreads().items()}
    return threads, max(1, sum(threads.values()))


def default_chunk_size(n_runs, n_arcs, n_threads, seconds_per_run=None):
    """Runs per Dask task when ``chunk_size`` is not given.

    About four chunks per Dask thread, so that fast workers take more chunks and
    progress moves, within two bounds. Below: a chunk does at least ~0.2 s of
    work, 20 times the fixed cost of a task (about 10 ms, see docs/scaling.md),
    so that overhead stays under 5%. Above: a chunk does at most ~30 s of work,
    so a chunk lost with its worker costs little to recompute. The work of a run
    is ``seconds_per_run`` when known (``simulate_dask`` times a pilot of 64 runs),
    else bounded by the number of arcs (at most 2e7 to 2e9 arc visits per chunk).

    Parameters
    ----------
    n_runs : int
        Number of runs to split.
    n_arcs : int
        Arcs in the graph (a run visits each arc at most once).
    n_threads : int
        Dask threads across the cluster.
    seconds_per_run : float, optional
        Measured single-threaded time of one run.

    Returns
    -------
    int
        A chunk size in ``[1, n_runs]``.

    Examples
    --------
    >>> from microviral.distributed import default_chunk_size
    >>> default_chunk_size(100_000, 100_000, n_threads=8)  # 32 chunks of 3,125 runs
    3125
    >>> default_chunk_size(1_000, 100, n_threads=8)  # small work: one chunk
    1000
    >>> default_chunk_size(10_000, 500_000, n_threads=64, seconds_per_run=2e-4)  # >= 0.2 s per chunk
    1000
    """
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    n_arcs = max(1, check_int(n_arcs, "n_arcs", minimum=0))
    n_threads = check_int(n_threads, "n_threads", minimum=1)
    size = math.ceil(n_runs / (_CHUNKS_PER_THREAD * n_threads))
    if seconds_per_run is None:
        low = math.ceil(_MIN_ARC_VISITS_PER_CHUNK / n_arcs)
        high = max(1, int(_MAX_ARC_VISITS_PER_CHUNK / n_arcs))
    else:
        seconds_per_run = max(check_float(seconds_per_run, "seconds_per_run", low=0.0), 1e-9)
        low = math.ceil(_MIN_CHUNK_SECONDS / seconds_per_run)
        high = max(1, int(_MAX_CHUNK_SECONDS / seconds_per_run))
    size = max(size, low, math.ceil(n_runs / _MAX_CHUNKS))
    size = min(size, high)
    return int(max(1, min(n_runs, size)))


def _pilot(graph, seeds, in_target, keys, max_rounds, count_communities, model="ic"):
    """Time the first runs here, single-threaded and scalar; return (their output, seconds per run)."""
    kw = dict(model=model, max_rounds=max_rounds, count_communities=count_communities, kernel="scalar", n_threads=1)
    run_chunk(graph, seeds, in_target, keys[:1], **kw)
    t0 = time.perf_counter()
    out = run_chunk(graph, seeds, in_target, keys, **kw)
    return out, (time.perf_counter() - t0) / keys.size


def _host_threads(threads):
    """Dask threads per host: each task gets the host's cores shared among them as numba threads."""
    from distributed.comm import get_address_host

    hosts = {}
    for addr, n in threads.items():
        host = get_address_host(addr)
        hosts[host] = hosts.get(host, 0) + n
    return hosts


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _run_chunk(graph, seeds, in_target, keys, max_rounds, count_communities, host_threads, model="ic",
               kernel="auto"):
    """One Dask task: the engine's entry on a slice of run keys (each run depends only on its key)."""
    try:
        from distributed import get_worker
        from distributed.comm import get_address_host

        worker = get_worker()
        sharing = host_threads.get(get_address_host(worker.address)) or worker.state.nthreads
    except Exception:  # a restarted worker on a new host, or called outside a worker
        sharing = 1
    n_threads = max(1, min(max_threads(), _cores() // max(1, sharing), keys.size))
    # run_chunk serialises kernel launches itself where numba's threading layer needs it (workqueue).
    return run_chunk(graph, seeds, in_target, keys, model=model, max_rounds=max_rounds,
                     count_communities=count_communities, kernel=kernel, n_threads=n_threads)


def _scatter(client, graph, in_target):
    """Futures of the graph and of the target mask, broadcast to every worker once per client.

    The last graph (by identity) and the last target mask (by content) stay on the
    cluster while the client lives, so consecutive calls on one graph (``compare``
    running every strategy and budget) do not ship it again. Data lost with every
    worker that held it is scattered again.
    """
    with _SCATTER_LOCK:
        cache = _SCATTERED.setdefault(client, {})
        held = cache.get("graph")
        if held is None or held[0] is not graph or held[1].status != "finished":
            cache["graph"] = (graph, client.scatter(graph, broadcast=True, hash=False))
        digest = hashlib.blake2b(in_target, digest_size=16).digest()
        held = cache.get("target")
        if held is None or held[0] != digest or held[1].status != "finished":
            cache["target"] = (digest, client.scatter(in_target, broadcast=True, hash=False))
        return cache["graph"][1], cache["target"][1]


def _run_chunks(client, graph, seeds, in_target, keys, bounds, todo, parts, max_rounds, count_communities, bar,
                model="ic", kernel="auto"):
    """Submit the chunks ``todo``, store their outputs in ``parts``; return the chunks lost with their inputs.

    A chunk whose worker dies is recomputed by Dask itself (and a chunk that
    raises is retried). What Dask cannot recompute is scattered data lost with
    the last worker that held it (Dask's memory manager may keep one replica
    only); the chunks that needed it come back cancelled, and the caller
    scatters again and resubmits them.
    """
    from concurrent.futures import CancelledError

    from distributed import as_completed

    host_threads = _host_threads(_worker_threads(client)[0])
    graph_f, target_f = _scatter(client, graph, in_target)
    tag = uuid.uuid4().hex
    futures = {
        i: client.submit(_run_chunk, graph_f, seeds, target_f, keys[bounds[i]:bounds[i + 1]], max_rounds,
                         count_communities, host_threads, model, kernel, key=f"microviral-chunk-{tag}-{i}", retries=_RETRIES,
                         pure=False)
        for i in todo
    }
    index = {f.key: i for i, f in futures.items()}
    lost = []
    pending = as_completed(list(futures.values()))
    stop = threading.Event()

    # a client closed (or left by its scheduler) mid-run never completes its futures, and as_completed would
    # wait for ever: the watcher stops the iteration once the client is gone
    watcher = threading.Thread(target=_watch_client, args=(client, stop, pending.clear),
                               name="microviral-client-watch", daemon=True)
    watcher.start()
    try:
        for future in pending:
            i = index[future.key]
            if future.status == "error":
                future.result()  # the task's own exception, after Dask's retries
            try:
                parts[i] = future.result()
            except CancelledError:
                lost.append(i)
                continue
            except RuntimeError as exc:
                # distributed can reset a future whose worker died while its result was being fetched, leaving
                # an asyncio.Event bound to another loop; the chunk is deterministic, so recompute it.
                if "different event loop" not in str(exc):
                    raise
                lost.append(i)
                continue
            finally:
                del futures[i]
                future.release()
            if bar is not None:
                bar.update(1)
        if futures:
            raise ConnectionError(f"the Dask client stopped running with {len(futures)} chunks left")
    finally:
        stop.set()
        if futures and client.status == "running":  # a closed client cannot cancel, and its futures are gone
            client.cancel(list(futures.values()))
    return sorted(lost)


def _watch_client(client, stop, gone, poll=0.25):
    """Until ``stop`` is set, call ``gone()`` (once) when ``client`` is gone, then return.

    Gone means closing or closed, or not running for longer than ``_RECONNECT_GRACE``
    seconds: a client that lost its scheduler reconnects for a while ("connecting")
    and may come back, and a brief loss must not cost the run.
    """
    since = None
    while not stop.wait(poll):
        status = getattr(client, "status", None)
        if status == "running":
            since = None
            continue
        now = time.monotonic()
        since = now if since is None else since
        if status in ("closing", "closed") or now - since > _RECONNECT_GRACE:
            gone()
            return


def simulate_dask(graph, seeds, in_target, keys, *, max_rounds=-1, count_communities=True, client=None,
                  chunk_size=None, progress=None, model="ic", kernel="auto"):
    """Run one cascade per key on a Dask cluster; return the per-run outputs of the engine.

    This is the engine behind ``simulate(..., backend="dask")``; most users call
    that instead. The keys are cut into chunks of ``chunk_size`` runs, one Dask
    task per chunk (with retries), and the per-chunk outputs are merged in run
    order, so the result equals the local backend's bit for bit.

    Parameters
    ----------
    graph : CommunityGraph
        Sent to every worker once (broadcast), not once per task.
    seeds : array of int32
        Initially active nodes.
    in_target : array of uint8, shape (n_nodes,)
        1 for members of the target community.
    keys : array of uint64
        One key per run.
    max_rounds : int, default -1
        Rounds per cascade, -1 for no limit.
    count_communities : bool, default True
        Count activations per community in each run.
    client : None, dask.distributed.Client, cluster or str
        Where to run (see :func:`client_context`). None: a LocalCluster of 2
        worker processes, closed afterwards.
    chunk_size : int, optional
        Runs per task. Default: :func:`default_chunk_size`; for 512 runs or more
        it is sized from the measured time of the first 64 runs, which are
        computed here, single-threaded, and kept as the first chunk.
    progress : bool, optional
        A tqdm bar over completed chunks (default: only for long runs in an
        interactive terminal).
    model : {"ic", "lt"}, default "ic"
        Diffusion model (see :func:`microviral.simulate`); ``"lt"`` checks the
        in-weights here, before any run.
    kernel : {"auto", "scalar", "bitparallel"}, default "auto"
        Cascade kernel (see :func:`microviral.simulate`; the results do not depend on
        it). "auto" is resolved here from the 64 pilot runs when there is a pilot, else
        by each chunk from its own runs.

    Returns
    -------
    dict
        Per-run arrays: ``reach``, ``target_activated``, ``rounds``,
        ``new_by_round``, ``new_target_by_round``, ``community_activated``.

    Raises
    ------
    ImportError
        dask.distributed is not installed.
    TypeError, ValueError
        Bad ``client``, ``chunk_size < 1`` or malformed arrays.
    ConnectionError
        An unreachable scheduler address, or a client closed (or whose
        scheduler went away) during the run; the message says how many chunks
        were done.

    Examples
    --------
    >>> import numpy as np
    >>> import microviral as mv
    >>> from microviral.distributed import client_context, simulate_dask
    >>> g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 3], prob=0.5, community=[0, 0, 1, 1])
    >>> keys = np.arange(1, 101, dtype=np.uint64)
    >>> with client_context(n_workers=1, processes=False) as client:
    ...     out = simulate_dask(g, np.array([0], np.int32), g.target_mask(1).astype(np.uint8), keys,
    ...                         client=client, chunk_size=30)
    >>> local = mv.simulate(g, [0], keys=keys, target=1)
    >>> bool((out["reach"] == local.reach).all())
    True
    """
    check_graph(graph)
    check_weights(graph, check_model(model))
    kernel = check_kernel(kernel, model)
    seeds = np.ascontiguousarray(check_node_array(seeds, "seeds", graph.n_nodes), dtype=np.int32)
    in_target = np.ascontiguousarray(in_target, dtype=np.uint8)
    if in_target.shape != (graph.n_nodes,):
        raise ValueError(f"'in_target' must have shape ({graph.n_nodes},). Got {in_target.shape}.")
    keys = check_keys(keys)
    max_rounds = check_int(max_rounds, "max_rounds", minimum=-1)
    count_communities = check_bool(count_communities, "count_communities")
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1, allow_none=True)
    if progress is not None:
        progress = check_bool(progress, "progress")
    n_runs = keys.size
    # The merged outputs come back to this process: refuse up front what would not fit.
    check_memory(n_runs * output_bytes_per_run(graph, count_communities), f"{n_runs} runs")
    _import_distributed()

    with client_context(client) as c:
        threads, n_threads = _worker_threads(c)
        first, start = None, 0
        if chunk_size is None and n_runs >= 8 * _PILOT_RUNS:
            first, seconds_per_run = _pilot(graph, seeds, in_target, keys[:_PILOT_RUNS], max_rounds, count_communities,
                                            model)
            start = _PILOT_RUNS
            if kernel == "auto":  # the same pure choice as the local runner's, from the same 64 runs
                kernel = kernel_for_reach(graph, model, first["reach"])
            chunk_size = default_chunk_size(n_runs - start, graph.n_arcs, n_threads, seconds_per_run)
        elif chunk_size is None:
            chunk_size = default_chunk_size(n_runs, graph.n_arcs, n_threads)
        bounds = ([0] if start else []) + list(range(start, n_runs, chunk_size)) + [n_runs]
        n_chunks = len(bounds) - 1
        if progress is None:
            import sys

            progress = n_chunks > 1 and float(n_runs) * max(graph.n_arcs, 1) > 5e9 and sys.stderr.isatty()
        parts = [first] + [None] * (n_chunks - 1)
        todo = [i for i in range(n_chunks) if parts[i] is None]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_chunks, initial=n_chunks - len(todo), desc="cascades (dask)", unit="chunk")
        scheduler = getattr(c.scheduler, "address", None)

        def lost():
            done = sum(p is not None for p in parts)
            return _client_lost(c, scheduler, f"; {done} of {n_chunks} chunks of runs were done")

        try:
            for _ in range(_RESUBMITS + 1):
                if c.status != "running":  # its futures came back cancelled: nothing to resubmit them to
                    raise lost()
                try:
                    todo = _run_chunks(c, graph, seeds, in_target, keys, bounds, todo, parts, max_rounds,
                                       count_communities, bar, model, kernel)
                except Exception as exc:
                    if _client_gone(c, exc):
                        raise lost() from exc
                    raise
                if not todo:
                    break
            else:
                raise RuntimeError(f"{len(todo)} chunk(s) of runs were lost {_RESUBMITS + 1} times with the "
                                   f"workers that held their inputs; is the cluster stable?")
        finally:
            if bar is not None:
                bar.close()
    return parts[0] if n_chunks == 1 else merge_outputs(parts)
