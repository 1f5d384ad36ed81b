"""The simulation engine: state as plain data, fixed frames, an event queue, a recorder."""

from .engine import Env, Simulation, Snapshot
from .events import Event, EventQueue
from .rng import Streams
from .state import State
from .subsystem import Subsystem
from .telemetry import Channel, Limits, Recorder
from .world import SEGMENTS, Link, Volume, World, build_world

__all__ = [
    "Channel", "Env", "Event", "EventQueue", "Limits", "Link", "Recorder", "SEGMENTS", "Simulation",
    "Snapshot", "State", "Streams", "Subsystem", "Volume", "World", "build_world",
]
