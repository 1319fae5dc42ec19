"""Stateless coins: splitmix64 of (run key, arc index).

For a fixed key, ``mix64(key + (e + 1) * GOLDEN)`` over arcs ``e = 0, 1, ...`` is
exactly the SplitMix64 stream seeded with ``key``, a generator that passes
BigCrush. Arc ``e`` is live in the run with key ``key`` iff
``uniform(key, e) < prob[e]``, where ``uniform`` takes the top 53 bits, so
p = 0 is never live and p = 1 is always live.
"""

import numpy as np
from numba import njit

from .._config import JIT

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(**JIT)
def mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**JIT)
def arc_uniform(key, arc):
    """Uniform in [0, 1) for arc ``arc`` in the run with key ``key``."""
    z = mix64(key + (np.uint64(arc) + np.uint64(1)) * GOLDEN)
    return np.float64(z >> _S11) * _INV53


def arc_uniform_py(key, arc):
    """Pure-Python twin of :func:`arc_uniform` (the tests' oracle)."""
    mask = (1 << 64) - 1
    z = (int(key) + (int(arc) + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z = z ^ (z >> 31)
    return (z >> 11) * 2.0**-53
