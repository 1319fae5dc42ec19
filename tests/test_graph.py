import pickle
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import microviral as mv


def test_from_edges_builds_sorted_csr():
    g = mv.CommunityGraph.from_edges([2, 0, 0, 1], [0, 2, 1, 2], prob=[0.1, 0.2, 0.3, 0.4])
    assert g.indptr.tolist() == [0, 2, 3, 4]
    assert g.indices.tolist() == [1, 2, 2, 0]
    assert g.prob.tolist() == [0.3, 0.2, 0.4, 0.1]
    assert g.indices.dtype == np.int32 and g.indptr.dtype == np.int64
    assert g.directed and g.n_edges == 4


def test_undirected_edge_is_two_arcs_with_the_edge_probability():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], directed=False, prob=[0.3, 0.7])
    assert g.n_arcs == 4 and g.n_edges == 2
    arcs = {(int(u), int(v)): float(p) for u, v, p in zip(g.arc_sources, g.indices, g.prob)}
    assert arcs == {(0, 1): 0.3, (1, 0): 0.3, (1, 2): 0.7, (2, 1): 0.7}


def test_arrays_are_read_only():
    g = mv.CommunityGraph.from_edges([0], [1])
    for arr in (g.indptr, g.indices, g.prob, g.community):
        with pytest.raises(ValueError):
            arr[0] = 1


def test_self_loops_and_duplicates_are_reported_not_silent():
    with pytest.warns(mv.DataWarning, match="1 self-loop.*1 duplicate"):
        g = mv.CommunityGraph.from_edges([0, 1, 0, 2], [1, 1, 1, 0], prob=[0.2, 0.5, 0.9, 0.4])
    assert g.n_arcs == 2
    assert g.info == {"self_loops_dropped": 1, "duplicates_dropped": 1}
    assert g.prob[g.indices.tolist().index(1)] == 0.2  # first occurrence kept
    with pytest.raises(ValueError, match="Self-loop at edge 1"):
        mv.CommunityGraph.from_edges([0, 1], [1, 1], self_loops="raise")
    with pytest.raises(ValueError, match="Duplicate edge at position 1"):
        mv.CommunityGraph.from_edges([0, 0], [1, 1], duplicates="raise")


def test_combined_duplicates_are_parallel_chances():
    with pytest.warns(mv.DataWarning):
        g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 1, 0], prob=[0.5, 0.5, 0.2], directed=False,
                                         duplicates="combine")
    assert g.n_arcs == 2
    assert np.allclose(g.prob, 1 - 0.5 * 0.5 * 0.8)


def test_community_labels_and_names():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=["niche", "bg", "niche"])
    assert g.community_names == ("bg", "niche")
    assert g.community.tolist() == [1, 0, 1]
    assert g.community_sizes.tolist() == [1, 2]
    g2 = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=[1, 0, 1], community_names=["bg", "niche"])
    assert g2.target_mask("niche").tolist() == [True, False, True]
    assert g2.target_mask(0).tolist() == [False, True, False]


def test_node_ids_map_back_and_forth():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], node_ids=np.array([10, 30, 20]))
    assert g.index_of([20, 10]).tolist() == [2, 0]
    assert g.node_ids[g.index_of(30)] == 30
    with pytest.raises(ValueError, match="node id 99 is not in the graph"):
        g.index_of(99)


def test_networkx_round_trip_keeps_structure_probabilities_and_labels():
    G = nx.karate_club_graph()
    for u, v in G.edges:
        G.edges[u, v]["p"] = ((u * 7 + v) % 10) / 10
    g = mv.CommunityGraph.from_networkx(G, community="club", prob="p")
    assert (g.n_nodes, g.n_edges) == (34, 78)
    H = g.to_networkx()
    assert nx.utils.graphs_equal(nx.Graph(G.edges), nx.Graph(H.edges))
    for u, v in G.edges:
        assert H.edges[u, v]["prob"] == G.edges[u, v]["p"]
    assert all(H.nodes[u]["community"] == G.nodes[u]["club"] for u in G)


def test_asymmetric_undirected_probabilities_need_as_directed():
    g = mv.probabilities.weighted_cascade(mv.CommunityGraph.from_edges([0, 0], [1, 2], directed=False))
    with pytest.raises(ValueError, match="as_directed=True"):
        g.to_networkx()
    D = g.to_networkx(as_directed=True)
    assert D.edges[1, 0]["prob"] == 0.5 and D.edges[0, 1]["prob"] == 1.0


