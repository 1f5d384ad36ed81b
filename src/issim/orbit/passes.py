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
from .propagation import States, propagate, site_itrs_km
from .search import Windows, find_windows
from .sites import GroundSite, Relay, find_site

PASS_STEP_MS = 60_000
CONTACT_STEP_MS = 60_000
GRAZING_ALTITUDE_KM = 100.0  # estimate: a link must clear the atmosphere by this much
_PAD_MS = 20 * 60_000  # longer than any ISS pass above 0°
_SAFETY = 1.5


@dataclass(frozen=True)
class Pass:
    """One pass over a site; times in UTC milliseconds, elevation in degrees."""

    aos_ms: int
    culmination_ms: int
    los_ms: int
    max_elevation_deg: float

    @property
    def duration_s(self) -> float:
        return (self.los_ms - self.aos_ms) / 1000.0

    def to_json(self) -> dict:
        return {
            "aos": format_iso(self.aos_ms),
            "culmination": format_iso(self.culmination_ms),
            "los": format_iso(self.los_ms),
            "max_elevation_deg": round(float(self.max_elevation_deg), 3),
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
    """Passes over several sites at once; the station is propagated once for all."""
    if not 0.0 <= min_elevation_deg < 90.0:
        raise ValueError("min_elevation_deg must be in [0, 90)")
    if end_ms <= start_ms:
        return [[] for _ in sites]
    grid = np.arange(start_ms - _PAD_MS, end_ms + _PAD_MS + PASS_STEP_MS, PASS_STEP_MS, dtype=np.int64)
    states = propagate(elements, grid)
    results = []
    for site in sites:
        site_km, up = site_itrs_km(site.lat_deg, site.lon_deg, site.alt_m)

        def f(t_ms, site_km=site_km, up=up):
            return elevation_deg(propagate(elements, t_ms).r_itrs_km, site_km, up) - min_elevation_deg

        grid_f = elevation_deg(states.r_itrs_km, site_km, up) - min_elevation_deg
        margin = _elevation_margin_deg(states, site_km, min_elevation_deg, PASS_STEP_MS)
        w = find_windows(grid, grid_f, f, margin=margin)
        keep = (w.set_ms > start_ms) & (w.rise_ms < end_ms) & (w.rise_ms > grid[0]) & (w.set_ms < grid[-1])
        w = w.select(keep)
        results.append(
            [
                Pass(int(a), int(c), int(b), float(m) + min_elevation_deg)
                for a, c, b, m in zip(w.rise_ms, w.peak_ms, w.set_ms, w.peak_value)
            ]
        )
    return results


def _elevation_margin_deg(states: States, site_km: np.ndarray, mask_deg: float, step_ms: int) -> float:
    """How far a sampled maximum may sit below the mask and still hide a pass.

    While the station is below the mask its range is at least the slant range at the
    mask for the lowest orbit radius seen, so its line of sight turns no faster than
    ``v / range``; over one grid step that bounds the climb to the mask.
    """
    finite = np.isfinite(states.r_itrs_km[:, 0])
    r_min = np.linalg.norm(states.r_itrs_km[finite], axis=-1).min() - 10.0
    v_max = np.linalg.norm(states.v_itrs_km_s[finite], axis=-1).max() + 0.5
    radius = np.linalg.norm(site_km)
    e = np.radians(mask_deg)
    slant_km = np.sqrt(r_min**2 - (radius * np.cos(e)) ** 2) - radius * np.sin(e)
    return float(np.degrees(v_max / slant_km) * step_ms / 1000.0 * _SAFETY)


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
