"""A Soyuz departure (issue 13) checked against the reference sheet and a real landing.

- The timeline against the sheet (Addendum §4): the CSA's MS-11 timeline gives, after
  the deorbit burn at 21:55:03 ET, module separation at 22:22:29 (27 min 26 s), entry
  interface at 22:25:20 (30 min 17 s), the parachute command at 22:33:37 (38 min 34 s)
  and the landing at 22:47:55 (52 min 52 s), 3 h 22 min after separation (MS-04:
  3 h 26 min); the crew feel 4-5 g at the peak.
- Physics: the capsule flies in the station's orbital plane, so it lands under the
  station's ground track; the coast to the burn agrees with SGP4; halving the steps
  changes nothing that matters.
- A worked example: Soyuz MS-25 (23 September 2024), whose undocking lies nine minutes
  from a bundled element set.
- The place names against known points, and the vectorised point-in-polygon against a
  plain loop.
"""

from __future__ import annotations

import doctest
import math
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from test_orbit_physics import ELEMENT_SETS, _bundled

import issim
from issim import orbit
from issim.orbit import descent, places
from issim.orbit.descent import plan_descent
from issim.orbit.places import EARTH_MEAN_RADIUS_KM, country_index, nearest_land, place_name
from issim.orbit.propagation import propagate, propagate_teme
from issim.times import datetime_to_ms

MINUTE_S = 60.0
# The sheet's MS-11 timeline, seconds after the burn's ignition, and after separation.
MS11_MODULE_SEPARATION_S = 27 * 60 + 26
MS11_ENTRY_INTERFACE_S = 30 * 60 + 17
MS11_PARACHUTE_S = 38 * 60 + 34
MS11_BURN_TO_LANDING_S = 52 * 60 + 52
SEPARATION_TO_LANDING_S = (3 * 3600 + 22 * 60, 3 * 3600 + 26 * 60)  # MS-11, MS-04


