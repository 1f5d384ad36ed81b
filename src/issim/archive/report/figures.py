"""The report's charts, each built with plotly from a stored run.

Every function takes a :class:`ReportData` and returns a ``plotly.graph_objects.Figure``
(or ``None`` when the run has nothing to show there). Times go to plotly as UTC
milliseconds on date axes; values are converted from SI to the units people read
(kPa, mmHg, kW, %) here, at the edge. Long runs are thinned to about
:data:`MAX_POINTS` points per line, keeping each stretch's extreme where it matters.
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
from .schematic import layout

MAX_POINTS = 1500
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
SEGMENT_COLOURS = {
    "USOS": ["#1f5fbf", "#2e86de", "#0b7a75", "#17a589", "#3d5a80", "#5dade2", "#1abc9c", "#2874a6", "#48c9b0",
             "#21618c", "#76d7c4", "#154360", "#0e6655", "#85c1e9", "#117864", "#1b4f72"],
    "ROS": ["#c0392b", "#e67e22", "#a04000", "#d35400", "#cb4335", "#f39c12", "#922b21", "#dc7633"],
}
FACTION_COLOURS = ["#1f5fbf", "#c0392b", "#17a589", "#e67e22"]
NOBODY = "#d5d8dc"
BOTH = "#7d3c98"
SUN, NIGHT = "#f5b041", "#34495e"
CONTACT = {"USOS": "#17a589", "ROS": "#cb4335"}
CLEAR = "rgba(0,0,0,0)"
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

    def __post_init__(self):
        self.t_ms = self.telemetry.index.as_unit("ms").asi8.astype(np.int64)

    def has(self, key: str) -> bool:
        return key in self.telemetry.columns

    def col(self, key: str) -> np.ndarray:
        return self.telemetry[key].to_numpy(dtype=np.float64)

    @cached_property
    def thin(self) -> np.ndarray:
        """Indices of the samples drawn on time charts (all of them for short runs)."""
        return thin_indices(len(self.t_ms))

    @cached_property
    def at_index(self) -> int:
        """The recorded sample nearest the chosen moment."""
        return int(np.clip(np.searchsorted(self.t_ms, self.at_ms), 0, len(self.t_ms) - 1)) if len(self.t_ms) else 0

    def xs(self, idx: np.ndarray | None = None) -> dict:
        """The x coordinates of the samples ``idx`` (default :attr:`thin`) for a plotly trace.

        Recorded samples are evenly spaced, so a start and a step (``x0``, ``dx``) say it
        all; that keeps a report of a long run small. Anything else gets the times.
        """
        idx = self.thin if idx is None else idx
        t = self.t_ms[idx]
        if len(t) > 2 and np.all(np.diff(t) == t[1] - t[0]):
            return {"x0": _plotly_date(t[0]), "dx": int(t[1] - t[0])}
        return {"x": t.astype(float)}

    def volume_colour(self) -> dict[str, str]:
        counters = {"USOS": 0, "ROS": 0}
        out = {}
        for v in self.world["volumes"]:
            seg = v["segment"] if v["segment"] in counters else "USOS"
            palette = SEGMENT_COLOURS[seg]
            out[v["id"]] = palette[counters[seg] % len(palette)]
            counters[seg] += 1
        return out

    def faction_colours(self) -> dict[str, str]:
        return {f: FACTION_COLOURS[i % len(FACTION_COLOURS)] for i, f in enumerate(self.world.get("factions", []))}


def thin_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Every k-th sample, k the smallest stride that keeps at most ``max_points``."""
    return np.arange(0, n, max(1, -(-n // max_points)))


def thin_extreme(values: np.ndarray, idx: np.ndarray, worst: str) -> np.ndarray:
    """Values at ``idx``, each the max (or min) of the stretch it stands for, so that no spike is lost."""
    if len(idx) == len(values):
        return values
    edges = np.append(idx, len(values))
    reduce = np.maximum.reduceat if worst == "max" else np.minimum.reduceat
    return reduce(values, edges[:-1])


def _plotly_date(t_ms: int) -> str:
    from ...times import format_iso

    return format_iso(int(t_ms)).replace("T", " ").rstrip("Z")


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


# ---------------------------------------------------------------------------------- map


def land_rings() -> list[list[list[float]]]:
    """The packaged Natural Earth 1:110m land outlines (``data/coastlines``)."""
    raw = resources.files("issim.data").joinpath("coastlines", "land-110m.json").read_text()
    return json.loads(raw)["rings"]


def _gapped(x: np.ndarray, y: np.ndarray, keep: np.ndarray) -> tuple[list, list]:
    """Points where ``keep`` holds, as one line with gaps (None) between runs and across the antimeridian."""
    xs: list = []
    ys: list = []
    prev = False
    for i in range(len(x)):
        if keep[i]:
            if prev and abs(x[i] - x[i - 1]) > 180.0:
                xs.append(None)
                ys.append(None)
            xs.append(round(float(x[i]), 3))
            ys.append(round(float(y[i]), 3))
            prev = True
        elif prev:
            xs.append(None)
            ys.append(None)
            prev = False
    return xs, ys


def track_window(d: ReportData) -> np.ndarray:
    """Which track samples the map shows: the whole run up to 36 h, else the day before the chosen moment."""
    t = d.track.index.as_unit("ms").asi8
    if len(t) == 0:
        return np.zeros(0, bool)
    if t[-1] - t[0] <= 36 * 3_600_000:
        return np.ones(len(t), bool)
    return (t <= max(d.at_ms, t[0] + 86_400_000)) & (t > max(d.at_ms, t[0] + 86_400_000) - 86_400_000)


def map_figure(d: ReportData) -> go.Figure | None:
    if len(d.track) == 0:
        return None
    fig = go.Figure()
    xs: list = []
    ys: list = []
    for ring in land_rings():
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="#e9e3d5",
                             line=dict(color="#a39b8b", width=0.6), hoverinfo="skip", showlegend=False, name="land"))
    window = track_window(d)
    lon = d.track["lon_deg"].to_numpy()
    lat = d.track["lat_deg"].to_numpy()
    sunlit = d.track["sunlit"].to_numpy(dtype=bool)
    t_track = d.track.index.as_unit("ms").asi8
    for seg, offset in (("USOS", 1.6), ("ROS", -1.6)):  # a thin rail on either side of the track
        key = f"comms.{seg}.contact"
        if d.has(key):
            contact = np.interp(t_track, d.t_ms, d.col(key)) > 0.5
            cx, cy = _gapped(lon, lat + offset, window & contact)
            if any(v is not None for v in cx):
                fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line=dict(color=CONTACT[seg], width=2),
                                         opacity=0.7, name=f"{seg} in contact with its ground", hoverinfo="skip"))
    # the two lines share the boundary points so the track has no gaps at sunrise and sunset
    day = sunlit | np.r_[False, sunlit[:-1]]
    night = ~sunlit | np.r_[False, ~sunlit[:-1]]
    for keep, colour, name in ((window & day, SUN, "ground track, in sunlight"),
                               (window & night, NIGHT, "ground track, in the Earth's shadow")):
        tx, ty = _gapped(lon, lat, keep)
        fig.add_trace(go.Scatter(x=tx, y=ty, mode="lines", line=dict(color=colour, width=2.2), name=name,
                                 hoverinfo="skip"))
    sites = [s for s in d.world.get("sites", []) if -180 <= s["lon_deg"] <= 180]
    if sites:
        centres = [s for s in sites if "flight control" in s.get("role", "")]
        fig.add_trace(go.Scatter(
            x=[s["lon_deg"] for s in sites], y=[s["lat_deg"] for s in sites], mode="markers",
            marker=dict(symbol="triangle-up", size=8, color="#566573", line=dict(color="white", width=0.8)),
            text=[f"{s['name']}<br>{s.get('role', '')}" for s in sites], hovertemplate="%{text}<extra></extra>",
            name="ground sites"))
        for s in centres:
            fig.add_annotation(x=s["lon_deg"], y=s["lat_deg"], text=s["name"], showarrow=False, yshift=12,
                               font=dict(size=10, color="#2c3e50"))
    i = int(np.clip(np.searchsorted(t_track, d.at_ms), 0, len(t_track) - 1))
    fig.add_trace(go.Scatter(
        x=[lon[i]], y=[lat[i]], mode="markers+text", text=["ISS"], textposition="top center",
        marker=dict(size=13, color="#ffffff", line=dict(color="#1c2833", width=2.5), symbol="circle"),
        textfont=dict(size=12, color="#1c2833"), name="the station at the chosen moment",
        hovertemplate=f"{_iso(t_track[i])}<br>%{{y:.2f}}°, %{{x:.2f}}°<extra></extra>"))
    _base_layout(fig, 600, hovermode="closest")
    fig.update_layout(plot_bgcolor="#d6e6f2", margin=dict(l=40, r=10, t=60, b=30))
    fig.update_xaxes(range=[-180, 180], dtick=30, showgrid=True, gridcolor="rgba(255,255,255,0.6)", zeroline=False,
                     ticksuffix="°", constrain="domain")
    fig.update_yaxes(range=[-90, 90], dtick=30, showgrid=True, gridcolor="rgba(255,255,255,0.6)", zeroline=False,
                     ticksuffix="°", scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def _iso(t_ms: int) -> str:
    from ...times import format_iso

    return format_iso(int(t_ms), 0)[:19].replace("T", " ") + " UTC"


def light_and_contact_figure(d: ReportData) -> go.Figure | None:
    """Sunlight and each segment's contact with its ground, as bands over the run."""
    if len(d.track) == 0:
        return None
    idx = thin_indices(len(d.t_ms), 600)
    rows, names = [], []
    t_track = d.track.index.as_unit("ms").asi8
    sunlit = np.interp(d.t_ms, t_track, d.track["sunlit"].to_numpy(dtype=float)) > 0.5
    rows.append(np.where(sunlit, 1, 0)[idx])
    names.append("sunlight")
    for seg in ("USOS", "ROS"):
        key = f"comms.{seg}.contact"
        if d.has(key):
            rows.append(np.where(d.col(key) > 0.5, 2 if seg == "USOS" else 4, 3)[idx])
            names.append(f"{seg} contact")
    scale = [[0.0, NIGHT], [0.125, NIGHT], [0.125, SUN], [0.375, SUN], [0.375, CONTACT["USOS"]],
             [0.625, CONTACT["USOS"]], [0.625, "#eef0f1"], [0.875, "#eef0f1"], [0.875, CONTACT["ROS"]],
             [1.0, CONTACT["ROS"]]]
    labels = {0: "in the Earth's shadow", 1: "in sunlight", 2: "in contact", 3: "no contact", 4: "in contact"}
    z = np.array(rows[::-1])
    fig = go.Figure(go.Heatmap(
        **d.xs(idx), y=names[::-1], z=z.astype(np.int8), zmin=0, zmax=4, colorscale=scale, showscale=False,
        customdata=np.vectorize(labels.get)(z), hovertemplate="%{y}: %{customdata}<extra></extra>", xgap=0, ygap=3))
    _base_layout(fig, 150, hovermode="closest", margin=dict(l=100, r=20, t=10, b=30))
    _time_axes(fig)
    return fig


# ---------------------------------------------------------------------------------- schematic


METRICS = (
    # key suffix, label, unit, scale from SI, colour scale, low end, high end
    ("pp_co2_pa", "ppCO2", "mmHg", 1.0 / PA_PER_MMHG, "YlOrRd", 0.0, 8.0),
    ("pp_o2_pa", "ppO2", "kPa", 1e-3, "RdYlGn", 14.0, 24.0),
    ("pressure_pa", "pressure", "kPa", 1e-3, "Blues", 60.0, 105.0),
)


def _steps(d: ReportData, n_steps: int = 96) -> np.ndarray:
    """The recorded samples the schematic's slider offers, always including the chosen one."""
    n = len(d.t_ms)
    idx = np.unique(np.linspace(0, n - 1, min(n, n_steps)).round().astype(np.int64))
    return np.unique(np.append(idx, d.at_index))


def schematic_figure(d: ReportData) -> go.Figure | None:
    volumes = d.world["volumes"]
    ids = [v["id"] for v in volumes]
    if not ids or not all(d.has(f"atm.{v}.pp_co2_pa") for v in ids):
        return None
    pos = layout(ids, d.world.get("ports", []), d.world.get("hatches", []))
    x = np.array([pos[v][0] for v in ids])
    y = np.array([pos[v][1] for v in ids])
    steps = _steps(d)
    active = int(np.searchsorted(steps, d.at_index))
    values = {}
    ranges = {}
    for suffix, label, unit, scale, _cs, lo, hi in METRICS:
        block = np.stack([d.col(f"atm.{v}.{suffix}") * scale for v in ids], axis=1)  # (samples, volumes)
        values[suffix] = block
        ranges[suffix] = (min(lo, float(np.nanmin(block))), max(hi, float(np.nanmax(block))))
    names = {v["id"]: short_name(v) for v in volumes}
    crew = d.world.get("crew", [])
    crew_loc = {c["name"]: d.col(f"crew.{c['slug']}.location").astype(int) for c in crew
                if d.has(f"crew.{c['slug']}.location")}
    crew_alive = {c["name"]: d.col(f"crew.{c['slug']}.alive") > 0.5 for c in crew if d.has(f"crew.{c['slug']}.alive")}
    hatches = [h for h in d.world.get("hatches", []) if h["a"] in pos and h["b"] in pos]
    hatch_open = {h["id"]: d.col(f"hatch.{h['id']}.open") > 0.5 for h in hatches if d.has(f"hatch.{h['id']}.open")}

    def hover(i: int) -> list[str]:
        aboard: dict[int, list[str]] = {}
        for name, loc in crew_loc.items():
            if crew_alive.get(name, np.ones(1, bool))[i]:
                aboard.setdefault(int(loc[i]), []).append(name)
        co2, o2, p = values["pp_co2_pa"][i], values["pp_o2_pa"][i], values["pressure_pa"][i]
        return [f"<b>{names[v]}</b><br>ppCO2 {co2[k]:.2f} mmHg<br>ppO2 {o2[k]:.1f} kPa<br>pressure {p[k]:.1f} kPa"
                + (f"<br>aboard: {', '.join(aboard[k])}" if k in aboard else "") for k, v in enumerate(ids)]

    def hatch_lines(i: int) -> tuple[list, list, list, list]:
        ox, oy, cx, cy = [], [], [], []
        for h in hatches:
            a, b = pos[h["a"]], pos[h["b"]]
            is_open = hatch_open.get(h["id"], np.ones(len(d.t_ms), bool))[i]
            (ox if is_open else cx).extend([float(a[0]), float(b[0]), None])
            (oy if is_open else cy).extend([float(a[1]), float(b[1]), None])
        return ox, oy, cx, cy

    def crew_points(i: int) -> tuple[list, list, list]:
        px, py, text = [], [], []
        count: dict[int, int] = {}
        for name, loc in crew_loc.items():
            if not crew_alive.get(name, np.ones(1, bool))[i]:
                continue
            k = int(loc[i])
            if not 0 <= k < len(ids):
                continue
            j = count.get(k, 0)
            count[k] = j + 1
            px.append(round(float(x[k]) - 0.18 + 0.12 * (j % 4), 3))
            py.append(round(float(y[k]) - 0.3 - 0.1 * (j // 4), 3))
            text.append(name)
        return px, py, text

    fig = go.Figure()
    i0 = steps[active]
    ox, oy, cx, cy = hatch_lines(i0)
    fig.add_trace(go.Scatter(x=ox, y=oy, mode="lines", line=dict(color="#95a5a6", width=5), name="open hatch",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line=dict(color="#c0392b", width=5, dash="dot"),
                             name="closed hatch", hoverinfo="skip"))
    first_metric = 2
    for m, (suffix, label, unit, _scale, cs, _lo, _hi) in enumerate(METRICS):
        lo, hi = ranges[suffix]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers+text", text=[names[v] for v in ids], textposition="top center",
            textfont=dict(size=10, color="#1c2833"),
            marker=dict(symbol="square", size=30, color=values[suffix][i0], colorscale=cs, cmin=lo, cmax=hi,
                        reversescale=False, line=dict(color="#1c2833", width=1),
                        colorbar=dict(title=dict(text=f"{label}<br>{unit}", side="top"), thickness=12, len=0.8)),
            hoverinfo="skip", name=f"{label} ({unit})", visible=(m == 0), showlegend=False))
    # one see-through layer on top carries the hover text for whichever metric is shown
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers", marker=dict(symbol="square", size=30, color=CLEAR),
                             hovertext=hover(i0), hoverinfo="text", showlegend=False, name="modules"))
    px, py, ptext = crew_points(i0)
    agency_colour = {"nasa": "#1f5fbf", "esa": "#17a589", "jaxa": "#8e44ad", "roscosmos": "#c0392b", "csa": "#e67e22"}
    crew_colour = [agency_colour.get(next((c["agency"] for c in crew if c["name"] == n), ""), "#2c3e50") for n in ptext]
    fig.add_trace(go.Scatter(x=px, y=py, mode="markers", marker=dict(size=9, color=crew_colour,
                                                                     line=dict(color="white", width=1)),
                             hovertext=ptext, hoverinfo="text", name="a person (hover for who)"))
    crew_trace = first_metric + len(METRICS) + 1
    slider_steps = []
    for i in steps:
        ox, oy, cx, cy = hatch_lines(i)
        px, py, ptext = crew_points(i)
        colours = [crew_colour_for(n, crew, agency_colour) for n in ptext]
        args = {  # plain lists: the slider hands these to Plotly.restyle as they are
            "x": [ox, cx] + [x.tolist()] * (len(METRICS) + 1) + [px],
            "y": [oy, cy] + [y.tolist()] * (len(METRICS) + 1) + [py],
            "marker.color": [None, None] + [np.round(values[s][i], 3).tolist() for s, *_ in METRICS] + [CLEAR, colours],
            "hovertext": [None, None] + [None] * len(METRICS) + [hover(i), ptext],
        }
        slider_steps.append(dict(method="restyle", label=_iso(d.t_ms[i])[5:16], args=[args, list(range(crew_trace + 1))]))
    buttons = []
    for m, (suffix, label, unit, *_rest) in enumerate(METRICS):
        visible = [True, True] + [k == m for k in range(len(METRICS))] + [True, True]
        buttons.append(dict(label=f"{label} ({unit})", method="restyle", args=[{"visible": visible}]))
    _base_layout(fig, 560, hovermode="closest")
    fig.update_layout(
        plot_bgcolor="#fbfcfc", margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0.0, y=1.09, xanchor="left",
                          yanchor="bottom", showactive=True, bgcolor="#eaf2f8", font=dict(size=11))],
        sliders=[dict(active=active, steps=slider_steps, x=0.02, len=0.96, y=0.0, yanchor="top",
                      currentvalue=dict(prefix="moment: ", suffix=" UTC", font=dict(size=12)), pad=dict(t=10),
                      font=dict(size=9), ticklen=3)],
    )
    fig.update_xaxes(visible=False, range=[x.min() - 0.8, x.max() + 0.8])
    fig.update_yaxes(visible=False, range=[y.min() - 0.7, y.max() + 0.6], scaleanchor="x", scaleratio=1)
    return fig


