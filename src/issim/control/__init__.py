"""Control: the command catalogue, authority, the one command pipeline, and custody.

``Simulation.command(Command.of("close_hatch", "Pavel Orlov", "zarya-pma-1"))`` runs a
command through validate -> authority -> execute -> verify -> history
(:mod:`~issim.control.pipeline`); ``Simulation.dry_run`` asks whether it would pass;
``Simulation.control_map()`` says which factions could command each system now
(:mod:`~issim.control.controlmap`). The custody subsystem (:mod:`~issim.control.custody`)
keeps the state commands add; the run's names and indices are its
:class:`~issim.control.directory.Directory`. ``docs/commands.md`` lists every command and every
refusal reason.
"""

from .authority import FACTIONS, GROUNDS, OPERATOR, Reason, default_faction
from .commands import CATALOGUE, Command, CommandResult, CommandSpec
from .custody import Custody
from .directory import Directory, Item
from .pipeline import ControlPort, StateView, complete, dry_run, history, submit

__all__ = [
    "CATALOGUE", "Command", "ControlPort", "CommandResult", "CommandSpec", "Custody", "Directory", "FACTIONS", "GROUNDS", "Item", "OPERATOR",
    "Reason", "StateView", "complete", "default_faction", "dry_run", "history", "submit",
]
