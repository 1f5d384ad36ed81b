"""History: the station's eras, and the two bundled leak scenarios against published figures.

The published figures (the issue and docs/scenarios.md, "History scenarios", give their
sources): the Soyuz MS-09 hole of August 2018 let the station's pressure fall by about
0.8 mmHg an hour, and a top-up of about 14 kg raised it by about 10 mmHg; the 2019-2020
leak in Zvezda's transfer tunnel (PrK), as large as a 0.2 mm hole, cost about 0.4 mmHg a
day. Each test states its tolerance and why.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from issim.errors import InputError
from issim.physics.gas import MOLAR_MASS_KG_PER_MOL, PA_PER_MMHG, SPECIES, gas_totals_key
from issim.scenario import build_simulation
from issim.sim import Event
from issim.station import load_station
from issim.times import MS_PER_DAY

HOUR_MS = 3_600_000


def _mean_pressure_mmhg(sim) -> float:
    """The station's pressure as one number: moles over volume, all volumes together."""
    volumes = np.array([v.volume_m3 for v in sim.world.volumes])
    p = sim.state["atm.pressure_pa"]
    return float((p * volumes).sum() / volumes.sum()) / PA_PER_MMHG


def _air_kg(sim) -> float:
    return float((sim.state["atm.moles"] @ MOLAR_MASS_KG_PER_MOL).sum())


def _leaked_kg(sim) -> float:
    return sum(sim.state.totals.get(gas_totals_key("out", s, "leak"), 0.0) * MOLAR_MASS_KG_PER_MOL[i]
               for i, s in enumerate(SPECIES))


def _leak_rate_mmhg(sim, t0_ms: int, t1_ms: int) -> tuple[float, float]:
    """(the leak's loss as station pressure per hour over [t0, t1], the fall of the mean
    pressure over the same span in mmHg)."""
    sim.run(t0_ms)
    kg0, p0 = _leaked_kg(sim), _mean_pressure_mmhg(sim)
    sim.run(t1_ms)
    kg1, p1 = _leaked_kg(sim), _mean_pressure_mmhg(sim)
    hours = (t1_ms - t0_ms) / HOUR_MS
    # the mass lost as a share of the air aboard, times the pressure that air makes
    per_hour = (kg1 - kg0) / (_air_kg(sim) + (kg1 - kg0) / 2) * (p0 + p1) / 2 / hours
    return per_hour, p0 - p1


# ------------------------------------------------------------------------ eras


def test_each_era_is_a_whole_station_of_its_day():
    eras = {e.id: e for e in load_station().eras}
    assert list(eras) == ["2018", "2020", "2024"]
    assert load_station().station.era == "2024"  # the last era is the default
    old, today = load_station(era="2018"), load_station(era="2024")
    old_ids, new_ids = {m.id for m in old.modules}, {m.id for m in today.modules}
    assert {"pirs"} <= old_ids and not {"nauka", "prichal", "bishop"} & old_ids
    assert {"nauka", "prichal", "bishop"} <= new_ids and "pirs" not in new_ids
    assert old.port("zvezda-nadir").attached == "pirs" and today.port("zvezda-nadir").attached == "nauka"
    assert "crew-dragon" not in {v.id for v in old.vehicles}
    # IDA-3 arrived in August 2019: on the 2018 station PMA-3's port has no adapter.
    assert all(p.adapter != "ida-3" for p in old.ports)
    assert any(p.adapter == "ida-3" for p in load_station(era="2020").ports)
    # Both stations hang together (one hatch graph) and keep the PrK as its own volume.
    for st in (old, today):
        assert st.path("prk", "destiny")


def test_the_2018_station_volume_against_the_published_totals():
    # 916 m³ (NASA 2014) and 931.57 m³ (2016) are the totals before Nauka. Our 2018 sum
    # is about 5 % under 916 because about 40 % of it rests on estimates (the same ones as
    # today's, see test_station); 10 % below and 5 % above are allowed.
    old = load_station(era="2018")
    low, high = old.station.reference_volume_range_m3
    assert (low, high) == (916.0, 931.57)
    assert 0.9 * low <= old.total_pressurized_volume_m3() <= 1.05 * high
    assert old.total_pressurized_volume_m3() < load_station().total_pressurized_volume_m3()


