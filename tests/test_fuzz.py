"""Fuzzing the public boundary: every call works correctly or raises a clean, named error.

numba does not bounds-check, so one malformed array that reaches a kernel can read
out of bounds or kill the interpreter. Each test below throws generated hostile
input (NaN, inf, negatives, huge ints, wrong dtypes including bool, complex, object
and str, wrong shapes, non-contiguous, read-only and byte-swapped arrays, empty
inputs) at one public entry point and accepts exactly two outcomes:

- it works, and the result satisfies the invariants checked here, or
- it raises ``TypeError`` or ``ValueError`` whose message names one of the
  arguments (``MemoryError`` is accepted only where a resource guard applies).

The default hypothesis profile runs a few hundred examples per strategy in well
under a minute; ``pytest tests/test_fuzz.py --fuzz`` runs thousands (see conftest.py).
"""

import os
import re
import tempfile
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import examples
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microviral as mv

CLEAN = (TypeError, ValueError)

# ----------------------------------------------------------------------------- the oracle


class Refused(Exception):
    pass


def call(fn, names, *, allow=()):
    """Run ``fn()``; return its result, or raise :class:`Refused` for a clean, named error.

    A ``TypeError``/``ValueError`` must name one of ``names`` (as a word). Any other
    exception type fails the test, and so do numpy's RuntimeWarnings (an unchecked
    cast or overflow on the way to a kernel).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return fn()
        except CLEAN + tuple(allow) as exc:
            if isinstance(exc, MemoryError):
                assert "GiB" in str(exc), f"a MemoryError without the estimated size: {exc}"
            elif isinstance(exc, CLEAN) and not isinstance(exc, tuple(allow)):
                msg = str(exc)
                assert any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", msg) for n in names), (
                    f"{type(exc).__name__} names none of {names}: {msg!r}"
                )
            raise Refused(str(exc)) from None


def attempt(fn, names, **kw):
    """Like :func:`call` but return None when refused."""
    try:
        out = call(fn, names, **kw)
    except Refused:
        event("refused")
        return None
    event("worked")
    return out


# ----------------------------------------------------------------------------- hostile values

NUMERIC_DTYPES = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "?", "c16", ">i8", ">f8", ">u4"]


@st.composite
def layouts(draw, arr):
    """The same values as ``arr`` in a hostile memory layout."""
    kind = draw(st.sampled_from(["plain", "readonly", "noncontiguous", "fortran", "list"]))
    if kind == "readonly":
        arr = arr.copy()
        arr.setflags(write=False)
    elif kind == "noncontiguous" and arr.ndim >= 1:
        arr = np.stack([arr, arr], axis=-1)[..., 0]
    elif kind == "fortran" and arr.ndim >= 1:
        arr = np.asfortranarray(arr)
    elif kind == "list":
        return arr.tolist()
    return arr


def numeric_arrays(dtypes=NUMERIC_DTYPES, min_dims=0, max_dims=2, max_side=6, elements=None):
    return hnp.arrays(
        dtype=st.sampled_from(dtypes),
        shape=hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side),
        elements=elements,
    ).flatmap(layouts)


py_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-1),
    st.floats(),
    st.complex_numbers(),
    st.text(max_size=3),
    st.binary(max_size=3),
)

hostile = st.one_of(
    py_scalars,
    numeric_arrays(),
    st.lists(py_scalars, max_size=6),
    st.lists(st.lists(st.integers(-2, 5), max_size=3), max_size=4),  # ragged or 2-d
    hnp.arrays(object, hnp.array_shapes(max_dims=1, min_side=0, max_side=5), elements=py_scalars),
    hnp.arrays(st.sampled_from(["U3", "S3"]), hnp.array_shapes(max_dims=1, min_side=0, max_side=5)),
    st.just({0: 1}),
    st.just({1, 2}),
    st.just(object()),
    st.just(np.datetime64("2020-01-01")),
)


@st.composite
def int_arrays(draw, size, lo, hi, dtypes=("i4", "i8", "u8", "f8", ">i8", "u1", "u4")):
    """Integer-valued arrays in [lo, hi] (clipped to what the dtype holds), hostile layout."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = max(lo, int(info.min)), min(hi, int(info.max))
    arr = draw(hnp.arrays(dtype, size, elements=st.integers(lo, max(lo, hi))))
    return draw(layouts(arr))


# run counts: invalid ones, and ones too large for memory (refused up front); never a slow-but-valid million
bad_counts = st.one_of(st.integers(-2, 0), st.integers(2**31, 2**80),
                       hostile.filter(lambda v: not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_))
                                      or not 0 < v < 2**31))


