"""issim play (issue 15): one person's game shows what they know, takes their commands
through the pipeline, is stored with the player marked, and replays (issim branch)."""

from __future__ import annotations

import asyncio
import json

import pytest

from issim.archive import Archive
from issim.cli import main
from issim.errors import InputError
from issim.play import Game, session
from issim.runner import Runner

PLAYER = "Gordon Barrett"


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """A short game of iss from +30 h, stored: a move, three turns, quit."""
    arc = Archive.open(tmp_path_factory.mktemp("play") / "runs", create=True)
    with session("iss", PLAYER, seed=1, start="+30h", archive=arc) as game:
        first = game.view()
        move = next(c for c in game.choices() if c.refused is None and c.label.startswith("move "))
        game.issue(move.index)
        for _ in range(3):
            game.advance()
        seen = game.observe()
        last = game.view()
    return arc.get(game.run_id), game, first, last, seen, move


def test_the_view_is_the_observation(played):
    record, game, first, last, seen, move = played
    assert first.where == "Harmony (Node 2)" and first.clock == "+30h 00m"
    assert [s.split(" (")[0] for s in last.in_sight] == list(seen.in_sight)
    hidden = [p for p in game.sim.people if p != PLAYER and p not in seen.in_sight]
    shown = "\n".join([*last.in_sight, *last.hatches, *last.laptops, *last.messages, *last.body,
                       *(m for _, rows in last.station for _, m in rows)])
    assert hidden and not any(p in shown for p in hidden)  # no one out of sight is shown anywhere
    assert all(m["text"].split(".")[0] in "\n".join(last.messages) for m in seen.messages[-6:])
    assert not first.over and not first.story  # the story is told only at the end
    assert f"You: {move.label}" in "\n".join(game.feed) and f"{move.label}: done" in "\n".join(game.feed)


def test_refused_commands_say_why(played):
    _, game, first, *_ = played
    refused = [c for c in first.choices if c.refused]
    allowed = [c for c in first.choices if c.refused is None]
    assert allowed and refused and first.choices.index(refused[0]) == len(allowed)  # allowed ones first
    assert all(c.refused.strip() for c in refused)
    assert any("airlock" in c.refused for c in refused if c.label == "begin_eva")


def test_the_stored_run_names_the_player_and_their_commands(played):
    record, game, *_ = played
    assert record.status == "complete" and record.player == PLAYER
    assert "Gordon Barrett played" in record.change_summary
    player = record.change_details["player"]
    assert player["ended"] == "quit" and player["from"] == "2025-03-11T06:00:00.000Z"
    assert [c[1:3] for c in player["commands"]] == [["move", game.commands[0][1].target]]
    rows = [r for r in record.commands().itertuples() if r.actor == PLAYER and r.source == "cli"]
    assert [r.command for r in rows] == ["move"] and rows[0].result == "done"


def test_report_and_branch_work_on_a_played_run(played, capsys):
    """The branch replays the game (the player's commands at their times): with nothing
    changed, it is the game frame for frame (a replay that parts warns, and warnings fail)."""
    record = played[0]
    root = str(record.archive.root)
    assert main(["report", str(record.id), "--archive", root]) == 0
    assert (record.path / "report.html").is_file()
    assert main(["branch", str(record.id), "--at", "+31h", "--archive", root]) == 0
    child = record.archive.get("last")
    assert child.parent_id == record.id
    parent_log = record.event_log_entries()
    assert child.event_log_entries()[: len(parent_log)] == parent_log
    assert main(["branch", str(record.id), "--at", "+31h", "--as", f"{PLAYER}=mind", "--archive", root]) == 0
    capsys.readouterr()


def test_same_seed_same_commands_same_game(tmp_path):
    """Two games of nominal with the same seed and the same commands at the same times."""
    logs = []
    for _ in range(2):
        with session("nominal", "Maya Torres", seed=3, archive=tmp_path / "runs") as game:
            for label in ("move destiny", "close_hatch destiny-harmony"):
                game.wait(120_000)
                game.issue(game.table.index[label])
            game.advance()
        logs.append(Archive.open(tmp_path / "runs").get(game.run_id).event_log_sha256)
    assert logs[0] == logs[1]


def test_a_dead_person_cannot_be_played():
    runner = Runner("nominal", until_resolved=True)
    runner.sim.state.arrays["crew.alive"][runner.sim.people.index("Maya Torres")] = False
    with pytest.raises(InputError, match="dead"):
        Game(runner, "Maya Torres")


@pytest.mark.parametrize("args, source", [
    (["nosuch", "--as", PLAYER], "SCENARIO"),
    (["iss", "--as", "Nobody"], "--as"),
    (["iss", "--as", PLAYER, "--seed", str(2**70)], "--seed"),
    (["iss", "--as", PLAYER, "--start", "soon"], "--start"),
    (["iss", "--as", PLAYER, "--start", "+9d"], "--start"),
])
def test_bad_play_input_is_one_line(args, source, capsys, tmp_path):
    status = main(["play", *args, "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("issim: error:") and source.lower() in err.lower(), err
    assert not (tmp_path / "runs").exists() or not Archive.open(tmp_path / "runs").rows()


def test_the_app_plays_through_its_keys(tmp_path):
    """Textual's pilot: a command from the list, a turn, quit, the end screen, close."""
    from issim.play.app import PlayApp

    async def play(game):
        app = PlayApp(game, "nominal")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            assert app.focused.id == "commands"
            t0 = game.sim.state.t_ms
            await pilot.press("enter")  # the first allowed command
            assert len(game.commands) == 1 and any("You: " in line for line in game.feed)
            await pilot.press("n")
            assert game.sim.state.t_ms > t0
            await pilot.press("q")
            assert game.over and app.query_one("#end").display
            await pilot.press("q")
        return app

    with session("nominal", "Maya Torres", seed=2, archive=tmp_path / "runs") as game:
        asyncio.run(play(game))
    record = Archive.open(tmp_path / "runs").get(game.run_id)
    assert record.player == "Maya Torres" and len(json.loads(record.changes)["player"]["commands"]) == 1
