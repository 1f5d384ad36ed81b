"""Element sets: the published mean elements that SGP4 propagates.

issim reads the three forms in which element sets are published, always through
``sgp4``'s own parsers, after checking the input closely enough to say what is wrong:

- TLE, two lines or three (a name line first), any number of sets in one file;
- OMM as CelesTrak publishes it: JSON (an array of objects, or one object), CSV, and XML.

A file may hold many sets of the same object (the bundled history holds 499); the one
used for a computation is the one whose epoch is nearest the time asked about
(:func:`nearest`). Catalogue numbers passed 99999 in 2026: new sets should be read as OMM.
"""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sgp4 import omm
from sgp4.api import SGP4_ERRORS, WGS72, Satrec
from sgp4.io import LINE1, LINE2, compute_checksum
from sgp4.io import twoline2rv as _check_tle_layout
from sgp4.earth_gravity import wgs72

from ..errors import InputError
from ..times import MS_PER_DAY, format_iso
from .checks import check_sense

EARTH_EQUATORIAL_RADIUS_KM = 6378.137  # WGS84
MAX_SATNUM_SGP4 = 339_999  # the largest number the Alpha-5 field can hold


@dataclass(frozen=True, eq=False)
class ElementSet:
    """One published element set, ready to propagate.

    ``epoch_ms`` is the epoch in UTC milliseconds; angles are in degrees, mean motion in
    revolutions per day, as published. ``satrec`` is the initialised ``sgp4`` model.
    ``source`` says where it came from (file and record), for messages and reports.
    """

    name: str
    norad_id: int
    epoch_ms: int
    mean_motion_rev_per_day: float
    eccentricity: float
    inclination_deg: float
    bstar_per_earth_radius: float
    source: str
    satrec: Satrec = field(repr=False)
    omm_fields: Mapping = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        # read-only: the bundled sets are parsed once a process and shared by every run in it
        object.__setattr__(self, "omm_fields", MappingProxyType(dict(self.omm_fields)))

    @property
    def epoch_iso(self) -> str:
        """The epoch as ISO 8601 UTC text."""
        return format_iso(self.epoch_ms)

    @property
    def period_min(self) -> float:
        """The orbital period in minutes, from the mean motion."""
        return 1440.0 / self.mean_motion_rev_per_day

    @property
    def semi_major_axis_km(self) -> float:
        """SGP4's mean semi-major axis in kilometres (WGS72 Earth radii times ``a``)."""
        return self.satrec.a * wgs72.radiusearthkm

    @property
    def mean_altitude_km(self) -> float:
        """Semi-major axis minus the WGS84 equatorial radius, in kilometres.

        This is the "mean altitude" the reference sheet derives from element sets.
        """
        return self.semi_major_axis_km - EARTH_EQUATORIAL_RADIUS_KM

    def to_omm(self) -> dict:
        """The set as a CelesTrak-style OMM JSON object."""
        return dict(self.omm_fields)


# --------------------------------------------------------------------------- reading