def index_arrays(n, lo=-2, extra=2, max_size=12, unique=False):
    """Near-valid node index arrays: mostly in range, sometimes out; hostile dtypes and layouts."""
    size = st.integers(0, max_size if not unique else min(max_size, n))
    valid = st.one_of(
        int_arrays(size, 0, n - 1) if not unique else
        st.lists(st.integers(0, n - 1), unique=True, max_size=n).map(np.array).flatmap(layouts),
        st.lists(st.integers(0, n - 1), max_size=max_size, unique=unique),
    )
    off = st.one_of(int_arrays(st.integers(0, max_size), lo, n - 1 + extra),
                    st.lists(st.integers(lo, n - 1 + extra), max_size=max_size))
    return maybe(valid, bad=off, odds=5)


def prob_arrays(size):
    """Near-valid probability arrays: mostly valid, sometimes NaN, inf, outside [0, 1] or the wrong length."""
    dtypes = st.sampled_from(["f8", "f4", "f2", ">f8"])
    valid = st.one_of(
        hnp.arrays(dtypes, st.just(size), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])).flatmap(layouts),
        hnp.arrays("f8", st.just(size), elements=st.floats(0, 1)).flatmap(layouts),
        st.floats(0, 1),
        st.none(),
    )
    vals = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 1.0 + 1e-12]))
    off = st.one_of(
        hnp.arrays(dtypes, st.just(size), elements=vals).flatmap(layouts),
        hnp.arrays("f8", st.integers(0, size + 2), elements=st.floats(0, 1)),  # wrong length
        st.floats(),
    )
    return maybe(valid, bad=off, odds=5)


def labels(n):
    """Near-valid per-node community labels: mostly valid, sometimes wrong length, NaN, mixed types..."""
    valid = st.one_of(
        st.none(),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
        hnp.arrays(st.sampled_from(["i8", "u1", "f4", "?", "U2"]), n).filter(
            lambda a: a.dtype.kind != "f" or np.isfinite(a).all()).flatmap(layouts),
        st.fixed_dictionaries({i: st.sampled_from(["a", "b"]) for i in range(n)}),
    )
    off = st.one_of(
        st.lists(st.floats(), min_size=n, max_size=n),
        st.lists(st.one_of(st.integers(0, 2), st.text(max_size=1)), min_size=n, max_size=n),  # mixed types
        st.lists(st.integers(0, 3), max_size=n + 2),  # wrong length
        st.dictionaries(st.integers(-1, n), st.integers(0, 2), max_size=n + 1),
        hostile,
    )
    return maybe(valid, bad=off, odds=4)


@st.composite
def maybe(draw, strategy, bad=hostile, odds=10):
    """The near-valid ``strategy``, or (about one time in ``odds``) a hostile value.

    With many arguments per call, a low per-argument rate keeps a good share of
    examples valid, so the checks of correct results run too.
    """
    if draw(st.integers(0, odds - 1)) == odds - 1:  # hypothesis favours (and shrinks towards) 0: valid
        return draw(bad)
    return draw(strategy)


# ----------------------------------------------------------------------------- invariants


def check_graph(g):
    assert isinstance(g, mv.CommunityGraph)
    n, m = g.n_nodes, g.n_arcs
    assert n >= 1
    for arr, dtype, size in ((g.indptr, np.int64, n + 1), (g.indices, np.int32, m), (g.prob, np.float64, m),
                             (g.community, np.int32, n)):
        assert arr.dtype == dtype and arr.shape == (size,)
        assert arr.flags.c_contiguous and not arr.flags.writeable
        assert arr.dtype.isnative
    assert g.indptr[0] == 0 and g.indptr[-1] == m and np.all(np.diff(g.indptr) >= 0)
    if m:
        assert g.indices.min() >= 0 and g.indices.max() < n
        assert np.all(np.isfinite(g.prob)) and g.prob.min() >= 0 and g.prob.max() <= 1
    assert g.n_communities >= 1
    assert g.community.min() >= 0 and g.community.max() < g.n_communities
    assert len(g.node_ids) == n
    if not g.directed:  # the arc set is symmetric (a raw-CSR self-loop is its own reverse)
        src = g.arc_sources.astype(np.int64)
        dst = g.indices.astype(np.int64)
        assert np.array_equal(np.sort(src * n + dst), np.sort(dst * n + src))
    return g


