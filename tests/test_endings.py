"""Endings as paths (issue 13): a run's story as beats, the class of its ending, and
``issim endings`` streaming into a results file that a rerun goes on from."""

from __future__ import annotations

import json

import pytest

from issim import cli
from issim.campaign.endings import Results, table, wilson
from issim.errors import InputError
from issim.scenario.story import CLASSES, ending_class, film_arc, path, peaceful


@pytest.fixture(scope="module")
def canon():
    """iss-canon once, from the start through the orders (30 h 30 min in) to the landing, stopped once resolved."""
    from issim.runner import Runner

    run = Runner("iss-canon", hours=48, until_resolved=True)
    run.run()
    return run, run.outcome()


def _cli(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _subsequence(wanted, kinds) -> bool:
    it = iter(kinds)
    return all(any(k == w for k in it) for w in wanted)


def test_the_canon_story_has_the_films_beats_in_order(canon):
    _, o = canon
    kinds = [b["kind"] for b in o["story"]]
    assert _subsequence(["order", "lure", "spacewalk", "radio-cut", "unclipped", "pushed", "lost", "defected", "told",
                         "killed", "recovered", "took-item", "betrayed", "sabotage", "killed", "repaired",
                         "link-restored", "undocked", "landed"], kinds), kinds
    assert all(set(b) == {"t", "kind", "who", "whom", "where", "why"} for b in o["story"])
    assert [b["t"] for b in o["story"]] == sorted(b["t"] for b in o["story"])
    beat = {(b["kind"], b["who"], b["whom"]): b for b in o["story"]}
    pushed = beat["pushed", "Nicholai Pulov", "Gordon Barrett"]
    assert pushed["where"] == "destiny" and pushed["why"].startswith("d5_arm_strike=strike")  # from the arm's workstation
    assert beat["radio-cut", "Alexey Pulov", "Gordon Barrett"]["why"].startswith("d4_cut_radio=cut")
    assert beat["lure", "Nicholai Pulov", "Gordon Barrett"]["why"].startswith("d2_means=lure")
    assert beat["defected", "Weronika Vetrov", "usa"]["why"] == "d6_defect=defect: Gordon Barrett was lost"
    assert beat["killed", "Christian Campbell", "Weronika Vetrov"]["where"] == "nauka"
    assert ("recovered", "Alexey Pulov", "Gordon Barrett") in beat
    assert ("betrayed", "Christian Campbell", "") in beat
    assert ("killed", "Alexey Pulov", "Christian Campbell") in beat
    assert beat["undocked", "Kira Foster", "soyuz-ms"]["why"] == "with Alexey Pulov"
    # a death dealt outright in a fight is its "killed" beat, not a second "died"
    assert not any(b["kind"] == "died" and b["who"] in ("Weronika Vetrov", "Christian Campbell") for b in o["story"])
    assert {b["who"]: b["why"] for b in o["story"] if b["kind"] == "died"} == {"Gordon Barrett": "injury",
                                                                                 "Nicholai Pulov": "injury"}
    # routine things are not beats
    assert not {"move", "open_hatch", "moved"} & set(kinds)


def test_the_canon_run_is_the_films_arc_and_stops_once_resolved(canon):
    run, o = canon
    assert o["ending_class"] == {"id": "film-arc", "label": CLASSES["film-arc"]}
    assert film_arc(o) and not peaceful(o)
    assert o["items"] == {"research": "Kira Foster"}
    assert "ending" in o and "leave in soyuz-ms" in o["ending"]  # the one line stays as it was
    assert run.resolved_ms is not None and run.resolved_ms < run.end_ms
    from issim.times import parse_iso

    last = max(o["story"], key=lambda b: b["t"])
    assert last["kind"] == "landed"  # the landing; the run stops at the next check after it (every 10 min)
    assert 0 <= run.resolved_ms - parse_iso(last["t"]) <= 10 * 60_000
    path_ = path(o["story"])
    assert path_.startswith("order > lure > spacewalk > radio-cut > unclipped > pushed > lost > defected > told")
    assert "wounded" not in path_.split(" > ")[:12]  # a wound before a death is told by the death


def _outcome(**kw):
    o = {"survivors": [], "dead": {}, "departed": {}, "items": {}, "story": [],
         "station": {"crewed": True, "lost": None},
         "control": {"USOS.life-support": ["russia", "usa"], "ROS.life-support": ["russia", "usa"]}}
    o.update(kw)
    return o


def _b(kind, who="", whom=""):
    return {"t": "2025-03-11T03:00:00.000Z", "kind": kind, "who": who, "whom": whom, "where": "", "why": ""}


@pytest.mark.parametrize("o, cid", [
    (_outcome(), "shared"),
    (_outcome(story=[_b("order", "A"), _b("truce", "A", "B")]), "peace"),
    (_outcome(story=[_b("truce", "A"), _b("wounded", "A", "B")]), "shared-after-blood"),
    (_outcome(control={"USOS.life-support": ["usa"], "ROS.life-support": ["russia"]}), "standoff"),
    (_outcome(control={"USOS.life-support": ["usa"], "ROS.life-support": ["russia"]}, dead={"B": "injury"}),
     "divided"),
    (_outcome(control={"USOS.life-support": ["usa"], "ROS.life-support": ["usa"]}), "us-holds"),
    (_outcome(control={"USOS.life-support": ["russia"], "ROS.life-support": ["russia"]}), "russia-holds"),
    (_outcome(control={"USOS.life-support": [], "ROS.life-support": []}), "no-one-commands"),
    (_outcome(station={"crewed": False, "lost": None}), "destroyed"),
    (_outcome(station={"crewed": True, "lost": "hull breach"}), "destroyed"),
    (_outcome(story=[_b("pushed", "N", "G"), _b("lost", "G")]), "spacewalker-lost"),
    (_outcome(story=[_b("pushed", "N", "G"), _b("lost", "G"), _b("recovered", "A", "G")]), "shared-after-blood"),
    (_outcome(departed={"soyuz-ms": ["C"]}, items={"research": "C"}, story=[_b("killed", "C", "W"), _b("betrayed", "C")],
              station={"crewed": True, "lost": None}), "lone-escape"),
    (_outcome(departed={"soyuz-ms": ["K", "A"]}, items={"research": "K"}, dead={"W": "confrontation"},
              story=[_b("killed", "C", "W"), _b("betrayed", "C"), _b("killed", "A", "C")],
              station={"crewed": False, "lost": None}), "film-arc"),
    (_outcome(departed={"soyuz-ms": ["K", "A"]}, items={"research": "K"}, station={"crewed": False, "lost": None}),
     "escape-with-research"),
    (_outcome(departed={"soyuz-ms": ["K", "A"]}, items={"research": None}), "escape"),
])
def test_ending_classes(o, cid):
    assert ending_class(o)["id"] == cid
    assert ending_class(o)["label"] == CLASSES[cid]


def test_peaceful_needs_a_truce_and_no_violence():
    assert not peaceful(_outcome())  # no truce record (another part of issue 13 writes it): not peace
    assert peaceful(_outcome(story=[_b("truce", "A")]))
    assert not peaceful(_outcome(story=[_b("truce", "A")], dead={"B": "hypoxia"}))
    assert not peaceful(_outcome(story=[_b("truce", "A"), _b("pushed", "N", "G")]))


@pytest.mark.parametrize("k, n, lo, hi", [
    (5, 10, 0.2366, 0.7634),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (1, 3, 0.0615, 0.7923),
    (81, 263, 0.2553, 0.3662),
])
def test_wilson_interval(k, n, lo, hi):
    a, b = wilson(k, n)
    assert a == pytest.approx(lo, abs=5e-4) and b == pytest.approx(hi, abs=5e-4)


def test_table_drivers():
    rec = lambda seed, cls, choices, s: {"seed": seed, "class": cls, "path": cls, "ending": cls,  # noqa: E731
                                         "decisions": [[k, "P", c, True] for k, c in choices],
                                         "mind": {"suspicion": {"P": s}}}
    records = [rec(1, "shared", [("d1_comply", "refuse")], 0.0), rec(2, "shared", [("d1_comply", "refuse")], 0.2),
               rec(3, "standoff", [("d1_comply", "comply")], 1.0), rec(4, "shared", [("d1_comply", "comply")], 0.6)]
    t = table(records)
    assert t["total"] == 4 and [c["class"] for c in t["classes"]] == ["shared", "standoff"]
    assert t["classes"][0]["runs"] == 3 and t["classes"][0]["ci95"] == [round(x, 4) for x in wilson(3, 4)]
    top = t["drivers"]["shared"]["decisions"][0]
    assert top["choice"] in ("d1_comply=refuse", "d1_comply=comply") and abs(top["difference"]) == 0.5
    refuse = next(d for d in t["drivers"]["shared"]["decisions"] if d["choice"] == "d1_comply=refuse")
    assert refuse["with"] == [2, 2] and refuse["without"] == [1, 2] and refuse["difference"] == 0.5
    (s,) = t["drivers"]["standoff"]["mind"]
    assert s["quantity"] == "suspicion[P]" and s["mean_in"] == 1.0 and s["mean_out"] == pytest.approx(0.2667, abs=1e-4)


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_endings_streams_to_a_file_and_a_rerun_skips_seeds_done(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    args = ("endings", "iss-canon", "--hours", "1", "--jobs", "1", "--out", str(out))
    status, stdout, err = _cli(capsys, *args, "--seeds", "2")
    assert status == 0, err
    assert sorted(r["seed"] for r in _lines(out)) == [1, 2]
    status, stdout, err = _cli(capsys, *args, "--seeds", "3", "--json")
    assert status == 0, err
    assert "2 of the 3 seeds are already in" in err
    seeds = [r["seed"] for r in _lines(out)]
    assert sorted(seeds) == [1, 2, 3] and len(seeds) == len(set(seeds))  # seeds 1 and 2 not run again
    result = json.loads(stdout)
    assert [r["seed"] for r in result["runs"]] == [1, 2, 3] and result["complete"]
    first = result["runs"][0]
    assert first["class"] in CLASSES and first["path"] == "" and first["scenario"] == "iss-canon"
    assert "suspicion" in first["mind"] and "Kira Foster" in first["mind"]["suspicion"]
    assert result["classes"][0]["runs"] == 3 and result["classes"][0]["ci95"][1] == 1.0


def test_a_line_cut_short_is_run_again(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    args = ("endings", "iss-canon", "--hours", "1", "--jobs", "1", "--out", str(out), "--seeds", "2")
    assert _cli(capsys, *args)[0] == 0
    text = out.read_text()
    out.write_text(text[: len(text) - 20])  # the second line cut short, as by a kill while writing it
    status, _, err = _cli(capsys, *args)
    assert status == 0 and "cut short" in err
    assert sorted(r["seed"] for r in _lines(out)) == [1, 2]


@pytest.mark.parametrize("content, problem", [
    ("not json\n", "line 1 is not a run record"),
    ('{"seed": 1}\n', "line 1 is not a run record"),
    ('{"scenario": "iss", "seed": 1, "class": "shared", "path": "", "ending": "", "decisions": [], "hours": 1.0,'
     ' "until_resolved": true}\n', "holds runs of iss, not iss-canon"),
    ('{"scenario": "iss-canon", "seed": 1, "class": "shared", "path": "", "ending": "", "decisions": [],'
     ' "hours": 2.0, "until_resolved": true}\n', "2 simulated hours, not 1 simulated hours"),
])
def test_a_bad_results_file_is_one_line(tmp_path, capsys, content, problem):
    out = tmp_path / "e.jsonl"
    out.write_text(content)
    status, stdout, err = _cli(capsys, "endings", "iss-canon", "--hours", "1", "--seeds", "1", "--out", str(out))
    assert status == 2 and stdout == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("issim: error: --out: ") and problem in err
    assert out.read_text() == content  # left as it was


def test_a_scenario_whose_runs_cannot_be_built_is_one_line_and_writes_no_file(tmp_path, capsys):
    """A decision key only a built run checks: refused before the results file is made."""
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "iss"\n[scenario]\nname = "bad"\n[decisions]\nd5_arm_strik = "strike"\n')
    out = tmp_path / "e.jsonl"
    status, stdout, err = _cli(capsys, "endings", str(bad), "--seeds", "2", "--jobs", "1", "--out", str(out))
    assert status == 2 and stdout == "" and not out.exists()
    assert err.count("\n") == 1 and err.startswith("issim: error: ") and "decisions.d5_arm_strik" in err


def test_an_unwritable_out_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status, stdout, err = _cli(capsys, "endings", "iss-canon", "--hours", "1", "--seeds", "1",
                               "--out", str(blocker / "e.jsonl"))
    assert status == 2 and stdout == "" and err.startswith("issim: error: --out: cannot write")
    assert len(err.strip().splitlines()) == 1
    status, _, err = _cli(capsys, "endings", "iss-canon", "--hours", "1", "--out", str(tmp_path))
    assert status == 2 and "is a folder" in err


def test_ctrl_c_keeps_what_finished_and_exits_130(tmp_path, capsys, monkeypatch):
    from issim.campaign import endings

    real = endings.stream

    def stopped(*args, **kwargs):
        runs = real(*args, **kwargs)
        yield next(runs)
        runs.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(endings, "stream", stopped)
    out = tmp_path / "e.jsonl"
    status, stdout, err = _cli(capsys, "endings", "iss-canon", "--hours", "1", "--seeds", "3", "--jobs", "1",
                               "--out", str(out))
    assert status == 130
    assert "interrupted: 1 of 3 runs are in" in err and "Traceback" not in err
    assert "Endings of iss-canon over 1 seed (of 3 asked for)" in stdout
    assert [r["seed"] for r in _lines(out)] == [1]


def test_results_refuses_a_folder(tmp_path):
    with pytest.raises(InputError) as e:
        Results.open(tmp_path, "iss", None, True)
    assert e.value.source == "--out"


def test_every_class_and_beat_kind_is_documented():
    from pathlib import Path

    from issim.scenario.story import KINDS

    text = (Path(__file__).resolve().parents[1] / "docs" / "endings.md").read_text()
    assert [c for c in CLASSES if f"| `{c}` |" not in text] == []
    assert [c for c, label in CLASSES.items() if f"| `{c}` | {label} |" not in text] == []  # the label printed
    assert [k for k in KINDS if f"| `{k}` |" not in text] == []
