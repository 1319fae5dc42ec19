"""The entries of a scipy sparse matrix, read from its raw arrays and checked before scipy converts anything.

scipy's constructors only run light O(1) checks, and its C++ conversions (``tocoo``, ``tocsr``, arithmetic)
trust ``indptr`` and ``indices``: a CSR whose ``indptr`` is ``[0, 100000, 2]`` passes scipy's checks and its
conversion then writes out of bounds and aborts the interpreter (``free(): invalid pointer``). So nothing of a
user's sparse matrix goes through scipy here: each format's raw arrays are checked with numpy, then expanded
into (row, col, value) triples with numpy alone.
"""

import itertools
import numbers
import operator

import numpy as np

from ._validation import _describe, _has_bool

__all__ = ["sparse_entries"]

FORMATS = ("csr", "csc", "bsr", "coo", "dia", "lil", "dok")


def _fail(fmt, message, error=ValueError):
    raise error(f"'matrix' is not a well-formed {fmt.upper()} sparse matrix: {message}")


def _array(values, fmt, what, *, ndim=1):
    """``values`` as a numpy array of ``ndim`` dimensions; anything numpy cannot read is a TypeError."""
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged lists and objects that are not arrays
        _fail(fmt, f"its {what} must be a {ndim}-d array. Got {type(values).__name__} ({exc}).", TypeError)
    if arr.ndim != ndim:
        _fail(fmt, f"its {what} must be {ndim}-d. Got {_describe(arr)}.")
    return arr


def _indices(values, fmt, what, bound):
    """A 1-d integer array with every entry in ``[0, bound)``, as int64."""
    arr = _array(values, fmt, what)
    if arr.dtype.kind not in "iu" or (isinstance(values, (list, tuple)) and _has_bool(values)):
        _fail(fmt, f"its {what} must hold integers. Got {_describe(arr)}.", TypeError)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())  # Python ints: exact for uint64 too
        if lo < 0 or hi >= bound:
            _fail(fmt, f"its {what} must lie in [0, {bound - 1}]. Got {lo if lo < 0 else hi}.")
    return arr.astype(np.int64)


def _values(values, fmt, what="data", *, ndim=1):
    """Stored values: numbers (bools and complex included; what they may mean is decided by the caller)."""
    arr = _array(values, fmt, what, ndim=ndim)
    if arr.dtype.kind not in "biufc":
        _fail(fmt, f"its {what} must hold numbers. Got {_describe(arr)}.", TypeError)
    if arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
        arr = arr.astype(np.float32)
    return np.array(arr)  # a copy: the caller may sort or filter it


def _indptr(values, fmt, n_major, n_stored):
    """A compressed-format pointer array: ``n_major + 1`` non-decreasing entries from 0 to at most ``n_stored``."""
    arr = _array(values, fmt, "indptr")
    if arr.dtype.kind not in "iu":
        _fail(fmt, f"its indptr must hold integers. Got {_describe(arr)}.", TypeError)
    if arr.size != n_major + 1:
        _fail(fmt, f"its indptr must have {n_major + 1} entries (one per {'column' if fmt == 'csc' else 'row'}"
                   f"{' block' if fmt == 'bsr' else ''}, plus one). Got {arr.size}.")
    if arr[0] != 0:
        _fail(fmt, f"its indptr must start at 0. Got {int(arr[0])}.")
    lo, hi = int(arr.min()), int(arr.max())  # Python ints: exact for uint64 too
    if lo < 0 or hi > n_stored:
        _fail(fmt, f"its indptr must lie in [0, {n_stored}] (the number of stored indices and values). "
                   f"Got {lo if lo < 0 else hi}.")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero(np.diff(arr) < 0)
    if bad.size:
        i = int(bad[0])
        _fail(fmt, f"its indptr must be non-decreasing. Got {arr[i]} then {arr[i + 1]} at position {i}.")
    return arr


def _compressed(matrix, fmt, n_rows, n_cols):
    if fmt == "bsr":
        data = _values(matrix.data, fmt, ndim=3)
        r, c = data.shape[1:]
        if r < 1 or c < 1 or n_rows % r or n_cols % c:
            _fail(fmt, f"its blocks (data of shape (n_blocks, R, C)) must tile the shape {(n_rows, n_cols)}. "
                       f"Got blocks of {r} x {c}.")
        n_major, n_minor = n_rows // r, n_cols // c
    else:
        data = _values(matrix.data, fmt)
        r = c = 1
        n_major, n_minor = (n_cols, n_rows) if fmt == "csc" else (n_rows, n_cols)
    indices = _array(matrix.indices, fmt, "indices")
    if indices.size != data.shape[0]:
        _fail(fmt, f"its indices and data must have the same length. Got {indices.size} and {data.shape[0]}.")
    indptr = _indptr(matrix.indptr, fmt, n_major, indices.size)
    n_stored = int(indptr[-1])  # entries past the end of indptr are not part of the matrix (scipy's rule)
    minor = _indices(indices[:n_stored], fmt, "indices", n_minor)
    major = np.repeat(np.arange(n_major, dtype=np.int64), np.diff(indptr))
    data = data[:n_stored]
    if fmt == "csc":
        return minor, major, data
    if fmt == "csr":
        return major, minor, data
    # a block (i, j) holds rows i*r .. i*r + r - 1 and columns j*c .. j*c + c - 1, in C order like data[b]
    dr, dc = np.divmod(np.arange(r * c, dtype=np.int64), c)
    row = (major[:, None] * r + dr).ravel()
    col = (minor[:, None] * c + dc).ravel()
    return row, col, data.reshape(-1)


