"""The compile clock (issim.sim.compiled): it counts numba's compiling, not its cache loads."""

import numpy as np
from numba import njit

from issim.sim.compiled import CompileClock


def test_the_clock_counts_a_compile_once_and_not_a_second_call():
    @njit  # a new function, never compiled: its first call compiles it (and the helper it calls)
    def helper(x):
        return x * 2.0

    @njit
    def kernel(a):
        out = 0.0
        for x in a:
            out += helper(x)
        return out

    with CompileClock() as clock:
        assert kernel(np.arange(4.0)) == 12.0
    assert clock.kernels == ["kernel"]  # the helper compiled inside it is not counted again
    assert clock.seconds > 0.0
    assert "compiled 1 kernel in" in clock.note()
    with CompileClock() as again:
        kernel(np.arange(3.0))  # already compiled for these types
    assert again.kernels == [] and again.seconds == 0.0 and again.note() == ""


def test_outside_the_clock_nothing_is_counted():
    clock = CompileClock()
    with clock:
        pass

    @njit
    def later(x):
        return x + 1

    later(1)
    assert clock.kernels == []
