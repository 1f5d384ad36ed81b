"""Telemetry made small enough for a page, without losing what a reader looks for.

A run records every channel once a minute: 4,321 samples for three days, 10,081 for a
week, far more than a chart a thousand pixels wide can show. The report draws each
time chart on a common grid of *buckets* (``k`` consecutive samples each, at most
:data:`MAX_BUCKETS` of them) and gives every bucket two points:

- :func:`minmax` — the bucket's lowest and highest value, in the order they happened, so
  a spike, a dip or an oscillation keeps its full height (the run's extreme is always
  drawn);
- :func:`envelope` — for a band, the bucket's lowest, highest or mean value, twice: a band
  drawn from a series' per-bucket minimum to another's maximum encloses every sample.

The two points of bucket ``j`` are drawn at ``t0 + j·k·dt`` and ``t0 + (j + ½)·k·dt``, so
every series of a chart shares one evenly spaced x axis (plotly's ``x0``/``dx``: no time
column in the page). A point is off by less than one bucket in time, never in value.

:func:`runs` turns a state that holds for a while (sunlight, contact, who controls a
system) into intervals, which a page draws exactly at any zoom with a few numbers each.
"""

from __future__ import annotations

import numpy as np

MAX_BUCKETS = 400


def bucket_size(n: int, max_buckets: int = MAX_BUCKETS) -> int:
    """The samples per bucket: 1 (no thinning) up to ``2 · max_buckets`` samples, else the
    smallest ``k`` that leaves at most ``max_buckets`` buckets."""
    if n <= 2 * max_buckets:
        return 1
    return -(-n // max_buckets)


def _blocks(values: np.ndarray, k: int) -> np.ndarray:
    """``values`` as rows of ``k`` (buckets), the last row padded with its own last value."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    nb = -(-n // k)
    padded = np.concatenate([values, np.full(nb * k - n, values[-1] if n else np.nan)])
    return padded.reshape(nb, k)


def minmax(values: np.ndarray, k: int) -> np.ndarray:
    """Each bucket's min and max, in time order: ``2·ceil(n/k)`` values (``values`` itself when ``k`` is 1)."""
    values = np.asarray(values, dtype=np.float64)
    if k == 1 or len(values) == 0:
        return values
    b = _blocks(values, k)
    lo, hi = b.min(axis=1), b.max(axis=1)  # a NaN stays NaN: a gap in the line, as in the data
    low_first = b.argmin(axis=1) <= b.argmax(axis=1)
    out = np.empty(2 * len(b))
    out[0::2] = np.where(low_first, lo, hi)
    out[1::2] = np.where(low_first, hi, lo)
    return out


def envelope(values: np.ndarray, k: int, how: str) -> np.ndarray:
    """Each bucket's ``min``, ``max`` or ``mean``, twice (to sit on the same x as :func:`minmax`)."""
    values = np.asarray(values, dtype=np.float64)
    if k == 1 or len(values) == 0:
        return values
    b = _blocks(values, k)
    if how == "min":
        out = b.min(axis=1)
    elif how == "max":
        out = b.max(axis=1)
    else:
        n = len(values)
        counts = np.full(len(b), float(k))
        counts[-1] = n - (len(b) - 1) * k
        out = (b.sum(axis=1) - (k - counts) * values[-1]) / counts  # the padding does not count
    return np.repeat(out, 2)


def bucket_x(t_ms: np.ndarray, k: int) -> dict:
    """``x0``/``dx`` for the points of :func:`minmax` (samples evenly spaced), else ``x`` in ms."""
    t = np.asarray(t_ms, dtype=np.int64)
    if len(t) < 2:
        return {"x": t.astype(float)}
    step = int(t[1] - t[0])
    if not np.all(np.diff(t) == step):
        if k == 1:
            return {"x": t.astype(float)}
        starts = t[::k].astype(float)
        return {"x": np.column_stack([starts, starts + k * step / 2]).ravel()}
    return {"x0": _plotly_date(int(t[0])), "dx": step if k == 1 else k * step / 2}


def _plotly_date(t_ms: int) -> str:
    from ...times import format_iso

    return format_iso(int(t_ms)).replace("T", " ").rstrip("Z")


def runs(values: np.ndarray) -> list[tuple[int, int, object]]:
    """Stretches of equal consecutive values: ``(first index, index after the last, value)``."""
    values = np.asarray(values)
    if len(values) == 0:
        return []
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(values)]])
    return [(int(a), int(b), values[a].item()) for a, b in zip(starts, ends)]
