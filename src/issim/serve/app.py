"""The HTTP and websocket API of ``issim serve`` (FastAPI), shaped for Open MCT.

Reading (no credential): ``/api/session``, ``/api/dictionary``, ``/api/history/{key}``,
``/api/staleness/{key}``, ``/api/clock``, ``/api/world``, ``/api/track``, ``/api/position``,
``/api/control``, ``/api/coastlines``, ``/api/events``,
``/api/commands/history`` and the websocket ``/api/realtime``. Acting (a bearer token,
:mod:`issim.serve.tokens`): ``/api/whoami``, ``/api/command``, ``/api/commands/allowed`` and the clock
controls under ``/api/sim/``. Playing one of the crew in a game of its own (:mod:`issim.serve.play`,
the page ``/play``): ``/api/play`` starts one and gives its player token, which every
``/api/play/{id}`` request needs. ``docs/serve.md`` describes each with its answers and errors.

The guard in front of every request (:class:`Guard`) refuses a Host that is not this
server's (DNS rebinding), a body over the size limit, a client over its rate, and a
websocket opened by another origin's page; it adds a content security policy that allows
nothing from outside (``default-src 'self'``) to every answer (with the Open MCT page, its
templates may compile and its fonts come as ``data:``: ``CSP_OPENMCT``). No CORS middleware is
installed, so a page of another origin cannot read the API or send a token to it.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from ..errors import InputError
from . import commanding
from .play import MAX_GAMES, Refused, Room
from .decimate import latest, minmax, window
from .dictionary import dictionary
from .session import MAX_SPEED, Client, Session

MAX_BODY = 16 * 1024  # bytes: a command is a few hundred
MAX_POINTS = 100_000  # history points sent without a strategy; past this, ask for minmax
MAX_SIZE = 10_000  # buckets (pixels) of a minmax, points of a latest
TIME_BOUND = 10**14  # |ms| past which a time is no time (year 5138)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# Open MCT compiles some of its Vue components' templates in the browser (its dialogs, overlays,
# the time conductor: `template: '<conductor />'`), which is `new Function`: with the Open MCT
# page, scripts may also be evaluated, still only from this server.
CSP_OPENMCT = CSP.replace("default-src 'self';", "default-src 'self'; script-src 'self' 'unsafe-eval'; font-src 'self' data:;")
PAGE = Path(__file__).parent / "page"
STORY, TRACK = "events", "track"  # the websocket's names for the story feed and the position (no key lacks a dot)


class Limits(BaseModel):
    """The guard's numbers: body size, and per client a token bucket for reads and one for writes."""

    max_body: int = MAX_BODY
    read_rate: float = 50.0  # requests a second, refilled
    read_burst: float = 200.0
    write_rate: float = 5.0
    write_burst: float = 20.0
    max_websockets: int = 200