def test_from_networkx_set_valued_communities_like_lfr():
    G = nx.path_graph(4)
    for u in G:
        G.nodes[u]["community"] = {0, 1} if u < 2 else {2, 3}
    g = mv.CommunityGraph.from_networkx(G)
    assert g.n_communities == 2
    assert g.community.tolist() == [0, 0, 1, 1]


def test_from_scipy_matches_from_edges():
    A = sp.csr_array(([0.2, 0.5, 0.9], ([0, 1, 2], [1, 2, 0])), shape=(3, 3))
    g = mv.CommunityGraph.from_scipy(A, prob="weight")
    assert g.indices.tolist() == [1, 2, 0]
    assert g.prob.tolist() == [0.2, 0.5, 0.9]
    S = A + A.T
    gu = mv.CommunityGraph.from_scipy(S, directed=False, prob=0.3)
    assert gu.n_arcs == 6 and not gu.directed
    with pytest.raises(ValueError, match="symmetric"):
        mv.CommunityGraph.from_scipy(A, directed=False)
    with pytest.raises(TypeError, match="'matrix' must be a scipy sparse"):
        mv.CommunityGraph.from_scipy(np.eye(3))



@pytest.mark.parametrize("kind", ["array", "matrix"])
@pytest.mark.parametrize("fmt", ["csr", "csc", "bsr", "coo", "dia", "lil", "dok"])
def test_from_scipy_reads_every_format_alike(fmt, kind):
    """Each format's raw arrays are read by microviral itself (not by scipy's conversions): same graph from each."""
    rng = np.random.default_rng(3)
    dense = rng.choice([0.0, 0.0, 0.25, 0.5, 1.0], size=(6, 6))
    np.fill_diagonal(dense, 0.0)  # self-loops are dropped with a warning
    sym = np.triu(dense, 1) + np.triu(dense, 1).T
    make = getattr(sp, f"{fmt}_{kind}")
    for values in (dense, sym):
        A = make(values, blocksize=(2, 3)) if fmt == "bsr" else make(values)
        src, dst = np.nonzero(values)
        for kw in (dict(prob="weight"), dict(prob=0.3), dict(directed=False)):
            if kw.get("directed") is False and values is dense:
                with pytest.raises(ValueError, match="'matrix' must be symmetric"):
                    mv.CommunityGraph.from_scipy(A, **kw)
                continue
            g = mv.CommunityGraph.from_scipy(A, **kw)
            assert g.arc_sources.tolist() == src.tolist() and g.indices.tolist() == dst.tolist()
            assert g.prob.tolist() == (values[src, dst] if kw.get("prob") == "weight" else
                                       np.full(src.size, kw.get("prob", 0.1))).tolist()


def test_from_scipy_sums_repeated_entries_and_drops_zeros():
    A = sp.coo_array(([0.25, 0.5, 0.0, 0.3, -0.3], ([0, 0, 1, 2, 2], [1, 1, 2, 0, 0])), shape=(3, 3))
    g = mv.CommunityGraph.from_scipy(A, prob="weight")
    assert g.arc_sources.tolist() == [0] and g.indices.tolist() == [1] and g.prob.tolist() == [0.75]


def test_pickle_round_trip():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=["a", "b", "b"], prob=0.4)
    h = pickle.loads(pickle.dumps(g))
    assert h.fingerprint() == g.fingerprint()
    assert h.community_names == g.community_names


def test_fingerprint_changes_with_probabilities():
    g = mv.CommunityGraph.from_edges([0, 1], [1, 2])
    assert g.fingerprint() != mv.probabilities.uniform(g, 0.5).fingerprint()
    assert g.fingerprint() == mv.CommunityGraph.from_edges([0, 1], [1, 2]).fingerprint()


