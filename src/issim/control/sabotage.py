"""Sabotage by hand and its repair: one table for the crisis to choose from.

Each kind of sabotage is a command of the catalogue (:mod:`issim.control.commands`),
issued through the one pipeline like any other (authority, dry run, history), mostly as
work that takes time (:mod:`issim.control.work`); its consequence plays out in the
physics, not in a flag: a machine off lets O2 fall and CO2 rise over hours, a vented
module loses its air through its valve, a cut bus stops the machines on it, dumped
propellant is missing when a burn or a desaturation needs it. Each has a repair, also a
command. ``docs/crisis.md`` ("Sabotage and its repair") gives every figure's source.

:data:`SABOTAGE` maps a kind to a :class:`Sabotage`; :func:`sabotage_for` finds the
kind a command belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Sabotage:
    """One kind of sabotage: the command that does it, the kind of target it takes (a
    key of :data:`issim.control.commands.TARGETS`), what it does, and the command that
    repairs it (``counter``: another way of undoing it, by someone else)."""

    kind: str
    command: str
    target: str
    effect: str
    repair: str
    counter: str = ""


SABOTAGE: dict[str, Sabotage] = {s.kind: s for s in (
    Sabotage("life_support", "disable", "machine",
             "a machine out of action: O2 falls and CO2 rises over hours to days", "repair"),
    Sabotage("vent_module", "vent_module", "module",
             "the module's vent open to space: its pressure falls in minutes, its neighbours' too "
             "through open hatches", "close_vent"),
    Sabotage("hatch_held", "lock_hatch", "hatch",
             "a closed hatch locked from one side: nobody on the other side opens it",
             "unlock_hatch", counter="force_hatch"),
    Sabotage("power_cut", "cut_power", "segment",
             "a segment's bus down at its hardware: its machines, fans and radios stop; power_on cannot "
             "bring it back", "repair_power"),
    Sabotage("propellant_dumped", "dump_propellant", "engine",
             "propellant vented overboard: later burns and desaturations fail for lack of it",
             "transfer_propellant"),
    Sabotage("vehicle_hatch_locked", "lock_hatch", "hatch",
             "a vehicle's hatch locked: from inside, nobody boards; from the station, nobody comes out "
             "(they can still undock)", "unlock_hatch", counter="force_hatch"),
    Sabotage("link_cut", "cut_link", "link", "a link to the ground down", "restore_link"),
)}


def sabotage_for(command: str) -> Optional[Sabotage]:
    """The (first) kind of sabotage ``command`` does, or ``None``."""
    return next((s for s in SABOTAGE.values() if s.command == command), None)


__all__ = ["SABOTAGE", "Sabotage", "sabotage_for"]
