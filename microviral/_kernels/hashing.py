"""Stateless coins: splitmix64 of (run key, arc index).

For a fixed key, ``mix64(key + (e + 1) * GOLDEN)`` over arcs ``e = 0, 1, ...`` is
exactly the SplitMix64 stream seeded with ``key``, a generator that passes
BigCrush. Arc ``e`` is live in the run with key ``key`` iff
``uniform(key, e) < prob[e]``, where ``uniform`` takes the top 53 bits, so
p = 0 is never live and p = 1 is always live.

Linear-threshold thresholds come from a second SplitMix64 stream: node ``v``'s
threshold in the run with key ``key`` is ``node_threshold(key, v)``, the stream
seeded with ``mix64(key ^ THRESHOLD_SALT)`` at position ``v``, mapped to (0, 1]
(never 0, so a node with no active in-weight never activates). Seeding the
stream with a hashed, salted key keeps the thresholds independent of the arc
coins of the same key.
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
THRESHOLD_SALT = np.uint64(0x4C54_7448_7265_7368)  # "LTThresh": any constant works; fixed forever (replays)


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
    z = _mix64_py((int(key) + (int(arc) + 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))
    return (z >> 11) * 2.0**-53


@njit(**JIT)
def threshold_stream(key):
    """The key of the threshold stream of the run with key ``key`` (hoisted out of per-node loops)."""
    return mix64(key ^ THRESHOLD_SALT)


@njit(**JIT)
def stream_threshold(stream, v):
    """Threshold of node ``v`` given ``threshold_stream(key)``: uniform on (0, 1], in steps of 2**-53."""
    z = mix64(stream + (np.uint64(v) + np.uint64(1)) * GOLDEN)
    return np.float64((z >> _S11) + np.uint64(1)) * _INV53


@njit(**JIT)
def node_threshold(key, v):
    """Linear-threshold threshold of node ``v`` in the run with key ``key``, in (0, 1].

    Node ``v`` becomes active once the summed weight of its active in-neighbours
    reaches (``>=``) this value.
    """
    return stream_threshold(threshold_stream(key), v)


def node_threshold_py(key, v):
    """Pure-Python twin of :func:`node_threshold` (the tests' oracle).

    Examples
    --------
    >>> t = node_threshold_py(42, 7)
    >>> 0.0 < t <= 1.0
    True
    """
    stream = _mix64_py(int(key) ^ 0x4C54_7448_7265_7368)
    z = _mix64_py((stream + (int(v) + 1) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))
    return ((z >> 11) + 1) * 2.0**-53


def _mix64_py(z):
    mask = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)
