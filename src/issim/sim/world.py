"""The station as one run sees it: indexed volumes and the links between them.

The :class:`World` is static for a run: which modules and docked vehicles exist (each
a pressurized volume with an index into the state arrays), which hatches join them and
what ventilation each hatch carries. What changes during a run (a hatch's position, the
air inside) lives in the :class:`~issim.sim.state.State`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..inputs import bundled_toml
from ..station import Station, load_station

SEGMENTS = ("USOS", "ROS")
CFM_TO_M3_S = 0.3048**3 / 60.0  # cubic feet a minute to m³/s (the air data give fan flows in cfm)


@dataclass(frozen=True)
class Volume:
    """A pressurized volume: a module or a docked vehicle (volume in m³)."""

    id: str
    name: str
    kind: str  # "module" or "vehicle"
    segment: str
    volume_m3: float


@dataclass(frozen=True)
class Link:
    """A hatch between volumes ``a`` and ``b`` (indices) and the air it can carry.

    ``imv_m3_s`` is the fan-driven exchange when the hatch is open and the fan's segment
    (``powered_by``, an index into :data:`SEGMENTS`, or -1 for none) has power;
    ``passive_m3_s`` the exchange with the hatch open and no fan.
    """

    hatch: str
    a: int
    b: int
    boundary: bool
    imv_m3_s: float
    powered_by: int
    passive_m3_s: float
    initially_open: bool


@dataclass(frozen=True)
class Cabin:
    """The initial cabin atmosphere (Pa, K) every volume starts with unless told otherwise."""

    temperature_k: float
    relative_humidity: float
    pp_o2_pa: float
    pp_co2_pa: float
    total_pa: float


@dataclass(frozen=True)
class World:
    station: Station
    volumes: tuple[Volume, ...]
    links: tuple[Link, ...]
    cabin: Cabin

    @property
    def index(self) -> dict[str, int]:
        return {v.id: i for i, v in enumerate(self.volumes)}

    @property
    def link_index(self) -> dict[str, int]:
        return {l.hatch: i for i, l in enumerate(self.links)}

    def segment_index(self, segment: str) -> int:
        return SEGMENTS.index(segment)


def load_air_config() -> dict:
    return bundled_toml("air.toml")


def build_world(station: Optional[Station] = None, vehicles: Optional[Sequence[str]] = None) -> World:
    """Index the station's volumes and hatches for a run.

    ``vehicles`` lists the docked vehicles present (default: all in the station file);
    hatches to absent vehicles are left out.
    """
    station = station or load_station()
    air = load_air_config()
    present = set(v.id for v in station.vehicles) if vehicles is None else set(vehicles)
    unknown = present - {v.id for v in station.vehicles}
    if unknown:
        raise KeyError(f"unknown vehicles: {', '.join(sorted(unknown))}")
    volumes = [Volume(m.id, m.name, "module", m.segment, m.pressurized_volume_m3) for m in station.modules]
    volumes += [
        Volume(v.id, v.name, "vehicle", station.segment_of(v.id), v.pressurized_volume_m3)
        for v in station.vehicles
        if v.id in present
    ]
    index = {v.id: i for i, v in enumerate(volumes)}
    imv = {e["hatch"]: e for e in air["imv"]}
    passive = air["passive"]["flow_cfm"] * CFM_TO_M3_S
    links = []
    for h in station.hatches:
        if h.side_a not in index or h.side_b not in index:
            continue
        fan = imv.get(h.id)
        links.append(
            Link(
                hatch=h.id,
                a=index[h.side_a],
                b=index[h.side_b],
                boundary=h.boundary,
                imv_m3_s=fan["flow_cfm"] * CFM_TO_M3_S if fan else 0.0,
                powered_by=SEGMENTS.index(fan["powered_by"]) if fan else -1,
                passive_m3_s=passive,
                initially_open=h.state == "open",
            )
        )
    c = air["cabin"]
    cabin = Cabin(c["temperature_k"], c["relative_humidity"], c["pp_o2_pa"], c["pp_co2_pa"], c["total_pa"])
    return World(station, tuple(volumes), tuple(links), cabin)
