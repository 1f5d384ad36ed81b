"""numba's cache of a kernel made stale when a module whose code it holds changes.

numba stamps a cached function (``cache=True``) with its own file alone. A kernel that
calls kernels of other modules, or expands their intrinsics (:mod:`issim.physics.unmanaged`),
holds their code too, so an edit of one of those would leave it running the old code
beside the new. :func:`stamp_with_callees` makes the stamp numba compares name them.
"""

from __future__ import annotations

import hashlib


def callees_stamp(modules) -> tuple:
    """The digests of the sources of ``modules``."""
    return tuple(hashlib.sha256(open(m.__file__, "rb").read()).hexdigest() for m in modules)


def stamp_with_callees(dispatcher, modules) -> bool:
    """Make ``dispatcher``'s cache stale when one of ``modules`` (those whose code it holds)
    changes, not only when its own file does: the stamp numba compares becomes ``(its own,
    callees_stamp(modules))``. False if numba's cache is not as this expects (then
    ``tests/test_fused.py`` fails)."""
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if cache_file is None or not hasattr(cache_file, "_source_stamp"):
        return False
    cache_file._source_stamp = (cache_file._source_stamp, callees_stamp(modules))
    return True
