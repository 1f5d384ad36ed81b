"""Authority: whether a command is allowed, computed from where people are and what they hold.

Nothing here is assumed: every answer is read from the state at the moment it is asked.

- **Who.** An actor is a crew member (by name), a ground (``houston`` flies the USOS,
  ``moscow`` the ROS), or the ``operator`` (a human at the CLI or the browser running
  the simulation, who may do what a scripted event may: system commands, no bodily ones).
  A crew member acts only while aboard (not departed in a vehicle), alive and conscious,
  and, for anything inside, not out on EVA.
- **Factions.** A person's side is :func:`default_faction` of their agency (``russia``
  for roscosmos, ``usa`` for everyone else) unless the scenario says otherwise; it is
  kept in the state (``control.faction``) so that it can change during a run. The grounds
  are ``usa`` (Houston) and ``russia`` (Moscow).
- **Where.** Hatch commands need the actor in one of the hatch's two volumes; computer
  commands need the actor in a *module* of the segment whose computers run the system
  (docked vehicles have no station laptops); hands-on work (breaking or repairing a
  machine, lighting a candle, opening a gas tank) needs the actor in the machine's
  module; the robotic arm is flown from its workstations in Destiny and the Cupola.
- **What stands between.** Moving needs a path of open hatches. A locked hatch opens
  only after it is unlocked, and only from the side that locked it.
- **What they hold.** Each segment's laptops accept the factions in ``control.credentials``
  (USOS: ``usa``, ROS: ``russia`` at the start). The arm answers to whoever holds its
  workstation. Items are held by a person or lie in a volume.
- **The ground** commands only its own segment, only while that segment is in contact
  (``state["comms.contact"]``), and only through laptops that accept its faction.

Each refusal is a :class:`Reason` and a one-line message naming the people, places and
things involved. :func:`authorize` never raises.

**The control map** (:func:`control_map`) asks, for each system, whether any member of a
faction (aboard, alive, conscious) or that faction's ground could issue a representative
command. For the map, "where" is relaxed to "could get there now through open hatches":
standing in Destiny rather than Zarya does not take the boundary hatch out of your hands,
but a closed hatch between you and it does. (Commands themselves need the actor to be
there.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Sequence

import numpy as np

from ..station import routes

GROUNDS = {"houston": "USOS", "moscow": "ROS"}  # a control centre and the segment it flies
GROUND_FACTION = {"houston": "usa", "moscow": "russia"}
OPERATOR = "operator"
FACTIONS = ("usa", "russia")  # the factions every run knows; a scenario may add more


def default_faction(agency: str) -> str:
    """The side a person of ``agency`` is on unless a scenario says otherwise.

    The one place this rule lives: ``russia`` for Roscosmos, ``usa`` for NASA and its
    partners (ESA, JAXA, CSA), whose crews fly on the US segment.
    """
    return "russia" if agency.lower() == "roscosmos" else "usa"


class Reason(str, Enum):
    """Why a command was refused or failed; the value is what history and the log record."""

    UNKNOWN_COMMAND = "unknown_command"
    BAD_ARGUMENT = "bad_argument"
    UNKNOWN_TARGET = "unknown_target"
    UNKNOWN_ACTOR = "unknown_actor"
    NOT_CREW = "not_crew"
    NOT_ABOARD = "not_aboard"
    ACTOR_DEAD = "actor_dead"
    ACTOR_INCAPACITATED = "actor_incapacitated"
    ON_EVA = "on_eva"
    NOT_ON_EVA = "not_on_eva"
    NOT_HERE = "not_here"
    NO_PATH = "no_path"
    HATCH_LOCKED = "hatch_locked"
    NO_CREDENTIAL = "no_credential"
    NO_LINK = "no_link"
    NOT_YOUR_SEGMENT = "not_your_segment"
    ITEM_NOT_HERE = "item_not_here"
    NOT_HELD = "not_held"
    IN_USE = "in_use"
    TARGET_UNAVAILABLE = "target_unavailable"
    VEHICLE_DEPARTED = "vehicle_departed"
    NOT_ENOUGH_SEATS = "not_enough_seats"
    BUSY = "busy"
    INTERRUPTED = "interrupted"
    NO_HELP = "no_help"
    OUT_OF_REACH = "out_of_reach"
    PHYSICS = "physics_refused"
    VERIFY_FAILED = "verify_failed"
    INTERNAL_ERROR = "internal_error"


# One line each, for docs/commands.md and `issim commands`.
REASON_TEXT = {
    Reason.UNKNOWN_COMMAND: "no command of that name (or the simulation takes no commands)",
    Reason.BAD_ARGUMENT: "an argument is missing, unknown, of the wrong type or out of range; or the source is unknown",
    Reason.UNKNOWN_TARGET: "the target (hatch, machine, segment, person, vehicle, item...) does not exist",
    Reason.UNKNOWN_ACTOR: "the actor is neither a crew member, a ground (houston, moscow) nor the operator",
    Reason.NOT_CREW: "the command needs a body aboard (or a ground or the operator may not issue it)",
    Reason.NOT_ABOARD: "the actor has left the station in an undocked vehicle",
    Reason.ACTOR_DEAD: "the actor is dead",
    Reason.ACTOR_INCAPACITATED: "the actor is unconscious (hypoxia, CO2, injury...)",
    Reason.ON_EVA: "the actor is outside on EVA and the command is for inside",
    Reason.NOT_ON_EVA: "end_eva by someone who is not outside",
    Reason.NOT_HERE: "the actor (or the other person) is not where the action is",
    Reason.NO_PATH: "closed (or locked) hatches stand between the actor and the destination",
    Reason.HATCH_LOCKED: "the hatch is locked (from the other side, or unlock it first)",
    Reason.NO_CREDENTIAL: "the segment's laptops do not accept the actor's faction",
    Reason.NO_LINK: "the ground's segment has no contact with the ground now",
    Reason.NOT_YOUR_SEGMENT: "Houston commands only the USOS, Moscow only the ROS",
    Reason.ITEM_NOT_HERE: "the item is not in the actor's volume",
    Reason.NOT_HELD: "the actor does not hold the item (or the arm's workstation)",
    Reason.IN_USE: "someone conscious holds the item or the arm's workstation",
    Reason.TARGET_UNAVAILABLE: "the other person is dead, departed, the actor themself, or not outside",
    Reason.VEHICLE_DEPARTED: "the vehicle has undocked",
    Reason.NOT_ENOUGH_SEATS: "more people would be aboard the vehicle than it has seats",
    Reason.BUSY: "the actor is in the middle of work that takes time (stop_work ends it)",
    Reason.INTERRUPTED: "the work was cut short: the actor was knocked out, attacked or stopped",
    Reason.NO_HELP: "the work needs a second person there (an EMU is put on with help)",
    Reason.OUT_OF_REACH: "the person outside has drifted beyond the arm's reach",
    Reason.PHYSICS: "the station refused: e.g. a pressure difference holds a hatch, too little propellant",
    Reason.VERIFY_FAILED: "the command ran but the intended change is not in the state",
    Reason.INTERNAL_ERROR: "a bug: the command raised; recorded rather than raised",
}


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str


@dataclass(frozen=True)
class Actor:
    """Who issues a command: ``kind`` is ``crew``, ``ground`` or ``operator``.

    ``index`` is the crew index (crew) and ``segment`` the index of the segment a ground
    flies; ``faction`` is a ground's faction (a crew member's is read from the state).
    """

    kind: str
    name: str
    index: int = -1
    segment: int = -1
    faction: str = ""


# ---------------------------------------------------------------------------- the situation


class Situation:
    """What authority reads from the state, read once per question (or once per control map).

    ``d`` is the run's :class:`~issim.control.directory.Directory`: the station's
    names and indices (volumes, hatches, machines, people, items). With ``reach`` a crew member
    counts as anywhere they could get to through open hatches (the control map).
    """

    def __init__(self, state, d, reach: bool = False):
        a = state.arrays
        self.d = d
        self.reach = reach
        # Plain lists: many small look-ups, and Python indexes lists faster than arrays.
        crew = ("crew.location", "crew.alive", "crew.conscious", "crew.on_eva")
        if d.names:
            self.loc, self.alive, self.conscious, self.on_eva = (a[k].tolist() for k in crew)
        else:
            self.loc, self.alive, self.conscious, self.on_eva = [], [], [], []
        self.faction = a["control.faction"].tolist()
        self.creds = a["control.credentials"].tolist()
        self.lock_side = a["control.lock_side"].tolist()
        self.departed = a["control.departed"].tolist()
        self.adrift = a["control.adrift"].tolist()
        self.drift_m = a["control.drift_m"].tolist()
        self.drift_speed = a["control.drift_m_s"].tolist()
        self.task = a["control.task"].tolist()
        self.task_until = a["control.task_until_ms"].tolist()
        self.arm = int(a["control.arm_operator"][0])
        self.holder = a["control.item_holder"].tolist()
        self.item_volume = a["control.item_volume"].tolist()
        self.hatch_open = a["hatch.open"].tolist() if "hatch.open" in a else [True] * len(d.link_a)
        self.contact = a["comms.contact"].tolist() if "comms.contact" in a else [False, False]
        self._comp: Optional[list[int]] = None
        self._reachable: dict[tuple, set] = {}

    # -- places

    def comp(self) -> list[int]:
        """The component (a representative volume) of each volume under open hatches."""
        if self._comp is None:
            self._comp = routes.components(self.d.topology, self.hatch_open)
        return self._comp

    def where(self, i: int) -> int:
        return self.loc[i]

    def at(self, i: int, volumes) -> bool:
        """Whether person ``i`` is in one of ``volumes`` (or, with ``reach``, can get to one)."""
        v = self.loc[i]
        if not self.reach:
            return v in volumes
        comp = self.comp()
        got = self._reachable.get(volumes)
        if got is None:
            got = self._reachable[volumes] = {comp[u] for u in volumes}
        return comp[v] in got

    def gone(self, i: int) -> bool:
        """Departed: in the volume of a vehicle that has undocked."""
        return self.departed[self.loc[i]]

    def here(self, v: int, *, alive_only: bool = False) -> int:
        """How many people are in volume ``v`` (not on EVA; with ``alive_only``, alive)."""
        return sum(1 for i, loc in enumerate(self.loc)
                   if loc == v and not self.on_eva[i] and (self.alive[i] or not alive_only))

    def faction_of(self, who: Actor) -> int:
        if who.kind == "crew":
            return self.faction[who.index]
        return self.d.factions.index(who.faction) if who.faction in self.d.factions else -1

    def name_of(self, v: int) -> str:
        return self.d.volume_ids[v]


# ---------------------------------------------------------------------------- helpers


def _no(reason: Reason, message: str) -> Refusal:
    return Refusal(reason, message)


def _crew(sit: Situation, who: Actor, spec, inside: bool = True) -> Optional[Refusal]:
    """The checks every bodily action starts with."""
    if who.kind != "crew":
        return _no(Reason.NOT_CREW, f"{spec.name} needs someone aboard; {who.name} is {_kind(who)}")
    i = who.index
    if sit.gone(i):
        return _no(Reason.NOT_ABOARD, f"{who.name} has left the station in {sit.name_of(sit.where(i))}")
    if not sit.alive[i]:
        return _no(Reason.ACTOR_DEAD, f"{who.name} is dead")
    if not sit.conscious[i]:
        return _no(Reason.ACTOR_INCAPACITATED, f"{who.name} is incapacitated")
    if inside and sit.on_eva[i]:
        return _no(Reason.ON_EVA, f"{who.name} is outside on EVA; {spec.name} is done from inside")
    if sit.task[i] >= 0 and spec.name != "stop_work":
        from .commands import SPECS
        from ..times import format_iso

        return _no(Reason.BUSY, f"{who.name} is busy with {SPECS[sit.task[i]].name} until "
                                f"{format_iso(sit.task_until[i])[11:16]} (stop_work ends it)")
    return None


def _kind(who: Actor) -> str:
    return {"ground": "a ground control centre", "operator": "the operator"}.get(who.kind, "crew")


def _here(sit: Situation, who: Actor, volumes, what: str) -> Optional[Refusal]:
    if sit.at(who.index, volumes):
        return None
    return _no(Reason.NOT_HERE, f"{who.name} is in {sit.name_of(sit.where(who.index))}; {what}")


def _credential(sit: Situation, who: Actor, seg: int) -> Optional[Refusal]:
    f = sit.faction_of(who)
    if f >= 0 and sit.creds[seg][f]:
        return None
    segment = sit.d.segments[seg]
    accepted = [faction for faction, yes in zip(sit.d.factions, sit.creds[seg]) if yes]
    faction = sit.d.factions[f] if f >= 0 else "no faction"
    return _no(Reason.NO_CREDENTIAL,
               f"the {segment} laptops accept {', '.join(accepted) or 'nobody'}; {who.name} is {faction}")


def _segment_modules(sit: Situation, seg: int) -> tuple[int, ...]:
    return sit.d.segment_modules[seg]


def _computers(sit: Situation, who: Actor, spec, seg: int) -> Optional[Refusal]:
    """A command given through a segment's laptops: crew there, or its own ground in contact."""
    segment = sit.d.segments[seg]
    if who.kind == "operator":
        return None
    if who.kind == "ground":  # (authorize has checked that a ground may issue it at all)
        if who.segment != seg:
            return _no(Reason.NOT_YOUR_SEGMENT,
                       f"{who.name} flies the {sit.d.segments[who.segment]}, not the {segment}")
        if not sit.contact[seg]:
            return _no(Reason.NO_LINK, f"the {segment} has no contact with {who.name} now")
        return _credential(sit, who, seg)
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    refusal = _here(sit, who, _segment_modules(sit, seg), f"the {segment}'s laptops are in its modules")
    return refusal or _credential(sit, who, seg)


