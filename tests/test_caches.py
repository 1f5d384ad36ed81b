"""The per-process caches (issue 11, item 6): the bundled scenarios, data files, station and
element sets are read once a process, and what one run does to what it was handed never
reaches another run."""

from __future__ import annotations

import dataclasses
from importlib import resources

import numpy as np
import pytest

from issim.inputs import bundled_toml
from issim.orbit import catalog
from issim.physics.power import load_power_config, read_power_data
from issim.runner import Runner
from issim.scenario import load_scenario, parse_scenario
from issim.station import load_station


def fresh_scenario(name: str):
    raw = resources.files("issim.data").joinpath("scenarios", f"{name}.toml").read_bytes()
    return parse_scenario(raw, f"issim/data/scenarios/{name}.toml")


def test_a_bundled_scenario_is_a_new_copy_each_time():
    first = load_scenario("iss")
    assert first == fresh_scenario("iss")
    first.crew.pop()
    first.events.clear()
    with pytest.raises(Exception):  # its records are frozen; only its lists could be changed
        first.scenario.seed = 12345
    again = load_scenario("iss")
    assert again is not first and again.crew is not first.crew
    assert again == fresh_scenario("iss")


def test_bundled_data_files_are_copies():
    raw = bundled_toml("power.toml")
    before = load_power_config()
    raw["usos_arrays"]["wing"].clear()
    raw["usos_battery"]["oru_count"] = 0
    read_power_data()["attitude"].clear()
    assert bundled_toml("power.toml") != raw
    assert load_power_config() == before


