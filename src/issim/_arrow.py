"""pyarrow, loaded the way a stored run wants it: ``from issim._arrow import pa, pq`` (and
``pd``, pandas, which would load pyarrow itself if it came first).

pyarrow allocates with mimalloc (version 3 in pyarrow 26), which advises transparent huge
pages on its arenas: every size class it serves then makes a whole 2 MB page resident,
however little it holds. A stored run's Arrow buffers are few and small (the chunk files'
compression streams, the Parquet writer's pages: 1.2 MB at most), and they kept 8 to
13 MB resident that way. So issim loads pyarrow with mimalloc's ``allow_thp`` option off:
the ``MIMALLOC_ALLOW_THP`` variable, which mimalloc reads once, as the library loads, and
which is taken out of the environment again right after. A variable already set is left
as it is, and a pyarrow some other code loaded first is used as it was loaded.
"""

from __future__ import annotations

import os
import sys

THP_VARIABLE = "MIMALLOC_ALLOW_THP"


def _load():
    if "pyarrow" in sys.modules or THP_VARIABLE in os.environ:
        import pyarrow
    else:
        os.environ[THP_VARIABLE] = "0"
        try:
            import pyarrow
        finally:
            del os.environ[THP_VARIABLE]
    return pyarrow


pa = _load()

import pyarrow.parquet as pq  # noqa: E402  (after pyarrow itself is loaded as above)

__all__ = ["pa", "pq", "pd"]


def __getattr__(name: str):
    """``pd``: pandas, imported when first asked for (it takes a quarter of a second) and
    after pyarrow is loaded as above (pandas loads pyarrow itself when it is first)."""
    if name == "pd":
        import pandas

        return pandas
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
