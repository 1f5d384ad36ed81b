"""The crew's bodies: schedule, BVAD metabolism, gas balance, harm, movement, seeding.

Reference values come from the reference sheet (iss-facts.md): §5a (per-day figures),
§5b (BVAD per-activity rates and the sheet's DERIVED daily totals O2 ≈ 0.82 kg,
CO2 ≈ 1.04 kg, vapour ≈ 1.92 kg per person-day), §5c (time of useful consciousness:
6-8 s at vacuum), §4b (CO2 symptom ladder). Harm thresholds that the sheet lacks are
estimates in issim.physics.crew; the tests check their order of magnitude.
"""


import numpy as np
import pytest

from issim.physics.atmosphere import Atmosphere
from issim.physics.crew import (
    ACTIVITY_NAMES,
    DEAD,
    EXERCISE_1,
    EXERCISE_2,
    HYPOXIA,
    NOMINAL,
    RECOVERY_1,
    RECOVERY_4,
    SLEEP,
    Crew,
    PersonSpec,
    isa_pressure_pa,
    tuc_s,
)
from issim.physics.gas import CO2, MOLAR_MASS_KG_PER_MOL, N2, O2, R_J_PER_MOL_K, SPECIES
from issim.physics.power import PowerBuses
from issim.sim import Event, Simulation, build_world
from issim.times import MS_PER_DAY, parse_iso

START = parse_iso("2025-03-10T00:00:00Z")
MINUTE_MS = 60_000
HOUR_MS = 3_600_000

# §5b DERIVED totals per person-day, and the "state tolerance" of 2 %.
SHEET_O2_KG, SHEET_CO2_KG, SHEET_VAPOUR_KG = 0.82, 1.04, 1.92
TWO_PERCENT = 0.02

SEVEN = [
    PersonSpec("Gordon Barrett", "nasa", "destiny"),
    PersonSpec("Weronika Vetrov", "roscosmos", "zvezda"),
    PersonSpec("Nicholai Pulov", "roscosmos", "nauka"),
    PersonSpec("Alexey Pulov", "roscosmos", "zarya"),
    PersonSpec("Kira Foster", "nasa", "harmony"),
    PersonSpec("Christian Campbell", "nasa", "columbus"),
    PersonSpec("Yui Sato", "jaxa", "jem-pm"),
]


def make_sim(people, *, seed=0, frame_s=10.0, record_every_s=60.0, follow_schedule=True):
    world = build_world()
    crew = Crew(world, people, follow_schedule=follow_schedule)
    sim = Simulation(
        world, [PowerBuses(), crew, Atmosphere(world)], start_ms=START, seed=seed, frame_s=frame_s,
        record_every_s=record_every_s,
    )
    return sim, crew


def crew_log(sim, what=None):
    return [e for e in sim.event_log() if e["kind"] == "crew" and (what is None or e["what"] == what)]


def first_time_ms(sim, what):
    entries = crew_log(sim, what)
    return parse_iso(entries[0]["t"]) if entries else None


def seal(sim, volume_id):
    """Close every hatch of a volume, now."""
    for link in sim.world.links:
        if volume_id in (sim.world.volumes[link.a].id, sim.world.volumes[link.b].id):
            sim.schedule(Event(sim.t_ms, "close_hatch", link.hatch))


@pytest.fixture(scope="module")
def day_of_seven():
    sim, crew = make_sim(SEVEN, seed=1)
    initial = sim.state["atm.moles"].sum(axis=0).copy()
    sim.run(START + MS_PER_DAY)
    return sim, crew, initial


# ------------------------------------------------------------------ metabolism


