"""issim.physics.unmanaged: borrowed arrays and stack arrays are the arrays they stand for.

The compiled frame's kernels use them to skip numba's reference counts and heap
allocations; these tests hold what they must give: the same data (written through, for a
borrowed array), the shape, strides and type asked, zeros where asked, and no limit on how
often a kernel making them is called (its stack is given back at each return)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from issim.physics.unmanaged import borrowed, stack_empty, stack_zeros


@njit
def _write_through(x, y):
    bx, (by, k) = borrowed((x, (y, 2.0)))
    bx[1] = by[0] * k
    by[2] = bx[0] + 1.0
    return bx.sum() + by.sum(), bx.shape[0], by.strides[0]


def test_a_borrowed_array_is_the_array_itself():
    x, y = np.array([1.0, 2.0, 3.0]), np.arange(6.0)[::2]  # (y: strided, not contiguous)
    total, n, stride = _write_through(x, y)
    assert x.tolist() == [1.0, 0.0, 3.0]  # written through: y[0] * 2
    assert y.tolist() == [0.0, 2.0, 2.0]  # x[0] + 1
    assert total == x.sum() + y.sum() and n == 3 and stride == 16


@njit
def _stack(n, m):
    a = stack_zeros(n, np.float64)
    b = stack_empty((n, m), np.float64)
    c = stack_zeros(n, np.bool_)
    d = stack_zeros((m, n), np.int64)
    for i in range(n):
        for j in range(m):
            b[i, j] = i * 10.0 + j
    c[n - 1] = True
    d[m - 1, 0] = 7
    return a.sum(), b.copy(), b.strides, c.sum(), d.sum(), d.strides, a.copy()


@pytest.mark.parametrize("n,m", [(1, 1), (5, 3), (40, 7)])
def test_stack_arrays_have_the_shape_strides_and_zeros_asked(n, m):
    a_sum, b, b_strides, c_sum, d_sum, d_strides, a = _stack(n, m)
    assert a_sum == 0.0 and c_sum == 1 and d_sum == 7 and a.dtype == np.float64 and a.shape == (n,)
    assert b.shape == (n, m) and b_strides == (8 * m, 8)
    assert b.tolist() == [[i * 10.0 + j for j in range(m)] for i in range(n)]
    assert d_strides == (8 * n, 8)


@njit
def _worker(n):
    a = stack_zeros(n, np.float64)
    for i in range(n):
        a[i] = i
    return a[n - 1]


@njit
def _many(calls, n):
    s = 0.0
    for _ in range(calls):
        s += _worker(n)
    return s


def test_a_kernel_making_stack_arrays_can_be_called_without_end():
    """200,000 calls of 8 kB each would need 1.6 GB of stack if it were not given back."""
    assert _many(200_000, 1000) == 200_000 * 999.0
