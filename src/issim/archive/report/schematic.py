"""Where each module goes on the station schematic, from the station's own ports.

The drawing is a plan seen from above (zenith): forward to the right, port up. Every
port in the station file says on which side of its module a neighbour sits; walking the
ports from the first module lays the station out the way it is built. Zenith and nadir
neighbours cannot be seen from above, so they are drawn half a step off diagonally
(zenith up-right, nadir down-left), as isometric sketches of the ISS do. Nothing here is
a measurement: it is a diagram, and a station file with other modules draws itself.

:func:`schematic_figure` draws it for the report: each module a square coloured by its
air at the moment a slider shows, hatches marked open or shut, the living crew as dots.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ...physics.gas import PA_PER_MMHG

STEP = {
    "forward": (1.0, 0.0),
    "aft": (-1.0, 0.0),
    "port": (0.0, 1.0),
    "starboard": (0.0, -1.0),
    "zenith": (0.5, 0.5),
    "nadir": (-0.5, -0.5),
}
_MIN_GAP = 0.45


def layout(volume_ids: list[str], ports: list[dict], hatches: list[dict]) -> dict[str, tuple[float, float]]:
    """``{volume_id: (x, y)}`` for every volume.

    ``ports`` are ``{module, direction, attached}`` records (the station file's); volumes
    that no port places (a station file without ports) are placed through ``hatches``
    (``{a, b}``), to the right of what they join; anything left goes in a row below.
    """
    wanted = set(volume_ids)
    neighbours: dict[str, list[tuple[str, tuple[float, float]]]] = {v: [] for v in volume_ids}
    for p in ports:
        a, b = p.get("module"), p.get("attached")
        step = STEP.get(p.get("direction", ""))
        if a in wanted and b in wanted and step:
            neighbours[a].append((b, step))
            neighbours[b].append((a, (-step[0], -step[1])))
    placed: dict[str, tuple[float, float]] = {}
    for root in _roots(volume_ids, neighbours):
        if root in placed:
            continue
        placed[root] = _free(placed, (0.0, 0.0) if not placed else (0.0, min(y for _, y in placed.values()) - 2.0),
                             (0.0, -1.0))
        queue = deque([root])
        while queue:
            here = queue.popleft()
            for there, step in neighbours[here]:
                if there not in placed:
                    x, y = placed[here]
                    placed[there] = _free(placed, (x + step[0], y + step[1]), step)
                    queue.append(there)
    for h in hatches:  # volumes joined only by a hatch
        for a, b in ((h["a"], h["b"]), (h["b"], h["a"])):
            if a in placed and b in wanted and b not in placed:
                x, y = placed[a]
                placed[b] = _free(placed, (x + 1.0, y), (1.0, 0.0))
    bottom = min((y for _, y in placed.values()), default=0.0) - 1.5
    for i, v in enumerate(v for v in volume_ids if v not in placed):
        placed[v] = (float(i), bottom)
    return placed


def _roots(volume_ids: list[str], neighbours: dict) -> list[str]:
    """Start from the module with most neighbours (the station's hub), then any not reached."""
    hub = max(volume_ids, key=lambda v: (len(neighbours[v]), -volume_ids.index(v))) if volume_ids else None
    return ([hub] if hub else []) + [v for v in volume_ids if neighbours[v]]


def _free(placed: dict, spot: tuple[float, float], step: tuple[float, float]) -> tuple[float, float]:
    """``spot``, or the next free one further along ``step`` if a module is already there."""
    x, y = spot
    for _ in range(20):
        if all(abs(x - px) >= _MIN_GAP or abs(y - py) >= _MIN_GAP for px, py in placed.values()):
            return (x, y)
        x, y = x + step[0] * 0.5, y + step[1] * 0.5
    return (x, y)


# ---------------------------------------------------------------------------------- the figure

METRICS = (
    # key suffix, label, unit, scale from SI, colour scale, low end, high end
    ("pp_co2_pa", "ppCO2", "mmHg", 1.0 / PA_PER_MMHG, "YlOrRd", 0.0, 8.0),
    ("pp_o2_pa", "ppO2", "kPa", 1e-3, "RdYlGn", 14.0, 24.0),
    ("pressure_pa", "pressure", "kPa", 1e-3, "Blues", 60.0, 105.0),
)
AGENCY_COLOURS = {"nasa": "#1f5fbf", "esa": "#17a589", "jaxa": "#8e44ad", "roscosmos": "#c0392b", "csa": "#e67e22"}
HATCH_OPEN, HATCH_CLOSED = "#95a5a6", "#c0392b"
# traces, in order: hatch links, one marker layer per metric, hatch states, people, two legend keys
LINKS, FIRST_METRIC = 0, 1
HATCHES = FIRST_METRIC + len(METRICS)
PEOPLE = HATCHES + 1


def slider_steps(d, n_steps: int = 96) -> np.ndarray:
    """The recorded samples the schematic's slider offers: evenly spread, plus the chosen one."""
    n = len(d.t_ms)
    idx = np.unique(np.linspace(0, n - 1, min(n, n_steps)).round().astype(np.int64))
    return np.unique(np.append(idx, d.at_index))


def schematic_figure(d, opens_on: str = "pp_co2_pa") -> "go.Figure | None":
    """The station from above, each module coloured by one air quantity (``opens_on`` first),
    with a slider over the run: one plotly frame per step carries only what changes (the
    modules' colours, which hatches are shut, where the living people are)."""
    import plotly.graph_objects as go

    from .figures import _base_layout, _iso, _y

    volumes = d.world["volumes"]
    ids = [v["id"] for v in volumes]
    if not ids or not all(d.has(f"atm.{v}.{m[0]}") for v in ids for m in METRICS):
        return None
    pos = layout(ids, d.world.get("ports", []), d.world.get("hatches", []))
    x = np.array([pos[v][0] for v in ids])
    y = np.array([pos[v][1] for v in ids])
    steps = slider_steps(d)
    active = int(np.searchsorted(steps, d.at_index))
    shown = next((m for m, spec in enumerate(METRICS) if spec[0] == opens_on), 0)
    values, ranges = {}, {}
    for suffix, _label, _unit, scale, _cs, lo, hi in METRICS:
        block = np.stack([d.col(f"atm.{v}.{suffix}") * scale for v in ids], axis=1)  # (samples, volumes)
        values[suffix] = block
        ranges[suffix] = (min(lo, float(np.nanmin(block))), max(hi, float(np.nanmax(block))))
    names = [short_name(v) for v in volumes]
    crew = d.world.get("crew", [])
    crew_loc = {c["name"]: d.col(f"crew.{c['slug']}.location").astype(int) for c in crew
                if d.has(f"crew.{c['slug']}.location")}
    crew_alive = {c["name"]: d.col(f"crew.{c['slug']}.alive") > 0.5 for c in crew if d.has(f"crew.{c['slug']}.alive")}
    colour_of = {c["name"]: AGENCY_COLOURS.get(c.get("agency", ""), "#2c3e50") for c in crew}
    hatches = [h for h in d.world.get("hatches", []) if h["a"] in pos and h["b"] in pos]
    mid_x = [round((pos[h["a"]][0] + pos[h["b"]][0]) / 2, 3) for h in hatches]
    mid_y = [round((pos[h["a"]][1] + pos[h["b"]][1]) / 2, 3) for h in hatches]
    always_open = np.ones(len(d.t_ms), bool)
    hatch_open = [d.col(f"hatch.{h['id']}.open") > 0.5 if d.has(f"hatch.{h['id']}.open") else always_open
                  for h in hatches]

    def hatch_state(i: int) -> dict:
        shut = np.array([not o[i] for o in hatch_open], dtype=np.int8)  # 1: closed (a big red cross), 0: open
        return {"marker": {"color": shut, "size": np.where(shut == 1, 15, 7).astype(np.int8)}}

    people_shown = list(crew_loc)  # everyone, always, in this order: a frame moves them (None: not aboard or dead)

    def people(i: int) -> dict:
        px, py = [], []
        count: dict[int, int] = {}
        for name in people_shown:
            k = int(crew_loc[name][i])
            if not crew_alive.get(name, always_open)[i] or not 0 <= k < len(ids):
                px.append(None)
                py.append(None)
                continue
            j = count.get(k, 0)
            count[k] = j + 1
            px.append(round(float(x[k]) - 0.18 + 0.12 * (j % 4), 3))
            py.append(round(float(y[k]) - 0.3 - 0.1 * (j // 4), 3))
        return {"x": px, "y": py}

    def frame(i: int) -> list[dict]:
        return ([{"marker": {"color": _y(np.round(values[s][i], 3))}} for s, *_ in METRICS]
                + [hatch_state(i), people(i)])

    fig = go.Figure()
    lx, ly = [], []
    for h in hatches:
        (ax, ay), (bx, by) = pos[h["a"]], pos[h["b"]]
        lx += [float(ax), float(bx), None]
        ly += [float(ay), float(by), None]
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color="#d5dbdb", width=5), hoverinfo="skip",
                             showlegend=False, name="links"))
    i0 = int(steps[active])
    first = frame(i0)
    for m, (suffix, label, unit, _scale, cs, _lo, _hi) in enumerate(METRICS):
        lo, hi = ranges[suffix]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers+text", text=names, textposition="top center",
            textfont=dict(size=10, color="#1c2833"),
            marker=dict(symbol="square", size=30, color=first[m]["marker"]["color"], colorscale=cs, cmin=lo, cmax=hi,
                        line=dict(color="#1c2833", width=1),
                        colorbar=dict(title=dict(text=f"{label}<br>{unit}", side="top"), thickness=12, len=0.8)),
            hovertemplate=f"<b>%{{text}}</b><br>{label} %{{marker.color:.2f}} {unit}<extra></extra>",
            name=f"{label} ({unit})", visible=(m == shown), showlegend=False))
    state = first[len(METRICS)]
    fig.add_trace(go.Scatter(x=mid_x, y=mid_y, mode="markers", showlegend=False, name="hatches",
                             marker=dict(symbol="x", line=dict(width=0), colorscale=[[0, HATCH_OPEN], [1, HATCH_CLOSED]],
                                         cmin=0, cmax=1, **state["marker"]),
                             text=[h["id"] for h in hatches],
                             hovertemplate="hatch %{text}<extra></extra>"))
    who = first[len(METRICS) + 1]
    fig.add_trace(go.Scatter(x=who["x"], y=who["y"], mode="markers", hovertext=people_shown, hoverinfo="text",
                             marker=dict(size=9, color=[colour_of.get(n, "#2c3e50") for n in people_shown],
                                         line=dict(color="white", width=1)),
                             name="a person (hover for who)"))
    for colour, size, name in ((HATCH_OPEN, 7, "open hatch"), (HATCH_CLOSED, 12, "closed hatch")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(color=colour, symbol="x", size=size)))
    changing = list(range(FIRST_METRIC, PEOPLE + 1))
    fig.frames = [go.Frame(name=str(int(i)), data=frame(int(i)), traces=changing) for i in steps]
    slider = [dict(method="animate", label=_iso(d.t_ms[i])[5:16], value=str(int(d.t_ms[i])),
                   args=[[str(int(i))], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                         "transition": {"duration": 0}}]) for i in steps]
    buttons = [dict(label=f"{label} ({unit})", method="restyle",
                    args=[{"visible": [k == m for k in range(len(METRICS))]}, list(range(FIRST_METRIC, HATCHES))])
               for m, (_s, label, unit, *_rest) in enumerate(METRICS)]
    _base_layout(fig, 560, hovermode="closest")
    fig.update_layout(
        plot_bgcolor="#fbfcfc", margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, active=shown, x=0.0, y=1.09,
                          xanchor="left", yanchor="bottom", showactive=True, bgcolor="#eaf2f8", font=dict(size=11))],
        sliders=[dict(active=active, steps=slider, x=0.02, len=0.96, y=0.0, yanchor="top",
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
