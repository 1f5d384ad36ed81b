"""The engine: a clock, fixed frames, an event queue, subsystems in a fixed order.

One frame, in this order (see :meth:`Simulation.step`):

1. every event due at or before the frame's time is handed to the subsystem that
   handles its kind, and its outcome (done, or refused and why) goes in the event log;
2. the environment for the frame (sunlight, computed ahead from the orbit) is looked up;
3. each subsystem's ``update`` advances its part of the state by one frame;
4. the clock moves on, and the recorder keeps the telemetry at its rate.

Everything that changes lives in :class:`~issim.sim.state.State`, the event queue
and the random streams, so :meth:`Simulation.snapshot` and :meth:`Simulation.restore`
work at any frame boundary and a restored run continues bit for bit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from ..times import MS_PER_DAY, format_iso, parse_iso
from .events import Event, EventQueue
from .rng import Streams
from .state import State
from .subsystem import Subsystem
from .telemetry import Channel, Recorder
from .world import World

if TYPE_CHECKING:
    from ..control.commands import CommandResult

ENV_CHUNK_FRAMES = 8_640


@dataclass(frozen=True)
class Env:
    """What the frame's surroundings are, independent of anything aboard.

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


class Environment:
    """The orbit's surroundings computed ahead, in vectorised chunks of frames.

    The orbit itself is part of the state (``state.facts["orbit.omm"]``, with a version
    counter in ``state["orbit.version"]``): when a burn replaces it, the next frame sees a
    new version and the chunk is computed again from the new element set. Building the
    set from the stored OMM fields every time keeps a restored run bit-identical.
    """

    def __init__(self, start_ms: int, dt_ms: int):
        from ..orbit import ground_network

        self.start_ms, self.dt_ms = start_ms, dt_ms
        self.sites = list(ground_network().sites)
        self.relays = list(ground_network().relays)
        self._key = None
        self._elements = None
        self._table: dict[str, np.ndarray] = {}

    def elements(self, state: State):
        version = int(state["orbit.version"][0])
        if self._elements is None or self._elements[0] != version:
            from ..orbit.upkeep import orbit_of

            self._elements = (version, orbit_of(state))
        return self._elements[1]

    def at(self, state: State) -> Env:
        frame = state.frame
        chunk, i = divmod(frame, ENV_CHUNK_FRAMES)
        elements = self.elements(state)
        key = (chunk, int(state["orbit.version"][0]))
        if key != self._key:
            self._fill(chunk, elements)
            self._key = key
        tab = self._table
        return Env(
            self.start_ms + frame * self.dt_ms, bool(tab["sunlit"][i]), float(tab["beta_deg"][i]),
            float(tab["alt_km"][i]), float(tab["lat_deg"][i]), float(tab["lon_deg"][i]),
            tab["site_elevation_deg"][i], tab["relay_clearance_km"][i], elements,
        )

    def _fill(self, chunk: int, elements) -> None:
        first = chunk * ENV_CHUNK_FRAMES
        t = self.start_ms + (first + np.arange(ENV_CHUNK_FRAMES, dtype=np.int64)) * self.dt_ms
        n = len(t)
        if elements is None:  # no orbit: always sunlit, nothing in sight
            self._table = {
                "sunlit": np.ones(n, bool), "beta_deg": np.zeros(n), "alt_km": np.full(n, 400.0),
                "lat_deg": np.zeros(n), "lon_deg": np.zeros(n),
                "site_elevation_deg": np.full((n, len(self.sites)), -90.0),
                "relay_clearance_km": np.full((n, len(self.relays)), -1.0),
            }
            return
        from ..orbit import beta_angle_deg, propagate, shadow_depth_km, sun_teme_km
        from ..orbit.passes import GRAZING_ALTITUDE_KM, elevation_deg, line_of_sight_clearance_km, relay_terminal_sees

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
        self._table = {
            "sunlit": sunlit, "beta_deg": beta_angle_deg(elements, t), "alt_km": alt, "lat_deg": lat,
            "lon_deg": lon, "site_elevation_deg": sites, "relay_clearance_km": relays,
        }


