"""Benchmark: how fast a one-shot command starts (issue 17), now and before, side by side.

``.venv/bin/python bench/startup.py [--runs 11] [--before REV]`` measures this checkout's
``src`` and the ``src`` of git revision REV (default ``b1ee895``, main before the startup
work), each in fresh subprocesses, the two taking turns run by run:

- the import time of ``issim.cli`` (the cumulative figure of ``python -X importtime -c
  'import issim.cli'``);
- all the import time of ``issim track`` (every module the command loads, summed);
- the wall time of ``issim track`` and of ``issim --help`` as whole processes, and of
  ``python -c pass``, the floor under both.

Each figure is the median of ``--runs`` runs after one warm-up. Both trees run with
bytecode caches, in a temporary folder, as an installed issim has them; ``--no-cache``
runs them as a source tree under ``PYTHONDONTWRITEBYTECODE=1`` does, compiling issim's
modules at every start. Tests never assert on these numbers; the figures are in
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "b1ee895"  # main before issue 17's startup work
CLI = "import sys; from issim.cli import main; main()"  # `issim ARGS`, in every version of issim


def extract(rev: str, into: Path) -> Path:
    """The ``src`` folder of git revision ``rev``, written below ``into``."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"], capture_output=True,
                         check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into / "src"


def environment(src: Path, scratch: Path, cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env.update(PYTHONPATH=str(src), ISSIM_DATA_DIR=str(scratch / "data"))  # no downloads: the same work for both
    if cache:
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def wall_s(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def import_ms(args: list[str], env: dict[str, str], module: str | None) -> float:
    """From ``-X importtime``: ``module``'s cumulative time, or (None) every module's own time summed."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, capture_output=True, text=True,
                          check=True)
    total = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|")
        if module is None:
            total += int(own)
        elif name.strip() == module:
            return int(cumulative) / 1000
    return total / 1000


def measures(env: dict[str, str]) -> dict[str, float]:
    """One run of each figure, in milliseconds."""
    py = sys.executable
    return {
        "import issim.cli": import_ms(["-c", "import issim.cli"], env, "issim.cli"),
        "all imports of issim track": import_ms(["-c", CLI, "track"], env, None),
        "issim track, whole process": 1000 * wall_s([py, "-c", CLI, "track"], env),
        "issim --help, whole process": 1000 * wall_s([py, "-c", CLI, "--help"], env),
        "python -c pass (the floor)": 1000 * wall_s([py, "-c", "pass"], env),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="Counted runs of each figure (default 11).")
    parser.add_argument("--before", default=BEFORE, metavar="REV", help=f"The revision to compare with "
                                                                         f"(default {BEFORE}); '' for none.")
    parser.add_argument("--no-cache", action="store_true", help="Compile issim's modules at every start, as a "
                                                                    "source tree does under PYTHONDONTWRITEBYTECODE=1.")
    args = parser.parse_args()
    cache = not args.no_cache
    with tempfile.TemporaryDirectory(prefix="issim-startup-") as tmp:
        trees = {"now": environment(ROOT / "src", Path(tmp) / "now", cache)}
        if args.before:
            trees[f"before ({args.before})"] = environment(extract(args.before, Path(tmp) / "before"),
                                                           Path(tmp) / "before", cache)
        for env in trees.values():
            measures(env)  # warm-up: writes the bytecode caches
        runs = {label: [] for label in trees}
        for _ in range(args.runs):
            for label, env in trees.items():
                runs[label].append(measures(env))
    load = os.getloadavg()[0]
    labels = list(reversed(trees))  # before first, as read left to right
    print(f"issim startup: median of {args.runs} runs, ms (Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, {'with' if cache else 'without'} bytecode caches)")
    print(f"{'':30}" + "".join(f"{label:>20}" for label in labels) + ("   now/before" if len(labels) > 1 else ""))
    for figure in runs["now"][0]:
        med = {label: statistics.median(r[figure] for r in runs[label]) for label in labels}
        ratio = f"{med['now'] / med[labels[0]]:13.2f}" if len(labels) > 1 else ""
        print(f"{figure:30}" + "".join(f"{med[label]:20.0f}" for label in labels) + ratio)


if __name__ == "__main__":
    main()
