"""Commands, authority and the one command pipeline (issim.control).

Every case is set up from the nominal crew by commands (moving people, closing hatches);
scripted engine events are used only for what no one commands (an injury from another
cause, a hole). Each refusal reason has its own test showing that it happens and that
it is in the command history and in the event log.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from issim.control import CATALOGUE, Command, Reason, complete, history
from issim.control import confront as fight
from issim.errors import InputError
from issim.scenario import build_simulation, parse_scenario
from issim.sim import Event, Simulation

C = Command.of
DOCS = Path(__file__).resolve().parents[1] / "docs"

# The nominal crew, awake (10:00 GMT) and at work: Maya Torres in Destiny, Daniel Reyes in
# Tranquility, Sofia Lindqvist in Columbus, Kenji Watanabe in the JEM; Pavel Orlov in
# Zvezda, Irina Volkova in Nauka, Dmitri Sokolov in Zarya.
# Here each segment's laptops start with their own side only (the default shares them).
DAY = """
extends = "nominal"
[scenario]
start = 2025-03-10T10:00:00Z

[station]
vehicles = ["soyuz-ms", "progress-ms", "crew-dragon"]
credentials = { USOS = ["usa"], ROS = ["russia"] }
"""
ITEMS = DAY + """
[[items]]
id = "research"
name = "radiation-sickness research samples"
at = "nauka"

