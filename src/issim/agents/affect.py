"""What each person feels and believes, moved only by what they observe.

Each mind carries (plain state under ``agents.``, so snapshots and branches keep it):

- ``fear`` (people,) 0-1: for one's life. Starts at :data:`FEAR_BASE`.
- ``trust`` (people, people) 0-1: ``trust[p, q]``, how far ``p`` trusts ``q``.
- ``grievance`` (people, people) 0-1: ``grievance[p, q]``, what ``p`` holds against ``q``.
- ``belief`` (people, 3) 0-1: that the war below is real (:data:`WAR`), that the other side
  has been ordered against one's own (:data:`ORDERED`), that the station will fall soon
  (:data:`FALL`); with ``deadline_ms`` (people,), when they were told it falls (0: never told).
- ``urgency`` (people,) 0-1: how near the fall they believe in feels (derived, each minute).
- ``seen_dead`` (people, people) bool: who has found whose body.

**What moves them, and only when the person could observe it** (the rules and their
numbers; the numbers are ours, chosen so that one event moves a mind noticeably and a few
move it decisively; ``docs/crisis.md`` gives the reasoning):

=============================================  =========================================================
observed                                       change
=============================================  =========================================================
an order delivered to them                     war belief >= 0.5 (the order says so); the other side was
                                               ordered too >= 0.5 (B6: "they assume the Russians got the
                                               same order"); a fall "within N hours": fall belief 1,
                                               deadline now + N h
the flashes below, seen from a window          war belief 1, fear +0.2 (the Cupola, Destiny's science
(awake, in a module with Earth-facing          window, Zvezda's windows: :data:`WINDOWS`)
windows, at or after the scenario's war time)
told by someone awake in the same module       war belief at least 0.8 (not a sight of one's own)
a hostile act of the other side, seen          trust in the actor -0.25, fear +0.1, the other side was
                                               ordered >= 0.8
violence (a fight, a push with the arm),       fear +0.3; trust in the attacker at most 0.1 and
seen                                           grievance +0.6 x trust in the victim, for whoever is not
                                               on the attacker's side; for one of the attacker's side,
                                               loyalty -0.3 x trust in the victim (a loyalty can turn),
                                               unless the victim was an enemy (bent on violence, or
                                               the witness's own target): then fear only
being attacked                                 trust in the attacker 0, grievance 1, fear +0.4
finding a body (same module, or across an      fear +0.3; grievance +0.5 against whoever they saw wound
open hatch)                                    the dead
first aid given, seen (kindness)               the treated person's trust in the helper +0.3, a
                                               witness's +0.1, grievance against the helper halved
recovered by the arm                           trust in the operator at least 0.9, grievance 0
warned while outside                           trust in the one who warned +0.4
an order disclosed by the other side           trust in the discloser +0.15, the other side was
                                               ordered 1, fear +0.1
=============================================  =========================================================

Each hour fear eases by 10 % of its excess over :data:`FEAR_BASE`; once the deadline has
passed, a person who can see a laptop of their segment (alive, aboard, conscious) watches the
altitude hold and their fall belief halves each hour: the film's "24 hours" is a belief that
the station's own orbit undoes.

Urgency = fall belief x how much of the 24 h before the deadline has gone (0 with no deadline).
"""

from __future__ import annotations

import numpy as np

from ..sim.fastnp import count_nonzero
from ..station.people import SLEEP
from ..station.routes import seen_from

WAR, ORDERED, FALL = range(3)
BELIEFS = ("war", "ordered", "fall")
FEAR_BASE = 0.1
TRUST_OWN, TRUST_OTHER, TRUST_BOND, TRUST_CONFIDANT = 0.8, 0.6, 0.95, 0.85
WINDOWS = ("cupola", "destiny", "zvezda")  # modules with Earth-facing windows the crew look out of
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


def keys() -> tuple:
    from ..sim.schema import Key

    p, pp = ("people",), ("people", "people")
    return (
        Key("agents.fear", p, "float64", "1", "each mind's fear for their life"),
        Key("agents.trust", pp, "float64", "1", "trust[p, q]: how far p trusts q"),
        Key("agents.grievance", pp, "float64", "1", "grievance[p, q]: what p holds against q"),
        Key("agents.belief", ("people", 3), "float64", "1", "belief in the war, in the other side's orders, in the fall"),
        Key("agents.deadline_ms", p, "int64", "ms", "when each was told the station falls (0: never)"),
        Key("agents.urgency", p, "float64", "1", "how near the believed fall feels"),
        Key("agents.seen_dead", pp, "bool", "1", "seen_dead[p, q]: p has found q's body"),
        Key("agents.mind_ms", (2,), "int64", "ms", "the last minute and the last hour the minds were brought up to date"),
        Key("agents.disclosed", p, "bool", "1", "who has told the other side of their orders"),
        Key("agents.peace", (1,), "int64", "ms", "when a truce was made (0: none)"),
    )