def load_elements(path: str | Path) -> list[ElementSet]:
    """Read every element set in a file (TLE, OMM JSON, CSV or XML), oldest first.

    Raises :class:`~issim.errors.InputError` naming the file, the line or record and
    the field when anything is malformed: nothing is skipped silently.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not an element-set file") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})") from None
    return parse_elements(data, str(path))


def parse_elements(data: bytes | str, source: str = "<elements>") -> list[ElementSet]:
    """Parse element sets from bytes or text; the format is recognised from the content."""
    if isinstance(data, bytes):
        if b"\x00" in data:
            raise InputError(source, "is binary data, not an element set (it contains NUL bytes)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(source, f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    else:
        text = data
    stripped = text.strip()
    if not stripped:
        raise InputError(source, "is empty; expected a TLE or an OMM (JSON, CSV or XML) element set")
    first = stripped[0]
    if first in "[{":
        sets = _parse_omm_json(stripped, source)
    elif first == "<":
        sets = _parse_omm_xml(stripped, source)
    elif _looks_like_csv(stripped):
        sets = _parse_omm_csv(stripped, source)
    elif _is_json(stripped):  # a JSON number, string or literal: say so, not "bad TLE"
        sets = _parse_omm_json(stripped, source)
    else:
        sets = _parse_tle(text, source)
    if not sets:
        raise InputError(source, "holds no element sets")
    return sorted(sets, key=lambda s: s.epoch_ms)


def elements_from_omm(fields: dict, source: str = "<omm>", orbit_size: bool = True) -> ElementSet:
    """One element set from OMM fields as :meth:`ElementSet.to_omm` gives them.

    ``orbit_size=False`` skips the perigee and apogee limits (see
    :func:`~issim.orbit.checks.check_sense`), for an orbit issim computed itself.
    """
    return _omm_to_set(fields, "record", source, orbit_size)


def nearest(sets: Sequence[ElementSet], at_ms: int) -> ElementSet:
    """The set whose epoch is nearest ``at_ms`` (the newer one on a tie)."""
    if not sets:
        raise ValueError("no element sets to choose from")
    return min(reversed(sets), key=lambda s: abs(s.epoch_ms - at_ms))


# --------------------------------------------------------------------------- TLE


def _parse_tle(text: str, source: str) -> list[ElementSet]:
    lines = [(n, line.rstrip("\r\n").rstrip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line.strip()]
    sets = []
    name = None
    i = 0
    while i < len(lines):
        n, line = lines[i]
        if line.startswith("1 "):
            if i + 1 >= len(lines) or not lines[i + 1][1].startswith("2 "):
                raise InputError(source, f"line {n}: TLE line 1 is not followed by a line 2")
            n2, line2 = lines[i + 1]
            sets.append(_tle_to_set(name, (n, line), (n2, line2), source))
            name = None
            i += 2
        elif line.startswith("2 "):
            raise InputError(source, f"line {n}: TLE line 2 without a line 1 before it")
        else:
            if name is not None:
                raise InputError(
                    source,
                    f"line {n}: expected TLE line 1 (starting '1 ') after the name line "
                    f"'{name}'; this is neither a TLE nor an OMM file",
                )
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            if len(name) > 40 or not name.isprintable():
                raise InputError(source, f"line {n}: not a TLE name line or TLE line; this is not an element set")
            i += 1
    if name is not None:
        raise InputError(source, f"ends after the name line '{name}' without its two TLE lines")
    return sets


def _check_tle_line(number: int, lineno: int, line: str, source: str) -> None:
    template = LINE1 if number == 1 else LINE2
    if len(line) != 69:
        what = "truncated" if len(line) < 69 else "too long"
        raise InputError(source, f"line {lineno}: TLE line {number} has {len(line)} characters, not 69 ({what})")
    if not line.isascii() or not line.isprintable():
        raise InputError(source, f"line {lineno}: TLE line {number} holds characters that are not printable ASCII")
    checksum = line[68]
    if not checksum.isdigit():
        raise InputError(source, f"line {lineno}: the checksum (column 69) is '{checksum}', not a digit")
    expected = compute_checksum(line)
    if int(checksum) != expected:
        raise InputError(
            source,
            f"line {lineno}: checksum is {checksum} but the line's digits give {expected}; "
            "the line is damaged or was edited",
        )
    for col, (want, got) in enumerate(zip(template, line), 1):
        if want == " " and got != " " or want == "." and got != ".":
            raise InputError(
                source,
                f"line {lineno}: column {col} should be '{want}' but is '{got}'; "
                f"a field is out of place (TLE line {number} layout: {template})",
            )


def _tle_to_set(name, l1: tuple[int, str], l2: tuple[int, str], source: str) -> ElementSet:
    (n1, line1), (n2, line2) = l1, l2
    _check_tle_line(1, n1, line1, source)
    _check_tle_line(2, n2, line2, source)
    if line1[2:7] != line2[2:7]:
        raise InputError(source, f"line {n2}: catalogue number {line2[2:7]!r} differs from line 1's {line1[2:7]!r}")
    # Before sgp4 sees the numbers: a mean motion of 0, for one, divides by zero inside it.
    check_sense(_tle_values(line1, line2), source, lambda f: _tle_place(f, n1, n2))
    try:  # sgp4's Python reader checks every field against the official layout
        _check_tle_layout(line1, line2, wgs72)
    except (ValueError, OverflowError) as exc:  # (a day fraction can overflow its datetime)
        bad = n1 if "line 1" in str(exc) else n2
        raise InputError(source, f"line {bad}: a field does not match the TLE layout; {_first_line(exc)}") from None
    try:
        epoch_day = float(line1[20:32])
    except ValueError:
        raise InputError(source, f"line {n1}: epoch {line1[18:32]!r} (columns 19-32) is not a number") from None
    if not 1.0 <= epoch_day < 367.0:
        raise InputError(source, f"line {n1}: epoch day of year {epoch_day} is outside 1-366")
    sat = Satrec.twoline2rv(line1, line2, WGS72)
    where = f"{source}:{n1}"
    return _finish(sat, name or f"NORAD {sat.satnum}", where, omm_from_satrec(sat, name))


# OMM field -> (TLE line 1 or 2, first column, last column), 1-based as the layout gives them
TLE_COLUMNS = {
    "MEAN_MOTION_DOT": (1, 34, 43),
    "MEAN_MOTION_DDOT": (1, 45, 52),
    "BSTAR": (1, 54, 61),
    "INCLINATION": (2, 9, 16),
    "RA_OF_ASC_NODE": (2, 18, 25),
    "ECCENTRICITY": (2, 27, 33),
    "ARG_OF_PERICENTER": (2, 35, 42),
    "MEAN_ANOMALY": (2, 44, 51),
    "MEAN_MOTION": (2, 53, 63),
}


def _tle_values(line1: str, line2: str) -> dict[str, float]:
    """The TLE's physical fields in OMM names and units (rev/day, degrees, per Earth radius).

    A field that is not a number is left out: sgp4's layout check names it afterwards.
    """
    values = {}
    for name, (line, first, last) in TLE_COLUMNS.items():
        text = (line1, line2)[line - 1][first - 1 : last]
        try:
            values[name] = _tle_number(name, text)
        except ValueError:
            continue
    return values


def _tle_number(name: str, text: str) -> float:
    if name == "ECCENTRICITY":  # a leading decimal point assumed
        if not text.isdigit():
            raise ValueError(text)
        return float("0." + text)
    if name in ("BSTAR", "MEAN_MOTION_DDOT"):  # sign, five digits after an assumed point, exponent
        mantissa, exponent = text[:-2].strip(), text[-2:]
        sign = "-" if mantissa.startswith("-") else ""
        digits = mantissa.lstrip("+-")
        if not digits.isdigit() or exponent[0] not in "+-" or not exponent[1].isdigit():
            raise ValueError(text)
        return float(f"{sign}0.{digits}e{exponent}")
    return float(text)


def _tle_place(name: str, n1: int, n2: int) -> str:
    line, first, last = TLE_COLUMNS[name]
    return f"line {n1 if line == 1 else n2} (columns {first}-{last})"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- OMM


class OmmRecord(BaseModel):
    """The OMM fields SGP4 needs, as CelesTrak names them; unknown fields are kept aside.

    This reads the types (text from CSV and XML becomes numbers); whether the numbers make
    sense is :func:`~issim.orbit.checks.check_sense`'s to say.
    """

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    OBJECT_NAME: str = "UNKNOWN"
    OBJECT_ID: str = ""
    EPOCH: datetime
    MEAN_MOTION: float
    ECCENTRICITY: float
    INCLINATION: float
    RA_OF_ASC_NODE: float
    ARG_OF_PERICENTER: float
    MEAN_ANOMALY: float
    EPHEMERIS_TYPE: int = 0
    CLASSIFICATION_TYPE: str = "U"
    NORAD_CAT_ID: int
    ELEMENT_SET_NO: int = 999
    REV_AT_EPOCH: int = 0
    BSTAR: float
    MEAN_MOTION_DOT: float
    MEAN_MOTION_DDOT: float = 0.0

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value):
        # pydantic would read JSON true as 1: a mean motion of 1 rev/day, at GEO.
        if isinstance(value, bool):
            raise ValueError("expected a number or text, not a boolean")
        return value

    @field_validator("EPOCH", mode="before")
    @classmethod
    def _epoch_is_text(cls, value):
        # pydantic would read a number as seconds since 1970; OMM epochs are ISO 8601 text.
        if not isinstance(value, (str, datetime)):
            raise ValueError(f"expected an ISO 8601 date and time, got {type(value).__name__}")
        return value


def _omm_to_set(raw, where: str, source: str, orbit_size: bool = True) -> ElementSet:
    if not isinstance(raw, dict):
        raise InputError(source, f"{where}: expected an OMM object with named fields, found {type(raw).__name__}")
    cleaned = {k: v for k, v in raw.items() if v not in ("", None)}
    try:
        rec = OmmRecord.model_validate(cleaned)
    except ValidationError as exc:
        e = exc.errors()[0]
        fld = ".".join(str(p) for p in e["loc"]) or "record"
        value = f" (got {e['input']!r})" if e["type"] != "missing" else ""
        msg = e["msg"].removeprefix("Value error, ")  # a validator's own words need no prefix
        raise InputError(source, f"{where}: field {fld}: {msg[:1].lower() + msg[1:]}{value}") from None
    epoch = rec.EPOCH if rec.EPOCH.tzinfo else rec.EPOCH.replace(tzinfo=timezone.utc)
    # Checked before anything converts the epoch or sgp4 sees a number (year 1 in UTC+1
    # cannot even be converted to UTC).
    values = {**rec.model_dump(include=set(OmmRecord.model_fields)), "EPOCH": epoch}
    check_sense(values, source, lambda f: where, orbit_size)
    epoch = epoch.astimezone(timezone.utc)
    fields = {
        "OBJECT_NAME": rec.OBJECT_NAME,
        "OBJECT_ID": rec.OBJECT_ID,
        "EPOCH": epoch.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "MEAN_MOTION": rec.MEAN_MOTION,
        "ECCENTRICITY": rec.ECCENTRICITY,
        "INCLINATION": rec.INCLINATION,
        "RA_OF_ASC_NODE": rec.RA_OF_ASC_NODE,
        "ARG_OF_PERICENTER": rec.ARG_OF_PERICENTER,
        "MEAN_ANOMALY": rec.MEAN_ANOMALY,
        "EPHEMERIS_TYPE": rec.EPHEMERIS_TYPE,
        "CLASSIFICATION_TYPE": rec.CLASSIFICATION_TYPE,
        "NORAD_CAT_ID": rec.NORAD_CAT_ID,
        "ELEMENT_SET_NO": rec.ELEMENT_SET_NO,
        "REV_AT_EPOCH": rec.REV_AT_EPOCH,
        "BSTAR": rec.BSTAR,
        "MEAN_MOTION_DOT": rec.MEAN_MOTION_DOT,
        "MEAN_MOTION_DDOT": rec.MEAN_MOTION_DDOT,
    }
    sat = Satrec()
    # sgp4's model stores the number in the five-character Alpha-5 field; beyond its
    # range issim keeps its own copy and gives sgp4 a placeholder (the number does not
    # enter the propagation).
    for_sgp4 = {k: str(v) for k, v in fields.items()}
    if rec.NORAD_CAT_ID > MAX_SATNUM_SGP4:
        for_sgp4["NORAD_CAT_ID"] = "0"
    try:
        omm.initialize(sat, for_sgp4)
    except (ValueError, KeyError) as exc:
        raise InputError(source, f"{where}: sgp4 refused the record ({_first_line(exc)})") from None
    return _finish(sat, rec.OBJECT_NAME, f"{source} {where}", fields, norad_id=rec.NORAD_CAT_ID)


def _parse_omm_json(text: str, source: str) -> list[ElementSet]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError(source, "JSON must be an OMM object or an array of OMM objects")
    return [_omm_to_set(rec, f"record {i}", source) for i, rec in enumerate(data, 1)]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _looks_like_csv(text: str) -> bool:
    header = text.splitlines()[0]
    return "," in header and "EPOCH" in header.upper()


def _parse_omm_csv(text: str, source: str) -> list[ElementSet]:
    reader = csv.DictReader(io.StringIO(text))
    try:  # the csv module raises its own error on a stray carriage return or NUL in a field
        header = reader.fieldnames or []
        if len(set(header)) != len(header):
            raise InputError(source, "line 1: the CSV header repeats a column name")
        sets = []
        for rec in reader:
            lineno = reader.line_num
            if None in rec:
                raise InputError(source, f"line {lineno}: more values than the header has columns")
            if any(v is None for v in rec.values()):
                raise InputError(source, f"line {lineno}: fewer values than the header has columns")
            sets.append(_omm_to_set(rec, f"line {lineno}", source))
    except csv.Error as exc:
        raise InputError(source, f"line {max(reader.line_num, 1)}: not valid CSV ({exc})") from None
    return sets


def _parse_omm_xml(text: str, source: str) -> list[ElementSet]:
    try:
        records = list(omm.parse_xml(io.StringIO(text)))
    except ET.ParseError as exc:
        line, col = exc.position
        raise InputError(source, f"line {line} column {col}: invalid XML") from None
    except (AttributeError, TypeError):  # sgp4 finds None where a segment lacks a part
        raise InputError(
            source, "XML is not an OMM document (a segment lacks data, metadata, meanElements or tleParameters)"
        ) from None
    return [_omm_to_set(rec, f"segment {i}", source) for i, rec in enumerate(records, 1)]


# --------------------------------------------------------------------------- shared


def _finish(sat: Satrec, name: str, where: str, fields: dict, norad_id: int | None = None) -> ElementSet:
    if sat.error:
        raise InputError(where, f"sgp4 cannot use this element set: {SGP4_ERRORS.get(sat.error, sat.error)}")
    epoch_ms = _jd_to_ms(sat.jdsatepoch, sat.jdsatepochF)
    return ElementSet(
        name=name,
        norad_id=sat.satnum if norad_id is None else norad_id,
        epoch_ms=epoch_ms,
        mean_motion_rev_per_day=sat.no_kozai * 1440.0 / (2.0 * math.pi),
        eccentricity=sat.ecco,
        inclination_deg=math.degrees(sat.inclo),
        bstar_per_earth_radius=sat.bstar,
        source=where,
        satrec=sat,
        omm_fields=fields,
    )


def _jd_to_ms(jd: float, fraction: float) -> int:
    # Whole days and the fraction apart keep the precision one float Julian date loses.
    whole = math.floor(jd - 2440587.5)
    rest = (jd - 2440587.5 - whole) + fraction
    return int(whole) * MS_PER_DAY + round(rest * MS_PER_DAY)


def omm_from_satrec(sat: Satrec, name: str | None) -> dict:
    """OMM fields for a set read from a TLE, so every set can be written as OMM JSON."""
    epoch_ms = _jd_to_ms(sat.jdsatepoch, sat.jdsatepochF)
    epoch = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return {
        "OBJECT_NAME": name or f"NORAD {sat.satnum}",
        "OBJECT_ID": sat.intldesg,
        "EPOCH": epoch.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "MEAN_MOTION": sat.no_kozai * 1440.0 / (2.0 * math.pi),
        "ECCENTRICITY": sat.ecco,
        "INCLINATION": math.degrees(sat.inclo),
        "RA_OF_ASC_NODE": math.degrees(sat.nodeo),
        "ARG_OF_PERICENTER": math.degrees(sat.argpo),
        "MEAN_ANOMALY": math.degrees(sat.mo),
        "EPHEMERIS_TYPE": sat.ephtype,
        "CLASSIFICATION_TYPE": sat.classification,
        "NORAD_CAT_ID": sat.satnum,
        "ELEMENT_SET_NO": sat.elnum,
        "REV_AT_EPOCH": sat.revnum,
        "BSTAR": sat.bstar,
        "MEAN_MOTION_DOT": sat.ndot * (1036800.0 / math.pi),
        "MEAN_MOTION_DDOT": sat.nddot * (2985984000.0 / 2.0 / math.pi),
    }


def write_omm_json(sets: Iterable[ElementSet], path: Path) -> None:
    """Write sets as an OMM JSON array, atomically (a temporary file, then a rename).

    The text is made in full first (strict JSON: no NaN) and a failed write removes the
    temporary file, so ``path`` is either the old file or the new one, never half of one.
    """
    text = json.dumps([s.to_omm() for s in sets], indent=2, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["ElementSet", "load_elements", "parse_elements", "elements_from_omm", "nearest", "write_omm_json", "EARTH_EQUATORIAL_RADIUS_KM"]
