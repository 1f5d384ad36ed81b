"""issim serve: Open MCT's telemetry contract, commanding with tokens, and the guard.

Every test drives the server's clock itself (started paused, moved with /api/sim/step or
fast-forward), so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from issim.runner import Runner  # noqa: E402
from issim.serve import decimate, dictionary, tokens  # noqa: E402
from issim.serve.app import Limits, create_app  # noqa: E402
from issim.serve.sources import LiveSource, ReplaySource  # noqa: E402

BASE = "http://127.0.0.1"
WS = "ws://127.0.0.1/api/realtime"
SEED = 3
TOKENS = {"houston": "h" * 24, "moscow": "m" * 24, "kira-foster": "k" * 24, "gordon-barrett": "g" * 24,
          "weronika-vetrov": "w" * 24, "someone-else": "s" * 24}
FREE = Limits(read_rate=1e9, read_burst=1e9, write_rate=1e9, write_burst=1e9)  # no rate limit


def bearer(role: str) -> dict:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def client_of(source, **kw) -> TestClient:
    app = create_app(source, tokens=tokens.Tokens(TOKENS), paused=True, **kw)
    return TestClient(app, base_url=BASE)


@pytest.fixture
def live():
    """A paused live run of the flagship scenario and a client of its server."""
    source = LiveSource(Runner("iss", seed=SEED))
    with client_of(source) as c:
        yield source, c


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A complete stored run of three hours, in which Weronika Vetrov closes the hatch beside
    her twice an hour into it (the second time refused: it is shut)."""
    from issim.agents.policies import Scripted
    from issim.archive import Archive
    from issim.control import Command

    archive = Archive.open(tmp_path_factory.mktemp("serve-archive"), create=True)
    runner = Runner("iss", seed=SEED, hours=3)
    hatch = _open_hatch_beside(runner.sim, "Weronika Vetrov")
    hour = runner.sim.start_ms + 3_600_000
    close = Command("close_hatch", "Weronika Vetrov", hatch, source="agent")
    runner.assign("Weronika Vetrov", Scripted([(hour, close), (hour + 600_000, close)]))
    return runner.store(archive)


@pytest.fixture
def replay(stored):
    source = ReplaySource(stored)
    with client_of(source) as c:
        yield source, c


def pd_utc(t_ms: int):
    import pandas as pd

    return pd.Timestamp(t_ms, unit="ms", tz="UTC")


def forward(c, source, ms: int) -> None:
    r = c.post("/api/sim/fast-forward", json={"t": source.t_ms + ms}, headers=bearer("houston"))
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------------------- the dictionary


def test_dictionary_has_every_channel_with_units_limits_and_a_place_in_the_tree(live):
    source, c = live
    d = c.get("/api/dictionary").json()
    sim = source.runner.sim
    by_key = {m["key"]: m for m in d["measurements"]}
    assert list(by_key) == [ch.key for ch in sim.channels()]
    for ch in sim.channels():
        m = by_key[ch.key]
        value, utc = m["values"]
        assert value["unit"] == value["units"] == ch.unit and value["hints"] == {"range": 1}
        assert utc == {"key": "utc", "source": "timestamp", "name": "Timestamp", "format": "utc",
                       "hints": {"domain": 1}}
        assert m["limits"] == {k: v for k, v in vars(ch.limits).items() if v is not None}
    # every channel sits once in the tree, under the segment, module and system the measurement names
    seen = [(root["key"], mod["key"], system["key"], key) for root in d["tree"] for mod in root["children"]
            for system in mod["children"] for key in system["channels"]]
    assert sorted(s[3] for s in seen) == sorted(by_key)
    for root, mod, system, key in seen:
        m = by_key[key]
        assert (root, mod, system) == (m["segment"], f"{root}/{m['module']}", f"{root}/{m['module']}/{m['system']}")
    assert [r["key"] for r in d["tree"]] == ["USOS", "ROS", "Station", "Crew"]
    assert by_key["atm.destiny.pp_co2_pa"]["segment"] == "USOS" and by_key["atm.zvezda.pp_o2_pa"]["segment"] == "ROS"
    assert by_key["ls.cdra-1.on"]["module"] == "destiny"  # a machine sits in the module it is in
    assert by_key["crew.gordon-barrett.health"]["module"] == "Gordon Barrett"


