"""Properties over random sequences (hypothesis): gas is conserved whatever the hatches and
holes do; a snapshot restores bit for bit at any cut; no sequence of commands, however
malformed, raises, escapes the history, or writes outside the keys its subsystem owns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issim.control import CATALOGUE, Command, history
from issim.physics.atmosphere import Atmosphere
from issim.physics.gas import SPECIES, gas_totals_key
from issim.physics.power import PowerBuses
from issim.scenario import build_simulation
from issim.sim import Event, Simulation, WriteGuard, build_world

WORLD = build_world()
HATCHES = [l.hatch for l in WORLD.links]
VOLUMES = [v.id for v in WORLD.volumes]
FRAME_MS = 10_000

hatch_events = st.tuples(st.sampled_from(["open_hatch", "close_hatch", "equalize"]), st.sampled_from(HATCHES))
hole_events = st.tuples(st.sampled_from(["hole"]), st.sampled_from(VOLUMES), st.floats(1e-7, 5e-4))
patch_events = st.tuples(st.sampled_from(["patch"]), st.sampled_from(VOLUMES))
timed = st.tuples(st.integers(0, 60), st.one_of(hatch_events, hole_events, patch_events))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(timed, max_size=12))
def test_gas_is_conserved_under_random_hatches_and_holes(events):
    """Each species: what is in the cabin = what was there - what leaked out (relative 1e-9)."""
    sim = Simulation(WORLD, [PowerBuses(), Atmosphere(WORLD)], start_ms=0)
    for frame, ev in events:
        args = (("area_m2", ev[2]),) if ev[0] == "hole" else ()
        sim.schedule(Event(frame * FRAME_MS, ev[0], ev[1], args))
    sim.run(80 * FRAME_MS)
    now, start = sim.state["atm.moles"].sum(axis=0), sim.state["atm.initial_moles"].sum(axis=0)
    for i, s in enumerate(SPECIES):
        out = sim.state.totals.get(gas_totals_key("out", s, "leak"), 0.0)
        assert now[i] == pytest.approx(start[i] - out, rel=1e-9, abs=1e-9), s


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 400), st.integers(1, 200), st.integers(0, 3))
def test_snapshot_restore_is_bit_identical_at_any_cut(cut, more, seed):
    sim = build_simulation("leak", seed=seed)
    sim.run(sim.start_ms + cut * sim.dt_ms)
    snap = sim.snapshot()
    sim.run(sim.t_ms + more * sim.dt_ms)
    first = sim.state.copy()
    sim.restore(snap)
    sim.run(sim.t_ms + more * sim.dt_ms)
    assert first.identical(sim.state)


ACTORS = ["Maya Torres", "Pavel Orlov", "Daniel Reyes", "houston", "moscow", "operator", "nobody", ""]
TARGETS = ["", "ROS", "USOS", "zarya-pma-1", "unity-destiny", "destiny", "zvezda", "cdra-1", "elektron",
           "soyuz-ms", "progress-ms", "usos-s-band", "Pavel Orlov", "Maya Torres", "no-such-thing"]
VALUES = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["auto", "", "destiny", "Maya Torres", "order: take-control"]), st.none())
commands = st.builds(
    lambda name, actor, target, args, source: Command(name, actor, target, args, source),
    st.one_of(st.sampled_from(sorted(CATALOGUE)), st.text(max_size=8)),
    st.sampled_from(ACTORS), st.sampled_from(TARGETS),
    st.one_of(st.lists(st.tuples(st.sampled_from(["on", "to", "dv_m_s", "text", "rate_kg_day", "x"]), VALUES),
                       max_size=3).map(tuple), st.just(("not", "pairs"))),
    st.sampled_from(["agent", "cli", "ground", "browser", "scenario", "?"]),
)

_STANDOFF = build_simulation("standoff")
_START = _STANDOFF.snapshot()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, min_size=1, max_size=6))
def test_no_sequence_of_commands_raises_or_escapes_the_pipeline(cmds):
    sim = _STANDOFF
    sim.restore(_START)
    with WriteGuard(sim) as guard:
        for cmd in cmds:
            before = len(history(sim.state))
            out = sim.step({cmd.actor: [cmd]} if isinstance(cmd.actor, str) else [cmd])
            (r,) = out.commands
            assert r.result in ("done", "started", "refused", "failed")  # (started: work that takes time)
            assert r.reason != "internal_error", r.message  # a refusal, never a bug
            assert len(history(sim.state)) == before + 1  # every attempt, and only it, is recorded
    assert not guard.violations, guard.report()
    assert np.isfinite(sim.state["atm.moles"]).all()


def _bundled_text(name: str) -> str:
    from importlib import resources

    return resources.files("issim.data").joinpath("scenarios", f"{name}.toml").read_text()


_ISS_LINES = _bundled_text("iss").splitlines()
VALUE_TOKENS = ["0", "-1", "1e400", "nan", "inf", "true", '"x"', "[]", "{}", '"+1h"', '"2025-03-10T00:00:00Z"',
                "[[1]]", '"zvezda"', "999999999999999999999", '""', "3.5"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_ISS_LINES) - 1), st.sampled_from(["drop", "value", "dup"]),
                          st.sampled_from(VALUE_TOKENS)), min_size=1, max_size=4))
def test_a_mangled_scenario_is_read_or_refused_in_one_line(edits):
    """The film's scenario with lines dropped, doubled or given odd values: it builds, or it is
    refused with an InputError naming the file: never another exception."""
    from issim.errors import InputError
    from issim.scenario import parse_scenario

    lines = list(_ISS_LINES)
    for i, how, token in edits:
        if how == "drop":
            lines[i] = ""
        elif how == "dup":
            lines.insert(i, lines[i])
        elif "=" in lines[i] and not lines[i].lstrip().startswith("#"):
            lines[i] = lines[i].split("=", 1)[0] + "= " + token
    raw = "\n".join(lines).encode()
    try:
        build_simulation(parse_scenario(raw, "mangled.toml"))
    except InputError as err:
        assert err.source.startswith("mangled.toml") and "\n" not in err.message
