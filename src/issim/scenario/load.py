"""Find, read and check scenario files.

``load_scenario("nominal")`` reads a bundled scenario; ``load_scenario("my.toml")`` a
file. Structure is checked here (types, required fields, times); what the names refer
to (modules, hatches, machines, people) is checked against the built simulation by
:func:`issim.scenario.build.build_simulation`, so both kinds of mistake are reported
before anything runs, as one line naming the file and the field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from ..errors import InputError
from ..inputs import parse_toml, read_bytes, validation_error
from ..times import MS_PER_DAY
from .schema import MAX_DAYS
from .schema import (AgentsSetup, AgentTraits, ChannelCrossing, Condition, CrewMember, Correlation, Dispersion, PersonIn, Scenario, ScenarioInfo, ScenarioItem,
                     ScenarioTrigger, ScheduledEvent, StationSetup, TriggerAction)

_FIELDS = [n for m in (Scenario, Dispersion, Correlation, AgentsSetup, AgentTraits, ScenarioInfo, StationSetup, CrewMember, ScenarioItem, ScheduledEvent, ScenarioTrigger,
                       TriggerAction, Condition, PersonIn, ChannelCrossing)
           for n in m.model_fields]
_RECORDS = {"crew": "crew member", "items": "item", "events": "event", "triggers": "trigger", "dispersions": "dispersion",
            "correlations": "correlation"}
_EXPECTED = ("a [scenario] table (name, title, start, days) and optionally [station], [[crew]], [[items]], [[events]], "
             "[[triggers]], [agents], "
             "[decisions], [[dispersions]] and [[correlations]]")


_names: tuple[str, ...] = ()
_parsed: dict[str, Scenario] = {}  # each bundled scenario, parsed once a process (see load_scenario)


def bundled_names() -> list[str]:
    """The names of the bundled scenarios, sorted (listed once a process: the bundled data
    does not change under a run)."""
    global _names
    if not _names:
        folder = resources.files("issim.data").joinpath("scenarios")
        _names = tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))
    return list(_names)


def _bundled(name: str) -> tuple[str, bytes]:
    """A bundled scenario's source name (for messages) and bytes."""
    raw = resources.files("issim.data").joinpath("scenarios", f"{name}.toml").read_bytes()
    return f"issim/data/scenarios/{name}.toml", raw


_BUNDLED_PREFIX = "issim/data/"


def _bundled_data() -> Path:
    return Path(str(resources.files("issim.data"))).resolve()


def _folder(source: str) -> Path:
    """The folder a scenario's relative paths start from: its own (the bundled data's for a bundled one)."""
    if source.startswith(_BUNDLED_PREFIX):
        return (_bundled_data() / source[len(_BUNDLED_PREFIX):]).parent
    path = Path(source)
    return path.parent if path.exists() else Path.cwd()


def confined_path(source: str, name: str, field: str) -> Path:
    """``name`` (``extends``, ``elements``) as a path, refused unless it lies in the scenario's
    folder (or below it) or in issim's bundled data: a scenario names its own files, not any
    file the user can read. Nothing of the file is read here, so nothing of it is echoed."""
    folder = _folder(source)
    path = folder / name
    where = f"{source}:{field}"
    try:
        resolved = path.resolve()
        roots = (folder.resolve(), _bundled_data())
    except (OSError, RuntimeError, ValueError):
        raise InputError(where, "the path cannot be resolved") from None
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        raise InputError(where, f"{_short(name)} is outside the scenario's folder; {field} names a file in that folder "
                                f"(or below it) or in issim's bundled data")
    return path


