"""Playing one of the crew in the browser: the games of ``issim serve``'s ``/api/play``.

A game here is :mod:`issim.play`'s game (:func:`issim.play.game.session`): its own run of a
bundled scenario, apart from the run the server shows, warmed up to ``start`` with everyone
on the crew mind, then one person played. What the browser gets of it is the game's
:class:`~issim.play.game.View` as JSON (:func:`view_json`) and nothing else: the same
role-limited view as the terminal game, built only from the person's observation, the
action mask and its reasons.

Each game has a random id and its own player token (:func:`secrets.token_urlsafe`), given
once when it starts; every other request about the game must carry it
(``Authorization: Bearer``). A refused attempt at a game's command (no token, another
token, a command the mask refuses) is kept with the game and stored with it
(``changes.player.refused``); the commands done go through the game's command pipeline and
into its run's history, like the terminal game's.

All games run on one worker thread of their own (:class:`Room`), one request at a time in
the order they came: the server's event loop, which paces the run it shows, is never held
by a game, and the archive is written from one thread. At most ``max_games`` are kept at
once; one idle longer than ``idle_s`` is ended (and stored) to make room for a new one.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from ..errors import InputError

MAX_GAMES = 4
IDLE_S = 1800.0  # a game untouched this long may be ended to make room
FIELDS = {"--as": "person", "--start": "start", "--seed": "seed", "SCENARIO": "scenario"}


class PlayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: StrictStr = Field("iss", min_length=1, max_length=64)
    person: StrictStr = Field(min_length=1, max_length=128)
    seed: Optional[StrictInt] = None
    start: Optional[StrictStr] = Field(None, max_length=32)


class PlayCommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: Optional[StrictInt] = None
    command: Optional[StrictStr] = Field(None, min_length=1, max_length=200)


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: StrictStr = Field("next", pattern="^(next|wait)$")


class Refused(Exception):
    """A request about a game refused: an HTTP status and one line naming what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse(model, data):
    """``data`` as ``model``, else :class:`Refused` (400) naming the first wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        raise Refused(400, f"{where}: {err.get('msg', 'invalid')}") from None


def view_json(game, game_id: str, scenario: str) -> dict:
    """The game's view (:meth:`issim.play.game.Game.view`) as JSON: its fields and no other."""
    v = game.view()
    return {"game": game_id, "scenario": scenario, "person": v.person, "clock": v.clock, "utc": v.utc,
            "where": v.where, "segment": v.segment, "body": list(v.body), "in_sight": list(v.in_sight),
            "hatches": list(v.hatches),
            "station": [{"segment": seg, "volumes": [{"id": i, "mark": m} for i, m in rows]} for seg, rows in v.station],
            "laptops": list(v.laptops), "messages": list(v.messages),
            "choices": [{"index": c.index, "label": c.label, "refused": c.refused} for c in v.choices],
            "feed": list(v.feed), "over": v.over, "ended": v.ended, "story": list(v.story), "ending": v.ending,
            "run_id": game.run_id if v.over else None}


class Entry:
    """One game in the room: the game, its token, the stack that stores it when closed."""

    def __init__(self, game_id: str, token: str, game, stack: ExitStack, scenario: str):
        self.id, self.token, self.game, self.stack, self.scenario = game_id, token, game, stack, scenario
        self.touched = time.monotonic()
        self.closed = False

    def refuse(self, what: str, why: str) -> None:
        if len(self.game.refused) < 1000:
            self.game.refused.append([int(self.game.sim.state.t_ms), what, why])

    def close(self) -> Optional[int]:
        """End the game (if not over) and store it; the run's id."""
        if not self.closed:
            self.closed = True
            self.stack.close()
        return self.game.run_id


