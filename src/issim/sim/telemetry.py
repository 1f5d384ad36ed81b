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

    Storage is columnar: each sample is one row of float64s (every element of every
    recorded array, raveled in turn: booleans and integers are exact in a float64), in
    preallocated chunks of :data:`CHUNK_ROWS` rows. A sample costs its numbers (about 3.8 kB
    for ``nominal``), not a Python object per array. Full chunks are never written again,
    so a snapshot shares them and copies only the chunk being filled.

    The recorded data is part of what a snapshot saves, so a restored run records exactly
    what an uninterrupted one would.
    """

    CHUNK_ROWS = 4096

    def __init__(self, channels: list[Channel], every_frames: int):
        if every_frames < 1:
            raise ValueError("every_frames must be at least 1")
        self.channels = {c.key: c for c in channels}
        if len(self.channels) != len(channels):
            raise ValueError("two channels share a key")
        self.every_frames = every_frames
        self.arrays = sorted({c.array for c in channels})
        self._layout: dict[str, tuple[int, tuple, np.dtype]] = {}  # array -> (offset, shape, dtype)
        self._width = 0
        self._full: list[tuple[np.ndarray, np.ndarray]] = []  # (t_ms, rows) of each full chunk
        self._t = np.empty(0, dtype=np.int64)
        self._rows = np.empty((0, 0))
        self._n = 0

    def _start(self, state: State) -> None:
        """Lay the arrays out in a row, from their shapes in the first sample."""
        offset = 0
        for a in self.arrays:
            arr = state.arrays[a]
            self._layout[a] = (offset, arr.shape, arr.dtype)
            offset += arr.size
        self._width = offset
        self._new_chunk()

    def _new_chunk(self) -> None:
        self._t = np.empty(self.CHUNK_ROWS, dtype=np.int64)
        self._rows = np.empty((self.CHUNK_ROWS, self._width))
        self._n = 0

    def maybe_record(self, state: State) -> None:
        if state.frame % self.every_frames:
            return
        if not self._layout:
            self._start(state)
        arrays = state.arrays
        np.concatenate([arrays[a].ravel() for a in self.arrays], out=self._rows[self._n], casting="unsafe")
        self._t[self._n] = state.t_ms
        self._n += 1
        if self._n == self.CHUNK_ROWS:
            self._full.append((self._t, self._rows))
            self._new_chunk()

    def _chunks(self):
        """``(t_ms, rows)`` of every chunk, the one being filled cut to its length."""
        yield from self._full
        if self._n:
            yield self._t[: self._n], self._rows[: self._n]

    def freeze(self) -> tuple:
        """The recorded data as a snapshot keeps it (full chunks shared, the open one copied)."""
        return (tuple(self._full), self._t[: self._n].copy(), self._rows[: self._n].copy(),
                dict(self._layout), self._width)

    def thaw(self, frozen: tuple) -> None:
        """Back to what :meth:`freeze` kept."""
        full, t, rows, layout, width = frozen
        self._full, self._layout, self._width = list(full), dict(layout), width
        if not layout:
            self._n = 0
            return
        self._new_chunk()
        self._n = len(t)
        self._t[: self._n] = t
        self._rows[: self._n] = rows

    def __len__(self) -> int:
        return len(self._full) * self.CHUNK_ROWS + self._n

    @property
    def t_ms(self) -> np.ndarray:
        """The times of the samples (UTC ms), oldest first."""
        parts = [t for t, _ in self._chunks()]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def column(self, array: str, flat_index: int) -> np.ndarray:
        """One element of one recorded array over the samples, as float64."""
        offset = self._layout[array][0] + flat_index
        parts = [rows[:, offset] for _, rows in self._chunks()]
        return np.concatenate(parts) if parts else np.empty(0)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t_ms, values)`` of one channel, as arrays."""
        ch = self.channels[key]
        if not self._layout:
            return np.empty(0, dtype=np.int64), np.empty(0)
        flat = int(np.ravel_multi_index(ch.index, self._layout[ch.array][1])) if ch.index else 0
        return self.t_ms, self.column(ch.array, flat)

    def block(self, array: str) -> np.ndarray:
        """Everything recorded of one state array, stacked: shape ``(samples, *shape)``,
        in the array's own dtype."""
        if not len(self) or array not in self._layout:
            return np.empty((0,))
        offset, shape, dtype = self._layout[array]
        size = int(np.prod(shape, dtype=np.int64))
        parts = [rows[:, offset: offset + size] for _, rows in self._chunks()]
        return np.concatenate(parts).astype(dtype, copy=False).reshape((len(self), *shape))

    def channel_columns(self):
        """``(t_ms, {key: float64 values})`` of every channel, chunk by chunk: what a file of
        the telemetry is written from, one chunk (a few thousand samples) in memory at a time."""
        flats = {}
        for key, ch in self.channels.items():
            offset, shape, _ = self._layout[ch.array]
            flats[key] = offset + (int(np.ravel_multi_index(ch.index, shape)) if ch.index else 0)
        for t, rows in self._chunks():
            yield t, {key: rows[:, f] for key, f in flats.items()}
