"""Policies: who decides what a person (or a ground) does next.

A policy is anything with ``decide(observation) -> list of commands`` (and, optionally, a
``gate``: the state key of a ``(people,)`` flag outside which it never acts, so the runner
need not ask it every frame, as the crew mind's ``agents.due``): it sees only the
:class:`~issim.sim.observe.Observation` it is given (what that person can know now) and
answers with commands in that person's name; the run façade (:class:`issim.runner.Runner`)
asks it before each frame and the commands run in the frame's first phase, through the
command pipeline, like anyone's. A policy that remembers keeps its memory in the
simulation's state (as the crew mind does), or it cannot be snapshotted and branched.

Here: :class:`Idle` (does nothing), :class:`Scripted` (timed commands), :class:`RandomLegal`
(draws among the commands the observation allows). The crew mind is
:class:`issim.agents.mind.CrewMind`.
"""

from __future__ import annotations

from typing import Optional, Protocol, Sequence, runtime_checkable

from ..control.commands import CATALOGUE, Command
from ..times import parse_iso


@runtime_checkable
class Policy(Protocol):
    """Decides a person's next commands from what they can know."""

    def decide(self, observation) -> Sequence[Command]: ...


class Idle:
    """Does nothing, ever (a person left to the physics, or a silent ground)."""

    def decide(self, observation) -> list[Command]:
        return []


class Scripted:
    """Timed commands: each ``(time, command)`` is returned once, at the first decision at or
    after its time (UTC ms or ISO 8601 text), so it runs in the next frame's first phase.

    It keeps nothing between calls: the commands due are those timed in ``(t - frame, t]``
    for a decision at ``t``, so a branch or a restored snapshot replays the same script
    (a command timed in the frame before the run's start runs in its first frame; one timed
    earlier never runs).
    """

    def __init__(self, timed: Sequence[tuple]):
        self.timed = tuple(sorted(((parse_iso(t, "time") if isinstance(t, str) else int(t)), c) for t, c in timed))

    def decide(self, observation) -> list[Command]:
        t, dt = observation.t_ms, observation.frame_ms
        return [c for at, c in self.timed if t - dt < at <= t]


class RandomLegal:
    """Now and then (``every_s``), one command drawn among those authority would allow now,
    with a target drawn among those that pass; from the person's own random stream."""

    def __init__(self, every_s: float = 600.0, exclude: Sequence[str] = ("undock", "release")):
        self.every_ms = int(round(every_s * 1000))
        self.exclude = frozenset(exclude)

    def decide(self, observation) -> list[Command]:
        if observation.t_ms % self.every_ms >= observation.frame_ms or not observation.able:
            return []
        names = sorted(n for n, why in observation.allowed.items() if why is None and n not in self.exclude)
        rng = observation.rng
        while names:
            name = names.pop(int(rng.integers(len(names))))
            cmd = _with_target(observation, name, rng)
            if cmd is not None and observation.check(cmd).ok:
                return [cmd]
        return []


def _with_target(obs, name: str, rng) -> Optional[Command]:
    """A command ``name`` by ``obs.person`` with arguments at their defaults and a target that
    passes a dry run, tried in a random order; ``None`` if there is none."""
    spec = CATALOGUE[name]
    if any(a.required for a in spec.args):
        return None  # nothing sensible to draw for a required argument (a message's text...)
    for target in rng.permutation(_target_names(obs, spec.target)).tolist():
        cmd = Command.of(name, obs.person, target, source="agent")
        if obs.check(cmd).ok:
            return cmd
    return None


def _target_names(obs, kind: str) -> list[str]:
    sim = obs._sim
    if kind in ("self", "none", "ros"):
        return [""]
    if kind == "person":
        return [p for p in sim.people if p != obs.person]
    if kind == "segment":
        return ["USOS", "ROS"]
    if kind in ("hatch",):
        return [l.hatch for l in sim.world.links]
    if kind in ("volume", "vehicle"):
        return [v.id for v in sim.world.volumes if kind == "volume" or v.kind == "vehicle"]
    return []


def by_name(name: str, agents=None):
    """A policy from its name on the command line: ``mind``, ``idle`` or ``random``."""
    if name == "idle":
        return Idle()
    if name == "random":
        return RandomLegal()
    if name == "mind":
        if agents is None:
            raise KeyError("this simulation has no crew minds (no agents subsystem)")
        from .mind import CrewMind

        return CrewMind(agents)
    raise KeyError(f"no policy {name!r}; policies: {', '.join(POLICY_NAMES)}")


POLICY_NAMES = ("mind", "idle", "random")
