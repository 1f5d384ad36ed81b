"""Benchmark: what storing a run costs, against the run itself.

``.venv/bin/python bench/archive.py [--scenario nominal] [--days N] [--repeat 3]`` runs the
scenario twice per repeat at the default recording rate (telemetry every 60 s): once
plain (``Runner.run``), once stored in a temporary archive (``Archive.recording``:
the ground-track watcher, the event-log checkpoints, the chunk files and the telemetry's
row groups during the run, then the files and the catalogue). It prints the wall times, the cost of writing the telemetry
(Parquet) and of the whole storing, each as a fraction of the plain run, and the sizes.
The first storing in a process also pays for importing pyarrow; that is shown apart.
Tests never assert on these numbers; ``bench/RESULTS.md`` records them.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import pyarrow.parquet  # noqa: F401  (the one-off cost the first stored run of a process pays)

    import_s = time.perf_counter() - t0

    from issim.archive import Archive
    from issim.runner import Runner
    from issim.scenario import load_scenario
    from issim.times import MS_PER_DAY

    spec = load_scenario(args.scenario)
    days = args.days if args.days is not None else spec.scenario.days
    end = spec.start_ms + round(days * MS_PER_DAY)

    plain, stored, runs, telemetry, files, catalogue, summary = [], [], [], [], [], [], []
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            run = Runner(spec, end_ms=end)
            sim = run.sim
            t0 = time.perf_counter()
            run.run()
            plain.append(time.perf_counter() - t0)
            frames, samples, channels = sim.state.frame, len(sim.recorder), len(sim.channels())
            del sim, run
            gc.collect()  # each run starts with the same heap

            run = Runner(spec, end_ms=end)
            sim = run.sim
            arc = Archive.open(Path(tmp) / f"a{i}", create=True)
            t0 = time.perf_counter()
            with arc.recording(run) as rec:
                rec.run()
            stored.append(time.perf_counter() - t0)
            runs.append(rec.timings["run_s"])
            telemetry.append(rec.timings["telemetry_s"])
            files.append(rec.timings["files_s"])
            catalogue.append(rec.timings["catalogue_s"])
            summary.append(rec.timings["summary_s"])
            sizes = {p.name: p.stat().st_size for p in rec.path.iterdir()}
            sizes["catalogue.sqlite (+wal)"] = sum(p.stat().st_size for p in Path(arc.root).glob("catalogue.sqlite*"))
            arc.close()
            every = sim.recorder.every_frames * sim.dt_s
            del sim, run, rec
            gc.collect()

    med = statistics.median
    base = med(plain)
    print(f"{args.scenario}: {days:g} simulated days, {frames:,} frames, telemetry every "
          f"{every:g} s: {samples:,} samples x {channels} channels; "
          f"median of {args.repeat}")
    print(f"  plain run                      {base:8.3f} s")
    print(f"  stored run, simulating          {med(runs):8.3f} s  (watcher, log checkpoints, chunk files, row groups: "
          f"{100 * (med(runs) - base) / base:+.1f} %)")
    print(f"  summary                         {med(summary):8.3f} s")
    print(f"  telemetry.parquet               {med(telemetry):8.3f} s  = {100 * med(telemetry) / base:.1f} % of the run "
          "(most of it while simulating: a row group a chunk)")
    print(f"  all files (telemetry included)  {med(files):8.3f} s")
    print(f"  catalogue (log, commands, row)  {med(catalogue):8.3f} s")
    print(f"  stored run, in all              {med(stored):8.3f} s  = {100 * (med(stored) - base) / base:+.1f} % "
          f"over the plain run")
    print(f"  importing pyarrow (once a process) {import_s:.3f} s = {100 * import_s / base:.1f} % of the run")
    print("  sizes: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sorted(sizes.items())))
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
