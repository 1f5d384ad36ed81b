"""The one check every element set passes before issim uses it: numbers that make sense.

An element set that parses is not yet a usable orbit. A NaN drag term propagates to NaN
positions; a JSON ``true`` read as a mean motion of 1 rev/day puts the station at GEO; a
mean motion of 0 divides by zero inside SGP4. :func:`check_sense` refuses all of these
with an :class:`~issim.errors.InputError` naming the record and the field, whatever the
set came from (TLE lines, OMM JSON, CSV or XML, a download, or the orbit a simulation
keeps in its state, which is spared only the perigee and apogee limits).

The ranges, in the units the sets are published in, and why:

- every number is finite, and a real number: a boolean is not one (JSON ``true`` would
  otherwise read as 1);
- ``ECCENTRICITY`` 0 ≤ e < 1: a closed orbit (1 and above do not come back);
- ``INCLINATION`` 0–180°, and ``RA_OF_ASC_NODE``, ``ARG_OF_PERICENTER``,
  ``MEAN_ANOMALY`` 0–360°: the ranges the OMM and TLE standards define for them;
- ``MEAN_MOTION`` in revolutions per day, above 0, and such that, with the
  eccentricity, the perigee is at least :data:`MIN_PERIGEE_KM` (100 km) above the
  Earth's equatorial radius and the apogee at most :data:`MAX_APOGEE_KM` (35,786 km,
  GEO). Below about 100 km the air brings anything down within a revolution, so a set
  there is not an orbit; above GEO is nothing issim, an ISS simulator, is about. For a
  circular orbit these limits are about 1.003 to 16.4 rev/day (the ISS: 15.5);
- ``BSTAR`` (per Earth radius) within ±1: the published ISS history reaches ±0.11 when a
  fit spans a reboost, and the lightest debris about 0.1; beyond 1, SGP4's drag term
  decays any orbit within hours;
- ``MEAN_MOTION_DOT`` (rev/day²) and ``MEAN_MOTION_DDOT`` (rev/day³) within ±1: the TLE
  fields cannot hold more, and SGP4 does not use them (they are kept to be written out);
- ``EPOCH`` from 1957-10-04 (Sputnik 1, the first object with an orbit) to before
  2100-01-01 (the end of the range of the Earth-orientation and Sun models issim uses);
- ``NORAD_CAT_ID`` 0 to 999,999,999 (nine digits, OMM's field), ``ELEMENT_SET_NO``
  0–9999 and ``EPHEMERIS_TYPE`` 0–9 (their TLE fields), ``REV_AT_EPOCH`` 0 to 10⁷ (a
  century at 17 rev/day is 620,000): sgp4 stores them in fixed-size integers;
- ``CLASSIFICATION_TYPE`` one of U, C, S: the TLE's one letter, all sgp4 can store.

The semi-major axis used for perigee and apogee is Kepler's, ``a = (μ/n²)^(1/3)`` with
SGP4's WGS72 μ; it differs from SGP4's Kozai-corrected one by about 0.1 %, a few
kilometres, which does not matter for limits this wide.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Callable, Mapping

from sgp4.earth_gravity import wgs72

from ..errors import InputError

MIN_PERIGEE_KM = 100.0  # altitude above the equatorial radius
MAX_APOGEE_KM = 35_786.0  # GEO altitude
FIRST_EPOCH = datetime(1957, 10, 4, tzinfo=timezone.utc)  # Sputnik 1
END_EPOCH = datetime(2100, 1, 1, tzinfo=timezone.utc)

# field -> (lowest, highest, whether the lowest itself is allowed, whether the highest is, unit)
RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "MEAN_MOTION": (0.0, math.inf, False, False, "rev/day"),
    "ECCENTRICITY": (0.0, 1.0, True, False, ""),
    "INCLINATION": (0.0, 180.0, True, True, "°"),
    "RA_OF_ASC_NODE": (0.0, 360.0, True, True, "°"),
    "ARG_OF_PERICENTER": (0.0, 360.0, True, True, "°"),
    "MEAN_ANOMALY": (0.0, 360.0, True, True, "°"),
    "BSTAR": (-1.0, 1.0, True, True, "per Earth radius"),
    "MEAN_MOTION_DOT": (-1.0, 1.0, True, True, "rev/day²"),
    "MEAN_MOTION_DDOT": (-1.0, 1.0, True, True, "rev/day³"),
    "NORAD_CAT_ID": (0, 999_999_999, True, True, ""),
    "ELEMENT_SET_NO": (0, 9999, True, True, ""),
    "EPHEMERIS_TYPE": (0, 9, True, True, ""),
    "REV_AT_EPOCH": (0, 10_000_000, True, True, ""),
}

# field -> the values it may take: the TLE's one letter (unclassified, classified, secret)
CHOICES: dict[str, tuple[str, ...]] = {"CLASSIFICATION_TYPE": ("U", "C", "S")}

Locate = Callable[[str], str]  # field name -> where it is ("record 3", "line 2")


def check_sense(values: Mapping, source: str, locate: Locate, orbit_size: bool = True) -> None:
    """Raise :class:`InputError` unless every field present in ``values`` makes sense.

    ``values`` holds OMM field names with numbers (and ``EPOCH`` as a timezone-aware
    ``datetime``); fields absent are not checked (a parser requires the ones it needs).
    ``locate`` says where a field is, for the message: ``SOURCE: WHERE: field F: problem``.
    ``orbit_size=False`` leaves out the perigee and apogee limits, for the orbit a
    simulation computed itself: a perigee in the air is then its outcome, not bad input.
    """
    for name, limits in RANGES.items():
        if name in values:
            problem = _range_problem(values[name], *limits)
            if problem:
                raise InputError(source, f"{locate(name)}: field {name}: {problem}")
    for name, allowed in CHOICES.items():
        if name in values and values[name] not in allowed:
            raise InputError(source, f"{locate(name)}: field {name}: must be one of {', '.join(allowed)} "
                             f"(got {values[name]!r})")
    if "EPOCH" in values:
        _check_epoch(values["EPOCH"], source, locate)
    if orbit_size and "MEAN_MOTION" in values and "ECCENTRICITY" in values:
        _check_orbit_size(values["MEAN_MOTION"], values["ECCENTRICITY"], source, locate)


def _range_problem(value, low, high, low_ok: bool, high_ok: bool, unit: str) -> str | None:
    """What is wrong with ``value`` for this range, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number (got {value!r})"
    above = value >= low if low_ok else value > low
    below = value <= high if high_ok else value < high
    if above and below:
        return None
    lower = f"at least {low:g}" if low_ok else f"greater than {low:g}"
    if math.isinf(high):
        wanted = f"must be {lower}"
    else:
        wanted = f"must be {lower} and {'at most' if high_ok else 'less than'} {high:g}"
    unit = unit if unit in ("", "°") else " " + unit
    return f"{wanted}{unit} (got {value!r})"


