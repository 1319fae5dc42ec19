"""CommunityGraph: CSR arcs, one activation probability per arc, one community label per node."""

import hashlib
import numbers
import warnings

import numpy as np

from ._validation import (
    _describe,
    as_1d_array,
    as_array,
    check_bool,
    check_int,
    check_node_array,
    check_probability,
    check_probability_array,
    scalar_kind,
)

__all__ = ["CommunityGraph", "DataWarning"]


class DataWarning(UserWarning):
    """Input data was changed by a documented policy (self-loops or duplicates dropped)."""


def _readonly(arr):
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _node_id_array(node_ids, n_nodes):
    """``node_ids`` as a new array of shape (n_nodes,) (a copy: never the caller's memory)."""
    arr = np.array(as_array(node_ids, "node_ids", "ids"))
    if arr.shape != (n_nodes,):
        raise ValueError(f"'node_ids' must have one id per node ({n_nodes}). Got shape {arr.shape}.")
    return arr


def _distinct_ids(node_ids, n_nodes):
    """Check ``node_ids`` (already shape (n_nodes,)) are distinct, also for ids of mixed types."""
    try:
        n_unique = np.unique(node_ids).size
    except TypeError:  # mixed, mutually incomparable ids such as 1 and "a": compare by hash
        try:
            n_unique = len(set(node_ids.tolist()))
        except TypeError:
            raise TypeError("'node_ids' must hold hashable ids (numbers, strings, tuples).") from None
    if n_unique != n_nodes:
        raise ValueError("'node_ids' must be distinct.")


def _policy(value, name, allowed):
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"'{name}' must be {shown}. Got {_describe(value)}.")
    return value


def _name_tuple(community_names):
    """``community_names`` as a tuple of distinct, hashable names."""
    if isinstance(community_names, (str, bytes)):
        raise TypeError(f"'community_names' must be a sequence of names. Got {_describe(community_names)}.")
    try:
        names = tuple(community_names)
        n_distinct = len(set(names))
    except TypeError:  # not iterable, or unhashable names
        raise TypeError(f"'community_names' must be a sequence of hashable names. "
                        f"Got {_describe(community_names)}.") from None
    if n_distinct != len(names):
        raise ValueError(f"'community_names' must be distinct. Got {names}.")
    return names


def _labels(community, n_nodes, community_names, node_ids):
    """Turn user labels into (int32 label per node, tuple of names)."""
    if community is None:
        if community_names is None:
            return np.zeros(n_nodes, dtype=np.int32), ("all",)
        names = _name_tuple(community_names)
        if len(names) == 0:
            raise ValueError(f"'community_names' must hold at least one name, all distinct. Got {names!r}.")
        return np.zeros(n_nodes, dtype=np.int32), names
    if isinstance(community, dict):
        if node_ids is None:
            keys = range(n_nodes)
        else:
            keys = node_ids.tolist()
        missing = [k for k in keys if k not in community]
        if missing:
            raise ValueError(
                f"'community' must give a label for every node. Missing {len(missing)} node(s), e.g. {missing[:5]}."
            )
        community = [community[k] for k in keys]
    if isinstance(community, (str, bytes)):
        raise TypeError(f"'community' must be an array of per-node labels or a dict. Got {_describe(community)}.")
    raw = as_array(community, "community", "per-node labels")
    if raw.ndim != 1:
        raise ValueError(f"'community' must be 1-d with one label per node. Got shape {raw.shape}.")
    if raw.size != n_nodes:
        raise ValueError(f"'community' must have one label per node ({n_nodes}). Got {raw.size} labels.")
    if community_names is not None:
        names = _name_tuple(community_names)
        if raw.dtype.kind == "b" or raw.dtype.kind not in "iu":
            raise TypeError(
                f"'community' must hold integer labels in [0, {len(names) - 1}] when 'community_names' is given. "
                f"Got {_describe(raw)}."
            )
        if raw.size and (raw.min() < 0 or raw.max() >= len(names)):
            raise ValueError(
                f"'community' labels must lie in [0, {len(names) - 1}] (one per name). "
                f"Got labels from {raw.min()} to {raw.max()}."
            )
        return raw.astype(np.int32), names
    if raw.dtype.kind == "f" and raw.size and not np.all(np.isfinite(raw)):
        raise ValueError("'community' labels must be finite. Got NaN or inf.")
    if raw.dtype.kind == "O":
        try:
            uniq, inverse = np.unique(raw, return_inverse=True)
        except TypeError:
            raise TypeError("'community' labels must be mutually comparable (all numbers or all strings).") from None
    else:
        uniq, inverse = np.unique(raw, return_inverse=True)
    names = tuple(u.item() if hasattr(u, "item") else u for u in uniq)
    if not names:
        names = ("all",)
    return inverse.astype(np.int32).reshape(-1), names


