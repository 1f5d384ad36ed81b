"""A pass forecast for one observer: what ``issim passes`` shows, as data.

It gathers the passes over a site, the part of each visible to the naked eye, the time
zone their times are read in, and whether the element set is too far from them to be
trusted; and it turns them into JSON, calendar events and sky charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from ..times import format_iso, in_zone
from .catalog import STALE_AFTER_DAYS, days_from_epoch
from .elements import ElementSet
from .ical import CalendarEvent
from .passes import Pass, passes
from .sightings import VisiblePart, visible_parts
from .sites import GroundSite, time_zone

COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")


def compass(azimuth_deg: float) -> str:
    """The 16-point compass word of an azimuth (degrees from north through east): 337.5° is NNW."""
    return COMPASS[int((azimuth_deg % 360.0 + 11.25) // 22.5) % 16]


@dataclass(frozen=True)
class Forecast:
    site: GroundSite
    zone_name: str
    zone: tzinfo
    min_elevation_deg: float
    visible_only: bool
    elements: ElementSet
    start_ms: int
    end_ms: int
    passes: list[Pass]
    visible: list[list[VisiblePart]]  # one list per pass, empty when it cannot be seen

    @property
    def days_from_epoch(self) -> float:
        return days_from_epoch(self.elements, self.start_ms, self.end_ms)

    @property
    def unreliable(self) -> bool:
        """More than 14 days between the element set's epoch and the times asked about."""
        return self.days_from_epoch > STALE_AFTER_DAYS

    def banner(self) -> str:
        """The warning that heads every figure when the element set is stale ("" when it is not)."""
        if not self.unreliable:
            return ""
        return (f"UNRELIABLE: the element set of {format_iso(self.elements.epoch_ms, 0)[:10]} is "
                f"{self.days_from_epoch:.0f} days from these times (more than {STALE_AFTER_DAYS:g}); "
                "every time, angle and magnitude below may be wrong by minutes and degrees, or the "
                "passes may not happen at all. Run 'issim elements update' for a current set.")

    def local(self, ms: int) -> str:
        """ISO 8601 local time with its UTC offset, to the second."""
        return in_zone(ms, self.zone).isoformat()

    def to_json(self) -> dict:
        def point(p) -> dict:
            return {**p.to_json(), "time_local": self.local(p.t_ms), "compass": compass(p.azimuth_deg)}

        rows = []
        for p, parts in zip(self.passes, self.visible):
            row = p.to_json()
            for key, ms, az in (("aos", p.aos_ms, p.aos_azimuth_deg), ("culmination", p.culmination_ms,
                                p.culmination_azimuth_deg), ("los", p.los_ms, p.los_azimuth_deg)):
                row[f"{key}_local"] = self.local(ms)
                row[f"{key}_compass"] = compass(az)
            row["visible"] = [{**v.to_json(), "start": point(v.start), "highest": point(v.highest),
                               "end": point(v.end)} for v in parts]
            rows.append(row)
        return {
            "site": {"name": self.site.name, "lat_deg": self.site.lat_deg, "lon_deg": self.site.lon_deg,
                     "alt_m": self.site.alt_m},
            "time_zone": self.zone_name,
            "min_elevation_deg": self.min_elevation_deg,
            "visible_only": self.visible_only,
            "elements": {"epoch": self.elements.epoch_iso, "source": self.elements.source,
                         "days_from_epoch": round(self.days_from_epoch, 2)},
            "unreliable": self.unreliable,
            "passes": rows,
        }

    def calendar_events(self) -> list[CalendarEvent]:
        """One event per pass, or per visible part when only visible passes are asked for."""
        events = []
        for p, parts in zip(self.passes, self.visible):
            spans = [(v.start.t_ms, v.end.t_ms, v) for v in parts] if self.visible_only else [(p.aos_ms, p.los_ms, None)]
            for a, b, v in spans:
                top = f"{p.max_elevation_deg:.0f}° high" if v is None else f"{v.highest.elevation_deg:.0f}° high"
                bright = "" if not parts else f", mag {min(x.magnitude for x in parts):.1f}"
                caution = "UNRELIABLE (stale elements): " if self.unreliable else ""
                summary = f"{caution}ISS {'visible ' if v is not None else ''}pass, {top}{bright}"
                lines = [
                    f"Rises {self._clock(p.aos_ms)} in the {compass(p.aos_azimuth_deg)} ({p.aos_azimuth_deg:.0f}°)",
                    f"highest {p.max_elevation_deg:.0f}° at {self._clock(p.culmination_ms)} in the "
                    f"{compass(p.culmination_azimuth_deg)}",
                    f"sets {self._clock(p.los_ms)} in the {compass(p.los_azimuth_deg)} ({p.los_azimuth_deg:.0f}°).",
                ]
                for part in parts:
                    lines.append(f"Visible {self._clock(part.start.t_ms)} to {self._clock(part.end.t_ms)}, "
                                 f"magnitude {part.magnitude:.1f}.")
                if self.unreliable:
                    lines.append(self.banner())
                lines.append(f"Element set {self.elements.epoch_iso}; computed by issim.")
                events.append(CalendarEvent(
                    uid=f"iss-{self.elements.norad_id}-{format_iso(a, 0)}-{self.site.lat_deg:.4f}"
                        f"-{self.site.lon_deg:.4f}@issim",
                    start_ms=a, end_ms=b, summary=summary, description="\n".join(lines),
                    location=self.site.name, lat_deg=self.site.lat_deg, lon_deg=self.site.lon_deg,
                ))
        return events

    def _clock(self, ms: int) -> str:
        return in_zone(ms, self.zone).strftime("%H:%M:%S %Z")


def forecast(elements: ElementSet, site: GroundSite, start_ms: int, end_ms: int, min_elevation_deg: float = 10.0,
             zone_name: str | None = None, visible_only: bool = False) -> Forecast:
    """The passes over ``site`` in ``[start, end)``, with their visible parts, read in ``zone_name``.

    The zone defaults to the site's own (``GroundSite.tz``), else UTC. With
    ``visible_only`` the passes nobody can see with the naked eye are left out.
    """
    name = zone_name or site.tz or "UTC"
    zone = time_zone(name, "--tz")
    found = passes(elements, site, start_ms, end_ms, min_elevation_deg)
    seen = visible_parts(elements, site, found)
    if visible_only:
        keep = [i for i, parts in enumerate(seen) if parts]
        found, seen = [found[i] for i in keep], [seen[i] for i in keep]
    return Forecast(site, name, zone, min_elevation_deg, visible_only, elements, start_ms, end_ms, found, seen)
