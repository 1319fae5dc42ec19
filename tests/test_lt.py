"""Linear threshold: thresholds, kernel, oracle."""

import numpy as np
from numba import njit

from microviral._kernels.hashing import arc_uniform_py, node_threshold, node_threshold_py


@njit
def _thresholds(key, n):
    out = np.empty(n)
    for v in range(n):
        out[v] = node_threshold(key, v)
    return out


KEYS = [0, 1, 42, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15]


def test_threshold_kernel_equals_pure_python_twin():
    for key in KEYS:
        got = _thresholds(np.uint64(key), 200)
        want = np.array([node_threshold_py(key, v) for v in range(200)])
        assert np.array_equal(got, want), key


def test_thresholds_lie_in_the_half_open_unit_interval_and_are_uniform():
    keys = np.random.default_rng(1).integers(0, 2**63, size=40, dtype=np.uint64)
    t = np.concatenate([_thresholds(k, 2500) for k in keys])  # 100,000 values
    assert t.min() > 0.0 and t.max() <= 1.0
    # Kolmogorov-Smirnov distance to U(0, 1): 1.63 / sqrt(n) is the 1% critical value.
    t.sort()
    n = t.size
    d = max(np.max(np.arange(1, n + 1) / n - t), np.max(t - np.arange(n) / n))
    assert d < 1.63 / np.sqrt(n)
    assert abs(t.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)


def test_thresholds_are_independent_of_the_arc_coins():
    """Threshold of node i and coin of arc i under the same key: uncorrelated, and never the same stream."""
    n = 20000
    key = 12345
    t = np.array([node_threshold_py(key, i) for i in range(n)])
    u = np.array([arc_uniform_py(key, i) for i in range(n)])
    assert not np.any(t == u) and not np.any(t == 1.0 - u)
    assert abs(np.corrcoef(t, u)[0, 1]) < 4 / np.sqrt(n)
    assert abs(np.corrcoef(t, 1.0 - u)[0, 1]) < 4 / np.sqrt(n)
    # different keys give different thresholds for the same node
    assert len({node_threshold_py(k, 3) for k in range(100)}) == 100
