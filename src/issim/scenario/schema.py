"""The scenario file format (TOML), validated with pydantic.

A scenario says when the run starts, which orbit and station configuration it uses,
who is aboard and where, and what happens at which time. ``docs/scenarios.md``
describes every field; :func:`issim.scenario.load_scenario` reads and checks a file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..times import MS_PER_DAY

_OFFSET_RE = re.compile(r"^\+(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_offset_ms(text: str) -> int:
    """``+1d2h30m15s`` (any of the parts, in that order) as milliseconds."""
    m = _OFFSET_RE.match(text.strip())
    if not m or not any(m.groups()):
        raise ValueError(f"'{text}' is not an offset like +90s, +2h or +1d6h30m")
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return round(((d * 24 + h) * 60 + mi) * 60_000 + s * 1000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioInfo(Strict):
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    description: str = ""
    start: datetime
    days: float = Field(gt=0.0, le=3660.0, description="default length of a run, days")
    frame_s: float = Field(default=10.0, gt=0.0, le=600.0)
    record_every_s: float = Field(default=60.0, gt=0.0)
    seed: int = Field(default=0, ge=0)
    elements: str = "default"

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a time zone: end it with Z for UTC")
        return value


class StationSetup(Strict):
    vehicles: Optional[list[str]] = None
    closed_hatches: list[str] = []
    # Which factions each segment's laptops accept at the start (default USOS: usa, ROS: russia).
    credentials: dict[str, list[str]] = {}


class CrewMember(Strict):
    name: str = Field(min_length=1)
    agency: str
    module: str
    sleep_module: Optional[str] = None
    exercise_hour_utc: Optional[float] = Field(default=None, ge=0.0, lt=24.0)


class ScheduledEvent(Strict):
    """Something that happens at ``at``; with an ``actor`` it is a command, issued by that
    person (or ``houston``, ``moscow``, ``operator``) through the command pipeline, and
    ``action`` names a command of the catalogue (``docs/commands.md``)."""

    at: str | datetime
    action: str = Field(min_length=1)
    target: str = ""
    args: dict[str, Any] = {}
    actor: Optional[str] = Field(default=None, min_length=1)
    note: str = ""

    def at_ms(self, start_ms: int) -> int:
        if isinstance(self.at, datetime):
            from ..times import datetime_to_ms

            if self.at.tzinfo is None:
                raise ValueError("needs a time zone: end it with Z for UTC")
            return datetime_to_ms(self.at)
        text = self.at.strip()
        if text.startswith("+"):
            return start_ms + parse_offset_ms(text)
        from ..times import parse_iso

        return parse_iso(text, "at")


class AgentTraits(Strict):
    """One person's mind at the start (``[agents.people."Name"]``), each 0-1."""

    loyalty: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    aggression: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    caution: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    solidarity: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    bond: Optional[str] = None
    confidant: Optional[str] = None


class AgentsSetup(Strict):
    """The crew agents (``[agents]``): how often they decide, whether violence is open to them."""

    violence: bool = False
    interval_s: float = Field(default=300.0, gt=0.0, le=86400.0)
    crisis_interval_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    prize: Optional[str] = None
    people: dict[str, AgentTraits] = {}


class ScenarioItem(Strict):
    """Something that can be carried (research samples): ``at`` a module or vehicle id, or a person."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = ""
    at: str = Field(min_length=1)


class TriggerAction(Strict):
    """One thing a trigger does: a ``[[events]]`` entry without ``at``. With an ``actor``
    it is a command through the pipeline, issued by that person (or the ground)."""

    action: str = Field(min_length=1)
    target: str = ""
    args: dict[str, Any] = {}
    actor: Optional[str] = Field(default=None, min_length=1)
    note: str = ""


class PersonIn(Strict):
    person: str = Field(min_length=1)
    module: str = Field(min_length=1)


class ChannelCrossing(Strict):
    key: str = Field(min_length=1)
    below: Optional[float] = None
    above: Optional[float] = None

    @model_validator(mode="after")
    def _one_side(self) -> "ChannelCrossing":
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below or above")
        return self


CONDITIONS = ("contact", "person_in", "channel", "dead", "at_least_dead")


class Condition(Strict):
    """Exactly one condition (see docs/scenarios.md, "Triggers")."""

    contact: Optional[Literal["USOS", "ROS"]] = None
    person_in: Optional[PersonIn] = None
    channel: Optional[ChannelCrossing] = None
    dead: Optional[str] = Field(default=None, min_length=1)
    at_least_dead: Optional[int] = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> "Condition":
        given = [c for c in CONDITIONS if getattr(self, c) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one condition of {', '.join(CONDITIONS)}; got {len(given)}")
        return self

    @property
    def kind(self) -> str:
        return next(c for c in CONDITIONS if getattr(self, c) is not None)


class ScenarioTrigger(Strict):
    """When ``when`` comes true (after ``after``), do ``do``; once unless ``once = false``."""

    id: str = Field(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$")
    when: Condition
    after: str = "+0s"
    once: bool = True
    do: list[TriggerAction] = Field(min_length=1)
    note: str = ""

    def after_ms(self) -> int:
        text = self.after.strip()
        return 0 if text in ("+0s", "+0", "") else parse_offset_ms(text)


class Scenario(Strict):
    """A validated scenario; ``source`` is the file it came from."""

    scenario: ScenarioInfo
    station: StationSetup = StationSetup()
    crew: list[CrewMember] = []
    items: list[ScenarioItem] = []
    events: list[ScheduledEvent] = []
    triggers: list[ScenarioTrigger] = []
    agents: AgentsSetup = AgentsSetup()
    # Decision points (issim.agents.decisions): key -> a choice or "chance"; checked at build.
    decisions: dict[str, str] = {}
    source: str = ""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def start_ms(self) -> int:
        from ..times import datetime_to_ms

        return datetime_to_ms(self.scenario.start)

    @property
    def default_end_ms(self) -> int:
        return self.start_ms + round(self.scenario.days * MS_PER_DAY)
