"""Many stations at once: N runs of one scenario stepped in lockstep, frame by frame.

::

    from issim import Batch
    batch = Batch("nominal", seeds=[1, 2, 3], hours=6)
    batch.step({1: {"Maya Torres": [cmd]}})   # one frame of all three; a command for station 1 only
    batch.run()                                # all to their end (a station lost stops alone)
    for r in batch.results():
        print(r["index"], r["seed"], r["ending"], r["digest"])

Each station is a :class:`~issim.runner.Runner` of its own (``batch[i]``): its own state,
event queue, random streams, recorder, command pipeline and policies (the crew minds unless
``policies`` says otherwise), so station ``i`` is, frame for frame and bit for bit, the run
``Runner(scenario, seed=seeds[i], ...)`` would make alone; a command given to one station
reaches no other. A station that ends (its end, the station lost, or with
``until_resolved`` its story over) stops; the others go on.

:meth:`Batch.campaign` builds the stations a campaign would run (``docs/campaigns.md``): run
``i`` with seed ``SEED + i`` and the dispersed inputs drawn for it.

What is shared, because it is provably the same for every station: the scenario, parsed
once; the station, element-set and data files (read once a process already); and the
orbit's surroundings (sunlight, altitude, ground sites and relays in sight), computed a
day of frames at a time. Those depend only on the start, the frame, the frame's number and
the orbit's element set, so stations whose element sets are field for field the same (all
of them, until a burn gives one another orbit) share one computed table; a station with
another orbit computes its own. Everything else (physics, minds, commands, recorder) runs
per station, in the same code a single run uses. ``bench/RESULTS.md`` ("Many stations at
once") says what that buys and what limits it.
"""

from __future__ import annotations

import gc
import numbers
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from .errors import InputError
from .inputs import check_seed
from .orbit.environment import Environment
from .orbit.upkeep import omm_key
from .runner import Runner, check_policies
from .scenario.schema import Scenario
from .sim.engine import Snapshot, StepResult, layouts_later
from .sim.observe import Observation
from .sim.state import Flat
from .times import parse_iso

BLOCK_FRAMES = 360  # frames a station runs before the next in Batch.run with progress (an hour of 10 s frames)
MAX_STATIONS = 10_000  # far beyond a machine's memory for stations of a day's telemetry each


# ------------------------------------------------------------------------ the shared orbit


class _EnvironmentPool:
    """The orbit's surroundings computed once for all stations that share an orbit.

    A chunk's table (:meth:`Environment._fill`) is a function of the start, the frame, the
    chunk's number and the element set alone; the element set is built from the state's
    OMM fields (:func:`issim.orbit.upkeep.orbit_of`), so the fields, compared exactly (type
    and ``repr`` of each value), identify it. Only the tables of the chunk the stations are
    in and the chunks beside it are kept (a chunk's rows are a few MB), going on or restored back."""

    def __init__(self) -> None:
        self.tables: dict = {}
        self.chunk = -1
        self.computed = 0  # tables computed (for the bench and the tests)
        self.shared = 0  # tables handed out without computing

    def rows(self, env: "_SharedEnvironment", chunk: int, elements, omm) -> tuple:
        if chunk != self.chunk:  # the stations have moved on (or back, restored): keep the chunks beside it
            self.tables = {k: v for k, v in self.tables.items() if chunk - 1 <= k[2] <= chunk + 1}
            self.chunk = chunk
        key = (env.start_ms, env.dt_ms, chunk, omm_key(omm))
        rows = self.tables.get(key)
        if rows is None:
            Environment._fill(env, chunk, elements)
            rows = env._rows
            self.tables[key] = rows
            self.computed += 1
        else:
            self.shared += 1
        return rows


