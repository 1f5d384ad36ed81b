"""A compiled kernel bound to the state arrays it is called with, frame after frame.

A frame's kernels take 15 to 30 arrays each, nearly all of them the same objects frame after
frame; looking each up in ``state.arrays`` and having numba check each one's type at each
call costs more than some kernels' arithmetic. :class:`Bound` keeps the arguments that come
from the state (and the subsystem's own constant arrays) as a tuple, with the
:class:`~issim.sim.state.Arrays` they were gathered from and its generation, and reuses them
while both are the same: then every key still names the same array object (any binding,
rebinding or removal of a key bumps the generation; a restore, a copy or a scratch state
is another dict). The tuple is gathered again otherwise.

A kernel built ahead of time for the gathered tuple's types (:mod:`issim.sim.kernels`: the
types looked up once a tuple) is called directly, and kept with the tuple. Otherwise:

The first call with a newly gathered tuple goes through numba's dispatcher, which checks
every argument's type (and compiles if need be); the compiled overload it ran is looked up
by those same types, and later calls with the same tuple go to that overload's entry point,
the function the dispatcher itself calls once the types match. A tuple gathered again whose
every argument has the type it had in the last one looked up (the common case: a key
rebound to an array like the last) goes to that entry point at once: the dispatcher's check
of a hundred arguments, nested in tuples, costs a millisecond. The arguments that change
every frame come last and must keep their types; callers pass them as ``float(...)``,
``int(...)`` or ``bool(...)``. The arrays' types cannot change under a kept tuple: nothing
in issim assigns an array's ``dtype``, ``shape``, ``strides`` or ``flags`` in place.

The last tuple looked up is also kept for the kernel itself (:data:`_LAST_CHECKED`), so that
another :class:`Bound` of it (another run's, another station's of a batch) finds its first
overload there instead of by types: every run's first frame did that lookup, 1.4 ms of its
1.7 (it holds one run's arguments alive, a few kB, until another replaces them).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .kernels import Kernel, jit_args
from .state import Arrays, Kept

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_LAST_CHECKED: dict = {}  # kernel -> its last (arguments, entry point, per-frame values) looked up by types


class Bound:
    """``kernel`` (a :class:`~issim.sim.kernels.Kernel`) called as ``kernel(*gather(arrays),
    *per_frame)``; see the module."""

    __slots__ = ("kernel", "gather", "_kept", "_checked")

    def __init__(self, kernel: Kernel, gather: Callable[[dict], tuple]):
        self.kernel = kernel if isinstance(kernel, Kernel) else Kernel.of(kernel)  # (numba's dispatcher alone)
        self.gather = gather
        self._kept = Kept()  # (the entry point, the gathered tuple), while the state's arrays are the same
        self._checked: tuple = ()  # the last tuple whose overload was looked up by its types, and its entry

    def __call__(self, arrays, *per_frame):
        kept = self._kept.get(arrays)
        if kept is not None:
            return kept[0](*kept[1], *per_frame)
        generation = getattr(arrays, "generation", None)
        args = self.gather(arrays)
        entry = self.kernel.ahead((*args, *per_frame))  # built ahead of time for these types (issim.sim.kernels)
        if entry is not None:
            out = entry(*args, *per_frame)
        else:
            args = jit_args(args)
            checked = self._checked or _LAST_CHECKED.get(self.kernel.jit, ())
            if checked and _same_types(args, checked[0]) and _same_types(per_frame, checked[2]):
                entry = checked[1]  # every argument of the type it had there: that overload, without the dispatcher
                out = entry(*args, *per_frame)
            else:
                out = self.kernel.jit(*args, *per_frame)  # numba's dispatcher: every type checked
        self._kept.forget()
        if type(arrays) is Arrays and arrays.generation == generation:  # (gather rebound nothing meanwhile)
            if entry is None:
                entry = self._entry_for(args, per_frame)
            if entry is not None:
                self._kept.keep(arrays, generation, (entry, args))
        return out

    def _entry_for(self, args: tuple, per_frame: tuple):
        """The entry point of the overload the dispatcher ran for ``args``, looked up by numba's
        types (slow: once a new set of types; :meth:`__call__` has already tried the last one's)."""
        from numba import typeof

        compiled = self.kernel.jit.overloads.get(tuple(typeof(x) for x in (*args, *per_frame)))
        if compiled is None:
            return None
        self._checked = _LAST_CHECKED[self.kernel.jit] = (args, compiled.entry_point, per_frame)  # (per-frame too)
        return compiled.entry_point

    def forget(self) -> None:
        """Drop the kept tuple (the next call gathers again)."""
        self._kept.forget()


def _same_types(new: tuple, old: tuple) -> bool:
    """Whether each argument of ``new`` has numba's type of the one in ``old``: the same object,
    the same Python scalar type, or arrays alike in dtype, dimensions, layout, writability and
    alignment (what numba's type of an array is made of)."""
    if len(new) != len(old):
        return False
    for x, y in zip(new, old):
        if x is y:
            continue
        if type(x) is not type(y):
            return False
        if type(x) is tuple:  # (a kernel taking other kernels' arguments as tuples: each element alike)
            if not _same_types(x, y):
                return False
            continue
        if type(x) is np.ndarray:
            fx, fy = x.flags, y.flags
            if (x.dtype != y.dtype or x.ndim != y.ndim or fx.c_contiguous != fy.c_contiguous
                    or fx.f_contiguous != fy.f_contiguous or fx.writeable != fy.writeable or fx.aligned != fy.aligned):
                return False
        elif hasattr(type(x), "_numba_type_"):  # a compiled record (a StructRefProxy): its type, numba's own
            if x._numba_type_ != y._numba_type_:
                return False
        elif type(x) is int:  # (numba's type of an int depends on its size: int64 for both, or looked up)
            if not (_INT64_MIN <= x <= _INT64_MAX and _INT64_MIN <= y <= _INT64_MAX):
                return False
        elif type(x) not in (bool, float):
            return False
    return True
