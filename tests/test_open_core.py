"""The open core: frames in phases, step(actions), observe(person), policies outside the engine,
the one run façade, and snapshots that carry a crisis."""

from __future__ import annotations

import numpy as np
import pytest

from issim.agents.mind import CrewMind
from issim.agents.policies import Idle, RandomLegal, Scripted
from issim.control import Command, history
from issim.runner import Runner
from issim.scenario import build_simulation, parse_scenario

MIN = 60_000
HOUR = 3_600_000

SMALL = """
[scenario]
name = "sight"
title = "who sees what"
start = 2025-03-10T00:00:00Z
days = 0.1

[station]
closed_hatches = {closed}

[agents]
interval_s = 60

[[crew]]
name = "Ruslan"
agency = "roscosmos"
module = "zarya"

[[crew]]
name = "Ann"
agency = "nasa"
module = "zarya"

[[crew]]
name = "Bob"
agency = "nasa"
module = "pma-1"
"""


def _sight_run(closed: bool) -> Runner:
    spec = parse_scenario(SMALL.format(closed='["zarya-pma-1"]' if closed else "[]").encode(), "sight.toml")
    run = Runner(spec)
    t0 = run.sim.start_ms
    run.assign("Ruslan", Scripted([(t0 + MIN, Command.of("stop_desat", "Ruslan", "ROS", source="agent")),
                                   (t0 + 2 * MIN, Command.of("refuse_burns", "Ruslan", "ROS", source="agent"))]))
    run.run(t0 + 30 * MIN)
    return run


def test_a_hatch_closed_in_ones_face_is_seen_from_both_sides():
    spec = parse_scenario(SMALL.format(closed="[]").encode(), "sight.toml")
    run = Runner(spec)
    t0 = run.sim.start_ms
    run.assign("Ruslan", Scripted([(t0 + MIN, Command.of("close_hatch", "Ruslan", "zarya-pma-1", source="agent"))]))
    run.assign("Ann", Scripted([]))  # Ann is not of the story here: Bob alone, across the hatch
    run.run(t0 + 10 * MIN)
    sim = run.sim
    assert [h["result"] for h in history(sim.state) if h["actor"] == "Ruslan"] == ["done"]
    assert sim.state["agents.sightings"][sim.people.index("Bob")] == 1


@pytest.mark.parametrize("closed", [True, False])
def test_an_agent_does_not_react_to_a_hostile_act_it_could_not_see(closed):
    run = _sight_run(closed)
    sim = run.sim
    done = [h["command"] for h in history(sim.state) if h["actor"] == "Ruslan" and h["result"] == "done"]
    assert done == ["stop_desat", "refuse_burns"]
    ann, bob = sim.people.index("Ann"), sim.people.index("Bob")
    goal, sightings = sim.state["agents.goal"], sim.state["agents.sightings"]
    # Ann stood beside him: she saw both acts, and now means to hold her segment.
    assert sightings[ann] == 2 and goal[ann] == 2
    if closed:  # Bob was behind a closed hatch: he saw nothing, suspects nothing, does nothing
        assert sightings[bob] == 0 and goal[bob] == 0 and sim.state["agents.suspicion"][bob] == 0
        assert not any(h["actor"] == "Bob" for h in history(sim.state))
    else:  # the same acts across an open hatch: he saw them
        assert sightings[bob] == 2 and goal[bob] == 2


class Cautious:
    """A custom policy: stays in its module until an order reaches it, then closes the first
    hatch it may; keeps what it saw (for the test) but decides from the observation only."""

    def __init__(self):
        self.seen = []

    def decide(self, obs):
        self.seen.append(obs)
        if not obs.able or not obs.messages:
            return []
        if obs.allowed.get("close_hatch") is not None:
            return []
        for link in obs._sim.world.links:  # try the hatches of the module they are in
            cmd = Command.of("close_hatch", obs.person, link.hatch, source="agent")
            if obs._sim.world.volumes[link.a].id == obs.location or obs._sim.world.volumes[link.b].id == obs.location:
                if obs.check(cmd).ok:
                    return [cmd]
        return []


def test_iss_with_a_custom_policy_for_one_person_and_agents_for_the_rest():
    me = Cautious()
    run = Runner("iss", seed=3, hours=32, policies={"Gordon Barrett": me})  # orders at 30.5 h
    run.run()
    sim = run.sim
    assert sim.t_ms == run.end_ms and me.seen
    # it was asked before every frame, and saw only what one person can
    assert len(me.seen) == sim.state.frame
    last = me.seen[-1]
    assert last.person == "Gordon Barrett" and set(last.body) >= {"alive", "conscious", "health"}
    assert "Gordon Barrett" not in last.in_sight
    # every command in his name is one the custom policy returned, and none the crew mind's
    mine = [h for h in history(sim.state) if h["actor"] == "Gordon Barrett"]
    assert mine and all(h["command"] == "close_hatch" for h in mine)
    assert any(m["id"] == "order-houston" for m in last.messages)
    # the others kept their crew minds: Moscow's order reached Nicholai, who took it up
    assert isinstance(run.policies["Nicholai Pulov"], CrewMind)
    assert sim.state["agents.goal"][sim.people.index("Nicholai Pulov")] == 1
    assert run.outcome()["ending"]


