"""The long listings of the command line (issue 17): newest first, --limit and --match, 80 columns,
and diff and endings in words rather than raw keys and JSON."""

from __future__ import annotations

import json

import pytest

from issim import cli
from issim.orbit import catalog
from issim.times import parse_iso

WIDTH = 80  # the console's width when it is not a terminal, as under capsys


@pytest.fixture(autouse=True)
def _no_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("ISSIM_DATA_DIR", str(tmp_path / "data"))
    catalog._warned.clear()


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def fits(text: str) -> bool:
    return all(len(line.rstrip()) <= WIDTH for line in text.splitlines())


def epochs(capsys, *args) -> list[int]:
    status, out, err = run(capsys, "elements", "list", "--json", *args)
    assert status == 0, err
    return [parse_iso(r["epoch"]) for r in json.loads(out)]


def test_elements_list_is_newest_first_and_limited(capsys):
    every = epochs(capsys, "--limit", "0")
    assert len(every) == len(catalog.available_sets()) > 500
    assert every == sorted(every, reverse=True)
    assert epochs(capsys) == every[:20]  # the default: the 20 newest
    assert epochs(capsys, "--limit", "3") == every[:3]
    status, out, _ = run(capsys, "elements", "list")
    assert status == 0 and fits(out)
    assert "20 of" in out and "--limit 0 shows all" in out
    rows = [line for line in out.splitlines() if line[:4].isdigit()]
    assert len(rows) == 20 and rows[0] > rows[-1]  # ISO times sort as text: newest on top
    assert "bundled record 499" in rows[0]


def test_elements_list_since_and_until(capsys):
    since, until = parse_iso("2025-01-01"), parse_iso("2025-02-01")
    january = epochs(capsys, "--since", "2025-01-01", "--until", "2025-02-01", "--limit", "0")
    every = epochs(capsys, "--limit", "0")
    assert january == [t for t in every if since <= t < until] and january
    status, out, _ = run(capsys, "elements", "list", "--since", "2031-01-01")
    assert status == 0 and out.strip() == "No element sets since 2031-01-01."


@pytest.mark.parametrize("args, source", [
    (("elements", "list", "--since", "last week"), "--since"),
    (("elements", "list", "--limit", "-2"), "--limit"),
    (("telemetry", "--limit", "-1"), "--limit"),
    (("runs", "--status", "done"), "--status"),
    (("commands", "close_hatches"), "NAME"),
])
def test_bad_listing_input_is_one_line(capsys, args, source):
    status, out, err = run(capsys, *args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"issim: error: {source}: ")


def test_telemetry_match_and_limit(capsys):
    status, out, _ = run(capsys, "telemetry", "leak", "--match", "atm.*.pp_co2_pa", "--json")
    keys = [c["key"] for c in json.loads(out)]
    assert keys and all(k.startswith("atm.") and k.endswith(".pp_co2_pa") for k in keys)
    status, out, _ = run(capsys, "telemetry", "leak", "--match", "POISK")  # text: in the key or the name, any case
    assert status == 0 and fits(out)
    lines = [line for line in out.splitlines() if line.startswith("atm.poisk.")]
    assert len(lines) == 5
    o2 = next(line for line in lines if line.startswith("atm.poisk.pp_o2_pa "))
    assert " Pa " in o2 and "warn <19500 >23100;" in o2  # the limits, as bounds (the rest folds below)
    status, out, _ = run(capsys, "telemetry", "--limit", "4")
    assert status == 0 and "4 of" in out and len([x for x in out.splitlines() if x.startswith("power.")]) == 4
    status, out, _ = run(capsys, "telemetry", "--match", "no-such-thing")
    assert status == 0 and out.strip() == "No channels match 'no-such-thing'."


def test_every_channel_on_one_line_with_its_whole_key(capsys):
    status, out, _ = run(capsys, "telemetry", "--json")
    channels = json.loads(out)
    status, out, _ = run(capsys, "telemetry")
    assert status == 0 and fits(out)
    starts = [line.split()[0] for line in out.splitlines() if line[:1].isalpha() and "." in line.split()[0]]
    assert starts == [c["key"] for c in channels]  # every key whole, in order, none cut with …


def test_commands_listing_and_one_in_full(capsys):
    status, out, _ = run(capsys, "commands")
    assert status == 0 and fits(out) and "confront" in out
    status, out, _ = run(capsys, "commands", "--match", "hatch", "--json")
    names = [r["name"] for r in json.loads(out)]
    assert "close_hatch" in names and "burn" not in names
    status, out, _ = run(capsys, "commands", "close_hatch")
    assert status == 0 and fits(out)
    assert "who may" in out and "hatch's volumes" in out
    _, _, err = run(capsys, "commands", "clos_hatch")
    assert "did you mean 'close_hatch'?" in err


