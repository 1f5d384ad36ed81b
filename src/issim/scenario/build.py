"""Turn a checked scenario into a ready-to-run :class:`~issim.sim.Simulation`.

Names in the scenario (vehicles, hatches, modules, people, machines, actions) are
checked here against the station and the subsystems that will handle them, so a
mistake is reported before the run starts, as one line naming the file and field.
"""

from __future__ import annotations

from typing import Optional

from ..errors import InputError
from ..inputs import check_seed
from ..sim import Event, Simulation, build_world, check_schema
from ..sim.memo import Memo
from ..station import load_station
from .schema import Scenario, parse_offset_ms


def _freeze(value):
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def scenario_events(scenario: Scenario) -> list[Event]:
    """The scenario's timed events as engine events, in file order.

    An event with an ``actor`` is a command: an engine event of kind ``command`` that the
    control subsystem runs through the command pipeline when it is due.
    """
    start = scenario.start_ms
    out = []
    for ev in scenario.events:
        if ev.actor is None:
            out.append(Event(ev.at_ms(start), ev.action, ev.target, _freeze(ev.args), source="scenario"))
        else:
            args = (("actor", ev.actor), ("args", _freeze(ev.args)), ("command", ev.action))
            out.append(Event(ev.at_ms(start), "command", ev.target, args, source="scenario"))
    return out


def _action_event(a, source: str = "scenario") -> Event:
    """An ``[[events]]`` entry or a trigger's action as an engine event (time 0 for an action)."""
    t = 0
    if a.actor is None:
        return Event(t, a.action, a.target, _freeze(a.args), source=source)
    args = (("actor", a.actor), ("args", _freeze(a.args)), ("command", a.action))
    return Event(t, "command", a.target, args, source=source)


def _condition(when) -> tuple:
    kind = when.kind
    value = getattr(when, kind)
    if kind == "person_in":
        value = (value.person, value.module)
    elif kind == "channel":
        value = (value.key, "below", value.below) if value.below is not None else (value.key, "above", value.above)
    return kind, value


def scenario_triggers(scenario: Scenario) -> list:
    """The scenario's triggers as :class:`~issim.scenario.triggers.TriggerSpec`, in file order."""
    from .triggers import TriggerSpec

    return [TriggerSpec(t.id, _condition(t.when), t.after_ms(), t.once, tuple(_action_event(a) for a in t.do))
            for t in scenario.triggers]


def _check_action(sim, event: Event, where: str) -> None:
    problem = sim.check_event(event) if event.kind == "command" or event.kind in sim.handlers else None
    if problem:
        raise InputError(f"{where}.args", problem)
    if event.kind == "command":
        problem = sim.port.validate(sim, event)
        if problem:
            raise InputError(where, problem)
        return
    handler = sim.handlers.get(event.kind)
    if handler is None:
        raise InputError(f"{where}.action", f"unknown action {event.kind!r}; actions: {', '.join(sorted(sim.handlers))}")
    problem = handler.validate(event)
    if problem:
        raise InputError(where, problem)


_calibrated = Memo(16)  # (the chosen set, the sets it was calibrated on) -> the calibrated set


def _elements(scenario: Scenario):
    """The scenario's element set, its drag calibrated on the published history before it."""
    from .. import orbit
    from ..orbit.upkeep import calibrated_drag

    from .load import confined_path

    choice = scenario.scenario.elements
    path = None
    if choice != "default":
        path = confined_path(scenario.source or "<scenario>", choice, "scenario.elements")
    # Only the start matters for staleness: from there on the simulation carries the orbit.
    try:
        elements = orbit.elements_for(scenario.start_ms, scenario.start_ms, path=path)
        sets = orbit.available_sets(path)
        if path is not None:  # a scenario's own file, read afresh: no cache
            return calibrated_drag(elements, sets)
        # The bundled and saved sets are the same objects run after run (read once a process),
        # and an ElementSet is read-only: the calibrated set is kept for them.
        return _calibrated.get((elements, tuple(sets)), lambda: calibrated_drag(elements, sets))
    except RecursionError:
        raise InputError(f"{scenario.source}:scenario.elements", "the element file is nested too deeply") from None
    except InputError as exc:
        if path is None or "'" not in exc.message and '"' not in exc.message:
            raise
        # The reader quotes the line it could not read; a scenario's error never shows a file's contents.
        raise InputError(f"{scenario.source}:scenario.elements",
                         f"{choice!r} is not an element set issim can read (TLE, or OMM JSON, CSV or XML)") from None


