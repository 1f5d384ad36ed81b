"""The command line's own help (issue 17): every command shows examples that work as shown,
flags look like flags, ``--version`` and ``python -m issim`` work."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from importlib import resources
from importlib.metadata import version

import pytest
import typer.main

from issim import cli

ROOT = typer.main.get_command(cli.app)


def commands(group=ROOT, path=("issim",)):
    """``(path, command)`` for every command and group, the root first."""
    yield path, group
    for name, cmd in sorted(getattr(group, "commands", {}).items()):
        yield from commands(cmd, (*path, name))


def examples(cmd) -> list[str]:
    """The example lines of a command's help, each without its comment."""
    return [line.split("  #")[0].strip() for line in (cmd.epilog or "").splitlines() if line.startswith("issim ")]


ALL_EXAMPLES = sorted({(" ".join(path), e) for path, cmd in commands() for e in examples(cmd)})


def resolve(args: list[str]):
    """The command an example names and the arguments left for it (KeyError: no such command)."""
    cmd, path = ROOT, ["issim"]
    while hasattr(cmd, "commands"):
        if not args or args[0].startswith("-"):
            break
        cmd = cmd.commands[args[0]]
        path.append(args.pop(0))
    return cmd, path, args


def test_every_command_and_group_shows_examples_that_fit_80_columns():
    for path, cmd in commands():
        lines = [line for line in (cmd.epilog or "").splitlines() if line.startswith("issim ")]
        assert lines, f"{' '.join(path)} has no examples in its --help"
        for line in lines:
            assert len(line) <= 76, line  # drawn with a margin in 80 columns, never wrapped
            assert "[" not in line, line  # rich would read it as markup and drop it


@pytest.mark.parametrize("where, example", ALL_EXAMPLES)
def test_each_example_names_a_command_and_parses(where, example):
    """``where``: the help that shows it."""
    words = shlex.split(example)
    assert words[0] == "issim"
    cmd, path, rest = resolve(words[1:])  # a group's help may show its commands' examples
    if "--help" in rest:
        rest.remove("--help")
        assert not hasattr(cmd, "commands") or not rest
        return
    assert not hasattr(cmd, "commands"), f"{example}: names a group, not a command"
    cmd.make_context(path[-1], rest)  # the parser's own check: options exist, values convert, none missing


# The examples that run in a moment, with no archive and no network: they are run for real.
QUICK = ("issim station", "issim track", "issim eclipses", "issim elements list", "issim scenarios",
         "issim telemetry", "issim state", "issim commands", "issim passes --site london --days 3")


@pytest.mark.parametrize("example", sorted({e for _, e in ALL_EXAMPLES if e.startswith(QUICK)}))
def test_quick_examples_run(example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # --ics and --chart examples write here
    monkeypatch.setenv("ISSIM_DATA_DIR", str(tmp_path / "data"))
    bundled = resources.files("issim.data").joinpath("elements", "iss-tle-history.tle")
    (tmp_path / "iss.tle").write_bytes(bundled.read_bytes())  # the file the --elements example names
    status = cli.main(shlex.split(example)[1:])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.strip()
    assert "Traceback" not in err


def test_flags_are_shown_as_flags(capsys):
    for path, _ in commands():
        assert cli.main([*path[1:], "--help"]) == 0
        text = capsys.readouterr().out
        assert "--help" in text and "Examples:" in text, path
        assert "<bool>" not in text, f"{' '.join(path)} --help shows a flag as taking a value"
    assert cli.main(["track", "--help"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "--json" in x)
    assert line.split("--json")[1].split()[0] == "Print"  # the help text follows the flag, no type between


def test_version_comes_from_the_package_metadata(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"issim {version('issim')}\n"


def test_python_m_issim_is_the_command_line(tmp_path):
    env = dict(os.environ, ISSIM_DATA_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "issim", "--version"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("issim ")
    proc = subprocess.run([sys.executable, "-m", "issim", "track", "--at", "2025-03-10T99:00:00Z"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("issim: error: --at: ") and len(proc.stderr.splitlines()) == 1
