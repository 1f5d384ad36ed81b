"""Benchmark: what building a run costs, the first time in a process and after (issue 11, caches).

``.venv/bin/python bench/build.py [--scenario nominal] [--runs 10]`` imports issim, then
times the first ``Runner`` of the scenario (it reads the bundled station, scenario, data
files and element sets) and then ``--runs`` more, one after another, as a worker of
``issim endings`` builds them. Tests never assert on these numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from issim.runner import Runner

    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    Runner(args.scenario, days=1)
    first = time.perf_counter() - t0
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        Runner(args.scenario, days=1)
        times.append(time.perf_counter() - t0)
    print(f"{args.scenario}: import issim.runner {1e3 * imported:.1f} ms; first Runner {1e3 * first:.1f} ms; "
          f"the next {args.runs}: median {1e3 * statistics.median(times):.1f} ms, "
          f"total {1e3 * sum(times):.1f} ms")


if __name__ == "__main__":
    main()
