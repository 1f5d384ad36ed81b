"""issim serve's games (issue 15): playing one of the crew in the browser, through /api/play
and the page /play, with the same role-limited view as the terminal game (issim.play).

Games start at ``iss`` +0h (the view there has people out of sight already), but one at the
default +30h (a few seconds of warming up). The one browser test starts ``issim serve`` as a user
would and plays a short game in Debian's chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import fields
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from issim.archive import Archive  # noqa: E402
from issim.play import session  # noqa: E402
from issim.play.game import View  # noqa: E402
from issim.runner import Runner  # noqa: E402
from issim.serve import tokens  # noqa: E402
from issim.serve.app import Limits, create_app  # noqa: E402
from issim.serve.play import view_json  # noqa: E402
from issim.serve.sources import LiveSource  # noqa: E402

BASE = "http://127.0.0.1"
PLAYER = "Gordon Barrett"
GAME = {"scenario": "iss", "person": PLAYER, "seed": 1, "start": "+0h"}
ROLES = {"houston": "h" * 24, "gordon-barrett": "g" * 24}
FREE = Limits(read_rate=1e9, read_burst=1e9, write_rate=1e9, write_burst=1e9)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server (its own run paused) whose games are stored in a folder of their own."""
    folder = tmp_path_factory.mktemp("play-archive")
    app = create_app(LiveSource(Runner("iss", seed=3)), tokens=tokens.Tokens(ROLES), paused=True, limits=FREE,
                     archive=folder, max_games=3)
    with TestClient(app, base_url=BASE) as c:
        yield c, folder


def start(c, **kw):
    r = c.post("/api/play", json={**GAME, **kw})
    assert r.status_code == 200, r.text
    d = r.json()
    return d["game"], {"Authorization": f"Bearer {d['token']}"}, d["view"]


