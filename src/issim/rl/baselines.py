"""Two baseline policies for issim.rl's environments (issue 15).

Each is ``policy(agent, obs, env) -> action index``: it sees one person's encoded
observation (``docs/rl.md``) and the environment's action table, nothing else; before each
episode ``reset()`` forgets what the last one taught it (``reset(seed=s)`` also reseeds
:class:`RandomLegal`). ``issim evaluate random|cooperative`` plays them
(:mod:`issim.rl.evaluate`); ``examples/evaluate.py`` too.

- :class:`RandomLegal`: now and then (with probability ``p_act`` a step, 0.1 by default:
  about every ten minutes at 60 s steps, like ``issim.agents.policies.RandomLegal``'s
  600 s) one action drawn uniformly among those the mask allows, never ``undock``;
  otherwise wait.
- :class:`Cooperative`: never hostile, and stays where they are. When an order reaches
  them they refuse it, once, over the radio to their ground (``send_message ... (refuse)``);
  when they are bleeding they treat themselves; otherwise they wait.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


class RandomLegal:
    def __init__(self, seed: int = 0, p_act: float = 0.1, exclude=("undock",)):
        self.rng = np.random.default_rng(seed)
        self.p_act = p_act
        self.exclude = frozenset(exclude)

    def reset(self, seed: Optional[int] = None) -> None:
        """A new episode: draw afresh from ``seed`` when given (else go on with the same stream)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)

    def __call__(self, agent: str, obs: dict, env) -> int:
        if self.rng.random() >= self.p_act:
            return 0
        allowed = [k for k in np.flatnonzero(obs["action_mask"]) if k and env.table[k].command not in self.exclude]
        return int(self.rng.choice(allowed)) if allowed else 0


class Cooperative:
    """Refuse the order once, treat one's own wounds, otherwise stay and wait. The memory
    of who has refused is this object's (a shortcut of a baseline: a policy for issim's own
    runs keeps its memory in the state, as the crew mind does); ``reset()`` clears it."""

    def __init__(self):
        self.refused: set[str] = set()

    def reset(self) -> None:
        self.refused.clear()

    def __call__(self, agent: str, obs: dict, env) -> int:
        mask, table = obs["action_mask"], env.table
        body = dict(zip(("alive", "conscious", "health", "on_eva", "suit_h", "bleeding"), obs["body"]))
        if body["bleeding"]:
            k = table.index.get(f"treat {agent}")
            if k is not None and mask[k]:
                return k
        msgs = obs["messages"]
        orders = np.flatnonzero(msgs[:, 0] * msgs[:, 2])
        if len(orders) and agent not in self.refused:
            ground = env.encoder.parties[int(np.argmax(msgs[orders[-1], 3:]))]  # who sent the order
            k = table.index.get(f"send_message {ground} (refuse)")
            if k is not None and mask[k]:
                self.refused.add(agent)
                return k
        return 0
