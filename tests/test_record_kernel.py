"""The recorder's compiled sample (``issim.sim.record_kernel``) and its staged rows record the
numbers ``np.concatenate`` recorded, bit for bit: float64, bool and int64 arrays, arrays
rebound (to other objects, to a strided view), snapshots and restores taken with samples
still staged, and a history read in the middle of a stage."""

from __future__ import annotations

import numpy as np

from issim.runner import Runner
from issim.sim.telemetry import Recorder


def _telemetry(sim) -> dict:
    return {c.key: tuple(a.tobytes() for a in sim.telemetry(c.key)) for c in sim.channels()}


def _run(monkeypatch=None, twist=None) -> dict:
    run = Runner("leak", hours=3)
    sim = run.sim
    for k in range(1, 30):
        run.run(until=sim.start_ms + k * 360_000 + 10_000 * (k % 7))
        if twist is not None:
            twist(sim, k)
    run.run()
    return _telemetry(sim)


def test_the_compiled_sample_records_what_concatenate_did(monkeypatch):
    compiled = _run()
    with monkeypatch.context() as m:
        m.setattr(Recorder, "_bind", lambda self, state, record=True: False)  # every sample by np.concatenate
        plain = _run()
    assert compiled == plain


def test_rebinding_strided_views_snapshots_and_reads_mid_stage(monkeypatch):
    def twist(sim, k):
        st = sim.state
        if k % 3 == 0:
            st["crew.alive"] = st["crew.alive"].copy()  # another object (bool)
            st["comms.messages"] = st["comms.messages"].copy()  # (int64)
        if k % 5 == 0:
            wide = np.zeros((st["atm.pressure_pa"].size, 2))
            wide[:, 0] = st["atm.pressure_pa"]
            st["atm.pressure_pa"] = wide[:, 0]  # a strided view: recorded by np.concatenate
        if k % 4 == 0:
            sim.restore(sim.snapshot())  # samples still staged go into the snapshot
        if k % 6 == 0:
            sim.telemetry("atm.zvezda.pressure_pa")  # a read in the middle of a stage

    twisted = _run(twist=twist)
    with monkeypatch.context() as m:
        m.setattr(Recorder, "_bind", lambda self, state, record=True: False)
        plain = _run(twist=twist)
    assert twisted == plain
    assert twisted == _run()  # and the same as a run left alone
