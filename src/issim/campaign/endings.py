"""Many seeds of one scenario: how often each class of ending comes, by which paths, and why.

:func:`stream` runs a scenario once per seed (in worker processes when ``jobs`` > 1) and
yields one record per run as it finishes, in the order they finish: the seed, the one-line
ending (:func:`issim.scenario.summary.ending`), its class (:func:`issim.scenario.story.ending_class`,
``docs/endings.md``), the story's path (its beat kinds in order), the dead and the
departed, the decisions made (key, person, choice, drawn) and each person's mind at the end
(the ``agents.*`` quantities the run has: suspicion, and fear, trust, grievance where they exist).

:class:`Results` is the results file, one JSON line per run, written (flushed and synced)
as each run finishes, so that a survey stopped half way keeps what it did and a rerun
into the same file goes on from there. :func:`table` sums the records up: the classes
and the commonest paths with counts, shares and 95 % Wilson intervals, and for each
class the decisions and mind quantities that go with it most.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from ..errors import InputError

MIND = ("suspicion", "fear", "trust", "grievance")  # agents.<quantity>, read when the run has it
Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


# ------------------------------------------------------------------------ one run

def run_one(args: tuple) -> dict:
    """One run of ``(scenario name or path, seed, length ms or None, until_resolved)``: its record."""
    from ..scenario import load_scenario

    name, seed, length_ms, until_resolved = args
    return record(load_scenario(name), seed, length_ms, until_resolved)[0]


def record(spec, seed: int, length_ms: Optional[int], until_resolved: bool) -> tuple[dict, object]:
    """Run a scenario (a :class:`~issim.scenario.schema.Scenario`) once: ``(its record, the
    runner)``; a campaign's worker (:mod:`issim.campaign.runs`) adds to the record from the runner."""
    from ..runner import Runner
    from ..scenario.story import path
    from ..times import format_iso

    end = spec.default_end_ms if length_ms is None else spec.start_ms + length_ms
    run = Runner(spec, seed=seed, end_ms=end, until_resolved=until_resolved)
    run.run()
    sim = run.sim
    o = run.outcome()
    rec = {
        "scenario": spec.name,
        "seed": seed,
        "hours": None if length_ms is None else length_ms / 3_600_000,
        "until_resolved": bool(until_resolved),
        "end": format_iso(sim.state.t_ms),
        "resolved": run.resolved_ms is not None,
        "ending": o["ending"],
        "class": o["ending_class"]["id"],
        "path": path(o["story"]),
        "beats": len(o["story"]),
        "dead": o["dead"],
        "departed": o["departed"],
        "decisions": [(k, n, c, bool(d)) for _, k, n, c, d in sim.state.facts.get("agents.decisions", ())],
        "mind": mind(sim),
    }
    run.last_outcome = o
    return rec, run


def mind(sim) -> dict:
    """``{quantity: {person: value}}`` (or ``{person: {other: value}}`` for a quantity held
    between each pair) of the :data:`MIND` quantities the run's state has, at its end."""
    import numpy as np

    st = sim.state
    names = list(sim.people)
    out: dict = {}
    for q in MIND:
        key = f"agents.{q}"
        if key not in st:
            continue
        a = np.asarray(st[key], dtype=float)
        if a.shape == (len(names),):
            out[q] = {n: round(float(a[i]), 4) for i, n in enumerate(names)}
        elif a.shape == (len(names), len(names)):
            out[q] = {n: {m: round(float(a[i, j]), 4) for j, m in enumerate(names) if j != i}
                      for i, n in enumerate(names)}
    return out


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (no traceback from each)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stream(name: str, seeds: Iterable[int], *, jobs: int = 1, length_ms: Optional[int] = None,
           until_resolved: bool = False) -> Iterator[dict]:
    """One record per seed, each as soon as its run finishes (with ``jobs`` > 1, in the
    order they finish). Closing the generator (or Ctrl-C) stops the workers."""
    yield from pool_map(run_one, [(name, int(s), length_ms, until_resolved) for s in seeds], jobs)