def test_discrete_channels_have_enumerations_and_numbers(live):
    source, c = live
    by_key = {m["key"]: m for m in c.get("/api/dictionary").json()["measurements"]}
    sim = source.runner.sim
    hatch = by_key["hatch.zarya-zvezda.open"]["values"][0]
    assert hatch["format"] == "enum" and hatch["enumerations"] == [{"value": 0, "string": "closed"},
                                                                  {"value": 1, "string": "open"}]
    where = by_key["crew.kira-foster.location"]["values"][0]["enumerations"]
    assert [e["string"] for e in where] == [v.id for v in sim.world.volumes]
    assert by_key["atm.destiny.pp_co2_pa"]["values"][0]["format"] == "float"
    assert "enumerations" not in by_key["atm.destiny.pp_co2_pa"]["values"][0]


def test_limits_map_to_open_mct_severities():
    lim = {"warn_low": 19500, "warn_high": 23100, "danger_low": 16000}
    assert dictionary.severity(21000, lim) is None
    assert dictionary.severity(19500, lim) == "WARNING"  # at the limit counts, as in the HTML report
    assert dictionary.severity(23500, lim) == "WARNING"
    assert dictionary.severity(15000, lim) == "CRITICAL"
    assert dictionary.severity(float("nan"), lim) is None
    assert dictionary.open_mct_limits(lim) == {
        "WARNING": {"low": {"color": "yellow", "value": 19500}, "high": {"color": "yellow", "value": 23100}},
        "CRITICAL": {"low": {"color": "red", "value": 16000}}}


# ---------------------------------------------------------------------------- history


def _bucket_extremes(t, v, start, end, size):
    """The brute-force answer: per bucket, the (first) point of least and of greatest value."""
    keep = set()
    for b in range(size):
        lo = start + (end - start + 1) * b / size
        hi = start + (end - start + 1) * (b + 1) / size
        idx = [i for i in range(len(t)) if lo <= t[i] < hi and not np.isnan(v[i])]
        if idx:
            keep.add(min(idx, key=lambda i: (v[i], i)))
            keep.add(min(idx, key=lambda i: (-v[i], i)))
    return sorted(keep)


@pytest.mark.parametrize("size", [1, 7, 50])
def test_minmax_keeps_the_extremes_of_every_bucket(size):
    rng = np.random.default_rng(size)
    t = np.cumsum(rng.integers(1, 50, 2000)).astype(np.int64)
    v = rng.normal(size=2000).round(1)  # rounded: ties happen, and the first of them is kept
    v[rng.integers(0, 2000, 40)] = np.nan
    start, end = int(t[100]), int(t[1800])
    got_t, got_v = decimate.minmax(t, v, start, end, size)
    want = _bucket_extremes(t, v, start, end, size)
    assert got_t.tolist() == t[want].tolist() and got_v.tolist() == v[want].tolist()
    assert np.all(np.diff(got_t) > 0)


def test_minmax_of_few_points_is_all_of_them():
    t = np.arange(0, 100, 10, dtype=np.int64)
    v = np.arange(10.0)
    got_t, got_v = decimate.minmax(t, v, 0, 90, 5)
    assert got_t.tolist() == t.tolist() and got_v.tolist() == v.tolist()


def test_history_of_a_live_run_is_its_recorder(live):
    source, c = live
    forward(c, source, 2 * 3_600_000)
    key = "atm.destiny.pp_co2_pa"
    t, v = source.runner.sim.telemetry(key)
    start, end = int(t[10]), int(t[-10])
    got = c.get(f"/api/history/{key}", params={"start": start, "end": end}).json()
    inside = (t >= start) & (t <= end)
    assert [d["timestamp"] for d in got] == t[inside].tolist()
    assert [d["value"] for d in got] == v[inside].tolist() and {d["id"] for d in got} == {key}
    last = c.get(f"/api/history/{key}", params={"start": start, "end": end, "strategy": "latest"}).json()
    assert last == [got[-1]]
    fractions = c.get(f"/api/history/{key}", params={"start": start - 0.25, "end": end + 0.75}).json()
    assert fractions == got  # Open MCT's zoomed bounds: the range widened to whole milliseconds
    plot = c.get(f"/api/history/{key}", params={"start": start, "end": end, "strategy": "minmax", "size": 5}).json()
    want = _bucket_extremes(t, v, start, end, 5)
    assert [d["timestamp"] for d in plot] == t[want].tolist()
    assert max(d["value"] for d in plot) == v[inside].max() and min(d["value"] for d in plot) == v[inside].min()


