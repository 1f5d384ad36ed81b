"""Sabotage by hand and its repair (issim.control.sabotage): each through the pipeline,
as work that takes time, with its consequence in the physics checked against its figure."""

import math

import numpy as np
import pytest

from issim.control import Command, Reason
from issim.control import work
from issim.control.commands import CATALOGUE, TARGETS
from issim.control.sabotage import SABOTAGE, sabotage_for
from issim.sim import Event

from day_station import DANIEL, DMITRI, IRINA, MAYA, PAVEL, _day, done, sim  # noqa: F401 (fixtures)

C = Command.of
USOS, ROS = 0, 1


def refused(sim, cmd, reason, text=""):
    r = sim.command(cmd)
    assert (r.result in ("refused", "failed"), r.reason) == (True, reason.value), r
    assert text in r.message, r.message
    return r


def _v(sim, volume):
    return sim.world.index[volume]


def _hatch(sim, hatch):
    return sim.world.link_index[hatch]


def _run_minutes(sim, minutes):
    for _ in range(int(minutes * 6)):
        sim.step()


# ---------------------------------------------------------------------------- the table


def test_every_sabotage_and_repair_is_a_command():
    for kind, s in SABOTAGE.items():
        assert s.command in CATALOGUE and s.repair in CATALOGUE, kind
        assert s.counter == "" or s.counter in CATALOGUE, kind
        assert s.target in TARGETS and CATALOGUE[s.command].target == s.target, kind
    assert sabotage_for("vent_module").repair == "close_vent"
    assert sabotage_for("cut_power").repair == "repair_power"
    assert sabotage_for("dump_propellant").repair == "transfer_propellant"
    assert sabotage_for("move") is None


# ---------------------------------------------------------------------------- a module vented


# The figure: choked flow through the vent, a sharp-edged 56 mm port (sheet §4a), at cabin
# temperature, computed here from the textbook formula, not from the model's functions.
CD, D_M, GAMMA, M_AIR, R = 0.61, 0.056, 1.4, 0.02897, 8.314462618


def _tau_s(volume_m3, temperature_k):
    area = CD * math.pi / 4 * D_M ** 2
    choke = (2 / (GAMMA + 1)) ** ((GAMMA + 1) / (2 * (GAMMA - 1)))
    sound = math.sqrt(GAMMA * R * temperature_k / M_AIR)
    return volume_m3 / (area * choke * sound)


def _time_to(sim, volume, threshold_pa, limit_frames=2000):
    """Step until ``volume``'s pressure falls below ``threshold_pa``; the crossing time (s)
    from now, interpolated in log pressure between frames."""
    v = _v(sim, volume)
    t0 = sim.t_ms
    p_prev, t_prev = float(sim.state["atm.pressure_pa"][v]), 0.0
    for _ in range(limit_frames):
        sim.step()
        p, t = float(sim.state["atm.pressure_pa"][v]), (sim.t_ms - t0) / 1000.0
        if p < threshold_pa:
            f = math.log(p_prev / threshold_pa) / math.log(p_prev / p)
            return t_prev + f * (t - t_prev)
        p_prev, t_prev = p, t
    raise AssertionError(f"{volume} still at {p:.0f} Pa")


def test_a_vented_module_falls_as_the_orifice_flow_says(sim):
    """Destiny (104.77 m³) alone, its vent opened at 101.3 kPa: the time to 50 kPa is
    τ ln(p0 / 50 kPa), τ = V / (Cd A C c) ≈ 350 s, within 2 %."""
    done(sim, C("close_hatch", "operator", "unity-destiny"), C("close_hatch", "operator", "destiny-harmony"))
    v = _v(sim, "destiny")
    p0, temp = float(sim.state["atm.pressure_pa"][v]), float(sim.state["atm.temperature_k"][v])
    volume = sim.world.volumes[v].volume_m3
    done(sim, C("vent_module", "operator", "destiny"))
    assert sim.state["atm.vent_open"][v]
    measured = _time_to(sim, "destiny", 50_000.0)
    expected = _tau_s(volume, temp) * math.log(p0 / 50_000.0)
    assert 230 < expected < 260
    assert measured == pytest.approx(expected, rel=0.02)
    assert sim.state["atm.leak_kg_per_day"][v] > 0


