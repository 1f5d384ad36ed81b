"""Every figure in every data file cites its source or says it is an estimate.

The convention, shared by all of ``src/issim/data/*.toml``: a record's ``src`` (or a
figure's ``<figure>_src``) lists keys of the file's ``[sources]`` table; where the list
holds ``estimate``, the matching ``note`` (or ``<figure>_note``) starts with
``estimate`` and gives the basis. This test walks every table of every file, so a new
data file or record is held to it without a test of its own.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

DATA = resources.files("issim.data")
FILES = sorted(p.name for p in DATA.iterdir() if p.name.endswith(".toml"))


def _records(node, path="$"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key != "sources":
                yield from _records(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _records(value, f"{path}[{i}]")


def _citations(record: dict):
    for key, value in record.items():
        if key == "src" or key.endswith("_src"):
            note_key = "note" if key == "src" else key[: -len("src")] + "note"
            yield key, value, note_key


@pytest.mark.parametrize("name", FILES)
def test_every_cited_figure_names_known_sources_and_estimates_say_why(name):
    data = tomllib.loads(DATA.joinpath(name).read_text())
    sources = data.get("sources", {})
    assert sources, f"{name} has no [sources] table"
    cited = 0
    for path, record in _records(data):
        for key, value, note_key in _citations(record):
            keys = [value] if isinstance(value, str) else list(value)
            assert keys, f"{name} {path}.{key} is empty"
            for k in keys:
                assert k in sources, f"{name} {path}.{key}: source {k!r} is not in [sources]"
            if "estimate" in keys:
                note = str(record.get(note_key, record.get("note", "")))
                assert "estimate" in note.lower(), (
                    f"{name} {path}: {key} says estimate but {note_key} gives no basis"
                )
            cited += 1
    assert cited > 0, f"{name} cites nothing"


def test_every_source_is_used():
    for name in FILES:
        text = DATA.joinpath(name).read_text()
        data = tomllib.loads(text)
        used = set()
        for _, record in _records(data):
            for _, value, _ in _citations(record):
                used |= {value} if isinstance(value, str) else set(value)
        unused = set(data.get("sources", {})) - used
        assert not unused, f"{name}: sources never cited: {sorted(unused)}"