def test_history_of_a_stored_run_is_its_parquet(replay, stored):
    source, c = replay
    key = "atm.zvezda.pp_o2_pa"
    df = stored.telemetry(key)
    t = df.index.as_unit("ms").asi8
    got = c.get(f"/api/history/{key}", params={"start": int(t[0]), "end": int(t[-1])}).json()
    assert [d["timestamp"] for d in got] == t.tolist() and [d["value"] for d in got] == df[key].tolist()
    plot = c.get(f"/api/history/{key}", params={"start": int(t[0]), "end": int(t[-1]), "strategy": "minmax",
                                                "size": 10}).json()
    assert len(plot) <= 20 and plot[0]["timestamp"] >= t[0]
    assert max(d["value"] for d in plot) == df[key].max()


# ---------------------------------------------------------------------------- realtime and the clock


def _next(ws, kind: str) -> dict:
    while True:
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame


def test_websocket_values_follow_simulation_time(live):
    source, c = live
    keys = ["atm.destiny.pp_co2_pa", "power.USOS.soc"]
    with c.websocket_connect(WS) as ws:
        ws.send_text(f"subscribe {keys[0]}")  # Open MCT's tutorial form
        ws.send_text(json.dumps({"subscribe": [keys[1], "no.such.key"]}))
        first = _next(ws, "telemetry")
        assert [d["id"] for d in first["data"]] == [keys[0]] and first["timestamp"] == source.t_ms
        assert "no.such.key" in _next(ws, "error")["message"]
        seen = []
        for _ in range(3):
            assert c.post("/api/sim/step", headers=bearer("houston")).status_code == 200
            frame = _next(ws, "telemetry")
            while [d["id"] for d in frame["data"]] != sorted(keys):  # the subscription's own first frames
                frame = _next(ws, "telemetry")
            assert frame["timestamp"] == source.t_ms
            assert all(d["timestamp"] == source.t_ms for d in frame["data"])
            assert [d["value"] for d in frame["data"]] == [source.value(k) for k in sorted(keys)]
            seen.append(frame)
        assert [f["timestamp"] for f in seen] == [seen[0]["timestamp"] + i * source.period_ms for i in range(3)]
        assert seen[0]["data"][0]["value"] != seen[-1]["data"][0]["value"]  # the air changes frame to frame
        ws.send_text(json.dumps({"unsubscribe": keys}))
        ws.send_text("hello")
        assert _next(ws, "error")["message"].startswith("expected")
        c.post("/api/sim/step", headers=bearer("houston"))
        assert _next(ws, "telemetry")["data"] == []


def test_staleness_follows_each_segments_contact(replay):
    source, c = replay
    contact = source.column("comms.ROS.contact")
    assert contact.min() == 0 and contact.max() == 1  # the run has both AOS and LOS for the ROS
    for i in np.flatnonzero(np.r_[True, np.diff(contact) != 0]):  # each change of contact
        assert c.post("/api/sim/seek", json={"t": int(source.t[i])}, headers=bearer("houston")).status_code == 200
        ros = c.get("/api/staleness/atm.zvezda.pp_o2_pa").json()
        assert ros == {"id": "atm.zvezda.pp_o2_pa", "isStale": not contact[i], "timestamp": int(source.t[i])}
        usos = c.get("/api/staleness/atm.destiny.pp_o2_pa").json()["isStale"]
        assert usos == (not source.column("comms.USOS.contact")[i])


def test_world_control_map_and_story_of_a_live_run(live):
    source, c = live
    sim = source.runner.sim
    assert [v["id"] for v in c.get("/api/world").json()["volumes"]] == [v.id for v in sim.world.volumes]
    forward(c, source, 30 * 60_000)
    assert c.get("/api/control").json() == {"timestamp": source.t_ms, "systems": sim.control_map()}
    hatch = _open_hatch_beside(sim, "Gordon Barrett")
    with c.websocket_connect(WS) as ws:
        ws.send_text("subscribe events")
        assert c.post("/api/command", json={"command": "close_hatch", "target": hatch},
                      headers=bearer("gordon-barrett")).status_code == 200
        c.post("/api/sim/step", headers=bearer("houston"))
        story = _next(ws, "events")["data"]
    told = [e for e in story if e["kind"] == "command" and e["source"] == "browser"]
    assert [(e["actor"], e["command"], e["target"], e["result"]) for e in told] == [
        ("Gordon Barrett", "close_hatch", hatch, "done")]
    logged = c.get("/api/events", params={"start": source.start_ms, "end": source.t_ms, "limit": 10_000}).json()
    assert [{k: v for k, v in e.items() if k != "timestamp"} for e in logged] == sim.event_log()
    assert told[0] in logged


