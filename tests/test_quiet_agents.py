"""The agents' cheaper frames (issue 11, item 3) give what the plain readings gave.

The crisis story reads small arrays as lists, works out who menaces once a frame and keeps
the decisions made as a set; the crew mind decides on a snapshot that copies each array
once; the crew's harm skips masked writes with nobody in the mask and, with no deficit,
takes health as 1 - injury. Each is checked here against the plain reading it replaced,
over states with the parts they read scrambled (the run digests and the golden telemetry
check the whole).
"""

import numpy as np
import pytest

from issim.agents import crisis
from issim.physics import crew as crew_model
from issim.runner import Runner
from issim.scenario import load_scenario
from issim.sim.state import StateSnapshot


@pytest.fixture(scope="module")
def sim():
    spec = load_scenario("iss")
    return Runner(spec, seed=1, end_ms=spec.start_ms + 3_600_000).sim


def _story(sim):
    return next(s for s in sim.subsystems if s.name == "agents").story


def _threats_plain(story, a, p):
    """``Story.threats`` as it read before (element by element)."""
    if not np.count_nonzero(a["agents.intent"]):
        return []
    s = int(a["agents.side"][p])
    betrayer = int(a["agents.plot"][crisis.BETRAYER])
    return [q for q in range(story.n) if story._up(a, q) and int(a["agents.side"][q]) != s
            and (int(a["agents.intent"][q]) in crisis.SEEN
                 or (q == betrayer and int(a["agents.intent"][q]) == crisis.BETRAY and int(a["agents.clock"][1]) > 0))]


def test_threats_read_as_lists_are_the_plain_threats(sim):
    story = _story(sim)
    a = sim.state.arrays
    saved = {k: a[k].copy() for k in ("agents.intent", "agents.side", "agents.plot", "agents.clock", "crew.alive",
                                       "crew.conscious", "crew.location", "control.departed")}
    rng = np.random.default_rng(7)
    n = story.n
    try:
        for _ in range(300):
            a["agents.intent"][:] = rng.choice([0, crisis.KILL, crisis.HUNT, crisis.BETRAY, crisis.GUARD, crisis.SUBDUE],
                                               size=n)
            a["agents.side"][:] = rng.integers(0, 3, size=n)
            a["agents.plot"][crisis.BETRAYER] = rng.integers(-1, n)
            a["agents.clock"][1] = rng.integers(0, 2)
            a["crew.alive"][:] = rng.random(n) < 0.8
            a["crew.conscious"][:] = rng.random(n) < 0.8
            a["control.departed"][:] = rng.random(a["control.departed"].size) < 0.1
            for p in range(n):
                assert story.threats(a, p) == _threats_plain(story, a, p)
            assert story._ups(a) == [story._up(a, q) for q in range(n)]
    finally:
        for k, v in saved.items():
            a[k][:] = v


def test_decisions_made_follow_each_new_decisions_tuple(sim):
    story = _story(sim)
    state = sim.state
    saved = state.facts["agents.decisions"]
    try:
        state.facts["agents.decisions"] = ()
        assert not story._decided(state, "d3_eva")
        state.facts["agents.decisions"] = ((0, "d3_eva", story.names[1], "go", True),)
        assert story._decided(state, "d3_eva") and story._decided_by(state, "d3_eva", 1)
        assert not story._decided_by(state, "d3_eva", 0) and not story._decided(state, "d4_cut_radio")
        state.facts["agents.decisions"] = ()  # a restore to before it
        assert not story._decided(state, "d3_eva") and not story._decided_by(state, "d3_eva", 1)
    finally:
        state.facts["agents.decisions"] = saved


def test_a_snapshot_copies_each_array_once_and_never_writes_through(sim):
    snap = StateSnapshot(sim.state)
    loc = snap["crew.location"]
    assert snap["crew.location"] is loc and np.array_equal(loc, sim.state["crew.location"])
    assert loc is not sim.state["crew.location"] and not loc.flags.writeable
    with pytest.raises(ValueError):
        loc[0] = 3
    assert snap.t_ms == sim.state.t_ms and "crew.alive" in snap


def test_health_with_no_deficit_is_one_minus_injury_to_the_bit():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        injury = np.where(rng.random(n) < 0.3, 0.0, rng.random(n))
        alive = rng.random(n) < 0.8
        deficit = np.zeros((n, 3))
        if rng.random() < 0.2:
            deficit[rng.integers(0, n), rng.integers(0, 3)] = -0.0
        plain = crew_model.health(deficit, injury, alive)
        quick = np.where(alive, 1.0 - injury, 0.0)
        assert plain.tobytes() == quick.tobytes()
