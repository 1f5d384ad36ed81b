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


def render(scenario: str, records: list[dict], console, hours: Optional[float] = None) -> None:
    """The endings for people: each ending with how often it came, on which seeds, and the choices
    behind it decision by decision, in the story's order (``issim endings --json`` has the same as data)."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from ..agents.decisions import DECISIONS, QUESTIONS

    seeds = [r["seed"] for r in records]
    span = f"{seeds[0]} to {seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else "as given"
    length = f"{hours:g} simulated hours each" if hours is not None else "each as long as the scenario"
    console.print(Text(f"Endings of {scenario} over {len(records)} seeds ({span}), {length}", style="bold"))
    order = {key: i for i, key in enumerate(DECISIONS)}
    for number, row in enumerate(table(records), 1):
        runs = [r for r in records if r["ending"] == row["ending"]]
        shown = ", ".join(map(str, row["seeds"][:12])) + (", …" if len(row["seeds"]) > 12 else "")
        console.print()
        console.print(Text(f"{number}. {row['ending']}", style="bold"))
        console.print(Text(f"   {row['runs']} of {len(records)} runs ({row['share']:.0%}); seeds {shown}"))
        chosen: dict[str, Counter] = {}
        deciders: dict[str, Counter] = {}
        for r in runs:
            for key, person, choice, _ in r["decisions"]:
                chosen.setdefault(key, Counter())[choice] += 1
                deciders.setdefault(key, Counter())[person] += 1
        if not chosen:
            console.print("   no decision was met")
            continue
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        t.add_column("decision", no_wrap=True)
        t.add_column("by whom: the question", ratio=3)
        t.add_column("chosen (runs)", ratio=2)
        for key in sorted(chosen, key=lambda k: order.get(k, len(order))):
            who = " or ".join(p for p, _ in deciders[key].most_common(2))
            t.add_row(key, f"{who}: {QUESTIONS.get(key, '')}",
                      ", ".join(f"{c} {n}" for c, n in chosen[key].most_common()))
        console.print(Padding(t, (0, 0, 0, 3)))
