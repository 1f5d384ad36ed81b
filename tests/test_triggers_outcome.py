"""Condition triggers in scenario files, and the outcome record of a run's summary.

Triggers: a ``contact`` trigger fires once on the first contact after it arms; a
``person_in`` trigger fires the frame a ``move`` command puts the person there; a
``channel`` trigger fires when a hole drops ppO2 and its action goes through the command
pipeline; trigger state survives snapshot/restore; malformed triggers stop the CLI in one
line. Outcome: deaths with their cause, survivors, departures, command counts, control.
"""

from __future__ import annotations

import numpy as np
import pytest

from issim.scenario import build_simulation
from issim.cli import main
from issim.control.pipeline import history
from issim.scenario import parse_scenario, summarize
from issim.sim import Simulation

HEAD = """
[scenario]
name = "trig"
title = "triggers"
start = 2025-03-10T00:00:00Z
days = 0.25
record_every_s = 10

[[crew]]
name = "A"
agency = "nasa"
module = "destiny"

[[crew]]
name = "B"
agency = "roscosmos"
module = "zvezda"
"""

CONTACT = HEAD + """
[[triggers]]
id = "first-usos"
when = { contact = "USOS" }
after = "+2h"
do = [{ action = "send_message", args = { from = "houston", to = "USOS", text = "hello" } }]

[[triggers]]
id = "every-usos"
when = { contact = "USOS" }
after = "+2h"
once = false
do = [{ action = "send_message", args = { from = "houston", to = "USOS", text = "again" } }]
"""

MOVE = HEAD + """
[[events]]
at = "+20m"
actor = "B"
action = "move"
target = "poisk"

[[triggers]]
id = "b-in-poisk"
when = { person_in = { person = "B", module = "poisk" } }
do = [{ action = "send_message", args = { from = "moscow", to = "ROS", text = "B is in Poisk" } }]
"""

HOLE = HEAD + """
[[events]]
at = "+10m"
action = "hole"
target = "poisk"
args = { area_m2 = 2.0e-4 }

[[triggers]]
id = "seal-poisk"
when = { channel = { key = "atm.poisk.pp_o2_pa", below = 20000 } }
do = [{ action = "close_hatch", target = "zvezda-poisk", actor = "B" }]
"""

FATAL = HEAD + """
[[crew]]
name = "C"
agency = "roscosmos"
module = "poisk"

[station]
closed_hatches = ["zvezda-poisk"]

[[events]]
at = "+5m"
action = "hole"
target = "poisk"
args = { area_m2 = 0.01 }

[[events]]
at = "+10m"
actor = "B"
action = "board"
target = "soyuz-ms"

[[events]]
at = "+11m"
actor = "B"
action = "close_hatch"
target = "rassvet-soyuz"

[[events]]
at = "+12m"
actor = "B"
action = "undock"
target = "soyuz-ms"

[[events]]
at = "+40m"
actor = "C"
action = "open_hatch"
target = "zvezda-poisk"

[[events]]
at = "+41m"
actor = "A"
action = "board"
target = "soyuz-ms"

[[triggers]]
id = "c-dead"
when = { dead = "C" }
do = [{ action = "send_message", args = { from = "moscow", to = "ROS", text = "C is dead" } }]

[[triggers]]
id = "one-dead"
when = { at_least_dead = 1 }
do = [{ action = "close_hatch", target = "zarya-zvezda", actor = "A" }]
"""


def _sim(text: str, name: str = "t.toml", seed=None) -> Simulation:
    return build_simulation(parse_scenario(text.encode(), name), seed=seed)


def _fired(sim, trigger_id):
    return [e for e in sim.event_log() if e["kind"] == "trigger" and e["id"] == trigger_id]


def _ms(iso: str) -> int:
    from issim.times import parse_iso

    return parse_iso(iso, "t")


def test_contact_trigger_fires_once_on_the_first_contact_after_arming():
    sim = _sim(CONTACT)
    sim.run(sim.start_ms + 6 * 3_600_000)
    t, up = sim.telemetry("comms.USOS.contact")  # recorded every frame, after each frame
    arm = sim.start_ms + 2 * 3_600_000
    # A sample at t shows the state after the frame that began at t - dt: a rise between
    # samples t - dt and t is a contact that came up in the frame beginning at t - dt.
    rises = [int(t[i]) - sim.dt_ms for i in range(1, len(t)) if up[i] and not up[i - 1] and t[i] - sim.dt_ms >= arm]
    assert len(rises) >= 2  # the test needs contacts after the first to mean anything
    once = _fired(sim, "first-usos")
    assert len(once) == 1
    assert _ms(once[0]["t"]) == rises[0]
    assert up[list(t).index(arm)] == 1  # armed during a contact: that one did not count
    every = [_ms(e["t"]) for e in _fired(sim, "every-usos")]
    assert every == rises
    sent = [e for e in sim.event_log() if e["kind"] == "event" and e["action"] == "send_message"]
    assert len(sent) == 1 + len(rises) and sent[0]["source"] == "trigger first-usos"
    assert summarize(sim, "trig")["triggers"] == {"first-usos": 1, "every-usos": len(rises)}


