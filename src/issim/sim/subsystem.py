"""The contract every subsystem keeps with the engine.

A subsystem is configuration (fixed for a run, kept on the object) plus behaviour; its
changing state lives only in the :class:`~issim.sim.state.State` under keys it owns.
The engine calls, in a fixed order:

- ``reset(state, world, streams)`` once, to create its arrays;
- ``update(state, env, dt_s)`` every frame, to advance them by ``dt_s`` seconds;
- ``handle(state, event)`` for each discrete event whose kind it lists in ``events``,
  returning ``None`` when done or a one-line reason when the event cannot happen.

``event_args`` says which arguments each event kind takes (``{kind: (name, ...)}``, a kind
not listed takes none; ``None`` leaves it to ``validate``): the engine refuses any other,
at build time and when the event comes due. ``validate(event)`` says, before a run, whether an event is well formed (its target
exists, its arguments have the right names and types): ``None`` or a one-line problem.

``channels()`` declares its telemetry; ``schema()`` its state: the keys it owns (each
created by its ``reset``), the keys of others it reads, and the few it changes in place
(see :mod:`issim.sim.schema`; ``issim state`` prints them).

``bind(engine)`` is called once, before ``reset``, with the simulation that runs the
subsystem; only a subsystem that issues through the engine (the command pipeline's
``control``) keeps it, and then as configuration, never as state.
"""

from __future__ import annotations

from typing import Optional

from .events import Event
from .schema import Schema
from .state import State
from .telemetry import Channel


class Subsystem:
    name: str = "subsystem"
    events: tuple[str, ...] = ()
    event_args: Optional[dict[str, tuple[str, ...]]] = None

    def bind(self, engine) -> None:
        return None

    def reset(self, state: State, world, streams) -> None:
        raise NotImplementedError

    def update(self, state: State, env, dt_s: float) -> None:
        raise NotImplementedError

    def handle(self, state: State, event: Event) -> Optional[str]:
        return f"{self.name} does not handle {event.kind!r}"

    def validate(self, event: Event) -> Optional[str]:
        return None

    def channels(self) -> list[Channel]:
        return []

    def schema(self) -> Schema:
        return Schema()