def reset(state, minds, factions) -> None:
    """Starting minds: trust 0.8 within one's faction, 0.6 across (they have lived together:
    "no politics up here"), 0.95 toward a ``bond``, 0.85 toward a ``confidant``."""
    n = len(minds)
    index = {m.name: i for i, m in enumerate(minds)}
    same = factions[:, None] == factions[None, :]
    trust = np.where(same, TRUST_OWN, TRUST_OTHER)
    for i, m in enumerate(minds):
        if m.bond is not None:
            trust[i, index[m.bond]] = TRUST_BOND
        if m.confidant is not None:
            trust[i, index[m.confidant]] = TRUST_CONFIDANT
    np.fill_diagonal(trust, 1.0)
    state["agents.fear"] = np.full(n, FEAR_BASE)
    state["agents.trust"] = trust.reshape(n, n)
    state["agents.grievance"] = np.zeros((n, n))
    state["agents.belief"] = np.zeros((n, 3))
    state["agents.deadline_ms"] = np.zeros(n, dtype=np.int64)
    state["agents.urgency"] = np.zeros(n)
    state["agents.seen_dead"] = np.zeros((n, n), dtype=bool)
    state["agents.mind_ms"] = np.full(2, state.t_ms, dtype=np.int64)
    state["agents.disclosed"] = np.zeros(n, dtype=bool)
    state["agents.peace"] = np.zeros(1, dtype=np.int64)


def _raise(a, key, idx, by, cap=1.0) -> None:
    a[key][idx] = min(cap, float(a[key][idx]) + by)


def told_order(a, p: int, deadline_ms: int = 0) -> None:
    """``p`` got an order: the war is said to be real, the other side was probably ordered too."""
    b = a["agents.belief"]
    b[p, WAR] = max(b[p, WAR], 0.5)
    b[p, ORDERED] = max(b[p, ORDERED], 0.5)
    if deadline_ms:
        b[p, FALL] = 1.0
        a["agents.deadline_ms"][p] = deadline_ms


def hostile_seen(a, q: int, actor: int) -> None:
    a["agents.trust"][q, actor] = max(0.0, float(a["agents.trust"][q, actor]) - 0.25)
    _raise(a, "agents.fear", q, 0.1)
    a["agents.belief"][q, ORDERED] = max(a["agents.belief"][q, ORDERED], 0.8)


def violence_seen(a, q: int, actor: int, victim: int, relation: str) -> float:
    """``q`` saw ``actor`` attack ``victim``; returns how much ``q``'s loyalty fell (0 if none).

    ``relation``: ``"own"`` (the attacker is of ``q``'s side and the victim threatened no one),
    ``"enemy"`` (the victim was bent on violence, or ``q`` meant to strike them too: fear only),
    else ``"other"`` (the attacker is not of ``q``'s side)."""
    if q == actor:
        return 0.0
    if q == victim:
        a["agents.trust"][q, actor] = 0.0
        a["agents.grievance"][q, actor] = 1.0
        _raise(a, "agents.fear", q, 0.4)
        return 0.0
    _raise(a, "agents.fear", q, 0.3)
    cares = float(a["agents.trust"][q, victim])
    if relation == "enemy":
        return 0.0
    if relation == "other":
        a["agents.trust"][q, actor] = min(float(a["agents.trust"][q, actor]), 0.1)
        _raise(a, "agents.grievance", (q, actor), 0.6 * cares)
        return 0.0
    drop = min(float(a["agents.loyalty"][q]), 0.3 * cares)
    a["agents.loyalty"][q] -= drop
    _raise(a, "agents.grievance", (q, actor), 0.3 * cares)
    return drop


def kindness_seen(a, q: int, helper: int, helped: int) -> None:
    if q == helper:
        return
    by = 0.3 if q == helped else 0.1
    _raise(a, "agents.trust", (q, helper), by)
    a["agents.grievance"][q, helper] *= 0.5


def rescued(a, q: int, operator: int) -> None:
    a["agents.trust"][q, operator] = max(float(a["agents.trust"][q, operator]), 0.9)
    a["agents.grievance"][q, operator] = 0.0


def disclosed_to(a, q: int, discloser: int) -> None:
    _raise(a, "agents.trust", (q, discloser), 0.15)
    a["agents.belief"][q, ORDERED] = 1.0
    _raise(a, "agents.fear", q, 0.1)