def check_result(res, g, seeds, mask, n_runs, max_rounds=None):
    seeds = np.asarray(seeds)
    n = g.n_nodes
    assert res.n_runs == n_runs == res.keys.size
    assert res.keys.dtype == np.uint64
    assert np.all(res.reach >= seeds.size) and np.all(res.reach <= n)
    in_seeds = int(mask[seeds].sum())
    assert np.all(res.target_activated >= in_seeds)
    assert np.all(res.target_activated <= np.minimum(res.reach, mask.sum()))
    assert np.all((res.penetration >= 0) & (res.penetration <= 1))
    assert np.array_equal(res.new_by_round.sum(axis=1), res.reach)
    assert np.array_equal(res.new_target_by_round.sum(axis=1), res.target_activated)
    assert np.all(res.new_by_round[:, 0] == seeds.size)
    assert np.all(res.rounds >= 0) and np.all(res.rounds <= n - 1)
    if max_rounds is not None:
        assert np.all(res.rounds <= max_rounds)
    if res.community_activated is not None:
        assert np.array_equal(res.community_activated.sum(axis=1), res.reach)
    prov = res.provenance
    assert prov["graph_sha256"] == g.fingerprint() and prov["microviral_version"] == mv.__version__
    assert "rng" in prov


@st.composite
def small_graphs(draw, max_nodes=8):
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, 3 * n))
    src = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    dst = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    prob = draw(st.lists(st.sampled_from([0.0, 0.3, 0.7, 1.0]), min_size=m, max_size=m))
    comm = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n))
    directed = draw(st.booleans())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        return mv.CommunityGraph.from_edges(src, dst, n_nodes=n, community=comm, directed=directed, prob=prob)


# ----------------------------------------------------------------------------- constructors


@st.composite
def csr_args(draw):
    n = draw(st.integers(1, 6))
    degrees = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
    m = int(indptr[-1])
    indices = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    # at most one structural defect, so that the check that catches it is the one exercised
    defect = draw(st.sampled_from([None] * 6 + ["start", "step", "end", "target_lo", "target_hi", "empty", "one"]))
    if defect == "start":
        indptr = indptr + draw(st.sampled_from([1, -1]))
    elif defect == "step" and n >= 2:
        indptr[1] = indptr[2] + 1
    elif defect == "end":
        indptr[-1] += draw(st.sampled_from([1, -1]))
    elif defect == "target_lo" and m:
        indices[draw(st.integers(0, m - 1))] = -1
    elif defect == "target_hi" and m:
        indices[draw(st.integers(0, m - 1))] = n
    elif defect == "empty":
        indptr = indptr[:0]
    elif defect == "one":
        indptr, indices = indptr[:1], indices[:0]
    dtype = draw(st.sampled_from(["i8", "i4", "u8", "f8", ">i8", "i2"]))
    if np.dtype(dtype).kind == "u":
        dtype = dtype if (indptr.min(initial=0) >= 0 and indices.min(initial=0) >= 0) else "i8"
    return dict(
        indptr=draw(maybe(layouts(indptr.astype(dtype)))),
        indices=draw(maybe(layouts(indices.astype(dtype)))),
        prob=draw(maybe(prob_arrays(m))),
        community=draw(labels(n)),
        community_names=draw(st.one_of(st.none(), st.none(), st.none(), st.just(["a", "b", "c", "d"]),
                                       st.just([]), st.just(["a", "a"]), hostile)),
        node_ids=draw(st.one_of(st.none(), st.none(), st.none(),
                                st.lists(st.integers(0, 3), min_size=n, max_size=n),
                                st.lists(st.one_of(st.integers(), st.text(max_size=2)), min_size=n, max_size=n),
                                hostile)),
        directed=draw(maybe(st.booleans())),
    )


@settings(max_examples=examples(300))
@given(csr_args())
def test_community_graph_constructor(kwargs):
    indptr = kwargs.pop("indptr")
    indices = kwargs.pop("indices")
    snapshot = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in (indptr, indices)]
    g = attempt(lambda: mv.CommunityGraph(indptr, indices, **kwargs),
                ["indptr", "indices", "prob", "community", "community_names", "node_ids", "directed", "graph"])
    if g is None:
        return
    check_graph(g)
    assert np.array_equal(g.indptr, np.asarray(indptr))
    assert np.array_equal(g.indices, np.asarray(indices))
    # the caller's arrays are neither changed nor shared
    for before, arr in zip(snapshot, (indptr, indices)):
        if before is not None:
            assert np.array_equal(before, arr)
            assert not np.shares_memory(arr, g.indptr) and not np.shares_memory(arr, g.indices)


