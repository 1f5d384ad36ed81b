"""The physics, held to golden telemetry (``tests/golden``, written by ``tools/golden.py``).

Each scenario runs as ``issim run`` would run it, and every telemetry channel, once a
simulated hour, must equal what the reference implementation produced: within 1e-9
relative to the channel's own scale (its largest magnitude over the run). A faster core
(compiled kernels, another solve) must pass this unchanged or say, here, which channel's
tolerance it widens and why.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from golden import FOLDER, GOLDEN, sample  # noqa: E402

RTOL = 1e-9


@pytest.mark.parametrize("scenario", sorted(GOLDEN))
def test_telemetry_matches_the_golden_run(scenario):
    want = np.load(FOLDER / f"{scenario}.npz")
    got = sample(scenario, GOLDEN[scenario])
    assert list(got["keys"]) == list(want["keys"])
    assert np.array_equal(got["t_ms"], want["t_ms"])
    both_nan = np.isnan(got["values"]) & np.isnan(want["values"])  # e.g. no orbit: NaN both times
    scale = np.maximum(np.nanmax(np.abs(want["values"]), axis=0, initial=0.0), 1e-300)
    off = np.where(both_nan, 0.0, np.abs(got["values"] - want["values"]) / scale)
    off = np.where(np.isnan(off), np.inf, off)
    worst = np.unravel_index(np.argmax(off), off.shape)
    assert off.max() <= RTOL, (
        f"{want['keys'][worst[1]]} at sample {worst[0]}: {got['values'][worst]!r} against {want['values'][worst]!r}")
