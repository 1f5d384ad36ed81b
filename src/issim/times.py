"""Simulation time: integer milliseconds since the Unix epoch, UTC.

Every time that crosses an issim API is an ``int`` (or an ``int64`` array) of UTC
milliseconds. This module converts it to and from ISO 8601 text (always ending in
``Z``), to the split Julian dates that ``sgp4`` wants, and to Skyfield ``Time`` objects
for frame rotations that need UT1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

from .errors import InputError

MS_PER_S = 1000
MS_PER_DAY = 86_400_000
JD_UNIX_EPOCH = 2440587.5  # Julian date of 1970-01-01T00:00:00 UTC

_ISO_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}"  # date
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # optional time
    r"(?:Z|[+-]\d{2}:?\d{2})?$"  # optional zone
)


def parse_iso(text: str, source: str = "time") -> int:
    """Parse ISO 8601 UTC text into integer milliseconds.

    Accepts ``2025-03-09T12:00:00Z``, fractional seconds, a numeric offset
    (``+02:00``, converted to UTC) and a bare date (midnight UTC). A time of day
    without ``Z`` or an offset is refused, because issim never guesses a time zone.
    Raises :class:`InputError` naming ``source``.
    """
    s = text.strip()
    if not _ISO_RE.match(s):
        raise InputError(source, f"'{text}' is not an ISO 8601 UTC time; write e.g. 2025-03-09T12:00:00Z")
    has_time = "T" in s or " " in s
    has_zone = s.endswith("Z") or bool(re.search(r"[+-]\d{2}:?\d{2}$", s[10:]))
    if has_time and not has_zone:
        raise InputError(source, f"'{text}' has no time zone; end it with Z for UTC")
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if has_time else s)
    except ValueError as exc:
        raise InputError(source, f"'{text}' is not a valid date and time ({exc})") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return datetime_to_ms(dt)


def datetime_to_ms(dt: datetime) -> int:
    """Convert an aware ``datetime`` to integer UTC milliseconds (microseconds rounded)."""
    if dt.tzinfo is None:
        raise ValueError("a naive datetime has no time zone; attach timezone.utc")
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * MS_PER_S + round(delta.microseconds / 1000)


def ms_to_datetime(ms: int) -> datetime:
    """Integer UTC milliseconds as an aware UTC ``datetime`` (exact: no float on the way)."""
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(ms))


def format_iso(ms: int, digits: int = 3) -> str:
    """Format integer UTC milliseconds as ISO 8601 ending in ``Z``.

    ``digits`` is the number of fractional-second digits (0 or 3).
    """
    ms = int(ms)
    dt = datetime.fromtimestamp(ms // MS_PER_S, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += f".{ms % MS_PER_S:03d}"
    return text + "Z"


def in_zone(ms: int, zone) -> datetime:
    """UTC milliseconds as an aware ``datetime`` in ``zone`` (a ``tzinfo``), to the whole second."""
    return datetime.fromtimestamp(int(ms) // MS_PER_S, tz=timezone.utc).astimezone(zone)


def now_ms() -> int:
    """The wall-clock time now, in UTC milliseconds."""
    return datetime_to_ms(datetime.now(timezone.utc))


def jd_split(ms) -> tuple[np.ndarray, np.ndarray]:
    """Split UTC milliseconds into (whole, fraction) Julian dates, as ``sgp4`` wants.

    The whole part is the Julian date of the preceding UTC midnight (ending in .5);
    the fraction is exact to the millisecond because it is computed from integers.
    """
    ms = np.asarray(ms, dtype=np.int64)
    days, rem = np.divmod(ms, MS_PER_DAY)
    return JD_UNIX_EPOCH + days.astype(np.float64), rem.astype(np.float64) / MS_PER_DAY


@lru_cache(maxsize=1)
def timescale():
    """Skyfield's timescale from its built-in tables (works offline).

    Built from the tables as ``skyfield.api.load.timescale(builtin=True)`` builds it, without
    importing ``skyfield.api``: that brings skyfield's downloader (urllib, ssl, certifi), a
    third of ``issim track``'s import time, for files issim never downloads.
    ``tests/test_startup.py`` checks that the two agree.
    """
    try:
        from skyfield.functions import load_bundled_npy
        from skyfield.timelib import Timescale

        arrays = load_bundled_npy("iers.npz")
        daily_tt = arrays["tt_jd_minus_arange"] + np.arange(len(arrays["tt_jd_minus_arange"]))
        daily_delta_t = (arrays["delta_t_1e7"] / 1e7).round(7)
        return Timescale((daily_tt, daily_delta_t), arrays["leap_dates"], arrays["leap_offsets"])
    except (ImportError, KeyError, OSError, TypeError):  # a skyfield that keeps its tables otherwise
        from skyfield.api import load

        return load.timescale(builtin=True)


def skyfield_time(ms):
    """A Skyfield ``Time`` for UTC milliseconds (scalar or array)."""
    # Skyfield picks the leap-second offset from the calendar day it is given, so the
    # day must be the real one: pass whole days and the seconds within that day.
    days, rem = np.divmod(np.asarray(ms, dtype=np.int64), MS_PER_DAY)
    return timescale().utc(1970, 1, 1 + days, 0, 0, rem / MS_PER_S)


@dataclass(frozen=True)
class Interval:
    """A span of simulation time, ``[start_ms, end_ms)`` in UTC milliseconds.

    Eclipses, relay contacts and other windows are all intervals.
    """

    start_ms: int
    end_ms: int

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / MS_PER_S

    def to_json(self) -> dict:
        return {"start": format_iso(self.start_ms), "end": format_iso(self.end_ms)}