def test_neighbours_go_with_it_through_open_hatches(sim):
    """Destiny vented with Unity open to it and shut off from the rest: the two fall
    together, as one volume of 162 m³ would."""
    for h in ("destiny-harmony", "pma-1-unity", "unity-quest", "unity-tranquility"):
        done(sim, C("close_hatch", "operator", h))
    d, u = _v(sim, "destiny"), _v(sim, "unity")
    p0, temp = float(sim.state["atm.pressure_pa"][d]), float(sim.state["atm.temperature_k"][d])
    volume = sim.world.volumes[d].volume_m3 + sim.world.volumes[u].volume_m3
    done(sim, C("vent_module", "operator", "destiny"))
    measured = _time_to(sim, "unity", 50_000.0)
    assert measured == pytest.approx(_tau_s(volume, temp) * math.log(p0 / 50_000.0), rel=0.03)
    p = sim.state["atm.pressure_pa"]
    assert abs(p[d] - p[u]) < 300.0  # an open hatchway: one pressure
    assert p[_v(sim, "harmony")] > 100_000.0  # behind a closed hatch, untouched


def test_venting_is_work_in_the_module_and_closing_it_stops_the_loss(sim):
    d = _v(sim, "destiny")
    refused(sim, C("vent_module", DANIEL, "destiny"), Reason.NOT_HERE, "done by hand in destiny")
    refused(sim, C("vent_module", "houston", "destiny"), Reason.NOT_CREW)
    assert sim.dry_run(C("vent_module", MAYA, "soyuz-ms")).reason == Reason.UNKNOWN_TARGET.value  # modules only
    r = sim.command(C("vent_module", MAYA, "destiny"))
    assert r.result == "started" and "5 min of work" in r.message
    assert not sim.state["atm.vent_open"][d]  # not until the work is done
    _run_minutes(sim, 5.5)  # done in the first frame after the 5 min
    assert sim.state["atm.vent_open"][d]
    _run_minutes(sim, 5)  # the whole station, hatches open, goes down slowly (τ of about an hour)
    p = float(sim.state["atm.pressure_pa"][d])
    assert 90_000 < p < 100_000
    assert sim.state["atm.pressure_pa"][_v(sim, "zvezda")] < 100_000  # far along open hatches
    refused(sim, C("close_vent", DANIEL, "destiny"), Reason.NOT_HERE)
    t0 = sim.t_ms
    done(sim, C("close_vent", MAYA, "destiny"))
    assert sim.t_ms - t0 == pytest.approx(work.VENT_S * 1000, abs=sim.dt_ms)
    assert not sim.state["atm.vent_open"][d] and sim.state["atm.leak_area_m2"][d] == 0.0
    p = float(sim.state["atm.pressure_pa"][d])
    _run_minutes(sim, 10)
    assert sim.state["atm.pressure_pa"][d] >= p - 50.0  # the loss has stopped (the PCA may add a little)
    names = [e[3] for e in sim.state.facts["control.history"]]
    assert names.count("vent_module") >= 2 and "close_vent" in names  # started and done, in the history


def test_a_module_vented_behind_its_hatch_cannot_be_reached(sim):
    """Vented and shut off: the pressure difference holds its hatch (the existing rule),
    and the vent is closed only from inside."""
    done(sim, C("close_hatch", "operator", "destiny-harmony"), C("move", MAYA, "unity"))
    done(sim, C("close_hatch", MAYA, "unity-destiny"))
    done(sim, C("vent_module", "operator", "destiny"))
    _run_minutes(sim, 3)
    refused(sim, C("open_hatch", MAYA, "unity-destiny"), Reason.PHYSICS, "holds hatch unity-destiny")
    refused(sim, C("close_vent", MAYA, "destiny"), Reason.NOT_HERE)
    # A scripted patch of the holes leaves the valve open.
    sim.schedule(Event(sim.t_ms, "patch", "destiny"))
    sim.step()
    assert sim.state["atm.leak_area_m2"][_v(sim, "destiny")] > 0


# ---------------------------------------------------------------------------- a hatch held


