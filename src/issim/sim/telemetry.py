"""The telemetry dictionary and the recorder.

Every subsystem declares its channels: a key (``atm.zvezda.pp_co2_pa``), a name, an SI
unit, and the limits outside which a value is a concern (``warn``) or a danger
(``danger``). A channel reads one element of a state array. The recorder copies the
arrays behind the channels at a fixed rate, so recording costs one array copy per
array, not one call per channel.
"""

from __future__ import annotations

import mmap
import operator
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .memo import Memo
from .state import Arrays, Kept, State


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


_KEPT_CHANNELS = Memo(64)  # key -> channels (see kept_channels)


def kept_channels(key: tuple, make: Callable[[], list]) -> list[Channel]:
    """``make()``'s channels, made once a process for ``key``, which must hold everything they
    are made from (a subsystem's volumes, people...): runs alike (another seed, a batch's
    stations) share them, as channels are frozen. A new list each call."""
    return list(_KEPT_CHANNELS.get(key, lambda: tuple(make())))


def column_buffer(width: int, rows: int) -> np.ndarray:
    """An empty float64 buffer of ``width`` columns of ``rows`` values each, shape
    ``(width, rows)``, in memory that is made resident page by page as it is written.

    numpy asks the kernel for 2 MB pages for any array of 4 MB or more; a sample writes one
    value in every column, so the first sample would make a whole chunk of them resident
    (16 MB for ``nominal``, however short the run). This memory is not given huge pages.
    It is private to the process (``mmap``'s default for anonymous memory is shared, which
    a forked child would write into as well).
    """
    private = getattr(mmap, "MAP_PRIVATE", None)  # (POSIX; elsewhere anonymous memory is the process's own)
    size = max(width * rows, 1) * 8
    mem = mmap.mmap(-1, size) if private is None else mmap.mmap(-1, size, flags=private | mmap.MAP_ANONYMOUS)
    if hasattr(mem, "madvise") and hasattr(mmap, "MADV_NOHUGEPAGE"):
        mem.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(mem, dtype=np.float64, count=width * rows).reshape((width, rows))


