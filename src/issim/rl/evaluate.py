"""Held-out evaluation of a crew policy: ``issim evaluate`` (``docs/rl.md``).

As DeepMind's Melting Pot does for social dilemmas, one person (the *role*) is played by
the policy under test and the others by the crew mind with minds drawn from populations
it was not built with (:mod:`issim.rl.populations`). For each population, episodes with
seeds ``seed``, ``seed + 1``, ... (the same seeds in every population): the scenario with
that seed's crew, run to ``start`` with everyone on the crew mind, then the role decided by
the policy one step at a time (:class:`~issim.rl.env.CrewEnv` with the role the only
learner, one decision a simulated minute) until the story is over (``until_resolved``), the
scenario ends, or ``hours`` after ``start``.

A policy is ``"random"`` or ``"cooperative"`` (:mod:`issim.rl.baselines`), ``"mind"`` (the
role keeps the crew's own mind: the reference, run without the environment), or
``"FILE.py:NAME"`` / ``"MODULE:NAME"``: a callable ``(agent, obs, env) -> action index`` or
a class of them. A class is made once per process (with ``seed=`` the first episode seed if
its constructor takes a ``seed``); before each episode its ``reset()`` is called, with
``seed=`` the episode's seed if it takes one, so a policy that draws at random and reseeds
there gives the same results whatever ``jobs`` is. A callable that is not a class is used
as it is (its ``reset()`` called the same way if it has one).

Per population, :func:`summary` gives the classes of ending (``issim.scenario.story``),
the share of episodes the role survives (alive at the end, aboard or departed), and the
share in which the role's faction holds a segment (it alone can command that segment's
life support, the test ``outcome()``'s ending line uses) and the station (both segments),
each with a 95 % Wilson interval. The same arguments give the same result.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..errors import InputError
from . import populations as pops

BUILTIN = ("random", "cooperative", "mind")
SEGMENTS = ("USOS", "ROS")
MAX_EPISODES = 100_000
_SPEC_HELP = "give random, cooperative, mind, FILE.py:NAME or MODULE:NAME"


# ------------------------------------------------------------------------ the policy


def _accepts(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def check_spec(text: str) -> None:
    """Refuse at once a POLICY that names none of the kinds (:class:`InputError` naming ``POLICY``)."""
    if text in BUILTIN:
        return
    where, sep, name = text.rpartition(":")
    if not sep or not where.strip() or not name.strip():
        raise InputError("POLICY", f"{text!r} is not a policy; {_SPEC_HELP}")


@functools.lru_cache(maxsize=None)
def resolve(text: str):
    """The class or callable ``text`` names (a built-in name, ``FILE.py:NAME``, ``MODULE:NAME``);
    bad names, files and imports are :class:`InputError` naming ``POLICY``."""
    check_spec(text)
    if text == "random":
        from .baselines import RandomLegal

        return RandomLegal
    if text == "cooperative":
        from .baselines import Cooperative

        return Cooperative
    if text == "mind":
        return None
    where, _, name = text.rpartition(":")
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _load_file(text, Path(where))
    else:
        import importlib

        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            if exc.name and (where == exc.name or where.startswith(exc.name + ".")):
                raise InputError("POLICY", f"no module {where!r} (is it on PYTHONPATH?)") from None
            raise InputError("POLICY", f"cannot import {where}: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # the user's module failed while importing: one line, not their traceback
            raise InputError("POLICY", f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise InputError("POLICY", f"{where} has no {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError("POLICY", f"{where}:{name} is not callable (it is {type(obj).__name__}); give a callable "
                                   "(agent, obs, env) -> action or a class of them")
    return obj


def _load_file(text: str, path: Path):
    import importlib.util
    import sys
    import zlib

    if not path.is_file():
        raise InputError("POLICY", f"no file {str(path)!r}" if not path.exists() else f"{str(path)!r} is not a file")
    if path.suffix != ".py":
        raise InputError("POLICY", f"{str(path)!r} is not a Python file (.py)")
    key = f"issim_policy_{zlib.crc32(str(path.resolve()).encode()):08x}"
    if key in sys.modules:
        return sys.modules[key]
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the file may import its neighbours
    spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[key]
        raise InputError("POLICY", f"cannot import {path}: {type(exc).__name__}: {exc}") from None
    return module


class Player:
    """The policy of an evaluation in one process: made once, reset before each episode."""

    def __init__(self, text: str, seed: int):
        obj = resolve(text)
        self.text = text
        if isinstance(obj, type):
            try:
                obj = obj(seed=seed) if _accepts(obj, "seed") else obj()
            except Exception as exc:
                raise InputError("POLICY", f"{text}: making {obj.__name__}() failed: {type(exc).__name__}: {exc}") \
                    from None
            if not callable(obj):
                raise InputError("POLICY", f"{text}: a {type(obj).__name__} is not callable; give it "
                                           "__call__(agent, obs, env) -> action")
        self.fn = obj
        reset = getattr(obj, "reset", None)
        self._reset = reset if callable(reset) else None
        self._reset_seed = self._reset is not None and _accepts(self._reset, "seed")

    def start(self, seed: int) -> None:
        if self._reset is not None:
            self._reset(seed=seed) if self._reset_seed else self._reset()

    def __call__(self, agent: str, obs: dict, env) -> int:
        return self.fn(agent, obs, env)


_players: dict = {}


def player(text: str, seed: int) -> Optional[Player]:
    """This process's :class:`Player` of ``text`` (``None`` for ``mind``)."""
    if text == "mind":
        return None
    key = (text, int(seed))
    if key not in _players:
        _players[key] = Player(text, seed)
    return _players[key]


