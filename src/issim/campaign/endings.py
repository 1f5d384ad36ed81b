"""Many seeds of one scenario: how often each ending comes, and the choices behind it.

:func:`survey` runs a scenario once per seed (in worker processes when ``jobs`` > 1) and
returns one record per run: the seed, the one-line ending (:func:`issim.scenario.summary.ending`),
the dead and the departed, and the decisions made (key, person, choice, drawn).
:func:`table` groups the records by ending, most frequent first.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Optional


def run_one(args: tuple) -> dict:
    """One run of ``(scenario name or path, seed, end offset ms or None)``: its record."""
    from ..runner import Runner
    from ..scenario import load_scenario

    name, seed, length_ms = args
    spec = load_scenario(name)
    end = spec.default_end_ms if length_ms is None else spec.start_ms + length_ms
    run = Runner(spec, seed=seed, end_ms=end)
    run.run()
    sim = run.sim
    o = run.outcome()
    return {
        "seed": seed,
        "ending": o["ending"],
        "dead": o["dead"],
        "departed": o["departed"],
        "decisions": [(k, n, c, bool(d)) for _, k, n, c, d in sim.state.facts.get("agents.decisions", ())],
    }


def survey(name: str, seeds: Iterable[int], *, jobs: int = 1, length_ms: Optional[int] = None,
           progress: Optional[Callable[[dict], None]] = None) -> list[dict]:
    """One record per seed, in seed order."""
    tasks = [(name, int(s), length_ms) for s in seeds]
    out = []
    if jobs <= 1:
        for t in tasks:
            out.append(run_one(t))
            if progress:
                progress(out[-1])
    else:
        with ProcessPoolExecutor(jobs) as ex:
            for rec in ex.map(run_one, tasks):
                out.append(rec)
                if progress:
                    progress(rec)
    return out


def table(records: list[dict]) -> list[dict]:
    """``[{ending, runs, share, seeds, choices}]``, most frequent first; ``choices`` counts
    each (decision, choice) among the runs that ended so."""
    by = Counter(r["ending"] for r in records)
    rows = []
    for ending, n in by.most_common():
        runs = [r for r in records if r["ending"] == ending]
        choices = Counter(f"{k}={c}" for r in runs for k, _, c, _ in r["decisions"])
        rows.append({"ending": ending, "runs": n, "share": n / len(records), "seeds": [r["seed"] for r in runs],
                     "choices": dict(choices.most_common())})
    return rows
