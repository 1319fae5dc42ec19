"""Estimators with standard errors and confidence intervals (normal approximation)."""

import math

import numpy as np

__all__ = ["z_value", "mean_ci", "ratio_ci", "proportion_ci"]


def z_value(confidence):
    from scipy import stats  # imported here: scipy.stats costs ~0.7 s at `import microviral`

    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def mean_ci(x, confidence=0.95):
    """Return (mean, standard error, low, high) of the sample mean of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n == 0:
        return (math.nan,) * 4
    m = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = z_value(confidence)
    return m, se, m - z * se, m + z * se


def ratio_ci(y, x, confidence=0.95, scale=1.0):
    """Ratio of means ``scale * mean(y) / mean(x)`` with a delta-method standard error."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = y.size
    mx = float(x.mean()) if n else math.nan
    if n == 0 or mx == 0:
        return (math.nan,) * 4
    r = float(y.mean()) / mx
    se = float(np.std(y - r * x, ddof=1) / (math.sqrt(n) * mx)) if n > 1 else math.nan
    z = z_value(confidence)
    return scale * r, scale * se, scale * (r - z * se), scale * (r + z * se)


def proportion_ci(successes, n, confidence=0.95):
    """Share ``successes / n`` with its standard error and Wilson score interval."""
    if n == 0:
        return (math.nan,) * 4
    p = successes / n
    se = math.sqrt(p * (1 - p) / n)
    z = z_value(confidence)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, se, max(0.0, centre - half), min(1.0, centre + half)