def test_world_control_map_and_story_of_a_replay(replay, stored):
    source, c = replay
    assert c.get("/api/world").json() == stored.world()
    t = int(source.t[len(source.t) // 3])
    c.post("/api/sim/seek", json={"t": t}, headers=bearer("houston"))
    row = stored.telemetry("control.*", start=t, end=t).iloc[0]
    systems = c.get("/api/control").json()["systems"]
    assert systems == {s: [f for f in stored.world()["factions"] if row[f"control.{s}.{f}"] >= 0.5]
                       for s in stored.world()["systems"]}
    logged = c.get("/api/events", params={"start": source.start_ms, "end": t, "limit": 10_000}).json()
    from issim.times import parse_iso

    assert logged and logged == [{"timestamp": parse_iso(e["t"]), **e} for e in stored.event_log()
                                 if parse_iso(e["t"]) <= t]
    history = c.get("/api/commands/history", params={"limit": 10_000}).json()
    assert [(h["actor"], h["command"], h["result"]) for h in history] == [
        ("Weronika Vetrov", "close_hatch", "done"), ("Weronika Vetrov", "close_hatch", "failed")][: len(history)]
    c.post("/api/sim/seek", json={"t": source.end_ms}, headers=bearer("houston"))
    assert len(c.get("/api/commands/history").json()) == 2
    c.post("/api/sim/seek", json={"t": t}, headers=bearer("houston"))
    here = c.get("/api/position").json()
    row = stored.track().loc[:pd_utc(t)].iloc[-1]
    assert (here["lat_deg"], here["lon_deg"], here["sunlit"]) == (row.lat_deg, row.lon_deg, bool(row.sunlit))


def test_the_ground_track_of_a_live_run_is_the_stored_runs(live, stored):
    source, c = live
    forward(c, source, 3 * 3_600_000)
    got = c.get("/api/track", params={"start": source.start_ms, "end": source.t_ms, "size": 10_000}).json()
    df = stored.track()
    want = [{"timestamp": int(t), "lat_deg": r.lat_deg, "lon_deg": r.lon_deg, "alt_km": r.alt_km,
             "sunlit": bool(r.sunlit)} for t, r in zip(df.index.as_unit("ms").asi8, df.itertuples())]
    assert len(got) >= len(want) - 1 and got == want[: len(got)]
    few = c.get("/api/track", params={"start": source.start_ms, "end": source.t_ms, "size": 10}).json()
    assert len(few) == 10 and few[0] == got[0] and few[-1] == got[-1]
    here = c.get("/api/position").json()
    assert here["timestamp"] == source.t_ms and -90 <= here["lat_deg"] <= 90 and 300 < here["alt_km"] < 500
    with c.websocket_connect(WS) as ws:
        ws.send_text(json.dumps({"subscribe": ["track"]}))
        c.post("/api/sim/step", headers=bearer("houston"))
        frame = _next(ws, "track")
    assert frame["data"]["timestamp"] == frame["timestamp"] == source.t_ms
    assert frame["data"]["lon_deg"] != here["lon_deg"]  # ten seconds on, the station has moved


def test_the_coastlines_and_who_a_token_signs_in_as(live):
    _, c = live
    land = c.get("/api/coastlines").json()
    assert "Natural Earth" in land["source"] and len(land["rings"]) > 100
    assert all(-400 <= lon <= 400 and -90 <= lat <= 90 for ring in land["rings"] for lon, lat in ring)
    assert c.get("/api/whoami", headers=bearer("gordon-barrett")).json() == {
        "role": "gordon-barrett", "actor": "Gordon Barrett", "mode": "live"}
    assert c.get("/api/whoami").status_code == 401
    assert c.get("/api/whoami", headers={"Authorization": "Bearer " + "x" * 24}).status_code == 401
    assert c.get("/api/whoami", headers=bearer("someone-else")).status_code == 403


def test_clock_controls_need_a_token_and_move_the_clock(live):
    source, c = live
    clock = c.get("/api/clock").json()
    assert clock["paused"] and clock["mode"] == "live" and clock["timestamp"] == source.start_ms
    assert c.post("/api/sim/step").status_code == 401
    assert c.post("/api/sim/step", headers=bearer("moscow")).json()["timestamp"] == source.start_ms + source.period_ms
    assert c.post("/api/sim/speed", json={"speed": 250}, headers=bearer("moscow")).json()["speed"] == 250
    assert c.post("/api/sim/resume", headers=bearer("moscow")).json()["paused"] is False
    assert c.post("/api/sim/pause", headers=bearer("moscow")).json()["paused"] is True
    assert c.post("/api/sim/seek", json={"t": source.start_ms}, headers=bearer("moscow")).status_code == 409


def test_a_frame_that_raises_stops_the_clock_and_says_why():
    source = LiveSource(Runner("iss", seed=SEED))
    real, steps = source.step, []

    def step():
        steps.append(1)
        if len(steps) == 3:
            raise ZeroDivisionError("a bug in frame 3")
        return real()

    source.step = step
    with client_of(source, limits=FREE) as c:
        c.post("/api/sim/speed", json={"speed": 100_000}, headers=bearer("houston"))
        c.post("/api/sim/resume", headers=bearer("houston"))
        for _ in range(100_000):  # each request lets the pacing loop run a little
            clock = c.get("/api/clock").json()
            if clock["error"]:
                break
        assert clock["error"] == "ZeroDivisionError: a bug in frame 3" and clock["paused"]
        assert clock["timestamp"] == source.start_ms + 2 * source.period_ms
        with c.websocket_connect(WS) as ws:  # the server still answers
            ws.send_bytes(b"subscribe orbit.alt_km")
            assert "text" in _next(ws, "error")["message"]


def test_a_replay_seeks_and_takes_no_commands(replay):
    source, c = replay
    mid = int(source.t[len(source.t) // 2]) + 1
    assert c.post("/api/sim/seek", json={"t": mid}, headers=bearer("houston")).json()["timestamp"] == mid - 1
    assert c.post("/api/sim/seek", json={"t": source.end_ms + 1}, headers=bearer("houston")).status_code == 400
    r = c.post("/api/command", json={"command": "power_off", "target": "USOS"}, headers=bearer("houston"))
    assert r.status_code == 409 and "replay" in r.json()["detail"]


def test_serving_changes_nothing_in_a_run_without_commands(live):
    source, c = live
    with c.websocket_connect(WS) as ws:
        ws.send_text(json.dumps({"subscribe": ["atm.destiny.pp_co2_pa", "comms.ROS.contact"]}))
        forward(c, source, 90 * 60_000)
        for _ in range(5):
            c.post("/api/sim/step", headers=bearer("houston"))
        c.get("/api/commands/allowed", headers=bearer("houston"))  # dry runs
        c.get("/api/commands/allowed", headers=bearer("kira-foster"))
    alone = Runner("iss", seed=SEED)
    alone.run(source.t_ms)
    assert source.runner.sim.event_log_entries() == alone.sim.event_log_entries()
    assert source.runner.sim.event_log_sha256() == alone.sim.event_log_sha256()


def test_every_route_runs_on_the_event_loop_so_no_request_meets_a_frame_half_done(live):
    import inspect

    from fastapi.routing import APIRoute

    _, c = live
    routes = [r for r in c.app.routes if isinstance(r, APIRoute)]
    assert len(routes) > 10
    assert [r.path for r in routes if not inspect.iscoroutinefunction(r.endpoint)] == []
    for r in routes:  # nor any of their dependencies (FastAPI runs plain functions in worker threads)
        assert all(inspect.iscoroutinefunction(d.call) for d in r.dependant.dependencies if d.call is not None
                   and not hasattr(d.call, "__self__") and not isinstance(d.call, type)
                   and inspect.isfunction(d.call)), r.path


# ---------------------------------------------------------------------------- commanding


def _open_hatch_beside(sim, person: str) -> str:
    i = sim.people.index(person)
    here = int(sim.state["crew.location"][i])
    return next(l.hatch for k, l in enumerate(sim.world.links) if here in (l.a, l.b) and sim.state["hatch.open"][k])


def test_a_crew_member_closes_a_hatch_beside_them_and_is_refused_one_far_away(live):
    source, c = live
    sim = source.runner.sim
    hatch = _open_hatch_beside(sim, "Kira Foster")
    k = sim.world.link_index[hatch]
    before = sim.event_log_entries()
    trial = c.post("/api/command", params={"dry_run": True}, json={"command": "close_hatch", "target": hatch},
                   headers=bearer("kira-foster"))
    assert trial.status_code == 200 and trial.json()["dry_run"] and trial.json()["result"] == "done"
    assert sim.state["hatch.open"][k] and sim.event_log_entries() == before
    from issim.agents.policies import Idle

    assert not isinstance(source.runner.policies["Kira Foster"], Idle)  # a dry run hands no one over
    listing = c.get("/api/commands/allowed", headers=bearer("kira-foster")).json()
    close = next(x for x in listing["commands"] if x["name"] == "close_hatch")
    assert listing["actor"] == "Kira Foster" and close["allowed"] and close["reason"] is None
    assert hatch in close["targets"]
    r = c.post("/api/command", json={"command": "close_hatch", "target": hatch}, headers=bearer("kira-foster"))
    assert r.status_code == 200 and r.json()["result"] == "done"
    assert not sim.state["hatch.open"][k]
    assert isinstance(source.runner.policies["Kira Foster"], Idle)  # hers now, not the crew mind's
    far = next(l.hatch for l in sim.world.links if "zvezda" in l.hatch)
    r = c.post("/api/command", json={"command": "close_hatch", "target": far}, headers=bearer("kira-foster"))
    assert r.status_code == 403 and r.json()["stage"] == "authority" and r.json()["reason"] == "not_here"
    assert sim.state["hatch.open"][sim.world.link_index[far]]
    history = c.get("/api/commands/history").json()
    mine = [h for h in history if h["source"] == "browser"]
    assert [(h["actor"], h["command"], h["target"], h["result"]) for h in mine] == [
        ("Kira Foster", "close_hatch", hatch, "done"), ("Kira Foster", "close_hatch", far, "refused")]


def test_a_ground_sees_what_it_may_do_from_a_dry_run_that_changes_nothing(live):
    source, c = live
    sim = source.runner.sim
    before = sim.event_log_entries()
    listing = c.get("/api/commands/allowed", headers=bearer("houston")).json()["commands"]
    by_name = {x["name"]: x for x in listing}
    assert not by_name["close_hatch"]["allowed"] and "houston" in by_name["close_hatch"]["reason"]
    assert by_name["power_off"]["allowed"] == bool(sim.state["comms.contact"][0])
    assert sim.event_log_entries() == before and sim.state.facts.get("control.history", ()) == ()


# ---------------------------------------------------------------------------- bad requests change nothing


def _unchanged(source, c, request) -> dict:
    sim = source.runner.sim
    before = (sim.event_log_entries(), sim.state.t_ms, sim.state["hatch.open"].copy())
    r = request(c)
    after = (sim.event_log_entries(), sim.state.t_ms, sim.state["hatch.open"].copy())
    assert before[:2] == after[:2] and (before[2] == after[2]).all()
    assert 400 <= r.status_code < 500
    body = r.json()
    assert isinstance(body, dict) and body.get("detail")
    return r


@pytest.mark.parametrize("request_, status", [
    (lambda c: c.get("/api/history/atm.nowhere.pp_co2_pa", params={"start": 0, "end": 1}), 404),
    (lambda c: c.get("/api/staleness/atm.destiny.pp_co2", params={}), 404),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": 10, "end": 5}), 400),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": "soon", "end": 5}), 422),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": "nan", "end": 5}), 422),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": 0, "end": "inf"}), 422),
    (lambda c: c.get("/api/events", params={"start": 9, "end": 5}), 400),
    (lambda c: c.get("/api/track", params={"start": 0, "end": 5, "size": 1}), 422),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": 0, "end": 5, "size": 0}), 422),
    (lambda c: c.get("/api/history/atm.destiny.pp_co2_pa", params={"start": 0, "end": 5, "strategy": "mean"}), 422),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "target": "x" * 20_000},
                      headers=bearer("kira-foster")), 413),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda"}), 401),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda"},
                      headers={"Authorization": "Bearer " + "k" * 23 + "x"}), 401),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda"},
                      headers=bearer("someone-else")), 403),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda", "as": "moscow"},
                      headers=bearer("kira-foster")), 422),
    (lambda c: c.post("/api/command", json={"command": "close_hatch", "args": {"on": {"nested": 1}}},
                      headers=bearer("kira-foster")), 422),
    (lambda c: c.post("/api/sim/fast-forward", json={"t": 0}, headers=bearer("houston")), 400),
    (lambda c: c.post("/api/sim/speed", json={"speed": -1}, headers=bearer("houston")), 422),
    (lambda c: c.get("/api/clock", headers={"Host": "attacker.example"}), 400),
])
def test_bad_requests_get_a_clear_4xx_and_change_nothing(live, request_, status):
    source, c = live
    assert _unchanged(source, c, request_).status_code == status


