"""A day aboard the nominal station with its three vehicles docked, for the tests of work
and sabotage: built once per test module, restored from its snapshot for each test.

Import what a module needs (the fixtures ``_day`` and ``sim`` as well: pytest finds
fixtures in the test module's namespace)."""

import pytest

from issim.control import complete
from issim.scenario import build_simulation, parse_scenario

DAY = """
extends = "nominal"
[scenario]
start = 2025-03-10T10:00:00Z

[station]
vehicles = ["soyuz-ms", "progress-ms", "crew-dragon"]
"""
MAYA, DANIEL, PAVEL, IRINA, DMITRI = "Maya Torres", "Daniel Reyes", "Pavel Orlov", "Irina Volkova", "Dmitri Sokolov"


@pytest.fixture(scope="module")
def _day():
    sim = build_simulation(parse_scenario(DAY.encode(), "test.toml"))
    sim.step()
    return sim, sim.snapshot()


@pytest.fixture
def sim(_day):
    s, snap = _day
    s.restore(snap)
    return s


def done(sim, *cmds):
    """Run each command to its end (work included); each must be done."""
    for cmd in cmds:
        r = complete(sim, cmd)
        assert r.result == "done", (cmd, r)
    return r