class _SharedEnvironment(Environment):
    """A station's :class:`~issim.orbit.environment.Environment` whose chunks come from the
    batch's pool: the same lookups, frame by frame, as its own would make."""

    def __init__(self, start_ms: int, dt_ms: int, pool: _EnvironmentPool):
        super().__init__(start_ms, dt_ms)
        self._pool = pool
        self._state = None

    def at(self, state):
        self._state = state
        return super().at(state)

    def _fill(self, chunk: int, elements) -> None:
        omm = self._state.facts.get("orbit.omm") if self._state is not None else None
        if elements is None:
            omm = None
        self._rows = self._pool.rows(self, chunk, elements, omm)


# ------------------------------------------------------------------------ the batch


@dataclass(frozen=True)
class BatchSnapshot:
    """Every station's :class:`~issim.sim.engine.Snapshot` and when each ended early (a
    resolved story), at one frame boundary."""

    stations: tuple  # Snapshot per station
    resolved_ms: tuple  # Runner.resolved_ms per station
    seeds: tuple
    inputs: tuple = ()  # each station's dispersed inputs (a fingerprint does not cover them)


def _is_index(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Batch:
    """N stations of one scenario, stepped in lockstep (see the module).

    ``scenario``: a bundled name, a TOML file or a loaded
    :class:`~issim.scenario.schema.Scenario`. ``seeds``: one seed a station (whole numbers,
    0 <= seed < 2**63; the same seed twice makes the same station twice). ``inputs``: for a
    scenario with ``[[dispersions]]``, one ``{dispersion name: value}`` a station (``{}``
    keeps the file's values), written into its scenario as a campaign's run does; without
    ``inputs`` every station uses the file's own values, as ``Runner`` and ``issim run`` do.
    ``days``/``hours``/``end_ms`` and ``until_resolved`` as for
    :class:`~issim.runner.Runner`. ``policies``: ``{person: policy}`` for every station (a
    policy's name, ``mind``/``idle``/``random``, or a policy class, made afresh for each
    station; a policy object is shared by all stations and must keep its memory in the state
    it observes, as policies must), or a sequence of such mappings, one a station.
    ``share_environment=False`` gives each station its own orbit tables (to measure them).
    """

    def __init__(self, scenario, *, seeds: Iterable[int], inputs: Optional[Sequence[Mapping]] = None,
                 days: Optional[float] = None, hours: Optional[float] = None, end_ms: Optional[int] = None,
                 policies=None, until_resolved: bool = False, share_environment: bool = True):
        if isinstance(seeds, (str, bytes, Mapping)) or not hasattr(seeds, "__iter__"):
            raise InputError("seeds", f"give a list of seeds, one a station, e.g. [1, 2, 3]; got {type(seeds).__name__}")
        seeds = list(seeds)  # (a range or an array of seeds too)
        if not seeds:
            raise InputError("seeds", "give at least one seed: a batch of no stations runs nothing")
        if len(seeds) > MAX_STATIONS:
            raise InputError("seeds", f"{len(seeds):,} stations; a batch holds at most {MAX_STATIONS:,}")
        self.seeds: tuple[int, ...] = tuple(check_seed(s, f"seeds[{i}]") for i, s in enumerate(seeds))
        n = len(self.seeds)
        if inputs is not None:
            if isinstance(inputs, (str, bytes, Mapping)) or not isinstance(inputs, Sequence):
                raise InputError("inputs", "give one mapping of dispersed inputs a station ({name: value}), in a list")
            if len(inputs) != n:
                raise InputError("inputs", f"{len(inputs)} sets of inputs for {n} seeds; give one a station")
            for i, one in enumerate(inputs):
                if not isinstance(one, Mapping):
                    raise InputError(f"inputs[{i}]", f"give {{dispersion name: value}}, got {type(one).__name__}")
        per_station = self._policies(policies, n)
        raw = source = None
        if isinstance(scenario, Scenario):
            spec = scenario
            if inputs is not None and any(inputs):
                raise InputError("inputs", "dispersed inputs are written into the scenario's file: give its bundled "
                                           "name or its path, not a loaded Scenario")
        else:
            from .scenario import load_scenario

            spec = load_scenario(scenario)  # the file's own values; read, parsed and checked once
            if inputs is not None and any(inputs):
                from .campaign.runs import scenario_bytes

                raw, source = scenario_bytes(str(scenario))
        self.scenario: Scenario = spec
        for i, one in enumerate(per_station):
            check_policies(spec, one or {}, "policies" if isinstance(policies, Mapping) else f"policies[{i}]",
                           objects=True)
        self.inputs: tuple[dict, ...] = tuple(dict(x) for x in inputs) if inputs is not None else tuple({} for _ in range(n))
        if days is not None and hours is not None:
            raise InputError("hours", "give days or hours, not both")
        self.pool: Optional[_EnvironmentPool] = _EnvironmentPool() if share_environment else None
        specs: dict = {}  # the same inputs, the same parsed scenario
        self.runners: list[Runner] = []
        # Python's cycle collector waits while the stations are made: thousands of new objects a station,
        # none of them garbage, and each full collection would go over every station made so far
        with _cycle_collector_paused(), layouts_later():
            for i, seed in enumerate(self.seeds):
                spec_i = spec
                if self.inputs[i]:
                    key = repr(sorted(self.inputs[i].items()))
                    spec_i = specs.get(key)
                    if spec_i is None:
                        from .scenario.load import parse_scenario

                        try:
                            spec_i = specs[key] = parse_scenario(raw, source, self.inputs[i])
                        except InputError as exc:
                            raise InputError(f"inputs[{i}]", f"{exc.source}: {exc.message}") from None
                run = Runner(spec_i, seed=seed, days=days, hours=hours, end_ms=end_ms, policies=per_station[i],
                             until_resolved=until_resolved)
                if self.inputs[i]:
                    run.scenario_raw, run.scenario_inputs = raw, dict(self.inputs[i])
                if self.pool is not None:
                    sim = run.sim
                    shared = _SharedEnvironment(sim.start_ms, sim.dt_ms, self.pool)
                    shared.give = sim.environment.give  # (a run planned past the kept days keeps none: Runner)
                    sim.environment = shared
                else:
                    run.sim.environment.keep = False  # its own tables: not the process's either
                self.runners.append(run)
        first = self.runners[0].sim
        for i, run in enumerate(self.runners):  # (dispersions cannot move the start, the frame or the end)
            if (run.sim.start_ms, run.sim.dt_ms, run.end_ms) != (first.start_ms, first.dt_ms, self.runners[0].end_ms):
                raise InputError(f"inputs[{i}]", "the stations of a batch share the start, the frame and the end")
        self.end_ms = self.runners[0].end_ms
        self.until_resolved = bool(until_resolved)
        # every station's arrays in one layout, the station axis first (issim.sim.state.Flat), when
        # they match (each station's own otherwise)
        try:
            self.flat: Optional[Flat] = Flat([r.sim.state for r in self.runners])
        except ValueError:
            self.flat = None
        for i, run in enumerate(self.runners):
            run.sim.flat, run.sim.flat_row = (self.flat, i) if self.flat is not None else (Flat([run.sim.state]), 0)

    @classmethod
    def campaign(cls, scenario, runs: int, *, seed: Optional[int] = None, first: int = 0, **options) -> "Batch":
        """The stations a campaign of ``scenario`` runs (``docs/campaigns.md``): runs ``first``
        to ``first + runs - 1``, run ``i`` with seed ``seed + i`` (default the scenario's seed)
        and the dispersed inputs drawn for it (:func:`issim.scenario.dispersions.draw`), so
        station ``k`` is the campaign's run ``first + k``. ``options`` as for :class:`Batch`."""
        from .campaign.runs import drawn, scenario_bytes
        from .scenario.load import parse_scenario

        if isinstance(scenario, Scenario):
            raise InputError("scenario", "a campaign's inputs are written into the scenario's file: give its "
                                         "bundled name or its path")
        if not _is_index(runs) or not 0 < runs <= MAX_STATIONS:
            raise InputError("runs", f"give a whole number of runs from 1 to {MAX_STATIONS:,}, got {runs!r}")
        if not _is_index(first) or first < 0:
            raise InputError("first", f"give the first run's number, a whole number from 0, got {first!r}")
        raw, source = scenario_bytes(str(scenario))
        spec = parse_scenario(raw, source)
        base = check_seed(spec.scenario.seed if seed is None else seed, "seed")
        runs_drawn = list(drawn(spec, base, range(first, first + runs)))
        seeds = [check_seed(s, f"run {i}'s seed") for i, s, _ in runs_drawn]
        return cls(scenario, seeds=seeds, inputs=[inputs for _, _, inputs in runs_drawn], **options)

    @staticmethod
    def _policies(policies, n: int) -> list:
        """One ``{person: policy}`` a station: a name or a class made afresh for each."""
        if policies is None:
            return [None] * n
        if isinstance(policies, Mapping):
            given = [policies] * n
        elif isinstance(policies, Sequence) and not isinstance(policies, (str, bytes)):
            if len(policies) != n:
                raise InputError("policies", f"{len(policies)} sets of policies for {n} stations; give one a station, "
                                             "or one mapping for all")
            given = list(policies)
            for i, one in enumerate(given):
                if one is not None and not isinstance(one, Mapping):
                    raise InputError(f"policies[{i}]", f"give {{person: policy}}, got {type(one).__name__}")
        else:
            raise InputError("policies", f"give {{person: policy}} or one such mapping a station, "
                                         f"got {type(policies).__name__}")
        return [None if one is None else {p: (v() if isinstance(v, type) else v) for p, v in one.items()}
                for one in given]

    # -------------------------------------------------------------- the stations

    def __len__(self) -> int:
        return len(self.runners)

    def __iter__(self) -> Iterator[Runner]:
        return iter(self.runners)

    def __getitem__(self, index: int) -> Runner:
        """Station ``index``'s :class:`~issim.runner.Runner` (its ``sim``, ``state``,
        ``event_log()``, ``telemetry(key)``...). Step it through the batch, not alone."""
        return self.runners[self._index(index, "index")]

    def _index(self, index, source: str) -> int:
        n = len(self.runners)
        if not _is_index(index):
            raise InputError(source, f"a station is named by its index, a whole number from 0 to {n - 1}; "
                                     f"got {index!r}")
        if not 0 <= index < n:
            raise InputError(source, f"no station {index}; the batch has {n} (0 to {n - 1})")
        return int(index)

    def arrays(self, key: str) -> np.ndarray:
        """State array ``key`` of every station at once, shape ``(stations, *shape)``: a view of
        the stations' layout (:class:`~issim.sim.state.Flat`) that follows them as they run,
        its write flag off (set back on, a write would reach the stations' states past their
        commands), or, for stations not laid out together, a copy of their arrays now."""
        if self.flat is not None and key in self.flat.stacked and all(
                self.flat.intact(i, r.sim.state) for i, r in enumerate(self.runners)):
            view = self.flat.stacked[key].view()
            view.flags.writeable = False
            return view
        if any(key not in r.sim.state.arrays for r in self.runners):
            raise InputError("key", f"no state array {key!r} in every station (issim state lists a run's arrays)")
        try:
            return np.stack([r.sim.state.arrays[key] for r in self.runners])
        except ValueError:
            raise InputError("key", f"the stations' {key!r} differ in shape: read it station by station") from None

    @property
    def t_ms(self) -> int:
        """The time of the stations still running (all share the clock), else the latest end."""
        return max(r.sim.state.t_ms for r in self.runners)

    def active(self) -> list[int]:
        """The indices of the stations still running."""
        return [i for i, r in enumerate(self.runners) if not r.finished]

    @property
    def finished(self) -> bool:
        """Whether every station has ended."""
        return all(r.finished for r in self.runners)

    def observe(self, index: int, person) -> Observation:
        """What ``person`` (a name or a crew index) aboard station ``index`` can know now."""
        return self[index].sim.observe(person)

    # -------------------------------------------------------------- stepping

    def step(self, actions: Optional[Mapping[int, object]] = None) -> list[Optional[StepResult]]:
        """One frame of every station still running, in index order.

        ``actions`` gives commands to some stations, ``{index: actions}``, each as
        :meth:`issim.sim.engine.Simulation.step` takes them (``{actor: [commands]}``, or a
        list of commands in their actors' names); they run after that station's policies'
        commands, in the frame's first phase. Returns one entry a station: its
        :class:`~issim.sim.engine.StepResult` (with ``outcome`` once it has ended), or
        ``None`` for a station that had already ended. An unknown index, or commands for a
        station that has ended, are refused (:class:`~issim.errors.InputError`) before any
        station steps."""
        given: dict[int, object] = {}
        if actions is not None:
            if not isinstance(actions, Mapping):
                raise InputError("actions", "give {station index: actions}, e.g. {0: {\"Maya Torres\": [command]}}; "
                                            f"got {type(actions).__name__}")
            for index, acts in actions.items():
                i = self._index(index, "actions")
                if acts and self.runners[i].finished:
                    raise InputError("actions", f"station {i} has ended ({self._why(i)}); it takes no more commands")
                given[i] = acts
        out: list[Optional[StepResult]] = []
        for i, run in enumerate(self.runners):
            if run.finished:
                out.append(None)
                continue
            mine = run.actions()
            extra = given.get(i)
            if extra:
                mine = _merged(mine, extra)
            result = run.sim.step(mine)
            if run.finished:
                result = replace(result, outcome=run.outcome())
            out.append(result)
        return out

    def _why(self, i: int) -> str:
        run = self.runners[i]
        st = run.sim.state
        if st.facts.get("stop"):
            return str(st.facts["stop"])
        if run.resolved_ms is not None:
            return "its story is over"
        return "it reached its end"

    def run(self, until=None, progress: Optional[Callable[[int], None]] = None, block: Optional[int] = None) -> None:
        """Run every station until ``until`` (UTC ms or ISO text; default the end) or its own
        end, whichever is first; ``progress(frames done)`` after each block.

        The stations go on together a block at a time: each in turn runs the frames up to the
        next multiple of ``block`` frames from the start (:meth:`issim.runner.Runner.run`,
        exactly as it runs alone), then the next station, so that at every block's end all
        stations stand at the same frame. ``block=1`` is strict lockstep, frame by frame, as
        :meth:`step` without commands (the same stations, bit for bit: they do not interact);
        longer blocks keep one station's state in the processor's caches while it runs, which
        at 100 stations costs about a third less (``bench/RESULTS.md``), and let its compiled
        calls run longer. The default is :data:`BLOCK_FRAMES` (an hour) with ``progress``, else
        a day of frames (the orbit's chunk, :data:`~issim.orbit.environment.ENV_CHUNK_FRAMES`);
        both divide the orbit's chunks, so the stations still share them."""
        if block is None:
            from .orbit.environment import ENV_CHUNK_FRAMES

            block = BLOCK_FRAMES if progress is not None else ENV_CHUNK_FRAMES
        if not _is_index(block) or block < 1:
            raise InputError("block", f"give a whole number of frames, 1 or more; got {block!r}")
        until_ms = self.end_ms if until is None else (parse_iso(until, "until") if isinstance(until, str) else int(until))
        first = self.runners[0].sim
        start, dt = first.start_ms, first.dt_ms
        until_ms = min(until_ms, self.end_ms)
        going = [r for r in self.runners if not r.finished and r.sim.state.t_ms < until_ms]
        while going:
            frame = min(r.sim.state.frame for r in going)
            stop_ms = min(until_ms, start + (frame // block + 1) * block * dt)
            for run in going:
                run.run(stop_ms)
            going = [r for r in going if not r.finished and r.sim.state.t_ms < until_ms]
            if progress is not None:
                progress(max(r.sim.state.frame for r in self.runners))

    # -------------------------------------------------------------- results

    def outcomes(self) -> list[dict]:
        """Each station's outcome (:meth:`issim.runner.Runner.outcome`), in index order."""
        return [r.outcome() for r in self.runners]

    def summaries(self) -> list[dict]:
        """Each station's whole summary (:meth:`issim.runner.Runner.summary`)."""
        return [r.summary() for r in self.runners]

    def digests(self) -> list[str]:
        """Each station's event-log digest (SHA-256 of its canonical log)."""
        return [r.sim.event_log_sha256() for r in self.runners]

    def results(self) -> list[dict]:
        """One plain record a station: ``index``, ``seed``, ``inputs``, ``end`` (its last
        frame's time), ``frames``, ``stopped`` (why the station was lost, else ""),
        ``resolved`` (its story over before its end), ``ending`` and ``class`` of its
        outcome, ``beats``, ``dead``, ``departed`` and ``digest``."""
        from .times import format_iso

        out = []
        for i, run in enumerate(self.runners):
            st = run.sim.state
            o = run.outcome()
            out.append({
                "index": i, "seed": self.seeds[i], "inputs": dict(self.inputs[i]), "end": format_iso(st.t_ms),
                "frames": st.frame, "stopped": str(st.facts.get("stop") or ""), "resolved": run.resolved_ms is not None,
                "ending": o["ending"], "class": o["ending_class"]["id"], "beats": len(o["story"]),
                "dead": o["dead"], "departed": o["departed"], "digest": run.sim.event_log_sha256(),
            })
        return out

    # -------------------------------------------------------------- snapshots

    def snapshot(self) -> BatchSnapshot:
        """Every station, at this frame boundary (each a :meth:`Simulation.snapshot`)."""
        return BatchSnapshot(tuple(r.sim.snapshot() for r in self.runners),
                             tuple(r.resolved_ms for r in self.runners), self.seeds, _inputs_key(self.inputs))

    def restore(self, snap: BatchSnapshot) -> None:
        """Every station back (or forward) to ``snap``; one of another batch is refused."""
        if not isinstance(snap, BatchSnapshot):
            raise InputError("snapshot", f"give a BatchSnapshot (Batch.snapshot()), got {type(snap).__name__}")
        if snap.seeds != self.seeds or len(snap.stations) != len(self.runners):
            raise InputError("snapshot", "this snapshot was taken of another batch (its stations' seeds differ)")
        if snap.inputs != _inputs_key(self.inputs):
            raise InputError("snapshot", "this snapshot was taken of another batch (its stations' dispersed inputs "
                                         "differ)")
        for run, one in zip(self.runners, snap.stations):
            if not isinstance(one, Snapshot) or one.fingerprint != run.sim.fingerprint:
                raise InputError("snapshot", "this snapshot was taken of another batch (a station, crew, start, "
                                             "frame or set of subsystems differs)")
        for run, one, resolved in zip(self.runners, snap.stations, snap.resolved_ms):
            run.sim.restore(one)
            run.resolved_ms = resolved


@contextmanager
def _cycle_collector_paused():
    """Python's cycle collector off inside, as it was outside (it is the process's)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _inputs_key(inputs) -> tuple:
    """The stations' dispersed inputs as comparable plain data."""
    return tuple(tuple(sorted((k, repr(v)) for k, v in x.items())) for x in inputs)


def _merged(policies: dict, given) -> dict:
    """The policies' ``{actor: [commands]}`` with the given ones after them (a list of
    commands in their own actors' names goes under ``None``, as the engine reads it)."""
    out = {actor: list(cmds) for actor, cmds in policies.items()}
    if isinstance(given, Mapping):
        for actor, cmds in given.items():
            if cmds is None:
                continue
            cmds = list(cmds) if isinstance(cmds, (list, tuple)) else [cmds]
            out[actor] = out.get(actor, []) + cmds
    else:
        out[None] = out.get(None, []) + (list(given) if isinstance(given, (list, tuple)) else [given])
    return out
