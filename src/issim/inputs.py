"""Reading input files: bytes, TOML, and pydantic errors turned into one clear line.

Every input file issim reads (station, scenario) fails the same way: an
:class:`~issim.errors.InputError` whose source is ``FILE`` or ``FILE:field.path`` and whose
message is one line saying what is wrong and, where it can, what would be right.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from pydantic import ValidationError

from .errors import InputError


def read_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of ``path``; ``what`` names the kind of file for messages."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), f"is a directory, not {what}") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file: {exc.strerror or exc}") from None


def parse_toml(raw: bytes, source: str, what: str, expected: str) -> dict:
    """Decode and parse TOML; refuse non-UTF-8, bad syntax and empty files."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            source, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); {what} is TOML"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, f"invalid TOML: {' '.join(str(exc).split())}") from None
    if not data:
        raise InputError(source, f"the file is empty; {what} needs {expected}")
    return data


def validation_error(
    exc: ValidationError,
    source: str,
    data: Mapping[str, Any],
    field_names: Iterable[str] = (),
    record_names: Mapping[str, str] | None = None,
    docs: str = "the documentation",
) -> InputError:
    """Turn pydantic's first error into an :class:`InputError` for ``source:field``.

    A validator may raise an exception with ``field`` and ``message`` attributes to point
    below the record it checks. ``record_names`` maps list tables (``modules``) to the
    word for one record (``module``) so that the message can name it by its id.
    """
    errors = exc.errors(include_url=False)
    # A misspelt field shows up twice, as an unknown field and as a missing one; the
    # unknown one is the more useful to report.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = list(first["loc"])
    inner = (first.get("ctx") or {}).get("error")
    if hasattr(inner, "field") and hasattr(inner, "message"):
        loc = loc + [inner.field]
        message = inner.message
    else:
        message = _message(first, loc, sorted(set(field_names)), docs)
    record = _record_id(loc, data, record_names or {})
    if record:
        message += f" (in {record})"
    if len(errors) > 1:
        more = len(errors) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    field = join_path(loc)
    return InputError(f"{source}:{field}" if field else source, message)


def _message(error: dict[str, Any], loc: list, field_names: list[str], docs: str) -> str:
    kind = error["type"]
    text = str(error["msg"])
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), field_names, n=1)
        return f"unknown field; did you mean {close[0]!r}?" if close else f"unknown field; see {docs} for the fields"
    if kind == "value_error":
        return text.removeprefix("Value error, ")
    if "input" in error:
        return f"{text[:1].lower()}{text[1:]}, got {_show(error['input'])}"
    return text


def _record_id(loc: list, data: Mapping[str, Any], record_names: Mapping[str, str]) -> Optional[str]:
    """Name the record an error sits in, e.g. "module 'zvezda'", when it has an id or name."""
    if len(loc) >= 3 and isinstance(loc[0], str) and isinstance(loc[1], int) and loc[0] in record_names:
        items = data.get(loc[0])
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            record_id = items[loc[1]].get("id", items[loc[1]].get("name"))
            if isinstance(record_id, str):
                return f"{record_names[loc[0]]} {record_id!r}"
    return None


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def join_path(loc: Iterable) -> str:
    """``['modules', 3, 'mass_kg']`` -> ``modules[3].mass_kg``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
