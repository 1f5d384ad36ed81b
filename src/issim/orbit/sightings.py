"""Passes an observer can see with the naked eye, and how bright the station looks.

A pass is **visible** while three things hold at once: the station is above the
elevation mask, it is sunlit (the Sun's centre not hidden by the Earth, as in
:mod:`~issim.orbit.eclipse`), and the observer's sky is dark enough, the Sun's centre
more than 6° below the horizon (the end of civil twilight). Most passes are visible for
only part of their length: the station rises in sunlight and vanishes into the Earth's
shadow, or rises before the sky is dark.

**Brightness** follows the model of the visual observers' community (R. Matson's
formula, used with McCants' and Heavens-Above's standard magnitudes)::

    mag = std + 5 log10(range_km / 1000) - 2.5 log10(sin β + (π - β) cos β)

with ``β`` the phase angle (Sun - station - observer) and ``std`` the standard magnitude
at 1000 km and 90° phase. The phase term is that of a diffuse (Lambertian) sphere,
normalised to 1 at β = 90°. issim takes ``std = -1.8`` for the ISS. Sources and a
worked example: ``docs/passes.md`` and the reference sheet's section on brightness. The
station is not a sphere: panels catching the Sun flare several magnitudes brighter, so
the figure is an estimate, good to a magnitude or so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..times import format_iso
from .eclipse import eclipses
from .elements import ElementSet
from .passes import Pass, azimuth_deg, elevation_deg
from .propagation import propagate, teme_to_itrs
from .search import find_windows
from .sites import GroundSite
from .sun import sun_teme_km

STANDARD_MAGNITUDE = -1.8  # at 1000 km and 90° phase (reference sheet, brightness section)
DARK_SUN_ELEVATION_DEG = -6.0  # the end of civil twilight
_SUN_STEP_MS = 10 * 60_000
_SUN_PAD_MS = 86_400_000  # a day: the night in progress at the start is found whole
_BRIGHTNESS_STEP_MS = 1_000


def magnitude(range_km, phase_angle_rad, standard_magnitude: float = STANDARD_MAGNITUDE):
    """Visual magnitude of a diffuse sphere of ``standard_magnitude`` at ``range_km``.

    ``phase_angle_rad`` is the angle Sun - station - observer (0: fully lit, as seen
    from the Sun's side). Arrays broadcast. At π the lit side faces away: +inf.
    """
    b = np.asarray(phase_angle_rad, dtype=np.float64)
    lit = np.sin(b) + (np.pi - b) * np.cos(b)
    with np.errstate(divide="ignore"):
        return standard_magnitude + 5.0 * np.log10(np.asarray(range_km) / 1000.0) - 2.5 * np.log10(np.maximum(lit, 0.0))


@dataclass(frozen=True)
class SkyPoint:
    """Where the station stands in an observer's sky at one moment (degrees, azimuth from north)."""

    t_ms: int
    elevation_deg: float
    azimuth_deg: float

    def to_json(self) -> dict:
        return {
            "time": format_iso(self.t_ms),
            "elevation_deg": round(self.elevation_deg, 2),
            "azimuth_deg": round(self.azimuth_deg, 2),
        }


@dataclass(frozen=True)
class VisiblePart:
    """The stretch of a pass an observer can see: its ends, its highest point, its brightness.

    ``magnitude`` is the brightest estimate over the stretch (sampled every second).
    """

    start: SkyPoint
    highest: SkyPoint
    end: SkyPoint
    magnitude: float

    @property
    def duration_s(self) -> float:
        return (self.end.t_ms - self.start.t_ms) / 1000.0

    def to_json(self) -> dict:
        return {
            "start": self.start.to_json(),
            "highest": self.highest.to_json(),
            "end": self.end.to_json(),
            "magnitude": round(float(self.magnitude), 1),
        }


def sun_elevation_deg(site: GroundSite, t_ms) -> np.ndarray:
    """Elevation of the Sun's centre above the site's horizon, degrees.

    The apparent Sun (with aberration), without refraction: twilight is defined so.
    """
    t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
    sun = sun_teme_km(t, apparent=True)
    sun_itrs, _ = teme_to_itrs(t, sun, np.zeros_like(sun))
    site_km, up = site.itrs_km()
    return elevation_deg(sun_itrs, site_km, up)


def dark_intervals(site: GroundSite, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The spans in ``[start, end]`` in which the Sun is more than 6° below the site's horizon."""
    grid = np.arange(start_ms - _SUN_PAD_MS, end_ms + _SUN_PAD_MS + _SUN_STEP_MS, _SUN_STEP_MS, dtype=np.int64)

    def depth(t):
        return DARK_SUN_ELEVATION_DEG - sun_elevation_deg(site, t)

    w = find_windows(grid, depth(grid), depth)
    return [(max(int(a), start_ms), min(int(b), end_ms)) for a, b in zip(w.rise_ms, w.set_ms) if b > start_ms and a < end_ms]


def visible_parts(elements: ElementSet, site: GroundSite, found: list[Pass]) -> list[list[VisiblePart]]:
    """For each pass, the parts of it visible to the naked eye (usually none or one)."""
    if not found:
        return []
    first, last = min(p.aos_ms for p in found), max(p.los_ms for p in found)
    shadows = [(e.start_ms, e.end_ms) for e in eclipses(elements, first, last)]
    dark = dark_intervals(site, first, last)
    result = []
    for p in found:
        sunlit = _subtract([(p.aos_ms, p.los_ms)], shadows)
        spans = _intersect(sunlit, dark)
        result.append([_describe(elements, site, p, a, b) for a, b in spans if b > a])
    return result


def _describe(elements: ElementSet, site: GroundSite, p: Pass, a: int, b: int) -> VisiblePart:
    t = np.unique(np.concatenate([np.arange(a, b, _BRIGHTNESS_STEP_MS, dtype=np.int64), [b]]))
    if a < p.culmination_ms < b:
        t = np.unique(np.concatenate([t, [p.culmination_ms]]))
    states = propagate(elements, t)
    site_km, up = site.itrs_km()
    el = elevation_deg(states.r_itrs_km, site_km, up)
    az = azimuth_deg(states.r_itrs_km, site)
    sun, _ = teme_to_itrs(t, sun_teme_km(t), np.zeros((len(t), 3)))
    to_observer = site_km - states.r_itrs_km
    to_sun = sun - states.r_itrs_km
    range_km = np.linalg.norm(to_observer, axis=-1)
    cos_phase = np.einsum("ij,ij->i", to_observer, to_sun) / (range_km * np.linalg.norm(to_sun, axis=-1))
    mags = magnitude(range_km, np.arccos(np.clip(cos_phase, -1.0, 1.0)))
    top = int(np.argmax(el))

    def point(i: int) -> SkyPoint:
        return SkyPoint(int(t[i]), float(el[i]), float(az[i]))

    return VisiblePart(point(0), point(top), point(len(t) - 1), float(np.min(mags)))


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a, b in spans:
        for h0, h1 in sorted(holes):
            if h1 <= a or h0 >= b:
                continue
            if h0 > a:
                out.append((a, h0))
            a = max(a, h1)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return out


def _intersect(xs: list[tuple[int, int]], ys: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(a, c), min(b, d)) for a, b in xs for c, d in ys if max(a, c) < min(b, d)]
