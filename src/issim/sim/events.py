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
