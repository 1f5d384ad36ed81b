"""One frame of a subsystem, compiled and in numpy, from the same state: the kernels' tests;
and a whole run's digest, for tests that hold two ways of running to the same bits."""

from __future__ import annotations

import numpy as np
import pytest


def same_frame(sub, sim, keys, rtol: float = 1e-12, env=None) -> tuple:
    """Run ``sub``'s compiled frame and its numpy reference on two scratch copies of the
    simulation's state (with ``env``, the frame's environment, for a subsystem that reads
    it), and assert that they agree (arrays, totals, log); returns the two."""
    kernel_state, reference_state = sim.state.scratch(), sim.state.scratch()
    sub.update(kernel_state, env, sim.dt_s)
    sub.update_reference(reference_state, env, sim.dt_s)
    for key in keys:
        assert np.allclose(kernel_state[key], reference_state[key], rtol=rtol, atol=1e-15), key
    assert kernel_state.totals == pytest.approx(reference_state.totals, rel=rtol)
    assert kernel_state.log == reference_state.log
    return kernel_state, reference_state


def run_digest(sim) -> tuple:
    """A run's event log digest, a hash of every state array (name, dtype, shape, bytes), a
    hash of every telemetry channel, and its clock: equal for runs equal bit for bit."""
    import hashlib

    h = hashlib.sha256()
    for k in sorted(sim.state.arrays):
        v = np.ascontiguousarray(sim.state.arrays[k])
        h.update(k.encode() + str(v.dtype).encode() + str(v.shape).encode() + v.tobytes())
    tele = hashlib.sha256()
    for ch in sim.channels():
        ts, vals = sim.telemetry(ch.key)
        tele.update(ch.key.encode() + np.ascontiguousarray(ts).tobytes() + np.ascontiguousarray(vals).tobytes())
    return sim.event_log_sha256(), h.hexdigest(), tele.hexdigest(), sim.state.t_ms