class Guard:
    """ASGI middleware in front of the app (see the module)."""

    def __init__(self, app, hosts: set[str], limits: Limits, csp: str = CSP):
        self.app = app
        self.hosts = hosts
        self.limits = limits
        self.headers = [(b"content-security-policy", csp.encode()), (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
        self.buckets: dict[tuple, list] = {}
        self.websockets = 0

    def _allow(self, client: str, write: bool) -> bool:
        lim = self.limits
        rate, burst = (lim.write_rate, lim.write_burst) if write else (lim.read_rate, lim.read_burst)
        now = time.monotonic()
        if len(self.buckets) > 10_000:  # forget the idle, so many clients cannot grow this forever
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}
        level, then = self.buckets.get((client, write), (burst, now))
        level = min(burst, level + (now - then) * rate)
        if level < 1.0:
            self.buckets[(client, write)] = [level, now]
            return False
        self.buckets[(client, write)] = [level - 1.0, now]
        return True

    @staticmethod
    def _header(scope, name: bytes) -> Optional[str]:
        for k, v in scope.get("headers", ()):
            if k == name:
                return v.decode("latin-1")
        return None

    def _host_ok(self, scope) -> bool:
        if self.hosts is None:  # bound to every address: the operator chose to be reached by any name
            return True
        host = self._header(scope, b"host") or ""
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]").lower() in self.hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("?", 0))[0]
        if scope["type"] == "websocket":
            origin = self._header(scope, b"origin")
            host = self._header(scope, b"host") or ""
            if not self._host_ok(scope) or (origin is not None and origin.split("://", 1)[-1] != host) \
                    or self.websockets >= self.limits.max_websockets or not self._allow(client, False):
                return await send({"type": "websocket.close", "code": 1008})
            self.websockets += 1
            try:
                return await self.app(scope, receive, send)
            finally:
                self.websockets -= 1

        async def send_secured(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        write = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        if not self._host_ok(scope):
            return await _reject(send_secured, 400, "this server answers only to its own host name")
        if not self._allow(client, write):
            return await _reject(send_secured, 429, "too many requests: slow down", [(b"retry-after", b"1")])
        length = self._header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limits.max_body):
            return await _reject(send_secured, 413, f"the body is larger than {self.limits.max_body} bytes")
        body, more = b"", True
        while more:  # read it all here, so a body sent without a length is held to the limit too
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limits.max_body:
                return await _reject(send_secured, 413, f"the body is larger than {self.limits.max_body} bytes")
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_secured)


async def _reject(send, status: int, detail: str, headers=()) -> None:
    payload = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


# ---------------------------------------------------------------------------- request bodies

ArgValue = Union[StrictBool, StrictInt, StrictFloat, StrictStr, list[StrictStr]]


class CommandIn(BaseModel):
    """A command from the browser: the actor is the signed-in role, the source ``browser``."""

    model_config = ConfigDict(extra="forbid")
    command: str = Field(min_length=1, max_length=64, examples=["close_hatch"])
    target: str = Field("", max_length=128, examples=["zarya-zvezda"])
    args: dict[str, ArgValue] = Field(default_factory=dict, max_length=16)


class SpeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speed: float = Field(gt=0, le=MAX_SPEED, description="times real time")


class TimeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    t: int = Field(ge=-TIME_BOUND, le=TIME_BOUND, description="simulation time, UTC milliseconds")


# ---------------------------------------------------------------------------- the app

# A time in a query: UTC ms, a fraction allowed (Open MCT's plots zoom to fractions of a
# millisecond); the range is widened to whole milliseconds by span().
Time = Annotated[float, Query(ge=-TIME_BOUND, le=TIME_BOUND, allow_inf_nan=False)]


def span(start: float, end: float) -> tuple[int, int]:
    """``[start, end]`` widened to whole milliseconds; a 400 when it runs backwards."""
    if end < start:
        raise HTTPException(400, f"end ({end:g}) is before start ({start:g})")
    return math.floor(start), math.ceil(end)


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, separators=(",", ":")), status_code=status, media_type="application/json")


