"""Real networks with ground-truth communities, bundled with microviral (no download needed).

Every loader returns a :class:`~microviral.CommunityGraph` whose arcs all carry
probability ``prob`` (default 0.1; apply :mod:`microviral.probabilities` for
other models) and whose ``node_ids`` are the ids of the original file. The data
files are gzip copies of the files in the project's shared dataset folder; their
provenance, checksums and licence notes are in ``docs/datasets.md``. None of
these data sets was made by this project: cite the publications given in each
loader.

| loader | directed | nodes | arcs | communities |
| --- | --- | ---: | ---: | --- |
| `load_email_eu_core` | yes | 1005 | 24,929 | 42 departments |
| `load_polbooks` | no | 105 | 882 (441 edges) | 3 political leanings |
| `load_football` | no | 115 | 1226 (613 edges) | 12 conferences |
| `load_polblogs` | yes | 1490 | 19,022 | 2 political leanings |
| `load_karate` | no | 34 | 156 (78 edges) | 2 clubs |
| `load_github` | no | 37,700 | 578,006 (289,003 edges) | web / machine-learning developers |

Examples
--------
>>> import microviral as mv
>>> g = mv.datasets.load_polbooks()
>>> g.n_nodes, g.n_edges, dict(zip(g.community_names, g.community_sizes.tolist()))
(105, 441, {'conservative': 49, 'liberal': 43, 'neutral': 13})
"""

import gzip
import html
import os
import re
import warnings
from pathlib import Path

import numpy as np

from .._validation import _describe, check_probability
from ..graph import CommunityGraph, DataWarning
from ..io import read_edgelist

