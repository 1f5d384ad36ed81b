"""The run catalogue: one SQLite file that lists every run, with its event log and commands.

An archive is a folder (``./runs`` by default, ``ISSIM_HOME`` or an option to move it)::

    runs/
      catalogue.sqlite        runs, events, commands (SQLite, write-ahead log)
      000001-nominal/         one folder per finished run: telemetry.parquet, track.parquet,
      000002-standoff/        summary.json, world.json, scenario.toml (docs/archive.md)
      .tmp/                   a run's folder while it is being written

Writes are short transactions, never held while a simulation runs: the row goes in as
``running`` when the run starts, the event log is appended now and then, and the row
turns ``complete`` in the same transaction as the rest of the log once the run's folder
has been moved into place in one ``os.replace``. A run whose process died leaves a
``running`` row behind; readers see that the process is gone and mark it ``incomplete``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from ..errors import InputError

SCHEMA_VERSION = 2  # 2: lineage (parent_id, fork_at, changes) of a branched run
CATALOGUE = "catalogue.sqlite"
TMP = ".tmp"
STATUSES = ("running", "complete", "failed", "incomplete")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario         TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    scenario_source  TEXT NOT NULL DEFAULT '',
    scenario_sha256  TEXT NOT NULL DEFAULT '',
    seed             INTEGER NOT NULL,
    version          TEXT NOT NULL,
    sim_start        TEXT NOT NULL,
    sim_end          TEXT,
    sim_planned_end  TEXT NOT NULL,
    frames           INTEGER,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    status           TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'incomplete')),
    outcome          TEXT NOT NULL DEFAULT '',
    outcome_json     TEXT,
    event_log_sha256 TEXT,
    error            TEXT NOT NULL DEFAULT '',
    dir              TEXT NOT NULL DEFAULT '',
    host             TEXT NOT NULL DEFAULT '',
    pid              INTEGER,
    pid_started      TEXT NOT NULL DEFAULT '',
    parent_id        INTEGER,
    fork_at          TEXT,
    changes          TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    t_ms    INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    entry   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS commands (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    t_ms     INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    source   TEXT NOT NULL,
    command  TEXT NOT NULL,
    target   TEXT NOT NULL,
    args     TEXT NOT NULL,
    stage    TEXT NOT NULL,
    result   TEXT NOT NULL,
    reason   TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


_LINEAGE = ("parent_id INTEGER", "fork_at TEXT", "changes TEXT NOT NULL DEFAULT ''")


class StoreError(RuntimeError):
    """Storing a run failed for a reason outside the input (a full disk, a vanished folder).

    The run is marked ``failed`` in the catalogue with the reason; the command line prints
    ``issim: error: SOURCE: MESSAGE`` and exits with 1.
    """

    def __init__(self, source: str, message: str):
        self.source = str(source)
        self.message = " ".join(str(message).split())
        super().__init__(f"{self.source}: {self.message}")


def default_home() -> Path:
    """Where runs are kept: ``$ISSIM_HOME`` if set, else ``./runs`` beside where the user works."""
    env = os.environ.get("ISSIM_HOME")
    return Path(env).expanduser() if env else Path.cwd() / "runs"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def process_token(pid: int) -> str:
    """Something that tells this process from a later one given the same id (Linux: start time)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else ""


