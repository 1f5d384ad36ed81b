"""Element sets that parse but make no physical sense are refused, wherever they come from.

Each class a tester found (NaN B*, NaN mean-motion derivative, a boolean read as a number,
inclination 999°, mean motion 0, eccentricity below 0 or from 1) is tried through the
parser (OMM JSON, CSV, XML and TLE where the format can hold it), through the command
line, and through ``issim elements update``; a property test throws random OMM records
at the parser. The limits are those stated in ``issim.orbit.checks``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sgp4.earth_gravity import wgs72
from sgp4.io import fix_checksum

from issim import cli
from issim.errors import InputError
from issim.orbit import catalog
from issim.orbit.checks import MAX_APOGEE_KM, MIN_PERIGEE_KM, check_sense, semi_major_axis_km
from issim.orbit.elements import elements_from_omm, load_elements, parse_elements
from issim.orbit.propagation import propagate_teme

OMM_FILE = "iss-omm-2024-09-to-2025-03.json"
AT = "2025-03-10T00:00:00Z"
from test_elements import TLE_L1, TLE_L2, _isolated  # noqa: F401 (_isolated: the same autouse fixture)


def newest_record() -> dict:
    records = json.loads(resources.files("issim.data").joinpath("elements", OMM_FILE).read_text())
    rec = max(records, key=lambda r: r["EPOCH"])
    return {k: v for k, v in rec.items() if k != "date_fetched"}


def changed(**changes) -> dict:
    rec = newest_record()
    rec.update(changes)
    return rec


def as_csv(rec: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rec))
    writer.writeheader()
    writer.writerow(rec)
    return out.getvalue()


def as_xml(rec: dict) -> str:
    def tags(keys):
        return "".join(f"<{k}>{rec[k]}</{k}>" for k in keys)

    mean = ["EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
            "MEAN_ANOMALY"]
    params = ["EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
              "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT"]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ndm><omm><body><segment>'
        f"<metadata>{tags(['OBJECT_NAME', 'OBJECT_ID'])}</metadata>"
        f"<data><meanElements>{tags(mean)}</meanElements><tleParameters>{tags(params)}</tleParameters></data>"
        "</segment></body></omm></ndm>"
    )


def tle_with(line: int, first_col: int, text: str) -> str:
    """The good TLE with ``text`` written from 1-based column ``first_col`` of a line."""
    lines = [TLE_L1, TLE_L2]
    old = lines[line - 1]
    lines[line - 1] = fix_checksum(old[: first_col - 1] + text + old[first_col - 1 + len(text):])
    return "ISS (ZARYA)\n" + "\n".join(lines) + "\n"


# class -> (OMM changes, the field the message must name)
OMM_CASES = {
    "nan-bstar": ({"BSTAR": math.nan}, "BSTAR"),
    "nan-ndot": ({"MEAN_MOTION_DOT": math.nan}, "MEAN_MOTION_DOT"),
    "inf-nddot": ({"MEAN_MOTION_DDOT": math.inf}, "MEAN_MOTION_DDOT"),
    "bool-mean-motion": ({"MEAN_MOTION": True}, "MEAN_MOTION"),
    "bool-eccentricity": ({"ECCENTRICITY": False}, "ECCENTRICITY"),
    "bool-norad": ({"NORAD_CAT_ID": True}, "NORAD_CAT_ID"),
    "inclination-999": ({"INCLINATION": 999}, "INCLINATION"),
    "mean-motion-0": ({"MEAN_MOTION": 0}, "MEAN_MOTION"),
    "eccentricity-negative": ({"ECCENTRICITY": -0.001}, "ECCENTRICITY"),
    "eccentricity-1": ({"ECCENTRICITY": 1.0}, "ECCENTRICITY"),
    "eccentricity-2": ({"ECCENTRICITY": 2.0}, "ECCENTRICITY"),
    "mean-motion-1-geo": ({"MEAN_MOTION": 1.0}, "MEAN_MOTION"),
    "perigee-underground": ({"MEAN_MOTION": 15.5, "ECCENTRICITY": 0.2}, "MEAN_MOTION"),
    "bstar-huge": ({"BSTAR": 1e300}, "BSTAR"),
    "epoch-1900": ({"EPOCH": "1900-01-01T00:00:00"}, "EPOCH"),
    "epoch-number": ({"EPOCH": 1741512069}, "EPOCH"),
    "node-negative": ({"RA_OF_ASC_NODE": -10.0}, "RA_OF_ASC_NODE"),
}

# The same classes in text formats, where NaN comes as text and there are no booleans.
TEXT_CASES = {k: v for k, v in OMM_CASES.items() if not k.startswith(("bool", "epoch-number"))}

TLE_CASES = {
    "inclination-999": (tle_with(2, 9, "999.0000"), "line 3 (columns 9-16): field INCLINATION"),
    "mean-motion-0": (tle_with(2, 53, " 0.00000000"), "line 3 (columns 53-63): field MEAN_MOTION"),
    "mean-motion-1-geo": (tle_with(2, 53, " 1.00000000"), "line 3 (columns 53-63): field MEAN_MOTION"),
    "node-400": (tle_with(2, 18, "400.0000"), "line 3 (columns 18-25): field RA_OF_ASC_NODE"),
    "bstar-huge": (tle_with(1, 54, " 12345+3"), "line 2 (columns 54-61): field BSTAR"),
}


def _message(exc: InputError) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


# --------------------------------------------------------------------------- parser


@pytest.mark.parametrize("case", sorted(OMM_CASES))
def test_omm_json_refused_naming_file_record_and_field(case):
    changes, field = OMM_CASES[case]
    with pytest.raises(InputError) as info:
        parse_elements(json.dumps([newest_record(), changed(**changes)]), "bad.json")
    assert re.match(rf"^bad\.json: record 2: field {field}: ", _message(info.value)), str(info.value)


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
@pytest.mark.parametrize("form", ["csv", "xml"])
def test_omm_csv_and_xml_refused_naming_the_field(case, form):
    changes, field = TEXT_CASES[case]
    rec = changed(**changes)
    text = as_csv(rec) if form == "csv" else as_xml(rec)
    with pytest.raises(InputError) as info:
        parse_elements(text, f"bad.{form}")
    where = "line 2" if form == "csv" else "segment 1"
    assert _message(info.value).startswith(f"bad.{form}: {where}: field {field}: "), str(info.value)


@pytest.mark.parametrize("case", sorted(TLE_CASES))
def test_tle_refused_naming_line_columns_and_field(case):
    text, where = TLE_CASES[case]
    with pytest.raises(InputError) as info:
        parse_elements(text, "bad.tle")
    assert _message(info.value).startswith(f"bad.tle: {where}: "), str(info.value)


def test_nan_as_text_in_json_is_refused():
    with pytest.raises(InputError, match=r"record 1: field BSTAR: must be a finite number"):
        parse_elements(json.dumps([changed(BSTAR="NaN")]), "bad.json")


def test_messages_say_what_is_wanted():
    cases = {
        "nan-bstar": r"must be a finite number \(got nan\)",
        "bool-mean-motion": r"not a boolean \(got True\)",
        "inclination-999": r"at least 0 and at most 180° \(got 999",
        "mean-motion-0": r"greater than 0 rev/day \(got 0",
        "eccentricity-1": r"at least 0 and less than 1 \(got 1\.0\)",
        "mean-motion-1-geo": r"apogee 35,\d{3} km above the Earth, beyond GEO \(35,786 km\)",
        "perigee-underground": r"perigee -?[\d,]+ km above the Earth, below 100 km",
        "epoch-1900": r"from 1957-10-04 .* to the end of 2099",
    }
    for case, pattern in cases.items():
        with pytest.raises(InputError, match=pattern):
            elements_from_omm(changed(**OMM_CASES[case][0]))


def test_orbits_inside_the_limits_are_accepted():
    # A GPS-like orbit (2 rev/day, nearly circular, 20,200 km) and one just above 100 km.
    gps = elements_from_omm(changed(MEAN_MOTION=2.00563, ECCENTRICITY=0.01, INCLINATION=55.0))
    assert 20_000 < gps.semi_major_axis_km - wgs72.radiusearthkm < 20_400
    n_low = 86_400 / (2 * math.pi * math.sqrt((wgs72.radiusearthkm + MIN_PERIGEE_KM + 5) ** 3 / wgs72.mu))
    elements_from_omm(changed(MEAN_MOTION=n_low, ECCENTRICITY=0.0))
    with pytest.raises(InputError, match="perigee"):
        elements_from_omm(changed(MEAN_MOTION=n_low * 1.01, ECCENTRICITY=0.0))


def test_kepler_axis_matches_the_limits_stated():
    # GEO: one sidereal day gives 42,164 km; the limit sits at its altitude.
    assert semi_major_axis_km(1.00273790935) == pytest.approx(42_164.2, abs=0.5)
    assert MAX_APOGEE_KM == pytest.approx(42_164.2 - wgs72.radiusearthkm, abs=1)


def test_every_bundled_set_passes():
    sets = catalog.bundled_sets()
    assert len(sets) == 499 + 12
    for s in sets:
        fields = dict(s.to_omm())
        assert 51.5 < fields["INCLINATION"] < 51.7
        assert 300 < s.mean_altitude_km < 450


def test_check_sense_leaves_out_absent_fields_and_can_skip_orbit_size():
    check_sense({}, "x", str)
    check_sense({"MEAN_MOTION": 17.5, "ECCENTRICITY": 0.0}, "x", str, orbit_size=False)
    with pytest.raises(InputError, match=r"^x: MEAN_MOTION: field MEAN_MOTION: .*perigee"):
        check_sense({"MEAN_MOTION": 17.5, "ECCENTRICITY": 0.0}, "x", str)


# --------------------------------------------------------------------------- command line


def _one_error_line(status, out, err, *fragments):
    assert status == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("issim: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


@pytest.mark.parametrize("case", sorted(OMM_CASES))
@pytest.mark.parametrize("command", ["track", "passes"])
def test_cli_refuses_a_bad_file_in_one_line(tmp_path, capsys, case, command):
    changes, field = OMM_CASES[case]
    path = tmp_path / f"{case}.json"
    path.write_text(json.dumps([changed(**changes)]))
    args = ["track", "--at", AT] if command == "track" else ["passes", "--site", "mcc-houston", "--start", AT]
    status = cli.main(args + ["--elements", str(path)])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, str(path), f"field {field}")


@pytest.mark.parametrize("case", sorted(TLE_CASES))
def test_cli_refuses_a_bad_tle_in_one_line(tmp_path, capsys, case):
    text, where = TLE_CASES[case]
    path = tmp_path / f"{case}.tle"
    path.write_text(text)
    status = cli.main(["track", "--json", "--at", AT, "--elements", str(path)])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, str(path), where)


@pytest.mark.parametrize("case", ["nan-bstar", "bool-mean-motion", "mean-motion-0"])
def test_bad_file_in_a_real_process(tmp_path, case):
    path = tmp_path / f"{case}.json"
    path.write_text(json.dumps([changed(**OMM_CASES[case][0])]))
    env = dict(os.environ, ISSIM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "issim.cli", "track", "--json", "--elements", str(path), "--at", AT],
        capture_output=True, text=True, env=env, timeout=60,
    )
    _one_error_line(proc.returncode, proc.stdout, proc.stderr, str(path), f"field {OMM_CASES[case][1]}")


def test_a_scenario_naming_a_bad_file_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps([changed(BSTAR=math.nan)]))
    scenario = tmp_path / "bad-orbit.toml"
    scenario.write_text('extends = "nominal"\n[scenario]\nname = "bad-orbit"\ntitle = "t"\nelements = "bad.json"\n')
    status = cli.main(["run", str(scenario), "--json", "--no-store", "--hours", "1"])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, "bad.json", "record 1: field BSTAR: must be a finite number")


# --------------------------------------------------------------------------- downloads


def _serve(monkeypatch, body: bytes) -> list[str]:
    """Make ``update`` download ``body`` without the network; returns the URLs asked for."""
    asked = []

    def fake(url, timeout_s):
        asked.append(url)
        return body

    monkeypatch.setattr(catalog, "_download", fake)
    return asked


@pytest.mark.parametrize("case", sorted(OMM_CASES))
def test_update_refuses_a_bad_download_and_keeps_the_saved_sets(tmp_path, monkeypatch, capsys, case):
    user_file = catalog.user_elements_path()
    folder = user_file.parent
    url = "http://celestrak.invalid/gp.json"

    # With nothing saved yet, a bad reply creates nothing.
    _serve(monkeypatch, json.dumps([changed(**OMM_CASES[case][0])]).encode())
    status = cli.main(["elements", "update", "--url", url])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, url, f"field {OMM_CASES[case][1]}")
    assert not folder.exists() or list(folder.iterdir()) == []

    good = changed(EPOCH="2026-06-01T00:00:00.000000")
    _serve(monkeypatch, json.dumps([good]).encode())
    assert cli.main(["elements", "update", "--url", url]) == 0
    capsys.readouterr()
    before = user_file.read_bytes()

    # A good set and a bad one in the same reply: the whole reply is refused.
    later = changed(EPOCH="2026-06-05T00:00:00.000000")
    bad = changed(**OMM_CASES[case][0])
    _serve(monkeypatch, json.dumps([later, bad]).encode())
    status = cli.main(["elements", "update", "--url", url])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, url, "record 2", f"field {OMM_CASES[case][1]}")
    assert user_file.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["iss.json"]

    # And the default runs go on with the saved set.
    status = cli.main(["track", "--json", "--at", "2026-06-01T12:00:00Z"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert 380 < json.loads(out)["alt_km"] < 460


def test_a_bad_saved_file_is_named_with_the_way_out(monkeypatch, capsys):
    # What an older issim may have saved from a bad download.
    user_file = catalog.user_elements_path()
    user_file.parent.mkdir(parents=True)
    user_file.write_text(json.dumps([changed(BSTAR=math.nan, EPOCH="2026-06-01T00:00:00")]))
    status = cli.main(["track", "--json", "--at", AT])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, str(user_file), "field BSTAR", "delete the file")

    # update says the same, and writes nothing over it.
    before = user_file.read_bytes()
    _serve(monkeypatch, json.dumps([changed(EPOCH="2026-06-05T00:00:00")]).encode())
    status = cli.main(["elements", "update", "--url", "http://celestrak.invalid/gp.json"])
    out, err = capsys.readouterr()
    _one_error_line(status, out, err, str(user_file), "delete the file")
    assert user_file.read_bytes() == before


def test_update_with_a_good_download_through_the_fake(monkeypatch, capsys):
    asked = _serve(monkeypatch, json.dumps(changed(EPOCH="2026-06-01T00:00:00")).encode())
    status = cli.main(["elements", "update", "--url", "http://celestrak.invalid/gp.json"])
    capsys.readouterr()
    assert status == 0
    assert asked == ["http://celestrak.invalid/gp.json"]
    assert len(load_elements(catalog.user_elements_path())) == 1


# --------------------------------------------------------------------------- property

OMM_FIELDS = list(newest_record())
ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-400, max_value=400),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["NaN", "inf", "-0", "1e999", "15.5", "0.0005", "2025-03-09T09:21:09", "1957-10-03T23:59:59"]),
    st.none(),
    st.just("<missing>"),
)


def _random_record(draw_changes: dict) -> dict:
    rec = newest_record()
    for key, value in draw_changes.items():
        if value == "<missing>":
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(OMM_FIELDS), ANY_VALUE, max_size=6))
def test_random_omm_records_parse_to_sane_orbits_or_raise_input_error(draw_changes):
    rec = _random_record(draw_changes)
    for parse in (lambda: [elements_from_omm(rec, "random")], lambda: parse_elements(json.dumps([rec]), "random")):
        try:
            sets = parse()
        except InputError as exc:
            assert "\n" not in str(exc)
            continue
        (s,) = sets
        # An accepted set propagates: finite positions from its epoch over the next two hours
        # (more than one revolution of a low orbit, 88-130 minutes).
        times = s.epoch_ms + np.arange(0, 2 * 3_600_000 + 1, 600_000)
        r, _v, err = propagate_teme(s, times)
        assert (err == 0).all(), (rec, err)
        assert np.isfinite(r).all(), rec



def test_an_epoch_that_overflows_sgp4s_date_is_one_line():
    """Found by the fuzzer: an epoch day written with an exponent (``24127.82853e09``) passes
    as a number, then overflows sgp4's datetime; it is refused as a layout problem."""
    from issim.errors import InputError
    from issim.orbit.elements import parse_elements

    text = ("ISS (ZARYA)\n"
            "1 25544U 98067A   24127.82853e09  .00015698  00000+0  27310-3 0  9995\n"
            "2 25544  51.6393 160.4574 0003580 140.6673 205.7250 15.50957674452123\n")
    with pytest.raises(InputError) as err:
        parse_elements(text, "odd.tle")
    assert err.value.source == "odd.tle" and "does not match the TLE layout" in err.value.message