def _check_epoch(epoch: datetime, source: str, locate: Locate) -> None:
    if not FIRST_EPOCH <= epoch < END_EPOCH:
        raise InputError(
            source,
            f"{locate('EPOCH')}: field EPOCH: must be from {FIRST_EPOCH.date()} (the first satellite) "
            f"to the end of {END_EPOCH.year - 1} (got {epoch.isoformat()})",
        )


def semi_major_axis_km(mean_motion_rev_per_day: float) -> float:
    """Kepler's semi-major axis in km for a mean motion in revolutions per day (WGS72 μ)."""
    # The axis of 1 rev/day, scaled: squaring a tiny mean motion in rad/s would underflow to 0.
    one_rev_per_day_km = (wgs72.mu * (86_400.0 / (2.0 * math.pi)) ** 2) ** (1.0 / 3.0)
    return one_rev_per_day_km * mean_motion_rev_per_day ** (-2.0 / 3.0)


def _check_orbit_size(n_rev_per_day: float, ecc: float, source: str, locate: Locate) -> None:
    a = semi_major_axis_km(n_rev_per_day)
    perigee = a * (1.0 - ecc) - wgs72.radiusearthkm
    apogee = a * (1.0 + ecc) - wgs72.radiusearthkm
    what = f"{n_rev_per_day:g} rev/day" + (f" with eccentricity {ecc:g}" if ecc else "")
    if perigee < MIN_PERIGEE_KM:
        problem = f"gives a perigee {perigee:,.0f} km above the Earth, below {MIN_PERIGEE_KM:g} km where no orbit lasts"
    elif apogee > MAX_APOGEE_KM:
        problem = f"gives an apogee {apogee:,.0f} km above the Earth, beyond GEO ({MAX_APOGEE_KM:,.0f} km)"
    else:
        return
    raise InputError(source, f"{locate('MEAN_MOTION')}: field MEAN_MOTION: {what} {problem}")


__all__ = ["check_sense", "semi_major_axis_km", "RANGES", "MIN_PERIGEE_KM", "MAX_APOGEE_KM"]
