"""Seeding benchmark: IMM and OPIM-C (k=50, eps=0.1, weighted cascade), global and targeted.

Workloads (each run in its own process, so that its peak RSS is its own):

* ``nethept``: NetHEPT (15,233 nodes), read from ``--nethept`` or ``$MICROVIRAL_DATASETS/nethept/NetHEPT.txt``
  (the usual ``n m`` header, then ``u v p`` lines; read as undirected edges, repeats dropped, the file's
  probabilities replaced by weighted cascade). When the file is absent: ``nethept-like``, a synthetic
  undirected Chung-Lu graph of NetHEPT's size (58,891 edges, power-law expected degrees, exponent 3).
* ``slashdot``: soc-Slashdot0902 (82,168 nodes, 948,464 arcs) from ``--slashdot`` or
  ``$MICROVIRAL_DATASETS/soc-slashdot0902/soc-Slashdot0902.txt(.gz)`` (SNAP format, directed; its 78,303
  self-loops are dropped, leaving 870,161 arcs). When absent:
  ``slashdot-like``, a synthetic directed Chung-Lu graph of the same size (exponent 2.5 for in- and
  out-degrees).
* ``pp200k``: planted partition, 20 communities of 10,000 nodes, mean degree 20 (80% inside), undirected:
  200,000 nodes and about 4,000,000 arcs. Targeted runs aim at community 0.
* ``pp1m`` (with ``--big``): the same with 100 communities, 1,000,000 nodes and about 20,000,000 arcs.

Measured after a warm-up call that compiles the kernels: wall time (median of ``--repeats`` calls with
different ``rng``, one call on the planted partitions; the first call on a graph also sorts its in-arcs once, reported apart as ``first_s``),
process CPU time (all threads), RR sets drawn, peak bytes of the RR arrays, the process's RSS before the
first call and its peak RSS, and the spread of the seeds by Monte Carlo with microviral's cascade engine
(reach, or activated target members for targeted runs; mean and SE over ``--mc-runs`` runs).

With ``--samplers`` it times instead the two kernels that draw IC's RR sets, the plain breadth-first one
and the interleaved one (several searches side by side, with prefetching), on ``--sampler-sets`` sets of
each workload: they must give the same sets (checked), and the table gives wall nanoseconds per set member
(best of ``--repeats``, the kernels alternating) and the ratio.

Run:  python benchmarks/bench_seeding.py [--threads 2] [--repeats 3] [--big] [--out benchmarks/results/bench_seeding.json]
      python benchmarks/bench_seeding.py --samplers [--workloads nethept slashdot pp200k] [--sampler-sets 500000]
"""

import argparse
import functools
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import microviral as mv  # noqa: E402
from microviral.seeding.imm import _imm  # noqa: E402
from microviral.seeding.opim import _opim_c  # noqa: E402

DATASETS = Path(os.environ.get("MICROVIRAL_DATASETS", HERE.parents[1] / "shared" / "datasets"))