def _short(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read a bundled scenario by name, or a scenario file by path.

    A bundled scenario is parsed once a process and handed out as a deep copy each time, so
    a run that changes its scenario object changes no other run's; a file is read afresh
    each time (it may have been edited)."""
    text = str(name_or_path)
    if text in bundled_names():
        scenario = _parsed.get(text)
        if scenario is None:
            scenario = _parsed[text] = parse_scenario(*reversed(_bundled(text)))
        return scenario.model_copy(deep=True)
    path = Path(text)
    if not path.exists() and not text.endswith(".toml") and "/" not in text:
        raise InputError(text, f"no bundled scenario or file of that name; bundled: {', '.join(bundled_names())}")
    return parse_scenario(read_bytes(path, "a scenario TOML file"), str(path))


def _extend(data: dict, source: str, depth: int = 0) -> dict:
    """Merge a scenario over the one it ``extends`` (a bundled name or a relative path).

    The base's ``[scenario]`` fields are overridden one by one; ``[station]`` and
    ``[[crew]]`` and ``[[items]]`` are replaced when given; the base's events and triggers come first, then these.
    """
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str):
        raise InputError(f"{source}:extends", "must be the name of a bundled scenario or a path")
    if depth > 8:
        raise InputError(f"{source}:extends", "scenarios extend each other in a loop")
    if base_name in bundled_names():
        base_source, raw = _bundled(base_name)
    else:
        path = confined_path(source, base_name, "extends")
        try:
            base_source, raw = str(path), read_bytes(path, "a scenario TOML file")
        except InputError as err:  # named by the field that asked for it, not only by the path
            raise InputError(f"{source}:extends", f"{base_name!r} is neither a bundled scenario nor a readable "
                                                  f"file ({err.message})") from None
    base = _extend(parse_toml(raw, base_source, "a scenario file", _EXPECTED), base_source, depth + 1)
    merged = dict(base)
    merged["scenario"] = {**base.get("scenario", {}), **data.get("scenario", {})}
    if "dispersions" in base or "dispersions" in data:  # this file's dispersion of a target replaces the base's
        mine = {d.get("target") for d in data.get("dispersions", []) if isinstance(d, dict)}
        merged["dispersions"] = [d for d in base.get("dispersions", []) if not isinstance(d, dict)
                                 or d.get("target") not in mine] + list(data.get("dispersions", []))
    for key in ("correlations",):
        if key in base or key in data:
            merged[key] = list(base.get(key, [])) + list(data.get(key, []))
    if "decisions" in base or "decisions" in data:
        merged["decisions"] = {**base.get("decisions", {}), **data.get("decisions", {})}
    for key in ("station", "crew", "items", "agents"):
        if key in data:
            merged[key] = data[key]
    merged["events"] = list(base.get("events", [])) + list(data.get("events", []))
    if "triggers" in base or "triggers" in data:
        merged["triggers"] = list(base.get("triggers", [])) + list(data.get("triggers", []))
    return merged


def parse_scenario(raw: bytes, source: str = "<scenario>", inputs: Optional[dict] = None) -> Scenario:
    """Parse and check the structure of a scenario; ``source`` names it in messages.

    ``inputs`` (``{dispersion name: value}``, :func:`issim.scenario.dispersions.draw`) are
    written into the file's data first: one run of a campaign. Without them the file's own
    values stand and its dispersions are checked against their fields' domains."""
    data = parse_toml(raw, source, "a scenario file", _EXPECTED)
    if "source" in data:
        raise InputError(f"{source}:source", "unknown field; see docs/scenarios.md for the fields")
    data = _extend(data, source)
    if inputs:
        from .dispersions import apply

        data = apply(data, inputs, source)
    scenario = _validated(data, source)
    if scenario.dispersions and inputs is None:
        from .dispersions import check

        check(scenario, data, lambda d: _validated(d, source))
    return scenario


def _validated(data: dict, source: str) -> Scenario:
    """A scenario's data (after ``extends``) validated: types and fields, then names and times."""
    try:
        scenario = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise validation_error(exc, source, data, _FIELDS, _RECORDS, "docs/scenarios.md") from None
    names = [c.name for c in scenario.crew]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InputError(f"{source}:crew[{i}].name", f"duplicate name {name!r}; each person needs their own")
    start = scenario.start_ms
    for i, ev in enumerate(scenario.events):
        try:
            at = ev.at_ms(start)
        except (ValueError, InputError) as exc:
            message = exc.message if isinstance(exc, InputError) else str(exc)
            raise InputError(f"{source}:events[{i}].at", message) from None
        if at < start:
            raise InputError(f"{source}:events[{i}].at", "is before the scenario's start")
        if at - start > MAX_DAYS * MS_PER_DAY:
            raise InputError(f"{source}:events[{i}].at", f"is more than {MAX_DAYS:g} days after the start, the longest run")
    ids = [t.id for t in scenario.triggers]
    for i, tr in enumerate(scenario.triggers):
        if tr.id in ids[:i]:
            raise InputError(f"{source}:triggers[{i}].id", f"duplicate id {tr.id!r}; each trigger needs its own")
        try:
            tr.after_ms()
        except ValueError as exc:
            raise InputError(f"{source}:triggers[{i}].after", str(exc)) from None
    return scenario
