"""Arrays numba does not count references to, for the compiled frame's kernels.

numba counts references to every array it handles: a compiled function adds one to each
array argument when it starts and takes it away where the argument is last used, a tuple
of arrays built to pass (``kernel(*(arrays + (x,)))``) counts each array again, and each
``np.empty`` asks the heap for memory and a record of it. Each count is an atomic add on
the array's record. numba's pruning of pairs of counts removes them in small functions
but not in the subsystems' kernels, whose counts sit at each argument's last use: a quiet
frame made about 500 counts and 30 allocations, some 45 % of its time.

numba skips the count of an array that has no record. This module makes two kinds:

- :func:`borrowed` gives the same arrays (data, shape and strides) without their record.
  A borrowed array must not outlive the arrays it was made from, nor reach Python: use it
  only inside the compiled call that was given the originals, which keep the memory alive.
- :func:`stack_empty` and :func:`stack_zeros` are a kernel's working arrays on its own
  stack, gone when it returns: they must not be returned, kept or made inside a loop (each
  would take more stack), and a function making them must not be inlined into a loop
  (``inline="always"``). Their size is not checked, as ``np.empty`` checks it: keep them
  to working arrays of the station's size (a kernel's come to a few kB).

The arithmetic done on them is the same, bit for bit.
"""

from __future__ import annotations

import functools

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _borrow(context, builder, typ, value):
    """``value`` of type ``typ`` with every array in it borrowed (a new reference to what is not)."""
    if isinstance(typ, types.Array):
        source = context.make_array(typ)(context, builder, value=value)
        out = context.make_array(typ)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(out, field, getattr(source, field))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()
    if isinstance(typ, types.BaseTuple):
        items = [_borrow(context, builder, t, builder.extract_value(value, i)) for i, t in enumerate(typ.types)]
        return context.make_tuple(builder, typ, items)
    context.nrt.incref(builder, typ, value)
    return value


@intrinsic
def borrowed(typingctx, value):
    """``value`` (an array, or a tuple holding arrays and tuples of them) with each array
    borrowed: see the module."""
    def codegen(context, builder, signature, args):
        return _borrow(context, builder, signature.args[0], args[0])

    return value(value), codegen


def _stack_array(zeroed: bool):
    def typer(typingctx, shape, dtype):
        if isinstance(shape, types.Integer):
            ndim = 1
        elif isinstance(shape, types.UniTuple) and isinstance(shape.dtype, types.Integer):
            ndim = shape.count
        else:
            return None
        if not isinstance(dtype, types.NumberClass):
            return None
        element = dtype.instance_type
        array = types.Array(element, ndim, "C")

        def codegen(context, builder, signature, args):
            if ndim == 1:
                dims = [context.cast(builder, args[0], shape, types.intp)]
            else:
                dims = [context.cast(builder, d, shape.dtype, types.intp)
                        for d in cgutils.unpack_tuple(builder, args[0], ndim)]
            count = functools.reduce(builder.mul, dims)
            data_type = context.get_data_type(element)
            size = context.get_abi_sizeof(data_type)
            data = builder.alloca(data_type, size=count)
            if zeroed:
                cgutils.memset(builder, data, builder.mul(count, context.get_constant(types.intp, size)), 0)
            strides, step = [], context.get_constant(types.intp, size)
            for d in reversed(dims):  # (C order)
                strides.insert(0, step)
                step = builder.mul(step, d)
            out = context.make_array(array)(context, builder)
            context.populate_array(out, data=data, shape=dims, strides=strides,
                                   itemsize=context.get_constant(types.intp, size), meminfo=None)
            return out._getvalue()

        return array(shape, dtype), codegen

    return typer


stack_empty = intrinsic(_stack_array(False))
stack_empty.__doc__ = """``np.empty(shape, dtype)`` on the calling kernel's stack: see the module."""
stack_zeros = intrinsic(_stack_array(True))
stack_zeros.__doc__ = """``np.zeros(shape, dtype)`` on the calling kernel's stack: see the module."""
