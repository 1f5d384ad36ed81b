"""A run as a story: its beats, read from the event log, and the class of its ending.

- :func:`beats` — the ordered beats of a run: who did what to whom, where and why, read
  from the event log's ``agents``, ``command``, ``crew`` and ``control`` records. Each is
  a plain dict ``{t, kind, who, whom, where, why}`` (``t`` ISO UTC, ``where`` a module id,
  ``"outside"`` or ``""``). Routine things (moving about, opening hatches, picking up a
  tool, the scenario's own events) are not beats.
- :func:`ending_class` — the class of an outcome's ending (``docs/endings.md``): a short,
  stable id and a label, from who survived, who left and how, who holds which segment,
  and the story.
- :func:`film_arc`, :func:`peaceful` — the two predicates the taxonomy turns on.
- :func:`resolved` — whether a run's story is over (the runner's ``until_resolved``).

``why`` comes from the agents' own records: the decision that gave a person their
intention (``d5_arm_strike=strike``) and the intention's reason ("the arm, while they
are unclipped"), or the record's own reason (a defection's, a death's cause).
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from ..times import format_iso, parse_iso

# The beat kinds, in the rough order a story meets them (docs/endings.md says what each is).
KINDS = ("order", "refused-order", "disclosed", "lure", "spacewalk", "unclipped", "warned", "radio-cut",
         "hatch-locked", "pushed", "lost", "stranded", "recovered", "defected", "told", "took-item", "sabotage",
         "fought", "wounded", "subdued", "killed", "died", "betrayed", "repaired", "link-restored", "reported",
         "truce", "boarded", "undocked", "landed")
VIOLENT = frozenset({"pushed", "fought", "wounded", "subdued", "killed"})
# Commands against the station or the other side (issim.agents.mind.HOSTILE and the sabotage
# commands; a hatch closed or locked is "hatch-locked" only when locked).
SABOTAGE = frozenset({"disable", "power_off", "cut_link", "converters_off", "stop_desat", "refuse_burns",
                      "thrusters_off", "block_messages", "change_credentials", "vent", "dump_propellant",
                      "lock_vehicle"})
SIMPLE = {"unclip_tether": "unclipped", "cut_suit_radio": "radio-cut", "lock_hatch": "hatch-locked",
          "repair": "repaired", "restore_link": "link-restored"}
QUIET_MS = 6 * 3_600_000  # a story with nothing new for this long, and no one acting, is over
_INJURED = re.compile(r"([^;()]+?) injured [0-9.]+(, bleeding)? \((\w+)\)")  # a confrontation's message


def beats(log: Iterable, names: Iterable[str], start: Optional[dict] = None, *,
          t_end_ms: Optional[int] = None) -> list[dict]:
    """The beats of a run from its event log (``state.log``: ``(t_ms, kind, details)``
    records); ``names`` the crew, ``start`` where each is at the start (module ids),
    ``t_end_ms`` the run's time now (a landing after it has not happened yet)."""
    crew = tuple(names)
    where = dict(start or {})
    outside: set = set()
    reason: dict[str, str] = {}  # each person's intention's why
    goal: dict[str, str] = {}  # each person's goal, and why they took it
    decided: dict[str, tuple] = {}  # each person's last decision: (t_ms, "key=choice")
    aboard: list = []
    out: list[dict] = []
    killed_at: set = set()

    def beat(t, kind, who="", whom="", at=None, why=""):
        out.append({"t": format_iso(t), "kind": kind, "who": who, "whom": whom,
                    "where": at if at is not None else ("outside" if who in outside else where.get(who, "")),
                    "why": why})

    def why_of(p: str) -> str:
        return reason.get(p, "")

    for t, kind, details in log:
        d = dict(details)
        what = d.get("what")
        if kind == "crew":
            person = d.get("person", "")
            if d.get("module"):
                where[person] = d["module"]
            if what == "died":
                beat(t, "died", person, "", why=d.get("cause", "unknown"))
        elif kind == "control":
            if what == "undocked":
                aboard = list(d.get("aboard", ()))
            elif what == "descent" and d.get("landing"):
                landing = parse_iso(d["landing"], "landing")
                if t_end_ms is None or landing <= t_end_ms:
                    out.append({"t": d["landing"], "kind": "landed", "who": ", ".join(aboard),
                                "whom": d.get("vehicle", ""), "where": d.get("place", ""), "why": ""})
        elif kind == "agents":
            person = d.get("person", "")
            if what == "decided":
                decided[person] = (t, f"{d.get('key')}={d.get('choice')}")
                key, choice = str(d.get("key", "")), d.get("choice")
                if key.endswith("_comply") and choice != "comply":
                    beat(t, "refused-order", person, "", why=f"{key}={choice}")
            elif what == "intent":
                because = d.get("why", "")
                when, choice = decided.get(person, (None, ""))
                if not d.get("intent"):  # no intention now: what they do comes of their goal
                    reason[person] = goal.get(person, "")
                else:
                    reason[person] = f"{choice}: {because}" if when == t and choice else because
            elif what == "goal":
                goal[person] = f"{d.get('goal')} ({d.get('why')})" if d.get("why") else str(d.get("goal", ""))
                reason.setdefault(person, goal[person])
            elif what == "order" and d.get("heeded"):
                beat(t, "order", person, d.get("ground", ""), why=d.get("goal", ""))
            elif what == "disclosed":
                beat(t, "disclosed", person, d.get("ground", ""))
            elif what == "lure":
                when, choice = decided.get(person, (None, ""))
                said = d.get("said", "")
                beat(t, "lure", person, d.get("asked", ""), why=f"{choice}: {said}" if when == t and choice else said)
            elif what == "sides":
                when, choice = decided.get(person, (None, ""))
                because = d.get("why", "")
                if because == "betrays":
                    because = choice if when == t else ""
                elif when == t and choice:
                    because = f"{choice}: {because}"
                beat(t, "betrayed" if d.get("why") == "betrays" else "defected", person,
                     "" if d.get("side") == "own" else d.get("side", ""), why=because)
            elif what == "lost":
                beat(t, "lost", person, "", at="outside", why="heard" if d.get("heard") else "no one heard")
            elif what == "stranded":
                beat(t, "stranded", person, "", why=f"the airlock locked by {d.get('by', '')}")
            elif what == "told":
                beat(t, "told", person, d.get("to", ""), why=d.get("said", ""))
            elif what == "warned":
                beat(t, "warned", person, d.get("to", ""))
            elif what == "truce":
                beat(t, "truce", person, d.get("with", d.get("to", "")), why=d.get("why", ""))
        elif kind == "command" and d.get("result") == "done":
            actor, command, target = d.get("actor", ""), d.get("command", ""), d.get("target", "")
            args = dict(d.get("args", ()) or ())
            if command in ("move", "board") and actor in crew:
                where[actor] = target
                if command == "board":
                    beat(t, "boarded", actor, target, why=why_of(actor))
            elif command == "carry":
                if args.get("to"):
                    where[actor] = where[target] = args["to"]
            elif command == "begin_eva":
                beat(t, "spacewalk", actor, "", why=why_of(actor))
                outside.add(actor)
            elif command == "end_eva":
                outside.discard(actor)
            elif command == "operate_arm":
                action = args.get("action")
                if action == "push":
                    beat(t, "pushed", actor, target, why=why_of(actor))
                elif action == "recover":
                    beat(t, "recovered", actor, target, why=why_of(actor))
            elif command == "confront":
                _confront(beat, t, actor, target, args, d.get("message", ""), why_of, killed_at)
            elif command == "take_item":
                beat(t, "took-item", actor, target, why=why_of(actor))
            elif command == "send_message" and actor in crew:
                beat(t, "reported", actor, target, why=why_of(actor))
            elif command == "undock":
                others = [p for p in aboard if p != actor]
                beat(t, "undocked", actor, target, why=("with " + ", ".join(others)) if others else "alone")
            elif command in SIMPLE:
                beat(t, SIMPLE[command], actor, target, why=why_of(actor))
            elif command in SABOTAGE and actor in crew:
                beat(t, "sabotage", actor, target, why=command + (f": {why_of(actor)}" if why_of(actor) else ""))
    # a death dealt outright in a fight is its "killed" beat (the death is logged just before the fight)
    out = [b for b in out if not (b["kind"] == "died" and (_t_ms(b["t"]), b["who"]) in killed_at)]
    out.sort(key=lambda b: b["t"])  # a landing is written ahead, at its undocking
    return out