def test_observe_shows_what_one_person_can_know():
    run = Runner("standoff")
    run.run(run.sim.start_ms + 10 * HOUR)
    sim = run.sim
    maya = sim.observe("Maya Torres")
    assert maya.location in {v.id for v in sim.world.volumes}
    orders = [m for m in maya.messages if m["text"].lower().startswith("order")]
    assert orders and all(m["from"] == "houston" for m in orders)  # Moscow's order went to Pavel, not to her
    pavel = sim.observe("Pavel Orlov")
    assert not any(m["from"] == "houston" for m in pavel.messages)
    # the mask: one entry per command; bodily commands allowed, a Russian-only lever refused with a reason
    assert set(maya.allowed) >= {"move", "close_hatch", "confront"}
    assert maya.allowed["move"] is None
    assert isinstance(maya.allowed["undock"], (str, type(None)))
    # laptops: only a module of a segment whose laptops accept her
    for seg in maya.laptops:
        assert seg == maya.segment
    with pytest.raises(KeyError):
        sim.observe("Nobody")


def test_checking_a_command_copies_only_what_it_touches(monkeypatch):
    from issim.sim.state import State

    sim = build_simulation("standoff")
    scratches = []
    real_scratch = State.scratch

    def watched(self):
        scratches.append(real_scratch(self))
        return scratches[-1]

    monkeypatch.setattr(State, "scratch", watched)
    maya = sim.people.index("Maya Torres")
    here = sim.world.volumes[int(sim.state["crew.location"][maya])].id
    before = {k: v.copy() for k, v in sim.state.arrays.items()}
    to = next(l for l in sim.world.links if here in (sim.world.volumes[l.a].id, sim.world.volumes[l.b].id))
    there = sim.world.volumes[to.b if sim.world.volumes[to.a].id == here else to.a].id
    r = sim.observe("Maya Torres").check(Command.of("move", "Maya Torres", there, source="agent"))
    assert r.result == "done" and r.dry_run
    (scratch,) = scratches
    copied = dict.__len__(scratch.arrays)
    assert 0 < copied < len(sim.state.arrays) / 5  # a handful of arrays, not the ~150 of the state
    assert scratch["crew.location"][maya] != before["crew.location"][maya]  # the move was tried there...
    assert all(np.array_equal(before[k], sim.state.arrays[k]) for k in before)  # ...and nowhere else
    assert not scratch.log or scratch.log is not sim.state.log


def test_a_command_in_someone_elses_name_is_refused_and_recorded():
    sim = build_simulation("standoff")
    out = sim.step({"Maya Torres": [Command.of("move", "Pavel Orlov", "destiny", source="agent")]})
    (r,) = out.commands
    assert r.result == "refused" and "in the name of" in r.message
    assert history(sim.state)[-1]["actor"] == "Pavel Orlov" and history(sim.state)[-1]["result"] == "refused"


def test_commands_run_in_the_first_phase_before_the_physics():
    sim = build_simulation("standoff")
    t0 = sim.t_ms
    out = sim.step({"Maya Torres": [Command.of("move", "Maya Torres", "unity", source="agent")]})
    assert out.t_ms == t0 and out.commands[0].t_ms == t0 and out.commands[0].ok
    assert sim.t_ms == t0 + sim.dt_ms


def test_snapshot_restore_is_bit_identical_mid_crisis():
    run = Runner("iss-canon", seed=2)
    sim = run.sim
    while not (sim.state["agents.intent"].any() and sim.state["crew.on_eva"].any()):
        run.step()
        assert sim.t_ms < run.end_ms
    snap = sim.snapshot()
    later = sim.t_ms + 2 * HOUR
    run.run(later)
    first = sim.state.copy()
    sim.restore(snap)
    run.run(later)
    assert first.identical(sim.state)
    assert len(first.log) > len(snap.state.log)  # the crisis went on in those two hours


def test_idle_and_random_legal_policies():
    run = Runner("standoff", hours=2, policies={n: Idle() for n in ("Maya Torres", "Pavel Orlov")})
    run.assign("Daniel Reyes", RandomLegal(every_s=600))
    run.run()
    cmds = history(run.sim.state)
    assert not [h for h in cmds if h["actor"] in ("Maya Torres", "Pavel Orlov")]
    mine = [h for h in cmds if h["actor"] == "Daniel Reyes"]
    assert mine and all(h["result"] == "done" for h in mine)  # drawn only among what would pass
    with pytest.raises(KeyError):
        run.assign("Nobody", Idle())
    with pytest.raises(TypeError):
        run.assign("Maya Torres", object())


def test_a_snapshot_of_another_simulation_is_refused():
    a, b = build_simulation("nominal"), build_simulation("iss")
    snap = a.snapshot()
    with pytest.raises(ValueError, match="another simulation"):
        b.restore(snap)
    a.step()
    a.restore(snap)  # its own: fine
    assert a.state.identical(snap.state)
