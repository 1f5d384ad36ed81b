"""Read a station TOML file into a checked `Station`, or fail with one clear line.

Every way a file can be wrong (unreadable, not UTF-8, bad TOML, a missing or mistyped
field, an unknown reference, a duplicate id) ends as ``issim.errors.InputError`` whose
``source`` is ``FILE`` or ``FILE:field.path`` and whose message is one line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Optional, Union

from pydantic import ValidationError

from ..inputs import parse_toml, read_bytes, validation_error
import datetime as dt
import re

from ..errors import InputError
from .model import Adapter, Agency, Cargo, Era, Hatch, Module, Port, Station, StationDataError, StationInfo, Vehicle

BUNDLED = "iss.toml"

_FIELD_NAMES = sorted(
    {name for model in (Station, StationInfo, Era, Agency, Module, Adapter, Port, Hatch, Vehicle, Cargo)
     for name in model.model_fields}
)

_RECORD_NAMES = {
    "agencies": "agency",
    "modules": "module",
    "adapters": "adapter",
    "ports": "port",
    "hatches": "hatch",
    "vehicles": "vehicle",
    "eras": "era",
}

_EXPECTED_TABLES = "[station], [[agencies]], [[modules]], [[ports]], [[hatches]], [[vehicles]] and [sources]"


_cache: dict[tuple, Station] = {}


def load_station(path: Union[str, Path, None] = None, era: Optional[str] = None) -> Station:
    """Load the station described by the TOML file at ``path``, as it was in ``era``.

    Without ``path``, load the bundled file (``issim/data/iss.toml``); without ``era``, its
    last era (today's configuration). Raises ``InputError`` if the file cannot be read,
    does not describe a valid station, or has no such era.
    """
    if path is None:
        key = (BUNDLED, era)
        if key not in _cache:  # the bundled file does not change under a run: read it once an era
            resource = resources.files("issim") / "data" / BUNDLED
            _cache[key] = parse_station(resource.read_bytes(), source=f"issim/data/{BUNDLED}", era=era)
        return _cache[key]
    return parse_station(read_bytes(path, "a station TOML file"), source=str(path), era=era)


def era_names(path: Union[str, Path, None] = None) -> tuple[str, ...]:
    """The eras a station file describes, oldest first (the last is the default)."""
    return tuple(e.id for e in load_station(path).eras)


def parse_station(raw: bytes, source: str = "<station>", era: Optional[str] = None) -> Station:
    """Parse the bytes of a station TOML file; ``source`` names it in error messages."""
    data = parse_toml(raw, source, "a station file", _EXPECTED_TABLES)
    data, places = _for_era(data, source, era)
    try:
        return Station.model_validate(data)
    except ValidationError as exc:
        error = validation_error(exc, source, data, _FIELD_NAMES, _RECORD_NAMES, "docs/station.md")
    raise InputError(_file_place(error.source, source, places), error.message) from None


def _file_place(where: str, source: str, places: dict[str, list[int]]) -> str:
    """``FILE:ports[3].x`` with the index the record has in the file, not in its era."""
    match = re.match(rf"^{re.escape(source)}:([a-z]+)\[(\d+)\](.*)$", where)
    if not match or match.group(1) not in places:
        return where
    table, i, rest = match.group(1), int(match.group(2)), match.group(3)
    index = places[table]
    return f"{source}:{table}[{index[i] if i < len(index) else i}]{rest}"


_DATED = ("modules", "adapters", "ports", "hatches", "vehicles")


def _aboard(record: object, day: dt.date) -> bool:
    """Whether a record's ``present_from``/``present_until`` (a module's launch date by
    default) put it aboard on ``day``; a record with dates of the wrong type is kept, so
    that the model's checks name the field."""
    if not isinstance(record, dict):
        return True
    start = record.get("present_from", record.get("launch_date"))
    end = record.get("present_until")
    if isinstance(start, dt.date) and start > day:
        return False
    return not (isinstance(end, dt.date) and day >= end)


def _for_era(data: dict, source: str, era: Optional[str]) -> tuple[dict, dict[str, list[int]]]:
    """The file's records as they were in ``era`` (default: the last of ``[[eras]]``).

    Records not aboard that day are dropped, with what hangs on them: a port on a module
    not yet there (or gone), a hatch to such a volume, a vehicle whose port is gone. A port
    whose module or vehicle is not aboard is free that day, and loses an adapter not yet
    installed. A file without ``[[eras]]`` is taken as it is. Also returns, per table, the
    file's index of each record kept, to name a record in an error as the file has it.
    """
    eras = data.get("eras")
    if not isinstance(eras, list) or not eras:
        if era is not None:
            raise InputError(source, f"has no [[eras]], so there is no era {era!r}")
        return data, {}
    by_id = {e.get("id"): e for e in eras if isinstance(e, dict)}
    chosen = by_id.get(era) if era is not None else eras[-1]
    if chosen is None:
        known = ", ".join(str(k) for k in by_id)
        raise InputError(source, f"no era {era!r}; eras: {known}")
    day = chosen.get("date") if isinstance(chosen, dict) else None
    if not isinstance(day, dt.date):
        return data, {}  # the model's checks report the malformed era
    out = dict(data)
    kept = {table: list(enumerate(data[table])) for table in _DATED if isinstance(data.get(table), list)}

    def keep(table: str, test) -> None:
        kept[table] = [(i, r) for i, r in kept.get(table, []) if not isinstance(r, dict) or test(r)]
        out[table] = [r for _, r in kept[table]]

    for table in _DATED:
        keep(table, lambda r: _aboard(r, day))

    def names(table: str, rows=None) -> set:
        return {r.get("id") for r in (out.get(table, []) if rows is None else rows) if isinstance(r, dict)}

    # Only what another era has is dropped here; an id the file never defines is kept, for
    # the model's checks to name.
    gone = (names("modules", data.get("modules") or []) | names("vehicles", data.get("vehicles") or [])
            | names("ports", data.get("ports") or []))
    modules = names("modules")
    gone -= modules
    keep("ports", lambda r: r.get("module") not in gone)
    volumes = modules | {r.get("id") for r in out.get("vehicles", []) if isinstance(r, dict)}
    adapters, all_adapters = names("adapters"), names("adapters", data.get("adapters") or [])
    ports = []
    for r in out["ports"]:
        if isinstance(r, dict):
            r = dict(r)
            if r.get("attached") in gone - volumes:
                r.pop("attached")
                r["status"] = "free"
            if r.get("adapter") in all_adapters - adapters:
                r.pop("adapter")
        ports.append(r)
    out["ports"] = ports
    kept["ports"] = [(i, r) for (i, _), r in zip(kept["ports"], ports)]
    gone -= names("ports")
    keep("vehicles", lambda r: r.get("port") not in gone)
    gone -= names("vehicles")
    keep("hatches", lambda r: not {r.get("side_a"), r.get("side_b"), r.get("port")} & gone)
    if isinstance(data.get("station"), dict) and isinstance(chosen, dict):
        station = dict(data["station"])
        station["era"] = chosen.get("id", "")
        for field in ("configuration", "reference_volume_range_m3", "reference_volume_src", "reference_volume_note"):
            if field in chosen:
                station[field] = chosen[field]
        out["station"] = station
    return out, {table: [i for i, _ in rows] for table, rows in kept.items()}
