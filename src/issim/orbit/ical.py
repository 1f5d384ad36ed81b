"""Passes as an iCalendar file (RFC 5545), for a phone's or a desktop's calendar.

One event per pass (or per visible part of one), in UTC, each with a stable ``UID``
(the station, the site and the start to the second), so that importing a newer export
updates the events instead of doubling them, and with a reminder five minutes before.
Lines end in CRLF and are folded at 75 octets, as section 3.1 of the RFC requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..times import MS_PER_S

REMINDER = "-PT5M"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start_ms: int
    end_ms: int
    summary: str
    description: str
    location: str
    lat_deg: float
    lon_deg: float


def calendar_text(events: list[CalendarEvent], name: str, stamp_ms: int) -> str:
    """The text of a calendar holding ``events``; ``stamp_ms`` is when it was made (DTSTAMP)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//issim//ISS passes//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_text(name)}"]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{_utc(stamp_ms)}",
            f"DTSTART:{_utc(e.start_ms)}",
            f"DTEND:{_utc(max(e.end_ms, e.start_ms + MS_PER_S))}",
            f"SUMMARY:{_text(e.summary)}",
            f"DESCRIPTION:{_text(e.description)}",
            f"LOCATION:{_text(e.location)}",
            f"GEO:{e.lat_deg:.6f};{e.lon_deg:.6f}",
            "TRANSP:TRANSPARENT",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_text(e.summary)}",
            f"TRIGGER:{REMINDER}",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(int(ms) // MS_PER_S, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never inside a UTF-8 character."""
    out, piece, size, limit = [], "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(piece)
            piece, size, limit = "", 0, 74  # continuation lines start with a space
        piece += ch
        size += n
    out.append(piece)
    return "\r\n ".join(out)
