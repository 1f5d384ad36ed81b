"""The film's scenario: iss-canon plays the film's ending from the film's decisions, on every
seed tried, through the same physics, pipeline and agents as iss; one decision changed
changes the ending; iss leaves every decision to chance."""

from __future__ import annotations

import pytest

from issim.control import history
from issim.errors import InputError
from issim.scenario import build_simulation, load_scenario, parse_scenario, summarize
from issim.runner import Runner
from issim.times import parse_iso
from issim.scenario.load import _bundled

HOURS = 3_600_000
KIRA, CHRISTIAN, GORDON = "Kira Foster", "Christian Campbell", "Gordon Barrett"
NICHOLAI, ALEXEY, WERONIKA = "Nicholai Pulov", "Alexey Pulov", "Weronika Vetrov"
FILM_DEAD = {GORDON, NICHOLAI, WERONIKA, CHRISTIAN}


def _run(spec, seed: int, hours: float = 48):
    run = Runner(spec, seed=seed, hours=hours)
    run.run()
    return run


def _with_decision(key: str, choice: str):
    source, raw = _bundled("iss-canon")
    text = raw.decode().replace(f'{key} = "', f'{key} = "{choice}" #', 1)
    return parse_scenario(text.encode(), source)


@pytest.mark.parametrize("seed", [1, 2, 7, 11])
def test_canon_plays_the_films_ending(seed):
    sim = _run(load_scenario("iss-canon"), seed)
    o = summarize(sim, "iss-canon")["outcome"]
    # Kira and Alexey alive and leaving in the Soyuz with the research; the other four dead.
    assert sorted(o["survivors"]) == [ALEXEY, KIRA]
    assert set(o["dead"]) == FILM_DEAD
    assert {v: sorted(p) for v, p in o["departed"].items()} == {"soyuz-ms": [ALEXEY, KIRA]}
    # The Soyuz lands: separation to landing 3 h 22 min to 3 h 26 min (sheet, Addendum §4), to 10 %;
    # the undock command comes 1.5 min before separation. Named by the nearest land.
    (vehicle, t_undock, _), = sim.state.facts["control.departures"]
    land = o["landings"]["soyuz-ms"]
    assert land["landed"] and land["place"].startswith("in ")
    assert abs((parse_iso(land["landing"]) - t_undock) / 60_000 - 1.5 - 204) <= 20.4
    custody = next(s for s in sim.subsystems if s.name == "control")
    holder = int(sim.state["control.item_holder"][custody.directory.item_index["research"]])
    assert custody.names[holder] in (KIRA, ALEXEY)
    # Life support and contact restored before they left: nothing broken, every link up.
    assert not sim.state["ls.broken"].any() and sim.state["comms.link_ok"].all()
    running = o["station"]["life_support_running"]
    assert all(all(kinds.values()) for kinds in running.values()), running
    # Both grounds asked who has the station, and the asking reached the station.
    log = sim.event_log()
    fired = {e["id"] for e in log if e["kind"] == "trigger" and e.get("what") == "fired"}
    assert {"houston-asks", "moscow-asks"} <= fired
    delivered = {e.get("id") for e in log if e["kind"] == "comms" and e.get("what") == "delivered"}
    assert {"houston-asks", "moscow-asks"} <= delivered
    # The deaths came from the agents' own commands and the physics, not from a script:
    # every command after the orders was an agent's, and every fight was an agent's confront.
    cmds = history(sim.state)
    assert {c["source"] for c in cmds if c["actor"] in custody.names} == {"agent"}
    fights = [c for c in cmds if c["command"] == "confront" and c["result"] == "done"]
    assert {c["actor"] for c in fights} >= {CHRISTIAN, GORDON}
    assert o["dead"][WERONIKA] == o["dead"][CHRISTIAN] == "confrontation"
    assert not [e for e in log if e["kind"] == "event" and e.get("action") in ("injure", "move")
                and e.get("source") in ("scenario", "")]
    # "The station will fall within 24 hours" is what the commanders were told and believe;
    # the orbit keeps its real decay (the sheet: about 0.1 km a day), nowhere near re-entry.
    beliefs = {n for _, n, b in sim.state.facts["agents.beliefs"] if "will fall by" in b}
    assert beliefs == {GORDON, NICHOLAI}
    assert o["station"]["altitude_km"] > 400 and o["station"]["lost"] is None