# ------------------------------------------------------------------------ one episode


@functools.lru_cache(maxsize=8)
def _scenario(ref: str):
    from ..scenario import load_scenario

    return load_scenario(ref)


@functools.lru_cache(maxsize=None)
def _env_class():
    from .env import CrewEnv

    class PopulationEnv(CrewEnv):
        """A :class:`CrewEnv` whose every new run starts with a population's trust and suspicion."""

        def __init__(self, scenario, crew, **kwargs):
            self._crew = crew
            super().__init__(scenario, **kwargs)

        def _build(self, seed):
            runner = super()._build(seed)
            pops.prepare(runner.sim, self._crew, self.spec_)
            return runner

    return PopulationEnv


def episode(task: tuple) -> dict:
    """One episode: ``(scenario, role, policy, policy seed, start, length ms or None, population,
    seed)`` -> its record, or ``{"error": ...}`` when the policy failed."""
    from ..runner import Runner
    from ..scenario.schema import parse_offset_ms

    ref, role, policy, policy_seed, start, length_ms, population, seed = task
    base = _scenario(ref)
    crew = pops.draw(population, base, role, seed)
    spec = pops.apply(base, crew)
    start_ms = parse_offset_ms(start)
    end_ms = None if length_ms is None else spec.start_ms + start_ms + length_ms
    steps = 0
    play = player(policy, policy_seed)
    if play is None:
        runner = Runner(spec, seed=seed, end_ms=end_ms, until_resolved=True)
        pops.prepare(runner.sim, crew, spec)
        runner.run()
    else:
        env = _env_class()(spec, crew, learners=[role], start=start, end_ms=end_ms, until_resolved=True)
        obs, _ = env.reset(seed=seed)
        play.start(seed)
        n = len(env.table)
        while env.agents:
            where = f"{policy} (population {population}, seed {seed}, step {steps})"
            try:
                act = play(role, obs[role], env)
            except Exception as exc:  # the user's code: one line, naming where
                return {"error": f"{where} raised {type(exc).__name__}: {exc}"}
            try:
                k = operator.index(act)
            except TypeError:
                return {"error": f"{where} returned {act!r}, not an action index"}
            if not 0 <= k < n:
                return {"error": f"{where} returned {k}, outside the {n} actions of the table (0 to {n - 1})"}
            obs, *_ = env.step({role: k})
            steps += 1
        runner = env.runner
    return record(runner, role, population, seed, crew, steps, spec.start_ms + start_ms)


def record(runner, role: str, population: str, seed: int, crew, steps: int, start_ms: int) -> dict:
    """An episode's record from its finished run."""
    sim = runner.sim
    o = runner.outcome()
    control = next(s for s in sim.subsystems if s.name == "control")
    faction = control.directory.factions[int(sim.state["control.faction"][list(sim.people).index(role)])]
    held = {seg: sorted(o["control"].get(f"{seg}.life-support", [])) for seg in SEGMENTS}
    mine = [h == [faction] for h in held.values()] if not o["station"].get("lost") else [False] * len(held)
    departed = {p for people in o["departed"].values() for p in people}
    return {
        "population": population,
        "seed": int(seed),
        "class": o["ending_class"]["id"],
        "ending": o["ending"],
        "role_alive": role in o["survivors"],
        "role_left": role in departed,
        "faction": faction,
        "held": held,
        "holds_segment": any(mine),
        "holds_station": all(mine),
        "dead": sorted(o["dead"]),
        "steps": steps,
        "hours": round((sim.state.t_ms - start_ms) / 3_600_000, 4),
        "crew": crew.as_dict(),
    }


