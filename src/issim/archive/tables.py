"""Telemetry and ground track as Arrow tables, and the JSON forms of the event log and commands.

The telemetry table is wide: ``t_ms`` (int64, UTC milliseconds) and one float64 column
per channel, named by its key, in SI units as recorded. The telemetry dictionary (name,
unit, limits, source, and which state array the channel reads) rides along in the
Parquet schema's metadata under ``issim.channels``, so a file read on its own still says
what its columns are.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

import numpy as np

from .._arrow import pa
from ..times import format_iso

CHANNELS_KEY = b"issim.channels"
COMMAND_FIELDS = ("t_ms", "actor", "source", "command", "target", "args", "stage", "result", "reason", "message")


def channel_meta(channel) -> dict:
    """A channel's dictionary entry, with where it lives in the state."""
    return {**channel.describe(), "array": channel.array, "index": list(channel.index)}


def telemetry_schema(recorder) -> pa.Schema:
    """The telemetry file's columns: ``t_ms`` and a float64 per channel, with the dictionary."""
    meta = [channel_meta(c) for c in recorder.channels.values()]
    fields = [pa.field("t_ms", pa.int64())] + [pa.field(k, pa.float64()) for k in recorder.channels]
    return pa.schema(fields, metadata={CHANNELS_KEY: json.dumps(meta, separators=(",", ":")).encode()})


def telemetry_table(schema: pa.Schema, t_ms: np.ndarray, columns: dict[str, np.ndarray]) -> pa.Table:
    """Some samples of the telemetry (``columns``: a channel's values by key) as a table."""
    arrays = [_array(np.asarray(t_ms, dtype=np.int64))]
    arrays += [_array(np.ascontiguousarray(columns[name], dtype=np.float64)) for name in schema.names[1:]]
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: np.ndarray) -> pa.Array:
    """A zero-copy Arrow view of a contiguous int64/float64/bool array (``pa.array`` would
    import pandas, a quarter of a second that a short run would feel)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:  # Arrow keeps booleans as bits, least significant first
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(np.packbits(values, bitorder="little"))])
    kind = {np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def channels_from_schema(schema: pa.Schema) -> list[dict]:
    raw = (schema.metadata or {}).get(CHANNELS_KEY)
    return json.loads(raw) if raw else [{"key": n, "name": n, "unit": "", "limits": {}, "source": ""}
                                        for n in schema.names if n != "t_ms"]


def track_table(t_ms: Sequence[int], lat_deg, lon_deg, alt_km, sunlit) -> pa.Table:
    """Where the station was at each recorded moment: geodetic latitude, longitude, altitude, sunlight."""
    return pa.table({
        "t_ms": _array(np.asarray(t_ms, dtype=np.int64)),
        "lat_deg": _array(np.asarray(lat_deg, dtype=np.float64)),
        "lon_deg": _array(np.asarray(lon_deg, dtype=np.float64)),
        "alt_km": _array(np.asarray(alt_km, dtype=np.float64)),
        "sunlit": _array(np.asarray(sunlit, dtype=bool)),
    })


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the event log")


def entry_json(t_ms: int, kind: str, details: Iterable) -> str:
    """One event-log entry as the canonical JSON that ``Simulation.event_log_sha256`` digests."""
    return json.dumps({"t": format_iso(t_ms), "kind": kind, **dict(details)},
                      sort_keys=True, separators=(",", ":"), default=_plain)


def command_row(entry: tuple) -> tuple:
    """A command-history entry (``state.facts["control.history"]``) as a catalogue row."""
    t_ms, actor, source, command, target, args, stage, result, reason, message = entry
    return (int(t_ms), str(actor), str(source), str(command), str(target),
            json.dumps(dict(args), sort_keys=True, default=_plain), str(stage), str(result), str(reason or ""),
            str(message or ""))