def test_commands_refused_at_the_door_are_in_the_history(live):
    source, c = live
    c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda"})
    c.post("/api/command", json={"command": "power_off", "target": "USOS"}, headers={"Authorization": "Bearer nope"})
    history = c.get("/api/commands/history").json()
    assert [(h["actor"], h["command"], h["stage"], h["reason"]) for h in history] == [
        ("", "close_hatch", "auth", "unauthorized"), ("", "power_off", "auth", "unauthorized")]
    assert source.runner.sim.state.facts.get("control.history", ()) == ()


def test_a_command_the_role_may_not_issue_is_refused_with_the_reason_and_recorded(live):
    source, c = live
    r = c.post("/api/command", json={"command": "close_hatch", "target": "zarya-zvezda"}, headers=bearer("houston"))
    assert r.status_code == 403 and r.json()["reason"] == "not_crew"
    r = c.post("/api/command", json={"command": "fly_away"}, headers=bearer("houston"))
    assert r.status_code == 400 and r.json()["reason"] == "unknown_command"
    rows = c.get("/api/commands/history").json()
    assert [(h["actor"], h["command"], h["result"]) for h in rows] == [("houston", "close_hatch", "refused"),
                                                                       ("houston", "fly_away", "refused")]
    assert all(h["source"] == "browser" for h in rows)


