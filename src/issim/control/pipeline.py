"""The one command path: validate -> authority -> execute -> verify -> history.

Every command, from a crew agent, the ground, a human at the CLI or in the browser, or a
scenario, goes through :func:`submit` (``Simulation.command``):

1. **validate**: the command is known, the actor is someone (crew, ``houston``,
   ``moscow``, ``operator``), the source is known, the target exists and the arguments
   fit the schema (and the handling subsystem's own checks, e.g. an O2 rate in range);
2. **authority**: :func:`issim.control.authority.authorize` on the state now;
3. **execute**: the engine event goes to its subsystem through the engine's dispatch (or
   the custody action runs); a refusal by the station (a pressure difference holding a
   hatch, too little propellant) fails the command here, with the station's reason;
4. **verify**: the intended change is in the state (the hatch is now closed...);
   work that takes time (:mod:`issim.control.work`: a spacewalk's preparation, first aid,
   a repair...) stops before execute: the command is ``started``, the actor busy, and a
   ``command`` event with ``finish`` is queued for when it is done; then the authority is
   asked again on the state of that moment and, if it holds, execute and verify run;
5. **history**: every attempt, whatever became of it, is appended to
   ``state.facts["control.history"]`` and logged with ``state.record("command", ...)``,
   so the event log's digest covers it. Nothing returns from :func:`submit` without
   passing here, and nothing in it raises: a malformed command is refused with a reason.

:func:`dry_run` answers "would this be allowed, and why not" without writing anything:
it runs the same stages on a scratch copy of the state (so a station refusal shows too),
except for a command whose outcome is drawn at random (``confront``), which stops after
authority with the result ``allowed`` (a dry run must not reveal the draw).

A dry run works on a scratch state (:meth:`~issim.sim.state.State.scratch`): only the
arrays it touches are copied.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Optional

import numpy as np

from ..sim.state import StateView
from .authority import Reason, Refusal, Situation, authorize
from ..sim.world import SEGMENTS
from .commands import CATALOGUE, SOURCES, Command, CommandResult, Ctx, check_args, resolve_target, target_table
from .work import minutes

_DONE, _REFUSED, _FAILED = range(3)


def _custody(sim):
    return next((s for s in sim.subsystems if s.name == "control"), None)


def submit(sim, cmd: Command, finish: bool = False) -> CommandResult:
    """Run ``cmd`` through every stage on the simulation's state, and record it.

    ``finish``: the end of work ``cmd`` started (the engine's queued event); work that was
    interrupted meanwhile is not finished (its end is in the history already).
    """
    if finish:
        custody = _custody(sim)
        d = custody.directory if custody is not None else None
        p = d.person(cmd.actor) if d is not None else None
        w = custody.work_of(sim.state, p) if p is not None else None
        if w is None or w[1] != sim.state.t_ms or w[2] != cmd.name:
            return _end(cmd, sim.state, "failed", "work", Refusal(Reason.INTERRUPTED, "no longer in hand"), False)
        custody.end_work(sim.state, p)
    result = _run(sim, sim.state, cmd, dry_run=False, finish=finish)
    record(sim.state, result)
    return result


def complete(sim, cmd: Command, max_frames: int = 100_000) -> CommandResult:
    """Submit ``cmd`` and, if it is work that takes time, run frames until it ends: what
    became of it (done, or failed when the work was interrupted or no longer allowed).
    For scripts and tests; the agents do not wait."""
    r = sim.command(cmd)
    if r.result != "started":
        return r
    for _ in range(max_frames):
        for x in sim.step().commands:
            if isinstance(x, CommandResult) and (x.command.name, x.command.actor) == (cmd.name, cmd.actor):
                return x
    return r


def dry_run(sim, cmd: Command) -> CommandResult:
    """What :func:`submit` would answer now, without changing anything."""
    return _run(sim, sim.state.scratch(), cmd, dry_run=True)


def _run(sim, state, cmd: Command, dry_run: bool, finish: bool = False) -> CommandResult:
    stage = "validate"
    try:
        custody = _custody(sim)
        if not isinstance(cmd, Command):
            return _end(cmd, state, "refused", stage, Refusal(Reason.BAD_ARGUMENT,
                        f"a command is an issim.control.Command, not {type(cmd).__name__}"), dry_run)
        if custody is None:
            return _end(cmd, state, "refused", stage, Refusal(Reason.UNKNOWN_COMMAND,
                        "this simulation has no control subsystem, so it takes no commands"), dry_run)
        ctx, refusal = _validate(sim, state, custody, cmd, dry_run)
        if refusal:
            return _end(cmd, state, "refused", stage, refusal, dry_run)
        stage = "authority"
        refusal = authorize(Situation(state, custody.directory), ctx.spec, ctx.who, ctx.target, ctx.args)
        if refusal:
            return _end(cmd, state, "failed" if finish else "refused", stage, refusal, dry_run)
        took = ""
        if ctx.spec.work is not None and not finish and ctx.who.kind == "crew":
            seconds = float(ctx.spec.work(ctx))
            if seconds > 0:
                stage = "work"
                if not dry_run:
                    probe = _run(sim, state.scratch(), cmd, dry_run=True)  # would it do now what it is for?
                    if probe.result != "done":
                        return replace(probe, dry_run=False)
                    return _start(sim, state, custody, ctx, seconds)
                took = f" (after {minutes(seconds)} of work)"
        if dry_run and ctx.spec.random:
            from .commands import confront_odds

            p = confront_odds(ctx)[0] if ctx.spec.name == "confront" else float("nan")
            return _end(cmd, state, "allowed", stage, None, dry_run,
                        f"allowed; the outcome is drawn when it runs (P(actor prevails) = {p:.2f})")
        stage = "execute"
        spec = ctx.spec
        ctx.before = spec.before(ctx) if spec.before else None
        problem = spec.execute(ctx) if spec.execute else ctx.dispatch(spec.event(ctx))
        if problem:
            return _end(cmd, state, "failed", stage, Refusal(Reason.PHYSICS, problem), dry_run)
        stage = "verify"
        problem = spec.verify(ctx) if spec.verify else None
        if problem:
            return _end(cmd, state, "failed", stage, Refusal(Reason.VERIFY_FAILED, problem), dry_run)
        return _end(cmd, state, "done", stage, None, dry_run, ctx.effect + took)
    except Exception as exc:  # a bug, not a refusal: recorded, and loud in development
        warnings.warn(f"command {getattr(cmd, 'name', cmd)!r} raised at {stage}: {exc!r}", RuntimeWarning)
        return _end(cmd, state, "failed", stage, Refusal(Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"),
                    dry_run)


def _start(sim, state, custody, ctx: Ctx, seconds: float) -> CommandResult:
    """Work begins: the actor is busy until it is done, when the queued event finishes it."""
    from ..sim.events import Event
    from ..times import format_iso

    cmd = ctx.cmd
    until = state.t_ms + max(int(round(seconds * 1000.0)), 1)
    until = -(-until // sim.dt_ms) * sim.dt_ms  # at a frame's start: finished in the first frame after
    custody.start_work(state, ctx.me, list(CATALOGUE).index(cmd.name), until, cmd)
    if ctx.spec.on_start is not None:
        ctx.spec.on_start(ctx)
    sim.schedule(Event(until, "command", cmd.target, (("actor", cmd.actor), ("args", cmd.args),
                                                      ("command", cmd.name), ("finish", True)), source=cmd.source))
    return _end(cmd, state, "started", "work", None, False,
                f"{ctx.who.name} starts {cmd.name}: {minutes(seconds)} of work, done at {format_iso(until)[11:16]}")


def _validate(sim, state, custody, cmd: Command, dry_run: bool) -> tuple[Optional[Ctx], Optional[Refusal]]:
    spec = CATALOGUE.get(cmd.name) if isinstance(cmd.name, str) else None
    if spec is None:
        return None, Refusal(Reason.UNKNOWN_COMMAND,
                             f"no command {cmd.name!r}; commands: {', '.join(sorted(CATALOGUE))}")
    d = custody.directory
    who = d.actor(cmd.actor)
    if who is None:
        return None, Refusal(Reason.UNKNOWN_ACTOR, f"no one called {cmd.actor!r}: a crew member "
                             f"({', '.join(d.names) or 'nobody aboard'}), houston, moscow or operator")
    if cmd.source not in SOURCES:
        return None, Refusal(Reason.BAD_ARGUMENT, f"unknown source {cmd.source!r}; sources: {', '.join(SOURCES)}")
    if who.kind == "operator" and cmd.source == "agent":
        return None, Refusal(Reason.UNKNOWN_ACTOR, "an agent cannot act as the operator (a human at the CLI)")
    target, problem = resolve_target(d, spec.target, cmd.target, who.index)
    if problem:
        return None, Refusal(Reason.UNKNOWN_TARGET, f"{spec.name}: {problem}")
    args, refusal = check_args(spec, cmd.args, d)
    if refusal:
        return None, refusal
    ctx = Ctx(sim, state, custody, cmd, spec, who, target, args, dry_run)
    if spec.event is not None and who.kind in spec.actors:
        event = spec.event(ctx)
        handler = sim.handlers.get(event.kind)
        if handler is None:
            return None, Refusal(Reason.UNKNOWN_COMMAND, f"{spec.name}: no subsystem handles {event.kind!r} here")
        problem = handler.validate(event)
        if problem:
            return None, Refusal(Reason.BAD_ARGUMENT, f"{spec.name}: {problem}")
    return ctx, None


def _end(cmd, state, result: str, stage: str, refusal: Optional[Refusal], dry_run: bool,
         effect: str = "") -> CommandResult:
    if not isinstance(cmd, Command):
        cmd = Command(_plain(getattr(cmd, "name", cmd)), "?", source="?")
    return CommandResult(
        command=cmd, t_ms=state.t_ms, result=result, stage=stage,
        reason=refusal.reason.value if refusal else "", message=refusal.message if refusal else effect,
        dry_run=dry_run,
    )


def record(state, r: CommandResult) -> None:
    """History and the event log: plain, hashable values only, whatever was submitted."""
    c = r.command
    args = c.args if isinstance(c.args, tuple) else (("?", c.args),)
    args = tuple((_plain(p[0]), _plain(p[1])) if isinstance(p, tuple) and len(p) == 2 else ("?", _plain(p))
                 for p in args)
    entry = (state.t_ms, _plain(c.actor), _plain(c.source), _plain(c.name), _plain(c.target), args, r.stage,
             r.result, r.reason, r.message)
    facts = state.facts
    facts["control.history"] = facts.get("control.history", ()) + (entry,)
    if "control.commands" in state and r.result != "started":  # work is counted when it ends
        state["control.commands"][{"done": _DONE, "refused": _REFUSED}.get(r.result, _FAILED)] += 1
    state.record("command", actor=entry[1], source=entry[2], command=entry[3], target=entry[4], args=args,
                 stage=r.stage, result=r.result, reason=r.reason, message=r.message)


def _plain(value: Any):
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return repr(value)


HISTORY_FIELDS = ("t_ms", "actor", "source", "command", "target", "args", "stage", "result", "reason", "message")


def history(state) -> list[dict]:
    """The command history as JSON-ready records, oldest first."""
    return [dict(zip(HISTORY_FIELDS, (*e[:5], dict(e[5]), *e[6:]))) for e in state.facts.get("control.history", ())]


class ControlPort:
    """The pipeline as the engine's command port (:class:`issim.sim.ports.CommandPort`).

    The engine calls it in the first phase of a frame: :meth:`scheduled` for a command a
    scenario or trigger queued, :meth:`submit` for one a policy returned (in its own name:
    a command in someone else's is refused, and recorded like every attempt).
    """

    def submit(self, sim, cmd, actor: Optional[str] = None) -> CommandResult:
        if actor is not None and isinstance(cmd, Command) and cmd.actor != actor:
            result = _end(cmd, sim.state, "refused", "validate", Refusal(
                Reason.UNKNOWN_ACTOR, f"submitted by {actor!r} in the name of {cmd.actor!r}"), False)
            record(sim.state, result)
            return result
        return submit(sim, cmd)

    def check(self, sim, cmd) -> CommandResult:
        return dry_run(sim, cmd)

    def scheduled(self, sim, event) -> CommandResult:
        cmd = Command(str(event.arg("command")), str(event.arg("actor")), event.target, event.arg("args", ()),
                      source=event.source)
        return submit(sim, cmd, finish=bool(event.arg("finish", False)))

    def validate(self, sim, event) -> Optional[str]:
        """A scheduled command, checked before the run: name, actor, target and args."""
        custody = _custody(sim)
        if custody is None:
            return "this simulation has no control subsystem, so it takes no commands"
        name = event.arg("command")
        spec = CATALOGUE.get(name) if isinstance(name, str) else None
        if spec is None:
            return f"unknown command {name!r}; commands: {', '.join(sorted(CATALOGUE))} (issim commands)"
        d = custody.directory
        who = d.actor(event.arg("actor"))
        if who is None:
            return (f"unknown actor {event.arg('actor')!r}: a crew member ({', '.join(d.names) or 'nobody'}), "
                    "houston, moscow or operator")
        _, problem = resolve_target(d, spec.target, event.target, who.index)
        if problem:
            return f"{name}: {problem}"
        _, refusal = check_args(spec, event.arg("args", ()), d)
        return refusal.message if refusal else None

    def allowed(self, sim, person: int) -> dict[str, Optional[str]]:
        """For each command: ``None`` when some target passes authority for ``person`` now,
        else the first refusal's message. Reads the state once; copies nothing."""
        custody = _custody(sim)
        if custody is None:
            return {}
        d = custody.directory
        sit = Situation(sim.state, d)
        who = d.actors[person]
        here = d.volume_ids[int(sim.state["crew.location"][person])] if d.names else ""
        out: dict[str, Optional[str]] = {}
        for name, spec in CATALOGUE.items():
            args = {a.name: a.default for a in spec.args}
            args.setdefault("to", here)
            first = None
            for target in _targets(d, spec.target, person):
                refusal = authorize(sit, spec, who, target, args)
                if refusal is None:
                    first = None
                    break
                first = first or refusal.message
            else:
                first = first or f"{name}: nothing to issue it on"
            out[name] = first
        return out

    def control_map(self, sim) -> dict[str, list[str]]:
        custody = _custody(sim)
        return custody.control_map(sim.state) if custody is not None else {}


def _targets(d, kind: str, person: int) -> list:
    """Every resolved target of ``kind`` in this simulation (what a mask tries)."""
    table = target_table(d, kind)
    if table is not None:
        return list(table.values())
    if kind == "person":
        return list(range(len(d.names)))
    if kind == "ros":
        return [SEGMENTS.index("ROS")]
    if kind == "self":
        return [person]
    if kind == "party":
        return [*d.names, "houston", "moscow", *SEGMENTS]
    return [None]


__all__ = ["ControlPort", "StateView", "complete", "dry_run", "history", "submit"]
