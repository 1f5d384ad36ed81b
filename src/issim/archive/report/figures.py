"""The report's charts, each built with plotly from a stored run.

Every function takes a :class:`ReportData` and returns a ``plotly.graph_objects.Figure``
(or ``None`` when the run has nothing to show there). Times go to plotly as UTC
milliseconds on date axes; values are converted from SI to the units people read
(kPa, mmHg, kW, %) here, at the edge. Time charts share one grid of buckets
(:mod:`.decimate`): each line keeps every bucket's min and max, so a week's chart is as
light as a day's and no peak is lost; states that last (sunlight, contact, control) are
drawn as intervals. Only ``scatter`` and ``bar`` traces are used: the page inlines
plotly.js's basic bundle, which has no others. The map is in :mod:`.mapview`, the
schematic in :mod:`.schematic`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ...physics.gas import PA_PER_MMHG
from .decimate import _plotly_date, bucket_size, bucket_x, envelope, minmax, runs

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
FACTION_COLOURS = ["#1f5fbf", "#c0392b", "#17a589", "#e67e22"]
NOBODY = "#d5d8dc"
BOTH = "#7d3c98"
SUN, NIGHT = "#f5b041", "#34495e"
CONTACT = {"USOS": "#17a589", "ROS": "#cb4335"}
RESULT_COLOURS = {"done": "#1e8449", "refused": "#d68910", "failed": "#c0392b", "allowed": "#2874a6"}


@dataclass
class ReportData:
    """Everything a report draws, read once from the archive."""

    record: object
    summary: dict
    world: dict
    telemetry: "object"  # pandas DataFrame, index t (UTC)
    track: "object"
    channels: dict  # key -> channel metadata
    events: list[dict]
    commands: "object"
    at_ms: int
    t_ms: np.ndarray = field(init=False)
    focus: "object" = None  # story.Focus: the air quantity the run is about

    def __post_init__(self):
        self.t_ms = self.telemetry.index.as_unit("ms").asi8.astype(np.int64)

    def has(self, key: str) -> bool:
        return key in self.telemetry.columns

    def col(self, key: str) -> np.ndarray:
        return self.telemetry[key].to_numpy(dtype=np.float64)

    @cached_property
    def k(self) -> int:
        """Recorded samples per bucket of the time charts (1 for runs of up to a day or so)."""
        return bucket_size(len(self.t_ms))

    @cached_property
    def at_index(self) -> int:
        """The recorded sample nearest the chosen moment."""
        return int(np.clip(np.searchsorted(self.t_ms, self.at_ms), 0, len(self.t_ms) - 1)) if len(self.t_ms) else 0

    def xs(self) -> dict:
        """The x coordinates every time chart's series share (``x0``/``dx``: no time column)."""
        return bucket_x(self.t_ms, self.k)

    def line(self, values: np.ndarray) -> np.ndarray:
        """A series for a time chart: each bucket's min and max in time order (:func:`.decimate.minmax`)."""
        return _y(minmax(values, self.k))

    def band(self, values: np.ndarray, how: str) -> np.ndarray:
        """A band's edge or middle: each bucket's ``min``, ``max`` or ``mean`` (:func:`.decimate.envelope`)."""
        return _y(envelope(values, self.k, how))

    def faction_colours(self) -> dict[str, str]:
        return {f: FACTION_COLOURS[i % len(FACTION_COLOURS)] for i, f in enumerate(self.world.get("factions", []))}


def _y(values: np.ndarray) -> np.ndarray:
    """Values for a chart: single precision is plenty to draw with and halves the page."""
    return np.asarray(values, dtype=np.float32)


def _base_layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    base = dict(
        template="plotly_white", height=height, font=dict(family=FONT, size=12, color="#1c2833"),
        margin=dict(l=60, r=20, t=30, b=40), hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, font=dict(size=11)),
    )
    fig.update_layout(**{**base, **kw})
    return fig


def _time_axes(fig: go.Figure) -> None:
    fig.update_xaxes(type="date", showline=True, linecolor="#aab7b8", ticks="outside")


