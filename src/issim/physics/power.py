"""Power, as a boundary for now: each segment's bus either has power or not.

Machines and fans stop when their segment's bus is down. The power issue replaces this
with arrays, batteries, converters and load shedding.
"""

from __future__ import annotations

import numpy as np

from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel
from ..sim.world import SEGMENTS


class PowerBuses(Subsystem):
    name = "power"
    events = ("power_off", "power_on")

    def reset(self, state, world, streams) -> None:
        state["power.bus"] = np.ones(len(SEGMENTS), dtype=bool)

    def update(self, state, env, dt_s: float) -> None:
        pass

    def validate(self, event):
        if event.target not in SEGMENTS:
            return f"no segment {event.target!r}; segments are {', '.join(SEGMENTS)}"
        return None

    def handle(self, state, event):
        if event.target not in SEGMENTS:
            return f"no segment {event.target!r}; segments are {', '.join(SEGMENTS)}"
        state["power.bus"][SEGMENTS.index(event.target)] = event.kind == "power_on"
        return None

    def channels(self) -> list[Channel]:
        return [Channel(f"power.{s}.bus", f"{s} power bus up", "1", "power.bus", (i,)) for i, s in enumerate(SEGMENTS)]