# ------------------------------------------------------------------------ many episodes


def share(k: int, n: int) -> dict:
    """``{runs, share, ci95}``: ``k`` of ``n`` with its 95 % Wilson interval, the share to 4 places."""
    from ..campaign.endings import share as wilson_share

    return wilson_share(k, n, digits=4)


def summary(records: list[dict]) -> dict:
    """One population's records summed up: the classes of ending, the role's survival, its
    faction's hold on a segment and on the station (each a share with its 95 % interval)."""
    from ..scenario.story import CLASSES

    n = len(records)
    endings = [{"class": cid, "label": CLASSES.get(cid, cid), **share(k, n)}
               for cid, k in sorted(Counter(r["class"] for r in records).items(), key=lambda x: (-x[1], x[0]))]
    return {
        "episodes": n,
        "endings": endings,
        "role_survives": share(sum(r["role_alive"] for r in records), n),
        "faction_holds_segment": share(sum(r["holds_segment"] for r in records), n),
        "faction_holds_station": share(sum(r["holds_station"] for r in records), n),
        "deaths_per_episode": round(sum(len(r["dead"]) for r in records) / n, 4) if n else 0.0,
    }


def plan(policy: str, role: str, *, scenario: str = "iss", populations: Optional[Iterable[str]] = None,
         episodes: int = 20, seed: int = 1, start: str = "+30h", hours: Optional[float] = None,
         jobs: int = 1) -> dict:
    """Check every argument before anything runs (:class:`InputError` naming the option:
    ``POLICY``, ``--role``, ``--population``, ``--episodes``, ``--seed``, ``--start``,
    ``--hours``, ``--jobs``); the checked arguments."""
    from ..inputs import check_seed
    from ..scenario.schema import parse_offset_ms

    check_spec(policy)
    if isinstance(episodes, bool) or not isinstance(episodes, int) or not 1 <= episodes <= MAX_EPISODES:
        raise InputError("--episodes", f"{episodes} is outside [1, {MAX_EPISODES}]")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise InputError("--jobs", f"{jobs} is outside [1, 64]")
    check_seed(seed, "--seed")
    check_seed(seed + episodes - 1, "--episodes")
    names = pops.check_names(populations)
    spec = _scenario(scenario)
    crew = [c.name for c in spec.crew]
    if role not in crew:
        raise InputError("--role", f"no crew member {role!r}; the crew are {', '.join(crew) or 'nobody'}")
    try:
        start_ms = 0 if start.strip() in ("0", "+0") else parse_offset_ms(start)
    except ValueError as exc:
        raise InputError("--start", str(exc)) from None
    if not 0 <= start_ms < spec.default_end_ms - spec.start_ms:
        raise InputError("--start", f"{start} is past the end of {spec.name} ({spec.scenario.days:g} days)")
    length_ms = None
    if hours is not None:
        if not 0.0 < hours <= 87_840.0:
            raise InputError("--hours", f"{hours:g} is outside (0, 87840]")
        length_ms = round(hours * 3_600_000)
        if length_ms < spec.scenario.frame_s * 1000:
            raise InputError("--hours", f"{hours:g} hours is shorter than one frame ({spec.scenario.frame_s:g} s)")
    if policy != "mind":
        try:
            import gymnasium  # noqa: F401
            import pettingzoo  # noqa: F401
        except ImportError:
            raise InputError("POLICY", "playing a policy needs the rl extra: pip install 'issim[rl]' "
                                       "(mind, the reference, runs without it)") from None
    _players.clear()  # a policy made afresh for each evaluation (its workers inherit it)
    player(policy, seed)  # imports and makes the user's policy here, once: its errors are one line
    return {"scenario": scenario, "name": spec.name, "policy": policy, "role": role, "populations": names,
            "episodes": episodes, "seed": seed, "start": "+0h" if start_ms == 0 else start.strip(),
            "hours": hours, "length_ms": length_ms, "jobs": jobs}


