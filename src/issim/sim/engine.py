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
from typing import Callable, Optional, Sequence

import numpy as np

from ..times import MS_PER_DAY, format_iso, parse_iso
from .events import Event, EventQueue
from .rng import Streams
from .state import State
from .subsystem import Subsystem
from .telemetry import Channel, Recorder
from .world import World

ENV_CHUNK_FRAMES = 8_640


@dataclass(frozen=True)
class Env:
    """What the frame's surroundings are, independent of anything aboard."""

    t_ms: int
    sunlit: bool


class Environment:
    """Sunlight along the orbit, computed ahead in vectorised chunks of frames."""

    def __init__(self, elements, start_ms: int, dt_ms: int):
        self.elements, self.start_ms, self.dt_ms = elements, start_ms, dt_ms
        self._chunk = -1
        self._sunlit = np.ones(0, dtype=bool)

    def at(self, frame: int) -> Env:
        chunk, i = divmod(frame, ENV_CHUNK_FRAMES)
        if chunk != self._chunk:
            self._fill(chunk)
        return Env(self.start_ms + frame * self.dt_ms, bool(self._sunlit[i]))

    def _fill(self, chunk: int) -> None:
        first = chunk * ENV_CHUNK_FRAMES
        t = self.start_ms + (first + np.arange(ENV_CHUNK_FRAMES, dtype=np.int64)) * self.dt_ms
        if self.elements is None:
            self._sunlit = np.ones(len(t), dtype=bool)
        else:
            from ..orbit import sunlit

            self._sunlit = sunlit(self.elements, t)
        self._chunk = chunk


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
        self.streams = Streams(seed)
        self.queue = EventQueue()
        self.state = State(t_ms=self.start_ms)
        for sub in self.subsystems:
            sub.reset(self.state, world, self.streams)
        self.environment = Environment(elements, self.start_ms, self.dt_ms)
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
        env = self.environment.at(st.frame)
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
        ``progress(frames_done)`` is called about every simulated hour.
        """
        until_ms = parse_iso(until, "until") if isinstance(until, str) else int(until)
        report_every = max(1, 3_600_000 // self.dt_ms)
        while self.state.t_ms < until_ms:
            self.step()
            if progress is not None and self.state.frame % report_every == 0:
                progress(self.state.frame)

    def _dispatch(self, event: Event) -> None:
        sub = self.handlers.get(event.kind)
        try:
            reason = sub.handle(self.state, event) if sub else f"no subsystem handles {event.kind!r}"
        except KeyError as exc:
            reason = str(exc.args[0]) if exc.args else "unknown target"
        details = dict(action=event.kind, target=event.target, source=event.source, args=event.args)
        if reason is None:
            self.state.record("event", result="done", **details)
        else:
            self.state.record("event", result="refused", reason=reason, **details)

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
