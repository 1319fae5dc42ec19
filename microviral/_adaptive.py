"""Adaptive run counts: add runs until a confidence interval is as narrow as asked.

The procedure (``docs/metrics.md``, "Adaptive run counts") is Stein's two-stage
procedure with re-estimation (Stein 1945; Mukhopadhyay and de Silva 2009):

1. Run a first stage of ``n_first`` runs (at least 30) and compute the interval of each watched
   mean (the intervals of :mod:`microviral._stats`, at the requested confidence).
2. If every half-width ``h`` is within its tolerance ``w``, stop. Otherwise the
   half-width shrinks like ``1 / sqrt(N)``, so ``N (h / w)**2`` runs should do;
   Stein's factor ``(t_{N-1} / z)**2`` allows for the variance having been
   estimated from ``N`` runs. Add runs up to that total (at least 10% more, at
   most 4 times as many, never past ``max_runs``) and go back to 2 with all runs pooled.

The reported interval is the ordinary interval of all the runs. Because the total
depends on the first stage's variance only through a ratio estimated from many
runs, it keeps its coverage; ``tests/test_adaptive.py`` measures it by repetition
against exact answers. The module is pure numpy: callers pass a function that
makes the first ``n`` runs available and one that measures the intervals.

Keys are one prefix-stable stream (:class:`KeyStream`), so a result that stopped
at ``N`` runs equals, bit for bit, a fixed call of ``N`` runs with the same ``rng``.
"""

import math
import warnings

import numpy as np

from ._rng import check_rng
from ._stats import _t_value, check_confidence, z_value
from ._validation import check_float, check_int

__all__ = ["KeyStream", "check_tolerances", "run_adaptive"]

# Each new stage adds at least this share of the runs so far (fewer, larger stages), and at most multiplies
# them by _MAX_GROWTH: when no run so far shows a rare event the interval shrinks like 1 / N, not 1 / sqrt(N),
# and the projection would overshoot.
_MIN_GROWTH = 0.1
_MAX_GROWTH = 4.0
# A smaller first stage estimates the variance too poorly for the projection (measured: coverage 94.3% with 10).
MIN_FIRST_STAGE = 30


class KeyStream:
    """The first ``n`` run keys of ``rng``, for growing ``n``: the keys of ``run_keys(rng, n)``."""

    def __init__(self, rng):
        self.source = check_rng(rng)
        self.keys = np.empty(0, dtype=np.uint64)

    def take(self, n):
        if n > self.keys.size:
            if isinstance(self.source, np.random.SeedSequence):
                self.keys = np.ascontiguousarray(self.source.generate_state(n, np.uint64))
            else:  # a Generator's draws continue its stream: n keys in two draws equal n keys in one
                more = self.source.integers(0, 2**64, size=n - self.keys.size, dtype=np.uint64, endpoint=False)
                self.keys = np.concatenate([self.keys, more])
        return self.keys[:n]


def check_tolerances(tol, rtol, n_first, max_runs, *, relative=True):
    """Validate ``tol``, ``rtol`` (positive floats or None) and ``max_runs >= n_first``."""
    tol = None if tol is None else check_float(tol, "tol", low=0.0, low_open=True)
    if rtol is not None and not relative:
        raise ValueError("'rtol' is not available here; give 'tol'.")
    rtol = None if rtol is None else check_float(rtol, "rtol", low=0.0, low_open=True)
    max_runs = check_int(max_runs, "max_runs", minimum=2, maximum=2**31 - 1)
    if max_runs < n_first:
        raise ValueError(f"'max_runs' must be >= 'n_runs' (the first stage, {n_first} runs). Got {max_runs}.")
    if n_first < 2:
        raise ValueError(f"'n_runs' (the first stage) must be >= 2 with 'tol' or 'rtol'. Got {n_first}.")
    return tol, rtol, max_runs


def _widths(intervals, tol, rtol):
    """Half-width of each interval, and the half-width each must reach."""
    mean, low, high = (np.asarray(a, dtype=np.float64) for a in zip(*intervals))
    half = (high - low) / 2.0
    want = np.zeros_like(half)
    if tol is not None:
        want = np.maximum(want, tol)
    if rtol is not None:
        want = np.maximum(want, rtol * np.abs(mean))
    return half, want


def run_adaptive(extend, measure, *, n_first, tol, rtol, max_runs, confidence=0.95, what="the mean"):
    """Add runs until every interval from ``measure()`` has half-width within tolerance.

    Parameters
    ----------
    extend : callable ``extend(n)``
        Makes the first ``n`` runs available (runs the missing ones).
    measure : callable ``measure() -> list of (mean, ci_low, ci_high)``
        Intervals of the watched means over the runs so far, at ``confidence``.
    n_first, max_runs : int
        First stage and most runs.
    tol, rtol : float or None
        A half-width within ``tol``, or within ``rtol * |mean|``, is enough.
    what : str
        Names the watched means in the warning.

    Returns
    -------
    dict
        ``n_runs`` (the total), ``stages`` (totals after each stage), ``half_width``
        (the largest), ``reached`` (False when ``max_runs`` stopped it first).

    Examples
    --------
    >>> import numpy as np
    >>> from microviral._adaptive import run_adaptive
    >>> from microviral._stats import mean_ci
    >>> x = np.random.default_rng(0).random(100_000)
    >>> state = {"n": 0}
    >>> def extend(n): state["n"] = n
    >>> def measure():
    ...     m, _, lo, hi = mean_ci(x[:state["n"]], low=0, high=1)
    ...     return [(m, lo, hi)]
    >>> info = run_adaptive(extend, measure, n_first=100, tol=0.01, rtol=None, max_runs=100_000)
    >>> info["reached"], info["half_width"] <= 0.01
    (True, True)
    """
    confidence = check_confidence(confidence)
    z = z_value(confidence)
    n = min(max(n_first, MIN_FIRST_STAGE), max_runs)
    extend(n)
    stages = [n]
    while True:
        intervals = measure()
        if not intervals:  # nothing to watch (e.g. compare with the baseline alone)
            return dict(n_runs=n, stages=stages, half_width=0.0, reached=True)
        half, want = _widths(intervals, tol, rtol)
        worst = float(np.max(half / np.where(want > 0, want, np.nan))) if np.all(want > 0) else math.inf
        if not np.isnan(half).any() and np.all(half <= want):
            return dict(n_runs=n, stages=stages, half_width=float(np.max(half)), reached=True)
        if n >= max_runs:
            warnings.warn(
                f"stopped at max_runs={max_runs}: the {confidence:.0%} interval of {what} has half-width "
                f"{float(np.nanmax(half)):.4g}, wider than asked ({_asked(tol, rtol)}); raise 'max_runs' "
                f"or loosen the tolerance.", RuntimeWarning, stacklevel=4)  # the caller of simulate or compare
            return dict(n_runs=n, stages=stages, half_width=float(np.nanmax(half)), reached=False)
        stein = (float(_t_value(confidence, n - 1)) / z) ** 2
        need = n * worst * worst * stein if math.isfinite(worst) else 2 * n  # a 0 mean with rtol: double
        n = int(min(max_runs, math.ceil(n * _MAX_GROWTH),
                    max(math.ceil(need), math.ceil(n * (1 + _MIN_GROWTH)), n + 1)))
        extend(n)
        stages.append(n)


def _asked(tol, rtol):
    parts = ([] if tol is None else [f"tol={tol:g}"]) + ([] if rtol is None else [f"rtol={rtol:g} of the mean"])
    return " or ".join(parts)
