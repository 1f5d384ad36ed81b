"""The scenario file format (TOML), validated with pydantic.

A scenario says when the run starts, which orbit and station configuration it uses,
who is aboard and where, and what happens at which time. ``docs/scenarios.md``
describes every field; :func:`issim.scenario.load_scenario` reads and checks a file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class ScenarioItem(Strict):
    """Something that can be carried (research samples): ``at`` a module or vehicle id, or a person."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = ""
    at: str = Field(min_length=1)


class Scenario(Strict):
    """A validated scenario; ``source`` is the file it came from."""

    scenario: ScenarioInfo
    station: StationSetup = StationSetup()
    crew: list[CrewMember] = []
    items: list[ScenarioItem] = []
    events: list[ScheduledEvent] = []
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
