"""Find the windows in which a smooth, orbit-periodic function is positive.

Passes (elevation above a mask), contacts (line of sight to a relay) and sunlight or
shadow are all "intervals where f(t) > 0" for an ``f`` that rises to one maximum per
orbit and falls again. The search works on whole arrays at once:

1. sample ``f`` on a grid whose step is a small fraction of an orbit;
2. take each sampled local maximum: for a function with one maximum between its
   minima, the true maximum lies between the two neighbouring samples;
3. refine all those maxima together (short windows that fall between two samples are
   found this way, as Skyfield's ``find_events`` finds them): where the caller gives the
   rate ``df/dt``, as the zero of the rate in its bracket; otherwise by golden-section
   search;
4. for each maximum above zero, find the rise and the set to the millisecond.

Zeros are found by regula falsi with the Illinois modification (Dowell and Jarratt, BIT
11, 1971), vectorised over every bracket at once: it keeps the bracket like bisection but
converges superlinearly, so a crossing takes about six evaluations instead of sixteen;
two steps that together fail to halve the bracket are followed by a bisection step, so
it is never much slower than bisection.

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
    rate: Evaluate | None = None,
) -> Windows:
    """Find the intervals where ``f > 0``, given ``f`` sampled on a uniform grid.

    ``margin`` prunes maxima that cannot reach zero: a bracket is refined only if its
    best sample is above ``-margin``. It must bound how much the true maximum can exceed
    the best sample of its bracket (the default refines every maximum).
    ``rate(t_ms)``, if given, is ``df/dt`` (any positive multiple will do): maxima are
    then its zeros. A window already open at the first sample, or still open at the last,
    is cut there.
    """
    grid_ms = np.asarray(grid_ms, dtype=np.int64)
    f = np.asarray(grid_f, dtype=np.float64)
    n = len(f)
    if n < 3:
        raise ValueError("the search grid needs at least three samples")
    # Only samples above -margin can be the maximum of a window worth refining.
    inner = np.flatnonzero(f[1:-1] > -margin) + 1
    k = inner[(f[inner] > f[inner - 1]) & (f[inner] >= f[inner + 1])]
    # A window open at either end of the grid has its maximum there, not inside.
    if f[0] > 0 and f[0] >= f[1]:
        k = np.concatenate([[0], k])
    if f[-1] > 0 and f[-1] > f[-2]:
        k = np.concatenate([k, [n - 1]])

    lo = grid_ms[np.maximum(k - 1, 0)].astype(np.float64)
    hi = grid_ms[np.minimum(k + 1, n - 1)].astype(np.float64)
    if rate is None:
        peak_ms, peak_f = _golden_max(evaluate, lo, hi, peak_tol_ms)
    else:
        peak_ms, peak_f = _rate_max(evaluate, rate, lo.astype(np.int64), hi.astype(np.int64), grid_ms[k], peak_tol_ms)
    # The grid samples are part of the evidence too: keep the best of both.
    sample_better = f[k] > peak_f
    peak_ms = np.where(sample_better, grid_ms[k], peak_ms)
    peak_f = np.where(sample_better, f[k], peak_f)

    up = peak_f > 0
    k, peak_ms, peak_f = k[up], peak_ms[up], peak_f[up]

    below = np.flatnonzero(f <= 0)
    # f rises monotonically from the last non-positive sample before the peak, and falls
    # to the first one after it: each crossing lies between that sample and its neighbour.
    before = np.searchsorted(grid_ms, peak_ms, side="right") - 1
    after = np.searchsorted(grid_ms, peak_ms, side="left")
    # The last non-positive sample at or before the peak (-1: none), the first at or after it (n: none).
    i = np.searchsorted(below, before, side="right") - 1
    j = np.where(i >= 0, below[np.maximum(i, 0)], -1)
    rise = np.full(len(k), grid_ms[0], dtype=np.int64)
    has_rise = (before >= 0) & (j >= 0)
    if has_rise.any():
        a = grid_ms[j[has_rise]]
        b = np.minimum(grid_ms[np.minimum(j[has_rise] + 1, n - 1)], peak_ms[has_rise])
        rise[has_rise] = _first_positive(evaluate, a, b, rising=True)

    i2 = np.searchsorted(below, after, side="left")
    j2 = np.where(i2 < len(below), below[np.minimum(i2, len(below) - 1)], n)
    sets = np.full(len(k), grid_ms[-1], dtype=np.int64)
    has_set = (after < n) & (j2 < n)
    if has_set.any():
        b = grid_ms[j2[has_set]]
        a = np.maximum(grid_ms[np.maximum(j2[has_set] - 1, 0)], peak_ms[has_set])
        sets[has_set] = _first_positive(evaluate, a, b, rising=False)

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


def _rate_max(evaluate: Evaluate, rate: Evaluate, lo, hi, sample_ms, tol_ms: int):
    """The maximum of ``f`` in each ``[lo, hi]`` as the zero of its rate.

    Where the rate does not change sign across a bracket (a window cut at an end of the
    grid), the sample itself stands.
    """
    if len(lo) == 0:
        return lo, lo.astype(np.float64)
    r_lo, r_mid, r_hi = rate(lo), rate(sample_ms), rate(hi)
    # The maximum is on the side of the sample where the rate changes sign.
    left = (r_mid <= 0) & (r_lo > 0)
    right = ~left & (r_mid > 0) & (r_hi <= 0)
    peak = sample_ms.copy()
    for side, a, b in ((left, lo, sample_ms), (right, sample_ms, hi)):
        if side.any():
            peak[side] = _first_positive(rate, a[side], b[side], rising=False, tol_ms=tol_ms)
    return peak, evaluate(peak)


def _first_positive(evaluate: Evaluate, a, b, *, rising: bool, tol_ms: int = 1) -> np.ndarray:
    """The first millisecond at which ``f > 0`` (rising) or ``f <= 0`` (setting) in ``(a, b]``.

    ``f`` must be on the other side at ``a`` and have crossed by ``b``; the answer is
    exact to ``tol_ms`` (1: the very millisecond). Illinois regula falsi, all brackets at once.
    """
    a = np.asarray(a, dtype=np.int64).copy()
    b = np.asarray(b, dtype=np.int64).copy()
    sign = 1.0 if rising else -1.0
    # g > 0 once the event has happened; fa <= 0 < fb.
    fa = np.minimum(sign * evaluate(a), 0.0)
    fb = sign * evaluate(b)
    fb = np.where(fb > 0, fb, np.finfo(float).tiny)  # crossed at b by the caller's word
    kept = np.zeros(len(a), dtype=np.int8)  # which end the last step kept: -1 a, +1 b
    width_1 = np.full(len(a), np.inf)  # the bracket's width one and two steps ago
    width_2 = width_1.copy()
    open_ = np.flatnonzero(b - a > tol_ms)
    while len(open_):
        ai, bi, ga, gb = a[open_], b[open_], fa[open_], fb[open_]
        x = ai - ga * (bi - ai) / (gb - ga)
        # Two steps that did not halve the bracket are followed by a bisection (and so is
        # a value sgp4 could not give).
        width = (bi - ai).astype(np.float64)
        slow = (width > 0.5 * width_2[open_]) | ~np.isfinite(x)
        width_2[open_], width_1[open_] = width_1[open_], width
        x = np.where(slow, (ai + bi) / 2.0, x)
        x = np.clip(np.rint(x), ai + 1, bi - 1).astype(np.int64)
        gx = sign * evaluate(x)
        after = gx > 0
        # Illinois: an end kept twice in a row has its value halved, so that it moves next time.
        halve_a = after & (kept[open_] == -1)
        halve_b = ~after & (kept[open_] == 1)
        fa[open_] = np.where(after, np.where(halve_a, ga / 2.0, ga), np.minimum(gx, 0.0))
        fb[open_] = np.where(after, gx, np.where(halve_b, gb / 2.0, gb))
        a[open_] = np.where(after, ai, x)
        b[open_] = np.where(after, x, bi)
        kept[open_] = np.where(after, -1, 1)
        open_ = open_[b[open_] - a[open_] > tol_ms]
    return b
