"""The compiled power kernel against the Python frame it replaces (``Power.update_reference``):
the same frame from the same state and environment, in situations that take each branch
(sunlight and eclipse, attitude lost, the converters off until the ROS sheds, goes down and
comes back, a bus cut and restored by hand, a failed wing, a USOS battery low, or run flat).
Tolerance: 1e-12 relative (the same arithmetic in the same order)."""

from __future__ import annotations

import pytest

from issim.physics.power import ROS, USOS
from issim.scenario import build_simulation
from issim.sim import Event

from kernel_check import same_frame

KEYS = ("power.bus", "power.cut", "power.tripped", "power.shedding", "power.bus_seen", "power.available_w",
        "power.generated_w", "power.load_w", "power.shed_w", "power.battery_j", "power.soc", "power.soc_min",
        "power.soc_max", "power.machines_w", "power.transfer_w", "power.converters_on", "power.wing_ok")
FRAMES = 700  # more than an orbit of 10 s frames: sunlight and eclipse


def _run(case: str):
    sim = build_simulation("nominal")
    power = next(s for s in sim.subsystems if s.name == "power")
    t = sim.t_ms
    if case == "converters-off":  # the ROS sheds, goes down, and comes back in sunlight
        sim.state["power.converters_on"][0] = False  # at once, so that the first frame compared sheds
        sim.state["power.battery_j"][ROS] *= 0.12
    if case == "cut-and-failed-wing":
        sim.schedule(Event(t, "array_fail", "1A"))
        sim.schedule(Event(t + 600_000, "power_off", "ROS"))
        sim.schedule(Event(t + 1_800_000, "power_on", "ROS"))
    if case == "usos-low":  # the USOS battery low: it sheds in eclipse, and recovers in sunlight
        sim.state["power.battery_j"][USOS] *= 0.16
    seen = set()
    for frame in range(FRAMES):
        if case == "attitude-lost" and frame % 2:
            sim.state["att.lost"][0] = True
        env = sim.environment.at(sim.state)
        if case == "usos-flat" and not env.sunlit and "flat" not in seen:  # emptied as the eclipse begins:
            sim.state["power.battery_j"][USOS] = 0.0501 * power.usos_b.energy_j  # the bus goes down
            seen.add("flat")
        kernel_state, _ = same_frame(power, sim, KEYS, env=env)
        seen.add(bool(env.sunlit))
        for entry in kernel_state.log:
            seen.add(dict(entry[2]).get("what"))
        sim.step()
    return sim, seen


@pytest.mark.parametrize("case", ["nominal", "attitude-lost", "converters-off", "cut-and-failed-wing",
                                  "usos-low", "usos-flat"])
def test_kernel_frame_equals_the_reference_frame(case):
    sim, seen = _run(case)
    assert True in seen and False in seen  # frames in sunlight and in eclipse were compared
    if case == "converters-off":
        assert {"shedding", "bus_down"} <= seen
    if case == "usos-low":
        assert {"shedding", "loads_restored"} <= seen
    if case == "usos-flat":
        assert {"bus_down", "bus_restored"} <= seen
