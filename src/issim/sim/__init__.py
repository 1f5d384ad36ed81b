"""The simulation engine: state as plain data, fixed frames, an event queue, a recorder."""

from .engine import Env, Simulation, Snapshot
from .events import Event, EventQueue
from .rng import Streams
from .schema import Key, Schema, SchemaError, WriteGuard, check_schema
from .state import State
from .subsystem import Subsystem
from .telemetry import Channel, Limits, Recorder
from .world import SEGMENTS, Link, Volume, World, build_world

__all__ = [
    "Channel", "Env", "Event", "EventQueue", "Key", "Limits", "Link", "Recorder", "SEGMENTS", "Schema", "SchemaError",
    "Simulation", "Snapshot", "State", "Streams", "Subsystem", "Volume", "World", "WriteGuard", "build_world",
    "check_schema",
]