@st.composite
def edge_args(draw):
    n = draw(st.integers(1, 7))
    m = draw(st.integers(0, 10))
    src = draw(int_arrays(m, 0, n - 1))
    dst = draw(int_arrays(m, 0, n - 1))
    off = st.one_of(index_arrays(n, lo=-1, extra=1, max_size=m + 1), hostile)  # also other lengths
    return dict(
        src=draw(maybe(st.just(src), bad=off)),
        dst=draw(maybe(st.just(dst), bad=off)),
        n_nodes=draw(maybe(st.just(n), bad=st.one_of(st.none(), st.integers(-1, n + 2),
                                                       st.integers(2**31 - 1, 2**65), hostile))),
        community=draw(labels(n)),
        directed=draw(maybe(st.booleans())),
        prob=draw(maybe(prob_arrays(m))),
        self_loops=draw(maybe(st.sampled_from(["drop", "raise"]))),
        duplicates=draw(maybe(st.sampled_from(["drop", "combine", "raise"]))),
        node_ids=draw(st.one_of(st.none(), st.none(), st.none(),
                                st.lists(st.one_of(st.integers(), st.text(max_size=2)), min_size=n, max_size=n),
                                hostile)),
    )


@settings(max_examples=examples(300))
@given(edge_args())
def test_from_edges(kwargs):
    src, dst = kwargs.pop("src"), kwargs.pop("dst")
    g = attempt(lambda: mv.CommunityGraph.from_edges(src, dst, **kwargs),
                ["src", "dst", "n_nodes", "community", "community_names", "directed", "prob", "self_loops",
                 "duplicates", "node_ids", "graph"])
    if g is None:
        return
    check_graph(g)
    # every kept arc is an input edge (or its reverse, for an undirected graph)
    s, d = np.asarray(src, dtype=np.int64).ravel(), np.asarray(dst, dtype=np.int64).ravel()
    given_pairs = set(zip(s.tolist(), d.tolist()))
    if not g.directed:
        given_pairs |= set(zip(d.tolist(), s.tolist()))
    arcs = set(zip(g.arc_sources.tolist(), g.indices.tolist()))
    assert arcs <= given_pairs
    assert len(arcs) == g.n_arcs  # no duplicates survive
    assert all(u != v for u, v in arcs)


node_keys = st.one_of(st.integers(-5, 20), st.text(max_size=3), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                      st.floats(allow_nan=False), st.booleans())


@st.composite
def nx_graphs(draw):
    kind = draw(st.sampled_from([nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph]))
    G = kind()
    nodes = draw(st.lists(node_keys, max_size=7, unique_by=lambda x: (type(x).__name__, x)))
    G.add_nodes_from(nodes)
    if nodes:
        for _ in range(draw(st.integers(0, 10))):
            u, v = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
            attrs = {}
            if draw(st.booleans()):
                attrs["p"] = draw(st.one_of(st.floats(0, 1), st.floats(), st.text(max_size=2), st.none()))
            G.add_edge(u, v, **attrs)
        for u in G.nodes:
            if draw(st.integers(0, 4)):
                G.nodes[u]["community"] = draw(st.one_of(st.sampled_from(["a", "b"]), st.integers(0, 2),
                                                         st.frozensets(st.sampled_from(list(G.nodes)), min_size=1,
                                                                       max_size=2), st.floats()))
    return G


@settings(max_examples=examples(200))
@given(nx_graphs(), st.one_of(st.just("community"), st.just("missing"), st.none(), hostile),
       st.one_of(st.none(), st.just("p"), st.floats(), hostile))
def test_from_networkx(G, community, prob):
    g = attempt(lambda: mv.CommunityGraph.from_networkx(G, community=community, prob=prob),
                ["G", "community", "prob", "node_ids", "graph"])
    if g is None:
        return
    check_graph(g)
    assert g.n_nodes == G.number_of_nodes()
    assert set(g.node_ids.tolist()) == set(G.nodes) or len(set(map(repr, G.nodes))) == g.n_nodes


@st.composite
def sparse_args(draw):
    rows = draw(st.integers(0, 5))
    cols = draw(st.sampled_from([rows, rows, rows, rows + 1]))
    dtype = draw(st.sampled_from(["f8", "f4", "i8", "?", "c16", "u1"]))
    dense = draw(hnp.arrays(dtype, (rows, cols), elements=None))
    fmt = draw(st.sampled_from(["csr_array", "csc_array", "coo_array", "csr_matrix", "lil_array", "dok_array"]))
    return dict(matrix=getattr(sp, fmt)(dense), community=draw(labels(rows)), directed=draw(maybe(st.booleans())),
                prob=draw(st.one_of(st.none(), st.just("weight"), st.floats(), hostile)))


