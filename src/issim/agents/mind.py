"""The ``agents`` subsystem: each person's mind as state, and when they decide.

**Orders** come only by comms: a ``send_message`` from a ground whose ``text`` begins
``order: <goal>`` (e.g. ``"order: take-control. Secure the station by any means."``) is an
order once it is *delivered* (the comms ``delivered`` record in the event log; a message
still waiting for contact is not). It reaches the person it was addressed to, or everyone
in the segment it was addressed to. A person acts on an order from their own faction's
ground only (Houston is ``usa``, Moscow ``russia``); the recipient then makes the
decisions of :mod:`issim.agents.decisions` (comply? disclose?); one who complies takes the
goal and passes it on to their faction's crew aboard whose loyalty is at least 0.5 (talk
aboard is not modelled as comms). Goals: ``take-control`` (orders) and ``hold-segment``.

**Beliefs.** A command the other faction carried out against one's side (closing or
locking a boundary hatch, changing credentials, cutting power, links, desaturation,
burns or thrusters) is seen by each person of the other side who could see it done (see
below): their ``agents.sightings`` count goes up and their suspicion rises by 0.35
(capped at 1). A disclosed order raises the other side's suspicion by 0.5. A person
with no goal whose suspicion reaches 0.5 takes the goal ``hold-segment``.

**Decisions.** Every ``interval_s`` (default 300 s), staggered across people, each alive,
conscious, awake person aboard with a goal is *due* (``agents.due``): their policy decides
after the frame, and what it returns runs in the first phase of the next. The crew mind's
policy, :class:`CrewMind`, builds candidates (:func:`policy.candidates`), keeps those a dry
run allows, and returns one (:func:`policy.choose`, drawing from ``agents.<name>`` only when
more than one is allowed), with source ``agent``.

**What is seen.** A hostile act is seen by those who could see the actor do it: in the same
volume or across an open hatch from it (a person behind a closed hatch does not see it).

**The crisis** (with violence): the film's decision points are met as situations and give
people intentions (:mod:`issim.agents.crisis`); someone with an intention acts every
``crisis_interval_s`` (default 60 s), its next step first, and so does anyone an open
threat is bearing down on. A claim in an order ("the station will fall within 24 hours")
becomes a belief (``agents.beliefs``), not physics.

State (plain data): ``agents.loyalty`` (people,) 0-1, loyalty to the faction (1) rather
than the crew (0); ``agents.traits`` (people, 3) aggression, caution, solidarity;
``agents.goal`` (people,) int (0 none, 1 take-control, 2 hold-segment);
``agents.suspicion`` (people,); ``agents.sightings``, ``agents.acts`` (people,) int (commands the person's agent got
done, counted from the log);
``agents.next_ms`` (people,) int64, the next decision; ``agents.log_pos`` (1,) how far
the event log has been read. Facts: ``agents.orders`` ``(t_ms, person, ground, goal,
message id)``; ``agents.decisions`` ``(t_ms, key, person, choice, drawn)``. Log records
``agents`` with ``what`` = ``order``, ``decided``, ``goal``, ``disclosed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from ..sim.fastnp import ByBytes, ByBytesOf, count_nonzero
from ..sim.state import Kept, State
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.world import SEGMENTS
from ..station.people import SLEEP
from ..station.routes import Topology, seen_from
from . import affect, turns
from . import goals as policy
from .crisis import INTENTS, NONE as NO_INTENT, VIOLENT, Story
from .decisions import CHANCE, DECISIONS, key_for

ORDER_RE = re.compile(r"^\s*order:\s*([a-z][a-z-]*)", re.IGNORECASE)
FALL_RE = re.compile(r"fall within (\d+) hours", re.IGNORECASE)
GROUND_FACTION = {"houston": "usa", "moscow": "russia"}
HOSTILE = frozenset({"close_hatch", "lock_hatch", "change_credentials", "converters_off", "stop_desat",
                     "refuse_burns", "thrusters_off", "cut_link", "power_off", "block_messages", "disable",
                     "cut_power", "vent_module", "dump_propellant", "force_hatch"})
BETRAYING = frozenset({"disable", "confront", "take_item"})
SUSPICION_PER_SIGHTING = 0.35
SUSPICION_DISCLOSED = 0.5
HOLD_AT = 0.5
DEFAULTS = dict(loyalty=0.7, aggression=0.3, caution=0.5, solidarity=0.5)


def claimed_fall_ms(text, t_ms: int) -> int:
    """When a message read at ``t_ms`` says the station will fall (``... fall within 24 hours``), else 0."""
    m = FALL_RE.search(text) if isinstance(text, str) else None
    return t_ms + int(m.group(1)) * 3_600_000 if m else 0


def parse_order(text) -> Optional[str]:
    """The goal of an order message (``"order: take-control. ..."`` -> ``take-control``), else None."""
    m = ORDER_RE.match(text) if isinstance(text, str) else None
    return m.group(1).lower() if m else None


@dataclass(frozen=True)
class MindSpec:
    """A person's starting mind: loyalty and traits, each 0-1."""

    name: str
    loyalty: float = DEFAULTS["loyalty"]
    aggression: float = DEFAULTS["aggression"]
    caution: float = DEFAULTS["caution"]
    solidarity: float = DEFAULTS["solidarity"]
    bond: Optional[str] = None  # someone they love (the film's Gordon and Nika)
    confidant: Optional[str] = None  # the one person of the other side they trust


