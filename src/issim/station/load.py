"""Read a station TOML file into a checked `Station`, or fail with one clear line.

Every way a file can be wrong (unreadable, not UTF-8, bad TOML, a missing or mistyped
field, an unknown reference, a duplicate id) ends as ``issim.errors.InputError`` whose
``source`` is ``FILE`` or ``FILE:field.path`` and whose message is one line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Union

from pydantic import ValidationError

from ..inputs import parse_toml, read_bytes, validation_error
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
    return parse_station(read_bytes(path, "a station TOML file"), source=str(path))


def parse_station(raw: bytes, source: str = "<station>") -> Station:
    """Parse the bytes of a station TOML file; ``source`` names it in error messages."""
    data = parse_toml(raw, source, "a station file", _EXPECTED_TABLES)
    try:
        return Station.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data, _FIELD_NAMES, _RECORD_NAMES, "docs/station.md") from None
