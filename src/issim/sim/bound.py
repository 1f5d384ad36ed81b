"""A compiled kernel bound to the state arrays it is called with, frame after frame.

A frame's kernels take 15 to 30 arrays each, nearly all of them the same objects frame after
frame; looking each up in ``state.arrays`` and having numba check each one's type at each
call costs more than some kernels' arithmetic. :class:`Bound` keeps the arguments that come
from the state (and the subsystem's own constant arrays) as a tuple, with the
:class:`~issim.sim.state.Arrays` they were gathered from and its generation, and reuses them
while both are the same: then every key still names the same array object (any binding,
rebinding or removal of a key bumps the generation; a restore, a copy or a scratch state
is another dict). The tuple is gathered again otherwise.

The first call with a newly gathered tuple goes through numba's dispatcher, which checks
every argument's type (and compiles if need be); the compiled overload it ran is looked up
by those same types, and later calls with the same tuple go to that overload's entry point,
the function the dispatcher itself calls once the types match. The arguments that change
every frame come last and must keep their types; callers pass them as ``float(...)``,
``int(...)`` or ``bool(...)``. The arrays' types cannot change under a kept tuple: nothing
in issim assigns an array's ``dtype``, ``shape``, ``strides`` or ``flags`` in place.
"""

from __future__ import annotations

from typing import Callable

from .state import Arrays


class Bound:
    """``kernel`` called as ``kernel(*gather(arrays), *per_frame)``; see the module."""

    __slots__ = ("kernel", "gather", "_arrays", "_generation", "_args", "_entry")

    def __init__(self, kernel, gather: Callable[[dict], tuple]):
        self.kernel = kernel
        self.gather = gather
        self._arrays = None  # the Arrays the kept tuple came from (held: its id cannot be reused)
        self._generation = -1
        self._args: tuple = ()
        self._entry = None

    def __call__(self, arrays, *per_frame):
        if arrays is self._arrays and arrays.generation == self._generation:
            return self._entry(*self._args, *per_frame)
        generation = getattr(arrays, "generation", None)
        args = self.gather(arrays)
        out = self.kernel(*args, *per_frame)  # numba's dispatcher: every type checked
        self._arrays = None
        if type(arrays) is Arrays and arrays.generation == generation:  # (gather rebound nothing meanwhile)
            from numba import typeof

            compiled = self.kernel.overloads.get(tuple(typeof(x) for x in (*args, *per_frame)))
            if compiled is not None:
                self._arrays, self._generation, self._args, self._entry = arrays, generation, args, compiled.entry_point
        return out

    def forget(self) -> None:
        """Drop the kept tuple (the next call gathers again)."""
        self._arrays = None
