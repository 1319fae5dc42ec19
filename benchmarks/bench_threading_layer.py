"""What the fork-safe threading layer costs: the same workloads on numba's ``workqueue`` (microviral's default
where TBB is absent, see docs/guarantees.md "Threads, processes and fork"), ``omp`` and ``tbb`` (where
numba can load them).

A threading layer is fixed per process, so every (layer, workload) pair runs in its own child process, and the
layers alternate round by round so that a change in the machine's load hits them alike. Each child compiles
(or loads from the cache) and warms up once, then times ``--repeats`` calls and reports the median wall and
CPU time.

Workloads (2 threads by default):

* ``sbm100k IC``: planted partition, 100,000 nodes in 10 blocks, mean degree 10, p = 0.1, 10 highest-degree
  seeds, 4,000 runs (one long parallel call).
* ``github IC``: github-musae, p = 0.1, 10 highest-degree seeds, 400 runs.
* ``github LT``: github-musae, weighted cascade, linear threshold, 200 runs.
* ``CELF polbooks``: k = 3, 200 runs per evaluation (many short parallel calls).
* ``OPIM-C github``: weighted cascade, k = 50, eps = 0.1 (a few short sampling calls).

Run:  python benchmarks/bench_threading_layer.py [--threads 2] [--repeats 7] [--rounds 2]
        [--out benchmarks/results/bench_threading_layer.json]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = ["sbm100k IC", "github IC", "github LT", "CELF polbooks", "OPIM-C github"]

_CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, {here!r})
import numpy as np, numba
import microviral as mv
from _graphs import github, sbm

name, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
numba.set_num_threads(threads)

def top(g, k=10):
    return np.argsort(-g.out_degree, kind="stable")[:k].astype(np.int32)

if name == "sbm100k IC":
    g = sbm(100_000, 10, rng=1)
    call = lambda: mv.simulate(g, top(g), n_runs=4000, target=0, rng=1, n_threads=threads)
elif name == "github IC":
    g = github()
    call = lambda: mv.simulate(g, top(g), n_runs=400, target="ml", rng=1, n_threads=threads)
elif name == "github LT":
    g = mv.probabilities.weighted_cascade(github())
    call = lambda: mv.simulate(g, top(g), model="lt", n_runs=200, target="ml", rng=1, n_threads=threads)
elif name == "CELF polbooks":
    g = mv.datasets.load_polbooks(prob=0.1)
    call = lambda: mv.seeding.celf(g, 3, n_runs=200, rng=0)
elif name == "OPIM-C github":
    g = mv.probabilities.weighted_cascade(github())
    call = lambda: mv.seeding.opim_c(g, 50, eps=0.1, rng=0)
call()
walls, cpus = [], []
for _ in range(repeats):
    c, t = time.process_time(), time.perf_counter()
    call()
    walls.append(time.perf_counter() - t)
    cpus.append(time.process_time() - c)
print(json.dumps(dict(layer=numba.threading_layer(), wall=statistics.median(walls), cpu=statistics.median(cpus))))
"""


def available_layers():
    """The layers numba can start here (each tried in a child process)."""
    code = ("import numba, numpy as np\n"
            "@numba.njit(parallel=True)\n"
            "def f(n):\n"
            "    s = 0\n"
            "    for i in numba.prange(n): s += i\n"
            "    return s\n"
            "f(10); print(numba.threading_layer())")
    found = []
    for layer in ("omp", "workqueue", "tbb"):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if proc.returncode == 0 and proc.stdout.strip() == layer:
            found.append(layer)
    return found


def run(layer, name, threads, repeats):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}
    env["NUMBA_THREADING_LAYER"] = layer
    code = _CHILD.format(here=str(HERE))
    proc = subprocess.run([sys.executable, "-c", code, name, str(threads), str(repeats)], capture_output=True,
                          text=True, env=env, check=True)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["layer"] == layer, out
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the layers per workload")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_threading_layer.json"))
    args = parser.parse_args(argv)

    layers = available_layers()
    load_before = os.getloadavg()[0]
    print(f"layers available: {', '.join(layers)}; {args.threads} threads; load {load_before:.2f}", flush=True)
    rows = []
    for name in WORKLOADS:
        times = {layer: [] for layer in layers}
        for _ in range(args.rounds):
            for layer in layers:
                times[layer].append(run(layer, name, args.threads, args.repeats))
        row = {"workload": name}
        for layer in layers:
            row[layer] = {"wall": min(t["wall"] for t in times[layer]), "cpu": min(t["cpu"] for t in times[layer])}
        if "omp" in layers and "workqueue" in layers:
            row["workqueue_over_omp_wall"] = row["workqueue"]["wall"] / row["omp"]["wall"]
        rows.append(row)
        cells = "  ".join(f"{layer} {row[layer]['wall'] * 1e3:8.1f} ms" for layer in layers)
        ratio = f"  workqueue/omp {row['workqueue_over_omp_wall']:.2f}x" if "workqueue_over_omp_wall" in row else ""
        print(f"{name:15s} {cells}{ratio}", flush=True)
    load_after = os.getloadavg()[0]
    print(f"load {load_before:.2f} -> {load_after:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.processor()
                   or platform.machine(), "cores": os.cpu_count(), "threads": args.threads, "layers": layers,
                   "load": [load_before, load_after], "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