def test_the_schedule_integrates_to_the_sheets_daily_totals():
    world = build_world()
    crew = Crew(world, SEVEN)
    per_day = crew._cum[1440]  # (people, [O2, CO2, H2O]) kg over one whole schedule
    for o2, co2, vapour in per_day:
        assert abs(o2 / SHEET_O2_KG - 1) < TWO_PERCENT
        assert abs(co2 / SHEET_CO2_KG - 1) < TWO_PERCENT
        assert abs(vapour / SHEET_VAPOUR_KG - 1) < TWO_PERCENT
    # the day is 14.5 h nominal, 8 h sleep, 0.5 h exercise, 1 h recovery (§5b)
    for p in range(len(SEVEN)):
        minutes = np.bincount(crew.schedule[:, p], minlength=len(ACTIVITY_NAMES))
        assert minutes[NOMINAL] == 14.5 * 60 and minutes[SLEEP] == 8 * 60
        assert minutes[EXERCISE_1] == minutes[EXERCISE_2] == 15
        assert minutes[RECOVERY_1:RECOVERY_4 + 1].sum() == 60


def test_a_day_of_seven_people_matches_bvad_per_person(day_of_seven):
    sim, _, _ = day_of_seven
    t = sim.state.totals
    assert abs(t["crew.days"] - 7.0) < 1e-9
    per_day = {k: t[f"crew.{k}"] / t["crew.days"] for k in ("o2_consumed_kg", "co2_produced_kg", "h2o_vapour_kg")}
    assert abs(per_day["o2_consumed_kg"] / SHEET_O2_KG - 1) < TWO_PERCENT
    assert abs(per_day["co2_produced_kg"] / SHEET_CO2_KG - 1) < TWO_PERCENT
    assert abs(per_day["h2o_vapour_kg"] / SHEET_VAPOUR_KG - 1) < TWO_PERCENT
    # the wider project's acceptance band per crew-day
    assert 0.80 <= per_day["o2_consumed_kg"] <= 0.90
    assert 0.95 <= per_day["co2_produced_kg"] <= 1.10
    # what left and entered the cabin air is the same, in moles
    assert abs(t["gas.out_mol.o2.crew"] * MOLAR_MASS_KG_PER_MOL[O2] - t["crew.o2_consumed_kg"]) < 1e-9
    assert abs(t["gas.in_mol.co2.crew"] * MOLAR_MASS_KG_PER_MOL[CO2] - t["crew.co2_produced_kg"]) < 1e-9


def test_the_gas_balance_closes_over_a_day(day_of_seven):
    sim, _, initial = day_of_seven
    final = sim.state["atm.moles"].sum(axis=0)
    t = sim.state.totals
    for k, s in enumerate(SPECIES):
        gained = sum(v for key, v in t.items() if key.startswith(f"gas.in_mol.{s}."))
        lost = sum(v for key, v in t.items() if key.startswith(f"gas.out_mol.{s}."))
        assert abs(initial[k] + gained - lost - final[k]) <= 1e-9 * final[k]
    assert t["gas.out_mol.o2.crew"] > 100  # the crew did take part


def test_daily_totals_do_not_depend_on_the_frame_length():
    totals = []
    for frame_s in (10.0, 45.0, 240.0):
        sim, _ = make_sim(SEVEN[:2], frame_s=frame_s, record_every_s=frame_s)
        sim.run(START + MS_PER_DAY)
        totals.append([sim.state.totals[k] for k in ("crew.o2_consumed_kg", "crew.co2_produced_kg", "crew.h2o_vapour_kg")])
    assert np.allclose(totals, totals[0], rtol=1e-9, atol=0)


def test_nominal_air_needs_no_random_draws(day_of_seven):
    sim1, _, _ = day_of_seven
    sim2, _ = make_sim(SEVEN, seed=2)
    sim2.run(START + MS_PER_DAY)
    assert sim1.state.identical(sim2.state)
    assert not [name for name in sim1.streams.get_state() if name.startswith("crew.")]
    assert all(sim1.state["crew.alive"]) and all(sim1.state["crew.health"] == 1.0)


# ------------------------------------------------------------------ schedule


