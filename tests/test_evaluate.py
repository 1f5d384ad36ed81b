"""issim evaluate: a policy for one person scored against held-out co-player populations
(issue 15, item 5). The populations draw different minds, deterministically; the command
is deterministic, its intervals hold their shares, the crew mind's reference runs, a
user's policy is loaded and reset per episode, and bad input is one line and exit 2."""

from __future__ import annotations

import json
import statistics
import sys

import numpy as np
import pytest

from issim import cli
from issim.rl import populations as pops
from issim.scenario import load_scenario

ROLE = "Kira Foster"
# Short episodes: from +30 h (the war seen; the orders come at +30 h 30 min) for one
# simulated hour, or from +2 h (quiet) for half an hour where nothing needs the crisis.
CRISIS = ["--start", "+30h", "--hours", "1"]
QUIET = ["--start", "+2h", "--hours", "0.5"]


@pytest.fixture(scope="module")
def iss():
    return load_scenario("iss")


def evaluate(capsys, *args) -> tuple[int, str, str]:
    status = cli.main(["evaluate", *args])
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------ the populations


def draws(iss, name, seeds=range(1, 41)):
    return [pops.draw(name, iss, ROLE, s) for s in seeds]


def test_populations_draw_different_minds_within_their_ranges(iss):
    crews = {name: draws(iss, name) for name in pops.POPULATIONS}
    mean = {name: {k: statistics.fmean(p[k] for c in cs for p in c.people.values()) for k in pops.MINDS}
            for name, cs in crews.items()}
    # the role is not drawn; everyone else is, from their component's ranges
    for name, cs in crews.items():
        for c in cs:
            assert ROLE not in c.people and len(c.people) == len(iss.crew) - 1
            for p in c.people.values():
                comp = pops.POPULATIONS[p["from"]]
                assert p["from"] == name or p["from"] in pops.POPULATIONS[name].mix
                for k in pops.MINDS:
                    lo, hi = getattr(comp, k)
                    assert lo <= p[k] <= hi, (name, k, p[k])
    # they really differ: loyalty, trust across the sides, suspicion, solidarity
    assert mean["cooperative"]["loyalty"] < 0.4 < mean["paranoid"]["loyalty"] < 0.85 < mean["loyalist"]["loyalty"]
    assert mean["paranoid"]["suspicion"] > 0.3 > mean["loyalist"]["suspicion"] > mean["cooperative"]["suspicion"]
    assert mean["cooperative"]["trust_across"] > mean["loyalist"]["trust_across"] > mean["paranoid"]["trust_across"]
    assert mean["cooperative"]["solidarity"] > 0.75 > mean["paranoid"]["solidarity"] > mean["loyalist"]["solidarity"]
    # mixed crews mix: each of the three comes, and crews hold more than one kind
    froms = [{p["from"] for p in c.people.values()} for c in crews["mixed"]]
    assert set().union(*froms) == {"cooperative", "paranoid", "loyalist"}
    assert any(len(f) > 1 for f in froms)
    # orders: the cooperative grounds hesitate, the others always send; the claimed fall differs
    sent = {name: [o["sent"] for c in cs for o in c.orders] for name, cs in crews.items()}
    assert 0 < sum(sent["cooperative"]) < len(sent["cooperative"])
    assert all(sent["paranoid"]) and all(sent["loyalist"])
    falls = {name: [o["fall_hours"] for c in cs for o in c.orders] for name, cs in crews.items()}
    assert min(falls["cooperative"]) >= 36 and max(falls["paranoid"]) <= 18


def test_draws_are_deterministic_per_seed_and_the_same_whoever_the_role_is(iss):
    a, b = pops.draw("mixed", iss, ROLE, 7), pops.draw("mixed", iss, ROLE, 7)
    assert a == b
    assert a.people != pops.draw("mixed", iss, ROLE, 8).people
    other = pops.draw("mixed", iss, "Gordon Barrett", 7)
    assert other.people["Nicholai Pulov"] == a.people["Nicholai Pulov"]
    assert "Gordon Barrett" not in other.people and ROLE in other.people
    # each population draws from its own stream: the same seed, other numbers
    assert pops.draw("paranoid", iss, ROLE, 7).people["Nicholai Pulov"]["loyalty"] != \
        pops.draw("loyalist", iss, ROLE, 7).people["Nicholai Pulov"]["loyalty"]


