"""One ``rng`` argument turned into per-run 64-bit keys, and records that replay it.

Each run of a cascade is one live-edge world fixed by its key: the coin of arc
``e`` in run ``r`` is a stateless hash of ``(keys[r], e)``. Keys are a prefix-stable
stream (the first 100 keys are the same whether 100 or 10,000 runs are asked
for), so results never depend on threads, chunking, Dask workers or the order
in which runs are computed.

Every result records the ``rng`` it was given as JSON data (:func:`rng_record`),
taken before anything is drawn from it; :func:`rng_from_record` rebuilds an
equal ``rng`` from that record and :func:`microviral.replay` re-runs a whole simulation
from its provenance, bit for bit.
"""

import numbers
import operator

import numpy as np

from ._validation import _describe, as_array

__all__ = ["check_rng", "check_keys", "run_keys", "spawn", "rng_record", "rng_from_record"]

_RNG_FORMS = "None, an int >= 0, a numpy SeedSequence or Generator"


def check_rng(rng, name="rng"):
    """Return a ``SeedSequence`` or ``Generator`` for ``rng`` (None, int, SeedSequence, Generator)."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"'{name}' must be {_RNG_FORMS}. Got bool {rng!r}.")
    if isinstance(rng, (numbers.Integral, np.integer)):
        if int(rng) < 0:
            raise ValueError(f"'{name}' must be a non-negative int. Got {int(rng)}.")
        return np.random.SeedSequence(int(rng))
    if isinstance(rng, (np.random.SeedSequence, np.random.Generator)):
        return rng
    raise TypeError(f"'{name}' must be {_RNG_FORMS}. Got {type(rng).__name__} instead.")


def run_keys(rng, n_runs):
    """Return ``n_runs`` uint64 keys drawn from ``rng``.

    Examples
    --------
    >>> from microviral._rng import run_keys
    >>> a = run_keys(7, 3); b = run_keys(7, 5)
    >>> bool((a == b[:3]).all())
    True
    """
    source = check_rng(rng)
    if isinstance(source, np.random.SeedSequence):
        return np.ascontiguousarray(source.generate_state(n_runs, np.uint64))
    return source.integers(0, 2**64, size=n_runs, dtype=np.uint64, endpoint=False)


def spawn(rng, n):
    """Return ``n`` independent child SeedSequences (or Generators) of ``rng``."""
    return check_rng(rng).spawn(n)


# ---------------------------------------------------------------- run keys given explicitly
_KEY_HINT = ("read keys as integers (json.load gives Python ints; pandas: dtype={'key': 'uint64'}; "
             "the csv module: int(text))")


def _key_int(x, i, name):
    """One key as a Python int in [0, 2**64), from an int or a float that holds it exactly."""
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"'{name}' must hold integer run keys, not bools. Got {x!r} at position {i}.")
    if isinstance(x, numbers.Integral):
        value = operator.index(x)
    elif isinstance(x, numbers.Real):
        value = float(x)
        # a float above 2**53 has lost the low bits of a 64-bit key when it was read: it is not that key
        if not (np.isfinite(value) and value.is_integer() and abs(value) <= 2**53):
            raise ValueError(f"'{name}' must hold exact integer run keys in [0, 2**64). Got the float {value!r} at "
                             f"position {i}, which cannot hold a 64-bit key exactly; {_KEY_HINT}.")
        value = int(value)
    else:
        raise TypeError(f"'{name}' must hold integer run keys. Got {_describe(x)} at position {i}; {_KEY_HINT}.")
    if not 0 <= value < 2**64:
        raise ValueError(f"'{name}' must hold run keys in [0, 2**64). Got {value} at position {i}.")
    return value


def check_keys(keys, name="keys"):
    """Return explicit run keys as a non-empty contiguous uint64 array, exactly.

    Accepts uint64 or other integer arrays, lists of Python ints (as read from
    JSON: any value in ``[0, 2**64)``, on both sides of ``2**63``), object arrays
    of ints (pandas), and floats only where they hold the key exactly (whole and
    at most ``2**53``).

    Examples
    --------
    >>> from microviral._rng import check_keys
    >>> check_keys([1, 2**63 + 1, 2**64 - 1]).tolist() == [1, 2**63 + 1, 2**64 - 1]
    True
    """
    if isinstance(keys, (list, tuple)):
        if not keys:
            raise ValueError(f"'{name}' must be a non-empty 1-d array of uint64 run keys. Got an empty {type(keys).__name__}.")
        if any(isinstance(x, (list, tuple, np.ndarray)) for x in keys):
            raise ValueError(f"'{name}' must be a 1-d array of uint64 run keys. Got a nested sequence.")
        return np.array([_key_int(x, i, name) for i, x in enumerate(keys)], dtype=np.uint64)
    arr = as_array(keys, name, "uint64 run keys")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"'{name}' must be a non-empty 1-d array of uint64 run keys. Got shape {arr.shape}.")
    if arr.dtype == np.uint64:
        return np.ascontiguousarray(arr)
    if arr.dtype.kind in "iu":
        if arr.min() < 0:
            i = int(np.argmin(arr))
            raise ValueError(f"'{name}' must hold run keys in [0, 2**64). Got {int(arr[i])} at position {i}.")
        return np.ascontiguousarray(arr, dtype=np.uint64)
    if arr.dtype.kind in "fO":
        return np.array([_key_int(x, i, name) for i, x in enumerate(arr.tolist())], dtype=np.uint64)
    raise TypeError(f"'{name}' must hold uint64 run keys. Got {_describe(arr)}; {_KEY_HINT}.")


# ---------------------------------------------------------------- records that replay
def _json_data(value):
    """Bit-generator state as JSON data: numpy arrays and scalars become lists and Python ints."""
    if isinstance(value, dict):
        return {str(k): _json_data(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [int(x) for x in value.ravel().tolist()]
    if isinstance(value, (np.integer, bool, np.bool_)):
        return int(value)
    return value


def _seed_sequence_record(ss):
    entropy = ss.entropy
    if isinstance(entropy, (numbers.Integral, np.integer)):
        entropy = int(entropy)
    else:
        entropy = [int(x) for x in np.asarray(entropy, dtype=object).ravel().tolist()]
    return {
        "kind": "SeedSequence",
        "entropy": entropy,
        "spawn_key": [int(k) for k in ss.spawn_key],
        "pool_size": int(ss.pool_size),
        "n_children_spawned": int(ss.n_children_spawned),
    }


def rng_record(rng):
    """JSON data that :func:`rng_from_record` turns back into an ``rng`` equal to this one, now.

    Take it before drawing from ``rng``. ``None`` is recorded as the entropy actually
    drawn; a SeedSequence with its entropy (ints), ``spawn_key``, ``pool_size`` and
    ``n_children_spawned``; a Generator with its bit generator's name, state and seed
    sequence (so ``Generator.spawn`` replays too).

    Examples
    --------
    >>> import json, numpy as np
    >>> from microviral._rng import rng_record
    >>> json.dumps(rng_record(np.random.SeedSequence(5, pool_size=8)))
    '{"kind": "SeedSequence", "entropy": 5, "spawn_key": [], "pool_size": 8, "n_children_spawned": 0}'
    """
    source = check_rng(rng)
    if isinstance(source, np.random.SeedSequence):
        return _seed_sequence_record(source)
    bg = source.bit_generator
    seed_seq = getattr(bg, "seed_seq", getattr(bg, "_seed_seq", None))
    return {
        "kind": "Generator",
        "bit_generator": type(bg).__name__,
        "state": _json_data(bg.state),
        "seed_seq": _seed_sequence_record(seed_seq) if isinstance(seed_seq, np.random.SeedSequence) else None,
    }


def _record_error(record, what):
    return ValueError(f"'record' must be an rng record as written by microviral (res.provenance['rng']): {what}. "
                      f"Got {_describe(record)}.")


def _seed_sequence_from(record):
    try:
        return np.random.SeedSequence(record["entropy"], spawn_key=tuple(record.get("spawn_key", ())),
                                      pool_size=record.get("pool_size", 4),
                                      n_children_spawned=record.get("n_children_spawned", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise _record_error(record, f"not a valid SeedSequence record ({exc})") from None


def rng_from_record(record):
    """Rebuild the ``rng`` recorded in ``record`` (``res.provenance["rng"]``, after a JSON round trip too).

    Returns a new ``numpy.random.SeedSequence`` or ``Generator`` in the recorded state: passing it as
    ``rng`` to the same call gives a bit-identical result. Records of explicit keys (kind ``"keys"``)
    hold the keys themselves: pass ``keys=record["keys"]`` (or use :func:`microviral.replay`).

    Raises
    ------
    ValueError
        ``record`` is not such a record, names an unknown bit generator, or holds explicit keys.

    Examples
    --------
    >>> import json, numpy as np, microviral as mv
    >>> rng = np.random.default_rng(3)
    >>> record = json.loads(json.dumps(mv.rng_record(rng)))
    >>> again = mv.rng_from_record(record)
    >>> bool(again.integers(2**62) == rng.integers(2**62))
    True
    """
    if not isinstance(record, dict) or "kind" not in record:
        raise _record_error(record, "a dict with a 'kind'")
    kind = record["kind"]
    if kind == "SeedSequence":
        return _seed_sequence_from(record)
    if kind == "Generator":
        name = record.get("bit_generator")
        cls = getattr(np.random, name, None) if isinstance(name, str) else None
        if not (isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)):
            raise _record_error(record, f"unknown bit generator {name!r} (numpy's are PCG64, PCG64DXSM, "
                                        f"MT19937, Philox, SFC64)")
        seed_seq = record.get("seed_seq")
        bg = cls(_seed_sequence_from(seed_seq)) if seed_seq else cls()
        try:
            bg.state = record["state"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _record_error(record, f"not a valid {name} state ({exc})") from None
        return np.random.Generator(bg)
    if kind == "keys":
        raise ValueError("This rng record holds explicit run keys, not an rng: pass keys=record['keys'] "
                         "(or replay the whole result with microviral.replay).")
    raise _record_error(record, f"unknown kind {kind!r}")


def target_record(graph, target, mask):
    """``target`` as JSON data for :func:`microviral.replay`: None, ``{"community": name}`` or ``{"nodes": [...]}``."""
    if target is None:
        return None
    if isinstance(target, (str, bytes, numbers.Number, np.generic)) and np.ndim(target) == 0:
        name = graph.community_names[graph.community_label(target)]
        exact = isinstance(name, str) or (isinstance(name, numbers.Integral) and not isinstance(name, (bool, np.bool_)))
        if exact:
            return {"community": name if isinstance(name, str) else int(name)}
    return {"nodes": np.flatnonzero(mask).tolist()}
