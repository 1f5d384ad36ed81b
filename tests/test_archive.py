"""The run archive: every run stored, read back exactly, exported, compared; bad input refused.

What a stored run holds is checked against the simulation itself, run again in this
process with the same scenario, seed and length (the engine is deterministic), never
against numbers written here.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import issim
from issim.archive import Archive, diff_runs, open_run
from issim.archive.export import flatten
from issim.cli import main
from issim.control.pipeline import history
from issim.errors import InputError
from issim.runner import Runner
from issim.scenario import build_simulation, load_scenario
from issim.times import MS_PER_DAY, parse_iso

HOURS = 12  # standoff: the orders arrive at 9 h, the links are cut at 10 h, the crews act after


def simulate(scenario: str, hours: float, seed=None):
    spec = load_scenario(scenario)
    end = spec.start_ms + round(hours / 24 * MS_PER_DAY)
    run = Runner(spec, seed=seed, end_ms=end)
    run.run()
    return run


def run_cli(capsys, *args) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def standoff(tmp_path_factory):
    """One standoff run stored through the command line, and the same run simulated here."""
    home = tmp_path_factory.mktemp("archive")
    old = os.environ.get("ISSIM_HOME")
    os.environ["ISSIM_HOME"] = str(home)
    try:
        assert main(["run", "standoff", "--hours", str(HOURS), "--seed", "4"]) == 0
        record = open_run("last")
    finally:
        if old is None:
            os.environ.pop("ISSIM_HOME", None)
        else:
            os.environ["ISSIM_HOME"] = old
    return home, record, simulate("standoff", HOURS, seed=4)


def test_issim_run_stores_the_run_in_isolated_home(standoff):
    home, record, sim = standoff
    assert record.path.parent == home and record.path.is_dir()
    assert record.status == "complete" and record.scenario == "standoff" and record.seed == 4
    assert record.sim_start == "2025-03-10T00:00:00.000Z"
    assert parse_iso(record.sim_end) - parse_iso(record.sim_start) == HOURS * 3_600_000
    assert record.frames == sim.state.frame
    raw = resources.files("issim.data").joinpath("scenarios", "standoff.toml").read_bytes()
    assert record.scenario_sha256 == hashlib.sha256(raw).hexdigest()
    assert (record.path / "scenario.toml").read_bytes() == raw
    assert record.version == issim.__version__
    assert not Path("runs").exists() or Path("runs").resolve() != home  # nothing in the working folder


def test_event_log_and_digest_are_the_simulations(standoff):
    _, record, sim = standoff
    assert record.event_log_sha256 == sim.event_log_sha256()
    assert record.event_log() == sim.event_log()
    entries = record.event_log_entries()
    assert hashlib.sha256("".join(e + "\n" for e in entries).encode()).hexdigest() == record.event_log_sha256
    events = record.events()
    assert len(events) == len(sim.state.log)
    assert list(events["t_ms"]) == [t for t, _, _ in sim.state.log]
    assert list(events["kind"]) == [k for _, k, _ in sim.state.log]
    assert str(events["t"].dtype) == "datetime64[ms, UTC]"


def test_command_history_is_the_pipelines(standoff):
    _, record, sim = standoff
    expected = history(sim.state)
    assert len(expected) > 5, "the standoff's crews act after the links are cut"
    commands = record.commands()
    assert len(commands) == len(expected)
    for row, want in zip(commands.to_dict("records"), expected):
        for key in ("t_ms", "actor", "source", "command", "result", "stage"):
            assert row[key] == want[key], key
        assert row["args"] == want["args"]
        assert row["target"] == str(want["target"])


def test_telemetry_equals_what_the_run_recorded(standoff):
    _, record, sim = standoff
    df = record.telemetry()
    keys = [c.key for c in sim.channels()]
    assert list(df.columns) == keys
    t_ms, _ = sim.telemetry(keys[0])
    assert np.array_equal(df.index.as_unit("ms").asi8, t_ms)
    for key in keys:
        assert np.array_equal(df[key].to_numpy(), sim.telemetry(key)[1]), key


def test_telemetry_selection_by_pattern_and_time(standoff):
    _, record, sim = standoff
    start, end = "2025-03-10T06:00:00Z", "2025-03-10T07:30:00Z"
    df = record.telemetry(["atm.*.pp_co2_pa", "orbit.alt_km"], start=start, end=end)
    volumes = [v.id for v in sim.world.volumes]
    assert list(df.columns) == [f"atm.{v}.pp_co2_pa" for v in volumes] + ["orbit.alt_km"]
    t = df.index.as_unit("ms").asi8
    assert t.min() == parse_iso(start) and t.max() == parse_iso(end)
    full_t, full_v = sim.telemetry("orbit.alt_km")
    keep = (full_t >= parse_iso(start)) & (full_t <= parse_iso(end))
    assert np.array_equal(df["orbit.alt_km"].to_numpy(), full_v[keep])
    with pytest.raises(InputError) as exc:
        record.telemetry("atm.zvezda.pp_co2")
    assert "atm.zvezda.pp_co2_pa" in exc.value.message  # the near miss is suggested


def test_track_is_where_the_environment_put_the_station(standoff):
    _, record, sim = standoff
    from issim.orbit import track
    from issim.orbit.upkeep import orbit_of

    tr = record.track()
    assert np.array_equal(tr.index.as_unit("ms").asi8, record.telemetry("orbit.alt_km").index.as_unit("ms").asi8)
    elements = orbit_of(sim.state)  # no burn in 12 h: the start's element set throughout
    for i in (0, len(tr) // 2, len(tr) - 1):
        fix = track(elements, int(tr.index.as_unit("ms").asi8[i]))
        assert abs(fix.lat_deg - tr["lat_deg"].iloc[i]) < 1e-6
        assert abs((fix.lon_deg - tr["lon_deg"].iloc[i] + 180) % 360 - 180) < 1e-6
        assert abs(fix.alt_km - tr["alt_km"].iloc[i]) < 1e-6
        assert fix.sunlit == bool(tr["sunlit"].iloc[i])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trips(standoff, tmp_path, capsys, fmt):
    home, record, sim = standoff
    out = tmp_path / "export"
    status, stdout, err = run_cli(capsys, "export", str(record.id), "--format", fmt, "--out", str(out),
                                  "--archive", str(home))
    assert status == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}.{fmt}" for n in ("telemetry", "channels", "track", "events", "commands"))
    if fmt == "parquet":
        tele = pd.read_parquet(out / "telemetry.parquet")
        events = pd.read_parquet(out / "events.parquet")
        channels = pd.read_parquet(out / "channels.parquet")
    else:
        tele = pd.read_csv(out / "telemetry.csv", float_precision="round_trip")
        events = pd.read_csv(out / "events.csv", dtype=str, keep_default_na=False)
        channels = pd.read_csv(out / "channels.csv", dtype=str, keep_default_na=False)
    keys = [c.key for c in sim.channels()]
    t_ms, _ = sim.telemetry(keys[0])
    assert np.array_equal(tele["t_ms"].to_numpy(), t_ms)
    for key in keys:
        assert np.array_equal(tele[key].to_numpy(dtype=np.float64), sim.telemetry(key)[1]), key
    assert list(channels["key"]) == keys
    assert list(channels["unit"].fillna("")) == [c.unit for c in sim.channels()]
    assert len(events) == len(sim.state.log)
    log = sim.event_log()
    for i in (0, len(log) // 2, len(log) - 1):  # each detail in a column of its own, no JSON in a cell
        details = flatten({k: v for k, v in log[i].items() if k not in ("t", "kind")})
        assert details and all(events[k].iloc[i] == (v if fmt == "parquet" else str(v)) for k, v in details.items())
    assert not any(str(c).lstrip().startswith(("{", "[")) for c in events.to_numpy().ravel())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_long_form(standoff, tmp_path, capsys, fmt):
    """The long form: a row per value (telemetry), per detail (events), per argument (commands);
    pivoted back it is the wide form, value for value."""
    home, record, sim = standoff
    out = tmp_path / "long"
    status, stdout, err = run_cli(capsys, "export", str(record.id), "--format", fmt, "--form", "long",
                                  "--channels", "atm.*.pp_co2_pa", "--channels", "power.USOS.soc",
                                  "--out", str(out), "--archive", str(home))
    assert status == 0, err
    assert "(%s, long)" % fmt in stdout
    read = (lambda name: pd.read_parquet(out / f"{name}.parquet")) if fmt == "parquet" else \
        (lambda name: pd.read_csv(out / f"{name}.csv", float_precision="round_trip", keep_default_na=False,
                                  dtype={"value": str, "arg": str, "field": str}))
    tele = read("telemetry")
    assert list(tele.columns) == ["t", "t_ms", "key", "value"]
    keys = sorted(set(tele["key"]))
    assert "power.USOS.soc" in keys and all(k == "power.USOS.soc" or k.endswith(".pp_co2_pa") for k in keys)
    wide = tele.pivot(index="t_ms", columns="key", values="value").astype(np.float64)
    for key in keys:
        t_ms, values = sim.telemetry(key)
        assert np.array_equal(wide.index.to_numpy(), t_ms) and np.array_equal(wide[key].to_numpy(), values), key
    events = read("events")
    log = sim.event_log()
    details = [flatten({k: v for k, v in e.items() if k not in ("t", "kind")}) for e in log]
    assert list(events.columns) == ["seq", "t", "t_ms", "kind", "field", "value"]
    assert len(events) == sum(len(d) for d in details)
    mid = len(log) // 2
    rows = events[events["seq"] == mid]
    assert dict(zip(rows["field"], rows["value"])) == {k: (v if fmt == "parquet" else str(v))
                                                       for k, v in details[mid].items()}
    commands = read("commands")
    history = record.commands()
    assert set(commands["seq"]) == set(range(len(history)))
    assert len(commands) == sum(max(1, len(flatten(a))) for a in history["args"])


def test_runs_and_show(standoff, capsys):
    home, record, _ = standoff
    status, out, err = run_cli(capsys, "runs", "--archive", str(home), "--json")
    assert status == 0 and err == ""
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [record.id] and rows[0]["status"] == "complete"
    assert rows[0]["outcome"] == record.outcome == record.summary()["outcome"]["ending"]
    status, out, _ = run_cli(capsys, "runs", "--archive", str(home))
    assert status == 0 and "standoff" in out and "complete" in out
    status, out, _ = run_cli(capsys, "show", "last", "--archive", str(home))
    assert status == 0
    assert f"Run {record.id}" in out and "change_credentials" in out  # a notable line from the standoff


def test_same_scenario_and_seed_give_the_same_log_and_diff_finds_where_runs_part(tmp_path, capsys):
    home = str(tmp_path / "home")
    for args in (["standoff", "--seed", "9"], ["standoff", "--seed", "9"], ["nominal", "--seed", "9"]):
        assert main(["run", *args, "--hours", "10", "--out", home, "--json"]) == 0
    capsys.readouterr()
    arc = Archive.open(home)
    a, b, c = (arc.get(i) for i in (1, 2, 3))
    assert a.event_log_sha256 == b.event_log_sha256
    same = diff_runs(a, b)
    assert same["same_event_log"] and same["first_difference"] is None and same["outcome"] == []
    assert set(same["metadata"]) == set()  # same scenario, seed, version, times, digest

    apart = diff_runs(a, c)
    log_a, log_c = a.event_log(), c.event_log()
    i = apart["first_difference"]["index"]
    assert log_a[:i] == log_c[:i]
    assert i == min(len(log_a), len(log_c)) or log_a[i] != log_c[i]
    assert apart["first_difference"]["a"] == (log_a[i] if i < len(log_a) else None)
    assert {"scenario", "scenario_sha256", "event_log_sha256"} <= set(apart["metadata"])
    ctl_a, ctl_c = a.outcome_details["control"], c.outcome_details["control"]
    differing = {d["what"] for d in apart["outcome"]}
    assert differing == {f"control of {s}" for s in ctl_a if ctl_a[s] != ctl_c[s]} and differing

    status, out, err = run_cli(capsys, "diff", "1", "3", "--archive", home)
    assert status == 0 and err == ""
    assert f"part at event {i + 1}" in out
    status, out, _ = run_cli(capsys, "diff", "1", "2", "--archive", home)
    assert status == 0 and "Same event log" in out


def test_a_failure_while_storing_marks_the_run_failed_and_leaves_no_folder(tmp_path, capsys, monkeypatch):
    from issim.archive import recording

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recording, "write_track", broken)
    home = tmp_path / "home"
    status, _, err = run_cli(capsys, "run", "nominal", "--hours", "1", "--out", str(home))
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"issim: error: {home}: ") and "No space left" in lines[0]
    record = Archive.open(home).get(1)
    assert record.status == "failed" and "No space left" in record.error
    assert not record.path.exists()
    assert [p for p in (home / ".tmp").iterdir()] == []
    monkeypatch.undo()
    assert main(["run", "nominal", "--hours", "1", "--out", str(home), "--json"]) == 0
    assert Archive.open(home).get(2).status == "complete"


def test_no_store_stores_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    assert main(["run", "nominal", "--hours", "1", "--no-store", "--out", str(home)]) == 2
    assert main(["run", "nominal", "--hours", "1", "--no-store", "--json"]) == 0
    capsys.readouterr()
    assert not home.exists()
    assert not (Path(os.environ["ISSIM_HOME"]) / "catalogue.sqlite").exists()


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    home = tmp_path_factory.mktemp("small")
    assert main(["run", "nominal", "--hours", "2", "--out", str(home), "--json"]) == 0
    with Archive.open(home).transaction() as c:  # a run whose process is gone, as a kill leaves it
        c.execute("INSERT INTO runs (scenario, seed, version, sim_start, sim_planned_end, started_at, status, dir, "
                  "host, pid) VALUES ('nominal', 1, '0.1.0', '2025-03-10T00:00:00.000Z', "
                  "'2025-03-11T00:00:00.000Z', '2026-01-01T00:00:00Z', 'running', '000002-nominal', ?, 0)",
                  (__import__("socket").gethostname(),))
    return home


def _error_line(capsys, args, source: str) -> str:
    status = main(args)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert status == 2, (args, err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"issim: error: {source}: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("args, source, says", [
    (["show", "99"], "RUN", "no run 99"),
    (["show", "nonsense"], "RUN", "not a run id"),
    (["report", "7x"], "RUN", "not a run id"),
    (["diff", "nonsense", "1"], "RUN_A", "not a run id"),
    (["diff", "1", "42"], "RUN_B", "no run 42"),
    (["export", "1", "--format", "xls"], "--format", "parquet or csv"),
    (["export", "1", "--form", "tall"], "--form", "wide or long"),
    (["export", "1", "--format", "csv", "--channels", "atm.nowhere.*"], "atm.nowhere.*", "no such channel"),
    (["export", "2"], "run 2", "incomplete"),
    (["report", "2"], "run 2", "incomplete"),
    (["report", "1", "--at", "2024-01-01T00:00:00Z"], "--at", "outside the run"),
    (["report", "1", "--at", "yesterday"], "--at", ""),
    (["runs", "--limit", "-1"], "--limit", "zero"),
])
def test_bad_archive_input_is_one_line(small_archive, capsys, tmp_path, args, source, says):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if args[0] == "export" else []
    line = _error_line(capsys, [*args, *extra, "--archive", str(small_archive)], source)
    assert says in line
    assert not out.exists(), "nothing half-written"


def test_missing_archive(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "nowhere"
    line = _error_line(capsys, ["runs", "--archive", str(empty)], str(empty))
    assert "no run archive here" in line
    assert not empty.exists()
    monkey = tmp_path / "home"
    monkeypatch.setenv("ISSIM_HOME", str(monkey))
    _error_line(capsys, ["show", "1"], str(monkey))
    with pytest.raises(InputError):
        issim.open_run(1)


def test_corrupted_catalogue(tmp_path, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "catalogue.sqlite").write_bytes(b"this is not a database, it only has the name of one" * 50)
    line = _error_line(capsys, ["runs", "--archive", str(home)], str(home / "catalogue.sqlite"))
    assert "not a run catalogue" in line
    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / "catalogue.sqlite") as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    _error_line(capsys, ["runs", "--archive", str(other)], str(other / "catalogue.sqlite"))
    # storing into a corrupted archive refuses before running anything
    _error_line(capsys, ["run", "nominal", "--hours", "1", "--out", str(home)], str(home / "catalogue.sqlite"))
    assert sorted(p.name for p in home.iterdir()) == ["catalogue.sqlite"]


def test_archive_path_that_is_a_file(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    _error_line(capsys, ["run", "nominal", "--hours", "1", "--out", str(afile)], str(afile))
    _error_line(capsys, ["runs", "--archive", str(afile)], str(afile))


def test_export_out_that_is_a_file(small_archive, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    _error_line(capsys, ["export", "1", "--out", str(afile), "--archive", str(small_archive)], str(afile))
    assert afile.read_text() == "x"


def test_dead_running_row_is_reported_incomplete(small_archive, capsys):
    status, out, _ = run_cli(capsys, "runs", "--archive", str(small_archive), "--json")
    assert status == 0
    by_id = {r["id"]: r for r in json.loads(out)}
    assert by_id[2]["status"] == "incomplete" and by_id[1]["status"] == "complete"


def test_interrupted_and_crashed_runs_are_marked(tmp_path):
    spec = load_scenario("nominal")
    end = spec.start_ms + 6 * 3_600_000
    arc = Archive.open(tmp_path / "home", create=True)

    def stop(frames):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with arc.recording(Runner(spec, end_ms=end)) as rec:
            rec.run(progress=stop)
    interrupted = arc.get(rec.run_id)
    assert interrupted.status == "incomplete" and interrupted.error == "interrupted"
    assert interrupted.sim_end == "2025-03-10T01:00:00.000Z"  # the first progress call: a simulated hour in
    assert interrupted.event_log()[0]["action"] == "switch"  # what happened until then was kept

    def crash(frames):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        with arc.recording(Runner(spec, end_ms=end)) as rec:
            rec.run(progress=crash)
    failed = arc.get(rec.run_id)
    assert failed.status == "failed" and "ZeroDivisionError: a bug" in failed.error
    assert not failed.path.exists()
    with pytest.raises(InputError) as exc:
        failed.telemetry()
    assert "is failed" in exc.value.message
