"""The orbit's surroundings for each frame of a run, computed ahead in vectorised chunks.

Nothing here depends on the crew: sunlight, beta angle, altitude, the sub-satellite
point, each ground site's elevation and each relay's line of sight follow from the
element set alone, so a day of frames is computed at once and looked up frame by frame.
A burn replaces the element set (``state.facts["orbit.omm"]``, version
``state["orbit.version"]``) and the next frame computes the chunk again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .eclipse import beta_angle_deg, shadow_depth_km
from .passes import GRAZING_ALTITUDE_KM, elevation_deg, line_of_sight_clearance_km, relay_terminal_sees
from .propagation import propagate
from .sites import ground_network
from .sun import sun_teme_km
from .upkeep import omm_key, orbit_of

ENV_CHUNK_FRAMES = 8_640
# A chunk's tables depend only on the start, the frame, the chunk's number and the element
# set (its OMM fields, compared exactly: type and repr of each value), so the process keeps
# them for the next run that needs them: the runs of a campaign, a survey or a bench start
# alike. Only the first KEPT_CHUNKS days of a run are kept (what runs from one start share;
# a long run's later days are its own), and of those the last KEPT (about 1.7 MB each). A
# run planned past those days (Environment.give, set by issim.runner.Runner) reads them if
# they are kept but keeps none itself: they would be held through the rest of it (5 MB of
# a stored 30-day run's peak) for a next run from the same start, which then computes them
# (a day is about 19 ms of CPU).
KEPT_CHUNKS = 3
KEPT = 6
_KEPT: dict = {}


class Env(NamedTuple):
    """What the frame's surroundings are, independent of anything aboard (read-only; a
    named tuple, the cheapest immutable record to make once a frame).

    ``site_elevation_deg`` has one entry per ground site of
    :attr:`Environment.sites` (degrees above the local horizon); ``relay_clearance_km``
    one per relay of :attr:`Environment.relays` (how far the line to the relay clears the
    Earth plus 100 km of atmosphere; positive means in sight, and the relay's own ground
    terminal sees it). ``elements`` is the orbit's element set now.
    """

    t_ms: int
    sunlit: bool
    beta_deg: float
    alt_km: float
    lat_deg: float
    lon_deg: float
    site_elevation_deg: np.ndarray
    relay_clearance_km: np.ndarray
    elements: object


_make_env = tuple.__new__


class Environment:
    """The orbit's surroundings computed ahead, in vectorised chunks of frames.

    The orbit itself is part of the state (``state.facts["orbit.omm"]``, with a version
    counter in ``state["orbit.version"]``): when a burn replaces it, the next frame sees a
    new version and the chunk is computed again from the new element set. Building the
    set from the stored OMM fields every time keeps a restored run bit-identical.
    """

    keep = True  # whether chunks come from the process's tables (KEPT)
    give = True  # whether chunks computed here go to them (a run planned past KEPT_CHUNKS days: not)

    def __init__(self, start_ms: int, dt_ms: int):
        self.start_ms, self.dt_ms = start_ms, dt_ms
        self.sites = list(ground_network().sites)
        self.relays = list(ground_network().relays)
        self._key = None
        self._elements = None
        self._omm = self._version = None  # the facts' element set and version the orbit key was taken from
        self._rows: tuple = ()  # the chunk's three tables: (scalars, sites, relays), a row a frame

    @staticmethod
    def _orbit_key(state) -> tuple:
        """What identifies the orbit now: its version, and (a restore can bring back a version
        number that a different burn then reuses) the element set's epoch and mean motion."""
        omm = state.facts.get("orbit.omm") or {}
        return int(state["orbit.version"][0]), omm.get("EPOCH"), omm.get("MEAN_MOTION"), omm.get("BSTAR")

    def elements(self, state):
        omm, version = state.facts.get("orbit.omm"), state.arrays["orbit.version"][0]
        if self._elements is not None and omm is self._omm and version == self._version:
            return self._elements[1]  # the same element set object and version as last time: the same key
        key = self._orbit_key(state)
        if self._elements is None or self._elements[0] != key:
            self._elements = (key, orbit_of(state))
        self._omm, self._version = omm, int(version)
        return self._elements[1]

    def at(self, state) -> Env:
        frame = state.frame
        chunk, i = divmod(frame, ENV_CHUNK_FRAMES)
        if (self._elements is not None and state.facts.get("orbit.omm") is self._omm
                and state.arrays["orbit.version"].item(0) == self._version):
            elements = self._elements[1]  # (elements()'s first test, spared its call)
        else:
            elements = self.elements(state)
        key = (chunk, self._elements[0])
        if key != self._key:
            self._fill(chunk, elements)
            self._key = key
        scalars, sites, relays = self._rows
        sunlit, beta, alt, lat, lon = scalars[i].tolist()
        # (Env's fields in order, made as its own __new__ makes them, without that Python-level call)
        return _make_env(Env, (self.start_ms + frame * self.dt_ms, sunlit != 0.0, beta, alt, lat, lon, sites[i],
                               relays[i], elements))

    def tables(self, state) -> tuple:
        """``(row, (scalars, sites, relays), elements)``: the frame's row in its chunk's tables
        (:meth:`at`'s numbers for the rest of the chunk: ``scalars[k]`` is ``(sunlit, beta,
        alt, lat, lon)``), and the element set they were computed from."""
        env = self.at(state)
        return state.frame % ENV_CHUNK_FRAMES, self._rows, env.elements

    def ran(self, state, first_frame: int, frames: int) -> None:
        """``frames`` frames from ``first_frame`` were run on :meth:`tables` without asking
        :meth:`at` (:mod:`issim.quiet`); nothing to do here (a watcher in front of the
        environment keeps what it keeps of each frame's surroundings)."""

    def _fill(self, chunk: int, elements) -> None:
        """The chunk's rows (:attr:`_rows`), from the process's tables when a run has computed
        them already (:data:`KEPT`), else computed (and kept, if it is one of the first
        :data:`KEPT_CHUNKS`)."""
        fields = None if elements is None else omm_key(self._omm)
        key = (self.start_ms, self.dt_ms, chunk, elements is not None, fields, len(self.sites), len(self.relays))
        keep = self.keep and chunk < KEPT_CHUNKS
        give = keep and self.give
        tables = (_KEPT.pop(key, None) if give else _KEPT.get(key)) if keep else None
        if tables is None:
            tab = self._compute(chunk, elements)
            # sunlit (0 or 1, exact in a float64) and the four angles and heights side by side, a row a frame
            scalars = np.column_stack([tab[k].astype(np.float64) for k in ("sunlit", "beta_deg", "alt_km", "lat_deg",
                                                                            "lon_deg")])
            tables = (scalars, np.ascontiguousarray(tab["site_elevation_deg"], dtype=np.float64),
                      np.ascontiguousarray(tab["relay_clearance_km"], dtype=np.float64))
        if give and KEPT > 0:
            while len(_KEPT) >= KEPT:
                del _KEPT[next(iter(_KEPT))]  # (the one used longest ago)
            _KEPT[key] = tables
        # the three tables as arrays, as compiled frames read them (issim.quiet); a frame run in Python
        # takes its own row from them (making every row's Python numbers at once cost 8 ms a chunk)
        self._rows = tables

    def _compute(self, chunk: int, elements) -> dict[str, np.ndarray]:
        """The chunk's surroundings, a column each, a row a frame."""
        first = chunk * ENV_CHUNK_FRAMES
        t = self.start_ms + (first + np.arange(ENV_CHUNK_FRAMES, dtype=np.int64)) * self.dt_ms
        n = len(t)
        if elements is None:  # no orbit: always sunlit, nothing in sight
            return {
                "sunlit": np.ones(n, bool), "beta_deg": np.zeros(n), "alt_km": np.full(n, 400.0),
                "lat_deg": np.zeros(n), "lon_deg": np.zeros(n),
                "site_elevation_deg": np.full((n, len(self.sites)), -90.0),
                "relay_clearance_km": np.full((n, len(self.relays)), -1.0),
            }
        states = propagate(elements, t)
        lat, lon, alt = states.geodetic()
        sun = sun_teme_km(t)
        sunlit = shadow_depth_km(states.r_teme_km, sun) <= 0.0
        sites = np.empty((n, len(self.sites)))
        for k, site in enumerate(self.sites):
            site_km, up = site.itrs_km()
            sites[:, k] = elevation_deg(states.r_itrs_km, site_km, up)
        relays = np.empty((n, len(self.relays)))
        for k, relay in enumerate(self.relays):
            clear = line_of_sight_clearance_km(states.r_itrs_km, relay.itrs_km(), GRAZING_ALTITUDE_KM)
            relays[:, k] = clear if relay_terminal_sees(relay) else -1.0
        return {
            "sunlit": sunlit, "beta_deg": beta_angle_deg(elements, t, (states.r_teme_km, states.v_teme_km_s), sun),
            "alt_km": alt, "lat_deg": lat,
            "lon_deg": lon, "site_elevation_deg": sites, "relay_clearance_km": relays,
        }
