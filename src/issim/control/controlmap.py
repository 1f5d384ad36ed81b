"""The control map: for each system, the factions that could command it now.

The systems: per segment its life support (when it has a machine), power and comms (when
it has a link), and for the ROS attitude and propulsion (when the run has an engine); each
hatch between the segments; each vehicle with seats; the robotic arm (when the station has
its workstations). The USOS has no attitude or propulsion command here (its CMGs take
none, and no US vehicle reboosts in this model), so those rows do not exist.

A faction could command a system when a representative command (its probe) passes
authority for some member of the faction who is aboard, alive and conscious (and could get
to the right place through open hatches), or for the faction's ground
(:func:`issim.control.authority.control_map`). The custody subsystem keeps the map in the
state (``control.map``, with ``control.map_minute``) and recomputes it at most once a
simulated minute, at the first frame of each minute.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..sim.state import State
from ..sim.world import SEGMENTS
from .authority import Probe, Situation, control_map
from .commands import CATALOGUE
from .directory import Directory

# Everything the control map reads (what issim.control.authority.Situation reads; a test holds
# it so): when none of it changed, the map has not either.
MAP_INPUTS = ("crew.location", "crew.alive", "crew.conscious", "crew.on_eva", "hatch.open", "comms.contact",
              "control.faction", "control.credentials", "control.lock_side", "control.departed",
              "control.arm_operator", "control.adrift", "control.drift_m", "control.drift_m_s", "control.task",
              "control.task_until_ms", "control.item_holder", "control.item_volume")
MEMO_SIZE = 256  # control maps kept, each with what it was worked out from (ControlMap.compute)


def probe_plan(d: Directory) -> list[tuple[str, tuple]]:
    """``(system key, (command, target, args))`` for each system of the run, in map order.

    A hatch's command is ``None`` here: its probe depends on the hatch's state
    (:meth:`ControlMap.probes`).
    """
    plan: list[tuple[str, tuple]] = []
    for s, seg in enumerate(SEGMENTS):
        machine = next((i for i, m in enumerate(d.machines) if m[2] == s), None)
        if machine is not None:
            plan.append((f"{seg}.life-support", ("switch", machine, {"on": True})))
        plan.append((f"{seg}.power", ("power_on", s, {})))
        if seg == "ROS":
            plan.append((f"{seg}.attitude", ("allow_desat", s, {})))
            if d.engines:
                plan.append((f"{seg}.propulsion", ("burn", d.engines[0], {"dv_m_s": 1.0})))
        link = next((i for i, l in enumerate(d.comms_links) if l[1] == s), None)
        if link is not None:
            plan.append((f"{seg}.comms", ("cut_link", link, {})))
    for k, l in enumerate(d.world.links):
        if l.boundary:
            plan.append((f"hatch.{l.hatch}", (None, k, {})))
    for vid, v in d.vehicle_index.items():
        if d.seats.get(v, 0) > 0:
            plan.append((f"vehicle.{vid}", ("board", v, {})))
    if d.workstations:
        plan.append(("arm", ("take_arm", None, {})))
    return plan


class ControlMap:
    """The control map of one :class:`~issim.control.directory.Directory`: its systems
    (``systems``, the rows of ``control.map``) and the map for a state."""

    def __init__(self, d: Directory):
        self.d = d
        plan = probe_plan(d)
        self.systems: tuple[str, ...] = tuple(key for key, _ in plan)
        self._plan = [(key, None if name is None else CATALOGUE[name], target, args)
                      for key, (name, target, args) in plan]
        self._memo: dict[bytes, np.ndarray] = {}  # (see compute)
        self._table = None  # the kept maps as arrays (see table), for the _memo it was made from

    def probes(self, state: State) -> list[Probe]:
        """The probe of each system now (a hatch's: whatever would change it now)."""
        out = []
        for key, spec, target, args in self._plan:
            if spec is None:
                side = int(state["control.lock_side"][target])
                name = "unlock_hatch" if side >= 0 else "close_hatch" if state["hatch.open"][target] else "open_hatch"
                spec = CATALOGUE[name]
            out.append(Probe(key, spec, target, args))
        return out

    def compute(self, state: State) -> np.ndarray:
        """The control map now, ``(systems, factions)`` bool.

        About 50 µs from scratch; most minutes nothing it reads has changed, and what does
        comes back to what it was (people move at the edges of sleep and back, contacts
        come and go a few dozen times a day), so each answer is kept with the bytes of
        everything it read (the last :data:`MEMO_SIZE`) and reused when they match: a pure
        cache, never state (a restored run finds the answer for what it reads, or works it out).
        """
        key = self.key(state)
        out = self._memo.get(key)
        if out is None:
            out = control_map(Situation(state, self.d, reach=True), self.probes(state), self.d.actors)
            if len(self._memo) >= MEMO_SIZE:
                del self._memo[next(iter(self._memo))]  # (the oldest)
            self._memo[key] = out
            self._table = None
        return out

    def table(self, key: bytes) -> tuple:
        """The kept maps as a compiled loop looks them up: ``(keys, maps, row)``, each kept
        map's key of ``key``'s length as a row of bytes (``uint8``, rows x length), the maps
        (rows x systems x factions), and the row of ``key`` (-1 if it is not kept). Made
        again only after a map is worked out; read-only."""
        if self._table is None or self._table[0].shape[1] != len(key):
            kept = [(k, m) for k, m in self._memo.items() if len(k) == len(key)]
            keys = np.frombuffer(b"".join(k for k, _ in kept), dtype=np.uint8).reshape(len(kept), len(key))
            maps = np.array([m for _, m in kept], dtype=bool).reshape(len(kept), len(self.systems),
                                                                      len(self.d.factions))
            rows = {k: i for i, (k, _) in enumerate(kept)}
            self._table = (keys, maps, rows)
        keys, maps, rows = self._table
        return keys, maps, rows.get(key, -1)

    @staticmethod
    def inputs(state: State) -> list[np.ndarray]:
        """What the map is worked out from: the arrays of :data:`MAP_INPUTS` the state has."""
        a = state.arrays
        return [a[k] for k in MAP_INPUTS if k in a]

    @classmethod
    def key(cls, state: State, inputs: Optional[list] = None) -> bytes:
        """:meth:`inputs` as bytes, what a kept map is kept with (``inputs``: those arrays,
        when the caller has gathered them already)."""
        return b"|".join(v.tobytes() for v in (cls.inputs(state) if inputs is None else inputs))

    def named(self, state: State) -> dict[str, list[str]]:
        """``{system: [factions that could command it now]}``."""
        m = self.compute(state)
        return {key: [f for j, f in enumerate(self.d.factions) if m[s, j]] for s, key in enumerate(self.systems)}
