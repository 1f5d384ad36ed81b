"""Custody: who holds what aboard, and who controls each system (subsystem ``control``).

The state no physical subsystem owns, all plain data under ``control.``:

- ``control.faction`` (people,) int: each person's side, an index into :attr:`Custody.factions`
  (by default :func:`~issim.control.authority.default_faction` of their agency);
- ``control.credentials`` (segments, factions) bool: which factions each segment's
  laptops accept. At the start both crews can work both segments' laptops, as the
  partnership runs the station ("here we are one"); taking a segment means changing
  its credentials. A scenario's ``[station] credentials`` can start split instead
  (``USOS = ["usa"]``, ``ROS = ["russia"]``);
- ``control.lock_side`` (hatches,) int: the volume a hatch was locked from, -1 unlocked;
- ``control.departed`` (volumes,) bool: vehicles that have undocked (their hatch never
  opens again: the atmosphere refuses; the people inside stay simulated in the vehicle's volume, which holds for
  the hours that matter; ``state.facts["control.departures"]`` records who left when);
- ``control.adrift`` (people,) bool: knocked off the structure on EVA by the arm;
- ``control.armed`` (people,) bool: holding an improvised weapon (``take_weapon``);
- ``control.arm_operator`` (1,) int: who holds the arm's workstation, -1 nobody;
- ``control.item_holder`` and ``control.item_volume`` (items,) int: who holds each item
  (-1 nobody) and where it is (the holder's volume while held);
- ``control.map`` (systems, factions) bool: the control map (see below) and
  ``control.map_minute`` (1,), the simulated minute it was last computed;
- ``control.commands`` (3,) int: commands done, refused, failed;
- ``state.facts["control.history"]``: every command attempt, a tuple of
  ``(t_ms, actor, source, command, target, args, stage, result, reason, message)``.

**The control map.** For each system (per segment its life support, power, comms, and
for the ROS attitude and propulsion; each hatch between the segments; each vehicle with
seats; the robotic arm), the factions that could command it now: a representative
command (:meth:`Custody.probes`) passes authority for some member of the faction who is
aboard, alive and conscious (and could get to the right place through open hatches), or
for the faction's ground. The USOS has no attitude or propulsion command here (its CMGs
take none, and no US vehicle reboosts in this model), so those rows do not exist. It is
recomputed at most once a simulated minute, at the first frame of each minute.

A command a scenario schedules (an event of kind ``command``) is run by the engine through
the pipeline's port (:class:`issim.control.pipeline.ControlPort`), like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from ..sim.events import Event
from ..sim.state import State
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel
from ..sim.world import SEGMENTS, World
from ..station import routes
from .authority import (FACTIONS, GROUND_FACTION, GROUNDS, OPERATOR, Actor, Probe, Situation, control_map,
                        default_faction)

WORKSTATIONS = ("destiny", "cupola")  # Canadarm2's robotics workstations (iss-facts.md, CSA)
START_CREDENTIALS = {"USOS": ("usa", "russia"), "ROS": ("usa", "russia")}


@dataclass(frozen=True)
class Item:
    """Something that can be carried: ``at`` is a module or vehicle id, or a person's name."""

    id: str
    name: str
    at: str


