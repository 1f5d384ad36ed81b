"""The archive's recovery: check, repair, read-only archives, SIGTERM, run ids checked (issue 12)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from issim.archive import Archive
from issim.cli import main
from test_archive_kill import _running_row  # the same question the SIGKILL test asks

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _cli(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _one_line(capsys, args, source):
    status, _, err = _cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"issim: error: {source}: "), err
    return lines[0]


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three stored runs; each test works on its own copy."""
    home = tmp_path_factory.mktemp("three") / "runs"
    for seed, scenario in ((1, "nominal"), (2, "standoff"), (3, "nominal")):
        assert main(["run", scenario, "--hours", "3", "--seed", str(seed), "--out", str(home), "--json"]) == 0
    return home


@pytest.fixture
def home(three, tmp_path, capsys):
    capsys.readouterr()
    copy = tmp_path / "runs"
    shutil.copytree(three, copy)
    return copy


def _listing(capsys, home):
    status, out, err = _cli(capsys, "runs", "--archive", str(home), "--json", "--limit", "0")
    assert status == 0, err
    return {r["id"]: r for r in json.loads(out)}


def test_folder_keeps_the_catalogue_record(home):
    arc = Archive.open(home)
    for rid in (1, 2, 3):
        r = arc.get(rid)
        data = (r.path / "events.jsonl").read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.event_log_sha256
        assert [json.loads(line) for line in data.decode().splitlines()] == r.event_log()
        record = json.loads((r.path / "run.json").read_text())
        assert record["id"] == rid and record["status"] == "complete" and record["finished_at"] == r.finished_at
        assert len((r.path / "commands.jsonl").read_text().splitlines()) == len(r.commands())


def test_check_clean_archive(home, capsys):
    status, out, _ = _cli(capsys, "archive", "check", "--archive", str(home))
    assert status == 0 and "no problems" in out


def test_repair_after_the_catalogue_is_deleted(home, capsys):
    before = _listing(capsys, home)
    events = {i: Archive.open(home).get(i).event_log_entries() for i in before}
    for p in home.glob("catalogue.sqlite*"):
        p.unlink()
    status, out, _ = _cli(capsys, "archive", "check", "--archive", str(home))
    assert status == 1 and "missing" in out
    # no fresh catalogue over the folders: that would reuse their ids
    line = _one_line(capsys, ["run", "nominal", "--hours", "1", "--out", str(home)], str(home))
    assert "issim archive repair" in line
    status, out, err = _cli(capsys, "archive", "repair", "--archive", str(home))
    assert status == 0, err
    after = _listing(capsys, home)
    assert after == before  # every run again, with its original id and its whole record
    arc = Archive.open(home)
    assert {i: arc.get(i).event_log_entries() for i in after} == events
    assert _cli(capsys, "archive", "check", "--archive", str(home))[0] == 0
    assert main(["run", "nominal", "--hours", "1", "--out", str(home), "--json"]) == 0
    capsys.readouterr()
    assert Archive.open(home).get("last").id == 4


def test_repair_never_reuses_an_id(home, capsys):
    """The highest folder was deleted with the catalogue: the next id is still above it."""
    for p in home.glob("catalogue.sqlite*"):
        p.unlink()
    shutil.rmtree(home / "000002-standoff")
    (home / "000003-nominal").rename(home / "000007-nominal")
    assert _cli(capsys, "archive", "repair", "--archive", str(home))[0] == 0
    assert sorted(_listing(capsys, home)) == [1, 7]
    assert main(["run", "nominal", "--hours", "1", "--out", str(home), "--json"]) == 0
    capsys.readouterr()
    assert Archive.open(home).get("last").id == 8


def test_repair_of_a_folder_without_run_json(home, capsys):
    """Folders stored before issim kept run.json and events.jsonl: rebuilt from summary.json, the loss said."""
    for name in ("run.json", "events.jsonl", "commands.jsonl"):
        (home / "000002-standoff" / name).unlink()
    for p in home.glob("catalogue.sqlite*"):
        p.unlink()
    assert _cli(capsys, "archive", "repair", "--archive", str(home))[0] == 0
    r = _listing(capsys, home)[2]
    assert r["scenario"] == "standoff" and r["seed"] == 2 and r["status"] == "complete"
    assert "event log could not be recovered" in r["error"]
    assert r["title"] and r["event_log_sha256"]


