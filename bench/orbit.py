"""Benchmark: a year of ISS passes over 20 sites, issim against Skyfield's find_events.

Prints the wall time of each, the ratio, and how well the passes agree (count and the
largest AOS / culmination / LOS difference). Run with ``make bench`` or
``.venv/bin/python bench/orbit.py [--days N]``. Tests never assert on these times.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from skyfield.api import EarthSatellite, wgs84

from issim import orbit
from issim.times import MS_PER_DAY, datetime_to_ms, parse_iso, skyfield_time, timescale

EXTRA_SITES = [  # (id, lat, lon): spread over the latitudes the ISS covers
    ("singapore", 1.35, 103.82),
    ("nairobi", -1.29, 36.82),
    ("lima", -12.05, -77.04),
    ("cape-town", -33.92, 18.42),
    ("reykjavik", 64.15, -21.94),
    ("anchorage", 61.22, -149.90),
    ("ushuaia", -54.80, -68.30),
]


def sites() -> list[orbit.GroundSite]:
    found = list(orbit.ground_network().sites)
    found += [orbit.GroundSite(id=i, name=i, lat_deg=a, lon_deg=b) for i, a, b in EXTRA_SITES]
    return found[:20]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--mask", type=float, default=10.0)
    args = parser.parse_args()

    elements = orbit.bundled_sets()[-1]
    start = parse_iso("2025-03-10T00:00:00Z")
    end = start + round(args.days * MS_PER_DAY)
    chosen = sites()
    ts = timescale()  # loaded once, outside both timings

    t0 = time.perf_counter()
    ours = orbit.passes_for_sites(elements, chosen, start, end, args.mask)
    t_ours = time.perf_counter() - t0

    sat = EarthSatellite.from_omm(ts, {k: str(v) for k, v in elements.to_omm().items()})
    t0 = time.perf_counter()
    theirs = []
    for s in chosen:
        topos = wgs84.latlon(s.lat_deg, s.lon_deg, elevation_m=s.alt_m)
        t, ev = sat.find_events(topos, skyfield_time(start), skyfield_time(end), altitude_degrees=args.mask)
        theirs.append((t, ev))
    t_sky = time.perf_counter() - t0

    n_ours = n_sky = 0
    worst = {0: 0, 1: 0, 2: 0}
    for mine, (t, ev) in zip(ours, theirs):
        mine = [p for p in mine if p.aos_ms >= start and p.los_ms <= end]
        ms = np.array([datetime_to_ms(d) for d in t.utc_datetime()], dtype=np.int64)
        triples = [ms[i : i + 3] for i in range(len(ev) - 2) if list(ev[i : i + 3]) == [0, 1, 2]]
        n_ours += len(mine)
        n_sky += len(triples)
        for p, (a, c, b) in zip(mine, triples):
            for k, (x, y) in enumerate(((p.aos_ms, a), (p.culmination_ms, c), (p.los_ms, b))):
                worst[k] = max(worst[k], abs(x - y))

    site_days = len(chosen) * args.days
    print(f"passes over {len(chosen)} sites for {args.days:g} days (mask {args.mask:g}°), {site_days:.0f} site-days")
    print(f"  issim     {t_ours:8.3f} s  {1e3 * t_ours / site_days:7.3f} ms/site-day  {n_ours} passes")
    print(f"  skyfield  {t_sky:8.3f} s  {1e3 * t_sky / site_days:7.3f} ms/site-day  {n_sky} passes")
    print(f"  ratio     skyfield / issim = {t_sky / t_ours:.1f}x")
    print(
        "  agreement: same count = %s; largest difference AOS %.3f s, culmination %.3f s, LOS %.3f s"
        % (n_ours == n_sky, worst[0] / 1e3, worst[1] / 1e3, worst[2] / 1e3)
    )


if __name__ == "__main__":
    main()
