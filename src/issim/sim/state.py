"""The whole simulation state as plain data.

A :class:`State` is a clock (integer UTC milliseconds and a frame counter), a flat
mapping of named numpy arrays, a mapping of named counters (running totals), and the
event log. Subsystems own named parts of it (``"atm.moles"``, ``"crew.o2_deficit"``)
and never keep mutable state elsewhere, so a snapshot is a copy, a restore is a load,
and a fork is another copy. A simulation's arrays are laid out flat (:class:`Flat`): one
buffer a dtype with a leading station axis, each array a view of its station's row.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from operator import add
from types import MappingProxyType
from typing import Any, Optional, Sequence

import numpy as np


def add_totals(totals: dict, keys, amounts) -> None:
    """``totals[key] = totals.get(key, 0.0) + amount`` for each key and amount in turn (as
    :meth:`State.add_total` with float amounts), in one pass of C calls."""
    totals.update(zip(keys, map(add, map(totals.get, keys, repeat(0.0)), amounts)))


def add_nonzero_totals(totals: dict, pairs, values) -> None:
    """``totals[key] = totals.get(key, 0.0) + values[i]`` for each ``(i, key)`` of ``pairs``
    whose value is not zero: a total is made only once something is added to it."""
    for i, key in pairs:
        v = values[i]
        if v:
            totals[key] = totals.get(key, 0.0) + v


class Arrays(dict):
    """The state's arrays: a plain dict that counts the times a key is bound, rebound or
    removed (:attr:`generation`).

    A compiled kernel called every frame with the same arrays keeps them, with the
    dict and its generation (:class:`issim.sim.bound.Bound`): while both are the same,
    every key still names the same array object, so nothing needs looking up again.
    Every way to change the mapping goes through the methods below. (Writing into an
    array, ``a[key][i] = x``, is not a rebinding and changes nothing here.)
    """

    generation = 0  # (a class default: an unpickled copy counts from its own items)

    def __setitem__(self, key, value) -> None:
        self.generation += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        self.generation += 1
        dict.__delitem__(self, key)

    def __ior__(self, other):
        self.generation += 1
        return dict.__ior__(self, other)

    def update(self, *args, **kwargs) -> None:
        self.generation += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key, default=None):
        self.generation += 1
        return dict.setdefault(self, key, default)

    def pop(self, *args):
        self.generation += 1
        return dict.pop(self, *args)

    def popitem(self):
        self.generation += 1
        return dict.popitem(self)

    def clear(self) -> None:
        self.generation += 1
        dict.clear(self)


class Kept:
    """Something worked out from a state's arrays (a kernel's gathered arguments, the addresses
    a compiled sample copies from, a set of views), kept while those arrays are the same: the
    same :class:`Arrays` dict, its :attr:`~Arrays.generation` unchanged, so every key still
    names the same array object. A restore, a copy or a scratch state is another dict, and a
    plain dict counts nothing: for those nothing is kept. Used by :class:`issim.sim.bound.Bound`,
    the recorder's compiled sample and the minds' quiet test."""

    __slots__ = ("arrays", "generation", "value")

    def __init__(self) -> None:
        self.arrays = None  # the dict the value came from (held, so that its id cannot be reused)
        self.generation = -1
        self.value = None

    def get(self, arrays):
        """The value kept for ``arrays`` if it is the same dict, unchanged since; else ``None``."""
        return self.value if arrays is self.arrays and arrays.generation == self.generation else None

    def keep(self, arrays, generation, value) -> None:
        """Keep ``value``, worked out from ``arrays`` as they were at ``generation``: only if they
        are counted :class:`Arrays` and nothing has been bound or rebound in them since."""
        if type(arrays) is Arrays and arrays.generation == generation:
            self.arrays, self.generation, self.value = arrays, generation, value
        else:
            self.forget()

    def forget(self) -> None:
        self.arrays, self.value = None, None


def _shapes(arrays) -> tuple:
    """``((key, shape, dtype), ...)`` of a state's arrays, in their order."""
    return tuple((k, v.shape, v.dtype) for k, v in arrays.items())


@lru_cache(maxsize=16)
def _plan(shapes: tuple) -> tuple[dict, dict]:
    """Where each key goes in a flat layout: ``({dtype: [keys in order]}, {key: (dtype,
    first element, last element + 1, shape)})``, the same for every layout of these arrays."""
    groups: dict = {}
    at: dict = {}
    for k, shape, dtype in shapes:
        keys = groups.setdefault(dtype, [])
        start = at[keys[-1]][2] if keys else 0
        at[k] = (dtype, start, start + math.prod(shape), shape)
        keys.append(k)
    return groups, at