def _path(sit: Situation, who: Actor, dest: int) -> Optional[Refusal]:
    here = sit.where(who.index)
    comp = sit.comp()
    if comp[here] == comp[dest]:
        return None
    shut = []
    for k in routes.closed_exits(sit.d.topology, sit.hatch_open, here, comp):
        side = sit.lock_side[k]
        shut.append(sit.d.link_ids[k] + (f" (locked from {sit.name_of(side)})" if side >= 0 else ""))
    return _no(Reason.NO_PATH, f"no path of open hatches from {sit.name_of(here)} to {sit.name_of(dest)}; "
                               f"closed on the way out: {', '.join(shut) or 'none'}")


def _departed_vehicle(sit: Situation, volumes) -> Optional[Refusal]:
    for v in volumes:
        if sit.departed[v]:
            return _no(Reason.VEHICLE_DEPARTED, f"{sit.name_of(v)} has undocked")
    return None


def _person_here(sit: Situation, who: Actor, p: int, what: str) -> Optional[Refusal]:
    """The other person ``p`` must be inside, in the actor's volume."""
    name = sit.d.names[p]
    if sit.on_eva[p]:
        return _no(Reason.NOT_HERE, f"{name} is outside on EVA; {what}")
    if sit.where(p) != sit.where(who.index):
        return _no(Reason.NOT_HERE, f"{name} is in {sit.name_of(sit.where(p))}, {who.name} in "
                                    f"{sit.name_of(sit.where(who.index))}; {what}")
    return None


