"""Learning environments over the run façade (``docs/rl.md``).

- :class:`CrewEnv`: a PettingZoo Parallel environment, every learning person an agent;
- :class:`PersonEnv`: a Gymnasium environment, one person learns, the others are agents;
- :class:`ActionTable`: the actions of a scenario and their masks;
- :class:`Encoder`: the observation space and the encoding of one person's observation.

Needs the ``rl`` extra (``pip install 'issim[rl]'``: PettingZoo and Gymnasium).
"""

from .actions import ActionTable
from .env import REWARDS, CrewEnv, faction_share
from .single import PersonEnv
from .spaces import Encoder

__all__ = ["ActionTable", "CrewEnv", "Encoder", "PersonEnv", "REWARDS", "faction_share"]
