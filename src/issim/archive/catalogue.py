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
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from ..errors import InputError, StoreError

SCHEMA_VERSION = 2  # 2: lineage (parent_id, fork_at, changes) of a branched run
CATALOGUE = "catalogue.sqlite"
TMP = ".tmp"
STATUSES = ("running", "complete", "failed", "incomplete")
MAX_ID = 2**63 - 1  # SQLite's largest integer: run ids and seeds live in its INTEGER columns
RUN_DIR = re.compile(r"(\d{6,})-([A-Za-z0-9_-]+)")  # a run's folder: 000012-nominal
QUICK_CHECK_BYTES = 64 << 20  # readers check catalogues up to this size for damage on opening (a few ms per MB)
DEAD_ERROR = "the process stopped before the run was stored"
REPAIR_HINT = "`issim archive repair` rebuilds it from the run folders"

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


def check_run_number(text: str, source: str = "RUN") -> None:
    """Refuse (one line) a run id whose number no run can have: ids are SQLite's 64-bit integers."""
    m = re.match(r"\s*(\d+)", str(text))
    if m and (len(m.group(1)) > 19 or int(m.group(1)) > MAX_ID):
        digits = m.group(1)
        raise InputError(source, f"{digits[:30]}{'...' if len(digits) > 30 else ''} is not a run id: "
                                 f"run ids stop at {MAX_ID} (2**63 - 1); `issim runs` lists them")


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


