"""The orbit module checked against authorities.

- Positions and passes against Skyfield, which wraps the same sgp4 but takes its own
  path through the frames (TEME -> GCRS -> ITRS with full precession-nutation) and its
  own event search (``find_events``).
- Eclipses against an independent computation written here: the Sun from the
  Astronomical Almanac's low-precision formula (0.01° for 1950-2050), the station from
  Skyfield in the true-equator-of-date frame, and an angular shadow test sampled every
  half second; and against the eclipse-length formula of the reference sheet (§8).
- Contact windows against the NSSDC coverage figure for TDRS (at least 85 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import true_equator_and_equinox_of_date

from issim import orbit
EARTH_EQUATORIAL_RADIUS_KM = 6378.137  # the shadowing sphere the issue and the sheet (§8) name
from issim.times import MS_PER_DAY, datetime_to_ms, parse_iso, skyfield_time, timescale

TWO_SECONDS_MS = 2_000
FIVE_SECONDS_MS = 5_000
PEAK_ELEVATION_TOL_DEG = 0.05
SUBPOINT_TOL_DEG = 0.01
ALTITUDE_TOL_KM = 0.1


def _bundled(epoch_prefix: str) -> orbit.ElementSet:
    for s in orbit.bundled_sets():
        if s.epoch_iso.startswith(epoch_prefix):
            return s
    raise LookupError(epoch_prefix)


# Four real sets: the first and last of the CelesTrak OMM history, one in the
# high-beta season of December 2024, and a 2023 TLE.
ELEMENT_SETS = ["2024-09-15T00", "2024-12-09", "2025-03-09T09", "2023-12-08"]
SITES = [
    ("london", None),
    ("mcc-houston", None),
    ("sydney", None),
    ("mcc-moscow", None),  # 55.9° N: only low passes, near the edge of visibility
    ("custom-equator", (1.35, 103.82, 15.0)),
]


def _skyfield_sat(elements: orbit.ElementSet) -> EarthSatellite:
    return EarthSatellite.from_omm(timescale(), {k: str(v) for k, v in elements.to_omm().items()})


def _ms(t) -> np.ndarray:
    return np.array([datetime_to_ms(d) for d in t.utc_datetime()], dtype=np.int64)


def _skyfield_passes(sat, site, t0_ms, t1_ms, mask_deg):
    """Complete rise-culminate-set triples from Skyfield's find_events."""
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    t, events = sat.find_events(topos, skyfield_time(t0_ms), skyfield_time(t1_ms), altitude_degrees=mask_deg)
    times = _ms(t)
    triples = []
    for i in range(len(events) - 2):
        if list(events[i : i + 3]) == [0, 1, 2]:
            peak = (sat - topos).at(t[i + 1]).altaz()[0].degrees
            triples.append((times[i], times[i + 1], times[i + 2], peak))
    return triples


@pytest.mark.parametrize("epoch", ELEMENT_SETS)
@pytest.mark.parametrize("site_id,latlon", SITES)
def test_passes_match_skyfield_find_events(epoch, site_id, latlon):
    elements = _bundled(epoch)
    if latlon is None:
        site = orbit.find_site(site_id)
    else:
        lat, lon, alt = latlon
        site = orbit.GroundSite(id=site_id, name=site_id, lat_deg=lat, lon_deg=lon, alt_m=alt)
    start = elements.epoch_ms
    end = start + 2 * MS_PER_DAY
    ours = orbit.passes(elements, site, start, end, 10.0)
    theirs = _skyfield_passes(_skyfield_sat(elements), site, start, end, 10.0)
    # Skyfield reports only events inside [start, end]: compare the passes wholly inside.
    ours = [p for p in ours if p.aos_ms >= start and p.los_ms <= end]
    assert len(theirs) > 0 or site_id == "mcc-moscow"
    assert len(ours) == len(theirs)
    for p, (aos, culm, los, peak) in zip(ours, theirs):
        assert abs(p.aos_ms - aos) <= TWO_SECONDS_MS
        assert abs(p.culmination_ms - culm) <= TWO_SECONDS_MS
        assert abs(p.los_ms - los) <= TWO_SECONDS_MS
        assert abs(p.max_elevation_deg - peak) <= PEAK_ELEVATION_TOL_DEG


def test_passes_find_a_grazing_pass_between_samples():
    """A pass that peaks just above the mask lasts seconds; it must still be found."""
    elements = _bundled("2025-03-09T09")
    site = orbit.find_site("london")
    start = elements.epoch_ms
    all_passes = orbit.passes(elements, site, start, start + 3 * MS_PER_DAY, 0.0)
    low = min(all_passes, key=lambda p: p.max_elevation_deg)
    mask = low.max_elevation_deg - 0.02  # a mask 0.02° under the peak: a pass of a few seconds
    found = orbit.passes(elements, site, start, start + 3 * MS_PER_DAY, mask)
    match = [p for p in found if abs(p.culmination_ms - low.culmination_ms) < TWO_SECONDS_MS]
    assert len(match) == 1
    assert 0 < match[0].duration_s < 60