class CommunityGraph:
    """A directed or undirected graph whose nodes carry community labels.

    Arcs are stored in compressed sparse row (CSR) form: the out-arcs of node
    ``u`` are ``indices[indptr[u]:indptr[u + 1]]`` with activation
    probabilities ``prob[indptr[u]:indptr[u + 1]]``. An undirected edge is two
    arcs, each with its own coin in the independent-cascade model. The graph is
    immutable: every array is read-only, and the probability models return new
    graphs.

    Most users build one with :meth:`from_edges`, :meth:`from_networkx`,
    :meth:`from_scipy`, :func:`microviral.read_edgelist`, a generator in
    :mod:`microviral.generators` or a loader in :mod:`microviral.datasets`.

    Parameters
    ----------
    indptr : array-like of int, shape (n_nodes + 1,)
        CSR row pointer: starts at 0, non-decreasing, ends at ``n_arcs``.
    indices : array-like of int, shape (n_arcs,)
        Head of each arc, in ``[0, n_nodes)``.
    prob : array-like of float, shape (n_arcs,), optional
        Activation probability of each arc, finite and in [0, 1]. Default 0.1.
    community : array-like, shape (n_nodes,), optional
        A label per node (any sortable values). Default: one community ``"all"``.
    community_names : sequence, optional
        Names of the communities when ``community`` holds integer labels ``0..C-1``.
    node_ids : array-like, shape (n_nodes,), optional
        The original id of each node (default: its index).
    directed : bool, default True
        Whether arcs are one-way. For an undirected graph the arc set must be
        symmetric (each edge stored in both directions).

    Raises
    ------
    TypeError
        An argument has the wrong type.
    ValueError
        A CSR invariant is broken (indptr not monotone, indices out of range),
        a probability is outside [0, 1] or not finite, or labels have the wrong length.

    Examples
    --------
    >>> import microviral as mv
    >>> g = mv.CommunityGraph([0, 2, 3, 3], [1, 2, 2], prob=[0.5, 0.5, 1.0], community=["a", "a", "b"])
    >>> g.n_nodes, g.n_arcs, g.community_names
    (3, 3, ('a', 'b'))
    >>> g.community.tolist()
    [0, 0, 1]
    """

    __slots__ = (
        "_indptr",
        "_indices",
        "_prob",
        "_community",
        "_names",
        "_node_ids",
        "_directed",
        "_info",
        "_cache",
    )

    def __init__(self, indptr, indices, prob=None, community=None, *, community_names=None, node_ids=None,
                 directed=True):
        directed = check_bool(directed, "directed")
        indptr = as_1d_array(indptr, "indptr", kind="i")
        if indptr.size == 0:
            raise ValueError("'indptr' must have n_nodes + 1 >= 2 entries. Got an empty array (empty graph).")
        n_nodes = indptr.size - 1
        if n_nodes < 1:
            raise ValueError("The graph must have at least one node. Got 'indptr' of length 1 (empty graph).")
        if n_nodes >= 2**31 - 1:
            raise ValueError(f"The graph may have at most {2**31 - 2} nodes. Got {n_nodes}.")
        indices = as_1d_array(indices, "indices", kind="i")
        if indptr[0] != 0:
            raise ValueError(f"'indptr' must start at 0. Got {indptr[0]}.")
        steps = np.diff(indptr)
        if steps.size and steps.min() < 0:
            i = int(np.flatnonzero(steps < 0)[0])
            raise ValueError(f"'indptr' must be non-decreasing. Got {indptr[i]} then {indptr[i + 1]} at position {i}.")
        if indptr[-1] != indices.size:
            raise ValueError(f"'indptr' must end at len(indices) = {indices.size}. Got {indptr[-1]}.")
        if indices.size:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= n_nodes:
                raise ValueError(f"'indices' must hold node indices in [0, {n_nodes - 1}]. Got {lo if lo < 0 else hi}.")
        prob = _prob_values(prob, indices.size)
        if node_ids is not None:
            node_ids = _node_id_array(node_ids, n_nodes)
            _distinct_ids(node_ids, n_nodes)
        labels, names = _labels(community, n_nodes, community_names, node_ids)
        # copies: a caller who later writes to an array passed in must not change (or corrupt) the graph
        self._set(np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int32), np.array(prob), labels,
                  names, node_ids, directed)
        if not directed:
            self._check_symmetric()

    def _set(self, indptr, indices, prob, labels, names, node_ids, directed, info=None):
        self._indptr = _readonly(indptr.astype(np.int64, copy=False))
        self._indices = _readonly(indices.astype(np.int32, copy=False))
        self._prob = _readonly(prob.astype(np.float64, copy=False))
        self._community = _readonly(labels.astype(np.int32, copy=False))
        self._names = tuple(names)
        self._node_ids = None if node_ids is None else _readonly(node_ids)
        self._directed = bool(directed)
        self._info = dict(info or {})
        self._cache = {}

    @classmethod
    def _trusted(cls, indptr, indices, prob, labels, names, node_ids, directed, info=None):
        """Build without checks, for arrays made by this package's own code."""
        g = cls.__new__(cls)
        g._set(indptr, indices, prob, labels, names, node_ids, directed, info)
        return g

    def _check_symmetric(self):
        src = self.arc_sources.astype(np.int64)
        dst = self._indices.astype(np.int64)
        n = self.n_nodes
        fwd = np.sort(src * n + dst)
        bwd = np.sort(dst * n + src)
        if not np.array_equal(fwd, bwd):
            raise ValueError(
                "An undirected graph must store every edge as two arcs (u, v) and (v, u). "
                "Got an arc set that is not symmetric; build it with CommunityGraph.from_edges(..., directed=False)."
            )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_edges(cls, src, dst, *, n_nodes=None, community=None, directed=True, prob=None, community_names=None,
                   node_ids=None, self_loops="drop", duplicates="drop"):
        """Build a graph from two arrays of node indices.

        Parameters
        ----------
        src, dst : array-like of int
            Tail and head of each edge, node indices in ``[0, n_nodes)``.
        n_nodes : int, optional
            Number of nodes (default ``max(src, dst) + 1``); isolated nodes allowed.
        community : array-like or dict, optional
            A label per node, or a dict from node (index, or original id when
            ``node_ids`` is given) to label.
        directed : bool, default True
            If False, each edge becomes two arcs with independent coins.
        prob : float or array-like of float, optional
            Probability per edge (applied to both arcs of an undirected edge). Default 0.1.
        community_names : sequence, optional
            Names for integer labels ``0..C-1``.
        node_ids : array-like, optional
            Original id of each node.
        self_loops : {"drop", "raise"}, default "drop"
            Self-loops can never activate anyone; "drop" removes them and reports
            the count with a :class:`DataWarning` and in ``graph.info``.
        duplicates : {"drop", "combine", "raise"}, default "drop"
            Repeated edges (for undirected graphs, also ``(v, u)`` after ``(u, v)``).
            "drop" keeps the first occurrence; "combine" merges them into one arc
            with probability ``1 - prod(1 - p)`` (parallel chances); both report the
            count with a :class:`DataWarning`.

        Returns
        -------
        CommunityGraph

        Raises
        ------
        TypeError, ValueError
            Indices out of range or not integers, probabilities outside [0, 1],
            lengths that differ, an unknown policy, or an empty graph.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], directed=False, prob=0.5)
        >>> g.n_nodes, g.n_arcs
        (3, 4)
        """
        _policy(self_loops, "self_loops", ("drop", "raise"))
        _policy(duplicates, "duplicates", ("drop", "combine", "raise"))
        directed = check_bool(directed, "directed")
        src = as_1d_array(src, "src", kind="i")
        dst = as_1d_array(dst, "dst", kind="i")
        if src.size != dst.size:
            raise ValueError(f"'src' and 'dst' must have the same length. Got {src.size} and {dst.size}.")
        top = int(max(src.max(), dst.max())) + 1 if src.size else 0
        if n_nodes is None:
            if top == 0:
                raise ValueError("Cannot build an empty graph: no edges and no 'n_nodes'.")
            n_nodes = top
        n_nodes = check_int(n_nodes, "n_nodes", minimum=1, maximum=2**31 - 2)
        from ._memory import check_memory  # a small input must not trigger a huge allocation

        check_memory(32 * n_nodes + 64 * src.size, f"a graph of {n_nodes} nodes and {src.size} edges",
                     hint="check 'n_nodes'")
        if src.size:
            lo = int(min(src.min(), dst.min()))
            if lo < 0:
                raise ValueError(f"'src' and 'dst' must hold node indices >= 0. Got {lo}.")
            if top > n_nodes:
                raise ValueError(f"'src' and 'dst' must hold node indices < n_nodes = {n_nodes}. Got {top - 1}.")
        prob = _prob_values(prob, src.size)
        info = {}
        loops = src == dst
        n_loops = int(loops.sum())
        if n_loops:
            if self_loops == "raise":
                i = int(np.flatnonzero(loops)[0])
                raise ValueError(f"Self-loop at edge {i} ({src[i]} -> {dst[i]}); self_loops='raise' rejects them.")
            keep = ~loops
            src, dst, prob = src[keep], dst[keep], prob[keep]
        info["self_loops_dropped"] = n_loops
        if directed:
            a, b = src, dst
        else:
            a, b = np.minimum(src, dst), np.maximum(src, dst)
        key = a * n_nodes + b
        order = np.argsort(key, kind="stable")
        key_sorted = key[order]
        first = np.ones(key_sorted.size, dtype=bool)
        first[1:] = key_sorted[1:] != key_sorted[:-1]
        n_dup = int(key_sorted.size - first.sum())
        if n_dup:
            if duplicates == "raise":
                pos = int(order[np.flatnonzero(~first)[0]])
                raise ValueError(
                    f"Duplicate edge at position {pos} ({src[pos]} -> {dst[pos]}); duplicates='raise' rejects them."
                )
            group = np.cumsum(first) - 1
            if duplicates == "combine":
                with np.errstate(divide="ignore"):  # p = 1 gives log(0) = -inf, set to 1 below
                    log_q = np.log1p(-prob[order])
                    merged = -np.expm1(np.bincount(group, weights=log_q))
                merged[np.bincount(group, weights=(prob[order] >= 1.0).astype(float)) > 0] = 1.0
                uprob = np.clip(merged, 0.0, 1.0)
            else:
                uprob = prob[order][first]
        else:
            uprob = prob[order]
        info["duplicates_dropped" if duplicates == "drop" else "duplicates_combined"] = n_dup
        ua, ub = a[order][first], b[order][first]
        if n_loops or n_dup:
            what = []
            if n_loops:
                what.append(f"{n_loops} self-loop(s) dropped")
            if n_dup:
                what.append(f"{n_dup} duplicate edge(s) {'dropped' if duplicates == 'drop' else 'combined'}")
            warnings.warn("; ".join(what) + ".", DataWarning, stacklevel=2)
        if not directed:
            ua, ub = np.concatenate([ua, ub]), np.concatenate([ub, ua])
            uprob = np.concatenate([uprob, uprob])
        indptr, indices, arc_prob = _csr(ua, ub, uprob, n_nodes)
        if node_ids is not None:
            node_ids = _node_id_array(node_ids, n_nodes)
        labels, names = _labels(community, n_nodes, community_names, node_ids)
        if node_ids is not None:
            _distinct_ids(node_ids, n_nodes)
        return cls._trusted(indptr, indices, arc_prob, labels, names, node_ids, directed, info)

    @classmethod
    def from_networkx(cls, G, *, community="community", prob=None):
        """Build a graph from a networkx graph.

        Parameters
        ----------
        G : networkx.Graph or networkx.DiGraph
            Multigraphs are accepted; parallel edges are combined as independent chances.
        community : str, dict, array-like or None, default "community"
            Node attribute holding each node's label (a set-valued attribute such
            as networkx's LFR ``"community"`` is turned into one label per set),
            a dict node -> label, an array in ``G.nodes`` order, or None.
        prob : None, float, array-like of float or str
            None gives every edge probability 0.1; a float gives every edge that
            probability; an array gives one per edge in ``G.edges`` order; a str
            reads the probabilities from the input: the edge attribute of that name.

        Examples
        --------
        >>> import networkx as nx, microviral as mv
        >>> G = nx.karate_club_graph()
        >>> g = mv.CommunityGraph.from_networkx(G, community="club", prob=0.1)
        >>> g.n_nodes, g.n_arcs, g.community_names
        (34, 156, ('Mr. Hi', 'Officer'))
        """
        import networkx as nx

        if not isinstance(G, nx.Graph):
            raise TypeError(f"'G' must be a networkx graph. Got {type(G).__name__}.")
        nodes = list(G.nodes)
        if not nodes:
            raise ValueError("'G' has no nodes: cannot build an empty graph.")
        index = {u: i for i, u in enumerate(nodes)}
        labels = None
        if isinstance(community, str):
            values = [G.nodes[u].get(community) for u in nodes]
            missing = [u for u, v in zip(nodes, values) if v is None]
            if missing and len(missing) < len(nodes):
                raise ValueError(
                    f"'community': node attribute {community!r} is missing on {len(missing)} node(s), e.g. {missing[:5]}."
                )
            if not missing:
                if all(isinstance(v, (set, frozenset)) for v in values):
                    values = [min(index[w] for w in v) for v in values]
                labels = values
            elif community != "community":
                raise ValueError(f"'community': no node has the attribute {community!r}.")
        elif community is not None:
            labels = community
        edges = G.edges(data=True)
        src = np.fromiter((index[u] for u, v, d in edges), dtype=np.int64, count=G.number_of_edges())
        dst = np.fromiter((index[v] for u, v, d in edges), dtype=np.int64, count=G.number_of_edges())
        if isinstance(prob, str):
            try:
                p = [d[prob] for u, v, d in edges]
            except KeyError:
                raise ValueError(f"'prob': edge attribute {prob!r} is missing on some edge.") from None
            p = check_probability_array(p, f"prob (edge attribute {prob!r})", src.size)
        else:
            p = _prob_values(prob, src.size)
        if isinstance(labels, dict):
            labels = [labels.get(u) for u in nodes]
            if any(v is None for v in labels):
                raise ValueError("'community' dict must give a label for every node of 'G'.")
        ids = np.empty(len(nodes), dtype=object)
        ids[:] = nodes
        if all(isinstance(u, (int, np.integer)) for u in nodes):
            ids = np.asarray(nodes, dtype=np.int64)
        with warnings.catch_warnings():
            if G.is_multigraph():
                warnings.simplefilter("ignore", DataWarning)
            return cls.from_edges(src, dst, n_nodes=len(nodes), community=labels, directed=G.is_directed(),
                                  prob=p, node_ids=ids, duplicates="combine" if G.is_multigraph() else "drop")

    @classmethod
    def from_scipy(cls, matrix, *, community=None, directed=True, prob=None):
        """Build a graph from a square scipy sparse adjacency matrix.

        Entry ``(i, j) != 0`` is an arc ``i -> j``. For ``directed=False`` the matrix
        must be symmetric.

        Parameters
        ----------
        matrix : scipy sparse array or matrix, square
        community : array-like or dict, optional
            A label per node.
        directed : bool, default True
        prob : None, float or str
            None gives every arc probability 0.1; a float gives every arc that
            probability; a str reads the probabilities from the input: the matrix's
            stored values (scipy keeps one unnamed value per entry, so any name, such
            as ``"weight"``, means them).

        Raises
        ------
        TypeError, ValueError
            Not a square 2-d scipy sparse matrix or array; raw arrays that break their format's rules (e.g. a CSR
            ``indptr`` that decreases or points past ``indices``, indices out of range or not integers, lengths
            that differ), checked before scipy converts anything; values that are not probabilities when read
            as such; an asymmetric matrix with ``directed=False``.

        Examples
        --------
        >>> import scipy.sparse as sp, microviral as mv
        >>> A = sp.csr_array(([1.0, 1.0], ([0, 1], [1, 2])), shape=(3, 3))
        >>> mv.CommunityGraph.from_scipy(A, prob=0.2).n_arcs
        2
        """
        import scipy.sparse as sp

        from ._sparse import sparse_entries

        if not sp.issparse(matrix):
            raise TypeError(f"'matrix' must be a scipy sparse matrix or array. Got {type(matrix).__name__}.")
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"'matrix' must be square. Got shape {matrix.shape}.")
        if matrix.shape[0] == 0:
            raise ValueError("'matrix' must have at least one row: cannot build an empty graph. Got shape (0, 0).")
        directed = check_bool(directed, "directed")
        # scipy is never asked to convert the matrix: its conversions trust the raw arrays and a malformed one
        # corrupts the heap, so the entries are read and checked with numpy (microviral._sparse)
        (n, _), row, col, data = sparse_entries(matrix)
        if n > 2**31 - 2:
            raise ValueError(f"'matrix' may have at most {2**31 - 2} rows (one per node). Got shape {matrix.shape}.")
        key = row * n + col
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.flatnonzero(first)
        # repeated entries add up in their own dtype, as in scipy (bools stay bools: structure, not numbers)
        data = np.add.reduceat(data[order], starts, dtype=data.dtype) if key.size else data
        key = key[starts]
        nz = data != 0
        key, data = key[nz], data[nz]
        row, col = np.divmod(key, n)
        from_values = isinstance(prob, str)
        if from_values:
            if data.dtype.kind not in "iuf":  # complex would lose its imaginary part, bools are structure
                raise TypeError(f"'matrix' values must be real numbers to be read as probabilities (prob={prob!r}). "
                                f"Got values of dtype {data.dtype}; pass matrix.real, or a float 'prob' for all arcs.")
            p = check_probability_array(data.astype(float), f"matrix values (prob={prob!r})", data.size)
        elif prob is None or (isinstance(prob, (numbers.Real, np.floating))
                              and not isinstance(prob, (bool, np.bool_))):
            p = _prob_values(prob, row.size)
        else:
            raise TypeError(f"'prob' must be None, a float in [0, 1] or a str (read the matrix's values). "
                            f"Got {_describe(prob)}.")
        if not directed:
            # key is sorted: the matrix is symmetric iff its transpose, sorted the same way, is equal to it
            t_order = np.argsort(col * n + row, kind="stable")
            if not np.array_equal((col * n + row)[t_order], key) or (from_values and
                                                                     not np.array_equal(p[t_order], p)):
                raise ValueError("'matrix' must be symmetric when directed=False.")
            keep = row <= col
            row, col, p = row[keep], col[keep], p[keep]
        return cls.from_edges(row, col, n_nodes=n, community=community, directed=directed, prob=p)

    # ------------------------------------------------------------------ accessors
    @property
    def n_nodes(self):
        """Number of nodes."""
        return self._indptr.size - 1

    @property
    def n_arcs(self):
        """Number of arcs (an undirected edge counts twice)."""
        return self._indices.size

    @property
    def n_edges(self):
        """Number of edges: arcs for a directed graph, arcs / 2 for an undirected one."""
        return self.n_arcs if self._directed else self.n_arcs // 2

    @property
    def directed(self):
        return self._directed

    @property
    def indptr(self):
        """CSR row pointer, int64, shape (n_nodes + 1,), read-only."""
        return self._indptr

    @property
    def indices(self):
        """Head of each arc, int32, shape (n_arcs,), read-only."""
        return self._indices

    @property
    def prob(self):
        """Activation probability of each arc, float64, shape (n_arcs,), read-only."""
        return self._prob

    @property
    def community(self):
        """Community label of each node, int32 in ``[0, n_communities)``, read-only."""
        return self._community

    @property
    def community_names(self):
        """Name of each community label, a tuple."""
        return self._names

    @property
    def n_communities(self):
        return len(self._names)

    @property
    def node_ids(self):
        """Original id of each node (its index when none was given)."""
        if self._node_ids is None:
            return np.arange(self.n_nodes)
        return self._node_ids

    @property
    def info(self):
        """What construction changed (self-loops dropped, duplicates dropped or combined)."""
        return dict(self._info)

    @property
    def arc_sources(self):
        """Tail of each arc, int32, shape (n_arcs,) (computed once, cached)."""
        if "src" not in self._cache:
            src = np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self._indptr))
            self._cache["src"] = _readonly(src)
        return self._cache["src"]

    @property
    def out_degree(self):
        """Number of out-arcs of each node, int64."""
        return np.diff(self._indptr)

    @property
    def in_degree(self):
        """Number of in-arcs of each node, int64."""
        if "indeg" not in self._cache:
            self._cache["indeg"] = _readonly(np.bincount(self._indices, minlength=self.n_nodes).astype(np.int64))
        return self._cache["indeg"]

    @property
    def community_sizes(self):
        """Number of nodes in each community, int64 array indexed by label."""
        return np.bincount(self._community, minlength=self.n_communities)

    def _in_arcs(self):
        """``(indptr, sources, arc_index)``: the in-arcs of each node in CSR form (cached).

        ``arc_index[j]`` is the position in the forward arrays of the j-th in-arc,
        so ``prob[arc_index]`` gives the in-arcs' probabilities and their coins use
        the forward arc number (what reverse-reachable sampling needs).
        """
        if "reverse" not in self._cache:
            from ._kernels.csr import group_by_head

            roff, order = group_by_head(self._indices, self.n_nodes)
            self._cache["reverse"] = (_readonly(roff), _readonly(self.arc_sources[order]), _readonly(order))
        return self._cache["reverse"]

    def reverse(self):
        """Return the graph with every arc reversed (each keeps its probability), like ``networkx.reverse``.

        Nodes, communities and ids are unchanged; arc ``u -> v`` with probability ``p``
        becomes ``v -> u`` with probability ``p``. An undirected graph is its own reverse.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 0], [1, 2], prob=[0.5, 0.25])
        >>> r = g.reverse()
        >>> r.indptr.tolist(), r.indices.tolist(), r.prob.tolist()
        ([0, 0, 1, 2], [0, 0], [0.5, 0.25])
        """
        indptr, sources, order = self._in_arcs()
        return CommunityGraph._trusted(indptr, sources, self._prob[order], self._community, self._names,
                                       self._node_ids, self._directed, self._info)

    def fingerprint(self):
        """SHA-256 of the arrays that determine a cascade (structure, probabilities, labels)."""
        if "sha" not in self._cache:
            h = hashlib.sha256()
            for arr in (self._indptr, self._indices, self._prob, self._community):
                h.update(arr.tobytes())
            h.update(repr((self._names, self._directed)).encode())
            self._cache["sha"] = h.hexdigest()
        return self._cache["sha"]

    # ------------------------------------------------------------------ node and target lookup
    def index_of(self, ids):
        """Map original node ids to node indices.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], node_ids=["x", "y", "z"])
        >>> g.index_of(["z", "x"]).tolist()
        [2, 0]
        """
        if "id_index" not in self._cache:
            self._cache["id_index"] = {k: i for i, k in enumerate(self.node_ids.tolist())}
        lookup = self._cache["id_index"]
        try:
            scalar = np.ndim(ids) == 0
            items = [ids] if scalar else list(np.asarray(ids, dtype=object).tolist())
            missing = [item for item in items if item not in lookup]
        except (TypeError, ValueError):  # ragged or unhashable input
            raise TypeError(f"'ids' must be a node id or a 1-d sequence of node ids. Got {_describe(ids)}.") from None
        if missing:
            raise ValueError(f"'ids': node id {missing[0]!r} is not in the graph.")
        node_ids = self.node_ids
        for item in items:  # same kind only: True is not the node 1, nor 1.0 the node 1
            if scalar_kind(item) != scalar_kind(node_ids[lookup[item]]):
                raise ValueError(f"'ids': node id {_describe(item)} is not in the graph (its ids are "
                                 f"{scalar_kind(node_ids[lookup[item]])}s, not {scalar_kind(item)}s).")
        out = [lookup[item] for item in items]
        return out[0] if scalar else np.asarray(out, dtype=np.int64)

    def community_label(self, community, name="community"):
        """Resolve a community given by name or by integer label to its label.

        A name is looked up first; an integer that is not a name is taken as a label.
        """
        names = self._names
        kind = scalar_kind(community)
        kinds = [scalar_kind(n) for n in names]
        for i, (other, other_kind) in enumerate(zip(names, kinds)):
            # same kind only: True is not the community 1, nor 1.0 the community 1
            try:
                if other_kind == kind and bool(other == community):
                    return i
            except (TypeError, ValueError):  # an array compared element-wise
                pass
        numeric_names = any(k in ("bool", "integer", "real number") for k in kinds)
        if kind == "integer" and not numeric_names and 0 <= int(community) < len(names):
            return int(community)
        shown = list(names[:10]) + (["..."] if len(names) > 10 else [])
        why = ""
        if kind == "integer" and numeric_names:
            why = " (the community names are numbers, so an integer is a name, never a position)"
        elif kind in ("bool", "complex number", "real number"):
            why = f" (a {kind} matches only a name of the same kind)"
        raise ValueError(f"'{name}': unknown community {community!r}{why}. Known communities: {shown}.")

    def target_mask(self, target, name="target"):
        """Return a read-only boolean mask of the nodes in ``target``.

        ``target`` is a community (name or label), a boolean mask of length
        ``n_nodes``, or an array of node indices. None means every node.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0, 1], [1, 2], community=["a", "b", "b"])
        >>> g.target_mask("b").tolist()
        [False, True, True]
        """
        n = self.n_nodes
        if target is None:
            mask = np.ones(n, dtype=bool)
        elif isinstance(target, (str, bytes, numbers.Number, np.generic)) and np.ndim(target) == 0:
            mask = self._community == self.community_label(target, name)
        else:
            try:
                arr = as_array(target, name, "a boolean mask or node indices")
            except TypeError:
                raise TypeError(f"'{name}' must be a community, a boolean mask or node indices. "
                                f"Got {_describe(target)}.") from None
            if arr.dtype == bool:
                if arr.shape != (n,):
                    raise ValueError(f"'{name}' as a boolean mask must have shape ({n},). Got shape {arr.shape}.")
                mask = arr.copy()
            else:
                idx = check_node_array(arr, name, n, allow_empty=False, allow_duplicates=False)
                mask = np.zeros(n, dtype=bool)
                mask[idx] = True
        if not mask.any():
            raise ValueError(f"'{name}' is empty: it selects no node.")
        mask.setflags(write=False)
        return mask

    # ------------------------------------------------------------------ derived graphs
    def with_prob(self, prob):
        """Return a copy with per-arc probabilities ``prob`` (structure and labels shared)."""
        if isinstance(prob, (numbers.Real, np.floating)) and not isinstance(prob, (bool, np.bool_)):
            prob = np.full(self.n_arcs, check_probability(prob, "prob"))
        prob = np.array(check_probability_array(prob, "prob", self.n_arcs))  # never share the caller's array
        g = CommunityGraph._trusted(self._indptr, self._indices, prob, self._community, self._names,
                                    self._node_ids, self._directed, self._info)
        for key in ("src", "indeg", "reverse", "id_index"):
            if key in self._cache:
                g._cache[key] = self._cache[key]
        return g

    def with_community(self, community, community_names=None):
        """Return a copy with other community labels."""
        labels, names = _labels(community, self.n_nodes, community_names, self._node_ids)
        g = CommunityGraph._trusted(self._indptr, self._indices, self._prob, labels, names, self._node_ids,
                                    self._directed, self._info)
        return g

    def to_networkx(self, *, as_directed=False):
        """Return a networkx graph with node attribute ``community`` and edge attribute ``prob``.

        An undirected graph becomes an ``nx.Graph`` when both arcs of each edge carry
        the same probability; otherwise pass ``as_directed=True`` to get an
        ``nx.DiGraph`` with one probability per arc.

        Examples
        --------
        >>> import microviral as mv
        >>> g = mv.CommunityGraph.from_edges([0], [1], prob=0.3, community=["a", "b"])
        >>> G = g.to_networkx(); G.edges[0, 1]["prob"], G.nodes[1]["community"]
        (0.3, 'b')
        """
        import networkx as nx

        src, dst, p = self.arc_sources, self._indices, self._prob
        directed = self._directed or as_directed
        G = nx.DiGraph() if directed else nx.Graph()
        ids = self.node_ids.tolist()
        names = self._names
        G.add_nodes_from((ids[i], {"community": names[c]}) for i, c in enumerate(self._community.tolist()))
        if not directed:
            # arc (u, v) and arc (v, u) line up when both are sorted by their key
            n = self.n_nodes
            fwd_key = src.astype(np.int64) * n + dst
            order_f = np.argsort(fwd_key)
            bwd_key = dst.astype(np.int64) * n + src
            order_b = np.argsort(bwd_key)
            if not np.array_equal(p[order_f], p[order_b]):
                raise ValueError(
                    "The two arcs of some undirected edge carry different probabilities (e.g. weighted cascade); "
                    "call to_networkx(as_directed=True) to keep one probability per arc."
                )
            keep = src < dst
            src, dst, p = src[keep], dst[keep], p[keep]
        G.add_edges_from((ids[u], ids[v], {"prob": float(q)}) for u, v, q in zip(src.tolist(), dst.tolist(), p.tolist()))
        return G

    def __repr__(self):
        kind = "directed" if self._directed else "undirected"
        return (
            f"CommunityGraph({kind}, n_nodes={self.n_nodes}, n_arcs={self.n_arcs}, "
            f"n_communities={self.n_communities})"
        )

    def __reduce__(self):
        return (
            _rebuild,
            (self._indptr, self._indices, self._prob, self._community, self._names, self._node_ids,
             self._directed, self._info),
        )


def _prob_values(prob, size):
    """Per-edge probabilities from ``prob``: None (0.1 each), one float, or an array of ``size`` values."""
    if prob is None:
        return np.full(size, 0.1)
    if isinstance(prob, (numbers.Real, np.floating)) and not isinstance(prob, (bool, np.bool_)):
        return np.full(size, check_probability(prob, "prob"))
    return check_probability_array(prob, "prob", size)


def _rebuild(indptr, indices, prob, labels, names, node_ids, directed, info):
    return CommunityGraph._trusted(indptr, indices, prob, labels, names, node_ids, directed, info)


def _csr(src, dst, prob, n_nodes):
    """Sort arcs by (source, target) into CSR arrays."""
    # one int64 key sorts ~3x faster than lexsort on two arrays; arcs are distinct, so no ties
    order = np.argsort(src.astype(np.int64) * n_nodes + dst, kind="stable")
    indices = dst[order].astype(np.int32)
    counts = np.bincount(src, minlength=n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, indices, np.ascontiguousarray(prob[order], dtype=np.float64)
