"""Passes over ground sites and contact windows with relay satellites.

A pass is the interval in which the station stands above a site's elevation mask
(degrees above the WGS84 local horizon, no refraction): acquisition of signal (AOS),
culmination (highest elevation) and loss of signal (LOS). A relay contact is the interval
in which the line from the station to a geostationary relay clears the Earth and its
atmosphere, while the relay's ground terminal sees the relay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..times import Interval, format_iso
from .elements import EARTH_EQUATORIAL_RADIUS_KM, ElementSet
from .propagation import States, hermite, propagate
from .search import Windows, find_windows
from .sites import GroundSite, Relay, find_site

PASS_STEP_MS = 120_000  # the search grid; hermite() is good to 5 m on it
CONTACT_STEP_MS = 60_000
GRAZING_ALTITUDE_KM = 100.0  # estimate: a link must clear the atmosphere by this much
_PAD_MS = 20 * 60_000  # longer than any ISS pass above 0°
_SAFETY = 1.5


@dataclass(frozen=True)
class Pass:
    """One pass over a site; times in UTC milliseconds, angles in degrees.

    Azimuths are measured from true north through east, in [0, 360).
    """

    aos_ms: int
    culmination_ms: int
    los_ms: int
    max_elevation_deg: float
    aos_azimuth_deg: float = float("nan")
    culmination_azimuth_deg: float = float("nan")
    los_azimuth_deg: float = float("nan")

    @property
    def duration_s(self) -> float:
        return (self.los_ms - self.aos_ms) / 1000.0

    def to_json(self) -> dict:
        return {
            "aos": format_iso(self.aos_ms),
            "culmination": format_iso(self.culmination_ms),
            "los": format_iso(self.los_ms),
            "max_elevation_deg": round(float(self.max_elevation_deg), 3),
            "aos_azimuth_deg": round(float(self.aos_azimuth_deg), 2),
            "culmination_azimuth_deg": round(float(self.culmination_azimuth_deg), 2),
            "los_azimuth_deg": round(float(self.los_azimuth_deg), 2),
        }


def as_site(site: GroundSite | str | tuple) -> GroundSite:
    """Accept a site, a site name, or ``(lat_deg, lon_deg[, alt_m])``."""
    if isinstance(site, GroundSite):
        return site
    if isinstance(site, str):
        return find_site(site)
    lat, lon, *alt = site
    return GroundSite(id="custom", name=f"{lat:.4f}, {lon:.4f}", lat_deg=lat, lon_deg=lon, alt_m=alt[0] if alt else 0.0)


def elevation_deg(r_itrs_km: np.ndarray, site_km: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Elevation (degrees) of ITRS positions ``(N, 3)`` above a site's local horizon."""
    rho = r_itrs_km - site_km
    return np.degrees(np.arcsin(np.clip((rho @ up) / np.linalg.norm(rho, axis=-1), -1.0, 1.0)))


def azimuth_deg(r_itrs_km: np.ndarray, site: GroundSite) -> np.ndarray:
    """Azimuth (degrees from true north through east, [0, 360)) of ITRS positions ``(N, 3)``."""
    lat, lon = np.radians(site.lat_deg), np.radians(site.lon_deg)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    rho = r_itrs_km - site.itrs_km()[0]
    return np.degrees(np.arctan2(_dot(rho, east), _dot(rho, north))) % 360.0


def passes(
    elements: ElementSet,
    site: GroundSite | str | tuple,
    start_ms: int,
    end_ms: int,
    min_elevation_deg: float = 10.0,
) -> list[Pass]:
    """Every pass over ``site`` that is above the mask at some time in ``[start, end)``.

    Each pass is reported whole, so one in progress at ``start_ms`` keeps its true AOS.
    """
    return passes_for_sites(elements, [as_site(site)], start_ms, end_ms, min_elevation_deg)[0]


