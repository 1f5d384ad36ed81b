"""A one-shot command imports only what it uses (issue 17: a faster start).

Each case runs the command in a fresh interpreter and reads ``sys.modules`` afterwards:
a real check that holds on any machine, unlike a wall-clock limit (the times themselves
are measured by ``bench/startup.py``, never asserted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

AT = "2025-03-10T00:00:00Z"

# What no one-shot command needs: the simulation's compiler, the archive's file formats,
# the reports' charts, the server, and a database issim does not use.
NEVER = {"numba", "pyarrow", "pandas", "plotly", "fastapi", "uvicorn", "starlette", "duckdb"}
# What only the orbit computations need.
ORBIT = {"numpy", "sgp4", "erfa", "skyfield"}
# The downloader (only issim elements update), the run archive's database, and the terminal's tables.
DOWNLOAD = {"urllib.request", "http.client", "ssl"}

PROBE = """
import contextlib, io, json, sys
from issim.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    status = main(sys.argv[1:]) if len(sys.argv) > 1 else 0
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def imported(*args: str, tmp_path) -> set[str]:
    """The top-level packages and named modules loaded by ``issim ARGS`` in a new process."""
    env = dict(os.environ, ISSIM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.splitlines()[-1])
    assert found["status"] == 0, args
    modules = set(found["modules"])
    return modules | {m.split(".")[0] for m in modules}


def test_importing_the_command_line_loads_nothing_heavy(tmp_path):
    loaded = imported(tmp_path=tmp_path)
    assert "issim.cli" in loaded and "typer" in loaded  # the probe did import it
    assert not loaded & (NEVER | ORBIT | DOWNLOAD | {"pydantic", "rich", "sqlite3", "issim.orbit",
                                                     "issim.archive", "issim.sim"})


@pytest.mark.parametrize("args", [["--help"], ["track", "--help"]])
def test_help_and_version_load_no_library(tmp_path, args):
    loaded = imported(*args, tmp_path=tmp_path)
    assert not loaded & (NEVER | ORBIT | DOWNLOAD | {"sqlite3", "issim.orbit", "issim.station"})


@pytest.mark.parametrize("args", [["track", "--at", AT], ["track", "--json", "--at", AT]])
def test_track_loads_the_orbit_and_nothing_else(tmp_path, args):
    loaded = imported(*args, tmp_path=tmp_path)
    assert ORBIT <= loaded
    assert not loaded & (NEVER | DOWNLOAD | {"sqlite3", "issim.archive", "issim.sim", "issim.station",
                                             "issim.orbit.forecast", "issim.orbit.environment"})
    assert ("rich" in loaded) == ("--json" not in args)  # the table needs rich; JSON does not


def test_station_loads_no_orbit(tmp_path):
    loaded = imported("station", tmp_path=tmp_path)
    assert "issim.station" in loaded
    assert not loaded & (NEVER | ORBIT | DOWNLOAD | {"sqlite3", "issim.orbit", "issim.sim"})


def test_the_timescale_is_skyfields_own():
    """issim builds skyfield's built-in timescale without skyfield.api (and its downloader): same numbers."""
    import numpy as np
    from skyfield.api import load

    from issim.times import timescale

    ours, theirs = timescale(), load.timescale(builtin=True)
    days = np.arange(-20_000, 40_000, 97)  # 1915 to 2079: the table, its ends and past them
    a, b = ours.utc(1970, 1, 1 + days, 12, 0, 0.5), theirs.utc(1970, 1, 1 + days, 12, 0, 0.5)
    assert np.array_equal(a.tt, b.tt) and np.array_equal(a.ut1, b.ut1) and np.array_equal(a.delta_t, b.delta_t)
    assert ours.utc(2016, 12, 31, 23, 59, 60).utc_iso() == "2016-12-31T23:59:60Z"  # the leap second
