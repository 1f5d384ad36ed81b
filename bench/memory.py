"""Benchmark: how much memory a run takes, each figure from a fresh process.

``.venv/bin/python bench/memory.py [--scenario nominal] [--days 30] [--year] [--before SRC]``
prints, each measured in a child process of its own (``ru_maxrss``, the high-water mark
of its resident memory):

- the fixed cost: ``import issim``, then a built simulation and its first frame (the
  kernels loaded: those built ahead of time when they are, ``issim.sim.kernels``; and again
  with numba's JIT compiling them into an empty cache, ``ISSIM_KERNELS=jit``), then
  ``pyarrow.parquet``, which storing a run needs, then an hour of frames (the kernel that
  runs many frames a call, which any longer run loads too);
- a stored run of ``--days`` days (``Runner(...).store()`` into a fresh archive), and with
  ``--year`` a stored simulated year (six minutes or more of wall time), each also as what
  it takes above the fixed cost (the resident share of the shared libraries' pages varies
  with the machine's state, by tens of MB from one hour to the next);
- the stored run again with numba's JIT (``ISSIM_KERNELS=jit``: LLVM in the process);
- the same run not stored (all its telemetry in memory, as the Python API keeps it);
- ten one-day runs in one process, stored and not, with the resident memory after each
  (``VmRSS``): a worker that does many runs should not grow;
- beside the fixed cost and the stored run, their anonymous (private) memory (``RssAnon``,
  sampled): the resident memory less the shared libraries' pages, which follow the page
  cache (a freshly installed environment, whose libraries were just written, counts some
  70 MB more of them than one whose pages have aged).

``--before SRC`` runs every figure with another checkout's ``src`` first (e.g. ``../old-checkout/src``)
and prints the two side by side. Tests never assert on these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _rss_mb() -> float:
    """The resident memory now (not the high-water mark)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class _AnonPeak:
    """The high-water mark of the process's anonymous (private) resident memory, ``RssAnon``,
    read from ``/proc/self/status`` every 2 ms by a thread (the kernel keeps no such mark;
    a compiled call that holds the interpreter delays a reading, so a peak shorter than one
    may be missed). The rest of the resident memory is mostly the shared libraries' pages,
    clean and shared with every process that maps them, and how many of those a process
    has resident follows the page cache (``ru_maxrss`` counts them)."""

    def __init__(self) -> None:
        import threading

        self.mb = 0.0
        threading.Thread(target=self._watch, daemon=True).start()

    def now(self) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def _watch(self) -> None:
        while True:
            self.mb = max(self.mb, self.now())
            time.sleep(0.002)

    def peak(self) -> float:
        self.mb = max(self.mb, self.now())
        return self.mb


ANON: "_AnonPeak | None" = None  # started in a child


# ---------------------------------------------------------------------- the children


def child_baseline(scenario: str) -> dict:
    out = {"python_mb": _peak_mb()}
    import issim  # noqa: F401

    out["import_mb"] = _peak_mb()
    from issim.runner import Runner

    run = Runner(scenario, days=1)
    out["built_mb"] = _peak_mb()
    t0 = time.perf_counter()
    run.step()  # the kernels: compiled on a checkout's first run, then loaded from their cache
    out["first_frame_s"] = time.perf_counter() - t0
    out["first_frame_mb"] = _peak_mb()
    try:
        from issim.sim.kernels import status

        out["kernels"] = status()
    except ImportError:  # an older checkout (--before)
        out["kernels"] = "numba's JIT"
    try:
        from issim._arrow import pq  # noqa: F401  (what storing a run adds, loaded as a stored run loads it)
    except ImportError:  # an older checkout (--before)
        import pyarrow.parquet  # noqa: F401

    out["pyarrow_mb"] = _peak_mb()
    run.run(until=run.sim.t_ms + 3_600_000)  # the quiet kernel (issim.quiet), which any longer run loads
    out["hour_mb"] = _peak_mb()
    out["hour_anon_mb"] = ANON.peak()
    return out


def child_stored(scenario: str, days: float) -> dict:
    from issim.runner import Runner

    with tempfile.TemporaryDirectory(prefix="issim-mem-") as archive:
        run = Runner(scenario, days=days)
        t0 = time.perf_counter()
        record = run.store(archive)
        wall = time.perf_counter() - t0
        size = os.path.getsize(record.path / "telemetry.parquet")
    return {"peak_mb": _peak_mb(), "anon_mb": ANON.peak(), "wall_s": wall, "frames": run.sim.state.frame,
            "telemetry_mb": size / 1e6}


def child_in_memory(scenario: str, days: float) -> dict:
    """A run not stored (the Python API, tests): all its telemetry stays in memory."""
    from issim.runner import Runner

    run = Runner(scenario, days=days)
    run.run()
    run.summary()
    return {"peak_mb": _peak_mb()}


def child_repeated(scenario: str, runs: int, store: bool) -> dict:
    import gc

    from issim.runner import Runner

    rss = []
    with tempfile.TemporaryDirectory(prefix="issim-mem-") as archive:
        for _ in range(runs):
            run = Runner(scenario, days=1)
            if store:
                run.store(archive)
            else:
                run.run()
                run.outcome()
            del run
            gc.collect()
            rss.append(_rss_mb())
    return {"rss_mb": rss, "peak_mb": _peak_mb()}


# ---------------------------------------------------------------------- the parent


