"""Sunlight and shadow, and the beta angle.

The station is in eclipse when the Sun's centre is hidden by the Earth, taken as a
sphere of the WGS84 equatorial radius (6378.137 km): the line from the station to the
Sun's centre passes closer than that to the Earth's centre. Penumbra is not modelled
(the Sun's disc takes about 8 s to set at the ISS).
"""

from __future__ import annotations

import numpy as np

from ..times import Interval
from .elements import EARTH_EQUATORIAL_RADIUS_KM, ElementSet
from .propagation import propagate_teme
from .search import find_windows
from .sun import sun_teme_km

ECLIPSE_STEP_MS = 60_000
_PAD_MS = 50 * 60_000  # longer than any eclipse, so one open at the start is found whole


def shadow_depth_km(r_teme_km, sun_km) -> np.ndarray:
    """How far inside the Earth's disc the line to the Sun's centre passes (km).

    Positive in eclipse, negative in sunlight; continuous, so its zeros are the shadow
    entries and exits. Shapes ``(..., 3)`` in, ``(...)`` out, any common frame.
    """
    to_sun = sun_km - r_teme_km
    u = to_sun / np.linalg.norm(to_sun, axis=-1, keepdims=True)
    along = np.einsum("...i,...i->...", r_teme_km, u)
    r2 = np.einsum("...i,...i->...", r_teme_km, r_teme_km)
    miss = np.sqrt(np.maximum(r2 - along * along, 0.0))
    # Facing the Sun (along >= 0) the Earth cannot be in the way; the two branches meet
    # at along = 0, where the miss distance is |r|.
    nearest = np.where(along < 0.0, miss, np.sqrt(r2))
    return EARTH_EQUATORIAL_RADIUS_KM - nearest


def _depth(elements: ElementSet, t_ms) -> np.ndarray:
    r, _, _ = propagate_teme(elements, t_ms)
    return shadow_depth_km(r, sun_teme_km(t_ms))


def sunlit(elements: ElementSet, t_ms) -> np.ndarray:
    """True where the station sees the Sun's centre (boolean array like ``t_ms``)."""
    return _depth(elements, t_ms) <= 0.0


def eclipses(elements: ElementSet, start_ms: int, end_ms: int) -> list[Interval]:
    """Every eclipse that overlaps ``[start_ms, end_ms)``, with its true entry and exit."""
    if end_ms <= start_ms:
        return []
    grid = np.arange(start_ms - _PAD_MS, end_ms + _PAD_MS + ECLIPSE_STEP_MS, ECLIPSE_STEP_MS, dtype=np.int64)
    w = find_windows(grid, _depth(elements, grid), lambda t: _depth(elements, t))
    keep = (w.set_ms > start_ms) & (w.rise_ms < end_ms)
    return [Interval(int(a), int(b)) for a, b in zip(w.rise_ms[keep], w.set_ms[keep])]


def beta_angle_deg(elements: ElementSet, t_ms, teme=None, sun_km=None) -> np.ndarray:
    """The Sun's elevation above the orbit plane, in degrees (positive on the north side).

    ``teme``: ``(r_km, v_km_s)``, the TEME states at ``t_ms`` if already propagated, and
    ``sun_km`` the Sun's TEME position then (:func:`~issim.orbit.sun.sun_teme_km`), if
    already worked out (left as they are): the same numbers, not computed again."""
    r, v = teme if teme is not None else propagate_teme(elements, t_ms)[:2]
    normal = np.cross(r, v)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    sun = sun_teme_km(t_ms) if sun_km is None else sun_km
    sun = sun / np.linalg.norm(sun, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.einsum("...i,...i->...", normal, sun)))
