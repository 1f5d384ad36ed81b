"""The engine: a clock, fixed frames, an event queue, subsystems in a fixed order.

One frame, :meth:`Simulation.step`, runs in five phases, always in this order:

1. **commands**: every event due at or before the frame's time, in time order (ties in
   the order they were queued), goes to the subsystem that handles its kind (a scheduled
   command goes through the command pipeline); then the commands submitted for this step
   (``actions``), in the order given, through the pipeline. Nothing else changes the state
   from outside, and nothing lands in the middle of the physics;
2. **environment**: the frame's surroundings (sunlight, contacts, computed ahead from the
   orbit) are looked up;
3. **subsystems**: each subsystem's ``update`` advances its part of the state by one frame,
   in the fixed order they were given (the physics, then the minds and triggers, which
   only read what the physics did and write their own keys). When the first subsystem
   offers it (``fused_frame``: :mod:`issim.physics.frame`), the physics at the head of the
   list runs as one compiled call while nothing needs Python, to the same state;
4. **clock and recorder**: the clock moves on; the recorder keeps telemetry at its rate;
5. **observations**: what each person can know is now what :meth:`Simulation.observe`
   answers (computed when asked), and the step's :class:`StepResult` is returned.

The engine imports no policy, command or scenario: the command pipeline plugs in as a
:class:`~issim.sim.ports.CommandPort`, policies live outside (:mod:`issim.runner`).
Everything that changes lives in :class:`~issim.sim.state.State`, the event queue and the
random streams, so :meth:`Simulation.snapshot` and :meth:`Simulation.restore` work at any
frame boundary and a restored run continues bit for bit.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..orbit.environment import Env, Environment
from ..times import MS_PER_DAY, format_iso, parse_iso
from .events import Event, EventQueue, _shown, event_problem, unknown_arg
from .observe import Observation
from .ports import CommandPort, NoCommands, commands_of
from .rng import Streams
from .state import Flat, State, StateView
from .subsystem import Subsystem
from .telemetry import Channel, Recorder
from .world import World

_DTYPE_NAMES: dict = {}


def _dtype_name(dtype: np.dtype) -> str:
    """``str(dtype)``, kept: numpy works it out in Python (2 µs, for each of a build's 136 arrays)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


_OWN_LAYOUT: contextvars.ContextVar = contextvars.ContextVar("issim_own_layout", default=True)


@contextmanager
def layouts_later():
    """Simulations built inside leave their arrays as their subsystems made them (``flat`` is
    ``None``), for a batch that lays its stations out together (issim.sim.state.Flat)."""
    token = _OWN_LAYOUT.set(False)
    try:
        yield
    finally:
        _OWN_LAYOUT.reset(token)


@dataclass(frozen=True)
class Snapshot:
    """Everything needed to carry on from a frame boundary."""

    state: State
    queue: EventQueue
    streams: dict
    recorded: int
    recorder: tuple  # Recorder.freeze()
    fingerprint: str = ""  # the simulation it was taken of (Simulation.fingerprint)


@dataclass(frozen=True)
class StepResult:
    """What one frame did: ``t_ms`` the time it started at (the time of its records),
    ``commands`` what became of every command run in its first phase (scheduled and
    submitted, in order), ``stopped`` why the run cannot go on (the station lost), else "";
    ``outcome`` the run's outcome once it has ended (filled in by :class:`issim.runner.Runner`,
    which knows the end: the engine does not)."""

    t_ms: int
    commands: tuple = ()
    stopped: str = ""
    outcome: Optional[dict] = None


class Simulation:
    """A station in time: state, subsystems, events, recorder.

    Build one from a scenario with :func:`issim.scenario.build_simulation`, or directly
    from a :class:`~issim.sim.world.World` and subsystems. Drive it with :meth:`step`
    (one frame; commands go in as ``actions``) and read what a person knows with
    :meth:`observe`; :class:`issim.runner.Runner` does both for a whole crew of policies.
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
        port: Optional[CommandPort] = None,
    ):
        self.world = world
        self.port: CommandPort = port if port is not None else NoCommands()
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
        # the physics at the head of the list updated together, when its first subsystem offers it
        # (issim.physics.frame: one compiled call while nothing needs Python); None: one by one
        fuse = getattr(self.subsystems[0], "fused_frame", None) if self.subsystems else None
        self.fused = fuse(self.subsystems) if fuse is not None else None
        self._after_fused = tuple(self.subsystems[len(self.fused.subsystems):]) if self.fused is not None else ()
        crew = next((s for s in self.subsystems if s.name == "crew"), None)
        self.people: tuple[str, ...] = tuple(getattr(crew, "names", ()))
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
        # the arrays laid out flat (issim.sim.state.Flat): this run is station 0 of one, unless a
        # batch is building it, to lay its stations out together
        self.flat: Optional[Flat] = Flat([self.state]) if _OWN_LAYOUT.get() else None
        self.flat_row = 0
        self.environment = Environment(self.start_ms, self.dt_ms)
        every = max(1, int(round(record_every_s * 1000 / self.dt_ms)))
        self.recorder = Recorder([c for s in self.subsystems for c in s.channels()], every)
        self.recorder.maybe_record(self.state)
        self.fingerprint = self._fingerprint()

    def _fingerprint(self) -> str:
        """What a snapshot must agree with to be restored here: the start, the frame, the
        volumes and hatches, the people, the subsystems, and every state array's shape and type."""
        shape = (self.start_ms, self.dt_ms, [v.id for v in self.world.volumes], [l.hatch for l in self.world.links],
                 self.people, [s.name for s in self.subsystems],
                 sorted((k, v.shape, _dtype_name(v.dtype)) for k, v in self.state.arrays.items()))
        return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ running

    def schedule(self, event: Event) -> Optional[str]:
        """Queue an event; one in the past runs at the next frame.

        A malformed event (see :meth:`check_event`: a NaN argument, one its kind does not
        take, args that are not ``(name, value)`` pairs) is not queued: it is recorded in
        the log as refused, with the reason, which is returned (``None`` when queued).
        """
        problem = self.check_event(event)
        if problem:
            self._refused(self.state, event, problem)
            return problem
        self.queue.push(event)
        return None

    def check_event(self, event: Event) -> Optional[str]:
        """Why ``event`` cannot be run, from its form alone (``None`` when it can): its time,
        kind, target and argument types (:func:`~issim.sim.events.event_problem`), a handler
        for its kind, and only the arguments that kind takes. Whether its target exists and
        its values are in range is the handler's ``validate``."""
        problem = event_problem(event)
        if problem or event.kind == "command":  # a command's arguments are the pipeline's to check
            return problem
        sub = self.handlers.get(event.kind)
        if sub is None:
            return f"no subsystem handles {event.kind!r}"
        return unknown_arg(event, sub.event_args)

    def step(self, actions=None) -> StepResult:
        """Advance one frame, in the five phases of the module's docstring.

        ``actions`` are the commands to run in the first phase: ``{actor: [commands]}``
        (a command in another's name is refused and recorded), or a list of commands.
        """
        t0 = self.state.t_ms
        results = self.advance(actions)
        return StepResult(t0, tuple(results), self.state.facts.get("stop") or "")  # 5. observations: observe()

    def advance(self, actions=None) -> list:
        """:meth:`step` without its :class:`StepResult`: the frame's command results, as a list
        (what a loop that reads only the state calls, :meth:`run` and the runner's)."""
        st = self.state
        t0 = st.t_ms
        results = []
        if self.queue.due(t0):  # 1. commands: the due events, then the submitted
            for event in self.queue.pop_due(t0):
                if event.kind == "command":
                    results.append(self.port.scheduled(self, event))
                else:
                    self._dispatch(event)
        if actions:
            for actor, cmd in commands_of(actions):
                results.append(self.port.submit(self, cmd, actor))
        self.finish_frame()
        return results

    def finish_frame(self, stopped: Optional[int] = None) -> None:
        """Phases 2 to 4 of the frame: its surroundings, the subsystems, the clock and the
        recorder. ``stopped``: the frame's physics is begun and its compiled call stopped
        with this answer (:mod:`issim.quiet`, which runs quiet frames many to a call): the
        physics goes on from there (:meth:`~issim.physics.frame.PhysicsFrame.run`), or
        is done when the answer says so."""
        st = self.state
        env = self.environment.at(st)  # 2. environment
        dt_s = self.dt_s
        fused = self.fused
        if fused is None:
            for sub in self.subsystems:  # 3. subsystems, in their fixed order
                sub.update(st, env, dt_s)
        else:  # (the same, the physics at the head of the list in one call while it can)
            fused.run(st, env, dt_s, stopped)
            for sub in self._after_fused:
                sub.update(st, env, dt_s)
        st.t_ms += self.dt_ms  # 4. clock and recorder
        frame = st.frame = st.frame + 1
        recorder = self.recorder
        if not frame % recorder.every_frames:
            recorder.maybe_record(st)

    def run(self, until, progress: Optional[Callable[[int], None]] = None) -> None:
        """Run whole frames until the clock reaches ``until``.

        ``until`` is UTC milliseconds or ISO 8601 text ending in ``Z``;
        ``progress(frames_done)`` is called about every simulated hour. A subsystem ends
        the run early by setting ``state.facts["stop"]`` to the reason (the station lost).

        Only the physics and the scenario's script run here: no one decides (the engine
        holds no policies). For the crew's minds or policies of your own, run it through
        :class:`issim.runner.Runner`.
        """
        until_ms = parse_iso(until, "until") if isinstance(until, str) else int(until)
        report_every = max(1, 3_600_000 // self.dt_ms)
        while self.state.t_ms < until_ms and not self.state.facts.get("stop"):
            self.advance(None)
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
        problem = self.check_event(event)
        if problem:  # put in the queue by hand, past schedule(): refused, never half-run
            if log:
                self._refused(st, event, problem)
            return problem
        sub = self.handlers.get(event.kind)
        try:
            reason = (sub.validate(event) or sub.handle(st, event)) if sub else f"no subsystem handles {event.kind!r}"
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

    @staticmethod
    def _refused(st: State, event, reason: str) -> None:
        """Log a malformed event as refused; its parts are shown as text, never stored as given."""
        kind, target = (getattr(event, "kind", None), getattr(event, "target", None))
        st.record("event", result="refused", reason=reason, action=kind if isinstance(kind, str) else _shown(kind),
                  target=target if isinstance(target, str) else _shown(target),
                  source=str(getattr(event, "source", "")), args=_shown(getattr(event, "args", None)))

    # ------------------------------------------------------------------ commanding

    def command(self, cmd) -> Any:
        """Issue a command at once, between frames: validate -> authority -> execute -> verify
        -> history (:mod:`issim.control.pipeline`); never raises, a refusal says why.

        Within a run, prefer ``step({actor: [cmd]})``: it runs the command in the frame's
        first phase, where every command of the frame runs.
        """
        return self.port.submit(self, cmd)

    def dry_run(self, cmd) -> Any:
        """Would this command pass now, and if not why not; changes nothing."""
        return self.port.check(self, cmd)

    def observe(self, person) -> Observation:
        """What ``person`` (a name or a crew index) can know now (:class:`~issim.sim.observe.Observation`)."""
        return Observation.of(self, person)

    def view(self) -> StateView:
        """A read-only view of the whole state (for tools and reports, not for policies)."""
        return StateView(self.state)

    def control_map(self) -> dict:
        """``{system: [factions that could command it now]}`` (needs the command pipeline)."""
        return self.port.control_map(self)

    # ------------------------------------------------------------------ state

    def snapshot(self) -> Snapshot:
        """Save everything, at this frame boundary."""
        rec = self.recorder
        return Snapshot(
            state=self.state.copy(),
            queue=self.queue.copy(),
            streams=self.streams.get_state(),
            recorded=len(rec),
            recorder=rec.freeze(),
            fingerprint=self.fingerprint,
        )

    def restore(self, snap: Snapshot) -> None:
        """Go back (or forward) to a snapshot, recorder included; a snapshot of another
        simulation (another station, crew, frame or set of subsystems) is refused."""
        if snap.fingerprint != self.fingerprint:
            raise ValueError("this snapshot was taken of another simulation (its station, crew, start, frame or "
                             "subsystems differ); restore it into a simulation built from the same scenario")
        self.state = snap.state.copy()
        if self.flat is not None:
            try:
                self.flat.adopt(self.flat_row, self.state)  # back into its rows of the layout
            except ValueError:  # arrays added since it was made (a test's, a tool's): a layout of its own
                self.flat, self.flat_row = Flat([self.state]), 0
        self.queue = snap.queue.copy()
        self.streams.set_state(snap.streams)
        self.recorder.thaw(snap.recorder)

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

    def event_log_entries(self) -> list[str]:
        """The event log's records as canonical JSON text (sorted keys, no spaces): what the
        digest hashes and the archive stores."""
        return [json.dumps(entry, sort_keys=True, separators=(",", ":")) for entry in self.event_log()]

    def event_log_sha256(self) -> str:
        """A digest of the event log: equal logs, equal digests (times, kinds, details)."""
        h = hashlib.sha256()
        for entry in self.event_log_entries():
            h.update(entry.encode())
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
