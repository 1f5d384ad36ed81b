"""Issue 12, inputs: every class of bad input the tester found is refused in one plain line.

Each goes through the command line where a user would meet it: exit status 2, one stderr
line ``issim: error: SOURCE...``, nothing on stdout, no traceback, nothing stored.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from issim.cli import main
from issim.scenario import build_simulation
from issim.sim import Event

BASE = 'extends = "nominal"\n[scenario]\nname = "x"\ntitle = "t"\n'


def _refused(argv, source, capsys, *words):
    status = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2, captured.err
    assert captured.out == ""
    assert len(lines) == 1 and lines[0].startswith(f"issim: error: {source}"), lines
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _run_file(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "runs"
    return path, ["run", str(path), "--json", "--out", str(out)], out


@pytest.mark.parametrize("nested", ["a = " + "[" * 3000 + "]" * 3000, "a = " + "[" * 40 + "]" * 40,
                                    "x = 1\n" + "a." * 40 + "b = 1"])
def test_deep_nesting_is_refused(nested, tmp_path, capsys):
    path, argv, out = _run_file(tmp_path, nested)
    _refused(argv, str(path), capsys, "nested more than 32")
    assert not out.exists()


def test_file_size_limit(tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + "# " + "x" * 1_100_000 + "\n")
    _refused(argv, str(path), capsys, "larger than 1,000,000 bytes")


@pytest.mark.parametrize("argv", [["run", "nominal", "--seed", str(2**64)], ["run", "nominal", "--seed", str(2**63)],
                                  ["endings", "nominal", "--first-seed", str(2**63 - 1), "--seeds", "2"]])
def test_seed_past_63_bits(argv, capsys):
    _refused(argv, "--", capsys, "2**63")


def test_seed_in_a_file_past_63_bits(tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + f"seed = {2**64}\n")
    _refused(argv, f"{path}:scenario.seed", capsys)


@pytest.mark.parametrize("command", ["show", "report", "export", "branch"])
def test_run_id_past_64_bits(command, tmp_path, capsys):
    extra = ["--at", "+1h"] if command == "branch" else []
    _refused([command, str(2**64), "--archive", str(tmp_path), *extra], "RUN", capsys, "2**63")


def test_credentials_name_a_faction_someone_holds(tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + '[station]\ncredentials = { USOS = ["USA"] }\n')
    _refused(argv, f"{path}:station.credentials.USOS[0]", capsys, "'USA'", "usa")


def test_duration_shorter_than_a_frame(tmp_path, capsys):
    _refused(["run", "nominal", "--hours", "0.0001", "--no-store"], "--hours", capsys, "one frame")
    path, argv, _ = _run_file(tmp_path, BASE + "days = 0.00001\n")
    _refused(argv, f"{path}:scenario.days", capsys, "one frame")


def test_record_every_must_be_a_multiple_of_the_frame(tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + "record_every_s = 15\n")
    _refused(argv, f"{path}:scenario.record_every_s", capsys, "multiple of frame_s")


@pytest.mark.parametrize("at", ["+100000000000000000000d", "+" + "9" * 400 + "s", "2999-01-01T00:00:00Z"])
def test_event_offset_beyond_the_longest_run(at, tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + f'[[events]]\nat = "{at}"\naction = "power_off"\ntarget = "ROS"\n')
    _refused(argv, f"{path}:events[", capsys, "3660 days")


@pytest.mark.parametrize("event, wrong, accepted", [
    ('action = "burn"\ntarget = "zvezda"\nargs = { dv_m_s = 0.5, duration_s = 30 }', "duration_s", "dv_m_s"),
    ('action = "hole"\ntarget = "zvezda"\nargs = { area_m2 = 1e-6, rate_kg_day = 1 }', "rate_kg_day", "area_m2"),
    ('action = "patch"\ntarget = "zvezda"\nargs = { area_m2 = 1 }', "area_m2", "no args"),
])
def test_unknown_event_args_refused_with_the_accepted(event, wrong, accepted, tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE + f'[[events]]\nat = "+1h"\n{event}\n')
    _refused(argv, f"{path}:events[", capsys, wrong, accepted)


@pytest.mark.parametrize("value", ["nan", "inf", "true"])
def test_numbers_are_finite_and_not_booleans(value, tmp_path, capsys):
    for field in ("days", "frame_s"):
        path, argv, _ = _run_file(tmp_path, BASE + f"{field} = {value}\n")
        _refused(argv, f"{path}:scenario.{field}", capsys)
    path, argv, _ = _run_file(tmp_path, BASE + f'[[events]]\nat = "+1h"\naction = "hole"\ntarget = "zvezda"\n'
                                              f'args = {{ area_m2 = {value} }}\n')
    _refused(argv, f"{path}:events[", capsys, "area_m2")


def test_nan_event_from_python_is_refused_and_logged():
    sim = build_simulation("nominal")
    t = sim.t_ms
    reason = sim.schedule(Event(t, "hole", "zvezda", (("area_m2", math.nan),)))
    assert reason and "finite" in reason
    # Past schedule(), straight into the queue: malformed args, NaN, an unknown argument.
    for bad in ((("area_m2",),), {"area_m2": 1.0}, (("area_m2", math.inf),), (("area_m2", 1.0), ("rate_kg_day", 2))):
        sim.queue.push(Event(t, "hole", "zvezda", bad))
    sim.step()  # does not raise
    assert np.isfinite(sim.state["atm.pressure_pa"]).all()
    refused = [e for e in sim.event_log() if e.get("action") == "hole"]
    assert len(refused) == 5 and all(e["result"] == "refused" and e["reason"] for e in refused)


def test_crew_limit(tmp_path, capsys):
    crew = "".join(f'[[crew]]\nname = "P{i}"\nagency = "nasa"\nmodule = "destiny"\n' for i in range(51))
    path, argv, _ = _run_file(tmp_path, BASE + crew)
    _refused(argv, f"{path}:crew", capsys, "at most 50")


@pytest.mark.parametrize("field, value", [("extends", "/etc/passwd"), ("extends", "../outside.toml"),
                                          ("elements", "/etc/passwd"), ("elements", "../outside.tle")])
def test_paths_stay_in_the_scenario_folder(field, value, tmp_path, capsys):
    (tmp_path / "outside.toml").write_text("SECRET first line\n")
    (tmp_path / "outside.tle").write_text("SECRET first line\n")
    folder = tmp_path / "mine"
    folder.mkdir()
    if field == "extends":
        text = f'extends = "{value}"\n[scenario]\nname = "x"\ntitle = "t"\n'
    else:
        text = BASE + f'elements = "{value}"\n'
    path, argv, _ = _run_file(folder, text)
    line = _refused(argv, f"{path}:", capsys, "outside the scenario's folder")
    assert "SECRET" not in line and "root:" not in line


def test_a_file_beside_the_scenario_is_not_echoed(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("SECRET first line\n")
    path, argv, _ = _run_file(tmp_path, BASE + 'elements = "notes.txt"\n')
    line = _refused(argv, f"{path}:scenario.elements", capsys)
    assert "SECRET" not in line


def test_bundled_scenarios_still_extend_and_use_bundled_data(tmp_path, capsys):
    path, argv, _ = _run_file(tmp_path, BASE)
    assert main([*argv[:2], "--hours", "0.1", "--no-store", "--json"]) == 0


@pytest.mark.parametrize("name", ["a:x:b.toml", "[bold red]x[/].toml", "a:smile:[i]b[/i].toml"])
def test_error_lines_are_plain_text(name, capsys):
    line = _refused(["run", name], name, capsys)
    assert line == f"issim: error: {name}: no such file"


def test_deeply_nested_json_elements_no_traceback(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _refused(["track", "--elements", str(path), "--at", "2025-03-10T00:00:00Z"], "input", capsys, "nested too deeply")
    scenario = tmp_path / "s.toml"
    scenario.write_text(BASE + 'elements = "deep.json"\n')
    _refused(["run", str(scenario), "--no-store"], f"{scenario}:scenario.elements", capsys, "nested too deeply")
