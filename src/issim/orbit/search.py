"""Find the windows in which a smooth, orbit-periodic function is positive.

Passes (elevation above a mask), contacts (line of sight to a relay) and sunlight or
shadow are all "intervals where f(t) > 0" for an ``f`` that rises to one maximum per
orbit and falls again. The search works on whole arrays at once:

1. sample ``f`` on a grid whose step is a small fraction of an orbit;
2. take each sampled local maximum: for a function with one maximum between its
   minima, the true maximum lies between the two neighbouring samples;
3. refine all those maxima together by golden-section search (short windows that fall
   between two samples are found this way, as Skyfield's ``find_events`` finds them);
4. for each maximum above zero, bisect the rise and the set to the millisecond.

Times are integer UTC milliseconds; ``evaluate(t_ms)`` must accept an int64 array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0

Evaluate = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Windows:
    """Intervals where ``f > 0``: rise, peak and set times (ms) and the peak values."""

    rise_ms: np.ndarray
    peak_ms: np.ndarray
    set_ms: np.ndarray
    peak_value: np.ndarray

    def __len__(self) -> int:
        return len(self.rise_ms)

    def select(self, keep: np.ndarray) -> "Windows":
        return Windows(self.rise_ms[keep], self.peak_ms[keep], self.set_ms[keep], self.peak_value[keep])


def find_windows(
    grid_ms: np.ndarray,
    grid_f: np.ndarray,
    evaluate: Evaluate,
    *,
    margin: float = np.inf,
    peak_tol_ms: int = 20,
) -> Windows:
    """Find the intervals where ``f > 0``, given ``f`` sampled on a uniform grid.

    ``margin`` prunes maxima that cannot reach zero: a bracket is refined only if its
    best sample is above ``-margin``. It must bound how much the true maximum can exceed
    the best sample of its bracket (the default refines every maximum).
    A window already open at the first sample, or still open at the last, is cut there.
    """
    grid_ms = np.asarray(grid_ms, dtype=np.int64)
    f = np.asarray(grid_f, dtype=np.float64)
    n = len(f)
    if n < 3:
        raise ValueError("the search grid needs at least three samples")
    inner = np.arange(1, n - 1)
    is_peak = (f[inner] > f[inner - 1]) & (f[inner] >= f[inner + 1]) & (f[inner] > -margin)
    k = inner[is_peak]
    # A window open at either end of the grid has its maximum there, not inside.
    if f[0] > 0 and f[0] >= f[1]:
        k = np.concatenate([[0], k])
    if f[-1] > 0 and f[-1] > f[-2]:
        k = np.concatenate([k, [n - 1]])

    lo = grid_ms[np.maximum(k - 1, 0)].astype(np.float64)
    hi = grid_ms[np.minimum(k + 1, n - 1)].astype(np.float64)
    peak_ms, peak_f = _golden_max(evaluate, lo, hi, peak_tol_ms)
    # The grid samples are part of the evidence too: keep the best of both.
    sample_better = f[k] > peak_f
    peak_ms = np.where(sample_better, grid_ms[k], peak_ms)
    peak_f = np.where(sample_better, f[k], peak_f)

    up = peak_f > 0
    k, peak_ms, peak_f = k[up], peak_ms[up], peak_f[up]

    below = f <= 0
    idx = np.arange(n)
    last_below = np.maximum.accumulate(np.where(below, idx, -1))
    next_below = np.minimum.accumulate(np.where(below, idx, n)[::-1])[::-1]

    # f rises monotonically from the last non-positive sample before the peak, and falls
    # to the first one after it: each crossing lies between that sample and its neighbour.
    before = np.searchsorted(grid_ms, peak_ms, side="right") - 1
    after = np.searchsorted(grid_ms, peak_ms, side="left")
    j = last_below[np.clip(before, 0, n - 1)]
    rise = np.full(len(k), grid_ms[0], dtype=np.int64)
    has_rise = (before >= 0) & (j >= 0)
    if has_rise.any():
        a = grid_ms[j[has_rise]]
        b = np.minimum(grid_ms[np.minimum(j[has_rise] + 1, n - 1)], peak_ms[has_rise])
        rise[has_rise] = _bisect(evaluate, a, b, rising=True)

    j2 = next_below[np.clip(after, 0, n - 1)]
    sets = np.full(len(k), grid_ms[-1], dtype=np.int64)
    has_set = (after < n) & (j2 < n)
    if has_set.any():
        b = grid_ms[j2[has_set]]
        a = np.maximum(grid_ms[np.maximum(j2[has_set] - 1, 0)], peak_ms[has_set])
        sets[has_set] = _bisect(evaluate, a, b, rising=False)

    # Two sampled maxima inside one window (a flat top) would report it twice.
    _, first = np.unique(rise, return_index=True)
    first.sort()
    return Windows(rise[first], peak_ms[first].astype(np.int64), sets[first], peak_f[first])


def _golden_max(evaluate: Evaluate, lo: np.ndarray, hi: np.ndarray, tol_ms: int):
    """Golden-section search for the maximum of ``f`` in each ``[lo, hi]`` (vectorised)."""
    a, b = lo.copy(), hi.copy()
    if len(a) == 0:
        return a.astype(np.int64), a
    c = b - _INV_PHI * (b - a)
    d = a + _INV_PHI * (b - a)
    fc = evaluate(np.rint(c).astype(np.int64))
    fd = evaluate(np.rint(d).astype(np.int64))
    while np.max(b - a) > tol_ms:
        left = fc > fd  # the maximum is in [a, d]
        a = np.where(left, a, c)
        b = np.where(left, d, b)
        new_c = b - _INV_PHI * (b - a)
        new_d = a + _INV_PHI * (b - a)
        x = np.where(left, new_c, new_d)
        fx = evaluate(np.rint(x).astype(np.int64))
        fc, fd, c, d = (
            np.where(left, fx, fd),
            np.where(left, fc, fx),
            np.where(left, x, d),
            np.where(left, c, x),
        )
    t = np.rint((a + b) / 2.0).astype(np.int64)
    return t, evaluate(t)


def _bisect(evaluate: Evaluate, a, b, *, rising: bool) -> np.ndarray:
    """The first millisecond at which ``f > 0`` (rising) or ``f <= 0`` (setting) in [a, b]."""
    a = np.asarray(a, dtype=np.int64).copy()
    b = np.asarray(b, dtype=np.int64).copy()
    while np.any(b - a > 1):
        m = (a + b) // 2
        positive = evaluate(m) > 0
        after = positive if rising else ~positive  # the event has happened by m
        b = np.where(after, m, b)
        a = np.where(after, a, m)
    return b
