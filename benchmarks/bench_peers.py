"""microviral against cynetdiff and NDlib: same graphs, seeds and probabilities, in one process per workload.

Usage::

    python benchmarks/bench_peers.py                  # every workload, full repeats (about 15 minutes on 2 cores)
    python benchmarks/bench_peers.py --quick          # small repeats, a smoke test
    python benchmarks/bench_peers.py --workloads github-wc,startup

Each graph workload runs in its own fresh process (so its peak RSS is its own): it builds the graph, takes the
10 highest-degree nodes as seeds, times microviral (``simulate`` with 1 and 2 numba threads), cynetdiff and NDlib
(fewer cascades: it is ~1000x slower), checks that every peer's mean reach agrees with microviral's within 4
standard errors, and measures the arcs examined per cascade (arcs leaving activated nodes). ``scale`` builds an
SBM with 1,000,000 nodes / ~20,000,000 arcs and times 1,000 weighted-cascade cascades; ``startup`` times
``import microviral`` and the first ``simulate`` in fresh processes (numba cache warm).

Results: ``benchmarks/results/peers.json`` and ``peers.md`` (the table pasted in ``docs/benchmarks.md``).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GRAPH_WORKLOADS = {
    # name: (graph, probability model, value)
    "sbm10k-p05": ("sbm10k", "uniform", 0.05),
    "sbm10k-wc": ("sbm10k", "wc", None),
    "sbm200k-p01": ("sbm200k", "uniform", 0.01),
    "sbm200k-wc": ("sbm200k", "wc", None),
    "github-p01": ("github", "uniform", 0.01),
    "github-wc": ("github", "wc", None),
}
# Linear threshold (model="lt") against cynetdiff's LinearThresholdModel, weights 1 / in-degree (its default);
# and IMM under LT on a NetHEPT-sized graph.
LT_WORKLOADS = {"lt-sbm10k": "sbm10k", "lt-sbm200k": "sbm200k", "lt-github": "github"}
LT_IMM = "lt-imm"
ALL = list(GRAPH_WORKLOADS) + ["scale", "startup"] + list(LT_WORKLOADS) + [LT_IMM]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build(name):
    import _graphs

    import microviral as mv

    kind, model, value = GRAPH_WORKLOADS[name] if name in GRAPH_WORKLOADS else (LT_WORKLOADS[name], "wc", None)
    t = time.perf_counter()
    if kind == "sbm10k":
        g = _graphs.sbm(10_000, 20, rng=1)
    elif kind == "sbm200k":
        g = _graphs.sbm(200_000, 20, rng=2)
    else:
        g = _graphs.github()
    g = mv.probabilities.uniform(g, value) if model == "uniform" else mv.probabilities.weighted_cascade(g)
    target = "ml" if kind == "github" else g.community_names[0]
    return g, target, time.perf_counter() - t


def top_degree(g, k=10):
    import numpy as np

    return np.argsort(-g.out_degree, kind="stable")[:k].astype(np.int32)


def mean_se(x):
    import numpy as np

    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("inf")


def clamp(x, lo, hi):
    return int(max(lo, min(hi, x)))


def time_microviral(g, seeds, target, n_threads, n_runs, repeats, first_rng=1000):
    import microviral as mv

    per, last = [], None
    for rep in range(repeats):
        t = time.perf_counter()
        last = mv.simulate(g, seeds, n_runs=n_runs, target=target, rng=first_rng + rep, n_threads=n_threads)
        per.append((time.perf_counter() - t) / n_runs)
    return per, last


def summary(per):
    return {"median_s": statistics.median(per), "min_s": min(per), "max_s": max(per), "n_repeats": len(per)}


def child_graph(name, quick):
    import _peers
    import numpy as np

    import microviral as mv

    out = {"workload": name}
    g, target, build_s = build(name)
    seeds = top_degree(g)
    out.update(n_nodes=g.n_nodes, n_arcs=g.n_arcs, build_s=build_s, seeds=seeds.tolist(), target=str(target),
               rss_graph_mb=peak_rss_mb())
    # microviral: warm up (cache load), pilot, then repeats at 1 and 2 threads
    mv.simulate(g, seeds, n_runs=64, target=target, rng=0, n_threads=2)
    pilot, _ = time_microviral(g, seeds, target, 2, 256, 1)
    budget = 0.15 if quick else 0.6
    n_runs = clamp(budget / pilot[0], 500, 200_000)
    repeats = 3 if quick else 7
    per = {1: [], 2: []}
    for rep in range(repeats):  # 1 and 2 threads alternate, so a change of load hits both alike
        for nt in (1, 2):
            p, result = time_microviral(g, seeds, target, nt, n_runs, 1, first_rng=1000 + rep)
            per[nt] += p
    res = {nt: summary(v) for nt, v in per.items()}
    reach_mean, reach_se = mean_se(result.reach)
    ex = _peers.arcs_examined(g.indptr, g.indices, g.prob, seeds, result.keys[: min(1000, n_runs)])
    arcs = float(ex.mean())
    out["microviral"] = {
        "n_runs": n_runs, "threads_1": res[1], "threads_2": res[2],
        "speedup_1_to_2": res[1]["median_s"] / res[2]["median_s"],
        "reach_mean": reach_mean, "reach_se": reach_se,
        "arcs_examined_per_cascade": arcs,
        "ns_per_arc_1_thread": res[1]["median_s"] * 1e9 / arcs,
        "ns_per_arc_core_2_threads": 2 * res[2]["median_s"] * 1e9 / arcs,
        "rss_mb": peak_rss_mb(),
    }
    # cynetdiff
    cyn = _peers.CyNetDiff(g, seeds, rng=7)
    _, t1 = cyn.run(20)
    n_c = clamp((0.3 if quick else 1.0) / (t1 / 20), 50, 20_000)
    per, reaches = [], []
    for _ in range(2 if quick else 3):
        r, dt = cyn.run(n_c)
        per.append(dt / n_c)
        reaches.append(r)
    m, se = mean_se(np.concatenate(reaches))
    out["cynetdiff"] = {"n_runs": n_c, **summary(per), "reach_mean": m, "reach_se": se, "rss_mb": peak_rss_mb()}
    del cyn
    # NDlib: few cascades, each timed
    t = time.perf_counter()
    nd = _peers.NDlib(g, seeds, rng=7)
    setup = time.perf_counter() - t
    r1, t1 = nd.run(1)
    n_n = 2 if quick else clamp(20.0 / t1[0], 3, 30)
    r, times = nd.run(n_n)
    r, times = np.concatenate([r1, r]), np.concatenate([t1, times])
    m, se = mean_se(r)
    out["ndlib"] = {"n_runs": int(r.size), "median_s": float(np.median(times)), "min_s": float(times.min()),
                    "max_s": float(times.max()), "setup_s": setup, "reach_mean": m, "reach_se": se,
                    "rss_mb": peak_rss_mb()}
    for peer in ("cynetdiff", "ndlib"):
        p = out[peer]
        z = abs(p["reach_mean"] - reach_mean) / max((p["reach_se"] ** 2 + reach_se ** 2) ** 0.5, 1e-12)
        p["z_vs_microviral"] = z
        p["agrees"] = bool(z <= 4.0)
        p["ratio_vs_microviral_2t"] = p["median_s"] / res[2]["median_s"]
    return out


def time_lt(g, seeds, target, n_threads, n_runs, rep):
    import microviral as mv

    t, c = time.perf_counter(), time.process_time()
    res = mv.simulate(g, seeds, model="lt", n_runs=n_runs, target=target, rng=1000 + rep, n_threads=n_threads,
                      count_communities=False)
    return (time.perf_counter() - t) / n_runs, (time.process_time() - c) / n_runs, res


def child_lt(name, quick):
    """LT cascades: microviral (1 and 2 threads) vs cynetdiff's LinearThresholdModel, same CSR and weights."""
    import _peers
    import numpy as np

    import microviral as mv

    out = {"workload": name}
    g, target, build_s = build(name)
    seeds = top_degree(g)
    out.update(n_nodes=g.n_nodes, n_arcs=g.n_arcs, build_s=build_s, seeds=seeds.tolist(), target=str(target))
    mv.simulate(g, seeds, model="lt", n_runs=64, rng=0, n_threads=2)  # compile / cache load
    pilot, _, _ = time_lt(g, seeds, target, 2, 128, 0)
    n_runs = clamp((0.15 if quick else 0.6) / pilot, 200, 200_000)
    per = {1: [], 2: []}
    cpu = {1: [], 2: []}
    reaches = []
    for rep in range(3 if quick else 7):
        for nt in (1, 2):  # alternate, so a change of load hits both alike
            dt, ct, res = time_lt(g, seeds, target, nt, n_runs, rep)
            per[nt].append(dt)
            cpu[nt].append(ct)
        reaches.append(res.reach)
    res_t = {nt: summary(v) for nt, v in per.items()}
    reach_mean, reach_se = mean_se(np.concatenate(reaches))
    out["microviral"] = {"n_runs": n_runs, "threads_1": res_t[1], "threads_2": res_t[2],
                         "speedup_1_to_2": res_t[1]["median_s"] / res_t[2]["median_s"],
                         "cpu_s_1": statistics.median(cpu[1]), "cpu_s_2": statistics.median(cpu[2]),
                         "reach_mean": reach_mean, "reach_se": reach_se, "rss_mb": peak_rss_mb()}
    cyn = _peers.CyNetDiffLT(g, seeds, rng=7)
    _, t1 = cyn.run(5)
    n_c = clamp((0.3 if quick else 1.5) / (t1 / 5), 20, 20_000)
    per_c, cpu_c, reach_c = [], [], []
    for _ in range(2 if quick else 3):
        ct = time.process_time()
        r, dt = cyn.run(n_c)
        cpu_c.append((time.process_time() - ct) / n_c)
        per_c.append(dt / n_c)
        reach_c.append(r)
    m, se = mean_se(np.concatenate(reach_c))
    c = {"n_runs": n_c, **summary(per_c), "cpu_s": statistics.median(cpu_c), "reach_mean": m, "reach_se": se,
         "rss_mb": peak_rss_mb()}
    c["z_vs_microviral"] = abs(m - reach_mean) / max((se ** 2 + reach_se ** 2) ** 0.5, 1e-12)
    c["agrees"] = bool(c["z_vs_microviral"] <= 4.0)
    c["ratio_vs_microviral_2t"] = c["median_s"] / res_t[2]["median_s"]
    c["ratio_vs_microviral_1t"] = c["median_s"] / res_t[1]["median_s"]
    # CPU time per cascade (all threads): less sensitive than wall time to other processes on a busy machine
    c["cpu_ratio_vs_microviral_1t"] = c["cpu_s"] / out["microviral"]["cpu_s_1"]
    out["cynetdiff"] = c
    return out


