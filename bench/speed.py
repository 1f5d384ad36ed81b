"""Benchmark: how fast a scenario runs, in simulated seconds per wall-clock second.

``.venv/bin/python bench/speed.py [--scenario nominal] [--days 30]`` builds the scenario,
runs it, and prints the speed-up over real time, the cost per frame, and where the
time goes (per subsystem, measured by timing each update in a second, shorter run).

``.venv/bin/python bench/speed.py --targets`` prints issue 11's three targets instead, each
measured here in CPU seconds of this one process (so another process's load moves it
little), beside the figure when the issue was opened, the last one recorded in
``bench/RESULTS.md`` before it, and the target: `nominal` a frame (over ``--days``, default
2; the orbit's tables of the process as a second run finds them, and computed for the run
alone), `iss` over 3 simulated days, and 100 `nominal` stations in one
:class:`issim.Batch` over a simulated day (``--batch-hours``), a station-frame, building
included (and running alone). Tests never assert on these numbers.
"""

from __future__ import annotations

import argparse
import time

from issim.runner import Runner
from issim.times import MS_PER_DAY


# issue 11's figures: when it was opened, and the last recorded before quiet frames ran many
# to a call (bench/RESULTS.md, 2026-12-06, the batch over a day); the targets
TARGETS = (
    ("nominal, µs a frame", 314.0, 25.0, 33.0),
    ("iss 3 days, CPU-s a run", 9.4, 0.95, 1.0),
    ("100 nominal stations, µs a station-frame", None, 25.5, 3.3),
)


def _cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def targets(days: float, batch_hours: float) -> None:
    from issim import Batch

    Runner("nominal", days=0.01).run()  # the compiled kernels loaded (or compiled) first
    alone = Runner("nominal", days=days)
    alone.sim.environment.keep = False  # the orbit's tables computed for this run alone, as a first run does
    first = 1e6 * _cpu(alone.run) / alone.sim.state.frame
    run = Runner("nominal", days=days)
    nominal = 1e6 * _cpu(run.run) / run.sim.state.frame
    quiet = run._quiet_frames
    iss = _cpu(Runner("iss", days=3).run)
    stations = 100
    t0 = time.process_time()
    batch = Batch("nominal", seeds=list(range(1, stations + 1)), hours=batch_hours)
    t1 = time.process_time()
    batch.run()
    t2 = time.process_time()
    frames = stations * batch[0].sim.state.frame
    per_station, running = 1e6 * (t2 - t0) / frames, 1e6 * (t2 - t1) / frames
    print(f"{'figure':42} {'opened':>8} {'last':>8} {'now':>8} {'target':>8}")
    for (name, opened, last, target), now in zip(TARGETS, (nominal, iss, per_station)):
        shown = "—" if opened is None else f"{opened:g}"
        met = "met" if now <= target else "not met"
        print(f"{name:42} {shown:>8} {last:>8g} {now:>8.2f} {target:>8g}  {met}")
    dt = run.sim.dt_s
    print(f"  (nominal {dt / (nominal / 1e6):,.0f}× real time, {quiet.frames / run.sim.state.frame:.1%} of its "
          f"frames in {quiet.calls} quiet calls; {first:.2f} µs a frame with its orbit tables computed for it)")
    print(f"  (a batch station {dt / (per_station / 1e6):,.0f}× real time over {batch_hours:g} h: building "
          f"{t1 - t0:.2f} s, running {running:.2f} µs a station-frame, {dt / (running / 1e6):,.0f}×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--days", type=float, default=None)
    parser.add_argument("--targets", action="store_true", help="issue 11's three targets, in CPU time")
    parser.add_argument("--batch-hours", type=float, default=24.0, help="the 100 stations' run (--targets)")
    args = parser.parse_args()
    if args.targets:
        targets(args.days or 2.0, args.batch_hours)
        return
    args.days = args.days or 30.0

    warm = Runner(args.scenario, days=args.days).sim
    t0 = time.perf_counter()
    warm.step()  # the compiled kernels: compiled on a checkout's first run, then loaded from their cache
    print(f"first frame (kernels compiled or loaded): {time.perf_counter() - t0:.2f} s")

    run = Runner(args.scenario, days=args.days)  # the crew minds decide, as in issim run
    sim = run.sim
    t0 = time.perf_counter()
    run.run()
    wall = time.perf_counter() - t0
    simulated = (sim.t_ms - sim.start_ms) / 1000.0
    frames = sim.state.frame
    print(f"{args.scenario}: {args.days:g} simulated days, {frames:,} frames of {sim.dt_s:g} s")
    print(f"  wall time {wall:.2f} s; {1e6 * wall / frames:.1f} µs per frame")
    print(f"  speed {simulated / wall:,.0f} × real time (simulated seconds per wall second)")
    if run._quiet_frames is not None:
        q = run._quiet_frames
        print(f"  quiet frames: {q.frames:,} of {frames:,} in {q.calls:,} compiled calls (issim.quiet)")

    # Where the time goes: time each subsystem's update over one simulated day.
    probe_run = Runner(args.scenario, days=1)
    probe = probe_run.sim
    # the physics updated in one compiled call (issim.physics.frame) is timed as one part
    fused = probe.fused
    timed_parts = ([fused] if fused is not None else []) + list(probe.subsystems[len(fused.subsystems) if fused else 0:])
    names = {id(p): "physics (one call)" if p is fused else p.name for p in timed_parts}
    spent = {names[id(p)]: 0.0 for p in timed_parts}
    for part in timed_parts:
        method = "run" if part is fused else "update"
        update = getattr(part, method)

        def timed(state, env, dt_s, _update=update, _name=names[id(part)]):
            t = time.perf_counter()
            _update(state, env, dt_s)
            spent[_name] += time.perf_counter() - t

        setattr(part, method, timed)
    t0 = time.perf_counter()
    probe_run.run()
    total = time.perf_counter() - t0
    n = probe.state.frame
    parts = ", ".join(f"{k} {1e6 * v / n:.1f}" for k, v in spent.items())
    other = total - sum(spent.values())
    print(f"  per frame, frame by frame (µs; a probe on an update turns the quiet calls off): {parts}, "
          f"engine, policies and recorder {1e6 * other / n:.1f}")


if __name__ == "__main__":
    main()
