"""Reading element sets: every format gives the same set, and bad input is named.

Reference values here are independent of the code under test: the bundled OMM record's
own fields, and a TLE epoch decoded by hand from its year and day-of-year.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import subprocess
import sys
from datetime import datetime, timezone
from fractions import Fraction
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sgp4.io import fix_checksum

from issim import cli
from issim.errors import InputError
from issim.orbit import catalog
from issim.orbit.elements import load_elements, nearest, parse_elements
from issim.times import MS_PER_DAY, jd_split, parse_iso

ELEMENTS_DIR = resources.files("issim.data").joinpath("elements")
OMM_FILE = "iss-omm-2024-09-to-2025-03.json"
TLE_FILE = "iss-tle-history.tle"

# CelesTrak's OMM keys, in the order its CSV header lists them.
OMM_KEYS = [
    "OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
    "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY", "EPHEMERIS_TYPE",
    "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
    "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
]
META_KEYS = ["OBJECT_NAME", "OBJECT_ID"]
MEAN_KEYS = ["EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY"]
TLE_PARAM_KEYS = [
    "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH",
    "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
]

# The 2024-10-14 set of the bundled TLE history (checksums valid).
TLE_NAME = "ISS (ZARYA)"
TLE_L1 = "1 25544U 98067A   24288.38439782 -.00274092  00000+0 -49859-2 0  9990"
TLE_L2 = "2 25544  51.6375  85.0013 0009245  75.5296   8.7941 15.49814641477033"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """Never touch the real user data directory; forget stale warnings already given."""
    monkeypatch.setenv("ISSIM_DATA_DIR", str(tmp_path_factory.mktemp("issim-data")))
    monkeypatch.delenv("ISSIM_CELESTRAK_URL", raising=False)
    catalog._warned.clear()
    yield
    catalog._warned.clear()


def newest_record() -> dict:
    records = json.loads(ELEMENTS_DIR.joinpath(OMM_FILE).read_text())
    rec = max(records, key=lambda r: r["EPOCH"])
    return {k: rec[k] for k in OMM_KEYS}


def position_km(s, at_ms):
    jd, fr = jd_split(at_ms)
    err, r, _v = s.satrec.sgp4(float(jd), float(fr))
    assert err == 0
    return r


# --------------------------------------------------------------------------- formats


def omm_csv(rec: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)  # CelesTrak ends CSV lines with CRLF, as csv does by default
    writer.writerow(OMM_KEYS)
    writer.writerow([rec[k] for k in OMM_KEYS])
    return buf.getvalue()


def omm_xml(rec: dict) -> str:
    def tags(keys):
        return "".join(f"<{k}>{escape(str(rec[k]))}</{k}>" for k in keys)

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-2.0.0-master-2.0.xsd">'
        '<omm id="CCSDS_OMM_VERS" version="2.0">'
        "<header><CREATION_DATE/><ORIGINATOR/></header>"
        "<body><segment>"
        f"<metadata>{tags(META_KEYS)}<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME>"
        "<TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata>"
        f"<data><meanElements>{tags(MEAN_KEYS)}</meanElements>"
        f"<tleParameters>{tags(TLE_PARAM_KEYS)}</tleParameters></data>"
        "</segment></body></omm></ndm>\n"
    )


def test_every_omm_format_gives_the_same_set(tmp_path):
    rec = newest_record()
    files = {
        "array.json": json.dumps([rec], indent=2),
        "object.json": json.dumps(rec),
        "gp.csv": omm_csv(rec),
        "gp.xml": omm_xml(rec),
    }
    # The expected values come from the record itself, not from issim.
    expected_epoch_ms = parse_iso(rec["EPOCH"] + "Z")
    parsed = {}
    for name, text in files.items():
        path = tmp_path / name
        path.write_bytes(text.encode())
        sets = load_elements(path)
        assert len(sets) == 1, name
        parsed[name] = sets[0]

    at_ms = expected_epoch_ms + MS_PER_DAY
    reference = position_km(parsed["array.json"], at_ms)
    for name, s in parsed.items():
        assert s.epoch_ms == expected_epoch_ms, name
        assert s.norad_id == 25544, name
        assert s.name == "ISS (ZARYA)", name
        assert s.mean_motion_rev_per_day == pytest.approx(rec["MEAN_MOTION"], rel=1e-12), name
        assert s.eccentricity == pytest.approx(rec["ECCENTRICITY"], rel=1e-12), name
        assert s.inclination_deg == pytest.approx(rec["INCLINATION"], rel=1e-12), name
        r = position_km(s, at_ms)
        assert max(abs(a - b) for a, b in zip(r, reference)) < 1e-6, name
    # A day from its epoch the ISS is still in low orbit: a sanity check on the position.
    assert 6600 < sum(c * c for c in reference) ** 0.5 < 6900


def test_bundled_json_newest_matches_the_record():
    rec = newest_record()
    sets = load_elements(Path(str(ELEMENTS_DIR.joinpath(OMM_FILE))))
    assert len(sets) == 499
    assert sets == sorted(sets, key=lambda s: s.epoch_ms)
    assert sets[-1].epoch_ms == parse_iso(rec["EPOCH"] + "Z")


def test_omm_json_with_bom_and_xml_without_declaration(tmp_path):
    rec = newest_record()
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps([rec]).encode())
    bare = tmp_path / "bare.xml"
    bare.write_text(omm_xml(rec).split("\n", 1)[1])
    assert load_elements(bom)[0].epoch_ms == load_elements(bare)[0].epoch_ms == parse_iso(rec["EPOCH"] + "Z")


# --------------------------------------------------------------------------- TLE


def bundled_tle_text() -> str:
    return ELEMENTS_DIR.joinpath(TLE_FILE).read_text()


def test_three_line_and_two_line_tle_files(tmp_path):
    three = tmp_path / "three.tle"
    three.write_text(bundled_tle_text())
    two = tmp_path / "two.tle"
    two.write_text("".join(line + "\n" for line in bundled_tle_text().splitlines() if line[:2] in ("1 ", "2 ")))

    sets3 = load_elements(three)
    sets2 = load_elements(two)
    assert len(sets3) == len(sets2) == 12
    assert all(s.name == "ISS (ZARYA)" for s in sets3)
    assert all(s.norad_id == 25544 for s in sets2 + sets3)
    assert [s.epoch_ms for s in sets3] == [s.epoch_ms for s in sets2]
    assert [s.epoch_ms for s in sets3] == sorted(s.epoch_ms for s in sets3)
    # The years run 2008 to 2024 (two-digit years 08 ... 24).
    years = [datetime.fromtimestamp(s.epoch_ms / 1000, tz=timezone.utc).year for s in sets3]
    assert years[0] == 2008 and years[-1] == 2024


def epoch_ms_by_hand(field: str) -> int:
    """Decode a TLE epoch field YYDDD.DDDDDDDD exactly, without the code under test."""
    yy, day = int(field[:2]), Fraction(field[2:])
    year = 2000 + yy if yy < 57 else 1900 + yy
    jan1 = datetime(year, 1, 1, tzinfo=timezone.utc)
    jan1_ms = int((jan1 - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 1000
    return jan1_ms + round((day - 1) * MS_PER_DAY)


def test_tle_epoch_decodes_to_the_hand_computed_time(tmp_path):
    by_hand = epoch_ms_by_hand(TLE_L1[18:32])
    # 2024 is a leap year: 31+29+31+30+31+30+31+31+30 = 274 days to 30 September, so
    # day 288 is 14 October; 0.38439782 d = 33211.971648 s = 09:13:31.971648.
    assert abs(by_hand - parse_iso("2024-10-14T09:13:31.971648Z")) <= 1
    path = tmp_path / "one.tle"
    path.write_text(f"{TLE_NAME}\n{TLE_L1}\n{TLE_L2}\n")
    (s,) = load_elements(path)
    assert abs(s.epoch_ms - by_hand) <= 1
    assert s.mean_motion_rev_per_day == pytest.approx(15.49814641, rel=1e-12)
    assert s.eccentricity == pytest.approx(0.0009245, rel=1e-12)
    assert s.inclination_deg == pytest.approx(51.6375, rel=1e-12)


def test_tle_and_omm_of_the_same_set_agree():
    """The bundled OMM history holds the 2024-10-14 TLE's set too; both must propagate alike."""
    (tle,) = parse_elements(f"{TLE_L1}\n{TLE_L2}\n", "tle")
    omm = [s for s in parse_elements(ELEMENTS_DIR.joinpath(OMM_FILE).read_bytes(), "omm") if s.epoch_ms == tle.epoch_ms]
    assert len(omm) == 1
    at_ms = tle.epoch_ms + MS_PER_DAY
    a, b = position_km(tle, at_ms), position_km(omm[0], at_ms)
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-3


