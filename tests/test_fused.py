"""The physics of a frame in one compiled call (issue 11, "compiled core") gives what the
subsystems' updates one after the other give, frame for frame.

Each test runs two simulations of the same scenario side by side, one through
:class:`issim.physics.frame.PhysicsFrame` and one with it off (``sim.fused = None``: every
subsystem's own ``update``), and compares their states bit for bit after every frame,
across frames where the compiled call has to stop in the middle: a leak starting, a bus
going down, a person hurt, an edge of the sleep schedule, a day's orbit check, and after a
snapshot is restored. The run digests and the golden telemetry check whole runs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from issim.physics import frame_kernel
from issim.sim import kernel_stamp
from issim.physics.frame import PhysicsFrame
from issim.runner import Runner
from issim.sim.events import Event


def _pair(scenario, **kw):
    fused, plain = Runner(scenario, **kw), Runner(scenario, **kw)
    assert fused.sim.fused is not None
    plain.sim.fused = None
    return fused, plain


def _stages(run) -> Counter:
    """Count where the compiled calls of ``run`` stop (``frame_kernel``'s stages)."""
    frame = run.sim.fused
    frame._bind()
    kernel, seen = frame._kernel, Counter()

    def counted(*args):
        code = kernel(*args)
        seen[code // 256] += 1
        return code

    frame._kernel = counted
    return seen


def _lockstep(fused, plain, frames: int, before=None) -> None:
    """Step both ``frames`` frames (the crew's minds deciding), ``before(sim)`` called on each
    before each frame, and assert their states are the same after every one."""
    for _ in range(frames):
        for run in (fused, plain):
            if before is not None:
                before(run.sim)
            run.sim.advance(run.actions())
        assert fused.sim.state.identical(plain.sim.state), fused.sim.state.frame


def _at(run, minutes: float) -> int:
    return run.sim.start_ms + int(minutes * 60_000)


def test_a_day_with_its_sleep_edges_and_orbit_check():
    fused, plain = _pair("nominal", days=1)
    seen = _stages(fused)
    _lockstep(fused, plain, 8_640)
    assert seen[frame_kernel.DONE] > 8_000
    assert seen[frame_kernel.CREW] >= 2 and seen[frame_kernel.PROPULSION] >= 1  # the edges, the day's check
    assert fused.sim.event_log_sha256() == plain.sim.event_log_sha256()
    for ch in fused.sim.channels():
        assert np.array_equal(fused.sim.telemetry(ch.key)[1], plain.sim.telemetry(ch.key)[1], equal_nan=True)


def test_a_leak_starting_and_isolated():
    fused, plain = _pair("leak", hours=4)
    seen = _stages(fused)
    _lockstep(fused, plain, 4 * 360)
    assert seen[frame_kernel.ATMOSPHERE] > 100  # the frames the hole leaks: the totals added in Python
    assert any(k.endswith(".leak") for k in fused.sim.state.totals)
    assert list(fused.sim.state.totals) == list(plain.sim.state.totals)  # made in the same order


def test_a_bus_going_down_and_shedding():
    fused, plain = _pair("nominal", hours=6)
    for run in (fused, plain):
        for wing in run.sim.subsystems[0].wing_index:
            run.sim.schedule(Event(_at(run, 5), "array_fail", wing))
        run.sim.state["power.battery_j"][:] *= 0.2  # near its floor: the first eclipse runs it short

    seen = _stages(fused)
    _lockstep(fused, plain, 6 * 360)
    assert seen[frame_kernel.POWER] >= 1
    said = {d["what"] for t, kind, details in fused.sim.state.log if kind == "power" for d in [dict(details)]}
    assert said & {"shedding", "bus_down"}


@pytest.mark.parametrize("bleeding", [False, True])
def test_a_person_hurt(bleeding):
    fused, plain = _pair("nominal", hours=3)
    name = fused.sim.people[0]
    for run in (fused, plain):
        run.sim.schedule(Event(_at(run, 20), "injure", name, (("severity", 0.6), ("bleeding", bleeding))))
    seen = _stages(fused)
    _lockstep(fused, plain, 3 * 360)
    assert fused.sim.state["crew.injury"][0] > 0.0
    assert seen[frame_kernel.DONE] > 900  # the wound healing in the compiled call (or bleeding, in Python)
    if not bleeding:
        assert seen[frame_kernel.CREW] <= 2


def test_the_crisis_with_the_minds():
    fused, plain = _pair("iss", seed=2, days=2)
    start = 8_640 + 3 * 360  # into the second day, where people are hurt and the minds act
    for run in (fused, plain):
        run.run(until=run.sim.start_ms + start * 10_000)
    assert fused.sim.state.identical(plain.sim.state)
    _lockstep(fused, plain, 6 * 360)


def test_totals_changed_between_frames_are_read_again():
    fused, plain = _pair("nominal", hours=1)

    def poke(sim):
        if sim.state.frame % 50 == 7:
            sim.state.totals["power.usos_load_j"] += 1.0
            sim.state.totals.pop("power.usos_shed_j", None)

    _lockstep(fused, plain, 200, before=poke)


def test_a_restored_snapshot_runs_on_alike():
    fused, plain = _pair("iss", seed=3, days=1)
    sim = fused.sim
    for _ in range(300):
        sim.advance(fused.actions())
    snap = sim.snapshot()
    for _ in range(200):
        sim.advance(fused.actions())
    sim.restore(snap)
    for _ in range(300):
        plain.sim.advance(plain.actions())
    assert sim.state.identical(plain.sim.state)
    _lockstep(fused, plain, 400)


def test_only_the_standard_seven_at_the_head_are_fused():
    subs = Runner("nominal", hours=1).sim.subsystems
    assert PhysicsFrame.of(subs) is not None
    assert PhysicsFrame.of(subs[1:]) is None
    assert PhysicsFrame.of([subs[1], subs[0], *subs[2:]]) is None
    assert PhysicsFrame.of(subs[:6]) is None


def test_an_update_replaced_on_the_instance_is_honoured():
    fused, plain = _pair("nominal", hours=1)
    calls = Counter()
    for run in (fused, plain):
        for sub in run.sim.subsystems[:7]:
            def counted(state, env, dt_s, _update=sub.update, _name=sub.name, _run=run):
                calls[_run is fused, _name] += 1
                _update(state, env, dt_s)

            sub.update = counted
    _lockstep(fused, plain, 50)
    assert calls[True, "power"] == calls[False, "power"] == 50


def test_the_compiled_call_is_compiled_again_when_a_kernel_it_calls_changes():
    """numba stamps a cached function with its own file only; the physics call holds the other
    kernels' code, so its stamp also names theirs (else an edited kernel would run old here)."""
    assert frame_kernel.STAMPED
    stamp = frame_kernel.physics_frame._cache._cache_file._source_stamp
    assert stamp[1] == kernel_stamp.callees_stamp(frame_kernel.CALLEES) and len(stamp[1]) == len(frame_kernel.CALLEES)


def test_a_cabin_air_array_not_in_c_order_is_read_alike():
    """``atm.moles`` rebound in Fortran order between frames: life support makes it C-contiguous
    again (rebinding it) before anything else of the frame holds it, so the crew breathes into
    the same array either way."""
    fused, plain = _pair("nominal", hours=1)
    _lockstep(fused, plain, 3)

    def fortran(sim):
        sim.state["atm.moles"] = np.asfortranarray(sim.state["atm.moles"])

    _lockstep(fused, plain, 1, before=fortran)
    _lockstep(fused, plain, 3)


def test_the_kernels_are_compiled_again_when_a_module_whose_code_they_hold_changes():
    """The subsystems' kernels expand :mod:`issim.physics.unmanaged`'s stack arrays into their
    own code, the atmosphere's bakes in :mod:`issim.physics.gas`'s constants, and several read
    :mod:`issim.physics.kernel_args`'s, so their cached code is stamped with those modules too."""
    from issim.physics import (atm_kernel, comms_kernel, crew_kernel, gas, kernel_args, ls_kernel, power_kernel,
                               unmanaged)
    from issim.sim import kernels, record_kernel

    both = (kernel_args, unmanaged)
    for kernel, modules in ((atm_kernel.atmosphere_frame, (gas, *both)), (atm_kernel._links, (gas, *both)),
                            (comms_kernel.links_frame, (unmanaged,)), (crew_kernel.crew_frame, (unmanaged,)),
                            (ls_kernel.machines_frame, both), (power_kernel.power_frame, both),
                            (record_kernel.record_row, (kernels,))):
        assert kernel._cache._cache_file._source_stamp[1] == kernel_stamp.callees_stamp(modules), kernel
    assert {gas, kernel_args, unmanaged} <= set(frame_kernel.CALLEES)
