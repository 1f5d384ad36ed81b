"""Seeded, split randomness: one root seed, an independent stream per name.

Each stream is derived from the root seed and a stable hash of its name (not from the
order in which streams are created), so adding a draw or a stream in one place never
changes the numbers another place sees. Stream states are plain data and travel with
snapshots.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_seed(root_seed: int, name: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy=int(root_seed), spawn_key=(zlib.crc32(name.encode()),))


class Streams:
    """Named ``numpy.random.Generator`` streams under one root seed."""

    def __init__(self, root_seed: int):
        self.root_seed = int(root_seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        rng = self._streams.get(name)
        if rng is None:
            rng = self._streams[name] = np.random.Generator(np.random.PCG64(stream_seed(self.root_seed, name)))
        return rng

    def get_state(self) -> dict:
        return {name: rng.bit_generator.state for name, rng in self._streams.items()}

    def set_state(self, states: dict) -> None:
        self._streams = {}
        for name, st in states.items():
            self(name).bit_generator.state = st
