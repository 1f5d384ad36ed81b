"""Quiet frames many to a compiled call (issue 11, "run many frames per call while no event,
command or policy is due") give what the engine gives frame by frame.

Each test runs a scenario twice, through :class:`issim.quiet.QuietFrames` (what
``Runner.run`` does) and frame by frame (``Runner._quiet`` turned off), and compares the two
runs bit for bit: the event log, every state array, the running totals and every telemetry
channel. The calls stop wherever Python is needed (a physics stage, the control map worked
out again, someone due to decide, the recorder's chunk full, a running total made, an event
due, the hour's progress when a callback asks for it) and the engine finishes that frame;
each test checks that the case it is about happened.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_check import run_digest

from issim import Batch
from issim.control.controlmap import ControlMap
from issim.quiet import QuietFrames
from issim.sim import kernel_stamp, kernels
from issim.quiet import kernel as quiet_kernel
from issim.runner import Runner
from issim.sim.events import Event
from issim.sim.telemetry import Recorder


def _plain(monkeypatch):
    """Runners made after this run every frame through the engine."""
    monkeypatch.setattr(Runner, "_quiet", lambda self: None)


def _counted(monkeypatch) -> list:
    """Record every quiet call's answer ``(frames done, why, code)``."""
    seen = []
    kernel = kernels.kernel("quiet_frames")

    def counted(*args):
        out = kernel(*args)
        seen.append(out)
        return out

    monkeypatch.setitem(kernels._KERNELS, "quiet_frames", counted)
    return seen


def _both(monkeypatch, scenario, before=None, **kw):
    """``(quiet run, frame-by-frame run, the quiet calls' answers)`` of ``scenario``, each run to its end."""
    runs = []
    seen = None
    with monkeypatch.context() as m:
        seen = _counted(m)
        runs.append(Runner(scenario, **kw))
        if before:
            before(runs[0])
        runs[0].run()
    with monkeypatch.context() as m:
        _plain(m)
        runs.append(Runner(scenario, **kw))
        if before:
            before(runs[1])
        runs[1].run()
    return runs[0], runs[1], seen


def _same(a, b) -> None:
    assert run_digest(a.sim) == run_digest(b.sim)
    assert a.sim.state.totals == b.sim.state.totals and list(a.sim.state.totals) == list(b.sim.state.totals)