def test_nearest_picks_the_set_nearest_in_time():
    sets = parse_elements(bundled_tle_text(), "tle")
    epochs = [s.epoch_ms for s in sets]
    day = MS_PER_DAY
    # At each epoch, and just either side of it, that set is chosen.
    for i, e in enumerate(epochs):
        for at in (e, e - day, e + day):
            assert nearest(sets, at) is sets[i]
    # Either side of the midpoint between two neighbours.
    for i in range(len(epochs) - 1):
        mid = (epochs[i] + epochs[i + 1]) // 2
        assert nearest(sets, mid - 1000) is sets[i]
        assert nearest(sets, mid + 1000) is sets[i + 1]
    assert nearest(sets, epochs[0] - 1000 * day) is sets[0]
    assert nearest(sets, epochs[-1] + 1000 * day) is sets[-1]
    # The 2024-10-14 set is the one for that afternoon.
    assert nearest(sets, parse_iso("2024-10-14T15:00:00Z")).epoch_ms == sets[-1].epoch_ms
    with pytest.raises(ValueError):
        nearest([], 0)


# --------------------------------------------------------------------------- bad input


def _tle(l1=TLE_L1, l2=TLE_L2, name=TLE_NAME) -> bytes:
    lines = ([name] if name else []) + [x for x in (l1, l2) if x is not None]
    return ("\n".join(lines) + "\n").encode()


