"""Campaigns: dispersed inputs drawn from the run's seed alone, a campaign killed half-way
(a real process, SIGKILL) and run again losing and repeating nothing, replays that give the
stored digest, the same runs on Ray as on local processes, and bad input as one line."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import issim
from issim.cli import main
from issim.errors import InputError
from issim.scenario.dispersions import draw
from issim.scenario.load import parse_scenario

DISPERSED = """
extends = "standoff"

[scenario]
name = "standoff-dispersed"

[[dispersions]]
name = "maya_loyalty"
target = 'agents.people."Maya Torres".loyalty'
normal = { mean = 0.7, sd = 0.2 }

[[dispersions]]
name = "pavel_loyalty"
target = 'agents.people."Pavel Orlov".loyalty'
uniform = [0.5, 1.0]

[[dispersions]]
name = "eva"
target = "decisions.d3_eva"
choice = { go = 3, refuse = 1 }

[[correlations]]
between = ["maya_loyalty", "pavel_loyalty"]
rho = 0.8
"""


@pytest.fixture()
def scenario_file(tmp_path) -> Path:
    p = tmp_path / "dispersed.toml"
    p.write_text(DISPERSED)
    return p


def _spec(text: str = DISPERSED, source: str = "d.toml"):
    return parse_scenario(text.encode(), source)


def test_draws_depend_on_the_seed_and_index_alone_and_stay_in_their_ranges():
    spec = _spec()
    a = [draw(spec, 7, i) for i in range(400)]
    assert a[17] == draw(spec, 7, 17)  # run 17 of any campaign of seed 7
    assert a[17] != draw(spec, 8, 17)
    maya = np.array([d["maya_loyalty"] for d in a])
    pavel = np.array([d["pavel_loyalty"] for d in a])
    assert maya.min() >= 0.0 and maya.max() <= 1.0  # a normal is clipped to the trait's domain
    assert pavel.min() >= 0.5 and pavel.max() <= 1.0
    assert np.corrcoef(maya, pavel)[0, 1] > 0.6
    share_go = sum(d["eva"] == "go" for d in a) / len(a)
    assert 0.65 < share_go < 0.85


def test_a_drawn_run_writes_its_inputs_into_the_scenario():
    spec = _spec()
    inputs = draw(spec, 0, 3)
    run = parse_scenario(DISPERSED.encode(), "d.toml", inputs)
    assert run.agents.people["Maya Torres"].loyalty == inputs["maya_loyalty"]
    assert run.decisions["d3_eva"] == inputs["eva"]
    timed = DISPERSED + '\n[[dispersions]]\nname = "war"\ntarget = "agents.war_at"\nuniform = [20, 22]\n'
    spec = _spec(timed)
    at = draw(spec, 0, 1)["war"]
    assert parse_scenario(timed.encode(), "d.toml", {"war": at}).agents.war_at == f"+{round(at * 3_600_000) / 1000:.3f}s"


@pytest.mark.parametrize("change, field, problem", [
    ('uniform = [0.5, 1.0]', "dispersions[1].uniform", "outside what"),  # replaced below by a range past 1
    ('choice = { go = 3, fly = 1 }', "dispersions[2].choice", "not a choice of d3_eva"),
    ('normal = { mean = 0.7 }', "dispersions[0].normal", "give mean and sd"),
    ('rho = 0.8', "correlations[0].between", "no dispersion named"),
    ("target = 'agents.people.\"Nobody\".loyalty'", "dispersions[0].target", "no crew member"),
])
def test_a_dispersion_outside_its_domain_is_one_line(change, field, problem):
    text = DISPERSED
    if change.startswith("uniform"):
        text = text.replace(change, "uniform = [0.5, 1.5]")
    elif change.startswith("choice"):
        text = text.replace("choice = { go = 3, refuse = 1 }", change)
    elif change.startswith("normal"):
        text = text.replace("normal = { mean = 0.7, sd = 0.2 }", change)
    elif change.startswith("rho"):
        text = text.replace('between = ["maya_loyalty", "pavel_loyalty"]', 'between = ["maya_loyalty", "nobody"]')
    else:
        text = text.replace("target = 'agents.people.\"Maya Torres\".loyalty'", change)
    with pytest.raises(InputError) as err:
        _spec(text)
    assert err.value.source == f"d.toml:{field}"
    assert problem in err.value.message


def test_correlations_that_make_no_matrix_are_refused():
    text = DISPERSED.replace('uniform = [0.5, 1.0]', 'uniform = [0.5, 1.0]\n') + """
