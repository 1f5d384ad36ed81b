"""What one person can know at one moment: the input of every policy.

:meth:`Simulation.observe` returns an :class:`Observation`. It reads the state when a field
is first asked for, and keeps nothing that could go stale: an observation is for the
moment it was made. It shows what the person could see or be told:

- their own body (``body``) and place (``location``, ``segment``);
- the people in sight (``in_sight``): in the same volume, or across an open hatch, and
  where they are (``seen_at``); the volumes they see into (``volumes_in_sight``);
- what the laptops in reach show (``laptops``): readings of the segments whose laptops
  they stand at (a module of that segment, not outside) and that accept their faction
  (not the counters of messages and commands, which would tell of messages meant for
  others and of acts behind closed hatches);
- the messages delivered to them (``messages``);
- what they may do (``allowed``): for each command of the catalogue, ``None`` when some
  target would pass authority now, else the reason it would not; ``check(cmd)`` tries one
  command in full (nothing changes; only what it touches is copied);
- their own mind (``mind``), kept by the ``agents`` subsystem as plain data, and their own
  random stream (``rng``), for a policy that draws.

It never shows the state of the station as a whole: a person behind a closed hatch does
not see what happens beyond it. ``station`` is the one exception, a read-only view kept
for the crew mind's planning of routes and the film's story (see ``docs/architecture.md``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import numpy as np

from ..station.routes import Topology, seen_from
from .state import StateSnapshot, StateView

SEGMENT_NAMES = ("USOS", "ROS")
_BODY = (("alive", "crew.alive"), ("conscious", "crew.conscious"), ("health", "crew.health"),
         ("on_eva", "crew.on_eva"), ("suit_s", "crew.suit_s"), ("bleeding", "crew.bleeding"),
         ("tethered", "crew.tethered"), ("activity", "crew.activity"), ("armed", "control.armed"),
         ("adrift", "control.adrift"))


class Observation:
    """What person ``index`` (named ``person``) can know at ``t_ms`` (see the module)."""

    def __init__(self, sim, index: int):
        self._sim = sim
        self._a = sim.state.arrays
        self.index = index
        self.person = sim.people[index]
        self.t_ms = sim.state.t_ms
        self.frame_ms = sim.dt_ms

    @classmethod
    def of(cls, sim, person) -> "Observation":
        people = sim.people
        if isinstance(person, (int, np.integer)) and not isinstance(person, bool) and 0 <= person < len(people):
            return cls(sim, int(person))
        if isinstance(person, str) and person in people:
            return cls(sim, people.index(person))
        raise KeyError(f"no crew member {person!r}; the crew are {', '.join(people) or 'nobody'}")

    # ------------------------------------------------------------------ body and place

    def _get(self, key: str, default=None):
        a = self._a
        return a[key][self.index].item() if key in a else default

    @cached_property
    def body(self) -> dict:
        """Alive, conscious, health (0-1), on EVA, suit time left (s), bleeding, tethered,
        activity (an index of the crew's activities), armed, adrift."""
        return {name: self._get(key) for name, key in _BODY if key in self._a}

    @property
    def able(self) -> bool:
        """Alive and conscious: someone who can act at all."""
        return bool(self._get("crew.alive", False) and self._get("crew.conscious", False))

    @cached_property
    def _volume(self) -> int:
        return int(self._a["crew.location"][self.index])

    @property
    def location(self) -> str:
        """The id of the module or vehicle they are in."""
        return self._sim.world.volumes[self._volume].id

    @property
    def segment(self) -> str:
        return self._sim.world.volumes[self._volume].segment

    @cached_property
    def in_sight(self) -> tuple[str, ...]:
        """The others they can see: in the same volume, or across an open hatch from it
        (someone outside is seen by no one inside, and sees no one)."""
        a, sim = self._a, self._sim
        if a["crew.on_eva"][self.index]:
            return ()
        visible = sight(sim, a["hatch.open"], self._volume)
        loc, eva = a["crew.location"], a["crew.on_eva"]
        return tuple(n for q, n in enumerate(sim.people)
                     if q != self.index and int(loc[q]) in visible and not eva[q])

    @cached_property
    def volumes_in_sight(self) -> tuple[str, ...]:
        """The volumes they can see into, in the station's order: their own, and those across
        open hatches from it (none while outside). Where ``in_sight`` finds people."""
        a, sim = self._a, self._sim
        if a["crew.on_eva"][self.index]:
            return ()
        visible = sight(sim, a["hatch.open"], self._volume)
        return tuple(v.id for k, v in enumerate(sim.world.volumes) if k in visible)

    @cached_property
    def seen_at(self) -> dict[str, str]:
        """``{name: volume id}``: where each person in sight is."""
        loc, vols = self._a["crew.location"], self._sim.world.volumes
        people = self._sim.people
        return {n: vols[int(loc[people.index(n)])].id for n in self.in_sight}

    # ------------------------------------------------------------------ what they are told

    @cached_property
    def laptop_segments(self) -> tuple[str, ...]:
        """The segments whose laptops are in reach and accept their faction (the keys of
        ``laptops``, found without reading them)."""
        a, sim = self._a, self._sim
        v = sim.world.volumes[self._volume]
        if v.kind != "module" or a["crew.on_eva"][self.index] or "control.credentials" not in a:
            return ()
        seg = SEGMENT_NAMES.index(v.segment)
        if not a["control.credentials"][seg][int(a["control.faction"][self.index])]:
            return ()
        return (v.segment,)

    @cached_property
    def laptops(self) -> dict[str, dict[str, float]]:
        """``{segment: {channel key: value now}}`` for the segments whose laptops are in reach
        and accept their faction (nothing from outside or from a vehicle)."""
        state = self._sim.state
        return {seg: {c.key: c.read(state) for c in laptop_channels(self._sim)[seg]} for seg in self.laptop_segments}

    @cached_property
    def messages(self) -> tuple[dict, ...]:
        """Messages that reached them: ``{t_ms, id, from, to, text}``, oldest first."""
        delivered = self._sim.state.facts.get("comms.delivered", ())
        return tuple({"t_ms": t, "id": mid, "from": frm, "to": to, "text": text}
                     for t, mid, frm, to, text, heard in delivered if self.person in heard)

    # ------------------------------------------------------------------ what they may do

    @cached_property
    def allowed(self) -> dict[str, Optional[str]]:
        """``{command: None if some target would pass authority now, else why not}``."""
        return self._sim.port.allowed(self._sim, self.index)

    def check(self, cmd):
        """What submitting ``cmd`` would give now (a dry run: nothing changes)."""
        return self._sim.port.check(self._sim, cmd)

    # ------------------------------------------------------------------ their own mind

    @cached_property
    def mind(self) -> dict:
        """Their own ``agents.*`` row: goal, intent, suspicion, traits, due..."""
        a, i = self._a, self.index
        return {k[len("agents."):]: a[k][i] for k in mind_keys(self._sim)}

    @property
    def due(self) -> bool:
        """Whether their mind has a decision to make now (the ``agents`` subsystem's timing)."""
        a = self._a
        return bool(a["agents.due"][self.index]) if "agents.due" in a else True

    @property
    def rng(self) -> np.random.Generator:
        """Their own random stream (``agents.<name>``), part of the simulation's state."""
        return self._sim.streams(f"agents.{self.person}")

    @property
    def station(self) -> StateView:
        """A read-only view of the whole state: the crew mind's planning only (see the module)."""
        return StateView(self._sim.state)

    def station_now(self) -> "StateSnapshot":
        """Like :attr:`station`, but each array is copied once and then kept: for a policy's
        one decision, during which the state does not change (dry runs work on a scratch
        state). Not to be kept past the decision."""
        return StateSnapshot(self._sim.state)

    def __repr__(self) -> str:
        return f"Observation({self.person!r} in {self.location} at t_ms={self.t_ms})"


def sight(sim, hatch_open, volume: int) -> set[int]:
    """The volumes seen from ``volume`` (:func:`issim.station.routes.seen_from`), on the
    simulation's hatch topology (worked out once per simulation)."""
    top = getattr(sim, "_topology", None)
    if top is None:
        top = sim._topology = Topology.of(sim.world)
    return seen_from(top, hatch_open, volume)


# The counters of what people said and did: messages (how many wait for contact, how many
# reached anyone) and commands (done, refused, failed, by anyone anywhere). A laptop showing
# them would tell of messages not yet delivered or meant for others, and of acts behind
# closed hatches.
PRIVATE_CHANNELS = frozenset({"comms.queued", "comms.delivered", "control.commands.done",
                              "control.commands.refused", "control.commands.failed"})


def mind_keys(sim) -> tuple[str, ...]:
    """The ``agents.*`` keys with a row per person (a mind's quantities), in the state's
    order; worked out once per simulation (the declared keys do not change in a run)."""
    cached = getattr(sim, "_mind_keys", None)
    if cached is None:
        a, n = sim.state.arrays, len(sim.people)
        cached = sim._mind_keys = tuple(k for k in a if k.startswith("agents.") and a[k].shape[:1] == (n,))
    return cached


def laptop_channels(sim) -> dict[str, list]:
    """The channels each segment's laptops show: those naming the segment, one of its volumes
    or hatches, or a machine or link of it; station-wide readings (attitude, propulsion,
    orbit) on both. People's bodies are on no laptop, nor the counters of messages and
    commands (:data:`PRIVATE_CHANNELS`). Worked out once per simulation."""
    cached = getattr(sim, "_laptop_channels", None)
    if cached is not None:
        return cached
    world = sim.world
    owner: dict[str, set] = {}
    for v in world.volumes:
        owner.setdefault(v.id, set()).add(v.segment)
    for l in world.links:
        owner.setdefault(l.hatch, set()).update({world.volumes[l.a].segment, world.volumes[l.b].segment})
    for sub in sim.subsystems:
        for thing in list(getattr(sub, "machines", ()) or ()) + list(getattr(sub, "links", ()) or ()):
            seg, tid = getattr(thing, "segment", None), getattr(thing, "id", None)
            if seg in SEGMENT_NAMES and isinstance(tid, str):
                owner.setdefault(tid, set()).add(seg)
    out: dict[str, list] = {s: [] for s in SEGMENT_NAMES}
    for c in sim.channels():
        parts = c.key.split(".")
        if parts[0] in ("crew", "agents") or c.key in PRIVATE_CHANNELS:
            continue
        segs: set = set()
        for part in parts[1:]:
            if part in SEGMENT_NAMES:
                segs.add(part)
            segs |= owner.get(part, set())
        for s in segs or SEGMENT_NAMES:
            out[s].append(c)
    sim._laptop_channels = out
    return out