def test_apply_keeps_the_role_and_rewrites_the_co_players_and_their_orders(iss):
    crew = next(c for c in draws(iss, "cooperative") if any(not o["sent"] for o in c.orders)
                and any(o["sent"] for o in c.orders))
    spec = pops.apply(iss, crew)
    assert spec.agents.people[ROLE] == iss.agents.people[ROLE]
    for name, m in crew.people.items():
        traits = spec.agents.people[name]
        assert [getattr(traits, k) for k in pops.TRAITS] == [m[k] for k in pops.TRAITS]
        assert [getattr(traits, k) for k in pops.TRAITS] != [getattr(iss.agents.people[name], k) for k in pops.TRAITS]
        assert (traits.bond, traits.confidant) == (iss.agents.people[name].bond, iss.agents.people[name].confidant)
    orders = {ev.target: ev.args["text"] for ev in spec.events if ev.action == "send_message" and ev.actor}
    for o in crew.orders:
        if o["sent"]:
            assert f"fall within {o['fall_hours']} hours" in orders[o["to"]]
        else:
            assert o["to"] not in orders
    assert len(spec.events) == len(iss.events) - sum(not o["sent"] for o in crew.orders)
    # the scenario itself is untouched
    assert load_scenario("iss").agents.people == iss.agents.people


def test_prepare_sets_the_co_players_trust_and_suspicion(iss):
    from issim.runner import Runner

    crew = pops.draw("paranoid", iss, ROLE, 3)
    spec = pops.apply(iss, crew)
    run = Runner(spec, seed=3)
    before = run.sim.state["agents.trust"].copy()
    pops.prepare(run.sim, crew, spec)
    st = run.sim.state
    names = list(run.sim.people)
    i = names.index(ROLE)
    assert st["agents.suspicion"][i] == 0.0
    assert np.array_equal(st["agents.trust"][i], before[i])  # the role's own mind is the scenario's
    nico, gordon, nika = (names.index(n) for n in ("Nicholai Pulov", "Gordon Barrett", "Weronika Vetrov"))
    m = crew.people["Nicholai Pulov"]
    assert st["agents.suspicion"][nico] == m["suspicion"]
    assert st["agents.trust"][nico, i] == m["trust_across"]
    assert st["agents.trust"][nico, names.index("Alexey Pulov")] == m["trust_own"]
    assert st["agents.trust"][gordon, nika] == before[gordon, nika] == 0.95  # a bond is kept


# ------------------------------------------------------------------------ the command


def check_shares(result: dict, episodes: int, role: str = ROLE) -> None:
    for name, s in result["populations"].items():
        assert s["episodes"] == episodes == len(s["runs"])
        assert [r["seed"] for r in s["runs"]] == list(range(result["seeds"][0], result["seeds"][1] + 1))
        assert sum(e["runs"] for e in s["endings"]) == episodes
        rows = s["endings"] + [s["role_survives"], s["faction_holds_segment"], s["faction_holds_station"]]
        for row in rows:
            lo, hi = row["ci95"]
            assert 0.0 <= lo <= row["share"] <= hi <= 1.0, row
            assert row["share"] == pytest.approx(row["runs"] / episodes)
        assert s["role_survives"]["runs"] == sum(r["role_alive"] for r in s["runs"])
        for r in s["runs"]:
            assert r["population"] == name and role not in r["crew"]["people"]
            assert r["holds_segment"] >= r["holds_station"]
            assert r["holds_segment"] == any(h == [r["faction"]] for h in r["held"].values())


def test_the_same_arguments_give_the_same_result(capsys):
    args = ["random", "--role", ROLE, *CRISIS, "--population", "paranoid", "--episodes", "2", "--seed", "3", "--json"]
    status, first, err = evaluate(capsys, *args)
    assert status == 0, err
    assert evaluate(capsys, *args)[1] == first
    result = json.loads(first)
    assert (result["policy"], result["role"], result["faction"], result["start"]) == ("random", ROLE, "usa", "+30h")
    check_shares(result, 2)
    runs = result["populations"]["paranoid"]["runs"]
    assert runs[0]["crew"] != runs[1]["crew"]
    assert all(r["steps"] > 0 for r in runs if r["role_alive"])


def test_workers_give_the_same_result_as_one_process(capsys):
    args = ["cooperative", "--role", ROLE, *QUIET, "--population", "loyalist", "--population", "mixed",
            "--episodes", "2", "--json"]
    status, one, err = evaluate(capsys, *args)
    assert status == 0, err
    assert evaluate(capsys, *args, "--jobs", "2")[1] == one
    check_shares(json.loads(one), 2)