def _limit_lines(fig, meta: dict, scale: float, row: int | None = None, col: int | None = None,
                 data: tuple[float, float] | None = None, floor: float = 0.0) -> None:
    """Warning (dotted) and danger (dashed) limits; with ``data`` (min, max) only those near the
    data are drawn, so that a far-off limit does not flatten the lines that matter."""
    lim = meta.get("limits", {}) if meta else {}
    if data is not None:
        span = max(data[1] - data[0], floor)
        near = (data[0] - 0.75 * span, data[1] + 0.75 * span)
    for key, dash, colour in (("warn_low", "dot", "#d68910"), ("warn_high", "dot", "#d68910"),
                              ("danger_low", "dash", "#c0392b"), ("danger_high", "dash", "#c0392b")):
        if key in lim and (data is None or near[0] <= lim[key] * scale <= near[1]):
            kw = dict(row=row, col=col) if row else {}
            fig.add_hline(y=lim[key] * scale, line=dict(color=colour, width=1, dash=dash), opacity=0.8,
                          annotation_text=key.replace("_", " "), annotation_position="top left",
                          annotation_font=dict(size=9, color=colour), **kw)


def _iso(t_ms: int) -> str:
    from ...times import format_iso

    return format_iso(int(t_ms), 0)[:19].replace("T", " ") + " UTC"


def lanes_figure(lanes: list[tuple[str, np.ndarray, np.ndarray]], styles: dict, height: int,
                 left_margin: int = 100, named: bool = False) -> go.Figure:
    """Horizontal lanes of states that last, drawn as intervals (exact at any zoom, a few numbers each).

    ``lanes`` are ``(name, t_ms, codes)``, top to bottom; ``styles`` maps a code to
    ``(colour, label)`` (codes it lacks are not drawn: the lane's background shows). One bar
    trace per code; ``named`` puts the lane's name in each interval's hover text too.
    """
    fig = go.Figure()
    bars: dict = {code: ([], [], [], []) for code in styles}
    for row, (name, t, codes) in enumerate(lanes):
        if len(t) == 0:
            continue
        step = float(np.median(np.diff(t))) if len(t) > 1 else 60_000.0
        for a, b, code in runs(codes):
            if code in bars:
                start = float(t[a])
                end = float(t[b]) if b < len(t) else float(t[-1]) + step
                base, width, ys, names = bars[code]
                base.append(start)
                width.append(end - start)
                ys.append(len(lanes) - 1 - row)
                names.append(name)
    for code, (colour, label) in styles.items():
        base, width, ys, names = bars[code]
        if not base:
            continue
        fig.add_trace(go.Bar(base=np.array(base), x=np.array(width), y=np.array(ys, dtype=np.int16), orientation="h",
                             width=0.72, marker=dict(color=colour, line=dict(width=0)), name=label,
                             text=names if named else None, textposition="none",
                             hovertemplate=("%{text}: " if named else "") + f"{label}<extra></extra>"))
    _base_layout(fig, height, hovermode="closest", barmode="overlay", showlegend=True,
                 margin=dict(l=left_margin, r=20, t=30, b=30))
    fig.update_yaxes(tickvals=list(range(len(lanes))), ticktext=[n for n, *_ in lanes][::-1],
                     range=[-0.6, len(lanes) - 0.4], showgrid=False, zeroline=False)
    _time_axes(fig)
    return fig


def light_and_contact_figure(d: ReportData) -> go.Figure | None:
    """Sunlight and each segment's contact with its ground, as intervals over the run."""
    if len(d.track) == 0:
        return None
    t_track = d.track.index.as_unit("ms").asi8
    lanes = [("sunlight", t_track, np.where(d.track["sunlit"].to_numpy(dtype=bool), 1, 0))]
    for seg, code in (("USOS", 2), ("ROS", 4)):
        key = f"comms.{seg}.contact"
        if d.has(key):
            lanes.append((f"{seg} contact", d.t_ms, np.where(d.col(key) > 0.5, code, -1)))
    styles = {1: (SUN, "in sunlight"), 0: (NIGHT, "in the Earth's shadow"),
              2: (CONTACT["USOS"], "US segment in contact with Houston"),
              4: (CONTACT["ROS"], "Russian segment in contact with Moscow")}
    fig = lanes_figure(lanes, styles, 190)
    fig.update_layout(plot_bgcolor="#eef0f1", legend=dict(y=1.04))
    return fig


# ---------------------------------------------------------------------------------- time series