def test_changing_one_decision_changes_the_ending():
    film = summarize(_run(load_scenario("iss-canon"), 3), "iss-canon")["outcome"]
    # Alexey leaves Gordon out there (D9): no one brings him back; he dies when his suit is spent.
    left = summarize(_run(_with_decision("d9_save_gordon", "leave"), 3, 48), "x")["outcome"]
    assert left["ending"] != film["ending"]
    assert left["dead"].get(GORDON) == "hypoxia"
    # Christian restrains Weronika instead of killing her (D8): she lives.
    spared = summarize(_run(_with_decision("d8_deal_with_nika", "restrain"), 3), "x")["outcome"]
    assert WERONIKA in spared["survivors"] and spared["ending"] != film["ending"]


def test_iss_leaves_every_decision_to_chance_and_same_seed_repeats():
    a, b = _run(load_scenario("iss"), 8, 40), _run(load_scenario("iss"), 8, 40)
    assert a.event_log_sha256() == b.event_log_sha256()
    decisions = a.state.facts["agents.decisions"]
    assert decisions and all(drawn for *_, drawn in decisions)
    others = {summarize(_run(load_scenario("iss"), s, 40), "iss")["outcome"]["ending"] for s in (1, 2)}
    assert len(others | {summarize(a, "iss")["outcome"]["ending"]}) >= 2


@pytest.mark.parametrize("field, text, problem", [
    ("agents.people.Kira Foster.bond", '[agents.people."Kira Foster"]\nbond = "Nobody"\n', "not another crew member"),
    ("agents.prize", '[agents]\nviolence = true\nprize = "nothing"\n', "no item 'nothing'"),
    ("decisions.d2_means", '[agents]\nviolence = false\n[decisions]\nd2_means = "lure"\n', "needs [agents] violence"),
    ("decisions.d8_deal_with_nika", '[decisions]\nd8_deal_with_nika = "confine"\n', "not a choice"),
    ("agents.war_at", '[agents]\nwar_at = "tomorrow"\n', "is not an offset"),
    ("decisions.escalate", '[decisions]\nescalate = "nuke"\n', "not a choice"),
])
def test_bad_crisis_settings_are_one_clear_error(tmp_path, field, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text('extends = "iss"\n[scenario]\nname = "bad"\n' + text)
    with pytest.raises(InputError) as err:
        build_simulation(load_scenario(str(path)))
    assert err.value.source == f"{path}:{field}" and problem in err.value.message


def test_the_story_changes_only_minds_the_station_changes_only_by_commands(monkeypatch):
    """The situations (lure, loss, defection, hunt...) write only ``agents.*``; every change to
    the station in an iss-canon run comes from a command or the physics."""
    import numpy as np

    from issim.agents.crisis import Story

    observe = Story.observe
    touched: list = []

    def watched(self, state, *args):
        before = {k: v.copy() for k, v in state.arrays.items() if not k.startswith("agents.")}
        facts = {k: v for k, v in state.facts.items() if not k.startswith("agents.")}
        observe(self, state, *args)
        touched.extend(k for k, v in before.items() if not np.array_equal(v, state.arrays[k]))
        touched.extend(k for k, v in facts.items() if state.facts[k] is not v)

    monkeypatch.setattr(Story, "observe", watched)
    sim = _run(load_scenario("iss-canon"), 5, 48)
    assert touched == []
    assert len(sim.state.facts["agents.decisions"]) >= 17  # the story did unfold


def _cli(capsys, *args) -> tuple[int, str, str]:
    from issim.cli import main

    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_endings_counts_the_endings_of_many_seeds(capsys):
    import json

    status, out, err = _cli(capsys, "endings", "iss-canon", "--seeds", "2", "--hours", "48", "--jobs", "1", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert [r["seed"] for r in result["runs"]] == [1, 2]
    (row,) = result["endings"]
    assert row["runs"] == 2 and row["share"] == 1.0 and "Kira Foster leave in soyuz-ms" in row["ending"]
    assert row["choices"]["d3_eva=go"] == 2


@pytest.mark.parametrize("args, source", [
    (("endings", "iss", "--seeds", "0"), "--seeds"),
    (("endings", "iss", "--jobs", "0"), "--jobs"),
    (("endings", "no-such-scenario"), "no-such-scenario"),
])
def test_endings_bad_input_is_one_line(capsys, args, source):
    status, out, err = _cli(capsys, *args)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"issim: error: {source}")
