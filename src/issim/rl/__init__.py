"""Learning environments over the run façade (``docs/rl.md``).

- :class:`CrewEnv`: a PettingZoo Parallel environment, every learning person an agent;
- :class:`PersonEnv`: a Gymnasium environment, one person learns, the others are agents;
- :class:`ActionTable`: the actions of a scenario and their masks;
- :class:`Encoder`: the observation space and the encoding of one person's observation;
- :class:`RandomLegal`, :class:`Cooperative`: two baseline policies (:mod:`issim.rl.baselines`);
- :mod:`issim.rl.populations` and :mod:`issim.rl.evaluate`: a policy scored against held-out
  crews (``issim evaluate``).

Importing it registers ``issim/Person-v0`` with Gymnasium (``gymnasium.make("issim/Person-v0",
scenario="iss", person="Gordon Barrett", start="+30h")``). The environments need the ``rl``
extra (``pip install 'issim[rl]'``: PettingZoo and Gymnasium); the action table does not,
so ``issim play`` (:mod:`issim.play`) uses it without them, and the environments are
imported when first named.
"""

from .actions import ActionTable

_LAZY = {"CrewEnv": "env", "REWARDS": "env", "faction_share": "env", "PersonEnv": "single", "Encoder": "spaces",
         "RandomLegal": "baselines", "Cooperative": "baselines"}

try:
    import gymnasium as _gym
except ImportError:  # pragma: no cover - the rl extra is missing: the action table still works
    _gym = None

if _gym is not None and "issim/Person-v0" not in _gym.registry:
    _gym.register("issim/Person-v0", entry_point="issim.rl.single:PersonEnv")


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ActionTable", "Cooperative", "CrewEnv", "Encoder", "PersonEnv", "REWARDS", "RandomLegal", "faction_share"]
