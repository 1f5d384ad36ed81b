"""Held-out co-player populations for ``issim evaluate`` (``docs/rl.md``).

As DeepMind's Melting Pot does for social dilemmas, a policy for one person (the *role*)
is scored against crews it was not built with. A **population** is a distribution over
the *other* crew members' minds; each episode seed draws one crew from it. The role's own
mind stays the scenario's. Every population differs from the scenario's own crew
(``iss``: loyalties 0.4-0.9, trust 0.8 within a side and 0.6 across, no one suspicious,
both orders sent, each claiming the fall "within 24 hours"), and none is what the
baselines were written against.

What is drawn, for each co-player (uniformly within the ranges of :data:`POPULATIONS`):

- the traits of the scenario's ``[agents.people."Name"]``: ``loyalty`` (to the faction
  rather than the crew), ``aggression``, ``caution``, ``solidarity`` (``docs/crisis.md``:
  they weigh every choice of the crew mind: obeying an order, disclosing it, the means,
  the arm strike, defecting, fleeing...);
- their starting **trust** in each other person (``agents.trust``, a row of the matrix):
  one value for their own side, one for the other; a bond (0.95) and a confidant (0.85),
  relations of the story rather than of temperament, are kept;
- their starting **suspicion** (``agents.suspicion``; the scenario starts everyone at 0).
  At 0.5 or more a person with no goal holds their segment from the first minute;

and for each **order** a ground sends a co-player (a ``send_message`` from ``houston`` or
``moscow`` whose text begins ``order: take-control``): whether it is sent at all, and the
fall it claims (``... fall within N hours``, which becomes the recipient's deadline and
urgency). An order to the role, or to a segment, is the scenario's.

The four populations, and why:

==============  ==================================================================================
``cooperative`` Crews who would rather keep the station together: low loyalty, little aggression,
                much caution and solidarity, high trust across the sides, no suspicion; the
                grounds hesitate (each order sent one time in two) and claim a distant fall
                (36-72 h). Tests whether a policy exploits, or wastes, a crew that will not fight.
``paranoid``    Crews primed to see a plot: middling loyalty, high caution, low solidarity, little
                trust across (0.1-0.35), suspicion 0.3-0.7 from the start (so about half hold
                their segment at once), every order sent with a near fall (6-18 h). Tests whether
                a policy can de-escalate, or survive, people who read any act as hostile.
``loyalist``    Crews that obey their ground: loyalty 0.85-1, aggression 0.4-0.8, little caution
                or solidarity, trust within a side 0.85-1, every order sent claiming 12-24 h.
                The film's commanders, everyone: tests a policy against a determined other side
                (and, for a role whose side is loyalist too, against being drawn along).
``mixed``       Each co-player drawn on their own from one of the three above, with equal odds
                (their orders follow their own draw): crews that disagree within a side, the
                mix Melting Pot's "background populations" stand for.
==============  ==================================================================================

The draws are deterministic: episode seed ``s`` of population ``p`` draws from a stream of
its own (:func:`issim.sim.rng.stream_seed` of ``s`` and ``evaluate.population.<p>``), the
same numbers for every person in the scenario's order whoever the role is, so the
co-players of a seed are the same whichever of them the policy plays. :func:`apply` writes a
draw into a copy of the scenario (traits, orders), :func:`prepare` into a new simulation's
state before it runs (trust, suspicion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import InputError
from ..sim.rng import stream_seed

TRAITS = ("loyalty", "aggression", "caution", "solidarity")
MINDS = TRAITS + ("trust_own", "trust_across", "suspicion")
GROUNDS = ("houston", "moscow")
_FALL = re.compile(r"(fall within )(\d+)( hours)", re.IGNORECASE)
_ORDER = re.compile(r"^\s*order:\s*take-control\b", re.IGNORECASE)


@dataclass(frozen=True)
class Population:
    """A distribution of co-players: each field a uniform range ``(low, high)`` (``order_sent``
    the chance that each of their orders is sent)."""

    name: str
    about: str
    loyalty: tuple[float, float] = (0.0, 1.0)
    aggression: tuple[float, float] = (0.0, 1.0)
    caution: tuple[float, float] = (0.0, 1.0)
    solidarity: tuple[float, float] = (0.0, 1.0)
    trust_own: tuple[float, float] = (0.8, 0.8)
    trust_across: tuple[float, float] = (0.6, 0.6)
    suspicion: tuple[float, float] = (0.0, 0.0)
    order_sent: float = 1.0
    fall_hours: tuple[float, float] = (24.0, 24.0)
    mix: tuple[str, ...] = field(default=())  # a mixture: each person drawn from one of these


POPULATIONS: dict[str, Population] = {p.name: p for p in (
    Population("cooperative", "low loyalty, high solidarity and trust across, no suspicion; orders half the time, "
                              "a distant fall",
               loyalty=(0.05, 0.35), aggression=(0.0, 0.2), caution=(0.5, 0.9), solidarity=(0.75, 1.0),
               trust_own=(0.8, 0.95), trust_across=(0.7, 0.9), suspicion=(0.0, 0.1),
               order_sent=0.5, fall_hours=(36.0, 72.0)),
    Population("paranoid", "middling loyalty, high caution, little trust across, suspicious from the start; "
                           "a near fall",
               loyalty=(0.5, 0.8), aggression=(0.3, 0.6), caution=(0.6, 0.95), solidarity=(0.1, 0.4),
               trust_own=(0.6, 0.8), trust_across=(0.1, 0.35), suspicion=(0.3, 0.7),
               order_sent=1.0, fall_hours=(6.0, 18.0)),
    Population("loyalist", "obey their ground: high loyalty and aggression, little caution or solidarity",
               loyalty=(0.85, 1.0), aggression=(0.4, 0.8), caution=(0.1, 0.4), solidarity=(0.0, 0.25),
               trust_own=(0.85, 1.0), trust_across=(0.4, 0.6), suspicion=(0.0, 0.2),
               order_sent=1.0, fall_hours=(12.0, 24.0)),
    Population("mixed", "each co-player from cooperative, paranoid or loyalist, equally likely",
               mix=("cooperative", "paranoid", "loyalist")),
)}


def check_names(names) -> list[str]:
    """The populations asked for, in the order given, each once (all four when none is given);
    an unknown name is :class:`InputError` naming ``--population``."""
    out: list[str] = []
    for given in names or POPULATIONS:
        for name in str(given).split(","):
            name = name.strip()
            if name not in POPULATIONS:
                raise InputError("--population", f"no population {name!r}; populations: {', '.join(POPULATIONS)}")
            if name not in out:
                out.append(name)
    return out


@dataclass(frozen=True)
class Crew:
    """One draw of a population: the co-players' minds and their orders.

    ``people`` maps each co-player to ``{"from": component population, "loyalty", "aggression",
    "caution", "solidarity", "trust_own", "trust_across", "suspicion"}``; ``orders`` lists
    ``{"event": index in the scenario's events, "to", "ground", "sent", "fall_hours"}``.
    """

    population: str
    seed: int
    role: str
    people: dict
    orders: list

    def as_dict(self) -> dict:
        return {"people": self.people, "orders": self.orders}


def _orders(spec) -> list[tuple[int, object]]:
    """The scenario's take-control orders to a person: ``(event index, event)``."""
    crew = {c.name for c in spec.crew}
    return [(i, ev) for i, ev in enumerate(spec.events)
            if ev.action == "send_message" and ev.actor in GROUNDS and ev.target in crew
            and isinstance(ev.args.get("text"), str) and _ORDER.match(ev.args["text"])]


def _uniform(u: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return round(float(low + (high - low) * u), 4)


def draw(name: str, spec, role: str, seed: int) -> Crew:
    """Seed ``seed``'s crew of population ``name`` around ``role`` (see the module)."""
    pop = POPULATIONS[name]
    rng = np.random.Generator(np.random.PCG64(stream_seed(int(seed), f"evaluate.population.{name}")))
    people: dict = {}
    comp_of: dict = {}
    for c in spec.crew:  # the same numbers for each person whoever the role is
        pick, u = rng.random(), rng.random(len(MINDS))
        comp = POPULATIONS[pop.mix[min(int(pick * len(pop.mix)), len(pop.mix) - 1)]] if pop.mix else pop
        comp_of[c.name] = comp
        if c.name != role:
            people[c.name] = {"from": comp.name, **{k: _uniform(x, getattr(comp, k)) for k, x in zip(MINDS, u)}}
    orders = []
    for i, ev in _orders(spec):
        u_sent, u_fall = rng.random(), rng.random()
        if ev.target == role:
            continue
        comp = comp_of[ev.target]
        claims = _FALL.search(ev.args["text"]) is not None
        orders.append({"event": i, "to": ev.target, "ground": ev.actor, "sent": bool(u_sent < comp.order_sent),
                       "fall_hours": int(round(_uniform(u_fall, comp.fall_hours))) if claims else None})
    return Crew(name, int(seed), role, people, orders)


def apply(spec, crew: Crew):
    """A copy of the scenario with ``crew``'s traits for the co-players and their orders
    (unsent ones left out, the claimed fall rewritten); the role's own mind untouched."""
    from ..scenario.schema import AgentTraits

    people = dict(spec.agents.people)
    for name, m in crew.people.items():
        old = people.get(name)
        people[name] = AgentTraits(**{k: m[k] for k in TRAITS}, bond=old.bond if old else None,
                                   confidant=old.confidant if old else None)
    events = list(spec.events)
    drop = set()
    for o in crew.orders:
        ev = events[o["event"]]
        if not o["sent"]:
            drop.add(o["event"])
        elif o["fall_hours"] is not None:
            text = _FALL.sub(lambda m: f"{m.group(1)}{o['fall_hours']}{m.group(3)}", ev.args["text"], count=1)
            events[o["event"]] = ev.model_copy(update={"args": {**ev.args, "text": text}})
    events = [ev for i, ev in enumerate(events) if i not in drop]
    agents = spec.agents.model_copy(update={"people": people})
    return spec.model_copy(update={"agents": agents, "events": events})


def prepare(sim, crew: Optional[Crew], spec) -> None:
    """Write ``crew``'s starting trust and suspicion into a new simulation of ``spec`` (before
    its first frame), for the co-players only; the trust of a bond or a confidant is kept. A
    state without the crew minds is left alone."""
    st = sim.state
    if crew is None or "agents.trust" not in st or "agents.suspicion" not in st:
        return
    names = list(sim.people)
    index = {n: i for i, n in enumerate(names)}
    faction = st["control.faction"]
    trust, suspicion = st["agents.trust"], st["agents.suspicion"]
    kept = relations(spec)
    for name, m in crew.people.items():
        p = index[name]
        keep = set(kept.get(name, ()))
        for q in range(len(names)):
            if q == p or names[q] in keep:
                continue
            trust[p, q] = m["trust_own"] if faction[q] == faction[p] else m["trust_across"]
        suspicion[p] = m["suspicion"]


def relations(spec) -> dict[str, tuple[str, ...]]:
    """Each person's bond and confidant (the trust :func:`prepare` keeps)."""
    return {name: tuple(x for x in (t.bond, t.confidant) if x) for name, t in spec.agents.people.items()}