# What the minds and the story read of the others' state (they change it only by commands).
_AGENT_READS = ("crew.location", "crew.alive", "crew.conscious", "crew.on_eva", "crew.tethered", "crew.activity",
                "crew.bleeding", "crew.health", "crew.suit_s", "hatch.open", "comms.link_ok", "comms.suit_radio_ok",
                "ls.on", "ls.broken", "power.converters_on", "att.desat_allowed", "prop.burns_allowed",
                "prop.thrusters_enabled", "control.faction", "control.credentials", "control.lock_side",
                "control.departed", "control.adrift", "control.armed", "control.arm_operator", "control.item_holder",
                "control.item_volume", "control.power_severed", "atm.vent_open")


class Agents(Subsystem):
    """Minds, orders, beliefs and the decision loop (see the module)."""

    name = "agents"
    events = ()

    def __init__(self, world, minds: Sequence[MindSpec], decisions: Optional[Mapping[str, str]] = None,
                 violence: bool = False, interval_s: float = 300.0, crisis_interval_s: float = 60.0,
                 prize: Optional[str] = None, war_at_ms: int = 0):
        self.world = world
        self.topology = Topology.of(world)
        self.hatch_index = world.link_index
        self.minds = tuple(minds)
        self.names = tuple(m.name for m in self.minds)
        self.decisions = dict(decisions or {})
        self.violence = bool(violence)
        self.interval_ms = int(round(interval_s * 1000))
        self.crisis_ms = int(round(crisis_interval_s * 1000))
        self.war_at_ms = int(war_at_ms)
        # Facts about three small arrays, kept with the bytes they were worked out from (ByBytes):
        self._earliest = ByBytes(lambda next_ms: min(next_ms.tolist()))  # when the first mind is due
        self._plot_open = ByBytes(lambda plot: max(plot.tolist()) < 0)  # no part of the plot taken
        # no one's suspicion at the threshold of holding their segment
        self._all_calm = ByBytes(lambda suspicion: not max(suspicion.tolist()) >= HOLD_AT)
        self._kept_views = Kept()  # the quiet test's arrays, while the state's are the same (_views)
        # who, alive and without a goal, is at that threshold (_none_to_hold)
        self._holders = ByBytesOf(lambda suspicion, goal, alive: tuple(
            p for p, (s, g, up) in enumerate(zip(suspicion.tolist(), goal.tolist(), alive.tolist()))
            if s >= HOLD_AT and g == policy.NO_GOAL and up))
        self.windows = frozenset(world.index[v] for v in affect.WINDOWS if v in world.index)
        self.sim = None
        self.map: Optional[policy.StationMap] = None
        index = {n: i for i, n in enumerate(self.names)}
        for m in self.minds:
            for other in (m.bond, m.confidant):
                if other is not None and other not in index:
                    raise KeyError(f"{m.name}: no crew member {other!r} to name as bond or confidant")
        self.story = Story(self, {index[m.name]: index[m.bond] for m in self.minds if m.bond},
                           {index[m.name]: index[m.confidant] for m in self.minds if m.confidant}, prize)

    def bind(self, sim) -> None:
        self.sim = sim
        subs = {s.name: s for s in sim.subsystems}
        custody, comms = subs.get("control"), subs.get("comms")
        w = self.world
        seg = tuple(v.segment for v in w.volumes)
        boundary = []
        for h, l in enumerate(w.links):
            if seg[l.a] != seg[l.b] and {seg[l.a], seg[l.b]} == set(SEGMENTS):
                us, ru = (l.a, l.b) if seg[l.a] == "USOS" else (l.b, l.a)
                boundary.append((l.hatch, h, w.volumes[us].id, us, w.volumes[ru].id, ru))
        links = tuple((l.id, k, l.segment) for k, l in enumerate(comms.links)) if comms is not None else ()
        self.map = policy.StationMap(self.names, tuple(custody.factions) if custody is not None else (),
                                     seg, tuple(boundary), links)
        if custody is not None:
            self.story.bind(sim)

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        from .crisis import PLOT

        p = ("people",)
        return Schema(
            owns=(
                Key("agents.loyalty", p, "float64", "1", "each mind's loyalty"),
                Key("agents.traits", ("people", 3), "float64", "1", "aggression, caution, solidarity"),
                Key("agents.goal", p, "int64", "1", "each mind's goal"),
                Key("agents.suspicion", p, "float64", "1", "each mind's suspicion"),
                Key("agents.sightings", p, "int64", "1", "what each mind has seen"),
                Key("agents.acts", p, "int64", "1", "acts each person was seen doing"),
                Key("agents.next_ms", p, "int64", "ms", "when each mind thinks next"),
                Key("agents.log_pos", (1,), "int64", "1", "how far the minds have read the event log"),
                Key("agents.due", ("people",), "bool", "1", "whose mind has a decision to make now (their policy acts)"),
                Key("agents.covert", p, "bool", "1", "each mind acting covertly"),
                fact("agents.orders", "tuple", "orders from the ground"),
                fact("agents.decisions", "tuple", "the decisions drawn"),
                fact("agents.beliefs", "tuple", "what the minds came to believe"),
            ) + (self.story.keys() + affect.keys() if self.minds else ()),
            reads=_AGENT_READS,
            dims={"people": len(self.minds), "plot": len(PLOT)},
        )

    def reset(self, state: State, world, streams) -> None:
        n = len(self.minds)
        state["agents.loyalty"] = np.array([m.loyalty for m in self.minds], dtype=float)
        state["agents.traits"] = np.array([[m.aggression, m.caution, m.solidarity] for m in self.minds],
                                          dtype=float).reshape(n, 3)
        state["agents.goal"] = np.zeros(n, dtype=np.int64)
        state["agents.suspicion"] = np.zeros(n)
        state["agents.sightings"] = np.zeros(n, dtype=np.int64)
        state["agents.acts"] = np.zeros(n, dtype=np.int64)
        stagger = [self.interval_ms * i // max(n, 1) for i in range(n)]
        state["agents.next_ms"] = np.array([state.t_ms + s for s in stagger], dtype=np.int64)
        state["agents.log_pos"] = np.zeros(1, dtype=np.int64)
        state["agents.due"] = np.zeros(n, dtype=bool)
        state["agents.covert"] = np.zeros(n, dtype=bool)
        state.facts["agents.orders"] = ()
        state.facts["agents.decisions"] = ()
        state.facts["agents.beliefs"] = ()
        if n:
            self.story.reset(state)
            affect.reset(state, self.minds, state["agents.side"])

    def update(self, state: State, env, dt_s: float) -> None:
        # Most frames nothing the minds watch has changed and no one is due: the test below
        # reads a few small arrays afresh each frame (counted in C, or compared by their
        # bytes with those a fact about them was worked out from: ByBytes), so nothing
        # here can go stale (a restore, a branch, a state written between frames). Only the
        # arrays' objects are kept between frames, and only while the state's dict and its
        # generation are the same (see _views). In the full update each part runs only when
        # what it acts on is there.
        if not self.minds or self.sim is None:
            return
        a = state.arrays
        t = state.t_ms
        log = state.log
        views = self._views(a)
        if views is None:  # (no custody: no story; every part runs, as always)
            return self._update(state, a, t, log)
        log_pos, mind_ms, next_ms, due_now, plot, intent, adrift, susp = views
        if log_pos.item(0) != len(log) or not 0 < t - mind_ms.item(0) < affect.MINUTE_MS \
                or not (self._all_calm(susp) or self._none_to_hold(a)) \
                or not self._story_at_rest(state, plot, intent, adrift):
            return self._update(state, a, t, log)
        # Nothing to read in the log (no order, command, death or hostile act), no minute's
        # tick (nor its frame, on which the story's turns are met), no story under way or one
        # that has nothing to act on now (Story.settled), no one without a goal at the
        # threshold of suspicion: of the full update only its last part can act, on those due
        # last frame (no longer) and now (none, most frames of most runs: nothing to do).
        if count_nonzero(due_now):
            due_now.fill(False)
        if self._earliest(next_ms) <= t:
            self._due(state, a, t, next_ms, due_now)

    def _story_at_rest(self, state: State, plot, intent, adrift) -> bool:
        """Whether the story has nothing to act on now: none under way (no part of the plot
        taken, no intention, no one adrift), or one that is :meth:`Story.settled`."""
        return (self._plot_open(plot) and not count_nonzero(intent) and not count_nonzero(adrift)
                or self.story.settled(state))

    def _none_to_hold(self, a) -> bool:
        """Whether no one alive without a goal has reached the suspicion at which they hold their
        segment (what the full update would act on; in a crisis most have, and have a goal)."""
        return self._holders(a["agents.suspicion"], a["agents.goal"], a["crew.alive"]) == ()

    def _views(self, a) -> Optional[tuple]:
        """The arrays the quiet test reads, looked up again whenever the state's dict is
        another or its generation moved (a key rebound: :class:`~issim.sim.state.Kept`);
        ``None`` without ``control.adrift``."""
        kept_views = self._kept_views
        kept = kept_views.get(a)
        if kept is not None:
            return kept
        if "control.adrift" not in a:
            return None
        kept = (a["agents.log_pos"], a["agents.mind_ms"], a["agents.next_ms"], a["agents.due"],
                a["agents.plot"], a["agents.intent"], a["control.adrift"], a["agents.suspicion"])
        kept_views.keep(a, getattr(a, "generation", None), kept)  # (a plain dict counts nothing: looked up each frame)
        return kept

    def _update(self, state: State, a, t: int, log) -> None:
        deaths: list = []
        acts: list = []
        log_pos = a["agents.log_pos"]
        pos = log_pos.item(0)  # (a Python int, as int(log_pos[0]), without a numpy scalar between)
        if pos < len(log):
            new = log[pos:]
            log_pos[0] = len(log)
            for t_ms, kind, details in new:
                if kind == "comms" or kind == "command":
                    self._read(state, kind, dict(details), acts)
                elif kind == "crew":
                    d = dict(details)
                    if d.get("what") == "died" and d.get("person") in self.names:
                        deaths.append((self.names.index(d["person"]), d.get("cause") == "injury"))
            # A fight's command record follows the death it caused: name the killers once all is read.
            if deaths:
                deaths = [(p, int(a["agents.wounded_by"][p]) if wounded else -1) for p, wounded in deaths]
        mind_ms = a["agents.mind_ms"]
        if t - mind_ms.item(0) >= affect.MINUTE_MS:  # (affect.tick's own test, spared its call)
            ables: list = []  # (who is able is read once, and only if the tick asks: it changes only the minds)

            def able(p: int) -> bool:
                if not ables:
                    ables.extend(self._ables(a))
                return ables[p]

            affect.tick(state, self.topology, self.windows, self.war_at_ms, able, a["agents.wounded_by"], self._log_mind)
        # The story acts on deaths and betrayals read above, while it is under way, and on the
        # frame of a minute's tick when its turns have something to look at (turns.pending);
        # else it would return at once: spared its call. So is a story under way that has
        # nothing to act on now (Story.settled: tests cheaper than the story's own, on the
        # state as it is after the tick and the turns).
        if deaths or acts or "control.adrift" not in a:
            self.story.observe(state, deaths, acts)
        else:
            if turns.pending(a, t):
                turns.check(self.story, state)
            if not self._story_at_rest(state, a["agents.plot"], a["agents.intent"], a["control.adrift"]):
                self.story.meet(state, deaths, acts)
        susp = a["agents.suspicion"]
        if not self._all_calm(susp):  # (suspicion is always a finite number in [0, 1])
            # (who, worked out before the first goal is set: _set_goal changes only p's goal;
            # kept with the bytes of what it comes from, as most of a crisis has no one)
            for p in self._holders(susp, a["agents.goal"], a["crew.alive"]):
                self._set_goal(state, p, policy.HOLD, "saw the other side act")
        due_now = a["agents.due"]
        if count_nonzero(due_now):
            due_now.fill(False)  # who is due is decided afresh each frame
        next_ms = a["agents.next_ms"]
        if self._earliest(next_ms) <= t:  # (no one due, most frames: spared the call)
            self._due(state, a, t, next_ms, due_now)

    def _due(self, state: State, a, t: int, next_ms, due_now) -> None:
        """Those whose time has come think again later, and are due now if they are able and
        have something to decide (an intention, a goal while awake, or a threat to meet).
        (``issim.quiet.kernel`` copies this, for frames where no one has an intention.)"""
        # Each one due is read element by element (usually one person a frame): the loop
        # writes only next_ms and due, which nothing it reads depends on.
        goal, intent, activity = a["agents.goal"], a["agents.intent"], a["crew.activity"]
        alive, conscious, loc = a["crew.alive"], a["crew.conscious"], a["crew.location"]
        departed = a["control.departed"] if "control.departed" in a else None
        menacing = None
        for p, at in enumerate(next_ms.tolist()):
            if at > t:
                continue
            busy = intent.item(p) != NO_INTENT
            next_ms[p] = max(at, t) + (self.crisis_ms if busy else self.interval_ms)
            if not (alive.item(p) and conscious.item(p) and not (departed is not None and departed.item(loc.item(p)))):
                continue  # (not able: as _able)
            if not busy and (goal.item(p) == policy.NO_GOAL or activity.item(p) == SLEEP):
                if menacing is None:
                    menacing = self.story.menacing(a)
                if not self.story.threats(a, p, menacing):
                    continue
            due_now[p] = True

    # ------------------------------------------------------------------ beliefs

    def _able(self, state: State, p: int) -> bool:
        a = state.arrays
        departed = a["control.departed"][a["crew.location"][p]] if "control.departed" in a else False
        return bool(a["crew.alive"][p] and a["crew.conscious"][p] and not departed)

    def _ables(self, a) -> list[bool]:
        """:meth:`_able` of everyone, read in one pass."""
        alive, conscious, loc = a["crew.alive"].tolist(), a["crew.conscious"].tolist(), a["crew.location"].tolist()
        departed = a["control.departed"].tolist() if "control.departed" in a else None
        return [bool(alive[p] and conscious[p] and not (departed is not None and departed[loc[p]]))
                for p in range(len(self.minds))]

    def _faction(self, state: State, p: int) -> str:
        return self.map.factions[int(state["control.faction"][p])]

    def _read(self, state: State, kind: str, d: dict, acts: list) -> None:
        if kind == "comms" and d.get("what") == "delivered":
            goal = parse_order(d.get("text"))
            ground = d.get("from")
            if goal is None or ground not in GROUND_FACTION:
                return
            to = d.get("to")
            if to in self.names:
                people = [self.names.index(to)]
            else:
                seg = SEGMENTS.index(d.get("segment")) if d.get("segment") in SEGMENTS else -1
                loc = state["crew.location"]
                people = [p for p in range(len(self.names)) if self.map.volume_segment[int(loc[p])] == SEGMENTS[seg]]
            for p in people:
                self._order(state, p, ground, goal, str(d.get("id")), d.get("text"))
                self._told(state, p, ground, d.get("text"))
        elif kind == "command" and d.get("result") == "done" and d.get("actor") in self.names:
            actor = d.get("actor")
            i = self.names.index(actor)
            if d.get("source") == "agent":
                state["agents.acts"][i] += 1
            a = state.arrays
            self._felt(state, i, d.get("command"), d.get("target"), d.get("args"))
            self.story.on_command(state, i, d.get("command"), d.get("target"))
            if d.get("command") in BETRAYING:
                acts.append((i, d.get("command")))
            if d.get("command") not in HOSTILE or (d.get("command") == "force_hatch"
                                                    and self.story.breaking_out(a, i, d.get("target"))):
                return  # (forcing one's way out of an airlock locked against one is no act against anyone)
            them = int(a["agents.side"][i])  # seen as hostile by those not on the actor's side who saw it
            seen = self._seen_from(a, i, d.get("target"))
            for q in range(len(self.names)):
                if int(a["agents.side"][q]) != them and a["crew.alive"][q] and a["crew.conscious"][q] \
                        and int(a["crew.location"][q]) in seen and not a["crew.on_eva"][q]:
                    a["agents.sightings"][q] += 1
                    a["agents.suspicion"][q] = min(1.0, a["agents.suspicion"][q] + SUSPICION_PER_SIGHTING)
                    affect.hostile_seen(a, q, i)

    def _witnesses(self, a, actor: int, target=None) -> list[int]:
        """Who, awake and inside, could see ``actor`` do something now (see :meth:`_seen_from`)."""
        seen = self._seen_from(a, actor, target)
        return [q for q in range(len(self.names)) if q != actor and a["crew.alive"][q] and a["crew.conscious"][q]
                and not a["crew.on_eva"][q] and int(a["crew.location"][q]) in seen]

    def _felt(self, state: State, i: int, command, target, args) -> None:
        """What a command done means to the minds that saw it (:mod:`issim.agents.affect`)."""
        a = state.arrays
        t = self.names.index(target) if target in self.names else -1
        if t < 0:
            return
        args = dict(args or ())
        if command == "confront" or (command == "operate_arm" and args.get("action") == "push"):
            side, intent, aim = a["agents.side"], a["agents.intent"], a["agents.target"]
            # One's own side striking someone who threatened no one can turn a loyalty; striking
            # an enemy (someone bent on violence, or whom the witness meant to strike) cannot.
            enemy = int(intent[t]) in VIOLENT
            for q in sorted(set(self._witnesses(a, i)) | {t}):
                foe = enemy or (int(aim[q]) == t and int(intent[q]) in VIOLENT)
                relation = "enemy" if foe else "own" if int(side[q]) == int(side[i]) else "other"
                drop = affect.violence_seen(a, q, i, t, relation)
                if drop > 0:
                    state.record("agents", what="shaken", person=self.names[q], by=self.names[i],
                                 loyalty=round(float(a["agents.loyalty"][q]), 3))
        elif command == "treat":
            for q in set(self._witnesses(a, i)) | {t}:
                affect.kindness_seen(a, q, i, t)
        elif command == "operate_arm" and args.get("action") == "recover":
            affect.rescued(a, t, i)

    def _log_mind(self, what: str, person: int, **details) -> None:
        names = self.names
        state = self.sim.state
        details = {k: names[v] if k == "body" else v for k, v in details.items()}
        state.record("agents", what=what, person=names[person], **details)

    def _told(self, state: State, p: int, ground: str, text) -> None:
        """A claim in an order (``... fall within 24 hours ...``) becomes what the person believes,
        not physics: ``agents.beliefs`` ``(t_ms, person, belief)`` and a log record."""
        fall_ms = claimed_fall_ms(text, state.t_ms)
        if not fall_ms or GROUND_FACTION[ground] != self._faction(state, p):
            return
        from ..times import format_iso

        belief = f"the station will fall by {format_iso(fall_ms)}"
        state.facts["agents.beliefs"] = state.facts.get("agents.beliefs", ()) + ((state.t_ms, self.names[p], belief),)
        state.record("agents", what="believes", person=self.names[p], belief=belief, told_by=ground)

    def _order(self, state: State, p: int, ground: str, goal: str, mid: str, text=None) -> None:
        state.facts["agents.orders"] = state.facts["agents.orders"] + ((state.t_ms, self.names[p], ground, goal, mid),)
        own = GROUND_FACTION[ground] == self._faction(state, p)
        state.record("agents", what="order", person=self.names[p], ground=ground, goal=goal, id=mid,
                     heeded=own and goal == "take-control")
        if not own or goal != "take-control":
            return
        a = state.arrays
        affect.told_order(a, p, claimed_fall_ms(text, state.t_ms))
        loyalty, solidarity = float(a["agents.loyalty"][p]), float(a["agents.traits"][p][2])
        b = a["agents.belief"][p]
        across = affect.across(a, p)
        # Obey as far as one is loyal, and as far as one believes there is a war or a fall to act on;
        # trust in the other side, with solidarity, holds one back.
        comply = self._decision(state, p, key_for(ground, "comply"), "comply",
                                loyalty * (0.5 + 0.5 * max(b[affect.WAR], b[affect.FALL]))
                                * (1 - 0.4 * solidarity * across))
        disclose = self._decision(state, p, key_for(ground, "disclose_order"), "disclose",
                                  solidarity * (1 - loyalty) + 0.3 * solidarity * across)
        if disclose:
            mine = self._faction(state, p)
            a["agents.disclosed"][p] = True
            state.record("agents", what="disclosed", person=self.names[p], ground=ground)
            for q in range(len(self.names)):
                if self._faction(state, q) != mine:
                    a["agents.suspicion"][q] = min(1.0, a["agents.suspicion"][q] + SUSPICION_DISCLOSED)
                    affect.disclosed_to(a, q, p)
        if not comply:
            if b[affect.WAR] < 1.0:
                state.record("agents", what="questioned", person=self.names[p], ground=ground,
                             why="has not seen the war with their own eyes")
            return
        key = key_for(ground, "means")
        ag, ca = float(a["agents.traits"][p][0]), float(a["agents.traits"][p][1])
        sly = "lure" if "lure" in DECISIONS[key][1] else "covert"
        # Acting openly against people one still trusts is hard: trust across favours the hidden way
        # (a quiet plan, or a trap), aggression and distrust the open levers.
        odds = {sly: (ag * loyalty if sly == "lure" else ca + 0.5 * across) if (self.violence or sly != "lure") else 0.0,
                "overt": ag * (1.0 - across) + 0.2 if sly == "covert" else (1.0 - ag) * (1.0 - across) + 0.1}
        means = self.decide(state, p, key, odds)
        covert = means != "overt"
        self._set_goal(state, p, policy.TAKE_CONTROL, f"order from {ground}")
        a["agents.covert"][p] = covert
        for q in range(len(self.names)):
            if q != p and self._faction(state, q) == self._faction(state, p) and a["crew.alive"][q]:
                # The commander tells their own side what the order says (B6); the loyal take it up.
                affect.told_order(a, q, int(a["agents.deadline_ms"][p]))
                state.record("agents", what="shared", person=self.names[p], to=self.names[q], ground=ground)
                if a["agents.loyalty"][q] >= 0.5:
                    self._set_goal(state, q, policy.TAKE_CONTROL, f"passed on by {self.names[p]}")
                    a["agents.covert"][q] = covert
        if means == "lure":
            self.story.lure(state, p, ground)

    def _decision(self, state: State, p: int, key: str, yes: str, p_yes: float) -> bool:
        p_yes = min(max(float(p_yes), 0.0), 1.0)
        return self.decide(state, p, key, {yes: p_yes, _other(key, yes): 1.0 - p_yes}) == yes

    def decide(self, state: State, p: int, key: str, odds: Mapping[str, float]) -> str:
        """Person ``p`` makes decision ``key``: the scenario's fixed choice, or one drawn from
        their own stream with weights ``odds`` (choices missing from ``odds`` weigh nothing)."""
        fixed = self.decisions.get(key, CHANCE)
        drawn = fixed == CHANCE
        if drawn:
            choices = DECISIONS[key][1]
            w = np.array([max(float(odds.get(c, 0.0)), 0.0) for c in choices])
            w = w / w.sum() if w.sum() > 0 else np.full(len(choices), 1.0 / len(choices))
            u = self.sim.streams(f"agents.{self.names[p]}").random()
            choice = choices[min(int(np.searchsorted(np.cumsum(w), u, side="right")), len(choices) - 1)]
        else:
            choice = fixed
        state.facts["agents.decisions"] = state.facts["agents.decisions"] + (
            (state.t_ms, key, self.names[p], choice, drawn),)
        state.record("agents", what="decided", key=key, person=self.names[p], choice=choice, drawn=drawn)
        return choice

    def _set_goal(self, state: State, p: int, goal: int, why: str) -> None:
        g = state["agents.goal"]
        if g[p] == goal or g[p] == policy.TAKE_CONTROL:
            return
        g[p] = goal
        state.record("agents", what="goal", person=self.names[p], goal=policy.GOALS[goal], why=why)

    def _seen_from(self, a, actor: int, target=None) -> set:
        """The volumes from which what ``actor`` just did could be seen: theirs and those
        across an open hatch from it, and both sides of a hatch they worked (a hatch closed
        in your face is seen, though it now stands between); nothing of someone outside."""
        if a["crew.on_eva"][actor]:
            return set()
        seen = seen_from(self.topology, a["hatch.open"], int(a["crew.location"][actor]))
        k = self.hatch_index.get(target)
        if k is not None:
            seen |= {self.world.links[k].a, self.world.links[k].b}
        return seen

    def summary(self, state: State) -> dict:
        """Goals, suspicion, acts and the decisions made, for ``issim run --json``."""
        a = state.arrays
        return {
            "people": {n: {"goal": policy.GOALS[int(a["agents.goal"][i])],
                           "intent": INTENTS[int(a["agents.intent"][i])],
                           "side": self.story.side_name(int(a["agents.side"][i])),
                           "suspicion": round(float(a["agents.suspicion"][i]), 3),
                           "sightings": int(a["agents.sightings"][i]), "acts": int(a["agents.acts"][i])}
                       for i, n in enumerate(self.names)},
            "orders": [{"t_ms": t, "person": n, "ground": g, "goal": goal, "id": mid}
                       for t, n, g, goal, mid in state.facts["agents.orders"]],
            "decisions": [{"t_ms": t, "key": k, "person": n, "choice": c, "drawn": d}
                          for t, k, n, c, d in state.facts["agents.decisions"]],
            "beliefs": [{"t_ms": t, "person": n, "belief": b} for t, n, b in state.facts.get("agents.beliefs", ())],
        }


def _other(key: str, yes: str) -> str:
    from .decisions import DECISIONS

    return next(c for c in DECISIONS[key][1] if c != yes)


class CrewMind:
    """The crew mind as a policy: what :class:`Agents` decided a person intends, turned into
    the next command their observation allows.

    Its memory is the ``agents.*`` state the :class:`Agents` subsystem keeps (so snapshots
    and branches carry it); ``decide`` keeps nothing of its own. At each of the person's
    decision times (``observation.due``): the next step of an intention, the first that a
    dry run allows; else, for a goal, the candidates of :mod:`issim.agents.goals` that a dry
    run allows, one drawn from the person's own stream (a covert plan shows nothing while
    the other side is not suspicious).
    """

    gate = "agents.due"  # the runner asks only when the mind has a decision to make

    def __init__(self, agents: Agents):
        self.agents = agents

    def decide(self, obs) -> list:
        if not obs.due:
            return []
        agents, p = self.agents, obs.index
        view = obs.station_now()  # (each array copied once for the decision, not at each read)
        for cmd in agents.story.steps(view, p):
            if obs.check(cmd).ok:
                return [cmd]
        if int(view["agents.intent"][p]) != NO_INTENT or int(view["agents.goal"][p]) == policy.NO_GOAL:
            return []
        if view["agents.covert"][p] and float(view["agents.suspicion"][p]) < HOLD_AT:
            return []  # a covert plan: nothing the other side could see
        scored = policy.candidates(view, agents.map, p, agents.violence)
        allowed = [(s, c) for s, c in scored if obs.check(c).ok]
        if not allowed:
            return []
        return [policy.choose(allowed, obs.rng)]
