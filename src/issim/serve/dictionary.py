"""The telemetry dictionary as Open MCT reads it: measurements, an object tree, limits.

Every channel of a run becomes a *measurement* (Open MCT's tutorial calls them so): its
``key``, ``name`` and two *values*, the reading (``value``: ``unit``, ``format``, the
``enumerations`` of a discrete channel) and the time (``utc``, from the datum's
``timestamp``, epoch milliseconds of simulation time).

**Where a channel sits** (the object tree: segment → module → system → channel). The
parts of a channel's key name what it is about: a volume (``atm.destiny.pp_co2_pa``), a
hatch (filed under the first of its two volumes), a life-support machine or tank (under
the module it is in), a comms link or a segment (``power.USOS.soc``: the segment's own
readings, module ``segment``). A person's readings sit under ``Crew`` → the person, since
people move; whatever belongs to the whole station (orbit, attitude, the control map,
the arrays' wings) under ``Station`` → ``station``.

**Limits and severities.** issim's channels have two limit levels, ``warn`` and ``danger``
(:class:`issim.sim.telemetry.Limits`); Open MCT (and Yamcs) know five severities. The
mapping, the same one the HTML report draws with: at or beyond a ``warn`` limit is
``WARNING`` (Open MCT's yellow), at or beyond a ``danger`` limit is ``CRITICAL`` (red).
``WATCH``, ``DISTRESS`` and ``SEVERE`` are never produced: issim has no third level to
give them, and inventing one would claim a precision the data do not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..sim.world import SEGMENTS

SYSTEMS = {"atm": "atmosphere", "ls": "life-support", "water": "life-support", "power": "power",
           "att": "attitude", "prop": "propulsion", "comms": "comms", "hatch": "hatches", "vehicle": "vehicles",
           "crew": "crew", "control": "control", "item": "items", "orbit": "orbit"}
STATION, CREW, SEGMENT_WIDE = "Station", "Crew", "segment"
ROOTS = (*SEGMENTS, STATION, CREW)

# Words for the two states of a boolean channel, by the last part of its key.
BOOL_WORDS = {"open": ("closed", "open"), "on": ("off", "on"), "up": ("down", "up"), "bus": ("down", "up"),
              "alive": ("dead", "alive"), "conscious": ("unconscious", "conscious"), "ok": ("failed", "ok"),
              "contact": ("LOS", "AOS"), "departed": ("docked", "departed"), "broken": ("working", "broken"),
              "running": ("stopped", "running")}

SEVERITY_COLOURS = {"WARNING": "yellow", "CRITICAL": "red"}


@dataclass(frozen=True)
class Layout:
    """What the dictionary needs of a run's station: volumes ``(id, name, segment)`` in index
    order, hatches ``{id: first volume id}``, machines and tanks ``{id: volume id}``, comms
    links ``{id: segment}``, the crew ``(name, slug)``, and the dtype of each state array."""

    volumes: tuple = ()
    hatches: dict = field(default_factory=dict)
    things: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    crew: tuple = ()
    dtypes: dict = field(default_factory=dict)

    @classmethod
    def of(cls, sim) -> "Layout":
        world = sim.world
        subs = {s.name: s for s in sim.subsystems}
        things = {}
        ls = subs.get("lifesupport")
        if ls is not None:
            things.update({m.id: m.module for m in ls.machines})
            things.update({t.id: t.volume for t in ls.tanks})
        comms = subs.get("comms")
        links = {l.id: l.segment for l in getattr(comms, "links", ())}
        crew = subs.get("crew")
        return cls(
            volumes=tuple((v.id, v.name, v.segment) for v in world.volumes),
            hatches={l.hatch: world.volumes[l.a].id for l in world.links},
            things=things, links=links,
            crew=tuple(zip(getattr(crew, "names", ()), getattr(crew, "slugs", ()))),
            dtypes={k: a.dtype.kind for k, a in sim.state.arrays.items()},
        )

    def place(self, key: str) -> tuple[str, str, str]:
        """``(root, module, system)`` of a channel (see the module)."""
        parts = key.split(".")
        system = SYSTEMS.get(parts[0], parts[0])
        if parts[0] == "crew" and len(parts) > 1:
            name = next((n for n, s in self.crew if s == parts[1]), parts[1])
            return CREW, name, system
        seg_of = {v: s for v, _, s in self.volumes}
        for part in parts[1:]:
            volume = part if part in seg_of else self.hatches.get(part) or self.things.get(part)
            if volume in seg_of:
                return seg_of[volume], volume, system
            if part in SEGMENTS:
                return part, SEGMENT_WIDE, system
            if part in self.links:
                return self.links[part], SEGMENT_WIDE, system
        return STATION, "station", system

    def enumerations(self, key: str, array: str) -> Optional[list[dict]]:
        """The states of a discrete channel as ``[{value, string}]``, else ``None``."""
        last = key.rsplit(".", 1)[-1]
        if self.dtypes.get(array) == "b":
            off, on = BOOL_WORDS.get(last, ("no", "yes"))
            return [{"value": 0, "string": off}, {"value": 1, "string": on}]
        volumes = [{"value": i, "string": v[0]} for i, v in enumerate(self.volumes)]
        people = [{"value": i, "string": n} for i, (n, _) in enumerate(self.crew)]
        if last in ("location", "volume"):
            return volumes
        if last == "locked_from":
            return [{"value": -1, "string": "unlocked"}, *volumes]
        if last in ("holder", "operator"):
            return [{"value": -1, "string": "nobody"}, *people]
        if last == "activity" and key.startswith("crew."):
            from ..station.people import ACTIVITY_NAMES

            return [{"value": i, "string": a} for i, a in enumerate(ACTIVITY_NAMES)]
        return None


def severity(value: float, limits: dict) -> Optional[str]:
    """``CRITICAL``, ``WARNING`` or ``None`` for a value and a channel's limits (see the module)."""
    if value is None or not np.isfinite(value):
        return None
    for level, name in (("danger", "CRITICAL"), ("warn", "WARNING")):
        if value <= limits.get(f"{level}_low", -np.inf) or value >= limits.get(f"{level}_high", np.inf):
            return name
    return None