class Flat:
    """The arrays of one or more states laid out flat, with a leading station axis.

    One preallocated buffer a dtype, shape ``(stations, elements)``: each key is a run of
    elements in it, the same run for every station, so that :attr:`stacked` gives each key
    across the stations as one view, shape ``(stations, *shape)``, and each state's array is
    the C-contiguous view of its own station's row (:meth:`adopt` copies the values in and
    binds the view in the state's place). A single run is laid out so with one station; a
    :class:`~issim.batch.Batch` lays all its stations out together. A snapshot copies the
    views, so it stays plain data, and a restore is adopted back into the same rows.

    What a station's state is stays its own dict: a key bound to another array after the
    layout (no subsystem does, while a run goes) is simply no longer in it, which
    :meth:`intact` tells.
    """

    def __init__(self, states: Sequence["State"]):
        if not states:
            raise ValueError("no states to lay out")
        self._shapes = _shapes(states[0].arrays)  # ((key, shape, dtype), ...) in the states' own order
        for i, st in enumerate(states):
            if _shapes(st.arrays) != self._shapes:
                raise ValueError(f"state {i} has other arrays than state 0: states laid out together must match")
        n = len(states)
        self._groups, self._at = _plan(self._shapes)
        self.buffers = {dtype: np.zeros((n, self._at[keys[-1]][2]), dtype) for dtype, keys in self._groups.items()}
        self._stacked: Optional[dict] = None
        self._adopted: list = [None] * n  # each station's arrays dict and its generation once adopted
        for i, st in enumerate(states):
            self._adopt(i, st.arrays)

    def __len__(self) -> int:
        return len(self._adopted)

    @property
    def stacked(self) -> dict[str, np.ndarray]:
        """``{key: view (stations, *shape)}``: each key across the stations (made when first asked)."""
        if self._stacked is None:
            n = len(self)
            self._stacked = {k: self.buffers[dtype][:, start:stop].reshape((n, *shape))
                             for k, (dtype, start, stop, shape) in self._at.items()}
        return self._stacked

    def adopt(self, station: int, state: "State") -> None:
        """Copy ``state``'s arrays into station ``station``'s row and bind the row's views in
        their place (the values are the same; the arrays are the layout's now)."""
        if _shapes(state.arrays) != self._shapes:
            raise ValueError("these arrays are not laid out here (other keys, shapes or types)")
        self._adopt(station, state.arrays)

    def _adopt(self, station: int, a: "Arrays") -> None:
        views = {}
        for dtype, keys in self._groups.items():
            row = self.buffers[dtype][station]
            np.concatenate([a[k] for k in keys], axis=None, out=row)  # the values, one C call a dtype
            for k in keys:
                _, start, stop, shape = self._at[k]
                views[k] = row[start:stop].reshape(shape)
        a.update(views)  # (one rebinding of them all)
        self._adopted[station] = (a, getattr(a, "generation", None))

    def intact(self, station: int, state: "State") -> bool:
        """Whether ``state``'s arrays are all still station ``station``'s views: the same dict
        as adopted, nothing bound or rebound in it since."""
        kept = self._adopted[station]
        return kept is not None and state.arrays is kept[0] and getattr(state.arrays, "generation", None) == kept[1]


@dataclass
class State:
    """Clock, arrays, totals and the event log of one simulated station."""

    t_ms: int = 0
    frame: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=Arrays)
    totals: dict[str, float] = field(default_factory=dict)
    log: list[tuple] = field(default_factory=list)
    # Small immutable facts that change by events (e.g. who is in which vehicle).
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.arrays) is dict:  # (a scratch state's copy-on-read arrays are left as they are)
            self.arrays = Arrays(self.arrays)

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

    def scratch(self) -> "State":
        """A state to try things on: arrays copied only when first read, facts shallow-copied,
        an empty log. Writes never reach this state. A dry run costs what it touches, not the
        whole state (facts are immutable values by contract, so sharing them is safe)."""
        return State(t_ms=self.t_ms, frame=self.frame, arrays=_CopyOnRead(self.arrays), totals=dict(self.totals),
                     log=[], facts=dict(self.facts))

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


class _CopyOnRead(dict):
    """The arrays of a scratch state: each is copied from the original on first access."""

    def __init__(self, base: dict):
        super().__init__()
        self._base = base

    def __missing__(self, key: str) -> np.ndarray:
        value = self._base[key].copy()
        self[key] = value
        return value

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._base

    def get(self, key, default=None):
        return self[key] if key in self else default

    def keys(self):
        return self._base.keys() | dict.keys(self)

    def __iter__(self):
        return iter(self.keys())

    def items(self):
        return ((k, self[k]) for k in self.keys())

    def values(self):
        return (self[k] for k in self.keys())


class StateView:
    """A read-only view of the state: arrays come as unwritable copies.

    ``view["crew.location"]`` is a copy that refuses writes (and, made writable, still does
    not reach the state); ``view.facts`` is a read-only mapping; ``view.t_ms`` and
    ``view.frame`` the clock. Changes go through commands.
    """

    __slots__ = ("__state",)

    def __init__(self, state):
        self.__state = state

    def __getitem__(self, key: str) -> np.ndarray:
        out = self.__state.arrays[key].copy()
        out.flags.writeable = False
        return out

    def __contains__(self, key: str) -> bool:
        return key in self.__state.arrays

    def keys(self) -> list[str]:
        return list(self.__state.arrays)

    @property
    def facts(self):
        return MappingProxyType({k: MappingProxyType(v) if isinstance(v, dict) else v
                                 for k, v in self.__state.facts.items()})

    @property
    def t_ms(self) -> int:
        return self.__state.t_ms

    @property
    def frame(self) -> int:
        return self.__state.frame

    @property
    def log(self) -> tuple:
        return tuple(self.__state.log)


class StateSnapshot(StateView):
    """A :class:`StateView` that copies each array once, at its first read, and hands out that
    same unwritable copy after: for one decision of a policy, during which the state does not
    change (a fresh snapshot per decision; kept longer it goes stale)."""

    __slots__ = ("_copies",)

    def __init__(self, state):
        super().__init__(state)
        self._copies: dict = {}

    def __getitem__(self, key: str) -> np.ndarray:
        out = self._copies.get(key)
        if out is None:
            out = self._copies[key] = StateView.__getitem__(self, key)
        return out
