"""Adapters that run one cascade batch with each tool on the same CSR graph, seeds and probabilities."""

import time

import numpy as np
from numba import njit

from microviral._kernels.hashing import _INV53, _S11, GOLDEN, mix64


@njit(cache=True)
def arcs_examined(indptr, indices, prob, seeds, keys):
    """Per run: arcs leaving activated nodes (the arcs any IC engine must look at), same worlds as microviral."""
    n = indptr.size - 1
    stamp = np.zeros(n, np.int64)
    queue = np.empty(n, np.int64)
    out = np.zeros(keys.size, np.int64)
    for r in range(keys.size):
        key = keys[r]
        sid = r + 1
        tail = 0
        for s in seeds:
            stamp[s] = sid
            queue[tail] = s
            tail += 1
        head = 0
        total = 0
        while head < tail:
            u = queue[head]
            head += 1
            total += indptr[u + 1] - indptr[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] == sid:
                    continue
                z = mix64(key + np.uint64(e + 1) * GOLDEN)
                if np.float64(z >> _S11) * _INV53 < prob[e]:
                    stamp[v] = sid
                    queue[tail] = v
                    tail += 1
        out[r] = total
    return out


class CyNetDiff:
    """cynetdiff's IndependentCascadeModel on the same CSR arrays (its probabilities are float32)."""

    name = "cynetdiff"

    def __init__(self, graph, seeds, rng=0):
        from cynetdiff.models import IndependentCascadeModel

        self.model = IndependentCascadeModel(
            np.ascontiguousarray(graph.indptr[:-1], dtype=np.uint32),
            np.ascontiguousarray(graph.indices, dtype=np.uint32),
            activation_probs=np.ascontiguousarray(graph.prob, dtype=np.float32),
            rng=rng,
        )
        self.model.set_seeds([int(s) for s in seeds])

    def run(self, n_runs):
        """Return (reach per run, wall seconds)."""
        model = self.model
        out = np.empty(n_runs, np.int64)
        t = time.perf_counter()
        for i in range(n_runs):
            model.reset_model()
            model.advance_until_completion()
            out[i] = model.get_num_activated_nodes()
        return out, time.perf_counter() - t


class NDlib:
    """NDlib's IndependentCascadesModel on a networkx DiGraph holding every arc with its own threshold."""

    name = "ndlib"

    def __init__(self, graph, seeds, rng=0):
        import ndlib.models.epidemics as ep
        import ndlib.models.ModelConfig as mc
        import networkx as nx

        np.random.seed(rng)  # NDlib draws from numpy's global generator
        G = nx.DiGraph()
        G.add_nodes_from(range(graph.n_nodes))
        src = graph.arc_sources.tolist()
        dst = graph.indices.tolist()
        G.add_edges_from(zip(src, dst))
        config = mc.Configuration()
        config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
        for u, v, p in zip(src, dst, graph.prob.tolist()):
            config.add_edge_configuration("threshold", (u, v), p)
        self.model = ep.IndependentCascadesModel(G)
        self.model.set_initial_status(config)
        self.seeds = [int(s) for s in seeds]

    def run(self, n_runs):
        """Return (reach per run, seconds per run)."""
        model = self.model
        out = np.empty(n_runs, np.int64)
        times = np.empty(n_runs)
        for i in range(n_runs):
            t = time.perf_counter()
            model.reset(self.seeds)
            while True:
                it = model.iteration(node_status=False)
                if it["node_count"].get(1, 0) == 0:
                    break
            out[i] = it["node_count"].get(1, 0) + it["node_count"].get(2, 0)
            times[i] = time.perf_counter() - t
        return out, times


class CyNetDiffLT:
    """cynetdiff's LinearThresholdModel on the same CSR arrays and weights (its influences are float32)."""

    name = "cynetdiff"

    def __init__(self, graph, seeds, rng=0):
        from cynetdiff.models import LinearThresholdModel

        self.model = LinearThresholdModel(
            np.ascontiguousarray(graph.indptr[:-1], dtype=np.uint32),
            np.ascontiguousarray(graph.indices, dtype=np.uint32),
            influence=np.ascontiguousarray(graph.prob, dtype=np.float32),
            rng=rng,
        )
        self.model.set_seeds([int(s) for s in seeds])

    run = CyNetDiff.run
