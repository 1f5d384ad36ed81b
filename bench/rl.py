"""Environment steps per second of issim.rl (issue 15; goal: 1,000 a second on one core).

One step is one decision of every living person: ``CrewEnv.step`` with an action for each
of the six of ``iss``. The episode starts at +30 h (the war; the warm-up is not timed)
and each configuration runs ``--steps`` steps after ``--burn`` untimed ones. Reported per
configuration: steps a second, and where a step's time goes (the simulation's frames,
the masks, the encoding), from a second pass that times each part.

    PYTHONPATH=src python bench/rl.py                # all configurations
    PYTHONPATH=src python bench/rl.py --steps 500 --decision-s 60
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def measure(decision_s: float, acting: str, steps: int, burn: int, seed: int) -> dict:
    from issim.rl import CrewEnv
    from issim.sim.observe import Observation

    env = CrewEnv("iss", start="+30h", decision_s=decision_s)
    obs, infos = env.reset(seed=seed)
    rng = np.random.default_rng(seed)

    def act(infos):
        if acting == "wait":
            return {a: 0 for a in env.agents}
        out = {}
        for a in env.agents:  # like issim.rl.baselines.RandomLegal: a tenth of the decisions act
            allowed = np.flatnonzero(infos[a]["action_mask"])
            out[a] = int(rng.choice(allowed)) if rng.random() < 0.1 else 0
        return out

    for _ in range(burn):
        obs, _, _, _, infos = env.step(act(infos))
    done = 0
    t0 = time.perf_counter()
    while done < steps and env.agents:
        obs, _, _, _, infos = env.step(act(infos))
        done += 1
    wall = time.perf_counter() - t0
    # where the time goes: the same work, part by part, on the state the run reached
    sim, runner = env.sim, env.runner
    n_parts = 200
    people = [sim.people.index(a) for a in env.agents]
    t = time.perf_counter()
    for _ in range(n_parts):
        sit = env.table.situation(sim.state)
        env.table._key = None  # no reuse: the cost of working the masks out
        for i in people:
            env.table.mask(sit, i)
    mask_cold = (time.perf_counter() - t) / n_parts
    t = time.perf_counter()
    for _ in range(n_parts):
        sit = env.table.situation(sim.state)
        for i in people:
            env.table.mask(sit, i)
    mask_warm = (time.perf_counter() - t) / n_parts
    dummy = np.zeros(len(env.table), np.int8)
    t = time.perf_counter()
    for _ in range(n_parts):
        shared = {}
        for i in people:
            env.encoder.encode(Observation(sim, i), dummy, shared)
    encode = (time.perf_counter() - t) / n_parts
    frames = int(round(decision_s * 1000)) // sim.dt_ms
    snap = sim.snapshot()
    t = time.perf_counter()
    for _ in range(n_parts // 4):
        for _ in range(frames):
            sim.step(runner.actions())
    sim_s = (time.perf_counter() - t) / (n_parts // 4)
    sim.restore(snap)
    return {"decision_s": decision_s, "acting": acting, "steps": done, "wall_s": wall, "per_s": done / wall,
            "people": len(people), "sim_ms": sim_s * 1e3, "mask_cold_ms": mask_cold * 1e3,
            "mask_kept_ms": mask_warm * 1e3, "encode_ms": encode * 1e3, "frames": frames}


def main() -> None:
    ap = argparse.ArgumentParser(description="issim.rl environment steps per second")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--burn", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--decision-s", type=float, action="append", help="decision interval(s), s (default 60 and 10)")
    args = ap.parse_args()
    print(f"issim.rl bench: iss from +30 h, six learners, {one_core()}")
    print(f"{'decision':>9} {'actions':>12} {'steps/s':>9} {'ms/step':>8} | {'frames':>6} {'sim ms':>7} "
          f"{'masks ms (new / kept)':>22} {'encode ms':>9}")
    for d in args.decision_s or [60.0, 10.0]:
        for acting in ("wait", "random-legal"):
            r = measure(d, acting, args.steps, args.burn, args.seed)
            print(f"{d:>8g}s {acting:>12} {r['per_s']:>9.0f} {1e3 / r['per_s']:>8.2f} | {r['frames']:>6} "
                  f"{r['sim_ms']:>7.2f} {r['mask_cold_ms']:>11.2f} / {r['mask_kept_ms']:<8.3f} {r['encode_ms']:>9.2f}")


if __name__ == "__main__":
    main()
