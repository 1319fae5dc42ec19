"""Seeding benchmark: IMM (k=50, eps=0.1, ell=1, weighted cascade) on a NetHEPT-sized graph and on github-musae.

Graphs:

* ``nethept-like``: a synthetic undirected Chung-Lu graph with NetHEPT's size (15,233 nodes, about
  58,891 edges) and a power-law expected degree sequence (exponent 3, mean degree 7.7), built here
  with numpy from a fixed seed. NetHEPT itself is not in ``../shared/datasets``.
* ``github-musae``: 37,700 nodes, 289,003 undirected edges (578,006 arcs), read from
  ``../shared/datasets/github-musae`` (MICROVIRAL_DATASETS overrides the folder), else from the copy
  bundled with ``microviral.datasets``.

Measured, after one warm-up call that compiles the kernels: wall time of ``imm`` (median of
``--repeats`` runs with different ``rng``), global and targeted (for github-musae: the ML developers),
with fresh RR sets for node selection (default, Chen 2018's fix) and with reuse (the original IMM);
the CPU time of the process (all threads; on a machine shared with other jobs this is the steadier
figure, and CPU time / threads approximates the wall time on idle cores); the number of RR sets;
the bytes of the flat RR arrays (final, and peak including the sampling buffers and the inverted
index); the process's peak RSS.

Run:  python benchmarks/bench_seeding.py [--threads 2] [--repeats 5] [--out benchmarks/results/bench_seeding.json]
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import microviral as mv
from microviral.seeding.imm import _imm

HERE = Path(__file__).resolve().parent
DATASETS = Path(os.environ.get("MICROVIRAL_DATASETS", HERE.parents[1] / "shared" / "datasets"))


def nethept_like(rng=0, n=15_233, m=58_891, exponent=3.0):
    """Undirected Chung-Lu graph: endpoints drawn in proportion to power-law weights, repeats dropped."""
    gen = np.random.default_rng(rng)
    w = (np.arange(1, n + 1) / n) ** (-1.0 / (exponent - 1.0))
    w = gen.permutation(w / w.sum())
    cdf = np.cumsum(w)
    src = np.minimum(np.searchsorted(cdf, gen.random(int(m * 1.08))), n - 1)
    dst = np.minimum(np.searchsorted(cdf, gen.random(src.size)), n - 1)
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique((lo * np.int64(n) + hi)[lo != hi])[:m]
    key = gen.permutation(key)[:m]
    return mv.CommunityGraph.from_edges(key // n, key % n, n_nodes=n, directed=False)


def github():
    """github-musae from ``../shared/datasets`` if there, else the copy bundled in ``microviral.datasets``."""
    folder = DATASETS / "github-musae"
    if not (folder / "github_edges.csv.gz").exists():
        return mv.datasets.load_github()
    import pandas as pd

    edges = pd.read_csv(folder / "github_edges.csv.gz")
    target = pd.read_csv(folder / "github_target.csv").sort_values("id")
    return mv.CommunityGraph.from_edges(edges["id_1"].to_numpy(), edges["id_2"].to_numpy(),
                                        n_nodes=int(target["id"].max()) + 1, community=target["target"].to_numpy(),
                                        directed=False, community_names=["web", "ml"])


def peak_rss_bytes():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def bench(graph, name, target, repeats, k, eps):
    rows = []
    for label, tgt in (("global", None), ("targeted", target)):
        if label == "targeted" and tgt is None:
            continue
        for fresh in (True, False):
            times, cpus, infos = [], [], []
            for r in range(repeats):
                c0, t0 = time.process_time(), time.perf_counter()
                seeds, info = _imm(graph, k, eps=eps, ell=1.0, target=tgt, rng=r, fresh=fresh)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                infos.append(info)
            info = infos[0]
            rows.append(dict(
                graph=name, n_nodes=graph.n_nodes, n_arcs=graph.n_arcs, objective=label,
                fresh_rr_sets=fresh, k=k, eps=eps, median_s=statistics.median(times), min_s=min(times),
                median_cpu_s=statistics.median(cpus),
                times_s=times, rr_sets_sampling=info["sampling_sets"], rr_sets_selection=info["selection_sets"],
                rr_sets_drawn=info["selection_sets"] + (info["sampling_sets"] if fresh else 0),
                rr_members=info["rr_bytes"] // 4, rr_bytes=info["rr_bytes"],
                peak_rr_bytes=max(i["peak_rr_bytes"] for i in infos), estimate=info["estimate"],
                lower_bound=info["lower_bound"],
            ))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--out", default=str(HERE / "results" / "bench_seeding.json"))
    args = parser.parse_args(argv)

    import numba

    threads = min(args.threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    # warm-up: compile (or load from cache) every kernel on a tiny graph
    tiny = mv.probabilities.weighted_cascade(nethept_like(n=300, m=1000))
    _imm(tiny, 5, eps=0.5, rng=0)
    _imm(tiny, 5, eps=0.5, rng=0, target=np.arange(50))

    graphs = [(mv.probabilities.weighted_cascade(nethept_like()), "nethept-like (synthetic)", None)]
    graphs.append((mv.probabilities.weighted_cascade(github()), "github-musae", "ml"))
    rows = []
    for g, name, target in graphs:
        rows += bench(g, name, target, args.repeats, args.k, args.eps)
    result = dict(
        benchmark="bench_seeding", command=" ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
        numba_threads=threads, cpu_count=os.cpu_count(), python=platform.python_version(),
        numba=numba.__version__, numpy=np.__version__, microviral=mv.__version__, machine=platform.machine(),
        peak_rss_bytes=peak_rss_bytes(), load_average=list(os.getloadavg()), rows=rows,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    print(f"IMM, k={args.k}, eps={args.eps}, weighted cascade, {threads} numba thread(s), "
          f"median of {args.repeats} after compilation")
    print()
    print("| graph | nodes | arcs | objective | RR sets for selection | median wall s | median CPU s "
          "| RR sets drawn | final RR MiB | peak RR MiB |")
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        how = "fresh" if r["fresh_rr_sets"] else "reused"
        print(f"| {r['graph']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {r['objective']} | {how} | {r['median_s']:.3f} "
              f"| {r['median_cpu_s']:.3f} "
              f"| {r['rr_sets_drawn']:,} | {r['rr_bytes'] / 2**20:.1f} "
              f"| {r['peak_rr_bytes'] / 2**20:.1f} |")
    print()
    print(f"peak RSS of the process: {result['peak_rss_bytes'] / 2**20:.0f} MiB; "
          f"load average at the end: {result['load_average'][0]:.1f} on {os.cpu_count()} CPUs; written to {out}")
    return result


if __name__ == "__main__":
    main()
