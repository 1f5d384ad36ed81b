"""A physical confrontation between two people, abstracted to strengths and wounds.

Nothing here is measured: every figure is an **estimate**, chosen so that lopsided
fights are decided by their circumstances and only even ones by chance, and so that the
film's fights play as the film shows them when the film's circumstances hold (an armed
surprise attack on someone unaware wins; two against one wins; two armed people fighting
to the death can both die). Scenarios may want other figures; they are named here.

**Strength.** Each side's strength is::

    S = health + 0.4 surprise + 0.3 armed + 0.5 min(helpers, 2) + U(-0.15, 0.15)

- ``health``: the person's ``crew.health`` (1 well, 0.5 incapacitated);
- ``surprise`` (the actor only): the actor says so and the target is unaware, or the
  target is asleep;
- ``armed``: the person holds an improvised weapon (``control.armed``: a screwdriver, a
  drill; ``take_weapon``);
- ``helpers``: conscious people in the volume (not on EVA) on each one's side (see the
  command); beyond two, more people get in each other's way in a module a few metres
  across;
- a uniform noise per side, so two strengths that differ by 0.3 or more decide the fight
  whatever the draw, and closer ones are a matter of chance.

The actor prevails when the margin ``m = S_actor - S_target`` is positive; an unconscious
target cannot resist (the actor prevails, the target is *helpless*).

**Wounds** (severity 0-1, through the crew's ``injure``: 1 kills, 0.5 or more
incapacitates, a bleeding wound kills within the hour unless treated). The winner's
intent decides the loser's wound: the actor's ``intent`` when the actor prevails; when
the target prevails, an armed target fights to kill and an unarmed one only defends.

============  =====================================================================
intent        the loser
============  =====================================================================
``kill``      killed when helpless or beaten by a margin of 0.5 or more; else
              0.5-0.9 (incapacitated), bleeding when the winner is armed
``subdue``    0.35-0.8 (incapacitated two times in three); nothing more if helpless
``defend``    0.1-0.4
============  =====================================================================

The winner is hurt too: when the loser fought armed to kill, by ``0.9 - |m|`` less up to
0.1 (an even fight to the death leaves the winner badly wounded, bleeding from 0.3;
a clear win leaves them unhurt), otherwise by up to 0.1.

Every confrontation draws exactly four numbers from the actor's own stream
``control.confront.<actor>`` (the two noises, the loser's wound, the winner's), so it is
seeded, snapshotted, and never shifts anyone else's draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SURPRISE = 0.4  # estimate
ARMED = 0.3  # estimate
HELP = 0.5  # per helper (estimate)
MAX_HELPERS = 2  # estimate: a module is a few metres across
NOISE = 0.15  # half-width of each side's uniform noise (estimate)
KILL_MARGIN = 0.5  # a fight to kill won by this margin kills outright (estimate)
WOUND_BASE = 0.9  # the winner's wound in an armed fight to the death, less the margin (estimate)
BLEEDS_FROM = 0.3  # a weapon wound at least this bad bleeds (estimate)
INTENTS = ("subdue", "kill")


def strength(health: float, surprise: bool = False, armed: bool = False, helpers: int = 0) -> float:
    """A side's strength before the noise (see the module)."""
    return float(health) + SURPRISE * bool(surprise) + ARMED * bool(armed) + HELP * min(int(helpers), MAX_HELPERS)


def helpers(present, side, a: int, b: int) -> tuple[int, int]:
    """How many people join each side of a fight between ``a`` and ``b``: ``(a's, b's)``.

    ``present`` (bool per person) marks who could join in: in the volume of the fight,
    alive, conscious, not on EVA (``a`` and ``b`` themselves are not counted). ``side``
    (per person) says who sides with whom; nobody takes part in a quarrel within one side.
    """
    present = np.array(present, dtype=bool)  # a copy: a and b are struck out below
    side = np.asarray(side)
    present[[a, b]] = False
    if side[a] == side[b]:
        return 0, 0
    return int((present & (side == side[a])).sum()), int((present & (side == side[b])).sum())


def margin(health, armed, a: int, b: int, helpers: tuple[int, int] = (0, 0), surprise: bool = False) -> float:
    """``a``'s margin over ``b`` before the noise: ``strength(a) - strength(b)`` (see the module).

    ``health`` and ``armed`` are per person (``crew.health``, ``control.armed``);
    ``helpers`` is ``(a's, b's)`` (:func:`helpers`); ``surprise`` counts for ``a`` only.
    The one place fight odds are reckoned: the confrontation itself and anyone weighing one.
    """
    return (strength(health[a], surprise, bool(armed[a]), helpers[0])
            - strength(health[b], False, bool(armed[b]), helpers[1]))


def prevail_probability(margin: float, target_conscious: bool = True) -> float:
    """P(actor prevails) for a margin before the noise: the difference of two uniform
    noises is triangular on ``[-2 NOISE, 2 NOISE]``."""
    if not target_conscious:
        return 1.0
    w = 2.0 * NOISE
    x = -float(margin)  # the actor prevails when the noise difference exceeds this
    if x <= -w:
        return 1.0
    if x >= w:
        return 0.0
    cdf = (x + w) ** 2 / (2 * w * w) if x < 0 else 1.0 - (w - x) ** 2 / (2 * w * w)
    return 1.0 - cdf


@dataclass(frozen=True)
class Outcome:
    actor_prevails: bool
    margin: float  # after the noise
    loser_severity: float  # 1.0 kills
    loser_bleeds: bool
    winner_severity: float
    winner_bleeds: bool


def draw_outcome(rng: np.random.Generator, margin: float, intent: str, *, actor_armed: bool = False,
                 target_armed: bool = False, target_helpless: bool = False) -> Outcome:
    """Draw the fight (exactly four draws from ``rng``; see the module)."""
    u = rng.random(4)
    m = float(margin) + NOISE * (2 * u[0] - 1) - NOISE * (2 * u[1] - 1)
    actor_prevails = bool(target_helpless or m > 0)
    if actor_prevails:
        how, winner_armed, helpless = intent, actor_armed, target_helpless
        loser_lethal = target_armed and not target_helpless
    else:
        how, winner_armed, helpless = ("kill" if target_armed else "defend"), target_armed, False
        loser_lethal = actor_armed and intent == "kill"
    a = abs(m)
    if how == "kill":
        loser = 1.0 if helpless or a >= KILL_MARGIN else 0.5 + 0.4 * float(u[2])
    elif how == "subdue":
        loser = 0.0 if helpless else 0.35 + 0.45 * float(u[2])
    else:
        loser = 0.1 + 0.3 * float(u[2])
    loser_bleeds = how == "kill" and winner_armed and BLEEDS_FROM <= loser < 1.0
    if loser_lethal:
        winner = max(0.0, WOUND_BASE - a - 0.1 * float(u[3]))
        winner_bleeds = winner >= BLEEDS_FROM
    else:
        winner, winner_bleeds = 0.1 * float(u[3]), False
    return Outcome(actor_prevails, round(m, 4), round(loser, 4), loser_bleeds, round(winner, 4), winner_bleeds)
