"""The station's records: agencies, modules, adapters, ports, hatches, vehicles.

Every record is a frozen pydantic model that refuses unknown fields, so a typo in the
station file is an error rather than a silently ignored key. `Station` holds them all,
checks that they form one consistent, connected station, and answers questions about the
hatch graph (neighbours, segments, paths).

Units are SI and sit in field names: ``*_m3`` is cubic metres, ``*_kg`` kilograms. Each
figure carries the keys of its sources (``*_src``, looked up in `Station.sources`) or an
estimate label (``*_estimate = True`` and a ``*_note`` that starts with ``estimate:``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import deque
from functools import cached_property
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

Segment = Literal["USOS", "ROS"]
SEGMENTS: tuple[Segment, ...] = ("USOS", "ROS")
Direction = Literal["forward", "aft", "zenith", "nadir", "port", "starboard"]
PortKind = Literal["cbm", "apas-95", "idss", "ssvp", "ssvp-probe-drogue", "ssvp-hybrid", "internal"]
PortStatus = Literal["occupied", "free", "covered", "structure"]
HatchState = Literal["open", "closed"]

# A TOML array arrives as a list; store it as a tuple so that records stay immutable.
Keys = Annotated[tuple[str, ...], Strict(False)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]

ESTIMATE_PREFIX = "estimate:"


class StationDataError(ValueError):
    """The station's records do not fit together: a bad reference, a duplicate, a gap.

    ``field`` is the dotted path of the offending field (``hatches[3].side_b``);
    the loader turns this into ``issim.errors.InputError("FILE:field", message)``.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class Record(BaseModel):
    """Base for all station records: frozen, strictly typed, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _check_figures(record: BaseModel, figures: dict[str, str]) -> None:
    """Check that each figure present has sources or an estimate label.

    ``figures`` maps a value field (``mass_kg``) to its prefix (``mass``), whose
    ``{prefix}_src``, ``{prefix}_estimate`` and ``{prefix}_note`` fields describe it.
    """
    for value_field, prefix in figures.items():
        value = getattr(record, value_field)
        src = getattr(record, f"{prefix}_src")
        estimate = getattr(record, f"{prefix}_estimate")
        note = getattr(record, f"{prefix}_note") or ""
        if value is None:
            if src or estimate:
                raise StationDataError(
                    value_field, f"{prefix}_src or {prefix}_estimate is given but {value_field} is not"
                )
            continue
        if estimate and not note.startswith(ESTIMATE_PREFIX):
            raise StationDataError(
                f"{prefix}_note",
                f"{value_field} is marked {prefix}_estimate = true, so {prefix}_note must "
                f"start with '{ESTIMATE_PREFIX}' and give the basis of the estimate",
            )
        if not estimate and not src:
            raise StationDataError(
                f"{prefix}_src",
                f"{value_field} = {value} has no source: give {prefix}_src = [keys into "
                f"[sources]], or mark it {prefix}_estimate = true with a {prefix}_note",
            )


class StationInfo(Record):
    """What the file describes, and the whole-station totals to check sums against."""

    name: str
    configuration: str
    reference_volume_range_m3: Annotated[tuple[PositiveFloat, PositiveFloat], Strict(False)]
    """Low and high published whole-station pressurized volume, m³."""
    reference_volume_src: Keys = Field(min_length=1)
    reference_volume_note: str = ""
    era: str = ""
    """The era (``[[eras]]``) these records were taken for; set by the loader."""

    @model_validator(mode="after")
    def _range_ordered(self) -> "StationInfo":
        low, high = self.reference_volume_range_m3
        if low > high:
            raise StationDataError(
                "reference_volume_range_m3", f"[{low}, {high}] should be [low, high]"
            )
        return self


class Era(Record):
    """A dated configuration of the station (``[[eras]]``): the records aboard that day.

    ``configuration`` and the reference volume, when given, replace ``[station]``'s for
    that era; the last era listed is the default.
    """

    id: Id
    date: dt.date
    configuration: str
    reference_volume_range_m3: Optional[Annotated[tuple[PositiveFloat, PositiveFloat], Strict(False)]] = None
    reference_volume_src: Keys = ()
    reference_volume_note: str = ""


class Agency(Record):
    """A partner agency: who it is, where it commands from, what it owns besides modules."""

    id: Id
    name: str
    country: str
    control_centre: Optional[str] = None
    also_owns: Keys = ()
    note: str = ""
    src: Keys = Field(min_length=1)


class Module(Record):
    """A pressurized module: one volume of the station's atmosphere.

    ``pressurized_volume_m3`` is the gross pressurized (shell) volume in m³;
    ``mass_kg`` is the module's mass in kg as given by its source (see ``mass_note``).
    ``owner`` and ``operator`` are agency ids; ``operator`` is None when it is the owner.
    """

    id: Id
    name: str
    segment: Segment
    owner: Id
    operator: Optional[Id] = None
    owner_note: str = ""
    builder: str = ""
    launch_date: dt.date
    launch_vehicle: str = ""
    src: Keys = Field(min_length=1)

    pressurized_volume_m3: PositiveFloat
    volume_src: Keys = ()
    volume_estimate: bool = False
    volume_note: str = ""

    mass_kg: Optional[PositiveFloat] = None
    """None for a part counted in another module's mass (Zvezda's transfer tunnel)."""
    mass_src: Keys = ()
    mass_estimate: bool = False
    mass_note: str = ""

    alt_src: Keys = ()
    """Sources of the values that were considered and not chosen (see the notes)."""

    present_from: Optional[dt.date] = None
    """First day aboard, for station eras (``[[eras]]``); a module's default is its launch date."""
    present_until: Optional[dt.date] = None
    """First day no longer aboard (None: still there)."""

    @model_validator(mode="after")
    def _figures_are_cited(self) -> "Module":
        _check_figures(self, {"pressurized_volume_m3": "volume", "mass_kg": "mass"})
        return self

    @property
    def operator_id(self) -> str:
        """The agency that runs the module day to day (the owner unless stated)."""
        return self.operator or self.owner