def _damage(path: Path) -> None:
    db = sqlite3.connect(path)  # everything into the main file first: a page in the log would mask the damage
    assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    db.close()
    data = bytearray(path.read_bytes())
    data[2 * 4096: 2 * 4096 + 200] = b"\xff" * 200  # page 3: a b-tree page of the catalogue
    path.write_bytes(data)


def test_damaged_catalogue(home, capsys):
    before = _listing(capsys, home)
    _damage(home / "catalogue.sqlite")
    original = (home / "catalogue.sqlite").read_bytes()
    line = _one_line(capsys, ["run", "nominal", "--hours", "1", "--out", str(home)], str(home / "catalogue.sqlite"))
    assert "damaged" in line and "issim archive repair" in line
    status, _, err = _cli(capsys, "runs", "--archive", str(home))
    assert "damaged" in err and "issim archive repair" in err  # a reader notices too
    status, out, _ = _cli(capsys, "archive", "check", "--archive", str(home))
    assert status == 1 and "damaged" in out
    status, out, err = _cli(capsys, "archive", "repair", "--archive", str(home))
    assert status == 0, err
    aside = list(home.glob("catalogue.sqlite.damaged-*[0-9Z]"))
    assert len(aside) == 1 and aside[0].read_bytes() == original  # kept as it was, never deleted
    assert _listing(capsys, home) == before
    assert _cli(capsys, "archive", "check", "--archive", str(home))[0] == 0


def test_check_finds_rows_and_folders_that_disagree(home, capsys):
    shutil.rmtree(home / "000001-nominal")
    shutil.copytree(home / "000003-nominal", home / "000009-nominal")
    with Archive.open(home).transaction() as c:  # a run whose process is gone
        c.execute("INSERT INTO runs (scenario, seed, version, sim_start, sim_planned_end, started_at, status, dir, "
                  "host, pid) VALUES ('nominal', 1, '0', 'x', 'x', 'x', 'running', '000004-nominal', ?, 0)",
                  (__import__("socket").gethostname(),))
    status, out, _ = _cli(capsys, "archive", "check", "--archive", str(home))
    assert status == 1
    lines = out.strip().splitlines()
    assert any(line.startswith("run 1:") and "missing" in line for line in lines)
    assert any("000009-nominal" in line and "no row" in line for line in lines)
    assert any(line.startswith("run 4:") and "process" in line for line in lines)
    assert any("numbered" in line for line in lines)
    status, out, _ = _cli(capsys, "archive", "repair", "--archive", str(home))
    assert status == 0 and "run 9" in out and "run 4: marked incomplete" in out
    rows = _listing(capsys, home)
    assert rows[9]["path"].endswith("000009-nominal") and rows[4]["status"] == "incomplete"
    assert main(["run", "nominal", "--hours", "1", "--out", str(home), "--json"]) == 0
    capsys.readouterr()
    assert Archive.open(home).get("last").id == 10


def test_archive_commands_bad_input(tmp_path, capsys):
    _one_line(capsys, ["archive", "check", "--archive", str(tmp_path / "nowhere")], str(tmp_path / "nowhere"))
    _one_line(capsys, ["archive", "repair", "--archive", str(tmp_path / "nowhere")], str(tmp_path / "nowhere"))
    (tmp_path / "afile").write_text("x")
    _one_line(capsys, ["archive", "check", "--archive", str(tmp_path / "afile")], str(tmp_path / "afile"))


# --------------------------------------------------------------------------- run ids


@pytest.mark.parametrize("given, ok", [
    ("2", True), ("000002-standoff", True), ("2-standoff", True),
    ("000002-nominal", False), ("1-whatever", False), ("000002-standoff/x", False),
])
def test_folder_name_is_checked_against_the_run(home, capsys, given, ok):
    if ok:
        status, out, err = _cli(capsys, "show", given, "--archive", str(home), "--json")
        assert status == 0 and json.loads(out)["id"] == 2, err
    else:
        line = _one_line(capsys, ["show", given, "--archive", str(home)], "RUN")
        assert "run" in line


@pytest.mark.parametrize("given", [str(2**64), str(2**63), "99999999999999999999999-nominal", "1" * 400])
def test_ids_past_64_bits(home, capsys, given):
    line = _one_line(capsys, ["show", given, "--archive", str(home)], "RUN")
    assert "run ids stop at" in line and len(line) < 200


# --------------------------------------------------------------------------- read-only


