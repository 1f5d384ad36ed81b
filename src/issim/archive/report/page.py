"""The report page: header, key figures, sections with their charts, the timeline table.

Everything is in one file: the style sheet below, plotly.js (the basic bundle packaged in
``data/plotly``) and ``report.js`` inlined once, each chart's data in its own
``<script>``. Text from the run (names, titles, event details) is escaped; nothing is
fetched when the page opens.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from datetime import datetime, timezone
from importlib import resources

import numpy as np

from ...physics.gas import PA_PER_MMHG
from ...times import format_iso, parse_iso
from . import figures as F
from . import story
from .mapview import map_figure, track_payload
from .schematic import METRICS, schematic_figure

CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}

CSS = """
:root { --ink: #1c2833; --muted: #5d6d7e; --line: #e5e8e8; --bg: #f3f5f7; --card: #ffffff;
        --ok: #1e8449; --warn: #b9770e; --bad: #b03a2e; --night: #0b1d33; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background: linear-gradient(135deg, #0b1d33 0%, #163a5f 100%); color: #fff; padding: 30px 48px 26px; }
header.top .kicker { text-transform: uppercase; letter-spacing: .12em; font-size: 12px; opacity: .75; }
header.top h1 { margin: 6px 0 8px; font-size: 30px; font-weight: 650; line-height: 1.25; max-width: 1100px; }
header.top .meta { font-size: 14px; opacity: .85; }
header.top .meta code { background: rgba(255,255,255,.12); padding: 1px 6px; border-radius: 4px; font-size: 13px; }
.verdict { display: inline-block; margin-top: 16px; padding: 10px 16px; border-radius: 8px; font-size: 17px;
           font-weight: 600; background: rgba(255,255,255,.12); border-left: 5px solid #fff; }
.verdict.ok { border-left-color: #58d68d; } .verdict.warn { border-left-color: #f5b041; }
.verdict.bad { border-left-color: #ec7063; }
nav { position: sticky; top: 0; z-index: 10; background: #fff; border-bottom: 1px solid var(--line);
      padding: 8px 48px; display: flex; gap: 18px; flex-wrap: wrap; font-size: 14px; }
nav a { color: var(--ink); text-decoration: none; padding: 4px 2px; border-bottom: 2px solid transparent; }
nav a:hover { border-bottom-color: #2e86de; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 14px; margin-bottom: 24px; }
.tile { background: var(--card); border-radius: 10px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.tile .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; }
.tile .value { font-size: 24px; font-weight: 650; margin-top: 2px; }
.tile .note { font-size: 12.5px; color: var(--muted); }
.tile.bad .value { color: var(--bad); } .tile.warn .value { color: var(--warn); } .tile.ok .value { color: var(--ok); }
section { background: var(--card); border-radius: 12px; padding: 22px 26px 18px; margin-bottom: 24px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section h2 { margin: 0 0 4px; font-size: 21px; font-weight: 650; }
section h2 .n { color: #2e86de; margin-right: 8px; }
section h3 { font-size: 15px; margin: 18px 0 4px; }
p.caption { margin: 0 0 12px; color: var(--muted); font-size: 14px; max-width: 980px; }
.figure { width: 100%; }
.people { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px; margin-bottom: 14px; }
.person { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; border-top: 5px solid var(--ok); }
.person.dead { border-top-color: var(--bad); background: #fdf2f2; }
.person.gone { border-top-color: #5dade2; }
.person.hurt { border-top-color: var(--warn); }
.person .name { font-weight: 650; font-size: 16px; }
.person .agency { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; }
.person .fate { margin: 6px 0 4px; font-weight: 600; }
.person .detail { font-size: 13px; color: var(--muted); }
.bar { height: 6px; background: #eaeded; border-radius: 3px; overflow: hidden; margin-top: 6px; }
.bar span { display: block; height: 100%; background: var(--ok); }
.person.hurt .bar span { background: var(--warn); } .person.dead .bar span { background: var(--bad); }
.scroll { max-height: 440px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
table.log { border-collapse: collapse; width: 100%; font-size: 13.5px; }
table.log th { position: sticky; top: 0; background: #f8f9f9; text-align: left; font-weight: 600;
               border-bottom: 1px solid var(--line); padding: 6px 10px; }
table.log td { padding: 5px 10px; border-bottom: 1px solid #f2f3f4; vertical-align: top; }
table.log td.t { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
table.log tr.refused td.x, table.log tr.failed td.x { color: var(--bad); }
table.log tr.command td.x { font-weight: 500; }
table.kv { border-collapse: collapse; font-size: 14px; }
table.kv td { padding: 4px 14px 4px 0; border-bottom: 1px solid #f2f3f4; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px; color: #fff; margin-right: 4px; }
.notice { border-radius: 10px; padding: 14px 18px; margin-bottom: 20px; font-size: 15px; background: #fef5e7;
          border-left: 6px solid var(--warn); }
.notice.bad { background: #fdedec; border-left-color: var(--bad); }
.notice code { font-size: 13px; }
.span-switch { font-size: 14px; margin: 0 0 8px; display: flex; gap: 18px; flex-wrap: wrap; align-items: center; }
.span-switch .when { color: var(--muted); }
ul.notes { margin: 8px 0 0; padding-left: 20px; color: var(--muted); font-size: 13.5px; max-width: 1000px; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; padding: 10px 20px 40px; }
footer code { font-size: 12px; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _when(t_ms: int) -> str:
    return format_iso(int(t_ms), 0)[:16].replace("T", " ")


def plotly_js() -> str:
    """plotly.js's basic bundle (scatter, bar, pie), packaged with issim (``data/plotly``)."""
    raw = resources.files("issim.data").joinpath("plotly", "plotly-basic.min.js.gz").read_bytes()
    return gzip.decompress(raw).decode("utf-8")


def report_js() -> str:
    return resources.files("issim.archive.report").joinpath("report.js").read_text(encoding="utf-8")


def _figure_html(fig, div_id: str) -> str:
    """A chart: a div of the figure's height, as wide as its section, drawn by plotly.js."""
    div_id = f"fig-{div_id}"  # sections use the plain names as anchors
    height = int(fig.layout.height or 450)
    fig.update_layout(autosize=True, width=None)
    payload = fig.to_json()  # plotly's encoder escapes "<", ">" and "/", so no text can end the script
    return (f'<div id="{div_id}" class="figure" style="height:{height}px"></div>\n'
            f'<script>(function () {{ var f = {payload};\n'
            f'Plotly.newPlot("{div_id}", {{data: f.data, layout: f.layout, frames: f.frames || [], '
            f'config: {json.dumps(CONFIG)}}}); }})();</script>\n')


def _json_script(value) -> str:
    """A value for a page script: JSON with ``<``, ``>`` and ``&`` escaped, so no text can end the script."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _verdict(summary: dict, record) -> tuple[str, str]:
    o = summary.get("outcome") or {}
    crew = summary.get("crew", {})
    dead = o.get("dead", {})
    station = o.get("station", {})
    n = len(crew)
    if station.get("lost"):
        return "bad", f"Station lost: {station['lost']}. " + (f"{n - len(dead)} of {n} crew alive." if n else "")
    if dead:
        if len(dead) <= 3:
            died = ", ".join(f"{k} ({v.replace('_', ' ')})" for k, v in dead.items())
        else:
            causes: dict[str, int] = {}
            for v in dead.values():
                causes[v.replace("_", " ")] = causes.get(v.replace("_", " "), 0) + 1
            died = f"{len(dead)} people (" + ", ".join(
                f"{c} {k}" if len(causes) > 1 else c for c, k in causes.items()) + ")"
        alive = f"All {n} crew died" if len(dead) == n else f"{n - len(dead)} of {n} crew alive. Died: {died}"
        if len(dead) == n:
            alive += f" ({', '.join(sorted({v.replace('_', ' ') for v in dead.values()}))})"
        return ("bad" if len(dead) == n else "warn"), alive + "."
    departed = sum(len(v) for v in o.get("departed", {}).values())
    text = f"All {n} crew alive" + (f", {departed} left the station" if departed else "")
    if o.get("ending"):  # e.g. "no one dies; the segments split (USOS: usa; ROS: russia)"
        text = f"All {n} crew alive; " + o["ending"].replace("no one dies; ", "")
    if o and not station.get("crewed", True):
        return "warn", text + "."
    return "ok", text + "."


def _tiles(d: F.ReportData) -> str:
    s = d.summary
    tiles = []

    def tile(label, value, note="", cls=""):
        tiles.append(f'<div class="tile {cls}"><div class="label">{_e(label)}</div>'
                     f'<div class="value">{_e(value)}</div><div class="note">{_e(note)}</div></div>')

    crew = s.get("crew", {})
    alive = sum(1 for c in crew.values() if c.get("alive"))
    tile("Crew alive", f"{alive} of {len(crew)}", "at the end of the run",
         "ok" if alive == len(crew) else "bad")
    ids = [v["id"] for v in d.world["volumes"] if d.has(f"atm.{v['id']}.pp_co2_pa")]
    if ids:
        co2 = np.stack([d.col(f"atm.{v}.pp_co2_pa") for v in ids], axis=1) / PA_PER_MMHG
        o2 = np.stack([d.col(f"atm.{v}.pp_o2_pa") for v in ids], axis=1) / 1e3
        i, k = np.unravel_index(np.argmax(co2), co2.shape)
        lim = d.channels.get(f"atm.{ids[k]}.pp_co2_pa", {}).get("limits", {})
        worst = co2[i, k] * PA_PER_MMHG
        cls = "bad" if worst >= lim.get("danger_high", np.inf) else "warn" if worst >= lim.get("warn_high", np.inf) else "ok"
        tile("Highest ppCO2", f"{co2[i, k]:.1f} mmHg", f"{ids[k]}, {_when(d.t_ms[i])}", cls)
        i, k = np.unravel_index(np.argmin(o2), o2.shape)
        lim = d.channels.get(f"atm.{ids[k]}.pp_o2_pa", {}).get("limits", {})
        low = o2[i, k] * 1e3
        cls = "bad" if low <= lim.get("danger_low", -np.inf) else "warn" if low <= lim.get("warn_low", -np.inf) else "ok"
        tile("Lowest ppO2", f"{o2[i, k]:.1f} kPa", f"{ids[k]}, {_when(d.t_ms[i])}", cls)
    cmds = s.get("commands")
    if cmds:
        tile("Commands", f"{cmds['done']} done", f"{cmds['refused']} refused, {cmds['failed']} failed",
             "warn" if cmds["refused"] or cmds["failed"] else "")
    if d.has("orbit.mean_alt_km"):
        alt = d.col("orbit.mean_alt_km")
        tile("Mean altitude", f"{alt[-1]:.1f} km", f"from {alt[0]:.1f} km; {len(s.get('orbit', {}).get('reboosts', []))} reboost(s)")
    for seg in ("USOS", "ROS"):
        if d.has(f"power.{seg}.soc"):
            soc = d.col(f"power.{seg}.soc") * 100
            tile(f"{seg} battery, lowest", f"{soc.min():.0f} %", f"ends at {soc[-1]:.0f} %",
                 "bad" if soc.min() < 10 else "warn" if soc.min() < 30 else "ok")
    comms = s.get("comms")
    if comms:
        tile("Time in contact", f"{100 * comms.get('usos_coverage', 0):.0f} % / {100 * comms.get('ros_coverage', 0):.0f} %",
             "US segment / Russian segment, with their own ground")
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _deaths(events: list[dict]) -> dict[str, dict]:
    return {e["person"]: e for e in events if e["kind"] == "crew" and e.get("what") == "died" and "person" in e}


def _people(d: F.ReportData) -> str:
    s = d.summary
    o = s.get("outcome") or {}
    deaths = _deaths(d.events)
    causes = o.get("dead", {})
    departed = {n: v for v, names in o.get("departed", {}).items() for n in names}
    cards = []
    for name, c in s.get("crew", {}).items():
        health = float(c.get("health", 1.0))
        if not c.get("alive", True):
            cls = "dead"
            when = deaths.get(name, {}).get("t", "")
            fate = f"Died{' of ' + causes[name].replace('_', ' ') if name in causes else ''}"
            detail = f"{when[:16].replace('T', ' ')} UTC, in {c.get('location', '?')}" if when else f"in {c.get('location', '?')}"
        elif name in departed:
            cls, fate, detail = "gone", f"Alive; left in {departed[name]}", f"health {health:.0%}"
        else:
            cls = "hurt" if health < 0.95 or not c.get("conscious", True) else ""
            state = "conscious" if c.get("conscious", True) else "unconscious"
            fate = "Alive" + ("" if state == "conscious" else ", unconscious")
            detail = f"in {c.get('location', '?')}, {c.get('activity', '')}; health {health:.0%}"
        deficits = [f"{k} {c[k]:.2f}" for k in ("hypoxia", "hypercapnia", "low_pressure", "injury")
                    if isinstance(c.get(k), (int, float)) and c[k] > 0.01]
        symptom = c.get("co2_symptom")
        extra = "; ".join(deficits + ([f"CO2: {symptom}"] if symptom and symptom != "none" else []))
        cards.append(
            f'<div class="person {cls}"><div class="agency">{_e(c.get("agency", ""))}</div>'
            f'<div class="name">{_e(name)}</div><div class="fate">{_e(fate)}</div>'
            f'<div class="detail">{_e(detail)}</div>'
            + (f'<div class="detail">{_e(extra)}</div>' if extra else "")
            + f'<div class="bar"><span style="width:{max(0.0, min(1.0, health)) * 100:.0f}%"></span></div></div>')
    return f'<div class="people">{"".join(cards)}</div>'


def _describe(entry: dict) -> str:
    from ...scenario.timeline import describe
    from ..show import log_tuples

    line = describe(log_tuples([entry])[0])
    if line is None:
        rest = ", ".join(f"{k} {v}" for k, v in entry.items() if k not in ("t", "kind"))
        return f"{entry['t'][:19].replace('T', ' ')}  {entry['kind']}: {rest}"
    return line


def _log_table(d: F.ReportData, limit: int = 600) -> str:
    from ..show import notable_lines

    lines = notable_lines(d.events)
    rows = []
    for line in lines[:limit]:
        m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(.*)$", line)
        when, text = (m.group(1), m.group(2)) if m else ("", line)
        cls = "command" if re.search(r" — (done|refused|failed)", text) else ""
        result = re.search(r" — (refused|failed)", text)
        cls += f" {result.group(1)}" if result else ""
        rows.append(f'<tr class="{cls.strip()}"><td class="t">{_e(when)}</td><td class="x">{_e(text)}</td></tr>')
    more = f"<p class=caption>… and {len(lines) - limit} more lines.</p>" if len(lines) > limit else ""
    if not rows:
        return '<p class="caption">Nothing notable happened: no scenario events, commands or crew decisions.</p>'
    return (f'<div class="scroll" id="timeline-table"><table class="log"><thead><tr><th>time (UTC)</th>'
            f'<th>what happened</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>{more}')


def _control_end(d: F.ReportData) -> str:
    control = (d.summary.get("outcome") or {}).get("control") or {}
    if not control:
        return ""
    fc = d.faction_colours()
    rows = []
    for system, factions in control.items():
        chips = "".join(f'<span class="chip" style="background:{fc.get(f, "#566573")}">{_e(f)}</span>' for f in factions)
        rows.append(f"<tr><td>{_e(system)}</td><td>{chips or '<em>nobody</em>'}</td></tr>")
    return f'<h3>At the end of the run</h3><table class="kv">{"".join(rows)}</table>'


def _section(anchor: str, number: int, title: str, caption: str, body: str) -> str:
    return (f'<section id="{anchor}"><h2><span class="n">{number}</span>{_e(title)}</h2>'
            f'<p class="caption">{caption}</p>{body}</section>')


def _focus_text(d: F.ReportData) -> tuple[str, str]:
    """The quantity the schematic opens on, and a sentence on why."""
    f = d.focus
    if f is None:
        return METRICS[0][0], ""
    suffix, label, unit, scale = next(m[:4] for m in METRICS if m[0] == f.suffix)
    if not f.notable:
        return METRICS[0][0], (f" It opens on {METRICS[0][1]}: no quantity strayed even half way from where it "
                               "started towards a warning limit.")
    name = next((v["name"].split(" (")[0] for v in d.world["volumes"] if v["id"] == f.volume), f.volume)
    reach = "past its warning limit" if f.score >= 1 else f"{100 * f.score:.0f} % of the way to its warning limit"
    return suffix, (f" It opens on {_e(label)}, the quantity this run is about: it strayed furthest from where it "
                    f"started, {reach} ({_e(name)}, {f.value * scale:.1f} {unit} at {_e(_when(d.t_ms[f.index]))} UTC).")


def _notes(lines: list[str]) -> str:
    return f'<ul class="notes">{"".join(f"<li>{_e(n)}</li>" for n in lines)}</ul>' if lines else ""


def render(d: F.ReportData) -> str:
    r = d.record
    s = d.summary
    start, end = parse_iso(r.sim_start), parse_iso(r.sim_end)
    days = (end - start) / 86_400_000
    cls, verdict = _verdict(s, r)
    at_text = _when(d.at_ms) + " UTC"
    parts: list[tuple[str, str, str, str]] = []  # anchor, title, caption, body
    notice = story.story_notice(r, story.scenario_events(r))

    map_fig, strip = map_figure(d), F.light_and_contact_figure(d)
    track = track_payload(d)
    schematic_id = None
    if map_fig is not None:
        switch = ('<div class="span-switch"><label><input type="radio" name="fig-map-span" value="orbit" checked> '
                  'one orbit around the chosen moment</label><label><input type="radio" name="fig-map-span" '
                  'value="run"> the whole run</label><span class="when" id="fig-map-when"></span></div>')
        parts.append(("map", "Where the station flew",
                      "The ground track for one orbit around the moment the schematic's slider shows (it follows the "
                      "slider; switch to the whole run above the map): gold in sunlight, dark in the Earth's shadow; "
                      "the thin green (US) and red (Russian) lines beside it mark where each segment could talk to "
                      f"its own ground. The white circle is the station at the moment ({_e(at_text)} to begin with). "
                      "Below: sunlight and contact over the whole run.",
                      switch + _figure_html(map_fig, "map")
                      + (_figure_html(strip, "light-contact") + _notes(story.contact_notes(d)) if strip else "")))
    opens_on, why = _focus_text(d)
    schematic = schematic_figure(d, opens_on)
    air = F.air_figure(d)
    if schematic is not None or air is not None:
        schematic_id = "fig-schematic" if schematic is not None else None
        body = (_figure_html(schematic, "schematic") if schematic is not None else "") + \
               ("<h3>The air of each segment over the run</h3>" + _figure_html(air, "air") if air is not None else "")
        parts.append(("air", "The air aboard",
                      "The station seen from above, forward to the right: each square is a module or docked "
                      "vehicle, coloured by its air at the moment the slider shows (it starts at "
                      f"{_e(at_text)}); the buttons switch between ppCO2, ppO2 and pressure.{why} Grey dots on the "
                      "links are open hatches, red crosses closed ones; small dots are people. Below, each segment's "
                      "modules as a band from the lowest to the highest and a line at their mean, with the warning "
                      "(dotted) and danger (dashed) limits; the schematic gives each module's own value.", body))
    power = F.power_figure(d)
    if power is not None:
        parts.append(("power", "Power and batteries",
                      "Power generated and drawn by each segment, what was shed when there was not enough, what "
                      "the converters carried from the US to the Russian segment, and the batteries' state of charge.",
                      _figure_html(power, "power")))
    alt = F.altitude_figure(d)
    if alt is not None:
        parts.append(("orbit", "Altitude and burns",
                      "Geodetic altitude (grey, rising and falling around the orbit) and mean altitude (black, "
                      "worked out once a day); "
                      "triangles are burns. Below, the propellant in each store.", _figure_html(alt, "altitude")))
    timeline = F.timeline_figure(d, _describe)
    parts.append(("timeline", "What happened",
                  "Every scenario event, command, decision and reaction, one lane per person or source; hover for "
                  "the details. Green dots are commands carried out, orange crosses refused ones. Long quiet "
                  "stretches are folded (dotted lines say how long) so that the busy hours get the width; the "
                  "button above the chart shows the whole run to scale. The table lists the notable lines as "
                  "<code>issim run</code> printed them.",
                  (_figure_html(timeline, "timeline") if timeline is not None else "") + _log_table(d)))
    control = F.control_figure(d)
    if control is not None:
        parts.append(("control", "Who controls the station",
                      "For each system, which side could command it at each moment, from where its people are, "
                      "what they hold and which links they have.", _figure_html(control, "control") + _control_end(d)))
    health = F.health_figure(d)
    parts.append(("crew", "The crew", "Each person's fate at the end of the run, then their health over time.",
                  _people(d) + (_figure_html(health, "health") if health is not None else "")))
    track_script = (f'<script>issimTrack("fig-map", {_json_script(track)}, {_json_script(schematic_id)});</script>'
                    if map_fig is not None and track is not None else "")
    notice_html = (f'<div class="notice {notice[0]}" id="story-notice">{notice[1]}</div>' if notice else "")

    nav = "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t, _, _ in parts)
    sections = "".join(_section(a, i, t, c, b) for i, (a, t, c, b) in enumerate(parts, start=1))
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    span = f"{days:.2f}".rstrip("0").rstrip(".") + (" day" if days == 1 else " days")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(r.title)} — issim run {r.id}</title>
<style>{CSS}</style>
<script type="text/javascript">{plotly_js()}</script>
<script type="text/javascript">{report_js()}</script>
</head>
<body>
<header class="top">
  <div class="kicker">issim run {r.id} · scenario {_e(r.scenario)}</div>
  <h1>{_e(r.title)}</h1>
  <div class="meta">{_e(_when(start))} → {_e(_when(end))} UTC · {_e(span)} simulated · seed <code>{r.seed}</code>
    · issim {_e(r.version)} · status {_e(r.status)}</div>
  <div class="verdict {cls}" id="verdict">{_e(verdict)}</div>
</header>
<nav>{nav}</nav>
<main>
{notice_html}
{_tiles(d)}
{sections}
</main>
{track_script}
<footer>
  Event log sha256 <code>{_e(r.event_log_sha256 or "")}</code> · scenario file sha256
  <code>{_e(r.scenario_sha256[:16])}…</code> · {len(d.events)} log entries · report made {_e(generated)}.<br>
  Charts by plotly.js (basic bundle), inlined. Coastlines: Natural Earth 1:110m land (public domain).
</footer>
</body>
</html>
"""
