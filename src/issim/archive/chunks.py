"""Where a stored run's recorder puts its full chunks while the run goes on.

A stored run keeps only the chunk of telemetry it is filling in memory
(:meth:`issim.sim.telemetry.Recorder.spill_to`); each full chunk (4,096 samples, about
16 MB for ``nominal``) goes to a file of its own in the run's half-written folder,
``.tmp/<run>.<pid>/chunks/000001.npy.zst`` (and into ``telemetry.parquet``, which keeps
only the channels), and is read back when the history is needed: for the summary when the
run ends (only the columns it needs), for ``sim.telemetry`` while it runs, and for the
whole ``telemetry.parquet`` again should a snapshot have been restored in between. The
folder is removed with the rest of ``.tmp/<run>.<pid>`` once the run is stored.

A chunk file is a zstd stream of two ``.npy`` arrays, one after the other: the sample
times (int64 UTC ms, ``(samples,)``) and the rows column by column (float64,
``(row width, samples)``, so that a channel's values read back contiguous). ``zstd -d``
and :func:`numpy.lib.format.read_array` read it without issim. Each file appears whole
(written beside its name, then renamed), is never rewritten, and gets a new number: after
a restore to an earlier snapshot the later chunks go to new files, so a snapshot taken
after them still reads its own. A run killed half-way leaves whole chunk files only; the
reader that marks it incomplete removes them (:meth:`~issim.archive.catalogue.Archive.reap`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from numpy.lib import format as npy

CODEC = "zstd"
SKIP_BYTES = 1 << 20  # columns not asked for are read past in pieces of this size


@dataclass(frozen=True)
class SpilledChunk:
    """One chunk in its file; :meth:`load` reads it back."""

    path: Path

    def load(self, into: Optional[np.ndarray] = None, columns=None) -> tuple[np.ndarray, np.ndarray]:
        """``(t_ms, rows)``: rows as ``(samples, row width)``, a view of the columns as stored,
        read into ``into`` (a ``(row width, samples)`` float64 buffer) when it has their shape.
        ``columns`` (``[(start, stop), ...]``, in order): read only those, the rest left as
        they were (the stream is decompressed past them a piece at a time)."""
        from .._arrow import pa

        try:
            with pa.CompressedInputStream(str(self.path), CODEC) as f:
                t_ms = npy.read_array(f)
                npy.read_magic(f)  # written as version 1.0 (ChunkFolder.keep)
                shape, _, dtype = npy.read_array_header_1_0(f)
                fits = into is not None and into.shape == shape and into.dtype == dtype
                out = into if fits else np.empty(shape, dtype)
                at = 0  # the column the stream is at
                for start, stop in columns if columns is not None else [(0, shape[0])]:
                    _skip(f, (start - at) * out[0].nbytes)
                    if f.readinto(out[start:stop]) != out[start:stop].nbytes:
                        raise ValueError(f"{self.path}: cut short")
                    at = stop
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.path}: this chunk of telemetry was kept here while the run was being "
                                    "stored, and removed once it was; read the run's telemetry from the archive "
                                    "(issim.open_run(ID).telemetry())") from None
        return t_ms, out.T


def _skip(f, nbytes: int) -> None:
    while nbytes > 0:
        piece = len(f.read(min(nbytes, SKIP_BYTES)))
        if not piece:
            raise ValueError("a chunk file cut short")
        nbytes -= piece


class ChunkFolder:
    """A folder of spilled chunks; :meth:`keep` is a spill for ``Recorder.spill_to``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def keep(self, t_ms: np.ndarray, rows: np.ndarray) -> SpilledChunk:
        """Write one full chunk (``rows``: ``(samples, row width)``) to its file."""
        from .._arrow import pa

        self._count += 1
        path = self.path / f"{self._count:06d}.npy.zst"
        part = path.with_name(path.name + ".part")
        columns = np.ascontiguousarray(rows.T, dtype=np.float64)  # the recorder's chunks: already so, no copy
        with pa.CompressedOutputStream(str(part), CODEC) as f:
            npy.write_array(f, np.ascontiguousarray(t_ms, dtype=np.int64))
            npy.write_array_header_1_0(f, npy.header_data_from_array_1_0(columns))
            f.write(columns)
        os.replace(part, path)
        return SpilledChunk(path)