def child_lt_imm(quick):
    """IMM under LT (k=50, eps=0.1, weights 1 / in-degree) on bench_seeding's NetHEPT-like graph.

    A Chung-Lu power-law graph (exponent 3) with NetHEPT's size, 15,233 nodes and 58,891 undirected edges:
    the graph the IC IMM benchmark uses when NetHEPT itself is absent.
    """
    import numpy as np
    from bench_seeding import nethept_like

    import microviral as mv

    g = mv.probabilities.weighted_cascade(nethept_like())
    out = {"workload": LT_IMM, "n_nodes": g.n_nodes, "n_arcs": g.n_arcs,
           "graph": "bench_seeding's NetHEPT-like Chung-Lu graph"}
    mv.seeding.imm(g, 5, eps=0.5, rng=0, model="lt")  # compile / cache load
    times = []
    for rep in range(3 if quick else 7):
        t = time.perf_counter()
        seeds = mv.seeding.imm(g, 50, eps=0.1, rng=rep, model="lt")
        times.append(time.perf_counter() - t)
    res = mv.simulate(g, np.asarray(seeds), model="lt", n_runs=2000, rng=1)
    out.update(k=50, eps=0.1, imm_s=summary(times), n_rr_sets=int(getattr(seeds, "info", {}).get("n_rr_sets", -1)), spread_mean=float(res.reach.mean()),
               spread_se=float(res.reach.std() / np.sqrt(res.n_runs)), rss_mb=peak_rss_mb())
    return out