@dataclass(frozen=True)
class Snapshot:
    """Everything needed to carry on from a frame boundary."""

    state: State
    queue: EventQueue
    streams: dict
    recorded: int
    recorder_t: tuple
    recorder_rows: dict


class Simulation:
    """A station in time: state, subsystems, events, recorder.

    Build one with :meth:`from_scenario` (see :mod:`issim.scenario`) or directly from a
    :class:`~issim.sim.world.World` and subsystems.
    """

    def __init__(
        self,
        world: World,
        subsystems: Sequence[Subsystem],
        *,
        start_ms: int,
        seed: int = 0,
        frame_s: float = 10.0,
        record_every_s: float = 60.0,
        elements=None,
    ):
        self.world = world
        self.subsystems = list(subsystems)
        self.dt_ms = int(round(frame_s * 1000))
        if self.dt_ms <= 0:
            raise ValueError("frame_s must be positive")
        self.dt_s = self.dt_ms / 1000.0
        self.start_ms = int(start_ms)
        self.seed = int(seed)
        self.handlers: dict[str, Subsystem] = {}
        for sub in self.subsystems:
            for kind in sub.events:
                if kind in self.handlers:
                    raise ValueError(f"event kind {kind!r} is handled by both {self.handlers[kind].name} and {sub.name}")
                self.handlers[kind] = sub
        for sub in self.subsystems:
            sub.bind(self)
        self.streams = Streams(seed)
        self.queue = EventQueue()
        self.state = State(t_ms=self.start_ms)
        self.state["orbit.version"] = np.zeros(1, dtype=np.int64)
        if elements is not None:
            self.state.facts["orbit.omm"] = dict(elements.to_omm())
        for sub in self.subsystems:
            sub.reset(self.state, world, self.streams)
        self.environment = Environment(self.start_ms, self.dt_ms)
        every = max(1, int(round(record_every_s * 1000 / self.dt_ms)))
        self.recorder = Recorder([c for s in self.subsystems for c in s.channels()], every)
        self.recorder.maybe_record(self.state)

    # ------------------------------------------------------------------ running

    def schedule(self, event: Event) -> None:
        """Queue an event; one in the past runs at the next frame."""
        self.queue.push(event)

    def step(self) -> None:
        """Advance one frame."""
        st = self.state
        for event in self.queue.pop_due(st.t_ms):
            self._dispatch(event)
        env = self.environment.at(st)
        for sub in self.subsystems:
            sub.update(st, env, self.dt_s)
        st.t_ms += self.dt_ms
        st.frame += 1
        self.recorder.maybe_record(st)

    @classmethod
    def from_scenario(cls, scenario, seed: Optional[int] = None, end_ms: Optional[int] = None) -> "Simulation":
        """Build the simulation of a scenario: a bundled name, a file path, or a loaded one."""
        from ..scenario import build_simulation, load_scenario
        from ..scenario.schema import Scenario

        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        return build_simulation(scenario, seed=seed, end_ms=end_ms)

    def run(self, until, progress: Optional[Callable[[int], None]] = None) -> None:
        """Run whole frames until the clock reaches ``until``.

        ``until`` is UTC milliseconds or ISO 8601 text ending in ``Z``;
        ``progress(frames_done)`` is called about every simulated hour. A subsystem ends
        the run early by setting ``state.facts["stop"]`` to the reason (the station lost).
        """
        until_ms = parse_iso(until, "until") if isinstance(until, str) else int(until)
        report_every = max(1, 3_600_000 // self.dt_ms)
        while self.state.t_ms < until_ms and not self.state.facts.get("stop"):
            self.step()
            if progress is not None and self.state.frame % report_every == 0:
                progress(self.state.frame)

    def _dispatch(self, event: Event, state: Optional[State] = None, log: bool = True) -> Optional[str]:
        """Hand an event to its subsystem now and log the outcome; ``None`` when done, else why not.

        ``state`` defaults to the simulation's; the command pipeline's dry runs pass a copy.
        A command's own events are not logged (``log=False``): the pipeline's ``command``
        record says what was asked and what became of it, once; nor is the ``command``
        event a scenario schedules, for the same reason.
        """
        st = self.state if state is None else state
        sub = self.handlers.get(event.kind)
        try:
            reason = sub.handle(st, event) if sub else f"no subsystem handles {event.kind!r}"
        except KeyError as exc:
            reason = str(exc.args[0]) if exc.args else "unknown target"
        if not log or event.kind == "command":
            return reason
        details = dict(action=event.kind, target=event.target, source=event.source, args=event.args)
        if reason is None:
            st.record("event", result="done", **details)
        else:
            st.record("event", result="refused", reason=reason, **details)
        return reason

    # ------------------------------------------------------------------ commanding

    def command(self, cmd) -> "CommandResult":
        """Issue a command now: validate -> authority -> execute -> verify -> history.

        The one way for a crew agent, the ground or a human to change the station (see
        :mod:`issim.control.pipeline`); never raises, a refusal says why.
        """
        from ..control.pipeline import submit

        return submit(self, cmd)

    def dry_run(self, cmd) -> "CommandResult":
        """Would this command pass now, and if not why not; changes nothing."""
        from ..control.pipeline import dry_run

        return dry_run(self, cmd)

    def view(self):
        """A read-only view of the state, for agents (:class:`issim.control.StateView`)."""
        from ..control.pipeline import StateView

        return StateView(self.state)

    def control_map(self) -> dict:
        """``{system: [factions that could command it now]}`` (needs the control subsystem)."""
        custody = next((s for s in self.subsystems if s.name == "control"), None)
        return custody.control_map(self.state) if custody is not None else {}

    # ------------------------------------------------------------------ state

    def snapshot(self) -> Snapshot:
        """Save everything, at this frame boundary."""
        rec = self.recorder
        return Snapshot(
            state=self.state.copy(),
            queue=self.queue.copy(),
            streams=self.streams.get_state(),
            recorded=len(rec),
            recorder_t=tuple(rec.t_ms),
            recorder_rows={k: list(v) for k, v in rec._rows.items()},
        )

    def restore(self, snap: Snapshot) -> None:
        """Go back (or forward) to a snapshot, recorder included."""
        self.state = snap.state.copy()
        self.queue = snap.queue.copy()
        self.streams.set_state(snap.streams)
        self.recorder.t_ms = list(snap.recorder_t)
        self.recorder._rows = {k: list(v) for k, v in snap.recorder_rows.items()}

    # ------------------------------------------------------------------ reading

    @property
    def t_ms(self) -> int:
        return self.state.t_ms

    def channels(self) -> list[Channel]:
        """The telemetry dictionary of this simulation."""
        return list(self.recorder.channels.values())

    def telemetry(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t_ms, values)`` recorded for one channel."""
        return self.recorder.series(key)

    def current(self, key: str) -> float:
        """A channel's value now."""
        return self.recorder.channels[key].read(self.state)

    def event_log(self) -> list[dict]:
        """The event log as JSON-ready records."""
        return [{"t": format_iso(t), "kind": kind, **{k: _plain(v) for k, v in details}} for t, kind, details in self.state.log]

    def event_log_sha256(self) -> str:
        """A digest of the event log: equal logs, equal digests (times, kinds, details)."""
        h = hashlib.sha256()
        for entry in self.event_log():
            h.update(json.dumps(entry, sort_keys=True, separators=(",", ":")).encode())
            h.update(b"\n")
        return h.hexdigest()

    @property
    def days_run(self) -> float:
        return (self.state.t_ms - self.start_ms) / MS_PER_DAY


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value
