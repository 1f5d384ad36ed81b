"""Name a place on Earth: the country it lies in, or the nearest land when it lies at sea.

The countries are Natural Earth's 1:110m admin-0 polygons (public domain), packaged as
``data/coastlines/countries-110m.json`` (its README says how it was made). At that scale a
coast or border is placed to within about 10 km, so a point that close to one may be
named for its neighbour; that is fine for saying where a capsule came down.

>>> place_name(47.2, 69.3)
'in Kazakhstan'

Latitudes and longitudes are WGS84 degrees; distances are kilometres along a sphere of
the Earth's mean radius.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

EARTH_MEAN_RADIUS_KM = 6371.0088  # IUGG mean radius R1
_CHUNK_POINTS = 256  # points tested against every edge at once: (256, ~11,000) arrays
# Names that read "in the ...": Natural Earth's short names lack the article.
_WITH_THE = frozenset({
    "United States of America", "United Kingdom", "United Arab Emirates", "Netherlands",
    "Philippines", "Bahamas", "Gambia", "Solomon Is.", "Falkland Is.", "Dem. Rep. Congo",
    "Central African Rep.", "Dominican Rep.", "Fr. S. Antarctic Lands",
})


@dataclass(frozen=True, eq=False)
class Countries:
    """Every country's rings as edges on the longitude-latitude plane.

    Edge ``k`` runs from ``(x0[k], y0[k])`` to ``(x1[k], y1[k])`` (longitude, latitude in
    degrees; longitudes of rings that cross the antimeridian run past ±180°, and such a
    ring also appears shifted by 360°) and belongs to ring ``edge_ring[k]``; the edges of
    one ring are contiguous, starting at ``ring_start``. Ring ``j`` belongs to country
    ``ring_country[j]``, whose name is ``names[ring_country[j]]``. A country's outer rings
    and holes are not told apart: a point is in the country when it lies inside an odd
    number of its rings.
    """

    names: tuple[str, ...]
    ring_country: np.ndarray  # (R,) int
    ring_start: np.ndarray  # (R,) int, index of each ring's first edge
    x0: np.ndarray  # (E,) degrees
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    a_unit: np.ndarray  # (E, 3) the edges' ends as unit vectors, for great-circle distances
    b_unit: np.ndarray  # (E, 3)


@cache
def countries() -> Countries:
    """The packaged country outlines (read once, on first use)."""
    text = resources.files("issim.data").joinpath("coastlines", "countries-110m.json").read_text(encoding="utf-8")
    data = json.loads(text)
    names, ring_country, ring_start, starts, ends = [], [], [], [], []
    n_edges = 0
    for i, country in enumerate(data["countries"]):
        names.append(country["name"])
        for flat in country["rings"]:
            points = np.asarray(flat, dtype=np.float64).reshape(-1, 2)
            ring_country.append(i)
            ring_start.append(n_edges)
            starts.append(points[:-1])  # rings are closed: the last point repeats the first
            ends.append(points[1:])
            n_edges += len(points) - 1
    a, b = np.concatenate(starts), np.concatenate(ends)
    return Countries(
        tuple(names), np.asarray(ring_country), np.asarray(ring_start),
        a[:, 0], a[:, 1], b[:, 0], b[:, 1], _unit(a[:, 1], a[:, 0]), _unit(b[:, 1], b[:, 0]),
    )


def _unit(lat_deg, lon_deg) -> np.ndarray:
    """Unit vectors ``(..., 3)`` of points on a sphere."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def ring_crossings(lon_deg, lat_deg, c: Countries | None = None) -> np.ndarray:
    """How many edges of each ring a ray from each point towards +longitude crosses.

    Returns an ``(N, R)`` int array for ``N`` points and ``R`` rings; a point lies inside
    a ring when its count is odd (ray casting, the even-odd rule). The ray runs along
    the point's parallel on the longitude-latitude plane, which is where the rings are
    drawn. Points are taken in chunks so that memory stays bounded.
    """
    c = countries() if c is None else c
    px = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    py = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    out = np.empty((len(px), len(c.ring_start)), dtype=np.int64)
    dy = c.y1 - c.y0
    slope = np.divide(c.x1 - c.x0, dy, out=np.zeros_like(dy), where=dy != 0.0)
    for s in range(0, len(px), _CHUNK_POINTS):
        x, y = px[s:s + _CHUNK_POINTS, None], py[s:s + _CHUNK_POINTS, None]
        straddles = (c.y0 > y) != (c.y1 > y)  # never true of a flat edge, so slope's 0 there is unused
        crosses = straddles & (x < c.x0 + (y - c.y0) * slope)
        out[s:s + _CHUNK_POINTS] = np.add.reduceat(crosses, c.ring_start, axis=1)
    return out


