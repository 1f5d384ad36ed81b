"""The crisis at rest (issue 11): frames on which the story has nothing to act on skip it.

``Story.settled`` tests each of the film's situations for what it needs before it can act;
when none can, ``Agents`` neither calls ``Story.meet`` nor, if nothing else is due, its own
full update. Checked two ways: over states with the parts the story reads scrambled, a
state ``settled`` passes is one ``meet`` leaves as it was; and a 3-day crisis run with the
test held by ``settled`` is, bit for bit, the run with the story met on every frame.
"""

import numpy as np
import pytest

from issim.agents import crisis
from issim.runner import Runner
from kernel_check import run_digest


def _agents(run):
    return next(s for s in run.sim.subsystems if s.name == "agents")




@pytest.fixture(scope="module")
def crisis_run():
    run = Runner("iss", seed=1, hours=30)
    run.run()  # the film's crisis under way: a lure made, someone lost
    return run


def test_a_settled_story_is_one_meet_leaves_as_it_was(crisis_run):
    sim = crisis_run.sim
    state, story = sim.state, _agents(crisis_run).story
    a = state.arrays
    saved = {k: a[k].copy() for k in a}
    facts = dict(state.facts)
    n, log_len = story.n, len(state.log)
    rng = np.random.default_rng(11)
    decisions = facts["agents.decisions"]
    settled = unsettled = 0
    try:
        for trial in range(1500):
            for k, v in saved.items():
                a[k][...] = v
            state.facts["agents.decisions"] = decisions if rng.random() < 0.5 else tuple(
                d for d in decisions if rng.random() < 0.5)
            plot = a["agents.plot"]
            plot[:] = np.where(rng.random(plot.size) < 0.5, -1, rng.integers(0, n, plot.size))
            if rng.random() < 0.7:
                plot[crisis.CONFIDANT] = -1
            benign = rng.random() < 0.5  # (intentions that menace no one, or any)
            a["agents.intent"][:] = rng.choice([crisis.NONE] * 6 + ([crisis.GUARD, crisis.RESTORE, crisis.LEAVE]
                                               if benign else list(range(1, len(crisis.INTENTS)))), size=n)
            a["agents.target"][:] = rng.integers(-1, n, n)
            a["agents.since_ms"][:] = state.t_ms - rng.integers(0, 2 * crisis.PATIENCE_MS, n)
            a["agents.clock"][:] = rng.integers(0, 2, 3) * rng.integers(0, state.t_ms, 3)
            for k, p in (("control.adrift", 0.05), ("crew.bleeding", 0.05), ("crew.on_eva", 0.1)):
                a[k][:] = rng.random(n) < p
            a["crew.alive"][:] = rng.random(n) < 0.9
            a["crew.conscious"][:] = rng.random(n) < 0.9
            a["agents.side"][:] = rng.integers(0, 2, n)
            a["agents.next_ms"][:] = state.t_ms + rng.integers(0, 2 * _agents(crisis_run).crisis_ms, n)
            a["control.armed"][:] = rng.random(n) < 0.3
            if not story.settled(state):
                unsettled += 1
                continue
            settled += 1
            before = {k: a[k].copy() for k in a}
            made = state.facts["agents.decisions"]
            story.meet(state, [], [])
            assert len(state.log) == log_len, trial
            assert state.facts["agents.decisions"] is made
            for k in a:
                assert np.array_equal(a[k], before[k]), (trial, k)
    finally:
        for k, v in saved.items():
            a[k][...] = v
        state.facts.clear()
        state.facts.update(facts)
        del state.log[log_len:]
    assert settled > 100 and unsettled > 100  # both kinds of state were tried


def test_the_crisis_at_rest_is_the_crisis_met_every_frame():
    quick = Runner("iss", seed=1, days=3)
    counted = [0, 0]
    settled = _agents(quick).story.settled

    def count(state):
        s = settled(state)
        counted[s] += 1
        return s

    _agents(quick).story.settled = count
    quick.run()
    reference = Runner("iss", seed=1, days=3)
    agents = _agents(reference)
    agents.story.settled = lambda state: False
    agents.update = lambda state, env, dt_s: agents._update(state, state.arrays, state.t_ms, state.log)
    reference.run()
    assert run_digest(quick.sim) == run_digest(reference.sim)
    assert counted[1] > quick.sim.state.frame // 4  # the story at rest on many frames (else this checks little)