def open_mct_limits(limits: dict) -> dict:
    """A channel's limits in the shape of Open MCT's ``getLimits().limits()``:
    ``{WARNING: {low: {color, value}, high: {...}}, CRITICAL: {...}}`` (only the bounds it has)."""
    out = {}
    for level, name in (("warn", "WARNING"), ("danger", "CRITICAL")):
        bounds = {side: {"color": SEVERITY_COLOURS[name], "value": limits[f"{level}_{side}"]}
                  for side in ("low", "high") if f"{level}_{side}" in limits}
        if bounds:
            out[name] = bounds
    return out


def measurement(meta: dict, layout: Layout) -> dict:
    """One channel (``meta``: key, name, unit, limits, source, array) as an Open MCT measurement."""
    key, unit, limits = meta["key"], meta.get("unit", ""), meta.get("limits", {})
    root, module, system = layout.place(key)
    enums = layout.enumerations(key, meta.get("array", ""))
    fmt = "enum" if enums else "integer" if layout.dtypes.get(meta.get("array", "")) in ("i", "u") else "float"
    value = {"key": "value", "name": "Value", "unit": unit, "units": unit, "format": fmt, "hints": {"range": 1}}
    if enums:
        value["enumerations"] = enums
    return {
        "key": key, "name": meta.get("name", key), "unit": unit, "source": meta.get("source", ""),
        "limits": limits, "severities": open_mct_limits(limits),
        "segment": root, "module": module, "system": system,
        "values": [value, {"key": "utc", "source": "timestamp", "name": "Timestamp", "format": "utc",
                           "hints": {"domain": 1}}],
    }


def tree(measurements: list[dict], layout: Layout) -> list[dict]:
    """The object tree: ``[{key, name, children: [{key, name, children: [{key, name, channels}]}]}]``,
    roots in the order USOS, ROS, Station, Crew; modules in the station's order."""
    names = {v: n for v, n, _ in layout.volumes}
    order = {v: i for i, (v, _, _) in enumerate(layout.volumes)}
    order.update({n: i for i, (n, _) in enumerate(layout.crew)})
    nest: dict = {}
    for m in measurements:
        nest.setdefault(m["segment"], {}).setdefault(m["module"], {}).setdefault(m["system"], []).append(m["key"])
    out = []
    for root in [r for r in ROOTS if r in nest] + sorted(set(nest) - set(ROOTS)):
        modules = sorted(nest[root], key=lambda mod: (mod != SEGMENT_WIDE, order.get(mod, len(order)), mod))
        out.append({"key": root, "name": root, "children": [
            {"key": f"{root}/{mod}", "name": names.get(mod, mod), "children": [
                {"key": f"{root}/{mod}/{system}", "name": system, "channels": keys}
                for system, keys in nest[root][mod].items()]}
            for mod in modules]})
    return out


def dictionary(metas: list[dict], layout: Layout, name: str) -> dict:
    """The whole dictionary: ``{name, key, measurements, tree, severities}``."""
    ms = [measurement(m, layout) for m in metas]
    return {"name": name, "key": "issim", "measurements": ms, "tree": tree(ms, layout),
            "severities": {"warn": "WARNING", "danger": "CRITICAL"}}