def country_index(lat_deg, lon_deg) -> np.ndarray:
    """The index into :attr:`Countries.names` of the country each point lies in, -1 at sea.

    Scalars and arrays alike; the result has the points' shape (N,) (a scalar gives (1,)).
    Longitudes may be given in any range.
    """
    c = countries()
    lon = (np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)) + 180.0) % 360.0 - 180.0
    crossings = ring_crossings(lon, lat_deg, c)
    membership = c.ring_country[:, None] == np.arange(len(c.names))  # (R, C)
    inside = (crossings @ membership) % 2 == 1  # odd over all of a country's rings
    return np.where(inside.any(axis=1), inside.argmax(axis=1), -1)


def nearest_land(lat_deg: float, lon_deg: float) -> tuple[str, float]:
    """The country whose outline passes nearest a point, and the great-circle distance to it (km).

    The distance is to the nearest edge of any country's rings (coast or border), so for
    a point at sea it is the distance to the nearest coast.
    """
    c = countries()
    p = _unit(lat_deg, lon_deg)
    a, b = c.a_unit, c.b_unit
    n = np.cross(a, b)
    n_len = np.linalg.norm(n, axis=1)
    safe = n_len > 1e-12  # zero-length edges (points that rounding made equal) have no plane
    n = np.divide(n, n_len[:, None], out=np.zeros_like(n), where=safe[:, None])
    # The foot of the perpendicular from p to each edge's great circle lies on the edge when
    # it is on the inner side of both ends; then the distance is the angle to the plane.
    foot = p - (n @ p)[:, None] * n
    on_edge = safe & (np.einsum("ij,ij->i", np.cross(a, foot), n) >= 0.0) & (
        np.einsum("ij,ij->i", np.cross(foot, b), n) >= 0.0)
    to_plane = np.arcsin(np.clip(np.abs(n @ p), 0.0, 1.0))
    to_ends = np.arccos(np.clip(np.maximum(a @ p, b @ p), -1.0, 1.0))
    angle = np.where(on_edge, to_plane, to_ends)
    k = int(np.argmin(angle))
    ring = int(np.searchsorted(c.ring_start, k, side="right") - 1)
    return c.names[c.ring_country[ring]], float(angle[k] * EARTH_MEAN_RADIUS_KM)


def with_article(name: str) -> str:
    """``"Kazakhstan"`` as it reads after "in": ``"the United Kingdom"`` where English wants it."""
    return f"the {name}" if name in _WITH_THE else name


def place_name(lat_deg: float, lon_deg: float) -> str:
    """Say where a point is: ``"in Kazakhstan"``, or ``"in the sea, 240 km off Chile"``.

    Distances at sea are rounded to 10 km (the outlines are good to about that); closer
    than 5 km the point is "just off" the coast.
    """
    i = int(country_index(lat_deg, lon_deg)[0])
    c = countries()
    if i >= 0:
        return f"in {with_article(c.names[i])}"
    name, distance_km = nearest_land(lat_deg, lon_deg)
    rounded = int(round(distance_km, -1))
    if rounded == 0:
        return f"in the sea, just off {with_article(name)}"
    return f"in the sea, {rounded:,} km off {with_article(name)}"