@settings(max_examples=examples(200))
@given(sparse_args())
def test_from_scipy(kwargs):
    matrix = kwargs.pop("matrix")
    g = attempt(lambda: mv.CommunityGraph.from_scipy(matrix, **kwargs),
                ["matrix", "community", "community_names", "directed", "prob", "n_nodes", "graph"])
    if g is None:
        return
    check_graph(g)
    assert g.n_nodes == matrix.shape[0]


def test_from_scipy_and_networkx_refuse_non_graphs():
    for bad in (None, np.eye(3), [[0, 1], [1, 0]], "graph"):
        with pytest.raises(TypeError, match="'matrix'"):
            mv.CommunityGraph.from_scipy(bad)
        with pytest.raises(TypeError, match="'G'"):
            mv.CommunityGraph.from_networkx(bad)


# ----------------------------------------------------------------------------- graph methods and probability models


@settings(max_examples=examples(300))
@given(small_graphs(), st.sampled_from(["uniform", "weighted_cascade", "trivalency", "from_array", "per_community",
                                        "resonance", "with_prob", "with_community"]), st.data())
def test_probability_models(g, model, data):
    P = mv.probabilities
    m, n, c = g.n_arcs, g.n_nodes, g.n_communities
    target = maybe(st.one_of(st.sampled_from(["x", "y", "z", 0, 1, 2, 5]), index_arrays(n),
                             hnp.arrays("?", st.sampled_from([n, n, n + 1]))))
    if model == "uniform":
        p = data.draw(maybe(st.floats()))
        fn, names = (lambda: P.uniform(g, p)), ["p"]
    elif model == "weighted_cascade":
        fn, names = (lambda: P.weighted_cascade(g)), ["graph"]
    elif model == "trivalency":
        rng = data.draw(maybe(st.one_of(st.none(), st.integers(-3, 2**70))))
        values = data.draw(maybe(st.one_of(st.just((0.1, 0.01, 0.001)), prob_arrays(3))))
        fn, names = (lambda: P.trivalency(g, rng=rng, values=values)), ["rng", "values"]
    elif model == "from_array":
        values = data.draw(maybe(st.one_of(prob_arrays(m), prob_arrays(n))))
        per = data.draw(maybe(st.sampled_from(["arc", "head"])))
        fn, names = (lambda: P.from_array(g, values, per=per)), ["values", "per"]
    elif model == "per_community":
        p = data.draw(maybe(st.one_of(prob_arrays(c), st.dictionaries(st.sampled_from(["x", "y", "z", 0, 7]),
                                                                      st.floats(), max_size=3))))
        fn, names = (lambda: P.per_community(g, p)), ["p", "p['x']", "p['y']", "p['z']", "p[0]", "p[7]"]
    elif model == "resonance":
        t = data.draw(target)
        p_in, p_out = data.draw(maybe(st.floats())), data.draw(maybe(st.floats()))
        fn, names = (lambda: P.resonance(g, t, p_in, p_out)), ["target", "p_in", "p_out"]
    elif model == "with_prob":
        p = data.draw(maybe(st.one_of(prob_arrays(m), st.floats())))
        fn, names = (lambda: g.with_prob(p)), ["prob"]
    else:
        lab = data.draw(labels(n))
        fn, names = (lambda: g.with_community(lab)), ["community", "community_names"]
    before = g.fingerprint()
    h = attempt(fn, names)
    assert g.fingerprint() == before  # the input graph is never changed
    if h is not None:
        check_graph(h)
        assert np.array_equal(h.indptr, g.indptr) and np.array_equal(h.indices, g.indices)
    with pytest.raises(TypeError, match="'graph'"):
        P.weighted_cascade(data.draw(hostile))


@settings(max_examples=examples(200))
@given(small_graphs(), st.data())
def test_graph_lookups(g, data):
    n = g.n_nodes
    target = data.draw(maybe(st.one_of(st.sampled_from(["x", "y", "z", 0, 1, 2, 5, -1, 1.0, True]),
                                       index_arrays(n), hnp.arrays("?", st.sampled_from([n, n, n + 1]))
                                       .flatmap(layouts))))
    mask = attempt(lambda: g.target_mask(target), ["target"])
    if mask is not None:
        assert mask.dtype == bool and mask.shape == (n,) and mask.any() and not mask.flags.writeable
    ids = data.draw(maybe(index_arrays(n)))
    idx = attempt(lambda: g.index_of(ids), ["ids"])
    if idx is not None:
        assert np.all((np.asarray(idx) >= 0) & (np.asarray(idx) < n))
    label = attempt(lambda: g.community_label(data.draw(hostile)), ["community"])
    if label is not None:
        assert 0 <= label < g.n_communities


