"""The engine's one opening for commands: a small protocol, so the engine imports no policy.

The engine knows that commands exist and when they run (the first phase of a frame), not
what they are: the command pipeline (:mod:`issim.control`) plugs in as a
:class:`CommandPort`. A simulation built without one takes no commands and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence


class Result(Protocol):
    """What became of a command: ``ok`` says whether it passed."""

    @property
    def ok(self) -> bool: ...


class CommandPort(Protocol):
    """How the engine hands commands to the pipeline (:class:`issim.control.ControlPort`)."""

    def submit(self, sim, cmd, actor: Optional[str] = None) -> Result:
        """Run ``cmd`` through every stage now and record it. ``actor``, when given, is who
        submitted it: a command in someone else's name is refused (and recorded)."""

    def check(self, sim, cmd) -> Result:
        """Would ``cmd`` pass now, and if not why; changes nothing."""

    def scheduled(self, sim, event) -> Result:
        """Run a command the scenario or a trigger scheduled (an event of kind ``command``)."""

    def validate(self, sim, event) -> Optional[str]:
        """Before a run: ``None`` when a scheduled command is well formed, else the problem."""

    def allowed(self, sim, person: int) -> dict[str, Optional[str]]:
        """For each command of the catalogue: ``None`` when ``person`` may issue it now with
        some target, else the reason the first try was refused."""

    def control_map(self, sim) -> dict[str, list[str]]:
        """``{system: [factions that could command it now]}``."""


@dataclass(frozen=True)
class Refused:
    """A command refused because there is no pipeline to take it."""

    command: Any
    message: str = "this simulation has no command pipeline (build it from a scenario)"
    ok: bool = False


class NoCommands:
    """The port of a simulation without a command pipeline: every command refused."""

    def submit(self, sim, cmd, actor: Optional[str] = None) -> Any:
        return Refused(cmd)

    def check(self, sim, cmd) -> Any:
        return Refused(cmd)

    def scheduled(self, sim, event) -> Any:
        return Refused(event)

    def validate(self, sim, event) -> Optional[str]:
        return Refused.message

    def allowed(self, sim, person: int) -> dict[str, Optional[str]]:
        return {}

    def control_map(self, sim) -> dict[str, list[str]]:
        return {}


def commands_of(actions) -> Sequence[tuple[Optional[str], Any]]:
    """``actions`` as ``(actor, command)`` pairs in order: a mapping ``{actor: [commands]}``
    (or one command per actor), a sequence of commands (each in its own actor's name), or None."""
    if not actions:
        return ()
    if isinstance(actions, dict):
        out = []
        for actor, cmds in actions.items():
            if cmds is None:
                continue
            if not isinstance(cmds, (list, tuple)):
                cmds = (cmds,)
            out += [(actor, c) for c in cmds]
        return out
    if not isinstance(actions, (list, tuple)):
        actions = (actions,)
    return [(None, c) for c in actions]