class Adapter(Record):
    """A docking adapter that is not a volume of its own (IDA-2, IDA-3); mass in kg."""

    id: Id
    name: str
    owner: Id
    builder: str = ""
    launch_date: Optional[dt.date] = None
    launch_vehicle: str = ""
    installed_note: str = ""
    src: Keys = Field(min_length=1)

    mass_kg: Optional[PositiveFloat] = None
    mass_src: Keys = ()
    mass_estimate: bool = False
    mass_note: str = ""

    present_from: Optional[dt.date] = None
    """First day aboard, for station eras (``[[eras]]``); a module's default is its launch date."""
    present_until: Optional[dt.date] = None
    """First day no longer aboard (None: still there)."""

    @model_validator(mode="after")
    def _figures_are_cited(self) -> "Adapter":
        _check_figures(self, {"mass_kg": "mass"})
        return self


class Port(Record):
    """A mating interface on a host module, and what sits on it.

    ``attached`` is the id of the module or vehicle mated there (None if nothing
    pressurized is); ``adapter`` names an IDA that turns the port into an IDSS port.
    """

    id: Id
    module: Id
    direction: Direction
    kind: PortKind
    status: PortStatus
    attached: Optional[Id] = None
    adapter: Optional[Id] = None
    note: str = ""
    src: Keys = Field(min_length=1)

    present_from: Optional[dt.date] = None
    """First day aboard, for station eras (``[[eras]]``); a module's default is its launch date."""
    present_until: Optional[dt.date] = None
    """First day no longer aboard (None: still there)."""

    @model_validator(mode="after")
    def _status_matches(self) -> "Port":
        if self.status == "occupied" and self.attached is None:
            raise StationDataError("attached", "status is 'occupied' but no module or vehicle is attached")
        if self.status != "occupied" and self.attached is not None:
            raise StationDataError("status", f"is {self.status!r}, but 'attached' is given; use 'occupied'")
        if self.adapter is not None and self.kind != "idss":
            raise StationDataError("kind", f"is {self.kind!r}, but an adapter makes an 'idss' port")
        return self


