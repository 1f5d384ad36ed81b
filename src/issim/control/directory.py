"""The directory of a run: the names and indices that commands, rules and the control map look up.

A :class:`Directory` is built once from the run's configuration and never changes while it
runs (what changes is in the state, under ``control.*``: :mod:`issim.control.custody`):

- from the :class:`~issim.sim.world.World`: the volumes (ids, index, segment of each, the
  modules of each segment), the hatches (ids, index, the two volumes of each, their
  :class:`~issim.station.routes.Topology`), the docked vehicles (index, seats, the hatch
  each is docked by), the arm's workstations and the EVA airlocks;
- from the people: their names and channel slugs, and the :class:`~issim.control.authority.Actor`
  each is (the grounds are actors too);
- the factions, in index order (``control.faction`` and ``control.credentials`` index them);
- the items a scenario places (:class:`Item`);
- from the other subsystems of the run, once the engine binds it
  (:meth:`Directory.with_subsystems`): life support's machines and tanks, propulsion's
  engines, the comms links.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np

from ..sim.world import SEGMENTS, World
from ..station import routes
from .authority import FACTIONS, GROUND_FACTION, GROUNDS, OPERATOR, Actor

WORKSTATIONS = ("destiny", "cupola")  # Canadarm2's robotics workstations (iss-facts.md, CSA)


@dataclass(frozen=True)
class Item:
    """Something that can be carried: ``at`` is a module or vehicle id, or a person's name."""

    id: str
    name: str
    at: str