def passes_for_sites(
    elements: ElementSet,
    sites: Sequence[GroundSite],
    start_ms: int,
    end_ms: int,
    min_elevation_deg: float = 10.0,
) -> list[list[Pass]]:
    """Passes over several sites at once.

    The station is propagated once, on a 2-minute grid, for all sites; the search
    between the samples works on the cubic Hermite interpolation of those states
    (:func:`~issim.orbit.propagation.hermite`, within about 5 m of SGP4's own positions,
    a few milliseconds of pass time), so refining the passes calls SGP4 no more.
    """
    if not 0.0 <= min_elevation_deg < 90.0:
        raise ValueError("min_elevation_deg must be in [0, 90)")
    if end_ms <= start_ms:
        return [[] for _ in sites]
    grid = np.arange(start_ms - _PAD_MS, end_ms + _PAD_MS + PASS_STEP_MS, PASS_STEP_MS, dtype=np.int64)
    states = propagate(elements, grid)
    r_grid, v_grid = states.r_itrs_km, states.v_itrs_km_s
    line_of_sight_rate = _line_of_sight_rate_bound(states)
    # Columns, so that the per-site products below are plain element-wise arithmetic: a
    # matrix product would go to BLAS, whose threads crawl on a busy machine.
    x, y, z = (np.ascontiguousarray(r_grid[:, k]) for k in range(3))
    r2_grid = x * x + y * y + z * z
    sine_mask = np.sin(np.radians(min_elevation_deg))
    results = []
    for site in sites:
        site_km, up = site.itrs_km()

        # The search works on the sine of the elevation (the same zeros and maxima, no arcsin).
        def f(t_ms, site_km=site_km, up=up):
            rho = hermite(grid, r_grid, v_grid, t_ms)[0] - site_km
            return _dot(rho, up) / np.sqrt(_dot(rho, rho)) - sine_mask

        def rate(t_ms, site_km=site_km, up=up):
            r, v = hermite(grid, r_grid, v_grid, t_ms)
            rho = r - site_km
            dist = np.sqrt(_dot(rho, rho))
            return _dot(v, up) / dist - _dot(rho, up) * _dot(rho, v) / dist**3

        # |r - s|² = |r|² - 2 r·s + |s|², without an (N, 3) difference per site.
        r_site = x * site_km[0] + y * site_km[1] + z * site_km[2]
        distance = np.sqrt(r2_grid - 2.0 * r_site + float(site_km @ site_km))
        grid_f = (x * up[0] + y * up[1] + z * up[2] - float(site_km @ up)) / distance - sine_mask
        w = find_windows(grid, grid_f, f, margin=_sine_margin(line_of_sight_rate, site_km, min_elevation_deg),
                         rate=rate)
        keep = (w.set_ms > start_ms) & (w.rise_ms < end_ms) & (w.rise_ms > grid[0]) & (w.set_ms < grid[-1])
        w = w.select(keep)
        times = np.concatenate([w.rise_ms, w.peak_ms, w.set_ms])
        az = azimuth_deg(hermite(grid, r_grid, v_grid, times)[0], site).reshape(3, -1)
        peak_deg = np.degrees(np.arcsin(np.clip(w.peak_value + sine_mask, -1.0, 1.0)))
        results.append(
            [
                Pass(int(a), int(c), int(b), float(m), float(za), float(zc), float(zb))
                for a, c, b, m, za, zc, zb in zip(w.rise_ms, w.peak_ms, w.set_ms, peak_deg, *az)
            ]
        )
    return results


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of ``(N, 3)`` with ``(N, 3)`` or ``(3,)``, kept out of BLAS."""
    return a[:, 0] * b[..., 0] + a[:, 1] * b[..., 1] + a[:, 2] * b[..., 2]


def _line_of_sight_rate_bound(states: States) -> tuple[float, float]:
    """The lowest orbit radius and the highest ground-relative speed seen, with margins (km, km/s)."""
    finite = np.isfinite(states.r_itrs_km[:, 0])
    r_min = np.linalg.norm(states.r_itrs_km[finite], axis=-1).min() - 10.0
    v_max = np.linalg.norm(states.v_itrs_km_s[finite], axis=-1).max() + 0.5
    return float(r_min), float(v_max)


def _sine_margin(bound: tuple[float, float], site_km: np.ndarray, mask_deg: float) -> float:
    """How far a sampled maximum of ``sin(elevation) - sin(mask)`` may sit below zero and still hide a pass.

    While the station is below the mask its range is at least the slant range at the
    mask for the lowest orbit radius seen, so its line of sight turns no faster than
    ``v / range``; over one grid step that bounds the climb to the mask (and the sine
    climbs no faster than the angle, in radians).
    """
    r_min, v_max = bound
    radius = np.linalg.norm(site_km)
    e = np.radians(mask_deg)
    slant_km = np.sqrt(r_min**2 - (radius * np.cos(e)) ** 2) - radius * np.sin(e)
    return float(v_max / slant_km * PASS_STEP_MS / 1000.0 * _SAFETY)


# --------------------------------------------------------------------------- relays


def line_of_sight_clearance_km(r_itrs_km: np.ndarray, target_km: np.ndarray, grazing_km: float) -> np.ndarray:
    """By how much the segment from ``r`` to ``target`` clears Earth plus ``grazing_km``.

    Positive when the two see each other. Shapes ``(N, 3)`` and ``(3,)``.
    """
    d = target_km - r_itrs_km
    s = np.clip(-np.einsum("ij,ij->i", r_itrs_km, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    closest = r_itrs_km + s[:, None] * d
    return np.linalg.norm(closest, axis=-1) - (EARTH_EQUATORIAL_RADIUS_KM + grazing_km)


def relay_terminal_sees(relay: Relay) -> bool:
    """Whether the relay's ground terminal has it above its horizon."""
    from .sites import ground_network

    terminal = next(s for s in ground_network().sites if s.id == relay.terminal)
    site_km, up = terminal.itrs_km()
    return bool(elevation_deg(relay.itrs_km()[None, :], site_km, up)[0] > 0.0)


