"""The declared state (issim.sim.schema): every key has one owner, its shape and dtype as
declared, and no subsystem changes a key it neither owns nor declares it writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from issim import cli
from issim.control import Command, complete
from issim.control.custody import Custody
from issim.runner import Runner
from issim.scenario import build_simulation, bundled_names, parse_scenario
from issim.sim import Event, SchemaError, Simulation, WriteGuard, check_schema
from issim.sim.schema import describe, run_dims, schema_problems

HOURS = 3_600_000
C = Command.of


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_scenario_matches_its_declaration(name):
    sim = Runner(name)
    check_schema(sim)
    dims = run_dims(sim)
    assert dims["people"] == len(sim.state.facts["crew.names"])
    assert dims["volumes"] == len(sim.world.volumes) and dims["links"] == len(sim.world.links)
    owners = {}
    for row in describe(sim):
        assert row["key"] not in owners
        owners[row["key"]] = row["owner"]
    assert set(sim.state.arrays) <= set(owners) and set(sim.state.facts) <= set(owners)
    assert owners["hatch.open"] == "atm" and owners["crew.location"] == "crew"
    assert owners["control.departed"] == "control" and owners["orbit.version"] == "engine"


def test_the_check_finds_what_does_not_match():
    sim = Runner("nominal")
    st = sim.state
    st["stray.thing"] = np.zeros(3)
    st["crew.alive"] = st["crew.alive"].astype(np.int64)
    st["atm.leak_area_m2"] = np.zeros(len(sim.world.volumes) + 1)
    st.facts["crew.names"] = list(st.facts["crew.names"])
    del st.arrays["power.soc"]
    problems = schema_problems(sim)
    assert "array stray.thing is in the state but no one declares it" in problems
    assert "crew.alive (crew) is int64, declared bool" in problems
    n = len(sim.world.volumes)
    assert f"atm.leak_area_m2 (atm) has shape ({n + 1},), declared ('volumes',) = ({n},)" in problems
    assert "fact crew.names (crew) is a list, declared tuple" in problems
    assert "power.soc is declared by power but its reset did not create it" in problems
    with pytest.raises(SchemaError, match="stray.thing"):
        check_schema(sim)


def test_a_layout_found_sound_is_not_checked_again_but_another_is(monkeypatch):
    """Every build checks its state against the declarations; a state laid out exactly as one
    found sound before (another seed) is not gone over again, one with anything else is."""
    from issim.sim import schema

    checked = []
    problems = schema.schema_problems
    monkeypatch.setattr(schema, "schema_problems", lambda sim: checked.append(sim) or problems(sim))
    monkeypatch.setattr(schema, "_SOUND", schema.Memo(64))
    first, second = Runner("nominal", seed=1), Runner("nominal", seed=2)
    check_schema(first.sim)
    check_schema(second.sim)
    assert checked == [first.sim]
    second.state["stray.thing"] = np.zeros(3)
    with pytest.raises(SchemaError, match="stray.thing"):
        check_schema(second.sim)
    second.state.facts["crew.names"] = list(second.state.facts["crew.names"])
    del second.state.arrays["stray.thing"]
    with pytest.raises(SchemaError, match="crew.names"):
        check_schema(second.sim)


def test_a_read_of_a_key_no_one_owns_is_refused(monkeypatch):
    from issim.sim.schema import Schema

    sim = Runner("nominal")
    atm = next(s for s in sim.subsystems if s.name == "atm")
    declared = atm.schema()
    monkeypatch.setattr(atm, "schema", lambda: Schema(declared.owns, declared.reads + ("power.nothing",),
                                                       dims=declared.dims))
    assert "atm reads power.nothing, which no one owns" in schema_problems(sim)
    monkeypatch.setattr(atm, "schema", lambda: Schema(declared.owns, declared.reads, dims={"volumes": 3}))
    assert schema_problems(sim)[0].startswith("dimension 'volumes' is")


# --------------------------------------------------------------------------- writes


def _guarded(name: str, hours: float) -> tuple[Simulation, WriteGuard]:
    sim = Runner(name)
    with WriteGuard(sim) as guard:
        sim.run(sim.t_ms + int(hours * HOURS))
    return sim, guard


@pytest.mark.parametrize("name, hours", [("iss-canon", 38), ("leak", 31)])
def test_no_subsystem_writes_what_another_owns(name, hours):
    sim, guard = _guarded(name, hours)
    assert guard.report() == []
    events = [e for e in sim.event_log() if e["kind"] in ("command", "event")]
    assert len(events) >= (40 if name == "iss-canon" else 5)  # lots of commands and events were watched
    assert sim.handlers["open_hatch"].update.__func__ is type(sim.handlers["open_hatch"]).update  # unwrapped


DAY = """
extends = "nominal"
[scenario]
start = 2025-03-10T10:00:00Z

