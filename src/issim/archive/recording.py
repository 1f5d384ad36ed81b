"""Storing one run as it happens: the catalogue row first, the files and the verdict at the end.

::

    archive = Archive.open(create=True)
    with archive.recording(Runner("iss")) as rec:
        rec.run(progress=show)          # the run goes on; the event log is saved now and then
    print(rec.run_id, rec.summary["outcome"])

On entering, the run's row goes into the catalogue as ``running`` (one short transaction)
and a watcher is put in front of the simulation's environment to keep the ground track
at the recorder's rate (the engine computes latitude, longitude and sunlight for every
frame but records none of them). While the run goes on, the new part of the event log
and the command history is appended every few wall-clock seconds, each time in one short
transaction, so a run that dies still leaves what happened up to then. The recorder keeps
only the chunk of telemetry it is filling in memory: each full chunk goes to a file in the
run's half-written folder, ``.tmp/<run>.<pid>/chunks/`` (:mod:`issim.archive.chunks`), and
into ``.tmp/<run>.<pid>/telemetry.parquet`` as a row group (:class:`TelemetryFile`), so a
long run's memory does not grow with its length.

On leaving normally, the summary is worked out a chunk at a time (reading back from the
chunk files only the columns it needs), the telemetry file gets the last chunk and its
footer, the files are written into ``.tmp/<run>.<pid>/run/``, moved into
place with one ``os.replace``, and the row turns ``complete`` in the same transaction as
the rest of the log. The folder holds everything the catalogue says of the run too
(``run.json``, ``events.jsonl``, ``commands.jsonl``), so ``issim archive repair`` can
rebuild a lost catalogue from the folders. An exception marks the row ``failed`` (with the
error), an interruption (Ctrl-C, or SIGTERM while recording in the main thread)
``incomplete``; a kill leaves it ``running`` until a reader finds the process gone
(:meth:`~issim.archive.catalogue.Archive.reap`) and removes its half-written folder. Either
way the chunk files go when the recording ends; the simulation's history before then is
read from the stored run (:meth:`~issim.archive.record.RunRecord.telemetry`), not from
``sim.telemetry``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import threading
import time
from array import array
from importlib import resources
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .. import __version__
from ..orbit.environment import ENV_CHUNK_FRAMES
from ..times import format_iso
from ..errors import InputError
from .catalogue import MAX_ID, TMP, Archive, StoreError, process_token, utc_now
from .chunks import ChunkFolder
from .record import INPUTS
from .tables import COMMAND_FIELDS, command_row, entry_json, telemetry_schema, telemetry_table, track_table

CHECKPOINT_EVERY_S = 2.0  # wall-clock seconds between appends of the event log during a run
RECORD_FIELDS = ("id", "scenario", "title", "scenario_source", "scenario_sha256", "seed", "version", "sim_start",
                 "sim_end", "sim_planned_end", "frames", "started_at", "finished_at", "status", "outcome",
                 "outcome_json", "event_log_sha256", "error", "dir", "host", "parent_id", "fork_at", "changes")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while a run was being recorded: it ends like Ctrl-C (``incomplete``)."""


def _stop_for(signum: int) -> KeyboardInterrupt:
    return Terminated("terminated (SIGTERM)") if signum == signal.SIGTERM else KeyboardInterrupt()


def scenario_bytes(scenario) -> bytes:
    """The bytes of the file a scenario was read from (bundled or on disk); empty if unknown."""
    source = str(scenario.source)
    bundled = re.fullmatch(r"issim/data/scenarios/([A-Za-z0-9_.-]+\.toml)", source)
    try:
        if bundled:
            return resources.files("issim.data").joinpath("scenarios", bundled.group(1)).read_bytes()
        return Path(source).read_bytes()
    except OSError:
        return b""


