"""RR sets kept on Dask workers, for IMM and OPIM-C with ``backend="dask"``.

Each worker holds a *shard*: its share of every collection's RR sets, in memory,
as a Dask actor (:class:`_Shard`). When a collection grows from ``a`` to ``b``
sets, the new numbers ``a .. b - 1`` are cut into one contiguous range per
shard, and each shard samples its range itself; only the graph travels (once per
client, see :func:`microviral.distributed._scatter`), never the sets. RR set ``i``
has key ``mix64(base + (i + 1) * GOLDEN)`` (:mod:`microviral._kernels.rrsets`), so a
shard samples sets ``lo .. hi - 1`` as a local collection of stream
``base + lo * GOLDEN`` (mod ``2**64``): the same sets, bit for bit, as the local
backend's, however many workers share them.

Greedy maximum coverage runs in rounds (:mod:`microviral._kernels.rr_shard`): the
shards send their per-node counts of sets once (int64 arrays of length
``n_nodes``), this process sums them and picks the node with the highest count,
lowest index among equals, exactly as the local greedy does; each shard then
covers its sets holding that node and sends back only the counts that fell. The
counts, the picks, the coverage and OPIM-C's upper bound are therefore those of
the local backend, and so are IMM's and OPIM-C's decisions built on them.

:class:`ShardedRR` has the methods of :class:`~microviral.seeding._rr.RRCollection`
that IMM and OPIM-C use, so both algorithms run unchanged on either.

A worker lost mid-call (killed, out of memory, its machine gone) loses its shard,
not the run: the shard is made again on a worker still there (or the one that
replaces it), samples its ranges of set numbers again, which gives the same sets
since a set is a function of its number, and, during greedy, covers again the
nodes picked so far; then the call that failed is repeated. The result is the one
an undisturbed run gives.

Dask is imported only when a function here opens a client.
"""

import contextlib
import weakref

import numpy as np

from .._engine import check_lt_weights
from .._memory import check_memory
from .._validation import _describe
from ._rr import RRCollection

__all__ = ["check_backend", "run_on", "ShardedRR"]

_GOLDEN = 0x9E3779B97F4A7C15  # microviral._kernels.hashing.GOLDEN
_MASK64 = (1 << 64) - 1
# seconds to wait for a worker to take over the share of one that was lost (a nanny restarts one in a few)
_REVIVE_WAIT = 60


def check_backend(backend, client):
    """Return ``backend`` ("local" or "dask"); a ``client`` is only allowed with "dask"."""
    if not isinstance(backend, str) or backend not in ("local", "dask"):
        raise ValueError(f"'backend' must be 'local' or 'dask'. Got {_describe(backend)}.")
    if backend == "local" and client is not None:
        raise ValueError(f"'client' is only used with backend='dask'. Got {_describe(client)} with backend='local'.")
    return backend


def run_on(backend, client, graph, pool, run):
    """``run(make_rr, n_shards)`` with local RR collections, or with collections sharded over Dask workers.

    ``make_rr(graph, pool, base, model=..., progress=...)`` makes a collection;
    ``n_shards`` is how many parts the sets are split into (1 locally).
    """
    if backend == "local":
        return run(RRCollection, 1)
    with dask_collections(client, graph, pool) as (make_rr, n_shards):
        return run(make_rr, n_shards)


@contextlib.contextmanager
def dask_collections(client, graph, pool):
    """Yield ``(make_rr, n_shards)``: a factory of :class:`ShardedRR` on the client's workers, one shard each.

    Collections still alive on exit are released from the workers; a LocalCluster
    started here (``client=None``) is closed.
    """
    from ..distributed import _import_distributed, _scatter, client_context

    _import_distributed()
    from distributed.comm import get_address_host

    with client_context(client) as c:
        workers = sorted(c.nthreads())
        if not workers:
            c.wait_for_workers(1)
            workers = sorted(c.nthreads())
        # the graph goes to every worker once per client; the mask is the one simulate() would scatter for the pool
        mask = np.ones(graph.n_nodes, dtype=np.uint8)
        if pool is not None:
            mask[:] = 0
            mask[pool] = 1
        graph_f, _ = _scatter(c, graph, mask)
        per_host = {}
        for w in workers:
            host = get_address_host(w)
            per_host[host] = per_host.get(host, 0) + 1
        made = []

        def make_rr(graph_, pool_, base, *, model="ic", progress=None):
            if model == "lt":  # refused here, as the local sampler does, not by every worker
                check_lt_weights(graph_)
            rr = ShardedRR(c, workers, graph_f, graph_, pool_, base, model, progress, per_host)
            made.append(weakref.ref(rr))
            return rr

        try:
            yield make_rr, len(workers)
        finally:
            for ref in made:
                rr = ref()
                if rr is not None:
                    rr.close()