def process_alive(pid: Optional[int], token: str) -> bool:
    """Is the process that wrote a ``running`` row still there (and still the same process)?"""
    if not pid:
        return False
    if Path("/proc/self/stat").exists():  # Linux: read the process table
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        fields = stat[stat.rindex(")") + 2:].split()
        if fields and fields[0] in ("Z", "X"):  # a zombie has finished running
            return False
        return not token or (len(fields) > 19 and fields[19] == token)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Archive:
    """A folder of runs and its catalogue.

    Open one with :meth:`open`; every method that changes the catalogue does so in one
    short transaction. The connection is in autocommit mode and transactions are explicit.
    """

    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: str | Path | None = None, *, create: bool = False) -> "Archive":
        """Open the archive at ``root`` (default :func:`default_home`); ``create`` makes it if missing.

        Raises :class:`~issim.errors.InputError` naming the folder or the catalogue when
        there is no archive there, or when the catalogue is not one issim can read.
        """
        root = Path(root).expanduser() if root is not None else default_home()
        path = root / CATALOGUE
        if root.exists() and not root.is_dir():
            raise InputError(str(root), "is a file, not a run archive folder")
        if not path.exists():
            if not create:
                hint = "issim run SCENARIO stores a run there" if not root.exists() or not any(root.iterdir()) else \
                    "the folder has no catalogue.sqlite"
                raise InputError(str(root), f"no run archive here ({hint}); "
                                            "set ISSIM_HOME or --archive to the folder that holds your runs")
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(str(root), f"cannot make the run archive folder: {exc.strerror or exc}") from None
        elif path.is_dir():
            raise InputError(str(path), "is a folder, not a run catalogue")
        try:
            conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(str(path), f"cannot open the run catalogue: {exc}") from None
        archive = cls(root, conn)
        try:
            if create:  # two processes making the same archive at once take turns
                with _creation_lock(root):
                    archive._prepare(create)
            else:
                archive._prepare(create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise InputError(str(path), f"not a run catalogue issim can read ({exc}); move it away to start afresh") from None
        return archive

    def _prepare(self, create: bool) -> None:
        conn = self.conn
        conn.execute("PRAGMA busy_timeout = 30000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"made by a newer issim (catalogue schema {version}, this issim reads {SCHEMA_VERSION})")
        if version == 0:
            if not create:
                raise sqlite3.DatabaseError("the catalogue is empty")
            if tables - {"sqlite_sequence"}:
                raise sqlite3.DatabaseError("an SQLite file, but not an issim catalogue: it has other tables")
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise sqlite3.DatabaseError("cannot switch the catalogue to write-ahead logging")
            with self.transaction() as c:
                if c.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have just made it
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            c.execute(statement)
                    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            tables = {"runs", "events", "commands"}
        elif not {"runs", "events", "commands"} <= tables:
            raise sqlite3.DatabaseError("the catalogue is missing its tables")
        elif version == 1:  # before lineage: add the columns, every old run has no parent
            with self.transaction() as c:
                if c.execute("PRAGMA user_version").fetchone()[0] == 1:
                    for column in _LINEAGE:
                        c.execute(f"ALTER TABLE runs ADD COLUMN {column}")
                    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ runs

    def reap(self) -> list[int]:
        """Mark ``incomplete`` the ``running`` runs whose process is gone; return their ids.

        Only rows written on this host are judged (another host's processes cannot be
        seen). A half-written folder the dead run left in ``.tmp`` is removed.
        """
        host = socket.gethostname()
        rows = self.conn.execute("SELECT id, pid, pid_started, dir FROM runs WHERE status = 'running' AND host = ?",
                                 (host,)).fetchall()
        dead = [(rid, pid, d) for rid, pid, token, d in rows if not process_alive(pid, token)]
        if not dead:
            return []
        try:
            with self.transaction() as c:
                for rid, _, _ in dead:
                    c.execute("UPDATE runs SET status = 'incomplete', finished_at = COALESCE(finished_at, ?), "
                              "error = CASE error WHEN '' THEN 'the process stopped before the run was stored' "
                              "ELSE error END WHERE id = ? AND status = 'running'", (utc_now(), rid))
        except sqlite3.OperationalError:  # a read-only archive: report them incomplete all the same
            pass
        for _, pid, d in dead:
            shutil.rmtree(self.root / TMP / f"{d}.{pid}", ignore_errors=True)
        return [rid for rid, _, _ in dead]

    def rows(self, limit: Optional[int] = None, scenario: Optional[str] = None) -> list[dict]:
        """The catalogue's rows, newest first (``running`` rows of dead processes already reaped)."""
        self.reap()
        query = "SELECT * FROM runs"
        params: list = []
        if scenario:
            query += " WHERE scenario = ?"
            params.append(scenario)
        query += " ORDER BY id DESC"
        if limit:
            query += " LIMIT ?"
            params.append(int(limit))
        return [self._row(r) for r in self.conn.execute(query, params)]

    def row(self, run_id: int) -> Optional[dict]:
        self.reap()
        r = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._row(r) if r is not None else None

    def _row(self, r: tuple) -> dict:
        names = [d[0] for d in self.conn.execute("SELECT * FROM runs LIMIT 0").description]
        row = dict(zip(names, r))
        row["outcome_json"] = json.loads(row["outcome_json"]) if row["outcome_json"] else None
        return row

    def resolve(self, text: str, source: str = "RUN") -> int:
        """A run id from what a user typed: ``12``, ``000012-nominal`` (its folder) or ``last``."""
        text = str(text).strip()
        if text in ("last", "latest"):
            last = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            if last is None:
                raise InputError(source, f"the archive {self.root} has no runs yet")
            return int(last)
        m = re.fullmatch(r"(\d+)(?:-[A-Za-z0-9_.-]+)?", text)
        if not m:
            raise InputError(source, f"{text!r} is not a run id: give the number `issim runs` shows, or last")
        run_id = int(m.group(1))
        if self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            newest = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            have = f"runs 1 to {newest}" if newest else "no runs yet"
            raise InputError(source, f"no run {run_id} in {self.root} (it has {have}; `issim runs` lists them)")
        return run_id

    def get(self, run: int | str, source: str = "RUN"):
        """The :class:`~issim.archive.record.RunRecord` of a run (an id, a folder name or ``last``)."""
        from .record import RunRecord

        run_id = run if isinstance(run, int) else self.resolve(run, source)
        row = self.row(run_id)
        if row is None:
            raise InputError(source, f"no run {run_id} in {self.root}; `issim runs` lists them")
        return RunRecord.from_row(self, row)

    def recording(self, runner, parent: Optional[int] = None, fork_at: str = "", changes: str = ""):
        """Store a run as it happens: ``with archive.recording(runner) as rec: rec.run()``
        (``runner`` an :class:`issim.runner.Runner`); a branch names its ``parent`` run, the
        simulated time it forked at and what it changed."""
        from .recording import Recording

        return Recording(self, runner, parent, fork_at, changes)


@contextmanager
def _creation_lock(root: Path):
    """An exclusive lock on the archive folder itself while a catalogue is made or checked:
    switching a new file to write-ahead logging needs the database to itself, and SQLite
    does not wait for that (it answers "database is locked" at once). Locking the folder
    writes nothing into it."""
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