class Hatch(Record):
    """A hatch on the pressurized connection between two volumes (modules or vehicles).

    ``boundary`` marks the hatch between the USOS and the ROS; the station checks it
    against the segments of the two sides.
    """

    id: Id
    side_a: Id
    side_b: Id
    port: Id
    boundary: bool = False
    state: HatchState = "open"
    note: str = ""

    present_from: Optional[dt.date] = None
    """First day aboard, for station eras (``[[eras]]``); a module's default is its launch date."""
    present_until: Optional[dt.date] = None
    """First day no longer aboard (None: still there)."""

    @model_validator(mode="after")
    def _two_sides(self) -> "Hatch":
        if self.side_a == self.side_b:
            raise StationDataError("side_b", f"both sides are {self.side_a!r}; a hatch joins two different volumes")
        return self

    @property
    def sides(self) -> tuple[str, str]:
        return (self.side_a, self.side_b)

    def other_side(self, volume_id: str) -> str:
        """The volume on the far side of this hatch from ``volume_id``."""
        if volume_id == self.side_a:
            return self.side_b
        if volume_id == self.side_b:
            return self.side_a
        raise ValueError(f"hatch {self.id!r} does not touch {volume_id!r}")


class Cargo(Record):
    """What one flight of a cargo vehicle delivered, in kg (a manifest, not a capacity)."""

    flight: str
    dry_cargo_kg: Optional[NonNegativeFloat] = None
    transfer_propellant_kg: Optional[NonNegativeFloat] = None
    """Propellant delivered for transfer into the station's tanks, kg."""
    water_kg: Optional[NonNegativeFloat] = None
    nitrogen_kg: Optional[NonNegativeFloat] = None
    oxygen_kg: Optional[NonNegativeFloat] = None
    src: Keys = Field(min_length=1)
    note: str = ""


class Vehicle(Record):
    """A visiting vehicle docked at a port; its cabin joins the station's volume.

    ``pressurized_volume_m3`` is in m³ and ``mass_kg`` in kg; ``crew_seats`` counts
    the seats used operationally.
    """

    id: Id
    name: str
    kind: Literal["soyuz-ms", "progress-ms", "crew-dragon", "cargo-dragon", "cygnus", "htv-x", "starliner"]
    agency: Id
    builder: str = ""
    port: Id
    crew_seats: Annotated[int, Field(ge=0)]
    lifeboat: bool
    note: str = ""
    src: Keys = Field(min_length=1)

    pressurized_volume_m3: PositiveFloat
    volume_src: Keys = ()
    volume_estimate: bool = False
    volume_note: str = ""

    mass_kg: Optional[PositiveFloat] = None
    mass_src: Keys = ()
    mass_estimate: bool = False
    mass_note: str = ""

    cargo: Optional[Cargo] = None

    present_from: Optional[dt.date] = None
    """First day aboard, for station eras (``[[eras]]``); a module's default is its launch date."""
    present_until: Optional[dt.date] = None
    """First day no longer aboard (None: still there)."""

    @model_validator(mode="after")
    def _figures_are_cited(self) -> "Vehicle":
        _check_figures(self, {"pressurized_volume_m3": "volume", "mass_kg": "mass"})
        if self.lifeboat and self.crew_seats == 0:
            raise StationDataError("crew_seats", "is 0, but a lifeboat needs seats")
        return self


Volume = Union[Module, Vehicle]


