"""The whole simulation state as plain data.

A :class:`State` is a clock (integer UTC milliseconds and a frame counter), a flat
mapping of named numpy arrays, a mapping of named counters (running totals), and the
event log. Subsystems own named parts of it (``"atm.moles"``, ``"crew.o2_deficit"``)
and never keep mutable state elsewhere, so a snapshot is a copy, a restore is a load,
and a fork is another copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class State:
    """Clock, arrays, totals and the event log of one simulated station."""

    t_ms: int = 0
    frame: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    log: list[tuple] = field(default_factory=list)
    # Small immutable facts that change by events (e.g. who is in which vehicle).
    facts: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.arrays[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def add_total(self, key: str, amount: float) -> None:
        """Add to a running total (created at zero)."""
        self.totals[key] = self.totals.get(key, 0.0) + float(amount)

    def record(self, kind: str, **details: Any) -> None:
        """Append an entry to the event log, stamped with the current time.

        Details must be plain, immutable values (numbers, strings, tuples) so that the log
        hashes identically on every run.
        """
        self.log.append((self.t_ms, kind, tuple(sorted(details.items()))))

    def copy(self) -> "State":
        """A deep, independent copy."""
        return State(
            t_ms=self.t_ms,
            frame=self.frame,
            arrays={k: v.copy() for k, v in self.arrays.items()},
            totals=dict(self.totals),
            log=list(self.log),
            facts=copy.deepcopy(self.facts),
        )

    def identical(self, other: "State") -> bool:
        """Bit-for-bit equality of everything (arrays compared as bytes)."""
        return (
            self.t_ms == other.t_ms
            and self.frame == other.frame
            and self.arrays.keys() == other.arrays.keys()
            and all(
                self.arrays[k].dtype == other.arrays[k].dtype
                and self.arrays[k].shape == other.arrays[k].shape
                and self.arrays[k].tobytes() == other.arrays[k].tobytes()
                for k in self.arrays
            )
            and self.totals == other.totals
            and self.log == other.log
            and self.facts == other.facts
        )