def build_simulation(scenario, seed: Optional[int] = None, end_ms: Optional[int] = None) -> Simulation:
    """Build the simulation a scenario describes (a bundled name, a file path or a loaded
    :class:`Scenario`); ``seed`` overrides the scenario's."""
    from ..control.authority import FACTIONS, default_faction
    from ..control.custody import Custody
    from ..control.directory import Item
    from ..control.pipeline import ControlPort
    from ..physics.atmosphere import Atmosphere
    from ..physics.comms import Comms
    from ..physics.crew import Crew, PersonSpec
    from ..physics.lifesupport import LifeSupport
    from ..physics.attitude import Attitude
    from ..physics.power import Power
    from ..physics.propulsion import Propulsion
    from .triggers import Triggers
    from ..agents import Agents, MindSpec, check_decisions

    if not isinstance(scenario, Scenario):
        from .load import load_scenario

        scenario = load_scenario(scenario)
    src = scenario.source or "<scenario>"
    seed = check_seed(scenario.scenario.seed if seed is None else seed, "seed" if seed is not None else f"{src}:scenario.seed")
    era = scenario.station.era
    try:
        station = load_station(era=era)
    except InputError as exc:
        if era is None:
            raise
        from ..station.load import era_names

        raise InputError(f"{src}:station.era", f"no era {era!r}; eras: {', '.join(era_names())}") from exc
    vehicles = scenario.station.vehicles
    known_vehicles = {v.id for v in station.vehicles}
    for i, v in enumerate(vehicles or []):
        if v not in known_vehicles:
            raise InputError(f"{src}:station.vehicles[{i}]", f"no vehicle {v!r}; known: {', '.join(sorted(known_vehicles))}")
    world = build_world(station, vehicles)
    agencies = {a.id for a in station.agencies}
    people = []
    for i, c in enumerate(scenario.crew):
        for field in ("module", "sleep_module"):
            where = getattr(c, field)
            if where is not None and where not in world.index:
                raise InputError(
                    f"{src}:crew[{i}].{field}",
                    f"no module or docked vehicle {where!r} (in crew member {c.name!r}); see issim station",
                )
        agency = c.agency.lower()
        if agency not in agencies:
            raise InputError(f"{src}:crew[{i}].agency", f"unknown agency {c.agency!r}; agencies: {', '.join(sorted(agencies))}")
        people.append(
            PersonSpec(
                name=c.name, agency=agency, module=c.module, sleep_module=c.sleep_module,
                exercise_hour_utc=c.exercise_hour_utc,
            )
        )
    names = {p.name for p in people}
    items = []
    for i, it in enumerate(scenario.items):
        if it.at not in world.index and it.at not in names:
            raise InputError(f"{src}:items[{i}].at",
                             f"{it.at!r} is neither a module or docked vehicle nor a crew member")
        items.append(Item(it.id, it.name or it.id, it.at))
    credentials = {}
    # A faction someone holds: the ones every run knows, and each crew member's (by agency).
    known_factions = set(FACTIONS) | {default_faction(p.agency) for p in people}
    for seg, factions in scenario.station.credentials.items():
        if seg not in ("USOS", "ROS"):
            raise InputError(f"{src}:station.credentials.{seg}", "segments are USOS and ROS")
        if not factions or not all(isinstance(f, str) and f for f in factions):
            raise InputError(f"{src}:station.credentials.{seg}", "give the factions its laptops accept, e.g. [\"usa\"]")
        for j, f in enumerate(factions):
            if f not in known_factions:
                raise InputError(f"{src}:station.credentials.{seg}[{j}]",
                                 f"no one is of faction {f!r}, so no one could command the {seg}; "
                                 f"factions: {', '.join(sorted(known_factions))} (lower case)")
        credentials[seg] = tuple(factions)
    bad = check_decisions(scenario.decisions)
    if bad:
        raise InputError(f"{src}:decisions.{bad[0]}", bad[1])
    minds = []
    for name in scenario.agents.people:
        if name not in names:
            raise InputError(f"{src}:agents.people.{name}", f"no crew member {name!r}; the crew are {', '.join(sorted(names))}")
    for name, traits in scenario.agents.people.items():
        for field in ("bond", "confidant"):
            other = getattr(traits, field)
            if other is not None and (other not in names or other == name):
                raise InputError(f"{src}:agents.people.{name}.{field}",
                                 f"{other!r} is not another crew member; the crew are {', '.join(sorted(names))}")
    prize = scenario.agents.prize
    if prize is not None and prize not in {it.id for it in scenario.items}:
        raise InputError(f"{src}:agents.prize", f"no item {prize!r} in [[items]]")
    for key in ("d1_means", "d2_means"):
        if scenario.decisions.get(key) == "lure" and not scenario.agents.violence:
            raise InputError(f"{src}:decisions.{key}", "a lure is violence: it needs [agents] violence = true")
    for p in people:
        traits = scenario.agents.people.get(p.name)
        given = {k: v for k, v in (traits.model_dump() if traits else {}).items() if v is not None}
        minds.append(MindSpec(p.name, **given))
    agents = Agents(world, minds, scenario.decisions, violence=scenario.agents.violence,
                    interval_s=scenario.agents.interval_s, crisis_interval_s=scenario.agents.crisis_interval_s,
                    prize=prize,
                    war_at_ms=scenario.start_ms + parse_offset_ms(scenario.agents.war_at) if scenario.agents.war_at else 0)
    end_ms = scenario.default_end_ms if end_ms is None else end_ms
    triggers = Triggers(scenario_triggers(scenario), scenario.start_ms)
    sim = Simulation(
        world,
        [Power(world), Attitude(world), Crew(world, people), LifeSupport(world), Propulsion(world), Comms(world),
         Atmosphere(world), Custody(world, people, items, credentials=credentials), agents, triggers],
        start_ms=scenario.start_ms,
        seed=seed,
        frame_s=scenario.scenario.frame_s,
        record_every_s=scenario.scenario.record_every_s,
        elements=_elements(scenario),
        port=ControlPort(),
    )
    links = world.link_index
    for i, hatch in enumerate(scenario.station.closed_hatches):
        if hatch not in links:
            raise InputError(f"{src}:station.closed_hatches[{i}]", f"no hatch {hatch!r}; see issim station")
        sim.state["hatch.open"][links[hatch]] = False
    check_schema(sim)  # every key declared by its one owner, as declared (a bug otherwise, not an input error)
    for i, event in enumerate(scenario_events(scenario)):
        _check_action(sim, event, f"{src}:events[{i}]")
        sim.schedule(event)
    for i, spec in enumerate(triggers.specs):
        problem = triggers.problem(spec.condition)
        if problem:
            raise InputError(f"{src}:triggers[{i}].{problem[0]}", f"{problem[1]} (in trigger {spec.id!r})")
        for j, event in enumerate(spec.actions):
            _check_action(sim, event, f"{src}:triggers[{i}].do[{j}]")
    return sim