def test_exercise_phases_happen_at_the_scheduled_time():
    people = [PersonSpec("A", "nasa", "destiny", exercise_hour_utc=10.0), PersonSpec("B", "nasa", "harmony")]
    sim, crew = make_sim(people)
    sim.run(START + MS_PER_DAY)
    t, act = sim.telemetry("crew.a.activity")
    minute = (t - START) // MINUTE_MS

    def at(hh, mm):
        return act[minute == hh * 60 + mm][0]

    assert at(9, 59) == NOMINAL
    assert at(10, 0) == at(10, 14) == EXERCISE_1
    assert at(10, 15) == at(10, 29) == EXERCISE_2
    assert at(10, 30) == RECOVERY_1 and at(11, 29) == RECOVERY_4
    assert at(11, 30) == NOMINAL
    assert at(21, 29) == NOMINAL and at(21, 30) == SLEEP and at(5, 29) == SLEEP and at(5, 30) == NOMINAL
    # B's block is staggered (second in the crew: 07:30)
    _, act_b = sim.telemetry("crew.b.activity")
    assert act_b[minute == 7 * 60 + 30][0] == EXERCISE_1 and act_b[minute == 10 * 60][0] != EXERCISE_1


def test_default_exercise_times_are_staggered():
    crew = Crew(build_world(), SEVEN)
    starts = [int(np.flatnonzero(crew.schedule[:, p] == EXERCISE_1)[0]) for p in range(len(SEVEN))]
    assert len(set(starts)) == len(SEVEN)
    exercising = (crew.schedule == EXERCISE_1) | (crew.schedule == EXERCISE_2)
    assert exercising.sum(axis=1).max() == 1  # never two people at once


def test_an_exercise_block_in_the_sleep_period_is_refused():
    with pytest.raises(ValueError, match="overlaps sleep"):
        Crew(build_world(), [PersonSpec("A", "nasa", "destiny", exercise_hour_utc=21.0)])


def test_unknown_modules_are_refused_with_the_list():
    with pytest.raises(KeyError, match="'node-9' is not a module or docked vehicle"):
        Crew(build_world(), [PersonSpec("A", "nasa", "node-9")])
    with pytest.raises(KeyError, match="sleep_module"):
        Crew(build_world(), [PersonSpec("A", "nasa", "destiny", sleep_module="attic")])


def test_people_go_to_bed_and_back_to_work_along_open_hatches():
    sim, _ = make_sim([PersonSpec("A", "nasa", "destiny", sleep_module="harmony")])
    i_destiny, i_harmony = sim.world.index["destiny"], sim.world.index["harmony"]
    sim.run(START + 21 * HOUR_MS + 29 * MINUTE_MS)
    assert sim.state["crew.location"][0] == i_destiny
    sim.run(START + 21 * HOUR_MS + 31 * MINUTE_MS)
    assert sim.state["crew.location"][0] == i_harmony
    sim.run(START + MS_PER_DAY + 5 * HOUR_MS + 31 * MINUTE_MS)
    assert sim.state["crew.location"][0] == i_destiny
    assert [e["module"] for e in crew_log(sim, "moved")] == ["harmony", "destiny"]


# ------------------------------------------------------------------ harm


def test_tuc_comes_from_the_standard_atmosphere():
    # ISA: 18,000 ft is about half an atmosphere (50.6 kPa), 11 km the tropopause (22.63 kPa)
    assert abs(isa_pressure_pa(18_000 * 0.3048) - 50_600) < 100
    assert abs(isa_pressure_pa(11_000.0) - 22_632) < 5
    assert 6.0 <= tuc_s(0.0) <= 8.0  # §5c: vacuum 6-8 s
    at_25k_ft = 0.2095 * isa_pressure_pa(25_000 * 0.3048)
    assert 3 * 60 <= tuc_s(at_25k_ft) <= 6 * 60  # §5c: 25,000 ft 3-6 min
    assert tuc_s(16_000.0) == np.inf and tuc_s(21_300.0) == np.inf
    pp = np.linspace(0, 16_000, 200)
    assert np.all(np.diff(tuc_s(pp)) >= 0)  # the lower the ppO2, the sooner