[[items]]
id = "mice"
at = "Maya Torres"
"""
# The default: the crews share their laptops, every segment accepts both sides.
SHARED = """
extends = "nominal"
[scenario]
start = 2025-03-10T10:00:00Z
"""
MAYA, DANIEL, PAVEL, IRINA, DMITRI = "Maya Torres", "Daniel Reyes", "Pavel Orlov", "Irina Volkova", "Dmitri Sokolov"
BOUNDARY = "zarya-pma-1"


def _build(text: str, seed=None) -> Simulation:
    sim = build_simulation(parse_scenario(text.encode(), "test.toml"), seed=seed)
    sim.step()  # one frame: the communications know their contacts
    return sim


@pytest.fixture(scope="module")
def _day():
    sim = _build(DAY)
    return sim, sim.snapshot()


@pytest.fixture
def sim(_day):
    s, snap = _day
    s.restore(snap)
    return s


@pytest.fixture(scope="module")
def _shared():
    s = _build(SHARED)
    return s, s.snapshot()


@pytest.fixture
def shared(_shared):
    s, snap = _shared
    s.restore(snap)
    return s


@pytest.fixture(scope="module")
def _items():
    s = _build(ITEMS)
    return s, s.snapshot()


@pytest.fixture
def isim(_items):
    s, snap = _items
    s.restore(snap)
    return s


def ok(sim: Simulation, *cmds: Command) -> None:
    """Each command done (work that takes time run to its end)."""
    for cmd in cmds:
        r = complete(sim, cmd)
        assert r.result == "done", (cmd, r)


def refused(sim: Simulation, cmd: Command, reason: Reason, pattern: str = "") -> str:
    """Issue ``cmd``; check it failed with ``reason``, in the history and the log; the dry run agrees."""
    before = sim.state.copy()
    dry = sim.dry_run(cmd)
    assert sim.state.identical(before)
    n_hist = len(sim.state.facts["control.history"])
    r = sim.command(cmd)
    assert r.result in ("refused", "failed") and r.reason == reason.value, r
    assert re.search(pattern, r.message), r.message
    assert (dry.result, dry.stage, dry.reason, dry.message) == (r.result, r.stage, r.reason, r.message)
    hist = sim.state.facts["control.history"]
    assert len(hist) == n_hist + 1
    t, actor, source, name, target, args, stage, result, reason_code, message = hist[-1]
    assert (name, result, reason_code, message) == (str(cmd.name), r.result, reason.value, r.message)
    kind, details = sim.state.log[-1][1], dict(sim.state.log[-1][2])
    assert kind == "command" and details["reason"] == reason.value and details["command"] == str(cmd.name)
    return r.message


def where(sim: Simulation, name: str) -> str:
    c = next(s for s in sim.subsystems if s.name == "crew")
    return sim.world.volumes[int(sim.state["crew.location"][c.names.index(name)])].id


def _injure(sim: Simulation, name: str, severity: float) -> None:
    """An injury from another cause (a scripted event: nobody commands it)."""
    sim.schedule(Event(sim.t_ms, "injure", name, (("severity", severity),)))
    sim.step()


# ---------------------------------------------------------------------------- refusal reasons


def test_unknown_command(sim):
    refused(sim, C("frobnicate", MAYA), Reason.UNKNOWN_COMMAND, "no command 'frobnicate'; commands: allow_burns")


def test_bad_argument(sim):
    refused(sim, C("switch", MAYA, "cdra-1", on="yes"), Reason.BAD_ARGUMENT, "on must be true or false")
    refused(sim, C("switch", MAYA, "cdra-1"), Reason.BAD_ARGUMENT, "switch needs on: bool")
    refused(sim, C("switch", MAYA, "cdra-1", on=True, speed=3), Reason.BAD_ARGUMENT, "got 'speed'")
    refused(sim, C("burn", PAVEL, "zvezda", dv_m_s=50), Reason.BAD_ARGUMENT, "at most 20")
    # the handling subsystem's own check: the OGA makes 2.3-9.2 kg/day, or 0
    refused(sim, C("set_rate", MAYA, "oga", kg_per_day=1.0), Reason.BAD_ARGUMENT, "kg O2/day")
    refused(sim, C("close_hatch", MAYA, "unity-destiny", source="telepathy"), Reason.BAD_ARGUMENT, "unknown source")


def test_unknown_target(sim):
    refused(sim, C("switch", MAYA, "cdra-9", on=False), Reason.UNKNOWN_TARGET, "no machine 'cdra-9'")
    refused(sim, C("close_hatch", MAYA, "destiny-zvezda"), Reason.UNKNOWN_TARGET, "no hatch")
    refused(sim, C("confront", MAYA, "Gordon Barrett"), Reason.UNKNOWN_TARGET, "no crew member 'Gordon Barrett'")


def test_unknown_actor(sim):
    refused(sim, C("close_hatch", "Gordon Barrett", "unity-destiny"), Reason.UNKNOWN_ACTOR, "no one called")
    refused(sim, C("power_off", "operator", "ROS", source="agent"), Reason.UNKNOWN_ACTOR, "cannot act as the operator")


def test_not_crew(sim):
    refused(sim, C("close_hatch", "houston", "unity-destiny"), Reason.NOT_CREW)
    refused(sim, C("move", "operator", "zvezda"), Reason.NOT_CREW)
    refused(sim, C("block_messages", "moscow", "ROS"), Reason.NOT_CREW)


def test_not_aboard(sim):
    ok(sim, C("board", PAVEL, "soyuz-ms"), C("close_hatch", PAVEL, "rassvet-soyuz"), C("undock", PAVEL, "soyuz-ms"))
    refused(sim, C("send_message", PAVEL, "moscow", text="leaving"), Reason.NOT_ABOARD, "left the station in soyuz-ms")


def test_actor_dead(sim):
    _injure(sim, MAYA, 1.0)
    refused(sim, C("close_hatch", MAYA, "unity-destiny"), Reason.ACTOR_DEAD)


def test_actor_incapacitated(sim):
    _injure(sim, MAYA, 0.6)
    refused(sim, C("close_hatch", MAYA, "unity-destiny"), Reason.ACTOR_INCAPACITATED)


def test_on_eva_and_not_on_eva(sim):
    refused(sim, C("end_eva", MAYA), Reason.NOT_ON_EVA)
    refused(sim, C("begin_eva", MAYA), Reason.NOT_HERE, "an EVA starts from an airlock: quest, poisk")
    ok(sim, C("move", MAYA, "quest"))
    refused(sim, C("begin_eva", MAYA), Reason.NO_HELP, "EMU is put on with help")
    ok(sim, C("move", DANIEL, "quest"), C("begin_eva", MAYA))
    refused(sim, C("close_hatch", MAYA, "unity-quest"), Reason.ON_EVA)
    ok(sim, C("send_message", MAYA, "houston", text="outside"), C("end_eva", MAYA))


def test_not_here(sim):
    refused(sim, C("close_hatch", PAVEL, BOUNDARY), Reason.NOT_HERE, "Pavel Orlov is in zvezda; hatch zarya-pma-1")
    refused(sim, C("repair", PAVEL, "cdra-1"), Reason.NOT_HERE, "by hand in destiny")
    refused(sim, C("switch", MAYA, "elektron", on=False), Reason.NOT_HERE, "the ROS's laptops")
    refused(sim, C("confront", PAVEL, MAYA), Reason.NOT_HERE, "both in one volume")


def test_no_path(sim):
    ok(sim, C("close_hatch", DMITRI, BOUNDARY))
    refused(sim, C("move", MAYA, "zarya"), Reason.NO_PATH, "closed on the way out: zarya-pma-1")
    refused(sim, C("board", MAYA, "soyuz-ms"), Reason.NO_PATH)


def test_hatch_locked_from_the_other_side(sim):
    ok(sim, C("close_hatch", DMITRI, BOUNDARY), C("lock_hatch", DMITRI, BOUNDARY), C("move", MAYA, "pma-1"))
    assert int(sim.state["control.lock_side"][sim.world.link_index[BOUNDARY]]) == sim.world.index["zarya"]
    refused(sim, C("open_hatch", MAYA, BOUNDARY), Reason.HATCH_LOCKED, "locked from zarya$")
    refused(sim, C("unlock_hatch", MAYA, BOUNDARY), Reason.HATCH_LOCKED, "the other side")
    refused(sim, C("move", MAYA, "zarya"), Reason.NO_PATH, r"zarya-pma-1 \(locked from zarya\)")
    # The locking side must unlock before opening, and then can.
    refused(sim, C("open_hatch", DMITRI, BOUNDARY), Reason.HATCH_LOCKED, "unlock it first")
    ok(sim, C("unlock_hatch", DMITRI, BOUNDARY), C("open_hatch", MAYA, BOUNDARY), C("move", MAYA, "zarya"))


def test_no_credential(sim):
    ok(sim, C("move", MAYA, "zvezda"))
    refused(sim, C("switch", MAYA, "elektron", on=False), Reason.NO_CREDENTIAL, "the ROS laptops accept russia")
    # Only a side that holds a segment's credential can change it.
    refused(sim, C("change_credentials", MAYA, "ROS"), Reason.NO_CREDENTIAL)


def test_changing_credentials_locks_the_old_faction_out(shared):
    sim = shared
    ok(sim, C("move", MAYA, "zvezda"), C("switch", MAYA, "elektron", on=False))
    ok(sim, C("switch", "houston", "cdra-1", on=True))
    # Pavel takes the US laptops: the Americans, and Houston, lose them.
    ok(sim, C("move", PAVEL, "destiny"), C("change_credentials", PAVEL, "USOS"), C("switch", PAVEL, "cdra-1", on=False))
    assert not sim.state["ls.on"][2]  # cdra-1 is machine 2 of eclss.toml
    assert sim.state["control.credentials"].tolist() == [[False, True], [True, True]]
    refused(sim, C("switch", DANIEL, "cdra-1", on=True), Reason.NO_CREDENTIAL, "the USOS laptops accept russia")
    refused(sim, C("power_off", "houston", "USOS"), Reason.NO_CREDENTIAL)
    refused(sim, C("change_credentials", DANIEL, "USOS"), Reason.NO_CREDENTIAL)
    ok(sim, C("switch", MAYA, "elektron", on=True))  # the ROS laptops still take her


def test_ground_needs_a_link_and_its_own_segment(sim):
    refused(sim, C("switch", "houston", "elektron", on=False), Reason.NOT_YOUR_SEGMENT, "houston flies the USOS")
    refused(sim, C("burn", "houston", "zvezda", dv_m_s=0.5), Reason.NOT_YOUR_SEGMENT)
    refused(sim, C("switch", "moscow", "cdra-1", on=False), Reason.NOT_YOUR_SEGMENT)
    ok(sim, C("switch", "moscow", "elektron", on=False))
    ok(sim, C("cut_link", PAVEL, "ros-regul"), C("cut_link", PAVEL, "ros-lira"))
    sim.step()
    assert not sim.state["comms.contact"][1]
    refused(sim, C("switch", "moscow", "elektron", on=True), Reason.NO_LINK, "the ROS has no contact with moscow")
    refused(sim, C("restore_link", "moscow", "ros-lira"), Reason.NOT_CREW, "crew or operator")
    ok(sim, C("move", PAVEL, "zarya"))
    refused(sim, C("restore_link", PAVEL, "ros-lira"), Reason.NOT_HERE, "by hand in zvezda")
    ok(sim, C("move", PAVEL, "zvezda"))
    ok(sim, C("restore_link", PAVEL, "ros-lira"))  # 90 min of work at the hardware
    for _ in range(600):  # the Luch relays see the station for about 30 min of each orbit
        sim.step()
        if sim.state["comms.contact"][1]:
            break
    assert sim.state["comms.contact"][1]
    ok(sim, C("switch", "moscow", "elektron", on=True))


def test_items_here_held_and_in_use(isim):
    sim = isim
    refused(sim, C("take_item", PAVEL, "research"), Reason.ITEM_NOT_HERE, "research is in nauka")
    refused(sim, C("stow_item", IRINA, "research"), Reason.NOT_HELD)
    ok(sim, C("take_item", IRINA, "research"))
    ok(sim, C("move", PAVEL, "nauka"))
    refused(sim, C("take_item", PAVEL, "research"), Reason.IN_USE, "Irina Volkova holds research")
    ok(sim, C("hand_over", IRINA, "research", to=PAVEL), C("move", PAVEL, "zvezda"))
    assert int(sim.state["control.item_holder"][0]) == 4
    sim.step()
    assert int(sim.state["control.item_volume"][0]) == sim.world.index["zvezda"]
    refused(sim, C("take_item", IRINA, "research"), Reason.ITEM_NOT_HERE, "Pavel Orlov holds research, in zvezda")
    ok(sim, C("stow_item", PAVEL, "research"), C("move", IRINA, "zvezda"), C("take_item", IRINA, "research"))
    # From someone unconscious, an item can be taken.
    ok(sim, C("move", PAVEL, "destiny"))
    refused(sim, C("take_item", PAVEL, "mice"), Reason.IN_USE)
    _injure(sim, MAYA, 0.6)
    ok(sim, C("take_item", PAVEL, "mice"))


def test_target_unavailable(isim):
    sim = isim
    refused(sim, C("confront", MAYA, MAYA), Reason.TARGET_UNAVAILABLE, "themself")
    ok(sim, C("move", DANIEL, "destiny"))
    _injure(sim, DANIEL, 0.6)
    refused(sim, C("hand_over", MAYA, "mice", to=DANIEL), Reason.TARGET_UNAVAILABLE)
    _injure(sim, DANIEL, 1.0)
    refused(sim, C("confront", MAYA, DANIEL), Reason.TARGET_UNAVAILABLE, "dead")
    refused(sim, C("operate_arm", MAYA, DANIEL, action="push"), Reason.NOT_HELD, "take_arm first")
    ok(sim, C("take_arm", MAYA))
    refused(sim, C("operate_arm", MAYA, DANIEL, action="push"), Reason.TARGET_UNAVAILABLE, "not outside")


def test_arm_in_use_push_and_recover(sim):
    ok(sim, C("take_arm", MAYA), C("move", DANIEL, "cupola"))
    refused(sim, C("take_arm", DANIEL), Reason.IN_USE, "Maya Torres holds the arm's workstation")
    ok(sim, C("move", PAVEL, "destiny"))
    refused(sim, C("take_arm", PAVEL), Reason.NO_CREDENTIAL)
    ok(sim, C("move", DMITRI, "poisk"), C("begin_eva", DMITRI))
    # Clipped on, the tether holds him; unclipped (to reach further), the arm knocks him off.
    failed = sim.command(C("operate_arm", MAYA, DMITRI, action="push"))
    assert (failed.result, failed.reason) == ("failed", Reason.PHYSICS) and "tether holds" in failed.message
    refused(sim, C("unclip_tether", MAYA), Reason.NOT_ON_EVA, "not outside")
    ok(sim, C("unclip_tether", DMITRI), C("operate_arm", MAYA, DMITRI, action="push"))
    refused(sim, C("end_eva", DMITRI), Reason.NOT_HERE, "adrift")
    ok(sim, C("operate_arm", MAYA, DMITRI, action="recover"), C("end_eva", DMITRI))
    ok(sim, C("move", MAYA, "unity"))  # she leaves the workstation: Daniel can take it
    ok(sim, C("take_arm", DANIEL))


def test_undock_seats_and_departure(sim):
    ok(sim, C("board", PAVEL, "soyuz-ms"), C("board", IRINA, "soyuz-ms"), C("board", DMITRI, "soyuz-ms"))
    refused(sim, C("board", MAYA, "soyuz-ms"), Reason.NOT_ENOUGH_SEATS, "3 seats and 3 people aboard")
    refused(sim, C("undock", PAVEL, "soyuz-ms"), Reason.PHYSICS, "hatch rassvet-soyuz is open")
    ok(sim, C("move", MAYA, "soyuz-ms"))  # in, but without a seat
    ok(sim, C("close_hatch", PAVEL, "rassvet-soyuz"))
    refused(sim, C("undock", PAVEL, "soyuz-ms"), Reason.NOT_ENOUGH_SEATS, "4 people aboard")
    ok(sim, C("open_hatch", MAYA, "rassvet-soyuz"), C("move", MAYA, "rassvet"))
    ok(sim, C("close_hatch", PAVEL, "rassvet-soyuz"))
    refused(sim, C("undock", MAYA, "soyuz-ms"), Reason.NOT_HERE, "undocked from inside")
    r = complete(sim, C("undock", PAVEL, "soyuz-ms"))
    assert r.result == "done" and sim.state["control.departed"][sim.world.index["soyuz-ms"]]
    assert sim.state.facts["control.departures"] == (("soyuz-ms", r.t_ms, (PAVEL, IRINA, DMITRI)),)
    refused(sim, C("open_hatch", MAYA, "rassvet-soyuz"), Reason.VEHICLE_DEPARTED)
    refused(sim, C("open_hatch", "operator", "rassvet-soyuz"), Reason.VEHICLE_DEPARTED)
    refused(sim, C("board", MAYA, "soyuz-ms"), Reason.VEHICLE_DEPARTED)
    refused(sim, C("undock", PAVEL, "soyuz-ms"), Reason.NOT_ABOARD)
    # Even a scripted event cannot reopen it: the atmosphere refuses (vacuum behind it).
    sim.schedule(Event(sim.t_ms, "open_hatch", "rassvet-soyuz"))
    sim.step()
    assert not sim.state["hatch.open"][sim.world.link_index["rassvet-soyuz"]]
    refusal = [e for e in sim.event_log() if e["kind"] == "event" and e["action"] == "open_hatch"][-1]
    assert refusal["result"] == "refused" and refusal["reason"] == "soyuz-ms has undocked; hatch rassvet-soyuz stays shut"
    assert where(sim, PAVEL) == "soyuz-ms"  # their bodies stay simulated in the vehicle


def test_physics_refused_passes_the_station_reason(sim):
    ok(sim, C("thrusters_off", PAVEL))
    refused(sim, C("burn", PAVEL, "zvezda", dv_m_s=0.5), Reason.PHYSICS, "the Russian segment's thrusters are disabled")
    refused(sim, C("lock_hatch", DMITRI, BOUNDARY), Reason.PHYSICS, "close it before locking")
    ok(sim, C("move", MAYA, "unity"), C("close_hatch", MAYA, "pma-1-unity"))
    sim.schedule(Event(sim.t_ms, "hole", "pma-1", (("area_m2", 1e-3),)))
    sim.run(sim.t_ms + 60_000)
    refused(sim, C("open_hatch", MAYA, "pma-1-unity"), Reason.PHYSICS, "kPa holds hatch pma-1-unity")


def test_verify_failed(sim, monkeypatch):
    spec = CATALOGUE["close_hatch"]
    wrong = dataclasses.replace(spec, event=lambda c: Event(c.state.t_ms, "equalize", c.cmd.target))
    monkeypatch.setitem(CATALOGUE, "close_hatch", wrong)
    ok(sim, C("move", DMITRI, "zarya"))
    refused(sim, C("close_hatch", DMITRI, BOUNDARY), Reason.VERIFY_FAILED, "still open")


def test_internal_error_is_recorded_not_raised(sim, monkeypatch):
    def boom(c):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(CATALOGUE, "close_hatch", dataclasses.replace(CATALOGUE["close_hatch"], execute=boom))
    with pytest.warns(RuntimeWarning, match="a bug"):
        r = sim.command(C("close_hatch", DMITRI, BOUNDARY))
    assert (r.result, r.stage, r.reason) == ("failed", "execute", "internal_error")
    assert sim.state.facts["control.history"][-1][8] == "internal_error"


def test_every_reason_is_documented():
    text = (DOCS / "commands.md").read_text()
    assert [r.value for r in Reason if f"`{r.value}`" not in text] == []
    assert [name for name in CATALOGUE if f"`{name}`" not in text] == []


# ---------------------------------------------------------------------------- accepted commands


def test_accepted_commands_change_the_state(sim):
    links = sim.world.link_index
    ok(sim, C("close_hatch", DMITRI, BOUNDARY))
    assert not sim.state["hatch.open"][links[BOUNDARY]]
    ok(sim, C("switch", MAYA, "cdra-1", on=False))
    assert not sim.state["ls.on"][2]
    ok(sim, C("disable", PAVEL, "elektron"))
    assert sim.state["ls.broken"][0]
    ok(sim, C("power_off", "houston", "USOS"))
    assert not sim.state["power.bus"][0]
    ok(sim, C("power_on", MAYA, "USOS"), C("converters_off", "operator"))
    assert sim.state["power.bus"][0] and not sim.state["power.converters_on"][0]
    version, fuel = int(sim.state["orbit.version"][0]), sim.state["prop.propellant_kg"].sum()
    ok(sim, C("burn", "moscow", "zvezda", dv_m_s=0.5))
    assert int(sim.state["orbit.version"][0]) == version + 1 and sim.state["prop.propellant_kg"].sum() < fuel
    assert sim.state.facts["prop.reboosts"][-1][-1] == "moscow"
    ok(sim, C("send_message", "houston", MAYA, text="status?"))
    ok(sim, C("cut_suit_radio", MAYA, MAYA))  # a suit radio can be silenced before anyone goes out
    assert not sim.state["comms.suit_radio_ok"][0]
    ended = [e for e in sim.state.facts["control.history"] if e[7] != "started"]  # work counts once, when it ends
    assert int(sim.state["control.commands"][0]) == len(ended)


def test_scenario_events_with_an_actor_are_commands():
    text = DAY + """
