"""The telemetry dictionary and the recorder.

Every subsystem declares its channels: a key (``atm.zvezda.pp_co2_pa``), a name, an SI
unit, and the limits outside which a value is a concern (``warn``) or a danger
(``danger``). A channel reads one element of a state array. The recorder copies the
arrays behind the channels at a fixed rate, so recording costs one array copy per
array, not one call per channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .state import State


@dataclass(frozen=True)
class Limits:
    """Operating limits in the channel's unit; ``None`` where there is none."""

    warn_low: Optional[float] = None
    warn_high: Optional[float] = None
    danger_low: Optional[float] = None
    danger_high: Optional[float] = None


@dataclass(frozen=True)
class Channel:
    """One telemetry channel: ``state[array][index]`` in ``unit``."""

    key: str
    name: str
    unit: str
    array: str
    index: tuple = ()
    limits: Limits = field(default_factory=Limits)
    source: str = ""

    def read(self, state: State) -> float:
        return float(state.arrays[self.array][self.index])

    def describe(self) -> dict:
        lim = {k: v for k, v in vars(self.limits).items() if v is not None}
        return {"key": self.key, "name": self.name, "unit": self.unit, "limits": lim, "source": self.source}


class Recorder:
    """Keeps the arrays behind the channels every ``every_frames`` frames.

    The recorded data is part of what a snapshot saves (its length), so a restored run
    records exactly what an uninterrupted one would.
    """

    def __init__(self, channels: list[Channel], every_frames: int):
        if every_frames < 1:
            raise ValueError("every_frames must be at least 1")
        self.channels = {c.key: c for c in channels}
        if len(self.channels) != len(channels):
            raise ValueError("two channels share a key")
        self.every_frames = every_frames
        self.arrays = sorted({c.array for c in channels})
        self.t_ms: list[int] = []
        self._rows: dict[str, list[np.ndarray]] = {a: [] for a in self.arrays}

    def maybe_record(self, state: State) -> None:
        if state.frame % self.every_frames == 0:
            self.t_ms.append(state.t_ms)
            for a in self.arrays:
                self._rows[a].append(state.arrays[a].copy())

    def truncate(self, length: int) -> None:
        """Forget everything recorded after the first ``length`` samples (for restore)."""
        del self.t_ms[length:]
        for rows in self._rows.values():
            del rows[length:]

    def __len__(self) -> int:
        return len(self.t_ms)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t_ms, values)`` of one channel, as arrays."""
        ch = self.channels[key]
        rows = self._rows[ch.array]
        values = np.array([r[ch.index] for r in rows], dtype=np.float64)
        return np.array(self.t_ms, dtype=np.int64), values

    def block(self, array: str) -> np.ndarray:
        """Everything recorded of one state array, stacked: shape ``(samples, *shape)``."""
        return np.stack(self._rows[array]) if self._rows[array] else np.empty((0,))
