"""numpy's C entry points for the per-frame checks on tiny arrays.

``numpy.count_nonzero`` is a Python function in front of a C one (it handles ``axis`` and
``keepdims``); called with an array alone, it returns what the C function returns. A frame
asks "is anything set" a dozen times on arrays of 2 to 24 elements, where the Python
layer costs twice the count itself, so the frame calls the C function directly.
"""

from __future__ import annotations

try:  # numpy 2
    from numpy._core.multiarray import count_nonzero
except ImportError:  # numpy 1.x
    try:
        from numpy.core.multiarray import count_nonzero  # type: ignore[no-redef]
    except ImportError:  # any other layout: the public function (the same answers)
        from numpy import count_nonzero  # type: ignore[no-redef]



class ByBytes:
    """``fn(array)`` for a small array, worked out again only when the array's bytes differ from
    those it was last worked out from (comparing some 60 bytes costs a fraction of reading
    the array as a list). ``fn`` must be a pure function of the array's contents: the answer
    is then always what working it out afresh would give, whatever state the array comes from
    (a restore, a branch, a write between frames)."""

    __slots__ = ("fn", "_bytes", "_value")

    def __init__(self, fn):
        self.fn = fn
        self._bytes = None
        self._value = None

    def __call__(self, array):
        b = array.tobytes()
        if b != self._bytes:
            self._bytes, self._value = b, self.fn(array)
        return self._value


class ByBytesOf(ByBytes):
    """:class:`ByBytes` of a few small arrays at once: ``fn(*arrays)``, worked out again only
    when the bytes of any of them differ from those it was last worked out from."""

    __slots__ = ()

    def __call__(self, *arrays):
        b = [x.tobytes() for x in arrays]
        if b != self._bytes:
            self._bytes, self._value = b, self.fn(*arrays)
        return self._value


__all__ = ["ByBytes", "ByBytesOf", "count_nonzero"]
