"""Communications against the sheet (§7) and against the geometry computed directly.

Reference figures: TDRSS covers "at least 85 %" of the orbit (NSSDC, iss-facts.md §7)
with a zone of exclusion over the Indian Ocean that a scheduled TDRS-Z closes; the ROS
talks directly to Russian ground stations only "when over Russian territory" and via
the Luch relays otherwise (§7), which since July 2020 give "two sessions of about 30 min
per ~92-min orbit" (Roscosmos, via the sheet).

Measured here over the week from the nominal start (2025-03-10): US ≈ 92.2 %; ROS through
Shchyolkovo and Ussuriysk alone (5° mask, an estimate) ≈ 5.4 %; ROS with the Luch sessions
≈ 66 % (60 of every 92.6 minutes, and the ground passes between them).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pytest

from issim import orbit
from issim.errors import InputError
from issim.physics.comms import Comms, load_comms_config
from issim.physics.power import PowerBuses
from issim.scenario import build_simulation, load_scenario
from issim.sim import SEGMENTS, Event, Simulation, build_world
from issim.times import MS_PER_DAY, Interval

START = orbit.parse_iso("2025-03-10T00:00:00Z")
WEEK_MS = 7 * MS_PER_DAY
DT_MS = 10_000
ELEMENTS = orbit.elements_for(START)
LUCH = ("luch-5a", "luch-5b", "luch-5v")
USOS, ROS = 0, 1


@dataclass
class Week:
    sim: Simulation
    comms: Comms
    t_ms: np.ndarray  # frame times
    contact: np.ndarray  # (frames, segments) bool, from the state after each frame
    lon_deg: np.ndarray
    lat_deg: np.ndarray


def _harness(*events: Event, record_every_s: float = 60.0) -> tuple[Simulation, Comms]:
    world = build_world()
    comms = Comms(world)
    sim = Simulation(world, [PowerBuses(), comms], start_ms=START, elements=ELEMENTS, record_every_s=record_every_s)
    for e in events:
        sim.schedule(e)
    return sim, comms


def _run_week(*events: Event) -> Week:
    sim, comms = _harness(*events)
    n = WEEK_MS // DT_MS
    t = np.empty(n, dtype=np.int64)
    contact = np.empty((n, len(SEGMENTS)), dtype=bool)
    lon, lat = np.empty(n), np.empty(n)
    for k in range(n):
        env = sim.environment.at(sim.state)  # what this frame's update sees
        t[k], lon[k], lat[k] = sim.t_ms, env.lon_deg, env.lat_deg
        sim.step()
        contact[k] = sim.state["comms.contact"]
    return Week(sim, comms, t, contact, lon, lat)


@pytest.fixture(scope="module")
def week():
    return _run_week()


@pytest.fixture(scope="module")
def week_ground_only():
    return _run_week(*(Event(START, "unschedule_relay", r) for r in LUCH))


def _spans(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[first, past_last)`` frame indices of each run of True."""
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _delivered(sim: Simulation) -> list[dict]:
    return [e for e in sim.event_log() if e["kind"] == "comms" and e["what"] == "delivered"]


def _msg(t_ms: int, frm: str, to: str, text: str = "hello", **more) -> Event:
    return Event(t_ms, "send_message", "", (("from", frm), ("to", to), ("text", text), *more.items()))


# --------------------------------------------------------------------------- coverage


def test_us_contact_over_a_week_meets_nssdc_and_has_the_zoe(week):
    cover = week.comms.summary(week.sim.state)["usos_coverage"]
    assert 0.85 <= cover < 1.0
    assert cover == pytest.approx(week.contact[:, USOS].mean(), abs=1e-6)
    gaps = ~week.contact[:, USOS]
    assert len(_spans(gaps)) > 50  # about one per orbit, not one long outage
    # Every frame without contact has the station over the Indian-Ocean side.
    assert np.all((week.lon_deg[gaps] > 40.0) & (week.lon_deg[gaps] < 110.0))


