"""The compiled atmosphere kernel against the numpy reference it replaces (1e-10 relative:
the two differ only in the order of their floating-point sums), and the tree solve against
a dense one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issim.physics.atm_kernel import tree_order, tree_solve
from issim.scenario import build_simulation
from issim.sim import Event

from kernel_check import same_frame


@given(st.integers(2, 30), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_tree_solve_equals_the_dense_solve(n, seed):
    rng = np.random.default_rng(seed)
    a = np.array([int(rng.integers(0, i)) for i in range(1, n)], dtype=np.int64)  # a random tree
    b = np.arange(1, n, dtype=np.int64)
    w = rng.uniform(0, 1e3, n - 1) * (rng.random(n - 1) < 0.8)  # some hatches closed (weight 0)
    inv_d = rng.uniform(1e-6, 1e-2, n)
    rhs = rng.uniform(0, 1e4, n)
    dense = np.diag(inv_d)
    for e in range(n - 1):
        for i, j, sign in ((a[e], a[e], 1), (b[e], b[e], 1), (a[e], b[e], -1), (b[e], a[e], -1)):
            dense[i, j] += sign * w[e]
    order, parent, link = tree_order(n, a, b)
    # These random systems reach a condition number of about 1e7, so either solve is good
    # to about 1e7 x 2e-16: the two agree within 1e-8.
    assert np.allclose(tree_solve(order, parent, link, inv_d, w, rhs), np.linalg.solve(dense, rhs), rtol=1e-8, atol=0)


def test_a_cycle_is_not_a_tree():
    assert tree_order(3, np.array([0, 1, 2]), np.array([1, 2, 0])) is None
    assert tree_order(4, np.array([0, 2]), np.array([1, 3])) is not None  # a forest is fine


@pytest.mark.parametrize("case", ["quiet", "leak", "closed-and-valve", "big-hole"])
def test_kernel_frame_equals_the_reference_frame(case):
    sim = build_simulation("nominal")
    atm = next(s for s in sim.subsystems if s.name == "atm")
    links = sim.world.link_index
    if case == "leak":
        sim.schedule(Event(sim.t_ms, "hole", "poisk", (("diameter_mm", 5.0),)))
    if case == "closed-and-valve":
        sim.schedule(Event(sim.t_ms, "hole", "zvezda", (("area_m2", 1e-4),)))
        sim.schedule(Event(sim.t_ms + 600_000, "close_hatch", "zarya-zvezda"))
        sim.schedule(Event(sim.t_ms + 1_200_000, "equalize", "zarya-zvezda"))
    if case == "big-hole":  # drains faster than a frame: sub-steps
        sim.schedule(Event(sim.t_ms, "hole", "zvezda", (("area_m2", 0.05),)))
    sim.run(sim.t_ms + 1_260_000)
    if case == "closed-and-valve":
        assert not sim.state["hatch.open"][links["zarya-zvezda"]] and sim.state["hatch.valve_open"][links["zarya-zvezda"]]
    for _ in range(3):
        kernel_state, _ = same_frame(atm, sim, ("atm.moles", "atm.pp_pa", "atm.pressure_pa", "atm.leak_kg_per_day"),
                                     rtol=1e-10)
        if case != "quiet":  # the frame did something to compare
            assert not np.array_equal(kernel_state["atm.moles"], sim.state["atm.moles"])
        sim.step()
