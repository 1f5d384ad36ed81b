"""Writing the files a command is asked for: whole or not at all."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .errors import InputError


def check_writable(path: str | Path, source: str) -> Path:
    """Refuse at once (InputError naming ``source``) a path that cannot take a new file.

    Called before the work that produces the file, so bad input costs nothing;
    :func:`write_atomic` still reports what only the write itself can find.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(source, f"{path} is a folder; give a file name")
    if not parent.is_dir():
        raise InputError(source, f"cannot write {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(source, f"cannot write {path}: the folder {parent} is not writable")
    return path


def write_atomic(path: str | Path, text: str, source: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file and a rename.

    ``path`` ends up either as it was or holding the whole text, never half of it; a
    failure is an InputError naming ``source`` and the leftover temporary file is removed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InputError(source, f"cannot write {path}: {exc.strerror or exc}") from None
    return path
