"""microviral's OPIM-C side by side with the authors' C++ SUBSIM and OPIM-C, on the same graphs and seeds' worlds.

The C++ code is SUBSIM (Guo, Wang, Wei, Chen, SIGMOD 2020; https://github.com/qtguo/subsim, built on Tang
et al.'s OPIM code): ``subsim -func=im`` runs OPIM-C with SUBSIM's subset sampling, and with ``-vanilla=1``
with plain RR sampling (the original OPIM-C). It is not a Python package: build it yourself
(``git clone https://github.com/qtguo/subsim && cd subsim && make``) and pass the binary with ``--subsim``.

For each graph (weighted cascade, k=50, eps=0.1, delta=1/n for all three) this script writes the very arcs
microviral uses (``u v`` lines, so self-loops and repeated arcs dropped by microviral are dropped for the C++
code too) into the binary's ``graphInfo`` folder, formats them with ``-pdist=wc``, and then alternates
``--repeats`` runs of each tool. C++ times are the ones the binary reports for the algorithm (graph loading
excluded); microviral's are wall times of ``opim_c`` after a warm-up call (compilation and the one-off sort
of in-arcs excluded), on ``--threads`` threads. Seeds are judged by microviral's Monte Carlo engine with one
``rng``, so all are scored on the same random worlds. The seeds of every run of every tool are scored
(microviral's runs use ``rng`` 0, 1, ...; the C++ code seeds its generator with the time in whole seconds,
so each of its runs is started in a new second): the table gives the mean spread over a
tool's runs, its standard error across runs (the seeds vary from run to run by a few percent, far more than
the Monte Carlo error), and the range.

Workloads: ``nethept`` (``--nethept``, the usual NetHEPT.txt with an ``n m`` header, read undirected) and
``slashdot`` (``--slashdot``, SNAP's soc-Slashdot0902.txt[.gz], directed); see bench_seeding.py.

Run:  python benchmarks/bench_subsim.py --subsim /path/to/subsim --nethept NetHEPT.txt \\
          --slashdot soc-Slashdot0902.txt.gz [--repeats 9] [--mc-runs 2000] [--out results/bench_subsim.json]
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_seeding  # noqa: E402  (graphs and file readers shared with the seeding benchmark)

import microviral as mv  # noqa: E402
from microviral.seeding.opim import _opim_c  # noqa: E402

TOOLS = ("microviral opim_c", "C++ SUBSIM", "C++ OPIM-C")


def write_graph(g, path):
    """The graph's arcs, ``n m`` then ``u v`` lines: the format ``subsim -func=format`` reads."""
    u = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    with open(path, "w") as fh:
        fh.write(f"{g.n_nodes} {u.size}\n")
        np.savetxt(fh, np.column_stack([u, g.indices]), fmt="%d", delimiter="\t")


