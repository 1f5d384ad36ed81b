"""A sky chart of one pass, as a small self-contained SVG drawing.

The chart is the observer's sky seen looking up: the horizon is the outer circle, the
zenith its centre, rings every 30° of elevation; north is at the top and east on the
left (as on a star chart held overhead). The station's path is drawn every 5 seconds,
solid and bright where it can be seen with the naked eye, dashed where it is in the
Earth's shadow or the sky is too light. Written here, with no drawing library: the
markup is a few dozen lines of SVG 1.1.
"""

from __future__ import annotations

from datetime import tzinfo
from xml.sax.saxutils import escape

import numpy as np

from ..times import in_zone
from .elements import ElementSet
from .passes import Pass, azimuth_deg, elevation_deg
from .propagation import propagate
from .sightings import VisiblePart
from .sites import GroundSite

SIZE = 360  # px, the drawing is SIZE wide and SIZE + 60 high
RADIUS = 150  # px, the horizon
TRACK_STEP_MS = 5_000
_CX = _CY = SIZE // 2
_TOP = 40  # px above the chart for the title


def sky_xy(elevation_deg, azimuth_deg) -> tuple[np.ndarray, np.ndarray]:
    """Drawing coordinates (px) of sky positions: zenith at the centre, north up, east left."""
    r = RADIUS * (90.0 - np.asarray(elevation_deg)) / 90.0
    az = np.radians(azimuth_deg)
    return _CX - r * np.sin(az), _TOP + _CY - r * np.cos(az)


def sky_chart(elements: ElementSet, site: GroundSite, p: Pass, visible: list[VisiblePart], zone: tzinfo,
              title: str) -> str:
    """The SVG text of the chart of pass ``p`` over ``site``, times labelled in ``zone``."""
    t = np.unique(np.concatenate([np.arange(p.aos_ms, p.los_ms, TRACK_STEP_MS, dtype=np.int64), [p.los_ms]]))
    r = propagate(elements, t).r_itrs_km
    site_km, up = site.itrs_km()
    el = np.maximum(elevation_deg(r, site_km, up), 0.0)
    x, y = sky_xy(el, azimuth_deg(r, site))
    seen = np.zeros(len(t), dtype=bool)
    for part in visible:
        seen |= (t >= part.start.t_ms) & (t <= part.end.t_ms)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE + _TOP + 20}" '
        f'viewBox="0 0 {SIZE} {SIZE + _TOP + 20}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{SIZE}" height="{SIZE + _TOP + 20}" fill="#0b1a33"/>',
        f'<text x="{_CX}" y="22" fill="#ffffff" text-anchor="middle" font-size="13">{escape(title)}</text>',
    ]
    for ring in (0, 30, 60):
        parts.append(f'<circle cx="{_CX}" cy="{_TOP + _CY}" r="{RADIUS * (90 - ring) / 90:.1f}" fill="none" '
                     f'stroke="#5a6f99" stroke-width="{1.5 if ring == 0 else 0.7}"/>')
        if ring:
            parts.append(f'<text x="{_CX + 3}" y="{_TOP + _CY - RADIUS * (90 - ring) / 90 - 3:.1f}" '
                         f'fill="#8a9cc2" font-size="10">{ring}°</text>')
    for word, az in (("N", 0), ("E", 90), ("S", 180), ("W", 270)):
        lx, ly = sky_xy(-9.0, az)
        parts.append(f'<text x="{float(lx):.1f}" y="{float(ly) + 4:.1f}" fill="#ffffff" text-anchor="middle" '
                     f'font-weight="bold">{word}</text>')
    # Runs of samples with the same visibility, each drawn as one line (sharing its ends).
    edges = np.flatnonzero(seen[1:] != seen[:-1]) + 1
    for a, b in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(t)]])):
        points = " ".join(f"{x[i]:.1f},{y[i]:.1f}" for i in range(a, min(b + 1, len(t))))
        style = ('stroke="#ffd84a" stroke-width="3"' if seen[a]
                 else 'stroke="#8a9cc2" stroke-width="1.5" stroke-dasharray="4 3"')
        parts.append(f'<polyline class="{"visible" if seen[a] else "unseen"}" points="{points}" fill="none" {style}/>')
    for label, when in (("rise", p.aos_ms), ("top", p.culmination_ms), ("set", p.los_ms)):
        i = int(np.clip(np.searchsorted(t, when), 0, len(t) - 1))
        text = in_zone(when, zone).strftime("%H:%M:%S")
        parts.append(f'<circle class="{label}" cx="{x[i]:.1f}" cy="{y[i]:.1f}" r="3.5" fill="#ffffff"/>')
        parts.append(f'<text x="{x[i] + 6:.1f}" y="{y[i] - 6:.1f}" fill="#ffffff" font-size="11">{text}</text>')
    parts.append(f'<text x="{_CX}" y="{SIZE + _TOP + 12}" fill="#8a9cc2" text-anchor="middle" font-size="10">'
                 "looking up: north at the top, east on the left; solid = visible</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
