"""A run's data as files for other tools: Parquet or CSV, in wide or long form.

``export_run(record, "csv", "out/", form="wide")`` writes, into ``out/``:

- ``telemetry`` — wide: ``t`` (ISO 8601 UTC), ``t_ms``, then one column per channel (SI
  units); long: ``t``, ``t_ms``, ``key``, ``value``, one row per sample of each channel;
- ``channels`` — the telemetry dictionary: key, name, unit, ``warn_low``, ``warn_high``,
  ``danger_low``, ``danger_high`` (empty where a channel has no such limit), source;
- ``track`` — ``t``, ``t_ms``, ``lat_deg``, ``lon_deg``, ``alt_km``, ``sunlit``;
- ``events`` — ``seq``, ``t``, ``t_ms``, ``kind``; wide: then one column per detail field
  (``what``, ``person``, ``args.on`` ...), empty where an entry lacks it; long: ``field``
  and ``value``, one row per detail of each entry;
- ``commands`` — the command history, ``seq``, ``t``, ``t_ms``, ``actor``, ``source``,
  ``command``, ``target``, ``stage``, ``result``, ``reason``, ``message``; wide: one
  ``arg.NAME`` column per argument; long: ``arg`` and ``value``, one row per argument
  (a command without arguments has one row with both empty).

No cell holds JSON: nested details are flattened into dotted names (``args.on``), a list
of ``[name, value]`` pairs counts as a mapping, and any other list is joined with ``"; "``.
``channels`` (patterns such as ``atm.*.pp_co2_pa``) limits the telemetry to those channels.
The Parquet form has the same tables (``.parquet``); its wide telemetry file with every
channel is the stored one, dictionary and all. Floats are written so that they read back
bit for bit. Every file is written beside its final name and renamed into place, so an
export that fails leaves no half-written file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Optional

from ..errors import InputError
from .record import RunRecord

FORMATS = ("parquet", "csv")
FORMS = ("wide", "long")
LIMITS = ("warn_low", "warn_high", "danger_low", "danger_high")
TABLES = ("telemetry", "channels", "track", "events", "commands")


def _prepare_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file; --out names a folder to write the export into")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(out), f"cannot make the folder: {exc.strerror or exc}") from None


def check_choice(option: str, value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise InputError(option, f"{value!r} is not a {what} issim exports; choose {' or '.join(choices)}")


def flatten(value, prefix: str = "") -> dict[str, object]:
    """A detail as plain cells: ``{"args": [["on", False]]}`` → ``{"args.on": False}``."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) for p in value):
            return flatten({p[0]: p[1] for p in value}, prefix)
        if all(not isinstance(v, (list, tuple, dict)) for v in value):
            return {prefix: "; ".join(str(v) for v in value)}
        return flatten({str(i): v for i, v in enumerate(value)}, prefix)
    return {prefix: value}


def _column(values: list):
    """A column pandas and Arrow can hold, each cell as it was (``3`` stays ``3``, not ``3.0``;
    a missing one is empty): cells of mixed kinds with any text or boolean among them are
    all written as text."""
    from .._arrow import pd

    kinds = {type(v) for v in values if v is not None}
    if len(kinds) > 1 and (str in kinds or bool in kinds):
        values = [None if v is None else str(v) for v in values]
    return pd.Series(values, dtype=object)


def _events(record: RunRecord, form: str):
    from .._arrow import pd

    log = record.event_log()
    from ..times import parse_iso

    head = [{"seq": i, "t": e["t"], "t_ms": parse_iso(e["t"]), "kind": e["kind"]} for i, e in enumerate(log)]
    details = [flatten({k: v for k, v in e.items() if k not in ("t", "kind")}) for e in log]
    if form == "long":
        rows = [{**h, "field": k, "value": v} for h, d in zip(head, details) for k, v in d.items()]
        df = pd.DataFrame(rows, columns=["seq", "t", "t_ms", "kind", "field", "value"])
        df["value"] = _column(df["value"].tolist()).to_numpy()
        return df
    fields = sorted({k for d in details for k in d})
    df = pd.DataFrame(head, columns=["seq", "t", "t_ms", "kind"])
    for f in fields:
        df[f] = _column([d.get(f) for d in details]).to_numpy()
    return df


