"""Two runs compared: where they part, and how their outcomes differ.

Runs of the same scenario and seed have the same event log, entry for entry (the engine
is deterministic). So the first entry where two logs differ is where the runs part:
a different seed drew differently, an edited scenario scheduled something else, a new
issim version behaves otherwise. The outcomes are then compared field by field: who
lived, who died and of what, who left, who controls each system at the end, the
station's state.
"""

from __future__ import annotations

import json
from typing import Any

from .record import RunRecord

_META = ("scenario", "scenario_sha256", "seed", "version", "sim_start", "sim_end", "frames", "status",
         "event_log_sha256")


def first_difference(a: list[str], b: list[str]) -> int | None:
    """The index of the first entry where two logs differ (a longer log differs at the shorter's end)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _outcome_differences(a: dict | None, b: dict | None) -> list[dict]:
    """``[{what, label, a, b}]``: ``what`` names the field for tools, ``label`` says it for people."""
    if a is None or b is None:
        return [] if a == b else [{"what": "outcome", "label": "outcome", "a": a, "b": b}]
    out: list[dict] = []

    def add(what: str, label: str, x: Any, y: Any) -> None:
        if x != y:
            out.append({"what": what, "label": label, "a": x, "b": y})

    add("survivors", "survivors", sorted(a.get("survivors", [])), sorted(b.get("survivors", [])))
    dead_a, dead_b = a.get("dead", {}), b.get("dead", {})
    for name in sorted(set(dead_a) | set(dead_b)):
        add(f"dead: {name}", f"{name} died of", dead_a.get(name), dead_b.get(name))
    dep_a, dep_b = a.get("departed", {}), b.get("departed", {})
    for vehicle in sorted(set(dep_a) | set(dep_b)):
        add(f"departed in {vehicle}", f"left in {vehicle}", dep_a.get(vehicle), dep_b.get(vehicle))
    ctl_a, ctl_b = a.get("control", {}), b.get("control", {})
    for system in list(ctl_a) + [s for s in ctl_b if s not in ctl_a]:
        add(f"control of {system}", f"who controls {_system_words(system)}", ctl_a.get(system), ctl_b.get(system))
    st_a, st_b = _flat(a.get("station", {})), _flat(b.get("station", {}))
    for key in list(st_a) + [k for k in st_b if k not in st_a]:
        add(f"station {key}", f"station: {_key_words(key)}", st_a.get(key), st_b.get(key))
    return out


def _flat(data: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: nested tables compared leaf by leaf."""
    out = {}
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _system_words(system: str) -> str:
    """``USOS.life-support`` -> ``USOS life support``; hatch and vehicle ids are kept as they are."""
    kind, _, rest = system.partition(".")
    if kind in ("hatch", "vehicle"):
        return f"{kind} {rest}"
    return system.replace(".", " ").replace("-", " ")


def _key_words(key: str) -> str:
    """``life_support_running.USOS.o2_generator`` -> ``life support running, USOS, o2 generator``;
    a unit at the end goes in brackets: ``altitude_km`` -> ``altitude (km)``."""
    words = []
    for part in key.split("."):
        name, _, unit = part.rpartition("_")
        words.append(f"{name.replace('_', ' ')} ({unit})" if unit in ("km", "kg", "kw", "pa") and name
                     else part.replace("_", " "))
    return ", ".join(words)


def diff_runs(a: RunRecord, b: RunRecord) -> dict:
    """``{a, b, metadata, events, first_difference, outcome}`` as JSON-ready data.

    ``metadata`` lists the catalogue fields that differ; ``first_difference`` is ``None``
    when the logs are identical, else ``{index, t, a, b}`` with each run's entry there
    (``None`` where one log has ended); ``outcome`` lists ``{what, label, a, b}`` differences.
    """
    log_a, log_b = a.event_log_entries(), b.event_log_entries()
    i = first_difference(log_a, log_b)
    first = None
    if i is not None:
        ea = json.loads(log_a[i]) if i < len(log_a) else None
        eb = json.loads(log_b[i]) if i < len(log_b) else None
        first = {"index": i, "t": (ea or eb)["t"] if not (ea and eb) else min(ea["t"], eb["t"]), "a": ea, "b": eb,
                 "same_before": i}
    metadata = {k: {"a": getattr(a, k), "b": getattr(b, k)} for k in _META if getattr(a, k) != getattr(b, k)}
    return {
        "a": a.id,
        "b": b.id,
        "metadata": metadata,
        "events": {"a": len(log_a), "b": len(log_b)},
        "same_event_log": i is None,
        "first_difference": first,
        "outcome": _outcome_differences(a.outcome_details, b.outcome_details),
        "outcome_line": {"a": a.outcome, "b": b.outcome},
    }