def test_a_sealed_module_suffocates_its_occupant():
    sim, crew = make_sim([PersonSpec("Ana", "roscosmos", "poisk")], seed=3, frame_s=30.0, record_every_s=600.0)
    world = sim.world
    i = world.index["poisk"]
    volume_m3 = world.volumes[i].volume_m3
    temperature_k = world.cabin.temperature_k
    seal(sim, "poisk")
    n0 = sim.state["atm.moles"][i].copy()
    sim.run(START + MS_PER_DAY)
    # Day 1: O2 falls and CO2 rises at the person's BVAD rates (sealed: nothing else moves).
    n1 = sim.state["atm.moles"][i]
    o2_kg = (n0[O2] - n1[O2]) * MOLAR_MASS_KG_PER_MOL[O2]
    co2_kg = (n1[CO2] - n0[CO2]) * MOLAR_MASS_KG_PER_MOL[CO2]
    assert abs(o2_kg / SHEET_O2_KG - 1) < TWO_PERCENT
    assert abs(co2_kg / SHEET_CO2_KG - 1) < TWO_PERCENT
    sim.run(START + 3 * MS_PER_DAY)

    # Expected times from the volume and the daily rates: ppO2 reaches the 16 kPa floor,
    # and ppCO2 reaches 10 % of an atmosphere (incapacitation within minutes).
    mol_per_pa = volume_m3 / (R_J_PER_MOL_K * temperature_k)
    o2_mol_per_s = SHEET_O2_KG / MOLAR_MASS_KG_PER_MOL[O2] / 86_400
    co2_mol_per_s = SHEET_CO2_KG / MOLAR_MASS_KG_PER_MOL[CO2] / 86_400
    t_floor_s = (world.cabin.pp_o2_pa - 16_000) * mol_per_pa / o2_mol_per_s
    t_co2_10pct_s = (10_132 - world.cabin.pp_co2_pa) * mol_per_pa / co2_mol_per_s
    assert 0.8 * 86_400 < t_floor_s < 1.3 * 86_400  # about a day for one person in 12.5 m³

    t_incapacitated = (first_time_ms(sim, "incapacitated") - START) / 1000
    t_died = (first_time_ms(sim, "died") - START) / 1000
    assert t_floor_s <= t_incapacitated <= t_co2_10pct_s
    assert t_incapacitated < t_died <= 3 * t_floor_s
    # symptoms came first: the ISS ladder reached headaches, and hypoxia had begun
    t, symptom = sim.telemetry("crew.ana.co2_symptom")
    assert symptom[t < START + t_incapacitated * 1000].max() >= 3
    t, hypoxia = sim.telemetry("crew.ana.hypoxia")
    assert hypoxia[t <= START + t_died * 1000].max() > 0
    # the dead make nothing: the air is still after death
    t, co2 = sim.telemetry("atm.poisk.pp_co2_pa")
    after = co2[t > START + t_died * 1000 + 60_000]
    assert len(after) > 2 and np.ptp(after) == 0
    assert crew.summary(sim.state)["Ana"]["alive"] is False


def test_vacuum_incapacitates_in_seconds_and_kills_in_minutes():
    sim, _ = make_sim([PersonSpec("Ana", "roscosmos", "poisk"), PersonSpec("Bo", "nasa", "destiny")], seed=5)
    seal(sim, "poisk")
    hole_ms = START + MINUTE_MS
    sim.schedule(Event(hole_ms, "hole", "poisk", (("area_m2", 0.05),)))
    sim.run(START + 15 * MINUTE_MS)
    incapacitated, died = crew_log(sim, "incapacitated"), crew_log(sim, "died")
    assert [e["person"] for e in incapacitated] == ["Ana"] and [e["person"] for e in died] == ["Ana"]
    assert parse_iso(incapacitated[0]["t"]) - hole_ms <= 20_000
    assert 60_000 <= parse_iso(died[0]["t"]) - hole_ms <= 5 * MINUTE_MS
    assert sim.state["crew.alive"].tolist() == [False, True]
    assert sim.state["crew.activity"][0] == DEAD and sim.state["crew.health"][0] == 0.0