def _commands(record: RunRecord, form: str):
    from .._arrow import pd

    commands = record.commands().reset_index(drop=True)
    base = commands.drop(columns=["args", "t"], errors="ignore")
    base.insert(0, "t", _iso(commands["t_ms"]))
    base.insert(0, "seq", range(len(base)))
    args = [flatten(a) for a in commands["args"]]
    if form == "long":
        rows = []
        for row, a in zip(base.to_dict("records"), args):
            rows += [{**row, "arg": k, "value": v} for k, v in a.items()] or [{**row, "arg": None, "value": None}]
        df = pd.DataFrame(rows, columns=[*base.columns, "arg", "value"])
        df["value"] = _column(df["value"].tolist()).to_numpy()
        return df
    for name in sorted({k for a in args for k in a}):
        base[f"arg.{name}"] = _column([a.get(name) for a in args]).to_numpy()
    return base


def _channels(record: RunRecord):
    channels = record.channels()
    limits = channels.pop("limits")
    at = list(channels.columns).index("unit") + 1
    for i, name in enumerate(LIMITS):
        channels.insert(at + i, name, [l.get(name) for l in limits])
    return channels


def _telemetry(record: RunRecord, form: str, channels: Optional[Iterable[str]]):
    import numpy as np
    from .._arrow import pd

    table = record.telemetry(channels)
    t_ms = table.index.as_unit("ms").asi8
    iso = _iso(t_ms)
    if form == "long":  # channel by channel, each in time order
        n, keys = len(t_ms), list(table.columns)
        return pd.DataFrame({"t": np.tile(np.array(iso, dtype=object), len(keys)), "t_ms": np.tile(t_ms, len(keys)),
                             "key": np.repeat(np.array(keys, dtype=object), n),
                             "value": table.to_numpy(dtype=np.float64).T.ravel()})
    table = table.reset_index(drop=True)
    table.insert(0, "t_ms", t_ms)
    table.insert(0, "t", iso)
    return table


def export_run(record: RunRecord, fmt: str, out: str | Path, form: str = "wide",
               channels: "Optional[Iterable[str] | str]" = None) -> list[Path]:
    """Write the run's tables into the folder ``out``; return the files written."""
    check_choice("--format", fmt, FORMATS, "format")
    check_choice("--form", form, FORMS, "form")
    telemetry_file = record._file("telemetry.parquet")  # refuses an incomplete run before anything is written
    telemetry = _telemetry(record, form, channels)  # an unknown channel is refused here, before writing too
    track = record.track()
    track_out = track.reset_index(drop=True)
    track_out.insert(0, "t_ms", track.index.as_unit("ms").asi8)
    track_out.insert(0, "t", _iso(track_out["t_ms"]))
    tables = {"telemetry": telemetry, "channels": _channels(record), "track": track_out,
              "events": _events(record, form), "commands": _commands(record, form)}
    out = Path(out)
    _prepare_dir(out)
    tmp = out / f".issim-export-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, df in tables.items():
            if fmt == "parquet" and name == "telemetry" and form == "wide" and channels is None:
                shutil.copyfile(telemetry_file, tmp / "telemetry.parquet")  # the stored file, dictionary and all
            elif fmt == "parquet":
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            else:
                df.to_csv(tmp / f"{name}.csv", index=False)
        written = []
        for name in TABLES:
            final = out / f"{name}.{fmt}"
            os.replace(tmp / f"{name}.{fmt}", final)
            written.append(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _iso(t_ms) -> list[str]:
    from ..times import format_iso

    return [format_iso(int(t)) for t in t_ms]