@pytest.mark.parametrize("epoch", ELEMENT_SETS)
def test_track_matches_skyfield_subpoint(epoch):
    elements = _bundled(epoch)
    sat = _skyfield_sat(elements)
    rng = np.random.default_rng(25544)
    times = elements.epoch_ms + rng.integers(-3 * MS_PER_DAY, 3 * MS_PER_DAY, size=60)
    sub = wgs84.geographic_position_of(sat.at(skyfield_time(times)))
    for i, t in enumerate(times):
        fix = orbit.track(elements, int(t))
        assert abs(fix.lat_deg - sub.latitude.degrees[i]) <= SUBPOINT_TOL_DEG
        dlon = (fix.lon_deg - sub.longitude.degrees[i] + 180.0) % 360.0 - 180.0
        assert abs(dlon) <= SUBPOINT_TOL_DEG
        assert abs(fix.alt_km - sub.elevation.km[i]) <= ALTITUDE_TOL_KM


def test_track_figures_match_the_reference_sheet():
    """Speed 7.66 km/s and altitude 406-430 km (sheet §8); latitude within ±51.64°."""
    elements = _bundled("2025-03-09T09")
    t = elements.epoch_ms + np.arange(0, MS_PER_DAY, 60_000)
    states = orbit.propagate(elements, t)
    lat, _, alt = states.geodetic()
    assert np.all(np.abs(states.speed_km_s - 7.66) < 0.05)
    # Geodetic height above the ellipsoid runs higher than a - R_e at high latitude
    # (the ellipsoid is 21 km lower at the poles): allow the sheet's band plus that.
    assert alt.min() > 400 and alt.max() < 440
    assert np.abs(lat).max() == pytest.approx(51.64, abs=0.35)


# --------------------------------------------------------------------------- eclipses


def _almanac_sun_of_date(jd_ut) -> np.ndarray:
    """Astronomical Almanac low-precision Sun (C5): equatorial of date, unit vector."""
    n = jd_ut - 2451545.0
    L = np.radians(280.460 + 0.9856474 * n)
    g = np.radians(357.528 + 0.9856003 * n)
    lam = L + np.radians(1.915) * np.sin(g) + np.radians(0.020) * np.sin(2 * g)
    eps = np.radians(23.439 - 0.0000004 * n)
    return np.stack([np.cos(lam), np.cos(eps) * np.sin(lam), np.sin(eps) * np.sin(lam)], axis=-1)


def _independent_in_shadow(sat, t_ms: np.ndarray) -> np.ndarray:
    """Shadow by angles: the Sun's direction lies inside the Earth's angular disc."""
    t = skyfield_time(t_ms)
    r = sat.at(t).frame_xyz(true_equator_and_equinox_of_date).km.T  # (N, 3)
    sun = _almanac_sun_of_date(t.ut1)
    to_earth = -r / np.linalg.norm(r, axis=-1, keepdims=True)
    earth_radius_angle = np.arcsin(EARTH_EQUATORIAL_RADIUS_KM / np.linalg.norm(r, axis=-1))
    separation = np.arccos(np.clip(np.einsum("ij,ij->i", to_earth, sun), -1, 1))
    return separation < earth_radius_angle