def _km_between(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance by the haversine formula (independent of places.py's vectors)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_MEAN_RADIUS_KM * math.asin(math.sqrt(h))


def _after_burn_s(d, when: datetime) -> float:
    return (when - d.burn_utc).total_seconds()


@pytest.fixture(scope="module", params=ELEMENT_SETS)
def planned(request):
    """A departure at the epoch of each of four real element sets (2023-2025)."""
    elements = _bundled(request.param)
    return elements, plan_descent(elements, elements.epoch_ms)


# --------------------------------------------------------------------------- the timeline


def test_burn_to_landing_is_the_sheets_52_minutes_within_15_percent(planned):
    _, d = planned
    assert _after_burn_s(d, d.landing_utc) == pytest.approx(MS11_BURN_TO_LANDING_S, rel=0.15)


def test_modules_separate_about_27_minutes_after_the_burn_within_25_percent(planned):
    _, d = planned
    assert _after_burn_s(d, d.module_separation_utc) == pytest.approx(MS11_MODULE_SEPARATION_S, rel=0.25)


def test_entry_interface_and_parachute_follow_ms11_within_15_percent(planned):
    _, d = planned
    assert _after_burn_s(d, d.entry_interface_utc) == pytest.approx(MS11_ENTRY_INTERFACE_S, rel=0.15)
    assert _after_burn_s(d, d.parachute_utc) == pytest.approx(MS11_PARACHUTE_S, rel=0.15)
    assert d.module_separation_utc < d.entry_interface_utc < d.parachute_utc < d.landing_utc


def test_separation_to_landing_is_3h22_to_3h26_within_10_percent(planned):
    _, d = planned
    total_s = (d.landing_utc - d.separation_utc).total_seconds()
    low, high = SEPARATION_TO_LANDING_S
    assert 0.9 * low <= total_s <= 1.1 * high


def test_fixed_steps_of_the_timeline_are_the_sheets(planned):
    _, d = planned
    assert d.separation_utc - d.undock_utc == timedelta(seconds=90)  # undock command to separation
    assert d.burn_utc - d.separation_utc == timedelta(hours=2, minutes=29, seconds=30)


def test_parachute_to_landing_is_ms11s_14_minutes_within_15_percent():
    # 22:33:37 command to open the chutes, 22:47:55 landing
    assert descent.parachute_time_s() == pytest.approx(14 * 60 + 18, rel=0.15)


def test_peak_deceleration_is_the_sheets_4_to_5_g(planned):
    # The bank angle was set against this figure (see descent.py), so this guards the
    # calibration rather than testing it independently.
    _, d = planned
    assert 4.0 <= d.peak_deceleration_g <= 5.0


# --------------------------------------------------------------------------- physics


def test_the_capsule_lands_under_the_stations_ground_track(planned):
    """The burn is in the orbital plane and lift acts in the vertical plane, so the capsule
    stays under the station's orbit; only the air, which turns with the Earth, pushes it
    across. The air's speed across the plane is at most ω R sin i = 0.37 km/s, and the
    capsule takes it up over the five minutes of hard deceleration: at most about 55 km.
    Tolerance 100 km (the issue's rough figure was 1,000 km)."""
    elements, d = planned
    land_ms = datetime_to_ms(d.landing_utc)
    t = land_ms + np.arange(-6000, 6000, 5, dtype=np.int64) * 1000  # ± about an orbit, every 5 s
    lat, lon, _ = propagate(elements, t).geodetic()
    nearest = min(_km_between(d.landing_lat_deg, d.landing_lon_deg, a, b) for a, b in zip(lat, lon))
    assert nearest < 100.0


def test_the_coast_to_the_burn_agrees_with_sgp4_within_a_kilometre(planned):
    """Two-body + J2 with SGP4's own constants, from SGP4's state at separation, against
    SGP4 itself at mid-burn, 2.5 h later (SGP4's own error is kilometres a day)."""
    elements, _ = planned
    sep_ms = elements.epoch_ms + 90_000
    r, v, _ = propagate_teme(elements, sep_ms)
    coast_s = descent.BURN_AFTER_SEPARATION_S + descent.BURN_DURATION_S / 2
    ours = descent.coast((*r[0], *v[0]), coast_s, descent.STACK)
    sgp4_r, _, _ = propagate_teme(elements, sep_ms + round(coast_s * 1000))
    assert np.linalg.norm(np.array(ours[:3]) - sgp4_r[0]) < 1.0


def test_halving_the_steps_moves_the_landing_under_a_kilometre(monkeypatch):
    elements = _bundled(ELEMENT_SETS[0])
    coarse = plan_descent(elements, elements.epoch_ms)
    monkeypatch.setattr(descent, "COAST_STEP_S", descent.COAST_STEP_S / 2)
    monkeypatch.setattr(descent, "ENTRY_STEP_S", descent.ENTRY_STEP_S / 2)
    fine = plan_descent(elements, elements.epoch_ms)
    assert _km_between(coarse.landing_lat_deg, coarse.landing_lon_deg,
                       fine.landing_lat_deg, fine.landing_lon_deg) < 1.0
    assert abs((fine.landing_utc - coarse.landing_utc).total_seconds()) < 1.0


def test_same_inputs_give_the_same_descent_bit_for_bit():
    elements = _bundled(ELEMENT_SETS[1])
    a, b = plan_descent(elements, elements.epoch_ms), plan_descent(elements, elements.epoch_ms)
    assert a == b and repr(a) == repr(b)
    # and in a fresh process, with nothing cached
    code = ("from test_orbit_physics import _bundled; from issim.orbit.descent import plan_descent; "
            f"e = _bundled({ELEMENT_SETS[1]!r}); print(repr(plan_descent(e, e.epoch_ms)))")
    tests, src = Path(__file__).parent, Path(issim.__file__).parents[1]  # this issim, not another install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(tests)])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == repr(a)


def test_a_datetime_and_milliseconds_give_the_same_descent():
    elements = _bundled(ELEMENT_SETS[2])
    when = datetime.fromtimestamp(elements.epoch_ms / 1000, tz=timezone.utc)
    assert plan_descent(elements, when) == plan_descent(elements, elements.epoch_ms)


def test_a_naive_undock_time_is_refused():
    elements = _bundled(ELEMENT_SETS[2])
    with pytest.raises(ValueError, match="naive datetime"):
        plan_descent(elements, datetime(2025, 3, 9, 12, 0))


# --------------------------------------------------------------------------- a real departure

# Soyuz MS-25: undocked from Prichal at 08:36 UTC (4:36 a.m. EDT), the physical separation
# (https://www.keneci.com/science/soyuz-ms-25-crewmates-return-to-earth-from-iss-after-record-setting-mission ;
# https://karekaise.in/new-updates/historic-return-russian-and-american-astronauts-land-after-record-breaking-is-mission/),
# so the undock command was 1.5 min earlier (sheet); braking burn "approximately 11:06 GMT"
# (TASS, https://tass.com/science/1846413, whose 9:37 GMT for the undocking is a slip for
# 8:37: 11:37 Moscow time); landing at 11:59:04 UTC (spacefacts.de, via
# https://friendlywiki.com/article/index.php?title=Soyuz_MS-25) south-east of Dzhezkazgan.
MS25_UNDOCK_COMMAND = "2024-09-23T08:34:30Z"
MS25_BURN_ABOUT = "2024-09-23T11:06:00Z"
MS25_LANDING = "2024-09-23T11:59:04Z"
LANDING_ZONE = (47.2, 69.3)  # the sheet's Soyuz zone (MS-04's landing), south-east of Dzhezkazgan
# Our burn comes at a fixed 2 h 29.5 min after separation, the real one was timed to
# land in the zone and is quoted to the minute. Each second of burn time moves our
# landing about 7 km along the track, so the minute's rounding alone allows ±220 km;
# the real guidance also steers out up to about 30 s of error (RSC Energia:
# https://www1.ru/en/articles/2025/04/24/sekundy-kotorye-resaiut-sudbu-v-rkk-energiia-rasskazali-ob-osobennosti-spuska-kosmiceskix-korable.html).
ZONE_TOLERANCE_KM = 400.0
LANDING_TIME_TOLERANCE_S = 3 * MINUTE_S  # MS-11 and MS-04 differ by 4 min separation to landing


def test_soyuz_ms25_lands_in_the_kazakh_zone():
    undock_ms = orbit.parse_iso(MS25_UNDOCK_COMMAND)
    elements = orbit.elements_for(undock_ms)
    assert abs(elements.epoch_ms - undock_ms) < 15 * 60_000  # the 08:45 set: SGP4 at its best
    d = plan_descent(elements, undock_ms)
    assert d.place == "in Kazakhstan"
    burn_gap_s = (d.burn_utc - datetime.fromisoformat(MS25_BURN_ABOUT)).total_seconds()
    assert abs(burn_gap_s) <= MINUTE_S
    landing_gap_s = (d.landing_utc - datetime.fromisoformat(MS25_LANDING)).total_seconds()
    assert abs(landing_gap_s) <= LANDING_TIME_TOLERANCE_S
    assert _km_between(d.landing_lat_deg, d.landing_lon_deg, *LANDING_ZONE) < ZONE_TOLERANCE_KM


def test_a_later_burn_lands_further_along_the_track_about_7_km_a_second():
    undock_ms = orbit.parse_iso(MS25_UNDOCK_COMMAND)
    elements = orbit.elements_for(undock_ms)
    base = plan_descent(elements, undock_ms)
    later = plan_descent(elements, undock_ms, descent.BURN_AFTER_SEPARATION_S + 30.0)
    moved_km = _km_between(base.landing_lat_deg, base.landing_lon_deg, later.landing_lat_deg, later.landing_lon_deg)
    assert moved_km / 30.0 == pytest.approx(7.3, rel=0.1)  # the ground speed, 7.66 km/s less the Earth's turn
    assert later.landing_lon_deg > base.landing_lon_deg  # a descending pass over Kazakhstan runs east


# --------------------------------------------------------------------------- places


@pytest.mark.parametrize("lat,lon,expected", [
    (47.2, 69.3, "in Kazakhstan"),  # the sheet's Soyuz landing (MS-04)
    (48.85, 2.35, "in France"),  # Paris
    (-29.5, 28.2, "in Lesotho"),  # a hole in South Africa's polygon
    (-30.0, 25.0, "in South Africa"),
    (65.0, 178.0, "in Russia"),  # Chukotka, across the antimeridian from most of Russia
    (67.0, -175.0, "in Russia"),
    (-17.8, 178.0, "in Fiji"),
    (51.5, -0.1, "in the United Kingdom"),
    (-80.0, 0.0, "in Antarctica"),  # the ring closed through the pole
])
def test_points_on_land_are_named_by_their_country(lat, lon, expected):
    assert place_name(lat, lon) == expected


def test_a_point_in_the_pacific_is_named_by_its_distance_off_chile():
    # 33° S 75° W is 3.35° of longitude west of the coast at Valparaíso (33.03° S 71.63° W)
    name, distance_km = nearest_land(-33.0, -75.0)
    assert name == "Chile"
    assert distance_km == pytest.approx(_km_between(-33.0, -75.0, -33.03, -71.63), abs=15.0)  # 110m coasts: ~10 km
    assert place_name(-33.0, -75.0) == f"in the sea, {round(distance_km, -1):.0f} km off Chile"


def test_nearest_land_distance_matches_a_dense_sampling_of_every_edge():
    """The distance to an edge's great-circle arc against 64 points sampled along every arc."""
    c = places.countries()
    s = np.linspace(0.0, 1.0, 64)[:, None, None]
    a, b = c.a_unit[None], c.b_unit[None]
    samples = a * (1 - s) + b * s
    samples /= np.linalg.norm(samples, axis=-1, keepdims=True)
    for lat, lon in [(-33.0, -75.0), (0.0, -140.0), (42.0, 50.0), (-60.0, -60.0)]:
        p = places._unit(lat, lon)
        sampled_km = np.arccos(np.clip(samples @ p, -1, 1)).min() * EARTH_MEAN_RADIUS_KM
        _, exact_km = nearest_land(lat, lon)
        assert exact_km <= sampled_km + 1e-6
        assert exact_km == pytest.approx(sampled_km, abs=1.0)


def _inside_by_loop(x: float, y: float, ring_x: list, ring_y: list) -> bool:
    inside = False
    for k in range(len(ring_x) - 1):
        x0, y0, x1, y1 = ring_x[k], ring_y[k], ring_x[k + 1], ring_y[k + 1]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def test_vectorised_point_in_polygon_matches_a_plain_loop_on_random_points():
    c = places.countries()
    rng = np.random.default_rng(13)
    n = 150
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))  # uniform on the sphere
    lon = rng.uniform(-180, 180, n)
    rings = []
    ends = list(c.ring_start[1:]) + [len(c.x0)]
    for start, end in zip(c.ring_start, ends):
        rings.append(([*c.x0[start:end], c.x1[end - 1]], [*c.y0[start:end], c.y1[end - 1]]))
    expected = np.full(n, -1)
    for i in range(n):
        parity = np.zeros(len(c.names), dtype=bool)
        for j, (rx, ry) in enumerate(rings):
            if _inside_by_loop(lon[i], lat[i], rx, ry):
                parity[c.ring_country[j]] ^= True
        if parity.any():
            expected[i] = int(np.argmax(parity))
    got = country_index(lat, lon)
    assert (got == expected).all()
    assert 0.15 < (got >= 0).mean() < 0.45  # about 29 % of the Earth is land (a sanity check of the draw)


def test_doctests():
    for module in (descent, places):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0