def across(a, p: int, side=None) -> float:
    """``p``'s mean trust in the people aboard and alive not on their side (1 if none)."""
    side = a["agents.side"] if side is None else side
    others = [q for q in range(len(side)) if side[q] != side[p] and a["crew.alive"][q]]
    return float(np.mean([a["agents.trust"][p, q] for q in others])) if others else 1.0


def tick(state, topology, windows: frozenset, war_at_ms: int, able, wounded_by, log) -> None:
    """Bring the minds up to the present: once a minute the sights (the war from a window,
    bodies found) and talk (the war told), once an hour the slow changes (fear easing, the
    fall not coming). ``able(p)``: alive, conscious, aboard; ``log(what, **details)`` records."""
    # (issim.quiet.kernel copies this for minutes with no war, no one dead and no one told of
    # a fall: a change here is a change there; tests/test_quiet.py holds the two alike)
    a = state.arrays
    t = state.t_ms
    mind_ms = a["agents.mind_ms"]
    last_min, last_hour = mind_ms.item(0), mind_ms.item(1)
    if t - last_min < MINUTE_MS:
        return
    mind_ms[0] = t
    n = len(a["agents.fear"])
    alive = a["crew.alive"]
    if count_nonzero(alive) == n:  # (all alive, most minutes: counted in C)
        dead = []
    else:
        alive = alive.tolist()
        dead = [q for q in range(n) if not alive[q]]
    war = bool(war_at_ms and t >= war_at_ms)
    if war or dead:  # (who is awake matters only to the sights below)
        where = a["crew.location"].tolist()  # (nothing below moves anyone, opens a hatch or goes outside)
        activity, on_eva = a["crew.activity"].tolist(), a["crew.on_eva"].tolist()
        awake = [able(p) and activity[p] != SLEEP and not on_eva[p] for p in range(n)]
    b = a["agents.belief"]
    if war:
        # (read as a list, each write made to the list too: nothing else below writes it)
        war_b = b[:, WAR].tolist()
        for p in range(n):
            if awake[p] and where[p] in windows and war_b[p] < 1.0:
                b[p, WAR] = war_b[p] = 1.0
                _raise(a, "agents.fear", p, 0.2)
                log("saw", person=p, what_seen="the war below, from a window")
        for p in range(n):
            if awake[p] and war_b[p] < 0.8:
                if any(awake[q] and war_b[q] >= 1.0 and where[q] == where[p] for q in range(n) if q != p):
                    b[p, WAR] = war_b[p] = 0.8
                    log("learned", person=p, what_seen="the war below, from a crewmate")
    if dead:
        seen_dead = a["agents.seen_dead"]
        seen = seen_dead.tolist()  # (as above: each write made to the list too)
        for p in range(n):
            if not awake[p]:
                continue
            sight = None
            for q in dead:
                if seen[p][q] or on_eva[q]:
                    continue
                sight = seen_from(topology, a["hatch.open"], where[p]) if sight is None else sight
                if where[q] in sight:
                    seen_dead[p, q] = seen[p][q] = True
                    _raise(a, "agents.fear", p, 0.3)
                    k = int(wounded_by[q])
                    if 0 <= k < n and k != p and a["agents.trust"][p, k] <= 0.1:  # they saw who did it
                        _raise(a, "agents.grievance", (p, k), 0.5)
                    log("found", person=p, body=q)
    if t - last_hour >= HOUR_MS:
        hours = (t - last_hour) // HOUR_MS
        a["agents.mind_ms"][1] = last_hour + hours * HOUR_MS
        fear = a["agents.fear"]
        fear[:] = FEAR_BASE + (fear - FEAR_BASE) * 0.9 ** hours
        dl = a["agents.deadline_ms"]
        for p in range(n):
            if dl[p] and t > dl[p] and able(p) and b[p, FALL] > 0.0:
                b[p, FALL] *= 0.5 ** hours
                if b[p, FALL] < 0.05:
                    b[p, FALL] = 0.0
                    log("doubts", person=p, what_seen="the station has not fallen: the laptops show the orbit holding")
    deadline = a["agents.deadline_ms"]
    if not count_nonzero(deadline):  # no one was told of a fall (most runs)
        urgency = a["agents.urgency"]
        if urgency.tobytes() != bytes(urgency.nbytes):  # (already all +0.0 after the first minute: left so)
            urgency.fill(0.0)
        return
    dl = deadline.tolist()
    fall = b[:, FALL].tolist()
    a["agents.urgency"][:] = [fall[p] * min(max(1.0 - (dl[p] - t) / DAY_MS, 0.0), 1.0) if dl[p] else 0.0
                              for p in range(n)]
