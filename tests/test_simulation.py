"""The engine and the bundled scenarios against the acceptance figures.

Reference figures: sheet §4b (ppO2 19.5-23.1 kPa, 101.3 kPa nominal, CO2 5,300 ppm
24-hour limit), §5a (BVAD 0.816 kg O2 and 1.04 kg CO2 per crew-day); the issue's bands:
ppCO2 mean 2.0-4.0 mmHg and max below 5.3 mmHg, total pressure 97.9-102.7 kPa,
O2 0.80-0.90 and CO2 0.95-1.10 kg per crew-day, gas balance within 0.1 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from issim.physics.atmosphere import Atmosphere
from issim.physics.gas import CO2, GAMMA_AIR, MOLAR_MASS_KG_PER_MOL, O2, R_J_PER_MOL_K
from issim.physics.power import PowerBuses
from issim.scenario import build_simulation, gas_balance, load_scenario, summarize
from issim.sim import Event, Simulation, build_world
from issim.times import MS_PER_DAY


@pytest.fixture(scope="module")
def nominal_week():
    sim = build_simulation("nominal")
    sim.run(sim.start_ms + 7 * MS_PER_DAY)
    return sim, summarize(sim, "nominal")


def _crewed_volumes(sim) -> list[str]:
    """Every volume someone spent time in, from the recorded locations."""
    index = set()
    for key in (c.key for c in sim.channels() if c.key.endswith(".location")):
        index |= set(sim.telemetry(key)[1].astype(int).tolist())
    return [sim.world.volumes[i].id for i in sorted(index)]


def test_nominal_week_co2_in_every_crewed_module(nominal_week):
    sim, summary = nominal_week
    crewed = _crewed_volumes(sim)
    assert {"destiny", "harmony", "zvezda", "nauka"} <= set(crewed)
    for vid in crewed:
        co2 = summary["module_air"][vid]["pp_co2_mmhg"]
        assert 2.0 <= co2["mean"] <= 4.0, vid
        assert co2["max"] < 5.3, vid


def test_nominal_week_o2_and_total_pressure_in_every_crewed_module(nominal_week):
    sim, summary = nominal_week
    for vid in _crewed_volumes(sim):
        air = summary["module_air"][vid]
        assert 19.5 <= air["pp_o2_kpa"]["min"] and air["pp_o2_kpa"]["max"] <= 23.1, vid
        assert 97.9 <= air["pressure_kpa"]["min"] and air["pressure_kpa"]["max"] <= 102.7, vid


def test_nominal_week_metabolic_totals_per_crew_day(nominal_week):
    _, summary = nominal_week
    t = summary["totals"]
    assert t["crew_days"] == pytest.approx(49.0, abs=0.01)  # seven people, seven days
    assert 0.80 <= t["o2_consumed_kg"] / t["crew_days"] <= 0.90
    assert 0.95 <= t["co2_produced_kg"] / t["crew_days"] <= 1.10


def test_nominal_week_gas_balance_closes(nominal_week):
    sim, _ = nominal_week
    balance = gas_balance(sim)
    assert balance["relative_error"] < 1e-3  # the issue asks for 0.1 %; it closes to rounding
    assert balance["relative_error"] < 1e-9
    # And it is not trivially closed: gas really flowed in and out.
    assert balance["in_mol"][O2] > 100 and balance["out_mol"][CO2] > 100


def test_nominal_week_everyone_alive_and_well(nominal_week):
    _, summary = nominal_week
    assert all(c["alive"] and c["health"] > 0.99 for c in summary["crew"].values())
    assert not [e for e in summary["events"] if e.get("result") == "refused"]


# --------------------------------------------------------------------------- leaks


def _sealed(volume: str):
    """A station with only air physics and every hatch of ``volume`` closed."""
    world = build_world()
    sim = Simulation(world, [PowerBuses(), Atmosphere(world)], start_ms=0, frame_s=10)
    for link in world.links:
        if volume in (world.volumes[link.a].id, world.volumes[link.b].id):
            sim.state["hatch.open"][world.link_index[link.hatch]] = False
    return sim, world.index[volume]


@pytest.mark.parametrize("area_m2", [2.0e-5, 1.0e-3, 0.05])  # a 5 mm hole, a 36 mm hole, a hatch-sized gash
def test_leak_matches_the_closed_form_choked_orifice(area_m2):
    """One volume emptying to vacuum through a choked orifice, isothermal:

    p(t) = p0 exp(-t/τ), τ = V / (Cd A c* ), c* = sqrt(γ R T / M) (2/(γ+1))^((γ+1)/(2(γ-1))).
    Written out here from the textbook formula, independently of the module's helper.
    """
    sim, i = _sealed("poisk")
    volume_m3 = sim.world.volumes[i].volume_m3
    temperature_k = float(sim.state["atm.temperature_k"][i])
    n0 = sim.state["atm.moles"][i].copy()
    molar_kg = float(n0 @ MOLAR_MASS_KG_PER_MOL / n0.sum())
    p0 = float(sim.state["atm.pressure_pa"][i])
    c_star = math.sqrt(GAMMA_AIR * R_J_PER_MOL_K * temperature_k / molar_kg) * (2 / (GAMMA_AIR + 1)) ** (
        (GAMMA_AIR + 1) / (2 * (GAMMA_AIR - 1))
    )
    tau_s = volume_m3 / (0.61 * area_m2 * c_star)
    sim.schedule(Event(0, "hole", "poisk", (("area_m2", area_m2),)))
    for minutes in (1, 5, 30, 120):
        sim.run(minutes * 60_000)
        expected = p0 * math.exp(-(minutes * 60.0) / tau_s)
        got = float(sim.state["atm.pressure_pa"][i])
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
    # the rest of the station is untouched
    others = np.delete(sim.state["atm.pressure_pa"], i)
    assert np.allclose(others, p0)


def test_large_hole_with_hatches_open_is_stable_and_conserves_gas():
    world = build_world()
    sim = Simulation(world, [PowerBuses(), Atmosphere(world)], start_ms=0)
    sim.schedule(Event(0, "hole", "zvezda", (("area_m2", 0.5),)))
    previous = sim.state["atm.pressure_pa"].copy()
    for _ in range(90):  # 15 minutes
        sim.step()
        p = sim.state["atm.pressure_pa"]
        assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= previous + 1e-9)
        previous = p.copy()
    assert previous.max() < 0.05 * 101_300  # the whole station is near vacuum
    initial = sim.state["atm.initial_moles"].sum()
    leaked = sum(v for k, v in sim.state.totals.items() if k.startswith("gas.out_mol."))
    assert abs(initial - leaked - sim.state["atm.moles"].sum()) / initial < 1e-9


def test_hatch_cannot_be_opened_against_a_pressure_difference_until_equalised():
    sim, i = _sealed("poisk")
    sim.schedule(Event(0, "hole", "poisk", (("area_m2", 1e-3),)))
    sim.run(10 * 60_000)
    sim.schedule(Event(sim.t_ms, "patch", "poisk"))
    sim.schedule(Event(sim.t_ms, "open_hatch", "zvezda-poisk"))
    sim.step()
    refused = sim.event_log()[-1]
    assert refused["result"] == "refused" and "equalize" in refused["reason"]
    sim.schedule(Event(sim.t_ms, "equalize", "zvezda-poisk"))
    sim.run(sim.t_ms + 5 * 60_000)
    sim.schedule(Event(sim.t_ms, "open_hatch", "zvezda-poisk"))
    sim.step()
    assert sim.event_log()[-1]["result"] == "done"


def test_leak_scenario_isolates_then_recovers():
    sim = build_simulation("leak")
    sim.run(sim.start_ms + 3 * MS_PER_DAY)
    s = summarize(sim, "leak")
    poisk = s["module_air"]["poisk"]["pressure_kpa"]
    assert poisk["min"] < 10  # isolated with its hole, Poisk empties
    for vid in ("zvezda", "destiny"):
        assert s["module_air"][vid]["pressure_kpa"]["min"] > 95  # the rest of the station holds
    assert sim.current("atm.poisk.pressure_pa") > 97_000  # patched, reopened and filled again
    assert all(e["result"] == "done" for e in s["events"] if e["kind"] == "event")
    assert all(c["alive"] for c in s["crew"].values())


# --------------------------------------------------------------------------- isolation


def test_isolation_each_side_lives_on_its_own_machines():
    sim = build_simulation("isolation")
    idx = sim.world.index
    boundary = sim.world.link_index["zarya-pma-1"]
    sim.run(sim.start_ms + 2 * 3_600_000)  # isolated for an hour
    assert not sim.state["hatch.open"][boundary]
    us = [i for i, v in enumerate(sim.world.volumes) if v.segment == "USOS"]
    ru = [i for i, v in enumerate(sim.world.volumes) if v.segment == "ROS"]
    # Cut the Russian segment's power: only its side loses its machines.
    sim.schedule(Event(sim.t_ms, "power_off", "ROS"))
    before_us = sim.state["atm.moles"][us].sum(axis=0).copy()
    sim.run(sim.t_ms + 12 * 3_600_000)
    pp = sim.state["atm.pp_pa"]
    assert pp[idx["zvezda"], CO2] > 2 * pp[idx["destiny"], CO2]  # no scrubber left in the ROS
    assert pp[idx["zvezda"], O2] < pp[idx["destiny"], O2]
    assert not sim.current("ls.elektron.running") and sim.current("ls.oga.running") in (0.0, 1.0)
    # Nothing crossed the boundary: the US side's CO2 moles stayed near its own balance.
    assert abs(sim.state["atm.moles"][us, CO2].sum() - before_us[CO2]) < 0.5 * before_us[CO2]
    assert len(ru) + len(us) == len(sim.world.volumes)


def test_isolation_scenario_runs_to_its_end_with_both_sides_within_limits():
    sim = build_simulation("isolation")
    sim.run(sim.start_ms + 3 * MS_PER_DAY)
    s = summarize(sim, "isolation")
    ros, usos = s["module_air"]["zvezda"], s["module_air"]["destiny"]
    # Apart, the Russian side (3 crew on Vozdukh) runs higher in CO2 than the US side.
    assert ros["pp_co2_mmhg"]["max"] > usos["pp_co2_mmhg"]["max"]
    for air in (ros, usos):
        assert air["pp_co2_mmhg"]["max"] < 5.3 and air["pp_o2_kpa"]["min"] > 19.5


# --------------------------------------------------------------------------- determinism


def test_snapshot_restore_continues_bit_identically():
    sim = build_simulation("leak")
    sim.run(sim.start_ms + 3 * 3_600_000)
    snap = sim.snapshot()
    sim.run(sim.start_ms + 8 * 3_600_000)
    first = sim.state.copy()
    first_series = sim.telemetry("atm.zvezda.pp_co2_pa")
    sim.restore(snap)
    assert sim.state.t_ms == snap.state.t_ms
    sim.run(sim.start_ms + 8 * 3_600_000)
    assert sim.state.identical(first)
    again = sim.telemetry("atm.zvezda.pp_co2_pa")
    assert np.array_equal(first_series[0], again[0]) and first_series[1].tobytes() == again[1].tobytes()


def test_snapshot_restores_into_a_fresh_simulation():
    a = build_simulation("nominal")
    a.run(a.start_ms + 3 * 3_600_000)
    snap = a.snapshot()
    a.run(a.start_ms + 6 * 3_600_000)
    b = build_simulation("nominal")
    b.restore(snap)
    b.run(b.start_ms + 6 * 3_600_000)
    assert a.state.identical(b.state) and a.event_log_sha256() == b.event_log_sha256()


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        sim = build_simulation("leak", seed=7)
        sim.run(sim.start_ms + MS_PER_DAY // 2)
        runs.append(sim)
    assert runs[0].state.identical(runs[1].state)
    assert runs[0].event_log_sha256() == runs[1].event_log_sha256()


def test_a_different_seed_differs_where_randomness_matters():
    digests = set()
    for seed in (1, 2, 3, 4):
        sim = build_simulation(load_scenario("nominal"), seed=seed)
        for hatch in ("zarya-zvezda", "zvezda-poisk", "zvezda-nauka", "zvezda-progress"):
            sim.schedule(Event(sim.start_ms, "close_hatch", hatch))
        sim.schedule(Event(sim.start_ms + 60_000, "hole", "zvezda", (("area_m2", 0.01),)))
        sim.run(sim.start_ms + 30 * 60_000)
        deaths = [e for e in sim.event_log() if e["kind"] == "crew" and e.get("what") == "died"]
        assert deaths, "the Russian crew in a holed, sealed Zvezda die"
        digests.add(sim.event_log_sha256())
    assert len(digests) > 1
    # ... while under nominal conditions no random draw happens, so seeds agree.
    a = build_simulation("nominal", seed=1)
    b = build_simulation("nominal", seed=2)
    for sim in (a, b):
        sim.run(sim.start_ms + MS_PER_DAY // 4)
    assert a.event_log_sha256() == b.event_log_sha256()


def test_summary_has_the_documented_keys(nominal_week):
    _, s = nominal_week
    assert {
        "scenario", "seed", "version", "start", "end", "frames", "event_log_sha256",
        "module_air", "totals", "crew", "events",
    } <= set(s)
    assert set(s["orbit"]) >= {"alt_km", "reboosts"}
    assert set(s["totals"]) >= {"o2_consumed_kg", "co2_produced_kg", "o2_generated_kg", "crew_days"}
    air = s["module_air"]["zvezda"]
    assert set(air) == {"pressure_kpa", "pp_o2_kpa", "pp_co2_mmhg"}
    assert set(air["pp_co2_mmhg"]) == {"min", "max", "mean"}
    for person in s["crew"].values():
        assert {"alive", "location", "health"} <= set(person)
    assert s["frames"] == 7 * 8640
