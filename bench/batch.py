"""Benchmark: many stations at once (``issim.Batch``) against as many separate runs.

``.venv/bin/python bench/batch.py [--scenario nominal] [--hours 24] [--sizes 1,10,100]
[--hours-large 2] [--repeats 3]`` runs, for each N of ``--sizes``, a batch of N stations
(seeds 1..N, the crew minds, the scenario's own inputs) to ``--hours`` two ways: ``Batch.run()``
(a block of an hour's frames a station at a time, all at the same frame at each block's end)
and ``Batch.run(block=1)`` (strict lockstep, every station one frame then the next frame);
and as the peer the same N stations as N separate :class:`~issim.runner.Runner` runs one
after the other. N of 100 and more run ``--hours-large`` instead (a day of 100 stations is
long to wait for; the per-frame cost does not change with the length, the fixed costs of
building a station and of the orbit's first day weigh more). The three alternate, the order
turned each repeat, so all see the same load on a shared machine.

Each figure is CPU seconds of this process (building the stations included; the orbit
tables of a day are computed at the first frame and are a part of the run), printed as µs a
station-frame and as real time × a station (simulated seconds of one station per CPU second
spent on it), the median of the repeats, and the ratio batch / separate taken repeat by
repeat. The load average of the machine is printed before and after. Tests never assert on
these numbers; ``bench/RESULTS.md`` records them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from issim import Batch
from issim.runner import Runner


def batch_cost(scenario: str, n: int, hours: float, block: int) -> tuple[float, float, int, object]:
    """(CPU s to build, CPU s to run, frames a station, the batch) for a batch of ``n``."""
    t0 = time.process_time()
    batch = Batch(scenario, seeds=list(range(1, n + 1)), hours=hours)
    t1 = time.process_time()
    batch.run(block=block)
    t2 = time.process_time()
    return t1 - t0, t2 - t1, batch[0].sim.state.frame, batch


def separate_cost(scenario: str, n: int, hours: float) -> tuple[float, float, int]:
    """(CPU s building, CPU s running, frames a station) for ``n`` separate runs, one after the other."""
    build = run = 0.0
    frames = 0
    for seed in range(1, n + 1):
        t0 = time.process_time()
        r = Runner(scenario, seed=seed, hours=hours)
        t1 = time.process_time()
        r.run()
        t2 = time.process_time()
        build, run, frames = build + t1 - t0, run + t2 - t1, r.sim.state.frame
        del r
    return build, run, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--hours-large", type=float, default=2.0, help="the length for N >= 100")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    Runner(args.scenario, hours=0.1).run()  # the compiled kernels loaded (or compiled) once, before timing
    dt_s = None
    for n in sizes:
        hours = args.hours_large if n >= 100 else args.hours
        rows: dict[str, list] = {"blocks": [], "lockstep": [], "separate": []}
        kinds = list(rows)
        pool = None
        for rep in range(args.repeats):
            order = kinds[rep % 3:] + kinds[:rep % 3]
            for which in order:
                if which != "separate":
                    build, run, frames, batch = batch_cost(args.scenario, n, hours, 1 if which == "lockstep" else 360)
                    pool = (batch.pool.computed, batch.pool.shared)
                    dt_s = batch[0].sim.dt_s
                    del batch
                else:
                    build, run, frames = separate_cost(args.scenario, n, hours)
                rows[which].append((build, run, frames))
        print(f"\n{args.scenario}, N = {n}, {hours:g} h ({rows['blocks'][0][2]:,} frames a station), "
              f"{args.repeats} interleaved repeats; orbit tables computed {pool[0]}, shared {pool[1]}")
        med = {}
        for which, got in rows.items():
            frames = got[0][2]
            total = [b + r for b, r, _ in got]
            build = statistics.median(b for b, _, _ in got)
            us = 1e6 * statistics.median(total) / (n * frames)
            rt = frames * dt_s / (statistics.median(total) / n)
            med[which] = total
            print(f"  {which:9s} {us:7.1f} µs a station-frame ({1e6 * build / (n * frames):.1f} of it building), "
                  f"{rt:>10,.0f} × real time a station; CPU {statistics.median(total):.2f} s")
        for which in ("blocks", "lockstep"):
            ratios = [b / s for b, s in zip(med[which], med["separate"])]
            print(f"  {which} / separate (CPU, repeat by repeat): {', '.join(f'{x:.3f}' for x in ratios)}")

    import resource

    print(f"\npeak memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "(the largest batch held at once, its telemetry included)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
