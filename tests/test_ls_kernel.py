"""The compiled life-support kernel against the numpy reference it replaces: the same frame
from the same state, in situations that take each branch (generators short of water and
running dry, a fixed and a stepped rate, a machine broken, a segment without power).
Tolerance: 1e-12 relative (the same arithmetic in the same order)."""

from __future__ import annotations

import pytest

from issim.scenario import build_simulation
from issim.sim import Event

from kernel_check import same_frame

KEYS = ("atm.moles", "ls.producing", "ls.dry", "ls.running", "ls.rate_kg_per_day", "ls.power_w",
        "ls.segment_power_w", "water.store_kg", "water.urine_kg", "water.wastewater_kg", "ls.tank_kg")


def _setup(case: str):
    sim = build_simulation("nominal")
    ls = next(s for s in sim.subsystems if s.name == "lifesupport")
    t = sim.t_ms
    if case == "short-of-water":  # the ROS store nearly empty and its air short of O2: Elektron
        sim.state["water.store_kg"][1] = 0.002  # takes what is left, then stops for want of water
        sim.state["water.wastewater_kg"][1] = 0.0
        sim.state["atm.moles"][:, 0] *= 0.9
    if case == "fixed-and-broken":
        sim.schedule(Event(t, "set_rate", "elektron", (("kg_per_day", 3.3),)))
        sim.schedule(Event(t, "set_rate", "oga", (("kg_per_day", 4.1),)))
        sim.schedule(Event(t, "break", "cdra-1"))
    if case == "pressure-control":  # the PCA's module short of O2 and of N2: it draws on both tanks
        q = sim.world.index["quest"]
        sim.state["atm.moles"][q, 0] *= 0.9
        sim.state["atm.moles"][q, 1] *= 0.95
    if case == "no-power":
        sim.schedule(Event(t, "power_off", "USOS"))
    return sim, ls


@pytest.mark.parametrize("case", ["nominal", "short-of-water", "fixed-and-broken", "no-power", "pressure-control"])
def test_kernel_frame_equals_the_reference_frame(case):
    sim, ls = _setup(case)
    compared = 0
    for frame in range(40):
        same_frame(ls, sim, KEYS)
        compared += 1
        sim.step()
    assert compared == 40
    if case == "short-of-water":  # the branch was taken: a generator stopped for want of water
        assert sim.state["ls.dry"].any()
        assert "machine_stopped" in str(sim.event_log())
    if case == "pressure-control":  # the branch was taken: both gases came from the tanks
        assert sim.state.totals["gas.in_mol.o2.pca"] > 0 and sim.state.totals["gas.in_mol.n2.pca"] > 0
