"""Many stations at once (issue 11, item 5): station i of a batch is, bit for bit, the run its
seed makes alone; commands given to one station reach no other; stations end on their own;
a batch snapshot carries every station; bad input is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

import issim
from issim import Batch
from issim.control import Command
from issim.errors import InputError
from issim.runner import Runner

SEEDS = [1, 2, 7]
RANDOM = {"Maya Torres": "random", "Pavel Orlov": "random"}  # draws from each person's stream: seeds differ


def _same_station(a, b) -> None:
    """Two simulations at the same frame with the same log, state and telemetry, bit for bit."""
    sa, sb = a.state, b.state
    assert (sa.t_ms, sa.frame) == (sb.t_ms, sb.frame)
    assert a.event_log_sha256() == b.event_log_sha256()
    assert sa.arrays.keys() == sb.arrays.keys()
    for key, value in sa.arrays.items():
        other = sb.arrays[key]
        assert value.dtype == other.dtype and np.array_equal(value, other, equal_nan=value.dtype.kind == "f"), key
    assert repr(sa.facts) == repr(sb.facts)
    for ch in a.channels():
        ta, va = a.telemetry(ch.key)
        tb, vb = b.telemetry(ch.key)
        assert np.array_equal(ta, tb) and np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"), ch.key


def _alone(scenario, seed, **options) -> Runner:
    run = Runner(scenario, seed=seed, **options)
    run.run()
    return run


@pytest.mark.parametrize("policies", [None, RANDOM], ids=["minds", "random"])
def test_each_station_of_nominal_is_its_seed_run_alone(policies):
    batch = Batch("nominal", seeds=SEEDS, hours=2, policies=policies)
    batch.run()
    assert batch.finished and batch.active() == []
    for i, seed in enumerate(SEEDS):
        _same_station(batch[i].sim, _alone("nominal", seed, hours=2, policies=policies).sim)
    if policies is not None:  # the seeds make different stations, so a mix-up would show
        assert len(set(batch.digests())) == len(SEEDS)
    # one orbit table for the three stations: shared, not computed three times
    assert batch.pool.computed == 1 and batch.pool.shared == len(SEEDS) - 1


def test_each_station_of_iss_is_its_seed_run_alone_stepped_frame_by_frame():
    batch = Batch("iss", seeds=SEEDS, hours=4, policies={"Kira Foster": "random"})
    results = []
    while not batch.finished:
        results.append(batch.step())
    assert len(results) == 4 * 360
    last = results[-1]
    assert all(r is not None and r.outcome is not None for r in last)
    assert all(r.outcome is None for r in results[-2])
    for i, seed in enumerate(SEEDS):
        _same_station(batch[i].sim, _alone("iss", seed, hours=4, policies={"Kira Foster": "random"}).sim)


def test_a_campaigns_stations_are_its_runs():
    from issim.campaign.runs import plan, run_task, scenario_bytes
    from issim.scenario.load import parse_scenario

    batch = Batch.campaign("iss-dispersed", runs=2, seed=5, first=3, hours=1)
    batch.run()
    raw, source = scenario_bytes("iss-dispersed")
    tasks = plan(parse_scenario(raw, source), raw, source, [3, 4], 5, 3_600_000, False)
    assert list(batch.seeds) == [t["seed"] for t in tasks] == [8, 9]
    assert list(batch.inputs) == [t["inputs"] for t in tasks]
    assert batch.inputs[0] != batch.inputs[1]
    assert batch.digests() == [run_task(t)["digest"] for t in tasks]
    # the drawn inputs are in each station's own scenario (a loyalty is state from the start)
    loyalty = [r.sim.state["agents.loyalty"][list(r.sim.people).index("Gordon Barrett")] for r in batch]
    assert loyalty == [pytest.approx(x["gordon_loyalty"]) for x in batch.inputs]


def test_commands_given_to_one_station_reach_no_other():
    cmd = Command.of("switch", "Maya Torres", "cdra-2", on=True, source="agent")
    batch = Batch("nominal", seeds=SEEDS, hours=1)
    for frame in range(360):
        out = batch.step({1: {"Maya Torres": [cmd]}} if frame == 5 else None)
        if frame == 5:
            assert out[0].commands == () and out[2].commands == ()
            assert [r.ok for r in out[1].commands] == [True]
    assert batch.finished
    for i in (0, 2):
        _same_station(batch[i].sim, _alone("nominal", SEEDS[i], hours=1).sim)
    # station 1 is the run given the same command alone, in the same frame
    alone = Runner("nominal", seed=SEEDS[1], hours=1)
    while not alone.finished:
        acts = alone.actions()
        if alone.sim.state.frame == 5:
            acts = {**acts, "Maya Torres": acts.get("Maya Torres", []) + [cmd]}
        alone.sim.step(acts)
    _same_station(batch[1].sim, alone.sim)
    assert batch.digests()[1] != batch.digests()[0]


def test_a_station_that_ends_stops_and_the_others_go_on():
    batch = Batch("nominal", seeds=SEEDS, hours=1)
    batch.step()
    batch[1].sim.state.facts["stop"] = "lost for the test"  # as a subsystem does when the station is lost
    out = batch.step()
    assert out[1] is None and out[0] is not None and out[2] is not None
    assert batch.active() == [0, 2]
    with pytest.raises(InputError, match="station 1 has ended .lost for the test."):
        batch.step({1: [Command.of("switch", "Maya Torres", "cdra-2", on=True)]})
    batch.run()
    assert [r.sim.state.frame for r in batch] == [360, 1, 360]
    assert [r["stopped"] for r in batch.results()] == ["", "lost for the test", ""]


def test_a_batch_snapshot_carries_every_station():
    batch = Batch("nominal", seeds=SEEDS, hours=1, policies=RANDOM)
    batch.run(batch[0].sim.start_ms + 20 * 60_000)
    snap = batch.snapshot()
    batch.run()
    first = batch.digests()
    batch.restore(snap)
    assert [r.sim.state.frame for r in batch] == [120] * 3
    batch.run()
    assert batch.digests() == first
    for i, seed in enumerate(SEEDS):
        _same_station(batch[i].sim, _alone("nominal", seed, hours=1, policies=RANDOM).sim)
    other = Batch("nominal", seeds=[1, 2], hours=1)
    with pytest.raises(InputError, match="another batch"):
        other.restore(snap)


@pytest.mark.parametrize("block", [1, 7])
def test_run_in_any_block_makes_the_same_stations(block):
    a = Batch("nominal", seeds=[1, 2], hours=1, policies=RANDOM)
    seen = []
    a.run(progress=seen.append, block=block)
    assert seen[0] == block and seen[-1] == 360 and len(seen) == -(-360 // block)
    for i, seed in enumerate([1, 2]):
        _same_station(a[i].sim, _alone("nominal", seed, hours=1, policies=RANDOM).sim)
    b = Batch("nominal", seeds=[1], hours=1)
    b.run(b[0].sim.start_ms + 2 * 3_600_000)  # never past a station's end
    assert b[0].sim.state.frame == 360
    with pytest.raises(InputError, match="whole number of frames"):
        b.run(block=0)


def test_unshared_orbit_tables_make_the_same_stations():
    a = Batch("nominal", seeds=[1, 2], hours=1, policies=RANDOM)
    b = Batch("nominal", seeds=[1, 2], hours=1, policies=RANDOM, share_environment=False)
    a.run()
    b.run()
    assert b.pool is None and a.digests() == b.digests()
    for x, y in zip(a, b):
        _same_station(x.sim, y.sim)


def test_policies_for_all_stations_or_one_set_a_station():
    from issim.agents.policies import Idle, RandomLegal

    batch = Batch("nominal", seeds=[1, 2], hours=0.5, policies=[{"Maya Torres": RandomLegal}, {"Maya Torres": "idle"}])
    assert isinstance(batch[0].policies["Maya Torres"], RandomLegal)
    assert isinstance(batch[1].policies["Maya Torres"], Idle)
    shared = Batch("nominal", seeds=[1, 2], hours=0.5, policies={"Maya Torres": RandomLegal})
    assert shared[0].policies["Maya Torres"] is not shared[1].policies["Maya Torres"]  # a class: one each
    batch.run()
    _same_station(batch[0].sim, _alone("nominal", 1, hours=0.5, policies={"Maya Torres": "random"}).sim)
    _same_station(batch[1].sim, _alone("nominal", 2, hours=0.5, policies={"Maya Torres": "idle"}).sim)


def test_reading_the_stations():
    batch = Batch("nominal", seeds=[4, 5], hours=0.1)
    assert len(batch) == 2 and [r.sim.seed for r in batch] == [4, 5]
    obs = batch.observe(1, "Maya Torres")
    assert obs.person == "Maya Torres" and obs.t_ms == batch.t_ms
    batch.run()
    res = batch.results()
    assert [r["seed"] for r in res] == [4, 5] and [r["index"] for r in res] == [0, 1]
    assert res[0]["digest"] == batch[0].sim.event_log_sha256() and res[0]["frames"] == 36
    assert [o["ending"] for o in batch.outcomes()] == [r["ending"] for r in res]
    assert issim.Batch is Batch
    assert Batch("nominal", seeds=np.arange(3, 5), hours=0.1).seeds == (3, 4)  # any sequence of whole numbers


@pytest.mark.parametrize("kwargs, source, text", [
    (dict(seeds=[]), "seeds", "at least one seed"),
    (dict(seeds=3), "seeds", "a list of seeds"),
    (dict(seeds={1: 2}), "seeds", "a list of seeds"),
    (dict(seeds="123"), "seeds", "a list of seeds"),
    (dict(seeds=[1, "2"]), "seeds[1]", "whole number"),
    (dict(seeds=[1, 2.5]), "seeds[1]", "whole number"),
    (dict(seeds=[True]), "seeds[0]", "whole number"),
    (dict(seeds=[-1]), "seeds[0]", "at least 0"),
    (dict(seeds=[1, 2], inputs=[{}]), "inputs", "1 sets of inputs for 2 seeds"),
    (dict(seeds=[1], inputs=[{"nope": 1}]), "inputs[0]", "no dispersion named 'nope'"),
    (dict(seeds=[1], policies={"Nobody": "idle"}), "policies", "no crew member 'Nobody'"),
    (dict(seeds=[1], policies={"Maya Torres": "genius"}), "policies", "no policy 'genius'"),
    (dict(seeds=[1, 2], policies=[{}]), "policies", "one a station"),
    (dict(seeds=[1], days=1, hours=2), "hours", "not both"),
])
def test_bad_input_is_refused_in_one_line(kwargs, source, text):
    with pytest.raises(InputError, match=text) as err:
        Batch("nominal", **kwargs)
    assert err.value.source == source and isinstance(err.value, ValueError)


def test_bad_station_indices_are_refused_before_any_station_steps():
    batch = Batch("nominal", seeds=[1, 2], hours=0.1)
    for actions, text in [({2: []}, "no station 2; the batch has 2 .0 to 1."), ({-1: []}, "no station -1"),
                          ({"0": []}, "whole number from 0 to 1"), ({True: []}, "whole number"),
                          ([[]], "give \\{station index: actions\\}")]:
        with pytest.raises(InputError, match=text):
            batch.step(actions)
    assert [r.sim.state.frame for r in batch] == [0, 0]
    with pytest.raises(InputError, match="no station 5"):
        batch[5]
    with pytest.raises(InputError, match="no station 3"):
        batch.observe(3, "Maya Torres")
    with pytest.raises(InputError, match="loaded Scenario"):
        Batch(batch.scenario, seeds=[1], inputs=[{"x": 1}])
    with pytest.raises(InputError, match="whole number of runs"):
        Batch.campaign("iss-dispersed", runs=0)


def test_a_snapshot_of_a_batch_with_other_inputs_is_refused():
    drawn = Batch.campaign("iss-dispersed", runs=2, hours=1)
    plain = Batch("iss-dispersed", seeds=drawn.seeds, hours=1)  # the same seeds, the file's own values
    assert drawn.inputs != plain.inputs
    with pytest.raises(InputError, match="dispersed inputs"):
        plain.restore(drawn.snapshot())
    drawn.restore(drawn.snapshot())


def test_building_a_batch_leaves_the_cycle_collector_as_it_found_it():
    """The stations are made with Python's cycle collector paused; it is on again after (off
    if it was off), a build that fails included."""
    import gc

    assert gc.isenabled()
    Batch("nominal", seeds=[1, 2], hours=0.1)
    assert gc.isenabled()
    with pytest.raises(InputError, match=r"inputs\[1\]"):  # (refused while the second station is made)
        Batch("nominal", seeds=[1, 2], inputs=[{}, {"no_such_input": 1}], hours=0.1)
    assert gc.isenabled()
    gc.disable()
    try:
        Batch("nominal", seeds=[1], hours=0.1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_stations_are_laid_out_together_with_the_station_axis_first():
    batch = Batch("nominal", seeds=SEEDS, hours=1, policies=RANDOM)
    flat = batch.flat
    assert flat is not None and len(flat) == len(SEEDS)
    pp = batch.arrays("atm.pp_pa")  # every station at once, a view of the layout
    assert pp.shape == (len(SEEDS), *batch[0].sim.state["atm.pp_pa"].shape) and not pp.flags.writeable
    for i, run in enumerate(batch):
        for key, value in run.sim.state.arrays.items():  # each station's arrays are its row's views
            assert (not value.size or np.shares_memory(value, flat.stacked[key][i])) and value.flags.c_contiguous, key
    batch.run(batch[0].sim.start_ms + 20 * 60_000)
    snap = batch.snapshot()
    batch.run()
    assert [np.array_equal(pp[i], r.sim.state["atm.pp_pa"]) for i, r in enumerate(batch)] == [True] * 3  # it follows
    batch.restore(snap)  # restored into the same rows
    assert all(flat.intact(i, r.sim.state) for i, r in enumerate(batch))
    assert np.array_equal(pp[1], snap.stations[1].state["atm.pp_pa"])
    assert not np.shares_memory(snap.stations[1].state["atm.pp_pa"], flat.buffers[np.dtype(np.float64)])  # plain
    batch.run()
    for i, seed in enumerate(SEEDS):
        _same_station(batch[i].sim, _alone("nominal", seed, hours=1, policies=RANDOM).sim)
    with pytest.raises(InputError, match="no state array 'atm.nope'"):
        batch.arrays("atm.nope")
    batch[0].sim.state.arrays["atm.pp_pa"] = batch[0].sim.state["atm.pp_pa"].copy()  # one rebound out of it
    assert not flat.intact(0, batch[0].sim.state)
    assert batch.arrays("atm.pp_pa").flags.owndata  # read as a copy of the stations' own now
