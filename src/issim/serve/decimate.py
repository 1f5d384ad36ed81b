"""Cutting a channel's history to a time window, and thinning it for a plot.

Open MCT asks for history with ``start`` and ``end`` (UTC ms, both inclusive here) and
optionally a strategy: ``latest`` (the last ``size`` points of the window, for a single
value on screen) or ``minmax`` (for a plot ``size`` pixels wide: the window cut into
``size`` equal time buckets, and of each bucket the point with the least value and the
point with the greatest, in time order). Everything here is a handful of numpy passes over
the window, so a million points thin in a few tens of milliseconds.
"""

from __future__ import annotations

import numpy as np


def window(t_ms: np.ndarray, values: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The points with ``start <= t <= end`` (``t_ms`` ascending): views, not copies."""
    i0 = int(np.searchsorted(t_ms, start, side="left"))
    i1 = int(np.searchsorted(t_ms, end, side="right"))
    return t_ms[i0:i1], values[i0:i1]


def latest(t_ms: np.ndarray, values: np.ndarray, size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The last ``size`` points."""
    return t_ms[-size:], values[-size:]


def minmax(t_ms: np.ndarray, values: np.ndarray, start: int, end: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Of the points in ``[start, end]`` cut into ``size`` equal time buckets, the first point
    holding each bucket's minimum and the first holding its maximum, in time order (one point
    when they are the same). A NaN is no extreme; a window of at most ``2 * size`` points
    comes back whole."""
    t, v = window(t_ms, values, start, end)
    finite = ~np.isnan(v)
    if not finite.all():
        t, v = t[finite], v[finite]
    if len(t) <= 2 * size:
        return t, v
    span = end - start + 1
    bucket = (t - start) * size // span  # nondecreasing, in [0, size)
    first = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])  # where each bucket starts
    counts = np.diff(np.r_[first, len(v)])
    owner = np.repeat(np.arange(len(first)), counts)  # each point's bucket, renumbered 0..k-1
    keep = np.zeros(len(v), dtype=bool)
    for extreme in (np.minimum, np.maximum):
        best = extreme.reduceat(v, first)
        hits = np.flatnonzero(v == best[owner])
        keep[hits[np.r_[True, owner[hits][1:] != owner[hits][:-1]]]] = True  # the first hit of each bucket
    return t[keep], v[keep]
