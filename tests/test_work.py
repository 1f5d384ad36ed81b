"""Work that takes time (issim.control.work): durations against the reference sheet's
figures, the help an EMU needs, being busy, interruptions, and the arm's reach."""

import pytest

from issim.control import Command, Reason, history
from issim.control import work
from issim.sim import Event

from day_station import DANIEL, DMITRI, IRINA, MAYA, PAVEL, _day, done, sim  # noqa: F401 (fixtures)

C = Command.of
MIN = 60_000


def _outside_in(sim, person, airlock, helper=None):
    """Move ``person`` (and a helper) to ``airlock``, start the EVA; return how long it took (s)."""
    done(sim, C("move", person, airlock))
    if helper:
        done(sim, C("move", helper, airlock))
    start = sim.command(C("begin_eva", person))
    assert start.result == "started", start
    again = sim.command(C("begin_eva", person))
    assert again.reason == Reason.BUSY.value and "busy with begin_eva" in again.message
    while not sim.state["crew.on_eva"][_index(sim, person)]:
        sim.step()
    return (sim.t_ms - start.t_ms) / 1000.0


def _index(sim, person):
    return next(s for s in sim.subsystems if s.name == "control").directory.person(person)


def test_eva_preparation_by_suit_against_the_sheet(sim):
    # Quest, EMU: ISLE 60 min mask prebreathe + 50 min in-suit exercise (sheet, Addendum §1)
    # + 30 min depressurisation (estimate) = 140 min, to the frame (10 s).
    took = _outside_in(sim, MAYA, "quest", helper=DANIEL)
    assert abs(took - (60 + 50 + 30) * 60) <= 10
    # Poisk, Orlan-MKS: 30 min prebreathe + about 1 h of hatch and leak checks (Poisk, Nov 2020).
    took = _outside_in(sim, DMITRI, "poisk")
    assert abs(took - (30 + 60) * 60) <= 10


def test_an_emu_is_not_put_on_alone(sim):
    done(sim, C("move", MAYA, "quest"))
    r = sim.command(C("begin_eva", MAYA))
    assert r.result == "refused" and r.reason == Reason.NO_HELP.value
    done(sim, C("move", DANIEL, "quest"))
    assert sim.command(C("begin_eva", MAYA)).result == "started"
    # The helper leaves before the suit is on: at the end, authority is asked again.
    done(sim, C("move", DANIEL, "unity"))
    for _ in range(int(work.EMU_PREP_S / 10) + 2):
        sim.step()
    ends = [h for h in history(sim.state) if h["command"] == "begin_eva" and h["result"] != "started"]
    assert ends[-1]["result"] == "failed" and ends[-1]["reason"] == Reason.NO_HELP.value
    assert not sim.state["crew.on_eva"][_index(sim, MAYA)]


def test_first_aid_takes_ten_minutes_and_the_wound_bleeds_meanwhile(sim):
    p = _index(sim, MAYA)
    sim.schedule(Event(sim.t_ms, "injure", MAYA, (("bleeding", True), ("severity", 0.3))))
    sim.step()
    done(sim, C("move", DANIEL, "destiny"))
    before = float(sim.state["crew.injury"][p])
    start = sim.command(C("treat", DANIEL, MAYA))
    assert start.result == "started"
    while sim.state["crew.bleeding"][p]:
        sim.step()
    took = (sim.t_ms - start.t_ms) / 1000.0
    assert abs(took - work.TREAT_S) <= 10  # 10 min (estimate, docs/crisis.md)
    # 0.5 an hour of bleeding for those 10 minutes (issim.physics.crew), to 2 %.
    assert float(sim.state["crew.injury"][p]) - before == pytest.approx(0.5 * work.TREAT_S / 3600, rel=0.02)