def create_app(source, *, tokens, speed: float = 60.0, paused: bool = False, hosts=("127.0.0.1", "localhost", "::1"),
               limits: Optional[Limits] = None, web_dir: Optional[Path] = None, archive=None,
               max_games: int = MAX_GAMES) -> FastAPI:
    """The server of ``source`` (a :class:`~issim.serve.sources.LiveSource` or
    :class:`~issim.serve.sources.ReplaySource`); ``tokens`` a :class:`~issim.serve.tokens.Tokens`;
    ``hosts`` the names a request's ``Host`` may give (``None``: any, for a server bound to
    every address); ``web_dir`` a built front end to serve at ``/``; ``archive`` where the
    games of ``/api/play`` are stored (a folder or an :class:`~issim.archive.Archive`; default
    ``$ISSIM_HOME``, else ``./runs``), at most ``max_games`` kept at once."""
    limits = limits or Limits()
    state: dict = {}
    live = source.mode == "live"
    sim = source.runner.sim if live else None
    actors = commanding.roles(source.world)
    handed_over: set[str] = set()
    info = {**source.info(), "roles": [r for r in actors if r in tokens.tokens]}
    dictionary_json = json.dumps(dictionary(source.metas, source.layout, f"issim: {source.title}"),
                                 separators=(",", ":"))

    @asynccontextmanager
    async def lifespan(app):
        session = state["session"] = Session(source, speed=speed, paused=paused)
        session.start()
        yield
        await session.stop()
        await room.close()

    # Every route that reads or changes the simulation is ``async``: it runs on the event loop,
    # like the pacing loop, so it never meets a frame half done (FastAPI runs plain functions
    # in worker threads).
    app = FastAPI(title="issim mission control", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Telemetry for Open MCT, the clock, and commanding as a crew member or a ground.")
    bearer = HTTPBearer(auto_error=False)
    room = Room(archive, max_games=max_games)

    def session() -> Session:
        return state["session"]

    def door(role: str, detail: str, status: int, body: Optional[dict] = None) -> HTTPException:
        """A request refused for its credentials; a command attempt (``body``) is kept in the history."""
        if body is not None:
            session().door.append({"t_ms": source.t_ms, "actor": role, "source": commanding.SOURCE,
                                   "command": body["command"], "target": body["target"], "args": body["args"],
                                   "stage": "auth", "result": "refused",
                                   "reason": "unauthorized" if status == 401 else "forbidden", "message": detail})
        return HTTPException(status, detail, headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)

    def role_of(creds: Optional[HTTPAuthorizationCredentials], body: Optional[dict] = None) -> str:
        if creds is None:
            raise door("", "commanding needs a token: Authorization: Bearer <token of your role>", 401, body)
        role = tokens.role(creds.credentials)
        if role is None:
            raise door("", "that token is no role's", 401, body)
        if role not in actors:
            raise door(role, f"{role} is not aboard this run nor one of its grounds", 403, body)
        return role

    async def signed_in(creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> str:
        return role_of(creds)

    def live_only(what: str) -> None:
        if not live:
            raise HTTPException(409, f"a replay {what}: it shows a stored run as it was")

    def channel(key: str) -> dict:
        meta = source.keys.get(key)
        if meta is None:
            import difflib

            near = difflib.get_close_matches(key, list(source.keys), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else "; /api/dictionary lists them"
            raise HTTPException(404, f"no channel {key!r}{hint}")
        return meta

    # ------------------------------------------------------------------ reading

    @app.get("/api/session", summary="What this server shows: live or replay, scenario, span, roles")
    async def get_session():
        return _json(info)

    @app.get("/api/dictionary", summary="Every channel (Open MCT measurements) and the object tree")
    async def get_dictionary():
        return Response(dictionary_json, media_type="application/json")

    @app.get("/api/clock", summary="The simulation time now, the pace, paused or not")
    async def get_clock():
        return _json(session().clock())

    @app.get("/api/history/{key}", summary="A channel's recorded values in [start, end] (UTC ms)")
    async def get_history(key: str, start: Time, end: Time,
                    strategy: Optional[Literal["minmax", "latest"]] = None,
                    size: Optional[int] = Query(None, ge=1, le=MAX_SIZE)):
        channel(key)
        start, end = span(start, end)
        t, v = source.history(key)
        if strategy == "minmax":
            t, v = minmax(t, v, start, end, size or 1000)
        else:
            t, v = window(t, v, start, end)
            ok = np.isfinite(v)
            t, v = (t, v) if ok.all() else (t[ok], v[ok])
            if strategy == "latest":
                t, v = latest(t, v, size or 1)
            elif len(t) > MAX_POINTS:
                raise HTTPException(400, f"{len(t)} points in that range (at most {MAX_POINTS} are sent whole): "
                                         "ask with strategy=minmax&size=N, or a shorter range")
        return _json([{"id": key, "timestamp": int(a), "value": float(b)} for a, b in zip(t.tolist(), v.tolist())])

    @app.get("/api/world", summary="The station as drawn: volumes, hatches, ports, crew, systems, factions, sites")
    async def get_world():
        return _json(source.world)

    @app.get("/api/track", summary="The ground track in [start, end]: at most size points, evenly spaced")
    async def get_track(start: Time, end: Time, size: int = Query(2000, ge=2, le=MAX_SIZE)):
        start, end = span(start, end)
        tr = source.track()
        t = tr["t_ms"]
        i0, i1 = int(np.searchsorted(t, start, "left")), int(np.searchsorted(t, end, "right"))
        pick = np.unique(np.linspace(i0, i1 - 1, min(size, i1 - i0)).round().astype(np.int64)) if i1 > i0 else []
        cols = ("lat_deg", "lon_deg", "alt_km", "sunlit")
        return _json([{"timestamp": int(t[i]), **{k: tr[k][i].item() for k in cols}} for i in pick])

    @app.get("/api/position", summary="Where the station is now: latitude, longitude, altitude, sunlight")
    async def get_position():
        return _json(source.position())

    @app.get("/api/control", summary="The control map now: which factions could command each system")
    async def get_control():
        return _json({"timestamp": source.t_ms, "systems": source.control_map()})

    @app.get("/api/coastlines", summary="The land outlines the ground track is drawn on (Natural Earth 1:110m)")
    async def get_coastlines():
        return Response(coastlines(), media_type="application/json")

    @app.get("/api/events", summary="The event log (the story: beats, commands, refusals) in [start, end]")
    async def get_events(start: Time, end: Time, limit: int = Query(1000, ge=1, le=10_000)):
        start, end = span(start, end)
        return _json(source.events(start, end)[-limit:])

    @app.get("/api/staleness/{key}", summary="Whether the ground could be receiving this channel now")
    async def get_staleness(key: str):
        channel(key)
        return _json({"id": key, "isStale": source.is_stale(key), "timestamp": source.t_ms})

    @app.get("/api/commands/history", summary="Every command tried: the run's history and those refused at the door")
    async def get_command_history(limit: int = Query(200, ge=1, le=10_000)):
        rows = source.command_history() + list(session().door)
        rows.sort(key=lambda r: r["t_ms"])
        return _json(rows[-limit:])

    # ------------------------------------------------------------------ commanding

    @app.get("/api/whoami", summary="The role a token signs in as (what the page shows after signing in)")
    async def get_whoami(role: str = Depends(signed_in)):
        return _json({"role": role, "actor": actors[role], "mode": source.mode})

    @app.get("/api/commands/allowed", summary="The commands the signed-in role may issue now, and why not the others")
    async def get_allowed(role: str = Depends(signed_in)):
        live_only("takes no commands")
        actor = actors[role]
        return _json({"role": role, "actor": actor, "timestamp": source.t_ms,
                      "commands": commanding.allowed_list(sim, actor)})

    @app.post("/api/command", summary="Issue a command as the signed-in role (source: browser)",
              responses={200: {"description": "done"}, 400: {"description": "refused: a wrong command"},
                         401: {"description": "no token, or no role's"}, 403: {"description": "refused: not yours"},
                         409: {"description": "failed: the station said no, or a replay"}})
    async def post_command(body: CommandIn, creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer),
                           dry_run: bool = Query(False, description="only say what would become of it")):
        role = role_of(creds, body.model_dump())
        live_only("takes no commands")
        actor = actors[role]
        cmd = commanding.command(actor, body.command, body.target, body.args)
        if dry_run:  # the pipeline's dry run: nothing changes, nothing is recorded
            result = sim.dry_run(cmd)
            return _json({**commanding.result_json(result), "dry_run": True}, commanding.status_of(result))
        if actor in sim.people and actor not in handed_over:
            source.runner.assign(actor, "idle")  # a person commanded from the browser is no longer the mind's
            handed_over.add(actor)
        result = sim.command(cmd)
        return _json(commanding.result_json(result), commanding.status_of(result))

    # ------------------------------------------------------------------ the clock

    @app.post("/api/sim/pause", summary="Stop the clock")
    async def post_pause(role: str = Depends(signed_in)):
        session().set_paused(True)
        return _json(session().clock())

    @app.post("/api/sim/resume", summary="Start the clock again")
    async def post_resume(role: str = Depends(signed_in)):
        session().set_paused(False)
        return _json(session().clock())

    @app.post("/api/sim/step", summary="Move on one frame (live) or one recorded sample (replay)")
    async def post_step(role: str = Depends(signed_in)):
        if source.finished:
            raise HTTPException(409, "the run has ended: there is no next frame")
        await session().step()
        return _json(session().clock())

    @app.post("/api/sim/speed", summary="Set the pace, in times real time")
    async def post_speed(body: SpeedIn, role: str = Depends(signed_in)):
        session().set_speed(body.speed)
        return _json(session().clock())

    @app.post("/api/sim/fast-forward", summary="Run as fast as possible to a time (live)")
    async def post_fast_forward(body: TimeIn, role: str = Depends(signed_in)):
        live_only("cannot fast-forward; seek in it")
        if not source.t_ms < body.t <= source.end_ms:
            raise HTTPException(400, f"fast-forward goes on from now ({source.t_ms}) to at most the end "
                                     f"({source.end_ms}); {body.t} is not in between")
        await session().fast_forward(body.t)
        return _json(session().clock())

    @app.post("/api/sim/seek", summary="Move a replay to a time (the last sample at or before it)")
    async def post_seek(body: TimeIn, role: str = Depends(signed_in)):
        if live:
            raise HTTPException(409, "a live run cannot go back: seek works in a replay (issim serve RUN)")
        try:
            await session().seek(body.t)
        except InputError as exc:
            raise HTTPException(400, exc.message) from None
        return _json(session().clock())

    # ------------------------------------------------------------------ realtime

    @app.websocket("/api/realtime")
    async def realtime(ws: WebSocket):
        """Text messages ``subscribe KEY`` / ``unsubscribe KEY`` (Open MCT's tutorial), or JSON
        ``{"subscribe": [keys]}`` / ``{"unsubscribe": [keys]}``; the key ``events`` is the story
        feed. Answers: a ``telemetry`` frame after every step (``data``: the subscribed channels'
        datums), ``staleness`` frames when a channel's changes, ``events`` frames with the event
        log's new entries, and ``error`` frames for a message not understood."""
        await ws.accept()
        hub = session().hub
        client = Client()
        hub.clients.add(client)

        async def pump():
            try:
                while True:
                    await ws.send_text(await client.queue.get())
            except (WebSocketDisconnect, RuntimeError, OSError):  # the client went: the reader ends it all
                pass

        sender = asyncio.get_running_loop().create_task(pump())
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    if message.get("text") is None:
                        raise ValueError("send text messages, not binary ones")
                    verb, keys = _parse(message["text"])
                except ValueError as exc:
                    client.send(json.dumps({"type": "error", "message": str(exc)}))
                    continue
                if STORY in keys:  # the story feed: the event log as it grows
                    client.events = verb == "subscribe"
                if TRACK in keys:  # the station's position, every step
                    client.track = verb == "subscribe"
                keys = [k for k in keys if k not in (STORY, TRACK)]
                unknown = [k for k in keys if k not in source.keys]
                if unknown:
                    client.send(json.dumps({"type": "error", "message": f"no channel {unknown[0]!r}",
                                            "unknown": unknown[:20]}))
                keys = [k for k in keys if k in source.keys]
                if verb == "subscribe":
                    new = [k for k in keys if k not in client.keys]
                    client.keys.update(new)
                    if new:
                        hub.subscribed(client, new)
                else:
                    client.keys.difference_update(keys)
        except WebSocketDisconnect:
            pass
        finally:
            hub.clients.discard(client)
            sender.cancel()

    # ------------------------------------------------------------------ playing (issim.serve.play)

    async def body_of(request: Request):
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise Refused(400, "body: not JSON") from None

    async def played(work):
        try:
            return _json(await work)
        except Refused as exc:
            raise HTTPException(exc.status, exc.message,
                                headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None) from None

    def token_of(creds: Optional[HTTPAuthorizationCredentials]) -> Optional[str]:
        return creds.credentials if creds is not None else None

    async def start_game(request: Request):
        return await room.start(await body_of(request))

    @app.post("/api/play", summary="Start a game as one of the crew: its id, its player token and the first view",
              responses={400: {"description": "a wrong field, named"}, 503: {"description": "too many games"}})
    async def post_play(request: Request):
        return await played(start_game(request))

    @app.get("/api/play/{game_id}", summary="What the player sees now (the player token)")
    async def get_play(game_id: str, creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)):
        return await played(room.view(game_id, token_of(creds)))

    async def command_game(game_id, creds, request):
        try:
            data = await body_of(request)
        except Refused:
            room.entry(game_id, token_of(creds), "?")  # who asks is checked first
            raise
        return await room.command(game_id, token_of(creds), data)

    @app.post("/api/play/{game_id}/command", summary="Give one of the game's commands (index or label)")
    async def post_play_command(game_id: str, request: Request,
                                creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)):
        return await played(command_game(game_id, creds, request))

    async def advance_game(game_id, creds, request):
        return await room.advance(game_id, token_of(creds), await body_of(request))

    @app.post("/api/play/{game_id}/advance", summary="A turn (next: to what the player notices next) or a minute (wait)")
    async def post_play_advance(game_id: str, request: Request,
                                creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)):
        return await played(advance_game(game_id, creds, request))

    @app.post("/api/play/{game_id}/end", summary="End the game and store it (the run's id, the ending, the story)")
    async def post_play_end(game_id: str, creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)):
        return await played(room.end(game_id, token_of(creds)))

    @app.get("/play", include_in_schema=False)
    async def play_page():
        return FileResponse(PAGE / "play.html", media_type="text/html")

    @app.get("/play.js", include_in_schema=False)
    async def play_js():
        return FileResponse(PAGE / "play.js", media_type="text/javascript")

    # ------------------------------------------------------------------ the page

    index = web_dir / "index.html" if web_dir is not None else None
    openmct = index is not None and index.is_file()
    if openmct:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=str(web_dir), html=True), name="web")
    else:
        @app.get("/", include_in_schema=False)
        async def page():
            return FileResponse(PAGE / "index.html", media_type="text/html")

        @app.get("/app.js", include_in_schema=False)
        async def page_js():
            return FileResponse(PAGE / "app.js", media_type="text/javascript")

        @app.get("/favicon.ico", include_in_schema=False)
        async def favicon():
            return Response(status_code=204)

    names = None if hosts is None else {h.strip("[]").lower() for h in hosts}
    app.add_middleware(Guard, hosts=names, limits=limits, csp=CSP_OPENMCT if openmct else CSP)
    return app


@lru_cache(maxsize=1)
def coastlines() -> str:
    """The packaged land outlines (``data/coastlines/land-110m.json``: ``{source, rings}``)."""
    from importlib import resources

    return resources.files("issim.data").joinpath("coastlines", "land-110m.json").read_text(encoding="utf-8")


def _parse(text: str) -> tuple[str, list[str]]:
    """A websocket message as ``(verb, keys)``; ``ValueError`` says what is wrong with it."""
    if len(text) > 64 * 1024:
        raise ValueError("message too long")
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("not JSON") from None
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in ("subscribe", "unsubscribe"):
            raise ValueError('expected {"subscribe": [keys]} or {"unsubscribe": [keys]}')
        verb, keys = next(iter(data.items()))
        keys = [keys] if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("keys must be a list of channel keys")
        return verb, keys
    verb, _, key = text.partition(" ")
    if verb not in ("subscribe", "unsubscribe") or not key.strip():
        raise ValueError("expected 'subscribe KEY' or 'unsubscribe KEY'")
    return verb, [key.strip()]
