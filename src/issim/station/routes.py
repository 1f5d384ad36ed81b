"""Paths through the station: which volumes open hatches join, and the way between two.

The one place the station's graph of volumes and hatches is walked. A :class:`Topology`
is that graph as plain data: volumes ``0..n-1`` (modules and docked vehicles) and links
``0..m-1``, link ``k`` a hatch between volumes ``a[k]`` and ``b[k]``. The functions are
pure: they take the topology and the state of the moment as sequences indexed by link
(``hatch_open``: ``hatch.open``, one bool per link; ``lock_side``:
``control.lock_side``, the volume a hatch was locked from or -1) or by volume
(``avoid``: volumes never entered, e.g. ``control.departed``). Lists and numpy arrays
both do.

This is a low layer: it knows nothing of the simulation, only the numbers it is given.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Optional, Sequence

Step = tuple[int, int]  # (volume entered, link passed through to enter it)


@dataclass(frozen=True)
class Topology:
    """``n`` volumes and the links between them: link ``k`` joins ``a[k]`` and ``b[k]``.

    ``adj[v]`` lists ``(neighbour, link)`` of volume ``v`` in link order, each link seen
    from both of its ends; every walk here visits neighbours in that order, so routes
    are the same from run to run.
    """

    n: int
    a: tuple[int, ...]
    b: tuple[int, ...]
    adj: tuple[tuple[Step, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        adj: list[list[Step]] = [[] for _ in range(self.n)]
        for k, (a, b) in enumerate(zip(self.a, self.b)):
            adj[a].append((b, k))
            adj[b].append((a, k))
        object.__setattr__(self, "adj", tuple(tuple(x) for x in adj))

    @classmethod
    def of(cls, world) -> "Topology":
        """From anything with ``volumes`` (a sequence) and ``links`` (each with ``a``, ``b``)."""
        return cls(len(world.volumes), tuple(int(l.a) for l in world.links), tuple(int(l.b) for l in world.links))


def components(top: Topology, hatch_open: Sequence[bool]) -> list[int]:
    """For each volume, a representative of the volumes open hatches join it to.

    Two volumes are joined when their representatives are equal; which volume represents
    a group is arbitrary (but fixed for given arguments).
    """
    parent = list(range(top.n))

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]  # halve the path: later look-ups are shorter
            v = parent[v]
        return v

    for a, b, is_open in zip(top.a, top.b, hatch_open):
        if is_open:
            parent[root(a)] = root(b)
    return [root(v) for v in range(top.n)]


def reachable(top: Topology, hatch_open: Sequence[bool], start: int, dest: int) -> bool:
    """Whether open hatches join volume ``start`` to ``dest`` (a volume reaches itself)."""
    if start == dest:
        return True
    comp = components(top, hatch_open)
    return comp[start] == comp[dest]


def closed_exits(top: Topology, hatch_open: Sequence[bool], v: int,
                 comp: Optional[Sequence[int]] = None) -> list[int]:
    """The closed links, in link order, that lead out of the volumes open hatches join to ``v``.

    ``comp`` is :func:`components` of the same arguments, when the caller has it already.
    """
    comp = components(top, hatch_open) if comp is None else comp
    here = comp[v]
    return [k for k, (a, b) in enumerate(zip(top.a, top.b))
            if not hatch_open[k] and (comp[a] == here) != (comp[b] == here)]


def path(top: Topology, hatch_open: Optional[Sequence[bool]], start: int, dest: int, *,
         lock_side: Optional[Sequence[int]] = None, avoid: Optional[Sequence[bool]] = None) -> Optional[list[Step]]:
    """The shortest way from ``start`` to ``dest``: ``[(volume, link)]`` steps, or ``None``.

    ``[]`` when ``start == dest``. Breadth first, neighbours in ``top.adj`` order, so the
    route is always the same one of equally short ones. With ``hatch_open`` only open
    hatches are passed; with ``None`` closed ones are too (a route one could open one's
    way along). A hatch locked (``lock_side[k] >= 0``) is passed only from the volume it
    was locked from, since only that side can unlock it. Volumes with ``avoid`` set are
    never entered.
    """
    if start == dest:
        return []
    prev: dict[int, Step] = {start: (-1, -1)}  # volume -> (volume before it, link between)
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for b, k in top.adj[v]:
            if b in prev or (avoid is not None and avoid[b]) or (hatch_open is not None and not hatch_open[k]):
                continue
            if lock_side is not None and int(lock_side[k]) >= 0 and int(lock_side[k]) != v:
                continue
            prev[b] = (v, k)
            if b == dest:
                return _steps(prev, start, dest)
            queue.append(b)
    return None


def _steps(prev: dict[int, Step], start: int, dest: int) -> list[Step]:
    """Walk ``prev`` back from ``dest`` to ``start`` and give the steps forward."""
    steps = []
    v = dest
    while v != start:
        before, k = prev[v]
        steps.append((v, k))
        v = before
    return steps[::-1]


def in_sight(top: Topology, hatch_open: Sequence[bool], u: int, v: int) -> bool:
    """Whether people in volumes ``u`` and ``v`` see each other: the same volume, or two
    volumes that an open hatch joins directly (two volumes apart they do not)."""
    return u == v or any(w == v and bool(hatch_open[k]) for w, k in top.adj[u])


def seen_from(top: Topology, hatch_open: Sequence[bool], v: int) -> set[int]:
    """The volumes in sight of volume ``v``: itself and those an open hatch joins to it."""
    return {v} | {w for w, k in top.adj[v] if hatch_open[k]}
