"""The International Space Station described as data.

``load_station()`` reads the bundled 2023–2024 configuration (``issim/data/iss.toml``)
into a checked `Station`: its agencies, modules, adapters, ports, hatches and docked
vehicles, each figure with its sources or an estimate label. The file format is
described in ``docs/station.md``.
"""

from .load import load_station, parse_station
from .model import (
    SEGMENTS,
    Adapter,
    Agency,
    Cargo,
    Hatch,
    Module,
    Port,
    Station,
    StationDataError,
    StationInfo,
    Vehicle,
)

__all__ = [
    "SEGMENTS",
    "Adapter",
    "Agency",
    "Cargo",
    "Hatch",
    "Module",
    "Port",
    "Station",
    "StationDataError",
    "StationInfo",
    "Vehicle",
    "load_station",
    "parse_station",
]
