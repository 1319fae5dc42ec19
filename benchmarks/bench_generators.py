"""Time the vectorised generators: an SBM with 1,000,000 nodes and ~20,000,000 arcs.

Usage::

    python benchmarks/bench_generators.py [--n-nodes 1000000] [--mean-degree 20] [--blocks 10]
                                          [--out benchmarks/results/bench_generators.json]

Prints a markdown table and writes JSON (wall time, arcs, arcs per second, peak
resident memory measured with psutil in a sampling thread).
"""

import argparse
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

import microviral as mv


class PeakRSS:
    """Sample this process's resident memory every few milliseconds; keep the peak."""

    def __init__(self, interval=0.005):
        self.proc = psutil.Process(os.getpid())
        self.interval = interval
        self.peak = self.base = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def sbm_case(n_nodes, mean_degree, n_blocks, inside_share=0.8, rng=0):
    """Undirected SBM with equal blocks, expected mean degree ``mean_degree``, 80% of edges inside blocks."""
    size = n_nodes // n_blocks
    sizes = [size] * n_blocks
    sizes[-1] += n_nodes - size * n_blocks
    n = float(n_nodes)
    n_edges = n * mean_degree / 2.0
    pairs_in = sum(s * (s - 1) / 2.0 for s in sizes)
    pairs_out = n * (n - 1) / 2.0 - pairs_in
    p_in = inside_share * n_edges / pairs_in
    p_out = (1.0 - inside_share) * n_edges / pairs_out
    p = np.full((n_blocks, n_blocks), p_out)
    np.fill_diagonal(p, p_in)
    return lambda: mv.generators.stochastic_block_model(sizes, p, rng=rng)


def niche_case(rng=0):
    return lambda: mv.generators.niche_in_background(1_000_000, 10_000, niche_degree=50, background_degree=20,
                                                     n_bridges=20_000, rng=rng)


def measure(name, build):
    with PeakRSS() as mem:
        t = time.perf_counter()
        g = build()
        wall = time.perf_counter() - t
    return {
        "case": name,
        "n_nodes": g.n_nodes,
        "n_arcs": g.n_arcs,
        "seconds": round(wall, 3),
        "arcs_per_second": round(g.n_arcs / wall),
        "peak_rss_mib": round(mem.peak / 2**20, 1),
        "extra_rss_mib": round((mem.peak - mem.base) / 2**20, 1),
        "graph_mib": round((g.indptr.nbytes + g.indices.nbytes + g.prob.nbytes + g.community.nbytes) / 2**20, 1),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-nodes", type=int, default=1_000_000)
    ap.add_argument("--mean-degree", type=float, default=20.0)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--no-niche", action="store_true", help="skip the niche-in-background case")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "bench_generators.json"))
    args = ap.parse_args(argv)

    mv.generators.planted_partition(2, 10, 0.5, 0.1, rng=0)  # warm imports
    rows = [measure(f"SBM n={args.n_nodes:,} k={args.blocks} mean degree {args.mean_degree:g}",
                    sbm_case(args.n_nodes, args.mean_degree, args.blocks))]
    if not args.no_niche:
        rows.append(measure("niche_in_background 1,000,000 + 10,000", niche_case()))

    print("| case | nodes | arcs | seconds | arcs/s | peak RSS MiB | graph MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['case']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {r['seconds']:.2f} | {r['arcs_per_second']:,} "
              f"| {r['peak_rss_mib']:,} | {r['graph_mib']:,} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": " ".join(["python benchmarks/bench_generators.py", *(sys.argv[1:] if argv is None else argv)]),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "microviral": mv.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