AIR_ROWS = (  # key suffix, title, scale from SI, hover format, smallest span the limits are judged against
    ("pp_o2_pa", "ppO2 (kPa)", 1e-3, ".2f", 1.0),
    ("pp_co2_pa", "ppCO2 (mmHg)", 1 / PA_PER_MMHG, ".2f", 1.5),
    ("pressure_pa", "total pressure (kPa)", 1e-3, ".1f", 2.0),
)
SEGMENT_NAMES = {"USOS": "US segment", "ROS": "Russian segment"}
SEGMENT_FILL = {"USOS": "rgba(31,95,191,0.18)", "ROS": "rgba(192,57,43,0.18)"}
SEGMENT_LINE = {"USOS": "#1f5fbf", "ROS": "#c0392b"}


def segment_air(d: ReportData, suffix: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each segment's volumes (modules and docked vehicles) with their ``suffix`` channel,
    and those channels as a (samples, volumes) block in SI units."""
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for seg in dict.fromkeys(v["segment"] for v in d.world["volumes"]):
        ids = [v["id"] for v in d.world["volumes"] if v["segment"] == seg and d.has(f"atm.{v['id']}.{suffix}")]
        if ids:
            out[seg] = (ids, np.stack([d.col(f"atm.{v}.{suffix}") for v in ids], axis=1))
    return out


def air_figure(d: ReportData) -> go.Figure | None:
    """ppO2, ppCO2 and pressure: for each segment, a band from its lowest to its highest
    module and a line at the modules' mean (not one line per module: twenty near-identical
    lines hide the one that matters; the schematic gives each module's value)."""
    if not segment_air(d, "pp_co2_pa"):
        return None
    xs = d.xs()
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[title for _s, title, *_r in AIR_ROWS])
    for row, (suffix, _title, scale, fmt, floor) in enumerate(AIR_ROWS, start=1):
        lo_all, hi_all, meta = np.inf, -np.inf, None
        for seg, (ids, block) in segment_air(d, suffix).items():
            block = block * scale
            lo_all, hi_all = min(lo_all, float(block.min())), max(hi_all, float(block.max()))
            meta = meta or d.channels.get(f"atm.{ids[0]}.{suffix}")
            name = SEGMENT_NAMES.get(seg, seg)
            colour = SEGMENT_LINE.get(seg, "#566573")
            fig.add_trace(go.Scatter(**xs, y=d.band(block.min(axis=1), "min"), mode="lines",
                                     line=dict(width=0.6, color=colour), name=f"{name} lowest",
                                     hovertemplate=f"{name} lowest: %{{y:{fmt}}}<extra></extra>",
                                     legendgroup=seg, showlegend=False), row=row, col=1)
            fig.add_trace(go.Scatter(**xs, y=d.band(block.max(axis=1), "max"), mode="lines",
                                     line=dict(width=0.6, color=colour), fill="tonexty",
                                     fillcolor=SEGMENT_FILL.get(seg, "rgba(86,101,115,0.18)"),
                                     name=f"{name}: range of its {len(ids)} modules and vehicles",
                                     hovertemplate=f"{name} highest: %{{y:{fmt}}}<extra></extra>",
                                     legendgroup=seg, showlegend=row == 1), row=row, col=1)
            fig.add_trace(go.Scatter(**xs, y=d.band(block.mean(axis=1), "mean"), mode="lines",
                                     line=dict(width=1.8, color=colour), name=f"{name}: mean",
                                     hovertemplate=f"{name} mean: %{{y:{fmt}}}<extra></extra>",
                                     legendgroup=seg, showlegend=row == 1), row=row, col=1)
        _limit_lines(fig, meta, scale, row=row, col=1, data=(lo_all, hi_all), floor=floor)
    _base_layout(fig, 820, hovermode="closest")
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.03, xanchor="left", x=0, font=dict(size=11)),
                      margin=dict(l=60, r=20, t=70, b=40))
    _time_axes(fig)
    return fig


