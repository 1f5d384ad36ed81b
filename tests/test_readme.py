"""The README's Python example runs as written, and its commands exist."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", printed)  # a pass time
    assert "'close_hatch', 'zarya-pma-1', 'done'" in printed  # the policy example's Gordon does shut the hatch


def test_readme_leads_with_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, flags=re.S).group(1)
    assert "make run" in first_block and "make test" in first_block


def test_readme_cli_commands_exist():
    from issim.cli import main

    text = README.read_text()
    commands = {tuple(m.split()[1:]) for m in re.findall(r"^issim [a-z]+(?: [a-z]+)?", text, flags=re.M)}
    assert ("elements", "update") in commands
    for cmd in commands:
        assert main([*cmd, "--help"]) == 0, cmd
