"""issim play through a real terminal (issue 15's acceptance): ``python -m issim play`` in a
detached tmux session of fixed size, keys sent in, the screen read back with
``capture-pane``, a short game of iss played to its end and stored."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import issim
from issim.archive import Archive

TMUX = shutil.which("tmux")
SRC = Path(issim.__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(TMUX is None, reason="needs tmux")]


@pytest.fixture
def term(tmp_path, request):
    """A function that starts a command in a 150×45 tmux session on a server of the test's own."""
    socket = f"issim-play-{os.getpid()}"

    def tmux(*args: str) -> str:
        return subprocess.run([TMUX, "-L", socket, "-f", os.devnull, *args], check=True, capture_output=True,
                              text=True).stdout

    request.addfinalizer(lambda: subprocess.run([TMUX, "-L", socket, "kill-server"], capture_output=True))
    return tmux


def wait_for(tmux, text: str, timeout: float = 120.0) -> str:
    """Poll the screen until ``text`` is on it (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "play")
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")


def test_a_short_game_through_the_terminal(term, tmp_path):
    runs = tmp_path / "runs"
    # (COLUMNS and LINES, if this process has them, would fix Textual's idea of the screen's size)
    cmd = (f"cd {shlex.quote(str(tmp_path))} && unset COLUMNS LINES && PYTHONPATH={shlex.quote(str(SRC))} TERM=xterm-256color "
           f"{shlex.quote(sys.executable)} -m issim play iss --as 'Gordon Barrett' --seed 1 --out runs; "
           "echo PLAY-EXIT=$?; sleep 600")
    term("new-session", "-d", "-s", "play", "-x", "150", "-y", "45")
    term("set-option", "-t", "play", "window-size", "manual")  # no client attached: keep 150×45
    term("resize-window", "-t", "play", "-x", "150", "-y", "45")
    term("respawn-pane", "-k", "-t", "play", cmd)
    screen = wait_for(term, "Commands (enter)")
    assert "Gordon Barrett" in screen and "Harmony (Node 2)" in screen and "+30h 00m" in screen
    assert "Kira Foster (destiny)" in screen  # who he sees
    assert "begin_eva" not in screen.split("Commands (enter)")[1].split("\n")[1]  # the allowed ones first
    term("send-keys", "-t", "play", "Enter")  # the first allowed command: move zarya
    screen = wait_for(term, "move zarya: done")
    assert "in Zarya (FGB)" in screen
    term("send-keys", "-t", "play", "n")  # to the next thing he notices: the order
    screen = wait_for(term, "Message from houston")
    assert "+30h 30m" in screen
    term("send-keys", "-t", "play", "q")
    screen = wait_for(term, "GAME OVER")
    assert "you ended the game" in screen and "Ending:" in screen and "The story:" in screen
    term("send-keys", "-t", "play", "q")
    screen = wait_for(term, "PLAY-EXIT=")
    assert "PLAY-EXIT=0" in screen and "Stored as run 1" in screen
    record = Archive.open(runs).get("1")
    assert record.status == "complete" and record.player == "Gordon Barrett"
    assert [c[1:3] for c in record.change_details["player"]["commands"]] == [["move", "zarya"]]