def measure(src: str, what: list, jit: bool = False, compile_kernels: bool = False) -> dict:
    """Run one child with ``src`` first on the path; its JSON answer. ``jit``: with numba's
    JIT, not the kernels built ahead of time; ``compile_kernels``: with an empty numba
    cache too, so that the kernels are compiled, not loaded."""
    with tempfile.TemporaryDirectory(prefix="issim-numba-") as cache:
        env = dict(os.environ, PYTHONPATH=src, **({"NUMBA_CACHE_DIR": cache} if compile_kernels else {}),
                   **({"ISSIM_KERNELS": "jit"} if jit or compile_kernels else {}))
        done = subprocess.run([sys.executable, __file__, "--child", json.dumps(what)], env=env, check=True,
                              capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nominal")
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--year", action="store_true", help="also store a simulated year (minutes)")
    parser.add_argument("--runs", type=int, default=10, help="one-day runs in one process")
    parser.add_argument("--before", metavar="SRC", help="another checkout's src to measure first")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        global ANON
        ANON = _AnonPeak()
        mode, *rest = json.loads(args.child)
        print(json.dumps({"baseline": child_baseline, "stored": child_stored, "in memory": child_in_memory,
                          "repeated": child_repeated}[mode](*rest)))
        return

    trees = ([("before", args.before)] if args.before else []) + [("after", SRC)]
    jobs = [("compile", ["baseline", args.scenario]),
            ("baseline", ["baseline", args.scenario]),
            ("stored", ["stored", args.scenario, args.days]),
            ("stored, jit", ["stored", args.scenario, args.days])]
    jobs.append(("in memory", ["in memory", args.scenario, args.days]))
    if args.year:
        jobs.append(("year", ["stored", args.scenario, 365.0]))
    jobs += [("repeated, stored", ["repeated", args.scenario, args.runs, True]),
             ("repeated, in memory", ["repeated", args.scenario, args.runs, False])]
    results = {label: {} for label, _ in jobs}
    for label, what in jobs:
        for name, src in trees:
            results[label][name] = r = measure(src, what, jit=label.endswith("jit"), compile_kernels=label == "compile")
            print(f"  ({name}, {label}: {json.dumps(r)})", file=sys.stderr, flush=True)

    names = [n for n, _ in trees]

    def row(title: str, cell) -> None:
        print(f"| {title} | " + " | ".join(cell(n) for n in names) + " |")

    print(f"\n{args.scenario}, peak resident memory (ru_maxrss) of fresh processes\n")
    print("| figure | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    b = results["baseline"]
    row("the kernels", lambda n: b[n]["kernels"].split(":")[0])
    row("`import issim`", lambda n: f"{b[n]['import_mb']:.0f} MB")
    row("+ a built simulation", lambda n: f"{b[n]['built_mb']:.0f} MB")
    row("+ its first frame, its kernels loaded (as the row above says)",
        lambda n: f"{b[n]['first_frame_mb']:.0f} MB ({b[n]['first_frame_s']:.2f} s)")
    c = results["compile"]
    row("+ its first frame, numba's JIT compiling the kernels (empty cache)",
        lambda n: f"{c[n]['first_frame_mb']:.0f} MB ({c[n]['first_frame_s']:.1f} s)")
    row("+ pyarrow.parquet (storing a run needs it)", lambda n: f"{b[n]['pyarrow_mb']:.0f} MB")
    row("+ an hour of frames (the many-frame kernel loaded): the fixed cost of a stored run",
        lambda n: f"{b[n].get('hour_mb', b[n]['pyarrow_mb']):.0f} MB")
    row("the same, its anonymous (private) memory, RssAnon", lambda n: f"{b[n].get('hour_anon_mb', 0):.0f} MB")
    for label, days in [("stored", args.days)] + ([("year", 365.0)] if args.year else []):
        s = results[label]
        row(f"stored {days:g}-day run, peak", lambda n: f"**{s[n]['peak_mb']:.0f} MB**")
        row(f"stored {days:g}-day run, above the fixed cost (kernels loaded, pyarrow)",
            lambda n: f"{s[n]['peak_mb'] - b[n].get('hour_mb', b[n]['pyarrow_mb']):.0f} MB")
        row(f"stored {days:g}-day run, peak of its anonymous (private) memory, RssAnon",
            lambda n: f"{s[n].get('anon_mb', 0):.0f} MB")
        row(f"stored {days:g}-day run, wall", lambda n: f"{s[n]['wall_s']:.1f} s "
                                                        f"({1e6 * s[n]['wall_s'] / s[n]['frames']:.0f} µs a frame)")
        row(f"stored {days:g}-day run, telemetry.parquet", lambda n: f"{s[n]['telemetry_mb']:.1f} MB")
    j = results["stored, jit"]
    row(f"stored {args.days:g}-day run with numba's JIT (ISSIM_KERNELS=jit), peak",
        lambda n: f"{j[n]['peak_mb']:.0f} MB (RssAnon {j[n].get('anon_mb', 0):.0f} MB)")
    m = results["in memory"]
    row(f"{args.days:g}-day run not stored, with its summary, peak", lambda n: f"{m[n]['peak_mb']:.0f} MB")
    for label in ("repeated, stored", "repeated, in memory"):
        r = results[label]
        row(f"{args.runs} one-day runs ({label.split(', ')[1]}): RSS after runs 1, 2, {args.runs}",
            lambda n: ", ".join(f"{r[n]['rss_mb'][i]:.0f}" for i in (0, 1, -1)) + " MB")


if __name__ == "__main__":
    main()