def test_a_short_hypoxia_heals():
    sim, _ = make_sim([PersonSpec("Ana", "roscosmos", "poisk")], follow_schedule=False)
    i = sim.world.index["poisk"]
    seal(sim, "poisk")
    sim.run(START + 10 * MINUTE_MS)
    n = sim.state["atm.moles"]
    normal_o2 = n[i, O2]
    swap = normal_o2 * (1 - 7_900 / 21_300)  # ppO2 to about 7.9 kPa (25,000 ft; TUC about 4 min)
    n[i, O2] -= swap
    n[i, N2] += swap
    sim.run(START + 11 * MINUTE_MS)
    d = sim.state["crew.deficit"][0, HYPOXIA]
    assert 0.1 < d < 1.0 and sim.state["crew.conscious"][0]
    assert sim.current("crew.ana.health") < 1.0
    n = sim.state["atm.moles"]
    n[i, O2] += swap
    n[i, N2] -= swap
    sim.run(START + 12 * MINUTE_MS)
    assert sim.state["crew.deficit"][0, HYPOXIA] < d  # recovering
    sim.run(START + 2 * HOUR_MS)
    assert sim.state["crew.deficit"][0, HYPOXIA] == 0.0 and sim.current("crew.ana.health") == 1.0
    assert crew_log(sim, "incapacitated") == [] and sim.state["crew.alive"][0]


def test_a_module_out_of_oxygen_never_goes_negative():
    sim, _ = make_sim([PersonSpec("Ana", "roscosmos", "poisk"), PersonSpec("Oleg", "roscosmos", "poisk")])
    i = sim.world.index["poisk"]
    seal(sim, "poisk")
    sim.run(START + MINUTE_MS)
    n = sim.state["atm.moles"]
    n[i, N2] += n[i, O2] - 1e-4
    n[i, O2] = 1e-4  # almost nothing left
    taken_before = sim.state.totals["gas.out_mol.o2.crew"]
    sim.run(START + 3 * MINUTE_MS)
    assert sim.state["atm.moles"][i, O2] == 0.0
    # they took what was there and no more (sealed: nothing else touches poisk's O2)
    assert abs(sim.state.totals["gas.out_mol.o2.crew"] - taken_before - 1e-4) < 1e-15
    assert (sim.state["atm.moles"] >= 0).all()
    assert not sim.state["crew.conscious"].any()
    assert crew_log(sim, "incapacitated")[0]["cause"] == "hypoxia"


def test_injury_incapacitates_heals_and_kills():
    sim, _ = make_sim([PersonSpec("A", "nasa", "destiny"), PersonSpec("B", "nasa", "destiny")], frame_s=60.0)
    sim.schedule(Event(START, "injure", "A", (("severity", 0.6),)))
    sim.schedule(Event(START, "injure", "B", (("severity", 1.0),)))
    sim.schedule(Event(START, "injure", "A", (("severity", 1.5),)))
    sim.run(START + MINUTE_MS)
    assert sim.state["crew.conscious"].tolist() == [False, False]
    assert sim.state["crew.alive"].tolist() == [True, False]
    assert crew_log(sim, "died")[0]["cause"] == "injury"
    refused = [e for e in sim.event_log() if e["kind"] == "event" and e["result"] == "refused"]
    assert "between 0 and 1" in refused[0]["reason"]
    sim.run(START + 7 * MS_PER_DAY)  # a 14-day half-life: 0.6 -> 0.42
    assert 0.35 < sim.state["crew.injury"][0] < 0.5 and sim.state["crew.conscious"][0]
    assert crew_log(sim, "came round")[0]["person"] == "A"


# ------------------------------------------------------------------ events