def test_a_hatch_held_is_forced_from_the_other_side_in_half_an_hour(sim):
    k = _hatch(sim, "zarya-pma-1")
    done(sim, C("close_hatch", DMITRI, "zarya-pma-1"), C("lock_hatch", DMITRI, "zarya-pma-1"))
    done(sim, C("move", DANIEL, "unity"), C("move", DANIEL, "pma-1"))
    refused(sim, C("open_hatch", DANIEL, "zarya-pma-1"), Reason.HATCH_LOCKED, "locked from zarya")
    refused(sim, C("unlock_hatch", DANIEL, "zarya-pma-1"), Reason.HATCH_LOCKED, "the other side")
    refused(sim, C("force_hatch", DMITRI, "zarya-pma-1"), Reason.TARGET_UNAVAILABLE, "unlock_hatch it")
    refused(sim, C("force_hatch", MAYA, "zarya-pma-1"), Reason.NOT_HERE)
    r = sim.command(C("force_hatch", DANIEL, "zarya-pma-1"))
    assert r.result == "started" and "30 min of work" in r.message
    _run_minutes(sim, 20)
    assert sim.state["control.lock_side"][k] == _v(sim, "zarya")  # still held
    _run_minutes(sim, 11)
    assert sim.state["control.lock_side"][k] == -1
    assert any(e["kind"] == "control" and e.get("what") == "hatch forced" for e in _log(sim))
    done(sim, C("open_hatch", DANIEL, "zarya-pma-1"))
    refused(sim, C("force_hatch", DANIEL, "zarya-pma-1"), Reason.TARGET_UNAVAILABLE, "not locked")


def test_forcing_stops_at_once_when_the_holder_unlocks_meanwhile(sim):
    done(sim, C("close_hatch", DMITRI, "zarya-pma-1"), C("lock_hatch", DMITRI, "zarya-pma-1"))
    done(sim, C("move", DANIEL, "unity"), C("move", DANIEL, "pma-1"))
    assert sim.command(C("force_hatch", DANIEL, "zarya-pma-1")).result == "started"
    done(sim, C("unlock_hatch", DMITRI, "zarya-pma-1"))
    ends = [e for e in sim.state.facts["control.history"] if e[3] == "force_hatch" and e[7] != "started"]
    assert ends[-1][7:9] == ("failed", Reason.INTERRUPTED.value) and "unlocked from the other side" in ends[-1][9]
    assert sim.command(C("open_hatch", DANIEL, "zarya-pma-1")).result == "done"  # free at once, not in 30 min


def test_two_forcing_one_hatch_at_once_force_it_once(sim):
    """Two on the same side start forcing in the same frame: the first to finish forces it, the
    other stops with nothing left to force, and the log says the hatch was forced once."""
    done(sim, C("close_hatch", DMITRI, "zarya-pma-1"), C("lock_hatch", DMITRI, "zarya-pma-1"))
    done(sim, C("move", DANIEL, "unity"), C("move", DANIEL, "pma-1"), C("move", MAYA, "unity"),
         C("move", MAYA, "pma-1"))
    results = sim.step({DANIEL: [C("force_hatch", DANIEL, "zarya-pma-1")],
                        MAYA: [C("force_hatch", MAYA, "zarya-pma-1")]}).commands
    assert [r.result for r in results] == ["started", "started"]
    _run_minutes(sim, 31)
    assert sim.state["control.lock_side"][_hatch(sim, "zarya-pma-1")] == -1
    assert len([e for e in _log(sim) if e["kind"] == "control" and e.get("what") == "hatch forced"]) == 1
    ends = sorted(e[7:9] for e in sim.state.facts["control.history"] if e[3] == "force_hatch" and e[7] != "started")
    assert ends == [("done", ""), ("failed", Reason.INTERRUPTED.value)]


def _log(sim):
    return sim.event_log()


# ---------------------------------------------------------------------------- a vehicle's hatch locked