def test_an_unknown_era_is_one_clear_error(tmp_path):
    with pytest.raises(InputError) as err:
        load_station(era="1998")
    assert "no era '1998'" in err.value.message and "2018" in err.value.message
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "s"\ntitle = "t"\nstart = 2018-08-30T00:00:00Z\ndays = 0.1\n'
                    '[station]\nera = "1998"\n')
    with pytest.raises(InputError) as err:
        build_simulation(str(path))
    assert err.value.source.endswith(":station.era") and "2018, 2020, 2024" in err.value.message


def test_the_russian_arrays_follow_the_era():
    # Nauka's arrays (2.5 kW orbit average) are not there in 2018.
    old = build_simulation("ms09-leak")
    new = build_simulation("nominal")
    power = lambda sim: next(s for s in sim.subsystems if s.name == "power")  # noqa: E731
    assert power(new).ros_sun_w - power(old).ros_sun_w == pytest.approx(2_500.0 / 0.613, rel=1e-6)


# ------------------------------------------------------------------------ MS-09, 2018


@pytest.fixture(scope="module")
def ms09():
    return build_simulation("ms09-leak")


def test_ms09_hole_drains_the_2018_station_at_the_published_rate(ms09):
    # Published: about 0.8 mmHg an hour. The hole's published size is 2 mm (NASA) or
    # 1.5 mm (Roscosmos); the scenario takes 1.75 mm, so the size alone leaves the area,
    # and the rate with it, uncertain by -27 % / +31 %. Tolerance: ±35 %.
    start = ms09.start_ms
    per_hour, fall = _leak_rate_mmhg(ms09, start + 2 * HOUR_MS, start + 11 * HOUR_MS)
    assert per_hour == pytest.approx(0.8, rel=0.35)
    # The pressure the crew would read falls by the leak's nitrogen and less of its
    # oxygen: the O2 generators follow the falling ppO2 and make the oxygen's part (about
    # a fifth) up. Within 1 mmHg over 9 hours (CO2 and humidity move a little on their own).
    n = ms09.state["atm.moles"].sum(axis=0)
    o2_share = n[SPECIES.index("o2")] / n.sum()
    assert fall == pytest.approx(per_hour * 9 * (1 - o2_share), abs=1.0)
    assert ms09.state["atm.leak_kg_per_day"][ms09.world.index["soyuz-ms"]] > 0


def test_ms09_patch_stops_the_leak_and_the_top_up_raises_about_10_mmhg(ms09):
    # Published: a top-up of about 14 kg raised the pressure by about 10 mmHg. The rise
    # depends only on the gas and the station's volume (ours is 5 % under NASA's
    # total, see above). Tolerance: ±15 %.
    start = ms09.start_ms
    ms09.run(start + 13 * HOUR_MS)
    assert ms09.state["atm.leak_area_m2"].sum() == 0.0
    assert ms09.state["atm.leak_kg_per_day"].sum() == 0.0
    ms09.run(start + 36 * HOUR_MS - ms09.dt_ms)
    before, kg_before = _mean_pressure_mmhg(ms09), _air_kg(ms09)
    ms09.run(start + 37 * HOUR_MS)
    rise, added = _mean_pressure_mmhg(ms09) - before, _air_kg(ms09) - kg_before
    assert added == pytest.approx(14.0, abs=0.5)  # the crew and machines move little in an hour
    assert rise == pytest.approx(10.0, rel=0.15)


# ------------------------------------------------------------------------ PrK, 2020


def test_prk_leak_costs_about_0_4_mmhg_a_day_then_only_the_tunnel_loses():
    # Published: a leak the size of a 0.2 mm hole cost about 0.4 mmHg a day. A leak sized
    # from its rate is an equivalent (ideal, Cd = 1) hole; the station is the 2020 one.
    # Tolerance: ±30 % (the station's volume is 5 % under NASA's total; "about 0.4").
    sim = build_simulation("prk-leak")
    start = sim.start_ms
    per_hour, _ = _leak_rate_mmhg(sim, start + HOUR_MS, start + 2 * MS_PER_DAY - HOUR_MS)
    assert per_hour * 24 == pytest.approx(0.4, rel=0.30)
    # With the PrK's hatch to Zvezda closed (+2 d), the tunnel and the Progress docked
    # behind it (11.1 m³ together) lose their air alone: tens of mmHg a day.
    shut = [sim.world.index["prk"], sim.world.index["progress-ms"]]
    sim.run(start + 2 * MS_PER_DAY + HOUR_MS)
    p0 = sim.state["atm.pressure_pa"][shut].copy()
    kg0, leaked0 = float((sim.state["atm.moles"][shut] @ MOLAR_MASS_KG_PER_MOL).sum()), _leaked_kg(sim)
    sim.run(start + 3 * MS_PER_DAY)
    fall = (p0 - sim.state["atm.pressure_pa"][shut]) / PA_PER_MMHG
    assert np.all((10.0 < fall) & (fall < 100.0))
    # all that leaked since came out of their air (nothing crosses a closed hatch)
    kg1 = float((sim.state["atm.moles"][shut] @ MOLAR_MASS_KG_PER_MOL).sum())
    assert _leaked_kg(sim) - leaked0 == pytest.approx(kg0 - kg1, rel=1e-6)