def short_name(volume: dict) -> str:
    """A label that fits under a module's square: its name if short, else its id (``JEM-PM``)."""
    name = volume["name"].split(" (")[0]
    if len(name) <= 14:
        return name
    vid = volume["id"]
    return vid.upper() if "-" in vid or len(vid) <= 4 else vid.title()


def crew_colour_for(name: str, crew: list[dict], agency_colour: dict) -> str:
    return agency_colour.get(next((c["agency"] for c in crew if c["name"] == name), ""), "#2c3e50")


# ---------------------------------------------------------------------------------- time series


def air_figure(d: ReportData) -> go.Figure | None:
    ids = [v["id"] for v in d.world["volumes"] if d.has(f"atm.{v['id']}.pp_co2_pa")]
    if not ids:
        return None
    idx = d.thin
    xs = d.xs(idx)
    colours = d.volume_colour()
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=("ppO2 (kPa)", "ppCO2 (mmHg)", "total pressure (kPa)"))
    for row, (suffix, scale, worst, floor) in enumerate((("pp_o2_pa", 1e-3, "min", 1.0),
                                                         ("pp_co2_pa", 1 / PA_PER_MMHG, "max", 1.5),
                                                         ("pressure_pa", 1e-3, "min", 2.0)), start=1):
        every = np.stack([d.col(f"atm.{v}.{suffix}") for v in ids]) * scale
        for v in ids:
            key = f"atm.{v}.{suffix}"
            fig.add_trace(go.Scatter(
                **xs, y=_y(thin_extreme(d.col(key) * scale, idx, worst)), mode="lines", name=v, legendgroup=v,
                showlegend=row == 1, line=dict(color=colours[v], width=1.4),
                hovertemplate=f"{v}: %{{y:.2f}}<extra></extra>"), row=row, col=1)
        _limit_lines(fig, d.channels.get(f"atm.{ids[0]}.{suffix}"), scale, row=row, col=1,
                     data=(float(every.min()), float(every.max())), floor=floor)
    _base_layout(fig, 820, hovermode="closest")
    fig.update_layout(legend=dict(orientation="v", y=1.0, x=1.01, yanchor="top", font=dict(size=10)),
                      margin=dict(l=60, r=140, t=40, b=40))
    _time_axes(fig)
    return fig


