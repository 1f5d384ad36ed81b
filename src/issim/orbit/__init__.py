"""Where the ISS is, when it is in sunlight, and when it passes over a place.

>>> from issim import orbit
>>> iss = orbit.elements_for(orbit.parse_iso("2025-03-10T00:00:00Z"))
>>> fix = orbit.track(iss, orbit.parse_iso("2025-03-10T00:00:00Z"))
>>> round(fix.alt_km) in range(400, 440)
True

Times are integer UTC milliseconds (:func:`parse_iso` and :func:`format_iso` convert);
angles in degrees, distances in kilometres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..times import Interval, format_iso, parse_iso
from .catalog import (
    FetchError,
    StaleElementsWarning,
    available_sets,
    bundled_sets,
    elements_for,
    update,
    user_elements_path,
)
from .eclipse import beta_angle_deg, eclipses, shadow_depth_km, sunlit
from .elements import ElementSet, load_elements, nearest, parse_elements
from .passes import Pass, coverage_fraction, merge_contacts, passes, passes_for_sites, relay_contacts
from .propagation import States, geodetic, propagate
from .sites import GroundSite, Relay, find_relay, find_site, ground_network, relays_in_service
from .sun import sun_teme_km


@dataclass(frozen=True)
class Fix:
    """Where the station is at one moment: WGS84 sub-point, height, sunlight, speed."""

    at_ms: int
    lat_deg: float
    lon_deg: float
    alt_km: float
    sunlit: bool
    speed_km_s: float

    def to_json(self) -> dict:
        return {
            "at": format_iso(self.at_ms),
            "lat_deg": round(self.lat_deg, 6),
            "lon_deg": round(self.lon_deg, 6),
            "alt_km": round(self.alt_km, 4),
            "sunlit": self.sunlit,
            "speed_km_s": round(self.speed_km_s, 5),
        }


def track(elements: ElementSet, at_ms: int) -> Fix:
    """The station's position at ``at_ms``. Raises ``ValueError`` if SGP4 fails there."""
    states = propagate(elements, at_ms)
    if states.error[0]:
        raise ValueError(f"SGP4 cannot propagate {elements.source} to {format_iso(at_ms)}: {states.messages()[0]}")
    lat, lon, alt = states.geodetic()
    return Fix(
        at_ms=int(at_ms),
        lat_deg=float(lat[0]),
        lon_deg=float(lon[0]),
        alt_km=float(alt[0]),
        sunlit=bool(sunlit(elements, np.array([at_ms]))[0]),
        speed_km_s=float(states.speed_km_s[0]),
    )


__all__ = [
    "ElementSet", "FetchError", "Fix", "GroundSite", "Interval", "Pass", "Relay",
    "StaleElementsWarning", "States", "available_sets", "beta_angle_deg", "bundled_sets",
    "coverage_fraction", "eclipses", "elements_for", "find_relay", "find_site", "format_iso",
    "geodetic", "ground_network", "load_elements", "merge_contacts", "nearest", "parse_elements",
    "parse_iso", "passes", "passes_for_sites", "propagate", "relay_contacts", "relays_in_service",
    "shadow_depth_km", "sun_teme_km", "sunlit", "track", "update", "user_elements_path",
]