def test_a_quiet_day_runs_mostly_in_quiet_calls_and_alike(monkeypatch):
    quiet, plain, seen = _both(monkeypatch, "nominal", days=1)
    _same(quiet, plain)
    q = quiet._quiet_frames
    assert q is not None and q.frames > 0.95 * quiet.sim.state.frame  # (8,640 frames)
    assert q.calls < 300
    whys = {why for _, why, _ in seen}
    assert {quiet_kernel.WHOLE, quiet_kernel.PHYSICS, quiet_kernel.AFTER_PHYSICS} <= whys
    stages = {code // 256 for _, why, code in seen if why == quiet_kernel.PHYSICS}
    assert stages  # (the sleep schedule's edges, the day's orbit check)


def test_the_control_map_follows_what_it_reads_inside_the_calls_when_it_is_kept(monkeypatch):
    """What the map reads changes dozens of times a day (contacts, people moving) and mostly
    comes back to what it was: the call takes the kept map up itself, and stops for Python
    only to work out a map not kept yet."""
    keys = []
    compute = ControlMap.compute

    def watched(self, state):
        keys.append(ControlMap.key(state))
        return compute(self, state)

    with monkeypatch.context() as m:
        m.setattr(ControlMap, "compute", watched)
        quiet, plain, seen = _both(monkeypatch, "nominal", hours=12)
    _same(quiet, plain)
    plain_keys = keys[-plain.sim.state.frame // 6:]  # (the plain run's: it asks once a minute, a frame is 10 s)
    changes = sum(a != b for a, b in zip(plain_keys, plain_keys[1:]))
    stops = sum(why == quiet_kernel.AFTER_PHYSICS for _, why, _ in seen)
    assert changes >= 10 and 1 <= stops < changes / 2, (changes, stops)
    assert np.array_equal(quiet.sim.state["control.map"], plain.sim.state["control.map"])


def test_a_recorder_chunk_filled_in_quiet_calls(monkeypatch):
    # 4,096 samples a chunk at 60 s: the first chunk fills within the third day
    quiet, plain, _ = _both(monkeypatch, "nominal", days=3)
    _same(quiet, plain)
    assert len(quiet.sim.recorder._full) >= 1


def test_the_quiet_call_moves_full_stages_into_the_chunk_itself(monkeypatch):
    """A day of samples fills the recorder's stage (64 rows) 22 times: a run frame by frame
    moves each into the chunk in Python, the quiet calls move them themselves and go on."""
    full = []
    flush = Recorder._flush

    def counted(self):
        full[-1] += self._staged == Recorder.STAGE_ROWS
        flush(self)

    monkeypatch.setattr(Recorder, "_flush", counted)
    runs = []
    for plain in (False, True):
        with monkeypatch.context() as m:
            if plain:
                _plain(m)
            full.append(0)
            runs.append(Runner("nominal", days=1))
            runs[-1].run()
    _same(*runs)
    assert full[1] == 1440 // Recorder.STAGE_ROWS  # (1,441 samples: the first at the start)
    assert full[0] <= 3, full  # (a stage that fills on a frame run in Python is moved there)


@pytest.mark.parametrize("scenario", ["leak", "cdra-failure", "power-split", "isolation", "standoff"])
def test_scenarios_run_alike(monkeypatch, scenario):
    quiet, plain, seen = _both(monkeypatch, scenario, hours=18)
    _same(quiet, plain)
    assert seen  # the quiet calls ran somewhere in each


def test_events_commands_and_a_hurt_person_between_quiet_calls(monkeypatch):
    def script(run):
        sim = run.sim
        name = sim.people[2]
        sim.schedule(Event(sim.start_ms + 35 * 60_000 + 4_000, "injure", name, (("severity", 0.4), ("bleeding", False))))
        sim.schedule(Event(sim.start_ms + 3 * 3_600_000, "hole", "poisk", (("area_m2", 2.0e-6),)))

    quiet, plain, seen = _both(monkeypatch, "nominal", before=script, hours=6)
    _same(quiet, plain)
    assert quiet.sim.state["crew.injury"][2] > 0.0
    assert any(kind == "event" and dict(d).get("action") == "hole" for _, kind, d in quiet.sim.state.log)


def test_minds_with_goals_and_decisions_run_alike(monkeypatch):
    def orders(run):  # an order to take control, heeded: a goal, so the minds have decisions to make
        run.apply({"decisions": {"d1_comply": "comply"}})
        sim = run.sim
        sim.schedule(Event(sim.start_ms + 2 * 3_600_000, "send_message", "Maya Torres",
                           (("from", "houston"), ("to", "Maya Torres"), ("id", "order"),
                            ("text", "order: take-control. Take control of the station."))))

    quiet, plain, seen = _both(monkeypatch, "nominal", before=orders, hours=8)
    _same(quiet, plain)
    said = [dict(d) for _, kind, d in quiet.sim.state.log if kind == "agents"]
    assert any(d.get("what") == "goal" for d in said) and any(d.get("what") == "decided" for d in said)
    assert seen and quiet._quiet_frames.frames < 0.9 * quiet.sim.state.frame  # not while a goal is held


def test_a_snapshot_restored_runs_on_alike(monkeypatch):
    run = Runner("nominal", hours=10)
    run.run(until=run.sim.start_ms + 3 * 3_600_000)
    snap = run.sim.snapshot()
    run.run(until=run.sim.start_ms + 5 * 3_600_000)
    run.sim.restore(snap)
    run.run()
    with monkeypatch.context() as m:
        _plain(m)
        plain = Runner("nominal", hours=10)
        plain.run()
    _same(run, plain)


def test_stepping_frame_by_frame_then_running_is_alike(monkeypatch):
    run = Runner("nominal", hours=4)
    for _ in range(100):
        run.step()
    run.sim.state.totals["power.usos_load_j"] += 1.0  # a total written between frames is read again
    run.run()
    with monkeypatch.context() as m:
        _plain(m)
        plain = Runner("nominal", hours=4)
        for _ in range(100):
            plain.step()
        plain.sim.state.totals["power.usos_load_j"] += 1.0
        plain.run()
    _same(run, plain)


def test_a_batch_uses_quiet_calls_and_each_station_is_its_run_alone(monkeypatch):
    batch = Batch("nominal", seeds=[1, 2], hours=3)
    batch.run()
    assert all(r._quiet_frames is not None and r._quiet_frames.frames > 900 for r in batch.runners)
    with monkeypatch.context() as m:
        _plain(m)
        alone = [Runner("nominal", seed=s, hours=3) for s in (1, 2)]
        for r in alone:
            r.run()
    for r, a in zip(batch.runners, alone):
        _same(r, a)


def _with_trigger(when: str):
    from importlib import resources

    from issim.scenario import parse_scenario

    raw = resources.files("issim.data").joinpath("scenarios", "nominal.toml").read_text()
    raw += f'''
[[triggers]]
id = "t"
after = "+1h"
when = {when}
do = [{{ action = "switch", target = "cdra-2", args = {{ on = true }} }}]
'''
    return parse_scenario(raw.encode(), "nominal-with-a-trigger.toml")


@pytest.mark.parametrize("when", ['{ contact = "USOS" }', '{ person_in = { person = "Maya Torres", module = "harmony" } }',
                                  '{ at_least_dead = 1 }'])
def test_triggers_looked_at_in_the_quiet_calls_fire_alike(monkeypatch, when):
    spec = _with_trigger(when)

    def hurt(run):  # for the third: someone dies at 3 h (a severe wound, bleeding)
        if "dead" in when:
            sim = run.sim
            sim.schedule(Event(sim.start_ms + 3 * 3_600_000, "injure", sim.people[4],
                               (("severity", 1.0), ("bleeding", True))))

    quiet, plain, seen = _both(monkeypatch, spec, before=hurt, hours=26)
    _same(quiet, plain)
    assert quiet._quiet_frames.frames > 900  # (after a death, the minds' minute is Python's)
    assert quiet.sim.state["triggers.fired"][0] >= 1  # it fired (a machine switched on)
    assert any(kind == "trigger" for _, kind, _ in quiet.sim.state.log)


def test_the_film_runs_alike_with_its_triggers(monkeypatch):
    quiet, plain, _ = _both(monkeypatch, "iss", seed=3, hours=33)  # its triggers arm at 31 h, the war at 30 h
    _same(quiet, plain)
    assert quiet._quiet_frames.frames > 9_000  # (of 11,880: until the war)


def test_only_the_standard_line_up_and_gated_policies_get_quiet_calls():
    assert Runner(_with_trigger('{ channel = { key = "atm.zvezda.pp_o2_pa", below = 18000 } }'),
                  hours=1)._quiet() is None  # a channel's condition is looked at every frame, in Python
    assert isinstance(Runner("iss", hours=1)._quiet(), QuietFrames)
    assert Runner("nominal", hours=1, policies={"Maya Torres": "random"})._quiet() is None
    assert Runner("nominal", hours=1, policies={"Maya Torres": "idle"})._quiet() is not None
    run = Runner("nominal", hours=1)
    assert isinstance(run._quiet(), QuietFrames)
    run.assign("Maya Torres", "random")  # a policy changed: asked again
    assert run._quiet() is None


def test_an_update_replaced_on_the_instance_is_honoured(monkeypatch):
    run = Runner("nominal", hours=2)
    custody = run.sim.subsystems[7]
    calls = []
    original = custody.update

    def probe(state, env, dt_s):
        calls.append(state.frame)
        original(state, env, dt_s)

    custody.update = probe
    run.run()
    assert len(calls) == run.sim.state.frame  # every frame went through it
    assert run._quiet_frames is not None and run._quiet_frames.frames == 0


def test_the_quiet_call_is_compiled_again_when_a_kernel_it_calls_changes():
    assert quiet_kernel.STAMPED
    stamp = quiet_kernel.quiet_frames._cache._cache_file._source_stamp
    from issim.physics import frame_kernel

    assert stamp[1] == kernel_stamp.callees_stamp(quiet_kernel.CALLEES)
    assert len(stamp[1]) == len(frame_kernel.CALLEES) + 3


def _with_frame(name: str, frame_s: int, every_s: int):
    from importlib import resources

    from issim.scenario import parse_scenario

    raw = resources.files("issim.data").joinpath("scenarios", f"{name}.toml").read_text()
    raw = raw.replace("frame_s = 10", f"frame_s = {frame_s}").replace("record_every_s = 60", f"record_every_s = {every_s}")
    assert f"frame_s = {frame_s}" in raw
    return parse_scenario(raw.encode(), f"{name}-{frame_s}s.toml")


@pytest.mark.parametrize("until_resolved", [False, True])
def test_progress_comes_at_each_hour_of_frames_whatever_the_frame(monkeypatch, until_resolved):
    spec = _with_frame("nominal", 7, 14)  # 514 frames an hour: not a whole hour of time, nor of 10 minutes
    seen = {}
    for mode in ("quiet", "plain"):
        with monkeypatch.context() as m:
            if mode == "plain":
                _plain(m)
            run = Runner(spec, hours=5, until_resolved=until_resolved)
            seen[mode] = []
            run.run(progress=seen[mode].append)
            seen[mode + "-digest"] = run_digest(run.sim)
    assert seen["quiet"] == seen["plain"] == [514 * k for k in range(1, len(seen["plain"]) + 1)]
    assert len(seen["quiet"]) >= 4
    assert seen["quiet-digest"] == seen["plain-digest"]


def test_a_policy_given_during_a_run_is_honoured(monkeypatch):
    def switch(run):
        def progress(frame):
            if frame == 1_080:  # 3 h in: Maya Torres acts at random from now on
                run.assign("Maya Torres", "random")
        return progress

    runs = []
    for mode in ("quiet", "plain"):
        with monkeypatch.context() as m:
            if mode == "plain":
                _plain(m)
            run = Runner("nominal", hours=6)
            run.run(progress=switch(run))
            runs.append(run)
    _same(*runs)
    assert any(kind == "command" for _, kind, _ in runs[0].sim.state.log)  # (the random policy acted)


def test_a_quiet_day_leaves_python_a_few_whole_frames(monkeypatch):
    """A frame the engine runs whole costs hundreds of µs: a ``nominal`` day leaves it the
    first (where the kernels are bound) and a couple more. The first frames used to go to
    it one by one while the recorder's compiled sample waited for a sample to be bound at,
    and while no map was kept for what the first minutes read (the call now runs up to the
    minute that works it out)."""
    from issim.sim.engine import Simulation

    whole = []
    advance = Simulation.advance

    def counted(self, *args):
        whole.append(self.state.frame)
        return advance(self, *args)

    monkeypatch.setattr(Simulation, "advance", counted)
    run = Runner("nominal", days=1)
    run.run()
    assert run.sim.state.frame == 8640
    assert whole[0] == 0 and len(whole) <= 4, whole


def test_without_a_progress_callback_the_calls_run_past_the_hours():
    """Only a progress callback looks up at each hour: without one a quiet day takes a few
    calls, not one an hour at the least; with one, at least one an hour."""
    alone = Runner("nominal", days=1)
    alone.run()
    hours = []
    watched = Runner("nominal", days=1)
    watched.run(progress=hours.append)
    assert len(hours) == 24
    assert alone._quiet_frames.calls < 16 <= 24 <= watched._quiet_frames.calls
    assert alone.sim.event_log_sha256() == watched.sim.event_log_sha256()


def test_a_call_begun_with_no_map_kept_looks_the_map_up_at_its_next_minute(monkeypatch):
    """A call begun while no control map is kept for what the map reads (row -1) looks the
    map up at the next minute, whether or not what it reads has changed by then, and runs on
    when one is kept: here every call begins so, and the run is the run frame by frame."""
    table = ControlMap.table
    monkeypatch.setattr(ControlMap, "table", lambda self, key: (*table(self, key)[:2], -1))
    quiet, plain, seen = _both(monkeypatch, "nominal", hours=6)
    _same(quiet, plain)
    assert max(done for done, _, _ in seen) > 60  # (calls ran over many minutes)