def test_a_soyuz_locked_from_inside_keeps_people_out_and_still_undocks(sim):
    done(sim, C("board", IRINA, "soyuz-ms"), C("close_hatch", IRINA, "rassvet-soyuz"),
         C("lock_hatch", IRINA, "rassvet-soyuz"))
    done(sim, C("move", PAVEL, "rassvet"))
    refused(sim, C("board", PAVEL, "soyuz-ms"), Reason.NO_PATH, "rassvet-soyuz (locked from soyuz-ms)")
    refused(sim, C("open_hatch", PAVEL, "rassvet-soyuz"), Reason.HATCH_LOCKED)
    refused(sim, C("unlock_hatch", PAVEL, "rassvet-soyuz"), Reason.HATCH_LOCKED)
    assert sim.command(C("force_hatch", PAVEL, "rassvet-soyuz")).result == "started"  # 30 min...
    done(sim, C("undock", IRINA, "soyuz-ms"))  # ...but 3 min is all she needs
    _run_minutes(sim, 31)
    assert sim.state["control.departed"][_v(sim, "soyuz-ms")]
    last = [e for e in sim.state.facts["control.history"] if e[3] == "force_hatch"][-1]
    assert (last[7], last[8]) == ("failed", Reason.VEHICLE_DEPARTED.value)


def test_a_soyuz_locked_from_the_station_holds_its_crew_in_until_forced(sim):
    done(sim, C("board", IRINA, "soyuz-ms"), C("move", PAVEL, "rassvet"))
    done(sim, C("close_hatch", PAVEL, "rassvet-soyuz"), C("lock_hatch", PAVEL, "rassvet-soyuz"))
    refused(sim, C("move", IRINA, "rassvet"), Reason.NO_PATH, "locked from rassvet")
    refused(sim, C("open_hatch", IRINA, "rassvet-soyuz"), Reason.HATCH_LOCKED)
    done(sim, C("force_hatch", IRINA, "rassvet-soyuz"))
    # Half an hour shut in: the two sides' pressures have drifted apart; equalise, then open.
    done(sim, C("equalize", IRINA, "rassvet-soyuz"))
    sim.step()
    done(sim, C("open_hatch", IRINA, "rassvet-soyuz"), C("move", IRINA, "rassvet"))


# ---------------------------------------------------------------------------- power cut by hand


def _ls(sim, machine):
    ls = next(s for s in sim.subsystems if s.name == "lifesupport")
    return [m.id for m in ls.machines].index(machine)


def test_power_cut_by_hand_stays_down_until_repaired(sim):
    refused(sim, C("cut_power", MAYA, "ROS"), Reason.NOT_HERE, "done by hand in zvezda")
    refused(sim, C("cut_power", "moscow", "ROS"), Reason.NOT_CREW)
    r = sim.command(C("cut_power", PAVEL, "ROS"))
    assert r.result == "started" and "5 min of work" in r.message
    _run_minutes(sim, 5.5)
    assert sim.state["control.power_severed"][ROS] and not sim.state["power.bus"][ROS]
    elektron = _ls(sim, "elektron")
    sim.step()
    assert not sim.state["ls.running"][elektron]  # the machines on the bus stop
    # Switching it on from a laptop, from the ground or by a scripted event does not bring it back.
    refused(sim, C("power_on", PAVEL, "ROS"), Reason.PHYSICS, "cut at its hardware; repair_power first")
    refused(sim, C("power_on", "operator", "ROS"), Reason.PHYSICS)
    sim.schedule(Event(sim.t_ms, "power_on", "ROS"))
    _run_minutes(sim, 60)  # an hour: sunlight, the battery, the trip logic, none of it restores the bus
    assert not sim.state["power.bus"][ROS]
    t0 = sim.t_ms
    done(sim, C("repair_power", PAVEL, "ROS"))
    assert sim.t_ms - t0 == pytest.approx(work.REPAIR_POWER_S * 1000, abs=sim.dt_ms)
    assert sim.state["power.bus"][ROS] and not sim.state["control.power_severed"][ROS]
    sim.step()
    assert sim.state["ls.running"][elektron]