def pool_map(fn: Callable, tasks: list, jobs: int) -> Iterator:
    """``fn`` of each task, in the order they finish, in ``jobs`` worker processes (here, one
    after another, when ``jobs`` is 1). Closing the generator (or Ctrl-C) stops the workers."""
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield fn(t)
        return
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(min(jobs, len(tasks)), initializer=_quiet_worker)
    try:
        yield from pool.imap_unordered(fn, tasks, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def survey(name: str, seeds: Iterable[int], *, jobs: int = 1, length_ms: Optional[int] = None,
           until_resolved: bool = False, progress: Optional[Callable[[dict], None]] = None) -> list[dict]:
    """One record per seed, in seed order (:func:`stream`, gathered)."""
    out = []
    for rec in stream(name, seeds, jobs=jobs, length_ms=length_ms, until_resolved=until_resolved):
        out.append(rec)
        if progress:
            progress(rec)
    return sorted(out, key=lambda r: r["seed"])


# ------------------------------------------------------------------------ the results file

REQUIRED = ("scenario", "seed", "class", "path", "ending", "decisions")


class Results:
    """A survey's results file: one JSON line per run (``--out``).

    :meth:`open` reads what is there, checking that it is runs of the same scenario, length
    and stopping rule (else :class:`InputError` naming ``source``), and opens it to append.
    A last line cut short (the survey was killed while writing it) is dropped and its seed
    run again; any other line that is not a run record is an error.
    """

    def __init__(self, path: Path, records: list[dict], dropped: bool):
        self.path = path
        self.records = records
        self.dropped = dropped  # a cut-short last line was dropped
        self._f = None

    @classmethod
    def open(cls, path, scenario: str, hours: Optional[float], until_resolved: bool,
             source: str = "--out") -> "Results":
        p = Path(path).expanduser()
        if p.is_dir():
            raise InputError(source, f"{p} is a folder; give a file (runs/endings/{scenario}.jsonl)")
        records: list[dict] = []
        dropped = False
        if p.exists():
            try:
                raw = p.read_bytes()
            except OSError as exc:
                raise InputError(source, f"cannot read {p}: {exc.strerror or exc}") from None
            lines = raw.split(b"\n")
            complete = raw.endswith(b"\n") or not raw
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                last = number == len(lines)
                try:
                    rec = json.loads(line)
                    if not isinstance(rec, dict) or any(k not in rec for k in REQUIRED) \
                            or not isinstance(rec["seed"], int):
                        raise ValueError("not a run record")
                except ValueError as exc:
                    if last and not complete:  # cut short while being written: run that seed again
                        dropped = True
                        break
                    what = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    raise InputError(source, f"{p} line {number} is not a run record of issim endings ({what}); "
                                             "give another --out, or delete the file to start afresh") from None
                _same(rec, p, number, scenario, hours, until_resolved, source)
                records.append(rec)
            if dropped:
                keep = raw[: raw.rfind(b"\n") + 1]
                try:
                    p.write_bytes(keep)
                except OSError as exc:
                    raise InputError(source, f"cannot write {p}: {exc.strerror or exc}") from None
        out = cls(p, _by_seed(records), dropped)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            out._f = open(p, "a", encoding="utf-8")
        except OSError as exc:
            raise InputError(source, f"cannot write {p}: {exc.strerror or exc}") from None
        return out

    def done(self) -> set:
        return {r["seed"] for r in self.records}

    def add(self, rec: dict) -> None:
        """Append one run's record, on disk before this returns."""
        self._f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self.records.append(rec)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def _same(rec: dict, p: Path, number: int, scenario: str, hours, until_resolved: bool, source: str) -> None:
    if rec["scenario"] != scenario:
        raise InputError(source, f"{p} holds runs of {rec['scenario']}, not {scenario} (line {number}); "
                                 "give another --out")
    theirs = rec.get("hours")
    if (theirs is None) != (hours is None) or (theirs is not None and not math.isclose(theirs, hours)):
        said = "the scenario's length" if theirs is None else f"{theirs:g} simulated hours"
        mine = "the scenario's length" if hours is None else f"{hours:g} simulated hours"
        raise InputError(source, f"{p} holds runs of {said}, not {mine} (line {number}); give the same --hours "
                                 "or another --out")
    if bool(rec.get("until_resolved", False)) != bool(until_resolved):
        raise InputError(source, f"{p} holds runs {'stopped' if rec.get('until_resolved') else 'not stopped'} "
                                 f"once resolved (line {number}); give the same --until-resolved/--to-the-end "
                                 "or another --out")


def _by_seed(records: list[dict]) -> list[dict]:
    seen: dict[int, dict] = {}
    for r in records:
        seen.setdefault(r["seed"], r)  # a seed written twice (two surveys at once) counts once
    return sorted(seen.values(), key=lambda r: r["seed"])


def default_out(scenario: str, hours: Optional[float], until_resolved: bool) -> Path:
    """``<archive>/endings/<scenario>[-<hours>h][-to-the-end].jsonl`` (the archive: ``$ISSIM_HOME``, else ./runs)."""
    from ..archive.catalogue import default_home

    stem = scenario + (f"-{hours:g}h" if hours is not None else "") + ("" if until_resolved else "-to-the-end")
    return default_home() / "endings" / f"{stem}.jsonl"


# ------------------------------------------------------------------------ the sums

def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share ``k / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def share(k: int, n: int, digits: Optional[int] = None) -> dict:
    """``{runs, share, ci95}``: ``k`` of ``n`` with its 95 % Wilson interval (rounded to 4
    places; the share too when ``digits`` is given)."""
    lo, hi = wilson(k, n)
    p = k / n if n else 0.0
    return {"runs": k, "share": p if digits is None else round(p, digits), "ci95": [round(lo, 4), round(hi, 4)]}


def _choices(r: dict) -> set:
    return {f"{k}={c}" for k, _, c, _ in r["decisions"]}


def _quantities(r: dict) -> dict[str, float]:
    """A run's mind quantities flat: ``suspicion[Kira Foster]``, ``trust[Kira Foster→Alexey Pulov]``
    (a campaign's records, read back from its tables, have them so already: ``quantities``)."""
    if "quantities" in r:
        return r["quantities"]
    out = {}
    for q, values in (r.get("mind") or {}).items():
        for person, v in values.items():
            if isinstance(v, dict):
                out.update({f"{q}[{person}→{other}]": float(x) for other, x in v.items()})
            elif isinstance(v, (int, float)):
                out[f"{q}[{person}]"] = float(v)
    return out


def drivers(records: list[dict], cls: str, top: int = 5) -> dict:
    """What goes with ending in class ``cls`` most: ``{"decisions": [...], "mind": [...]}``.

    For each choice made in some runs and not in others, ``P(cls | choice) - P(cls | not
    choice)`` with the counts behind it; for each mind quantity, the mean over the runs
    that ended in ``cls`` minus the mean over the others. Largest differences first.
    """
    inside = [r["class"] == cls for r in records]
    n = len(records)
    picks = [_choices(r) for r in records]
    rows = []
    for choice in sorted(set().union(*picks)) if picks else []:
        w = [i for i in range(n) if choice in picks[i]]
        if not w or len(w) == n:
            continue
        k_w = sum(inside[i] for i in w)
        k_o = sum(inside[i] for i in range(n) if choice not in picks[i])
        n_w, n_o = len(w), n - len(w)
        rows.append({"choice": choice, "with": [k_w, n_w], "without": [k_o, n_o],
                     "p_with": round(k_w / n_w, 4), "p_without": round(k_o / n_o, 4),
                     "difference": round(k_w / n_w - k_o / n_o, 4)})
    rows.sort(key=lambda d: (-abs(d["difference"]), d["choice"]))
    qs = [_quantities(r) for r in records]
    mrows = []
    for name in sorted(set().union(*qs)) if qs else []:
        a = [q[name] for q, i in zip(qs, inside) if i and name in q]
        b = [q[name] for q, i in zip(qs, inside) if not i and name in q]
        if not a or not b:
            continue
        ma, mb = sum(a) / len(a), sum(b) / len(b)
        mrows.append({"quantity": name, "mean_in": round(ma, 4), "mean_out": round(mb, 4),
                      "difference": round(ma - mb, 4), "runs": [len(a), len(b)]})
    mrows.sort(key=lambda d: (-abs(d["difference"]), d["quantity"]))
    return {"decisions": [d for d in rows if d["difference"]][:top], "mind": [d for d in mrows if d["difference"]][:top]}


def table(records: list[dict], top: int = 10) -> dict:
    """The survey summed up: ``{"total", "classes", "paths", "drivers", "endings"}``.

    ``classes`` and ``paths`` (the ``top`` commonest) are ``{runs, share, ci95, seeds}``
    rows, most frequent first; ``drivers`` maps each class to :func:`drivers`; ``endings``
    counts the one-line endings (with the choices made in the runs that ended so)."""
    from ..scenario.story import CLASSES

    n = len(records)
    classes = []
    for cid, k in Counter(r["class"] for r in records).most_common():
        classes.append({"class": cid, "label": CLASSES.get(cid, cid), **share(k, n),
                        "seeds": [r["seed"] for r in records if r["class"] == cid]})
    paths = []
    for p, k in Counter(r["path"] for r in records).most_common(top):
        paths.append({"path": p, **share(k, n), "classes": dict(Counter(r["class"] for r in records if r["path"] == p)),
                      "seeds": [r["seed"] for r in records if r["path"] == p]})
    endings = []
    for ending, k in Counter(r["ending"] for r in records).most_common():
        runs = [r for r in records if r["ending"] == ending]
        choices = Counter(f"{key}={c}" for r in runs for key, _, c, _ in r["decisions"])
        endings.append({"ending": ending, **share(k, n), "seeds": [r["seed"] for r in runs],
                        "choices": dict(choices.most_common())})
    return {"total": n, "classes": classes, "paths": paths,
            "drivers": {c["class"]: drivers(records, c["class"]) for c in classes}, "endings": endings}


# ------------------------------------------------------------------------ for people

def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def render(scenario: str, records: list[dict], console, hours: Optional[float] = None, *,
           until_resolved: bool = False, wanted: Optional[int] = None, top: int = 10) -> None:
    """The survey for people: the classes of ending, the commonest story paths, and for each
    class what goes with it (``issim endings --json`` has the same as data)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..agents.decisions import QUESTIONS

    if not records:
        console.print(Text(f"No run of {scenario} finished."))
        return
    seeds = [r["seed"] for r in records]
    span = f"{seeds[0]} to {seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else "as given"
    length = f"{hours:g} simulated hours each" if hours is not None else "each as long as the scenario"
    if until_resolved:
        length += ", or until its story was over"
    of = f" (of {wanted} asked for)" if wanted is not None and wanted != len(records) else ""
    many = f"{len(records)} seed{'s' if len(records) != 1 else ''}"
    console.print(Text(f"Endings of {scenario} over {many}{of} ({span}), {length}", style="bold"))
    t = table(records, top)
    classes = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Ending classes (docs/endings.md)",
                    title_justify="left", title_style="bold")
    classes.add_column("class", no_wrap=True)
    classes.add_column("runs", justify="right")
    classes.add_column("share [95 % CI]", no_wrap=True)
    classes.add_column("what it means", ratio=3)
    for row in t["classes"]:
        lo, hi = row["ci95"]
        classes.add_row(row["class"], str(row["runs"]), f"{_pct(row['share'])} [{_pct(lo)}, {_pct(hi)}]",
                        row["label"])
    console.print()
    console.print(classes)
    paths = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Commonest story paths",
                  title_justify="left", title_style="bold")
    paths.add_column("runs", justify="right")
    paths.add_column("share [95 % CI]", no_wrap=True)
    paths.add_column("class", no_wrap=True)
    paths.add_column("path (beats in order)", ratio=3)
    for row in t["paths"]:
        lo, hi = row["ci95"]
        paths.add_row(str(row["runs"]), f"{_pct(row['share'])} [{_pct(lo)}, {_pct(hi)}]",
                      ", ".join(row["classes"]), row["path"] or "(nothing happened)")
    console.print()
    console.print(paths)
    for row in t["classes"]:
        d = t["drivers"][row["class"]]
        if not d["decisions"] and not d["mind"]:
            continue
        why = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=f"What goes with {row['class']}",
                    title_justify="left", title_style="bold",
                    caption="a choice: runs that ended so, of those that made it and of those that did not; "
                            "a quantity: its mean at the end in these runs and in the others",
                    caption_justify="left")
        why.add_column("choice or quantity", ratio=2)
        why.add_column("with", no_wrap=True, justify="right")
        why.add_column("without", no_wrap=True, justify="right")
        why.add_column("±", no_wrap=True, justify="right")
        for x in d["decisions"]:
            key = x["choice"].split("=")[0]
            (kw, nw), (ko, no) = x["with"], x["without"]
            question = QUESTIONS.get(key, "")
            why.add_row(f"{x['choice']} ({question})" if question else x["choice"], f"{kw} of {nw}", f"{ko} of {no}",
                        f"{100 * x['difference']:+.0f} %")
        for x in d["mind"]:
            why.add_row(x["quantity"], f"{x['mean_in']:.2f}", f"{x['mean_out']:.2f}", f"{x['difference']:+.2f}")
        console.print()
        console.print(why)