def _digit_changed(line: str, index: int) -> str:
    d = line[index]
    assert d.isdigit()
    return line[:index] + str((int(d) + 1) % 10) + line[index + 1 :]


def _epoch_shifted(line1: str) -> str:
    # Move the epoch field (columns 19-32) one column left, into the blank column 18.
    assert line1[17] == " "
    shifted = line1[:17] + line1[18:32] + " " + line1[32:]
    assert len(shifted) == 69
    return fix_checksum(shifted)


def _omm(**changes) -> bytes:
    rec = newest_record()
    for key, value in changes.items():
        if value is None:
            del rec[key]
        else:
            rec[key] = value
    return json.dumps([rec], indent=2).encode()


def _csv_short_row() -> bytes:
    text = omm_csv(newest_record())
    header, row = text.splitlines()[:2]
    return (header + "\r\n" + row.rsplit(",", 3)[0] + "\r\n").encode()


def _garbage_with_nul() -> bytes:
    data = bytearray(random.Random(25544).randbytes(512))
    data[100] = 0
    return bytes(data)


def _xml_without_tle_parameters() -> bytes:
    return re.sub(r"<tleParameters>.*</tleParameters>", "", omm_xml(newest_record())).encode()


# id -> (file content, or None for a special path; pattern the message must match)
BAD_FILES = {
    "checksum-digit": (_tle(l2=_digit_changed(TLE_L2, 12)), r"line 3: checksum is \d but the line's digits give \d"),
    "checksum-letter": (_tle(l1=TLE_L1[:68] + "X"), r"line 2: the checksum \(column 69\) is 'X', not a digit"),
    "truncated-line": (_tle(l1=TLE_L1[:68]), r"line 2: TLE line 1 has 68 characters, not 69 \(truncated\)"),
    "long-line": (_tle(l2=TLE_L2 + "0"), r"line 3: TLE line 2 has 70 characters, not 69 \(too long\)"),
    "line1-alone": (_tle(l2=None), r"line 2: TLE line 1 is not followed by a line 2"),
    "line2-alone": (_tle(l1=None, name=None), r"line 1: TLE line 2 without a line 1"),
    "catalogue-mismatch": (
        _tle(l2=fix_checksum(TLE_L2[:2] + "25545" + TLE_L2[7:])),
        r"line 3: catalogue number '25545' differs from line 1's '25544'",
    ),
    "epoch-shifted": (_tle(l1=_epoch_shifted(TLE_L1)), r"line 2: .*(out of place|layout)"),
    "garbage-nul": (_garbage_with_nul(), r"binary data.*NUL"),
    "bad-utf8": (b"ISS (ZARYA)\n\xc3\x28\xa0\xa1 not text\n", r"not UTF-8 text"),
    "empty": (b"", r"is empty"),
    "whitespace": (b"  \n\t\r\n   \n", r"is empty"),
    "eccentricity-1.5": (_omm(ECCENTRICITY=1.5), r"record 1: field ECCENTRICITY: .*less than 1.*1\.5"),
    "mean-motion-text": (_omm(MEAN_MOTION="fast"), r"record 1: field MEAN_MOTION: .*'fast'"),
    "bad-epoch": (_omm(EPOCH="2025-02-30T09:21:09.148608"), r"record 1: field EPOCH: .*2025-02-30"),
    "truncated-json": (_omm()[:200], r"invalid JSON"),
    "json-number": (b"42\n", r"JSON must be an OMM object or an array"),
    "csv-short-row": (_csv_short_row(), r"line 2: fewer values than the header has columns"),
    "xml-malformed": (omm_xml(newest_record()).replace("</meanElements>", "").encode(), r"invalid XML"),
    "xml-no-tle-parameters": (_xml_without_tle_parameters(), r"not an OMM document"),
    "directory": (None, r"is a directory"),
    "missing": (None, r"no such file"),
}
for _key in ("MEAN_MOTION", "EPOCH", "NORAD_CAT_ID"):
    BAD_FILES[f"missing-{_key}"] = (_omm(**{_key: None}), rf"record 1: field {_key}: field required")