def run_cpp(binary, gname, k, eps, vanilla):
    """One ``subsim -func=im`` run: ``(seconds it reports, seeds, its own influence estimate)``."""
    cwd = Path(binary).resolve().parent
    # the C++ code seeds its generator with time(nullptr), in whole seconds: start each run in a new second,
    # or runs in the same second return the same seeds
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    out = subprocess.run([str(Path(binary).resolve()), "-func=im", f"-gname={gname}", f"-seedsize={k}", f"-eps={eps}",
                          f"-vanilla={int(vanilla)}"], cwd=cwd, capture_output=True, text=True, check=True).stdout
    seconds = float(re.search(r"\|Time \(sec\): ([0-9.eE+-]+)", out).group(1))
    influence = float(re.search(r"\|Influence: ([0-9.eE+-]+)", out).group(1))
    seeds = np.loadtxt(cwd / "result" / "seed" / f"seed_{gname}_subsim_k{k}_wc", dtype=np.int64)
    return seconds, seeds, influence


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subsim", required=True, help="the built SUBSIM binary")
    parser.add_argument("--nethept", default=None)
    parser.add_argument("--slashdot", default=None)
    parser.add_argument("--workloads", nargs="*", default=["nethept", "slashdot"])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--mc-runs", type=int, default=2_000)
    parser.add_argument("--out", default=str(HERE / "results" / "bench_subsim.json"))
    args = parser.parse_args(argv)

    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    folder = Path(args.subsim).resolve().parent / "graphInfo"
    folder.mkdir(exist_ok=True)
    load0 = os.getloadavg()
    rows = []
    for name in args.workloads:
        g, label, _ = bench_seeding.build(name, args)
        if "synthetic" in label:
            print(f"{name}: no data file (see --{name}); skipped", file=sys.stderr)
            continue
        gname = f"mv_{name}"
        write_graph(g, folder / gname)
        subprocess.run([str(Path(args.subsim).resolve()), "-func=format", f"-gname={gname}", "-pdist=wc"],
                       cwd=folder.parent, capture_output=True, check=True)
        _opim_c(g, args.k, eps=args.eps, rng=0)  # compiles; sorts the in-arcs once
        times = {t: [] for t in TOOLS}
        seeds = {t: [] for t in TOOLS}
        own = {}
        for r in range(args.repeats):
            t0 = time.perf_counter()
            s, info = _opim_c(g, args.k, eps=args.eps, rng=r)
            times[TOOLS[0]].append(time.perf_counter() - t0)
            seeds[TOOLS[0]].append(s)
            own.setdefault(TOOLS[0], info["validation_estimate"])
            for tool, vanilla in ((TOOLS[1], False), (TOOLS[2], True)):
                dt, s, est = run_cpp(args.subsim, gname, args.k, args.eps, vanilla)
                times[tool].append(dt)
                seeds[tool].append(s)
                own.setdefault(tool, est)
        for tool in TOOLS:
            reach = [mv.simulate(g, s, n_runs=args.mc_runs, rng=12345).reach for s in seeds[tool]]
            means = [float(x.mean()) for x in reach]
            rows.append(dict(workload=name, graph=label, n_nodes=g.n_nodes, n_arcs=g.n_arcs, tool=tool,
                             median_s=statistics.median(times[tool]), min_s=min(times[tool]), times_s=times[tool],
                             spread_mean=float(np.mean(means)), spread_each=means,
                             # across runs: the seeds' own variation and the Monte Carlo error together
                             spread_se=float(np.std(means, ddof=1) / np.sqrt(len(means))) if len(means) > 1 else
                             float(reach[0].std(ddof=1) / np.sqrt(reach[0].size)),
                             own_estimate=float(own[tool])))
            print(f"  {label} {tool}: {rows[-1]['median_s']:.4f} s, spread {rows[-1]['spread_mean']:.1f}",
                  file=sys.stderr, flush=True)
    result = dict(k=args.k, eps=args.eps, threads=args.threads, repeats=args.repeats, mc_runs=args.mc_runs,
                  load_average_start=list(load0), load_average_end=list(os.getloadavg()),
                  cpu=platform.processor() or platform.machine(), rows=rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"OPIM-C, k={args.k}, eps={args.eps}, weighted cascade; microviral on {args.threads} threads, the C++ code on "
          f"1; median of {args.repeats} alternating runs; spread: {args.mc_runs} Monte Carlo runs of the seeds of "
          "each run, on the same worlds: mean over a tool's runs ± its SE across runs, and their range")
    print()
    print("| graph | arcs | tool | median s | min s | vs microviral | spread (seed sets scored: range) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        ours = next(x for x in rows if x["workload"] == r["workload"] and x["tool"] == TOOLS[0])
        print(f"| {r['graph']} | {r['n_arcs']:,} | {r['tool']} | {r['median_s']:.4f} | {r['min_s']:.4f} "
              f"| {r['median_s'] / ours['median_s']:.2f}x | {r['spread_mean']:.1f} ± {r['spread_se']:.1f} "
              f"({len(r['spread_each'])}: {min(r['spread_each']):.1f}-{max(r['spread_each']):.1f}) |")
    print()
    print(f"load average {load0[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; written to {args.out}")


if __name__ == "__main__":
    main()
