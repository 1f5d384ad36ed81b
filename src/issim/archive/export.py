"""A run's data as files for other tools: Parquet or CSV.

``export_run(record, "csv", "out/")`` writes, into ``out/``:

- ``telemetry.csv`` — ``t`` (ISO 8601 UTC), ``t_ms``, then one column per channel (SI units);
- ``channels.csv`` — the telemetry dictionary: key, name, unit, limits, source;
- ``track.csv`` — ``t``, ``t_ms``, ``lat_deg``, ``lon_deg``, ``alt_km``, ``sunlit``;
- ``events.csv`` — ``t``, ``t_ms``, ``kind`` and ``details`` (the entry's JSON);
- ``commands.csv`` — the command history (``args`` as JSON).

The Parquet form has the same tables (``.parquet``); its telemetry file is the stored
one, dictionary and all. Floats are written so that they read back bit for bit. Every
file is written beside its final name and renamed into place, so an export that fails
leaves no half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import InputError
from .record import RunRecord

FORMATS = ("parquet", "csv")


def _prepare_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file; --out names a folder to write the export into")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(out), f"cannot make the folder: {exc.strerror or exc}") from None


def export_run(record: RunRecord, fmt: str, out: str | Path) -> list[Path]:
    """Write the run's tables into the folder ``out``; return the files written."""
    import pandas as pd
    import pyarrow.parquet as pq

    if fmt not in FORMATS:
        raise InputError("--format", f"{fmt!r} is not a format issim exports; choose {' or '.join(FORMATS)}")
    telemetry_file = record._file("telemetry.parquet")  # refuses an incomplete run before anything is written
    track = record.track()
    channels = record.channels()
    events = record.events()
    commands = record.commands()
    out = Path(out)
    _prepare_dir(out)
    tmp = out / f".issim-export-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        events_out = pd.DataFrame({
            "t": [e["t"] for e in record.event_log()],
            "t_ms": events["t_ms"],
            "kind": events["kind"],
            "details": [json.dumps({k: v for k, v in e.items() if k not in ("t", "kind")}, sort_keys=True)
                        for e in record.event_log()],
        })
        commands_out = commands.assign(t=_iso(commands["t_ms"]), args=[json.dumps(a, sort_keys=True)
                                                                        for a in commands["args"]])
        channels_out = channels.assign(limits=[json.dumps(l, sort_keys=True) for l in channels["limits"]])
        track_out = track.reset_index(drop=True)
        track_out.insert(0, "t_ms", track.index.as_unit("ms").asi8)
        track_out.insert(0, "t", _iso(track_out["t_ms"]))
        if fmt == "parquet":
            shutil.copyfile(telemetry_file, tmp / "telemetry.parquet")
            for name, df in (("channels", channels_out), ("track", track_out), ("events", events_out),
                             ("commands", commands_out)):
                df.to_parquet(tmp / f"{name}.parquet", index=False)
        else:
            table = pq.read_table(str(telemetry_file)).to_pandas()
            table.insert(0, "t", _iso(table["t_ms"]))
            table.to_csv(tmp / "telemetry.csv", index=False, float_format=None)
            for name, df in (("channels", channels_out), ("track", track_out), ("events", events_out),
                             ("commands", commands_out)):
                df.to_csv(tmp / f"{name}.csv", index=False)
        written = []
        for name in ("telemetry", "channels", "track", "events", "commands"):
            final = out / f"{name}.{fmt}"
            os.replace(tmp / f"{name}.{fmt}", final)
            written.append(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _iso(t_ms) -> list[str]:
    from ..times import format_iso

    return [format_iso(int(t)) for t in t_ms]
