"""A kernel bound to the state's arrays (``issim.sim.bound.Bound``) reuses them only while they
are provably the same objects: every way of changing the arrays' mapping counts, a restored
or scratch state is another mapping, and an array rebound with another type goes back
through numba's dispatcher. A run whose arrays are rebound mid-way ends bit for bit where
one left alone does."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numba import njit

from issim.runner import Runner
from issim.sim.bound import Bound
from issim.sim.state import Arrays, State


@njit
def _add(x, y, k):
    x[0] += y[0] * k
    return x[0]


class Counted:
    """A kernel whose calls through numba's dispatcher are counted (its overloads are its own)."""

    def __init__(self, kernel):
        self.kernel, self.calls = kernel, 0
        self.overloads = kernel.overloads

    def __call__(self, *args):
        self.calls += 1
        return self.kernel(*args)


def _bound():
    return Bound(_add, lambda a: (a["x"], a["y"]))


def test_every_change_of_the_mapping_counts():
    a = Arrays(x=np.zeros(1))
    changes = [
        lambda: a.__setitem__("y", np.zeros(1)), lambda: a.__delitem__("y"), lambda: a.update(y=np.ones(1)),
        lambda: a.setdefault("z", np.ones(1)), lambda: a.pop("z"), lambda: a.__ior__({"z": np.ones(1)}),
        lambda: a.popitem(), lambda: a.clear(),
    ]
    for change in changes:
        before = a.generation
        change()
        assert a.generation > before
    a["x"] = np.zeros(1)
    before = a.generation
    a["x"][0] = 5.0  # writing into an array is not a rebinding
    assert a.generation == before


def test_a_state_keeps_its_arrays_counted():
    assert type(State().arrays) is Arrays
    st = State(arrays={"x": np.zeros(1)})
    assert type(st.arrays) is Arrays and type(st.copy().arrays) is Arrays
    back = pickle.loads(pickle.dumps(st))
    assert type(back.arrays) is Arrays and back.arrays.keys() == {"x"}


def test_a_kept_value_lasts_while_the_arrays_are_the_same():
    from issim.sim.state import Kept

    st = State(arrays={"x": np.zeros(1)})
    kept = Kept()
    kept.keep(st.arrays, st.arrays.generation, "worked out")
    assert kept.get(st.arrays) == "worked out"
    st["x"][0] = 1.0  # written into: still the same array objects
    assert kept.get(st.arrays) == "worked out"
    assert kept.get(st.copy().arrays) is None  # another dict
    st["x"] = np.zeros(1)  # rebound
    assert kept.get(st.arrays) is None
    kept.keep(st.arrays, st.arrays.generation - 1, "stale")  # rebound since it was worked out: not kept
    assert kept.get(st.arrays) is None and kept.arrays is None
    kept.keep({"x": np.zeros(1)}, 0, "plain")  # a plain dict counts nothing: not kept
    assert kept.arrays is None
    assert pickle.loads(pickle.dumps(kept)).arrays is None


def test_the_bound_kernel_follows_rebinding_restores_and_types():
    st = State(arrays={"x": np.zeros(1), "y": np.ones(1)})
    k = _bound()
    assert k(st.arrays, 2.0) == 2.0  # the dispatcher, then kept
    assert k._kept.arrays is st.arrays
    assert k(st.arrays, 2.0) == 4.0  # the kept tuple
    st["y"] = np.full(1, 10.0)  # rebound: gathered again
    assert k(st.arrays, 1.0) == 14.0
    st["x"] = np.zeros(1, dtype=np.int64)  # another type: the dispatcher again (another overload)
    assert k(st.arrays, 1.0) == 10 and st["x"].dtype == np.int64
    assert k(st.arrays, 1.0) == 20
    st["y"] = np.full(3, 2.0)[::2]  # another layout (strided): looked up again, not taken for the last
    assert k(st.arrays, 1.0) == 22 and k._kept.arrays is st.arrays
    st["y"] = np.full(1, 10.0)  # back to the first layout
    assert k(st.arrays, 1.0) == 32
    other = st.copy()  # another mapping (a restore): gathered from it, the old one untouched
    assert k(other.arrays, 1.0) == 42 and st["x"][0] == 32
    scratch = st.scratch()  # copy-on-read arrays: never kept, always gathered
    assert k(scratch.arrays, 1.0) == 42 and k._kept.arrays is None and st["x"][0] == 32
    plain = {"x": np.zeros(1), "y": np.ones(1)}  # a plain dict: never kept
    assert k(plain, 1.0) == 1.0 and k._kept.arrays is None