def power_figure(d: ReportData) -> go.Figure | None:
    segs = [s for s in ("USOS", "ROS") if d.has(f"power.{s}.generated_w")]
    if not segs:
        return None
    xs = d.xs()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=("power (kW)", "battery state of charge (%)"))
    colour = {"USOS": "#1f5fbf", "ROS": "#c0392b"}
    for s in segs:
        for key, name, dash, width in ((f"power.{s}.generated_w", "generated", "solid", 1.6),
                                       (f"power.{s}.load_w", "load", "dot", 1.4),
                                       (f"power.{s}.shed_w", "shed", "dash", 1.2)):
            if d.has(key):
                fig.add_trace(go.Scatter(**xs, y=d.line(d.col(key) / 1e3), mode="lines", name=f"{s} {name}",
                                           line=dict(color=colour[s], dash=dash, width=width),
                                           hovertemplate=f"{s} {name}: %{{y:.1f}} kW<extra></extra>"), row=1, col=1)
        if d.has(f"power.{s}.soc"):
            fig.add_trace(go.Scatter(**xs, y=d.line(d.col(f"power.{s}.soc") * 100), mode="lines",
                                       name=f"{s} battery", line=dict(color=colour[s], width=1.8),
                                       fill="tozeroy", fillcolor="rgba(31,95,191,0.08)" if s == "USOS"
                                       else "rgba(192,57,43,0.08)",
                                       hovertemplate=f"{s} battery: %{{y:.0f}} %<extra></extra>"), row=2, col=1)
    if d.has("power.converters.transfer_w"):
        fig.add_trace(go.Scatter(**xs, y=d.line(d.col("power.converters.transfer_w") / 1e3), mode="lines",
                                   name="US → Russian transfer", line=dict(color="#7d3c98", width=1.4),
                                   hovertemplate="transfer: %{y:.1f} kW<extra></extra>"), row=1, col=1)
    fig.update_yaxes(range=[0, 105], row=2, col=1)
    _base_layout(fig, 540, hovermode="closest", margin=dict(l=60, r=20, t=75, b=40),
                 legend=dict(orientation="h", yanchor="bottom", y=1.07, xanchor="left", x=0, font=dict(size=11)))
    _time_axes(fig)
    return fig


def altitude_figure(d: ReportData) -> go.Figure | None:
    if not d.has("orbit.alt_km"):
        return None
    xs = d.xs()
    props = [k for k in d.telemetry.columns if k.startswith("prop.") and k.endswith(".propellant_kg")]
    fig = make_subplots(rows=2 if props else 1, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        row_heights=[0.65, 0.35] if props else [1.0],
                        subplot_titles=("altitude (km)", "propellant (kg)") if props else ("altitude (km)",))
    fig.add_trace(go.Scatter(**xs, y=d.line(d.col("orbit.alt_km")), mode="lines", name="geodetic altitude",
                               line=dict(color="#aab7b8", width=1),
                               hovertemplate="altitude %{y:.1f} km<extra></extra>"), row=1, col=1)
    if d.has("orbit.mean_alt_km"):
        fig.add_trace(go.Scatter(**xs, y=d.line(d.col("orbit.mean_alt_km")), mode="lines", name="mean altitude",
                                   line=dict(color="#1c2833", width=2.2),
                                   hovertemplate="mean altitude %{y:.2f} km<extra></extra>"), row=1, col=1)
    burns = [e for e in d.events if e["kind"] == "propulsion" and e.get("what") == "burn"]
    if burns:
        from ...times import parse_iso

        bt = np.array([parse_iso(e["t"]) for e in burns], dtype=float)
        ref = d.col("orbit.mean_alt_km") if d.has("orbit.mean_alt_km") else d.col("orbit.alt_km")
        by = np.interp(bt, d.t_ms.astype(float), ref)
        fig.add_trace(go.Scatter(
            x=bt, y=by, mode="markers", name="burn", marker=dict(symbol="triangle-up", size=13, color="#e67e22",
                                                                 line=dict(color="#1c2833", width=1)),
            text=[f"{e.get('engine', '')}: Δv {e.get('dv_m_s', 0):.2f} m/s, {e.get('propellant_kg', 0):.0f} kg"
                  for e in burns], hovertemplate="%{text}<extra>burn</extra>"), row=1, col=1)
    for k, key in enumerate(props):
        fig.add_trace(go.Scatter(**xs, y=d.line(d.col(key)), mode="lines", name=key.split(".")[1],
                                   line=dict(width=1.6, color=FACTION_COLOURS[(k + 1) % 4]),
                                   hovertemplate=f"{key.split('.')[1]}: %{{y:.0f}} kg<extra></extra>"), row=2, col=1)
    _base_layout(fig, 480 if props else 340, hovermode="closest", margin=dict(l=60, r=20, t=75, b=40),
                 legend=dict(orientation="h", yanchor="bottom", y=1.07, xanchor="left", x=0, font=dict(size=11)))
    _time_axes(fig)
    return fig


