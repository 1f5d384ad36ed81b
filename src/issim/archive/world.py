"""What a stored run needs to know about its station to be drawn: ``world.json``.

The volumes (modules and docked vehicles) in the order the telemetry indexes them, the
hatches between them, the ports (which side of which module each neighbour sits on, for
the schematic), the crew, the systems and factions of the control map, and the ground
sites. All of it is static for a run.
"""

from __future__ import annotations


def world_record(sim) -> dict:
    world = sim.world
    subs = {s.name: s for s in sim.subsystems}
    crew = subs.get("crew")
    people = list(getattr(crew, "people", ()))
    control = subs.get("control")
    try:
        from ..orbit import ground_network

        sites = [{"id": s.id, "name": s.name, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg, "role": s.role}
                 for s in ground_network().sites]
    except Exception:  # a run without the bundled ground data still stores
        sites = []
    return {
        "volumes": [{"id": v.id, "name": v.name, "kind": v.kind, "segment": v.segment} for v in world.volumes],
        "hatches": [{"id": l.hatch, "a": world.volumes[l.a].id, "b": world.volumes[l.b].id, "boundary": l.boundary}
                    for l in world.links],
        "ports": [{"module": p.module, "direction": p.direction, "attached": p.attached}
                  for p in world.station.ports if p.attached],
        "crew": [{"name": p.name, "slug": slug, "agency": getattr(p, "agency", "")}
                 for p, slug in zip(people, getattr(crew, "slugs", ()))],
        "systems": list(getattr(control, "systems", ())),
        "factions": list(getattr(control, "factions", ())),
        "sites": sites,
    }
