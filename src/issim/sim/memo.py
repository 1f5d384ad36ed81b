"""Values made once a process by key, a bounded number of them.

Runs alike (another seed of a scenario, a batch's next station, a campaign's next run)
make the same things from the same inputs: channels, start altitudes, a calibrated element
set, a layout checked against its declarations. A :class:`Memo` keeps them for the next
run, keyed by everything they are made from; when it holds ``size`` values it drops them
all and starts again (runs of many shapes in one process keep no more than that).
"""

from __future__ import annotations

from typing import Any, Callable, Hashable


class Memo:
    """``memo.get(key, make)``: ``make()``'s value for ``key``, made once while kept."""

    __slots__ = ("size", "_values")

    def __init__(self, size: int):
        self.size = size
        self._values: dict = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value kept for ``key``, else ``make()``'s, kept (nothing is kept if it raises)."""
        value = self._values.get(key)
        if value is None:
            if len(self._values) >= self.size:
                self._values.clear()
            value = self._values[key] = make()
        return value