def test_scheduling_tdrs_z_closes_the_zoe(week):
    closed = _run_week(Event(START, "schedule_relay", "tdrs-z"))
    assert closed.comms.summary(closed.sim.state)["usos_coverage"] == 1.0
    assert closed.contact[:, USOS].all()
    assert not week.contact[:, USOS].all()
    # And unscheduling it later opens the gap again.
    sim, comms = _harness(
        Event(START, "schedule_relay", "tdrs-z"), Event(START + MS_PER_DAY, "unschedule_relay", "tdrs-z")
    )
    sim.run(START + 2 * MS_PER_DAY)
    assert 0.9 < comms.summary(sim.state)["usos_coverage"] < 1.0


def test_ros_ground_stations_alone_and_with_luch(week, week_ground_only):
    """ROS ground stations only ≈ 5.4 %; with the Luch sessions 55-75 % (two 30-minute
    sessions per orbit are 65 % of it, the ground passes add a little); the US ≥ 85 %."""
    us = week.comms.summary(week.sim.state)["usos_coverage"]
    with_luch = week.comms.summary(week.sim.state)["ros_coverage"]
    ground = week_ground_only.comms.summary(week_ground_only.sim.state)["ros_coverage"]
    assert 0.02 < ground < 0.15
    assert ground < us - 0.5  # well below the US figure
    assert 0.55 <= with_luch <= 0.75 and us >= 0.85
    assert with_luch >= 2 * 30 / ELEMENTS.period_min - 0.005  # the sessions at least (a frame's rounding)
    # Direct contact only over Russia and its edges: at a 5° mask Ussuriysk (43.8° N) sees
    # the station down to about 28° N, so the sub-point stays north of 25° and in 5-165° E.
    direct = week_ground_only.contact[:, ROS]
    assert np.all(week_ground_only.lat_deg[direct] > 25.0)
    assert np.all((week_ground_only.lon_deg[direct] > 5.0) & (week_ground_only.lon_deg[direct] < 165.0))
    # Unscheduling Luch does not touch the US segment.
    assert np.array_equal(week.contact[:, USOS], week_ground_only.contact[:, USOS])


def _contact_s(intervals: list[Interval]) -> float:
    return sum(max(0, min(c.end_ms, START + WEEK_MS) - max(c.start_ms, START)) for c in intervals) / 1000.0


def _assert_matches_geometry(summary_s: float, contacts: list[Interval]):
    assert abs(summary_s - _contact_s(contacts)) <= DT_MS / 1000.0 * max(1, len(contacts))


def test_coverage_equals_the_geometry_computed_directly(week, week_ground_only):
    end = START + WEEK_MS
    tdrs = orbit.merge_contacts(*(orbit.relay_contacts(ELEMENTS, orbit.find_relay(r), START, end)
                                  for r in ("tdrs-east", "tdrs-west")))
    s = week.comms.summary(week.sim.state)
    assert len(tdrs) > 50
    _assert_matches_geometry(s["usos_contact_s"], tdrs)
    assert s["usos_coverage"] == pytest.approx(_contact_s(tdrs) / (WEEK_MS / 1000.0), abs=len(tdrs) * DT_MS / WEEK_MS)

    mask = next(l.min_elevation_deg for l in load_comms_config().links if l.id == "ros-regul")
    stations = [orbit.find_site("shchyolkovo"), orbit.find_site("ussuriysk")]
    passes = orbit.passes_for_sites(ELEMENTS, stations, START, end, mask)
    ground = orbit.merge_contacts([Interval(max(p.aos_ms, START), min(p.los_ms, end)) for site in passes for p in site])
    assert len(ground) > 20
    _assert_matches_geometry(week_ground_only.comms.summary(week_ground_only.sim.state)["ros_contact_s"], ground)

    luch = orbit.merge_contacts(*(orbit.relay_contacts(ELEMENTS, orbit.find_relay(r), START, end) for r in LUCH))
    _assert_matches_geometry(s["ros_contact_s"], orbit.merge_contacts(ground, _within(luch, _luch_sessions(end))))


