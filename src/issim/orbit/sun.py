"""The Sun's position, from ERFA's ``epv00`` (offline, accurate to a few kilometres per AU).

The Sun is computed on an hourly grid, rotated into TEME with Skyfield's frame (the same
frame SGP4 positions are in) and interpolated linearly to the times asked for: over an
hour the Sun moves 0.04° and the chord departs from the arc by under 1e-7 rad, far below
what eclipse timing notices. Positions are geometric (no aberration, about 20 arcseconds,
or under 0.1 s of eclipse timing) unless ``apparent=True`` asks for the direction an
observer on the Earth sees, with the annual aberration (first order in v/c): the one
twilight is defined by, where 20 arcseconds are 2 s of a Sun setting at mid-latitudes.
"""

from __future__ import annotations

import erfa
import numpy as np
from skyfield.constants import AU_KM
from skyfield.sgp4lib import TEME

from ..times import skyfield_time

GRID_MS = 3_600_000
_C_AU_PER_DAY = 299_792.458 * 86_400.0 / AU_KM


def sun_gcrs_km(t_ms, apparent: bool = False) -> np.ndarray:
    """Geocentric position of the Sun, km, GCRS axes, shape ``(N, 3)``."""
    t = skyfield_time(np.atleast_1d(np.asarray(t_ms, dtype=np.int64)))
    heliocentric_earth, barycentric_earth = erfa.epv00(t.whole, t.tdb_fraction)
    sun = -heliocentric_earth["p"]
    if apparent:  # u' = u + v/c, v the Earth's barycentric velocity
        sun = sun + np.linalg.norm(sun, axis=-1, keepdims=True) * barycentric_earth["v"] / _C_AU_PER_DAY
    return sun * AU_KM


def sun_teme_km(t_ms, apparent: bool = False) -> np.ndarray:
    """Geocentric position of the Sun, km, in the TEME frame of SGP4, shape ``(N, 3)``."""
    t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
    first = (t.min() // GRID_MS) * GRID_MS
    last = -(-t.max() // GRID_MS) * GRID_MS
    grid = np.arange(first, last + GRID_MS, GRID_MS, dtype=np.int64)
    rotation = TEME.rotation_at(skyfield_time(grid))  # (3, 3, M), GCRS -> TEME
    sun = np.einsum("ijm,mj->mi", rotation, sun_gcrs_km(grid, apparent))
    return np.stack([np.interp(t, grid, sun[:, k]) for k in range(3)], axis=-1)
