"""Discrete events: things that happen at a moment rather than over time.

An :class:`Event` is a small frozen record (a time, a kind, a target and arguments).
The :class:`EventQueue` orders events by time and then by the order they were
scheduled, so two events at the same millisecond always run in the same order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=False)
class Event:
    """Something to do at ``t_ms``: ``kind`` names the action, ``target`` what it acts on.

    ``args`` is a tuple of ``(name, value)`` pairs; ``source`` says who or what asked
    (``scenario``, a crew member, the ground).
    """

    t_ms: int
    kind: str
    target: str = ""
    args: tuple = ()
    source: str = "scenario"

    def arg(self, name: str, default: Any = None) -> Any:
        for k, v in self.args:
            if k == name:
                return v
        return default


@dataclass
class EventQueue:
    """A time-ordered queue of events; plain data, so it copies with a snapshot."""

    _heap: list = field(default_factory=list)
    _seq: int = 0

    def push(self, event: Event) -> None:
        heapq.heappush(self._heap, (event.t_ms, self._seq, event))
        self._seq += 1

    def due(self, t_ms: int) -> bool:
        """Whether an event is due at or before ``t_ms`` (what :meth:`pop_due` would return)."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= t_ms

    def pop_due(self, t_ms: int) -> list[Event]:
        """Remove and return every event due at or before ``t_ms``, in order."""
        due = []
        while self._heap and self._heap[0][0] <= t_ms:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def peek_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def copy(self) -> "EventQueue":
        return EventQueue(list(self._heap), self._seq)


# ---------------------------------------------------------------------------- checking

MAX_ARG_DEPTH = 8  # arguments inside arguments (a command's args inside its event); 3 is the most used
_T_LIMIT = 2**63  # event times are stored as signed 64-bit milliseconds


def event_problem(event: Any) -> str | None:
    """Whether ``event`` is well formed, whoever made it (a file, a trigger, Python code):
    an integer time, text kind and target, and ``args`` a tuple of ``(name, value)`` pairs
    with distinct text names, whose values are text, true/false, finite numbers, nothing,
    or tuples of these. ``None`` when it is, else a one-line reason."""
    import math
    import numbers

    if not isinstance(event, Event):
        return f"not an Event: {_shown(event)}"
    if isinstance(event.t_ms, bool) or not isinstance(event.t_ms, numbers.Integral) or not -_T_LIMIT < event.t_ms < _T_LIMIT:
        return f"the event's time must be whole milliseconds (a 64-bit integer), got {_shown(event.t_ms)}"
    if not isinstance(event.kind, str) or not event.kind:
        return f"the event's kind must be text, got {_shown(event.kind)}"
    if not isinstance(event.target, str):
        return f"the event's target must be text, got {_shown(event.target)}"
    args = event.args
    if not isinstance(args, tuple) or not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in args):
        return f"args must be a tuple of (name, value) pairs, got {_shown(args)}"
    names = [k for k, _ in args]
    if len(set(names)) != len(names):
        return f"an argument is given twice: {sorted(k for k in set(names) if names.count(k) > 1)[0]!r}"
    stack = [(v, k, 1) for k, v in args]
    while stack:
        value, name, depth = stack.pop()
        if depth > MAX_ARG_DEPTH:
            return f"args.{name} is nested more than {MAX_ARG_DEPTH} deep"
        if isinstance(value, tuple):
            stack.extend((v, name, depth + 1) for v in value)
        elif value is None or isinstance(value, (str, bool)) or type(value).__name__ == "bool_":
            continue
        elif isinstance(value, numbers.Real):
            if not isinstance(value, numbers.Integral) and not math.isfinite(float(value)):
                return f"args.{name} must be a finite number, got {_shown(value)}"
        else:
            return f"args.{name} must be text, true/false, a number or a tuple of these, got {_shown(value)}"
    return None


def unknown_arg(event: Event, accepted: dict[str, tuple[str, ...]] | None) -> str | None:
    """An argument ``event`` gives that its kind does not take (``accepted``: kind -> names,
    a kind not listed takes none; ``None``: the handler does not say), as a one-line reason."""
    if accepted is None:
        return None
    takes = accepted.get(event.kind, ())
    for name, _ in event.args:
        if name not in takes:
            listed = f"args {', '.join(takes)}" if takes else "no args"
            return f"{event.kind} takes {listed}; got {name!r}"
    return None


def _shown(value: Any) -> str:
    try:
        shown = repr(value)
    except Exception:  # a value whose repr fails is shown by its type
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= 60 else shown[:57] + "..."
