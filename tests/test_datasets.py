"""Bundled data sets: the counts of the shared README, provenance checksums, the GML reader against networkx."""

import gzip
import hashlib
import warnings

import networkx as nx
import numpy as np
import pytest

import microviral as mv
from microviral import datasets


# name: (loader, directed, nodes, arcs, {community: size})
EXPECTED = {
    "email_eu_core": (datasets.load_email_eu_core, True, 1005, 25_571 - 642, None),
    "polbooks": (datasets.load_polbooks, False, 105, 2 * 441, {"conservative": 49, "liberal": 43, "neutral": 13}),
    "football": (datasets.load_football, False, 115, 2 * 613,
                 dict(zip(datasets.FOOTBALL_CONFERENCES, [9, 8, 11, 12, 10, 5, 13, 8, 10, 12, 7, 10]))),
    "polblogs": (datasets.load_polblogs, True, 1490, 19_022, {"liberal": 758, "conservative": 732}),
    "karate": (datasets.load_karate, False, 34, 2 * 78, {"Mr. Hi": 17, "Officer": 17}),
    "github": (datasets.load_github, False, 37_700, 2 * 289_003, {"web": 27_961, "ml": 9_739}),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_loader_counts_match_the_readme(name):
    loader, directed, n_nodes, n_arcs, sizes = EXPECTED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # loaders are quiet: the documented drops are in graph.info
        g = loader()
    assert (g.directed, g.n_nodes, g.n_arcs) == (directed, n_nodes, n_arcs)
    assert np.all(g.prob == 0.1)
    if sizes is not None:
        assert dict(zip(g.community_names, g.community_sizes.tolist())) == sizes


def test_email_departments():
    g = datasets.load_email_eu_core()
    assert g.community_names == tuple(range(42))
    sizes = g.community_sizes
    assert (sizes.min(), sizes.max(), sizes.sum()) == (1, 109, 1005)
    assert g.info["self_loops_dropped"] == 642
    assert g.node_ids.tolist() == list(range(1005))
    # largest weakly / strongly connected components as published
    G = g.to_networkx()
    assert max(len(c) for c in nx.weakly_connected_components(G)) == 986
    assert max(len(c) for c in nx.strongly_connected_components(G)) == 803


def test_polblogs_policy_and_components():
    g = datasets.load_polblogs()
    assert g.info == {"self_loops_dropped": 3, "duplicates_dropped": 65}
    assert g.node_ids.tolist() == list(range(1, 1491))
    assert int(((g.out_degree + g.in_degree) == 0).sum()) == 266
    und = nx.Graph(g.to_networkx())
    assert und.number_of_edges() == 16_715
    giant = max(nx.connected_components(und), key=len)
    assert len(giant) == 1222 and und.subgraph(giant).number_of_edges() == 16_714
    giant_idx = g.index_of(sorted(giant))
    assert np.bincount(g.community[giant_idx]).tolist() == [586, 636]


def test_undirected_counts_of_directed_sets():
    und = nx.Graph(datasets.load_email_eu_core().to_networkx())
    assert und.number_of_edges() == 16_064


@pytest.mark.parametrize("name, label", [("polbooks", "value"), ("football", "value"), ("polblogs", "value")])
def test_gml_reader_agrees_with_networkx(name, label):
    text = gzip.decompress((datasets.DATA_DIR / f"{name}.gml.gz").read_bytes()).decode()
    if name == "polblogs":
        text = text.replace("directed 1", "directed 1\n  multigraph 1", 1)
    G = nx.parse_gml(text, label="id")
    attrs, nodes, edges = datasets._parse_gml(text, name)
    assert [n["id"] for n in nodes] == list(G.nodes)
    assert [n[label] for n in nodes] == [G.nodes[u][label] for u in G.nodes]
    assert [n["label"] for n in nodes] == [G.nodes[u]["label"] for u in G.nodes]
    ours = [(e["source"], e["target"]) for e in edges]
    theirs = [(u, v) for u, v, *_ in G.edges]
    if not G.is_directed():
        ours = [(min(e), max(e)) for e in ours]
        theirs = [(min(e), max(e)) for e in theirs]
    assert attrs["directed"] == int(G.is_directed())
    assert sorted(ours) == sorted(theirs)


def test_gml_reader_errors():
    with pytest.raises(ValueError, match="unbalanced"):
        datasets._parse_gml("graph [ node [ id 1 ]", "x")
    with pytest.raises(ValueError, match="unbalanced"):
        datasets._parse_gml("graph [ ] ]", "x")
    with pytest.raises(ValueError, match="one 'graph"):
        datasets._parse_gml("node [ id 1 ]", "x")
    with pytest.raises(ValueError, match="no value"):
        datasets._parse_gml("graph [ ] directed", "x")


@pytest.mark.parametrize("bundled, original", [
    ("email-Eu-core.txt.gz", "email-Eu-core.txt"),
    ("email-Eu-core-department-labels.txt.gz", "email-Eu-core-department-labels.txt"),
    ("polbooks.gml.gz", "polbooks.gml"),
    ("football.gml.gz", "football.gml"),
    ("polblogs.gml.gz", "polblogs.gml"),
    ("github_edges.csv.gz", "github_edges.csv.gz"),
    ("github_target.csv.gz", "github_target.csv"),
])
def test_bundled_files_are_the_published_bytes(bundled, original):
    data = (datasets.DATA_DIR / bundled).read_bytes()
    if bundled != original:
        data = gzip.decompress(data)
    assert hashlib.sha256(data).hexdigest() == datasets.SHA256[original]


def test_bundled_data_is_small():
    assert sum(p.stat().st_size for p in datasets.DATA_DIR.iterdir()) < 3 * 2**20


def test_shared_folder_matches_bundled_copies(shared_datasets):
    shared = shared_datasets
    g = datasets.load_github(shared)                       # the datasets folder: finds github-musae/
    assert datasets._github_folder(shared / "github-musae") == shared / "github-musae"
    b = datasets.load_github()
    assert g.fingerprint() == b.fingerprint()
    assert g.community_names == ("web", "ml")
    with pytest.warns(mv.DataWarning):
        e = mv.read_edgelist(shared / "email-eu-core" / "email-Eu-core.txt",
                             community=shared / "email-eu-core" / "email-Eu-core-department-labels.txt")
    assert e.fingerprint() == datasets.load_email_eu_core().fingerprint()


def test_prob_argument():
    for loader in (datasets.load_email_eu_core, datasets.load_polbooks, datasets.load_football,
                   datasets.load_polblogs, datasets.load_karate):
        g = loader(prob=0.03)
        assert np.all(g.prob == 0.03)
        with pytest.raises(ValueError, match="'prob'"):
            loader(prob=1.5)
        with pytest.raises(TypeError, match="'prob'"):
            loader(prob="high")
    with pytest.raises(ValueError, match="'prob'"):
        datasets.load_github(prob=-0.1)


def test_load_github_bad_path(tmp_path):
    with pytest.raises(ValueError, match="no github-musae files"):
        datasets.load_github(tmp_path)
    with pytest.raises(TypeError, match="'path' must be None or a folder path"):
        datasets.load_github(3)


def test_simulate_on_a_loaded_graph():
    g = datasets.load_football(prob=0.2)
    res = mv.simulate(g, g.index_of([0, 1]), n_runs=50, target="Big Ten", rng=0)
    assert res.reach.min() >= 2 and res.reach.max() <= 115
