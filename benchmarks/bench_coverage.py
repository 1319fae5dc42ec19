"""Measured coverage of every interval (docs/metrics.md), by repetition against exact enumeration.

    python benchmarks/bench_coverage.py

Prints a markdown table: for each case and number of runs R, the share of B blocks of R runs whose
95% interval holds the exact value (worlds enumerated). Deterministic (fixed seeds).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import microviral as mv  # noqa: E402
from test_intervals import blocks, coverage, exact_answers, intervals  # noqa: E402

METRICS = ("reach", "penetration", "spillover", "rounds", "rounds_to_theta", "p_microviral", "spillover_share",
           "lift")


def normal_coverage(x, truth):
    """The former interval: mean +- 1.96 s / sqrt(R), for comparison."""
    valid = ~np.isnan(x)
    n = valid.sum(axis=1)
    m = np.nansum(x, axis=1) / n
    se = np.sqrt(np.nansum((x - m[:, None]) ** 2, axis=1) / (n - 1) / n)
    ok = n > 1
    held = (m - 1.96 * se <= truth + 1e-12) & (truth - 1e-12 <= m + 1.96 * se)
    return float(held[ok].mean())


def main():
    rows = []
    g1 = mv.CommunityGraph.from_edges([0], [1], prob=0.002, community=["a", "b"])
    g2 = mv.CommunityGraph.from_edges([0, 0, 2], [1, 2, 1], prob=[0.05, 0.05, 0.1], community=["a", "b", "a"])
    g3 = mv.CommunityGraph.from_edges([0, 0, 1, 1, 2, 3, 4, 2], [1, 2, 3, 4, 4, 5, 5, 5],
                                      prob=[0.5, 0.3, 0.4, 0.6, 0.5, 0.7, 0.2, 0.1], community=list("aabbab"))
    cases = [("0->1 p=.002 (issue 13)", g1, 1.0, 1000, [300], 1),
             ("3 arcs, theta=1 (issue 13)", g2, 1.0, 1000, [300], 2),
             ("6 nodes, 8 arcs, theta=2/3", g3, 2 / 3, 2000, [5, 10, 40, 200, 1000], None)]
    print("| case | R | " + " | ".join(METRICS) + " | former normal interval (reach / rounds_to_theta) |")
    print("|" + " --- |" * (len(METRICS) + 3))
    for label, g, theta, n_blocks, sizes, rng in cases:
        truth = exact_answers(g, [0], g.target_mask("b"), theta)
        for R in sizes:
            res, per_run = blocks(g, [0], "b", n_blocks, R, rng if rng is not None else 3 + R, theta)
            ivs = intervals(res, per_run, theta)
            cells = [f"{coverage(*ivs[m], truth[m])[0]:.3f}" for m in METRICS]
            old = (f"{normal_coverage(per_run['reach'], truth['reach']):.3f} / "
                   f"{normal_coverage(per_run['rounds_to_theta'], truth['rounds_to_theta']):.3f}")
            rows.append(f"| {label} (B={n_blocks}) | {R} | " + " | ".join(cells) + f" | {old} |")
            print(rows[-1], flush=True)


def adaptive():
    """Coverage of the interval at which the adaptive rule stops (tests/test_adaptive.py's method)."""
    from test_adaptive import adaptive_coverage, pool, six_nodes

    print("\n| graph | metric | tolerance | first stage | repetitions | coverage | mean runs |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    g = six_nodes()
    res = pool(g, "b", 2000 * 6000, 11)
    for tol, rtol, metric, n_first in [(0.02, None, "penetration", 50), (None, 0.03, "reach", 50),
                                       (0.01, None, "penetration", 20), (0.05, None, "reach", 30)]:
        truth = exact_answers(g, [0], g.target_mask("b"), 0.5)[metric]
        low, high = res.bounds()[metric]
        cov, used = adaptive_coverage(getattr(res, metric).astype(float), truth, low, high, n_first=n_first,
                                      tol=tol, rtol=rtol, max_runs=6000, n_reps=2000)
        what = f"tol={tol}" if tol is not None else f"rtol={rtol}"
        print(f"| 6 nodes, 8 arcs | {metric} | {what} | {max(n_first, 30)} | 2000 | {cov:.4f} | {used:.0f} |",
              flush=True)
    g1 = mv.CommunityGraph.from_edges([0], [1], prob=0.002, community=["a", "b"])
    res = pool(g1, "b", 1000 * 8000, 12)
    cov, used = adaptive_coverage(res.penetration, 0.002, 0.0, 1.0, n_first=100, tol=0.002, max_runs=8000,
                                  n_reps=1000)
    print(f"| 0->1 p=.002 | penetration | tol=0.002 | 100 | 1000 | {cov:.4f} | {used:.0f} |")


if __name__ == "__main__":
    main()
    adaptive()
