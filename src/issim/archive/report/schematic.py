"""Where each module goes on the station schematic, from the station's own ports.

The drawing is a plan seen from above (zenith): forward to the right, port up. Every
port in the station file says on which side of its module a neighbour sits; walking the
ports from the first module lays the station out the way it is built. Zenith and nadir
neighbours cannot be seen from above, so they are drawn half a step off diagonally
(zenith up-right, nadir down-left), as isometric sketches of the ISS do. Nothing here is
a measurement: it is a diagram, and a station file with other modules draws itself.
"""

from __future__ import annotations

from collections import deque

STEP = {
    "forward": (1.0, 0.0),
    "aft": (-1.0, 0.0),
    "port": (0.0, 1.0),
    "starboard": (0.0, -1.0),
    "zenith": (0.5, 0.5),
    "nadir": (-0.5, -0.5),
}
_MIN_GAP = 0.45


def layout(volume_ids: list[str], ports: list[dict], hatches: list[dict]) -> dict[str, tuple[float, float]]:
    """``{volume_id: (x, y)}`` for every volume.

    ``ports`` are ``{module, direction, attached}`` records (the station file's); volumes
    that no port places (a station file without ports) are placed through ``hatches``
    (``{a, b}``), to the right of what they join; anything left goes in a row below.
    """
    wanted = set(volume_ids)
    neighbours: dict[str, list[tuple[str, tuple[float, float]]]] = {v: [] for v in volume_ids}
    for p in ports:
        a, b = p.get("module"), p.get("attached")
        step = STEP.get(p.get("direction", ""))
        if a in wanted and b in wanted and step:
            neighbours[a].append((b, step))
            neighbours[b].append((a, (-step[0], -step[1])))
    placed: dict[str, tuple[float, float]] = {}
    for root in _roots(volume_ids, neighbours):
        if root in placed:
            continue
        placed[root] = _free(placed, (0.0, 0.0) if not placed else (0.0, min(y for _, y in placed.values()) - 2.0),
                             (0.0, -1.0))
        queue = deque([root])
        while queue:
            here = queue.popleft()
            for there, step in neighbours[here]:
                if there not in placed:
                    x, y = placed[here]
                    placed[there] = _free(placed, (x + step[0], y + step[1]), step)
                    queue.append(there)
    for h in hatches:  # volumes joined only by a hatch
        for a, b in ((h["a"], h["b"]), (h["b"], h["a"])):
            if a in placed and b in wanted and b not in placed:
                x, y = placed[a]
                placed[b] = _free(placed, (x + 1.0, y), (1.0, 0.0))
    bottom = min((y for _, y in placed.values()), default=0.0) - 1.5
    for i, v in enumerate(v for v in volume_ids if v not in placed):
        placed[v] = (float(i), bottom)
    return placed


def _roots(volume_ids: list[str], neighbours: dict) -> list[str]:
    """Start from the module with most neighbours (the station's hub), then any not reached."""
    hub = max(volume_ids, key=lambda v: (len(neighbours[v]), -volume_ids.index(v))) if volume_ids else None
    return ([hub] if hub else []) + [v for v in volume_ids if neighbours[v]]


def _free(placed: dict, spot: tuple[float, float], step: tuple[float, float]) -> tuple[float, float]:
    """``spot``, or the next free one further along ``step`` if a module is already there."""
    x, y = spot
    for _ in range(20):
        if all(abs(x - px) >= _MIN_GAP or abs(y - py) >= _MIN_GAP for px, py in placed.values()):
            return (x, y)
        x, y = x + step[0] * 0.5, y + step[1] * 0.5
    return (x, y)