def _luch_sessions(end: int) -> list[Interval]:
    """Two 30-minute sessions per orbit, evenly spread from the start (ground.toml [[sessions]])."""
    slot = ELEMENTS.period_min * 60_000 / 2
    out, k = [], 0
    while START + k * slot < end:
        a = START + k * slot
        out.append(Interval(int(np.ceil(a / DT_MS) * DT_MS), int(np.ceil((a + 1_800_000) / DT_MS) * DT_MS)))
        k += 1
    return out


def _within(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """The parts of ``a`` inside ``b`` (both sorted, disjoint)."""
    out = []
    for x in a:
        for y in b:
            lo, hi = max(x.start_ms, y.start_ms), min(x.end_ms, y.end_ms)
            if lo < hi:
                out.append(Interval(lo, hi))
    return out


# --------------------------------------------------------------------------- messages


def test_a_message_waits_for_the_next_contact(week):
    gaps = _spans(~week.contact[:, USOS])
    first, past = gaps[1]  # a whole gap, well after the start
    sent = int(week.t_ms[first]) + 3_000  # mid-frame
    aos = int(week.t_ms[past])  # first frame with contact again
    sim, comms = _harness(_msg(sent, "houston", "USOS", "stand by", id="m1"))
    sim.run(aos)  # every frame before the contact returns
    assert not _delivered(sim)
    assert sim.state["comms.messages"][0] == 1 and comms.queue(sim.state)[0]["id"] == "m1"
    sim.step()  # the frame at AOS
    (d,) = _delivered(sim)
    assert d["id"] == "m1" and d["from"] == "houston" and d["to"] == "USOS" and d["segment"] == "USOS"
    assert d["delay_s"] == (aos - sent) / 1000.0
    # ... which is the time to the next contact from the geometry, within one frame.
    around = (sent - 3_600_000, aos + 3_600_000)
    contacts = orbit.merge_contacts(
        *(orbit.relay_contacts(ELEMENTS, orbit.find_relay(r), *around) for r in ("tdrs-east", "tdrs-west"))
    )
    next_aos = min(c.start_ms for c in contacts if c.start_ms > sent)
    assert abs(d["delay_s"] - (next_aos - sent) / 1000.0) <= DT_MS / 1000.0
    assert sim.state.facts["comms.queue"] == () and sim.state["comms.messages"].tolist() == [0, 1, 1]


def test_a_message_sent_in_contact_goes_at_once(week):
    k = int(np.flatnonzero(week.contact[:, USOS])[100])
    sent = int(week.t_ms[k]) - 4_000
    sim, _ = _harness(_msg(sent, "USOS", "houston"))
    sim.run(int(week.t_ms[k]) + DT_MS)
    (d,) = _delivered(sim)
    assert d["delay_s"] == 4.0 and d["id"] == "msg-1"


def test_a_message_to_the_ros_waits_for_power_and_contact(week_ground_only):
    # Ground stations only, so contact is rare: power returns outside a pass.
    passes = _spans(week_ground_only.contact[:, ROS])
    # A pass of 5 min or more, followed by a gap of more than 20 min.
    i = next(i for i, ((a0, a1), (b0, _)) in enumerate(zip(passes, passes[1:])) if a1 - a0 >= 30 and b0 - a1 > 120)
    (a0, a1), (b0, _) = passes[i], passes[i + 1]
    off, on = int(week_ground_only.t_ms[a0]) + 60_000, int(week_ground_only.t_ms[a1]) + 600_000
    sent = off + 60_000
    sim, _ = _harness(*(Event(START, "unschedule_relay", r) for r in LUCH),
                      Event(off, "power_off", "ROS"), _msg(sent, "moscow", "ROS", "report"),
                      Event(on, "power_on", "ROS"))
    sim.run(on + DT_MS)
    assert not _delivered(sim)  # sent during a pass, but the ROS bus was off
    sim.run(int(week_ground_only.t_ms[b0]) + DT_MS)
    (d,) = _delivered(sim)  # delivered at the next pass after power returned
    assert d["delay_s"] == (int(week_ground_only.t_ms[b0]) - sent) / 1000.0 and d["segment"] == "ROS"


def test_cut_links_and_power_off_stop_us_contact_until_restored(week):
    links = [l.id for l in load_comms_config().links if l.segment == "USOS"]
    h = 3_600_000
    ev = [Event(START + h, "cut_link", links[0])]
    ev += [Event(START + 2 * h, "cut_link", l) for l in links[1:]]
    ev += [Event(START + 5 * h, "restore_link", l) for l in links]
    ev += [Event(START + 8 * h, "power_off", "USOS"), Event(START + 11 * h, "power_on", "USOS")]
    sim, _ = _harness(*ev, record_every_s=10)
    sim.run(START + 14 * h)
    _, us = sim.telemetry("comms.USOS.contact")
    _, ros = sim.telemetry("comms.ROS.contact")
    base = week.contact[: len(us) - 1, USOS]  # the recorder's first sample is before frame 0
    us = us[1:].astype(bool)
    frames = lambda a, b: slice(a * h // DT_MS, b * h // DT_MS)
    # One link cut: the other still carries the contact.
    assert np.array_equal(us[frames(1, 2)], base[frames(1, 2)]) and base[frames(1, 2)].any()
    # Every US link cut, or the US bus off: no contact at all; the ROS is untouched.
    for a, b in ((2, 5), (8, 11)):
        assert base[frames(a, b)].any() and not us[frames(a, b)].any()
        assert np.array_equal(ros[1:][frames(a, b)].astype(bool), week.contact[frames(a, b), ROS])
    # Restored: the contact comes back exactly as without the cuts.
    for a, b in ((5, 8), (11, 14)):
        assert np.array_equal(us[frames(a, b)], base[frames(a, b)]) and us[frames(a, b)].any()
    _, first_link = sim.telemetry(f"comms.{links[0]}.up")
    assert not first_link[1:][frames(1, 5)].any() and first_link[1:][frames(5, 8)].any()


@pytest.fixture(scope="module")
def nominal_names():
    return [c.name for c in load_scenario("nominal").crew]


def test_a_message_to_a_person_follows_them_between_segments(nominal_names):
    assert "Pavel Orlov" in nominal_names
    sim = build_simulation("nominal")
    t0 = sim.start_ms
    tdrs_z = Event(t0, "schedule_relay", "tdrs-z")  # the US segment always in contact: no waiting on geometry
    sim.schedule(tdrs_z)
    sim.schedule(Event(t0 + 60_000, "power_off", "ROS"))
    sim.schedule(_msg(t0 + 120_000, "houston", "Pavel Orlov", "come to the lab", id="p1"))
    sim.schedule(_msg(t0 + 120_000, "houston", "Maya Torres", "and you", id="p2"))
    sim.schedule(Event(t0 + 1_800_000, "move", "Pavel Orlov", (("to", "destiny"),)))
    sim.run(t0 + 1_800_000)
    got = {d["id"]: d for d in _delivered(sim)}
    assert set(got) == {"p2"}  # Maya is on the US side; Pavel, in dark Zvezda, waits
    sim.run(t0 + 1_800_000 + DT_MS)
    d = {d["id"]: d for d in _delivered(sim)}["p1"]
    assert d["segment"] == "USOS" and d["to"] == "Pavel Orlov"
    assert d["delay_s"] == (1_800_000 - 120_000) / 1000.0


def test_suit_radio_carries_eva_messages_and_can_be_cut():
    sim = build_simulation("nominal")
    t0 = sim.start_ms
    ev = [
        Event(t0, "move", "Pavel Orlov", (("to", "poisk"),)),
        Event(t0 + 60_000, "eva_begin", "Pavel Orlov"),
        _msg(t0 + 120_000, "moscow", "Pavel Orlov", "check the antenna", id="e1"),
        Event(t0 + 600_000, "cut_suit_radio", "Pavel Orlov"),
        _msg(t0 + 660_000, "Pavel Orlov", "moscow", "done", id="e2"),
        Event(t0 + 1_500_000, "restore_suit_radio", "Pavel Orlov"),  # within the first Luch session
    ]
    for e in ev:
        sim.schedule(e)
    sim.run(t0 + 1_500_000)
    assert sim.state["crew.on_eva"][sim.state.facts["crew.names"].index("Pavel Orlov")]
    assert [d["id"] for d in _delivered(sim)] == ["e1"]  # the radio worked, and a Luch session was open
    sim.run(t0 + 1_500_000 + DT_MS)
    d = _delivered(sim)[-1]
    assert d["id"] == "e2" and d["segment"] == "ROS" and d["delay_s"] == (1_500_000 - 660_000) / 1000.0


def test_blocked_messages_wait_until_unblocked():
    sim, comms = _harness(
        Event(START, "schedule_relay", "tdrs-z"),
        Event(START, "block_messages", "ROS"),
        _msg(START + 60_000, "moscow", "ROS", id="b1"),
        _msg(START + 60_000, "houston", "USOS", id="u1"),
        Event(START + 900_000, "unblock_messages", "ROS"),
    )
    sim.run(START + 900_000)
    assert [d["id"] for d in _delivered(sim)] == ["u1"]
    assert comms.summary(sim.state)["messages_queued"] == 1
    sim.run(START + 900_000 + DT_MS)
    assert [d["id"] for d in _delivered(sim)] == ["u1", "b1"]
    assert comms.summary(sim.state)["messages_delivered"] == 2


# --------------------------------------------------------------------------- refusals


def test_bad_events_are_refused_with_a_one_line_reason():
    sim = build_simulation("nominal")
    comms = next(s for s in sim.subsystems if s.name == "comms")
    bad = {
        Event(0, "cut_link", "usos-x-band"): "no link 'usos-x-band'",
        Event(0, "restore_link", ""): "no link ''",
        Event(0, "schedule_relay", "tdrs-q"): "no relay 'tdrs-q'",
        Event(0, "unschedule_relay", "luch-9"): "no relay 'luch-9'",
        Event(0, "send_message", "", (("from", "houston"), ("to", "USOS"))): "needs args.text",
        Event(0, "send_message", "", (("from", "houston"), ("to", "USOS"), ("text", "  "))): "needs args.text",
        Event(0, "send_message", "", (("from", "houston"), ("to", "Nobody"), ("text", "hi"))): "needs args.to",
        Event(0, "send_message", "", (("from", "houston"), ("to", "moscow"), ("text", "hi"))): "between the ground",
        Event(0, "send_message", "", (("from", "ROS"), ("to", "Maya Torres"), ("text", "hi"))): "between the ground",
        Event(0, "send_message", "", (("from", "houston"), ("to", "USOS"), ("txt", "hi"))): "takes args",
        Event(0, "block_messages", "JEM"): "no segment 'JEM'",
        Event(0, "cut_suit_radio", "Nobody"): "no crew member 'Nobody'",
    }
    for event, phrase in bad.items():
        reason = comms.validate(event)
        assert reason is not None and phrase in reason and "\n" not in reason, (event, reason)
    good = [
        Event(0, "cut_link", "ros-lira"), Event(0, "schedule_relay", "tdrs-z"),
        _msg(0, "houston", "USOS"), _msg(0, "Maya Torres", "moscow"), _msg(0, "moscow", "pavel-orlov"),
        Event(0, "block_messages", "ROS"), Event(0, "cut_suit_radio", "Irina Volkova"),
    ]
    assert [comms.validate(e) for e in good] == [None] * len(good)
    # The scenario layer refuses a bad event before the run, naming the event.
    scenario = load_scenario("nominal")
    bad_scenario = scenario.model_copy(update={"events": [*scenario.events, scenario.events[0].model_copy(
        update={"action": "cut_link", "target": "usos-x-band", "args": {}})]})
    with pytest.raises(InputError, match=r"events\[1\]: no link 'usos-x-band'"):
        build_simulation(bad_scenario)


def test_events_that_change_nothing_are_refused_at_run_time():
    sim, _ = _harness(Event(START, "cut_link", "ros-lira"), Event(START, "cut_link", "ros-lira"),
                      Event(START, "unschedule_relay", "tdrs-z"), _msg(START, "houston", "USOS", id="x"),
                      _msg(START, "houston", "USOS", id="x"))
    sim.step()
    log = [e for e in sim.event_log() if e["kind"] == "event"]
    assert [e["result"] for e in log] == ["done", "refused", "refused", "done", "refused"]
    assert "already cut" in log[1]["reason"] and "already unscheduled" in log[2]["reason"]


def test_every_figure_in_the_data_has_a_source_or_a_labelled_estimate():
    text = resources.files("issim.data").joinpath("comms.toml").read_text()
    cfg = load_comms_config(text)
    assert {l.id for l in cfg.links} == {"usos-s-band", "usos-ku-band", "ros-regul", "ros-lira"}
    rates = {l.id: l.rate_mbps for l in cfg.links}
    assert rates["usos-ku-band"] == 600.0 and rates["ros-lira"] == 105.0  # §7
    with pytest.raises(ValueError, match="power_w needs power_src"):
        load_comms_config(text.replace('power_src = ["estimate"]\npower_note', 'power_note', 1))
    with pytest.raises(ValueError, match="must start with 'estimate:'"):
        load_comms_config(text.replace('power_note = "estimate:', 'power_note = "about', 1))
    with pytest.raises(ValueError, match="neither a site nor a relay"):
        load_comms_config(text.replace('"tdrs-east", "tdrs-west"', '"tdrs-east", "tdrs-north"', 1))


# --------------------------------------------------------------------------- determinism


def test_snapshot_restore_continues_bit_identically_with_comms():
    def build():
        sim = build_simulation("nominal")
        t0 = sim.start_ms
        for e in (
            Event(t0 + 600_000, "power_off", "USOS"),
            _msg(t0 + 900_000, "houston", "USOS", "one"),
            _msg(t0 + 900_000, "houston", "Kenji Watanabe", "two"),
            Event(t0 + 1_000_000, "cut_link", "ros-lira"),
            Event(t0 + 1_000_000, "block_messages", "ROS"),
            _msg(t0 + 1_100_000, "Irina Volkova", "moscow", "three"),
            Event(t0 + 4 * 3_600_000, "power_on", "USOS"),
            Event(t0 + 5 * 3_600_000, "unblock_messages", "ROS"),
        ):
            sim.schedule(e)
        return sim

    a = build()
    t0 = a.start_ms
    a.run(t0 + 3 * 3_600_000)
    snap = a.snapshot()
    assert len(snap.state.facts["comms.queue"]) == 3  # waiting when saved
    a.run(t0 + 8 * 3_600_000)
    first = a.state.copy()
    assert len(_delivered(a)) == 3 and a.state.facts["comms.queue"] == ()
    a.restore(snap)
    a.run(t0 + 8 * 3_600_000)
    assert a.state.identical(first)
    b = build()
    b.restore(snap)
    b.run(t0 + 8 * 3_600_000)
    assert b.state.identical(first) and b.event_log_sha256() == a.event_log_sha256()
    t1, v1 = a.telemetry("comms.USOS.contact")
    t2, v2 = b.telemetry("comms.USOS.contact")
    assert np.array_equal(t1, t2) and v1.tobytes() == v2.tobytes()