def _confront(beat, t, actor, target, args, message, why_of, killed_at) -> None:
    """A confrontation's beats: one for each person it hurt (``killed``, ``subdued`` when a
    subdual left them unconscious, else ``wounded``), dealt by the other; ``fought`` when no one was hurt."""
    hurt = [(who.strip(), fate, bool(bleeding)) for who, bleeding, fate in _INJURED.findall(message or "")]
    if not hurt:
        beat(t, "fought", actor, target, why=why_of(actor))
        return
    for person, fate, bleeding in hurt:
        by = actor if person == target else target
        if by != actor and fate == "conscious" and not bleeding:
            continue  # the one who prevailed, grazed: not a beat
        why = why_of(actor) if by == actor else "fought back"
        if fate == "killed":
            killed_at.add((t, person))
            beat(t, "killed", by, person, why=why)
        elif fate == "incapacitated" and args.get("intent") == "subdue" and by == actor:
            beat(t, "subdued", by, person, why=why)
        else:
            beat(t, "wounded", by, person, why=why)


def story(sim) -> list[dict]:
    """The beats of a simulation's run so far (:func:`beats` of its log)."""
    crew = next((s for s in sim.subsystems if s.name == "crew"), None)
    names = tuple(crew.names) if crew is not None else ()
    start = {p.name: p.module for p in crew.people} if crew is not None else {}
    return beats(sim.state.log, names, start, t_end_ms=sim.state.t_ms)