class TrackWatch:
    """Stands in front of a simulation's environment and keeps where the station was.

    Every frame the engine asks the environment for the frame's surroundings; at the
    frames the recorder keeps (the same ``every_frames``), this keeps the sub-satellite
    point, altitude and sunlight too, as flat columns (33 bytes a sample: a simulated year
    at the default rate is 17 MB). Everything else is passed through untouched, so the run
    is the same with or without it.
    """

    def __init__(self, environment, every_frames: int):
        self._environment = environment
        self.every_frames = every_frames
        self._columns = {"t_ms": array("q"), "lat_deg": array("d"), "lon_deg": array("d"), "alt_km": array("d"),
                         "sunlit": array("b")}

    def at(self, state):
        env = self._environment.at(state)
        if state.frame % self.every_frames == 0:
            self._keep(env)
        return env

    def _keep(self, env) -> None:
        self._keep_row(env.t_ms, env.lat_deg, env.lon_deg, env.alt_km, bool(env.sunlit))

    def _keep_row(self, t_ms: int, lat: float, lon: float, alt: float, sunlit: bool) -> None:
        c = self._columns
        if not c["t_ms"] or t_ms > c["t_ms"][-1]:
            c["t_ms"].append(t_ms)
            c["lat_deg"].append(lat)
            c["lon_deg"].append(lon)
            c["alt_km"].append(alt)
            c["sunlit"].append(sunlit)

    def ran(self, state, first_frame: int, frames: int) -> None:
        """``frames`` frames from ``first_frame`` were run without asking :meth:`at` (many to a
        compiled call, :mod:`issim.quiet`): keep the recorded ones from the tables they read."""
        env = self._environment
        env.ran(state, first_frame, frames)
        every = self.every_frames
        scalars = env._rows[0]
        for f in range(-(-first_frame // every) * every, first_frame + frames, every):
            sunlit, _, alt, lat, lon = scalars[f % ENV_CHUNK_FRAMES].tolist()
            self._keep_row(env.start_ms + f * env.dt_ms, lat, lon, alt, sunlit != 0.0)

    def finish(self, state, last_recorded_ms: Optional[int]) -> None:
        """Add the last recorded moment, which the run ended on before asking for it."""
        t = self._columns["t_ms"]
        if last_recorded_ms is not None and (not t or t[-1] < last_recorded_ms) and state.t_ms == last_recorded_ms:
            self._keep(self._environment.at(state))

    def columns(self) -> dict[str, np.ndarray]:
        """``t_ms``, ``lat_deg``, ``lon_deg`` (geodetic, degrees), ``alt_km``, ``sunlit`` so far, as arrays."""
        return {k: np.array(v, dtype=bool if k == "sunlit" else None) for k, v in self._columns.items()}

    def __getattr__(self, name):
        return getattr(self._environment, name)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "run"


def outcome_line(summary: dict) -> str:
    """The run's outcome in one line (:func:`issim.scenario.summary.ending`)."""
    o = summary.get("outcome")
    if o is None:
        crew = summary.get("crew", {})
        alive = [n for n, c in crew.items() if c.get("alive")]
        return f"{len(alive)} of {len(crew)} alive"
    from ..scenario.summary import ending

    return o.get("ending") or ending(o)


class Recording:
    """One run being stored; made by :meth:`Archive.recording`."""

    def __init__(self, archive: Archive, runner, parent: Optional[int] = None, fork_at: str = "", changes: str = ""):
        self.archive = archive
        self.lineage = (parent, fork_at or None, changes)
        self.runner = runner
        self.scenario = runner.scenario
        self.sim = sim = runner.sim
        self.end_ms = int(runner.end_ms)
        self.run_id: Optional[int] = None
        self.dir = ""
        self.summary: Optional[dict] = None
        self.track = TrackWatch(sim.environment, sim.recorder.every_frames)
        self._events_saved = 0
        self._commands_saved = 0
        self._last_checkpoint = 0.0
        self.timings: dict[str, float] = {}

    @property
    def path(self) -> Path:
        return self.archive.root / self.dir

    @property
    def _tmp(self) -> Path:
        """The run's half-written folder: ``chunks/`` while it runs, then ``run/``, its files."""
        return self.archive.root / TMP / f"{self.dir}.{os.getpid()}"

    # ------------------------------------------------------------------ start

    def __enter__(self) -> "Recording":
        spec, sim = self.scenario, self.sim
        if isinstance(sim.seed, bool) or not isinstance(sim.seed, int) or not -MAX_ID - 1 <= sim.seed <= MAX_ID:
            raise InputError("--seed", f"{str(sim.seed)[:30]} cannot be stored: a stored seed is a 64-bit integer")
        raw = getattr(self.runner, "scenario_raw", None) or scenario_bytes(spec)  # a branch: its parent's copy
        with self.archive.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (scenario, title, scenario_source, scenario_sha256, seed, version, sim_start, "
                "sim_planned_end, started_at, status, host, pid, pid_started, parent_id, fork_at, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (spec.name, spec.scenario.title, str(spec.source), hashlib.sha256(raw).hexdigest() if raw else "",
                 sim.seed, __version__, format_iso(sim.start_ms), format_iso(self.end_ms), utc_now(),
                 socket.gethostname(), os.getpid(), process_token(os.getpid()), *self.lineage))
            self.run_id = int(cur.lastrowid)
            self.dir = f"{self.run_id:06d}-{_slug(spec.name)}"
            c.execute("UPDATE runs SET dir = ? WHERE id = ?", (self.dir, self.run_id))
        self._scenario_raw = raw
        self._chunks = ChunkFolder(self._tmp / "chunks")
        self._telemetry = TelemetryFile(sim.recorder, self._tmp / "telemetry.parquet")
        from ..scenario.summary import HistoryFold

        self._history = HistoryFold(sim)  # what the summary takes from the history, folded as chunks are spilled
        sim.recorder.spill_to(self._spill)
        self._handlers: dict = {}
        self._stop: Optional[KeyboardInterrupt] = None
        self._running = False
        if threading.current_thread() is threading.main_thread():  # only there can a signal handler be set
            self._handlers = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        self.sim.environment = self.track
        self._last_checkpoint = time.monotonic()
        return self

    # ------------------------------------------------------------------ during

    def _on_signal(self, signum, frame) -> None:
        """Ctrl-C or SIGTERM. While frames run, the stop waits for the next check between
        frames (an exception raised inside a compiled kernel's call would surface as a
        SystemError); otherwise it stops at once."""
        stop = _stop_for(signum)
        if self._running:
            self._stop = self._stop or stop
            return
        raise stop

    def _check_stop(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            raise stop

    def run(self, until: Optional[int] = None, progress: Optional[Callable[[int], None]] = None) -> None:
        """Run to ``until`` (default: the runner's end), its policies deciding each frame."""

        def tick(frames: int) -> None:
            self._check_stop()
            if progress is not None:
                progress(frames)
            if time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY_S:
                self.checkpoint()

        t0 = time.perf_counter()
        self._running = bool(self._handlers)
        try:
            self.runner.run(self.end_ms if until is None else until, progress=tick)
        finally:
            self._running = False
        self._check_stop()
        self.timings["run_s"] = time.perf_counter() - t0

    def set_changes(self, changes: str) -> None:
        """What the catalogue keeps of the run's changes (``changes``, JSON), written when the
        run is stored: for a run whose changes are known only at its end (a played game's
        commands, :mod:`issim.play`)."""
        self.lineage = (*self.lineage[:2], changes)

    def _spill(self, t_ms: np.ndarray, rows: np.ndarray):
        """A full chunk of telemetry: to its file, into ``telemetry.parquet`` as a row group,
        and into the summary's fold of the history (so that the summary need not read it back)."""
        chunk = self._chunks.keep(t_ms, rows)
        self._telemetry.add(chunk, t_ms, rows)
        self._history.feed(chunk, t_ms, self.sim.recorder.arrays_of(rows, self._history.arrays))
        return chunk

    def checkpoint(self) -> None:
        """Append the event log and command history written since the last time (one transaction)."""
        log = self.sim.state.log
        history = self.sim.state.facts.get("control.history", ())
        events = [(self.run_id, i, int(t), kind, entry_json(t, kind, d))
                  for i, (t, kind, d) in enumerate(log[self._events_saved:], start=self._events_saved)]
        commands = [(self.run_id, i, *command_row(e))
                    for i, e in enumerate(history[self._commands_saved:], start=self._commands_saved)]
        if events or commands:
            with self.archive.transaction() as c:
                self._insert(c, events, commands)
            self._events_saved += len(events)
            self._commands_saved += len(commands)
        self._last_checkpoint = time.monotonic()

    @staticmethod
    def _insert(c, events: list, commands: list) -> None:
        c.executemany("INSERT INTO events (run_id, seq, t_ms, kind, entry) VALUES (?, ?, ?, ?, ?)", events)
        c.executemany("INSERT INTO commands (run_id, seq, t_ms, actor, source, command, target, args, stage, result, "
                      "reason, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", commands)

    # ------------------------------------------------------------------ end

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.sim.environment = self.track._environment
        try:
            self.finish_or_mark(exc_type, exc)
        finally:
            self.sim.recorder.spill_to(None)
            self._telemetry.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
            for sig, handler in self._handlers.items():
                signal.signal(sig, handler)
        return False

    def finish_or_mark(self, exc_type, exc) -> None:
        if exc_type is None:
            try:
                self.finish()
            except Exception as failure:
                reason = failure.strerror if isinstance(failure, OSError) and failure.strerror else str(failure)
                self._mark("failed", f"storing the run failed: {type(failure).__name__}: {reason}")
                raise StoreError(str(self.archive.root), f"run {self.run_id} could not be stored ({reason}); "
                                                         "it is marked failed") from failure
            except BaseException as stop:
                self._mark("incomplete", "interrupted while being stored"
                           + (" (SIGTERM)" if isinstance(stop, Terminated) else ""))
                raise
        elif issubclass(exc_type, Terminated):
            self._mark("incomplete", "interrupted (SIGTERM)")
        elif issubclass(exc_type, KeyboardInterrupt):
            self._mark("incomplete", "interrupted")
        else:
            self._mark("failed", f"{exc_type.__name__}: {exc}")

    def _mark(self, status: str, error: str) -> None:
        try:
            self.checkpoint()
        except Exception:
            pass
        with self.archive.transaction() as c:
            c.execute("UPDATE runs SET status = ?, error = ?, finished_at = ?, sim_end = ?, frames = ? "
                      "WHERE id = ? AND status = 'running'",
                      (status, " ".join(error.split())[:500], utc_now(), format_iso(self.sim.t_ms),
                       self.sim.state.frame, self.run_id))

    def finish(self) -> None:
        """Write the run's files, move them into place, and mark the run complete."""
        from ..scenario import summarize
        from .world import world_record

        sim = self.sim
        t0 = time.perf_counter()
        summary = summarize(sim, self.scenario.name, self._history)
        self.timings["summary_s"] = time.perf_counter() - t0
        self.summary = summary
        self.track.finish(sim.state, sim.recorder.last_t_ms)

        entries = sim.event_log_entries()
        log_text = "".join(e + "\n" for e in entries)
        digest = hashlib.sha256(log_text.encode()).hexdigest()
        history = sim.state.facts.get("control.history", ())
        command_rows = [command_row(e) for e in history]
        finished_at = utc_now()
        outcome_json = json.dumps(summary.get("outcome"), default=_json_default)
        final = {"status": "complete", "finished_at": finished_at, "sim_end": format_iso(sim.t_ms),
                 "frames": sim.state.frame, "outcome": outcome_line(summary), "outcome_json": outcome_json,
                 "event_log_sha256": digest, "changes": self.lineage[2]}

        t0 = time.perf_counter()
        tmp = self._tmp / "run"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._telemetry.finish(tmp / "telemetry.parquet")
        self.timings["telemetry_s"] = self._telemetry.seconds  # most of it while the run went on
        write_track(self.track, tmp / "track.parquet")
        stored = {k: v for k, v in summary.items() if k != "events"}
        _write_text(tmp / "summary.json", json.dumps(stored, indent=1, ensure_ascii=False, default=_json_default))
        _write_text(tmp / "world.json", json.dumps(world_record(sim), indent=1, ensure_ascii=False))
        if self._scenario_raw:
            _write_bytes(tmp / "scenario.toml", self._scenario_raw)
        inputs = getattr(self.runner, "scenario_inputs", None)  # a campaign's run: its drawn inputs
        if inputs:
            _write_text(tmp / INPUTS, json.dumps(inputs, indent=1, ensure_ascii=False))
        # what the catalogue holds of the run, so that a lost catalogue can be rebuilt from the folder
        names = [d[0] for d in self.archive.conn.execute("SELECT * FROM runs LIMIT 0").description]
        row = dict(zip(names, self.archive.conn.execute("SELECT * FROM runs WHERE id = ?", (self.run_id,)).fetchone()))
        row.update(final)
        _write_text(tmp / "run.json", json.dumps({k: row.get(k) for k in RECORD_FIELDS}, indent=1, ensure_ascii=False))
        _write_bytes(tmp / "events.jsonl", log_text.encode())  # its SHA-256 is event_log_sha256
        _write_bytes(tmp / "commands.jsonl", "".join(
            json.dumps(dict(zip(COMMAND_FIELDS, r)), ensure_ascii=False, separators=(",", ":")) + "\n"
            for r in command_rows).encode())
        _fsync_dir(tmp)
        os.replace(tmp, self.path)
        _fsync_dir(self.archive.root)
        self.timings["files_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        with self.archive.transaction() as c:
            saved = [r[0] for r in c.execute("SELECT entry FROM events WHERE run_id = ? ORDER BY seq", (self.run_id,))]
            if saved != entries[: len(saved)]:  # never expected: the engine's own form wins
                c.execute("DELETE FROM events WHERE run_id = ?", (self.run_id,))
                saved = []
            events = [(self.run_id, i, int(t), kind, entries[i])
                      for i, (t, kind, _) in enumerate(sim.state.log) if i >= len(saved)]
            commands = [(self.run_id, i, *r) for i, r in enumerate(command_rows) if i >= self._commands_saved]
            self._insert(c, events, commands)
            c.execute("UPDATE runs SET status = 'complete', finished_at = ?, sim_end = ?, frames = ?, outcome = ?, "
                      "outcome_json = ?, event_log_sha256 = ?, changes = ? WHERE id = ?",
                      (finished_at, final["sim_end"], final["frames"], final["outcome"], outcome_json, digest,
                       final["changes"], self.run_id))
        self._events_saved, self._commands_saved = len(entries), len(history)
        self.timings["catalogue_s"] = time.perf_counter() - t0


class TelemetryFile:
    """``telemetry.parquet`` written as a stored run goes: a row group (zstd-compressed
    columns, a channel each) whenever the recorder spills a full chunk (:meth:`add`), the
    chunk being filled at the end (:meth:`finish`), so the run never reads its telemetry
    back to write it. If the recorder's chunks are no longer the ones written (a snapshot
    was restored in between), the file is written again from the chunks at the end."""

    def __init__(self, recorder, path: Path):
        self.recorder = recorder
        self.path = path
        self.schema = telemetry_schema(recorder)
        self._writer = _telemetry_writer(path, self.schema)
        self._written: list = []  # the chunks in the file so far, as the recorder holds them
        self.seconds = 0.0  # spent writing

    def add(self, chunk, t_ms: np.ndarray, rows: np.ndarray) -> None:
        """One full chunk (``chunk``: what the recorder keeps of it) as the next row group."""
        t0 = time.perf_counter()
        self._writer.write_table(telemetry_table(self.schema, t_ms, self.recorder.by_channel(rows)))
        self._written.append(chunk)
        self.seconds += time.perf_counter() - t0

    def finish(self, path: Path) -> None:
        """The rest of the telemetry, then the file, synced, at ``path``."""
        t0 = time.perf_counter()
        full = self.recorder.full_chunks
        if len(self._written) <= len(full) and all(a is b for a, b in zip(self._written, full)):
            for t, columns in self.recorder.channel_columns(start=len(self._written)):
                self._writer.write_table(telemetry_table(self.schema, t, columns))
            self.close()
            os.replace(self.path, path)
            _fsync(path)
        else:
            self.close()
            write_telemetry(self.recorder, path)
        self.seconds += time.perf_counter() - t0

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _telemetry_writer(path: Path, schema):
    from .._arrow import pq

    return pq.ParquetWriter(str(path), schema, compression="zstd", use_dictionary=False, write_statistics=["t_ms"])


def write_telemetry(recorder, path: Path) -> None:
    """The recorder's telemetry as one Parquet file (zstd-compressed columns), a row group
    per recorder chunk, so that only one chunk's columns are ever copied at a time."""
    schema = telemetry_schema(recorder)
    with _telemetry_writer(path, schema) as writer:
        for t, columns in recorder.channel_columns():
            writer.write_table(telemetry_table(schema, t, columns))
    _fsync(path)


def write_track(track: TrackWatch, path: Path) -> None:
    from .._arrow import pq

    table = track_table(**track.columns())
    pq.write_table(table, str(path), compression="zstd", use_dictionary=False, write_statistics=["t_ms"])
    _fsync(path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, (text + "\n").encode())


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync(path)
    except OSError:  # not every system lets a folder be synced
        pass
