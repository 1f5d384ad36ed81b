"""The summary of a run: one JSON-ready object (the form ``issim run --json`` prints)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .. import __version__
from ..physics.gas import CO2, MOLAR_MASS_KG_PER_MOL, O2, PA_PER_MMHG, SPECIES
from ..sim import Simulation
from ..times import format_iso
from . import story

O2_GENERATORS = ("elektron", "oga", "candle")


class _Extent:
    """``min``, ``max`` and ``mean`` over the samples (the first axis) of an array fed a
    chunk of samples at a time, element by element over its other axes: the whole history
    of a run with one chunk of it in memory."""

    def __init__(self):
        self.low = self.high = self.total = None
        self.samples = 0

    def add(self, values: np.ndarray) -> None:
        if not len(values):
            return
        # each element's samples contiguous, so that numpy sums them pairwise (as a whole
        # series' mean() would), not by running down the rows
        columns = np.ascontiguousarray(np.moveaxis(values, 0, -1))
        low, high, total = columns.min(axis=-1), columns.max(axis=-1), columns.sum(axis=-1)
        if self.samples:
            low, high, total = np.minimum(self.low, low), np.maximum(self.high, high), self.total + total
        self.low, self.high, self.total = low, high, total
        self.samples += len(values)

    def stats(self, index=()) -> dict:
        """min/max/mean of one element, rounded for reading (4 significant decimals)."""
        return {"min": round(float(self.low[index]), 4), "max": round(float(self.high[index]), 4),
                "mean": round(float(self.total[index] / self.samples), 4)}


class HistoryFold:
    """What the summary takes from the recorded history, worked out a chunk of samples at a
    time: the extents of the air (pressure, O2 and CO2 in each module, a module at a time so
    that a chunk costs a few of its columns in temporaries) and of the orbit's height, and
    the control map's changes. ``air=False``: the control map's changes alone (an outcome
    asked for without the summary).

    A stored run feeds it each full chunk as the chunk is spilled (:meth:`feed`, from the
    rows still in memory), so that its summary reads nothing back; :meth:`finish` feeds it
    the rest of the history (all of it, for a run kept in memory, or if the chunks fed are
    no longer the history's: a snapshot was restored since). The numbers are those of the
    whole history's formulas, element by element, bit for bit.
    """

    AIR = ["atm.pp_pa", "orbit.alt_km", "orbit.mean_alt_km"]

    def __init__(self, sim: Simulation, air: bool = True):
        self.arrays = (self.AIR if air else []) + ["control.map"]  # what it reads of the history
        self.volumes = len(sim.world.volumes) if air else 0
        self.custody = next((s for s in sim.subsystems if s.name == "control"), None)
        self._reset()

    def _reset(self) -> None:
        self.pressure, self.o2, self.co2 = ([_Extent() for _ in range(self.volumes)] for _ in range(3))
        self.alt, self.mean_alt = _Extent(), _Extent()
        # for each system, [[time, [factions]], ...] at each change; None once a chunk lacks the map
        self.control: Optional[dict[str, list]] = {key: [] for key in self.custody.systems} if self.custody else None
        self._last_map: Optional[np.ndarray] = None  # the sample before the next chunk's
        self.fed: Optional[list] = []  # the recorder's full chunks fed so far, as it holds them (None: finished)

    def feed(self, chunk, t_ms: np.ndarray, block: dict) -> None:
        """One full chunk (``chunk``: what the recorder keeps of it; ``block``: its arrays)."""
        if self.fed is None:
            raise RuntimeError("this fold is finished")
        self._add(t_ms, block)
        self.fed.append(chunk)

    def finish(self, recorder) -> "HistoryFold":
        """The fold over the recorder's whole history, the chunk being filled included."""
        full = recorder.full_chunks
        if self.fed is None or len(self.fed) > len(full) or any(a is not b for a, b in zip(self.fed, full)):
            self._reset()
        for t_ms, block in recorder.blocks(self.arrays, copy=False, start=len(self.fed)):
            self._add(t_ms, block)
        self.fed = None
        return self

    def control_over_time(self) -> dict[str, list]:
        """For each system, ``[[time, [factions]], ...]``: the recorded control map's changes."""
        return self.control if self.control is not None and self._last_map is not None else {}

    def _add(self, t_ms: np.ndarray, b: dict) -> None:
        pp = b.get("atm.pp_pa")  # (samples, volumes, species)
        if pp is not None:
            for v in range(self.volumes):
                module = pp[:, v]
                self.pressure[v].add(module.sum(axis=1) / 1000.0)
                self.o2[v].add(module[:, O2] / 1000.0)
                self.co2[v].add(module[:, CO2] / PA_PER_MMHG)
        if "orbit.alt_km" in b:
            self.alt.add(b["orbit.alt_km"][:, 0])
        if "orbit.mean_alt_km" in b:
            self.mean_alt.add(b["orbit.mean_alt_km"][:, 0])
        if self.control is not None:
            self._add_control(t_ms, b.get("control.map"))

    def _add_control(self, t_ms: np.ndarray, rows: Optional[np.ndarray]) -> None:
        if rows is None or rows.ndim != 3:  # (samples, systems, factions)
            self.control = None
            return
        last = self._last_map
        changed = (rows != np.concatenate([rows[:1] if last is None else last, rows[:-1]])).any(axis=2)
        if last is None:
            changed[0] = True
        systems, factions = self.custody.systems, self.custody.factions
        for i, s in zip(*np.nonzero(changed)):  # sample by sample
            self.control[systems[s]].append([format_iso(t_ms[i]), [f for j, f in enumerate(factions)
                                                                   if rows[i, s, j]]])
        self._last_map = rows[-1:].copy()


def gas_balance(sim: Simulation) -> dict:
    """Moles of each species: at the start, in, out, now, and the relative closure error.

    """
    initial = sim.state["atm.initial_moles"].sum(axis=0)
    now = sim.state["atm.moles"].sum(axis=0)
    gas_in = np.zeros(len(SPECIES))
    gas_out = np.zeros(len(SPECIES))
    for key, value in sim.state.totals.items():
        parts = key.split(".")
        if parts[0] == "gas" and len(parts) == 4:
            i = SPECIES.index(parts[2])
            if parts[1] == "in_mol":
                gas_in[i] += value
            elif parts[1] == "out_mol":
                gas_out[i] += value
    expected = initial + gas_in - gas_out
    error = float(abs(expected.sum() - now.sum()) / initial.sum())
    return {"initial_mol": initial, "in_mol": gas_in, "out_mol": gas_out, "now_mol": now, "relative_error": error}


def totals_by_process(sim: Simulation, direction: str, species: str) -> dict[str, float]:
    prefix = f"gas.{direction}_mol.{species}."
    return {k[len(prefix):]: v for k, v in sim.state.totals.items() if k.startswith(prefix)}


def command_counts(sim: Simulation) -> dict:
    """``{"done", "refused", "failed", "by_reason": {reason: n}}`` over the command history
    (work that takes time counts once, when it ends: its ``started`` entries are not counted)."""
    out = {"done": 0, "refused": 0, "failed": 0}
    by_reason: dict[str, int] = {}
    for entry in sim.state.facts.get("control.history", ()):
        result, reason = entry[7], entry[8]
        if result == "started":
            continue
        out[result if result in out else "failed"] += 1
        if reason:
            by_reason[reason] = by_reason.get(reason, 0) + 1
    return {**out, "by_reason": dict(sorted(by_reason.items()))}


def _deaths(sim: Simulation) -> dict[str, str]:
    """``{name: cause}`` from the crew's ``died`` records; an injury dealt by a confrontation
    (a ``confront`` command done at the same moment) reads ``confrontation``."""
    out = {}
    confronts = {(e[0], e[4]) for e in sim.state.facts.get("control.history", ())
                 if e[3] == "confront" and e[7] == "done"}
    for t, kind, details in sim.state.log:
        d = dict(details)
        if kind == "crew" and d.get("what") == "died":
            cause = d.get("cause", "unknown")
            if cause == "injury" and (t, d["person"]) in confronts:
                cause = "confrontation"
            out[d["person"]] = cause
    return out


def outcome(sim: Simulation, history: Optional[HistoryFold] = None) -> dict:
    """Who lived, who died and of what, who left in what, who controls what, the station's state.

    ``history``: the recorded history folded (:class:`HistoryFold`), if it has been.
    ``survivors`` are alive, aboard or departed; ``station.crewed`` is whether anyone alive
    is still aboard (not in a departed vehicle, not adrift); ``station.lost`` is the reason
    the run stopped early (``state.facts["stop"]``), else ``None``.
    """
    st = sim.state
    subs = {s.name: s for s in sim.subsystems}
    crew = subs["crew"]
    alive = st["crew.alive"]
    names = list(crew.names)
    departed_v = st["control.departed"] if "control.departed" in st else np.zeros(len(sim.world.volumes), bool)
    adrift = st["control.adrift"] if "control.adrift" in st else np.zeros(len(names), bool)
    loc = st["crew.location"]
    departed: dict[str, list[str]] = {}
    for vehicle, _t, aboard in st.facts.get("control.departures", ()):
        departed.setdefault(vehicle, []).extend(aboard)
    landings = {v: {"burn": format_iso(burn), "landing": format_iso(landing), "lat": lat, "lon": lon, "place": place,
                    "landed": landing <= sim.t_ms}
                for v, burn, landing, lat, lon, place, _people in st.facts.get("control.landings", ())}
    aboard_now = [bool(alive[i]) and not departed_v[int(loc[i])] and not adrift[i] for i in range(len(names))]
    station: dict = {
        "crewed": any(aboard_now),
        "altitude_km": round(sim.current("orbit.alt_km"), 3) if "orbit.alt_km" in sim.recorder.channels else None,
        "lost": st.facts.get("stop") or None,
    }
    ls = subs.get("lifesupport")
    if ls is not None:
        running = st["ls.running"]
        station["life_support_running"] = {
            seg: {kind: any(bool(running[i]) for i, m in enumerate(ls.machines) if m.segment == seg and m.kind == k)
                  for kind, k in (("o2_generator", "o2_generator"), ("co2_scrubber", "co2_remover"))}
            for seg in ("USOS", "ROS")
        }
    custody = subs.get("control")
    out = {
        "survivors": [n for i, n in enumerate(names) if alive[i]],
        "dead": _deaths(sim),
        "departed": departed,
        "landings": landings,
        "control": sim.control_map(),
        "control_over_time": (history or HistoryFold(sim, air=False).finish(sim.recorder)).control_over_time()
        if custody is not None else {},
        "station": station,
    }
    out["ending"] = ending(out)
    out["items"] = story.items(sim)
    out["story"] = story.story(sim)
    out["ending_class"] = story.ending_class(out)
    return out


def ending(o: dict) -> str:
    """One line for an outcome: who left, who died, and who holds the station at the end.

    Who holds a segment is who can command its life support (the control map's
    ``<segment>.life-support``): "shared" when both factions still can.
    """
    def where(v: str) -> str:
        land = o.get("landings", {}).get(v)
        if not land:
            return ""
        return f" and land {land['place']}" if land["landed"] else f" (to land {land['place']} at {land['landing'][11:16]})"

    parts = [f"{' and '.join(sorted(names))} leave in {v}{where(v)}" for v, names in sorted(o["departed"].items())]
    dead = sorted(o["dead"])
    parts.append(f"{len(dead)} dead ({', '.join(dead)})" if dead else "no one dies")
    if o["station"].get("lost"):
        parts.append(f"the station is lost: {o['station']['lost']}")
    elif not o["station"]["crewed"]:
        parts.append("the station is left uncrewed")
    else:
        ctl = o["control"]
        held = {seg: tuple(sorted(ctl.get(f"{seg}.life-support", []))) for seg in ("USOS", "ROS")}
        if held["USOS"] == held["ROS"]:
            who = held["USOS"]
            parts.append("the station still shared" if len(who) > 1 else
                         f"{who[0]} holds the station" if who else "no one can command life support")
        else:
            parts.append("the segments split (" + "; ".join(f"{seg}: {', '.join(f) or 'no one'}"
                                                           for seg, f in held.items()) + ")")
    return "; ".join(parts)


def summarize(sim: Simulation, scenario_name: str, history: Optional[HistoryFold] = None) -> dict:
    """The run's summary: air per module, totals, each person's state, the event log.
    ``history``: the recorded history folded so far, chunk by chunk (a stored run's, :class:`HistoryFold`)."""
    world = sim.world
    subs = {s.name: s for s in sim.subsystems}
    air = (history or HistoryFold(sim)).finish(sim.recorder)
    module_air = {v.id: {"pressure_kpa": air.pressure[i].stats(), "pp_o2_kpa": air.o2[i].stats(),
                         "pp_co2_mmhg": air.co2[i].stats()}
                  for i, v in enumerate(world.volumes)}
    t = sim.state.totals
    generated = totals_by_process(sim, "in", "o2")
    o2_generated_kg = sum(v for k, v in generated.items() if k in O2_GENERATORS) * MOLAR_MASS_KG_PER_MOL[O2]
    balance = gas_balance(sim)
    crew_sub = subs["crew"]
    extra = {}
    if "propulsion" in subs:
        prop = subs["propulsion"].summary(sim.state)
        extra["orbit"] = {"alt_km": air.alt.stats(), "mean_alt_km": air.mean_alt.stats(), **prop}
    for name in ("power", "attitude", "comms", "control", "agents", "triggers"):
        if name in subs and hasattr(subs[name], "summary"):
            extra[name] = subs[name].summary(sim.state)
    if "control" in subs:
        extra["outcome"] = outcome(sim, air)
        extra["commands"] = command_counts(sim)
    return {
        "scenario": scenario_name,
        "seed": sim.seed,
        "version": __version__,
        "start": format_iso(sim.start_ms),
        "end": format_iso(sim.state.t_ms),
        "frames": sim.state.frame,
        "event_log_sha256": sim.event_log_sha256(),
        "module_air": module_air,
        "totals": {
            "o2_consumed_kg": round(t.get("crew.o2_consumed_kg", 0.0), 4),
            "co2_produced_kg": round(t.get("crew.co2_produced_kg", 0.0), 4),
            "o2_generated_kg": round(o2_generated_kg, 4),
            "crew_days": round(t.get("crew.days", 0.0), 4),
            "gas_balance_relative_error": balance["relative_error"],
        },
        "crew": crew_sub.summary(sim.state),
        **extra,
        "events": sim.event_log(),
    }
