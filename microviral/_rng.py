"""One ``rng`` argument turned into per-run 64-bit keys.

Each run of a cascade is one live-edge world fixed by its key: the coin of arc
``e`` in run ``r`` is a stateless hash of ``(keys[r], e)``. Keys are a prefix-stable
stream (the first 100 keys are the same whether 100 or 10,000 runs are asked
for), so results never depend on threads, chunking, Dask workers or the order
in which runs are computed.
"""

import numbers

import numpy as np

__all__ = ["check_rng", "run_keys", "spawn", "seed_material"]


def check_rng(rng, name="rng"):
    """Return a ``SeedSequence`` or ``Generator`` for ``rng`` (None, int, SeedSequence, Generator)."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"'{name}' must be None, an int, a numpy SeedSequence or Generator. Got bool {rng!r}.")
    if isinstance(rng, (numbers.Integral, np.integer)):
        if int(rng) < 0:
            raise ValueError(f"'{name}' must be a non-negative int. Got {int(rng)}.")
        return np.random.SeedSequence(int(rng))
    if isinstance(rng, (np.random.SeedSequence, np.random.Generator)):
        return rng
    raise TypeError(
        f"'{name}' must be None, an int, a numpy SeedSequence or Generator. "
        f"Got {type(rng).__name__} instead."
    )


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
    source = check_rng(rng)
    if isinstance(source, np.random.SeedSequence):
        return source.spawn(n)
    return source.spawn(n)


def seed_material(rng):
    """Describe ``rng`` so a published number can be re-derived (JSON-friendly)."""
    source = check_rng(rng)
    if isinstance(source, np.random.SeedSequence):
        return {
            "kind": "SeedSequence",
            "entropy": str(source.entropy),
            "spawn_key": [int(k) for k in source.spawn_key],
        }
    state = source.bit_generator.state
    return {"kind": "Generator", "bit_generator": state.get("bit_generator"), "state": repr(state.get("state"))}
