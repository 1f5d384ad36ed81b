"""A fact kept with the bytes of the few small arrays it comes from (several at once).

:class:`issim.sim.fastnp.ByBytes` keeps a fact about one array; the minds' cheaper frames
need some about two or three (who, alive and without a goal, has reached the suspicion at
which they hold their segment). Comparing their bytes costs less than reading them as
lists and working the fact out again, and the answer is always what working it out afresh
would give, whatever state the arrays come from (a restore, a branch, a write between
frames).
"""

from __future__ import annotations


class ByBytesOf:
    """``fn(*arrays)`` for a few small arrays, worked out again only when the bytes of any of
    them differ from those it was last worked out from. ``fn`` must be a pure function of the
    arrays' contents."""

    __slots__ = ("fn", "_bytes", "_value")

    def __init__(self, fn):
        self.fn = fn
        self._bytes = None
        self._value = None

    def __call__(self, *arrays):
        b = [x.tobytes() for x in arrays]
        if b != self._bytes:
            self._bytes, self._value = b, self.fn(*arrays)
        return self._value