class Custody(Subsystem):
    """Locks, credentials, items, the arm, vehicles, and the control map (see the module)."""

    name = "control"

    def __init__(self, world: World, people: Sequence = (), items: Sequence[Item] = (),
                 factions: Optional[Mapping[str, str]] = None,
                 credentials: Optional[Mapping[str, Sequence[str]]] = None):
        from ..physics.crew import EVA_AIRLOCKS, channel_slug

        self.world = world
        self.segments = SEGMENTS
        self.volume_ids = tuple(v.id for v in world.volumes)
        self.volume_index = world.index
        self.n_volumes = len(world.volumes)
        self.vol_segment = np.array([SEGMENTS.index(v.segment) for v in world.volumes], dtype=np.int64)
        self.segment_modules = tuple(
            tuple(i for i, v in enumerate(world.volumes) if v.kind == "module" and v.segment == s) for s in SEGMENTS)
        self.link_ids = tuple(l.hatch for l in world.links)
        self.link_index = world.link_index
        self.topology = routes.Topology.of(world)
        self.link_a, self.link_b = self.topology.a, self.topology.b
        seats = {v.id: v.crew_seats for v in world.station.vehicles}
        self.vehicle_index = {v.id: i for i, v in enumerate(world.volumes) if v.kind == "vehicle"}
        self.seats = {i: seats.get(vid, 0) for vid, i in self.vehicle_index.items()}
        self.vehicle_link = {v: k for v in self.vehicle_index.values() for k, l in enumerate(world.links)
                             if v in (l.a, l.b)}
        self.workstations = tuple(self.volume_index[w] for w in WORKSTATIONS if w in self.volume_index)
        self.airlocks = tuple(self.volume_index[a] for a in EVA_AIRLOCKS if a in self.volume_index)
        # People.
        self.names = tuple(p.name for p in people)
        self.slugs = tuple(channel_slug(n) for n in self.names)
        chosen = dict(factions or {})
        person_factions = [chosen.get(p.name, default_faction(p.agency)) for p in people]
        self.credentials = dict(START_CREDENTIALS)
        self.credentials.update({seg: tuple(fs) for seg, fs in (credentials or {}).items()})
        unknown = set(self.credentials) - set(SEGMENTS)
        if unknown:
            raise KeyError(f"credentials for unknown segments {sorted(unknown)}; segments are {', '.join(SEGMENTS)}")
        named = [f for fs in self.credentials.values() for f in fs]
        self.factions = tuple(dict.fromkeys([*FACTIONS, *person_factions, *named]))
        self.initial_faction = np.array([self.factions.index(f) for f in person_factions], dtype=np.int64)
        self.actors = tuple(Actor("crew", n, i) for i, n in enumerate(self.names)) + tuple(
            Actor("ground", g, segment=SEGMENTS.index(s), faction=GROUND_FACTION[g]) for g, s in GROUNDS.items())
        # Items.
        self.items = tuple(items)
        self.item_ids = tuple(it.id for it in self.items)
        self.item_index = {k: i for i, k in enumerate(self.item_ids)}
        if len(self.item_index) != len(self.items):
            raise ValueError(f"item ids must be unique; got {', '.join(self.item_ids)}")
        for it in self.items:
            if it.at not in self.volume_index and self.person(it.at) is None:
                raise KeyError(f"item {it.id!r}: {it.at!r} is neither a module or docked vehicle nor a crew member")
        # Filled in by bind(), from the other subsystems of the run.
        self.machines: tuple = ()  # (id, module index, segment index, is an O2 generator)
        self.machine_index: dict = {}
        self.generator_index: dict = {}
        self.tanks: tuple = ()  # (id, volume index)
        self.tank_index: dict = {}
        self.engines: tuple = ()
        self.comms_links: tuple = ()  # (id, segment index)
        self.comms_link_index: dict = {}
        self.sim = None
        self._probes: Optional[list] = None
        self.systems: tuple[str, ...] = ()
        self._memo: Optional[tuple] = None

    # ------------------------------------------------------------------ directory

    def person(self, text) -> Optional[int]:
        """The index of the crew member named (or slugged) ``text``, else ``None``."""
        for i, (name, slug) in enumerate(zip(self.names, self.slugs)):
            if text == name or text == slug:
                return i
        return None

    def actor(self, text) -> Optional[Actor]:
        """The :class:`~issim.control.authority.Actor` called ``text``, else ``None``."""
        if not isinstance(text, str):
            return None
        p = self.person(text)
        if p is not None:
            return self.actors[p]
        if text.lower() in GROUNDS:
            return next(a for a in self.actors if a.name == text.lower())
        if text == OPERATOR:
            return Actor("operator", OPERATOR)
        return None

    def bind(self, sim) -> None:
        """Learn the machines, tanks, engines and links of the run from its other subsystems."""
        self.sim = sim
        subs = {s.name: s for s in sim.subsystems}
        ls = subs.get("lifesupport")
        if ls is not None:
            self.machines = tuple((m.id, self.volume_index[m.module], SEGMENTS.index(m.segment),
                                   m.kind == "o2_generator") for m in ls.machines)
            self.tanks = tuple((t.id, self.volume_index[t.volume]) for t in ls.tanks)
        self.machine_index = {m[0]: i for i, m in enumerate(self.machines)}
        self.generator_index = {m[0]: i for i, m in enumerate(self.machines) if m[3]}
        self.tank_index = {t[0]: i for i, t in enumerate(self.tanks)}
        prop = subs.get("propulsion")
        self.engines = tuple(prop.engines) if prop is not None else ()
        comms = subs.get("comms")
        if comms is not None:
            self.comms_links = tuple((l.id, SEGMENTS.index(l.segment)) for l in comms.links)
        self.comms_link_index = {l[0]: i for i, l in enumerate(self.comms_links)}
        self._probes = None
        self.systems = tuple(key for key, _ in self._probe_plan())

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        p = ("people",)
        reads = ["crew.location", "crew.alive", "crew.conscious", "crew.on_eva", "crew.tethered", "crew.activity",
                 "crew.bleeding", "crew.health", "hatch.open", "hatch.valve_open", "comms.contact", "comms.blocked",
                 "comms.link_ok", "comms.suit_radio_ok", "comms.messages", "ls.on", "ls.broken", "ls.fixed",
                 "ls.candles_left", "ls.tank_pending_kg", "power.bus", "power.cut", "power.converters_on",
                 "att.desat_allowed", "prop.burns_allowed", "prop.thrusters_enabled", "prop.reboosts"]
        if self.names:
            reads.append("agents.side")  # a confrontation's sides
        return Schema(
            owns=(
                Key("control.faction", p, "int64", "1", "each person's side (index into control.factions)"),
                Key("control.credentials", ("segments", "factions"), "bool", "1",
                    "which factions each segment's laptops accept"),
                Key("control.lock_side", ("links",), "int64", "1", "the volume each hatch was locked from, -1 unlocked"),
                Key("control.departed", ("volumes",), "bool", "1", "vehicles that have undocked"),
                Key("control.adrift", p, "bool", "1", "knocked off the structure on EVA by the arm"),
                Key("control.armed", p, "bool", "1", "holding an improvised weapon"),
                Key("control.arm_operator", (1,), "int64", "1", "who holds the arm's workstation, -1 nobody"),
                Key("control.item_holder", ("items",), "int64", "1", "who holds each item, -1 nobody"),
                Key("control.item_volume", ("items",), "int64", "1", "where each item is (volume index)"),
                Key("control.map", ("systems", "factions"), "bool", "1", "which factions could command each system"),
                Key("control.map_minute", (1,), "int64", "min", "the simulated minute the map was computed"),
                Key("control.commands", (3,), "int64", "1", "commands done, refused, failed"),
                fact("control.history", "tuple", "every command attempt (see issim.control.pipeline)"),
                fact("control.departures", "tuple", "(vehicle, t_ms, people aboard) for each undocking"),
                fact("control.factions", "tuple", "the factions' names, in index order"),
            ),
            reads=tuple(reads),
            dims={"people": len(self.names), "factions": len(self.factions), "links": len(self.link_ids),
                  "volumes": self.n_volumes, "segments": len(SEGMENTS), "items": len(self.items),
                  "systems": len(self.systems)},
        )

    def reset(self, state: State, world, streams) -> None:
        n, nf = len(self.names), len(self.factions)
        state["control.faction"] = self.initial_faction.copy()
        creds = np.zeros((len(SEGMENTS), nf), dtype=bool)
        for seg, factions in self.credentials.items():
            for faction in factions:
                creds[SEGMENTS.index(seg), self.factions.index(faction)] = True
        state["control.credentials"] = creds
        state["control.lock_side"] = np.full(len(self.link_ids), -1, dtype=np.int64)
        state["control.departed"] = np.zeros(self.n_volumes, dtype=bool)
        state["control.adrift"] = np.zeros(n, dtype=bool)
        state["control.armed"] = np.zeros(n, dtype=bool)
        state["control.arm_operator"] = np.full(1, -1, dtype=np.int64)
        holder = [self.person(it.at) for it in self.items]
        state["control.item_holder"] = np.array([-1 if h is None else h for h in holder], dtype=np.int64)
        state["control.item_volume"] = np.array(
            [self.volume_index.get(it.at, -1) for it in self.items], dtype=np.int64)
        if self.sim is None:  # not run by an engine: no machines, links or engines to probe
            self.systems = tuple(key for key, _ in self._probe_plan())
        state["control.map"] = np.zeros((len(self.systems), nf), dtype=bool)
        state["control.map_minute"] = np.full(1, -1, dtype=np.int64)
        state["control.commands"] = np.zeros(3, dtype=np.int64)
        state.facts["control.history"] = ()
        state.facts["control.departures"] = ()
        state.facts["control.factions"] = self.factions
        if "crew.location" in state or not self.names:  # the crew were reset first: map the start
            state["control.map"][:] = self.compute_map(state)
            state["control.map_minute"][0] = state.t_ms // 60_000

    def update(self, state: State, env, dt_s: float) -> None:
        a = state.arrays
        if self.items:
            holder = a["control.item_holder"]
            held = holder >= 0
            if held.any():
                a["control.item_volume"][held] = a["crew.location"][holder[held]]
        minute = state.t_ms // 60_000
        stamp = a["control.map_minute"]
        if minute != stamp[0]:
            stamp[0] = minute
            a["control.map"][:] = self.compute_map(state)

    def channels(self) -> list[Channel]:
        out = []
        for s, key in enumerate(self.systems):
            for f, faction in enumerate(self.factions):
                out.append(Channel(f"control.{key}.{faction}", f"{faction} could command {key} now", "1",
                                   "control.map", (s, f), source="issim.control.authority (computed)"))
        for s, seg in enumerate(SEGMENTS):
            for f, faction in enumerate(self.factions):
                out.append(Channel(f"control.credentials.{seg}.{faction}", f"{seg} laptops accept {faction}", "1",
                                   "control.credentials", (s, f)))
        for k, hatch in enumerate(self.link_ids):
            out.append(Channel(f"hatch.{hatch}.locked_from", f"hatch {hatch} locked from (volume index; -1 unlocked)",
                               "1", "control.lock_side", (k,)))
        for vid, v in self.vehicle_index.items():
            out.append(Channel(f"vehicle.{vid}.departed", f"{vid} has undocked", "1", "control.departed", (v,)))
        out.append(Channel("control.arm.operator", "who holds the arm's workstation (crew index; -1 nobody)", "1",
                           "control.arm_operator", (0,)))
        for i, item in enumerate(self.item_ids):
            out += [
                Channel(f"item.{item}.holder", f"{item} held by (crew index; -1 nobody)", "1",
                        "control.item_holder", (i,)),
                Channel(f"item.{item}.volume", f"{item} is in (volume index)", "1", "control.item_volume", (i,)),
            ]
        for i, what in enumerate(("done", "refused", "failed")):
            out.append(Channel(f"control.commands.{what}", f"commands {what} so far", "1", "control.commands", (i,)))
        return out

    # ------------------------------------------------------------------ the control map

    def _probe_plan(self) -> list[tuple[str, object]]:
        """``(system key, how to probe it)``; the hatch probes depend on the hatch's state."""
        plan: list[tuple[str, object]] = []
        for s, seg in enumerate(SEGMENTS):
            machine = next((i for i, m in enumerate(self.machines) if m[2] == s), None)
            if machine is not None:
                plan.append((f"{seg}.life-support", ("switch", machine, {"on": True})))
            plan.append((f"{seg}.power", ("power_on", s, {})))
            if seg == "ROS":
                plan.append((f"{seg}.attitude", ("allow_desat", s, {})))
                if self.engines:
                    plan.append((f"{seg}.propulsion", ("burn", self.engines[0], {"dv_m_s": 1.0})))
            link = next((i for i, l in enumerate(self.comms_links) if l[1] == s), None)
            if link is not None:
                plan.append((f"{seg}.comms", ("cut_link", link, {})))
        for k, l in enumerate(self.world.links):
            if l.boundary:
                plan.append((f"hatch.{l.hatch}", ("hatch", k, {})))
        for vid, v in self.vehicle_index.items():
            if self.seats.get(v, 0) > 0:
                plan.append((f"vehicle.{vid}", ("board", v, {})))
        if self.workstations:
            plan.append(("arm", ("take_arm", None, {})))
        return plan

    def probes(self, state: State) -> list[Probe]:
        from .commands import CATALOGUE

        if self._probes is None:
            self._probes = [(key, CATALOGUE.get(how[0]), how[1], how[2]) for key, how in self._probe_plan()]
        out = []
        for key, spec, target, args in self._probes:
            if spec is None:  # a hatch: the probe is whatever would change it now
                side = int(state["control.lock_side"][target])
                name = "unlock_hatch" if side >= 0 else "close_hatch" if state["hatch.open"][target] else "open_hatch"
                out.append(Probe(key, CATALOGUE[name], target, args))
            else:
                out.append(Probe(key, spec, target, args))
        return out

    def compute_map(self, state: State) -> np.ndarray:
        """The control map now, ``(systems, factions)`` bool.

        About 50 µs from scratch; most minutes nothing it reads has changed (people move
        at the edges of sleep, contacts come and go a few dozen times a day), so the last
        answer is kept with the bytes of everything it read and reused while they match:
        a pure cache, never state (a restored run recomputes whatever differs).
        """
        a = state.arrays
        parts = [a[k].tobytes() for k in _MAP_INPUTS if k in a]
        key = b"|".join(parts)
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        sit = Situation(state, self, reach=True)
        out = control_map(sit, self.probes(state), self.actors)
        self._memo = (key, out)
        return out

    def control_map(self, state: State) -> dict[str, list[str]]:
        """``{system: [factions that could command it now]}``, computed afresh."""
        m = self.compute_map(state)
        return {key: [f for j, f in enumerate(self.factions) if m[s, j]] for s, key in enumerate(self.systems)}

    def summary(self, state: State) -> dict:
        """Commands and control at the end of a run, as plain values."""
        from .pipeline import history

        done, refused, failed = (int(x) for x in state["control.commands"])
        return {
            "commands_done": done, "commands_refused": refused, "commands_failed": failed,
            "control_map": self.control_map(state),
            "departures": [{"vehicle": v, "t_ms": t, "aboard": list(names)}
                           for v, t, names in state.facts["control.departures"]],
            "history": history(state),
        }

    # ------------------------------------------------------------------ custody actions
    # Each returns None when done or a one-line reason why the station refuses.

    def lock(self, state: State, k: int, side: int) -> Optional[str]:
        hatch = self.link_ids[k]
        if state["hatch.open"][k]:
            return f"hatch {hatch} is open; close it before locking it"
        was = int(state["control.lock_side"][k])
        if was >= 0:
            return f"hatch {hatch} is already locked from {self.volume_ids[was]}"
        state["control.lock_side"][k] = side
        return None

    def unlock(self, state: State, k: int) -> Optional[str]:
        if state["control.lock_side"][k] < 0:
            return f"hatch {self.link_ids[k]} is not locked"
        state["control.lock_side"][k] = -1
        return None

    def set_credentials(self, state: State, seg: int, faction: int) -> Optional[str]:
        row = state["control.credentials"][seg]
        row[:] = False
        row[faction] = True
        return None

    def undock(self, state: State, v: int) -> Optional[str]:
        k = self.vehicle_link.get(v)
        vid = self.volume_ids[v]
        if k is not None and state["hatch.open"][k]:
            return f"hatch {self.link_ids[k]} is open; {vid} undocks with its hatch closed"
        state["control.departed"][v] = True
        n = len(self.names)
        aboard = tuple(self.names[i] for i in range(n) if state["crew.location"][i] == v) if n else ()
        state.facts["control.departures"] = state.facts["control.departures"] + ((vid, state.t_ms, aboard),)
        state.record("control", what="undocked", vehicle=vid, aboard=aboard)
        return None

    def carry(self, c, person: int, to: str) -> Optional[str]:
        """The carrier moves (the crew's ``move``); the one carried goes along (the crew's ``carried``)."""
        problem = c.dispatch(Event(c.state.t_ms, "move", self.names[c.me], (("to", to),), source=self.names[c.me]))
        if problem:
            return problem
        return c.dispatch(Event(c.state.t_ms, "carried", self.names[person], (("by", self.names[c.me]), ("to", to)),
                                source=self.names[c.me]))

    def set_armed(self, state: State, person: int, armed: bool) -> Optional[str]:
        if bool(state["control.armed"][person]) == armed:
            return f"{self.names[person]} is {'already armed' if armed else 'not armed'}"
        state["control.armed"][person] = armed
        return None

    def take_arm(self, state: State, person: int) -> Optional[str]:
        state["control.arm_operator"][0] = person
        return None

    def operate_arm(self, state: State, person: int, action: str) -> Optional[str]:
        adrift = state["control.adrift"]
        name = self.names[person]
        if action == "push":
            if adrift[person]:
                return f"{name} is already adrift"
            if state["crew.tethered"][person]:
                state.record("control", what="arm strike", person=name, result="held by the tether")
                return f"{name} is clipped to the structure; the tether holds"
            adrift[person] = True
        else:
            if not adrift[person]:
                return f"{name} is not adrift; there is nothing to recover"
            adrift[person] = False
        return None

    def give(self, state: State, item: int, person: int) -> Optional[str]:
        state["control.item_holder"][item] = person
        state["control.item_volume"][item] = state["crew.location"][person]
        return None

    def stow(self, state: State, item: int, volume: int) -> Optional[str]:
        state["control.item_holder"][item] = -1
        state["control.item_volume"][item] = volume
        return None


# What the control map reads; when none of it changed, the map has not either.
_MAP_INPUTS = ("crew.location", "crew.alive", "crew.conscious", "crew.on_eva", "hatch.open", "comms.contact",
               "control.faction", "control.credentials", "control.lock_side", "control.departed",
               "control.arm_operator", "control.adrift")
