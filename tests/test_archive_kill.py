"""A run killed half-way (a real process, SIGKILL) leaves the archive readable and the others intact."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from issim.archive import Archive
from issim.archive.chunks import SpilledChunk
from issim.cli import main
from issim.sim.telemetry import Recorder


def _running_row(catalogue) -> bool:
    if not catalogue.exists():
        return False
    try:
        with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0] > 0
    except sqlite3.Error:
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_half_way(tmp_path, capsys):
    home = tmp_path / "home"
    for seed in (1, 2):
        assert main(["run", "standoff", "--hours", "11", "--seed", str(seed), "--out", str(home), "--json"]) == 0
    capsys.readouterr()
    arc = Archive.open(home)
    before = {i: arc.get(i) for i in (1, 2)}
    before_telemetry = {i: r.telemetry() for i, r in before.items()}
    before_events = {i: r.event_log_entries() for i, r in before.items()}
    before_files = {i: sorted(p.name for p in r.path.iterdir()) for i, r in before.items()}
    arc.close()

    env = {**os.environ, "ISSIM_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "issim.cli", "run", "nominal", "--days", "365", "--json"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _running_row(home / "catalogue.sqlite"):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        time.sleep(3.5)  # well into the run (a simulated year takes over 20 s), past a checkpoint of the log
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(home / "catalogue.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for path in (home / ".tmp").glob("*/chunks/*.npy.zst"):  # the telemetry spilled so far: whole chunks only
        t_ms, rows = SpilledChunk(path).load()
        assert len(t_ms) == len(rows) == Recorder.CHUNK_ROWS and np.all(np.diff(t_ms) == 60_000)

    status = main(["runs", "--archive", str(home), "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    rows = {r["id"]: r for r in json.loads(out)}
    assert sorted(rows) == [1, 2, 3]
    killed = rows[3]
    assert killed["status"] == "incomplete" and killed["scenario"] == "nominal"
    assert "stopped before the run was stored" in killed["error"]
    assert not (home / "000003-nominal").exists()
    assert not (home / ".tmp").exists() or list((home / ".tmp").iterdir()) == []

    arc = Archive.open(home)
    for i, r in before.items():  # the other runs are exactly as they were
        now = arc.get(i)
        assert now.status == "complete" and now.outcome == r.outcome
        assert now.event_log_sha256 == r.event_log_sha256
        assert now.event_log_entries() == before_events[i]
        assert sorted(p.name for p in now.path.iterdir()) == before_files[i]
        df = now.telemetry()
        assert df.columns.equals(before_telemetry[i].columns)
        assert np.array_equal(df.to_numpy(), before_telemetry[i].to_numpy())
    saved = arc.get(3).event_log()
    assert saved, "the log up to the kill was kept"
    assert saved[0]["kind"] == "event" and saved[0]["t"] == "2025-03-10T00:00:00.000Z"

    assert main(["show", "3", "--archive", str(home)]) == 0
    assert "incomplete" in capsys.readouterr().out
    assert main(["export", "3", "--archive", str(home), "--out", str(tmp_path / "x")]) == 2
    assert "incomplete" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

    # and the archive takes new runs: the next id, not the dead one's
    assert main(["run", "nominal", "--hours", "1", "--out", str(home), "--json"]) == 0
    capsys.readouterr()
    assert Archive.open(home).get("last").id == 4


def test_two_runs_stored_at_once(tmp_path):
    """Two processes storing into one archive at the same time: both complete, each its own id."""
    home = tmp_path / "home"
    env = {**os.environ, "ISSIM_HOME": str(home)}
    assert main(["runs", "--archive", str(home)]) == 2  # no archive yet: both processes will race to make it
    procs = [subprocess.Popen([sys.executable, "-m", "issim.cli", "run", scenario, "--hours", "8", "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for scenario in ("nominal", "standoff")]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.decode() for _, e in outputs]
    arc = Archive.open(home)
    records = [arc.get(i) for i in (1, 2)]
    assert sorted(r.scenario for r in records) == ["nominal", "standoff"]
    assert all(r.status == "complete" for r in records)
    for (out, _), scenario in zip(outputs, ("nominal", "standoff")):
        summary = json.loads(out)
        record = next(r for r in records if r.scenario == scenario)
        assert record.event_log_sha256 == summary["event_log_sha256"]
        assert len(record.telemetry()) == len(record.track())
