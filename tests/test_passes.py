"""Passes for observers: the search, visibility, brightness, local time, charts, calendars.

Authorities:
- Skyfield's ``find_events`` and ``altaz`` (its own frames, TEME -> GCRS -> ITRS) for
  the passes and the azimuths;
- the Astronomical Almanac's low-precision Sun (as in ``test_orbit_physics``) for the
  station's sunlight, and SOFA's complete chain from a catalogue place to an observed
  one (``erfa.atco13``: aberration, IAU 2006/2000A precession-nutation, Earth rotation
  angle) for the Sun's elevation at the observer, both sampled every 0.5 s. (Skyfield's
  own almanac needs a JPL ephemeris, which cannot be downloaded here; the low-precision
  Sun's 0.01° would be 4 s of twilight, more than the tolerance.)
- the worked example of the astronomy Stack Exchange answer that gives R. Matson's
  magnitude formula with the ISS's standard magnitude (reference sheet, brightness);
- RFC 5545 for the calendar, the SVG/XML rules for the chart.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import erfa
import numpy as np
import pytest
from skyfield.api import wgs84
from test_cli_orbit import _isolated, run  # noqa: F401 (_isolated: the same autouse fixture)
from test_orbit_physics import _bundled, _independent_in_shadow, _ms, _skyfield_sat

from issim import cli, orbit
from issim.orbit import catalog, search
from issim.orbit.forecast import compass, forecast
from issim.orbit.propagation import hermite, propagate
from issim.orbit.sightings import STANDARD_MAGNITUDE, magnitude, visible_parts
from issim.orbit.skychart import sky_chart, sky_xy
from issim.times import MS_PER_DAY, jd_split, parse_iso, skyfield_time

# The acceptance tolerances of issue 17: a visible pass's times and azimuths.
TIME_TOL_MS = 2_000
AZIMUTH_TOL_DEG = 0.5
SAMPLE_MS = 500  # the independent computation's resolution
SUN_PARALLAX_DEG = 8.794 / 3600.0  # the Sun's horizontal parallax
START = "2025-03-09T00:00:00Z"


# --------------------------------------------------------------------------- the search


@pytest.mark.parametrize("step_ms,tol_m", [(60_000, 1.0), (120_000, 10.0)])
def test_hermite_interpolation_stays_within_metres_of_sgp4(step_ms, tol_m):
    """The error bound h⁴|r''''|/384 is 0.4 m at 60 s and 6 m at 120 s for the ISS."""
    elements = _bundled("2025-03-09T09")
    grid = np.arange(elements.epoch_ms, elements.epoch_ms + MS_PER_DAY, step_ms, dtype=np.int64)
    states = propagate(elements, grid)
    t = np.random.default_rng(17).integers(grid[0], grid[-1], 5000)
    r, v = hermite(grid, states.r_itrs_km, states.v_itrs_km_s, t)
    truth = propagate(elements, t)
    assert np.linalg.norm(r - truth.r_itrs_km, axis=-1).max() * 1000 <= tol_m
    assert np.linalg.norm(v - truth.v_itrs_km_s, axis=-1).max() * 1000 <= tol_m / 10  # m/s


@pytest.mark.parametrize("rising", [True, False])
def test_crossing_search_finds_the_very_millisecond(rising):
    """Illinois regula falsi returns what bisection would: the first millisecond past the zero."""
    rng = np.random.default_rng(5)
    roots = rng.uniform(1_000.0, 59_000.0, 300)
    sign = 1.0 if rising else -1.0
    span = 100_000  # bracket k is [k·span, k·span + 60000], its zero at k·span + roots[k]

    def f(t):  # steep, flat and curved in turn, one zero in each bracket
        t = np.asarray(t, dtype=np.int64)
        x = (t % span - roots[t // span]) / 20_000.0
        return sign * (np.tanh(3 * x) + 0.3 * x**3)

    a = np.arange(300, dtype=np.int64) * span
    found = search._first_positive(f, a, a + 60_000, rising=rising)
    assert np.array_equal(found - a, np.floor(roots).astype(np.int64) + 1)


# --------------------------------------------------------------------------- visible passes


def _sofa_sun_elevation_deg(site, ms: np.ndarray) -> np.ndarray:
    """The Sun's topocentric elevation, no refraction, by SOFA's atco13 from its geocentric ICRS place."""
    ts = skyfield_time(ms)
    heliocentric_earth, _ = erfa.epv00(ts.whole, ts.tdb_fraction)
    ra, dec = erfa.c2s(-heliocentric_earth["p"])
    utc1, utc2 = jd_split(ms)
    _, zenith, *_ = erfa.atco13(ra, dec, 0.0, 0.0, 0.0, 0.0, utc1, utc2, ts.dut1, math.radians(site.lon_deg),
                                math.radians(site.lat_deg), site.alt_m, 0.0, 0.0, 0.0, 0.0, 0.0, 0.55)
    elevation = 90.0 - np.degrees(zenith)
    return elevation - SUN_PARALLAX_DEG * np.cos(np.radians(elevation))  # atco13 leaves out the diurnal parallax


def _independent_visible_runs(sat, site, t0_ms, t1_ms, mask_deg):
    """Visible stretches from Skyfield's passes, sunlight and the almanac Sun, every 0.5 s.

    Returns, per stretch: start, highest and end as (time ms, elevation, azimuth).
    """
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    t, events = sat.find_events(topos, skyfield_time(t0_ms), skyfield_time(t1_ms), altitude_degrees=mask_deg)
    times = _ms(t)
    runs = []
    for i in range(len(events) - 2):
        if list(events[i : i + 3]) != [0, 1, 2]:
            continue
        ms = np.arange(times[i], times[i + 2] + 1, SAMPLE_MS)
        ts = skyfield_time(ms)
        alt, az, _ = (sat - topos).at(ts).altaz()
        seen = ~_independent_in_shadow(sat, ms) & (_sofa_sun_elevation_deg(site, ms) < -6.0) & (alt.degrees >= mask_deg)
        edges = np.flatnonzero(np.diff(seen.astype(int))) + 1
        for a, b in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(ms)]])):
            if seen[a] and b - a > 1:
                top = a + int(np.argmax(alt.degrees[a:b]))
                runs.append([(int(ms[k]), float(alt.degrees[k]), float(az.degrees[k])) for k in (a, top, b - 1)])
    return runs


@pytest.mark.parametrize("site_id", ["london", "new-york", "tokyo", "paris"])
def test_visible_passes_match_an_independent_computation(site_id):
    """A week of visible passes: times within ±2 s, azimuths within ±0.5° (issue 17)."""
    elements = _bundled("2025-03-09T09")
    site = orbit.find_site(site_id)
    start = parse_iso(START)
    end = start + 7 * MS_PER_DAY
    ours = [v for parts in visible_parts(elements, site, orbit.passes(elements, site, start, end, 10.0)) for v in parts]
    # Skyfield reports only events inside [start, end]: both sides keep the passes wholly inside.
    ours = [v for v in ours if v.start.t_ms > start + 20 * 60_000 and v.end.t_ms < end - 20 * 60_000]
    theirs = [r for r in _independent_visible_runs(_skyfield_sat(elements), site, start, end, 10.0)
              if r[0][0] > start + 20 * 60_000 and r[2][0] < end - 20 * 60_000]
    assert len(theirs) >= 3  # the week was chosen for evening passes in all three places
    assert len(ours) == len(theirs)
    sat = _skyfield_sat(elements)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    for v, (start_, top, end_) in zip(ours, theirs):
        for mine, (t_ms, el, az) in ((v.start, start_), (v.highest, top), (v.end, end_)):
            assert abs(mine.t_ms - t_ms) <= TIME_TOL_MS, (mine, t_ms)
            assert abs(mine.elevation_deg - el) <= 0.1
        # Azimuths at the ends, where they turn slowly, against Skyfield's at its own times.
        for mine, (_, _, az) in ((v.start, start_), (v.end, end_)):
            assert abs((mine.azimuth_deg - az + 180.0) % 360.0 - 180.0) <= AZIMUTH_TOL_DEG, (mine, az)
        # At the highest point the azimuth can swing by degrees a second (near the zenith),
        # so there it is compared at the same instant; at the zenith itself it has no meaning.
        alt, az, _ = (sat - topos).at(skyfield_time(v.highest.t_ms)).altaz()
        if alt.degrees < 89.0:
            assert abs((v.highest.azimuth_deg - az.degrees + 180.0) % 360.0 - 180.0) <= AZIMUTH_TOL_DEG


def test_a_visible_pass_is_sunlit_in_a_dark_sky_and_bright():
    elements = _bundled("2025-03-09T09")
    site = orbit.find_site("london")
    start = parse_iso(START)
    found = orbit.passes(elements, site, start, start + 7 * MS_PER_DAY, 10.0)
    seen = visible_parts(elements, site, found)
    assert 0 < sum(map(len, seen)) < len(found)
    for p, parts in zip(found, seen):
        for v in parts:
            assert p.aos_ms <= v.start.t_ms < v.end.t_ms <= p.los_ms
            t = np.linspace(v.start.t_ms, v.end.t_ms, 7).astype(np.int64)
            assert orbit.sunlit(elements, t[1:-1]).all()
            # Ours and the reference sheet: passes of -4 to -5 at best, about -2 for a low one.
            assert -5.5 < v.magnitude < 1.5
            assert v.highest.elevation_deg >= max(v.start.elevation_deg, v.end.elevation_deg) - 1e-9


# --------------------------------------------------------------------------- brightness


def test_magnitude_reproduces_the_worked_example_of_its_source():
    """Stack Exchange answer 28778 (reference sheet, brightness): std -1.8, 485 km, phase 113.1°.

    By hand: 5·log10(0.485) = -1.5713; sin 113.1° + (π - 1.97397)·cos 113.1° = 0.91982 - 0.45809
    = 0.46173, and -2.5·log10(0.46173) = +0.8390; so -1.8 - 1.5713 + 0.8390 = -2.532.
    """
    assert magnitude(485.0, math.radians(113.1), -1.8) == pytest.approx(-2.532, abs=0.002)
    assert STANDARD_MAGNITUDE == -1.8


def test_magnitude_is_the_standard_one_at_1000_km_and_90_degrees():
    """Matson's normalisation: at 1000 km and 90° phase the formula gives the standard magnitude."""
    assert magnitude(1000.0, math.pi / 2) == pytest.approx(STANDARD_MAGNITUDE, abs=1e-12)
    # Range alone: ten times nearer is 5 magnitudes brighter; full phase is 2.5·log10(π) brighter.
    assert magnitude(100.0, math.pi / 2) == pytest.approx(STANDARD_MAGNITUDE - 5.0)
    assert magnitude(1000.0, 0.0) == pytest.approx(STANDARD_MAGNITUDE - 2.5 * math.log10(math.pi))


# --------------------------------------------------------------------------- words and zones


@pytest.mark.parametrize("az,word", [(0.0, "N"), (359.0, "N"), (11.2, "N"), (11.3, "NNE"), (90.0, "E"),
                                     (202.5, "SSW"), (337.5, "NNW"), (348.7, "NNW"), (348.8, "N")])
def test_compass_words(az, word):
    assert compass(az) == word


def test_times_are_read_in_the_sites_zone_by_default_else_utc(capsys):
    status, out, err = run(capsys, "passes", "--site", "new-york", "--start", START, "--days", "7", "--json")
    assert status == 0, err
    data = json.loads(out)
    assert data["time_zone"] == "America/New_York"
    zone = ZoneInfo("America/New_York")
    for p in data["passes"]:
        utc = datetime.fromisoformat(p["aos"].replace("Z", "+00:00")).replace(microsecond=0)
        local = datetime.fromisoformat(p["aos_local"])
        assert local == utc and local.utcoffset() == utc.astimezone(zone).utcoffset()
    # 2025-03-09 is the day New York moves its clocks: both offsets appear in the week.
    assert {p["aos_local"][-6:] for p in data["passes"]} == {"-05:00", "-04:00"}
    status, out, err = run(capsys, "passes", "--lat", "10", "--lon", "20", "--start", START, "--json")
    assert json.loads(out)["time_zone"] == "UTC"
    status, out, err = run(capsys, "passes", "--site", "london", "--tz", "Asia/Tokyo", "--start", START, "--json")
    assert all(p["los_local"].endswith("+09:00") for p in json.loads(out)["passes"])


def test_visible_table_fits_80_columns_and_says_the_zone(capsys):
    status, out, err = run(capsys, "passes", "--site", "london", "--start", START, "--days", "7", "--visible")
    assert status == 0, err
    assert "Europe/London" in out and "appears" in out and "mag" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "UNRELIABLE" not in out


# --------------------------------------------------------------------------- stale elements


def test_stale_elements_mark_every_figure_unreliable(capsys):
    newest = max(s.epoch_ms for s in orbit.bundled_sets())
    late = datetime.fromtimestamp((newest + 30 * MS_PER_DAY) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, out, err = run(capsys, "passes", "--site", "london", "--start", late, "--days", "2")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("UNRELIABLE") and "elements update" in out
    assert any(line.startswith("UNRELIABLE ISS passes") for line in lines)
    catalog._warned.clear()
    status, out, err = run(capsys, "passes", "--site", "london", "--start", late, "--days", "2", "--json")
    data = json.loads(out)
    assert data["unreliable"] is True and data["elements"]["days_from_epoch"] > 14
    # Thirteen days after the newest set: still trusted.
    fresh = datetime.fromtimestamp((newest + 13 * MS_PER_DAY) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, out, err = run(capsys, "passes", "--site", "london", "--start", fresh, "--days", "0.5", "--json")
    assert json.loads(out)["unreliable"] is False


# --------------------------------------------------------------------------- calendar and chart


def _unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")  # every line ends in CRLF
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_ics_export_is_rfc5545_and_holds_every_pass(capsys, tmp_path):
    path = tmp_path / "iss.ics"
    status, out, err = run(capsys, "passes", "--site", "london", "--start", START, "--days", "3", "--json",
                           "--ics", str(path))
    assert status == 0, err
    found = json.loads(out)["passes"]
    raw = path.read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets
    lines = _unfold(raw.decode("utf-8"))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "VERSION:2.0" in lines
    starts = [line.split(":", 1)[1] for line in lines if line.startswith("DTSTART:")]
    assert starts == [p["aos"][:19].replace("-", "").replace(":", "") + "Z" for p in found]
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(set(uids)) == len(found) == lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT")
    assert lines.count("BEGIN:VALARM") == len(found)
    assert [f.name for f in tmp_path.iterdir()] == ["iss.ics"]  # no temporary file left behind


def test_sky_chart_is_svg_with_the_pass_where_it_is(tmp_path, capsys):
    elements = _bundled("2025-03-09T09")
    site = orbit.find_site("london")
    start = parse_iso(START)
    seen = forecast(elements, site, start, start + 7 * MS_PER_DAY, 10.0, visible_only=True)
    p, parts = seen.passes[-1], seen.visible[-1]
    root = ET.fromstring(sky_chart(elements, site, p, parts, seen.zone, "test"))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    rise = root.find("svg:circle[@class='rise']", ns)
    x, y = sky_xy(p.max_elevation_deg * 0 + 10.0, p.aos_azimuth_deg)  # the rise is at the 10° mask
    assert float(rise.get("cx")) == pytest.approx(float(x), abs=1.0)
    assert float(rise.get("cy")) == pytest.approx(float(y), abs=1.0)
    assert len(root.findall("svg:polyline[@class='visible']", ns)) == len(parts) > 0
    # And from the command line, one chart per pass.
    status, out, err = run(capsys, "passes", "--site", "london", "--start", START, "--days", "2",
                           "--chart", str(tmp_path / "charts"), "--json")
    assert status == 0, err
    assert len(list((tmp_path / "charts").glob("pass-*.svg"))) == len(json.loads(out)["passes"])


# --------------------------------------------------------------------------- bad input


def _one_line(status, out, err, option):
    assert status == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"issim: error: {option}: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("args,option", [
    (["--site", "london", "--tz", "Mars/Olympus_Mons"], "--tz"),
    (["--site", "london", "--tz", "../../etc/passwd"], "--tz"),
    (["--lat", "95", "--lon", "0"], "--lat"),
    (["--lat", "nan", "--lon", "0"], "--lat"),
    (["--lat", "10", "--lon", "nan"], "--lon"),
    (["--lat", "10", "--lon", "20", "--alt-m", "nan"], "--alt-m"),
    (["--site", "london", "--min-elevation", "nan"], "--min-elevation"),
])
def test_bad_observer_input_is_one_line(capsys, args, option):
    _one_line(*run(capsys, "passes", "--start", START, *args), option)


@pytest.mark.parametrize("where", ["missing/iss.ics", "folder", "a-file/iss.ics"])
def test_unwritable_ics_path_is_one_line_and_writes_nothing(capsys, tmp_path, where):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    _one_line(*run(capsys, "passes", "--site", "london", "--start", START, "--ics", str(tmp_path / where)), "--ics")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_write_failing_midway_leaves_no_half_file(capsys, tmp_path, monkeypatch):
    path = tmp_path / "iss.ics"

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    _one_line(*run(capsys, "passes", "--site", "london", "--start", START, "--ics", str(path)), "--ics")
    assert list(tmp_path.iterdir()) == []
