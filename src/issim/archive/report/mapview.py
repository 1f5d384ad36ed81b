"""The report's world map: land, ground sites, and the ground track around a chosen moment.

A day holds about sixteen orbits, so a whole run's track is a mesh. The map shows one
orbit — half a period before and after the moment the schematic's slider shows — and
follows the slider; a switch above the map shows the whole run instead. The track is
drawn in the page (``report.js``) from :func:`track_payload`, the run's ground track
packed small: latitude and longitude in hundredths of a degree as 16-bit integers, and one
byte of flags per sample (sunlit, each segment in contact with its ground), base64.

The land is Natural Earth's 1:110m outline packaged with issim, drawn as an ordinary
filled line: nothing is fetched when the page opens.
"""

from __future__ import annotations

import base64
import json
from importlib import resources

import numpy as np
import plotly.graph_objects as go

from .figures import CONTACT, NIGHT, SUN, ReportData, _base_layout

MU_KM3_S2 = 398_600.4418  # Earth's gravitational parameter (WGS84)
EARTH_RADIUS_KM = 6378.137
SEGMENTS = ("USOS", "ROS")
RAIL_OFFSET_DEG = 1.6  # the contact rails run this far north (US) and south (Russian) of the track
FIRST_TRACK_TRACE = 1  # after the land: the US and Russian contact rails, the track in sunlight and in shadow, the station


def land_rings() -> list[list[list[float]]]:
    """The packaged Natural Earth 1:110m land outlines (``data/coastlines``)."""
    raw = resources.files("issim.data").joinpath("coastlines", "land-110m.json").read_text()
    return json.loads(raw)["rings"]


def orbit_period_ms(alt_km: np.ndarray) -> float:
    """The period of a circular orbit at the run's mean altitude (Kepler), in milliseconds."""
    a = EARTH_RADIUS_KM + float(np.mean(alt_km))
    return float(2 * np.pi * np.sqrt(a ** 3 / MU_KM3_S2) * 1000.0)


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values).tobytes()).decode("ascii")


def track_payload(d: ReportData) -> dict | None:
    """The ground track for ``report.js``: times, packed positions and flags, the orbit's
    period and the chosen moment (all times UTC milliseconds)."""
    if len(d.track) == 0:
        return None
    t = d.track.index.as_unit("ms").asi8.astype(np.int64)
    flags = d.track["sunlit"].to_numpy(dtype=bool).astype(np.uint8)
    for bit, seg in enumerate(SEGMENTS, start=1):
        key = f"comms.{seg}.contact"
        if d.has(key):
            flags |= ((np.interp(t, d.t_ms, d.col(key)) > 0.5).astype(np.uint8) << bit)
    times: dict = {"t0": int(t[0]), "dt": int(t[1] - t[0])} if len(t) > 1 and np.all(np.diff(t) == t[1] - t[0]) \
        else {"t": _b64(t.astype("<f8"))}
    return {
        **times, "n": int(len(t)),
        "lat": _b64(np.round(d.track["lat_deg"].to_numpy() * 100).astype("<i2")),
        "lon": _b64(np.round(d.track["lon_deg"].to_numpy() * 100).astype("<i2")),
        "flags": _b64(flags),
        "period_ms": round(orbit_period_ms(d.track["alt_km"].to_numpy())),
        "at_ms": int(d.at_ms),
        "rail_deg": RAIL_OFFSET_DEG,
        "first_trace": FIRST_TRACK_TRACE,
    }


def map_figure(d: ReportData) -> go.Figure | None:
    """The map with land and ground sites; the track traces are empty until ``report.js`` fills them."""
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
    for seg in SEGMENTS:
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(color=CONTACT[seg], width=2), opacity=0.7,
                                 name=f"{seg} in contact with its ground", hoverinfo="skip",
                                 visible=True if d.has(f"comms.{seg}.contact") else False))
    for colour, name in ((SUN, "ground track, in sunlight"), (NIGHT, "ground track, in the Earth's shadow")):
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(color=colour, width=2.2), name=name,
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[], y=[], mode="markers+text", text=["ISS"], textposition="top center",
        marker=dict(size=13, color="#ffffff", line=dict(color="#1c2833", width=2.5), symbol="circle"),
        textfont=dict(size=12, color="#1c2833"), name="the station at the chosen moment",
        hovertemplate="%{customdata}<br>%{y:.2f}°, %{x:.2f}°<extra></extra>"))
    sites = [s for s in d.world.get("sites", []) if -180 <= s["lon_deg"] <= 180]
    if sites:
        fig.add_trace(go.Scatter(
            x=[s["lon_deg"] for s in sites], y=[s["lat_deg"] for s in sites], mode="markers",
            marker=dict(symbol="triangle-up", size=8, color="#566573", line=dict(color="white", width=0.8)),
            text=[f"{s['name']}<br>{s.get('role', '')}" for s in sites], hovertemplate="%{text}<extra></extra>",
            name="ground sites"))
        for s in sites:
            if "flight control" in s.get("role", ""):
                fig.add_annotation(x=s["lon_deg"], y=s["lat_deg"], text=s["name"], showarrow=False, yshift=12,
                                   font=dict(size=10, color="#2c3e50"))
    _base_layout(fig, 600, hovermode="closest")
    fig.update_layout(plot_bgcolor="#d6e6f2", margin=dict(l=40, r=10, t=60, b=30))
    fig.update_xaxes(range=[-180, 180], dtick=30, showgrid=True, gridcolor="rgba(255,255,255,0.6)", zeroline=False,
                     ticksuffix="°", constrain="domain")
    fig.update_yaxes(range=[-90, 90], dtick=30, showgrid=True, gridcolor="rgba(255,255,255,0.6)", zeroline=False,
                     ticksuffix="°", scaleanchor="x", scaleratio=1, constrain="domain")
    return fig