class Station(Record):
    """The whole station: records plus the checks that make them one connected station.

    Volumes are modules and docked vehicles; hatches join them into a graph that must be
    connected. Lookups by id raise ``KeyError`` naming the unknown id. Indexes are cached,
    so make a changed station with ``Station.model_validate``, not ``model_copy``.
    """

    station: StationInfo
    eras: tuple[Era, ...] = ()
    agencies: tuple[Agency, ...] = Field(min_length=1)
    modules: tuple[Module, ...] = Field(min_length=1)
    adapters: tuple[Adapter, ...] = ()
    ports: tuple[Port, ...] = ()
    hatches: tuple[Hatch, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    sources: dict[str, Annotated[str, Field(pattern=r"^https?://\S+$")]] = Field(min_length=1)

    # Lax only so that TOML arrays of tables become tuples; each record is strict itself.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    # ------------------------------------------------------------------ validation

    @model_validator(mode="after")
    def _consistent(self) -> "Station":
        _check_station(self)
        return self

    # ------------------------------------------------------------------ lookups

    @cached_property
    def _by_id(self) -> dict[str, dict[str, Any]]:
        return {
            "agency": {a.id: a for a in self.agencies},
            "module": {m.id: m for m in self.modules},
            "adapter": {a.id: a for a in self.adapters},
            "port": {p.id: p for p in self.ports},
            "hatch": {h.id: h for h in self.hatches},
            "vehicle": {v.id: v for v in self.vehicles},
        }

    def _get(self, kind: str, item_id: str):
        table = self._by_id[kind]
        try:
            return table[item_id]
        except KeyError:
            raise KeyError(f"no {kind} with id {item_id!r}; known: {', '.join(table)}") from None

    def agency(self, agency_id: str) -> Agency:
        return self._get("agency", agency_id)

    def module(self, module_id: str) -> Module:
        return self._get("module", module_id)

    def port(self, port_id: str) -> Port:
        return self._get("port", port_id)

    def hatch(self, hatch_id: str) -> Hatch:
        return self._get("hatch", hatch_id)

    def vehicle(self, vehicle_id: str) -> Vehicle:
        return self._get("vehicle", vehicle_id)

    def adapter(self, adapter_id: str) -> Adapter:
        return self._get("adapter", adapter_id)

    @cached_property
    def volumes(self) -> dict[str, Volume]:
        """Every pressurized volume by id: the modules, then the docked vehicles."""
        return {**self._by_id["module"], **self._by_id["vehicle"]}

    def volume(self, volume_id: str) -> Volume:
        """The module or vehicle with this id."""
        try:
            return self.volumes[volume_id]
        except KeyError:
            raise KeyError(
                f"no module or vehicle with id {volume_id!r}; known: {', '.join(self.volumes)}"
            ) from None

    # ------------------------------------------------------------------ segments

    def segment_of(self, volume_id: str) -> Segment:
        """The segment (``"USOS"`` or ``"ROS"``) a module or docked vehicle belongs to.

        A vehicle belongs to the segment of the module that hosts its port.
        """
        volume = self.volume(volume_id)
        if isinstance(volume, Module):
            return volume.segment
        return self.module(self.port(volume.port).module).segment

    def modules_by_segment(self) -> dict[Segment, tuple[Module, ...]]:
        """The modules of each segment, USOS first, each in file order."""
        return {seg: tuple(m for m in self.modules if m.segment == seg) for seg in SEGMENTS}

    def hatch_segments(self, hatch: Hatch | str) -> tuple[Segment, ...]:
        """The segment(s) a hatch belongs to: one, or both for the boundary hatch."""
        if isinstance(hatch, str):
            hatch = self.hatch(hatch)
        found = {self.segment_of(side) for side in hatch.sides}
        return tuple(seg for seg in SEGMENTS if seg in found)

    def boundary_hatches(self) -> tuple[Hatch, ...]:
        """The hatches whose two sides lie in different segments."""
        return tuple(h for h in self.hatches if len(self.hatch_segments(h)) == 2)

    # ------------------------------------------------------------------ hatch graph

    @cached_property
    def _adjacency(self) -> dict[str, dict[str, str]]:
        graph: dict[str, dict[str, str]] = {vid: {} for vid in self.volumes}
        for h in self.hatches:
            graph[h.side_a][h.side_b] = h.id
            graph[h.side_b][h.side_a] = h.id
        return graph

    def hatch_graph(self) -> dict[str, dict[str, str]]:
        """Adjacency of the hatch graph: ``{volume: {neighbour: hatch_id}}``.

        Every module and docked vehicle is a key, including any with no hatch. The
        returned dict is a fresh copy; changing it does not change the station.
        """
        return {vid: dict(nbrs) for vid, nbrs in self._adjacency.items()}

    def neighbours(self, volume_id: str) -> tuple[str, ...]:
        """The volumes one hatch away from ``volume_id``, in file order of the hatches."""
        self.volume(volume_id)
        return tuple(self._adjacency[volume_id])

    def path(self, start: str, end: str, *, open_only: bool = False) -> list[Hatch]:
        """The hatches to pass through from ``start`` to ``end``, fewest first (breadth-first).

        Returns ``[]`` when ``start == end``. With ``open_only`` closed hatches are not
        passed. Raises ``ValueError`` when no such path exists.
        """
        self.volume(start)
        self.volume(end)
        came_from: dict[str, Optional[Hatch]] = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == end:
                break
            for there, hatch_id in self._adjacency[here].items():
                hatch = self.hatch(hatch_id)
                if there in came_from or (open_only and hatch.state != "open"):
                    continue
                came_from[there] = hatch
                queue.append(there)
        if end not in came_from:
            raise ValueError(f"no path of {'open ' if open_only else ''}hatches from {start!r} to {end!r}")
        hatches: list[Hatch] = []
        here = end
        while (hatch := came_from[here]) is not None:
            hatches.append(hatch)
            here = hatch.other_side(here)
        hatches.reverse()
        return hatches

    # ------------------------------------------------------------------ totals

    def total_pressurized_volume_m3(self, *, include_vehicles: bool = False) -> float:
        """The sum of the modules' pressurized volumes, m³ (plus docked vehicles' if asked).

        Compare with the sheet's whole-station figures in ``station.reference_volume_range_m3``
        (916 m³ in 2014, ~1,000 m³ in 2023); the vehicles are not part of those totals.
        """
        volumes: list[Volume] = list(self.modules)
        if include_vehicles:
            volumes += self.vehicles
        return sum(v.pressurized_volume_m3 for v in volumes)

    def estimated_volume_m3(self) -> float:
        """The part of the modules' total volume that rests on estimates, m³."""
        return sum(m.pressurized_volume_m3 for m in self.modules if m.volume_estimate)

    # ------------------------------------------------------------------ export

    def to_dict(self) -> dict[str, Any]:
        """The station as plain, JSON-ready data, with derived segments and totals."""
        data = self.model_dump(mode="json")
        for vehicle in data["vehicles"]:
            vehicle["segment"] = self.segment_of(vehicle["id"])
        for hatch in data["hatches"]:
            hatch["segments"] = list(self.hatch_segments(hatch["id"]))
        total = self.total_pressurized_volume_m3()
        data["totals"] = {
            "pressurized_volume_m3": round(total, 2),
            "estimated_volume_m3": round(self.estimated_volume_m3(), 2),
            "vehicles_pressurized_volume_m3": round(
                self.total_pressurized_volume_m3(include_vehicles=True) - total, 2
            ),
            "module_count": len(self.modules),
            "hatch_count": len(self.hatches),
        }
        return data


# ---------------------------------------------------------------------- checks


def _source_fields(record: BaseModel) -> list[tuple[str, tuple[str, ...]]]:
    """The (field name, keys) pairs of every source-key field on a record."""
    found = []
    for name in type(record).model_fields:
        if name == "src" or name.endswith("_src"):
            found.append((name, getattr(record, name)))
    return found


def _check_station(st: Station) -> None:
    """Raise `StationDataError` on the first inconsistency between the records."""
    collections: list[tuple[str, tuple[Any, ...]]] = [
        ("agencies", st.agencies),
        ("modules", st.modules),
        ("adapters", st.adapters),
        ("ports", st.ports),
        ("hatches", st.hatches),
        ("vehicles", st.vehicles),
    ]

    # Ids are unique across the whole file, so a reference can never be ambiguous.
    seen: dict[str, str] = {}
    for name, items in collections:
        for i, item in enumerate(items):
            where = f"{name}[{i}]"
            if item.id in seen:
                raise StationDataError(f"{where}.id", f"duplicate id {item.id!r} (already used by {seen[item.id]})")
            seen[item.id] = where

    # Every source key exists.
    def check_keys(where: str, record: BaseModel) -> None:
        for field, keys in _source_fields(record):
            for key in keys:
                if key not in st.sources:
                    close = difflib.get_close_matches(key, list(st.sources), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise StationDataError(
                        f"{where}.{field}", f"source key {key!r} is not defined in [sources]{hint}"
                    )

    check_keys("station", st.station)
    for name, items in collections:
        for i, item in enumerate(items):
            check_keys(f"{name}[{i}]", item)
            cargo = getattr(item, "cargo", None)
            if cargo is not None:
                check_keys(f"{name}[{i}].cargo", cargo)

    agencies = {a.id for a in st.agencies}
    modules = {m.id: m for m in st.modules}
    vehicles = {v.id: v for v in st.vehicles}
    adapters = {a.id for a in st.adapters}
    ports = {p.id: p for p in st.ports}

    def need(where: str, value: Optional[str], table, what: str) -> None:
        if value is not None and value not in table:
            close = difflib.get_close_matches(value, list(table), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(table))}"
            raise StationDataError(where, f"unknown {what} {value!r}; {hint}")

    for i, m in enumerate(st.modules):
        need(f"modules[{i}].owner", m.owner, agencies, "agency")
        need(f"modules[{i}].operator", m.operator, agencies, "agency")
    for i, a in enumerate(st.adapters):
        need(f"adapters[{i}].owner", a.owner, agencies, "agency")
    for i, v in enumerate(st.vehicles):
        need(f"vehicles[{i}].agency", v.agency, agencies, "agency")

    volumes = {**modules, **vehicles}
    places: dict[tuple[str, str], str] = {}
    adapter_used: dict[str, str] = {}
    for i, p in enumerate(st.ports):
        need(f"ports[{i}].module", p.module, modules, "module")
        need(f"ports[{i}].attached", p.attached, volumes, "module or vehicle")
        need(f"ports[{i}].adapter", p.adapter, adapters, "adapter")
        if p.attached == p.module:
            raise StationDataError(f"ports[{i}].attached", f"module {p.module!r} cannot sit on its own port")
        place = (p.module, p.direction)
        if place in places:
            raise StationDataError(
                f"ports[{i}].direction",
                f"{p.module} already has a {p.direction} port ({places[place]!r})",
            )
        places[place] = p.id
        if p.adapter is not None:
            if p.adapter in adapter_used:
                raise StationDataError(
                    f"ports[{i}].adapter", f"adapter {p.adapter!r} is already on port {adapter_used[p.adapter]!r}"
                )
            adapter_used[p.adapter] = p.id

    hatch_on_port: dict[str, str] = {}
    for i, h in enumerate(st.hatches):
        need(f"hatches[{i}].side_a", h.side_a, volumes, "module or vehicle")
        need(f"hatches[{i}].side_b", h.side_b, volumes, "module or vehicle")
        need(f"hatches[{i}].port", h.port, ports, "port")
        port = ports[h.port]
        if {port.module, port.attached} != {h.side_a, h.side_b}:
            raise StationDataError(
                f"hatches[{i}].port",
                f"port {port.id!r} joins {port.module!r} and {port.attached!r}, "
                f"not {h.side_a!r} and {h.side_b!r}",
            )
        if h.port in hatch_on_port:
            raise StationDataError(
                f"hatches[{i}].port", f"port {h.port!r} already has hatch {hatch_on_port[h.port]!r}"
            )
        hatch_on_port[h.port] = h.id

    for i, p in enumerate(st.ports):
        if p.attached is not None and p.id not in hatch_on_port:
            raise StationDataError(
                f"ports[{i}]",
                f"port {p.id!r} joins {p.module!r} and {p.attached!r} but no hatch names it",
            )

    for i, v in enumerate(st.vehicles):
        need(f"vehicles[{i}].port", v.port, ports, "port")
        if ports[v.port].attached != v.id:
            raise StationDataError(
                f"vehicles[{i}].port",
                f"vehicle {v.id!r} is docked at {v.port!r}, but that port's 'attached' is "
                f"{ports[v.port].attached!r}",
            )
    for i, p in enumerate(st.ports):
        if p.attached in vehicles and vehicles[p.attached].port != p.id:
            raise StationDataError(
                f"ports[{i}].attached",
                f"vehicle {p.attached!r} is docked at {vehicles[p.attached].port!r}, not here",
            )

    # Segments follow from the hatch graph, so check it hangs together before using them.
    unreached = _unreachable(st)
    if unreached:
        raise StationDataError(
            "hatches",
            f"the hatch graph is not connected: no path of hatches from {st.modules[0].id!r} "
            f"to {', '.join(repr(u) for u in unreached)}",
        )
    for i, h in enumerate(st.hatches):
        crosses = len(st.hatch_segments(h)) == 2
        if h.boundary != crosses:
            sides = f"{h.side_a} ({st.segment_of(h.side_a)}) and {h.side_b} ({st.segment_of(h.side_b)})"
            raise StationDataError(
                f"hatches[{i}].boundary",
                f"boundary = {str(h.boundary).lower()}, but the hatch joins {sides}",
            )


def _unreachable(st: Station) -> list[str]:
    """Volumes that no chain of hatches links to the first module, in file order."""
    adjacency = st._adjacency
    start = st.modules[0].id
    seen = {start}
    queue = deque([start])
    while queue:
        for there in adjacency[queue.popleft()]:
            if there not in seen:
                seen.add(there)
                queue.append(there)
    return [vid for vid in st.volumes if vid not in seen]