# ----------------------------------------------------------------------------- simulate


@st.composite
def simulate_args(draw, g):
    n = g.n_nodes
    names = st.sampled_from([name for name in ("x", "y", "z") if name in g.community_names])
    kwargs = dict(
        n_runs=draw(maybe(st.integers(1, 40), bad=bad_counts)),
        target=draw(maybe(st.one_of(st.none(), names, index_arrays(n, unique=True),
                                    hnp.arrays("?", n).filter(np.any).flatmap(layouts)),
                          bad=st.one_of(st.sampled_from(["w", -1, 9, 1.5]), index_arrays(n),
                                        hnp.arrays("?", st.sampled_from([n, n + 1])), hostile))),
        rng=draw(maybe(st.one_of(st.none(), st.integers(0, 2**80),
                                 st.builds(np.random.default_rng, st.integers(0, 99)),
                                 st.builds(np.random.SeedSequence, st.integers(0, 99))),
                       bad=st.one_of(st.integers(-5, -1), hostile, st.just(np.random.RandomState(0))))),
        max_rounds=draw(maybe(st.one_of(st.none(), st.integers(0, 4), st.integers(2**62, 2**80)),
                              bad=st.one_of(st.just(-1), hostile))),
        count_communities=draw(maybe(st.booleans())),
        n_threads=draw(maybe(st.sampled_from([None, 1, 2]), bad=st.one_of(st.sampled_from([0, 3, 10**6]), hostile))),
        chunk_size=draw(maybe(st.one_of(st.none(), st.integers(1, 7), st.integers(2**62, 2**80)),
                              bad=st.one_of(st.just(0), hostile))),
        backend=draw(maybe(st.just("local"), bad=st.one_of(st.just("spark"), hostile))),
    )
    if draw(st.integers(0, 4)) == 0:
        kwargs["keys"] = draw(maybe(
            int_arrays(st.integers(1, 20), 0, 2**64 - 1, dtypes=("u8", ">u8", "i8", "u4")),
            bad=st.one_of(hnp.arrays(st.sampled_from(["f8", "?", "i8"]), st.integers(0, 5)).flatmap(layouts), hostile)))
        if draw(st.booleans()):
            kwargs.pop("rng")
    if draw(st.integers(0, 9)) == 0:
        kwargs["client"] = draw(hostile)
    return kwargs


@settings(max_examples=examples(200))
@given(small_graphs(), st.data())
def test_simulate(g, data):
    n = g.n_nodes
    seeds = data.draw(maybe(index_arrays(n, lo=-1, extra=1, max_size=4, unique=True)))
    kwargs = data.draw(simulate_args(g))
    names = ["seeds", "n_runs", "target", "rng", "max_rounds", "keys", "count_communities", "n_threads", "chunk_size",
             "backend", "client"]
    res = attempt(lambda: mv.simulate(g, seeds, **kwargs), names, allow=(MemoryError,))
    if res is None:
        return
    seeds = np.atleast_1d(np.asarray(seeds)).astype(np.int64)
    mask = g.target_mask(kwargs.get("target"))
    n_runs = np.asarray(kwargs["keys"]).size if kwargs.get("keys") is not None else kwargs["n_runs"]
    mr = kwargs.get("max_rounds")
    check_result(res, g, seeds, mask, n_runs, max_rounds=mr)
    # the run replays exactly from its keys, with default settings
    again = mv.simulate(g, res.seeds, keys=res.keys, target=kwargs.get("target"), max_rounds=mr)
    assert np.array_equal(again.reach, res.reach) and np.array_equal(again.target_activated, res.target_activated)
    # results methods on hostile thresholds
    theta = data.draw(maybe(st.floats(0, 1)))
    for method in (res.summary, res.p_microviral, res.rounds_to):
        attempt(lambda: method(theta), ["theta", "confidence"])


def test_simulate_refuses_non_graphs():
    for bad in (None, nx.path_graph(3), np.eye(3), "g", sp.eye(3)):
        with pytest.raises(TypeError, match="'graph'"):
            mv.simulate(bad, [0])


# ----------------------------------------------------------------------------- file readers

