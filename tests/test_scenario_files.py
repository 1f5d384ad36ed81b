"""Scenario files: bundled ones load, and every malformed one is refused in one line.

Each bad file goes through the real command line (``issim run FILE``) and must end with
exit status 2, one line on stderr that names the file and the field, no traceback, and
nothing on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from issim.cli import main
from issim.scenario import bundled_names, load_scenario

GOOD = """
[scenario]
name = "tiny"
title = "Two people, an hour"
start = 2025-03-10T00:00:00Z
days = 0.05

[[crew]]
name = "A"
agency = "nasa"
module = "destiny"

[[crew]]
name = "B"
agency = "roscosmos"
module = "zvezda"

[[events]]
at = "+10m"
action = "close_hatch"
target = "zarya-pma-1"
"""


def _bad(text_from_good):
    old, new = text_from_good
    assert old in GOOD
    return GOOD.replace(old, new)


CASES = {
    "toml-syntax": (GOOD + "\n[scenario\n", "invalid TOML"),
    "unknown-module": (_bad(('module = "zvezda"', 'module = "zvezdaa"')), "crew[1].module"),
    "crew-in-missing-module": (_bad(('module = "destiny"', 'module = "skylab"')), "crew[0].module"),
    "negative-days": (_bad(("days = 0.05", "days = -1")), "scenario.days"),
    "zero-frame": (_bad(("days = 0.05", "days = 0.05\nframe_s = 0")), "scenario.frame_s"),
    "negative-offset": (_bad(('at = "+10m"', 'at = "-10m"')), "events[0].at"),
    "bad-offset": (_bad(('at = "+10m"', 'at = "+10x"')), "events[0].at"),
    "before-start": (_bad(('at = "+10m"', 'at = "2025-03-09T00:00:00Z"')), "events[0].at"),
    "duplicate-names": (_bad(('name = "B"', 'name = "A"')), "crew[1].name"),
    "unknown-action": (_bad(('action = "close_hatch"', 'action = "explode"')), "events[0].action"),
    "unknown-hatch": (_bad(('target = "zarya-pma-1"', 'target = "zarya-mars"')), "events[0]"),
    "unknown-field": (_bad(("days = 0.05", "days = 0.05\ndayz = 2")), "scenario.dayz"),
    "missing-start": (_bad(("start = 2025-03-10T00:00:00Z\n", "")), "scenario.start"),
    "no-zone": (_bad(("start = 2025-03-10T00:00:00Z", "start = 2025-03-10T00:00:00")), "scenario.start"),
    "unknown-agency": (_bad(('agency = "nasa"', 'agency = "nasaa"')), "crew[0].agency"),
    "unknown-vehicle": (GOOD + '\n[station]\nvehicles = ["enterprise"]\n', "station.vehicles[0]"),
    "bad-hole-args": (
        GOOD + '\n[[events]]\nat = "+1h"\naction = "hole"\ntarget = "poisk"\nargs = { area = 1 }\n', "events[1]"
    ),
    "empty": ("", "empty"),
    "numeric-at": (_bad(('at = "+10m"', 'at = 30')), "events[0].at: give an offset"),
    "field-of-another-table": (_bad(("days = 0.05", "days = 0.05\ncrew = 5")), "scenario.crew: not a field of this"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_scenario_is_one_line_exit_2(case, tmp_path, capsys):
    text, field = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    status = main(["run", str(path), "--json"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2
    assert captured.out == ""
    assert len(lines) == 1 and lines[0].startswith("issim: error: ")
    assert str(path) in lines[0] and field in lines[0]
    assert "Traceback" not in captured.err


def test_garbage_bytes_scenario(tmp_path, capsys):
    path = tmp_path / "garbage.toml"
    path.write_bytes(b"\xff\xfe\x00\x13garbage")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "UTF-8" in err[0]


def test_unknown_scenario_name_lists_the_bundled(capsys):
    assert main(["run", "no-such-scenario"]) == 2
    err = capsys.readouterr().err
    assert "nominal" in err and len(err.strip().splitlines()) == 1


def test_bad_run_options(capsys):
    for args, option in (
        (["run", "nominal", "--days", "0"], "--days"),
        (["run", "nominal", "--hours", "-2"], "--hours: -2 hours"),
        (["run", "nominal", "--days", "1", "--hours", "2"], "--days"),
        (["run", "nominal", "--seed", "-1"], "--seed"),
    ):
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and option in err[0]


def test_malformed_scenario_in_a_real_process(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CASES["unknown-module"][0])
    proc = subprocess.run([sys.executable, "-m", "issim.cli", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_good_file_runs_and_prints_the_summary(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    assert main(["run", str(path), "--json", "--hours", "1"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["scenario"] == "tiny" and s["frames"] == 360
    assert set(s["crew"]) == {"A", "B"}
    assert [e["action"] for e in s["events"] if e["kind"] == "event"] == ["close_hatch"]


def test_every_bundled_scenario_loads_and_builds():
    from issim.scenario import build_simulation

    assert {"nominal", "leak", "isolation", "cdra-failure"} <= set(bundled_names())
    for name in bundled_names():
        scenario = load_scenario(name)
        sim = build_simulation(scenario)
        assert sim.t_ms == scenario.start_ms


def test_extends_takes_the_base_and_appends_events(tmp_path):
    path = tmp_path / "more.toml"
    path.write_text(
        'extends = "nominal"\n[scenario]\nname = "more"\ntitle = "t"\n'
        '[[events]]\nat = "+1h"\naction = "power_off"\ntarget = "ROS"\n'
    )
    s = load_scenario(path)
    base = load_scenario("nominal")
    assert s.crew == base.crew and s.scenario.days == base.scenario.days
    assert [e.action for e in s.events] == [e.action for e in base.events] + ["power_off"]


def test_scenarios_command_lists_them(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("nominal", "leak", "isolation", "cdra-failure"):
        assert name in out


def test_a_missing_base_is_named_by_the_extends_field():
    # Found by the property test: the error named the resolved path, not the field that asked for it.
    from issim.errors import InputError
    from issim.scenario import parse_scenario

    with pytest.raises(InputError) as err:
        parse_scenario(b'extends = "x"\n', "mangled.toml")
    assert err.value.source == "mangled.toml:extends" and "neither a bundled scenario" in err.value.message
