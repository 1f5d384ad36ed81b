"""The scenario file format (TOML), validated with pydantic.

A scenario says when the run starts, which orbit and station configuration it uses,
who is aboard and where, and what happens at which time. ``docs/scenarios.md``
describes every field; :func:`issim.scenario.load_scenario` reads and checks a file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, Strict as StrictType, field_validator, model_validator

from ..inputs import SEED_LIMIT
from ..times import MS_PER_DAY

# Numbers in a scenario: strict, so that true/false is not read as 1/0 (an integer is
# still a good float); NaN and infinities are refused by the models' ``allow_inf_nan``.
Num = Annotated[float, StrictType()]
Whole = Annotated[int, StrictType()]

MAX_DAYS = 3660.0  # the longest run, and the furthest an event may lie after the start
MAX_CREW = 50
# Why 50: the most people the ISS has held at once is 13 (STS-127, 2009); every person
# adds state, telemetry channels and a mind that decides every few minutes, so the cost
# of a run grows with the crew. 50 leaves room for any what-if while a mistyped or
# hostile file (10,000 crew: gigabytes within a minute) is refused before it runs.

_OFFSET_RE = re.compile(r"^\+(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_offset_ms(text: str) -> int:
    """``+1d2h30m15s`` (any of the parts, in that order) as milliseconds."""
    m = _OFFSET_RE.match(text.strip())
    if not m or not any(m.groups()):
        raise ValueError(f"'{text}' is not an offset like +90s, +2h or +1d6h30m")
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    ms = ((d * 24 + h) * 60 + mi) * 60_000 + s * 1000
    if not ms <= MAX_DAYS * MS_PER_DAY:  # also refuses the infinity of a thousand-digit number
        raise ValueError(f"'{text}' is more than {MAX_DAYS:g} days, the longest run")
    return round(ms)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ScenarioInfo(Strict):
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    description: str = ""
    start: datetime
    days: Num = Field(gt=0.0, le=MAX_DAYS, description="default length of a run, days")
    frame_s: Num = Field(default=10.0, ge=0.001, le=600.0)
    record_every_s: Num = Field(default=60.0, gt=0.0, le=86_400.0)
    seed: Whole = Field(default=0, ge=0, lt=SEED_LIMIT)
    elements: str = "default"

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a time zone: end it with Z for UTC")
        return value

    @model_validator(mode="after")
    def _frames(self) -> "ScenarioInfo":
        frame_ms = self.frame_s * 1000
        if abs(frame_ms - round(frame_ms)) > 1e-6:
            raise _FieldError("frame_s", f"must be a whole number of milliseconds, got {self.frame_s:g} s")
        every = self.record_every_s / self.frame_s
        if abs(every - round(every)) > 1e-9 or round(every) < 1:
            raise _FieldError("record_every_s", f"must be a whole multiple of frame_s ({self.frame_s:g} s), "
                                                f"got {self.record_every_s:g} s")
        if self.days * 86_400.0 < self.frame_s:
            raise _FieldError("days", f"{self.days:g} days is shorter than one frame ({self.frame_s:g} s)")
        return self


class _FieldError(ValueError):
    """A model check's problem with one field (read by :func:`issim.inputs.validation_error`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class StationSetup(Strict):
    # The station as it was on a day of its history (an era of the station file's [[eras]]:
    # "2018", "2020", "2024"); default: the last, today's configuration.
    era: Optional[str] = Field(default=None, min_length=1)
    vehicles: Optional[list[str]] = None
    closed_hatches: list[str] = []
    # Which factions each segment's laptops accept at the start (default USOS: usa, ROS: russia).
    credentials: dict[str, list[str]] = {}


class CrewMember(Strict):
    name: str = Field(min_length=1)
    agency: str
    module: str
    sleep_module: Optional[str] = None
    exercise_hour_utc: Optional[Num] = Field(default=None, ge=0.0, lt=24.0)


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

    @field_validator("at", mode="before")
    @classmethod
    def _not_a_number(cls, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # (pydantic would read seconds since 1970)
            raise ValueError(f"give an offset from the start such as \"+30m\" or an ISO 8601 time ending in Z, "
                             f"not the number {value!r}")
        return value

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

    loyalty: Optional[Num] = Field(default=None, ge=0.0, le=1.0)
    aggression: Optional[Num] = Field(default=None, ge=0.0, le=1.0)
    caution: Optional[Num] = Field(default=None, ge=0.0, le=1.0)
    solidarity: Optional[Num] = Field(default=None, ge=0.0, le=1.0)
    bond: Optional[str] = None
    confidant: Optional[str] = None


class AgentsSetup(Strict):
    """The crew agents (``[agents]``): how often they decide, whether violence is open to them."""

    violence: Annotated[bool, StrictType()] = False
    interval_s: Num = Field(default=300.0, gt=0.0, le=86400.0)
    crisis_interval_s: Num = Field(default=60.0, gt=0.0, le=3600.0)
    prize: Optional[str] = None
    war_at: Optional[str] = None  # an offset (+26h): when the war below can be seen from the windows
    people: dict[str, AgentTraits] = {}

    @field_validator("war_at")
    @classmethod
    def _war_at(cls, v):
        if v is not None:
            parse_offset_ms(v)
        return v


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
    below: Optional[Num] = None
    above: Optional[Num] = None

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
    at_least_dead: Optional[Whole] = Field(default=None, ge=1, le=MAX_CREW)

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
    once: Annotated[bool, StrictType()] = True
    do: list[TriggerAction] = Field(min_length=1)
    note: str = ""

    def after_ms(self) -> int:
        text = self.after.strip()
        return 0 if text in ("+0s", "+0", "") else parse_offset_ms(text)


class Dispersion(Strict):
    """One input drawn afresh for each run of a campaign (``[[dispersions]]``, docs/scenarios.md):
    ``target`` is a field of this file as a dotted key (``agents.people."Kira Foster".loyalty``,
    ``decisions.d3_eva``, ``events.5.at``); exactly one of the ways to draw it is given.
    Checked against the field's own domain by :func:`issim.scenario.dispersions.check`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    target: str = Field(min_length=1, max_length=300)
    fixed: Optional[Num | str | Annotated[bool, StrictType()]] = None
    choice: Optional[dict[str, Num]] = None  # a value -> its weight
    uniform: Optional[list[Num]] = Field(default=None, min_length=2, max_length=2)  # [low, high]
    normal: Optional[dict[str, Num]] = None  # mean, sd; optional min, max
    lognormal: Optional[dict[str, Num]] = None  # median, sigma (of the log); optional min, max
    note: str = ""


class Correlation(Strict):
    """A correlation between two dispersions' draws (a Gaussian copula; ``[[correlations]]``)."""

    between: list[str] = Field(min_length=2, max_length=2)
    rho: Num = Field(gt=-1.0, lt=1.0)


class Scenario(Strict):
    """A validated scenario; ``source`` is the file it came from."""

    scenario: ScenarioInfo
    station: StationSetup = StationSetup()
    crew: list[CrewMember] = Field(default=[], max_length=MAX_CREW)
    items: list[ScenarioItem] = []
    events: list[ScheduledEvent] = []
    triggers: list[ScenarioTrigger] = []
    agents: AgentsSetup = AgentsSetup()
    # Decision points (issim.agents.decisions): key -> a choice or "chance"; checked at build.
    decisions: dict[str, str] = {}
    # Inputs drawn for each run of a campaign (issim.scenario.dispersions); a single run uses the file's own values.
    dispersions: list[Dispersion] = Field(default=[], max_length=200)
    correlations: list[Correlation] = []
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
