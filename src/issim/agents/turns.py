"""Turns the crisis can take besides the film's: peace, escalation, flight.

The film's decision points (:mod:`issim.agents.crisis`) are met as the story reaches them.
These situations come from the minds (:mod:`issim.agents.affect`) instead, checked once a
simulated minute, each met once per person (a decision is recorded like any other and can
be fixed in a scenario's ``[decisions]``):

- **answer_disclosure** (the other side's leader, when an order has been disclosed to them
  and no blood has been shed): ``disclose`` their own order in return, and both sides
  stand down (a *truce*), or ``keep`` it. Odds of ``disclose``: 0.5 x trust in the one who
  disclosed + 0.5 x solidarity - 0.4 x loyalty x aggression, within [0.05, 0.95].
- **offer_truce** (the most trusting, most solidary person awake aboard, once their own
  fall deadline has passed and they have come to doubt it, with sides still apart and no
  blood shed; not someone who still believes the station will fall): ``offer`` to stand
  down together, or ``hold``. Odds of ``offer``: solidarity x trust across x (1 - fear).
- **answer_truce** (the other side's leader, offered a truce): ``accept`` or ``refuse``.
  Odds of ``accept``: 0.4 x trust in the one offering + 0.2 x (1 - loyalty) + 0.2 x (1 -
  urgency) - 0.3 x their greatest grievance against the other side.
- **escalate** (someone still bent on taking the station by order, not in the middle of a
  plan nor of a side whose lure is still under way (:func:`trap_side`), with urgency at least 0.6 and violence open to them): ``force`` (arm, and hunt the
  other side down, attacking only when sure), ``sabotage`` (go to the other segment's power
  hardware and cut its bus by hand: its machines stop until someone mends it) or ``wait``.
  With resolve = loyalty x urgency, the weights are aggression x resolve, 0.7 x caution x
  resolve (the cautious prefer a lever that strikes no one) and 1 - resolve.
- **flee** (the first of a side, awake and free, whose fear or urgency reaches 0.6 while
  the vehicle is still docked, no one of their side is outside and their side's lure is not
  under way): ``leave`` with whoever of their side is
  aboard (the vehicle, its seats, its hatches and the undock decide whether they can), or
  ``stay``. Odds of ``leave``: max(urgency, fear) x (0.4 + 0.6 x caution) x (1 - 0.5 x
  loyalty while under orders) x (1 - 0.6 x solidarity): leaving is leaving the others
  aboard a station one believes will fall.

A **truce** ends every goal and plan short of a rescue, cancels a lure not yet acted on,
brings suspicion down to 0.2 and trust across up by 0.2, and is recorded as
``agents`` ``what = "truce"``. "No blood" means no one dead and no grievance above 0.5.
"""

from __future__ import annotations

import numpy as np

from ..sim.fastnp import count_nonzero
from ..sim.world import SEGMENTS
from ..station.people import SLEEP
from . import affect
from . import crisis as _crisis  # (crisis imports this module: its names are read when called)
from .goals import HOME, NO_GOAL, TAKE_CONTROL

KEYS = ("answer_disclosure", "offer_truce", "answer_truce", "escalate", "flee")


def _clip(x: float, lo: float = 0.05, hi: float = 0.95) -> float:
    return min(max(float(x), lo), hi)


def bloodless(a) -> bool:
    return bool(all(a["crew.alive"].tolist()) and max(a["agents.grievance"].ravel().tolist(), default=0.0) <= 0.5)


def pending(a, t_ms: int) -> bool:
    """Whether :func:`check` has anything to look at now: the frame of a minute's tick, no
    truce, and someone ordered against someone (else it returns at once)."""
    if a["agents.mind_ms"].item(0) != t_ms or a["agents.peace"].item(0) > 0:
        return False
    return TAKE_CONTROL in a["agents.goal"].tolist() or bool(count_nonzero(a["agents.disclosed"]))


def check(story, state) -> None:
    """Meet whichever of these situations the minds have come to (once a simulated minute)."""
    a = state.arrays
    if not pending(a, state.t_ms):
        return  # not a minute's frame, a truce made, or no one ordered against anyone
    CONFIDANT, LURER = _crisis.CONFIDANT, _crisis.LURER
    if bloodless(a):
        _answer_disclosure(story, state)
        if int(a["agents.peace"][0]) > 0:
            return
        _offer_truce(story, state)
        if int(a["agents.peace"][0]) > 0:
            return
    if int(a["agents.plot"][CONFIDANT]) < 0:  # not while the film's arc is under way
        waiting = trap_side(story, state)
        _escalate(story, state, int(a["agents.plot"][LURER]), waiting)
        _flee(story, state, waiting)