def power_figure(d: ReportData) -> go.Figure | None:
    segs = [s for s in ("USOS", "ROS") if d.has(f"power.{s}.generated_w")]
    if not segs:
        return None
    idx = d.thin
    xs = d.xs(idx)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=("power (kW)", "battery state of charge (%)"))
    colour = {"USOS": "#1f5fbf", "ROS": "#c0392b"}
    for s in segs:
        for key, name, dash, width in ((f"power.{s}.generated_w", "generated", "solid", 1.6),
                                       (f"power.{s}.load_w", "load", "dot", 1.4),
                                       (f"power.{s}.shed_w", "shed", "dash", 1.2)):
            if d.has(key):
                fig.add_trace(go.Scatter(**xs, y=_y(d.col(key)[idx] / 1e3), mode="lines", name=f"{s} {name}",
                                           line=dict(color=colour[s], dash=dash, width=width),
                                           hovertemplate=f"{s} {name}: %{{y:.1f}} kW<extra></extra>"), row=1, col=1)
        if d.has(f"power.{s}.soc"):
            fig.add_trace(go.Scatter(**xs, y=_y(thin_extreme(d.col(f"power.{s}.soc") * 100, idx, "min")), mode="lines",
                                       name=f"{s} battery", line=dict(color=colour[s], width=1.8),
                                       fill="tozeroy", fillcolor="rgba(31,95,191,0.08)" if s == "USOS"
                                       else "rgba(192,57,43,0.08)",
                                       hovertemplate=f"{s} battery: %{{y:.0f}} %<extra></extra>"), row=2, col=1)
    if d.has("power.converters.transfer_w"):
        fig.add_trace(go.Scatter(**xs, y=_y(d.col("power.converters.transfer_w")[idx] / 1e3), mode="lines",
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
    idx = d.thin
    xs = d.xs(idx)
    props = [k for k in d.telemetry.columns if k.startswith("prop.") and k.endswith(".propellant_kg")]
    fig = make_subplots(rows=2 if props else 1, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        row_heights=[0.65, 0.35] if props else [1.0],
                        subplot_titles=("altitude (km)", "propellant (kg)") if props else ("altitude (km)",))
    fig.add_trace(go.Scatter(**xs, y=_y(d.col("orbit.alt_km")[idx]), mode="lines", name="geodetic altitude",
                               line=dict(color="#aab7b8", width=1),
                               hovertemplate="altitude %{y:.1f} km<extra></extra>"), row=1, col=1)
    if d.has("orbit.mean_alt_km"):
        fig.add_trace(go.Scatter(**xs, y=_y(d.col("orbit.mean_alt_km")[idx]), mode="lines", name="mean altitude",
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
        fig.add_trace(go.Scatter(**xs, y=_y(d.col(key)[idx]), mode="lines", name=key.split(".")[1],
                                   line=dict(width=1.6, color=FACTION_COLOURS[(k + 1) % 4]),
                                   hovertemplate=f"{key.split('.')[1]}: %{{y:.0f}} kg<extra></extra>"), row=2, col=1)
    _base_layout(fig, 480 if props else 340, hovermode="closest", margin=dict(l=60, r=20, t=75, b=40),
                 legend=dict(orientation="h", yanchor="bottom", y=1.07, xanchor="left", x=0, font=dict(size=11)))
    _time_axes(fig)
    return fig


def control_figure(d: ReportData) -> go.Figure | None:
    """Who could command each system, over time: one band per system, coloured by faction."""
    systems, factions = d.world.get("systems", []), d.world.get("factions", [])
    keys = {(s, f): f"control.{s}.{f}" for s in systems for f in factions}
    if not systems or not all(d.has(k) for k in keys.values()):
        return None
    idx = thin_indices(len(d.t_ms), 600)
    fc = d.faction_colours()
    combos: dict[tuple, int] = {(): 0}
    z = np.zeros((len(systems), len(idx)), dtype=int)
    for r, s in enumerate(systems):
        held = np.stack([d.col(keys[(s, f)])[idx] > 0.5 for f in factions], axis=1)
        for c in range(len(idx)):
            combo = tuple(f for f, h in zip(factions, held[c]) if h)
            z[r, c] = combos.setdefault(combo, len(combos))
    colours = []
    for combo in combos:
        colours.append(NOBODY if not combo else fc[combo[0]] if len(combo) == 1 else BOTH)
    n = len(colours)
    scale = []
    for k, colour in enumerate(colours):
        lo, hi = k / n, (k + 1) / n
        scale += [[lo, colour], [hi, colour]]
    label = {k: (" and ".join(c) if c else "nobody") for c, k in combos.items()}
    fig = go.Figure(go.Heatmap(
        **d.xs(idx), y=systems, z=z.astype(np.int8), zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
        customdata=np.vectorize(label.get)(z), hovertemplate="%{y}: %{customdata}<extra></extra>", ygap=2))
    for combo, k in combos.items():  # a legend for the colours
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label[k],
                                 marker=dict(symbol="square", size=12, color=colours[k])))
    _base_layout(fig, 90 + 26 * len(systems), hovermode="closest", margin=dict(l=150, r=20, t=40, b=30))
    fig.update_yaxes(autorange="reversed")
    _time_axes(fig)
    return fig


def health_figure(d: ReportData) -> go.Figure | None:
    crew = [c for c in d.world.get("crew", []) if d.has(f"crew.{c['slug']}.health")]
    if not crew:
        return None
    idx = d.thin
    xs = d.xs(idx)
    agency_colour = {"nasa": "#1f5fbf", "esa": "#17a589", "jaxa": "#8e44ad", "roscosmos": "#c0392b"}
    fig = go.Figure()
    dashes = ["solid", "dot", "dash", "dashdot", "longdash"]
    seen: dict[str, int] = {}
    for c in crew:
        k = seen.get(c["agency"], 0)
        seen[c["agency"]] = k + 1
        fig.add_trace(go.Scatter(**xs, y=_y(thin_extreme(d.col(f"crew.{c['slug']}.health") * 100, idx, "min")),
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
    if len(d.t_ms):
        pad = 0.015 * max(float(d.t_ms[-1] - d.t_ms[0]), 60_000.0)
        fig.update_xaxes(range=[float(d.t_ms[0]) - pad, float(d.t_ms[-1]) + pad])
    _time_axes(fig)
    return fig
