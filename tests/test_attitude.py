"""Attitude control: CMG momentum, desaturations, saturation and its effect on power.

Reference figures: sheet §6 (4 CMGs of 4,880 N·m·s, at least 2 for control; the Feb 2005
saturation that cost ~14 kg of propellant). The disturbance torque, the cyclic part and
the desaturation threshold are the estimates of power.toml [attitude]; the tests compute
their expectations from those figures, independently of the module's arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from issim import orbit
from issim.physics.attitude import Attitude, load_attitude_config
from issim.physics.power import USOS, Power
from issim.sim import Event, Simulation, build_world

START = "2025-03-10T00:00:00Z"
FRAME_S = 10.0
CFG = load_attitude_config()
CAPACITY = CFG.cmg_count * CFG.cmg_momentum_nms


def harness(tanks=(0.0, 300.0, 300.0), start_iso: str = START) -> Simulation:
    """Power and attitude on the real orbit, with stand-in propellant tanks (propulsion's keys)."""
    start = orbit.parse_iso(start_iso)
    world = build_world()
    sim = Simulation(world, [Power(world), Attitude(world)], start_ms=start, elements=orbit.elements_for(start))
    if tanks is not None:
        sim.state["prop.propellant_kg"] = np.array(tanks, dtype=float)
        sim.state["prop.thrusters_enabled"] = np.ones(1, dtype=bool)
    return sim


def do(sim, kind, target="", **args):
    sim.schedule(Event(sim.t_ms, kind, target, tuple(args.items()), source="test"))


def log(sim, what):
    return [e for e in sim.event_log() if e["kind"] == "attitude" and e["what"] == what]


def momentum_nms(start_ms: int, frames: np.ndarray, since: int = 0, capacity_frames=None) -> np.ndarray:
    """Stored momentum after frame ``k`` (frames counted from 0), the secular part grown
    since frame ``since``: ``τ (k + 1 - since) dt + A sin(2π t / P)``, ``t`` the frame's end (s)."""
    t_end_s = (start_ms + (frames + 1) * FRAME_S * 1000.0) / 1000.0
    return CFG.secular_torque_nm * (frames + 1 - since) * FRAME_S + CFG.cyclic_momentum_nms * np.sin(
        2 * math.pi / CFG.cyclic_period_s * t_end_s)


def first_frame(start_ms: int, level_nms: float, since: int = 0, horizon_days: float = 8.0, after: int = 0) -> int:
    """The first frame (from ``since``, or ``after`` if later) after which |momentum| reaches ``level_nms``."""
    k = np.arange(max(since, after), int(horizon_days * 86_400 / FRAME_S))
    hit = np.flatnonzero(np.abs(momentum_nms(start_ms, k, since)) >= level_nms)
    return int(k[hit[0]])


def test_cmgs_are_the_sheets():
    assert CFG.cmg_count == 4 and CFG.cmg_momentum_nms == 4_880.0 and CFG.min_cmgs == 2  # §6
    assert CFG.desat_kg_per_nms * CAPACITY == pytest.approx(14.0, rel=1e-3)  # Feb 2005: ~14 kg
    # The secular torque saturates the CMGs from empty within a few days.
    assert 2.0 < CAPACITY / CFG.secular_torque_nm / 86_400 < 6.0
    sim = harness()
    units = {c.key: c.unit for c in sim.channels()}
    assert units["att.momentum_nms"] == "N·m·s" and units["att.momentum_fraction"] == "1"
    assert sim.current("att.cmgs_working") == 4 and sim.current("att.held") == 1.0


def test_with_desaturation_allowed_momentum_stays_bounded_and_uses_propellant():
    sim = harness()
    start = sim.start_ms
    sim.run(start + 7 * 86_400_000)
    # Desaturations happen exactly when the momentum first reaches 80 % of capacity.
    expected, since = [], 0
    while True:
        try:
            k = first_frame(start, CFG.desat_threshold * CAPACITY, since, horizon_days=7.0)
        except IndexError:
            break
        expected.append(start + k * int(FRAME_S * 1000))
        since = k + 1
    desats = log(sim, "desaturation")
    assert len(desats) == len(expected) >= 1
    assert [orbit.parse_iso(e["t"]) for e in desats] == expected
    _, fraction = sim.telemetry("att.momentum_fraction")
    assert fraction.max() < CFG.desat_threshold and fraction.max() > 0.7  # bounded, and it came close
    # Propellant: from the first tank that has any, at ~14 kg per full saturation.
    used = sim.state.totals["prop.used_kg.desat"]
    tanks = sim.state["prop.propellant_kg"]
    assert tanks[0] == 0.0 and tanks[2] == 300.0
    assert 300.0 - tanks[1] == pytest.approx(used, abs=1e-9)
    unloaded = sum(e["unloaded_nms"] for e in desats)
    assert used == pytest.approx(CFG.desat_kg_per_nms * unloaded, rel=1e-4)
    assert 5.0 * len(desats) < used < 14.0 * len(desats)
    assert sim.current("att.held") == 1.0 and sim.current("att.desats") == len(desats)


def test_stop_desat_saturates_the_cmgs_at_the_predicted_time_and_us_generation_falls():
    sim = harness()
    start = sim.start_ms
    do(sim, "stop_desat", "ROS")
    k_lost = first_frame(start, CAPACITY)
    t_lost = start + k_lost * int(FRAME_S * 1000)
    # Bounds from the torque and capacity alone: (capacity ∓ cyclic amplitude) / torque.
    days = (t_lost - start) / 86_400_000
    lo = (CAPACITY - CFG.cyclic_momentum_nms) / CFG.secular_torque_nm / 86_400
    hi = (CAPACITY + CFG.cyclic_momentum_nms) / CFG.secular_torque_nm / 86_400
    assert lo <= days <= hi
    # Before: attitude held, the arrays give their full 215 kW in sunlight.
    sim.run(t_lost)
    assert sim.current("att.held") == 1.0
    assert sim.current("power.USOS.available_w") in (0.0, pytest.approx(215_000.0, abs=5.0))
    blocked = log(sim, "desaturation_blocked")
    assert len(blocked) == 1 and "withholds" in blocked[0]["reason"]
    sim.step()
    lost = log(sim, "lost")
    assert len(lost) == 1 and orbit.parse_iso(lost[0]["t"]) == t_lost and "saturated" in lost[0]["reason"]
    assert sim.current("att.held") == 0.0 and sim.current("att.momentum_fraction") == 1.0
    # After: the arrays drift off the Sun; generation falls to a quarter of the capacity.
    gen, avail = [], []
    for _ in range(MS_PER_ORBIT_FRAMES):
        sim.step()
        gen.append(sim.state["power.generated_w"][USOS])
        avail.append(sim.state["power.available_w"][USOS])
    gen, avail = np.array(gen), np.array(avail)
    capacity_w = Power().config.usos_capacity_w
    assert np.allclose(avail[avail > 0], 0.25 * capacity_w, rtol=1e-12) and (avail == 0).any()
    assert gen.max() <= 0.25 * capacity_w
    before = harness()
    g = []
    for _ in range(MS_PER_ORBIT_FRAMES):
        before.step()
        g.append(before.state["power.generated_w"][USOS])
    assert gen.sum() < 0.8 * np.sum(g)  # less energy over an orbit than with attitude held
    # A day on, the US bus has had to shed loads; attitude stays lost, logged once.
    sim.run(sim.t_ms + 86_400_000)
    assert sim.state.totals.get("power.usos_shed_j", 0.0) > 0.0
    assert len(log(sim, "lost")) == 1
    # The Russian side relents: the next frame desaturates and attitude is back.
    do(sim, "allow_desat", "ROS")
    sim.step()
    assert log(sim, "desaturation") and log(sim, "recovered") and sim.current("att.held") == 1.0
    sim.run(sim.t_ms + 3_600_000)
    assert sim.current("power.USOS.available_w") in (0.0, pytest.approx(215_000.0, abs=5.0))


MS_PER_ORBIT_FRAMES = int(CFG.cyclic_period_s / FRAME_S)


def test_a_desaturation_needs_the_ros_bus():
    sim = harness()
    start = sim.start_ms
    k = first_frame(start, CFG.desat_threshold * CAPACITY)
    t_due = start + k * int(FRAME_S * 1000)
    sim.run(t_due - 3_600_000)
    do(sim, "power_off", "ROS")
    sim.run(t_due + 3_600_000)
    assert not log(sim, "desaturation")
    blocked = log(sim, "desaturation_blocked")
    assert len(blocked) == 1 and orbit.parse_iso(blocked[0]["t"]) == t_due and "ROS bus is down" in blocked[0]["reason"]
    do(sim, "power_on", "ROS")
    # With the bus back, the desaturation comes at the next frame the momentum is over 80 %.
    k_on = (sim.t_ms - start) // int(FRAME_S * 1000)
    k_next = first_frame(start, CFG.desat_threshold * CAPACITY, after=k_on)
    sim.run(sim.t_ms + int(CFG.cyclic_period_s * 1000))
    desats = log(sim, "desaturation")
    assert len(desats) == 1 and orbit.parse_iso(desats[0]["t"]) == start + k_next * int(FRAME_S * 1000)
    assert sim.current("att.momentum_fraction") < 0.2


def test_without_propulsion_state_desaturation_happens_without_propellant_accounting():
    sim = harness(tanks=None)
    k = first_frame(sim.start_ms, CFG.desat_threshold * CAPACITY)
    sim.run(sim.start_ms + (k + 1) * int(FRAME_S * 1000))
    assert len(log(sim, "desaturation")) == 1
    assert "prop.used_kg.desat" not in sim.state.totals


def test_cmg_failures_shrink_capacity_then_thrusters_hold_then_attitude_is_lost():
    sim = harness()
    sim.run(sim.start_ms + 86_400_000)
    h = sim.current("att.momentum_nms")
    do(sim, "cmg_fail", "cmg-1")
    do(sim, "cmg_fail", "cmg-2")
    sim.step()
    assert sim.current("att.cmgs_working") == 2
    assert sim.current("att.momentum_fraction") == pytest.approx(sim.current("att.momentum_nms") / (2 * 4_880.0))
    assert sim.current("att.momentum_nms") == pytest.approx(h, abs=50.0)
    # One more: too few CMGs; the thrusters hold attitude, at the hold rate.
    do(sim, "cmg_fail", "cmg-3")
    sim.step()
    fuel0 = sim.state["prop.propellant_kg"].sum()
    sim.run(sim.t_ms + 3_600_000)
    assert sim.current("att.thruster_hold") == 1.0 and sim.current("att.held") == 1.0
    rate = CFG.desat_kg_per_nms * (CFG.secular_torque_nm + 2 / math.pi * CFG.cyclic_momentum_nms
                                   * 2 * math.pi / CFG.cyclic_period_s)
    assert fuel0 - sim.state["prop.propellant_kg"].sum() == pytest.approx(rate * 3_600.0, rel=1e-9)
    assert 30.0 < rate * 86_400 < 150.0  # kg/day: an expensive way to hold a station
    # Thrusters disabled: nothing holds the station.
    sim.state["prop.thrusters_enabled"][0] = False
    sim.step()
    lost = log(sim, "lost")
    assert len(lost) == 1 and "disabled" in lost[0]["reason"] and sim.current("att.held") == 0.0
    # Two CMGs back: they take control again.
    do(sim, "cmg_repair", "cmg-3")
    do(sim, "cmg_repair", "cmg-2")
    sim.step()
    assert sim.current("att.cmgs_working") == 3 and sim.current("att.held") == 1.0
    assert sim.current("att.thruster_hold") == 0.0 and log(sim, "recovered")


def test_bad_attitude_events_are_refused_with_a_reason():
    sim = harness()
    do(sim, "cmg_fail", "cmg-9")
    do(sim, "stop_desat", "USOS")
    do(sim, "cmg_repair", "cmg-1")
    sim.step()
    reasons = [e["reason"] for e in sim.event_log() if e["result"] == "refused"]
    assert "CMGs are cmg-1, cmg-2, cmg-3, cmg-4" in reasons[0]
    assert "Russian segment" in reasons[1]
    assert "cmg-1 is working" in reasons[2]
    assert Attitude().validate(Event(0, "allow_desat")) is None