def _coo(matrix, fmt, n_rows, n_cols):
    coords = getattr(matrix, "coords", None)
    if coords is None:
        coords = (matrix.row, matrix.col)
    if not isinstance(coords, tuple) or len(coords) != 2:
        _fail(fmt, f"its coords must be a pair (row, col). Got {_describe(coords)}.", TypeError)
    data = _values(matrix.data, fmt)
    row, col = (_array(x, fmt, name) for x, name in zip(coords, ("row", "col")))
    if not row.size == col.size == data.size:
        _fail(fmt, f"its row, col and data must have the same length. Got {row.size}, {col.size} and {data.size}.")
    return _indices(row, fmt, "row", n_rows), _indices(col, fmt, "col", n_cols), data


def _dia(matrix, fmt, n_rows, n_cols):
    data = _values(matrix.data, fmt, ndim=2)
    offsets = _array(matrix.offsets, fmt, "offsets")
    if offsets.dtype.kind not in "iu":
        _fail(fmt, f"its offsets must hold integers. Got {_describe(offsets)}.", TypeError)
    if offsets.size != data.shape[0]:
        _fail(fmt, f"its data must have one row per offset. Got {data.shape[0]} rows and {offsets.size} offsets.")
    if np.unique(offsets).size != offsets.size:
        _fail(fmt, "its offsets must be distinct (one per diagonal). Got repeated offsets.")
    # diagonals wholly outside the matrix hold nothing; dropping them first keeps the arithmetic in int64
    inside = np.flatnonzero([-n_rows < int(o) < n_cols for o in offsets.tolist()])
    off = offsets[inside].astype(np.int64)
    # data[k, j] is the entry (j - offsets[k], j), as in scipy's dia format
    col = np.arange(min(n_cols, data.shape[1]), dtype=np.int64)
    row = col[None, :] - off[:, None]
    keep = (row >= 0) & (row < n_rows)
    return row[keep], np.broadcast_to(col, row.shape)[keep], data[inside][:, : col.size][keep]


def _python_indices(items, fmt, what, bound):
    """Python-level indices (lil rows, dok keys) as int64: exact integers, not bools, in ``[0, bound)``."""
    items = list(items)
    for x in items:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Integral, np.integer)):
            _fail(fmt, f"its {what} must be integers. Got {_describe(x)}.", TypeError)
        if not 0 <= operator.index(x) < bound:
            _fail(fmt, f"its {what} must lie in [0, {bound - 1}]. Got {operator.index(x)}.")
    return np.array([operator.index(x) for x in items], dtype=np.int64).reshape(-1)


def _lil(matrix, fmt, n_rows, n_cols):
    rows = _array(matrix.rows, fmt, "rows")
    values = _array(matrix.data, fmt, "data")
    if rows.size != n_rows or values.size != n_rows:
        _fail(fmt, f"its rows and data must have one list per row, {n_rows}. Got {rows.size} and {values.size}.")
    rows, values = rows.tolist(), values.tolist()
    for i, (r, v) in enumerate(zip(rows, values)):
        if not isinstance(r, list) or not isinstance(v, list) or len(r) != len(v):
            _fail(fmt, f"row {i} must be two lists of the same length (column indices and values). "
                       f"Got {_describe(r)} and {_describe(v)}.", TypeError)
    col = _python_indices(itertools.chain.from_iterable(rows), fmt, "column indices (rows)", n_cols)
    row = np.repeat(np.arange(n_rows, dtype=np.int64), [len(r) for r in rows])
    return row, col, _values(list(itertools.chain.from_iterable(values)), fmt).reshape(-1)


def _dok(matrix, fmt, n_rows, n_cols):
    items = list(matrix.items())
    for k, _ in items:
        if not isinstance(k, tuple) or len(k) != 2:
            _fail(fmt, f"its keys must be pairs (row, col). Got {_describe(k)}.", TypeError)
    row = _python_indices([k[0] for k, _ in items], fmt, "row indices (keys)", n_rows)
    col = _python_indices([k[1] for k, _ in items], fmt, "column indices (keys)", n_cols)
    data = _values([v for _, v in items], fmt) if items else np.zeros(0)
    return row, col, data.reshape(-1)


def sparse_entries(matrix):
    """The stored entries of a 2-d scipy sparse matrix or array, checked, without letting scipy convert it.

    Parameters
    ----------
    matrix : scipy sparse matrix or array of any format (csr, csc, bsr, coo, dia, lil, dok)

    Returns
    -------
    (n_rows, n_cols), row, col, data
        int64 ``row`` and ``col`` in range and a 1-d copy of the values, one per stored entry (duplicates and
        explicit zeros kept, in no particular order).

    Raises
    ------
    TypeError, ValueError
        A format this module does not know, or raw arrays that break their format's rules.
    """
    fmt = getattr(matrix, "format", None)
    if fmt not in FORMATS:
        raise TypeError(f"'matrix' must be a scipy sparse matrix or array in one of the formats {FORMATS}. "
                        f"Got format {fmt!r}.")
    shape = matrix.shape
    if not isinstance(shape, tuple) or len(shape) != 2 or not all(
            isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, (bool, np.bool_)) and s >= 0
            for s in shape):
        raise ValueError(f"'matrix' must be 2-d with a shape of two integers >= 0. Got shape {shape!r}.")
    n_rows, n_cols = (operator.index(s) for s in shape)
    read = {"csr": _compressed, "csc": _compressed, "bsr": _compressed, "coo": _coo, "dia": _dia, "lil": _lil,
            "dok": _dok}[fmt]
    row, col, data = read(matrix, fmt, n_rows, n_cols)
    return (n_rows, n_cols), row, col, data