[[events]]
at = "+1m"
actor = "Pavel Orlov"
action = "close_hatch"
target = "zarya-pma-1"

[[events]]
at = "+1m"
actor = "Dmitri Sokolov"
action = "close_hatch"
target = "zarya-pma-1"

[[events]]
at = "+2m"
actor = "moscow"
action = "switch"
target = "elektron"
args = { on = false }
"""
    sim = _build(text)
    sim.run(sim.t_ms + 180_000)
    hist = history(sim.state)
    assert [(h["actor"], h["source"], h["result"], h["reason"]) for h in hist] == [
        (PAVEL, "scenario", "refused", "not_here"), (DMITRI, "scenario", "done", ""),
        ("moscow", "scenario", "done", "")]
    assert not sim.state["hatch.open"][sim.world.link_index[BOUNDARY]] and not sim.state["ls.on"][0]
    # Logged once each, by the pipeline: no separate event record for a command or what it dispatched.
    logged = [dict(d) for _, kind, d in sim.state.log if kind == "command"]
    assert [e["result"] for e in logged] == ["refused", "done", "done"]
    assert not [d for _, kind, d in sim.state.log if kind == "event"
                and (dict(d)["action"] == "command" or dict(d)["source"] in (PAVEL, DMITRI, "moscow"))]
    # Names are checked before the run.
    for old, new, problem in (('action = "switch"', 'action = "frobnicate"', "unknown command 'frobnicate'"),
                              ('actor = "moscow"', 'actor = "Gordon"', "unknown actor 'Gordon'"),
                              ("args = { on = false }", "args = { on = 3 }", "on must be true or false"),
                              ('target = "elektron"', 'target = "elektronn"', "no machine 'elektronn'")):
        with pytest.raises(InputError, match=problem):
            build_simulation(parse_scenario(text.replace(old, new).encode(), "bad.toml"))


# ---------------------------------------------------------------------------- one path, no bypass


def test_a_read_only_view_and_no_command_bypasses_history(sim):
    view = sim.view()
    hatches = view["hatch.open"]
    with pytest.raises(ValueError):
        hatches[0] = False
    hatches.flags.writeable = True  # a copy: even made writable it does not reach the state
    hatches[0] = False
    assert sim.state["hatch.open"][0]
    with pytest.raises(TypeError):
        view.facts["control.history"] = ()
    with pytest.raises(TypeError):
        view.facts["orbit.omm"]["MEAN_MOTION"] = 0.0
    assert not hasattr(view, "state") and not hasattr(view, "__dict__")
    # Whatever is submitted, and whatever becomes of it, it is in the history and the log.
    attempts = [C("close_hatch", DMITRI, BOUNDARY), C("close_hatch", MAYA, BOUNDARY), C("nope", MAYA),
                "close_hatch", None, C("thrusters_off", PAVEL), C("burn", PAVEL, "zvezda", dv_m_s=1.0)]
    for cmd in attempts:
        n_hist, n_cmd = len(sim.state.facts["control.history"]), sum(k == "command" for _, k, _ in sim.state.log)
        sim.command(cmd)
        assert len(sim.state.facts["control.history"]) == n_hist + 1
        assert sum(k == "command" for _, k, _ in sim.state.log) == n_cmd + 1
    assert [h[7] for h in sim.state.facts["control.history"]] == [
        "done", "refused", "refused", "refused", "refused", "done", "failed"]
    json.dumps(history(sim.state))
    sim.event_log_sha256()


def test_malformed_commands_never_raise(sim):
    weird = [
        C("switch", MAYA, "cdra-9", on=True),  # unknown system
        C("power_off", MAYA, "LUNAR"),
        C("close_hatch", "Gordon Barrett", "unity-destiny"),  # not aboard
        C("confront", PAVEL, "Weronika Vetrov"),
        C("burn", PAVEL, "zvezda", dv_m_s="lots"),  # bad argument types
        C("burn", PAVEL, "zvezda", dv_m_s=float("nan")),
        C("candle", PAVEL, "zvezda", count=1.5),
        C("confront", PAVEL, IRINA, helpers=["Nobody"]),
        Command("switch", MAYA, "cdra-1", args=[("on", True)]),
        Command("switch", MAYA, "cdra-1", args=(("on",),)),
        Command("switch", MAYA, 7, (("on", True),)),
        Command(None, None, None, None, None),
        Command("send_message", MAYA, "Irina Volkova", (("text", "psst"),)),  # crew to crew
        {"name": "power_off"}, 42,
    ]
    for cmd in weird:
        r = sim.command(cmd)
        assert r.result == "refused" and r.reason in {x.value for x in Reason} and r.message, (cmd, r)
        d = sim.dry_run(cmd)
        assert (d.result, d.reason) == (r.result, r.reason)
    assert len(sim.state.facts["control.history"]) == len(weird)
    json.dumps(history(sim.state))
    sim.event_log_sha256()


def test_dry_run_equals_the_real_outcome_and_writes_nothing(sim):
    script = [
        C("close_hatch", PAVEL, BOUNDARY), C("move", DMITRI, "zarya"), C("close_hatch", DMITRI, BOUNDARY),
        C("lock_hatch", DMITRI, BOUNDARY), C("open_hatch", MAYA, BOUNDARY), C("switch", "houston", "cdra-1", on=False),
        C("thrusters_off", "moscow"), C("burn", PAVEL, "zvezda", dv_m_s=1.0), C("thrusters_on", PAVEL),
        C("burn", PAVEL, "zvezda", dv_m_s=1.0), C("board", IRINA, "soyuz-ms"), C("change_credentials", PAVEL, "ROS"),
        C("send_message", IRINA, "moscow", text="aboard", id="m1"),
        C("send_message", IRINA, "moscow", text="x", id="m1"),
        C("nope", MAYA),
    ]
    for cmd in script:
        before, streams = sim.state.copy(), sim.streams.get_state()
        dry = sim.dry_run(cmd)
        assert sim.state.identical(before) and sim.streams.get_state() == streams
        real = sim.command(cmd)
        assert dry.dry_run and not real.dry_run
        assert (dry.result, dry.stage, dry.reason, dry.message) == (real.result, real.stage, real.reason, real.message)
    # A confrontation's dry run says it is allowed and draws nothing.
    ok(sim, C("move", DMITRI, "zvezda"))
    streams = sim.streams.get_state()
    dry = sim.dry_run(C("confront", PAVEL, DMITRI))
    assert (dry.result, dry.ok) == ("allowed", True) and "P(actor prevails) = 0.50" in dry.message
    assert sim.streams.get_state() == streams


# ---------------------------------------------------------------------------- confrontation


def _fight_script(seed: int) -> Simulation:
    sim = _build(DAY, seed=seed)
    ok(sim, C("move", MAYA, "zvezda"), C("close_hatch", DMITRI, BOUNDARY))
    sim.command(C("confront", PAVEL, MAYA, intent="kill"))
    sim.run(sim.t_ms + 120_000)
    return sim


def test_same_seed_same_event_log_hash_with_commands():
    a, b, c = _fight_script(3), _fight_script(3), _fight_script(4)
    assert a.event_log_sha256() == b.event_log_sha256()
    assert a.state.facts["control.history"] == b.state.facts["control.history"]
    assert a.event_log_sha256() != c.event_log_sha256()


def _trials(sim: Simulation, cmd: Command, n: int) -> float:
    """P(actor prevails) over ``n`` confrontations from the same state, the stream running on."""
    snap = sim.snapshot()
    wins = 0
    for _ in range(n):
        sim.restore(dataclasses.replace(snap, streams=sim.streams.get_state()))
        r = sim.command(cmd)
        assert r.result == "done", r
        wins += r.message.startswith(cmd.actor + " prevailed")
    sim.restore(snap)
    return wins / n


def test_confrontation_outcomes_vary_with_seeds_and_help_and_surprise_shift_the_odds(sim):
    ok(sim, C("move", MAYA, "zvezda"))
    outcomes = set()
    for seed in range(6):
        s = _build(DAY, seed=seed)
        ok(s, C("move", MAYA, "zvezda"))
        outcomes.add(s.command(C("confront", PAVEL, MAYA)).message)
    assert len(outcomes) > 3
    n = 400
    base = _trials(sim, C("confront", PAVEL, MAYA), n)
    surprise = _trials(sim, C("confront", PAVEL, MAYA, surprise=True), n)
    ok(sim, C("take_weapon", MAYA))
    armed_target = _trials(sim, C("confront", PAVEL, MAYA), n)
    ok(sim, C("drop_weapon", MAYA), C("move", IRINA, "zvezda"))  # one of Pavel's side in the room
    helped = _trials(sim, C("confront", PAVEL, MAYA), n)
    named = _trials(sim, C("confront", MAYA, PAVEL, helpers=[IRINA]), n)  # Irina turns: she helps Maya
    # Equal and unaware: a coin toss (the triangular noise is symmetric); the rest as computed.
    assert abs(base - 0.5) < 0.07
    assert abs(surprise - fight.prevail_probability(fight.SURPRISE)) < 0.07 and surprise > base + 0.25
    assert abs(armed_target - fight.prevail_probability(-fight.ARMED)) < 0.07 and armed_target < base - 0.25
    # Half a strength unit of help is more than the noise can undo: decided, not drawn.
    assert helped == 1.0 and named == 1.0


def test_strength_noise_decides_only_close_fights():
    assert fight.prevail_probability(0.0) == 0.5
    assert fight.prevail_probability(2 * fight.NOISE) == 1.0 and fight.prevail_probability(-2 * fight.NOISE) == 0.0
    rng = np.random.default_rng(1)
    for margin in (-0.2, 0.1, 0.25):
        wins = np.mean([fight.draw_outcome(rng, margin, "subdue").actor_prevails for _ in range(4000)])
        assert abs(wins - fight.prevail_probability(margin)) < 0.03, margin
    # A fight to kill between two armed people that is even wounds the winner badly, and bleeding.
    even = [fight.draw_outcome(rng, 0.0, "kill", actor_armed=True, target_armed=True) for _ in range(500)]
    assert all(o.winner_severity >= fight.WOUND_BASE - 2 * fight.NOISE - 0.1 - 1e-9 and o.winner_bleeds for o in even)
    assert all(0.5 <= o.loser_severity < 1.0 and o.loser_bleeds for o in even)
    # A clear win kills the unarmed loser outright and leaves the winner almost unhurt.
    clear = [fight.draw_outcome(rng, 0.9, "kill", actor_armed=True) for _ in range(500)]
    assert all(o.actor_prevails and o.loser_severity == 1.0 and o.winner_severity <= 0.1 for o in clear)
    # A helpless target cannot resist.
    assert fight.draw_outcome(rng, -5.0, "kill", target_helpless=True).loser_severity == 1.0


def test_confrontation_injures_through_the_crew():
    # An unconscious target cannot resist; the wound goes through the crew's `injure`.
    sim = _build(DAY)
    ok(sim, C("move", MAYA, "zvezda"))
    _injure(sim, MAYA, 0.6)
    r = sim.command(C("confront", PAVEL, MAYA, intent="kill"))
    assert r.message.startswith("Pavel Orlov prevailed (P(actor) = 1.00")
    assert not sim.state["crew.alive"][0]
    died = [dict(d) for _, kind, d in sim.state.log if kind == "crew" and dict(d)["what"] == "died"]
    assert [(d["person"], d["cause"]) for d in died] == [(MAYA, "injury")] and "Maya Torres injured 1.00" in r.message
    # A sleeping target is surprised (the nominal scenario starts at 00:00 GMT: all asleep).
    night = build_simulation("nominal")
    ok(night, C("move", MAYA, "zvezda"))
    assert "surprise 1" in night.command(C("confront", PAVEL, MAYA)).message


def test_an_armed_wound_bleeds_until_treated():
    # Armed against unarmed, no surprise: margin 0.3 +- 0.3, so Pavel prevails; by less than
    # 0.5 (most seeds) she is wounded and bleeding rather than killed outright.
    for seed in range(20):
        sim = _build(DAY, seed=seed)
        ok(sim, C("move", MAYA, "zvezda"), C("take_weapon", PAVEL))
        r = sim.command(C("confront", PAVEL, MAYA, intent="kill"))
        assert r.result == "done" and r.message.startswith(PAVEL + " prevailed"), r.message
        if "bleeding" in r.message and float(sim.state["crew.injury"][0]) < 0.7:
            break  # wounded enough to bleed, not so much that 20 min of it kills her
    a = sim.state.arrays
    assert a["crew.bleeding"][0] and not a["crew.conscious"][0] and a["crew.alive"][0]
    before = float(a["crew.injury"][0])
    sim.run(sim.t_ms + 600_000)
    assert abs(float(a["crew.injury"][0]) - min(1.0, before + 600 * 0.5 / 3600)) < 1e-6  # 0.5 an hour
    refused(sim, C("treat", DANIEL, MAYA), Reason.NOT_HERE)
    ok(sim, C("move", IRINA, "zvezda"), C("treat", IRINA, MAYA))
    held = float(a["crew.injury"][0])
    sim.run(sim.t_ms + 600_000)
    assert not a["crew.bleeding"][0] and a["crew.alive"][0] and a["crew.injury"][0] <= held


def test_untreated_bleeding_kills_within_the_hour():
    sim = _build(DAY)
    sim.command(C("move", MAYA, "zvezda"))
    sim.schedule(Event(sim.t_ms, "injure", MAYA, (("bleeding", True), ("severity", 0.5))))
    sim.run(sim.t_ms + 3_590_000)
    assert sim.state["crew.alive"][0]
    sim.run(sim.t_ms + 30_000)
    assert not sim.state["crew.alive"][0]
    assert [dict(d)["cause"] for _, k, d in sim.state.log if k == "crew" and dict(d)["what"] == "died"] == ["injury"]


def test_a_spent_suit_suffocates_whoever_is_still_outside():
    from issim.physics.crew import SUIT_ENDURANCE_S

    sim = _build(DAY)
    ok(sim, C("move", DMITRI, "poisk"), C("begin_eva", DMITRI), C("move", MAYA, "cupola"), C("take_arm", MAYA))
    ok(sim, C("unclip_tether", DMITRI), C("operate_arm", MAYA, DMITRI, action="push"))
    t_out, k = sim.t_ms, sim.state.facts["crew.names"].index(DMITRI)
    sim.run(t_out + int(SUIT_ENDURANCE_S * 1000) - 60_000)
    d = sim.state["crew.deficit"][k]
    assert sim.state["crew.alive"][k] and d.max() == 0.0
    sim.run(t_out + int(SUIT_ENDURANCE_S * 1000) + 3 * 3600_000)  # the hypoxia hazard: within hours
    assert not sim.state["crew.alive"][k]
    died = [(t, dict(d)) for t, kind, d in sim.state.log if kind == "crew" and dict(d)["what"] == "died"]
    assert [(d["person"], d["cause"]) for _, d in died] == [(DMITRI, "hypoxia")]
    assert died[0][0] > t_out + SUIT_ENDURANCE_S * 1000  # not a minute before the suit is spent


# ---------------------------------------------------------------------------- the control map


def test_control_map_follows_credentials_and_locks(shared):
    sim = shared
    start = sim.control_map()
    for system in ("ROS.life-support", "ROS.propulsion", "USOS.power", f"hatch.{BOUNDARY}", "vehicle.soyuz-ms", "arm"):
        assert start[system] == ["usa", "russia"], system
    ok(sim, C("change_credentials", PAVEL, "ROS"))
    ok(sim, C("close_hatch", DMITRI, BOUNDARY), C("lock_hatch", DMITRI, BOUNDARY))
    m = sim.control_map()
    assert m["ROS.life-support"] == ["russia"] and m["ROS.propulsion"] == ["russia"]
    assert m["USOS.power"] == ["usa"] and m[f"hatch.{BOUNDARY}"] == ["russia"] and m["arm"] == ["usa"]
    assert m["vehicle.soyuz-ms"] == ["russia"] and m["vehicle.crew-dragon"] == ["usa"]
    # As telemetry, at the next simulated minute.
    sim.run((sim.t_ms // 60_000 + 1) * 60_000 + 1)
    assert sim.current("control.ROS.life-support.usa") == 0.0 and sim.current("control.ROS.life-support.russia") == 1
    assert sim.current(f"control.hatch.{BOUNDARY}.usa") == 0.0 and sim.current("control.USOS.power.usa") == 1.0
    assert sim.current(f"hatch.{BOUNDARY}.locked_from") == sim.world.index["zarya"]
    assert sim.current("control.credentials.ROS.usa") == 0.0


def test_control_map_with_split_laptops_each_side_flies_its_own_segment(sim):
    start = sim.control_map()
    assert start["ROS.life-support"] == ["russia"] and start["USOS.power"] == ["usa"] and start["arm"] == ["usa"]
    assert start[f"hatch.{BOUNDARY}"] == ["usa", "russia"] and start["vehicle.soyuz-ms"] == ["usa", "russia"]
    # With the Americans out of action, Houston still flies the USOS while it has a link.
    for name in (MAYA, DANIEL, "Sofia Lindqvist", "Kenji Watanabe"):
        sim.schedule(Event(sim.t_ms, "injure", name, (("severity", 0.6),)))
    ok(sim, C("cut_link", "houston", "usos-ku-band"))
    sim.step()
    contact = bool(sim.state["comms.contact"][0])
    m = sim.control_map()
    assert m["USOS.power"] == (["usa"] if contact else []) and m["arm"] == []
    assert m[f"hatch.{BOUNDARY}"] == ["russia"] and m["vehicle.crew-dragon"] == ["russia"]


# ---------------------------------------------------------------------------- interfaces


def test_cli_lists_the_catalogue(capsys):
    from issim.cli import main

    assert main(["commands", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(CATALOGUE)
    close = next(r for r in rows if r["name"] == "close_hatch")
    assert close["significance"] == "watch" and "hatch's volumes" in close["who"]
    assert main(["commands"]) == 0
    assert "confront" in capsys.readouterr().out


def test_snapshot_restore_carries_commands(sim):
    snap = sim.snapshot()
    ok(sim, C("close_hatch", DMITRI, BOUNDARY), C("lock_hatch", DMITRI, BOUNDARY))
    locked = sim.snapshot()
    assert sim.control_map()[f"hatch.{BOUNDARY}"] == ["russia"]
    sim.restore(snap)
    assert sim.state.facts["control.history"] == () and sim.control_map()[f"hatch.{BOUNDARY}"] == ["usa", "russia"]
    sim.restore(locked)
    assert len(sim.state.facts["control.history"]) == 2 and sim.control_map()[f"hatch.{BOUNDARY}"] == ["russia"]


def test_scenario_items_and_credentials_are_checked():
    for extra, field in (('[[items]]\nid = "x"\nat = "moon"\n', "items[0].at"),
                         ('[station]\ncredentials = { MIR = ["usa"] }\n', "station.credentials.MIR"),
                         ('[station]\ncredentials = { ROS = [] }\n', "station.credentials.ROS")):
        with pytest.raises(InputError) as err:
            build_simulation(parse_scenario((SHARED + extra).encode(), "bad.toml"))
        assert err.value.source == f"bad.toml:{field}"