def test_with_both_buses_cut_the_air_drifts(_day):
    """Every machine stops, so the CO2 the crew breathe out stays in the air: what they
    exhaled (the crew model's total) is all found in the cabin, none taken out. Against
    the sheet: seven people at 1.04 kg a day each (BVAD, sheet §5a) give 1.82 kg in six
    hours, 41 mol, about 100 Pa in the station's 984 m³ at cabin temperature; the crew
    model, awake and working by day, breathes out more (within 50 %). Untouched, the
    scrubbers hold the CO2. The O2 falls meanwhile."""
    sim, snap = _day
    co2, o2 = 2, 0  # issim.physics.gas

    def air_after(cut):
        sim.restore(snap)
        n0, out0 = sim.state["atm.moles"][:, co2].sum(), dict(sim.state.totals)
        if cut:
            done(sim, C("cut_power", PAVEL, "ROS"), C("cut_power", MAYA, "USOS"))
        _run_minutes(sim, 6 * 60 - (10 if cut else 0))
        t = sim.state.totals
        exhaled = t["gas.in_mol.co2.crew"] - out0.get("gas.in_mol.co2.crew", 0.0)
        scrubbed = sum(t.get(k, 0.0) - out0.get(k, 0.0) for k in t if k.startswith("gas.out_mol.co2."))
        return sim.state["atm.moles"][:, co2].sum() - n0, exhaled, scrubbed, sim.state["atm.pp_pa"][:, o2].mean()

    base_gain, _, base_scrubbed, base_o2 = air_after(False)
    gain, exhaled, scrubbed, cut_o2 = air_after(True)
    assert abs(base_gain) < 0.2 * exhaled and base_scrubbed > 0.8 * exhaled
    assert gain == pytest.approx(exhaled - scrubbed, rel=1e-6)
    assert scrubbed < 0.05 * exhaled  # only in the ten minutes before the buses went down
    bvad_mol = 7 * 1.04 * 0.25 / 0.04401
    assert bvad_mol < exhaled < 1.5 * bvad_mol
    temp, volume = float(sim.state["atm.temperature_k"].mean()), sum(x.volume_m3 for x in sim.world.volumes)
    assert 80.0 < gain * 8.314 * temp / volume < 150.0  # Pa
    assert cut_o2 < base_o2 - 50.0  # Pa: no generator makes up what is breathed


# ---------------------------------------------------------------------------- propellant dumped


def _prop(sim):
    return next(s for s in sim.subsystems if s.name == "propulsion")


def _kg(sim, *tanks):
    p = _prop(sim)
    return float(sum(sim.state["prop.propellant_kg"][p.tank_index[t]] for t in tanks))


def test_dumped_propellant_takes_its_time_and_later_burns_fail(sim):
    zvezda_kg = _kg(sim, "zvezda", "zarya")
    assert zvezda_kg == 3_100.0  # data/propulsion.toml: 600 + 2,500
    refused(sim, C("dump_propellant", MAYA, "zvezda"), Reason.NOT_HERE, "done by hand in zvezda")
    assert sim.dry_run(C("dump_propellant", PAVEL, "zvezda", fraction=1.5)).reason == Reason.BAD_ARGUMENT.value
    r = sim.command(C("dump_propellant", PAVEL, "zvezda"))
    assert r.result == "started"
    expected_s = work.DUMP_SETUP_S + zvezda_kg / work.DUMP_KG_S  # 10 min + 1,550 s
    assert work.minutes(expected_s) in r.message  # "35 min"
    _run_minutes(sim, expected_s / 60 - 1)
    assert _kg(sim, "zvezda", "zarya") == zvezda_kg
    _run_minutes(sim, 1.5)
    assert _kg(sim, "zvezda", "zarya") == 0.0
    assert sim.state.totals["prop.used_kg.dumped"] == pytest.approx(zvezda_kg)
    refused(sim, C("burn", "operator", "zvezda", dv_m_s=0.5), Reason.PHYSICS, "zvezda has 0 kg of propellant")
    done(sim, C("burn", "operator", "progress-ms", dv_m_s=0.5))  # the Progress still has its own


def test_a_partial_dump_and_a_dump_of_everything_starves_the_desaturation(sim):
    done(sim, C("dump_propellant", PAVEL, "progress-ms", fraction=0.5))
    assert _kg(sim, "progress-ms") == pytest.approx(377.0)
    done(sim, C("dump_propellant", PAVEL, "progress-ms"), C("dump_propellant", PAVEL, "zvezda"))
    assert sim.state["prop.propellant_kg"].sum() == 0.0
    refused(sim, C("dump_propellant", PAVEL, "zvezda"), Reason.PHYSICS, "empty")
    # The CMGs near saturation: the desaturation is due, and there is nothing to fire.
    att = next(s for s in sim.subsystems if s.name == "attitude")
    sim.state["att.h_secular_nms"][0] = int(sim.state["att.cmgs_working"][0]) * att.h_cmg
    sim.step()
    assert sim.state["att.desat_blocked"][0] and int(sim.state["att.desats"][0]) == 0
    blocked = [e for e in sim.event_log() if e.get("what") == "desaturation_blocked"]
    assert blocked and "propellant" in blocked[-1]["reason"]