def items(sim) -> dict[str, Optional[str]]:
    """Who holds each of the scenario's items at the end (``None``: no one; it lies somewhere)."""
    control = next((s for s in sim.subsystems if s.name == "control"), None)
    st = sim.state
    if control is None or "control.item_holder" not in st:
        return {}
    d = control.directory
    holder = st["control.item_holder"]
    return {item: (d.names[int(holder[i])] if int(holder[i]) >= 0 else None) for i, item in enumerate(d.item_ids)}


def path(story: list[dict]) -> str:
    """The story's beat kinds in order, compressed: ``lure > spacewalk > radio-cut > ...``
    (``""`` for a run with no beats). A kind repeated back to back is written once, and a
    wound is left out when the wounded person dies later in the run (the death tells it),
    so that runs that went the same way share a path."""
    dying = {b["whom"] for b in story if b["kind"] == "killed"} | {b["who"] for b in story if b["kind"] == "died"}
    kinds: list[str] = []
    for b in story:
        if b["kind"] == "wounded" and b["whom"] in dying:
            continue
        if not kinds or kinds[-1] != b["kind"]:
            kinds.append(b["kind"])
    return " > ".join(kinds)


# ------------------------------------------------------------------------ the ending's class

CLASSES: dict[str, str] = {
    "destroyed": "mutual destruction: no one is left alive aboard or in a vehicle, or the station is lost",
    "peace": "peace: both sides stand down, no one is hurt",
    "film-arc": "the film's arc: a killing, a betrayal, a departure with the research",
    "lone-escape": "lone escape: a betrayer leaves alone",
    "escape-with-research": "escape with the research, short of the film's arc",
    "escape": "escape: some leave in the vehicle, without the research",
    "spacewalker-lost": "spacewalker lost: pushed off and never brought back; no one leaves",
    "us-holds": "the US holds the station",
    "russia-holds": "Russia holds the station",
    "standoff": "standoff: the segments split, no blood",
    "divided": "divided: the segments split after blood",
    "shared": "still shared: no blood, no truce",
    "shared-after-blood": "still shared, after blood",
    "no-one-commands": "no one aboard can command life support",
}


def _story(o: dict) -> list[dict]:
    return o.get("story") or []


def _kinds(o: dict) -> set:
    return {b["kind"] for b in _story(o)}


def _bloody(o: dict) -> bool:
    return bool(o.get("dead")) or bool(_kinds(o) & VIOLENT)


def _left_with_research(o: dict) -> bool:
    departed = {p for people in o.get("departed", {}).values() for p in people}
    return any(h in departed for h in (o.get("items") or {}).values() if h)


def _betrayers(o: dict) -> set:
    return {b["who"] for b in _story(o) if b["kind"] == "betrayed"}


def peaceful(o: dict) -> bool:
    """No one dead, no confrontation or push, and a truce made (the agents' ``truce`` record)."""
    k = _kinds(o)
    return not o.get("dead") and not (k & VIOLENT) and "truce" in k


def film_arc(o: dict) -> bool:
    """The film's arc: someone killed in a fight (or dead of its wounds), someone betrayed
    their side, and people left in the vehicle with the research, none of them a betrayer."""
    fight_death = "killed" in _kinds(o) or any(c in ("confrontation", "injury") for c in o.get("dead", {}).values())
    departed = {p for people in o.get("departed", {}).values() for p in people}
    betrayers = _betrayers(o)
    return fight_death and bool(betrayers) and bool(departed) and not (departed & betrayers) \
        and _left_with_research(o)