def trap_side(story, state) -> int:
    """The side of a lurer whose trap is still under way (the one asked has not yet answered,
    is preparing or outside on the spacewalk, or the lurer is about to strike), else -1.
    Its people wait for their plan: they neither force, sabotage nor flee meanwhile."""
    c = _crisis
    ASKED, LOST, LURER = c.ASKED, c.LOST, c.LURER
    a = state.arrays
    lurer, asked = int(a["agents.plot"][LURER]), int(a["agents.plot"][ASKED])
    if lurer < 0 or int(a["agents.plot"][LOST]) >= 0 or not story._up(a, lurer):
        return -1
    pending = (asked >= 0 and story._up(a, asked) and not story._decided(state, "d3_eva")) \
        or int(a["agents.intent"][lurer]) in (c.STRIKE, c.STRAND) \
        or c.EVA in a["agents.intent"].tolist()
    return int(a["agents.side"][lurer]) if pending else -1


def _free(story, a, p: int) -> bool:
    return story._up(a, p) and int(a["crew.activity"][p]) != SLEEP and not a["crew.on_eva"][p] \
        and int(a["agents.intent"][p]) in (_crisis.NONE, _crisis.GUARD)


def leader_of(story, state, side: int, exclude: int = -1) -> int:
    """Who speaks for a side: the first of it who was ordered, else its first person up."""
    a = state.arrays
    ordered = [story.names.index(n) for _, n, *_ in state.facts["agents.orders"] if n in story.names]
    for q in ordered + list(range(story.n)):
        if q != exclude and int(a["agents.side"][q]) == side and story._up(a, q):
            return q
    return -1


def _answer_disclosure(story, state) -> None:
    a = state.arrays
    for d in np.flatnonzero(a["agents.disclosed"]):
        d = int(d)
        theirs = {int(a["agents.side"][q]) for q in range(story.n) if int(a["agents.side"][q]) != int(a["agents.side"][d])}
        for side in sorted(theirs):
            c = leader_of(story, state, side)
            if c < 0 or story._decided_by(state, "answer_disclosure", c) or not _free(story, a, c):
                continue
            if a["agents.disclosed"][c]:  # they had already told theirs: both have disclosed
                _truce(story, state, d, c, "both sides told of their orders")
                return
            tr, (ag, _, so) = float(a["agents.trust"][c, d]), a["agents.traits"][c]
            loyalty = float(a["agents.loyalty"][c])
            p = _clip(0.5 * tr + 0.5 * so - 0.4 * loyalty * ag)
            if story._decide(state, c, "answer_disclosure", {"disclose": p, "keep": 1 - p}) == "disclose":
                a["agents.disclosed"][c] = True
                state.record("agents", what="disclosed", person=story.names[c], ground="", answering=story.names[d])
                _truce(story, state, d, c, f"{story.names[c]} answered {story.names[d]}'s disclosure in kind")
                return


def _offer_truce(story, state) -> None:
    a = state.arrays
    sides = {int(a["agents.side"][q]) for q in range(story.n) if story._up(a, q)}
    apart = len(sides) > 1 and ((a["agents.goal"] != NO_GOAL) & a["crew.alive"]).any()
    if not apart:
        return
    b, dl = a["agents.belief"], a["agents.deadline_ms"]
    # Someone who was told the station would fall, and has watched it not fall, makes peace thinkable.
    doubt = any(dl[q] and state.t_ms > dl[q] and b[q, affect.FALL] < 0.5 for q in range(story.n))
    if not doubt:
        return
    free = [q for q in range(story.n) if _free(story, a, q) and not story._decided_by(state, "offer_truce", q)
            and not (dl[q] and b[q, affect.FALL] >= 0.5)]  # not one who still believes the station will fall
    if not free:
        return
    score = {q: float(a["agents.traits"][q][2]) * affect.across(a, q) for q in free}
    p = max(free, key=lambda q: (score[q], -q))
    fear = float(a["agents.fear"][p])
    odds = _clip(score[p] * (1 - fear))
    if story._decide(state, p, "offer_truce", {"offer": odds, "hold": 1 - odds}) != "offer":
        return
    state.record("agents", what="offer", person=story.names[p], said="stand down, together: the station is not falling")
    for side in sorted(sides - {int(a["agents.side"][p])}):
        c = leader_of(story, state, side)
        if c < 0 or not story._up(a, c):
            return  # no one up to answer for that side: no truce
        if story._decided_by(state, "answer_truce", c):
            if story._choice(state, "answer_truce", c) != "accept":
                return  # their answer to an earlier offer stands
            continue
        others = [q for q in range(story.n) if int(a["agents.side"][q]) != side]
        grudge = max((float(a["agents.grievance"][c, q]) for q in others), default=0.0)
        acc = _clip(0.4 * float(a["agents.trust"][c, p]) + 0.2 * (1 - float(a["agents.loyalty"][c]))
                    + 0.2 * (1 - float(a["agents.urgency"][c])) - 0.3 * grudge)
        if story._decide(state, c, "answer_truce", {"accept": acc, "refuse": 1 - acc}) != "accept":
            return
    _truce(story, state, p, -1, f"{story.names[p]} offered to stand down and it was accepted")