def test_move_through_open_hatches_and_refusal_at_a_closed_one():
    sim, _ = make_sim([PersonSpec("A", "nasa", "destiny")])
    sim.schedule(Event(START, "move", "A", (("to", "zvezda"),)))
    sim.schedule(Event(START, "close_hatch", "zvezda-poisk"))
    sim.schedule(Event(START + MINUTE_MS, "move", "A", (("to", "poisk"),)))
    sim.schedule(Event(START + MINUTE_MS, "move", "Z", (("to", "poisk"),)))
    sim.run(START + 2 * MINUTE_MS)
    assert sim.state["crew.location"][0] == sim.world.index["zvezda"]
    moves = [e for e in sim.event_log() if e["kind"] == "event" and e["action"] == "move"]
    assert [m["result"] for m in moves] == ["done", "refused", "refused"]
    assert "zvezda-poisk" in moves[1]["reason"] and "open hatches" in moves[1]["reason"]
    assert "no crew member 'Z'" in moves[2]["reason"]


def test_events_are_checked_before_a_run():
    crew = Crew(build_world(), [PersonSpec("A", "nasa", "destiny")])
    assert crew.validate(Event(START, "move", "A", (("to", "zvezda"),))) is None
    assert "args.to" in crew.validate(Event(START, "move", "A", (("to", "attic"),)))
    assert "no crew member 'B'" in crew.validate(Event(START, "injure", "B", (("severity", 0.5),)))
    assert "between 0 and 1" in crew.validate(Event(START, "injure", "A", (("severity", "bad"),)))
    assert crew.validate(Event(START, "eva_begin", "A")) is None


def test_eva_takes_the_person_off_the_cabin_air():
    sim, _ = make_sim([PersonSpec("A", "nasa", "destiny"), PersonSpec("B", "nasa", "quest")])
    sim.schedule(Event(START, "eva_begin", "A"))
    sim.schedule(Event(START, "eva_begin", "B"))
    sim.schedule(Event(START, "move", "B", (("to", "unity"),)))
    sim.run(START + HOUR_MS)
    results = [e["result"] for e in sim.event_log() if e["kind"] == "event"]
    assert results == ["refused", "done", "refused"]
    assert sim.state["crew.on_eva"].tolist() == [False, True]
    t = sim.state.totals
    # only A breathed cabin air; both bodies consumed O2
    assert t["gas.out_mol.o2.crew"] * MOLAR_MASS_KG_PER_MOL[O2] < 0.6 * t["crew.o2_consumed_kg"]
    sim.schedule(Event(sim.t_ms, "eva_end", "B"))
    sim.run(sim.t_ms + MINUTE_MS)
    assert not sim.state["crew.on_eva"].any()


def test_water_is_drunk_from_the_segment_and_urine_collected():
    sim, crew = make_sim([PersonSpec("A", "nasa", "destiny"), PersonSpec("B", "roscosmos", "zvezda")])
    sim.state["water.store_kg"] = np.array([100.0, 100.0])  # USOS, ROS (as life support would)
    sim.state["water.urine_kg"] = np.zeros(2)
    sim.run(START + MS_PER_DAY)
    assert np.allclose(sim.state["water.store_kg"], [97.5, 97.5])
    assert np.allclose(sim.state["water.urine_kg"], [1.6, 1.6])


# ------------------------------------------------------------------ seeding and speed


def test_under_a_hazard_the_seed_decides_and_the_same_seed_repeats():
    def vacuum_death(seed):
        sim, _ = make_sim([PersonSpec("Ana", "roscosmos", "poisk")], seed=seed)
        seal(sim, "poisk")
        sim.schedule(Event(START + MINUTE_MS, "hole", "poisk", (("area_m2", 0.05),)))
        sim.run(START + 10 * MINUTE_MS)
        return sim

    a, b = vacuum_death(11), vacuum_death(11)
    assert a.state.identical(b.state)
    deaths = {first_time_ms(vacuum_death(seed), "died") for seed in range(6)}
    assert None not in deaths and len(deaths) > 1


