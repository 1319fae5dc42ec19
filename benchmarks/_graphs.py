"""Benchmark graphs: a stochastic block model and github-musae.

The SBM comes from ``microviral.generators.planted_partition``; the fallback builder below is used only when
that module is missing.
It samples each block pair's edge count from its binomial law, draws that many
endpoint pairs uniformly inside the pair of blocks (numpy, no Python loop over
nodes), and drops the rare repeated pairs and self-loops, so the result is an
SBM up to a relative edge deficit of about ``mean_degree / block_size``.
"""

import os
import time
from pathlib import Path

import numpy as np

import microviral as mv

DATASETS = Path(os.environ.get("MICROVIRAL_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def sbm_edges(n_nodes, mean_degree, *, n_blocks=10, inside_share=0.8, rng=0):
    """Undirected SBM edges (u < v, distinct) and block labels, vectorised."""
    gen = np.random.default_rng(rng)
    sizes = np.full(n_blocks, n_nodes // n_blocks, dtype=np.int64)
    sizes[: n_nodes % n_blocks] += 1
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n_edges = n_nodes * mean_degree / 2.0
    pairs_in = (sizes * (sizes - 1) / 2.0).sum()
    pairs_out = n_nodes * (n_nodes - 1) / 2.0 - pairs_in
    p_in = inside_share * n_edges / pairs_in
    p_out = (1.0 - inside_share) * n_edges / pairs_out
    us, vs = [], []
    for a in range(n_blocks):
        for b in range(a, n_blocks):
            n_pairs = sizes[a] * (sizes[a] - 1) // 2 if a == b else sizes[a] * sizes[b]
            m = gen.binomial(int(n_pairs), p_in if a == b else p_out)
            us.append(gen.integers(starts[a], starts[a + 1], m))
            vs.append(gen.integers(starts[b], starts[b + 1], m))
    u = np.concatenate(us)
    v = np.concatenate(vs)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = lo != hi
    key = np.unique(lo[keep] * np.int64(n_nodes) + hi[keep])
    labels = np.repeat(np.arange(n_blocks, dtype=np.int32), sizes)
    return (key // n_nodes).astype(np.int32), (key % n_nodes).astype(np.int32), labels


def sbm(n_nodes, mean_degree, *, n_blocks=10, inside_share=0.8, rng=0):
    """Undirected SBM CommunityGraph: ``n_blocks`` equal blocks, ``inside_share`` of the degree inside its block.

    Uses ``mv.generators.planted_partition`` when the package has it, else the builder above.
    """
    size = n_nodes // n_blocks
    gen = getattr(mv, "generators", None)
    if gen is not None and hasattr(gen, "planted_partition") and size * n_blocks == n_nodes:
        p_in = inside_share * mean_degree / (size - 1)
        p_out = (1.0 - inside_share) * mean_degree / (n_nodes - size)
        return gen.planted_partition(n_blocks, size, p_in, p_out, rng=rng, prob=0.1)
    u, v, labels = sbm_edges(n_nodes, mean_degree, n_blocks=n_blocks, inside_share=inside_share, rng=rng)
    return mv.CommunityGraph.from_edges(u, v, n_nodes=n_nodes, community=labels, directed=False, prob=0.1,
                                        community_names=[f"b{i}" for i in range(n_blocks)])


def github():
    """github-musae as an undirected CommunityGraph; community 1 = machine-learning developers."""
    import pandas as pd

    folder = DATASETS / "github-musae"
    edges = pd.read_csv(folder / "github_edges.csv.gz")
    target = pd.read_csv(folder / "github_target.csv").sort_values("id")
    n = int(target["id"].max()) + 1
    return mv.CommunityGraph.from_edges(edges["id_1"].to_numpy(), edges["id_2"].to_numpy(), n_nodes=n,
                                        community=target["target"].to_numpy(), directed=False, prob=0.1,
                                        community_names=["web", "ml"])


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t