def test_person_in_trigger_fires_when_a_move_command_puts_them_there():
    sim = _sim(MOVE)
    sim.run(sim.start_ms + 19 * 60_000)
    assert _fired(sim, "b-in-poisk") == []
    sim.run(sim.start_ms + 40 * 60_000)
    moves = [h for h in history(sim.state) if h["command"] == "move"]
    assert len(moves) == 1 and moves[0]["result"] == "done"
    fired = _fired(sim, "b-in-poisk")
    assert len(fired) == 1 and _ms(fired[0]["t"]) == moves[0]["t_ms"] == sim.start_ms + 20 * 60_000
    assert fired[0]["condition"] == "B in poisk"


def test_channel_trigger_on_a_hole_closes_the_hatch_through_the_pipeline():
    sim = _sim(HOLE)
    sim.run(sim.start_ms + 2 * 3_600_000)
    fired = _fired(sim, "seal-poisk")
    assert len(fired) == 1
    t_fire = _ms(fired[0]["t"])
    t, pp = sim.telemetry("atm.poisk.pp_o2_pa")
    i = list(t).index(t_fire + sim.dt_ms)  # the sample after the frame that fired
    assert pp[i] < 20000 <= pp[i - 1]
    closes = [h for h in history(sim.state) if h["command"] == "close_hatch"]
    assert len(closes) == 1
    c = closes[0]
    # fired at the end of one frame, the command runs in the first phase of the next
    assert (c["actor"], c["target"], c["result"], c["source"], c["t_ms"]) == ("B", "zvezda-poisk", "done", "scenario",
                                                                               t_fire + sim.dt_ms)
    hatch = sim.world.link_index["zvezda-poisk"]
    assert not sim.state["hatch.open"][hatch]
    assert sim.current("atm.zvezda.pp_o2_pa") > 19000 > sim.current("atm.poisk.pp_o2_pa")


def test_triggers_survive_snapshot_and_restore_and_same_seed_same_log():
    sim = _sim(HOLE, seed=3)
    sim.run(sim.start_ms + 20 * 60_000)  # before the trigger fires
    snap = sim.snapshot()
    sim.run(sim.start_ms + 90 * 60_000)
    first = sim.state.copy()
    digest = sim.event_log_sha256()
    assert len(_fired(sim, "seal-poisk")) == 1
    sim.restore(snap)
    assert _fired(sim, "seal-poisk") == []
    sim.run(sim.start_ms + 90 * 60_000)
    assert sim.state.identical(first)
    assert sim.event_log_sha256() == digest
    again = _sim(HOLE, seed=3)
    again.run(again.start_ms + 90 * 60_000)
    assert again.event_log_sha256() == digest and again.state.identical(first)


