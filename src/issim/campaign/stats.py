"""A campaign summed up: endings and paths, survival, time to each beat, and what moves each ending.

:func:`summary` works on a campaign's tables (:meth:`issim.campaign.store.Campaign.frames`).
The classes of ending, the commonest story paths and the choices and mind quantities that
go with each class are :func:`issim.campaign.endings.table`'s (the same sums ``issim
endings`` shows, with 95 % Wilson intervals); to them it adds each person's survival, the
share of runs that reach each kind of beat and when they first do, and each ending's
sensitivity to the dispersed inputs: a logistic regression of "ended so" on the inputs
(numbers standardised, so a coefficient is the change in log-odds for one standard
deviation; a choice one-hot against its first value), with its accuracy beside the
accuracy of always guessing the commoner answer, so a reader can tell a model that
explains something from one that does not.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .endings import share, table

MIN_RUNS = 10  # fewer runs than this in or out of a class: no model is fitted for it


def summary(frames: dict, inputs: list[str], top: int = 10) -> dict:
    """``{"total", "classes", "paths", "endings", "drivers", "survival", "beats", "sensitivity"}``."""
    from .store import records as records_of

    records = records_of(frames)
    out = table(records, top) if records else {"total": 0, "classes": [], "paths": [], "drivers": {}, "endings": []}
    for row in out["classes"] + out["paths"] + out["endings"]:
        row.pop("seeds", None)  # a campaign's runs are its rows; the seeds are in the outcomes table
    n = out["total"]
    out["survival"] = survival(frames["people"], n)
    out["beats"] = beat_times(frames["beats"], n)
    out["sensitivity"] = sensitivity(frames["outcomes"], inputs) if n else []
    return out


def survival(people, n: int) -> list[dict]:
    """Each person: the runs they lived through (aboard or departed), share and interval; their fates."""
    if people.empty:
        return []
    rows = []
    for person, g in people.groupby("person", sort=False):
        alive = int((g["fate"] != "dead").sum())
        rows.append({"person": person, **share(alive, len(g)),
                     "fates": {k: int(v) for k, v in g["fate"].value_counts().items()}})
    return rows


def beat_times(beats, n: int) -> list[dict]:
    """Each kind of beat: the runs that reach it (share, interval) and when it first comes,
    hours after the start (median, 10th and 90th percentiles), commonest first."""
    if beats.empty or not n:
        return []
    first = beats.groupby(["kind", "run"])["hours"].min().reset_index()
    rows = []
    for kind, g in first.groupby("kind"):
        h = g["hours"].to_numpy()
        rows.append({"beat": kind, **share(len(g), n), "median_h": round(float(np.median(h)), 2),
                     "p10_h": round(float(np.percentile(h, 10)), 2), "p90_h": round(float(np.percentile(h, 90)), 2)})
    rows.sort(key=lambda r: (-r["runs"], r["median_h"]))
    return rows


def design(outcomes, inputs: list[str]) -> tuple[np.ndarray, list[str]]:
    """The inputs as a matrix for the regression: numbers standardised (a constant one left
    out), a choice one-hot against its first value in sorted order."""
    cols, names = [], []
    for name in inputs:
        if name not in outcomes:
            continue
        v = outcomes[name]
        if v.dtype.kind in "fi":
            x = v.to_numpy(float)
            sd = x.std()
            if sd > 0:
                cols.append((x - x.mean()) / sd)
                names.append(name)
        else:
            levels = sorted(v.astype(str).unique())
            for level in levels[1:]:
                cols.append((v.astype(str) == level).to_numpy(float))
                names.append(f"{name}={level}")
    x = np.column_stack(cols) if cols else np.zeros((len(outcomes), 0))
    return x, names


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """A logistic regression by Newton's method with a small ridge (so a perfectly separating
    input gives a large, finite coefficient): ``[intercept, coefficients...]``."""
    a = np.column_stack([np.ones(len(x)), x])
    w = np.zeros(a.shape[1])
    ridge = np.full(a.shape[1], l2)
    ridge[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (p - y) + ridge * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(ridge) + 1e-9 * np.eye(a.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def _accuracy(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return float(((np.column_stack([np.ones(len(x)), x]) @ w > 0) == (y > 0.5)).mean())


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5) -> Optional[float]:
    """The accuracy on runs left out of the fit, over ``folds`` folds (run order, every k-th)."""
    n = len(y)
    if n < 2 * folds:
        return None
    hits = 0
    for k in range(folds):
        test = np.arange(n) % folds == k
        w = logistic(x[~test], y[~test])
        hits += _accuracy(x[test], y[test], w) * test.sum()
    return float(hits / n)


def sensitivity(outcomes, inputs: list[str], top: int = 6) -> list[dict]:
    """For each class of ending seen in at least :data:`MIN_RUNS` runs and missed in as many,
    the logistic regression of that ending on the dispersed inputs: its coefficients (largest
    first), its accuracy on the runs it was fitted to and on runs held out, and the
    accuracy of always guessing the commoner answer."""
    if outcomes.empty or not inputs:
        return []
    x, names = design(outcomes, inputs)
    if not names:
        return []
    out = []
    for cls, k in outcomes["class"].value_counts().items():
        n = len(outcomes)
        if k < MIN_RUNS or n - k < MIN_RUNS:
            continue
        y = (outcomes["class"] == cls).to_numpy(float)
        w = logistic(x, y)
        coef = sorted(zip(names, w[1:]), key=lambda c: -abs(c[1]))
        cv = cross_validated(x, y)
        out.append({"class": cls, "runs": int(k), "of": n, "intercept": round(float(w[0]), 3),
                    "coefficients": [{"input": name, "log_odds": round(float(c), 3),
                                      "odds_ratio": round(float(np.exp(np.clip(c, -30, 30))), 3)}
                                     for name, c in coef[:top]],
                    "accuracy": round(_accuracy(x, y, w), 3), "accuracy_held_out": None if cv is None else round(cv, 3),
                    "base_rate": round(max(k, n - k) / n, 3)})
    return out


# ------------------------------------------------------------------------ for people


def render(name: str, row: dict, s: dict, console, top: int = 10) -> None:
    """The campaign's sums as tables (``issim campaign show NAME --json`` has them as data)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .endings import _pct

    def pct(r: dict) -> str:
        lo, hi = r["ci95"]
        return f"{_pct(r['share'])} [{_pct(lo)}, {_pct(hi)}]"

    def new(title: str, caption: str = "") -> Table:
        return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left",
                     title_style="bold", caption=caption or None, caption_justify="left")

    length = f"{row['hours']:g} simulated hours each" if row["hours"] is not None else "each as long as the scenario"
    if row["until_resolved"]:
        length += ", or until its story was over"
    console.print(Text(f"Campaign {name}: {s['total']} of {row['runs']} runs of {row['scenario']}, {length}", style="bold"))
    if not s["total"]:
        return
    t = new("Ending classes (docs/endings.md)")
    for col in ("class", "runs", "share [95 % CI]", "what it means"):
        t.add_column(col, justify="right" if col == "runs" else "left", no_wrap=col != "what it means")
    for r in s["classes"]:
        t.add_row(r["class"], str(r["runs"]), pct(r), r["label"])
    console.print()
    console.print(t)
    t = new("Commonest story paths")
    for col in ("runs", "share [95 % CI]", "path (beats in order)"):
        t.add_column(col, justify="right" if col == "runs" else "left")
    for r in s["paths"][:top]:
        t.add_row(str(r["runs"]), pct(r), r["path"] or "(nothing happened)")
    console.print()
    console.print(t)
    t = new("Survival", "lived: alive at the end, aboard or departed")
    for col in ("person", "lived [95 % CI]", "fates"):
        t.add_column(col)
    for r in s["survival"]:
        t.add_row(r["person"], pct(r), ", ".join(f"{k} {v}" for k, v in r["fates"].items()))
    console.print()
    console.print(t)
    if s["beats"]:
        t = new("Beats: how often, and when first (hours after the start)")
        for col in ("beat", "runs [95 % CI]", "median", "10 %", "90 %"):
            t.add_column(col, justify="left" if col in ("beat", "runs [95 % CI]") else "right")
        for r in s["beats"]:
            t.add_row(r["beat"], pct(r), f"{r['median_h']:.1f}", f"{r['p10_h']:.1f}", f"{r['p90_h']:.1f}")
        console.print()
        console.print(t)
    for m in s["sensitivity"]:
        held = "" if m["accuracy_held_out"] is None else f", {_pct(m['accuracy_held_out'])} on runs held out"
        t = new(f"What moves {m['class']} ({m['runs']} of {m['of']} runs): logistic regression on the inputs",
                f"accuracy {_pct(m['accuracy'])} on the runs{held}; always guessing the commoner answer: "
                f"{_pct(m['base_rate'])}. A number's coefficient is per standard deviation.")
        for col in ("input", "log-odds", "odds ratio"):
            t.add_column(col, justify="left" if col == "input" else "right")
        for c in m["coefficients"]:
            t.add_row(c["input"], f"{c['log_odds']:+.2f}", f"{c['odds_ratio']:.2f}")
        console.print()
        console.print(t)