__all__ = [
    "load_email_eu_core",
    "load_polbooks",
    "load_football",
    "load_polblogs",
    "load_karate",
    "load_github",
    "DATA_DIR",
    "SHA256",
    "FOOTBALL_CONFERENCES",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Folder holding the bundled data files."""

SHA256 = {
    "email-Eu-core.txt": "23e0ca0bce21a053025e78f7e9691ac9210ae806a0689bd5edff3c3bac572d4c",
    "email-Eu-core-department-labels.txt": "91a089f21ee35eb224066456fa5322c8ad57c0f07b2da7a58a3220c72b5d54b5",
    "polbooks.gml": "29e2439036fa4e13b478a9d4ceda78b5ab4d4d8252882a7f2b6036b028e34848",
    "football.gml": "48bc58e19bf674cc9064e60fe7128f0b95a908e684fed575178f1388ac34e949",
    "polblogs.gml": "bd83e3dd2397a57d2252cc212524c21fee6708663136898d4ace523224bdc632",
    "github_edges.csv.gz": "a2f1e4c02eec4ebca4abce163d309d29e9aa040944008a23a753a22409be98e0",
    "github_target.csv": "2e733f092fd69ef436c68883907d2c184ded3cb95a89b33e435cbd2f2678355b",
}
"""SHA-256 of each original file (before the bundled gzip), as published in the shared dataset README."""

FOOTBALL_CONFERENCES = (
    "Atlantic Coast", "Big East", "Big Ten", "Big Twelve", "Conference USA", "Independents", "Mid-American",
    "Mountain West", "Pacific Ten", "Southeastern", "Sun Belt", "Western Athletic",
)
"""Conference names of :func:`load_football`, indexed by the file's ``value`` code."""


def _prob(prob):
    return check_probability(prob, "prob")


def _quiet(fn, *args, **kwargs):
    """Run a builder with the documented DataWarnings silenced (counts stay in ``graph.info``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------- a tiny GML reader
_GML_TOKEN = re.compile(r'"[^"]*"|\[|\]|[^\s\[\]"]+')


def _parse_gml(text, source):
    """Parse GML into nested lists of (key, value) pairs; enough for Newman's and Adamic's files."""
    tokens = _GML_TOKEN.findall(text)
    stack = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "]":
            if len(stack) == 1:
                raise ValueError(f"{source}: unbalanced ']' in GML.")
            done = stack.pop()
            stack[-1][-1] = (stack[-1][-1][0], done)
            i += 1
            continue
        if i + 1 >= len(tokens):
            raise ValueError(f"{source}: GML key {tok!r} has no value.")
        value = tokens[i + 1]
        if value == "[":
            stack[-1].append((tok, None))
            stack.append([])
        else:
            if value.startswith('"'):
                value = html.unescape(value[1:-1])   # GML strings escape characters as HTML entities
            else:
                try:
                    value = int(value)
                except ValueError:
                    value = float(value)
            stack[-1].append((tok, value))
        i += 2
    if len(stack) != 1:
        raise ValueError(f"{source}: unbalanced '[' in GML.")
    graphs = [v for k, v in stack[0] if k == "graph"]
    if len(graphs) != 1:
        raise ValueError(f"{source}: expected one 'graph [ ... ]' block in GML.")
    graph = graphs[0]
    nodes = [dict(v) for k, v in graph if k == "node"]
    edges = [dict(v) for k, v in graph if k == "edge"]
    attrs = {k: v for k, v in graph if k not in ("node", "edge")}
    return attrs, nodes, edges


def _load_gml(filename, *, community, prob, names=None, community_names=None, duplicates="drop"):
    path = DATA_DIR / filename
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        attrs, nodes, edges = _parse_gml(fh.read(), path)
    ids = np.array([n["id"] for n in nodes], dtype=np.int64)
    order = np.argsort(ids)
    ids = ids[order]
    values = [nodes[i][community] for i in order.tolist()]
    if names is not None:
        values = [names[v] for v in values]
    src = np.searchsorted(ids, np.array([e["source"] for e in edges], dtype=np.int64))
    dst = np.searchsorted(ids, np.array([e["target"] for e in edges], dtype=np.int64))
    return _quiet(CommunityGraph.from_edges, src, dst, n_nodes=ids.size, community=values,
                  community_names=community_names, directed=bool(attrs.get("directed", 0)), prob=prob,
                  node_ids=ids, duplicates=duplicates)


# ---------------------------------------------------------------------------- loaders
def load_email_eu_core(*, prob=0.1):
    """E-mail network of a European research institution, labelled by department (SNAP email-Eu-core).

    Directed: arc ``u -> v`` means ``u`` sent at least one e-mail to ``v``. 1005
    nodes (ids 0-1004), 25,571 directed edges in the file of which 642 are
    self-loops; the self-loops are dropped (``graph.info["self_loops_dropped"]
    == 642``), leaving **24,929 arcs**. 42 departments (community names are the
    department ids 0-41, sizes 1-109); every node is labelled.

    Source: SNAP, https://snap.stanford.edu/data/email-Eu-core.html. Cite:
    H. Yin, A. R. Benson, J. Leskovec, D. F. Gleich, "Local Higher-order Graph
    Clustering", KDD 2017; J. Leskovec, J. Kleinberg, C. Faloutsos, "Graph
    Evolution: Densification and Shrinking Diameters", ACM TKDD 1(1), 2007.
    No licence is stated by SNAP.

    Parameters
    ----------
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    ValueError
        ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_email_eu_core()
    >>> g.n_nodes, g.n_arcs, g.n_communities, g.info["self_loops_dropped"]
    (1005, 24929, 42, 642)
    """
    prob = _prob(prob)
    return _quiet(read_edgelist, DATA_DIR / "email-Eu-core.txt.gz", directed=True, prob=prob,
                  community=DATA_DIR / "email-Eu-core-department-labels.txt.gz")


def load_polbooks(*, prob=0.1):
    """Books about US politics (Krebs), labelled by political leaning (Newman).

    Undirected: books sold on Amazon.com around the 2004 US election, joined
    when frequently bought together. 105 nodes (ids 0-104), **441 edges** (882
    arcs), no self-loops; communities ``"conservative"`` 49, ``"liberal"`` 43,
    ``"neutral"`` 13 (the file's ``c``, ``l``, ``n``).

    Source: M. Newman's network data collection,
    http://www-personal.umich.edu/~mejn/netdata/; cite "V. Krebs, unpublished,
    http://www.orgnet.com/". No licence stated.

    Parameters
    ----------
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    ValueError
        ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_polbooks(prob=0.05)
    >>> g.n_nodes, g.n_arcs, g.community_names
    (105, 882, ('conservative', 'liberal', 'neutral'))
    """
    prob = _prob(prob)
    return _load_gml("polbooks.gml.gz", community="value", prob=prob,
                     names={"c": "conservative", "l": "liberal", "n": "neutral"})


def load_football(*, prob=0.1):
    """American college football, Fall 2000, labelled by conference (Girvan and Newman).

    Undirected: Division I-A teams, joined when they played each other in the
    regular season. 115 nodes (ids 0-114), **613 edges** (1226 arcs; the
    corrected 2014 file); 12 conferences named as in
    :data:`FOOTBALL_CONFERENCES` (label ``i`` = the file's ``value`` ``i``), sizes
    9, 8, 11, 12, 10, 5, 13, 8, 10, 12, 7, 10. Caveat (T. S. Evans, 2010): a few
    teams' conferences follow the 2001 season.

    Source: M. Girvan and M. E. J. Newman, "Community structure in social and
    biological networks", PNAS 99, 7821-7826 (2002); Newman's network data
    collection. No licence stated.

    Parameters
    ----------
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    ValueError
        ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_football()
    >>> g.n_nodes, g.n_edges, g.n_communities, g.community_names[2]
    (115, 613, 12, 'Big Ten')
    """
    prob = _prob(prob)
    return _load_gml("football.gml.gz", community="value", prob=prob, community_names=FOOTBALL_CONFERENCES)


def load_polblogs(*, prob=0.1):
    """US political blogs of 2004 and their hyperlinks, labelled by leaning (Adamic and Glance).

    Directed: arc ``u -> v`` means blog ``u`` links to blog ``v``. 1490 nodes
    (ids **1-1490**; use ``graph.index_of``), 266 of them without links. The
    file holds 19,090 edge records: 19,025 distinct directed edges, 3 of them
    self-loops. Policy: repeated records are the same hyperlink, so they are
    dropped (not combined into a higher probability) and self-loops are dropped,
    leaving **19,022 arcs** (``graph.info``: 65 duplicates, 3 self-loops).
    Communities ``"liberal"`` 758 (value 0) and ``"conservative"`` 732 (value 1).

    Source: L. A. Adamic and N. Glance, "The political blogosphere and the 2004
    US Election: Divided They Blog", Proc. 3rd Intl. Workshop on Link Discovery
    (LinkKDD), 2005; distributed in Newman's network data collection. No
    licence stated.

    Parameters
    ----------
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    ValueError
        ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_polblogs()
    >>> g.n_nodes, g.n_arcs, g.community_sizes.tolist()
    (1490, 19022, [758, 732])
    >>> g.info["duplicates_dropped"], g.info["self_loops_dropped"]
    (65, 3)
    """
    prob = _prob(prob)
    return _load_gml("polblogs.gml.gz", community="value", prob=prob, community_names=("liberal", "conservative"))


def load_karate(*, prob=0.1):
    """Zachary's karate club, labelled by the club each member joined after the split.

    Undirected: 34 members, **78 edges** (156 arcs); communities ``"Mr. Hi"`` 17
    and ``"Officer"`` 17 (networkx's ``club`` attribute). Loaded from
    :func:`networkx.karate_club_graph`, so no file is needed.

    Source: W. W. Zachary, "An information flow model for conflict and fission
    in small groups", Journal of Anthropological Research 33(4), 452-473 (1977).

    Parameters
    ----------
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    ValueError
        ``prob`` outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_karate()
    >>> g.n_nodes, g.n_edges, g.community_names
    (34, 78, ('Mr. Hi', 'Officer'))
    """
    import networkx as nx

    prob = _prob(prob)
    return CommunityGraph.from_networkx(nx.karate_club_graph(), community="club", prob=prob)


_GITHUB_FILES = ("github_edges.csv.gz", "github_target.csv")


def _github_folder(path):
    """The folder holding the two github-musae files: ``path`` itself or its ``github-musae`` child."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"'path' must be None or a folder path (str or os.PathLike). Got {_describe(path)} instead.")
    base = Path(path)
    for folder in (base, base / "github-musae"):
        if all((folder / f).is_file() for f in _GITHUB_FILES):
            return folder
    raise ValueError(
        f"'path': no github-musae files ({', '.join(_GITHUB_FILES)}) in {base} or {base / 'github-musae'}. "
        "Pass the folder holding them, or path=None for the bundled copy."
    )


def load_github(path=None, *, prob=0.1):
    """GitHub developers (MUSAE): mutual followers, machine-learning versus web developers.

    Undirected: 37,700 nodes (ids 0-37699), **289,003 edges** (578,006 arcs),
    connected; communities ``"web"`` 27,961 (target 0) and ``"ml"`` 9,739
    (target 1, machine-learning developers: the niche inside the web-developer
    population).

    The files are bundled (1.2 MB). ``path`` reads another copy instead: a
    folder holding ``github_edges.csv.gz`` (header ``id_1,id_2``) and
    ``github_target.csv`` (header ``id,target``), or a datasets folder with a
    ``github-musae`` sub-folder.

    Source: SNAP, https://snap.stanford.edu/data/github-social.html. Cite:
    B. Rozemberczki, C. Allen, R. Sarkar, "Multi-scale Attributed Node
    Embedding", Journal of Complex Networks 9(2), 2021 (arXiv:1909.13021).
    The author's MUSAE repository that first released the data is MIT-licensed;
    the copy used here comes from the karateclub repository (GPL-3.0).

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder to read instead of the bundled copy.
    prob : float, default 0.1
        Activation probability of every arc.

    Returns
    -------
    CommunityGraph

    Raises
    ------
    TypeError
        ``path`` is not a path.
    ValueError
        ``path`` does not hold the two files, or ``prob`` is outside [0, 1].

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.datasets.load_github()
    >>> g.n_nodes, g.n_arcs, dict(zip(g.community_names, g.community_sizes.tolist()))
    (37700, 578006, {'web': 27961, 'ml': 9739})
    """
    prob = _prob(prob)
    if path is None:
        edges, target = DATA_DIR / "github_edges.csv.gz", DATA_DIR / "github_target.csv.gz"
    else:
        folder = _github_folder(path)
        edges, target = folder / _GITHUB_FILES[0], folder / _GITHUB_FILES[1]
    g = _quiet(read_edgelist, edges, directed=False, community=target, prob=prob)
    if g.community_names != (0, 1):
        raise ValueError(f"{target}: expected targets 0 and 1. Got {g.community_names}.")
    return g.with_community(g.community, community_names=("web", "ml"))
