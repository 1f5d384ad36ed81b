"""Custody: who holds what aboard, and who controls each system (subsystem ``control``).

The state no physical subsystem owns, all plain data under ``control.``:

- ``control.faction`` (people,) int: each person's side, an index into the directory's
  factions (:attr:`~issim.control.directory.Directory.factions`; by default
  :func:`~issim.control.authority.default_faction` of their agency);
- ``control.credentials`` (segments, factions) bool: which factions each segment's
  laptops accept. At the start both crews can work both segments' laptops, as the
  partnership runs the station ("here we are one"); taking a segment means changing
  its credentials. A scenario's ``[station] credentials`` can start split instead
  (``USOS = ["usa"]``, ``ROS = ["russia"]``);
- ``control.lock_side`` (hatches,) int: the volume a hatch was locked from, -1 unlocked;
- ``control.power_severed`` (segments,) bool: a segment's power cut by hand at its
  hardware (``cut_power``): its bus stays down, ``power_on`` refused, until ``repair_power``;
- ``control.departed`` (volumes,) bool: vehicles that have undocked (their hatch never
  opens again: the atmosphere refuses; the people inside stay simulated in the vehicle's volume, which holds for
  the hours that matter; ``state.facts["control.departures"]`` records who left when);
- ``control.adrift`` (people,) bool: knocked off the structure on EVA by the arm;
  ``control.drift_m`` and ``control.drift_m_s`` (people,) float: how far from the arm's
  base they are and how fast they move away (0 once they have caught hold of the
  structure off the handrail path with the EMU's SAFER jets; see :mod:`~issim.control.work`);
- ``control.task`` (people,) int and ``control.task_until_ms`` (people,) int: the work each
  person is in the middle of (an index of the catalogue, -1 none) and when it is done;
  ``state.facts["control.work"]`` holds each piece of work's command;
- ``control.armed`` (people,) bool: holding an improvised weapon (``take_weapon``);
- ``control.arm_operator`` (1,) int: who holds the arm's workstation, -1 nobody;
- ``control.item_holder`` and ``control.item_volume`` (items,) int: who holds each item
  (-1 nobody) and where it is (the holder's volume while held);
- ``control.map`` (systems, factions) bool: the control map
  (:mod:`~issim.control.controlmap`) and ``control.map_minute`` (1,), the simulated
  minute it was last computed;
- ``control.commands`` (3,) int: commands done, refused, failed;
- ``state.facts["control.history"]``: every command attempt, a tuple of
  ``(t_ms, actor, source, command, target, args, stage, result, reason, message)``.

:class:`Custody` keeps that state (reset, update, telemetry, the declared schema) and
carries out the custody actions the catalogue's executors call (lock, credentials,
undock, carry, the arm, weapons, items). It holds the run's
:class:`~issim.control.directory.Directory` (names and indices) and its
:class:`~issim.control.controlmap.ControlMap`, both rebuilt when the engine binds the run.

A command a scenario schedules (an event of kind ``command``) is run by the engine through
the pipeline's port (:class:`issim.control.pipeline.ControlPort`), like any other.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from ..sim.events import Event
from ..sim.fastnp import count_nonzero
from ..times import format_iso
from ..sim.state import State
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel
from ..sim.world import SEGMENTS, World
from .authority import default_faction
from .controlmap import ControlMap
from .directory import Directory, Item

START_CREDENTIALS = {"USOS": ("usa", "russia"), "ROS": ("usa", "russia")}


class Custody(Subsystem):
    """Locks, credentials, items, the arm, vehicles, and the control map in the state (see the module).

    ``directory`` is the run's :class:`~issim.control.directory.Directory`; ``map`` its
    :class:`~issim.control.controlmap.ControlMap`. ``names``, ``factions`` and ``systems``
    read through to them.
    """

    name = "control"

    def __init__(self, world: World, people: Sequence = (), items: Sequence[Item] = (),
                 factions: Optional[Mapping[str, str]] = None,
                 credentials: Optional[Mapping[str, Sequence[str]]] = None):
        chosen = dict(factions or {})
        person_factions = [chosen.get(p.name, default_faction(p.agency)) for p in people]
        self.credentials = dict(START_CREDENTIALS)  # segment -> the factions its laptops accept at the start
        self.credentials.update({seg: tuple(fs) for seg, fs in (credentials or {}).items()})
        unknown = set(self.credentials) - set(SEGMENTS)
        if unknown:
            raise KeyError(f"credentials for unknown segments {sorted(unknown)}; segments are {', '.join(SEGMENTS)}")
        named = [f for fs in self.credentials.values() for f in fs]
        self.directory = Directory.of(world, people, items, (*person_factions, *named))
        self.initial_faction = np.array([self.directory.factions.index(f) for f in person_factions], dtype=np.int64)
        self.map = ControlMap(self.directory)

    def bind(self, sim) -> None:
        """Learn the machines, tanks, engines and links of the run from its other subsystems."""
        self.directory = self.directory.with_subsystems(sim.subsystems)
        self.map = ControlMap(self.directory)

    @property
    def names(self) -> tuple[str, ...]:
        return self.directory.names

    @property
    def factions(self) -> tuple[str, ...]:
        return self.directory.factions

    @property
    def systems(self) -> tuple[str, ...]:
        return self.map.systems

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        d = self.directory
        p = ("people",)
        reads = ["crew.location", "crew.alive", "crew.conscious", "crew.on_eva", "crew.tethered", "crew.activity",
                 "crew.bleeding", "crew.health", "hatch.open", "hatch.valve_open", "comms.contact", "comms.blocked",
                 "comms.link_ok", "comms.suit_radio_ok", "comms.messages", "ls.on", "ls.broken", "ls.fixed",
                 "ls.candles_left", "ls.tank_pending_kg", "power.bus", "power.cut", "power.converters_on",
                 "att.desat_allowed", "prop.burns_allowed", "prop.thrusters_enabled", "prop.reboosts"]
        if d.names:
            reads.append("agents.side")  # a confrontation's sides
        return Schema(
            owns=(
                Key("control.faction", p, "int64", "1", "each person's side (index into control.factions)"),
                Key("control.credentials", ("segments", "factions"), "bool", "1",
                    "which factions each segment's laptops accept"),
                Key("control.lock_side", ("links",), "int64", "1", "the volume each hatch was locked from, -1 unlocked"),
                Key("control.departed", ("volumes",), "bool", "1", "vehicles that have undocked"),
                Key("control.power_severed", ("segments",), "bool", "1",
                    "each segment's power cut by hand at its hardware (until repair_power)"),
                Key("control.adrift", p, "bool", "1", "knocked off the structure on EVA by the arm"),
                Key("control.drift_m", p, "float64", "m", "distance of someone adrift from the arm's base"),
                Key("control.drift_m_s", p, "float64", "m/s", "speed at which someone adrift moves away"),
                Key("control.task", p, "int64", "1", "the work in hand (index of the command catalogue), -1 none"),
                Key("control.task_until_ms", p, "int64", "ms", "when the work in hand is finished"),
                Key("control.armed", p, "bool", "1", "holding an improvised weapon"),
                Key("control.arm_operator", (1,), "int64", "1", "who holds the arm's workstation, -1 nobody"),
                Key("control.item_holder", ("items",), "int64", "1", "who holds each item, -1 nobody"),
                Key("control.item_volume", ("items",), "int64", "1", "where each item is (volume index)"),
                Key("control.map", ("systems", "factions"), "bool", "1", "which factions could command each system"),
                Key("control.map_minute", (1,), "int64", "min", "the simulated minute the map was computed"),
                Key("control.commands", (3,), "int64", "1", "commands done, refused, failed"),
                fact("control.history", "tuple", "every command attempt (see issim.control.pipeline)"),
                fact("control.departures", "tuple", "(vehicle, t_ms, people aboard) for each undocking"),
                fact("control.landings", "tuple",
                     "(vehicle, burn_ms, landing_ms, lat, lon, place, people) for each crewed departure"),
                fact("control.work", "tuple", "(person, until_ms, name, target, args, source) of the work in hand"),
                fact("control.factions", "tuple", "the factions' names, in index order"),
            ),
            reads=tuple(reads),
            dims={"people": len(d.names), "factions": len(d.factions), "links": len(d.link_ids),
                  "volumes": d.n_volumes, "segments": len(SEGMENTS), "items": len(d.items),
                  "systems": len(self.map.systems)},
        )

    def reset(self, state: State, world, streams) -> None:
        d = self.directory
        n, nf = len(d.names), len(d.factions)
        state["control.faction"] = self.initial_faction.copy()
        creds = np.zeros((len(SEGMENTS), nf), dtype=bool)
        for seg, factions in self.credentials.items():
            for faction in factions:
                creds[SEGMENTS.index(seg), d.factions.index(faction)] = True
        state["control.credentials"] = creds
        state["control.lock_side"] = np.full(len(d.link_ids), -1, dtype=np.int64)
        state["control.departed"] = np.zeros(d.n_volumes, dtype=bool)
        state["control.power_severed"] = np.zeros(len(SEGMENTS), dtype=bool)
        state["control.adrift"] = np.zeros(n, dtype=bool)
        state["control.drift_m"] = np.zeros(n)
        state["control.drift_m_s"] = np.zeros(n)
        state["control.task"] = np.full(n, -1, dtype=np.int64)
        state["control.task_until_ms"] = np.zeros(n, dtype=np.int64)
        state.facts["control.work"] = ()
        state["control.armed"] = np.zeros(n, dtype=bool)
        state["control.arm_operator"] = np.full(1, -1, dtype=np.int64)
        holder = [d.person(it.at) for it in d.items]
        state["control.item_holder"] = np.array([-1 if h is None else h for h in holder], dtype=np.int64)
        state["control.item_volume"] = np.array(
            [d.volume_index.get(it.at, -1) for it in d.items], dtype=np.int64)
        state["control.map"] = np.zeros((len(self.map.systems), nf), dtype=bool)
        state["control.map_minute"] = np.full(1, -1, dtype=np.int64)
        state["control.commands"] = np.zeros(3, dtype=np.int64)
        state.facts["control.history"] = ()
        state.facts["control.departures"] = ()
        state.facts["control.landings"] = ()
        state.facts["control.factions"] = d.factions
        if "crew.location" in state or not d.names:  # the crew were reset first: map the start
            state["control.map"][:] = self.map.compute(state)
            state["control.map_minute"][0] = state.t_ms // 60_000

    def update(self, state: State, env, dt_s: float) -> None:
        # (issim.quiet.kernel copies the quiet part of this, the items carried and the map's
        # minute: a change here is a change there; tests/test_quiet.py holds the two alike)
        a = state.arrays
        nonzero = count_nonzero  # (numpy's C count: ndarray.any() goes through Python, several times slower here)
        if nonzero(a["control.adrift"]):
            drift = a["control.drift_m"]  # (in place: the array is the state's, not rebound)
            drift += a["control.drift_m_s"] * dt_s
        task = a["control.task"]
        if task.size and max(task.tolist()) >= 0:  # someone at work (read as a list: cheaper than a mask)
            busy = task >= 0
            out = busy & ~(a["crew.alive"] & a["crew.conscious"])
            for p in np.flatnonzero(out):
                self.drop_work(state, int(p), "knocked out" if a["crew.alive"][p] else "died")
        if self.directory.items:
            holder = a["control.item_holder"]
            if holder.size and max(holder.tolist()) >= 0:  # an item held (as above)
                held = holder >= 0
                a["control.item_volume"][held] = a["crew.location"][holder[held]]
        minute = state.t_ms // 60_000
        stamp = a["control.map_minute"]
        if minute != stamp.item(0):
            stamp[0] = minute
            a["control.map"][:] = self.map.compute(state)

    def channels(self) -> list[Channel]:
        d = self.directory
        out = []
        for s, key in enumerate(self.map.systems):
            for f, faction in enumerate(d.factions):
                out.append(Channel(f"control.{key}.{faction}", f"{faction} could command {key} now", "1",
                                   "control.map", (s, f), source="issim.control.authority (computed)"))
        for s, seg in enumerate(SEGMENTS):
            for f, faction in enumerate(d.factions):
                out.append(Channel(f"control.credentials.{seg}.{faction}", f"{seg} laptops accept {faction}", "1",
                                   "control.credentials", (s, f)))
        for k, hatch in enumerate(d.link_ids):
            out.append(Channel(f"hatch.{hatch}.locked_from", f"hatch {hatch} locked from (volume index; -1 unlocked)",
                               "1", "control.lock_side", (k,)))
        for vid, v in d.vehicle_index.items():
            out.append(Channel(f"vehicle.{vid}.departed", f"{vid} has undocked", "1", "control.departed", (v,)))
        out.append(Channel("control.arm.operator", "who holds the arm's workstation (crew index; -1 nobody)", "1",
                           "control.arm_operator", (0,)))
        for i, item in enumerate(d.item_ids):
            out += [
                Channel(f"item.{item}.holder", f"{item} held by (crew index; -1 nobody)", "1",
                        "control.item_holder", (i,)),
                Channel(f"item.{item}.volume", f"{item} is in (volume index)", "1", "control.item_volume", (i,)),
            ]
        for i, what in enumerate(("done", "refused", "failed")):
            out.append(Channel(f"control.commands.{what}", f"commands {what} so far", "1", "control.commands", (i,)))
        return out

    # ------------------------------------------------------------------ the control map, the summary

    def control_map(self, state: State) -> dict[str, list[str]]:
        """``{system: [factions that could command it now]}`` (:meth:`ControlMap.named`)."""
        return self.map.named(state)

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
        d = self.directory
        hatch = d.link_ids[k]
        if state["hatch.open"][k]:
            return f"hatch {hatch} is open; close it before locking it"
        was = int(state["control.lock_side"][k])
        if was >= 0:
            return f"hatch {hatch} is already locked from {d.volume_ids[was]}"
        state["control.lock_side"][k] = side
        return None

    def unlock(self, state: State, k: int) -> Optional[str]:
        if state["control.lock_side"][k] < 0:
            return f"hatch {self.directory.link_ids[k]} is not locked"
        state["control.lock_side"][k] = -1
        self._nothing_to_force(state, k, "unlocked from the other side")
        return None

    def _nothing_to_force(self, state: State, k: int, why: str, by: int = -1) -> None:
        """Hatch ``k`` is no longer locked: whoever else is forcing it stops at once (their
        half-hour's work has nothing left to do), and the history says why."""
        hatch = self.directory.link_ids[k]
        for w in state.facts["control.work"]:
            if w[2] == "force_hatch" and w[3] == hatch and w[0] != by:
                self.drop_work(state, w[0], f"hatch {hatch} was {why}")

    def force(self, state: State, k: int, by: int) -> Optional[str]:
        """Hatch ``k``'s lock undone from the side that did not lock it (``force_hatch``)."""
        d = self.directory
        side = int(state["control.lock_side"][k])
        if side < 0:
            return f"hatch {d.link_ids[k]} is not locked"
        state["control.lock_side"][k] = -1
        state.record("control", what="hatch forced", hatch=d.link_ids[k], locked_from=d.volume_ids[side],
                     by=d.names[by] if by >= 0 else "operator")
        self._nothing_to_force(state, k, f"forced by {d.names[by] if by >= 0 else 'the operator'}", by)
        return None

    def sever_power(self, c, seg: int) -> Optional[str]:
        """``cut_power``: the segment's bus goes down and stays down until ``repair_power``."""
        if c.state["control.power_severed"][seg]:
            return f"the {SEGMENTS[seg]} power is already cut at its hardware"
        problem = c.dispatch(Event(c.state.t_ms, "power_off", SEGMENTS[seg], source=c.who.name))
        if problem:
            return problem
        c.state["control.power_severed"][seg] = True
        return None

    def mend_power(self, c, seg: int) -> Optional[str]:
        """``repair_power``: the hardware mended, the bus switched on again."""
        if not c.state["control.power_severed"][seg]:
            return f"the {SEGMENTS[seg]} power is not cut at its hardware"
        c.state["control.power_severed"][seg] = False
        return c.dispatch(Event(c.state.t_ms, "power_on", SEGMENTS[seg], source=c.who.name))

    def set_credentials(self, state: State, seg: int, faction: int) -> Optional[str]:
        row = state["control.credentials"][seg]
        row[:] = False
        row[faction] = True
        return None

    def undock(self, state: State, v: int, elements=None) -> Optional[str]:
        """``v`` leaves; with the orbit's ``elements`` and people aboard, its descent is planned
        (:func:`issim.orbit.descent.plan_descent`: the burn, the landing, where)."""
        d = self.directory
        k = d.vehicle_link.get(v)
        vid = d.volume_ids[v]
        if k is not None and state["hatch.open"][k]:
            return f"hatch {d.link_ids[k]} is open; {vid} undocks with its hatch closed"
        state["control.departed"][v] = True
        n = len(d.names)
        aboard = tuple(d.names[i] for i in range(n) if state["crew.location"][i] == v) if n else ()
        state.facts["control.departures"] = state.facts["control.departures"] + ((vid, state.t_ms, aboard),)
        state.record("control", what="undocked", vehicle=vid, aboard=aboard)
        if elements is not None and aboard:
            from ..orbit.descent import plan_descent
            from ..times import datetime_to_ms

            plan = plan_descent(elements, state.t_ms)
            landing = datetime_to_ms(plan.landing_utc)
            state.facts["control.landings"] = state.facts.get("control.landings", ()) + (
                (vid, datetime_to_ms(plan.burn_utc), landing, round(plan.landing_lat_deg, 2),
                 round(plan.landing_lon_deg, 2), plan.place, aboard),)
            state.record("control", what="descent", vehicle=vid, burn=format_iso(datetime_to_ms(plan.burn_utc)),
                         landing=format_iso(landing), lat=round(plan.landing_lat_deg, 2),
                         lon=round(plan.landing_lon_deg, 2), place=plan.place)
        return None

    def carry(self, c, person: int, to: str) -> Optional[str]:
        """The carrier moves (the crew's ``move``); the one carried goes along (the crew's ``carried``)."""
        names = self.directory.names
        problem = c.dispatch(Event(c.state.t_ms, "move", names[c.me], (("to", to),), source=names[c.me]))
        if problem:
            return problem
        return c.dispatch(Event(c.state.t_ms, "carried", names[person], (("by", names[c.me]), ("to", to)),
                                source=names[c.me]))

    def set_armed(self, state: State, person: int, armed: bool) -> Optional[str]:
        if bool(state["control.armed"][person]) == armed:
            return f"{self.directory.names[person]} is {'already armed' if armed else 'not armed'}"
        state["control.armed"][person] = armed
        return None

    def take_arm(self, state: State, person: int) -> Optional[str]:
        state["control.arm_operator"][0] = person
        return None

    def operate_arm(self, state: State, person: int, action: str) -> Optional[str]:
        """``push``: off the structure at the arm tip's speed; with an EMU's SAFER and awake,
        they stop and catch hold of the structure off the handrail path, within the arm's
        reach. ``recover``: back at the airlock (the work's time was the arm's travel)."""
        from .work import EMU_AIRLOCKS, HOLD_AT_M, PUSH_M_S, SAFER_REACT_S

        adrift = state["control.adrift"]
        name = self.directory.names[person]
        if action == "push":
            if adrift[person]:
                return f"{name} is already adrift"
            if state["crew.tethered"][person]:
                state.record("control", what="arm strike", person=name, result="held by the tether")
                return f"{name} is clipped to the structure; the tether holds"
            adrift[person] = True
            safer = self.directory.volume_ids[int(state["crew.location"][person])] in EMU_AIRLOCKS
            if safer and state["crew.conscious"][person]:
                state["control.drift_m"][person] = HOLD_AT_M
                state["control.drift_m_s"][person] = 0.0
                state.record("control", what="safer", person=name, held_at_m=HOLD_AT_M,
                             after_s=SAFER_REACT_S)
            else:
                state["control.drift_m"][person] = 0.0
                state["control.drift_m_s"][person] = PUSH_M_S
        else:
            if not adrift[person]:
                return f"{name} is not adrift; there is nothing to recover"
            adrift[person] = False
            state["control.drift_m"][person] = 0.0
            state["control.drift_m_s"][person] = 0.0
        return None

    def arm_catch(self, state: State, person: int) -> None:
        """The arm is on its way to someone adrift: it holds them where it will catch them."""
        from .work import arm_catch_m

        d, v = float(state["control.drift_m"][person]), float(state["control.drift_m_s"][person])
        state["control.drift_m"][person] = arm_catch_m(d, v)
        state["control.drift_m_s"][person] = 0.0

    # ------------------------------------------------------------------ work that takes time

    def start_work(self, state: State, person: int, spec_index: int, until_ms: int, cmd) -> None:
        state["control.task"][person] = spec_index
        state["control.task_until_ms"][person] = until_ms
        state.facts["control.work"] = tuple(w for w in state.facts["control.work"] if w[0] != person) + (
            (person, until_ms, cmd.name, cmd.target, cmd.args, cmd.source),)

    def work_of(self, state: State, person: int) -> Optional[tuple]:
        """The work ``person`` has in hand: ``(person, until_ms, name, target, args, source)``."""
        return next((w for w in state.facts["control.work"] if w[0] == person), None)

    def end_work(self, state: State, person: int) -> None:
        state["control.task"][person] = -1
        state["control.task_until_ms"][person] = 0
        state.facts["control.work"] = tuple(w for w in state.facts["control.work"] if w[0] != person)

    def drop_work(self, state: State, person: int, why: str) -> None:
        """The work ``person`` has in hand ends unfinished; the history says so."""
        from .commands import Command, CommandResult
        from .pipeline import record

        w = self.work_of(state, person)
        self.end_work(state, person)
        if w is None:
            return
        cmd = Command(w[2], self.directory.names[person], w[3], w[4], source=w[5])
        record(state, CommandResult(cmd, state.t_ms, "failed", "work", "interrupted",
                                    f"{cmd.actor} stopped {cmd.name} unfinished: {why}"))

    def stop_work(self, c, why: str) -> Optional[str]:
        self.drop_work(c.state, c.me, why)
        return None

    def give(self, state: State, item: int, person: int) -> Optional[str]:
        state["control.item_holder"][item] = person
        state["control.item_volume"][item] = state["crew.location"][person]
        return None

    def stow(self, state: State, item: int, volume: int) -> Optional[str]:
        state["control.item_holder"][item] = -1
        state["control.item_volume"][item] = volume
        return None