# ---------------------------------------------------------------------------- rules
# Each rule: (situation, spec, actor, resolved target, validated args) -> Refusal or None.


def _rule_move(sit, spec, who, v, args):
    refusal = _crew(sit, who, spec) or _departed_vehicle(sit, (v,))
    if refusal:
        return refusal
    return _path(sit, who, v)


def _rule_board(sit, spec, who, v, args):
    refusal = _rule_move(sit, spec, who, v, args)
    if refusal:
        return refusal
    seats = sit.d.seats.get(v, 0)
    if sit.where(who.index) == v:
        return None
    taken = sit.here(v, alive_only=True)
    if taken >= seats:
        return _no(Reason.NOT_ENOUGH_SEATS, f"{sit.name_of(v)} has {seats} seats and {taken} people aboard")
    return None


def _rule_begin_eva(sit, spec, who, target, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    locks = sit.d.airlocks
    refusal = _here(sit, who, locks, f"an EVA starts from an airlock: {', '.join(sit.name_of(v) for v in locks)}")
    if refusal:
        return refusal
    from .work import EMU_AIRLOCKS

    here = sit.where(who.index)
    if sit.name_of(here) in EMU_AIRLOCKS and not any(
            q != who.index and sit.loc[q] == here and sit.alive[q] and sit.conscious[q] and not sit.on_eva[q]
            for q in range(len(sit.loc))):
        return _no(Reason.NO_HELP, f"an EMU is put on with help and {sit.name_of(here)} is worked from inside: "
                                   f"{who.name} is alone there")
    return None


def _rule_stop_work(sit, spec, who, target, args):
    refusal = _crew(sit, who, spec, inside=False)
    if refusal:
        return refusal
    if sit.task[who.index] < 0:
        return _no(Reason.TARGET_UNAVAILABLE, f"{who.name} is not in the middle of any work")
    return None


def _rule_end_eva(sit, spec, who, target, args):
    refusal = _rule_outside(sit, spec, who, target, args)
    if refusal:
        return refusal
    if sit.adrift[who.index]:
        return _no(Reason.NOT_HERE, f"{who.name} is adrift, out of reach of the airlock (the arm can recover them)")
    return None


def _rule_outside(sit, spec, who, target, args):
    refusal = _crew(sit, who, spec, inside=False)
    if refusal:
        return refusal
    if not sit.on_eva[who.index]:
        return _no(Reason.NOT_ON_EVA, f"{who.name} is not outside")
    return None


def _rule_treat(sit, spec, who, p, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    name = sit.d.names[p]
    if sit.gone(p) or not sit.alive[p]:
        return _no(Reason.TARGET_UNAVAILABLE, f"{name} is dead or has left the station")
    if p != who.index:
        return _person_here(sit, who, p, "first aid needs both in one volume")
    return None


def _rule_carry(sit, spec, who, p, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    name = sit.d.names[p]
    if p == who.index or not sit.alive[p] or sit.conscious[p]:
        return _no(Reason.TARGET_UNAVAILABLE, f"{name} is not someone who needs carrying (alive and unconscious)")
    refusal = _person_here(sit, who, p, "carrying needs both in one volume")
    if refusal:
        return refusal
    v = sit.d.volume_index.get(args["to"])
    if v is None:
        return _no(Reason.UNKNOWN_TARGET, f"no module or docked vehicle {args['to']!r} (see issim station)")
    refusal = _departed_vehicle(sit, (v,)) or _path(sit, who, v)
    if refusal:
        return refusal
    seats = sit.d.seats.get(v, None)
    if seats is not None and sit.here(v, alive_only=True) + 2 > seats:
        return _no(Reason.NOT_ENOUGH_SEATS, f"{sit.name_of(v)} has {seats} seats and {sit.here(v, alive_only=True)} "
                                            "people aboard")
    return None


def _rule_hatch(sit, spec, who, k, args):
    """open_hatch, close_hatch, equalize: in one of the hatch's volumes."""
    a, b = sit.d.link_a[k], sit.d.link_b[k]
    if who.kind == "ground":
        return _no(Reason.NOT_CREW, f"hatches are worked by hand; {who.name} is on the ground")
    refusal = _departed_vehicle(sit, (a, b))
    if refusal:
        return refusal
    if who.kind == "crew":
        refusal = _crew(sit, who, spec) or _here(
            sit, who, (a, b), f"hatch {sit.d.link_ids[k]} joins {sit.name_of(a)} and {sit.name_of(b)}")
        if refusal:
            return refusal
    side = sit.lock_side[k]
    if spec.name == "open_hatch" and side >= 0:
        mine = who.kind == "crew" and sit.where(who.index) == side
        return _no(Reason.HATCH_LOCKED, f"hatch {sit.d.link_ids[k]} is locked from {sit.name_of(side)}"
                                        + ("; unlock it first" if mine else ""))
    return None


def _rule_lock(sit, spec, who, k, args):
    a, b = sit.d.link_a[k], sit.d.link_b[k]
    refusal = _crew(sit, who, spec) or _departed_vehicle(sit, (a, b))
    if refusal:
        return refusal
    return _here(sit, who, (a, b), f"hatch {sit.d.link_ids[k]} joins {sit.name_of(a)} and {sit.name_of(b)}")


def _rule_unlock(sit, spec, who, k, args):
    if who.kind == "operator":
        return None
    refusal = _rule_lock(sit, spec, who, k, args)
    if refusal:
        return refusal
    side = sit.lock_side[k]
    if side >= 0 and not sit.at(who.index, (side,)):
        return _no(Reason.HATCH_LOCKED,
                   f"hatch {sit.d.link_ids[k]} is locked from {sit.name_of(side)}, the other side")
    return None


def _rule_force(sit, spec, who, k, args):
    """force_hatch: from the side that did not lock it (the locking side unlocks instead)."""
    if who.kind == "operator":
        return None
    refusal = _rule_lock(sit, spec, who, k, args)
    if refusal:
        return refusal
    side = sit.lock_side[k]
    if side < 0:
        return _no(Reason.TARGET_UNAVAILABLE, f"hatch {sit.d.link_ids[k]} is not locked")
    if sit.at(who.index, (side,)):
        return _no(Reason.TARGET_UNAVAILABLE,
                   f"hatch {sit.d.link_ids[k]} is locked from {sit.name_of(side)}, this side: unlock_hatch it")
    return None


def _rule_computers(sit, spec, who, target, args):
    return _computers(sit, who, spec, spec.segment_of(sit.d, target))


def _rule_suit_radio(sit, spec, who, p, args):
    # The suit radio talks through the radio of the segment the person went out from.
    return _computers(sit, who, spec, int(sit.d.vol_segment[sit.where(p)]))


def _rule_hands_on(sit, spec, who, target, args):
    if who.kind == "operator":
        return None
    if who.kind == "ground":
        return _no(Reason.NOT_CREW, f"{spec.name} is hands-on work aboard; {who.name} is on the ground")
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    place = spec.place_of(sit.d, target)
    return _here(sit, who, (place,), f"{spec.name} is done by hand in {sit.name_of(place)}")


def _rule_credentials(sit, spec, who, seg, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    segment = sit.d.segments[seg]
    refusal = _here(sit, who, _segment_modules(sit, seg), f"the {segment}'s laptops are in its modules")
    return refusal or _credential(sit, who, seg)


def _rule_message(sit, spec, who, target, args):
    if who.kind == "operator":
        return _no(Reason.NOT_CREW, "a message goes between the crew and the ground; the operator is neither")
    if who.kind == "ground":
        return None
    return _crew(sit, who, spec, inside=False)  # a suit radio carries it from outside


def _rule_undock(sit, spec, who, v, args):
    refusal = _crew(sit, who, spec) or _departed_vehicle(sit, (v,))
    if refusal:
        return refusal
    refusal = _here(sit, who, (v,), f"{sit.name_of(v)} is undocked from inside")
    if refusal:
        return refusal
    seats = sit.d.seats.get(v, 0)
    aboard = sit.here(v)
    if aboard > seats:
        return _no(Reason.NOT_ENOUGH_SEATS, f"{sit.name_of(v)} has {seats} seats and {aboard} people aboard")
    return None


def _arm_holder_busy(sit: Situation, me: int) -> Optional[str]:
    o = sit.arm
    if o < 0 or o == me:
        return None
    if sit.alive[o] and sit.conscious[o] and not sit.on_eva[o] and not sit.gone(o) and \
            sit.where(o) in sit.d.workstations:
        return sit.d.names[o]
    return None


def _rule_take_arm(sit, spec, who, target, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    ws = sit.d.workstations
    refusal = _here(sit, who, ws, f"the arm is flown from {', '.join(sit.name_of(v) for v in ws)}")
    if refusal:
        return refusal
    refusal = _credential(sit, who, sit.d.segments.index("USOS"))
    if refusal:
        return refusal
    holder = _arm_holder_busy(sit, who.index)
    if holder:
        return _no(Reason.IN_USE, f"{holder} holds the arm's workstation")
    return None


def _rule_operate_arm(sit, spec, who, p, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    if sit.arm != who.index:
        holder = sit.d.names[sit.arm] if sit.arm >= 0 else "nobody"
        return _no(Reason.NOT_HELD, f"{who.name} does not hold the arm's workstation ({holder} does); take_arm first")
    refusal = _rule_take_arm(sit, spec, who, None, args)
    if refusal:
        return refusal
    if p == who.index or not sit.on_eva[p] or sit.gone(p):
        return _no(Reason.TARGET_UNAVAILABLE, f"{sit.d.names[p]} is not outside; the arm reaches people on EVA")
    from .work import ARM_REACH_M, arm_catch_m

    if args.get("action") == "recover" and arm_catch_m(sit.drift_m[p], sit.drift_speed[p]) > ARM_REACH_M:
        moving = f", moving away at {sit.drift_speed[p] * 100:.0f} cm/s" if sit.drift_speed[p] > 0 else ""
        return _no(Reason.OUT_OF_REACH, f"{sit.d.names[p]} is {sit.drift_m[p]:.0f} m out{moving}: beyond the "
                                        f"arm's {ARM_REACH_M} m")
    return None


def _rule_take_item(sit, spec, who, k, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    item = sit.d.item_ids[k]
    h = sit.holder[k]
    me = who.index
    if h == me:
        return None
    if h >= 0:
        holder = sit.d.names[h]
        if sit.on_eva[h] or sit.where(h) != sit.where(me):
            return _no(Reason.ITEM_NOT_HERE, f"{holder} holds {item}, in {sit.name_of(sit.where(h))}")
        if sit.alive[h] and sit.conscious[h]:
            return _no(Reason.IN_USE, f"{holder} holds {item}; they must hand it over")
        return None
    v = sit.item_volume[k]
    if v != sit.where(me):
        return _no(Reason.ITEM_NOT_HERE, f"{item} is in {sit.name_of(v)}, {who.name} in {sit.name_of(sit.where(me))}")
    return None


def _rule_hand_over(sit, spec, who, k, args):
    refusal = _rule_stow_item(sit, spec, who, k, args)
    if refusal:
        return refusal
    to = args["to"]
    name = sit.d.names[to]
    if to == who.index:
        return None
    if sit.gone(to) or not sit.alive[to] or not sit.conscious[to]:
        return _no(Reason.TARGET_UNAVAILABLE, f"{name} cannot take anything (dead, unconscious or departed)")
    return _person_here(sit, who, to, f"a hand-over needs both in one place")


def _rule_stow_item(sit, spec, who, k, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    if sit.holder[k] != who.index:
        return _no(Reason.NOT_HELD, f"{who.name} does not hold {sit.d.item_ids[k]}")
    return None


def _rule_confront(sit, spec, who, p, args):
    refusal = _crew(sit, who, spec)
    if refusal:
        return refusal
    name = sit.d.names[p]
    if p == who.index:
        return _no(Reason.TARGET_UNAVAILABLE, f"{who.name} cannot confront themself")
    if sit.gone(p):
        return _no(Reason.TARGET_UNAVAILABLE, f"{name} has left the station")
    if not sit.alive[p]:
        return _no(Reason.TARGET_UNAVAILABLE, f"{name} is dead")
    return _person_here(sit, who, p, "a confrontation needs both in one volume")


RULES = {
    "move": _rule_move,
    "board": _rule_board,
    "begin_eva": _rule_begin_eva,
    "end_eva": _rule_end_eva,
    "outside": _rule_outside,
    "treat": _rule_treat,
    "carry": _rule_carry,
    "weapon": lambda sit, spec, who, target, args: _crew(sit, who, spec),
    "hatch": _rule_hatch,
    "lock": _rule_lock,
    "unlock": _rule_unlock,
    "force": _rule_force,
    "computers": _rule_computers,
    "suit_radio": _rule_suit_radio,
    "hands_on": _rule_hands_on,
    "stop_work": _rule_stop_work,
    "credentials": _rule_credentials,
    "message": _rule_message,
    "undock": _rule_undock,
    "take_arm": _rule_take_arm,
    "operate_arm": _rule_operate_arm,
    "take_item": _rule_take_item,
    "hand_over": _rule_hand_over,
    "stow_item": _rule_stow_item,
    "confront": _rule_confront,
}

# Who may issue what, in one line per rule, for crew (docs and `issim commands` add the
# ground and the operator where a command allows them).
RULE_TEXT = {
    "move": "crew, along open hatches",
    "board": "crew, along open hatches, with a free seat",
    "begin_eva": "crew in an airlock (Quest, Poisk); in Quest with a second person to help",
    "end_eva": "crew outside, not adrift",
    "outside": "crew outside (on EVA)",
    "treat": "crew in the same volume as the wounded person (or themself)",
    "weapon": "crew inside, conscious",
    "carry": "crew, with the unconscious person beside them, along open hatches (a vehicle needs two free seats)",
    "hatch": "crew in one of the hatch's volumes (a locked hatch does not open)",
    "lock": "crew in one of the hatch's volumes, hatch closed",
    "unlock": "crew on the side that locked it",
    "force": "crew on the other side of a hatch locked from one side",
    "computers": "crew in a module of the segment, whose laptops accept their faction",
    "suit_radio": "crew in a module of the segment the person went out from, with its credential",
    "hands_on": "crew in the module where the work is (the machine's, the tank's, the link's or the power's hardware, Zvezda for propellant, the target)",
    "stop_work": "crew in the middle of work that takes time",
    "credentials": "crew in a module of the segment, holding its credential",
    "message": "crew (also on EVA) to a ground",
    "undock": "crew inside the vehicle, hatch closed, everyone aboard seated",
    "take_arm": "crew at a workstation (Destiny, Cupola) with the USOS credential, not held by another",
    "operate_arm": "the crew member holding the workstation, at it, on a person outside (within reach to recover)",
    "take_item": "crew where the item lies, or where its holder lies dead or unconscious",
    "hand_over": "the holder, to a conscious person in the same volume",
    "stow_item": "the holder (it stays in their volume)",
    "confront": "crew in the same volume as the other person",
}


def who_may(spec) -> str:
    """One line: who may issue ``spec``, and from where."""
    text = RULE_TEXT[spec.rule]
    if "ground" in spec.actors:
        text += ("; a ground to the crew" if spec.rule == "message"
                 else "; its ground (own segment, in contact, with the credential)")
    if "operator" in spec.actors:
        text += "; the operator"
    return text


def authorize(sit: Situation, spec, who: Actor, target: Any, args: dict) -> Optional[Refusal]:
    """``None`` if ``who`` may issue ``spec`` on ``target`` now, else the :class:`Refusal`."""
    if who.kind not in spec.actors:
        can = " or ".join(spec.actors)
        return _no(Reason.NOT_CREW, f"{spec.name} is issued by {can}; {who.name} is {_kind(who)}")
    return RULES[spec.rule](sit, spec, who, target, args)


# ---------------------------------------------------------------------------- the control map


@dataclass(frozen=True)
class Probe:
    """A representative command for one system of the control map."""

    system: str
    spec: Any
    target: Any
    args: dict


def control_map(sit: Situation, probes: Sequence[Probe], actors: Sequence[Actor]) -> np.ndarray:
    """``(systems, factions)`` bool: which factions could command each system now.

    A faction controls a system when one of its members aboard (alive, conscious) or its
    ground passes :func:`authorize` for the system's probe (``sit`` should have ``reach``).
    """
    nf = len(sit.d.factions)
    out = np.zeros((len(probes), nf), dtype=bool)
    by_faction: list[list[Actor]] = [[] for _ in range(nf)]
    for who in actors:
        if who.kind == "crew":
            i = who.index
            if not (sit.alive[i] and sit.conscious[i]) or sit.gone(i):
                continue
        f = sit.faction_of(who)
        if f >= 0:
            by_faction[f].append(who)
    usos = sit.d.segments.index("USOS")
    for s, probe in enumerate(probes):
        rule = probe.spec.rule
        # A faction whose laptops refuse it fails there, whoever tries: skip asking each.
        seg = (probe.spec.segment_of(sit.d, probe.target) if rule == "computers"
               else usos if rule == "take_arm" else None)
        for f in range(nf):
            if seg is not None and not sit.creds[seg][f]:
                continue
            for who in by_faction[f]:
                if authorize(sit, probe.spec, who, probe.target, probe.args) is None:
                    out[s, f] = True
                    break
    return out
