"""The layers of docs/architecture.md hold: no module of issim imports one of a higher layer
(imports inside functions included), and the crew's minds never import the physics."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import issim

ROOT = Path(issim.__file__).parent
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _layers() -> dict[str, int]:
    """``{package: layer}`` from the table in docs/architecture.md (layer 0 is the lowest)."""
    out = {}
    for m in re.finditer(r"^\| (\d+) \| ([^|]+)\|", DOC.read_text(), re.M):
        for name in re.findall(r"`([a-z_]+)`", m.group(2)):
            out[name] = int(m.group(1))
    return out


FORBIDDEN = {("agents", "physics")}  # the minds read the world through observations and commands


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path):
    """``(line, imported issim module)`` for every import in the file, at any depth."""
    here = list(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])  # the module's package
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("issim"):
                    yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x: x is a module of that package (or a name of issim's)
                    for a in node.names:
                        yield node.lineno, mod if mod == "issim" else f"{mod}.{a.name}"
                    continue
                yield node.lineno, mod
            elif node.module and node.module.startswith("issim"):
                yield node.lineno, node.module


def test_the_layer_table_names_every_package():
    layers = _layers()
    packages = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
                if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert packages - {"__init__", "__main__", "data"} <= set(layers), sorted(packages - set(layers))


def test_no_import_goes_up_a_layer():
    layers = _layers()
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        src = _package("issim." + ".".join(path.relative_to(ROOT).with_suffix("").parts))
        if src == "__init__":
            continue  # the package's front door may name anything
        for line, target in _imports(path):
            dst = _package(target)
            if dst == "__init__" or dst == src:
                continue
            if layers[dst] > layers[src] or (src, dst) in FORBIDDEN:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({src}, layer {layers[src]}) imports {target} "
                           f"({dst}, layer {layers[dst]})")
    assert not bad, "\n".join(bad)
