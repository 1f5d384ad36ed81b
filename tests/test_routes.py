"""Paths through the station (issim.station.routes) and the one reckoning of fight odds."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from issim.control import confront as fight
from issim.sim import build_world
from issim.station import routes
from issim.station.routes import Topology

# A small station: a ring 0-1-2-3-0 with a spur 2-4.
#   links: 0: 0-1, 1: 1-2, 2: 2-3, 3: 3-0, 4: 2-4
RING = Topology(5, (0, 1, 2, 3, 2), (1, 2, 3, 0, 4))
ALL_OPEN = [True] * 5


def test_adjacency_lists_both_ends_in_link_order():
    assert RING.adj[0] == ((1, 0), (3, 3))
    assert RING.adj[2] == ((1, 1), (3, 2), (4, 4))


def test_path_is_shortest_and_takes_the_first_neighbour_of_equal_ones():
    # 0 -> 2 is two steps either way round; link 0 (to 1) comes before link 3 (to 3).
    assert routes.path(RING, ALL_OPEN, 0, 2) == [(1, 0), (2, 1)]
    assert routes.path(RING, ALL_OPEN, 0, 4) == [(1, 0), (2, 1), (4, 4)]
    assert routes.path(RING, ALL_OPEN, 3, 3) == []


def test_path_through_open_hatches_only_unless_told_otherwise():
    shut = [False, True, True, True, True]  # 0-1 closed: the way round through 3
    assert routes.path(RING, shut, 0, 2) == [(3, 3), (2, 2)]
    cut = [True, True, True, True, False]  # the spur closed
    assert routes.path(RING, cut, 0, 4) is None
    assert routes.path(RING, None, 0, 4) == [(1, 0), (2, 1), (4, 4)]  # a way one could open


def test_path_passes_a_locked_hatch_only_from_the_side_that_locked_it():
    lock = [-1, -1, -1, -1, 4]  # the spur locked from 4, inside
    assert routes.path(RING, None, 0, 4, lock_side=lock) is None
    assert routes.path(RING, None, 4, 0, lock_side=lock) == [(2, 4), (1, 1), (0, 0)]


def test_path_never_enters_an_avoided_volume():
    avoid = [False, True, False, False, False]
    assert routes.path(RING, ALL_OPEN, 0, 2, avoid=avoid) == [(3, 3), (2, 2)]
    assert routes.path(RING, ALL_OPEN, 0, 1, avoid=avoid) is None


def test_components_reachable_and_closed_exits():
    open_ = [True, False, True, False, True]  # {0, 1} and {2, 3, 4}
    comp = routes.components(RING, open_)
    assert comp[0] == comp[1] and comp[2] == comp[3] == comp[4] and comp[0] != comp[2]
    assert routes.reachable(RING, open_, 4, 3)
    assert not routes.reachable(RING, open_, 0, 4)
    assert routes.reachable(RING, [False] * 5, 2, 2)
    assert routes.closed_exits(RING, open_, 0) == [1, 3]
    assert routes.closed_exits(RING, ALL_OPEN, 0) == []


def test_in_sight_is_one_volume_or_one_open_hatch():
    open_ = [True, False, True, True, True]
    assert routes.in_sight(RING, open_, 2, 2)
    assert routes.in_sight(RING, open_, 0, 1) and routes.in_sight(RING, open_, 1, 0)
    assert not routes.in_sight(RING, open_, 1, 2)  # joined, but the hatch is shut
    assert not routes.in_sight(RING, open_, 0, 2)  # two volumes apart


# ---------------------------------------------------------------------------- the station


@pytest.fixture(scope="module")
def world():
    return build_world()


def test_real_station_boundary_hatch_divides_the_segments(world):
    top = Topology.of(world)
    v, k = world.index, world.link_index
    assert top.n == len(world.volumes) and len(top.a) == len(world.links)
    open_ = np.ones(len(world.links), dtype=bool)
    assert routes.path(top, open_, v["destiny"], v["zvezda"]) is not None
    boundary = [i for i, link in enumerate(world.links) if link.boundary]
    assert boundary == [k["zarya-pma-1"]]
    open_[boundary] = False
    assert routes.path(top, open_, v["destiny"], v["zvezda"]) is None
    assert not routes.reachable(top, open_, v["destiny"], v["zvezda"])
    assert routes.closed_exits(top, open_, v["zvezda"]) == boundary
    # Still the way one would open one's way along, unless locked from the far side.
    assert routes.path(top, None, v["unity"], v["zarya"]) == [(v["pma-1"], k["pma-1-unity"]),
                                                             (v["zarya"], k["zarya-pma-1"])]
    lock = np.full(len(world.links), -1)
    lock[k["zarya-pma-1"]] = v["zarya"]
    assert routes.path(top, None, v["unity"], v["zarya"], lock_side=lock) is None


def test_real_station_in_sight(world):
    top = Topology.of(world)
    v, k = world.index, world.link_index
    open_ = np.ones(len(world.links), dtype=bool)
    assert routes.in_sight(top, open_, v["unity"], v["destiny"])
    assert not routes.in_sight(top, open_, v["unity"], v["harmony"])  # Destiny between
    open_[k["unity-destiny"]] = False
    assert not routes.in_sight(top, open_, v["unity"], v["destiny"])


def _imports(py: Path):
    """The modules a file of issim.station imports, relative ones spelled out from ``issim``."""
    for node in ast.walk(ast.parse(py.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ("issim.station", "issim")[node.level - 1] if node.level else ""
            yield ".".join(x for x in (base, node.module) if x)


def test_station_is_a_low_layer():
    """station/ reads plain data: it imports nothing of the simulation above it."""
    above = {"sim", "physics", "control", "agents", "scenario", "archive"}
    for py in Path(routes.__file__).parent.glob("*.py"):
        for name in _imports(py):
            parts = name.split(".")
            assert not (parts[0] == "issim" and len(parts) > 1 and parts[1] in above), f"{py.name} imports {name}"


# ---------------------------------------------------------------------------- fight odds


def test_margin_is_monotone_in_health():
    healths = [0.5, 0.7, 0.9, 1.0]
    margins = [fight.margin([h, 1.0], [False, False], 0, 1) for h in healths]
    assert margins == sorted(margins) and len(set(margins)) == len(margins)
    against = [fight.margin([1.0, h], [False, False], 0, 1) for h in healths]
    assert against == sorted(against, reverse=True)


def test_margin_armed_surprise_and_helpers_count_as_documented():
    well = [1.0, 1.0]
    assert fight.margin(well, [False, False], 0, 1) == 0.0
    assert fight.margin(well, [True, False], 0, 1) == pytest.approx(fight.ARMED)
    assert fight.margin(well, [False, True], 0, 1) == pytest.approx(-fight.ARMED)
    assert fight.margin(well, [False, False], 0, 1, surprise=True) == pytest.approx(fight.SURPRISE)
    many = fight.margin(well, [False, False], 0, 1, helpers=(fight.MAX_HELPERS + 3, 0))
    assert many == pytest.approx(fight.HELP * fight.MAX_HELPERS)
    assert fight.prevail_probability(fight.margin(well, [True, False], 0, 1)) == 1.0  # 0.3 decides it


def test_helpers_count_each_side_and_none_within_one_side():
    present = [True, True, True, True, False]
    side = [0, 1, 0, 1, 0]
    assert fight.helpers(present, side, 0, 1) == (1, 1)  # 2 with 0, 3 with 1; 4 is not there
    assert fight.helpers(present, side, 0, 2) == (0, 0)  # a quarrel within one side
    assert present == [True, True, True, True, False]  # not changed