def test_state_listing_fits(capsys):
    status, out, _ = run(capsys, "state", "leak", "--match", "crew.")
    assert status == 0 and fits(out)
    assert "keys" in out.splitlines()[0]


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Two runs of iss that part on a drawn decision, and one of nominal."""
    home = str(tmp_path_factory.mktemp("lists") / "runs")
    for scenario, seed, hours in (("iss", "1", "36"), ("iss", "2", "36"), ("nominal", "3", "2")):
        assert cli.main(["run", scenario, "--seed", seed, "--hours", hours, "--out", home, "--json"]) == 0
    return home


def test_runs_status_and_limit(three_runs, capsys):
    status, out, _ = run(capsys, "runs", "--archive", three_runs, "--limit", "2")
    assert status == 0 and fits(out) and "2 of 3 runs shown" in out
    status, out, _ = run(capsys, "runs", "--archive", three_runs, "--status", "complete", "--scenario", "iss", "--json")
    assert [r["id"] for r in json.loads(out)] == [2, 1]
    status, out, _ = run(capsys, "runs", "--archive", three_runs, "--status", "failed")
    assert status == 0 and out.strip() == "No runs failed."


def test_diff_speaks_words_not_json(three_runs, capsys):
    status, data, _ = run(capsys, "diff", "1", "2", "--archive", three_runs, "--json")
    result = json.loads(data)
    first = result["first_difference"]
    assert all("label" in d for d in result["outcome"])
    status, out, err = run(capsys, "diff", "1", "2", "--archive", three_runs)
    assert status == 0 and err == "" and fits(out)
    assert f"part at event {first['index'] + 1}" in out
    assert "{" not in out and "null" not in out and '"' not in out  # no JSON left in the words
    if first["a"] and first["a"].get("what") == "decided":
        assert f"{first['a']['person']} decides {first['a']['key']}" in out
    for d in result["outcome"]:
        assert d["label"] in out.replace("\n", " ") or d["label"][:30] in out
    status, out, _ = run(capsys, "diff", "1", "3", "--archive", three_runs)
    assert "scenario file (SHA-256)" in out and "simulated to" in out and "survivors" in out


def test_endings_in_words():
    from rich.console import Console

    from issim.agents.decisions import DECISIONS, QUESTIONS
    from issim.campaign.endings import render

    assert set(QUESTIONS) == set(DECISIONS)  # every decision has its question
    records = [
        {"seed": 1, "class": "shared", "path": "order > refused-order", "ending": "no one dies; the station still shared",
         "decisions": [["d1_comply", "Gordon Barrett", "refuse", True], ["d3_eva", "Gordon Barrett", "refuse", True]],
         "mind": {"suspicion": {"Gordon Barrett": 0.1}}},
        {"seed": 2, "class": "shared", "path": "order > refused-order", "ending": "no one dies; the station still shared",
         "decisions": [["d1_comply", "Gordon Barrett", "refuse", True]], "mind": {"suspicion": {"Gordon Barrett": 0.3}}},
        {"seed": 3, "class": "spacewalker-lost", "path": "order > lure > spacewalk > pushed > lost",
         "ending": "Gordon Barrett dies", "decisions": [["d1_comply", "Gordon Barrett", "comply", True]],
         "mind": {"suspicion": {"Gordon Barrett": 0.9}}},
    ]
    console = Console(width=WIDTH)
    with console.capture() as captured:
        render("iss", records, console, 36)
    text = captured.get()
    assert fits(text)
    assert "Endings of iss over 3 seeds (1 to 3), 36 simulated hours each" in text
    shared = next(line for line in text.splitlines() if line.startswith("shared "))
    assert " 2 " in shared and "67 % [21 %, 94 %]" in shared and "still shared" in shared
    assert "order > refused-order" in text and "What goes with shared" in text
    refused = next(line for line in text.splitlines() if line.startswith("d1_comply=refuse"))
    assert "2 of 2" in refused and "0 of 1" in refused and "+100 %" in refused
    assert "obey Houston's order?" in text
    suspicion = next(line for line in text.splitlines() if line.startswith("suspicion[Gordon Barrett]"))
    assert "0.20" in suspicion and "0.90" in suspicion and "-0.70" in suspicion