def test_the_rate_limit_answers_429(live):
    source, _ = live
    app = create_app(source, tokens=tokens.Tokens(TOKENS), paused=True,
                     limits=Limits(read_rate=0.001, read_burst=3))
    with TestClient(app, base_url=BASE) as c:
        codes = [c.get("/api/clock").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_websocket_from_another_origin_is_refused(live):
    from starlette.websockets import WebSocketDisconnect

    _, c = live
    with pytest.raises(WebSocketDisconnect):
        with c.websocket_connect(WS, headers={"origin": "http://evil.example"}) as ws:
            ws.receive_text()
    with c.websocket_connect(WS, headers={"origin": "http://127.0.0.1"}) as ws:
        ws.send_text("subscribe orbit.alt_km")
        assert _next(ws, "telemetry")["data"][0]["id"] == "orbit.alt_km"


def test_every_answer_forbids_outside_origins_and_cors_is_closed(live):
    _, c = live
    for r in (c.get("/"), c.get("/api/clock", headers={"Origin": "http://evil.example"}),
              c.get("/api/history/nope", params={"start": 0, "end": 1})):
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-eval" not in r.headers["content-security-policy"]  # only the Open MCT page needs it
        assert "access-control-allow-origin" not in r.headers
    pre = c.options("/api/command", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code >= 400 and "access-control-allow-origin" not in pre.headers
    assert c.get("/app.js").status_code == 200 and "/api/realtime" in c.get("/app.js").text


def test_a_built_front_end_is_served_at_the_root_beside_the_api(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>issim web</title>")
    (tmp_path / "plugin.js").write_text("export default 1;")
    source = LiveSource(Runner("iss", seed=SEED))
    with client_of(source, web_dir=tmp_path) as c:
        page = c.get("/")
        assert page.status_code == 200 and "issim web" in page.text
        csp = page.headers["content-security-policy"]
        # Open MCT compiles templates (eval) and embeds its icon fonts (data:); nothing from outside
        assert "default-src 'self'; script-src 'self' 'unsafe-eval'; font-src 'self' data:;" in csp
        assert "http" not in csp and "*" not in csp
        assert c.get("/plugin.js").text == "export default 1;"
        assert c.get("/api/clock").json()["mode"] == "live"
        assert c.get("/../pyproject.toml").status_code == 404 and c.get("/%2e%2e/pyproject.toml").status_code == 404


# ---------------------------------------------------------------------------- tokens and the command line


def test_a_fresh_install_makes_tokens_in_a_private_file(tmp_path):
    path = tmp_path / "conf" / "tokens.json"
    made = tokens.load(["houston", "kira-foster"], path, env={})
    assert set(made.created) == {"houston", "kira-foster"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == made.tokens
    again = tokens.load(["houston", "kira-foster", "moscow"], path, env={})
    assert again.created == ("moscow",) and again.tokens["houston"] == made.tokens["houston"]
    assert again.role(made.tokens["kira-foster"]) == "kira-foster" and again.role("x" * 43) is None
    env = tokens.load(["houston"], path, env={"ISSIM_TOKEN_HOUSTON": "from-the-environment-1234"})
    assert env.role("from-the-environment-1234") == "houston" and env.role(made.tokens["houston"]) is None


def test_a_replay_has_the_roles_of_its_run(stored, tmp_path):
    from issim.serve import open_tokens

    made = open_tokens(ReplaySource(stored), tmp_path / "tokens.json", env={})
    assert list(made.tokens) == [p["slug"] for p in stored.world()["crew"]] + ["houston", "moscow"]


def test_a_tokens_file_others_can_read_or_a_short_token_is_refused(tmp_path):
    from issim.errors import InputError

    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"houston": "y" * 30}))
    os.chmod(path, 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        tokens.load(["houston"], path, env={})
    with pytest.raises(InputError, match="shorter"):
        tokens.load(["houston"], tmp_path / "other.json", env={"ISSIM_TOKEN_HOUSTON": "short"})


def test_serve_refuses_a_port_in_use_in_one_line(capsys):
    import socket

    from issim.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "iss", "--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("issim: error: --port: cannot listen on 127.0.0.1:")


@pytest.mark.parametrize("args, source", [
    (["serve", "./my-scenario.toml"], "SCENARIO"), (["serve", "iss", "--speed", "0"], "--speed"),
    (["serve", "iss", "--port", "70000"], "--port"), (["serve", "999"], "RUN"),
    (["serve", "iss", "--host", "no-such-host.invalid"], "--host"),
])
def test_serve_refuses_bad_input_in_one_line(capsys, tmp_path, args, source):
    from issim.archive import Archive
    from issim.cli import main

    Archive.open(tmp_path, create=True)
    assert main([*args, "--archive", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"issim: error: {source}:")


# ---------------------------------------------------------------------------- the schema, fuzzed


def test_no_request_the_schema_allows_gets_a_server_error():
    """schemathesis against the app's own OpenAPI schema, signed in as a ground: 25 requests an
    operation (a run of two hours, so a fast-forward anywhere in it is short)."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from issim.control.commands import CATALOGUE

    source = LiveSource(Runner("iss", seed=SEED, hours=2))
    keys, commands = sorted(source.keys)[::20], sorted(CATALOGUE)
    failures, calls = [], []
    with client_of(source, limits=FREE) as c:
        schema = schemathesis.openapi.from_dict(c.get("/openapi.json").json())
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(operation.as_strategy(), st.sampled_from([None, *keys]), st.sampled_from([None, *commands]))
            def check(case, key, command):
                if key is not None and "key" in (case.path_parameters or {}):  # real channels too, not only 404s
                    case.path_parameters["key"] = key
                if command is not None and isinstance(case.body, dict) and "command" in case.body:
                    case.body["command"] = command
                kw = case.as_transport_kwargs(base_url=BASE, headers=bearer("houston"))
                kw.pop("cookies", None)
                if isinstance(kw.get("data"), (bytes, str)):
                    kw["content"] = kw.pop("data")
                response = c.request(**kw)
                calls.append((operation.label, response.status_code))
                if response.status_code >= 500:
                    failures.append((operation.label, response.status_code, response.text[:200]))

            check()
    codes = {label: {code for l, code in calls if l == label} for label, _ in calls}
    assert 200 in codes["GET /api/history/{key}"] and {200, 400, 403} & codes["POST /api/command"]
    assert len({label for label, _ in calls}) >= 10 and failures == []
