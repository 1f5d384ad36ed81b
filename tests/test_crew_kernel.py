"""The compiled crew kernel against the numpy reference it replaces: the same frame from the
same state, in situations that take each branch (someone unconscious or dead, on EVA with
the suit running out, a volume short of O2 shared by its occupants, a run without life
support). Tolerance: 1e-12 relative (sums in another order)."""

from __future__ import annotations

import numpy as np
import pytest

from issim.scenario import build_simulation
from issim.sim import Event

from kernel_check import same_frame

KEYS = ("atm.moles", "water.store_kg", "water.urine_kg", "crew.activity", "crew.suit_s", "crew.co2_symptom",
        "crew.deficit", "crew.alive", "crew.conscious", "crew.location")


def _setup(case: str):
    sim = build_simulation("nominal")
    crew = next(s for s in sim.subsystems if s.name == "crew")
    names = sim.state.facts["crew.names"]
    if case == "unconscious-and-dead":
        sim.state["crew.conscious"][0] = False
        sim.state["crew.alive"][1] = sim.state["crew.conscious"][1] = False
    if case == "eva":
        sim.schedule(Event(sim.t_ms, "move", names[0], (("to", "quest"),)))
        sim.schedule(Event(sim.t_ms + 10_000, "eva_begin", names[0]))
    if case == "short-of-o2":  # Pavel in Zvezda, whose air has almost no O2 left
        sim.state["atm.moles"][sim.world.index["zvezda"], 0] = 1e-3
    return sim, crew


@pytest.mark.parametrize("case", ["nominal", "unconscious-and-dead", "eva", "short-of-o2"])
def test_kernel_frame_equals_the_reference_frame(case):
    sim, crew = _setup(case)
    for frame in range(30):
        if case == "eva" and frame == 3:
            sim.state["crew.suit_s"][0] = 15.0  # the suit runs out within two frames
        same_frame(crew, sim, KEYS)
        sim.step()
    if case == "eva":
        assert sim.state["crew.on_eva"][0] and sim.state["crew.deficit"][0, 0] > 0  # the suit's air ran out
    if case == "short-of-o2":
        assert sim.state["crew.deficit"][:, 0].max() > 0


def test_without_life_support_the_water_is_left_alone():
    from issim.physics.atmosphere import Atmosphere
    from issim.physics.crew import Crew, PersonSpec
    from issim.physics.power import PowerBuses
    from issim.sim import Simulation, build_world

    world = build_world()
    crew = Crew(world, [PersonSpec(name="A", agency="nasa", module="destiny")])
    sim = Simulation(world, [PowerBuses(), crew, Atmosphere(world)], start_ms=0, frame_s=10)
    kernel_state, reference_state = sim.state.scratch(), sim.state.scratch()
    crew.update(kernel_state, None, 10.0)
    crew.update_reference(reference_state, None, 10.0)
    assert np.allclose(kernel_state["atm.moles"], reference_state["atm.moles"], rtol=1e-12)
    assert kernel_state.totals == pytest.approx(reference_state.totals, rel=1e-12)
    assert "crew.water_drunk_kg" not in kernel_state.totals


@pytest.mark.parametrize("bleeding", [False, True])
def test_wounds_alone_are_the_whole_harm_when_the_air_is_good(bleeding):
    """The crew kernel answers 1 (someone hurt, nothing else) and the frame then brings on
    only the wounds (Crew._wounds): the same state, bit for bit, as the whole of Crew._harm,
    with a dead person's old deficit (above the hazard onset) left as it was."""
    sim, crew = _setup("nominal")
    a = sim.state.arrays
    a["crew.injury"][[0, 2]] = (0.62, 0.3)  # one incapacitated, one hurt
    a["crew.bleeding"][0] = bleeding
    a["crew.alive"][1] = a["crew.conscious"][1] = False
    a["crew.deficit"][1] = (1.4, 0.2, 0.0)  # died of hypoxia earlier
    sim.step()
    loc = a["crew.location"]
    assert crew._kernel(a, 0, 0, 0.0, 0.0, 0, 10.0) == 1
    full, fast = sim.state.copy(), sim.state.copy()
    crew._harm(full, full["atm.pp_pa"][loc], full["atm.pressure_pa"][loc], 10.0)
    crew._wounds(fast, fast["crew.alive"], 10.0)
    crew._update_consciousness(fast)
    assert fast.identical(full)
    a["crew.deficit"][0, 0] = 0.1  # a living person short of breath: the whole harm is needed
    assert crew._kernel(a, 0, 0, 0.0, 0.0, 0, 10.0) == 2