# ------------------------------------------------------------------------ leak arguments


@pytest.mark.parametrize("args, cd", [
    ((("diameter_mm", 2.0),), 0.61),
    ((("diameter_mm", 2.0), ("cd", 0.4)), 0.4),
    ((("equivalent_diameter_mm", 2.0),), 1.0),
])
def test_a_hole_by_its_size_sets_the_effective_area(args, cd):
    sim = build_simulation("nominal")
    assert sim.schedule(Event(sim.t_ms, "hole", "poisk", args)) is None
    sim.step()
    assert sim.state["atm.leak_area_m2"][sim.world.index["poisk"]] == pytest.approx(cd * math.pi / 4 * 0.002**2)


def test_a_leak_by_mass_rate_loses_that_much_at_first():
    sim = build_simulation("nominal")
    sim.schedule(Event(sim.t_ms, "hole", "zvezda", (("kg_per_day", 1.4),)))
    sim.step()
    assert sim.state["atm.leak_kg_per_day"][sim.world.index["zvezda"]] == pytest.approx(1.4, rel=1e-3)


@pytest.mark.parametrize("args, problem", [
    ((("diameter_mm", 2.0), ("kg_per_day", 1.0)), "exactly one of"),
    ((), "exactly one of"),
    ((("equivalent_diameter_mm", 0.2), ("cd", 0.5)), "args.cd goes with"),
    ((("diameter_mm", 2.0), ("cd", 1.5)), "discharge coefficient"),
    ((("kg_per_day", -1.0),), "args.kg_per_day"),
    ((("diameter_mm", True),), "args.diameter_mm"),
])
def test_malformed_holes_are_refused_with_the_reason(args, problem):
    sim = _refused("hole", "poisk", args, problem)
    assert not sim.state["atm.leak_area_m2"].any()


def _refused(action: str, target: str, args: tuple, problem: str):
    """A nominal simulation after one frame with that event: it was refused for ``problem``."""
    sim = build_simulation("nominal")
    sim.schedule(Event(sim.t_ms, action, target, args))
    sim.step()
    (entry,) = [e for e in sim.event_log() if e.get("action") == action]
    assert entry["result"] == "refused" and problem in entry["reason"]
    return sim


# ------------------------------------------------------------------------ burns by duration


def test_a_progress_burn_by_duration_matches_a_published_reboost():
    # Progress M-29M, 11 Jan 2016: 1,003 s raised the mean altitude by about 3 km (sheet
    # §6). The engine's thrust was derived from another flight (MS-24, 905.7 s for
    # 1.43 m/s), so this is a check, not a fit. Tolerance: ±15 % (station mass and
    # altitude differ between 2016 and today's figures).
    sim = build_simulation("nominal")
    before = float(sim.state["orbit.mean_alt_km"][0])
    sim.schedule(Event(sim.t_ms, "burn", "progress-ms", (("duration_s", 1003.0),)))
    sim.step()
    (burn,) = sim.state.facts["prop.reboosts"]
    assert burn[4] == pytest.approx(1003.0, rel=1e-3)  # the recorded duration is the one asked
    assert float(sim.state["orbit.mean_alt_km"][0]) - before == pytest.approx(3.0, rel=0.15)


@pytest.mark.parametrize("args, problem", [
    ((("dv_m_s", 1.0), ("duration_s", 100.0)), "exactly one of"),
    ((), "exactly one of"),
    ((("duration_s", 0.0),), "args.duration_s"),
])
def test_malformed_burns_are_refused(args, problem):
    sim = _refused("burn", "progress-ms", args, problem)
    assert sim.state.facts["prop.reboosts"] == ()


def test_a_burn_command_by_duration_goes_through_the_pipeline():
    from issim.control import Command

    sim = build_simulation("nominal")
    (result,) = sim.step({"operator": [Command.of("burn", "operator", "progress-ms", duration_s=300.0)]}).commands
    assert result.result == "done", result
    assert sim.state.facts["prop.reboosts"][0][4] == pytest.approx(300.0, rel=1e-3)