def _truce(story, state, p: int, q: int, why: str) -> None:
    from .crisis import ASKED, LURER, NONE, RESCUE

    a = state.arrays
    a["agents.peace"][0] = state.t_ms
    a["agents.goal"][:] = NO_GOAL
    a["agents.covert"][:] = False
    for x in range(story.n):
        if int(a["agents.intent"][x]) not in (NONE, RESCUE):
            story._set(state, x, NONE, -1, "the truce", force=True)
    if not story._decided(state, "d3_eva"):
        a["agents.plot"][LURER] = a["agents.plot"][ASKED] = -1
    np.minimum(a["agents.suspicion"], 0.2, out=a["agents.suspicion"])
    side = a["agents.side"]
    apart = side[:, None] != side[None, :]
    a["agents.trust"][apart] = np.minimum(a["agents.trust"][apart] + 0.2, 1.0)
    state.record("agents", what="truce", person=story.names[p], **({"with": story.names[q]} if q >= 0 else {}), why=why)


def _escalate(story, state, lurer: int, waiting: int = -1) -> None:
    HUNT, HUNTER, SABOTAGE = _crisis.HUNT, _crisis.HUNTER, _crisis.SABOTAGE
    a = state.arrays
    if not story.agents.violence:
        return
    goal, urgency = a["agents.goal"].tolist(), a["agents.urgency"].tolist()  # (nothing below changes them)
    for p in range(story.n):
        # (each test only skips, and reads without writing: the cheapest first; a decision
        # already made is met on every minute's frame of a crisis, long after)
        if goal[p] != TAKE_CONTROL or p == lurer or urgency[p] < 0.6 or int(a["agents.side"][p]) == waiting \
                or story._decided_by(state, "escalate", p) or not _free(story, a, p):
            continue
        (ag, ca, _), loyalty, urg = a["agents.traits"][p], float(a["agents.loyalty"][p]), float(a["agents.urgency"][p])
        resolve = loyalty * urg
        choice = story._decide(state, p, "escalate", {"force": ag * resolve, "sabotage": 0.7 * ca * resolve,
                                                      "wait": 1 - resolve})
        if choice == "force":
            prey = story._prey(a, p, -1)
            if int(a["agents.plot"][HUNTER]) < 0:
                a["agents.plot"][HUNTER] = p
            story._set(state, p, HUNT, prey[0] if prey else -1, "the station must be ours before it falls")
        elif choice == "sabotage":
            theirs = SEGMENTS.index("ROS" if HOME.get(story.d.factions[int(a["control.faction"][p])]) == "USOS" else "USOS")
            story._set(state, p, SABOTAGE, theirs, "cut their power by hand: they must yield")


def _flee(story, state, waiting: int = -1) -> None:
    LEAVE, LEAVER = _crisis.LEAVE, _crisis.LEAVER
    a = state.arrays
    v = story.vehicle
    if v < 0 or a["control.departed"][v]:
        return
    done: set = set()
    urgency, fears = a["agents.urgency"].tolist(), a["agents.fear"].tolist()  # (nothing below changes them)
    for p in range(story.n):
        if urgency[p] < 0.6 and fears[p] < 0.6:
            continue  # (the cheapest of the tests first, a decision already made before _free: each only skips)
        side = int(a["agents.side"][p])
        if side in done or side == waiting or story._decided_by(state, "flee", p) or not _free(story, a, p):
            continue
        if any(a["crew.on_eva"][q] and a["crew.alive"][q] for q in story._mates(a, p, up=False)):
            continue  # no one leaves while one of their own is outside
        urg, fear = urgency[p], fears[p]
        done.add(side)
        (_, ca, so), loyalty = a["agents.traits"][p], float(a["agents.loyalty"][p])
        ordered = int(a["agents.goal"][p]) == TAKE_CONTROL
        # Leaving is leaving the others aboard a station one believes will fall: solidarity holds back.
        odds = _clip(max(urg, fear) * (0.4 + 0.6 * ca) * (1 - 0.5 * loyalty * ordered) * (1 - 0.6 * so), 0.0, 1.0)
        if story._decide(state, p, "flee", {"leave": odds, "stay": 1 - odds}) != "leave":
            continue
        if int(a["agents.plot"][LEAVER]) < 0:
            a["agents.plot"][LEAVER] = p
        why = "the station will fall" if urg >= fear else "afraid for their life"
        for q in [p] + story._mates(a, p):
            story._set(state, q, LEAVE, p, why)
