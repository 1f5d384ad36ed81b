"""Learning environments over the run façade (``docs/rl.md``).

- :class:`CrewEnv`: a PettingZoo Parallel environment, every learning person an agent;
- :class:`PersonEnv`: a Gymnasium environment, one person learns, the others are agents;
- :class:`ActionTable`: the actions of a scenario and their masks;
- :class:`Encoder`: the observation space and the encoding of one person's observation.

Importing it registers ``issim/Person-v0`` with Gymnasium (``gymnasium.make("issim/Person-v0",
scenario="iss", person="Gordon Barrett", start="+30h")``). Needs the ``rl`` extra
(``pip install 'issim[rl]'``: PettingZoo and Gymnasium).
"""

import gymnasium as _gym

from .actions import ActionTable
from .env import REWARDS, CrewEnv, faction_share
from .single import PersonEnv
from .spaces import Encoder

if "issim/Person-v0" not in _gym.registry:
    _gym.register("issim/Person-v0", entry_point="issim.rl.single:PersonEnv")

__all__ = ["ActionTable", "CrewEnv", "Encoder", "PersonEnv", "REWARDS", "faction_share"]
