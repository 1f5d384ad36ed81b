"""Reading input files: bytes, TOML, and pydantic errors turned into one clear line.

Every input file issim reads (station, scenario) fails the same way: an
:class:`~issim.errors.InputError` whose source is ``FILE`` or ``FILE:field.path`` and whose
message is one line saying what is wrong and, where it can, what would be right.
"""

from __future__ import annotations

import difflib
import math
import numbers
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from .errors import InputError

if TYPE_CHECKING:  # only named in a signature: the command line must not pay for pydantic to check a seed
    from pydantic import ValidationError


# Limits on what issim reads. Each is far beyond any real input and low enough that a
# hostile or broken one is refused in one line before it can exhaust memory or the stack.
MAX_FILE_BYTES = 1_000_000  # a scenario or station file; the bundled ones are a few kB
MAX_DEPTH = 32  # tables and arrays inside each other; the formats need 4 or 5
SEED_LIMIT = 2**63  # seeds are stored as signed 64-bit integers: 0 <= seed < 2**63


def read_bytes(path: str | Path, what: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` (at most ``limit`` of them); ``what`` names the kind of file for messages."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
        if len(raw) > limit:
            raise InputError(str(path), f"the file is larger than {limit:,} bytes, the limit for {what}")
        return raw
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), f"is a directory, not {what}") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file: {exc.strerror or exc}") from None


_bundled_toml: dict[str, dict] = {}


def bundled_toml(name: str) -> dict:
    """The parsed TOML of the bundled data file ``issim/data/NAME``, read and parsed once a
    process (the bundled files do not change under a run), handed out as a fresh copy each
    time: its tables and arrays are new, its values (text, numbers, dates) immutable, so
    what one caller changes no other caller sees."""
    data = _bundled_toml.get(name)
    if data is None:
        from importlib import resources

        data = _bundled_toml[name] = tomllib.loads(resources.files("issim.data").joinpath(name).read_text())
    return _plain_copy(data)


def _plain_copy(value: Any) -> Any:
    """A copy of parsed TOML: every table and array copied, the leaves shared (all immutable)."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value


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
    except RecursionError:
        raise InputError(source, f"nested more than {MAX_DEPTH} tables or arrays deep") from None
    if not data:
        raise InputError(source, f"the file is empty; {what} needs {expected}")
    check_depth(data, source)
    return data


def check_depth(data: Any, source: str, limit: int = MAX_DEPTH) -> None:
    """Refuse data nested more than ``limit`` tables or arrays deep (walked without recursion)."""
    stack = [(data, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict):
            items = [(v, where or str(k)) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [(v, where) for v in value]
        else:
            continue
        if depth > limit:  # named by its top-level field, the one to look at
            raise InputError(f"{source}:{where[:60]}" if where else source, f"nested more than {limit} tables or arrays deep")
        stack.extend((v, depth + 1, w) for v, w in items)


def number_problem(value: Any, whole: bool = False) -> Optional[str]:
    """Why ``value`` is not a usable number (``None`` when it is): booleans are not numbers,
    NaN and infinities are refused, ``whole`` asks for an integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"must be a {'whole ' if whole else ''}number, got {_show(value)}"
    if whole and not isinstance(value, numbers.Integral):
        return f"must be a whole number, got {_show(value)}"
    if not isinstance(value, numbers.Integral) and not math.isfinite(float(value)):
        return f"must be a finite number, got {_show(value)}"
    return None


def check_seed(value: Any, source: str) -> int:
    """A seed: a whole number with 0 <= seed < 2**63 (what the archive stores), else one clear line."""
    problem = number_problem(value, whole=True)
    if problem:
        raise InputError(source, f"the seed {problem}")
    if not 0 <= value < SEED_LIMIT:
        raise InputError(source, f"the seed must be at least 0 and below 2**63 ({SEED_LIMIT:,}), got {value}")
    return int(value)


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
        if close and close[0] == str(loc[-1]):  # a field of another table, put in this one
            return f"not a field of this table ({close[0]!r} belongs elsewhere); see {docs} for where each goes"
        return f"unknown field; did you mean {close[0]!r}?" if close else f"unknown field; see {docs} for the fields"
    if kind == "too_long":
        ctx = error.get("ctx") or {}
        return f"at most {ctx.get('max_length')} entries are allowed, got {ctx.get('actual_length')}"
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
