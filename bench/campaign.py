"""Benchmark: runs of a campaign a minute, on worker processes and on Ray, with 1 and 2 workers.

``.venv/bin/python bench/campaign.py [--scenario iss] [--runs 24] [--hours H] [--no-ray] [--multinode]``
runs the same campaign (run i: seed i, the scenario's dispersions drawn for it; each run to
the scenario's end or until its story is over, as ``issim campaign`` does) into a temporary
archive: on ``local`` with 1 worker and with 2, then on a local Ray (``ray.init(num_cpus=2)``)
with 2. With ``--multinode`` the Ray figure is taken on a two-node cluster on this
machine: a head (``ray start --head --num-cpus 1``) and a second raylet joined to it
(``ray start --address ... --num-cpus 1``), stopped afterwards.

Each figure is the campaign's wall time from the first task handed out to the last run
stored (its Parquet chunk written), so it counts what the runs cost, storing them, and
the engine's overhead; starting Ray is timed apart. The first run in each worker process
also pays for loading the compiled kernels. Tests never assert on these numbers;
``bench/RESULTS.md`` records them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def campaign(scenario: str, runs: int, hours, engine: str, workers: int, home: Path, name: str,
             address=None) -> float:
    """Wall seconds to run the campaign ``name`` of ``runs`` runs into the archive at ``home``."""
    from issim.archive import Archive
    from issim.campaign.runs import plan, run_campaign, scenario_bytes
    from issim.campaign.store import Campaign
    from issim.scenario.load import parse_scenario

    raw, source = scenario_bytes(scenario)
    spec = parse_scenario(raw, source)
    length_ms = None if hours is None else round(hours * 3_600_000)
    store = Archive.open(home, create=True)
    camp = Campaign.start(store, name, spec, raw, 0, hours, True, runs)
    tasks = plan(spec, raw, source, range(runs), 0, length_ms, True)
    t0 = time.perf_counter()
    run_campaign(camp, tasks, engine=engine, workers=workers, address=address, chunk=max(1, runs // 4))
    wall = time.perf_counter() - t0
    camp.close()
    store.close()
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="iss")
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--hours", type=float, default=None, help="simulated hours a run (default: the scenario's)")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--multinode", action="store_true", help="Ray on a head and a second raylet on this machine")
    parser.add_argument("--no-local", action="store_true", help="only the Ray figure")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "runs"
        for workers in (() if args.no_local else (1, 2)):
            wall = campaign(args.scenario, args.runs, args.hours, "local", workers, home, f"local-{workers}")
            rows.append((f"local, {workers} worker{'s' if workers > 1 else ''}", wall, None))
        if not args.no_ray:
            import ray

            address = None
            t0 = time.perf_counter()
            ray_bin = str(Path(sys.executable).parent / "ray")  # the ray command beside this Python
            if args.multinode:
                env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
                os.environ.update(RAY_AUTH_MODE=env["RAY_AUTH_MODE"])  # the driver joins as the raylets do
                out = subprocess.run([ray_bin, "start", "--head", "--num-cpus", "1", "--include-dashboard", "false",
                                      "--port", "6391"], capture_output=True, text=True, env=env)
                if out.returncode:
                    sys.exit(out.stderr)
                address = "127.0.0.1:6391"
                out = subprocess.run([ray_bin, "start", "--address", address, "--num-cpus", "1"], capture_output=True,
                                     text=True, env=env)
                if out.returncode:
                    sys.exit(out.stderr)
                from issim.campaign.runs import connect_ray

                connect_ray(address, 2)
            else:
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}}
                         if os.environ.get("PYTHONPATH") else None)
            startup = time.perf_counter() - t0
            try:
                wall = campaign(args.scenario, args.runs, args.hours, "ray", 2, home, "ray-2", address)
            finally:
                ray.shutdown()
                if args.multinode:
                    subprocess.run([ray_bin, "stop", "--force"], capture_output=True)
            what = "Ray, a head and a second raylet, 1 CPU each" if args.multinode else "Ray (local, 2 CPUs)"
            rows.append((what, wall, startup))

    length = f"{args.hours:g} simulated hours" if args.hours is not None else "the scenario's length"
    print(f"{args.runs} runs of {args.scenario} ({length}, or until resolved), {os.cpu_count()} CPUs")
    print(f"{'engine':<45} {'wall s':>8} {'runs/min':>9} {'start s':>8}")
    for what, wall, startup in rows:
        print(f"{what:<45} {wall:8.1f} {60 * args.runs / wall:9.1f} {'' if startup is None else f'{startup:.1f}':>8}")


if __name__ == "__main__":
    main()
