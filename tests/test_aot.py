"""The kernels built ahead of time (issim.aot, issim.sim.kernels): a run calls them and never
loads numba; they give the bits numba's JIT gives; what they cannot take goes to the JIT."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from issim.runner import Runner
from issim.sim import kernels

NOT_BUILT = "the kernels are not built ahead of time here: `make kernels` (or make setup) builds them"


@pytest.fixture(autouse=True)
def _built_kernels_asked_for(monkeypatch):
    """These tests are of the built kernels: an ``ISSIM_KERNELS=jit`` in the environment is
    not theirs to heed."""
    if kernels.ENV in os.environ:
        monkeypatch.delenv(kernels.ENV)
        monkeypatch.setattr(kernels, "_LOADED", None)
        monkeypatch.setattr(kernels, "_KERNELS", {})


def _built_or_fail() -> None:
    """``make test`` builds them (``make setup``): a test that needs them fails without them."""
    loaded = kernels._load()
    assert loaded[0], f"{NOT_BUILT} ({loaded[1]})"


def test_a_stored_run_from_the_command_line_never_loads_numba(tmp_path):
    _built_or_fail()
    script = (
        "import json, sys\n"
        "from issim.cli import main\n"
        "code = main(['run', 'nominal', '--hours', '6', '--json'])\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(json.dumps({'code': code, 'numba': 'numba' in sys.modules, 'llvm': 'libllvmlite' in maps,\n"
        "                  'llvmlite': 'llvmlite' in sys.modules}))\n"
    )
    env = {"ISSIM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "numba": False, "llvm": False, "llvmlite": False}, seen
    assert "compiled" not in done.stderr  # (nothing compiled, nothing said of it)
    assert list(tmp_path.rglob("telemetry.parquet")), "the run was stored"


def _digests(name: str, days: float, seed: int) -> tuple:
    run = Runner(name, days=days, seed=seed)
    run.run()
    h = __import__("hashlib").sha256()
    for t, cols in run.sim.recorder.channel_columns():
        h.update(t.tobytes())
        for k in sorted(cols):
            h.update(cols[k].tobytes())
    for k, v in sorted(run.sim.state.arrays.items()):
        h.update(k.encode() + v.tobytes())
    quiet = run._quiet_frames
    return run.sim.event_log_sha256(), h.hexdigest(), quiet.calls if quiet is not None else 0


@pytest.mark.parametrize("name, days, seed", [("nominal", 1.0, 1), ("leak", 0.5, 2), ("iss", 1.5, 4)])
def test_the_built_kernels_and_numbas_jit_give_the_same_bits(monkeypatch, name, days, seed):
    _built_or_fail()
    built = _digests(name, days, seed)
    assert kernels.kernel("quiet_frames").built and kernels.kernel("physics_frame").built
    with monkeypatch.context() as m:  # numba's JIT for every kernel, in this process
        m.setattr(kernels, "_LOADED", ({}, "the test"))
        m.setattr(kernels, "_KERNELS", {})
        jit = _digests(name, days, seed)
        assert not kernels.kernel("quiet_frames").built
    assert built == jit and built[2] > 0  # the event log, every channel and array; quiet calls made in both


def test_a_build_made_from_other_sources_is_not_used(monkeypatch):
    _built_or_fail()
    monkeypatch.setattr(kernels, "sources_digest", lambda: "another")
    built, why = kernels._load()
    assert built == {} and "stale" in why
    monkeypatch.setenv(kernels.ENV, "jit")
    assert kernels._load() == ({}, "ISSIM_KERNELS=jit")


def test_types_the_build_did_not_see_go_to_numbas_jit():
    _built_or_fail()
    k = kernels.Kernel("record_row", kernels._load()[0]["record_row"])
    rows = np.zeros((2, 3))
    ints = np.array([rows.ctypes.data], dtype=np.int64)
    args = (ints, np.array([3], dtype=np.int64), np.array([kernels.FLOAT64], dtype=np.int64), rows, 1)
    assert k.ahead(args) is not None
    assert k.ahead(args[:3] + (rows.astype(np.float32), 1)) is None  # another dtype
    assert k.ahead(args[:3] + (np.asfortranarray(np.zeros((3, 2))).T[:, :2], 1)) is None  # not C-contiguous
    assert k.ahead(args[:4] + (2**70,)) is None  # an int numba would not type as int64
    source = np.arange(3.0)
    k(np.array([source.ctypes.data], dtype=np.int64), *args[1:])  # (the built function)
    assert rows[1].tolist() == [0.0, 1.0, 2.0]


def _values():
    base = np.arange(12.0).reshape(3, 4)
    readonly = np.arange(3)
    readonly.flags.writeable = False
    return [base, base.T, base[:, ::2], np.zeros(5, dtype=bool), np.zeros(0, dtype=np.int64), readonly,
            np.zeros(4, dtype=np.uint8), np.zeros((2, 2, 2)), True, np.bool_(False), 3, np.int64(4), 2.5,
            np.float64(1.5), (base, 1, (True, np.zeros(2))), (np.zeros(2), np.zeros(3)), ()]


@pytest.mark.parametrize("value", _values(), ids=lambda v: type(v).__name__)
def test_the_type_key_is_numbas_type_of_the_value(value):
    from numba import typeof

    from issim.aot import _key

    assert kernels.type_key(value) == _key(typeof(value))


@pytest.mark.parametrize("value", [np.float32(1.0), np.int32(2), "text", np.zeros(2, dtype=np.float32)[0]])
def test_a_value_of_a_type_the_build_does_not_make_has_no_built_key(value):
    from numba import typeof

    from issim.aot import _key

    assert _key(typeof(value)) is None and kernels.type_key(value)[0] == "?"


def test_a_handle_gives_its_record_back_once_when_dropped():
    given = []
    make = kernels._handing_out(lambda *parts: 1234, 0, given.append)
    handle = make("a", "b")
    assert handle == 1234 and handle.kind == 0 and handle.parts == ("a", "b")
    assert kernels.type_key(handle) == ("h", 0)
    del handle
    assert given == [1234]


def test_a_stored_run_keeps_one_record_at_a_time(monkeypatch):
    """Each record the built ``frame_args`` makes is given back once nothing holds it (the
    handles of a run gathered again after restores do not pile up)."""
    _built_or_fail()
    made = []

    def counting(make, kind, release):
        def counted_release(address):
            made.remove(address)
            release(address)

        def frame_args(*parts):
            handle = kernels.FrameHandle(make(*parts), kind, parts, counted_release)
            made.append(int(handle))
            return handle

        return frame_args

    monkeypatch.setattr(kernels, "_handing_out", counting)  # (the built functions loaded again, counting)
    monkeypatch.setattr(kernels, "_LOADED", kernels._load())
    monkeypatch.setattr(kernels, "_KERNELS", {})
    run = Runner("nominal", hours=6, seed=1)
    run.run(until=run.sim.t_ms + 3_600_000)
    snap = run.snapshot()
    for _ in range(3):
        run.restore(snap)
        run.run(until=run.sim.t_ms + 600_000)
    import gc

    gc.collect()
    assert 1 <= len(made) <= 2, made  # the run's record (and one a kept tuple may still hold)
    del run, snap
    gc.collect()
    assert made == []


def _aot(*args, **env):
    return subprocess.run([sys.executable, "-m", "issim.aot", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_the_build_command_refuses_what_it_does_not_know_in_one_line():
    done = _aot("--now")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("python -m issim.aot: error: --now: not an option "
                           "(usage: python -m issim.aot [--if-stale])\n")
    helped = _aot("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: python -m issim.aot [--if-stale]")


def test_the_build_command_without_a_compiler_says_so_in_one_line_and_leaves_the_build():
    _built_or_fail()
    before = kernels.MANIFEST.read_bytes()
    done = _aot(CC="/nonexistent/cc")
    assert done.returncode == 1
    assert done.stderr.startswith("the kernels were not built ahead of time (RuntimeError: no C compiler "
                                  "(/nonexistent/cc)") and done.stderr.count("\n") == 1, done.stderr
    assert kernels.MANIFEST.read_bytes() == before and kernels._load()[0]


def test_up_to_date_means_the_sources_whatever_the_environment_asks_of_runs():
    _built_or_fail()
    done = _aot("--if-stale", ISSIM_KERNELS="jit")
    assert done.returncode == 0 and "up to date" in done.stderr


def test_a_run_that_turns_to_numbas_jit_says_why(tmp_path):
    """A build made from other sources (here: a digest that differs) is not used, and the
    run says so on stderr, with how to build them."""
    _built_or_fail()
    script = (
        "import sys\n"
        "from issim.sim import kernels\n"
        "kernels.sources_digest = lambda: 'another'\n"
        "from issim.cli import main\n"
        "sys.exit(main(['run', 'nominal', '--hours', '2', '--no-store', '--json']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"ISSIM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "kernels from numba's JIT, not built ahead of time: the built kernels are stale" in done.stderr
    assert "python -m issim.aot" in done.stderr
