"""Boundary checks: after these, inside code trusts dtype, shape and layout.

numba does not bounds-check, so every array that reaches a kernel passes
through one of these converters first. Messages name the argument, what was
expected and what was received.
"""

import numbers
import operator

import numpy as np

__all__ = [
    "check_int",
    "check_float",
    "check_probability",
    "check_node_array",
    "check_bool",
    "scalar_kind",
    "as_array",
    "as_1d_array",
    "check_probability_array",
]


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def scalar_kind(value):
    """The kind of a scalar id or label: a name matches only a value of its own kind (``True`` is not ``1``)."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "real number"
    if isinstance(value, numbers.Complex):
        return "complex number"
    if isinstance(value, (str, bytes)):
        return "str" if isinstance(value, str) else "bytes"
    return type(value).__name__


def check_bool(value, name):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"'{name}' must be a bool. Got {_describe(value)} instead.")


def check_int(value, name, *, minimum=None, maximum=None, allow_none=False):
    """Return ``value`` as a Python int, accepting numpy integers, not bools or floats."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"'{name}' must be an integer. Got {_describe(value)} instead.")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"'{name}' must be >= {minimum}. Got {value} instead.")
    if maximum is not None and value > maximum:
        raise ValueError(f"'{name}' must be <= {maximum}. Got {value} instead.")
    return value


def check_float(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite Python float inside the given interval."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"'{name}' must be a real number. Got {_describe(value)} instead.")
    value = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = f"{lo}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{hi}"
    bad = not np.isfinite(value)
    if low is not None and (value < low or (low_open and value == low)):
        bad = True
    if high is not None and (value > high or (high_open and value == high)):
        bad = True
    if bad:
        raise ValueError(f"'{name}' must be a finite number in {interval}. Got {value!r} instead.")
    return value


def check_probability(value, name):
    return check_float(value, name, low=0.0, high=1.0)


def _has_bool(values):
    """Whether a (nested) list or tuple holds a bool: numpy would silently turn it into 0 or 1."""
    for x in values:
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, (list, tuple)) and _has_bool(x)):
            return True
    return False


def as_array(values, name, what="numbers"):
    """``np.asarray(values)``, refusing what numpy would silently change the meaning of.

    A masked array with masked entries (numpy would drop the mask), complex
    numbers (a conversion to float drops the imaginary part) and bools mixed
    into a list of numbers (numpy turns them into 0 and 1) raise; a masked
    array without masked entries is its data.
    """
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"'{name}' must be an array-like of {what}. Got {_describe(values)} instead.")
    if isinstance(values, np.ma.MaskedArray):
        n_masked = int(np.ma.count_masked(values))
        if n_masked:
            raise ValueError(
                f"'{name}' must not have masked entries (microviral does not guess what they mean). Got a masked "
                f"array with {n_masked} masked entr{'y' if n_masked == 1 else 'ies'}: fill them "
                f"(values.filled(x)) or drop them (values.compressed()) first."
            )
        values = np.ma.getdata(values)
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged lists and other non-arrays
        raise TypeError(f"'{name}' must be an array-like of {what}. Got {_describe(values)}: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(
            f"'{name}' must hold {what}, not complex numbers (the imaginary part would be lost). Got {_describe(arr)}; "
            f"pass values.real if the imaginary part is meaningless."
        )
    if arr.dtype.kind in "iuf" and isinstance(values, (list, tuple)) and _has_bool(values):
        raise TypeError(f"'{name}' must hold {what}, not bools (True/False are not 1/0 here). Got {_describe(values)}.")
    if arr.dtype.kind in "US" and arr.ndim == 1 and isinstance(values, (list, tuple)) and \
            not all(isinstance(x, (str, bytes)) for x in values):
        # numpy would turn 1 into "1" next to "1": keep each item as it is (an id or label of its own kind)
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    return arr


def _object_numbers(arr, name, kind):
    """An object array (e.g. from pandas or JSON) of exact ints (kind 'i') or real numbers (kind 'f'), converted."""
    items = arr.tolist()
    wanted = numbers.Integral if kind == "i" else numbers.Real
    what = "integers" if kind == "i" else "real numbers"
    for i, x in enumerate(items):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, wanted):
            raise TypeError(f"'{name}' must hold {what}. Got an object array holding {_describe(x)} at position {i}.")
    if kind == "f":
        return np.array([float(x) for x in items], dtype=np.float64)
    values = [operator.index(x) for x in items]
    if min(values) < -2**62 or max(values) > 2**62:
        raise ValueError(f"'{name}' holds integers too large to be node indices.")
    return np.array(values, dtype=np.int64)


def as_1d_array(values, name, *, kind):
    """Convert ``values`` to a 1-d numpy array of a numeric ``kind`` ('i' or 'f')."""
    arr = as_array(values, name, "integers" if kind == "i" else "real numbers")
    if arr.ndim != 1:
        if arr.ndim == 0:
            if arr.dtype.kind == "b":
                raise TypeError(f"'{name}' must be a 1-d array of numbers. Got bool {arr.item()!r} instead.")
            raise ValueError(f"'{name}' must be 1-d. Got a scalar {arr.item()!r} instead.")
        raise ValueError(f"'{name}' must be 1-d. Got an array of shape {arr.shape} instead.")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64 if kind == "i" else np.float64)
    if arr.dtype.kind == "O":
        arr = _object_numbers(arr, name, kind)
    if kind == "i":
        if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
            raise TypeError(f"'{name}' must hold integers. Got {_describe(arr)} instead.")
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float64, copy=False)  # float16 cannot even hold the bound below
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"'{name}' must hold whole numbers (indices). Got {float(arr[i])!r} at position {i}.")
            if np.any(np.abs(arr) > 2**62):
                raise ValueError(f"'{name}' holds integers too large to be node indices.")
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and np.any(arr > np.uint64(2**62)):
            raise ValueError(f"'{name}' holds integers too large to be node indices.")
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "iuf" or arr.dtype.kind == "b":
        raise TypeError(f"'{name}' must hold real numbers. Got {_describe(arr)} instead.")
    return arr.astype(np.float64, copy=False)


def check_node_array(values, name, n_nodes, *, allow_empty=False, allow_duplicates=False):
    """Return a contiguous int32 array of node indices in ``[0, n_nodes)``."""
    if isinstance(values, (numbers.Integral, np.integer)) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    arr = as_1d_array(values, name, kind="i")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"'{name}' must hold at least one node index. Got an empty array.")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= n_nodes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"'{name}' must hold node indices in [0, {n_nodes - 1}]. Got {bad}."
            )
    if not allow_duplicates and arr.size:
        uniq, counts = np.unique(arr, return_counts=True)
        if uniq.size != arr.size:
            dup = uniq[counts > 1][:5].tolist()
            raise ValueError(f"'{name}' must not repeat nodes. Got duplicates {dup}.")
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_probability_array(values, name, size):
    """Return a contiguous float64 array of ``size`` probabilities in [0, 1]."""
    arr = as_1d_array(values, name, kind="f")
    if arr.size != size:
        raise ValueError(f"'{name}' must have length {size}. Got length {arr.size}.")
    if arr.size:
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"'{name}' must hold finite probabilities in [0, 1]. Got {arr[i]!r} at position {i}.")
        bad = (arr < 0) | (arr > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"'{name}' must hold probabilities in [0, 1]. Got {arr[i]!r} at position {i}.")
    return np.ascontiguousarray(arr, dtype=np.float64)