def child_scale(quick):

    import _graphs
    import _peers

    import microviral as mv

    out = {"workload": "scale"}
    t = time.perf_counter()
    g = _graphs.sbm(1_000_000, 20, rng=3)
    out["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    g = mv.probabilities.weighted_cascade(g)
    out["wc_s"] = time.perf_counter() - t
    arrays = {"indptr": g.indptr, "indices": g.indices, "prob": g.prob, "community": g.community}
    total = sum(a.nbytes for a in arrays.values())
    out.update(n_nodes=g.n_nodes, n_arcs=g.n_arcs, graph_bytes=total, bytes_per_arc=total / g.n_arcs,
               arc_bytes_per_arc=(g.indices.nbytes + g.prob.nbytes) / g.n_arcs,
               array_bytes={k: int(a.nbytes) for k, a in arrays.items()}, rss_graph_mb=peak_rss_mb())
    seeds = top_degree(g)
    mv.simulate(g, seeds, n_runs=16, rng=0, n_threads=2)
    n_runs = 200 if quick else 1000
    per, res = time_microviral(g, seeds, None, 2, n_runs, 1 if quick else 3)
    ex = _peers.arcs_examined(g.indptr, g.indices, g.prob, seeds, res.keys[:200])
    out["microviral"] = {"n_runs": n_runs, "threads_2": summary(per), "total_s_median": statistics.median(per) * n_runs,
                         "reach_mean": float(res.reach.mean()), "arcs_examined_per_cascade": float(ex.mean()),
                         "ns_per_arc_core_2_threads": 2 * statistics.median(per) * 1e9 / ex.mean(),
                         "rss_mb": peak_rss_mb()}
    cyn = _peers.CyNetDiff(g, seeds, rng=7)
    n_c = 20 if quick else 100
    r, dt = cyn.run(n_c)
    out["cynetdiff"] = {"n_runs": n_c, "median_s": dt / n_c, "reach_mean": float(r.mean()),
                        "ratio_vs_microviral_2t": (dt / n_c) / statistics.median(per), "rss_mb": peak_rss_mb()}
    return out


STARTUP_CODE = """
import time
t0 = time.perf_counter()
import microviral as mv
t1 = time.perf_counter()
g = mv.CommunityGraph.from_edges([0, 1, 2, 0], [1, 2, 3, 3], prob=0.5, community=[0, 0, 1, 1])
res = mv.simulate(g, [0], n_runs=1000, target=1, rng=0)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def startup(quick):
    # warm the numba cache first, then time fresh processes
    subprocess.run([sys.executable, "-c", STARTUP_CODE], check=True, capture_output=True)
    imports, firsts, bare = [], [], []
    for _ in range(3 if quick else 7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t)
        line = subprocess.run([sys.executable, "-c", STARTUP_CODE], check=True, capture_output=True,
                              text=True).stdout.split()
        imports.append(float(line[0]))
        firsts.append(float(line[1]))
    return {"workload": "startup", "import_s_median": statistics.median(imports), "import_s_max": max(imports),
            "first_simulate_s_median": statistics.median(firsts), "first_simulate_s_max": max(firsts),
            "python_startup_s_median": statistics.median(bare)}


def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key = line.split(":")[0].strip()
            if key in ("Model name", "CPU(s)", "L2 cache", "L3 cache", "Thread(s) per core"):
                info[key] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    import numba
    import numpy

    import microviral

    info.update(numba=numba.__version__, numpy=numpy.__version__, microviral=microviral.__version__)
    for mod in ("cynetdiff", "ndlib"):
        try:
            from importlib.metadata import version

            info[mod] = version(mod)
        except Exception:
            info[mod] = "?"
    return info


def fmt_ms(s):
    ms = s * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:,.0f}"


def targets(results):
    """Issue 4's targets, each marked met or not met from these results."""
    out = ["Targets (issue 4), from this run:", ""]

    def mark(ok):
        return "met" if ok else "**not met**"

    for r in results:
        name = r["workload"]
        if name in GRAPH_WORKLOADS:
            m, c, n = r["microviral"], r["cynetdiff"], r["ndlib"]
            need = 20 if name == "github-wc" else 10
            out.append(f"- {name}: {c['ratio_vs_microviral_2t']:.1f}x CyNetDiff (target >= {need}x: "
                       f"{mark(c['ratio_vs_microviral_2t'] >= need)}); {n['ratio_vs_microviral_2t']:,.0f}x NDlib "
                       f"(>= 1000x: {mark(n['ratio_vs_microviral_2t'] >= 1000)}); 1 -> 2 threads "
                       f"{m['speedup_1_to_2']:.2f}x (>= 1.7x: {mark(m['speedup_1_to_2'] >= 1.7)}); "
                       f"{m['ns_per_arc_1_thread']:.2f} ns per arc examined on one core"
                       + ("" if name.startswith("sbm200k") else f" (<= 2 ns, graph in cache: "
                          f"{mark(m['ns_per_arc_1_thread'] <= 2.0)})") + "; spreads agree: "
                       + mark(c["agrees"] and n["agrees"]) + ".")
        elif name == "scale":
            out.append(f"- scale: {r['bytes_per_arc']:.2f} bytes per arc for the whole CommunityGraph "
                       f"(<= 12: {mark(r['bytes_per_arc'] <= 12)}; {r['arc_bytes_per_arc']:.0f} for the per-arc arrays "
                       f"alone); built in {r['build_s']:.1f} s; 1,000 WC cascades in "
                       f"{r['microviral']['total_s_median']:.2f} s.")
        elif name == "startup":
            out.append(f"- `import microviral` {r['import_s_median']:.2f} s (< 1 s: {mark(r['import_s_max'] < 1)}); "
                       f"first `simulate` {r['first_simulate_s_median']:.2f} s (< 2 s: "
                       f"{mark(r['first_simulate_s_max'] < 2)}).")
    return out + [""]


def markdown(results, info, command):
    lines = [f"Command: `{command}`  ", f"Machine: {info.get('Model name', '?')}, {info.get('CPU(s)', '?')} CPUs, "
             f"L2 {info.get('L2 cache', '?')}, L3 {info.get('L3 cache', '?')}; Python {info['python']}, "
             f"numba {info['numba']}, numpy {info['numpy']}, cynetdiff {info['cynetdiff']}, ndlib {info['ndlib']}  ",
             f"Load average at start: {', '.join(f'{x:.2f}' for x in info['loadavg_start'])}; "
             f"at end: {', '.join(f'{x:.2f}' for x in info.get('loadavg_end', ()))}", ""]
    graph_rows = [r for r in results if r["workload"] in GRAPH_WORKLOADS]
    if graph_rows:
        lines += [
            "Per-cascade wall time in ms: median over repeats [min, max]; microviral with 2 threads unless noted. "
            "Ratio = peer median / microviral median (2 threads). Agreement: |difference of mean reach| in "
            "standard errors (must be <= 4). NDlib runs fewer cascades (column n).",
            "",
            "| workload | nodes | arcs | mean reach | arcs examined / cascade | microviral 2T | microviral 1T | 1->2 threads "
            "| ns / arc examined (1T) | cynetdiff | x cynetdiff | NDlib (n) | x NDlib | agreement cyn / NDlib (SE) "
            "| peak RSS MB (graph / +mv / +cyn / +NDlib) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in graph_rows:
            m, c, n = r["microviral"], r["cynetdiff"], r["ndlib"]
            t2, t1 = m["threads_2"], m["threads_1"]
            lines.append(
                f"| {r['workload']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {m['reach_mean']:,.1f} "
                f"| {m['arcs_examined_per_cascade']:,.0f} "
                f"| {fmt_ms(t2['median_s'])} [{fmt_ms(t2['min_s'])}, {fmt_ms(t2['max_s'])}] "
                f"| {fmt_ms(t1['median_s'])} [{fmt_ms(t1['min_s'])}, {fmt_ms(t1['max_s'])}] "
                f"| {m['speedup_1_to_2']:.2f}x | {m['ns_per_arc_1_thread']:.2f} "
                f"| {fmt_ms(c['median_s'])} [{fmt_ms(c['min_s'])}, {fmt_ms(c['max_s'])}] "
                f"| **{c['ratio_vs_microviral_2t']:.1f}x** "
                f"| {fmt_ms(n['median_s'])} ({n['n_runs']}) | **{n['ratio_vs_microviral_2t']:,.0f}x** "
                f"| {c['z_vs_microviral']:.1f} {'ok' if c['agrees'] else 'FAIL'} / "
                f"{n['z_vs_microviral']:.1f} {'ok' if n['agrees'] else 'FAIL'} "
                f"| {r['rss_graph_mb']:,.0f} / {m['rss_mb']:,.0f} / {c['rss_mb']:,.0f} / {n['rss_mb']:,.0f} |")
        lines.append("")
        lines.append("Runs per repeat: " + "; ".join(
            f"{r['workload']}: microviral {r['microviral']['n_runs']:,} x {r['microviral']['threads_2']['n_repeats']}, "
            f"cynetdiff {r['cynetdiff']['n_runs']:,} x {r['cynetdiff']['n_repeats']}, NDlib {r['ndlib']['n_runs']}"
            for r in graph_rows))
        lines.append("")
    lines += targets(results)
    for r in results:
        if r["workload"] == "scale":
            m, c = r["microviral"], r["cynetdiff"]
            lines += [
                f"Scale: SBM with {r['n_nodes']:,} nodes and {r['n_arcs']:,} arcs built in {r['build_s']:.1f} s "
                f"(+ {r['wc_s']:.1f} s for weighted-cascade probabilities); CommunityGraph arrays "
                f"{r['graph_bytes'] / 2**20:,.0f} MiB = {r['bytes_per_arc']:.2f} bytes per arc "
                f"({r['arc_bytes_per_arc']:.0f} per arc for indices + probabilities, the rest indptr and labels); "
                f"{m['n_runs']:,} weighted-cascade cascades in {m['total_s_median']:.2f} s with 2 threads "
                f"({fmt_ms(m['threads_2']['median_s'])} ms each, mean reach {m['reach_mean']:,.0f}, "
                f"{m['arcs_examined_per_cascade']:,.0f} arcs examined, {m['ns_per_arc_core_2_threads']:.2f} "
                f"core-ns per arc); cynetdiff {fmt_ms(c['median_s'])} ms per cascade "
                f"({c['ratio_vs_microviral_2t']:.1f}x); peak RSS {c['rss_mb']:,.0f} MB.", ""]
        if r["workload"] == "startup":
            lines += [
                f"Start-up (fresh processes, numba cache warm, medians of several): `import microviral` "
                f"{r['import_s_median']:.2f} s (max {r['import_s_max']:.2f}); first `simulate` (1,000 runs on a "
                f"4-node graph, including numba's import and cache load) {r['first_simulate_s_median']:.2f} s "
                f"(max {r['first_simulate_s_max']:.2f}); bare `python -c pass` {r['python_startup_s_median']:.2f} s.",
                ""]
    return "\n".join(lines)


def markdown_lt(results, info, command):
    lines = [f"Command: `{command}`  ", f"Machine: {info.get('Model name', '?')}, {info.get('CPU(s)', '?')} CPUs; "
             f"Python {info['python']}, numba {info['numba']}, cynetdiff {info['cynetdiff']}  ",
             f"Load average at start: {', '.join(f'{x:.2f}' for x in info['loadavg_start'])}; "
             f"at end: {', '.join(f'{x:.2f}' for x in info.get('loadavg_end', ()))}", ""]
    rows = [r for r in results if r["workload"] in LT_WORKLOADS]
    if rows:
        lines += [
            "Linear threshold, weights 1 / in-degree, 10 highest-degree seeds. Per-cascade wall time in ms: median "
            "[min, max] over repeats. Ratio = cynetdiff median / microviral median. Agreement: |difference of mean "
            "reach| in standard errors (must be <= 4). CPU: median CPU time per cascade (all threads), microviral "
            "on 1 thread vs cynetdiff; on a shared machine it is less affected by the other processes than wall time.",
            "",
            "| workload | nodes | arcs | mean reach (mv) | mean reach (cyn) | microviral 2T | microviral 1T "
            "| cynetdiff | x cynetdiff (2T) | x cynetdiff (1T) | CPU ms mv 1T / cyn | x (CPU) | agreement (SE) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            m, c = r["microviral"], r["cynetdiff"]
            t2, t1 = m["threads_2"], m["threads_1"]
            lines.append(
                f"| {r['workload']} | {r['n_nodes']:,} | {r['n_arcs']:,} | {m['reach_mean']:,.1f} "
                f"| {c['reach_mean']:,.1f} | {fmt_ms(t2['median_s'])} [{fmt_ms(t2['min_s'])}, {fmt_ms(t2['max_s'])}] "
                f"| {fmt_ms(t1['median_s'])} [{fmt_ms(t1['min_s'])}, {fmt_ms(t1['max_s'])}] "
                f"| {fmt_ms(c['median_s'])} [{fmt_ms(c['min_s'])}, {fmt_ms(c['max_s'])}] "
                f"| **{c['ratio_vs_microviral_2t']:.1f}x** | {c['ratio_vs_microviral_1t']:.1f}x "
                f"| {fmt_ms(m['cpu_s_1'])} / {fmt_ms(c['cpu_s'])} | {c['cpu_ratio_vs_microviral_1t']:.1f}x "
                f"| {c['z_vs_microviral']:.1f} {'ok' if c['agrees'] else 'FAIL'} |")
        lines += ["", "Runs per repeat: " + "; ".join(
            f"{r['workload']}: microviral {r['microviral']['n_runs']:,} x {r['microviral']['threads_2']['n_repeats']}, "
            f"cynetdiff {r['cynetdiff']['n_runs']:,} x {r['cynetdiff']['n_repeats']}" for r in rows), ""]
    for r in results:
        if r["workload"] == LT_IMM:
            s = r["imm_s"]
            lines += [f"IMM under LT, k={r['k']}, eps={r['eps']}, on {r['graph']} ({r['n_nodes']:,} nodes, "
                      f"{r['n_arcs']:,} arcs, weights 1 / in-degree): {s['median_s']:.2f} s median "
                      f"[{s['min_s']:.2f}, {s['max_s']:.2f}] over {s['n_repeats']} seeds of rng (target < 1 s: "
                      f"{'met' if s['median_s'] < 1 else '**not met**'}); LT spread of its seeds "
                      f"{r['spread_mean']:,.1f} +- {r['spread_se']:.1f}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small repeats (a smoke test)")
    parser.add_argument("--workloads", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for peers.json and peers.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "scale":
            result = child_scale(args.quick)
        elif args.child == LT_IMM:
            result = child_lt_imm(args.quick)
        elif args.child in LT_WORKLOADS:
            result = child_lt(args.child, args.quick)
        else:
            result = child_graph(args.child, args.quick)
        Path(args.json).write_text(json.dumps(result))
        return 0
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {ALL}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    command = "python benchmarks/bench_peers.py" + (" --quick" if args.quick else "") + (
        f" --workloads {args.workloads}" if args.workloads != ",".join(ALL) else "")
    results = []
    for name in names:
        t = time.perf_counter()
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        if name == "startup":
            results.append(startup(args.quick))
        else:
            tmp = out / f".{name}.json"
            cmd = [sys.executable, __file__, "--child", name, "--json", str(tmp)] + (["--quick"] if args.quick else [])
            subprocess.run(cmd, check=True)
            results.append(json.loads(tmp.read_text()))
            tmp.unlink()
        results[-1]["wall_s"] = time.perf_counter() - t
        results[-1]["loadavg_after"] = os.getloadavg()
        print(f"[{name}] done in {time.perf_counter() - t:.0f} s, load {os.getloadavg()[0]:.2f}", file=sys.stderr,
              flush=True)
    info["loadavg_end"] = os.getloadavg()
    # IC and LT results go to files of their own, so running one family keeps the other's figures
    lt_names = set(LT_WORKLOADS) | {LT_IMM}
    for stem, rows, render in (("peers", [r for r in results if r["workload"] not in lt_names], markdown),
                               ("peers_lt", [r for r in results if r["workload"] in lt_names], markdown_lt)):
        if rows:
            (out / f"{stem}.json").write_text(json.dumps({"machine": info, "command": command, "results": rows},
                                                         indent=1))
            table = render(rows, info, command)
            (out / f"{stem}.md").write_text(table + "\n")
            print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