_TOKENS = st.one_of(
    st.integers(-3, 30).map(str),
    st.integers(2**62, 2**70).map(str),
    st.sampled_from(["a", "node", "é", "x y", "nan", "inf", "-0", "1e3", "0.5", "1.5", "0x1f", "", "#c", '"q"']),
    st.floats(allow_nan=True).map(repr),
)
_SEPARATORS = st.sampled_from([" ", "\t", ",", " , ", "\t,", "  ", ";", ", "])
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def edge_files(draw):
    """Bytes of a near-valid (or not) edge list or community file."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=200))
    n_lines = draw(st.integers(0, 8))
    n_fields = draw(st.sampled_from([2, 2, 2, 3, 1, 4]))
    sep, end = draw(_SEPARATORS), draw(_ENDINGS)
    ids = st.integers(0, 6).map(str)
    lines = []
    if draw(st.booleans()):
        lines.append(sep.join(["source", "target", "p"][:n_fields]))
    for _ in range(n_lines):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "# comment", "   ", "\t"])))
            continue
        fields = [draw(ids) for _ in range(2)] + [draw(st.sampled_from(["0.5", "1", "0", "0.25"]))]
        fields = fields[:n_fields] + [draw(ids) for _ in range(max(0, n_fields - 3))]
        if kind == 1:  # one bad token
            fields[draw(st.integers(0, len(fields) - 1))] = draw(_TOKENS)
        if kind == 2:  # a separator of another kind on this line
            lines.append(draw(_SEPARATORS).join(fields))
            continue
        if kind == 3:
            fields.append("# trailing comment")
        lines.append(sep.join(fields))
    if draw(st.integers(0, 9)) == 0:
        lines.append("1" * 20_000 + " 2")  # a very long line
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1", "utf-8-sig"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 6)) == 0:
        import gzip

        data = gzip.compress(data)
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]  # truncated
    return data


def _write(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


@settings(max_examples=examples(200))
@given(edge_files(), st.one_of(st.none(), edge_files()), st.sampled_from(["e.txt", "e.csv", "e.gz"]), st.data())
def test_read_edgelist(edges, labels_file, name, data):
    kwargs = dict(
        directed=data.draw(maybe(st.booleans())),
        delimiter=data.draw(maybe(st.sampled_from([None, None, ",", "\t", "whitespace", " "]),
                                  bad=st.one_of(st.sampled_from(["ab", "a", "\n", ""]), hostile))),
        header=data.draw(maybe(st.sampled_from([None, True, False]))),
        comments=data.draw(maybe(st.sampled_from(["#", "%", None]), bad=st.one_of(st.just("##"), hostile))),
        prob=data.draw(maybe(st.sampled_from([None, "prob", 0.3]), bad=st.one_of(st.just(""), hostile))),
        self_loops=data.draw(maybe(st.just("drop"), bad=st.one_of(st.just("raise"), hostile))),
        duplicates=data.draw(maybe(st.sampled_from(["drop", "combine"]), bad=st.one_of(st.just("raise"), hostile))),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, name, edges)
        if labels_file is not None:
            kwargs["community"] = _write(folder, "labels.txt", labels_file)
        names = [path, "path", *kwargs, *([kwargs["community"]] if labels_file is not None else [])]
        g = attempt(lambda: mv.read_edgelist(path, **kwargs), names)
        if g is None:
            return
        check_graph(g)
        assert len(set(g.node_ids.tolist())) == g.n_nodes
        labels = attempt(lambda: mv.read_communities(path), [path, "path"])
        if labels is not None:
            assert isinstance(labels, dict) and labels


@settings(max_examples=examples(200))
@given(edge_files(), st.data())
def test_read_communities(content, data):
    kwargs = dict(
        delimiter=data.draw(maybe(st.sampled_from([None, ",", "\t", "whitespace"]))),
        header=data.draw(maybe(st.sampled_from([None, True, False]))),
        comments=data.draw(maybe(st.sampled_from(["#", None]))),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "labels.txt", content)
        labels = attempt(lambda: mv.read_communities(path, **kwargs), [path, "path", *kwargs])
    if labels is not None:
        assert isinstance(labels, dict) and len(labels) >= 1
        key_types = {type(k) for k in labels}
        assert key_types <= {int} or key_types <= {str}


@settings(max_examples=examples(100))
@given(hostile)
def test_readers_refuse_non_paths(path):
    assume(not isinstance(path, str) or not os.path.exists(path))
    for reader in (mv.read_edgelist, mv.read_communities):
        attempt(lambda: reader(path), ["path", repr(path), str(path)], allow=(OSError,))


# ----------------------------------------------------------------------------- seeding and compare


def _seeds_ok(seeds, g, k):
    seeds = np.asarray(seeds)
    assert seeds.shape == (k,) and seeds.dtype.kind == "i"
    assert np.unique(seeds).size == k and seeds.min() >= 0 and seeds.max() < g.n_nodes


@settings(max_examples=examples(100))
@given(small_graphs(), st.sampled_from(sorted(mv.seeding.STRATEGIES)), st.data())
def test_seeding_strategies(g, name, data):
    fn = mv.seeding.STRATEGIES[name]
    n = g.n_nodes
    k = data.draw(maybe(st.integers(1, n), bad=st.one_of(st.integers(-1, 0), st.integers(n + 1, 2**70),
                                                         st.just(np.int64(1)), hostile)))
    target = data.draw(maybe(st.one_of(st.none(), st.sampled_from([c for c in ("x", "y", "z")
                                                                    if c in g.community_names])),
                             bad=st.one_of(st.sampled_from(["w", 7]), index_arrays(n), hostile)))
    rng = data.draw(maybe(st.integers(0, 2**70), bad=st.one_of(st.integers(-3, -1), hostile)))
    options = {}
    if name in ("celf", "celf_target"):
        options["n_runs"] = data.draw(maybe(st.integers(1, 30), bad=bad_counts))
    if name in ("imm", "imm_target"):
        options["eps"] = data.draw(maybe(st.sampled_from([0.3, 0.5, 1.0]), bad=st.one_of(st.floats(), hostile)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        seeds = attempt(lambda: fn(g, k, target=target, rng=rng, **options),
                        ["k", "target", "rng", "graph", "n_runs", "eps", "ell", name], allow=(MemoryError,))
        if seeds is None:
            return
        _seeds_ok(seeds, g, int(k))
        again = fn(g, k, target=target, rng=rng, **options)
    assert np.array_equal(seeds, again)  # same rng, same seeds


def _bad_strategy(kind):
    def strategy(graph, k, *, target=None, rng=None):
        if kind == "short":
            return np.arange(max(k - 1, 0))
        if kind == "out_of_range":
            return np.arange(k) + graph.n_nodes
        if kind == "repeats":
            return np.zeros(k, dtype=int)
        if kind == "floats":
            return np.full(k, np.nan)
        return "seeds"

    return strategy


@settings(max_examples=examples(100))
@given(small_graphs(max_nodes=6), st.data())
def test_compare(g, data):
    n = g.n_nodes
    names = st.sampled_from(["random", "degree", "degree_discount", "pagerank", "kcore"])
    strategies = data.draw(maybe(
        st.one_of(names, st.lists(names, min_size=1, max_size=3, unique=True),
                  st.dictionaries(st.sampled_from(["a", "b"]), names, min_size=1)),
        bad=st.one_of(st.sampled_from(["nope", ["degree", "degree"], [], {}]),
                      st.sampled_from(["short", "out_of_range", "repeats", "floats", "str"]).map(_bad_strategy),
                      hostile)))
    k = data.draw(maybe(st.one_of(st.integers(1, n), st.lists(st.integers(1, n), min_size=1, max_size=2, unique=True)),
                        bad=st.one_of(st.sampled_from([0, [1, 1], [], n + 1]), hostile)))
    kwargs = dict(
        target=data.draw(maybe(st.one_of(st.none(), st.sampled_from([c for c in ("x", "y", "z")
                                                                     if c in g.community_names])),
                               bad=st.one_of(st.just("w"), hostile))),
        n_runs=data.draw(maybe(st.integers(1, 30), bad=bad_counts)),
        rng=data.draw(maybe(st.integers(0, 2**70))),
        theta=data.draw(maybe(st.floats(0, 1))),
    )
    if data.draw(st.integers(0, 5)) == 0:
        kwargs["baseline"] = data.draw(st.one_of(st.sampled_from(["random", "degree", "a", "zz"]), hostile))
    if data.draw(st.integers(0, 5)) == 0:
        kwargs["strategy_options"] = data.draw(st.one_of(st.just({"degree": {}}), st.just({"zz": {}}),
                                                         st.just({"degree": 1}), hostile))
    table = attempt(lambda: mv.compare(g, strategies, k, **kwargs),
                    ["graph", "strategies", "strategy", "k", "seeds", *kwargs,
                     "strategy_options['degree']", "strategy_options[{!r}]"], allow=(MemoryError,))
    if table is None:
        return
    budgets = [k] if np.ndim(k) == 0 else list(k)
    n_strategies = 1 if isinstance(strategies, str) else len(strategies)
    assert len(table) == n_strategies * len(budgets)
    assert table["penetration_mean"].between(0, 1).all()
    assert (table["reach_mean"] >= table["k"] - 1e-9).all() and (table["reach_mean"] <= n + 1e-9).all()
    assert table.attrs["graph_sha256"] == g.fingerprint()
