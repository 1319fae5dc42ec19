"""The package's layout: no import cycles, numba only in _kernels, no hidden writes to the graph."""

import ast
from pathlib import Path

import numpy as np
import pytest

import microviral as mv

ROOT = Path(mv.__file__).resolve().parent


def module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Every module a file imports, at module or function level, as absolute names (``from . import x`` included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)  # `from . import seeding` is a module
    return found


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def import_graph():
    """microviral module -> the microviral modules it imports (a parent package is not an edge of its child)."""
    graph = {}
    for name, path in MODULES.items():
        targets = set()
        for mod in imports(path):
            while mod and mod not in MODULES:  # `from .x import f` names f; keep the module x
                mod = mod.rpartition(".")[0]
            if mod and mod != name and not name.startswith(mod + "."):
                targets.add(mod)
        graph[name] = targets
    return graph


def find_cycle(graph):
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                cycle = visit(v)
                if cycle:
                    return cycle
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            cycle = visit(u)
            if cycle:
                return cycle
    return None


def test_the_layout_test_sees_every_module_and_the_engine_edges():
    graph = import_graph()
    assert {"microviral.simulation", "microviral._engine", "microviral._kernels.ic", "microviral.seeding.celf"} <= set(graph)
    assert "microviral._engine" in graph["microviral.simulation"]
    assert "microviral._engine" in graph["microviral.seeding.celf"]
    assert "microviral._engine" in graph["microviral.distributed"]
    assert "microviral._kernels.bfs" in graph["microviral._kernels.lt"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the checker can fail


def test_no_import_cycle_among_the_package_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_flow_reads_top_down():
    """Lower layers never import higher ones: graph -> model/engine -> results -> simulate -> seeding/compare."""
    graph = import_graph()
    below = {
        "microviral.graph": {"microviral._engine", "microviral.simulation", "microviral.results"},
        "microviral._engine": {"microviral.simulation", "microviral.results", "microviral.distributed",
                               "microviral.seeding", "microviral.comparison"},
        "microviral.results": {"microviral.simulation", "microviral.seeding", "microviral.comparison"},
        "microviral.distributed": {"microviral.simulation"},
    }
    for module, forbidden in below.items():
        assert not graph[module] & forbidden, (module, graph[module] & forbidden)
    for name, targets in graph.items():
        if name.startswith("microviral._kernels"):
            assert all(t.startswith("microviral._kernels") or t == "microviral._config" for t in targets), name


def test_numba_is_imported_only_in_kernels():
    outside = sorted(name for name, path in MODULES.items()
                     if not name.startswith("microviral._kernels")
                     and any(m == "numba" or m.startswith("numba.") for m in imports(path)))
    assert outside == []
    assert any("numba" in imports(p) for n, p in MODULES.items() if n.startswith("microviral._kernels"))


def snapshot(graph):
    """The graph's every slot, the cached derived values by identity."""
    state = {}
    for slot in type(graph).__slots__:
        value = getattr(graph, slot)
        state[slot] = dict(value) if isinstance(value, dict) else value
    return state


def assert_unchanged(before, graph):
    after = snapshot(graph)
    assert before.keys() == after.keys()
    for slot, value in before.items():
        if isinstance(value, np.ndarray):
            assert after[slot] is value
        else:
            assert after[slot] == value, slot


@pytest.mark.filterwarnings("ignore::microviral.DataWarning")
@pytest.mark.parametrize("call", ["simulate", "simulate_lt", "simulate_large", "compare", "celf", "trace"])
def test_the_engine_never_writes_to_the_graph(call):
    gen = np.random.default_rng(3)
    n = 400
    src, dst = gen.integers(0, n, 2400), gen.integers(0, n, 2400)
    keep = src != dst
    g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=n, prob=0.5, community=np.arange(n) % 2,
                                     directed=False, duplicates="drop")
    if call == "simulate_lt":
        g = mv.probabilities.weighted_cascade(g)
    g.fingerprint()  # provenance memoises the content hash: a pure function of the graph, filled in here first
    before = snapshot(g)
    if call.startswith("simulate"):
        n_runs = 600 if call == "simulate_large" else 50  # 600: "auto" runs its pilot and picks bit-parallel
        res = mv.simulate(g, [0, 1], model="lt" if call == "simulate_lt" else "ic", n_runs=n_runs, target=1, rng=0)
        assert res.reach.mean() > 2
    elif call == "compare":
        mv.compare(g, ["random", "degree"], k=2, target=1, n_runs=50, rng=0)
    elif call == "celf":
        mv.seeding.celf(g, 2, n_runs=20, rng=0)
    else:
        mv.trace(g, [0], 12345)
    assert_unchanged(before, g)


@pytest.mark.filterwarnings("ignore::microviral.DataWarning")
def test_auto_is_a_pure_function_of_the_inputs(monkeypatch):
    """The same call picks the same kernels whatever ran before it on the same graph."""
    from microviral import _engine

    gen = np.random.default_rng(4)
    src, dst = gen.integers(0, 300, 2000), gen.integers(0, 300, 2000)
    keep = src != dst
    g = mv.CommunityGraph.from_edges(src[keep], dst[keep], n_nodes=300, prob=0.5, directed=False,
                                     duplicates="drop")
    used = []
    real = _engine._run
    monkeypatch.setattr(_engine, "_run", lambda *a, **k: used.append(a[7]) or real(*a, **k))

    def kernels(**kw):
        used.clear()
        mv.simulate(g, [0], rng=1, chunk_size=1000, **kw)
        return list(used)

    big = kernels(n_runs=600)
    assert big == ["scalar", "bitparallel"]  # the pilot, then the rest
    assert kernels(n_runs=100) == ["scalar"]
    assert kernels(n_runs=600) == big  # nothing remembered from the calls before
    assert kernels(n_runs=600, kernel="scalar") == ["scalar"]
    assert kernels(n_runs=100, kernel="bitparallel") == ["bitparallel"]