[[dispersions]]
name = "third"
target = 'agents.people."Maya Torres".caution'
uniform = [0.1, 0.9]

[[correlations]]
between = ["maya_loyalty", "third"]
rho = 0.9

[[correlations]]
between = ["pavel_loyalty", "third"]
rho = -0.9
"""
    with pytest.raises(InputError) as err:
        _spec(text)
    assert "positive definite" in err.value.message


def _campaign_rows(home: Path, name: str) -> dict:
    db = home / "catalogue.sqlite"
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return {i: (d, f) for i, d, f in c.execute(
                "SELECT idx, digest, finished_at FROM campaign_runs WHERE campaign = ?", (name,))}
    except sqlite3.Error:
        return {}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_half_way_then_the_same_command_loses_and_repeats_nothing(tmp_path, scenario_file):
    home = tmp_path / "home"
    runs = 40
    cmd = [sys.executable, "-m", "issim.cli", "campaign", str(scenario_file), "--runs", str(runs), "--hours", "6",
           "--workers", "2", "--chunk", "4", "--name", "kill"]
    env = {**os.environ, "ISSIM_HOME": str(home)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(_campaign_rows(home, "kill")) < 10:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the campaign never got going"
            time.sleep(0.02)
        assert proc.poll() is None, "the campaign finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the campaign and its worker processes
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = _campaign_rows(home, "kill")
    assert 10 <= len(before) < runs

    again = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{len(before)} of the {runs} runs of campaign kill are done; running the other {runs - len(before)}" \
        in " ".join(again.stderr.split())
    after = _campaign_rows(home, "kill")
    assert sorted(after) == list(range(runs))
    assert {i: after[i] for i in before} == before  # the runs done before the kill were not done again
    sums = json.loads(again.stdout)
    assert sums["total"] == runs

    c = issim.open_campaign("kill", home)
    assert sorted(c.outcomes["run"]) == list(range(runs))  # each run once in the Parquet chunks
    assert c.query("SELECT count(*) AS n, count(DISTINCT run) AS runs FROM outcomes").iloc[0].tolist() == [runs, runs]
    assert dict(zip(c.outcomes["run"], c.outcomes["digest"])) == {i: d for i, (d, _) in after.items()}
    assert set(c.outcomes["eva"]) <= {"go", "refuse"} and c.outcomes["maya_loyalty"].between(0, 1).all()


def test_a_chunk_no_run_names_is_removed_and_its_runs_written_again(tmp_path, scenario_file, capsys):
    home = tmp_path / "home"
    args = ["campaign", str(scenario_file), "--runs", "3", "--hours", "2", "--workers", "1", "--name", "c",
            "--archive", str(home), "--json"]
    assert main(args) == 0
    capsys.readouterr()
    stray = home / "campaigns" / "c" / "outcomes" / "part-000099.parquet"
    stray.write_bytes(b"half a chunk")  # a process died between writing a chunk and naming it
    assert main(args) == 0
    capsys.readouterr()
    assert not stray.exists()
    c = issim.open_campaign("c", home)
    assert sorted(c.outcomes["run"]) == [0, 1, 2]
    sums = c.summary()
    assert sums["total"] == 3 and len(sums["survival"]) == 7

    # a replay of a stored run gives its event log's digest
    assert main(["campaign", "replay", "c", "1", "--archive", str(home), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["same"] and got["stored"] == c.outcomes.set_index("run").loc[1, "digest"]

    # the report: one HTML file, plotly inlined, nothing from the network
    assert main(["campaign", "report", "c", "--archive", str(home), "--out", str(tmp_path / "c.html")]) == 0
    page = (tmp_path / "c.html").read_text()
    assert "Campaign c" in page and "Plotly.newPlot" in page and "<script src" not in page


def test_bad_input_is_one_line_and_harms_nothing(tmp_path, scenario_file, capsys):
    home = tmp_path / "home"
    assert main(["campaign", str(scenario_file), "--runs", "2", "--hours", "2", "--workers", "1", "--name", "c",
                 "--archive", str(home), "--json"]) == 0
    capsys.readouterr()
    files = {p: p.read_bytes() for p in (home / "campaigns").rglob("*") if p.is_file() and p.name != ".lock"}
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text(DISPERSED.replace("uniform = [0.5, 1.0]", "uniform = [-0.5, 1.0]"))
    cases = [
        (["campaign", str(bad_file), "--runs", "2", "--name", "c"], "bad.toml:dispersions[1].uniform"),
        (["campaign", str(scenario_file), "--runs", "2", "--hours", "3", "--name", "c"], "--name"),
        (["campaign", str(scenario_file), "--runs", "2", "--engine", "ray", "--address", "127.0.0.1:1"], "--address"),
        (["campaign", str(scenario_file), "--runs", "2", "--engine", "spark"], "--engine"),
        (["campaign", "show", "nope"], "NAME"),
        (["campaign", "query", "nope", "SELECT 1"], "NAME"),
        (["campaign", "query", "c", "SELECT * FROM nowhere"], "SQL"),
        (["campaign", "replay", "c", "9"], "RUN"),
    ]
    for args, source in cases:
        assert main(args + ["--archive", str(home)]) == 2, args
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("issim: error: ") and source in lines[0], (args, captured.err)
    assert {p: p.read_bytes() for p in (home / "campaigns").rglob("*") if p.is_file() and p.name != ".lock"} == files
    c = issim.open_campaign("c", home)
    assert c.info["runs"] == 2 and len(c.outcomes) == 2


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}} if os.environ.get("PYTHONPATH") else None)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_the_same_runs_as_local_processes(ray_local, scenario_file):
    from issim.campaign.runs import plan, scenario_bytes, stream

    raw, source = scenario_bytes(str(scenario_file))
    spec = parse_scenario(raw, source)
    tasks = plan(spec, raw, source, range(4), 5, 2 * 3_600_000, True)

    def key(rec):
        return rec["index"], rec["seed"], rec["digest"], rec["class"], json.dumps(rec["inputs"], sort_keys=True)

    local = sorted(key(r) for r in stream(tasks, "local", 2))
    on_ray = sorted(key(r) for r in stream(tasks, "ray", 2))
    assert local == on_ray
    assert len(local) == 4 and len({k[4] for k in local}) == 4  # four runs, each with its own inputs


def test_a_campaign_run_stored_from_its_replay_can_be_branched(tmp_path, scenario_file, capsys):
    """``campaign replay --store`` puts one campaign run in the run archive with its drawn inputs;
    a branch of it replays those inputs (unchanged, it is the campaign's run to the digest)."""
    from issim.archive import Archive
    from issim.runner import branch

    home = tmp_path / "home"
    assert main(["campaign", str(scenario_file), "--runs", "2", "--hours", "2", "--workers", "1", "--name", "c",
                 "--archive", str(home), "--json"]) == 0
    capsys.readouterr()
    outcomes = issim.open_campaign("c", home).outcomes.set_index("run")
    assert main(["campaign", "replay", "c", "1", "--store", "--archive", str(home), "--json"]) == 0
    captured = capsys.readouterr()
    got = json.loads(captured.out)
    assert got["same"] and f"Stored as run {got['run_id']}" in " ".join(captured.err.split())
    record = Archive.open(home).get(got["run_id"])
    assert record.status == "complete" and record.event_log_sha256 == outcomes.loc[1, "digest"]
    assert record.inputs() == got["inputs"] and set(got["inputs"]) == {"maya_loyalty", "pavel_loyalty", "eva"}
    spec = record.scenario_spec()[0]
    assert spec.agents.people["Maya Torres"].loyalty == pytest.approx(got["inputs"]["maya_loyalty"])
    child = branch(record, "+1h")
    assert child.parent_id == record.id and child.event_log_sha256 == outcomes.loc[1, "digest"]
    assert child.inputs() == got["inputs"]  # a branch keeps them for its own branches
    (record.path / "inputs.json").unlink()  # without them the stored scenario is the file's own
    assert record.scenario_spec()[0].agents.people["Maya Torres"].loyalty != spec.agents.people["Maya Torres"].loyalty