class ShardedRR:
    """A collection of RR sets split over Dask workers by contiguous ranges of set numbers.

    Same sets, counts and greedy as :class:`~microviral.seeding._rr.RRCollection`
    for the same ``graph``, ``pool``, ``base`` and ``model``; the sets stay on the
    workers. Made by :func:`dask_collections`.
    """

    hint = "ask for fewer RR sets"

    def __init__(self, client, workers, graph_f, graph, pool, base, model, progress, per_host):
        self.graph = graph
        self.model = model
        self.progress = progress
        self.n_sets = 0
        self.n_members = 0
        self.peak_bytes = 0
        self._client = client
        self._make = (graph_f, pool, int(base), model, per_host)
        self._futures = [self._submit(w) for w in workers]
        self._shards = [self._proxy(f) for f in self._futures]
        # what each shard holds, to make it again if its worker is lost: its ranges of set numbers, and during
        # greedy the nodes covered so far (None: no greedy under way)
        self._ranges = [[] for _ in workers]
        self._picked = None
        self.revived = 0

    def _submit(self, worker):
        return self._client.submit(_Shard, *self._make, actor=True, workers=[worker], allow_other_workers=False,
                                   pure=False)

    @staticmethod
    def _proxy(future):
        proxy = future.result()
        # A proxy holds a future of its own and, once called, sits in a reference cycle (distributed 2024-2026):
        # its future would keep the shard on the worker until the garbage collector runs. Ours keep it alive
        # instead, and let it go as soon as this collection is dropped (IMM drops its sampling sets).
        held = getattr(proxy, "_future", None)
        if held is not None:
            held.release()
        return proxy

    def _revive(self, i):
        """Make shard ``i`` again on a worker still there, with the same sets and, during greedy, the same covers."""
        client = self._client
        try:
            client.wait_for_workers(1, timeout=_REVIVE_WAIT)
        except Exception as exc:  # a timeout, or the client itself gone
            raise ConnectionError(f"A Dask worker holding RR sets was lost and no worker is left to take its share "
                                  f"over ({exc}).") from exc
        holders = {}
        for j, f in enumerate(self._futures):
            if j != i:
                for w in client.who_has(f).get(f.key, ()):
                    holders[w] = holders.get(w, 0) + 1
        # the worker holding fewest shards, the first address among equals
        worker = min(sorted(client.nthreads()), key=lambda w: holders.get(w, 0))
        future = self._submit(worker)
        proxy = self._proxy(future)
        for lo, hi in self._ranges[i]:
            proxy.sample(lo, hi, self.hint).result()
        if self._picked is not None:
            proxy.counts().result()
            for v in self._picked:
                proxy.cover(v).result()
        self._client.cancel([self._futures[i]])
        self._futures[i] = future
        self._shards[i] = proxy
        self.revived += 1

    def close(self):
        """Release the shards (their RR sets leave the workers' memory)."""
        if self._futures:
            # cancel, not release: each actor proxy holds a future of its own until the garbage collector
            # breaks the proxy's reference cycles
            self._client.cancel(self._futures)
        self._futures = []
        self._shards = []

    def _all(self, method, *args, each=None):
        """Call ``method`` on every shard at once (with ``each[i]`` as the arguments of shard ``i``, if given).

        Returns their answers in shard order. A shard whose worker was lost is made
        again (:meth:`_revive`) and asked again.
        """
        if not self._shards:
            raise RuntimeError("This collection of RR sets was released from the Dask workers.")
        each = each or [args] * len(self._shards)
        calls = []
        for shard, a in zip(self._shards, each):
            try:
                calls.append(getattr(shard, method)(*a))
            except Exception as exc:  # the worker already gone when asked
                calls.append(exc)
        answers = []
        for i, call in enumerate(calls):
            for attempt in range(4):
                try:
                    if isinstance(call, Exception):
                        raise call
                    answers.append(call.result())
                    break
                except Exception as exc:
                    if not _worker_lost(exc) or attempt == 3:
                        raise
                    self._revive(i)
                    call = getattr(self._shards[i], method)(*each[i])
        return answers

    def _note(self, answers):
        self.peak_bytes = max(self.peak_bytes, sum(a[-1] for a in answers))

    @property
    def mean_size(self):
        """Mean number of nodes per RR set so far (4 before any is drawn)."""
        return self.n_members / self.n_sets if self.n_sets else 4.0

    def nbytes(self):
        """Bytes of the sets over all workers, counted as one flat collection (as the local backend does)."""
        return int(self.n_members * 4 + (self.n_sets + 1) * 8)

    def bytes_for(self, n_sets):
        """Estimated bytes of one worker's share of ``n_sets`` sets and of greedy's index over it."""
        share = -(-int(n_sets) // len(self._shards))
        return int(share * self.mean_size * 8 + share * 9 + (self.graph.n_nodes + 1) * 16)

    def grow_to(self, n_sets):
        """Sample sets ``n_sets_now .. n_sets - 1``, one contiguous range per worker."""
        n_sets = int(n_sets)
        lo = self.n_sets
        if n_sets <= lo:
            return
        S = len(self._shards)
        bounds = [lo + (n_sets - lo) * i // S for i in range(S + 1)]
        answers = self._all("sample", each=[(bounds[i], bounds[i + 1], self.hint) for i in range(S)])
        for i in range(S):
            if bounds[i + 1] > bounds[i]:
                self._ranges[i].append((bounds[i], bounds[i + 1]))
        self.n_sets = n_sets
        self.n_members = sum(a[0] for a in answers)
        self._note(answers)
        if self.progress is not None:
            self.progress.update(n_sets - lo)

    def extend(self, count):
        self.grow_to(self.n_sets + int(count))

    def greedy(self, k, bound=False):
        """Greedy max coverage: ``(seeds, sets covered, upper bound on the sets any k nodes cover)``.

        The picks and the bound (-1 without ``bound``) are those of
        :func:`microviral._kernels.rrsets.max_coverage` on all the sets.
        """
        n = self.graph.n_nodes
        self._picked = []
        answers = self._all("counts")
        self._note(answers)
        count = np.zeros(n, dtype=np.int64)
        for part, _ in answers:
            count += part
        chosen = np.zeros(n, dtype=bool)
        seeds = np.empty(k, dtype=np.int64)
        total = 0
        upper = -1
        try:
            for j in range(k):
                if bound:
                    b = total + _top_sum(count, k)
                    if upper < 0 or b < upper:
                        upper = b
                # the first maximum among nodes not chosen yet: the lowest index among equals
                best = int(np.argmax(np.where(chosen, -1, count)))
                chosen[best] = True
                seeds[j] = best
                total += int(count[best])
                if j < k - 1 or bound:
                    for nodes, drop in self._all("cover", best):
                        count[nodes] -= drop
                    self._picked.append(best)
            if bound:
                b = total + _top_sum(count, k)
                if b < upper:
                    upper = b
        finally:
            self._picked = None
            self._all("release_index")
        return seeds, int(total), int(upper)

    def select(self, k):
        """Greedy max coverage: ``(seeds, fraction of sets covered)``."""
        seeds, covered, _ = self.greedy(k)
        return seeds, covered / self.n_sets

    def covered(self, seeds):
        """Number of sets that hold at least one of ``seeds``."""
        return int(sum(self._all("covered", np.asarray(seeds, dtype=np.int64))))

    def coverage(self, seeds):
        """Fraction of the sets that hold at least one of ``seeds``."""
        return self.covered(seeds) / self.n_sets


def _worker_lost(exc):
    """Whether ``exc`` says that a shard's worker (or the connection to it) is gone, not that the shard failed."""
    if isinstance(exc, OSError):
        return True  # distributed's CommClosedError and StreamClosedError are OSErrors
    text = str(exc)
    return "Actor was lost" in text or "Worker holding Actor" in text or type(exc).__name__ == "KilledWorker"


def _top_sum(count, k):
    """Sum of the ``k`` largest entries of ``count``."""
    if k >= count.size:
        return int(count.sum())
    return int(np.partition(count, count.size - k)[count.size - k:].sum())


class _Shard:
    """One worker's RR sets of one collection (a Dask actor): sampled, counted and covered where they lie."""

    def __init__(self, graph, pool, base, model, per_host):
        self.graph = graph
        self.pool = pool
        self.base = int(base)
        self.model = model
        self.members = np.empty(0, dtype=np.int32)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.peak_bytes = 0
        self._index = None
        self.n_threads = _shard_threads(per_host)

    def _nbytes(self):
        return self.members.nbytes + self.offsets.nbytes

    def sample(self, lo, hi, hint):
        """Append sets ``lo .. hi - 1``; return ``(members held, peak bytes)``."""
        from .._kernels.runtime import threads

        if hi > lo:
            # set lo + i of stream base is set i of stream base + lo * GOLDEN
            with threads(self.n_threads):
                rr = RRCollection(self.graph, self.pool, (self.base + lo * _GOLDEN) & _MASK64, model=self.model)
                rr.hint = hint
                rr.extend(hi - lo)
            members, offsets = rr.flat()
            held = self._nbytes()
            check_memory(held + members.nbytes + offsets.nbytes, f"{self.offsets.size - 1 + hi - lo:,} RR sets on "
                         "this Dask worker", hint=hint)
            self._index = None
            self.members = np.concatenate([self.members, members])
            self.offsets = np.concatenate([self.offsets, offsets[1:] + self.offsets[-1]])
            self.peak_bytes = max(self.peak_bytes, held + rr.peak_bytes, held + members.nbytes + self._nbytes())
        return self.members.size, self.peak_bytes

    def counts(self):
        """Build greedy's index; return ``(sets holding each node, peak bytes)``."""
        from .._kernels.rr_shard import shard_index

        n = self.graph.n_nodes
        count, slot, ioff, iset = shard_index(self.members, self.offsets, n)
        n_sets = self.offsets.size - 1
        self._index = (count, slot, ioff, iset, np.zeros(n_sets, dtype=np.uint8), np.zeros(n, dtype=np.int64),
                       np.empty(n, dtype=np.int32))
        self.peak_bytes = max(self.peak_bytes, self._nbytes() + sum(a.nbytes for a in self._index))
        # a copy: the answer may be sent after the next call has changed the counts
        return count.copy(), self.peak_bytes

    def cover(self, v):
        """Cover the sets holding ``v``; return ``(nodes whose count fell, by how much)``."""
        from .._kernels.rr_shard import shard_cover

        count, slot, ioff, iset, covered, drop, touched = self._index
        m = shard_cover(np.int64(v), self.members, self.offsets, slot, ioff, iset, covered, count, drop, touched)
        nodes = touched[:m].copy()
        fell = drop[nodes]
        drop[nodes] = 0
        return nodes, fell

    def release_index(self):
        self._index = None

    def covered(self, seeds):
        """Number of this shard's sets that hold at least one of ``seeds``."""
        from .._kernels.rrsets import rr_coverage

        is_seed = np.zeros(self.graph.n_nodes, dtype=np.uint8)
        is_seed[seeds] = 1
        return int(rr_coverage(self.members, self.offsets, is_seed))


def _shard_threads(per_host):
    """numba threads for a shard: this host's cores shared among the workers on it."""
    import os

    from .._kernels.runtime import max_threads

    try:
        from distributed import get_worker
        from distributed.comm import get_address_host

        sharing = per_host.get(get_address_host(get_worker().address), 1)
    except Exception:  # outside a worker (tests call shards directly) or on a host unknown when the shards were made
        sharing = 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(max_threads(), cores // max(1, sharing)))