@pytest.mark.parametrize(
    "args,kwargs,exc,words",
    [
        (([0, 1, 2], [1]), {}, ValueError, "'indptr' must end at len(indices) = 1"),
        (([0, 2, 1], [1, 0]), {}, ValueError, "'indptr' must be non-decreasing"),
        (([1, 2], [0]), {}, ValueError, "'indptr' must start at 0"),
        (([0, 1], [5]), {}, ValueError, "'indices' must hold node indices in [0, 0]"),
        (([0, 1, 1], [1]), {"prob": [1.5]}, ValueError, "'prob' must hold probabilities in [0, 1]"),
        (([0, 1, 1], [1]), {"prob": [np.nan]}, ValueError, "'prob' must hold finite probabilities"),
        (([0, 1, 1], [1]), {"prob": [0.1, 0.2]}, ValueError, "'prob' must have length 1"),
        (([0, 1, 1], [1]), {"community": [0]}, ValueError, "'community' must have one label per node (2)"),
        (([0, 1, 1], [1]), {"community": [0, 2], "community_names": ["a", "b"]}, ValueError, "'community' labels"),
        (([0, 1, 1], [1]), {"directed": False}, ValueError, "not symmetric"),
        (([0, 1, 1], [1]), {"directed": "yes"}, TypeError, "'directed' must be a bool"),
        (([], []), {}, ValueError, "empty graph"),
        (([0.5, 1], [0]), {}, ValueError, "'indptr' must hold whole numbers"),
        (("abc", [0]), {}, TypeError, "'indptr'"),
    ],
)
def test_constructor_checks_every_invariant(args, kwargs, exc, words):
    with pytest.raises(exc) as info:
        mv.CommunityGraph(*args, **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "src,dst,kwargs,exc,words",
    [
        ([0, 1], [1], {}, ValueError, "same length"),
        ([0, -1], [1, 2], {}, ValueError, ">= 0"),
        ([0, 5], [1, 2], {"n_nodes": 3}, ValueError, "< n_nodes = 3"),
        ([], [], {}, ValueError, "empty graph"),
        ([0], [1], {"prob": 2.0}, ValueError, "'prob' must be a finite number in [0, 1]"),
        ([0], [1], {"prob": "x"}, TypeError, "'prob'"),
        ([0], [1], {"community": ["a"]}, ValueError, "one label per node (2)"),
        ([0], [1], {"self_loops": "keep"}, ValueError, "'self_loops'"),
        ([0], [1], {"n_nodes": 0}, ValueError, "'n_nodes' must be >= 1"),
    ],
)
def test_from_edges_bad_input(src, dst, kwargs, exc, words):
    with pytest.raises(exc) as info:
        mv.CommunityGraph.from_edges(src, dst, **kwargs)
    assert words in str(info.value)


def test_target_mask_forms_and_errors():
    g = mv.CommunityGraph.from_edges([0, 1, 2], [1, 2, 3], community=["x", "y", "y", "x"])
    assert g.target_mask("y").tolist() == [False, True, True, False]
    assert g.target_mask([0, 3]).tolist() == [True, False, False, True]
    with pytest.raises(ValueError, match=r"unknown community 'z'. Known communities: \['x', 'y'\]"):
        g.target_mask("z")
    with pytest.raises(ValueError, match="'target' must hold node indices"):
        g.target_mask([7])


@settings(deadline=None, max_examples=60)
@given(
    edges=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), min_size=1, max_size=60),
    directed=st.booleans(),
)
def test_networkx_round_trip_property(edges, directed):
    src, dst = zip(*edges)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src, dst, n_nodes=16, directed=directed, prob=0.25)
    h = mv.CommunityGraph.from_networkx(g.to_networkx(), community="community", prob="prob")
    assert h.fingerprint() == g.fingerprint()
    expected = {(u, v) for u, v in edges if u != v}
    if not directed:
        expected |= {(v, u) for u, v in expected}
    assert set(zip(g.arc_sources.tolist(), g.indices.tolist())) == expected


# ---------------------------------------------------------------------------- one name, one meaning
def test_csr_names_follow_scipy_and_degree_is_explicit():
    g = mv.CommunityGraph.from_edges([0, 0, 1], [1, 2, 2], prob=0.5)
    A = sp.csr_array((g.prob, g.indices, g.indptr), shape=(3, 3))   # scipy's own names take the arrays as they are
    assert A.toarray().tolist() == [[0, 0.5, 0.5], [0, 0, 0.5], [0, 0, 0]]
    assert g.out_degree.tolist() == [2, 1, 0] and g.in_degree.tolist() == [0, 1, 2]
    for gone in ("offsets", "targets", "degree"):
        assert not hasattr(g, gone)
    h = mv.CommunityGraph(indptr=[0, 1, 1], indices=[1])
    assert h.indices.tolist() == [1]


def test_community_sizes_is_a_property_like_community_names():
    g = mv.CommunityGraph.from_edges([0], [1], n_nodes=4, community=["a", "b", "b", "b"])
    assert g.community_sizes.tolist() == [1, 3]
    assert dict(zip(g.community_names, g.community_sizes.tolist())) == {"a": 1, "b": 3}