class Recorder:
    """Keeps the arrays behind the channels every ``every_frames`` frames.

    Storage is columnar: each sample is one row of float64s (every element of every
    recorded array, raveled in turn: booleans and integers are exact in a float64), in
    preallocated chunks of :data:`CHUNK_ROWS` rows, each column contiguous (a chunk's
    channels go to Arrow and to files without a copy). A sample costs its numbers (about
    3.8 kB for ``nominal``), not a Python object per array. Full chunks are never written
    again, so a snapshot shares them and copies only the chunk being filled.

    A run that is stored hands each full chunk to a *spill* (:meth:`spill_to`; the archive's
    :class:`~issim.archive.chunks.ChunkFolder` writes it to a file) and keeps only the chunk
    being filled, so its memory does not grow with its length; reading the history then
    reads the spilled chunks back one at a time (:meth:`blocks`). Without a spill, every
    chunk stays in memory.

    The recorded data is part of what a snapshot saves, so a restored run records exactly
    what an uninterrupted one would.
    """

    CHUNK_ROWS = 4096
    STAGE_ROWS = 64  # samples written row by row into a small row-major block, then moved into the chunk at once

    def __init__(self, channels: list[Channel], every_frames: int):
        if every_frames < 1:
            raise ValueError("every_frames must be at least 1")
        self.channels = {c.key: c for c in channels}
        if len(self.channels) != len(channels):
            raise ValueError("two channels share a key")
        self.every_frames = every_frames
        self.arrays = sorted({c.array for c in channels})
        gather = operator.itemgetter(*self.arrays) if self.arrays else (lambda arrays: ())
        self._gather = gather if len(self.arrays) != 1 else (lambda arrays: (gather(arrays),))
        self._layout: dict[str, tuple[int, tuple, np.dtype]] = {}  # array -> (offset, shape, dtype)
        self._width = 0
        self._full: list = []  # each full chunk: (t_ms, rows) in memory, or what the spill returned for it
        self._t = np.empty(0, dtype=np.int64)
        self._rows = np.empty((0, 0))
        self._n = 0
        self.spill: Optional[Callable[[np.ndarray, np.ndarray], object]] = None
        self._reading = np.empty((0, 0))  # where spilled chunks are read back, column by column
        self.most_chunks_in_memory = 0  # the high-water mark of :attr:`chunks_in_memory`
        # the compiled sample (issim.sim.record_kernel), kept while the state's arrays are the same:
        # (the arrays held, the kernel, their addresses, sizes, kinds)
        self._bound = Kept()
        # The latest samples, row-major (a row of the chunk spans its every column, a page apiece:
        # written a row at a time it costs more than the numbers), moved into the chunk by _flush.
        self._stage = np.empty((0, 0))
        self._staged = 0  # how many of the chunk's last rows are still in the stage

    def _start(self, state: State) -> None:
        """Lay the arrays out in a row, from their shapes in the first sample."""
        self._bound.forget()
        offset = 0
        for a in self.arrays:
            arr = state.arrays[a]
            self._layout[a] = (offset, arr.shape, arr.dtype)
            offset += arr.size
        self._width = offset
        self._new_chunk()

    def _new_chunk(self) -> None:
        if self._stage.shape != (self.STAGE_ROWS, self._width):
            self._stage = np.empty((self.STAGE_ROWS, self._width))
        self._staged = 0
        self._t = np.empty(self.CHUNK_ROWS, dtype=np.int64)
        self._rows = column_buffer(self._width, self.CHUNK_ROWS).T
        self._n = 0
        self.most_chunks_in_memory = max(self.most_chunks_in_memory, self.chunks_in_memory)

    def maybe_record(self, state: State) -> None:
        if state.frame % self.every_frames:
            return
        if not self._layout:
            self._start(state)
        a = state.arrays
        b = self._bound.get(a)
        if b is not None:  # the same array objects: copied by one compiled call
            b[1](b[2], b[3], b[4], self._stage, self._staged)
        elif not self._bind(state):
            # every recorded array, flattened in C order, into the row: one C call to gather them, one to copy
            np.concatenate(self._gather(a), axis=None, out=self._stage[self._staged], casting="unsafe")
        self._t[self._n] = state.t_ms
        self.sampled(1)

    def compiled_sample(self, state) -> Optional[tuple]:
        """What a compiled loop needs to take samples as :meth:`maybe_record` takes them:
        ``(addresses, sizes, kinds, stage, sample times, the chunk's columns (row width,
        chunk rows), [staged, samples in the chunk, stage rows, chunk rows, every frames])``
        for :func:`~issim.sim.record_kernel.record_row`, the state's arrays bound (their
        addresses read) here if they are not yet; ``None`` for arrays it cannot serve. The loop
        may move full stages into the chunk itself (as :meth:`_flush` would); the samples it
        took are then counted by :meth:`sampled` with the number it left in the stage."""
        b = self._bound.get(state.arrays)
        if b is None and self._layout and self._bind(state, record=False):  # (bound here, not at the next sample)
            b = self._bound.get(state.arrays)
        if b is None or not self._layout:
            return None
        counts = np.array([self._staged, self._n, self.STAGE_ROWS, self.CHUNK_ROWS, self.every_frames], dtype=np.int64)
        return b[2], b[3], b[4], self._stage, self._t, self._rows.T, counts

    def sampled(self, k: int, staged: Optional[int] = None) -> None:
        """``k`` samples have been written into the stage (and their times into the chunk);
        ``staged``: how many of them are still in the stage, the others moved into the
        chunk's rows already (default: all are in the stage)."""
        if not k:
            return
        self._n += k
        self._staged = self._staged + k if staged is None else int(staged)
        if self._staged == self.STAGE_ROWS or self._n == self.CHUNK_ROWS:
            self._flush()
        if self._n == self.CHUNK_ROWS:
            if self.spill is None:
                self._full.append((self._t, self._rows))
                self._new_chunk()
            else:  # the chunk is in the spill's keeping now: its buffers are filled again
                self._full.append(self.spill(self._t, self._rows))
                self._n = 0

    def _bind(self, state: State, record: bool = True) -> bool:
        """Gather the recorded arrays for the compiled sample and (``record``) record this one
        with it; False (nothing recorded) when it cannot serve: at the first sample (a build
        does not import numba), for arrays that are not the state's counted ones, not
        C-contiguous, of another dtype or size than their place in the row."""
        self._bound.forget()
        a = state.arrays
        if (record and not state.frame) or type(a) is not Arrays or not self.arrays:
            return False
        generation = a.generation
        held = self._gather(a)
        from .kernels import KINDS, kernel

        sizes, kinds, addresses = [], [], []
        for name, arr in zip(self.arrays, held):
            kind = KINDS.get(arr.dtype) if type(arr) is np.ndarray else None
            if kind is None or not arr.flags.c_contiguous or arr.size != int(np.prod(self._layout[name][1])):
                return False
            sizes.append(arr.size)
            kinds.append(kind)
            addresses.append(arr.ctypes.data)
        if sum(sizes) != self._width or self._stage.shape != (self.STAGE_ROWS, self._width) \
                or not 0 <= self._staged < self.STAGE_ROWS:
            return False
        lists = tuple(np.array(x, dtype=np.int64) for x in (addresses, sizes, kinds))
        record_row = kernel("record_row")
        built = record_row.ahead((*lists, self._stage, self._staged))  # (its types looked up once, not a sample)
        b = (held, built if built is not None else record_row.jit, *lists)
        if record:
            b[1](b[2], b[3], b[4], self._stage, self._staged)
        self._bound.keep(a, generation, b)
        return True

    def _flush(self) -> None:
        """Move the staged samples into their rows of the chunk (before anything reads the chunk)."""
        k = self._staged
        if k:
            self._rows[self._n - k:self._n] = self._stage[:k]
            self._staged = 0

    # ------------------------------------------------------------------ spilling

    def spill_to(self, spill: Optional[Callable[[np.ndarray, np.ndarray], object]]) -> None:
        """Hand every full chunk, now and from now on, to ``spill(t_ms, rows)``, which keeps a
        copy somewhere (the recorder fills the same buffers again) and returns an object
        whose ``load()`` gives ``(t_ms, rows)`` back. ``None``: keep new chunks in memory
        again (those spilled stay where they went)."""
        self.spill = spill
        self._spill_full()

    def _spill_full(self) -> None:
        if self.spill is not None:
            self._full = [self.spill(*c) if isinstance(c, tuple) else c for c in self._full]

    @property
    def chunks_in_memory(self) -> int:
        """How many chunks of rows are held in memory, the one being filled included."""
        return sum(isinstance(c, tuple) for c in self._full) + bool(self._rows.size)

    # ------------------------------------------------------------------ snapshots

    def freeze(self) -> tuple:
        """The recorded data as a snapshot keeps it (full chunks shared, the open one copied)."""
        self._flush()
        return (tuple(self._full), self._t[: self._n].copy(), self._rows[: self._n].copy(),
                dict(self._layout), self._width)

    def thaw(self, frozen: tuple) -> None:
        """Back to what :meth:`freeze` kept."""
        full, t, rows, layout, width = frozen
        self._full, self._layout, self._width = list(full), dict(layout), width
        self._bound.forget()
        self._spill_full()
        if not layout:
            self._n = self._staged = 0
            return
        self._new_chunk()
        self._n = len(t)
        self._t[: self._n] = t
        self._rows[: self._n] = rows

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._full) * self.CHUNK_ROWS + self._n

    @property
    def last_t_ms(self) -> Optional[int]:
        """The time of the latest sample (UTC ms), ``None`` before the first."""
        if self._n:
            return int(self._t[self._n - 1])
        if self._full:
            return int(self._load(self._full[-1])[0][-1])
        return None

    @property
    def full_chunks(self) -> tuple:
        """Each full chunk, oldest first: ``(t_ms, rows)`` in memory, or what the spill returned for it."""
        return tuple(self._full)

    def _load(self, chunk, columns=None) -> tuple[np.ndarray, np.ndarray]:
        """A full chunk's ``(t_ms, rows)``; a spilled one read back into the one reading buffer,
        only the ``columns`` (``[(start, stop), ...]``) if given (the others are left unread)."""
        if isinstance(chunk, tuple):
            return chunk
        if self._reading.shape != (self._width, self.CHUNK_ROWS):
            self._reading = column_buffer(self._width, self.CHUNK_ROWS)  # pages never written stay unused
        return chunk.load(self._reading, columns)

    def _chunks(self, columns=None, start: int = 0):
        """``(t_ms, rows)`` of every chunk from full chunk ``start`` on, oldest first, the one
        being filled cut to its length. Spilled chunks are read back one at a time into one
        buffer, only ``columns`` of them if given: their rows are valid until the next chunk
        is read (so that reading a whole history holds one chunk, not two)."""
        for chunk in self._full[start:]:
            yield self._load(chunk, columns)
        self._reading = np.empty((0, 0))  # read through: the buffer goes
        if self._n:
            self._flush()
            yield self._t[: self._n], self._rows[: self._n]

    def _flat(self, key: str) -> int:
        """Where a channel's element sits in a row."""
        ch = self.channels[key]
        offset, shape, _ = self._layout[ch.array]
        return offset + (int(np.ravel_multi_index(ch.index, shape)) if ch.index else 0)

    def blocks(self, arrays: list[str], copy: bool = True, start: int = 0):
        """``(t_ms, {array: values})`` chunk by chunk, oldest first (from full chunk ``start``
        on): each recorded array's samples in the chunk, shape ``(samples, *shape)``, in the
        array's own dtype. The whole history with one chunk in memory at a time; arrays not
        recorded are left out. ``copy=False``: float64 arrays come as views of the chunk,
        valid until the next is read."""
        where = self._where(arrays)
        columns = sorted((offset, offset + int(np.prod(shape, dtype=np.int64))) for offset, shape, _ in where.values())
        for t, rows in self._chunks(columns, start):
            yield t, self._arrays(rows, where, copy)

    def arrays_of(self, rows: np.ndarray, arrays: list[str]) -> dict[str, np.ndarray]:
        """Some rows of the recorder's (a full chunk's, as handed to the spill) as
        ``{array: values}``, as :meth:`blocks` gives them with ``copy=False``."""
        return self._arrays(rows, self._where(arrays), False)

    def _where(self, arrays: list[str]) -> dict:
        """``{array: (offset, shape, dtype)}`` in the row, of those of ``arrays`` recorded."""
        return {a: self._layout[a] for a in arrays if a in self._layout}

    @staticmethod
    def _arrays(rows: np.ndarray, where: dict, copy: bool) -> dict[str, np.ndarray]:
        out = {}
        for a, (offset, shape, dtype) in where.items():
            values = rows[:, offset: offset + int(np.prod(shape, dtype=np.int64))]
            out[a] = np.array(values, dtype=dtype, copy=copy or None).reshape((len(rows), *shape))
        return out

    @property
    def t_ms(self) -> np.ndarray:
        """The times of the samples (UTC ms), oldest first."""
        parts = [t for t, _ in self._chunks()]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def column(self, array: str, flat_index: int) -> np.ndarray:
        """One element of one recorded array over the samples, as float64."""
        offset = self._layout[array][0] + flat_index
        parts = [rows[:, offset].copy() for _, rows in self._chunks()]
        return np.concatenate(parts) if parts else np.empty(0)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t_ms, values)`` of one channel, as arrays."""
        self.channels[key]  # an unknown key is a KeyError, recorded or not
        if not len(self):
            return np.empty(0, dtype=np.int64), np.empty(0)
        flat = self._flat(key)
        times, values = zip(*((t, rows[:, flat].copy()) for t, rows in self._chunks()))
        return np.concatenate(times), np.concatenate(values)

    def block(self, array: str) -> np.ndarray:
        """Everything recorded of one state array, stacked: shape ``(samples, *shape)``,
        in the array's own dtype (:meth:`blocks` gives it a chunk at a time)."""
        if not len(self) or array not in self._layout:
            return np.empty((0,))
        return np.concatenate([b[array] for _, b in self.blocks([array])])

    def by_channel(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Some rows as ``{key: float64 values}``, a view of each channel's column."""
        return {key: rows[:, self._flat(key)] for key in self.channels}

    def channel_columns(self, start: int = 0):
        """``(t_ms, {key: float64 values})`` of every channel, chunk by chunk from full chunk
        ``start`` on: what a file of the telemetry is written from, one chunk (a few thousand
        samples) in memory at a time. The values are views, valid until the next chunk is read."""
        for t, rows in self._chunks(start=start):
            yield t, self.by_channel(rows)