[station]
vehicles = ["soyuz-ms", "progress-ms", "crew-dragon"]
"""
MAYA, PAVEL, IRINA, DMITRI = "Maya Torres", "Pavel Orlov", "Irina Volkova", "Dmitri Sokolov"


def _day() -> Simulation:
    sim = build_simulation(parse_scenario(DAY.encode(), "test.toml"))
    sim.step()
    return sim


def _where(sim, name):
    crew = next(s for s in sim.subsystems if s.name == "crew")
    return sim.world.volumes[int(sim.state["crew.location"][crew.names.index(name)])].id


def test_carrying_and_undocking_go_through_the_owners():
    sim = _day()
    with WriteGuard(sim, strict=True) as guard:
        sim.schedule(Event(sim.t_ms, "injure", DMITRI, (("severity", 0.7),)))
        sim.step()
        ok = sim.command(C("move", PAVEL, "zarya"))
        assert ok.ok, ok
        carried = sim.command(C("carry", PAVEL, DMITRI, to="unity"))
        assert carried.ok, carried
        assert _where(sim, DMITRI) == _where(sim, PAVEL) == "unity"
        for cmd in (C("move", PAVEL, "rassvet"), C("board", PAVEL, "soyuz-ms"),
                    C("close_hatch", PAVEL, "rassvet-soyuz"), C("undock", PAVEL, "soyuz-ms")):
            assert complete(sim, cmd).result == "done", cmd
        sim.schedule(Event(sim.t_ms, "open_hatch", "rassvet-soyuz"))
        sim.step()
    assert guard.violations == []
    moved = [e for e in sim.event_log() if e["kind"] == "crew" and e.get("why", "").startswith("carried")]
    assert moved and moved[-1]["person"] == DMITRI and moved[-1]["origin"] == "zarya" and moved[-1]["module"] == "unity"
    refused = [e for e in sim.event_log() if e["kind"] == "event" and e["action"] == "open_hatch"][-1]
    assert refused["result"] == "refused" and "soyuz-ms has undocked" in refused["reason"]
    assert not sim.state["hatch.open"][sim.world.link_index["rassvet-soyuz"]]


def test_the_guard_names_a_write_into_a_key_another_owns(monkeypatch):
    """The writes custody used to make itself, put back: the guard refuses them."""

    def carry_by_hand(self, c, person, to):  # the old carry: the crew's crew.location, written by control
        problem = c.dispatch(Event(c.state.t_ms, "move", self.names[c.me], (("to", to),)))
        if problem:
            return problem
        c.state["crew.location"][person] = self.directory.volume_index[to]
        return None

    monkeypatch.setattr(Custody, "carry", carry_by_hand)
    sim = _day()
    with WriteGuard(sim) as guard:
        sim.schedule(Event(sim.t_ms, "injure", DMITRI, (("severity", 0.7),)))
        sim.step()
        sim.command(C("move", PAVEL, "zarya"))
        assert sim.command(C("carry", PAVEL, DMITRI, to="unity")).ok
    assert [v[1:] for v in guard.violations] == [("control", "command carry", "crew.location")]
    assert guard.report()[0].endswith("control (command carry) changed crew.location, owned by crew")

    custody = next(s for s in sim.subsystems if s.name == "control")
    update = custody.update

    def shut_hatches(state, env, dt_s):  # the old _keep_departed_shut: the atmosphere's hatch.open
        update(state, env, dt_s)
        state["hatch.open"][0] = not state["hatch.open"][0]

    monkeypatch.setattr(custody, "update", shut_hatches)
    with pytest.raises(SchemaError, match=r"control \(update\) changed hatch.open"):
        with WriteGuard(sim, strict=True):
            sim.step()


# --------------------------------------------------------------------------- the CLI


def _cli(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_state_table_and_json(capsys):
    status, out, err = _cli(capsys, "state", "leak")
    assert status == 0 and err == ""
    row = next(line for line in out.splitlines() if "hatch.open " in line)
    assert " atm " in row and "bool" in row
    assert "130 keys" in out or "keys (docs/state.md)" in out
    status, out, err = _cli(capsys, "state", "leak", "--json")
    assert status == 0
    rows = {r["key"]: r for r in json.loads(out)}
    sim = Runner("leak")
    assert set(sim.state.arrays) | set(sim.state.facts) <= set(rows)
    moles = rows["atm.moles"]
    assert (moles["owner"], moles["shape"], moles["resolved"], moles["dtype"], moles["unit"]) == (
        "atm", ["volumes", "gases"], [len(sim.world.volumes), 4], "float64", "mol")
    assert set(moles["writers"]) == {"crew", "lifesupport"}
    assert "crew" in rows["hatch.open"]["readers"] and "atm" in rows["control.departed"]["readers"]
    assert rows["crew.names"]["kind"] == "fact"


def test_cli_state_bad_scenario(capsys):
    status, out, err = _cli(capsys, "state", "no-such-scenario")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no-such-scenario" in err


def test_a_run_lays_its_arrays_out_flat_as_the_one_station_of_its_layout():
    from issim.sim.state import Flat

    run = Runner("nominal", hours=1)
    sim = run.sim
    flat = sim.flat
    assert len(flat) == 1 and sim.flat_row == 0
    assert set(flat.buffers) == {np.dtype(t) for t in ("float64", "int64", "bool")}  # one buffer a dtype
    assert sum(b.size for b in flat.buffers.values()) == sum(v.size for v in sim.state.arrays.values())
    for key, value in sim.state.arrays.items():
        assert flat.stacked[key].shape == (1, *value.shape) and value.flags.c_contiguous, key
        assert not value.size or np.shares_memory(value, flat.stacked[key][0]), key
    snap = sim.snapshot()
    run.run()
    later = sim.state.copy()
    sim.restore(snap)
    assert flat.intact(0, sim.state) and sim.state.identical(snap.state)
    assert not np.shares_memory(snap.state["atm.moles"], flat.buffers[np.dtype(np.float64)])  # plain data
    run.run()
    assert sim.state.identical(later)  # the same run again, in the same rows

    with pytest.raises(ValueError, match="no states"):
        Flat([])
    other = Runner("nominal", hours=1).sim.state
    other.arrays["atm.extra"] = np.zeros(2)
    with pytest.raises(ValueError, match="other arrays than state 0"):
        Flat([sim.state, other])
    with pytest.raises(ValueError, match="not laid out here"):
        flat.adopt(0, other)
    assert flat.intact(0, sim.state)  # refused before anything was copied

    sim.state["atm.extra"] = np.ones(3)  # an array added after the layout (as a test harness may)
    assert not flat.intact(0, sim.state)
    snap = sim.snapshot()
    sim.restore(snap)  # restored into a layout of its own, the new array in it
    assert sim.flat is not flat and sim.flat.intact(0, sim.state) and sim.state.identical(snap.state)