def make_bad_file(tmp_path: Path, case: str) -> Path:
    content, _ = BAD_FILES[case]
    path = tmp_path / f"bad-{case}.txt"
    if case == "directory":
        path.mkdir()
    elif case != "missing":
        path.write_bytes(content)
    return path


def test_bad_tle_fixtures_are_what_they_claim():
    """Guard the fixtures: each damaged TLE differs from the good one only as described."""
    good = parse_elements(_tle(), "good")
    assert len(good) == 1
    shifted = _epoch_shifted(TLE_L1)
    assert shifted[-1] == str(sum(int(c) if c.isdigit() else c == "-" for c in shifted[:68]) % 10)
    assert shifted[17:31] == TLE_L1[18:32]  # the same epoch text, one column earlier
    assert shifted.split() == TLE_L1[:68].split()[:-1] + [TLE_L1.split()[-1][:-1] + shifted[-1]]
    assert _digit_changed(TLE_L2, 12)[68] == TLE_L2[68]


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_raises_input_error_naming_file_and_problem(tmp_path, case):
    path = make_bad_file(tmp_path, case)
    _, pattern = BAD_FILES[case]
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}\b.*{pattern}") as info:
        load_elements(path)
    assert "\n" not in str(info.value)
    assert info.value.source.startswith(str(path))


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_through_the_cli(tmp_path, capsys, case):
    path = make_bad_file(tmp_path, case)
    status = cli.main(["track", "--elements", str(path), "--at", "2025-03-10T00:00:00Z"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("issim: error: ")
    assert str(path) in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["garbage-nul", "xml-no-tle-parameters"])
def test_bad_file_in_a_real_process_prints_no_traceback(tmp_path, case):
    path = make_bad_file(tmp_path, case)
    env = dict(os.environ, ISSIM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "issim.cli", "track", "--elements", str(path), "--at", "2025-03-10T00:00:00Z"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("issim: error: ") and str(path) in lines[0]


def test_python_m_issim_cli_runs_a_good_command(tmp_path):
    path = tmp_path / "one.tle"
    path.write_text(f"{TLE_NAME}\n{TLE_L1}\n{TLE_L2}\n")
    env = dict(os.environ, ISSIM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "issim.cli", "track", "--json", "--elements", str(path), "--at", "2024-10-14T12:00:00Z"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["at"] == "2024-10-14T12:00:00.000Z"
