"""Ground sites and relay satellites, read from ``data/ground.toml``.

A :class:`GroundSite` is a WGS84 point (degrees, metres); a :class:`Relay` is a
geostationary satellite at a longitude (degrees east) that serves the station while
its ground terminal can see it.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError
from .propagation import site_itrs_km

GEOSTATIONARY_RADIUS_KM = 42_164.0


class GroundSite(BaseModel):
    """A place on the ground: WGS84 latitude and longitude in degrees, altitude in metres."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=360.0)
    alt_m: float = Field(default=0.0, ge=-500.0, le=9000.0)
    alt_estimate: bool = False
    tz: str = ""  # the IANA time zone of the place ("" when unknown: times are shown in UTC)
    role: str = ""
    low_confidence: bool = False
    src: list[str] = []

    def itrs_km(self):
        """The site's ITRS position (km) and local vertical (unit vector)."""
        return site_itrs_km(self.lat_deg, self.lon_deg, self.alt_m)


class Relay(BaseModel):
    """A geostationary relay satellite at ``lon_deg`` (degrees east)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    network: str
    lon_deg: float = Field(ge=-180.0, le=360.0)
    terminal: str
    in_service: bool = True
    note: str = ""
    src: list[str] = []

    def itrs_km(self) -> np.ndarray:
        lon = np.radians(self.lon_deg)
        return GEOSTATIONARY_RADIUS_KM * np.array([np.cos(lon), np.sin(lon), 0.0])


class RelaySessions(BaseModel):
    """A relay network that serves the station only in ``per_orbit`` scheduled sessions of
    ``minutes`` each (spread evenly over the orbit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    network: str
    per_orbit: int = Field(ge=1, le=20)
    minutes: float = Field(gt=0.0, le=200.0)
    src: list[str] = []


class GroundNetwork(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: dict[str, str]
    sites: list[GroundSite]
    relays: list[Relay]
    sessions: list[RelaySessions] = []

    @model_validator(mode="after")
    def _check(self):
        ids = [s.id for s in self.sites] + [r.id for r in self.relays]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate ids: {', '.join(sorted(dupes))}")
        site_ids = {s.id for s in self.sites}
        for s in self.sites:
            if s.tz:
                time_zone(s.tz, f"site {s.id}")
        for r in self.relays:
            if r.terminal not in site_ids:
                raise ValueError(f"relay {r.id}: terminal {r.terminal!r} is not a site")
        for item in [*self.sites, *self.relays]:
            for key in item.src:
                if key not in self.sources:
                    raise ValueError(f"{item.id}: source {key!r} is not in [sources]")
        networks = {r.network for r in self.relays}
        for plan in self.sessions:
            if plan.network not in networks:
                raise ValueError(f"sessions: no relay of network {plan.network!r}")
            if plan.per_orbit * plan.minutes > 92.0:
                raise ValueError(f"sessions of {plan.network}: {plan.per_orbit} × {plan.minutes} min exceed an orbit")
            for key in plan.src:
                if key not in self.sources:
                    raise ValueError(f"sessions of {plan.network}: source {key!r} is not in [sources]")
        return self


@lru_cache(maxsize=1)
def ground_network() -> GroundNetwork:
    """The bundled ground sites and relays."""
    text = resources.files("issim.data").joinpath("ground.toml").read_text()
    try:
        return GroundNetwork.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:  # a packaging error, not user input
        raise RuntimeError(f"the bundled ground.toml is invalid: {exc}") from exc


def find_site(name: str) -> GroundSite:
    """Look a site up by id or name, ignoring case; raise InputError listing the choices."""
    key = name.strip().lower()
    for s in ground_network().sites:
        if key in (s.id, s.name.lower()):
            return s
    choices = ", ".join(s.id for s in ground_network().sites)
    raise InputError("--site", f"no site named '{name}'; known sites: {choices} (or give --lat and --lon)")


def time_zone(name: str, source: str = "--tz"):
    """The ``zoneinfo`` zone of an IANA name (``Europe/London``, ``UTC``); InputError if there is none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(source, f"'{name}' is not an IANA time zone name; write e.g. Europe/London, "
                                 "America/New_York or UTC") from None


def find_relay(name: str) -> Relay:
    key = name.strip().lower()
    for r in ground_network().relays:
        if key in (r.id, r.name.lower()):
            return r
    raise InputError("relay", f"no relay named '{name}'; known relays: {', '.join(r.id for r in ground_network().relays)}")


def relays_in_service(network: str | None = None) -> list[Relay]:
    """The relays routinely in service, of one network (``"TDRSS"``, ``"Luch"``) or all."""
    return [r for r in ground_network().relays if r.in_service and network in (None, r.network)]
