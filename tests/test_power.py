"""Electrical power against the sheet and the orbit.

Reference figures: sheet §3 (8 wings, 215 kW after the iROSA upgrade, ~160 kW legacy
degraded, 84-120 kW orbit average, 24 BCDUs of 6.6 kW, 16 cycles a day, IMV fan 55 W),
§8 (eclipse 36.0 min at beta = 0, none above beta ~70°). The normal state-of-charge band
(0.65-1.00) is the 35 % maximum depth of discharge of the ISS batteries (NTRS
20180003481, cited in power.toml). Eclipses are checked against :mod:`issim.orbit`.
"""

from __future__ import annotations

import json
import math
import tomllib
from importlib import resources

import numpy as np
import pytest

from issim.scenario import build_simulation
from issim import orbit
from issim.physics.atmosphere import Atmosphere
from issim.physics.attitude import Attitude
from issim.physics.lifesupport import LifeSupport
from issim.physics.power import USOS, ROS, BatteryConfig, Power, PowerBuses, balance, load_power_config
from issim.sim import Event, Simulation, build_world
from issim.times import MS_PER_DAY

NOMINAL_START = "2025-03-10T00:00:00Z"  # the nominal scenario's start, beta 30-47°
BETA_ZERO_START = "2024-11-21T00:00:00Z"  # beta near 0 (the bundled history)
HIGH_BETA_START = "2024-12-09T00:00:00Z"  # beta -74.5° at the start: no eclipse
FRAME_MS = 10_000


def harness(start_iso: str, life: bool = True) -> Simulation:
    """Power and attitude (and, by default, life support and air) on the real orbit."""
    start = orbit.parse_iso(start_iso)
    world = build_world()
    subs = [Power(world), Attitude(world)] + ([LifeSupport(world), Atmosphere(world)] if life else [])
    return Simulation(world, subs, start_ms=start, elements=orbit.elements_for(start))


def power_of(sim: Simulation) -> Power:
    return next(s for s in sim.subsystems if s.name == "power")


def do(sim, kind, target="", **args):
    sim.schedule(Event(sim.t_ms, kind, target, tuple(args.items()), source="test"))