BAD = {
    "unknown-person": (MOVE.replace('person = "B", module', 'person = "Q", module'), "triggers[0].when.person_in.person"),
    "unknown-module": (MOVE.replace('module = "poisk" }', 'module = "mir" }'), "triggers[0].when.person_in.module"),
    "unknown-channel": (HOLE.replace("atm.poisk.pp_o2_pa", "atm.poisk.pp_o3_pa"), "triggers[0].when.channel.key"),
    "unknown-segment": (CONTACT.replace('contact = "USOS" }\nafter = "+2h"\ndo', 'contact = "MIR" }\nafter = "+2h"\ndo', 1),
                        "triggers[0].when.contact"),
    "no-side": (HOLE.replace(", below = 20000", ""), "triggers[0].when.channel"),
    "two-conditions": (HOLE.replace('below = 20000 } }', 'below = 20000 }, dead = "B" }'), "triggers[0].when"),
    "bad-action": (HOLE.replace('action = "close_hatch"', 'action = "explode"').replace(', actor = "B"', ""),
                   "triggers[0].do[0].action"),
    "unknown-command": (HOLE.replace('action = "close_hatch"', 'action = "explode"'), "triggers[0].do[0]"),
    "bad-target": (HOLE.replace('target = "zvezda-poisk"', 'target = "zvezda-mir"'), "triggers[0].do[0]"),
    "unknown-actor": (HOLE.replace('actor = "B"', 'actor = "Q"'), "triggers[0].do[0]"),
    "bad-after": (CONTACT.replace('after = "+2h"', 'after = "2h"', 1), "triggers[0].after"),
    "no-actions": (MOVE.replace('do = [{ action = "send_message", args = { from = "moscow", to = "ROS", '
                                'text = "B is in Poisk" } }]', "do = []"), "triggers[0].do"),
    "duplicate-id": (CONTACT.replace('id = "every-usos"', 'id = "first-usos"'), "triggers[1].id"),
    "too-many-dead": (FATAL.replace("at_least_dead = 1", "at_least_dead = 4"), "triggers[1].when.at_least_dead"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_trigger_is_one_line_exit_2(case, tmp_path, capsys):
    text, field = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    status = main(["run", str(path)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2
    assert captured.out == ""
    assert len(lines) == 1 and lines[0].startswith("issim: error: ")
    assert f"{path}:{field}" in lines[0]
    assert "Traceback" not in captured.err


@pytest.fixture(scope="module")
def fatal():
    sim = _sim(FATAL)
    sim.run(sim.start_ms + 3_600_000)
    return sim, summarize(sim, "trig")


def test_outcome_dead_with_cause_and_survivors(fatal):
    sim, s = fatal
    out = s["outcome"]
    died = [e for e in sim.event_log() if e["kind"] == "crew" and e["what"] == "died"]
    assert [e["person"] for e in died] == ["C"]
    assert out["dead"] == {"C": died[0]["cause"]} == {"C": "low_pressure"}
    assert out["survivors"] == ["A", "B"]
    assert s["crew"]["C"]["alive"] is False and s["crew"]["A"]["alive"] and s["crew"]["B"]["alive"]
    # The triggers on a death fired, once, at the moment of the death.
    for tid in ("c-dead", "one-dead"):
        fired = _fired(sim, tid)
        assert len(fired) == 1 and fired[0]["t"] == died[0]["t"]
    assert out["station"]["crewed"] is True  # A is still aboard
    assert out["station"]["lost"] is None
    assert out["station"]["altitude_km"] == round(sim.current("orbit.alt_km"), 3) and 300 < out["station"]["altitude_km"] < 500
    assert out["station"]["life_support_running"] == {
        "USOS": {"o2_generator": True, "co2_scrubber": True}, "ROS": {"o2_generator": True, "co2_scrubber": True}}


def test_outcome_departed_and_control(fatal):
    sim, s = fatal
    out = s["outcome"]
    assert out["departed"] == {"soyuz-ms": ["B"]}
    assert out["control"] == sim.control_map()
    assert "vehicle.soyuz-ms" in out["control"]
    over = out["control_over_time"]
    assert set(over) == set(out["control"])
    for system, changes in over.items():
        assert changes[0][0] == s["start"]
        assert all(a[0] < b[0] and a[1] != b[1] for a, b in zip(changes, changes[1:]))
    # At the end the last recorded state and the computed map agree (the map is per minute;
    # the run ends on a minute boundary and nothing changed in its last minute).
    assert {k: v[-1][1] for k, v in over.items()} == out["control"]
    # The Soyuz left: nobody can command it any more, from some time after the start.
    assert over["vehicle.soyuz-ms"][0][1] != [] and over["vehicle.soyuz-ms"][-1][1] == []


def test_outcome_command_counts_match_the_history(fatal):
    sim, s = fatal
    h = history(sim.state)
    counts = s["commands"]
    assert counts["done"] == sum(e["result"] == "done" for e in h)
    assert counts["refused"] == sum(e["result"] == "refused" for e in h)
    assert counts["failed"] == sum(e["result"] == "failed" for e in h)
    ended = [e for e in h if e["result"] != "started"]  # B's undocking is work: started, then done
    assert counts["done"] + counts["refused"] + counts["failed"] == len(ended) == 6
    assert [e["command"] for e in h if e["result"] == "started"] == ["undock"]
    assert sum(counts["by_reason"].values()) == counts["refused"] + counts["failed"]
    # C's hatch command after death; A boarding a departed Soyuz; and the trigger's command
    # on the first death, A closing a hatch far from Destiny, refused like any other.
    assert counts["by_reason"] == {"actor_dead": 1, "not_here": 1, "vehicle_departed": 1}
    assert counts["done"] == 3  # board, close_hatch, undock by B
    from_trigger = [e for e in h if e["actor"] == "A" and e["command"] == "close_hatch"]
    assert len(from_trigger) == 1 and from_trigger[0]["reason"] == "not_here"
    assert from_trigger[0]["t_ms"] == _ms(_fired(sim, "one-dead")[0]["t"]) + sim.dt_ms  # the next frame's first phase
    assert [int(x) for x in sim.state["control.commands"]] == [counts["done"], counts["refused"], counts["failed"]]


def test_report_shows_the_outcome(tmp_path, capsys):
    path = tmp_path / "fatal.toml"
    path.write_text(FATAL)
    assert main(["run", str(path), "--hours", "1"]) == 0
    out = capsys.readouterr().out
    assert "Survivors: A, B" in out
    assert "C (low pressure)" in out
    assert "Left in soyuz-ms: B" in out
    assert "Commands: 3 done, 3 refused, 0 failed" in out
