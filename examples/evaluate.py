"""Evaluate a baseline policy over N episodes of the film's crisis and print its endings.

    PYTHONPATH=src python examples/evaluate.py --policy cooperative --episodes 20
    PYTHONPATH=src python examples/evaluate.py --policy random --episodes 100 --as "Gordon Barrett"

Each episode is ``issim.rl.CrewEnv(scenario, start=--start, until_resolved=True)`` with
seed ``--seed + i``: the run goes to ``--start`` with everyone on the crew mind, then the
people of ``--as`` (default: the whole crew) follow the policy, one decision a simulated
minute, the rest keep their crew minds, until the story is over or the scenario ends.
Prints the distribution of ``outcome()["ending_class"]``, the deaths, and what it cost.
``--policy mind`` runs the same episodes with everyone on the crew mind, for reference.
The two policies are in :mod:`issim.rl.baselines`; ``issim evaluate`` scores one person's
policy against held-out crews (``docs/rl.md``).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

from issim.rl import CrewEnv
from issim.rl.baselines import Cooperative, RandomLegal
from issim.runner import Runner


def episode(args, seed: int, policy) -> dict:
    if policy is None:
        run = Runner(args.scenario, seed=seed, until_resolved=True)
        run.run()
        return run.outcome()
    env = CrewEnv(args.scenario, learners=args.people, start=args.start, until_resolved=True)
    obs, _ = env.reset(seed=seed)
    if hasattr(policy, "reset"):
        policy.reset()
    while env.agents:
        obs, *_ = env.step({a: policy(a, obs[a], env) for a in env.agents})
    return env.runner.outcome()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", choices=("random", "cooperative", "mind"), default="cooperative")
    ap.add_argument("--episodes", "-n", type=int, default=10, help="episodes (seeds --seed .. --seed+N-1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="iss")
    ap.add_argument("--start", default="+30h", help="offset from the scenario's start where the policy takes over")
    ap.add_argument("--as", dest="people", action="append", help="a person the policy plays (repeat; default all)")
    args = ap.parse_args(argv)
    policy = {"random": lambda: RandomLegal(seed=args.seed), "cooperative": Cooperative, "mind": lambda: None}[args.policy]()
    endings, deaths = collections.Counter(), collections.Counter()
    t0 = time.perf_counter()
    for i in range(args.episodes):
        o = episode(args, args.seed + i, policy)
        endings[o["ending_class"]["id"]] += 1
        deaths[len(o.get("dead", {}))] += 1
    wall = time.perf_counter() - t0
    who = ", ".join(args.people) if args.people else "the whole crew"
    print(f"{args.policy} as {who}, {args.scenario} from {args.start}, {args.episodes} episodes "
          f"(seeds {args.seed}-{args.seed + args.episodes - 1}), {wall:.1f} s ({wall / max(args.episodes, 1):.1f} s each)")
    for cid, n in endings.most_common():
        print(f"  {cid:24s} {n:4d}  {n / args.episodes:6.1%}")
    print("  deaths per episode: " + ", ".join(f"{k}: {n}" for k, n in sorted(deaths.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