class Room:
    """The games of one server (see the module)."""

    def __init__(self, archive=None, max_games: int = MAX_GAMES, idle_s: float = IDLE_S):
        self.archive = archive
        self.max_games = max_games
        self.idle_s = idle_s
        self.games: dict[str, Entry] = {}
        self.starting = 0
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="issim-play")

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    # ------------------------------------------------------------------ starting and ending

    async def start(self, data) -> dict:
        body = parse(PlayIn, data)
        from ..scenario import bundled_names

        if body.scenario not in bundled_names():
            raise Refused(400, f"scenario: {body.scenario!r} is not a bundled scenario ({', '.join(bundled_names())})")
        if body.seed is not None:
            from ..inputs import check_seed

            try:
                check_seed(body.seed, "seed")
            except InputError as exc:
                raise Refused(400, f"seed: {exc.message}") from None
        if len(self.games) + self.starting >= self.max_games:
            await self._evict_idle()
        if len(self.games) + self.starting >= self.max_games:
            raise Refused(503, f"{self.max_games} games are being played on this server, the most it keeps at once: "
                               "end one (POST /api/play/ID/end) or try later")
        self.starting += 1
        try:
            entry = await self.run(self._open, body)
        finally:
            self.starting -= 1
        self.games[entry.id] = entry
        return {"game": entry.id, "token": entry.token, "view": await self.run(view_json, entry.game, entry.id,
                                                                                 entry.scenario)}

    def _open(self, body: PlayIn) -> Entry:
        from ..play.game import session

        stack = ExitStack()
        try:
            game = stack.enter_context(session(body.scenario, body.person, seed=body.seed, start=body.start,
                                               archive=self.archive))
        except InputError as exc:
            stack.close()
            raise Refused(400, f"{FIELDS.get(exc.source, exc.source)}: {exc.message}") from None
        except BaseException:
            stack.close()
            raise
        return Entry(secrets.token_hex(8), secrets.token_urlsafe(32), game, stack, body.scenario)

    async def _evict_idle(self) -> None:
        """End and store the games untouched for ``idle_s`` (they leave the room first)."""
        now = time.monotonic()
        idle = [e for e in self.games.values() if now - e.touched > self.idle_s]
        for e in idle:
            self.games.pop(e.id, None)
        for e in idle:
            await self.run(e.close)

    async def close(self) -> None:
        """The server is stopping: every game still kept is ended and stored."""
        games, self.games = list(self.games.values()), {}
        for e in games:
            try:
                await self.run(e.close)
            except Exception:  # noqa: BLE001 - one game that cannot be stored must not keep the others from it
                pass
        self.worker.shutdown(wait=True)

    # ------------------------------------------------------------------ a game's requests

    def entry(self, game_id: str, token: Optional[str], attempt: Optional[str] = None) -> Entry:
        """The game ``game_id`` if ``token`` is its player's; else :class:`Refused` (404, 401, 403).
        A refused ``attempt`` (a command) is kept with the game."""
        e = self.games.get(game_id)
        if e is None:
            raise Refused(404, f"no game {game_id!r} is being played here (ended, or never started)")
        if not token:
            if attempt is not None:
                e.refuse(attempt, "unauthorized")
            raise Refused(401, "a game needs its player token: Authorization: Bearer <the token given when it started>")
        if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), e.token.encode()):
            if attempt is not None:
                e.refuse(attempt, "forbidden")
            raise Refused(403, "that token is not this game's player token")
        e.touched = time.monotonic()
        return e

    async def view(self, game_id: str, token: Optional[str]) -> dict:
        e = self.entry(game_id, token)
        return await self.run(view_json, e.game, e.id, e.scenario)

    async def command(self, game_id: str, token: Optional[str], data) -> dict:
        what = None
        if isinstance(data, dict):
            what = str(data.get("command") if data.get("command") is not None else data.get("index"))[:200]
        e = self.entry(game_id, token, what or "?")
        body = parse(PlayCommandIn, data)
        if (body.index is None) == (body.command is None):
            raise Refused(400, "index: give one of index (a command's number in choices) or command (its label)")
        return await self.run(self._command, e, body)

    def _command(self, e: Entry, body: PlayCommandIn) -> dict:
        game = e.game
        if game.over:
            raise Refused(409, "the game is over: end it (POST /api/play/ID/end) to store it")
        choices = game.choices()
        if body.index is not None:
            pick = next((c for c in choices if c.index == body.index), None)
            if pick is None:
                raise Refused(400, f"index: {body.index} is no command of this game (choices lists them)")
        else:
            pick = next((c for c in choices if c.label == body.command), None)
            if pick is None:
                raise Refused(400, f"command: {body.command!r} is no command of this game (choices lists them)")
        if pick.refused is not None:
            e.refuse(pick.label, pick.refused)
            raise Refused(403, f"{pick.label}: {pick.refused}")
        game.issue(pick.index)
        return view_json(game, e.id, e.scenario)

    async def advance(self, game_id: str, token: Optional[str], data) -> dict:
        e = self.entry(game_id, token)
        body = parse(AdvanceIn, data)
        return await self.run(self._advance, e, body.mode)

    def _advance(self, e: Entry, mode: str) -> dict:
        if e.game.over:
            raise Refused(409, "the game is over: end it (POST /api/play/ID/end) to store it")
        if mode == "wait":
            e.game.wait()
        else:
            e.game.advance()
        return view_json(e.game, e.id, e.scenario)

    async def end(self, game_id: str, token: Optional[str]) -> dict:
        e = self.entry(game_id, token)
        self.games.pop(game_id, None)
        return await self.run(self._end, e)

    def _end(self, e: Entry) -> dict:
        e.game.quit()
        run_id = e.close()
        return {**view_json(e.game, e.id, e.scenario), "run_id": run_id}
