"""Propagate an element set and turn its TEME states into Earth-fixed and geodetic ones.

Shapes follow ``sgp4``: times are ``(N,)``, vectors ``(N, 3)`` with xyz on the last axis.
Positions are in kilometres, velocities in kilometres per second.

The frames:

- **TEME**, the True Equator Mean Equinox frame SGP4 produces (AIAA 2006-6753, App. C).
- **ITRS**, the Earth-fixed frame, reached from TEME by the Greenwich mean sidereal angle
  of 1982 (Skyfield's ``theta_GMST1982``, evaluated at UT1 from Skyfield's built-in
  tables). Polar motion (under 15 m) is neglected.
- **WGS84 geodetic** latitude, longitude and height, from ERFA's ``gc2gd``.
"""

from __future__ import annotations

from dataclasses import dataclass

import erfa
import numpy as np
from sgp4.api import SGP4_ERRORS
from skyfield.sgp4lib import theta_GMST1982

from ..times import jd_split, skyfield_time
from .elements import ElementSet

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class States:
    """Positions and velocities of one object at ``N`` times.

    ``error`` holds sgp4's error code per time (0 = fine); where it is not 0 the
    vectors are NaN and :meth:`messages` says why.
    """

    t_ms: np.ndarray  # (N,) int64 UTC milliseconds
    r_teme_km: np.ndarray  # (N, 3)
    v_teme_km_s: np.ndarray  # (N, 3)
    r_itrs_km: np.ndarray  # (N, 3)
    v_itrs_km_s: np.ndarray  # (N, 3)
    error: np.ndarray  # (N,) int

    def messages(self) -> list[str]:
        """sgp4's explanation for each time that failed (empty when none did)."""
        return [SGP4_ERRORS.get(int(e), str(e)) for e in np.unique(self.error[self.error != 0])]

    def geodetic(self):
        """WGS84 ``(lat_deg, lon_deg, alt_km)`` arrays of the positions."""
        return geodetic(self.r_itrs_km)

    @property
    def speed_km_s(self) -> np.ndarray:
        """Inertial (TEME) speed, in km/s: the figure usually quoted for the ISS."""
        return np.linalg.norm(self.v_teme_km_s, axis=-1)


def propagate_teme(elements: ElementSet, t_ms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run SGP4 at UTC milliseconds ``t_ms``; return ``(r_km, v_km_s, error)`` in TEME.

    Failed times carry NaN vectors and a non-zero error code.
    """
    t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
    whole, frac = jd_split(t)
    e, r, v = elements.satrec.sgp4_array(whole, frac)
    bad = e != 0
    if bad.any():
        r[bad] = np.nan
        v[bad] = np.nan
    return r, v, e


def teme_to_itrs(t_ms, r_teme_km, v_teme_km_s):
    """Rotate TEME states into the Earth-fixed ITRS frame.

    The velocity gains the Earth's rotation (``v_itrs = R v_teme - ω × r_itrs``), so it is
    the velocity seen from the ground.
    """
    t = skyfield_time(np.atleast_1d(np.asarray(t_ms, dtype=np.int64)))
    theta, theta_dot = theta_GMST1982(t.whole, t.ut1_fraction)
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = r_teme_km[..., 0], r_teme_km[..., 1], r_teme_km[..., 2]
    vx, vy, vz = v_teme_km_s[..., 0], v_teme_km_s[..., 1], v_teme_km_s[..., 2]
    r = np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)
    w = theta_dot / SECONDS_PER_DAY  # rad/s about +z
    v = np.stack([c * vx + s * vy + w * r[..., 1], -s * vx + c * vy - w * r[..., 0], vz], axis=-1)
    return r, v


def propagate(elements: ElementSet, t_ms) -> States:
    """Propagate ``elements`` to the UTC milliseconds ``t_ms`` (scalar or array)."""
    t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
    r, v, e = propagate_teme(elements, t)
    r_itrs, v_itrs = teme_to_itrs(t, r, v)
    return States(t, r, v, r_itrs, v_itrs, e)


def hermite(grid_ms: np.ndarray, r_km: np.ndarray, v_km_s: np.ndarray, t_ms) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities at ``t_ms`` by cubic Hermite interpolation of states on a grid.

    ``grid_ms`` is uniform, ``r_km``/``v_km_s`` are ``(N, 3)`` states there (``v`` the
    time derivative of ``r``, as ``States.v_itrs_km_s`` is of ``r_itrs_km``); times
    outside the grid are extrapolated from its end intervals. The position error is
    ``h**4 * |r| / 384``: for a 60 s grid and the ISS (``|r| = ω⁴ r`` with ω the
    orbital rate, 1.1e-3 rad/s) about 0.4 m, far below SGP4's own error.
    """
    t = np.asarray(t_ms, dtype=np.float64)
    step = float(grid_ms[1] - grid_ms[0])
    i = np.clip(((t - grid_ms[0]) // step).astype(np.int64), 0, len(grid_ms) - 2)
    s = ((t - grid_ms[i]) / step)[..., None]
    h = step / 1000.0
    p0, p1, m0, m1 = r_km[i], r_km[i + 1], v_km_s[i] * h, v_km_s[i + 1] * h
    s2, s3 = s * s, s * s * s
    r = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (3 * s2 - 2 * s3) * p1 + (s3 - s2) * m1
    v = ((6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * m0 + (3 * s2 - 2 * s) * m1) / h
    return r, v


def geodetic(r_itrs_km):
    """WGS84 latitude and longitude (degrees, longitude in [-180, 180)) and height (km)."""
    r = np.asarray(r_itrs_km, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN rows (times SGP4 could not reach) stay NaN
        lon, lat, height_m = erfa.gc2gd(erfa.WGS84, r * 1000.0)
    lon_deg = (np.degrees(lon) + 180.0) % 360.0 - 180.0
    return np.degrees(lat), lon_deg, height_m / 1000.0


def site_itrs_km(lat_deg: float, lon_deg: float, alt_m: float = 0.0):
    """The ITRS position (km) of a WGS84 ground site and its local vertical (unit vector)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    xyz_m = erfa.gd2gc(erfa.WGS84, lon, lat, alt_m)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    return np.asarray(xyz_m) / 1000.0, up
