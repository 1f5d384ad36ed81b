"""Make ``src/issim/data/coastlines/*.json`` from the npm package ``world-atlas``.

``world-atlas`` (ISC licence) redistributes Natural Earth's 1:110m land and admin-0
country polygons (public domain) as TopoJSON. This script decodes the topology into plain
rings of ``[lon_deg, lat_deg]`` points on the plane (see :func:`plane_rings`), rounded to
0.01°: for the land, all a report needs to draw it as ordinary plot traces (no map server,
no download when the page opens); for the countries, each country's name and rings, which
is all :mod:`issim.orbit.descent` needs to name the place a capsule lands.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/land_from_topojson.py package/land-110m.json src/issim/data/coastlines/land-110m.json
    python tools/land_from_topojson.py package/countries-110m.json src/issim/data/coastlines/countries-110m.json countries
"""

from __future__ import annotations

import json
import sys


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # quantized and delta-encoded
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list, indices: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc if not points else arc[1:])  # consecutive arcs share an end point
    return points


def plane_rings(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """One spherical ring as rings on a longitude-latitude plane clipped to [-180°, 180°].

    Longitudes are unwrapped so that the ring never jumps across the map. A ring that
    then ends 360° from where it began goes round a pole (Antarctica): it is closed
    through the pole so that it fills down to it. A ring that reaches past ±180° is
    given a copy shifted by 360° for the part that shows on the other edge.
    """
    unwrapped = [points[0]]
    for lon, lat in points[1:]:
        prev = unwrapped[-1][0]
        lon += 360.0 * round((prev - lon) / 360.0)
        unwrapped.append((lon, lat))
    turn = unwrapped[-1][0] - unwrapped[0][0]
    if abs(turn) > 180.0:  # goes round a pole
        pole = -90.0 if sum(lat for _, lat in unwrapped) < 0 else 90.0
        unwrapped += [(unwrapped[-1][0], pole), (unwrapped[0][0], pole), unwrapped[0]]
    lons = [lon for lon, _ in unwrapped]
    out = [unwrapped]
    if min(lons) < -180.0:
        out.append([(lon + 360.0, lat) for lon, lat in unwrapped])
    if max(lons) > 180.0:
        out.append([(lon - 360.0, lat) for lon, lat in unwrapped])
    return out


def geometry_rings(arcs: list, geometry: dict) -> list[list[list[float]]]:
    """Every plane ring, rounded to 0.01°, of one Polygon or MultiPolygon (outer rings and holes alike)."""
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    rings = []
    for polygon in polygons:
        for r in polygon:
            for points in plane_rings(ring(arcs, r)):
                rings.append([[round(lon, 2), round(lat, 2)] for lon, lat in points])
    return rings


def main(src: str, dst: str, layer: str = "land") -> None:
    """Write the ``land`` object as ``{source, rings}``, each ring a list of ``[lon, lat]``
    pairs; or ``countries`` as ``{source, countries: [{name, rings}]}``, each ring there a
    flat ``[lon0, lat0, lon1, lat1, …]`` list (a tenth smaller, to keep the file under 150 kB)."""
    topology = json.load(open(src))
    arcs = decode_arcs(topology)
    geometries = topology["objects"][layer]["geometries"]
    source = f"Natural Earth 1:110m {'admin-0 countries' if layer == 'countries' else 'land'}, v4.1.0 " \
             "(public domain), via the npm package world-atlas 2.0.2 (ISC)"
    if layer == "countries":
        countries = [{"name": g["properties"]["name"], "rings": geometry_rings(arcs, g)} for g in geometries]
        rings = [r for c in countries for r in c["rings"]]
        for c in countries:
            c["rings"] = [[x for point in r for x in point] for r in c["rings"]]
        out = {"source": source, "countries": countries}
    else:
        rings = [r for g in geometries for r in geometry_rings(arcs, g)]
        out = {"source": source, "rings": rings}
    with open(dst, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(rings)} rings, {sum(len(r) for r in rings)} points -> {dst}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