def test_a_docked_progress_refuels_zvezda_in_two_hours(sim):
    done(sim, C("dump_propellant", PAVEL, "zvezda"))
    refused(sim, C("transfer_propellant", PAVEL, "zvezda"), Reason.UNKNOWN_TARGET, "a docked Progress")
    t0 = sim.t_ms
    done(sim, C("transfer_propellant", PAVEL, "progress-ms"))
    assert sim.t_ms - t0 == pytest.approx(work.TRANSFER_S * 1000, abs=sim.dt_ms)
    # All 754 kg (sheet §2, MS-27) go in: Zvezda's 860 kg tanks first.
    assert _kg(sim, "progress-ms") == 0.0 and _kg(sim, "zvezda") == 754.0 and _kg(sim, "zarya") == 0.0
    done(sim, C("burn", "operator", "zvezda", dv_m_s=0.5))
    refused(sim, C("transfer_propellant", PAVEL, "progress-ms"), Reason.PHYSICS, "no propellant to give")


def test_refuelling_needs_the_russian_bus_and_stops_at_full_tanks(sim):
    done(sim, C("power_off", "operator", "ROS"))
    refused(sim, C("transfer_propellant", PAVEL, "progress-ms"), Reason.PHYSICS, "no power")
    done(sim, C("power_on", "operator", "ROS"))
    room = 860.0 - _kg(sim, "zvezda") + 5_500.0 - _kg(sim, "zarya")
    done(sim, C("transfer_propellant", PAVEL, "progress-ms", kg=100.0))
    assert _kg(sim, "progress-ms") == 654.0 and _kg(sim, "zvezda") == 700.0
    assert room > 754.0


# ---------------------------------------------------------------------------- bad input, one line


BASE = 'extends = "nominal"\n[scenario]\nname = "x"\ntitle = "t"\n[station]\nvehicles = ["soyuz-ms", "progress-ms"]\n'


@pytest.mark.parametrize("event, words", [
    ('actor = "Pavel Orlov"\naction = "dump_propellant"\ntarget = "zvezda"\nargs = { fraction = 2 }',
     ("fraction", "at most 1")),
    ('actor = "Pavel Orlov"\naction = "dump_propellant"\ntarget = "zarya"\n', ("no engine", "zvezda, ")),
    ('actor = "Pavel Orlov"\naction = "transfer_propellant"\ntarget = "zvezda"\n', ("a docked Progress",)),
    ('actor = "Pavel Orlov"\naction = "transfer_propellant"\ntarget = "progress-ms"\nargs = { kg = nan }',
     ("finite number",)),  # (a command's args are named "args.args" here: the event checker's wording)
    ('actor = "Maya Torres"\naction = "vent_module"\ntarget = "soyuz-ms"\n', ("no module", "destiny")),
    ('actor = "Maya Torres"\naction = "force_hatch"\ntarget = "no-such-hatch"\n', ("no hatch",)),
    ('actor = "Maya Torres"\naction = "cut_power"\ntarget = "EPS"\n', ("USOS or ROS",)),
    ('action = "open_vent"\ntarget = "soyuz-ms"\n', ("vents are the modules'",)),
    ('action = "dump_propellant"\ntarget = "zvezda"\nargs = { fraction = 0 }', ("fraction",)),
    ('action = "transfer_propellant"\ntarget = "progress-ms"\nargs = { kilos = 5 }', ("kilos",)),
])
def test_bad_sabotage_input_is_one_line_and_exit_2(event, words, tmp_path, capsys):
    from issim.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(BASE + f'[[events]]\nat = "+1h"\n{event}\n')
    status = main(["run", str(path), "--json", "--out", str(tmp_path / "runs")])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2 and captured.out == "" and len(lines) == 1, captured.err
    assert lines[0].startswith(f"issim: error: {path}:events["), lines[0]
    for w in words:
        assert w in lines[0], lines[0]
