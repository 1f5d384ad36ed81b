"""The control map is kept with the bytes of what it is worked out from (``MAP_INPUTS``), and
reused whenever they match: so those must be everything it reads. A map kept for a key
that missed an input was reused after that input changed (a task begun or ended), and a
run ended with a map that was not the station's (``iss`` seed 143)."""

from __future__ import annotations

import numpy as np

from issim.control.controlmap import MAP_INPUTS, Situation, control_map
from issim.runner import Runner
from issim.sim.state import Arrays


def _read_by_the_map(run) -> set:
    """The state keys one working out of the map reads."""
    seen: set = set()
    get, has = Arrays.__getitem__, Arrays.__contains__

    class Watched(Arrays):
        def __getitem__(self, k):
            seen.add(k)
            return get(self, k)

        def __contains__(self, k):
            seen.add(k)
            return has(self, k)

    state = run.sim.state.scratch()
    state.arrays = Watched(state.arrays)
    custody = next(s for s in run.sim.subsystems if s.name == "control")
    control_map(Situation(state, custody.map.d, reach=True), custody.map.probes(state), custody.map.d.actors)
    return seen


def test_the_map_reads_only_what_it_is_kept_with():
    for scenario, hours in (("nominal", 2), ("iss", 40), ("standoff", 6)):
        run = Runner(scenario, hours=hours)
        run.run()
        read = _read_by_the_map(run)
        assert read and read <= set(MAP_INPUTS), sorted(read - set(MAP_INPUTS))


def test_the_kept_map_is_the_map_worked_out_afresh_through_a_crisis():
    run = Runner("iss", seed=143, until_resolved=True)
    custody = next(s for s in run.sim.subsystems if s.name == "control")
    checked = 0
    while not run.finished:
        run.run(until=run.sim.state.t_ms + 3_600_000)
        kept = custody.map.compute(run.sim.state)
        fresh = control_map(Situation(run.sim.state, custody.map.d, reach=True), custody.map.probes(run.sim.state),
                            custody.map.d.actors)
        assert np.array_equal(kept, fresh), run.sim.state.t_ms
        checked += 1
    assert checked > 40
    assert custody.map.named(run.sim.state)["USOS.power"] == ["usa", "russia"]  # (the stale map said usa alone)