def end(c, gid, auth):
    r = c.post(f"/api/play/{gid}/end", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_view_is_the_games_view_and_no_more(served, tmp_path):
    """The browser gets issim.play's view of the person, field for field: no one out of sight."""
    c, _ = served
    gid, auth, first = start(c)
    with session("iss", PLAYER, seed=1, start="+0h", archive=tmp_path) as game:
        same = view_json(game, gid, "iss")
        seen = game.observe()
    assert first == same
    assert set(first) == {f.name for f in fields(View)} | {"game", "scenario", "run_id"}
    assert [s.split(" (")[0] for s in first["in_sight"]] == list(seen.in_sight)
    hidden = [p for p in game.sim.people if p != PLAYER and p not in seen.in_sight]
    shown = json.dumps({k: v for k, v in first.items() if k != "choices"})  # the action table names the crew
    assert hidden and not any(p in shown for p in hidden)
    assert not first["over"] and first["story"] == [] and first["ending"] == "" and first["run_id"] is None
    assert c.get(f"/api/play/{gid}", headers=auth).json() == first
    end(c, gid, auth)


def test_the_default_start_is_issim_plays(served):
    c, _ = served
    gid, auth, v = start(c, start=None, seed=None)
    assert v["clock"] == "+30h 00m" and v["where"] == "Harmony (Node 2)" and v["person"] == PLAYER
    end(c, gid, auth)


def test_commands_and_turns(served):
    c, _ = served
    gid, auth, v = start(c)
    move = next(x for x in v["choices"] if x["refused"] is None and x["label"].startswith("move "))
    r = c.post(f"/api/play/{gid}/command", json={"index": move["index"]}, headers=auth)
    assert r.status_code == 200, r.text
    v = r.json()
    assert any(line.endswith(f"You: {move['label']}") for line in v["feed"])
    assert any(line.endswith(f"{move['label']}: done") for line in v["feed"])
    refused = next(x for x in v["choices"] if x["refused"])
    r = c.post(f"/api/play/{gid}/command", json={"command": refused["label"]}, headers=auth)
    assert r.status_code == 403 and r.json()["detail"] == f"{refused['label']}: {refused['refused']}"
    clock = v["clock"]
    v = c.post(f"/api/play/{gid}/advance", json={"mode": "wait"}, headers=auth).json()
    assert v["clock"] != clock
    v = c.post(f"/api/play/{gid}/advance", json={"mode": "next"}, headers=auth).json()
    assert v["feed"] and not v["over"]
    out = end(c, gid, auth)
    record = Archive.open(served[1]).get(out["run_id"])
    player = record.change_details["player"]
    assert [cmd[1:3] for cmd in player["commands"]] == [["move", move["label"].split(" ", 1)[1]]]
    assert player["refused"][0][1:] == [refused["label"], refused["refused"]]


def test_the_player_token_is_needed(served):
    c, _ = served
    gid, auth, v = start(c)
    other, other_auth, _ = start(c)
    move = next(x for x in v["choices"] if x["refused"] is None)
    for method, path, body in (("GET", f"/api/play/{gid}", None),
                               ("POST", f"/api/play/{gid}/command", {"index": move["index"]}),
                               ("POST", f"/api/play/{gid}/advance", {"mode": "next"}),
                               ("POST", f"/api/play/{gid}/end", None)):
        def send(headers=None):
            return c.request(method, path, json=body, headers=headers)
        r = send()
        assert r.status_code == 401 and "player token" in r.json()["detail"], (path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        for wrong in (other_auth, {"Authorization": f"Bearer {ROLES['gordon-barrett']}"}):  # another game's, a role's
            r = send(headers=wrong)
            assert r.status_code == 403 and r.json()["detail"] == "that token is not this game's player token"
    assert c.get("/api/play/0123456789abcdef", headers=auth).status_code == 404
    out = end(c, gid, auth)
    assert c.get(f"/api/play/{gid}", headers=auth).status_code == 404  # ended: gone from the server
    refused = Archive.open(served[1]).get(out["run_id"]).change_details["player"]["refused"]
    assert [r[2] for r in refused] == ["unauthorized", "forbidden", "forbidden"]  # the command attempts kept
    assert not Archive.open(served[1]).get(out["run_id"]).change_details["player"]["commands"]
    end(c, other, other_auth)


@pytest.mark.parametrize("body, status, detail", [
    ({"person": "Nobody"}, 400, "person: no crew member 'Nobody'"),
    ({"scenario": "../../etc/passwd"}, 400, "scenario: '../../etc/passwd' is not a bundled scenario"),
    ({"start": "+9d"}, 400, "start: +9d is past the end of iss"),
    ({"start": "soon"}, 400, "start: "),
    ({"seed": -1}, 400, "seed: the seed must be at least 0"),
    ({"seed": "1"}, 400, "seed: Input should be a valid integer"),
    ({"code": "1+1"}, 400, "code: Extra inputs are not permitted"),
])
def test_a_bad_start_names_the_field(served, body, status, detail):
    c, _ = served
    r = c.post("/api/play", json={**GAME, **body})
    assert r.status_code == status and r.json()["detail"].startswith(detail), r.text


def test_bad_commands_name_the_field(served):
    c, _ = served
    gid, auth, v = start(c)
    post = lambda what, body: c.post(f"/api/play/{gid}/{what}", json=body, headers=auth)  # noqa: E731
    for what, body, detail in (("command", {}, "index: give one of index"),
                               ("command", {"index": 1, "command": "move zarya"}, "index: give one of index"),
                               ("command", {"index": 99999}, "index: 99999 is no command"),
                               ("command", {"index": "1"}, "index: Input should be a valid integer"),
                               ("command", {"command": "rm -rf"}, "command: 'rm -rf' is no command"),
                               ("advance", {"mode": "run"}, "mode: String should match"),
                               ("advance", {"mode": "next", "ms": 9}, "ms: Extra inputs")):
        r = post(what, body)
        assert r.status_code == 400 and r.json()["detail"].startswith(detail), (body, r.text)
    r = c.post(f"/api/play/{gid}/advance", content=b"{nope", headers=auth)
    assert r.status_code == 400 and r.json()["detail"] == "body: not JSON"
    end(c, gid, auth)


def test_a_cap_on_games_at_once(served):
    c, _ = served
    games = [start(c) for _ in range(3)]
    r = c.post("/api/play", json=GAME)
    assert r.status_code == 503 and "3 games are being played" in r.json()["detail"]
    end(c, *games[0][:2])
    gid, auth, _ = start(c)
    for g in (*games[1:], (gid, auth)):
        end(c, *g[:2])


def test_an_idle_game_makes_room_and_is_stored(tmp_path):
    """Full, a room ends the games left untouched past ``idle_s`` (storing them) for a new one."""
    import asyncio

    from issim.serve.play import Refused, Room

    async def play():
        room = Room(tmp_path, max_games=1, idle_s=3600.0)
        first = await room.start(GAME)
        with pytest.raises(Refused) as full:
            await room.start(GAME)
        assert full.value.status == 503
        room.idle_s = 0.0
        second = await room.start(GAME)
        assert list(room.games) == [second["game"]]
        with pytest.raises(Refused) as gone:
            await room.view(first["game"], first["token"])
        assert gone.value.status == 404
        await room.close()

    asyncio.run(play())
    stored = [Archive.open(tmp_path).get(i) for i in (1, 2)]
    assert [r.status for r in stored] == ["complete", "complete"] and all(r.player == PLAYER for r in stored)


def test_the_end_is_stored_with_the_player(served):
    c, folder = served
    gid, auth, _ = start(c)
    out = end(c, gid, auth)
    assert out["over"] and out["ended"] == "you ended the game" and out["ending"] and out["choices"] == []
    record = Archive.open(folder).get(out["run_id"])
    assert record.status == "complete" and record.player == PLAYER
    assert record.change_details["player"]["ended"] == "quit"
    assert record.change_details["player"]["from"] == "2025-03-10T00:00:00.000Z"
    r = c.post(f"/api/play/{gid}/end", headers=auth)
    assert r.status_code == 404


# ---------------------------------------------------------------------------- the page in a browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
@pytest.mark.slow
def test_play_in_the_browser(tmp_path):
    """``issim serve`` as a user starts it; /play in chromium: start a game, give a command,
    a turn, end it; the end screen names the ending and the stored run."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "tokens.json").write_text("{}")
    (tmp_path / "tokens.json").chmod(0o600)
    import issim

    src = str(Path(issim.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "issim.cli", "serve", "iss", "--paused", "--port", str(port),
                             "--tokens", str(tmp_path / "tokens.json"), "--archive", str(tmp_path / "runs")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/api/session", timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"issim serve did not start: {(tmp_path / 'serve.log').read_text()}")
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.set_default_timeout(30_000)
            errors, outside = [], []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base + "/") else None)

            def shot(name):  # kept under tmp_path, and copied to $ISSIM_WEB_SCREENSHOTS when set
                page.screenshot(path=str(tmp_path / f"{name}.png"))
                if os.environ.get("ISSIM_WEB_SCREENSHOTS"):
                    Path(os.environ["ISSIM_WEB_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
                    shutil.copy(tmp_path / f"{name}.png", Path(os.environ["ISSIM_WEB_SCREENSHOTS"]) / f"{name}.png")

            page.goto(base + "/play")
            expect(page.locator("#game")).to_be_hidden()  # the form first, then the game
            page.fill("#start-at", "+0h")
            page.fill("#seed", "1")
            page.click("#go")
            expect(page.locator("#you")).to_contain_text("Harmony (Node 2)", timeout=60_000)
            expect(page.locator("#start")).to_be_hidden()
            expect(page.locator("#end")).to_be_hidden()
            expect(page.locator("#top")).to_contain_text("Gordon Barrett · +0h 00m")
            refused = page.locator("#commands button:disabled").first
            expect(refused).to_contain_text(" — ")  # a refused command is greyed, with its reason
            move = page.locator("#commands button:enabled", has_text="move ").first
            label = move.inner_text()
            move.click()
            expect(page.locator("#feed")).to_contain_text(f"{label}: done")
            shot("play")
            page.click("#next")
            expect(page.locator("#top")).not_to_contain_text("+0h 00m")
            page.click("#quit")
            expect(page.locator("#end-text")).to_contain_text("GAME OVER: you ended the game")
            text = page.locator("#end-text").inner_text()
            assert "Ending: " in text and "Stored as run 1" in text, text
            shot("play-end")
            browser.close()
        assert errors == [] and outside == [], (errors, outside)
        record = Archive.open(tmp_path / "runs").get(1)
        assert record.player == "Gordon Barrett" and record.change_details["player"]["commands"]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
