"""The one run façade: build a simulation, give each person a policy, step, record, store.

::

    from issim.runner import Runner
    run = Runner("iss", seed=3, hours=40, policies={"Gordon Barrett": MyPolicy()})
    run.run()                       # or run.step() frame by frame
    print(run.outcome()["ending"])
    record = run.store()            # the run archive (./runs or $ISSIM_HOME)

Every person aboard gets a policy: the crew mind (:class:`issim.agents.mind.CrewMind`) unless
``policies`` names another (a :class:`~issim.agents.policies.Policy` object, or ``"mind"``,
``"idle"``, ``"random"``). Before each frame the runner asks each person's policy to
decide from ``sim.observe(person)`` and passes what they return to ``sim.step`` as that
person's actions; the grounds act through the scenario's timed commands. ``issim run``,
``record_run``, ``issim endings`` and ``issim branch`` all run through here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Callable, Mapping, Optional

from .agents.policies import POLICY_NAMES, Idle, Policy, by_name
from .errors import InputError
from .orbit.environment import ENV_CHUNK_FRAMES, KEPT_CHUNKS
from .scenario import build_simulation, load_scenario
from .scenario.schema import Scenario
from .sim.engine import StepResult
from .sim.fastnp import count_nonzero
from .sim.observe import Observation
from .times import MS_PER_DAY, parse_iso


RESOLVE_EVERY_MS = 600_000  # how often a run with until_resolved asks whether its story is over


class Runner:
    """One run of a scenario (see the module). ``policies`` maps a crew member's name to a
    policy; ``days``/``hours``/``end_ms`` set the end (default: the scenario's);
    ``until_resolved`` ends it sooner, once its story is over (:func:`issim.scenario.story.resolved`:
    the crew gone, or no one acting and nothing new in the story for six simulated hours),
    and ``resolved_ms`` then says when."""

    def __init__(self, scenario, *, seed: Optional[int] = None, days: Optional[float] = None,
                 hours: Optional[float] = None, end_ms: Optional[int] = None,
                 policies: Optional[Mapping[str, object]] = None, until_resolved: bool = False):
        self.scenario: Scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        spec = self.scenario
        if days is not None and hours is not None:
            raise InputError("hours", "give days or hours, not both")
        length = days if days is not None else (hours / 24.0 if hours is not None else None)
        if end_ms is None:
            end_ms = spec.default_end_ms if length is None else spec.start_ms + round(length * MS_PER_DAY)
        self.end_ms = int(end_ms)
        # stop early once the story is over (issim.scenario.story.resolved), asked every RESOLVE_EVERY_MS
        self.until_resolved = bool(until_resolved)
        self.resolved_ms: Optional[int] = None
        self.sim = build_simulation(spec, seed=seed, end_ms=self.end_ms)
        # the orbit's tables of the first days go to the process's for the next run only if this
        # one ends within them (issim.orbit.environment.KEPT_CHUNKS)
        frames = -(-(self.end_ms - self.sim.start_ms) // self.sim.dt_ms)
        self.sim.environment.give = frames <= KEPT_CHUNKS * ENV_CHUNK_FRAMES
        self.agents = next((s for s in self.sim.subsystems if s.name == "agents"), None)
        self.policies: dict[str, object] = {}
        self.chosen: dict[str, str] = {}  # the policies given by name or class, for the catalogue
        self.scenario_raw: Optional[bytes] = None  # the scenario's bytes when not its file's (a branch)
        self.scenario_inputs: dict = {}  # the dispersed inputs written into it (a campaign's run), stored with it
        for name in self.sim.people:
            self.policies[name] = by_name("mind", self.agents) if self.agents is not None else Idle()
        for name, policy in (policies or {}).items():
            self.assign(name, policy)

    def assign(self, person: str, policy) -> None:
        """Give ``person`` a policy (an object with ``decide``, or a policy's name)."""
        if person not in self.sim.people:
            raise KeyError(f"no crew member {person!r}; the crew are {', '.join(self.sim.people)}")
        chosen = policy if isinstance(policy, str) else f"custom:{type(policy).__qualname__}"
        if isinstance(policy, str):
            policy = by_name(policy, self.agents)
        if not isinstance(policy, Policy):
            raise TypeError(f"a policy needs a decide(observation) method; {type(policy).__name__} has none")
        self.policies[person] = policy
        self.chosen[person] = chosen
        self._acting = None

    def apply(self, changes: Mapping[str, Mapping[str, str]]) -> None:
        """From now on: ``{"decisions": {key: choice}, "policies": {person: policy name}}``."""
        if self.agents is not None:
            self.agents.decisions.update(changes.get("decisions", {}))
        for person, policy in changes.get("policies", {}).items():
            self.assign(person, policy)

    _acting: Optional[list] = None
    _quiet_for: Optional[list] = None  # the _acting the quiet frames were made for
    _quiet_frames = None

    def actions(self) -> dict[str, list]:
        """What each person's policy decides now, from what they can observe.

        A policy with a ``gate`` (the name of a ``(people,)`` bool state key, as the crew
        mind's ``agents.due``) is asked only when its person's flag is up: one array read
        a frame for all who share the gate, instead of an observation per person."""
        if self._acting is None:
            self._group()
        out = {}
        sim = self.sim
        arrays = sim.state.arrays
        for gate, people in self._acting:
            flags = arrays[gate] if gate is not None else None
            if flags is not None and not count_nonzero(flags):  # (numpy's C count: ndarray.any() costs several times as much)
                continue
            for i, name, policy in people:
                if flags is not None and not flags[i]:
                    continue
                cmds = policy.decide(Observation(sim, i))
                if cmds:
                    out[name] = list(cmds)
        return out

    def _group(self) -> None:
        """The policies that act, grouped by their gate (:attr:`_acting`)."""
        groups: dict = {}
        for i, n in enumerate(self.sim.people):
            policy = self.policies[n]
            if not isinstance(policy, Idle):
                groups.setdefault(getattr(policy, "gate", None), []).append((i, n, policy))
        self._acting = list(groups.items())

    def step(self) -> StepResult:
        """One frame: the policies decide, then the simulation steps with their commands; the
        result carries the run's outcome once the run has ended (its end, or the station lost)."""
        result = self.sim.step(self.actions())
        if self.finished:
            result = replace(result, outcome=self.outcome())
        return result

    @property
    def finished(self) -> bool:
        st = self.sim.state
        return st.t_ms >= self.end_ms or bool(st.facts.get("stop")) or self._resolved()

    def _resolved(self) -> bool:
        """With ``until_resolved``: whether the story is over, asked at whole multiples of
        :data:`RESOLVE_EVERY_MS` after the start (so the same run stops at the same frame)."""
        if not self.until_resolved:
            return False
        if self.resolved_ms is not None:
            return True
        from .scenario.story import resolved

        sim = self.sim
        if (sim.state.t_ms - sim.start_ms) % RESOLVE_EVERY_MS >= sim.dt_ms or not resolved(sim):
            return False
        self.resolved_ms = sim.state.t_ms
        return True

    def run(self, until=None, progress: Optional[Callable[[int], None]] = None) -> None:
        """Step until ``until`` (UTC ms or ISO text; default the end) or the station is lost;
        ``progress(frames done)`` about every simulated hour."""
        until_ms = self.end_ms if until is None else (parse_iso(until, "until") if isinstance(until, str) else int(until))
        sim = self.sim
        st = sim.state
        every = max(1, 3_600_000 // sim.dt_ms)
        advance, actions, resolving = sim.advance, self.actions, self.until_resolved
        while st.t_ms < until_ms and not st.facts.get("stop") and not (resolving and self._resolved()):
            # quiet frames many to a call (issim.quiet), up to the next hour's frame (progress) or the
            # next time the story is asked whether it is over; else (or when none is quiet) one frame.
            # (Asked each time: a progress callback may have given someone another policy.)
            quiet = self._quiet()
            if quiet is None or not quiet.run(min(until_ms, self._next_check_ms(st, every, progress is not None))):
                advance(actions())  # (step() would also make a StepResult and work out the outcome at the end)
            st = sim.state  # a restore replaces the state object
            if progress is not None and st.frame % every == 0:
                progress(st.frame)

    def _quiet(self):
        """The run's :class:`~issim.quiet.QuietFrames` (None when its line-up or policies do not allow it)."""
        if self._acting is None or self._quiet_for is not self._acting:
            from .quiet import QuietFrames

            if self._acting is None:
                self._group()
            self._quiet_frames = QuietFrames.of(self.sim, self.policies)
            self._quiet_for = self._acting
        return self._quiet_frames

    def _next_check_ms(self, st, every: int, progress: bool = True) -> int:
        """When the quiet frames must stop for :meth:`run` to look up from them: the start of
        the next frame that is a whole multiple of ``every`` (the progress; without a progress
        callback nothing looks), or before it the next whole multiple of
        :data:`RESOLVE_EVERY_MS` from the start (the first frame from there is where the story
        is asked whether it is over)."""
        sim = self.sim
        limit = sim.start_ms + (st.frame // every + 1) * every * sim.dt_ms if progress else 1 << 62  # (run's until)
        if self.until_resolved:
            limit = min(limit, sim.start_ms + ((st.t_ms - sim.start_ms) // RESOLVE_EVERY_MS + 1) * RESOLVE_EVERY_MS)
        return limit

    def __getattr__(self, name: str):
        """Anything else is the simulation's (``run.state``, ``run.world``, ``run.event_log()``...)."""
        if name == "sim":
            raise AttributeError(name)
        return getattr(self.sim, name)

    def outcome(self) -> dict:
        """Who lived, who died, who left, who controls what (:func:`issim.scenario.summary.outcome`)."""
        from .scenario.summary import outcome

        return outcome(self.sim)

    def summary(self) -> dict:
        """The run's whole summary (:func:`issim.scenario.summarize`)."""
        from .scenario import summarize

        return summarize(self.sim, self.scenario.name)

    def store(self, archive=None, progress: Optional[Callable[[int], None]] = None, **lineage):
        """Run to the end and store the run in the archive (a folder, an
        :class:`~issim.archive.Archive`, or the default); return its record."""
        from .archive import Archive

        store = archive if isinstance(archive, Archive) else Archive.open(archive, create=True)
        if self.chosen and "changes" not in lineage:  # a run started with other policies says which
            lineage["changes"] = json.dumps({"policies": self.chosen}, sort_keys=True)
        with store.recording(self, **lineage) as rec:
            rec.run(progress=progress)
        return store.get(rec.run_id)


def record_run(scenario, *, days: Optional[float] = None, hours: Optional[float] = None,
               seed: Optional[int] = None, archive=None):
    """Run a scenario (a bundled name or a file) with its crew minds and store it; return its
    record. ``days`` or ``hours`` sets the length (default: the scenario's); ``archive`` is
    the archive folder (default ``$ISSIM_HOME``, else ``./runs``), made if missing."""
    return Runner(scenario, seed=seed, days=days, hours=hours).store(archive)


def branch(record, at: str, *, decisions: Optional[Mapping[str, str]] = None,
           policies: Optional[Mapping[str, str]] = None, progress: Optional[Callable[[int], None]] = None):
    """A what-if: replay a stored run to ``at``, change decisions or policies, run on, store.

    ``record`` is an :class:`~issim.archive.RunRecord`; ``at`` an ISO time (``...Z``) or an
    offset from the run's start (``+14h30m``) within the stored run, moved to the frame
    boundary at or after it; ``decisions`` maps a decision key to a choice
    (``{"d3_eva": "refuse"}``), for decisions not yet made by then; ``policies`` maps a crew
    member to a policy's name (``mind``, ``idle``, ``random``).

    The replay uses the parent's own copy of its scenario file, its seed and its end, and
    re-applies every change of its lineage at its own time (the policies a run was started
    with, each ancestor branch's changes at its fork), so up to ``at`` it is the parent,
    frame for frame; a replay that is not (another issim version) is warned about. The child
    is stored in the parent's archive naming its parent, the fork time and its own changes.
    Everything is checked first (:func:`plan_branch`): bad input raises
    :class:`~issim.errors.InputError` and nothing is stored.
    """
    from .times import format_iso

    spec, raw, fork_ms, decisions, policies, lineage = plan_branch(record, at, decisions, policies)
    runner = Runner(spec, seed=record.seed, end_ms=parse_iso(record.sim_planned_end, "sim_planned_end"))
    runner.scenario_raw = raw
    runner.scenario_inputs = record.inputs()  # a campaign's run: its branches keep its drawn inputs
    mine = {k: v for k, v in (("decisions", decisions), ("policies", policies)) if v}
    # each change at its own time; at one time the ancestors' first, the child's last
    plan = sorted([(t, 0, c) for t, c in lineage] + [(fork_ms, 1, mine)], key=lambda step: step[:2])
    with record.archive.recording(runner, parent=record.id, fork_at=format_iso(fork_ms),
                                  changes=json.dumps(mine, sort_keys=True) if mine else "") as rec:
        for t_ms, ours, changes in plan:
            rec.run(t_ms, progress=progress)
            if ours:
                _check_replay(record, runner.sim.event_log_entries())
            runner.apply(changes)
        rec.run(progress=progress)
    return record.archive.get(rec.run_id)


def plan_branch(record, at: str, decisions: Optional[Mapping[str, str]] = None,
                policies: Optional[Mapping[str, str]] = None) -> tuple:
    """Check a branch before anything runs: ``(scenario, its bytes, fork time, decisions,
    policies, lineage)``, ``lineage`` the ``(time, changes)`` of the parent's past to replay.
    Raises :class:`~issim.errors.InputError` naming ``RUN``, ``--at``, ``--set`` or ``--as``."""
    from .agents.decisions import CHANCE, DECISIONS
    from .scenario.schema import parse_offset_ms
    from .times import format_iso

    decisions, policies = dict(decisions or {}), dict(policies or {})
    if record.status != "complete":
        raise InputError("RUN", f"{record.name} is {record.status}; only a complete stored run can be branched")
    spec, raw, _inputs = record.scenario_spec()  # a campaign's run with the inputs it drew
    start, end = parse_iso(record.sim_start, "sim_start"), parse_iso(record.sim_end, "sim_end")
    text = str(at).strip()
    try:
        fork_ms = start + parse_offset_ms(text) if text.startswith("+") else parse_iso(text, "--at")
    except (ValueError, OverflowError, InputError):
        raise InputError("--at", f"{at!r} is neither a time like 2025-03-11T04:00:00Z nor an offset like +28h") from None
    if not start <= fork_ms < end:
        raise InputError("--at", f"{text} is outside {record.name} ({record.sim_start} to {record.sim_end})")
    frame_ms = int(round(spec.scenario.frame_s * 1000))
    fork_ms = start + -(-(fork_ms - start) // frame_ms) * frame_ms  # the frame boundary at or after
    made: dict[str, str] = {}
    for e in record.event_log():
        if e.get("kind") == "agents" and e.get("what") == "decided":
            made.setdefault(e["key"], e["t"])  # the first time it was decided
    for key, choice in decisions.items():
        if key not in DECISIONS:
            raise InputError("--set", f"no decision {key!r}; decisions: {', '.join(DECISIONS)}")
        choices = DECISIONS[key][1]
        if choice not in (*choices, CHANCE):
            raise InputError("--set", f"{key}: no choice {choice!r}; choices: {', '.join(choices)} or {CHANCE}")
        if key in made and parse_iso(made[key], "t") < fork_ms:  # a decision in the fork's own frame is after it
            raise InputError("--set", f"{key} was already decided at {made[key]}, before {format_iso(fork_ms)}: "
                                      "fork earlier")
    check_policies(spec, policies)
    return spec, raw, fork_ms, decisions, policies, _lineage(record, start)


def _lineage(record, start_ms: int) -> list[tuple[int, dict]]:
    """``(time, changes)`` for the run and each of its ancestors, oldest first: what made the
    parent what it was (a run's own policies at its start, a branch's changes at its fork)."""
    out = []
    seen = set()
    r = record
    while r is not None and r.id not in seen:
        seen.add(r.id)
        changes = r.change_details
        for person, policy in changes.get("policies", {}).items():
            if policy not in POLICY_NAMES:
                raise InputError("RUN", f"run {r.id} had {person} decided by {policy}, a policy of its own maker's "
                                        "that cannot be replayed")
        player = changes.pop("player", None)
        if changes:
            out.append((parse_iso(r.fork_at, "fork_at") if r.fork_at else start_ms, changes))
        if isinstance(player, dict):  # a played game (issim play): the player's commands, at their times
            out.append((parse_iso(player["from"], "player.from"), {"policies": {player["person"]: Played(player)}}))
        r = r.archive.get(r.parent_id) if r.parent_id is not None else None
    return out[::-1]


class Played:
    """The policy of a person someone played (:mod:`issim.play`), for replaying the game:
    the commands they gave, each returned in the frame it was given in. ``player`` is what
    the catalogue keeps of the game (``changes["player"]``: ``person``, ``from``,
    ``commands`` as ``[t_ms, command, target, [[arg, value], ...]]``)."""

    def __init__(self, player: Mapping):
        from .control.commands import Command

        self.by_time: dict[int, list] = {}
        for t_ms, name, target, args in player.get("commands", ()):
            frozen = tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in args)
            self.by_time.setdefault(int(t_ms), []).append(
                Command(str(name), str(player["person"]), str(target), frozen, source="cli"))

    def decide(self, observation) -> list:
        return self.by_time.get(observation.t_ms, [])


def check_policies(spec: Scenario, policies: Mapping[str, object], source: str = "--as", *,
                   objects: bool = False) -> None:
    """Refuse (:class:`InputError`) a person not in the scenario's crew or a policy's name not
    among :data:`~issim.agents.policies.POLICY_NAMES`; with ``objects``, a policy given as an
    object or a class (not a name) passes as it is."""
    from .agents.policies import POLICY_NAMES

    crew = [c.name for c in spec.crew]
    for person, policy in policies.items():
        if person not in crew:
            raise InputError(source, f"no crew member {person!r}; the crew are {', '.join(crew)}")
        if (isinstance(policy, str) or not objects) and policy not in POLICY_NAMES:
            raise InputError(source, f"no policy {policy!r}; policies: {', '.join(POLICY_NAMES)}")


def _check_replay(record, replayed: list[str]) -> None:
    """Warn when the replay up to the fork is not the parent's own log (another issim version,
    an edited station file): the branch then answers a slightly different question."""
    import warnings

    theirs = record.event_log_entries()[: len(replayed)]
    if replayed != theirs:
        k = next((i for i, (a, b) in enumerate(zip(replayed, theirs)) if a != b), min(len(replayed), len(theirs)))
        warnings.warn(f"the replay of {record.name} parts from it before the fork, at event {k + 1} "
                      f"(issim {record.version} stored it): the branch starts from a different past", RuntimeWarning)