def chung_lu(n, m, exponent, *, directed, rng=0):
    """Chung-Lu graph: endpoints drawn in proportion to power-law weights, self-loops and repeats dropped."""
    gen = np.random.default_rng(rng)
    w = (np.arange(1, n + 1) / n) ** (-1.0 / (exponent - 1.0))
    cdf_out = np.cumsum(gen.permutation(w / w.sum()))
    cdf_in = np.cumsum(gen.permutation(w / w.sum())) if directed else cdf_out
    src = np.minimum(np.searchsorted(cdf_out, gen.random(int(m * 1.15))), n - 1)
    dst = np.minimum(np.searchsorted(cdf_in, gen.random(src.size)), n - 1)
    if not directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique((src * np.int64(n) + dst)[src != dst])
    key = gen.permutation(key)[:m]
    return mv.CommunityGraph.from_edges(key // n, key % n, n_nodes=n, directed=directed)


def nethept_like():
    return chung_lu(15_233, 58_891, 3.0, directed=False)


def read_pairs(path, skip_header):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        rows = [line.split()[:2] for line in fh if line.strip() and not line.startswith("#")]
    arr = np.array(rows[1:] if skip_header else rows, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def find(arg, *candidates):
    for p in ([arg] if arg else []) + [DATASETS / c for c in candidates]:
        if p and Path(p).is_file():
            return Path(p)
    return None


def build(name, args):
    """``(graph, label, target)``; the graph has weighted-cascade probabilities."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)  # repeated edges in the real files, dropped
        if name == "nethept":
            path = find(args.nethept, "nethept/NetHEPT.txt", "NetHEPT.txt")
            if path is None:
                g, label = nethept_like(), "nethept-like (synthetic)"
            else:
                u, v = read_pairs(path, skip_header=True)
                g, label = mv.CommunityGraph.from_edges(u, v, n_nodes=15_233, directed=False), "NetHEPT"
            return mv.probabilities.weighted_cascade(g), label, None
        if name == "slashdot":
            path = find(args.slashdot, "soc-slashdot0902/soc-Slashdot0902.txt.gz",
                        "soc-slashdot0902/soc-Slashdot0902.txt", "soc-Slashdot0902.txt.gz", "soc-Slashdot0902.txt")
            if path is None:
                g, label = chung_lu(82_168, 948_464, 2.5, directed=True), "slashdot-like (synthetic)"
            else:
                u, v = read_pairs(path, skip_header=False)
                g, label = mv.CommunityGraph.from_edges(u, v, directed=True), "soc-Slashdot0902"
            return mv.probabilities.weighted_cascade(g), label, None
    from _graphs import sbm

    if name == "pp200k":
        g = sbm(200_000, 20, n_blocks=20, inside_share=0.8, rng=0)
        return mv.probabilities.weighted_cascade(g), "planted partition 200k", 0
    if name == "pp1m":
        g = sbm(1_000_000, 20, n_blocks=100, inside_share=0.8, rng=0)
        return mv.probabilities.weighted_cascade(g), "planted partition 1M", 0
    raise ValueError(name)


DEFAULT_OUT = str(HERE / "results" / "bench_seeding.json")


def rss_now():
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        return 0


def peak_rss():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


ALGORITHMS = {
    "imm": lambda g, k, eps, target, rng: _imm(g, k, eps=eps, target=target, rng=rng),
    "opim_c": lambda g, k, eps, target, rng: _opim_c(g, k, eps=eps, target=target, rng=rng),
}


def run_workload(name, args):
    """Child process: one graph, every algorithm and objective; returns rows."""
    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    tiny = mv.probabilities.weighted_cascade(nethept_like())
    for fn in ALGORITHMS.values():
        fn(tiny, 5, 0.5, None, 0)
    g, label, target = build(name, args)
    rss0 = rss_now()
    rows = []
    algorithms = [a for a in args.algorithms if not (a == "imm" and name == "pp1m" and not args.big_imm)]
    for objective, tgt in (("global", None), ("targeted", target)):
        if objective == "targeted" and tgt is None:
            continue
        for alg in algorithms:
            times, cpus, infos, seeds_all = [], [], [], []
            first = None
            for r in range(args.repeats if g.n_nodes < 100_000 else 1):
                c0, t0 = time.process_time(), time.perf_counter()
                seeds, info = ALGORITHMS[alg](g, args.k, args.eps, tgt, r)
                dt = time.perf_counter() - t0
                if first is None:
                    first = dt
                times.append(dt)
                cpus.append(time.process_time() - c0)
                infos.append(info)
                seeds_all.append(seeds)
            res = mv.simulate(g, seeds_all[0], n_runs=args.mc_runs, target=tgt, rng=12345, count_communities=False)
            vals = res.target_activated if tgt is not None else res.reach
            vals = np.asarray(vals, dtype=float)
            info = infos[0]
            rows.append(dict(
                workload=name, graph=label, n_nodes=g.n_nodes, n_arcs=g.n_arcs, algorithm=alg, objective=objective,
                k=args.k, eps=args.eps, first_s=first, median_s=statistics.median(times), min_s=min(times),
                median_cpu_s=statistics.median(cpus), times_s=times, rr_sets_drawn=info["rr_sets_drawn"],
                peak_rr_bytes=max(i["peak_rr_bytes"] for i in infos), certified_ratio=info["certified_ratio"],
                spread_mean=float(vals.mean()), spread_se=float(vals.std(ddof=1) / np.sqrt(vals.size)),
                mc_runs=args.mc_runs, estimate=info.get("validation_estimate", info["estimate"]),
            ))
            print(f"  {label} {alg} {objective}: {statistics.median(times):.3f} s, "
                  f"spread {vals.mean():.1f}", file=sys.stderr, flush=True)
    for r in rows:
        r["rss_before_bytes"] = rss0
        r["peak_rss_bytes"] = peak_rss()
        r["load_average_end"] = list(os.getloadavg())
    return rows


def run_samplers(name, args):
    """Child process: the plain and the interleaved RR sampler on one graph; returns one row."""
    import numba

    from microviral._kernels import rrsets
    from microviral.seeding._rr import sample_in_parts, sorted_reverse

    threads = min(args.threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    g, label, _ = build(name, args)
    arrays = sorted_reverse(g)
    pool = np.arange(g.n_nodes, dtype=np.int32)
    n = args.sampler_sets
    ids = np.arange(n, dtype=np.int64)
    chunk_len = -(-n // (4 * threads))
    kernels = {"plain": rrsets.rr_sample, "interleaved": rrsets.rr_sample_interleaved}

    def draw(kernel, room):
        cap = int(chunk_len * room + 64)
        buf = np.empty(cap * -(-n // chunk_len), dtype=np.int32)
        starts = np.empty(n, dtype=np.int64)
        sizes = np.empty(n, dtype=np.int64)
        t0 = time.perf_counter()
        sample_in_parts(functools.partial(kernel, *arrays, pool, np.uint64(7)), ids, chunk_len, cap, buf, starts, sizes,
                        threads)
        return time.perf_counter() - t0, buf, starts, sizes

    # a pilot sizes the buffers so that no chunk overflows
    _, _, _, sizes = draw(kernels["plain"], 4 * g.n_nodes if g.n_nodes < 1000 else 400)
    room = 2.0 * sizes.mean() + 64
    best = {}
    sets = {}
    for _ in range(args.repeats):
        for kind, kernel in kernels.items():
            dt, buf, starts, sizes = draw(kernel, room)
            if (sizes < 0).any():
                raise SystemExit(f"{name}: a chunk overflowed; the pilot's size guess was too small")
            best[kind] = min(best.get(kind, np.inf), dt)
            if kind not in sets:
                sets[kind] = (np.concatenate([buf[a:a + z] for a, z in zip(starts[:2000], sizes[:2000])]), sizes)
    same = all(np.array_equal(sets["plain"][i], sets["interleaved"][i]) for i in range(2))
    if not same:
        raise SystemExit(f"{name}: the two samplers drew different sets")
    members = int(sets["plain"][1].sum())
    roff, rsrc, _, _, node_logq = arrays
    return [dict(workload=name, graph=label, n_nodes=g.n_nodes, n_arcs=g.n_arcs, threads=threads, n_sets=n,
                 mean_size=members / n, reverse_csr_mib=(roff.nbytes + rsrc.nbytes + node_logq.nbytes) / 2**20,
                 plain_s=best["plain"], interleaved_s=best["interleaved"],
                 plain_ns_per_member=best["plain"] / members * 1e9,
                 interleaved_ns_per_member=best["interleaved"] / members * 1e9, same_sets=same,
                 load_average_end=list(os.getloadavg()))]


def print_samplers(result):
    print(f"IC RR sets, {result['rows'][0]['n_sets']:,} sets a call, {result['numba_threads']} numba threads, "
          "best of the repeats, wall ns per set member; the same sets from both kernels (checked)")
    print()
    print("| graph | nodes | arcs | reverse CSR MiB | mean set size | plain ns/member | interleaved ns/member "
          "| plain / interleaved |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in result["rows"]:
        print(f"| {r['graph']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {r['reverse_csr_mib']:.1f} | {r['mean_size']:.1f} "
              f"| {r['plain_ns_per_member']:.0f} | {r['interleaved_ns_per_member']:.0f} "
              f"| {r['plain_ns_per_member'] / r['interleaved_ns_per_member']:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--mc-runs", type=int, default=1000)
    parser.add_argument("--big", action="store_true", help="add the 1M-node / 20M-arc planted partition")
    parser.add_argument("--big-imm", action="store_true", help="also run IMM on the 1M-node graph")
    parser.add_argument("--workloads", nargs="*", default=None)
    parser.add_argument("--algorithms", nargs="*", default=["imm", "opim_c"])
    parser.add_argument("--nethept", default=None)
    parser.add_argument("--slashdot", default=None)
    parser.add_argument("--samplers", action="store_true",
                        help="time the plain and the interleaved RR-set kernels instead of the algorithms")
    parser.add_argument("--sampler-sets", type=int, default=500_000)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps((run_samplers if args.samplers else run_workload)(args.child, args)))
        return None

    names = args.workloads or ["nethept", "slashdot", "pp200k"] + (["pp1m"] if args.big else [])
    rows = []
    load_start = list(os.getloadavg())
    forwarded = [f"--threads={args.threads}", f"--repeats={args.repeats}", f"--k={args.k}", f"--eps={args.eps}",
                 f"--mc-runs={args.mc_runs}", "--algorithms", *args.algorithms]
    forwarded += ["--big-imm"] if args.big_imm else []
    forwarded += ["--samplers", f"--sampler-sets={args.sampler_sets}"] if args.samplers else []
    forwarded += [f"--nethept={args.nethept}"] if args.nethept else []
    forwarded += [f"--slashdot={args.slashdot}"] if args.slashdot else []
    for name in names:
        out = subprocess.run([sys.executable, __file__, *forwarded, f"--child={name}"], capture_output=True, text=True)
        sys.stderr.write(out.stderr)
        if out.returncode:
            raise SystemExit(f"workload {name} failed")
        rows += json.loads(out.stdout.strip().splitlines()[-1])

    import numba

    result = dict(
        benchmark="bench_seeding", command=" ".join(["python", "benchmarks/bench_seeding.py"] + forwarded),
        numba_threads=args.threads, cpu_count=os.cpu_count(), python=platform.python_version(),
        numba=numba.__version__, numpy=np.__version__, microviral=mv.__version__, machine=platform.machine(),
        load_average_start=load_start, load_average_end=list(os.getloadavg()),
        when_utc=time.strftime("%Y-%m-%d %H:%M", time.gmtime()), rows=rows,
    )
    out = Path(args.out if not args.samplers or args.out != DEFAULT_OUT else HERE / "results" / "bench_samplers.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    if args.samplers:
        print_samplers(result)
        print()
        print(f"load average: {load_start[0]:.1f} at the start, {result['load_average_end'][0]:.1f} at the end, "
              f"on {os.cpu_count()} CPUs; written to {out}")
        return result
    print(f"k={args.k}, eps={args.eps}, weighted cascade, {args.threads} numba threads, median of {args.repeats} "
          f"calls after compilation (1 on the planted partitions); spread: {args.mc_runs} Monte Carlo runs, mean ± SE")
    print()
    print("| graph | nodes | arcs | algorithm | objective | median wall s | median CPU s | first call s "
          "| RR sets drawn | peak RR MiB | peak RSS MiB | certified ratio | spread |")
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['graph']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {r['algorithm']} | {r['objective']} "
              f"| {r['median_s']:.3f} | {r['median_cpu_s']:.3f} | {r['first_s']:.3f} | {r['rr_sets_drawn']:,} "
              f"| {r['peak_rr_bytes'] / 2**20:.0f} | {r['peak_rss_bytes'] / 2**20:.0f} "
              f"| {r['certified_ratio']:.3f} | {r['spread_mean']:.1f} ± {r['spread_se']:.1f} |")
    print()
    print(f"load average: {load_start[0]:.1f} at the start, {result['load_average_end'][0]:.1f} at the end, "
          f"on {os.cpu_count()} CPUs; written to {out}")
    return result


if __name__ == "__main__":
    main()
