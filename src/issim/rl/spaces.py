"""A person's observation as fixed-size arrays: the ``gymnasium.spaces.Dict`` of the environments.

Everything here is read from one :class:`~issim.sim.observe.Observation` (what that person
can know) and the action mask; nothing from the state as a whole. The keys:

========================  ===========================  ==============================================
key                       space                        what
========================  ===========================  ==============================================
``clock``                 Box(1,) float32, [0, 1e4]    hours since the scenario's start (a clock is on every wall)
``location``              Discrete(volumes)            the module or vehicle they are in (index of ``volumes``)
``in_sight``              MultiBinary(people)          who they see: same volume or across an open hatch
``body``                  Box(10,) float32             alive, conscious, health (0-1), on EVA, suit time
                                                       left (h), bleeding, tethered, activity (code),
                                                       armed, adrift
``laptop_reach``          MultiBinary(2)               the laptops in reach that accept them: USOS, ROS
``laptops``               Box(channels,) float32       what those laptops show, one slot per channel of
                                                       ``channels`` (SI units, as ``issim telemetry``);
                                                       0 for a segment out of reach
``messages``              Box(8, 3 + parties) float32  the last 8 messages delivered to them, oldest
                                                       first: present, age (h), an order (text begins
                                                       ``order``), then who sent it, one-hot over
                                                       ``parties`` (houston, moscow, each person, other)
``mind``                  Box(mind,) float32           their own ``agents.*`` row flattened, in the order
                                                       of ``mind_fields``; times (``*_ms``) as hours from
                                                       now, booleans as 0/1
``action_mask``           MultiBinary(actions)         the mask of :mod:`issim.rl.actions`
========================  ===========================  ==============================================

Values are clipped to the boxes' bounds (±1e12 for the laptops, ±1e6 for the mind).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from ..sim.observe import SEGMENT_NAMES, Observation, laptop_channels

MESSAGES = 8
BODY = ("alive", "conscious", "health", "on_eva", "suit_s", "bleeding", "tethered", "activity", "armed", "adrift")
_BODY_HIGH = np.array([1, 1, 1, 1, 24, 1, 1, 64, 1, 1], dtype=np.float32)
LAPTOP_BOUND = 1e12
MIND_BOUND = 1e6
HOUR_MS = 3_600_000.0


class Encoder:
    """The observation space of one simulation and the encoding of its observations."""

    def __init__(self, sim, n_actions: int):
        self.start_ms = sim.start_ms
        self.people = tuple(sim.people)
        self.volumes = tuple(v.id for v in sim.world.volumes)
        keys: list[str] = []
        by_segment = laptop_channels(sim)
        for seg in SEGMENT_NAMES:
            for c in by_segment[seg]:
                if c.key not in keys:
                    keys.append(c.key)
        self.channels = tuple(keys)
        self._slot = {k: i for i, k in enumerate(keys)}
        self.parties = ("houston", "moscow", *self.people, "other")
        self._party = {p: i for i, p in enumerate(self.parties)}
        probe = Observation(sim, 0).mind
        self.mind_fields: list[tuple[str, int]] = [(k, int(np.size(v))) for k, v in probe.items()]
        n_mind = self._n_mind = sum(n for _, n in self.mind_fields)
        self._mind_slots, at, ms = [], 0, []
        for k, n in self.mind_fields:
            self._mind_slots.append((k, at, n))
            if k.endswith("_ms"):
                ms += range(at, at + n)
            at += n
        self._ms = np.array(ms, dtype=np.intp)
        f32 = np.float32
        self.space = spaces.Dict({
            "clock": spaces.Box(0.0, 1e4, (1,), f32),
            "location": spaces.Discrete(len(self.volumes)),
            "in_sight": spaces.MultiBinary(len(self.people)),
            "body": spaces.Box(np.zeros(len(BODY), f32), _BODY_HIGH.copy(), dtype=f32),
            "laptop_reach": spaces.MultiBinary(len(SEGMENT_NAMES)),
            "laptops": spaces.Box(-LAPTOP_BOUND, LAPTOP_BOUND, (len(keys),), f32),
            "messages": spaces.Box(0.0, 1e4, (MESSAGES, 3 + len(self.parties)), f32),
            "mind": spaces.Box(-MIND_BOUND, MIND_BOUND, (n_mind,), f32),
            "action_mask": spaces.MultiBinary(n_actions),
        })

    def readings(self, sim, segment: str) -> np.ndarray:
        """What ``segment``'s laptops show now, as the ``laptops`` vector (``Observation.laptops``
        read once for everyone at those laptops)."""
        out = np.zeros(len(self.channels), dtype=np.float32)
        state, slot = sim.state, self._slot
        for c in laptop_channels(sim)[segment]:
            out[slot[c.key]] = c.read(state)
        np.nan_to_num(out, copy=False, nan=0.0, posinf=LAPTOP_BOUND, neginf=-LAPTOP_BOUND)
        np.clip(out, -LAPTOP_BOUND, LAPTOP_BOUND, out=out)
        return out

    def encode(self, obs: Observation, mask: np.ndarray, shared: dict | None = None) -> dict:
        """The dict for ``obs`` (fresh arrays, so a caller may keep them). ``shared``, a dict
        kept for one moment, lets people at the same laptops share one reading of them."""
        t = obs.t_ms
        body = obs.body
        b = np.array([float(body.get(k, 0.0)) for k in BODY], dtype=np.float32)
        b[4] /= 3600.0
        np.clip(b, 0.0, _BODY_HIGH, out=b)
        sight = np.zeros(len(self.people), dtype=np.int8)
        for name in obs.in_sight:
            sight[self.people.index(name)] = 1
        reach = np.zeros(len(SEGMENT_NAMES), dtype=np.int8)
        laptops = np.zeros(len(self.channels), dtype=np.float32)
        shared = {} if shared is None else shared
        for seg in obs.laptop_segments:
            reach[SEGMENT_NAMES.index(seg)] = 1
            got = shared.get(seg)
            if got is None:
                got = shared[seg] = self.readings(obs._sim, seg)
            laptops += got
        msgs = np.zeros((MESSAGES, 3 + len(self.parties)), dtype=np.float32)
        other = len(self.parties) - 1
        for row, m in enumerate(obs.messages[-MESSAGES:]):
            msgs[row, 0] = 1.0
            msgs[row, 1] = min((t - m["t_ms"]) / HOUR_MS, 1e4)
            msgs[row, 2] = float(str(m["text"]).lower().startswith("order"))
            msgs[row, 3 + self._party.get(m["from"], other)] = 1.0
        mind = obs.mind
        m = np.empty(self._n_mind, dtype=np.float64)
        for k, at, n in self._mind_slots:
            if n == 1:
                m[at] = mind[k]
            else:
                m[at:at + n] = np.ravel(mind[k])
        ms = m[self._ms]  # times: hours from now (0 for a time not set)
        m[self._ms] = np.where(ms > 0, (ms - t) / HOUR_MS, 0.0)
        m = np.clip(np.nan_to_num(m), -MIND_BOUND, MIND_BOUND).astype(np.float32)
        return {
            "clock": np.array([min(max((t - self.start_ms) / HOUR_MS, 0.0), 1e4)], dtype=np.float32),
            "location": int(self.volumes.index(obs.location)),
            "in_sight": sight,
            "body": b,
            "laptop_reach": reach,
            "laptops": laptops,
            "messages": msgs,
            "mind": m,
            "action_mask": mask.astype(np.int8, copy=True),
        }