def _lone_escape(o: dict) -> bool:
    betrayers = _betrayers(o)
    return any(set(people) and set(people) <= betrayers for people in o.get("departed", {}).values())


def _lost_outside(o: dict) -> bool:
    back = {b["whom"] for b in _story(o) if b["kind"] == "recovered"}
    return any(b["who"] not in back for b in _story(o) if b["kind"] == "lost")


def ending_class(o: dict) -> dict:
    """``{"id", "label"}``: the class of an outcome's ending (it needs ``o["story"]``).

    The classes are tried in the order of :data:`CLASSES` and the first that fits is the
    class, so exactly one fits (``docs/endings.md`` has the reasoning).
    """
    st = o.get("station", {})
    departed = any(o.get("departed", {}).values())
    if st.get("lost") or (not st.get("crewed") and not departed):
        cid = "destroyed"
    elif peaceful(o):
        cid = "peace"
    elif film_arc(o):
        cid = "film-arc"
    elif _lone_escape(o):
        cid = "lone-escape"
    elif departed and _left_with_research(o):
        cid = "escape-with-research"
    elif departed:
        cid = "escape"
    elif _lost_outside(o):
        cid = "spacewalker-lost"
    else:
        ctl = o.get("control", {})
        held = {seg: tuple(sorted(ctl.get(f"{seg}.life-support", []))) for seg in ("USOS", "ROS")}
        blood = _bloody(o)
        if held["USOS"] != held["ROS"]:
            cid = "divided" if blood else "standoff"
        elif not held["USOS"]:
            cid = "no-one-commands"
        elif len(held["USOS"]) > 1:
            cid = "shared-after-blood" if blood else "shared"
        else:
            cid = "russia-holds" if held["USOS"][0] == "russia" else "us-holds"
    return {"id": cid, "label": CLASSES[cid]}


# ------------------------------------------------------------------------ has the story ended?

def _standing() -> frozenset:
    from ..agents.crisis import GUARD, NONE

    return frozenset({NONE, GUARD})  # keeping by someone is a posture, not a plan under way


_STANDING = _standing()


def resolved(sim, quiet_ms: int = QUIET_MS) -> bool:
    """Whether a run's story is over: no one alive is aboard (and every departed vehicle has
    landed); or the story has begun, no one aboard has an intention, no one is adrift or
    bleeding, no one aboard still believes in a fall to come (without a truce), and nothing
    happened in the story for ``quiet_ms``."""
    st = sim.state
    a = st.arrays
    if "crew.alive" not in a:
        return False
    alive = a["crew.alive"]
    loc = a["crew.location"]
    departed = a["control.departed"] if "control.departed" in a else None
    adrift = a["control.adrift"] if "control.adrift" in a else None
    on_board = [bool(alive[i]) and not (departed is not None and departed[int(loc[i])])
                and not (adrift is not None and adrift[i]) for i in range(len(alive))]
    landings = st.facts.get("control.landings", ())
    if not any(on_board) and not (adrift is not None and (adrift & alive).any()):
        return all(landing <= st.t_ms for _v, _burn, landing, *_ in landings)
    if "agents.intent" in a and any(int(a["agents.intent"][i]) not in _STANDING and on_board[i]
                                    for i in range(len(alive))):
        return False
    if adrift is not None and (adrift & alive).any():
        return False
    if "crew.bleeding" in a and (a["crew.bleeding"] & alive).any():
        return False
    if "agents.deadline_ms" in a and _still_waiting(a, on_board, st.t_ms):
        return False
    told = story(sim)
    return bool(told) and st.t_ms - _t_ms(told[-1]["t"]) >= quiet_ms


def _still_waiting(a, on_board, t_ms: int) -> bool:
    """Someone aboard still believes the station will fall and its deadline has not come and
    gone (with the hours it takes to doubt it): their minds may yet turn (a truce, flight,
    force; issim.agents.turns), so a quiet spell is not the end of the story. No truce made."""
    if "agents.peace" in a and int(a["agents.peace"][0]) > 0:
        return False
    from ..agents.affect import FALL

    dl, fall = a["agents.deadline_ms"], a["agents.belief"][:, FALL]
    return any(on_board[i] and dl[i] and fall[i] >= 0.5 for i in range(len(on_board)))


def _t_ms(iso: str) -> int:
    return parse_iso(iso, "t")
