"""The crisis as a PettingZoo Parallel environment (``docs/rl.md``).

::

    from issim.rl import CrewEnv
    env = CrewEnv("iss", start="+30h", hours=30)
    obs, infos = env.reset(seed=7)
    while env.agents:
        acts = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(acts)

The agents are the people of ``learners`` (default: the whole crew) who are alive and
aboard. One step is one decision of every such person: their actions (indices into
:class:`~issim.rl.actions.ActionTable`) become commands in their names, run in the next
frame's first phase through the command pipeline, and the simulation then runs on for
``decision_s`` of simulated time (default 60 s, six 10 s frames: the crew mind's pace in a
crisis) while everyone else is decided by their own policy (the crew mind unless
``others`` names another). The environment wraps the run façade
(:class:`issim.runner.Runner`): it asks nothing of the simulation a policy could not.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Callable, Mapping, Optional, Union

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ..runner import Runner
from ..scenario import load_scenario
from ..scenario.schema import Scenario, parse_offset_ms
from ..sim.observe import Observation
from .actions import ActionTable
from .spaces import Encoder

REWARDS = ("faction", "survival", "crew")
WARM_CACHE = 8  # warmed-up snapshots kept, one per seed


class _Learner:
    """The policy of a person the environment decides for: the command set by ``step``,
    returned once, in the frame after it was set."""

    def __init__(self):
        self.cmds: list = []

    def decide(self, observation):
        cmds, self.cmds = self.cmds, []
        return cmds


class CrewEnv(ParallelEnv):
    """The crisis of ``scenario`` as a Parallel environment (see the module and ``docs/rl.md``).

    - ``learners``: the people the environment decides for (default: the crew);
    - ``others``: policies for the rest (``{name: policy or "mind"/"idle"/"random"}``;
      default the crew mind);
    - ``reward``: ``"faction"``, ``"survival"``, ``"crew"``, or ``f(env, person) -> float``;
    - ``decision_s``: simulated seconds per step (a whole number of frames, default 60);
    - ``start``: an offset from the scenario's start (``"+30h"``) to which each episode is
      run first with everyone on their ``others`` policy (the crew mind for the learners);
      kept per seed (the last :data:`WARM_CACHE`), so a second reset with a seed is quick;
    - ``hours``/``end_ms``: when the run ends (default the scenario's end): truncation;
    - ``max_steps``: truncation after this many steps (also ``max_cycles``);
    - ``until_resolved``: truncate once the story is over (:attr:`Runner.until_resolved`).
    """

    metadata = {"name": "issim_crew_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, scenario: Union[str, Scenario] = "iss", *, learners: Optional[list] = None,
                 others: Optional[Mapping[str, object]] = None, reward: Union[str, Callable] = "faction",
                 decision_s: float = 60.0, start: Optional[str] = None, hours: Optional[float] = None,
                 end_ms: Optional[int] = None, max_steps: Optional[int] = None, until_resolved: bool = False,
                 render_mode: Optional[str] = None):
        self.spec_ = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if not callable(reward) and reward not in REWARDS:
            raise ValueError(f"no reward {reward!r}; rewards: {', '.join(REWARDS)} or a function (env, person)")
        self.reward_name = reward
        self.others = dict(others or {})
        self.hours = hours
        self.end_ms = end_ms
        self.until_resolved = until_resolved
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.start_offset_ms = parse_offset_ms(start) if start else 0
        self._runner = self._build(None)
        sim = self._runner.sim
        frame = sim.dt_ms
        self.decision_ms = int(round(decision_s * 1000))
        if self.decision_ms <= 0 or self.decision_ms % frame:
            raise ValueError(f"decision_s must be a positive whole number of frames ({frame / 1000:g} s)")
        crew = list(sim.people)
        self.possible_agents = list(learners) if learners is not None else crew
        unknown = [p for p in self.possible_agents + list(self.others) if p not in crew]
        if unknown:
            raise ValueError(f"no crew member {unknown[0]!r}; the crew are {', '.join(crew)}")
        self.table = ActionTable(sim)
        self.encoder = Encoder(sim, len(self.table))
        self._index = {p: crew.index(p) for p in crew}
        self._warm: OrderedDict = OrderedDict()
        self._seed_rng = np.random.default_rng()
        self.agents: list[str] = []
        self.steps = 0
        self.seed: Optional[int] = None
        self._last_results: dict = {}

    # ------------------------------------------------------------------ spaces

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent) -> spaces.Dict:
        return self.encoder.space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent) -> spaces.Discrete:
        return spaces.Discrete(len(self.table))

    @property
    def max_cycles(self) -> Optional[int]:
        return self.max_steps

    @max_cycles.setter
    def max_cycles(self, n: Optional[int]) -> None:
        self.max_steps = n

    # ------------------------------------------------------------------ the run

    @property
    def runner(self) -> Runner:
        """The run façade of the episode (its ``sim``, ``outcome()``, ``event_log_sha256()``...)."""
        return self._runner

    @property
    def sim(self):
        return self._runner.sim

    def _build(self, seed: Optional[int]) -> Runner:
        return Runner(self.spec_, seed=seed, hours=self.hours, end_ms=self.end_ms, policies=self.others,
                      until_resolved=self.until_resolved)

    def reset(self, seed: Optional[int] = None, options: Optional[dict] = None):
        """A new episode: the run of ``seed`` (given, else drawn from the previous seed's
        stream), warmed up to ``start``. The same seed and the same actions give the same
        episode, bit for bit."""
        if seed is not None or self.seed is None:
            seed = self.spec_.scenario.seed if seed is None else seed
            self._seed_rng = np.random.default_rng(seed)
        else:
            seed = int(self._seed_rng.integers(2**62))
        self.seed = int(seed)
        runner = self._runner = self._build(self.seed)
        sim = runner.sim
        t0 = sim.start_ms + self.start_offset_ms
        if self.start_offset_ms:
            snap = self._warm.get(self.seed)
            if snap is None:
                runner.run(t0)
                self._warm[self.seed] = sim.snapshot()
                while len(self._warm) > WARM_CACHE:
                    self._warm.popitem(last=False)
            else:
                sim.restore(snap)
                self._warm.move_to_end(self.seed)
        self._learners = {p: _Learner() for p in self.possible_agents}
        for p, policy in self._learners.items():
            runner.assign(p, policy)
        a = sim.state.arrays
        self.agents = [p for p in self.possible_agents if a["crew.alive"][self._index[p]] and not self._gone(p)]
        self.steps = 0
        self._alive = a["crew.alive"].copy()
        self._last_results = {}
        return self._observe_all(self.agents)

    def _gone(self, person: str) -> bool:
        a = self.sim.state.arrays
        return bool(a["control.departed"][int(a["crew.location"][self._index[person]])])

    def step(self, actions: Mapping[str, int]):
        runner, sim = self._runner, self._runner.sim
        done_before = set(self.agents)
        issued = {}
        for agent, act in actions.items():
            if agent not in done_before:
                continue
            k = int(act)
            if not 0 <= k < len(self.table):
                raise ValueError(f"{agent}: action {act!r} is outside Discrete({len(self.table)})")
            cmd = self.table[k].of(agent)
            if cmd is not None:
                self._learners[agent].cmds = [cmd]
                issued[agent] = cmd
        results: dict = {}
        until = sim.state.t_ms + self.decision_ms
        while sim.state.t_ms < until and not runner.finished:
            out = sim.step(runner.actions())
            for r in out.commands:
                c = getattr(r, "command", None)
                if c is not None and issued.get(c.actor) is c:
                    results[c.actor] = r
        for p in issued:
            self._learners[p].cmds = []  # a run that ended before the frame: nothing left over
        self._last_results = results
        self.steps += 1
        a = sim.state.arrays
        alive = a["crew.alive"]
        rewards = {p: self._reward(p, alive) for p in self.agents}
        terms = {p: (not alive[self._index[p]]) or self._gone(p) for p in self.agents}
        over = runner.finished or (self.max_steps is not None and self.steps >= self.max_steps)
        truncs = {p: bool(over and not terms[p]) for p in self.agents}
        obs, infos = self._observe_all(self.agents)
        for p in self.agents:
            r = results.get(p)
            infos[p]["action"] = self.table[int(actions[p])].label if p in actions else "wait"
            infos[p]["result"] = r.result if r is not None else ""
            infos[p]["reason"] = r.reason if r is not None else ""
        self._alive = alive.copy()
        self.agents = [p for p in self.agents if not (terms[p] or truncs[p])]
        return obs, rewards, terms, truncs, infos

    # ------------------------------------------------------------------ observations and rewards

    def _observe_all(self, agents) -> tuple[dict, dict]:
        sim = self.sim
        sit = self.table.situation(sim.state)
        obs, infos, shared = {}, {}, {}
        for p in agents:
            i = self._index[p]
            mask = self.table.mask(sit, i)
            obs[p] = self.encoder.encode(Observation(sim, i), mask, shared)
            infos[p] = {"action_mask": mask, "t_ms": int(sim.state.t_ms)}
        return obs, infos

    def observation(self, person: str) -> dict:
        """The encoded observation of ``person`` now (any crew member, learning or not)."""
        i = self._index[person]
        return self.encoder.encode(Observation(self.sim, i), self.table.mask(self.table.situation(self.sim.state), i))

    def _reward(self, person: str, alive: np.ndarray) -> float:
        name = self.reward_name
        if callable(name):
            return float(name(self, person))
        i = self._index[person]
        if name == "survival":
            return -1.0 if self._alive[i] and not alive[i] else 0.0
        if name == "crew":
            return -float(np.count_nonzero(self._alive & ~alive))
        return faction_share(self.sim.state, i)

    def render(self):
        if self.render_mode != "ansi":
            return None
        st = self.sim.state
        lines = [f"t = +{(st.t_ms - self.sim.start_ms) / 3_600_000:.2f} h, step {self.steps}"]
        for p in self.possible_agents:
            o = Observation(self.sim, self._index[p])
            lines.append(f"  {p}: {o.location}, {'alive' if o.body.get('alive') else 'dead'}, "
                         f"sees {', '.join(o.in_sight) or 'no one'}")
        return "\n".join(lines)

    def close(self) -> None:
        pass


def faction_share(state, person: int) -> float:
    """The share of the control map's systems that the person's faction alone commands
    (``control.map``: which factions could command each system, recomputed each minute)."""
    m = state["control.map"]
    if m.size == 0:
        return 0.0
    f = int(state["control.faction"][person])
    alone = m[:, f] & (m.sum(axis=1) == 1)
    return float(np.count_nonzero(alone)) / m.shape[0]