def test_the_crew_mind_reference_runs_and_is_shown_as_tables(capsys):
    status, out, err = evaluate(capsys, "mind", "--role", "Gordon Barrett", *CRISIS, "--population", "loyalist",
                                "--population", "cooperative", "--episodes", "2", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert list(result["populations"]) == ["loyalist", "cooperative"]
    check_shares(result, 2, "Gordon Barrett")
    for s in result["populations"].values():
        assert all(r["steps"] == 0 for r in s["runs"])  # no environment: the crew mind decides
    status, out, err = evaluate(capsys, "mind", "--role", "Gordon Barrett", *QUIET, "--population", "paranoid",
                                "--episodes", "1")
    assert status == 0 and not err
    for text in ("mind as Gordon Barrett (usa)", "Per population", "role survives", "Ending classes", "paranoid"):
        assert text in out


POLICY_FILE = """
calls = []

class Waiter:
    \"\"\"Waits; remembers its seed and the seeds of its resets.\"\"\"

    def __init__(self, seed):
        calls.append(("init", seed))

    def reset(self, seed=None):
        calls.append(("reset", seed))

    def __call__(self, agent, obs, env):
        assert agent == "Kira Foster" and obs["action_mask"][0]
        return 0


def wait(agent, obs, env):
    return 0
"""


def test_a_users_policy_is_loaded_from_a_module_or_a_file_and_reset_per_episode(capsys, tmp_path, monkeypatch):
    (tmp_path / "my_waiter.py").write_text(POLICY_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    status, out, err = evaluate(capsys, "my_waiter:Waiter", "--role", ROLE, *QUIET, "--population", "mixed",
                                "--episodes", "2", "--seed", "5", "--json")
    assert status == 0, err
    assert sys.modules["my_waiter"].calls == [("init", 5), ("reset", 5), ("reset", 6)]
    by_class = json.loads(out)
    status, out, err = evaluate(capsys, str(tmp_path / "my_waiter.py") + ":wait", "--role", ROLE, *QUIET,
                                "--population", "mixed", "--episodes", "2", "--seed", "5", "--json")
    assert status == 0, err
    assert json.loads(out) == {**by_class, "policy": str(tmp_path / "my_waiter.py") + ":wait"}


BAD_FILE = """
def broken(agent, obs, env):
    raise KeyError("no such thing")

def wrong(agent, obs, env):
    return "wait"

NOT_CALLABLE = 3
"""


@pytest.mark.parametrize("args, source, says", [
    (["cooperative", "--role", "Kira"], "--role", "no crew member 'Kira'"),
    (["cooperative", "--role", ROLE, "--population", "friendly"], "--population", "no population 'friendly'"),
    (["cooperative", "--role", ROLE, "--population", "mixed,nope"], "--population", "no population 'nope'"),
    (["cooperative", "--role", ROLE, "--episodes", "0"], "--episodes", "0 is outside [1, 100000]"),
    (["cooperative", "--role", ROLE, "--episodes", "-2"], "--episodes", "-2 is outside"),
    (["cooperative", "--role", ROLE, "--start", "+4d"], "--start", "past the end of iss"),
    (["cooperative", "--role", ROLE, "--hours", "0"], "--hours", "outside (0, 87840]"),
    (["cooperative", "--role", ROLE, "--jobs", "0"], "--jobs", "outside [1, 64]"),
    (["greedy", "--role", ROLE], "POLICY", "'greedy' is not a policy; give random, cooperative, mind"),
    (["{tmp}/missing.py:act", "--role", ROLE], "POLICY", "no file"),
    (["{tmp}/bad.py:absent", "--role", ROLE], "POLICY", "has no 'absent'"),
    (["{tmp}/bad.py:NOT_CALLABLE", "--role", ROLE], "POLICY", "is not callable"),
    (["no_such_module_here:act", "--role", ROLE], "POLICY", "no module 'no_such_module_here'"),
    (["{tmp}/bad.py:broken", "--role", ROLE, *QUIET, "-n", "1", "--population", "mixed"], "POLICY",
     "raised KeyError: 'no such thing'"),
    (["{tmp}/bad.py:wrong", "--role", ROLE, *QUIET, "-n", "1", "--population", "mixed"], "POLICY",
     "returned 'wait', not an action index"),
])
def test_bad_input_is_one_line_and_exit_2(args, source, says, capsys, tmp_path):
    (tmp_path / "bad.py").write_text(BAD_FILE)
    status, out, err = evaluate(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert status == 2
    assert not out
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"issim: error: {source}: ") and says in err, err