def test_read_only_archive(home, capsys, monkeypatch, tmp_path):
    import issim.archive.catalogue as catalogue
    import issim.archive.repair as repair

    monkeypatch.setattr(catalogue, "writable", lambda root: False)
    monkeypatch.setattr(repair, "writable", lambda root: False)
    monkeypatch.chdir(tmp_path)
    before = (home / "catalogue.sqlite").read_bytes()
    assert set(_listing(capsys, home)) == {1, 2, 3}
    assert _cli(capsys, "show", "2", "--archive", str(home))[0] == 0
    assert _cli(capsys, "diff", "1", "3", "--archive", str(home))[0] == 0
    assert _cli(capsys, "export", "1", "--archive", str(home), "--out", str(tmp_path / "x"))[0] == 0
    status, out, err = _cli(capsys, "report", "1", "--archive", str(home))
    assert status == 0, err
    assert (tmp_path / "report-1.html").exists() and not (home / "000001-nominal" / "report.html").exists()
    line = _one_line(capsys, ["run", "nominal", "--hours", "1", "--out", str(home)], str(home))
    assert "read-only" in line
    line = _one_line(capsys, ["archive", "repair", "--archive", str(home)], str(home))
    assert "read-only" in line
    assert Archive.open(home).readonly
    assert (home / "catalogue.sqlite").read_bytes() == before


def test_read_only_old_schema_is_read_as_it_is(home, capsys, monkeypatch):
    """A version-1 catalogue (before lineage) on a read-only archive: listed, not migrated, and said so."""
    with sqlite3.connect(home / "catalogue.sqlite") as db:
        for column in ("parent_id", "fork_at", "changes"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        db.execute("PRAGMA user_version = 1")
    import issim.archive.catalogue as catalogue

    monkeypatch.setattr(catalogue, "writable", lambda root: False)
    status, out, err = _cli(capsys, "runs", "--archive", str(home), "--json")
    assert status == 0 and len(json.loads(out)) == 3
    assert "schema version 1" in err and err.count("\n") == 1
    with sqlite3.connect(home / "catalogue.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_read_only_for_real(three):
    """Another user, for whom the folder and files are read-only (no -wal or -shm can be made)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and not setpriv:
        pytest.skip("root, and no setpriv to become another user")
    where = Path(tempfile.mkdtemp(prefix="issim-ro-", dir="/tmp"))
    try:
        shutil.copytree(three, where / "runs")
        for p in [where, *where.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        env = {**os.environ, "PYTHONPATH": SRC, "HOME": str(where)}
        # The other user must be able to reach this Python and this checkout (not so when it sits
        # in a private folder, e.g. one made by mktemp -d): else there is nothing to test here.
        probe = subprocess.run([*prefix, sys.executable, "-c", "import issim.cli"], env=env, capture_output=True,
                               cwd="/", timeout=120)
        if probe.returncode != 0:
            pytest.skip("the other user cannot run this Python on this checkout (a private folder above it?)")
        proc = subprocess.run([*prefix, sys.executable, "-m", "issim.cli", "runs", "--json", "--archive",
                               str(where / "runs")], env=env, capture_output=True, cwd="/", timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        assert sorted(r["id"] for r in json.loads(proc.stdout)) == [1, 2, 3]
        assert sorted(p.name for p in (where / "runs").iterdir()) == sorted(p.name for p in three.iterdir())
    finally:
        for p in [where, *where.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(where, ignore_errors=True)


# --------------------------------------------------------------------------- SIGTERM


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_sigterm_ends_a_run_like_ctrl_c(tmp_path, capsys):
    home = tmp_path / "home"
    env = {**os.environ, "ISSIM_HOME": str(home), "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "issim.cli", "run", "nominal", "--days", "365", "--json"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _running_row(home / "catalogue.sqlite"):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        time.sleep(3.0)
        assert proc.poll() is None, "the run finished before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()  # as Ctrl-C ends it
    assert "Traceback" not in err.decode()
    with sqlite3.connect(home / "catalogue.sqlite") as db:  # marked by the run itself, not by a reader
        status, error, sim_end = db.execute("SELECT status, error, sim_end FROM runs WHERE id = 1").fetchone()
    assert status == "incomplete" and error == "interrupted (SIGTERM)" and sim_end > "2025-03-10T00:00"
    record = Archive.open(home).get(1)
    assert record.event_log(), "what happened until then was kept"
    assert not (home / "000001-nominal").exists()