def step_frames(sim: Simulation, n: int):
    """Step ``n`` frames; per frame its start time and the USOS and ROS generation (W)."""
    t = np.empty(n, dtype=np.int64)
    gen = np.empty((n, 2))
    for k in range(n):
        t[k] = sim.t_ms
        sim.step()
        gen[k] = sim.state["power.generated_w"]
    return t, gen


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, length) of each run of True that neither starts nor ends at an edge."""
    edges = np.diff(mask.astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1) + 1
    ends = ends[ends > starts[0]] if len(starts) else ends
    return [(int(a), int(b - a)) for a, b in zip(starts, ends)]


# --------------------------------------------------------------------------- data


def test_every_figure_in_power_toml_has_a_source_or_an_estimate_label():
    raw = tomllib.loads(resources.files("issim.data").joinpath("power.toml").read_text())
    sources = raw["sources"]
    assert sources["estimate"].startswith("estimate:")
    rows = [(name, table) for name, table in raw.items() if name != "sources"]
    rows += [(f"wing {w['id']}", w) for w in raw["usos_arrays"]["wing"]]
    checked = 0
    for where, row in rows:
        for key, value in row.items():
            if key.endswith(("_src", "_note")) or key in ("id", "wing"):
                continue
            src = row.get(f"{key}_src")
            assert src, f"{where}: {key} needs {key}_src"
            for s in src:
                assert s in sources, f"{where}: {key}_src names {s!r}, which is not in [sources]"
            if "estimate" in src:
                assert row.get(f"{key}_note", "").startswith("estimate:"), f"{where}: {key}_note must start 'estimate:'"
            checked += 1
    assert checked > 50


def test_array_capacity_reconciles_the_sheets_figures():
    cfg = load_power_config()
    assert len(cfg.wings) == 8 and sum(w.irosa for w in cfg.wings) == 6  # §3
    assert cfg.usos_capacity_w == pytest.approx(215_000.0, abs=5.0)  # after the upgrade
    assert 8 * 20_000.0 == pytest.approx(160_000.0)  # the legacy wings degraded, as the data reads them
    usos, ros = cfg.batteries
    assert usos.limit_w == pytest.approx(24 * 6_600.0)  # BCDUs
    assert (usos.band_low_soc, usos.band_high_soc) == (0.65, 1.0)  # 35 % max depth of discharge
    assert usos.energy_j == pytest.approx(24 * 8.0 * 3.6e6)  # 48 Ni-H2 x 4 kWh, one Li-ion for two
    assert cfg.imv_fan_w == 55.0
    assert cfg.ros_arrays_sun_w["zarya"] == 0.0  # retracted
    assert cfg.ros_arrays_sun_w["nauka"] * 0.613 == pytest.approx(2_500.0)


def test_a_typo_in_power_toml_is_an_error_that_names_the_figure():
    text = resources.files("issim.data").joinpath("power.toml").read_text()
    assert "\nlimit_w = 12_000.0" in text
    with pytest.raises(ValueError, match=r"\[ros_battery\]: missing figure 'limit_w'"):
        load_power_config(text.replace("\nlimit_w = 12_000.0", "\nlimt_w = 12_000.0"))


# --------------------------------------------------------------------------- one bus

BATTERY = BatteryConfig(energy_j=100.0 * 3600, limit_w=1e6, charge_efficiency=1.0, discharge_efficiency=1.0,
                        initial_soc=1.0, band_low_soc=0.65, band_high_soc=1.0, floor_soc=0.30, empty_soc=0.05)
FLOOR_J, EMPTY_J = 0.30 * BATTERY.energy_j, 0.05 * BATTERY.energy_j


def test_a_short_bus_sheds_payloads_first_then_housekeeping_never_essentials():
    tiers = (50.0, 30.0, 60.0)  # payloads, housekeeping, essentials (W)
    used, energy, served, ok, short = balance(100.0, tiers, FLOOR_J, BATTERY, 10.0)
    assert ok and short and served == [10.0, 30.0] and used == 100.0 and energy == FLOOR_J
    used, energy, served, ok, short = balance(70.0, tiers, FLOOR_J, BATTERY, 10.0)
    assert ok and served == [0.0, 10.0]
    # Below the floor only essentials may use the battery.
    used, energy, served, ok, short = balance(50.0, tiers, FLOOR_J, BATTERY, 10.0)
    assert ok and served == [0.0, 0.0] and energy == pytest.approx(FLOOR_J - 10.0 * 10.0)
    # Above the floor the battery carries everything.
    used, energy, served, ok, short = balance(0.0, tiers, BATTERY.energy_j, BATTERY, 10.0)
    assert ok and not short and served == [50.0, 30.0] and energy == pytest.approx(BATTERY.energy_j - 1_400.0)


def test_a_bus_whose_essentials_cannot_be_carried_goes_down_and_only_charges():
    used, energy, served, ok, short = balance(50.0, (50.0, 30.0, 60.0), EMPTY_J, BATTERY, 10.0)
    assert not ok and short and served == [0.0, 0.0]
    assert used == 50.0 and energy == pytest.approx(EMPTY_J + 500.0)


def test_while_shedding_the_battery_charges_before_the_shed_loads_come_back():
    used, energy, served, ok, short = balance(100.0, (50.0, 30.0, 60.0), 0.5 * BATTERY.energy_j, BATTERY, 10.0,
                                              shedding=True)
    assert ok and served == [0.0, 0.0] and used == 100.0
    assert energy == pytest.approx(0.5 * BATTERY.energy_j + 40.0 * 10.0)


# --------------------------------------------------------------------------- the nominal week


@pytest.fixture(scope="module")
def nominal_week():
    sim = build_simulation("nominal")
    daily_kw = []
    before = 0.0
    for day in range(7):
        sim.run(sim.start_ms + (day + 1) * MS_PER_DAY)
        gen = sim.state.totals["power.usos_generated_j"]
        daily_kw.append((gen - before) / 86_400.0 / 1000.0)
        before = gen
    return sim, daily_kw


def test_nominal_runs_power_then_attitude_first(nominal_week):
    sim, _ = nominal_week
    names = [s.name for s in sim.subsystems]
    assert names[:2] == ["power", "attitude"]
    assert names.index("attitude") < names.index("lifesupport")


def test_nominal_week_keeps_the_us_battery_in_its_band(nominal_week):
    sim, _ = nominal_week
    s = power_of(sim).summary(sim.state)
    band = power_of(sim).config.batteries[USOS]
    assert band.band_low_soc <= s["usos_soc_min"] and s["usos_soc_max"] <= band.band_high_soc
    assert s["usos_soc_min"] < 0.85  # the batteries really cycle: ~25-30 % depth of discharge
    t, soc = sim.telemetry("power.USOS.soc")
    assert soc.min() >= band.band_low_soc and len(t) > 10_000


def test_nominal_week_daily_mean_generation_is_the_sheets_orbit_average(nominal_week):
    sim, daily_kw = nominal_week
    assert all(84.0 <= kw <= 120.0 for kw in daily_kw), daily_kw  # sheet §3, no tolerance added
    s = power_of(sim).summary(sim.state)
    assert s["usos_mean_generated_kw"] == pytest.approx(np.mean(daily_kw), abs=1e-4)  # rounded
    # Generation follows the load: it exceeds the loads by the losses, not by the capacity.
    assert s["usos_load_kwh"] < s["usos_generated_kwh"] < 1.25 * (s["usos_load_kwh"] + s["transfer_to_ros_kwh"])


def test_nominal_week_sheds_nothing_and_keeps_every_bus_up(nominal_week):
    sim, _ = nominal_week
    s = power_of(sim).summary(sim.state)
    assert s["usos_shed_kwh"] == 0.0 and s["ros_shed_kwh"] == 0.0
    assert s["usos_bus_down_h"] == 0.0 and s["ros_bus_down_h"] == 0.0
    assert s["transfer_to_ros_kwh"] > 0  # Zarya and the ROS draw on the USOS
    assert not [e for e in sim.event_log() if e["kind"] == "power"]


def test_summary_is_plain_numbers(nominal_week):
    sim, _ = nominal_week
    s = power_of(sim).summary(sim.state)
    assert json.loads(json.dumps(s)) == s
    for key in ("usos_generated_kwh", "usos_mean_generated_kw", "usos_soc_min", "ros_soc_min", "usos_shed_kwh",
                "ros_shed_kwh", "transfer_to_ros_kwh"):
        assert isinstance(s[key], float), key


# --------------------------------------------------------------------------- sunlight and eclipse


def test_generation_is_zero_exactly_in_the_orbits_eclipse_frames_and_eclipses_last_36_min_at_beta_0():
    sim = harness(BETA_ZERO_START, life=False)
    elements = orbit.elements_for(sim.start_ms)
    assert abs(float(orbit.beta_angle_deg(elements, np.array([sim.start_ms]))[0])) < 5.0
    t, gen = step_frames(sim, MS_PER_DAY // FRAME_MS)
    sunlit = orbit.sunlit(elements, t)
    assert np.array_equal(gen[:, USOS] == 0.0, ~sunlit)
    assert np.array_equal(gen[:, ROS] == 0.0, ~sunlit)
    assert gen[sunlit, USOS].min() > 50_000.0
    # Each eclipse power saw matches the orbit module's, to a frame.
    eclipses = orbit.eclipses(elements, int(t[0]), int(t[-1]) + FRAME_MS)
    runs = runs_of(gen[:, USOS] == 0.0)
    assert len(runs) >= 14
    for first, length in runs:
        start = int(t[first])
        match = min(eclipses, key=lambda iv: abs(iv.start_ms - start))
        assert abs(match.start_ms - start) <= FRAME_MS
        assert abs(match.duration_s - length * FRAME_MS / 1000.0) <= FRAME_MS / 1000.0
        assert length * FRAME_MS / 60_000.0 == pytest.approx(36.0, abs=0.5)  # sheet §8, beta = 0


def test_no_eclipse_and_no_gap_in_generation_at_high_beta():
    sim = harness(HIGH_BETA_START, life=False)
    elements = orbit.elements_for(sim.start_ms)
    t, gen = step_frames(sim, MS_PER_DAY // (2 * FRAME_MS))
    beta = orbit.beta_angle_deg(elements, t)
    assert beta.max() < -70.0
    assert orbit.eclipses(elements, int(t[0]), int(t[-1])) == []
    assert gen[:, USOS].min() > 0.0 and gen[:, ROS].min() > 0.0
    # The Russian arrays turn on one axis only: cos(beta) of their output in sunlight.
    ros_sun_w = power_of(sim).config.ros_sun_w
    assert sim.state["power.available_w"][ROS] == pytest.approx(ros_sun_w * math.cos(math.radians(beta[-1])), rel=1e-6)
    assert sim.state["power.available_w"][USOS] == pytest.approx(215_000.0, abs=5.0)  # the beta gimbal corrects
    assert sim.state["power.soc"][USOS] == 1.0  # no eclipse, nothing to carry


# --------------------------------------------------------------------------- converters and shedding


def test_converters_off_with_a_ros_deficit_sheds_ros_loads_and_the_ros_bus_fails_while_the_usos_is_unaffected():
    sim = harness(NOMINAL_START)
    life = next(s for s in sim.subsystems if s.name == "lifesupport")
    elektron = life.machine_index["elektron"]
    do(sim, "converters_off", "ROS")
    elektron_ran_while_down = False
    ros_went_down = False
    for _ in range(MS_PER_DAY // FRAME_MS):
        sim.step()
        assert sim.state["power.transfer_w"][0] == 0.0
        assert sim.state["power.bus"][USOS] and sim.state["power.shed_w"][USOS] == 0.0
        if not sim.state["power.bus"][ROS]:
            ros_went_down = True
            elektron_ran_while_down |= bool(sim.state["ls.running"][elektron])
    s = power_of(sim).summary(sim.state)
    assert s["ros_shed_kwh"] > 10.0 and ros_went_down and not elektron_ran_while_down
    assert s["ros_bus_down_h"] > 1.0 and s["ros_soc_min"] < 0.1
    assert s["usos_shed_kwh"] == 0.0 and s["usos_soc_min"] >= 0.65
    kinds = [(e["segment"], e["what"]) for e in sim.event_log() if e["kind"] == "power"]
    assert ("ROS", "shedding") in kinds and ("ROS", "bus_down") in kinds and ("ROS", "bus_restored") in kinds
    assert not [k for k in kinds if k[0] == "USOS"]
    # With the converters back, the ROS is fed and comes back for good.
    do(sim, "converters_on", "ROS")
    sim.run(sim.t_ms + MS_PER_DAY // 2)
    assert sim.state["power.bus"][ROS] and sim.state["power.transfer_w"][0] > 0
    assert sim.state["power.soc"][ROS] > 0.9


def test_with_the_converters_on_the_same_day_sheds_nothing():
    sim = harness(NOMINAL_START)
    sim.run(sim.start_ms + MS_PER_DAY)
    s = power_of(sim).summary(sim.state)
    assert s["ros_shed_kwh"] == 0.0 and s["ros_bus_down_h"] == 0.0 and s["ros_soc_min"] == 1.0


def test_power_off_ros_stops_elektron_and_power_on_restores_it():
    sim = harness(NOMINAL_START)
    life = next(s for s in sim.subsystems if s.name == "lifesupport")
    sim.run(sim.start_ms + 3_600_000)
    do(sim, "power_off", "ROS")
    sim.run(sim.t_ms + 20 * 60_000)
    assert not sim.current("ls.elektron.running") and sim.current("ls.elektron.power_w") == 0.0
    assert sim.current("ls.oga.running") == 1.0
    # An operator's cut is not a shortage: nothing is counted as shed, nothing is served.
    assert sim.current("power.ROS.load_w") == 0.0 and sim.current("power.ROS.shed_w") == 0.0
    assert sim.current("power.USOS.bus") == 1.0 and sim.current("power.USOS.shed_w") == 0.0
    do(sim, "power_on", "ROS")
    sim.step()
    sim.step()
    assert sim.current("ls.elektron.running") == 1.0 and sim.state["ls.running"][life.machine_index["elektron"]]
    assert sim.current("power.ROS.load_w") > 5_000.0
    assert {e["action"] for e in sim.event_log() if e["kind"] == "event"} == {"power_off", "power_on"}
    assert not [e for e in sim.event_log() if e["kind"] == "power"]  # no shortage was involved


def test_a_failed_wing_takes_its_output_away_until_repaired():
    sim = harness(HIGH_BETA_START, life=False)
    sim.step()
    before = float(sim.state["power.available_w"][USOS])
    do(sim, "array_fail", "1A")
    sim.step()
    assert before - float(sim.state["power.available_w"][USOS]) == pytest.approx(29_167.0)
    do(sim, "array_fail", "1A")
    do(sim, "array_fail", "9Z")
    do(sim, "array_repair", "1A")
    sim.step()
    assert float(sim.state["power.available_w"][USOS]) == pytest.approx(before)
    refused = [e for e in sim.event_log() if e["result"] == "refused"]
    assert "already failed" in refused[0]["reason"]
    assert "wings are 1A, 1B, 2A, 2B, 3A, 3B, 4A, 4B" in refused[1]["reason"]


def test_bad_power_events_are_refused_with_a_reason():
    p = Power()
    assert "segments are USOS, ROS" in p.validate(Event(0, "power_off", "Zvezda"))
    assert "target 'ROS'" in p.validate(Event(0, "converters_off", "USOS"))
    assert p.validate(Event(0, "converters_on")) is None


def test_the_placeholder_buses_stay_importable():
    world = build_world()
    sim = Simulation(world, [PowerBuses(), Atmosphere(world)], start_ms=0)
    do(sim, "power_off", "ROS")
    sim.step()
    assert sim.state["power.bus"].tolist() == [True, False]


# --------------------------------------------------------------------------- snapshots


def test_snapshot_restore_is_bit_identical_with_power_and_attitude():
    sim = harness(NOMINAL_START)
    sim.state["prop.propellant_kg"] = np.array([100.0, 200.0])
    start = sim.start_ms
    sim.schedule(Event(start + 3 * 3_600_000, "converters_off", "ROS"))
    sim.schedule(Event(start + 3 * 3_600_000, "stop_desat", "ROS"))
    sim.schedule(Event(start + 4 * 3_600_000, "cmg_fail", "cmg-2"))
    sim.schedule(Event(start + 5 * 3_600_000, "array_fail", "3A"))
    sim.run(start + 2 * 3_600_000)
    snap = sim.snapshot()
    sim.run(start + 9 * 3_600_000)
    first = sim.state.copy()
    series = sim.telemetry("power.ROS.soc")
    sim.restore(snap)
    sim.run(start + 9 * 3_600_000)
    assert sim.state.identical(first)
    again = sim.telemetry("power.ROS.soc")
    assert series[1].tobytes() == again[1].tobytes()
    assert first["power.shed_w"][ROS] >= 0 and any(e[1] == "power" for e in first.log)