def control_figure(d: ReportData) -> go.Figure | None:
    """Who could command each system, over time: one lane per system, coloured by faction."""
    systems, factions = d.world.get("systems", []), d.world.get("factions", [])
    keys = {(s, f): f"control.{s}.{f}" for s in systems for f in factions}
    if not systems or not all(d.has(k) for k in keys.values()):
        return None
    fc = d.faction_colours()
    combos: dict[tuple, int] = {(): 0}
    lanes = []
    weights = 2 ** np.arange(len(factions))
    for s in systems:
        held = np.stack([d.col(keys[(s, f)]) > 0.5 for f in factions], axis=1)
        mask = held @ weights  # which factions hold it, as bits
        codes = np.empty(len(mask), dtype=np.int64)
        for m in np.unique(mask):
            combo = tuple(f for i, f in enumerate(factions) if int(m) >> i & 1)
            codes[mask == m] = combos.setdefault(combo, len(combos))
        lanes.append((s, d.t_ms, codes))
    styles = {k: (NOBODY if not c else fc[c[0]] if len(c) == 1 else BOTH, " and ".join(c) if c else "nobody")
              for c, k in combos.items()}
    return lanes_figure(lanes, styles, 90 + 26 * len(systems), left_margin=150, named=True)


def health_figure(d: ReportData) -> go.Figure | None:
    crew = [c for c in d.world.get("crew", []) if d.has(f"crew.{c['slug']}.health")]
    if not crew:
        return None
    xs = d.xs()
    agency_colour = {"nasa": "#1f5fbf", "esa": "#17a589", "jaxa": "#8e44ad", "roscosmos": "#c0392b"}
    fig = go.Figure()
    dashes = ["solid", "dot", "dash", "dashdot", "longdash"]
    seen: dict[str, int] = {}
    for c in crew:
        k = seen.get(c["agency"], 0)
        seen[c["agency"]] = k + 1
        fig.add_trace(go.Scatter(**xs, y=d.line(d.col(f"crew.{c['slug']}.health") * 100),
                                   mode="lines", name=c["name"],
                                   line=dict(color=agency_colour.get(c["agency"], "#566573"), width=1.8,
                                             dash=dashes[k % len(dashes)]),
                                   hovertemplate=f"{c['name']}: %{{y:.0f}} %<extra></extra>"))
    fig.update_yaxes(range=[-3, 103], title="health (%)")
    _base_layout(fig, 300, hovermode="closest")
    _time_axes(fig)
    return fig


# ---------------------------------------------------------------------------------- timeline


def timeline_lane(entry: dict) -> str | None:
    """Which lane of the timeline an event-log entry goes in (``None``: not drawn)."""
    kind = entry["kind"]
    if entry.get("why") == "schedule":
        return None  # the crew's daily moves between work and sleep
    if kind == "event":
        source = str(entry.get("source", ""))
        if entry.get("action") == "command" or not (source == "scenario" or source.startswith("trigger")):
            return None  # a command's own dispatch: the command entry says it
        return "scenario"
    if kind == "command":
        return str(entry.get("actor"))
    if kind == "agents":
        return str(entry.get("person") or "agents")
    return kind


