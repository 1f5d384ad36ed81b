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

__all__ = ["count_nonzero"]
