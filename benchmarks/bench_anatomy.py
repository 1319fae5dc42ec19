"""Cost of the opt-in anatomy counts: ``simulate(..., per_node=True)`` and ``attribution=True``.

Both come from a second pass over the same keys (the default engine is untouched), so their cost is that
pass: a plain breadth-first replay of every run that also records each node's seed tree.

Workloads (IC, after one warm-up call that compiles the kernels):

* ``github-musae``: 37,700 nodes, 578,006 arcs, weighted cascade (1 / in-degree), 10 highest-degree seeds,
  target the ML developers (``../shared/datasets`` if there, else the bundled copy).
* ``sbm-100k``: planted partition, 100,000 nodes in 10 blocks, mean degree 10, p = 0.08 (mean reach in the
  hundreds), 10 random seeds, target block 0.

Measured: wall time of ``simulate`` (median of ``--repeats``) with the default outputs, with ``per_node``,
with ``attribution`` and with both; the ratio to the default; the same for the process's CPU time (all
threads: on a shared machine the steadier figure); the 1-minute load average before and after (the machine
may be shared: read ratios, not absolute times, when the load is high).

Run:  python benchmarks/bench_anatomy.py [--threads 2] [--runs 10000] [--repeats 5]
        [--out benchmarks/results/bench_anatomy.json]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import microviral as mv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _graphs import DATASETS, github, sbm  # noqa: E402

HERE = Path(__file__).resolve().parent
VARIANTS = {"default": {}, "per_node": {"per_node": True}, "attribution": {"attribution": True},
            "both": {"per_node": True, "attribution": True}}


def workloads():
    if (DATASETS / "github-musae" / "github_edges.csv.gz").exists():
        g = github()
    else:
        g = mv.datasets.load_github()
    g = mv.probabilities.weighted_cascade(g)
    seeds = np.argsort(-g.out_degree, kind="stable")[:10]
    yield "github-musae", g, seeds, 1
    s = sbm(100_000, 10, rng=0).with_prob(0.08)
    yield "sbm-100k", s, np.random.default_rng(0).choice(s.n_nodes, 10, replace=False), 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results" / "bench_anatomy.json"))
    args = ap.parse_args(argv)
    rows = []
    for name, g, seeds, target in workloads():
        mv.simulate(g, seeds, n_runs=64, target=target, rng=0, per_node=True, attribution=True,
                    n_threads=args.threads)  # compile
        load_before = os.getloadavg()[0]
        times = {v: [] for v in VARIANTS}
        cpu = {v: [] for v in VARIANTS}
        for rep in range(args.repeats):
            for variant, flags in VARIANTS.items():  # interleaved: a load spike hits every variant alike
                t, c = time.perf_counter(), time.process_time()
                res = mv.simulate(g, seeds, n_runs=args.runs, target=target, rng=rep, n_threads=args.threads,
                                  **flags)
                times[variant].append(time.perf_counter() - t)
                cpu[variant].append(time.process_time() - c)
        base = statistics.median(times["default"])
        cpu_base = statistics.median(cpu["default"])
        row = dict(graph=name, n_nodes=g.n_nodes, n_arcs=g.n_arcs, runs=args.runs, threads=args.threads,
                   mean_reach=float(res.reach.mean()), load_before=load_before, load_after=os.getloadavg()[0],
                   seconds={v: statistics.median(t) for v, t in times.items()},
                   ratio={v: statistics.median(t) / base for v, t in times.items()},
                   cpu_seconds={v: statistics.median(t) for v, t in cpu.items()},
                   cpu_ratio={v: statistics.median(t) / cpu_base for v, t in cpu.items()})
        rows.append(row)
        print(f"{name:13s} reach {row['mean_reach']:9.1f}  " + "  ".join(
            f"{v} {row['seconds'][v]:.3f}s ({row['ratio'][v]:.2f}x, cpu {row['cpu_ratio'][v]:.2f}x)" for v in VARIANTS)
            + f"  load {load_before:.1f}->{row['load_after']:.1f}", flush=True)
    out = dict(machine=platform.platform(), cpus=os.cpu_count(), python=platform.python_version(),
               command=" ".join(["python", "benchmarks/bench_anatomy.py"] + (argv or sys.argv[1:])), rows=rows)
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