@pytest.mark.parametrize("directed", [True, False])
def test_reverse_is_a_graph_with_every_arc_turned(directed):
    g = mv.CommunityGraph.from_edges([0, 0, 1, 3], [1, 2, 2, 0], prob=[0.1, 0.2, 0.3, 0.4], directed=directed,
                                     community=list("aabb"), node_ids=list("wxyz"))
    r = g.reverse()
    assert isinstance(r, mv.CommunityGraph) and r.directed == g.directed
    fwd = {(int(u), int(v)): float(p) for u, v, p in zip(g.arc_sources, g.indices, g.prob)}
    rev = {(int(v), int(u)): float(p) for u, v, p in zip(r.arc_sources, r.indices, r.prob)}
    assert rev == fwd
    assert np.all(np.diff(r.arc_sources) >= 0)   # a valid CSR, rebuilt through the checked constructor too
    mv.CommunityGraph(r.indptr, r.indices, r.prob, r.community, community_names=r.community_names)
    assert r.node_ids.tolist() == list("wxyz") and r.community_names == g.community_names
    assert r.reverse().fingerprint() == g.fingerprint()
    if not directed:
        assert r.fingerprint() == g.fingerprint()


@pytest.mark.parametrize("n_nodes,n_arcs", [(1, 0), (5, 0), (7, 40), (300, 5000), (50_000, 20_000)])
def test_in_arcs_group_the_arcs_by_head_stably(n_nodes, n_arcs):
    """The counting sort gives numpy's stable argsort (isolated nodes, empty graphs, many repeats)."""
    from microviral._kernels.csr import group_by_head

    gen = np.random.default_rng(n_nodes + n_arcs)
    heads = gen.integers(0, max(1, n_nodes // 3), n_arcs).astype(np.int32)
    offsets, order = group_by_head(heads, n_nodes)
    assert np.array_equal(order, np.argsort(heads, kind="stable"))
    assert np.array_equal(offsets, np.concatenate([[0], np.cumsum(np.bincount(heads, minlength=n_nodes))]))
    src = gen.integers(0, n_nodes, n_arcs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mv.DataWarning)
        g = mv.CommunityGraph.from_edges(src, heads, n_nodes=n_nodes)
    roff, tails, arc = g._in_arcs()
    assert np.array_equal(g.indices[arc], np.repeat(np.arange(n_nodes), np.diff(roff)))
    assert np.array_equal(tails, g.arc_sources[arc]) and np.all(np.diff(arc)[np.diff(g.indices[arc]) == 0] > 0)


def test_prob_reads_the_input_when_it_is_a_name_everywhere(tmp_path):
    G = nx.DiGraph()
    G.add_edge(0, 1, weight=0.25)
    G.add_edge(1, 2, weight=0.75)
    assert mv.CommunityGraph.from_networkx(G, prob="weight").prob.tolist() == [0.25, 0.75]
    assert mv.CommunityGraph.from_networkx(G, prob=[0.5, 0.125]).prob.tolist() == [0.5, 0.125]
    assert mv.CommunityGraph.from_networkx(G).prob.tolist() == [0.1, 0.1]
    with pytest.raises(ValueError, match="edge attribute 'prob' is missing"):
        mv.CommunityGraph.from_networkx(G, prob="prob")
    with pytest.raises(TypeError):
        mv.CommunityGraph.from_networkx(G, default_prob=0.2)   # one spelling: prob=0.2
    A = nx.to_scipy_sparse_array(G, weight="weight")
    assert mv.CommunityGraph.from_scipy(A, prob="weight").prob.tolist() == [0.25, 0.75]
    with pytest.raises(TypeError, match="'prob' must be None, a float in \\[0, 1\\] or a str"):
        mv.CommunityGraph.from_scipy(A, prob=True)
    g = mv.CommunityGraph.from_networkx(G, prob="weight")
    mv.write_edgelist(g, tmp_path / "e.txt", prob="weight")
    assert "third column: weight" in (tmp_path / "e.txt").read_text().splitlines()[0]
    assert mv.read_edgelist(tmp_path / "e.txt", prob="weight").prob.tolist() == [0.25, 0.75]
    with pytest.raises(TypeError, match="'prob' must be None or a column name"):
        mv.write_edgelist(g, tmp_path / "f.txt", prob=True)
