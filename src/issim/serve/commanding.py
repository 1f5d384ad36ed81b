"""Commanding from the browser: what a role may issue now, and issuing it through the pipeline.

A role is a crew member or a ground (:mod:`issim.serve.tokens`). Its commands go through
the one command path (:mod:`issim.control.pipeline`) in the role's own name, with the
source ``browser``, between two frames (as :meth:`issim.sim.engine.Simulation.command`
does for a human at the CLI): validate, authority, execute, verify, history. The pipeline
records every attempt that reaches it, refused or not.

What a role may issue now: for a person, :attr:`issim.sim.observe.Observation.allowed`
(authority, for each command, over every target); for a ground, which has no
observation, a dry run of each command (:meth:`~issim.sim.engine.Simulation.dry_run`) over
its targets, with the least arguments it takes (defaults, else the smallest value in
range), until one passes.
"""

from __future__ import annotations

from typing import Optional

from ..control.authority import GROUNDS
from ..control.commands import CATALOGUE, Command, CommandSpec, describe, target_table
from ..sim.world import SEGMENTS

SOURCE = "browser"

# HTTP status for each end of a command: refused at validate (the request was wrong),
# refused at authority (this role may not, now), failed at execute or verify (the station said no).
STATUS = {"done": 200, "validate": 400, "authority": 403, "execute": 409, "verify": 409}


def roles(world: dict) -> dict[str, str]:
    """``{role: actor name}`` of a run's world (``world.json``, or a live run's record of it):
    the crew by their slug, then the grounds."""
    return {**{p["slug"]: p["name"] for p in world.get("crew", ())}, **{g: g for g in GROUNDS}}


def targets(sim, spec: CommandSpec) -> list[str]:
    """The names a command's target can take in this simulation (``[""]`` for none)."""
    d = _directory(sim)
    table = target_table(d, spec.target) if d is not None else None
    if table is not None:
        return list(table)
    return {"ros": ["ROS"], "person": list(sim.people),
            "party": [*sim.people, *GROUNDS, *SEGMENTS]}.get(spec.target, [""])


def _directory(sim):
    custody = next((s for s in sim.subsystems if s.name == "control"), None)
    return getattr(custody, "directory", None)


def least_args(spec: CommandSpec, sim) -> tuple:
    """The arguments of a dry run: each one's default, else the least value it accepts."""
    out = []
    for a in spec.args:
        if not a.required:
            continue
        value = {"bool": False, "rate": "auto", "text": "(dry run)", "people": ()}.get(a.kind)
        if a.kind in ("number", "int"):
            low = a.low if a.low is not None else 0.0
            value = low + (1 if a.low_open else 0) if a.high is None or low + 1 <= a.high else low
            value = int(value) if a.kind == "int" else float(value)
        elif a.kind == "choice":
            value = a.choices[0]
        elif a.kind == "person":
            value = sim.people[0] if sim.people else ""
        out.append((a.name, value))
    return tuple(out)


def allowed(sim, actor: str) -> dict[str, Optional[str]]:
    """``{command: None when the actor may issue it now, else why not}``."""
    if actor in sim.people:
        return dict(sim.observe(actor).allowed)
    out = {}
    for name, spec in CATALOGUE.items():
        reason = None
        for target in targets(sim, spec):
            result = sim.dry_run(Command(name, actor, target, least_args(spec, sim), source=SOURCE))
            if result.ok:
                reason = None
                break
            reason = reason or result.message
        out[name] = reason
    return out


def allowed_list(sim, actor: str) -> list[dict]:
    """Every command with its description, targets, and ``allowed``/``reason`` for ``actor``."""
    mask = allowed(sim, actor)
    return [{**describe(spec), "targets": targets(sim, spec), "allowed": mask.get(name) is None,
             "reason": mask.get(name)} for name, spec in CATALOGUE.items()]


def freeze(value):
    return tuple(freeze(v) for v in value) if isinstance(value, list) else value


def command(actor: str, name: str, target: str, args: dict) -> Command:
    return Command(name, actor, target, tuple(sorted((k, freeze(v)) for k, v in args.items())), source=SOURCE)


def status_of(result) -> int:
    return STATUS["done"] if result.result in ("done", "allowed") else STATUS.get(result.stage, 400)


def result_json(result) -> dict:
    c = result.command
    return {"result": result.result, "stage": result.stage, "reason": result.reason, "message": result.message,
            "t_ms": result.t_ms, "command": {"name": c.name, "actor": c.actor, "target": c.target,
                                             "args": dict(c.args), "source": c.source}}