@pytest.mark.parametrize("epoch", ["2024-09-15T00", "2025-03-09T09", "2023-12-08"])
def test_eclipse_entry_and_exit_match_an_independent_computation(epoch):
    elements = _bundled(epoch)
    sat = _skyfield_sat(elements)
    start = elements.epoch_ms
    found = orbit.eclipses(elements, start, start + MS_PER_DAY // 2)
    # Count: sample the independent test every 20 s over the same half day.
    coarse = np.arange(start, start + MS_PER_DAY // 2, 20_000)
    shadow = _independent_in_shadow(sat, coarse)
    entries = np.count_nonzero(~shadow[:-1] & shadow[1:])
    inside = [e for e in found if e.start_ms > start and e.start_ms < coarse[-1]]
    assert len(inside) == entries > 0
    # Times: find each transition independently at 0.5 s resolution within ±60 s.
    for e in found:
        for when, entering in ((e.start_ms, True), (e.end_ms, False)):
            fine = np.arange(when - 60_000, when + 60_000, 500)
            s = _independent_in_shadow(sat, fine)
            flips = np.flatnonzero(s[1:] != s[:-1])
            assert len(flips) == 1, "exactly one transition near each reported one"
            assert bool(s[flips[0] + 1]) is entering
            assert abs(fine[flips[0]] + 250 - when) <= FIVE_SECONDS_MS


@pytest.mark.parametrize("when", ["2024-11-21T18:58:00Z", "2025-02-10T12:58:00Z", "2024-10-01T00:00:00Z"])
def test_eclipse_length_matches_the_sheet_formula(when):
    """Reference sheet §8: T_ecl = (T/π)·acos(√(h² + 2Rh) / (r cos β)), 36.0 min at β = 0.

    The formula assumes a circular orbit, so it is held to 15 s (under 1 % at β = 0).
    """
    t0 = parse_iso(when)
    elements = orbit.nearest([s for s in orbit.bundled_sets() if "omm" in s.source], t0)
    for e in orbit.eclipses(elements, t0, t0 + MS_PER_DAY // 4):
        beta = np.radians(orbit.beta_angle_deg(elements, [(e.start_ms + e.end_ms) // 2])[0])
        assert abs(np.degrees(beta)) < 61
        h = elements.mean_altitude_km
        r = EARTH_EQUATORIAL_RADIUS_KM + h
        formula_s = elements.period_min * 60 / np.pi * np.arccos(
            np.sqrt(h * h + 2 * EARTH_EQUATORIAL_RADIUS_KM * h) / (r * np.cos(beta))
        )
        assert abs(e.duration_s - formula_s) <= 15.0


def test_no_eclipse_in_the_high_beta_season():
    """Sheet §8: no eclipse above β ≈ 69.75° at 420 km; β reached -74.5° on 2024-12-09."""
    t0 = parse_iso("2024-12-09T06:00:00Z")
    elements = orbit.nearest(orbit.bundled_sets(), t0)
    assert abs(orbit.beta_angle_deg(elements, [t0])[0]) > 71
    assert orbit.eclipses(elements, t0, t0 + 6 * 3_600_000) == []
    assert orbit.sunlit(elements, t0 + np.arange(0, 6 * 3_600_000, 60_000)).all()


def test_beta_angle_stays_within_inclination_plus_obliquity():
    """Sheet §8: |β| ≤ i + 23.44° ≈ 75.1°."""
    sets = [s for s in orbit.bundled_sets() if "omm" in s.source]
    t = np.arange(sets[0].epoch_ms, sets[-1].epoch_ms, MS_PER_DAY)
    beta = np.array([orbit.beta_angle_deg(orbit.nearest(sets, x), [x])[0] for x in t])
    assert np.abs(beta).max() <= 51.64 + 23.44 + 0.1
    assert np.abs(beta).max() > 70  # the December 2024 high-beta season is in the data


def test_beta_angle_from_states_already_propagated_is_the_same():
    """The run's orbit tables hand beta the states and Sun they have already worked out."""
    from issim.orbit.propagation import propagate_teme
    from issim.orbit.sun import sun_teme_km

    t0 = parse_iso("2024-12-09T06:00:00Z")
    elements = orbit.nearest(orbit.bundled_sets(), t0)
    t = t0 + np.arange(0, MS_PER_DAY, 10_000)
    r, v, _ = propagate_teme(elements, t)
    sun = sun_teme_km(t)
    before = sun.copy()
    given = orbit.beta_angle_deg(elements, t, (r, v), sun)
    assert np.array_equal(given, orbit.beta_angle_deg(elements, t))  # bit for bit
    assert np.array_equal(sun, before)  # the Sun handed in is left as it was


# --------------------------------------------------------------------------- contacts


def test_tdrs_coverage_has_the_indian_ocean_gap():
    """NSSDC: TDRSS covers at least 85 % of the orbit; the gap (ZOE) is over the Indian Ocean."""
    elements = _bundled("2025-03-09T09")
    start, end = elements.epoch_ms, elements.epoch_ms + 7 * MS_PER_DAY
    in_service = orbit.merge_contacts(*(orbit.relay_contacts(elements, r, start, end) for r in orbit.relays_in_service("TDRSS")))
    fraction = orbit.coverage_fraction(in_service, start, end)
    assert 0.85 <= fraction < 0.99
    # The middle of every gap lies over the Indian Ocean side of the world.
    gaps = [(a.end_ms + b.start_ms) // 2 for a, b in zip(in_service, in_service[1:])]
    _, lon, _ = orbit.propagate(elements, np.array(gaps)).geodetic()
    assert np.all((lon > 20) & (lon < 150))
    # Scheduling the Indian-Ocean relay (via Guam) closes the gap.
    everything = orbit.merge_contacts(
        in_service, orbit.relay_contacts(elements, orbit.find_relay("tdrs-z"), start, end)
    )
    assert orbit.coverage_fraction(everything, start, end) > 0.99
