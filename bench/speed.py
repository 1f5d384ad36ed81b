"""Benchmark: how fast a scenario runs, in simulated seconds per wall-clock second.

``.venv/bin/python bench/speed.py [--scenario nominal] [--days 30]`` builds the scenario,
runs it, and prints the speed-up over real time, the cost per frame, and where the
time goes (per subsystem, measured by timing each update in a second, shorter run).
Tests never assert on these numbers.
"""

from __future__ import annotations

import argparse
import time

from issim.runner import Runner
from issim.times import MS_PER_DAY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--days", type=float, default=30.0)
    args = parser.parse_args()

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
    print(f"  per frame (µs): {parts}, engine, policies and recorder {1e6 * other / n:.1f}")


if __name__ == "__main__":
    main()
