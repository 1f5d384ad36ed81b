"""The session a server runs: one source, its pace, and the clients watching it.

A :class:`Session` owns the source (:mod:`issim.serve.sources`) and moves it on at
``speed`` times real time in a background task (a frame of 10 simulated seconds every
0.1 s at speed 100), or not at all while paused. Everything that touches the simulation
(the pacing loop, a step, a fast-forward, a command) runs on the server's one event loop,
so a command always lands between two frames, never in the middle of one.

After every step the :class:`Hub` sends each websocket client one frame with the values
of the channels it subscribed to, all stamped with the simulation time, and, when a
channel's staleness changed, a staleness frame; the story feed's new entries and the
station's position to the clients that asked for them. A client that cannot keep up loses
its oldest frames, not the server's time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from typing import Optional

MAX_SPEED = 100_000.0
QUEUE_FRAMES = 64  # frames kept for a slow client before the oldest are dropped
FF_CHUNK = 64  # frames stepped between two looks at the other work of the event loop


def finite(value: float):
    """JSON has no NaN or infinity: such a reading is sent as null."""
    return value if math.isfinite(value) else None


class Client:
    """One websocket client: what it subscribed to, and its outgoing frames."""

    def __init__(self):
        self.keys: set[str] = set()
        self.events = False  # subscribed to the story feed (the event log as it grows)
        self.track = False  # subscribed to the station's position
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self.dropped = 0

    def send(self, frame: str) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(frame)


class Hub:
    """The websocket clients of a session, and the frames sent to them after each step."""

    def __init__(self, source):
        self.source = source
        self.clients: set[Client] = set()
        self.stale: dict[str, bool] = source.stale_feeds()

    def datum(self, key: str, t_ms: int, value: float) -> dict:
        return {"id": key, "timestamp": t_ms, "value": finite(value)}

    def telemetry_frame(self, keys, t_ms: int, values: dict) -> str:
        return json.dumps({"type": "telemetry", "timestamp": t_ms, "sent_ms": time.time() * 1000.0,
                           "data": [self.datum(k, t_ms, values[k]) for k in sorted(keys)]})

    def staleness_frame(self, keys, t_ms: int) -> str:
        return json.dumps({"type": "staleness", "timestamp": t_ms,
                           "data": [{"id": k, "isStale": self.stale.get(self.source.feeds[k], False)}
                                    for k in sorted(keys)]})

    def publish(self) -> None:
        """After a step: telemetry to every client, and staleness where a feed changed."""
        src = self.source
        t = src.t_ms
        stale = src.stale_feeds()
        changed = {f for f, s in stale.items() if self.stale.get(f) != s}
        self.stale = stale
        story = src.new_events()
        if story:
            frame = json.dumps({"type": "events", "timestamp": t, "data": story})
            for c in self.clients:
                if c.events:
                    c.send(frame)
        if any(c.track for c in self.clients):
            frame = json.dumps({"type": "track", "timestamp": t, "data": src.position()})
            for c in self.clients:
                if c.track:
                    c.send(frame)
        wanted = set().union(*(c.keys for c in self.clients)) if self.clients else set()
        values = {k: src.value(k) for k in wanted}
        frames: dict[frozenset, str] = {}  # clients that watch the same channels share one frame
        for c in self.clients:
            same = frozenset(c.keys)
            if same not in frames:
                frames[same] = self.telemetry_frame(c.keys, t, values)
            c.send(frames[same])
            flipped = [k for k in c.keys if src.feeds[k] in changed]
            if flipped:
                c.send(self.staleness_frame(flipped, t))

    def subscribed(self, client: Client, keys) -> None:
        """A client's first sight of new keys: their values and staleness now."""
        t = self.source.t_ms
        client.send(self.telemetry_frame(keys, t, {k: self.source.value(k) for k in keys}))
        client.send(self.staleness_frame(keys, t))


class Session:
    """A source, run at a pace (see the module). ``paused`` starts it paused."""

    def __init__(self, source, speed: float = 60.0, paused: bool = False):
        self.source = source
        self.speed = float(speed)
        self.paused = paused
        self.hub = Hub(source)
        self.lock = asyncio.Lock()  # one stepper at a time: the pacing loop or a fast-forward
        self._wake = asyncio.Event()
        self.task: Optional[asyncio.Task] = None
        self.door: deque = deque(maxlen=1000)  # commands refused before the pipeline (token, role)
        self.error = ""  # why the pacing loop stopped, if a step raised (a bug: the clock then stays put)

    # ------------------------------------------------------------------ the pacing loop

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._pace())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass

    def nudge(self) -> None:
        self._wake.set()

    async def _sleep(self, seconds: Optional[float]) -> None:
        """Sleep, or until nudged (a pause, a new speed)."""
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            if self.paused or self.source.finished:
                await self._sleep(None)
                due = loop.time()
                continue
            due += self.source.period_ms / 1000.0 / self.speed
            late = loop.time() - due
            if late > 1.0:  # fell behind (a slow frame, a busy machine): carry on from now, do not race
                due = loop.time()
            elif late < 0:
                await self._sleep(-late)
                if self.paused or loop.time() < due:  # paused, or nudged early by a new speed
                    due = loop.time()
                    continue
            try:
                await self.step()
            except Exception as exc:  # a bug in a frame: stop the clock and say so, rather than die unseen
                self.error = f"{type(exc).__name__}: {exc}"
                self.paused = True
                logging.getLogger("issim.serve").error("the simulation stopped at %s: %s", self.source.t_ms, self.error)

    # ------------------------------------------------------------------ control

    def clock(self) -> dict:
        src = self.source
        return {"timestamp": src.t_ms, "start_ms": src.start_ms, "end_ms": src.end_ms, "period_ms": src.period_ms,
                "speed": self.speed, "paused": self.paused, "finished": src.finished, "mode": src.mode,
                "error": self.error}

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.nudge()

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        self.nudge()

    async def step(self) -> bool:
        async with self.lock:
            stepped = self.source.step()
            if stepped:
                self.hub.publish()
            return stepped

    async def fast_forward(self, until_ms: int) -> None:
        """Step as fast as the machine goes until ``until_ms``, sending only the last frame;
        other requests are served between chunks of frames."""
        async with self.lock:
            src = self.source
            while src.t_ms < until_ms and not src.finished:
                for _ in range(FF_CHUNK):
                    if src.t_ms >= until_ms or not src.step():
                        break
                await asyncio.sleep(0)
            self.hub.publish()

    async def seek(self, t_ms: int) -> None:
        async with self.lock:
            self.source.seek(t_ms)
            self.hub.publish()