def evaluate(policy: str, role: str, *, scenario: str = "iss", populations: Optional[Iterable[str]] = None,
             episodes: int = 20, seed: int = 1, start: str = "+30h", hours: Optional[float] = None, jobs: int = 1,
             progress: Optional[Callable[[dict], None]] = None) -> dict:
    """Score ``policy`` as ``role`` against each population (see the module): ``{"scenario",
    "policy", "role", "faction", "start", "hours", "episodes", "seeds", "populations": {name:
    {"about", ...:func:`summary`, "runs": [records by seed]}}}``. ``progress(record)`` after
    each episode. The same arguments give the same result."""
    return run(plan(policy, role, scenario=scenario, populations=populations, episodes=episodes, seed=seed,
                    start=start, hours=hours, jobs=jobs), progress)


def run(p: dict, progress: Optional[Callable[[dict], None]] = None) -> dict:
    """:func:`evaluate` of arguments :func:`plan` has checked."""
    from ..campaign.endings import pool_map

    policy, role, seed, episodes, hours = p["policy"], p["role"], p["seed"], p["episodes"], p["hours"]
    seeds = range(seed, seed + episodes)
    tasks = [(p["scenario"], role, policy, seed, p["start"], p["length_ms"], name, s) for name in p["populations"]
             for s in seeds]
    got: dict = {name: [] for name in p["populations"]}
    runs = pool_map(episode, tasks, p["jobs"])
    try:
        for rec in runs:
            if "error" in rec:
                raise InputError("POLICY", rec["error"])
            got[rec["population"]].append(rec)
            if progress is not None:
                progress(rec)
    finally:
        runs.close()
    faction = next((rs[0]["faction"] for rs in got.values() if rs), None)
    out = {"scenario": p["name"], "policy": policy, "role": role, "faction": faction, "start": p["start"],
           "hours": hours, "until_resolved": True, "episodes": episodes, "seeds": [seed, seed + episodes - 1],
           "populations": {}}
    for name, rs in got.items():
        rs.sort(key=lambda r: r["seed"])
        out["populations"][name] = {"about": pops.POPULATIONS[name].about, **summary(rs), "runs": rs}
    return out


# ------------------------------------------------------------------------ for people


def _ci(s: dict) -> str:
    lo, hi = s["ci95"]
    return f"{100 * s['share']:.0f} % [{100 * lo:.0f}, {100 * hi:.0f}]"


def render(result: dict, console, wall_s: Optional[float] = None) -> None:
    """The evaluation for people: per population the role's survival and its faction's hold,
    then the classes of ending (``--json`` has the same as data, with every episode)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    first, last = result["seeds"]
    n = result["episodes"]
    seeds = f"seed {first}" if first == last else f"seeds {first}-{last}"
    length = f"for {result['hours']:g} simulated hour{'' if result['hours'] == 1 else 's'}" if result["hours"] is not None else "to the scenario's end"
    took = f"; {wall_s:.1f} s ({wall_s / max(1, result['episodes'] * len(result['populations'])):.1f} s an episode)" \
        if wall_s is not None else ""
    console.print(Text(f"{result['policy']} as {result['role']} ({result['faction']}) in {result['scenario']}, "
                       f"from {result['start']}, {length} or until the story is over; {n} "
                       f"episode{'' if n == 1 else 's'} per population ({seeds}){took}", style="bold"))
    scores = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Per population (95 % Wilson CI)",
                   title_justify="left", title_style="bold",
                   caption="holds: the role's faction alone can command a segment's life support (segment), or "
                           "both segments' (station), at the end", caption_justify="left")
    scores.add_column("population", no_wrap=True)
    scores.add_column("n", justify="right")
    scores.add_column("role survives", no_wrap=True)
    scores.add_column("holds segment", no_wrap=True)
    scores.add_column("holds station", no_wrap=True)
    scores.add_column("deaths", justify="right")
    for name, s in result["populations"].items():
        scores.add_row(name, str(s["episodes"]), _ci(s["role_survives"]), _ci(s["faction_holds_segment"]),
                       _ci(s["faction_holds_station"]), f"{s['deaths_per_episode']:.2f}")
    console.print()
    console.print(scores)
    endings = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Ending classes (docs/endings.md)",
                    title_justify="left", title_style="bold")
    endings.add_column("population", no_wrap=True)
    endings.add_column("class", no_wrap=True)
    endings.add_column("runs", justify="right")
    endings.add_column("share [95 % CI]", no_wrap=True)
    for name, s in result["populations"].items():
        for i, row in enumerate(s["endings"]):
            endings.add_row(name if i == 0 else "", row["class"], str(row["runs"]), _ci(row),
                            end_section=i == len(s["endings"]) - 1)
    console.print()
    console.print(endings)
