"""A physical confrontation between two people, abstracted to odds and injuries.

Nothing here is measured: every figure is an **estimate** chosen to give plausible,
legible odds, and the whole model is meant to be tuned by scenarios. The model:

**Who prevails.** The actor prevails with probability ``P``::

    logit P = 3.0 (h_a - h_t) + 1.2 surprise + 0.7 (min(n_a, 2) - min(n_t, 2))

- ``h_a``, ``h_t``: the two people's ``crew.health`` (1 well, 0.5 incapacitated);
- ``surprise``: 1 when the actor says so (``surprise = true``: from behind, in the
  dark, a weapon already drawn) or the target is asleep;
- ``n_a``, ``n_t``: conscious people in the volume (not on EVA) who side with each:
  by default those of each one's faction (neither counts when both share one), or,
  when the actor names ``helpers``, those of them present (they side with the actor;
  the rest of the target's faction side with the target). Beyond two, more people get
  in each other's way in a module a few metres across.
- An unconscious target cannot resist: ``P = 1``.

Some values: equal and unaware, 50 %; surprise alone 77 %; one helper 67 %, two 80 %;
a well actor against a target at health 0.7, 71 %; surprise with a helper 87 %.

**Injuries** (severity 0-1, passed to the crew's ``injure``: 1 kills, 0.5 or more
incapacitates, injuries combine as ``1 - (1 - a)(1 - b)``):

============  ==========================================  ====================
intent        the loser                                   the winner
============  ==========================================  ====================
``subdue``    uniform 0.2-0.7 (40 % incapacitated)        uniform 0-0.15
``kill``      killed with probability 0.5, else           uniform 0-0.3
              uniform 0.4-0.9 (80 % incapacitated)
============  ==========================================  ====================

When the target prevails, they only defend: the actor (the loser) takes a ``subdue``
injury, the target (the winner) the winner's injury of the actor's intent (a knife
drawn cuts its defender too). So an even fight to kill ends with the target dead one
time in four, incapacitated or dead 45 % of the time, and the attacker incapacitated
20 % of the time.

Every confrontation draws exactly four numbers from the actor's own stream
``control.confront.<actor>``, whatever the outcome, so it is seeded, snapshotted, and
never shifts anyone else's draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HEALTH_WEIGHT = 3.0  # per unit of health difference, in log-odds (estimate)
SURPRISE_WEIGHT = 1.2  # estimate
HELP_WEIGHT = 0.7  # per helper (estimate)
MAX_HELPERS = 2  # estimate: a module is a few metres across
INTENTS = ("subdue", "kill")
LOSER_SEVERITY = {"subdue": (0.2, 0.7), "kill": (0.4, 0.9)}  # uniform ranges (estimates)
WINNER_SEVERITY = {"subdue": 0.15, "kill": 0.3}  # uniform 0..this (estimates)
KILL_PROBABILITY = 0.5  # the loser of a fight to kill dies (estimate)


def prevail_probability(h_actor: float, h_target: float, surprise: bool, n_actor: int, n_target: int,
                        target_conscious: bool = True) -> float:
    """The probability that the actor prevails (see the module)."""
    if not target_conscious:
        return 1.0
    x = (HEALTH_WEIGHT * (h_actor - h_target) + SURPRISE_WEIGHT * bool(surprise)
         + HELP_WEIGHT * (min(n_actor, MAX_HELPERS) - min(n_target, MAX_HELPERS)))
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class Outcome:
    actor_prevails: bool
    loser_severity: float  # 1.0 kills
    winner_severity: float


def draw_outcome(rng: np.random.Generator, p: float, intent: str) -> Outcome:
    """Draw who prevails and the injuries, with exactly four draws from ``rng``."""
    u = rng.random(4)
    actor_prevails = bool(u[0] < p)
    loser_intent = intent if actor_prevails else "subdue"  # a defender only defends
    lo, hi = LOSER_SEVERITY[loser_intent]
    if loser_intent == "kill" and u[1] < KILL_PROBABILITY:
        loser = 1.0
    else:
        loser = lo + (hi - lo) * float(u[2])
    winner = WINNER_SEVERITY[intent] * float(u[3])
    return Outcome(actor_prevails, round(loser, 4), round(winner, 4))