def test_element_sets_are_read_only():
    sets = catalog.bundled_sets()
    first = sets[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.epoch_ms = 0
    with pytest.raises(TypeError):
        first.omm_fields["BSTAR"] = 0.0
    before = dict(first.omm_fields)
    omm = first.to_omm()
    omm["BSTAR"] = -1.0  # a copy: the set is unchanged
    assert dict(first.omm_fields) == before
    sets.clear()  # the list handed out is the caller's own
    assert catalog.bundled_sets()[0] is first


def test_the_station_is_shared_and_frozen():
    station = load_station()
    assert load_station() is station
    with pytest.raises(Exception):
        station.modules = ()
    with pytest.raises(Exception):
        station.modules[0].id = "elsewhere"
    assert isinstance(station.modules, tuple) and isinstance(station.hatches, tuple)


def test_a_run_that_changes_what_it_was_handed_changes_no_other_run():
    first = Runner("nominal", hours=3)
    first.run()
    digest = first.sim.event_log_sha256()
    state = first.sim.state
    first.scenario.crew.clear()
    first.scenario.events.clear()
    state.facts["orbit.omm"]["MEAN_MOTION"] = 1.0  # the run's own copy of its element set
    second = Runner("nominal", hours=3)
    assert second.scenario == fresh_scenario("nominal")
    second.run()
    assert second.sim.event_log_sha256() == digest
    third = Runner("nominal", hours=3)
    third.run()
    assert third.sim.state.identical(second.sim.state)


def test_the_orbit_tables_are_kept_for_the_next_run_alike():
    from kernel_check import run_digest

    from issim.orbit import environment
    from issim.runner import Runner

    environment._KEPT.clear()
    first = Runner("nominal", hours=3)
    first.run()
    assert len(environment._KEPT) == 1
    kept = next(iter(environment._KEPT.values()))
    again = Runner("nominal", hours=3)
    again.run()
    assert again.sim.environment._rows is kept  # the same chunk's tables: not computed again
    alone = Runner("nominal", hours=3)
    alone.sim.environment.keep = False  # computed for this run alone
    alone.run()
    assert alone.sim.environment._rows is not kept
    assert run_digest(first.sim) == run_digest(again.sim) == run_digest(alone.sim)


def test_another_orbit_or_start_has_tables_of_its_own_and_few_are_kept():
    from issim.orbit import environment
    from issim.orbit.upkeep import orbit_of
    from issim.runner import Runner

    environment._KEPT.clear()
    run = Runner("nominal", hours=1)
    run.run()
    burned = Runner("nominal", hours=1)
    elements = orbit_of(burned.sim.state)
    omm = dict(elements.to_omm())
    omm["MEAN_MOTION"] = omm["MEAN_MOTION"] * 1.0001  # another orbit, the same epoch
    burned.sim.state.facts["orbit.omm"] = omm
    burned.sim.state["orbit.version"][0] += 1
    burned.run()
    assert len(environment._KEPT) == 2
    assert not np.array_equal(burned.sim.environment._rows[0], run.sim.environment._rows[0])
    for k in range(environment.KEPT + 3):  # other starts: the oldest go
        environment.Environment(run.sim.start_ms + k * 1000, run.sim.dt_ms).at(run.sim.state)
    assert len(environment._KEPT) == environment.KEPT


def test_only_the_first_days_of_a_run_that_ends_within_them_are_kept():
    from issim.orbit import environment
    from issim.runner import Runner

    environment._KEPT.clear()
    days = environment.KEPT_CHUNKS
    short = Runner("nominal", days=days)
    short.run()
    assert sorted(k[2] for k in environment._KEPT) == list(range(days))
    first = next(v for k, v in environment._KEPT.items() if k[2] == 0)

    environment._KEPT.clear()
    long = Runner("nominal", days=days + 2)  # planned past the kept days: it keeps none of its own
    long.run()
    assert not environment._KEPT

    short = Runner("nominal", days=days)
    short.run()
    again = Runner("nominal", days=days + 2)
    again.run(until=again.sim.start_ms + 3_600_000)
    kept = next(v for k, v in environment._KEPT.items() if k[2] == 0)
    assert again.sim.environment._rows is kept  # but it reads those kept
    assert kept[0].tobytes() == first[0].tobytes() and len(environment._KEPT) == days  # and they stay


def test_what_runs_alike_are_built_from_is_made_once_and_only_for_them():
    """The crew's schedule tables, the atmosphere's and the crew's channels and the start's
    altitudes are made once a process for what they are made from: another seed shares them,
    another crew or start gets its own, and each run's list of channels is its own list."""
    from issim.scenario.load import parse_scenario

    first, again = Runner("nominal", seed=1, hours=1), Runner("nominal", seed=2, hours=1)
    crew = [next(s for s in r.sim.subsystems if s.name == "crew") for r in (first, again)]
    assert crew[0].schedule is crew[1].schedule and crew[0]._cum is crew[1]._cum
    mine, theirs = crew[0].channels(), crew[1].channels()
    assert mine == theirs and mine is not theirs and all(a is b for a, b in zip(mine, theirs))
    mine.clear()
    assert crew[1].channels() == theirs  # (a list handed out is the caller's)
    assert first.state["orbit.alt_km"][0] == again.state["orbit.alt_km"][0]

    raw = resources.files("issim.data").joinpath("scenarios", "nominal.toml").read_text()
    later = raw.replace("2025-03-10T", "2025-03-11T", 1)  # (another start: another altitude)
    assert later != raw and "Maya Torres" in raw
    renamed = raw.replace("Maya Torres", "Maya Tores")
    runs = [Runner(parse_scenario(text.encode(), "nominal.toml"), hours=1) for text in (later, renamed)]
    assert runs[0].state["orbit.alt_km"][0] != first.state["orbit.alt_km"][0]
    crew2 = next(s for s in runs[1].sim.subsystems if s.name == "crew")
    assert crew2.schedule is not crew[0].schedule
    assert any("Maya Tores" in c.name for c in crew2.channels())
    assert not any("Maya Tores" in c.name for c in crew[0].channels())


def test_a_batch_planned_past_the_kept_days_keeps_none_either():
    from issim import Batch
    from issim.orbit import environment

    environment._KEPT.clear()
    batch = Batch("nominal", seeds=[1, 2], days=environment.KEPT_CHUNKS + 1)
    batch.run(batch[0].sim.start_ms + 3_600_000)
    assert not environment._KEPT and batch.pool.computed == 1  # one table for both, none kept for later
    short = Batch("nominal", seeds=[1, 2], hours=1)
    short.run()
    assert len(environment._KEPT) == 1