class _Damaged(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` found the catalogue damaged."""


def _guarded(method):
    """An :class:`Archive` method whose SQLite failures come out as :meth:`Archive.guard` says."""
    from functools import wraps

    @wraps(method)
    def call(self, *args, **kwargs):
        with self.guard():
            return method(self, *args, **kwargs)

    return call


class Archive:
    """A folder of runs and its catalogue.

    Open one with :meth:`open`; every method that changes the catalogue does so in one
    short transaction. The connection is in autocommit mode and transactions are explicit.
    """

    def __init__(self, root: Path, conn: sqlite3.Connection, readonly: bool = False):
        self.root = root
        self.conn = conn
        self.readonly = readonly  # opened read-only (``mode=ro``): nothing is written, nothing migrated
        self.notes: list[str] = []  # what a reader should know (an old schema read as it is)
        self._dead: set[int] = set()  # running rows whose process is gone, not markable (read-only)

    @property
    def path(self) -> Path:
        """The catalogue file."""
        return self.root / CATALOGUE

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: str | Path | None = None, *, create: bool = False) -> "Archive":
        """Open the archive at ``root`` (default :func:`default_home`); ``create`` makes it if missing.

        An archive whose folder or catalogue is not writable is opened read-only (SQLite's
        ``mode=ro``): it can be listed, shown, exported and reported, nothing is migrated,
        and storing into it is refused. A folder that holds run folders but no catalogue is
        not given a new one (that would reuse run ids): ``issim archive repair`` rebuilds it.

        Raises :class:`~issim.errors.InputError` naming the folder or the catalogue when
        there is no archive there, or when the catalogue is not one issim can read.
        """
        root = Path(root).expanduser() if root is not None else default_home()
        path = root / CATALOGUE
        if root.exists() and not root.is_dir():
            raise InputError(str(root), "is a file, not a run archive folder")
        if not path.exists():
            orphans = run_folders(root) if root.is_dir() else {}
            if orphans:
                raise InputError(str(root), f"the archive has {len(orphans)} run folder(s) but no catalogue.sqlite; "
                                            f"{REPAIR_HINT} (a new catalogue would reuse their ids)")
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
        readonly = not writable(root)
        if readonly and create:
            raise InputError(str(root), "the run archive is read-only: runs cannot be stored here "
                                        "(give --out DIR for another archive)")
        try:
            conn = connect(path, readonly)
        except sqlite3.Error as exc:
            raise InputError(str(path), f"cannot open the run catalogue: {exc}") from None
        archive = cls(root, conn, readonly)
        try:
            if create:  # two processes making the same archive at once take turns
                with _creation_lock(root):
                    archive._prepare(create)
            else:
                archive._prepare(create)
        except _Damaged as exc:
            conn.close()
            raise InputError(str(path), f"the run catalogue is damaged ({exc}); {REPAIR_HINT}, moving the damaged "
                                        "file aside") from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise InputError(str(path), f"not a run catalogue issim can read ({exc}); {REPAIR_HINT} "
                                        "(the damaged file is kept aside)") from None
        for note in archive.notes:
            warnings.warn(note, stacklevel=2)
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
        elif version == 1 and self.readonly:  # read as it is: the lineage columns are simply absent
            self.notes.append(f"the catalogue has schema version 1 (this issim writes {SCHEMA_VERSION}); read-only, "
                              "so it is read as it is, without branch lineage")
        elif version == 1:  # before lineage: add the columns, every old run has no parent
            with self.transaction() as c:
                if c.execute("PRAGMA user_version").fetchone()[0] == 1:
                    for column in _LINEAGE:
                        c.execute(f"ALTER TABLE runs ADD COLUMN {column}")
                    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if create or self.path.stat().st_size <= QUICK_CHECK_BYTES:
            problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                problem = " ".join(str(problem).replace("*** in database main ***", "").split())
                if create:  # about to store: a damaged page found now is one line, not a failure half-way through
                    raise _Damaged(problem)
                self.notes.append(f"{self.path}: the run catalogue is damaged ({problem}); what can be read is "
                                  f"shown; {REPAIR_HINT}")
        if not self.readonly:
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

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Reading the catalogue: a damaged page (or another SQLite failure) becomes one
        :class:`~issim.errors.InputError` naming the catalogue, with the advice that works."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            damaged = any(w in text for w in ("malformed", "corrupt", "not a database"))
            raise InputError(str(self.path), f"cannot read the run catalogue ({text})"
                                             + (f"; it is damaged: {REPAIR_HINT}" if damaged else "")) from None

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
        if self.readonly:  # nothing can be written: report them incomplete all the same
            self._dead.update(rid for rid, _, _ in dead)
            return [rid for rid, _, _ in dead]
        try:
            with self.transaction() as c:
                for rid, _, _ in dead:
                    c.execute("UPDATE runs SET status = 'incomplete', finished_at = COALESCE(finished_at, ?), "
                              "error = CASE error WHEN '' THEN ? ELSE error END WHERE id = ? AND status = 'running'",
                              (utc_now(), DEAD_ERROR, rid))
        except sqlite3.OperationalError:  # the archive became read-only: report them incomplete all the same
            self._dead.update(rid for rid, _, _ in dead)
        for _, pid, d in dead:
            shutil.rmtree(self.root / TMP / f"{d}.{pid}", ignore_errors=True)
        return [rid for rid, _, _ in dead]

    @_guarded
    def rows(self, limit: Optional[int] = None, scenario: Optional[str] = None,
             status: Optional[str] = None) -> list[dict]:
        """The catalogue's rows, newest first (``running`` rows of dead processes already reaped),
        at most ``limit`` of them, of one ``scenario`` and one ``status`` when given."""
        self.reap()
        query = "SELECT * FROM runs"
        params: list = []
        if scenario:
            query += " WHERE scenario = ?"
            params.append(scenario)
        query += " ORDER BY id DESC"
        if limit and not status:  # a status is known only once a row is read (a dead process's run)
            query += " LIMIT ?"
            params.append(int(limit))
        rows = [self._row(r) for r in self.conn.execute(query, params)]
        if status:
            rows = [r for r in rows if r["status"] == status][:limit or None]
        return rows

    @_guarded
    def row(self, run_id: int) -> Optional[dict]:
        self.reap()
        r = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._row(r) if r is not None else None

    def _row(self, r: tuple) -> dict:
        names = [d[0] for d in self.conn.execute("SELECT * FROM runs LIMIT 0").description]
        row = dict(zip(names, r))
        row["outcome_json"] = json.loads(row["outcome_json"]) if row["outcome_json"] else None
        if row["id"] in self._dead and row["status"] == "running":
            row["status"], row["error"] = "incomplete", row["error"] or DEAD_ERROR
        return row

    @_guarded
    def resolve(self, text: str, source: str = "RUN") -> int:
        """A run id from what a user typed: ``12``, ``000012-nominal`` (its folder) or ``last``."""
        text = str(text).strip()
        if text in ("last", "latest"):
            last = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            if last is None:
                raise InputError(source, f"the archive {self.root} has no runs yet")
            return int(last)
        m = re.fullmatch(r"(\d+)(?:-(.+))?", text)
        if not m:
            raise InputError(source, f"{text!r} is not a run id: give the number `issim runs` shows, or last")
        check_run_number(text, source)
        run_id = int(m.group(1))
        row = self.conn.execute("SELECT dir, scenario FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            newest = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            have = f"runs 1 to {newest}" if newest else "no runs yet"
            raise InputError(source, f"no run {run_id} in {self.root} (it has {have}; `issim runs` lists them)")
        if m.group(2) is not None:  # a folder name: its scenario part must be this run's
            folder, scenario = row
            expected = RUN_DIR.fullmatch(folder or "")
            if expected is None or m.group(2) != expected.group(2):
                raise InputError(source, f"{text!r} is not a run's folder: run {run_id} is {scenario!r}, "
                                         f"in {folder or 'no folder'} (give {run_id} or {folder or run_id})")
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


def writable(root: Path) -> bool:
    """Can this process write the archive (its folder, and its catalogue and log if there)?"""
    if not os.access(root, os.W_OK | os.X_OK):
        return False
    return all(os.access(p, os.W_OK) for p in (root / CATALOGUE, root / f"{CATALOGUE}-wal", root / f"{CATALOGUE}-shm")
               if p.exists())


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a catalogue: read-write, or ``mode=ro`` for an archive this process
    cannot write. A read-only catalogue in write-ahead-log mode needs its ``-shm`` file; when
    there is none (and no log to read: a cleanly closed catalogue) it is opened immutable."""
    if not readonly:
        return sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    uri = path.absolute().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0, isolation_level=None)
    try:
        conn.execute("PRAGMA user_version").fetchone()
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise sqlite3.OperationalError("read-only, and its write-ahead log cannot be read without writing; "
                                           "open the archive once where it is writable") from None
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)


def run_folders(root: Path) -> dict[int, Path]:
    """The run folders in an archive by the id their name gives (``000012-nominal``: 12)."""
    found: dict[int, Path] = {}
    try:
        entries = list(root.iterdir())
    except OSError:
        return found
    for p in entries:
        m = RUN_DIR.fullmatch(p.name)
        if m and p.is_dir() and len(m.group(1)) <= 19 and int(m.group(1)) <= MAX_ID:
            found.setdefault(int(m.group(1)), p)
    return found


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
