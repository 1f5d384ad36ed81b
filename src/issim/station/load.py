"""Read a station TOML file into a checked `Station`, or fail with one clear line.

Every way a file can be wrong (unreadable, not UTF-8, bad TOML, a missing or mistyped
field, an unknown reference, a duplicate id) ends as ``issim.errors.InputError`` whose
``source`` is ``FILE`` or ``FILE:field.path`` and whose message is one line.
"""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import ValidationError

from ..errors import InputError
from .model import Adapter, Agency, Cargo, Hatch, Module, Port, Station, StationDataError, StationInfo, Vehicle

BUNDLED = "iss.toml"

_FIELD_NAMES = sorted(
    {name for model in (Station, StationInfo, Agency, Module, Adapter, Port, Hatch, Vehicle, Cargo)
     for name in model.model_fields}
)

_RECORD_NAMES = {
    "agencies": "agency",
    "modules": "module",
    "adapters": "adapter",
    "ports": "port",
    "hatches": "hatch",
    "vehicles": "vehicle",
}

_EXPECTED_TABLES = "[station], [[agencies]], [[modules]], [[ports]], [[hatches]], [[vehicles]] and [sources]"


def load_station(path: Union[str, Path, None] = None) -> Station:
    """Load the station described by the TOML file at ``path``.

    Without ``path``, load the bundled 2023–2024 configuration (``issim/data/iss.toml``).
    Raises ``InputError`` if the file cannot be read or does not describe a valid station.
    """
    if path is None:
        resource = resources.files("issim") / "data" / BUNDLED
        return parse_station(resource.read_bytes(), source=f"issim/data/{BUNDLED}")
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory, not a station TOML file") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file: {exc.strerror or exc}") from None
    return parse_station(raw, source=str(path))


def parse_station(raw: bytes, source: str = "<station>") -> Station:
    """Parse the bytes of a station TOML file; ``source`` names it in error messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            source,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "a station file is TOML",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, f"invalid TOML: {exc}") from None
    if not data:
        raise InputError(source, f"the file is empty; a station file needs {_EXPECTED_TABLES}")
    try:
        return Station.model_validate(data)
    except ValidationError as exc:
        field, message = _describe(exc, data)
        raise InputError(f"{source}:{field}" if field else source, message) from None


def _describe(exc: ValidationError, data: dict[str, Any]) -> tuple[str, str]:
    """Turn pydantic's first error into (dotted field path, one-line message)."""
    errors = exc.errors(include_url=False)
    # A misspelt field shows up twice, as an unknown field and as a missing one; the
    # unknown one is the more useful to report.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = list(first["loc"])
    ctx_error = (first.get("ctx") or {}).get("error")

    if isinstance(ctx_error, StationDataError):
        field = _join(loc + [ctx_error.field]) if loc else ctx_error.field
        message = ctx_error.message
        record = _record_id(loc + [ctx_error.field], data)
    else:
        field = _join(loc)
        message = _message(first, loc)
        record = _record_id(loc, data)
    if record:
        message += f" (in {record})"
    if len(errors) > 1:
        more = len(errors) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return field, message


def _message(error: dict[str, Any], loc: list) -> str:
    kind = error["type"]
    text = str(error["msg"])
    if kind == "missing":
        text = "required field is missing"
    elif kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _FIELD_NAMES, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see docs/station.md for the fields"
        text = f"unknown field; {hint}"
    elif kind == "value_error":
        text = text.removeprefix("Value error, ")
    elif kind != "missing" and "input" in error:
        text = f"{text[:1].lower()}{text[1:]}, got {_show(error['input'])}"
    return text


def _record_id(loc: list, data: dict[str, Any]) -> Optional[str]:
    """Name the record an error sits in, e.g. "module 'zvezda'", when it has an id."""
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        items = data.get(loc[0])
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            record_id = items[loc[1]].get("id")
            if isinstance(record_id, str) and len(loc) > 2 and loc[0] in _RECORD_NAMES:
                return f"{_RECORD_NAMES[loc[0]]} {record_id!r}"
    return None


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _join(loc: list) -> str:
    """``['modules', 3, 'mass_kg']`` -> ``modules[3].mass_kg``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
