"""One person learns, the others are agents: a Gymnasium environment over :class:`CrewEnv`."""

from __future__ import annotations

from typing import Callable, Mapping, Optional, Union

import gymnasium as gym

from ..scenario.schema import Scenario
from .env import CrewEnv


class PersonEnv(gym.Env):
    """``person`` decided by the learner, everyone else by their policy (the crew mind
    unless ``others`` says); every other argument is :class:`~issim.rl.env.CrewEnv`'s.

    The episode ends (``terminated``) when the person dies or leaves the station, and is
    truncated at ``max_steps``, the run's end, or (``until_resolved``) when the story is
    over. ``info["action_mask"]`` and ``obs["action_mask"]`` are the actions allowed now.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, scenario: Union[str, Scenario] = "iss", person: str = "Gordon Barrett", *,
                 others: Optional[Mapping[str, object]] = None, reward: Union[str, Callable] = "faction",
                 render_mode: Optional[str] = None, **kwargs):
        self.crew = CrewEnv(scenario, learners=[person], others=others, reward=reward, render_mode=render_mode,
                            **kwargs)
        self.person = person
        self.observation_space = self.crew.observation_space(person)
        self.action_space = self.crew.action_space(person)
        self.render_mode = render_mode
        self._last_obs = None

    def action_masks(self):
        """The current mask as bools (the name sb3-contrib's MaskablePPO asks for)."""
        return self._last_obs["action_mask"].astype(bool) if self._last_obs is not None else None

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if seed is None:  # draw the run's seed from the environment's own stream
            seed = int(self.np_random.integers(2**62))
        obs, infos = self.crew.reset(seed=seed, options=options)
        if self.person not in obs:  # dead or gone before the episode starts: nothing to decide
            obs = {self.person: self.crew.observation(self.person)}
            infos = {self.person: {"action_mask": obs[self.person]["action_mask"].copy()}}
        self._last_obs = obs[self.person]
        return obs[self.person], infos[self.person]

    def step(self, action):
        if self.person not in self.crew.agents:
            raise RuntimeError("the episode is over: call reset()")
        obs, rewards, terms, truncs, infos = self.crew.step({self.person: action})
        p = self.person
        self._last_obs = obs[p]
        return obs[p], float(rewards[p]), bool(terms[p]), bool(truncs[p]), infos[p]

    def render(self):
        return self.crew.render()

    def close(self) -> None:
        self.crew.close()
