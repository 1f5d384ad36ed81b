"""How long a run spent compiling its kernels, as opposed to loading them from their cache.

The physics kernels are compiled by numba (``@njit(cache=True)``) the first time a checkout
runs them, which takes seconds, and loaded from the cache beside the source afterwards, which
takes a fraction of a second. :class:`CompileClock` listens to numba's ``numba:compile``
events (its documented event API: broadcast when a dispatcher compiles, never when it loads a
cached overload) and adds up the time of the outermost ones, so that a kernel compiling the
functions it calls is counted once. A run whose kernels were built ahead of time
(:mod:`issim.sim.kernels`) never imports numba: the clock starts listening only once numba
is imported, or a kernel first turns to it, and then its note says why (nothing built, or
a build made from other sources).
"""

from __future__ import annotations

import sys
import time

from . import kernels


class CompileClock:
    """``with CompileClock() as clock: ...``, then ``clock.seconds`` compiling and
    ``clock.kernels`` the names of the kernels compiled (empty: all came from the cache)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.kernels: list[str] = []
        self._listener = None
        self.why_jit = ""  # why a kernel turned to numba's JIT, when one did (numba not loaded before)

    def __enter__(self) -> "CompileClock":
        if "numba" in sys.modules:
            self._listen()
        else:  # (from the first kernel that turns to numba's JIT, if any does)
            kernels._ON_JIT.append(self._turned_to_jit)
        return self

    def _turned_to_jit(self) -> None:
        self.why_jit = self.why_jit or kernels.why_jit()
        self._listen()

    def _listen(self) -> None:
        if self._listener is not None:
            return
        try:
            from numba.core import event
        except ImportError:  # no numba: nothing is compiled
            return
        clock = self

        class _Outermost(event.Listener):
            depth = 0
            started = 0.0

            def on_start(self, ev) -> None:
                if self.depth == 0:
                    self.started = time.perf_counter()
                self.depth += 1

            def on_end(self, ev) -> None:
                self.depth -= 1
                if self.depth == 0:
                    clock.seconds += time.perf_counter() - self.started
                    dispatcher = (ev.data or {}).get("dispatcher")
                    clock.kernels.append(getattr(dispatcher, "__name__", None) or str(dispatcher))

        self._listener = _Outermost()
        event.register("numba:compile", self._listener)

    def __exit__(self, *exc) -> None:
        if self._turned_to_jit in kernels._ON_JIT:
            kernels._ON_JIT.remove(self._turned_to_jit)
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            self._listener = None

    def note(self) -> str:
        """One line for people, or "" when nothing was compiled and the kernels built ahead of
        time served (or numba's JIT was asked for)."""
        parts = []
        if self.kernels:
            n = len(self.kernels)
            parts.append(f"compiled {n} kernel{'s' * (n != 1)} in {self.seconds:.1f} s (once per checkout: "
                         f"later runs load them from their cache)")
        if self.why_jit:
            parts.append(f"kernels from numba's JIT, not built ahead of time: {self.why_jit}")
        return "; ".join(parts)
