"""The recorder's sample as one compiled call (numba): every recorded array copied into a row.

``np.concatenate`` costs about 0.14 µs an array, whatever its size; a sample of ``nominal``
gathers 60 small arrays (477 numbers). This kernel copies them from their memory, given as
addresses, sizes and kinds (float64, bool, int64), in one call with four arguments, into
row ``n`` of the recorder's chunk: the numbers ``np.concatenate(..., casting="unsafe")``
writes there (a float64 copied as it is, a bool as 0.0 or 1.0, an int64 converted to the
nearest float64, as numpy's cast).

The addresses are read by :class:`~issim.sim.telemetry.Recorder` from arrays it holds
(so their memory cannot be freed or moved: numpy refuses to resize an array another
object refers to) and only while the state's arrays are the same objects
(:class:`~issim.sim.state.Arrays` and its generation); anything else (an array not
C-contiguous, another dtype) is recorded by ``np.concatenate`` as before.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, types
from numba.extending import intrinsic

from . import kernels
from .kernel_stamp import stamp_with_callees
from .kernels import BOOL, FLOAT64, INT64, KINDS  # noqa: F401 (KINDS: the kinds, for callers)


def _pointer_to(numba_type):
    @intrinsic
    def as_pointer(typingctx, address):
        sig = types.CPointer(numba_type)(types.int64)

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(types.CPointer(numba_type)))

        return sig, codegen

    return as_pointer


_f8 = _pointer_to(types.float64)
_u1 = _pointer_to(types.uint8)
_i8 = _pointer_to(types.int64)


@njit(cache=True)
def record_row(addresses, sizes, kinds, rows, n):
    """Copy each array (``addresses[j]``: ``sizes[j]`` numbers of kind ``kinds[j]``) in turn
    into ``rows[n]``."""
    k = 0
    for j in range(addresses.size):
        m = sizes[j]
        kind = kinds[j]
        if kind == FLOAT64:
            f = carray(_f8(addresses[j]), m)
            for i in range(m):
                rows[n, k + i] = f[i]
        elif kind == BOOL:
            b = carray(_u1(addresses[j]), m)
            for i in range(m):
                rows[n, k + i] = 1.0 if b[i] != 0 else 0.0
        else:
            q = carray(_i8(addresses[j]), m)
            for i in range(m):
                rows[n, k + i] = np.float64(q[i])
        k += m


STAMPED = stamp_with_callees(record_row, (kernels,))
