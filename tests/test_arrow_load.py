"""issim loads pyarrow with mimalloc's transparent huge pages off (``issim._arrow``).

pyarrow's allocator (mimalloc 3) advises huge pages on its arenas, and each size class it
serves then keeps a whole 2 MB page resident: 8 to 13 MB of a stored run's peak for
about 1 MB of buffers (``bench/memory.py``). mimalloc reports its options when
``MIMALLOC_VERBOSE`` is set, which is how these tests see what it was told.
"""

from __future__ import annotations

import os
import subprocess
import sys

from issim._arrow import THP_VARIABLE


def _child(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != THP_VARIABLE}
    return subprocess.run([sys.executable, "-c", code], env={**clean, "MIMALLOC_VERBOSE": "1", **env},
                          capture_output=True, text=True, check=True, timeout=300)


def test_a_stored_run_loads_pyarrow_with_huge_pages_off(tmp_path):
    done = _child("import os, sys\n"
                  "from issim.runner import Runner\n"
                  f"Runner('nominal', hours=0.2).store({str(tmp_path / 'runs')!r})\n"
                  f"print(os.environ.get({THP_VARIABLE!r}), 'pyarrow' in sys.modules)\n")
    assert "option 'allow_thp': 0" in done.stderr
    assert done.stdout.split()[-2:] == ["None", "True"]  # pyarrow loaded, and the variable gone again


def test_a_setting_of_ones_own_is_left_as_it_is():
    done = _child(f"import os, issim._arrow; print(os.environ[{THP_VARIABLE!r}])", **{THP_VARIABLE: "1"})
    assert "option 'allow_thp': 1" in done.stderr
    assert done.stdout.split()[-1] == "1"


def test_reading_a_stored_run_through_pandas_loads_pyarrow_first(tmp_path):
    """pandas loads pyarrow itself when it comes first: issim's readers import it through
    ``issim._arrow`` so that pyarrow is loaded as above even then."""
    from issim.runner import Runner

    record = Runner("nominal", hours=0.2).store(tmp_path / "runs")
    done = _child("from issim.archive import Archive\n"
                  f"record = Archive.open({str(tmp_path / 'runs')!r}).get({record.id})\n"
                  "print(len(record.channels()))\n")
    assert "option 'allow_thp': 0" in done.stderr and int(done.stdout.split()[-1]) > 100
