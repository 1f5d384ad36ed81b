"""Condition triggers: a scenario's ``[[triggers]]``, evaluated once a frame (subsystem ``triggers``).

A trigger is an id, one condition, an arming time (``after``, an offset from the start),
whether it fires ``once`` (the default) or every time, and a list of actions in the
shape of ``[[events]]`` entries without ``at``. The conditions (see docs/scenarios.md):

- ``contact = "USOS"|"ROS"``: that segment's comms contact comes up (``comms.contact``
  goes from false to true). An *edge*: a contact already up when the trigger arms does
  not count, the next one does.
- ``channel = {key, below|above}``: a telemetry channel (read with
  :meth:`~issim.sim.telemetry.Channel.read`) crosses the value: it was not below (above)
  it at the previous frame and is now. Also an edge.
- ``person_in = {person, module}``: the person is in that module or vehicle;
  ``dead = "name"``: that person has died; ``at_least_dead = N``: N or more have died.
  These are *states*: true when the trigger arms means it fires at once; with
  ``once = false`` it fires again only after the condition has gone false and true again.

The subsystem runs last in the frame, after every other subsystem has updated the
state, so it sees the frame's outcome. When a trigger fires it logs
``state.record("trigger", id=..., what="fired", ...)`` and queues its actions, in order,
for the first phase of the next frame (no command lands in the middle of the physics):
an action without an actor is an engine event (and goes in the event log), one with an
actor a command through the command pipeline. Records carry the time of the frame they
are made in (``state.t_ms``), so an action's record is one frame after the firing.

State (plain data, so snapshots and same-seed runs stay bit-identical):
``triggers.last`` (triggers,) bool, the condition at the previous frame (for a state
condition: while armed); ``triggers.fired`` (triggers,) int64, how often each fired.
About a microsecond per trigger per frame: a few array reads and comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..sim.events import Event
from ..sim.state import State
from ..sim.schema import Key, Schema
from ..sim.subsystem import Subsystem
from ..sim.world import SEGMENTS

EDGE_CONDITIONS = ("contact", "channel")


@dataclass(frozen=True)
class TriggerSpec:
    """A trigger as the engine runs it: names resolved where they can be without a run.

    ``condition`` is ``(kind, value)``: ``("contact", "USOS")``,
    ``("person_in", (person, module))``, ``("channel", (key, "below"|"above", value))``,
    ``("dead", person)``, ``("at_least_dead", n)``. ``actions`` are engine events (time 0;
    the time is the frame's when it fires); kind ``command`` for an action with an actor.
    """

    id: str
    condition: tuple
    after_ms: int
    once: bool
    actions: tuple[Event, ...]


def describe(condition: tuple) -> str:
    kind, value = condition
    if kind == "person_in":
        return f"{value[0]} in {value[1]}"
    if kind == "channel":
        return f"{value[0]} {value[1]} {value[2]:g}"
    if kind == "at_least_dead":
        return f"at least {value} dead"
    if kind == "dead":
        return f"{value} dead"
    return f"{value} contact"


class Triggers(Subsystem):
    """Evaluates the scenario's triggers each frame and fires them (see the module)."""

    name = "triggers"
    events = ()

    def __init__(self, specs: Sequence[TriggerSpec], start_ms: int):
        self.specs = tuple(specs)
        self.arm_ms = tuple(start_ms + s.after_ms for s in self.specs)
        self.sim = None
        self._people: dict[str, int] = {}
        self._volumes: dict[str, int] = {}
        self._channels: dict = {}
        self._checks: tuple = ()

    def bind(self, sim) -> None:
        """Keep the engine (to dispatch through) and resolve names to array reads."""
        self.sim = sim
        subs = {s.name: s for s in sim.subsystems}
        crew = subs.get("crew")
        self._people = {n: i for i, n in enumerate(crew.names)} if crew is not None else {}
        self._volumes = dict(sim.world.index)
        # the channels, looked up only by a channel's condition (listing them is a fair part of a build)
        if any(s.condition[0] == "channel" for s in self.specs):
            self._channels = {c.key: c for s in sim.subsystems if s is not self for c in s.channels()}
        self._checks = tuple(self._check(s.condition) for s in self.specs)

    def problem(self, condition: tuple) -> Optional[tuple[str, str]]:
        """``(field, one-line problem)`` when a condition names something this run lacks."""
        kind, value = condition
        if kind == "contact" and value not in SEGMENTS:
            return "when.contact", f"segments are {', '.join(SEGMENTS)}; got {value!r}"
        if kind == "person_in":
            if value[0] not in self._people:
                return "when.person_in.person", self._no_person(value[0])
            if value[1] not in self._volumes:
                return "when.person_in.module", f"no module or docked vehicle {value[1]!r}; see issim station"
        if kind == "dead" and value not in self._people:
            return "when.dead", self._no_person(value)
        if kind == "at_least_dead" and value > len(self._people):
            return "when.at_least_dead", f"only {len(self._people)} people aboard; got {value}"
        if kind == "channel" and value[0] not in self._channels:
            return "when.channel.key", (f"no telemetry channel {value[0]!r}; see docs/telemetry.md "
                                        "or issim telemetry")
        return None

    def _no_person(self, name) -> str:
        return f"no crew member {name!r}; the crew are {', '.join(self._people) or 'nobody'}"

    def _check(self, condition: tuple):
        """A function of the state answering the condition now (False if it names nothing known)."""
        if self.problem(condition):
            return lambda a: False
        kind, value = condition
        if kind == "contact":
            s = SEGMENTS.index(value)
            return lambda a: bool(a["comms.contact"][s]) if "comms.contact" in a else False
        if kind == "person_in":
            p, v = self._people[value[0]], self._volumes[value[1]]
            return lambda a: int(a["crew.location"][p]) == v
        if kind == "dead":
            p = self._people[value]
            return lambda a: not bool(a["crew.alive"][p])
        if kind == "at_least_dead":
            n = value
            return lambda a: int((~a["crew.alive"]).sum()) >= n
        key, side, limit = value
        ch = self._channels[key]
        arr, idx = ch.array, ch.index
        if side == "below":
            return lambda a: float(a[arr][idx]) < limit
        return lambda a: float(a[arr][idx]) > limit

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        reads = {"comms.contact": "contact", "crew.location": "person_in", "crew.alive": "dead"}
        kinds = {s.condition[0] for s in self.specs}
        keys = {k for k, kind in reads.items() if kind in kinds or (k == "crew.alive" and "at_least_dead" in kinds)}
        keys |= {self._channels[s.condition[1][0]].array for s in self.specs
                 if s.condition[0] == "channel" and s.condition[1][0] in self._channels}
        return Schema(
            owns=(
                Key("triggers.last", ("triggers",), "bool", "1", "each trigger's condition at the last frame"),
                Key("triggers.fired", ("triggers",), "int64", "1", "times each trigger fired"),
            ),
            reads=tuple(sorted(keys)),
            dims={"triggers": len(self.specs)},
        )

    def reset(self, state: State, world, streams) -> None:
        n = len(self.specs)
        last = np.zeros(n, dtype=bool)
        for k, spec in enumerate(self.specs):
            if spec.condition[0] in EDGE_CONDITIONS and self._checks:
                last[k] = self._checks[k](state.arrays)  # a crossing needs a before
        state["triggers.last"] = last
        state["triggers.fired"] = np.zeros(n, dtype=np.int64)

    def update(self, state: State, env, dt_s: float) -> None:
        # (issim.quiet.kernel reads the conditions of _check but a channel's, and leaves this
        # to run where one changes or a trigger is armed: keep the two alike)
        if not self.specs:
            return
        a = state.arrays
        last, fired = a["triggers.last"], a["triggers.fired"]
        t = state.t_ms
        for k, spec in enumerate(self.specs):
            armed = t >= self.arm_ms[k]
            now = self._checks[k](a)
            edge = spec.condition[0] in EDGE_CONDITIONS
            fire = armed and now and not last[k] and not (spec.once and fired[k])
            last[k] = now if edge else (now and armed)
            if fire:
                fired[k] += 1
                self._fire(state, spec)

    def _fire(self, state: State, spec: TriggerSpec) -> None:
        state.record("trigger", id=spec.id, what="fired", condition=describe(spec.condition),
                     actions=len(spec.actions))
        for ev in spec.actions:  # queued now, so they run in the next frame's first phase
            source = "scenario" if ev.kind == "command" else f"trigger {spec.id}"
            self.sim.schedule(Event(state.t_ms, ev.kind, ev.target, ev.args, source=source))

    def summary(self, state: State) -> dict:
        """``{trigger id: times fired}``."""
        return {s.id: int(n) for s, n in zip(self.specs, state["triggers.fired"])}