def test_work_is_dropped_when_the_worker_is_knocked_out_or_stops(sim):
    done(sim, C("move", PAVEL, "zvezda"))
    assert sim.command(C("disable", PAVEL, "elektron")).result == "started"
    sim.schedule(Event(sim.t_ms, "injure", PAVEL, (("severity", 0.6),)))
    for _ in range(int(work.DISABLE_S / 10) + 2):
        sim.step()
    assert not sim.state["ls.broken"][0]  # Elektron untouched
    dropped = [h for h in history(sim.state) if h["command"] == "disable" and h["result"] == "failed"]
    assert dropped and dropped[-1]["reason"] == Reason.INTERRUPTED.value and "knocked out" in dropped[-1]["message"]
    assert int(sim.state["control.task"][_index(sim, PAVEL)]) == -1
    # stop_work abandons work in hand; nothing of it is done.
    done(sim, C("move", IRINA, "zvezda"))
    assert sim.command(C("disable", IRINA, "elektron")).result == "started"
    done(sim, C("stop_work", IRINA))
    for _ in range(int(work.DISABLE_S / 10) + 2):
        sim.step()
    assert not sim.state["ls.broken"][0]


def test_a_cut_link_is_mended_only_at_its_hardware(sim):
    done(sim, C("cut_link", PAVEL, "ros-lira"))
    r = sim.command(C("restore_link", MAYA, "ros-lira"))
    assert r.reason == Reason.NOT_HERE.value and "zvezda" in r.message
    r = sim.command(C("restore_link", "moscow", "ros-lira"))
    assert r.reason == Reason.NOT_CREW.value
    start = sim.command(C("restore_link", PAVEL, "ros-lira"))
    assert start.result == "started"
    k = next(s for s in sim.subsystems if s.name == "control").directory.comms_link_index["ros-lira"]
    while not sim.state["comms.link_ok"][k]:
        sim.step()
    assert abs((sim.t_ms - start.t_ms) / 1000.0 - work.RESTORE_LINK_S) <= 10


def _push(sim, person, airlock, helper=None):
    done(sim, C("move", MAYA, "cupola"), C("take_arm", MAYA))
    _outside_in(sim, person, airlock, helper)
    done(sim, C("unclip_tether", person), C("operate_arm", MAYA, person, action="push"))


def test_without_safer_a_pushed_orlan_wearer_drifts_out_of_reach(sim):
    _push(sim, DMITRI, "poisk")
    p = _index(sim, DMITRI)
    assert sim.state["control.drift_m_s"][p] == pytest.approx(work.PUSH_M_S)
    # The arm goes out at 37 cm/s while he moves away at 15 cm/s: it catches him within its
    # 17.6 m only if he is no more than 17.6 * (0.37 - 0.15) / 0.37 = 10.5 m out: 70 s.
    limit_s = work.ARM_REACH_M * (work.ARM_FREE_M_S - work.PUSH_M_S) / work.ARM_FREE_M_S / work.PUSH_M_S
    assert 65 < limit_s < 75
    sim.run(sim.t_ms + int((limit_s + 20) * 1000))
    r = sim.command(C("operate_arm", MAYA, DMITRI, action="recover"))
    assert r.reason == Reason.OUT_OF_REACH.value and "moving away at 15 cm/s" in r.message


def test_with_safer_an_emu_wearer_holds_on_within_reach_and_is_recovered(sim):
    _push(sim, DANIEL, "quest", helper=IRINA)
    p = _index(sim, DANIEL)
    assert sim.state["control.adrift"][p] and sim.state["control.drift_m_s"][p] == 0.0
    sim.run(sim.t_ms + 3_600_000)  # an hour later he is still where he caught hold
    assert sim.state["control.drift_m"][p] == pytest.approx(work.HOLD_AT_M)
    start = sim.command(C("operate_arm", MAYA, DANIEL, action="recover"))
    assert start.result == "started"
    # Out at 37 cm/s, back at 15 cm/s, 5 min to capture (sheet, Addendum §3; capture estimated).
    want = work.HOLD_AT_M / 0.37 + work.HOLD_AT_M / 0.15 + 300
    while sim.state["control.adrift"][p]:
        sim.step()
    assert abs((sim.t_ms - start.t_ms) / 1000.0 - want) <= 20  # to two frames: the end falls on a frame
    done(sim, C("end_eva", DANIEL))