def timeline_figure(d: ReportData, describe) -> go.Figure | None:
    from ...times import parse_iso

    lanes: dict[str, list] = {}
    for e in d.events:
        lane = timeline_lane(e)
        if lane is None:
            continue
        lanes.setdefault(lane, []).append(e)
    if not lanes:
        return None
    people = [c["name"] for c in d.world.get("crew", [])]
    order = (["scenario"] + [g for g in ("houston", "moscow", "operator") if g in lanes]
             + [p for p in people if p in lanes] + sorted(l for l in lanes if l not in people and l not in
                                                          ("scenario", "houston", "moscow", "operator")))
    fig = go.Figure()
    groups: dict[str, dict] = {}
    for lane in order:
        for e in lanes.get(lane, []):
            if e["kind"] == "command":
                group = f"command {e.get('result')}"
                colour = RESULT_COLOURS.get(e.get("result"), "#566573")
                symbol = "circle" if e.get("result") == "done" else "x"
            elif e["kind"] == "agents":
                group, colour, symbol = "decision or order received", "#7d3c98", "diamond"
            elif lane == "scenario":
                group, colour, symbol = "scenario event", "#1c2833", "star"
            else:
                group, colour, symbol = "what the station and crew did", "#5d6d7e", "line-ns-open"
            g = groups.setdefault(group, dict(x=[], y=[], text=[], colour=colour, symbol=symbol))
            g["x"].append(float(parse_iso(e["t"])))
            g["y"].append(lane)
            g["text"].append(describe(e))
    for name, g in groups.items():
        fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers", name=name, text=g["text"],
                                 hovertemplate="%{text}<extra></extra>",
                                 marker=dict(color=g["colour"], symbol=g["symbol"], size=10,
                                             line=dict(width=1.5, color=g["colour"]))))
    _base_layout(fig, 120 + 28 * len(order), hovermode="closest", margin=dict(l=140, r=20, t=40, b=30))
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], showgrid=True, gridcolor="#eaeded")
    _time_axes(fig)
    if len(d.t_ms):
        fold_quiet_stretches(fig, [x for g in groups.values() for x in g["x"]], int(d.t_ms[0]), int(d.t_ms[-1]))
    return fig


def fold_quiet_stretches(fig: go.Figure, times_ms: list[float], start_ms: int, end_ms: int) -> None:
    """Give a timeline's busy stretches the width: fold the quiet gaps between them
    (:func:`.story.busy_stretches`), mark each fold, and offer a button back to the whole run to scale."""
    from .story import busy_stretches

    stretches = busy_stretches(times_ms, start_ms, end_ms)
    pad = 0.015 * max(float(end_ms - start_ms), 60_000.0)
    whole = {"xaxis.range": [start_ms - pad, end_ms + pad], "xaxis.rangebreaks": [], "shapes": [], "annotations": []}
    if len(stretches) == 1 and stretches[0] == (float(start_ms), float(end_ms)):
        fig.update_xaxes(range=whole["xaxis.range"])
        return
    folds = [(b, a2) for (_a, b), (a2, _b) in zip(stretches, stretches[1:])]
    breaks = [dict(values=[_plotly_date(int(a))], dvalue=int(b - a)) for a, b in folds]
    shapes = [dict(type="line", xref="x", yref="paper", x0=a, x1=a, y0=0, y1=1,
                   line=dict(color="#aab7b8", width=2, dash="dot")) for a, _b in folds]
    note = dict(xref="x", yref="paper", y=0.0, yanchor="top", yshift=-34, showarrow=False, bgcolor="#ffffff",
                font=dict(size=10, color="#5d6d7e"))  # under the axis's dates, beside the dotted line
    notes = [dict(note, x=a, text=f"{_span(b - a)} quiet, folded") for a, b in folds]
    first, last = stretches[0][0], stretches[-1][1]
    if first > start_ms:  # the quiet start and end are left out of the range, and said so
        notes.append(dict(note, x=first, xanchor="left", text=f"after {_span(first - start_ms)} quiet"))
    if last < end_ms:
        notes.append(dict(note, x=last, xanchor="right", text=f"then {_span(end_ms - last)} quiet to the end"))
    margin = 0.01 * sum(b - a for a, b in stretches)
    folded = {"xaxis.range": [first - margin, last + margin], "xaxis.rangebreaks": breaks, "shapes": shapes,
              "annotations": notes}
    fig.update_layout(
        xaxis=dict(range=folded["xaxis.range"], rangebreaks=breaks), shapes=shapes, annotations=notes,
        margin=dict(b=60), height=fig.layout.height + 20,
        updatemenus=[dict(type="buttons", direction="right", x=1.0, y=1.0, xanchor="right", yanchor="bottom",
                          pad=dict(b=22), showactive=True, active=0, bgcolor="#eaf2f8", font=dict(size=11),
                          buttons=[dict(label="where things happened", method="relayout", args=[folded]),
                                   dict(label="the whole run, to scale", method="relayout", args=[whole])])])


def _span(ms: float) -> str:
    h = ms / 3_600_000
    return f"{h:.0f} h" if h < 48 else f"{h / 24:.1f} days"
