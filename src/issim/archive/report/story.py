"""What a run is about, read from what happened in it: where the report should look first.

- :func:`focus` — which of the cabin air's quantities (ppCO2, ppO2, pressure) strayed
  furthest from where it started towards its limits, and when: the schematic opens on it,
  at that moment. A leak moves pressure, a failed CO2 scrubber moves ppCO2; nothing is
  looked up by scenario name.
- :func:`story_notice` — whether the run stopped before the scenario's timed events
  began (or before some of them), read from the run's own copy of its scenario file.
- :func:`busy_stretches` — the stretches of the timeline where its events are, so that a
  long run's few busy hours get the width and the quiet days between them are folded.
- :func:`contact_notes` — why each segment's contact lane looks as it does: its links, how
  much of the run it was in contact, and what cut, restored or powered them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

AIR = ("pp_co2_pa", "pp_o2_pa", "pressure_pa")  # the cabin air's quantities, as telemetry key suffixes
NOTABLE = 0.5  # a quantity that went less than half way from its start to a limit is not the story


@dataclass(frozen=True)
class Focus:
    """The air quantity a run is about: ``suffix`` (``pressure_pa``), how far it strayed
    (``score``: 1.0 = it reached a warning limit), where (``volume``), when (``index``,
    a telemetry row) and its value there (SI)."""

    suffix: str
    score: float
    volume: str
    index: int
    value: float

    @property
    def notable(self) -> bool:
        return self.score >= NOTABLE


def focus(d) -> Optional[Focus]:
    """The quantity of :data:`AIR` that went furthest towards a limit (``None``: no air recorded).

    For each quantity, each module's excursion from the station's median at the first
    sample is divided by the distance from there to the warning limit on that side (or
    the danger limit when no warning is given): 1.0 means a module reached the limit.
    """
    ids = [v["id"] for v in d.world["volumes"] if d.has(f"atm.{v['id']}.pp_co2_pa")]
    if not ids or not len(d.t_ms):
        return None
    best: Optional[Focus] = None
    for suffix in AIR:
        keys = [f"atm.{v}.{suffix}" for v in ids]
        if not all(d.has(k) for k in keys):
            continue
        block = np.stack([d.col(k) for k in keys], axis=1)  # (samples, volumes)
        start = float(np.median(block[0]))
        limits = d.channels.get(keys[0], {}).get("limits", {})
        for side, sign in (("high", 1.0), ("low", -1.0)):
            limit = limits.get(f"warn_{side}", limits.get(f"danger_{side}"))
            if limit is None or sign * (limit - start) <= 0:
                continue
            excursion = sign * (block - start) / abs(limit - start)
            i, k = np.unravel_index(int(np.argmax(excursion)), excursion.shape)
            score = float(excursion[i, k])
            if best is None or score > best.score:
                best = Focus(suffix, score, ids[k], int(i), float(block[i, k]))
    return best


def scenario_events(record) -> list[tuple[int, str]]:
    """The run's timed scenario events as ``(t_ms, what)``, from its own ``scenario.toml``
    (empty when the file is missing or no longer reads)."""
    from ...errors import InputError
    from ...times import parse_iso

    try:
        spec = record.scenario_spec()[0]
        start = parse_iso(record.sim_start, "sim_start")
        out = []
        for e in spec.events:
            what = " ".join(p for p in (e.actor or "", e.action.replace("_", " "), e.target) if p)
            out.append((e.at_ms(start), what + (f" ({e.note})" if e.note else "")))
    except (OSError, InputError, ValueError):
        return []
    return sorted(out)


def story_notice(record, events: list[tuple[int, str]]) -> Optional[tuple[str, str]]:
    """``(level, html)`` when the run stopped before its scenario's timed events: ``"bad"``
    if before the first one after the start, ``"warn"`` if before some; else ``None``.
    The text is HTML, with everything from the run escaped."""
    from html import escape

    from ...times import format_iso, parse_iso

    start, end = parse_iso(record.sim_start, "sim_start"), parse_iso(record.sim_end, "sim_end")
    story = [(t, what) for t, what in events if t > start]
    missed = [(t, what) for t, what in story if t > end]
    if not missed:
        return None
    ran = _hours(end - start)
    first_t, first_what = missed[0][0], escape(missed[0][1])
    need = -(-(max(t for t, _ in missed) - start) // 3_600_000) + 1
    advice = (f"Run it for longer to see them: <code>issim run {escape(record.scenario)} --hours {need}</code>"
              + (f" (its planned end is {format_iso(parse_iso(record.sim_planned_end))[:16].replace('T', ' ')} UTC)."
                 if record.sim_planned_end else "."))
    if len(missed) == len(story):
        return "bad", (f"This run stopped {ran} after its start, before its story began: the scenario's first "
                       f"event comes {_hours(first_t - start)} in ({first_what}), and none of its {len(story)} timed "
                       f"events happened. The charts below show only the quiet hours before. " + advice)
    return "warn", (f"This run stopped {ran} after its start, before {len(missed)} of the scenario's {len(story)} "
                    f"timed events; the first it missed comes {_hours(first_t - start)} in ({first_what}). " + advice)


def _hours(ms: int) -> str:
    h = ms / 3_600_000
    if h < 48:
        return f"{h:.1f}".rstrip("0").rstrip(".") + " h"
    return f"{h / 24:.1f}".rstrip("0").rstrip(".") + " days"


def busy_stretches(times_ms: list[float], start_ms: int, end_ms: int) -> list[tuple[float, float]]:
    """The stretches of ``[start_ms, end_ms]`` a timeline shows; the quiet gaps between them are folded.

    Each event gets a margin of 2 % of the run (at least 10 minutes) on either side;
    margins that overlap join. A gap shorter than 8 % of the run stays (folding it would
    gain little), and so does everything when the stretches would still fill most of the
    run. One stretch, the whole run, means nothing is folded.
    """
    span = float(end_ms - start_ms)
    if not times_ms or span <= 0:
        return [(float(start_ms), float(end_ms))]
    pad = max(0.02 * span, 600_000.0)
    keep_gap = 0.08 * span
    out: list[list[float]] = []
    for t in sorted(times_ms):
        a, b = max(float(start_ms), t - pad), min(float(end_ms), t + pad)
        if out and a - out[-1][1] <= keep_gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    if out[0][0] - start_ms <= keep_gap:
        out[0][0] = float(start_ms)
    if end_ms - out[-1][1] <= keep_gap:
        out[-1][1] = float(end_ms)
    shown = sum(b - a for a, b in out)
    if shown >= 0.6 * span:
        return [(float(start_ms), float(end_ms))]
    return [(a, b) for a, b in out]


def contact_notes(d) -> list[str]:
    """One sentence per segment on why its contact lane looks as it does."""
    from ...times import format_iso

    notes = []
    link_names = {k.split(".")[1]: c.get("name", k).removesuffix(": link up")
                  for k, c in d.channels.items() if k.startswith("comms.") and k.endswith(".up")}
    happenings = [e for e in d.events if _what(e) in LINK_EVENTS]
    for seg in ("USOS", "ROS"):
        key = f"comms.{seg}.contact"
        if not d.has(key):
            continue
        share = float(np.mean(d.col(key) > 0.5)) if len(d.t_ms) else 0.0
        links = [(lid, name) for lid, name in link_names.items() if lid.split("-")[0] == seg.lower()]
        via = "; ".join(name for _, name in links)
        who = "The US segment" if seg == "USOS" else "The Russian segment"
        text = f"{who} was in contact with its own ground {100 * share:.0f} % of the run"
        text += f" (links: {via})." if via else "."
        if seg == "ROS":
            text += (" Besides its ground stations' passes, the Russian segment talks through the Luch relays only "
                     "in scheduled sessions (about two of 30 minutes an orbit): at this scale they merge into a "
                     "near-solid lane; zoom in to see them.") if 0.0 < share < 1.0 else ""
        else:
            text += (" Through TDRS the US segment is in contact most of each orbit, except in the zone of "
                     "exclusion over the Indian Ocean.") if 0.0 < share < 1.0 else ""
        ids = {lid for lid, _ in links} | {seg}
        cuts = [e for e in happenings if str(e.get("target")) in ids]
        if cuts:
            text += " " + "; ".join(f"{format_iso(_t(e))[:16].replace('T', ' ')} UTC {_what(e).replace('_', ' ')} "
                                    f"{e.get('target')}" for e in cuts[:6]) + (" …" if len(cuts) > 6 else "") + "."
        if share == 0.0:
            text += " It never had contact in this run: its lane is empty."
        elif share == 1.0:
            text += " It never lost contact: its lane is solid."
        notes.append(text)
    return notes


LINK_EVENTS = ("cut_link", "restore_link", "schedule_relay", "unschedule_relay", "power_off", "power_on",
               "block_messages", "unblock_messages")


def _what(entry: dict) -> str:
    """What a scenario event or a carried-out command did to the station (``""`` for anything else)."""
    if entry["kind"] == "event" and entry.get("action") != "command":
        return str(entry.get("action", ""))
    if entry["kind"] == "command" and entry.get("result") == "done":
        return str(entry.get("command", ""))
    return ""


def _t(entry: dict) -> int:
    from ...times import parse_iso

    return parse_iso(entry["t"])
