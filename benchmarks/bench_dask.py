"""Dask backend benchmark: runs per second, local threads versus a 2-worker LocalCluster, and cost per chunk.

Workload: github-musae (37,700 nodes, 578,006 arcs) under weighted cascade, the 10
highest-degree machine-learning developers as seeds, penetration of the "ml"
community (falls back to a 20,000-node SBM when the dataset is absent).

Measured, each after a warm-up call (compiled kernels, workers started, graph on the workers):

* local backend with 1 and with 2 numba threads;
* ``backend="dask"`` on a ``LocalCluster`` of 2 worker processes x 1 thread, for a sweep of chunk sizes
  and the default; every Dask result is checked bit-identical to the local one;
* ``chunk_size=None`` (the default: 64 pilot runs timed on the client and kept, the rest sized from them);
* the fixed cost per chunk: a least-squares fit ``wall = a + b * n_chunks`` over the sweep (``b``: the
  cost of one more chunk on this workload, result transfer included), and the wall time per chunk of
  near-empty chunks (one run on a 2-node graph), i.e. pure scheduling overhead;
* the recommended chunk size: the smallest whose overhead is <= 5% of its work
  (``chunk_size >= 20 * overhead / seconds_per_run``).

Run:  python benchmarks/bench_dask.py [--n-runs 10000] [--out benchmarks/results/bench_dask.json]

With ``--seeding`` it measures influence maximisation instead: ``opim_c`` and ``imm`` (global and targeted at
"ml") with the local backend and with ``backend="dask"`` on the same 2-worker LocalCluster (RR sets sampled
and kept on the workers, greedy in rounds), best of ``--repeat`` timings after a warm-up, and checks that the
seeds, ``n_rr_sets`` and certified ratio are identical.

Run:  python benchmarks/bench_dask.py --seeding [--k 20] [--eps 0.1] [--out benchmarks/results/bench_dask_seeding.json]
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import microviral as mv
from microviral.distributed import _PILOT_RUNS, _local_cluster, _pilot, default_chunk_size

HERE = Path(__file__).resolve().parent
FIELDS = ("reach", "target_activated", "rounds", "new_by_round", "new_target_by_round", "community_activated")


def workload():
    try:
        g, name, target = mv.datasets.load_github(), "github-musae", "ml"
    except Exception:  # dataset missing: a synthetic graph of similar density
        gen = np.random.default_rng(0)
        n, m = 20_000, 150_000
        g = mv.CommunityGraph.from_edges(gen.integers(0, n, m), gen.integers(0, n, m), n_nodes=n,
                                         community=gen.integers(0, 4, n), directed=False)
        name, target = "random-20k", 1
    g = mv.probabilities.weighted_cascade(g)
    mask = g.target_mask(target)
    inside = np.flatnonzero(mask)
    seeds = inside[np.argsort(-g.out_degree[inside], kind="stable")[:10]]
    return g, name, seeds, target


def same(a, b):
    return all(
        (getattr(a, f) is None and getattr(b, f) is None) or np.array_equal(getattr(a, f), getattr(b, f))
        for f in FIELDS
    )


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[10, 40, 160, 640, 2500])
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON output (default benchmarks/results/bench_dask.json, or bench_dask_seeding.json)")
    parser.add_argument("--seeding", action="store_true", help="time imm / opim_c local versus Dask instead")
    parser.add_argument("--k", type=int, default=20, help="seeds, with --seeding")
    parser.add_argument("--eps", type=float, default=0.1, help="eps of imm and opim_c, with --seeding")
    args = parser.parse_args(argv)
    if args.seeding:
        return seeding(args)
    args.out = args.out or HERE / "results" / "bench_dask.json"

    from distributed import Client

    g, name, seeds, target = workload()
    n_runs = args.n_runs
    kw = dict(n_runs=n_runs, target=target, rng=2024)
    mv.simulate(g, seeds, n_runs=20, target=target, rng=0)  # compile / load the kernel cache

    rows = []
    ref = None
    for n_threads in (1, 2):
        res, dt = best_of(lambda: mv.simulate(g, seeds, n_threads=n_threads, **kw), args.repeat)
        ref = ref or res
        rows.append(dict(backend="local", workers="-", threads=n_threads, chunk_size=n_runs, n_chunks=1,
                         seconds=dt, runs_per_s=n_runs / dt, identical=same(res, ref)))
    seconds_per_run = min(r["seconds"] for r in rows) / n_runs

    t0 = time.perf_counter()
    cluster = _local_cluster(2, 1)
    client = Client(cluster)
    startup = time.perf_counter() - t0
    try:
        client.wait_for_workers(2)
        mv.simulate(g, seeds, backend="dask", client=client, n_runs=40, target=target, rng=0, chunk_size=20)
        sweep = []
        for chunk_size in sorted(set(args.chunk_sizes)):
            res, dt = best_of(lambda: mv.simulate(g, seeds, backend="dask", client=client, chunk_size=chunk_size,
                                                  **kw), args.repeat)
            n_chunks = -(-n_runs // chunk_size)
            row = dict(backend="dask", workers=2, threads=1, chunk_size=chunk_size, n_chunks=n_chunks, seconds=dt,
                       runs_per_s=n_runs / dt, identical=same(res, ref))
            rows.append(row)
            sweep.append(row)
        # The default: 64 pilot runs timed on the client (and kept), the rest in chunks sized from them.
        keys = ref.keys
        mask = np.ascontiguousarray(g.target_mask(target), dtype=np.uint8)
        _, pilot_spr = _pilot(g, seeds.astype(np.int32), mask, keys[:_PILOT_RUNS], -1, True)
        default = default_chunk_size(n_runs - _PILOT_RUNS, g.n_arcs, sum(client.nthreads().values()), pilot_spr)
        res, dt = best_of(lambda: mv.simulate(g, seeds, backend="dask", client=client, **kw), args.repeat)
        rows.append(dict(backend="dask", workers=2, threads=1, chunk_size=default,
                         n_chunks=1 + -(-(n_runs - _PILOT_RUNS) // default), seconds=dt, runs_per_s=n_runs / dt,
                         identical=same(res, ref), default=True))
        # wall = a + b * n_chunks
        x = np.array([r["n_chunks"] for r in sweep], float)
        y = np.array([r["seconds"] for r in sweep])
        b, a = np.polyfit(x, y, 1)
        # Near-empty chunks: one run each on a 2-node graph, so the wall time is scheduling overhead only.
        tiny = mv.CommunityGraph.from_edges([0], [1], prob=0.5)
        n_tiny = 400
        mv.simulate(tiny, [0], n_runs=10, rng=0, backend="dask", client=client, chunk_size=1)
        _, dt_tiny = best_of(lambda: mv.simulate(tiny, [0], n_runs=n_tiny, rng=0, backend="dask", client=client,
                                                 chunk_size=1), args.repeat)
        _, dt_one = best_of(lambda: mv.simulate(tiny, [0], n_runs=1, rng=0, backend="dask", client=client),
                            args.repeat + 3)
    finally:
        client.close()
        cluster.close()

    overhead = max(float(b), dt_tiny / n_tiny)
    recommended = int(np.ceil(20 * overhead / seconds_per_run))
    summary = dict(
        workload=dict(graph=name, n_nodes=g.n_nodes, n_arcs=g.n_arcs, probabilities="weighted cascade",
                      seeds=len(seeds), target=str(target), n_runs=n_runs, mean_reach=float(ref.reach.mean())),
        machine=dict(cpus=os.cpu_count(), python=platform.python_version(), platform=platform.platform(),
                     load_average_1min=os.getloadavg()[0]),
        cluster_startup_s=startup,
        rows=rows,
        overhead_fit=dict(intercept_s=float(a), per_chunk_s=float(b)),
        empty_chunk_s=dt_tiny / n_tiny,
        single_chunk_round_trip_s=dt_one,
        seconds_per_run=seconds_per_run,
        recommended_chunk_size=recommended,
        default_chunk_size=default,
        all_identical=all(r["identical"] for r in rows),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")

    print(f"workload: {name} ({g.n_nodes} nodes, {g.n_arcs} arcs, weighted cascade), {n_runs} runs, "
          f"mean reach {ref.reach.mean():.0f}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print()
    print("| backend | workers x threads | chunk size | chunks | seconds | runs/s | identical to local |")
    print("|---|---|---|---:|---:|---:|---|")
    for r in rows:
        wt = f"{r['workers']} x {r['threads']}" if r["backend"] == "dask" else f"{r['threads']} numba thread(s)"
        cs = f"{r['chunk_size']}" + (f" (default, after {_PILOT_RUNS} pilot runs)" if r.get("default") else "")
        print(f"| {r['backend']} | {wt} | {cs} | {r['n_chunks']} | {r['seconds']:.2f} | {r['runs_per_s']:.0f} "
              f"| {'yes' if r['identical'] else 'NO'} |")
    print()
    print(f"LocalCluster start-up: {startup:.1f} s; one-chunk round trip: {dt_one * 1e3:.1f} ms")
    print(f"cost per extra chunk (fit over the sweep): {b * 1e3:.2f} ms; per near-empty chunk: "
          f"{dt_tiny / n_tiny * 1e3:.2f} ms")
    print(f"seconds per run (local): {seconds_per_run * 1e3:.3f} ms -> recommended chunk size >= {recommended} runs "
          f"(overhead <= 5%); default here {default}")
    print(f"wrote {args.out}")
    return 0 if summary["all_identical"] else 1


SEEDING_CASES = (("opim_c", False), ("opim_c", True), ("imm", True), ("imm", False))


def seeding(args):
    """IMM and OPIM-C with the RR sets in this process and on a 2-worker LocalCluster: time and identical choice."""
    from distributed import Client

    args.out = args.out or HERE / "results" / "bench_dask_seeding.json"
    g, name, _, target = workload()
    load_start = os.getloadavg()
    cluster = _local_cluster(2, 1)
    client = Client(cluster)
    rows = []
    try:
        client.wait_for_workers(2)
        for algorithm, targeted in SEEDING_CASES:
            fn = getattr(mv.seeding, algorithm)
            kw = dict(eps=args.eps, target=target if targeted else None, rng=2024)
            fn(g, 2, eps=0.5, target=kw["target"], rng=0)  # compile / load the kernel cache, sort the in-arcs
            fn(g, 2, eps=0.5, target=kw["target"], rng=0, backend="dask", client=client)  # the same on the workers
            local, t_local = best_of(lambda: fn(g, args.k, **kw), args.repeat)
            dask, t_dask = best_of(lambda: fn(g, args.k, backend="dask", client=client, **kw), args.repeat)
            identical = (local.tolist() == dask.tolist()
                         and all(local.info[f] == dask.info[f] for f in ("n_rr_sets", "certified_ratio", "estimate")))
            rows.append(dict(algorithm=algorithm, target=str(target) if targeted else None, k=args.k, eps=args.eps,
                             n_rr_sets=local.info["n_rr_sets"], rr_sets_drawn=local.info["rr_sets_drawn"],
                             certified_ratio=local.info["certified_ratio"], local_s=t_local, dask_s=t_dask,
                             local_peak_rr_bytes=local.info["peak_rr_bytes"],
                             dask_peak_rr_bytes_all_workers=dask.info["peak_rr_bytes"], identical=identical))
    finally:
        client.close()
        cluster.close()
    summary = dict(
        workload=dict(graph=name, n_nodes=g.n_nodes, n_arcs=g.n_arcs, probabilities="weighted cascade",
                      k=args.k, eps=args.eps, model="ic", repeat=args.repeat),
        machine=dict(cpus=os.cpu_count(), python=platform.python_version(), platform=platform.platform(),
                     load_average_start=load_start, load_average_end=os.getloadavg()),
        cluster="LocalCluster, 2 worker processes x 1 thread",
        rows=rows,
        all_identical=all(r["identical"] for r in rows),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")

    print(f"workload: {name} ({g.n_nodes} nodes, {g.n_arcs} arcs, weighted cascade), k={args.k}, eps={args.eps}; "
          f"{os.cpu_count()} CPUs, load average {load_start[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print()
    print("| algorithm | target | RR sets (per collection) | certified ratio | local s | dask 2 x 1 s | "
          "peak RR MB local | peak RR MB, sum of 2 workers | identical |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = "-" if r["certified_ratio"] is None else f"{r['certified_ratio']:.3f}"
        print(f"| {r['algorithm']} | {r['target'] or 'all nodes'} | {r['n_rr_sets']:,} | {ratio} | "
              f"{r['local_s']:.2f} | {r['dask_s']:.2f} | {r['local_peak_rr_bytes'] / 1e6:.0f} | "
              f"{r['dask_peak_rr_bytes_all_workers'] / 1e6:.0f} | {'yes' if r['identical'] else 'NO'} |")
    print(f"wrote {args.out}")
    return 0 if summary["all_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
