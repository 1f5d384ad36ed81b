"""What a person with a goal might do next: candidates, scores, and one choice.

The policy reads the station only through a :class:`~issim.control.StateView` (read-only
copies of the arrays) and a :class:`StationMap` of fixed facts (which hatches join the
segments, which volume is on which side, which links belong to which segment). It returns
commands; the :class:`~issim.agents.Agents` subsystem dry-runs them, keeps those the
pipeline would allow, and submits one. Nothing here can write the state.

Goals: ``take-control`` (an order from one's own ground, complied with) and
``hold-segment`` (no order, but the other side has been seen acting: defend one's own
segment). Candidates for both: go to one's own side of a boundary hatch, close it, lock it
from one's own side, make one's own segment's laptops accept only one's own faction. For
``take-control`` also the non-violent levers over the other side: the US side can stop the
converters that carry US power to the Russian segment (``converters_off``, from the USOS
laptops); the Russian side can refuse CMG desaturation (``stop_desat``), withhold consent to
reboosts (``refuse_burns``) and switch its thrusters off (``thrusters_off``); either side
can cut the other's links to the ground if it can reach their laptops.

Scores (higher first): defensive moves ``3 + caution`` (close, lock), ``2.8 + caution``
(credentials), ``2.5 + caution`` (moving into place); offensive levers
``base + aggression + suspicion - solidarity`` with bases 1.5 (converters_off, stop_desat),
1.0 (refuse_burns, cut_link), 0.8 (thrusters_off). Commands that would change nothing (a
hatch already locked, converters already off) are not candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..control.commands import Command

GOALS = ("", "take-control", "hold-segment")
NO_GOAL, TAKE_CONTROL, HOLD = range(3)
TRAITS = ("aggression", "caution", "solidarity")
HOME = {"usa": "USOS", "russia": "ROS"}
# What the policy never considers when the scenario says violence = false.
VIOLENT = frozenset({"confront", "operate_arm", "take_arm", "disable", "switch", "set_rate", "release",
                     "power_off", "cut_suit_radio", "begin_eva", "undock"})


@dataclass(frozen=True)
class StationMap:
    """Fixed facts the policy needs: names, not state.

    ``boundary``: ``(hatch id, hatch index, USOS-side volume id, its index, ROS-side volume
    id, its index)`` for each hatch between the segments; ``volume_segment``: each volume's
    segment; ``links``: ``(link id, index, segment)``; ``factions``: the custody factions.
    """

    names: tuple
    factions: tuple
    volume_segment: tuple
    boundary: tuple
    links: tuple


def candidates(view, m: StationMap, person: int, violence: bool = False) -> list[tuple[float, Command]]:
    """``[(score, command)]`` for ``person`` now, best first (ties in a fixed order)."""
    goal = int(view["agents.goal"][person])
    if goal == NO_GOAL:
        return []
    faction = m.factions[int(view["control.faction"][person])]
    home = HOME.get(faction)
    if home is None:
        return []
    name = m.names[person]
    aggression, caution, solidarity = (float(x) for x in view["agents.traits"][person])
    suspicion = float(view["agents.suspicion"][person])
    loc = int(view["crew.location"][person])
    here = m.volume_segment[loc]
    opened, lock_side = view["hatch.open"], view["control.lock_side"]
    out: list[tuple[float, Command]] = []

    def add(score, cname, target="", **args):
        out.append((round(score, 6), Command.of(cname, name, target, source="agent", **args)))

    for hatch, h, us_id, us_v, ru_id, ru_v in m.boundary:
        own_id, own_v = (us_id, us_v) if home == "USOS" else (ru_id, ru_v)
        if opened[h]:
            if loc == own_v:
                add(3 + caution, "close_hatch", hatch)
            else:
                add(2.5 + caution, "move", own_id)
        elif lock_side[h] < 0:
            if loc == own_v:
                add(3 + caution, "lock_hatch", hatch)
            elif here != home:
                add(2.5 + caution, "move", own_id)
    creds = view["control.credentials"]
    seg = 0 if home == "USOS" else 1
    mine = m.factions.index(faction)
    if creds[seg][mine] and int(np.count_nonzero(creds[seg])) > 1:
        add(2.8 + caution, "change_credentials", home)
    if goal == TAKE_CONTROL:
        push = aggression + suspicion - solidarity
        if home == "USOS" and view["power.converters_on"][0]:
            add(1.5 + push, "converters_off", "ROS")
        if home == "ROS":
            if view["att.desat_allowed"][0]:
                add(1.5 + push, "stop_desat", "ROS")
            if view["prop.burns_allowed"][0]:
                add(1.0 + push, "refuse_burns", "ROS")
            if view["prop.thrusters_enabled"][0]:
                add(0.8 + push, "thrusters_off", "ROS")
        link_ok = view["comms.link_ok"]
        for link, k, lseg in m.links:
            if lseg != home and link_ok[k]:
                add(1.0 + push, "cut_link", link)
    if not violence:
        out = [c for c in out if c[1].name not in VIOLENT]
    out.sort(key=lambda c: -c[0])
    return out


def choose(scored: list[tuple[float, Command]], rng: np.random.Generator, temperature: float = 0.5) -> Command:
    """One of the allowed candidates: softmax over scores, drawn from the person's stream.

    With one candidate there is no choice and nothing is drawn.
    """
    if len(scored) == 1:
        return scored[0][1]
    s = np.array([c[0] for c in scored])
    w = np.exp((s - s.max()) / temperature)
    return scored[int(rng.choice(len(scored), p=w / w.sum()))][1]
