"""Crew agents: what each person knows, was ordered and decides (subsystem ``agents``).

:class:`Agents` keeps each person's mind as plain data in the state, updates it from the
event log (orders delivered by comms, what the other side was seen doing) and, every
decision interval, lets each awake person with a goal pick at most one command
(:mod:`issim.agents.goals`), which goes through the command pipeline like anyone's.
"""

from .decisions import DECISIONS, IMPLEMENTED, check_decisions
from .mind import Agents, MindSpec, parse_order

__all__ = ["Agents", "DECISIONS", "IMPLEMENTED", "MindSpec", "check_decisions", "parse_order"]
