"""Print the station for people: modules by segment, docked vehicles, the hatch graph.

Volumes are shown in m³ and masses in kg; a figure that rests on an estimate carries
``≈``. The per-figure sources and notes are in the station file and in ``--json``.
"""

from __future__ import annotations

from collections import deque

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .model import SEGMENTS, Module, Station, Vehicle

SEGMENT_TITLES = {"USOS": "US Orbital Segment (USOS)", "ROS": "Russian Orbital Segment (ROS)"}
SEGMENT_STYLES = {"USOS": "cyan", "ROS": "red"}
ESTIMATE_MARK = "≈ "


def render_station(station: Station, console: Console) -> None:
    """Print the station's modules, vehicles, hatch graph and total volume to ``console``."""
    console.print(
        Text(f"{station.station.name}, {station.station.configuration} configuration", style="bold")
    )
    for segment in SEGMENTS:
        console.print(_module_table(station, segment))
    if station.vehicles:
        console.print(_vehicle_table(station))
    console.print(_hatch_tree(station))
    free = [_port_name(station, p.id) for p in station.ports if p.status == "free"]
    if free:
        console.print(Text("Free ports: ", style="bold") + Text(", ".join(free)))
    console.print(_totals_line(station))
    console.print(Text(f"{ESTIMATE_MARK}marks an estimate; sources and notes: issim station --json", style="dim"))


def _short(name: str) -> str:
    """'Unity (Node 1)' -> 'Unity'; 'European Space Agency (ESA)' keeps 'ESA'."""
    head, _, tail = name.partition(" (")
    if tail and tail.rstrip(")").isupper():
        return tail.rstrip(")") if len(head.split()) > 2 else head
    return head


def _agency(station: Station, agency_id: str) -> str:
    return _short(station.agency(agency_id).name)


def _figure(value: float | None, estimate: bool, fmt: str) -> str:
    if value is None:  # a part counted in another module's figure (the PrK's mass)
        return "—"
    return (ESTIMATE_MARK if estimate else "") + format(value, fmt)


def _module_table(station: Station, segment: str) -> Table:
    modules = station.modules_by_segment()[segment]
    subtotal = sum(m.pressurized_volume_m3 for m in modules)
    table = Table(
        title=SEGMENT_TITLES[segment],
        title_style=f"bold {SEGMENT_STYLES[segment]}",
        caption=f"{len(modules)} modules, {subtotal:,.1f} m³",
        title_justify="left",
    )
    table.add_column("Module")
    table.add_column("Owner")
    table.add_column("Launched")
    table.add_column("Volume m³", justify="right")
    table.add_column("Mass kg", justify="right")
    for m in modules:
        table.add_row(
            m.name,
            _owner(station, m),
            m.launch_date.isoformat(),
            _figure(m.pressurized_volume_m3, m.volume_estimate, ",.1f"),
            _figure(m.mass_kg, m.mass_estimate, ",.0f"),
        )
    return table


def _owner(station: Station, module: Module) -> str:
    owner = _agency(station, module.owner)
    if module.operator and module.operator != module.owner:
        return f"{owner}, run by {_agency(station, module.operator)}"
    return owner


def _port_name(station: Station, port_id: str) -> str:
    port = station.port(port_id)
    where = f"{_short(station.module(port.module).name)} {port.direction}"
    return f"{where} ({port.adapter.upper()})" if port.adapter else where


def _vehicle_table(station: Station) -> Table:
    table = Table(title="Docked vehicles", title_style="bold", title_justify="left")
    table.add_column("Vehicle")
    table.add_column("Agency")
    table.add_column("Port")
    table.add_column("Seats", justify="right")
    table.add_column("Lifeboat")
    table.add_column("Volume m³", justify="right")
    for v in station.vehicles:
        table.add_row(
            v.name,
            _agency(station, v.agency),
            f"{_port_name(station, v.port)}, {station.segment_of(v.id)}",
            str(v.crew_seats),
            "yes" if v.lifeboat else "no",
            _figure(v.pressurized_volume_m3, v.volume_estimate, ",.1f"),
        )
    return table


def _volume_label(station: Station, volume_id: str) -> Text:
    volume = station.volume(volume_id)
    segment = station.segment_of(volume_id)
    label = Text(_short(volume.name), style=f"bold {SEGMENT_STYLES[segment]}")
    if isinstance(volume, Vehicle):
        label.append(" (vehicle)", style="dim")
    return label


def _hatch_tree(station: Station, root: str = "unity") -> Tree:
    """The hatch graph as a tree grown breadth-first from ``root`` (Unity if present)."""
    if root not in station.volumes:
        root = station.modules[0].id
    tree = Tree(Text("Hatch graph from ", style="bold") + _volume_label(station, root))
    graph = station.hatch_graph()
    nodes = {root: tree}
    used: set[str] = set()
    queue = deque([root])
    while queue:
        here = queue.popleft()
        for there, hatch_id in graph[here].items():
            if there in nodes:
                continue
            hatch = station.hatch(hatch_id)
            used.add(hatch_id)
            label = _volume_label(station, there)
            label.append(f"  hatch {hatch.id}, {hatch.state}", style="dim")
            if hatch.boundary:
                label.append("  ⇄ USOS–ROS boundary", style="bold magenta")
            nodes[there] = nodes[here].add(label)
            queue.append(there)
    # A hatch graph with loops has hatches that the tree above does not show.
    for hatch in station.hatches:
        if hatch.id not in used:
            tree.add(Text(f"also: {hatch.side_a} ↔ {hatch.side_b} (hatch {hatch.id}, {hatch.state})", style="dim"))
    return tree


def _totals_line(station: Station) -> Text:
    # The sum (about 958 m³) sits inside the sheet's whole-station range, 916 m³ (NASA
    # 2014, before Nauka, Prichal, BEAM and Bishop) to ~1,000 m³ (wiki 2023). About 40 %
    # of it is estimated, mostly Kibō, Unity, Tranquility and Zarya; see docs/station.md.
    total = station.total_pressurized_volume_m3()
    estimated = station.estimated_volume_m3()
    low, high = station.station.reference_volume_range_m3
    vehicles = station.total_pressurized_volume_m3(include_vehicles=True) - total
    line = Text("Total pressurized volume: ", style="bold")
    line.append(f"{total:,.0f} m³", style="bold")
    line.append(
        f" in {len(station.modules)} modules ({estimated:,.0f} m³ of it estimated); "
        f"published whole-station figures {low:,.0f}–{high:,.0f} m³. "
        f"Docked vehicles add {vehicles:,.1f} m³."
    )
    return line