@dataclass(frozen=True, eq=False)
class Directory:
    """The run's names and indices (see the module). Build one with :meth:`of`.

    The fields given are the run's configuration; the rest are derived from them when the
    directory is made (so :func:`dataclasses.replace` keeps them consistent).
    """

    world: World
    names: tuple[str, ...] = ()
    factions: tuple[str, ...] = FACTIONS
    items: tuple[Item, ...] = ()
    machines: tuple = ()  # (id, module index, segment index, is an O2 generator)
    tanks: tuple = ()  # (id, volume index)
    engines: tuple = ()  # engine ids
    comms_links: tuple = ()  # (id, segment index)

    # Derived in __post_init__.
    segments: tuple[str, ...] = field(init=False, repr=False)
    volume_ids: tuple[str, ...] = field(init=False, repr=False)
    volume_index: dict = field(init=False, repr=False)
    n_volumes: int = field(init=False, repr=False)
    vol_segment: np.ndarray = field(init=False, repr=False)  # segment index of each volume
    segment_modules: tuple = field(init=False, repr=False)  # per segment, its modules' indices
    link_ids: tuple[str, ...] = field(init=False, repr=False)
    link_index: dict = field(init=False, repr=False)
    topology: routes.Topology = field(init=False, repr=False)
    link_a: tuple[int, ...] = field(init=False, repr=False)
    link_b: tuple[int, ...] = field(init=False, repr=False)
    vehicle_index: dict = field(init=False, repr=False)  # vehicle id -> volume index
    seats: dict = field(init=False, repr=False)  # vehicle volume index -> crew seats
    vehicle_link: dict = field(init=False, repr=False)  # vehicle volume index -> its hatch
    workstations: tuple[int, ...] = field(init=False, repr=False)
    airlocks: tuple[int, ...] = field(init=False, repr=False)
    slugs: tuple[str, ...] = field(init=False, repr=False)
    actors: tuple[Actor, ...] = field(init=False, repr=False)  # the crew in order, then the grounds
    item_ids: tuple[str, ...] = field(init=False, repr=False)
    item_index: dict = field(init=False, repr=False)
    machine_index: dict = field(init=False, repr=False)
    generator_index: dict = field(init=False, repr=False)
    tank_index: dict = field(init=False, repr=False)
    comms_link_index: dict = field(init=False, repr=False)

    @classmethod
    def of(cls, world: World, people: Sequence = (), items: Sequence[Item] = (),
           factions: Sequence[str] = ()) -> "Directory":
        """The directory of ``world`` with ``people`` (anything with a ``name``) and ``items``;
        ``factions`` are the sides named besides the ones every run knows, in order of mention."""
        return cls(world, tuple(p.name for p in people), tuple(dict.fromkeys([*FACTIONS, *factions])), tuple(items))

    def with_subsystems(self, subsystems: Sequence) -> "Directory":
        """This directory with the machines, tanks, engines and links of the run's other subsystems.

        Read by name (``lifesupport``, ``propulsion``, ``comms``): a run without one has none.
        """
        subs = {s.name: s for s in subsystems}
        machines, tanks, engines, links = (), (), (), ()
        ls = subs.get("lifesupport")
        if ls is not None:
            machines = tuple((m.id, self.volume_index[m.module], SEGMENTS.index(m.segment),
                              m.kind == "o2_generator") for m in ls.machines)
            tanks = tuple((t.id, self.volume_index[t.volume]) for t in ls.tanks)
        prop = subs.get("propulsion")
        if prop is not None:
            engines = tuple(prop.engines)
        comms = subs.get("comms")
        if comms is not None:
            links = tuple((l.id, SEGMENTS.index(l.segment)) for l in comms.links)
        return replace(self, machines=machines, tanks=tanks, engines=engines, comms_links=links)

    def __post_init__(self) -> None:
        from ..physics.crew import EVA_AIRLOCKS, channel_slug

        world = self.world

        def put(name: str, value) -> None:  # the dataclass is frozen: set each derived field once, here
            object.__setattr__(self, name, value)

        put("segments", SEGMENTS)
        put("volume_ids", tuple(v.id for v in world.volumes))
        put("volume_index", world.index)
        put("n_volumes", len(world.volumes))
        put("vol_segment", np.array([SEGMENTS.index(v.segment) for v in world.volumes], dtype=np.int64))
        put("segment_modules", tuple(
            tuple(i for i, v in enumerate(world.volumes) if v.kind == "module" and v.segment == s) for s in SEGMENTS))
        put("link_ids", tuple(l.hatch for l in world.links))
        put("link_index", world.link_index)
        put("topology", routes.Topology.of(world))
        put("link_a", self.topology.a)
        put("link_b", self.topology.b)
        seats = {v.id: v.crew_seats for v in world.station.vehicles}
        put("vehicle_index", {v.id: i for i, v in enumerate(world.volumes) if v.kind == "vehicle"})
        put("seats", {i: seats.get(vid, 0) for vid, i in self.vehicle_index.items()})
        put("vehicle_link", {v: k for v in self.vehicle_index.values() for k, l in enumerate(world.links)
                             if v in (l.a, l.b)})
        put("workstations", tuple(self.volume_index[w] for w in WORKSTATIONS if w in self.volume_index))
        put("airlocks", tuple(self.volume_index[a] for a in EVA_AIRLOCKS if a in self.volume_index))
        # People.
        put("slugs", tuple(channel_slug(n) for n in self.names))
        put("actors", tuple(Actor("crew", n, i) for i, n in enumerate(self.names)) + tuple(
            Actor("ground", g, segment=SEGMENTS.index(s), faction=GROUND_FACTION[g]) for g, s in GROUNDS.items()))
        # Items.
        put("item_ids", tuple(it.id for it in self.items))
        put("item_index", {k: i for i, k in enumerate(self.item_ids)})
        if len(self.item_index) != len(self.items):
            raise ValueError(f"item ids must be unique; got {', '.join(self.item_ids)}")
        for it in self.items:
            if it.at not in self.volume_index and self.person(it.at) is None:
                raise KeyError(f"item {it.id!r}: {it.at!r} is neither a module or docked vehicle nor a crew member")
        # The other subsystems' configuration.
        put("machine_index", {m[0]: i for i, m in enumerate(self.machines)})
        put("generator_index", {m[0]: i for i, m in enumerate(self.machines) if m[3]})
        put("tank_index", {t[0]: i for i, t in enumerate(self.tanks)})
        put("comms_link_index", {l[0]: i for i, l in enumerate(self.comms_links)})

    # ------------------------------------------------------------------ look-ups

    def person(self, text) -> Optional[int]:
        """The index of the crew member named (or slugged) ``text``, else ``None``."""
        for i, (name, slug) in enumerate(zip(self.names, self.slugs)):
            if text == name or text == slug:
                return i
        return None

    def actor(self, text) -> Optional[Actor]:
        """The :class:`~issim.control.authority.Actor` called ``text``, else ``None``."""
        if not isinstance(text, str):
            return None
        p = self.person(text)
        if p is not None:
            return self.actors[p]
        if text.lower() in GROUNDS:
            return next(a for a in self.actors if a.name == text.lower())
        if text == OPERATOR:
            return Actor("operator", OPERATOR)
        return None