def _digest(sim) -> tuple:
    st = sim.state
    return sim.event_log_sha256(), {k: v.tobytes() for k, v in st.arrays.items()}, dict(st.totals)


@pytest.mark.parametrize("scenario", ["nominal", "leak"])
def test_a_run_with_its_arrays_rebound_ends_where_one_left_alone_does(scenario):
    plain = Runner(scenario, hours=2)
    plain.run()
    rebound = Runner(scenario, hours=2)
    sim = rebound.sim
    for hour in (0.5, 1.0, 1.5):
        rebound.run(until=sim.start_ms + int(hour * 3_600_000))
        for key in ("atm.moles", "power.bus", "crew.alive", "ls.tank_kg", "water.store_kg"):
            sim.state[key] = sim.state[key].copy()  # the same numbers, other objects
        sim.restore(sim.snapshot())  # and another mapping
    rebound.run()
    assert _digest(rebound.sim) == _digest(plain.sim)


def test_the_per_frame_values_choose_the_overload_too():
    """A kept entry point is reused only for per-frame values of the types it was looked up
    with: a float after an int goes to the float overload (not the int one, truncated)."""
    st = State(arrays={"x": np.zeros(1), "y": np.ones(1)})
    b = _bound()
    assert b(st.arrays, 1) == 1.0
    st["y"] = np.ones(1)  # rebound, alike: the entry looked up last would do for the arrays
    assert b(st.arrays, 2.5) == 3.5
    assert b(st.arrays, 2.5) == 6.0


def test_a_tuple_gathered_again_alike_skips_the_dispatcher():
    """A rebinding to an array of the same type (and int per-frame values of int64 size) goes
    to the overload looked up last without numba's check of every argument; an array of
    another type inside a nested tuple, or a per-frame value of another type, goes through
    it again."""

    @njit
    def nested(t, k):
        return t[0][0] + t[1][0] + k

    k = Counted(nested)
    b = Bound(k, lambda a: ((a["x"], a["y"]),))
    st = State(arrays={"x": np.zeros(1), "y": np.ones(1)})
    assert b(st.arrays, 1) == 2.0 and k.calls == 1
    st["y"] = np.full(1, 2.0)  # rebound alike: the kept overload
    assert b(st.arrays, 2) == 4.0 and k.calls == 1
    st["y"] = np.full(1, 2, dtype=np.int64)  # another type inside the tuple: the dispatcher
    assert b(st.arrays, 2) == 4.0 and k.calls == 2
    st["y"] = np.full(1, 3, dtype=np.int64)  # alike again
    assert b(st.arrays, 2) == 5.0 and k.calls == 2
    st["y"] = np.full(1, 4, dtype=np.int64)
    assert b(st.arrays, 0.5) == 4.5 and k.calls == 3  # a float after an int: the float overload


def test_another_bound_of_the_kernel_starts_from_its_last_lookup():
    """Another run's Bound of the same kernel (another station's) goes to the overload the
    last one looked up when its arguments are alike, without numba's check of every
    argument; unlike ones still go through the dispatcher."""

    @njit
    def scaled(x, k):
        x[0] *= k
        return x[0]

    k = Counted(scaled)
    first = Bound(k, lambda a: (a["x"],))
    assert first(State(arrays={"x": np.ones(1)}).arrays, 2.0) == 2.0 and k.calls == 1
    second = Bound(k, lambda a: (a["x"],))  # a new run's: the same types
    assert second(State(arrays={"x": np.full(1, 3.0)}).arrays, 2.0) == 6.0 and k.calls == 1
    third = Bound(k, lambda a: (a["x"],))  # another dtype: the dispatcher, and its own overload
    assert third(State(arrays={"x": np.full(1, 3, dtype=np.int64)}).arrays, 2.0) == 6.0 and k.calls == 2
