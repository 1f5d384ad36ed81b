"""The agents on events (issue 11, item 3): a frame with nothing for the minds skips them.

``Agents.update`` returns at once when its quiet test holds (nothing new in the log, no
minute's tick, no one due, no story under way, no suspicion at the threshold); the full
update (``Agents._update``) otherwise, and inside it the story is asked only when it could
act. Each run here is held bit for bit to the same run with the full update forced on every
frame: the event log, every final state array and every telemetry channel.
"""

import pytest

from issim.runner import Runner
from kernel_check import run_digest


def _agents(run):
    return next(s for s in run.sim.subsystems if s.name == "agents")


def _forced(run):
    """Make ``run``'s agents take the full update on every frame (the reference)."""
    agents = _agents(run)
    agents.update = lambda state, env, dt_s: agents._update(state, state.arrays, state.t_ms, state.log)
    return run




@pytest.mark.parametrize("scenario,hours,seed", [("nominal", 6, None), ("iss", 34, 1), ("iss-canon", 36, 1)])
def test_skipping_quiet_frames_changes_nothing(scenario, hours, seed):
    quick = Runner(scenario, hours=hours, seed=seed)
    skipped = [0]
    full = _agents(quick)._update

    def counted(*args):
        skipped[0] -= 1
        return full(*args)

    _agents(quick)._update = counted
    quick.run()
    skipped[0] += quick.sim.state.frame
    reference = _forced(Runner(scenario, hours=hours, seed=seed))
    reference.run()
    assert run_digest(quick.sim) == run_digest(reference.sim)
    assert skipped[0] > quick.sim.state.frame // 2  # most frames were quiet (else this checks little)


def test_restore_and_state_written_between_frames():
    """A restore to an earlier frame, and minds written from outside between frames (as a
    tool or a test does), are seen on the next frame: the quiet test keeps no state of its own."""
    def play(run):
        sim = run.sim
        run.run(until=sim.start_ms + 2 * 3_600_000)
        snap = sim.snapshot()
        run.run(until=sim.start_ms + 3 * 3_600_000)
        sim.restore(snap)  # back an hour: the minds' times are earlier again
        run.run(until=sim.start_ms + 2 * 3_600_000 + 610_000)  # (between two minutes' ticks)
        sim.state.arrays["agents.suspicion"][1] = 0.9  # she comes to suspect the other side: holds her segment
        run.step()
        goal = int(sim.state["agents.goal"][1])
        run.run(until=sim.start_ms + 2 * 3_600_000 + 630_000)
        sim.state.arrays["agents.next_ms"][2] = sim.state.t_ms  # he thinks now
        run.run(until=sim.start_ms + 2 * 3_600_000 + 700_000)
        return sim, goal

    quick, goal = play(Runner("nominal", hours=4))
    reference, _ = play(_forced(Runner("nominal", hours=4)))
    assert goal == 2  # hold-segment, taken on the first frame after the write
    assert run_digest(quick) == run_digest(reference)