def relay_contacts(
    elements: ElementSet,
    relay: Relay,
    start_ms: int,
    end_ms: int,
    grazing_km: float = GRAZING_ALTITUDE_KM,
) -> list[Interval]:
    """Intervals in ``[start, end)`` in which the station can talk through ``relay``.

    Contacts are cut at the ends of the span. A relay whose terminal cannot see it
    gives none.
    """
    if end_ms <= start_ms or not relay_terminal_sees(relay):
        return []
    target = relay.itrs_km()
    grid = np.arange(start_ms, end_ms + CONTACT_STEP_MS, CONTACT_STEP_MS, dtype=np.int64)
    grid[-1] = min(grid[-1], end_ms)

    def f(t_ms):
        return line_of_sight_clearance_km(propagate(elements, t_ms).r_itrs_km, target, grazing_km)

    return _contacts(find_windows(grid, f(grid), f))


def _contacts(w: Windows) -> list[Interval]:
    return [Interval(int(a), int(b)) for a, b in zip(w.rise_ms, w.set_ms)]


def merge_contacts(*lists: Sequence[Interval]) -> list[Interval]:
    """Union of contact intervals (for coverage by any of several relays)."""
    spans = sorted((c.start_ms, c.end_ms) for lst in lists for c in lst)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [Interval(a, b) for a, b in merged]


def coverage_fraction(contacts: Sequence[Interval], start_ms: int, end_ms: int) -> float:
    """Fraction of ``[start, end)`` covered by the (merged) contacts."""
    total = sum(max(0, min(c.end_ms, end_ms) - max(c.start_ms, start_ms)) for c in merge_contacts(contacts))
    return total / (end_ms - start_ms)
