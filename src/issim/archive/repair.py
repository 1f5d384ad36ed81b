"""Checking an archive and rebuilding a lost or damaged catalogue from its run folders.

``issim archive check`` (:func:`check`) reads without writing and lists every problem in
one line: the catalogue's own integrity (``PRAGMA integrity_check``), rows whose folder is
missing, folders with no row, ``running`` rows whose process is gone, an id sequence that
would hand out an id a folder already has.

``issim archive repair`` (:func:`repair`) makes the catalogue whole again. A damaged one
is moved aside (``catalogue.sqlite.damaged-<time>``, with its ``-wal``/``-shm``), never
deleted; what can still be read from it is salvaged. A new catalogue is then built beside
the old place and moved in with one ``os.replace``: one row per run folder, with the id
its name gives (``000003-nominal``: 3), its record from ``run.json`` (or, for folders
stored before issim kept one, ``summary.json`` and ``scenario.toml``), its event log from
``events.jsonl`` when that matches the recorded digest, and its commands from
``commands.jsonl``; runs that never got a folder (failed, interrupted) come back from the
damaged catalogue when it still shows them. The id sequence starts above the highest id
seen anywhere, so no id is ever handed out twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from ..errors import InputError
from .catalogue import (CATALOGUE, MAX_ID, RUN_DIR, SCHEMA_VERSION, TMP, Archive, _creation_lock, connect,
                        process_alive, run_folders, utc_now, writable)
from .tables import COMMAND_FIELDS

_SIDE = ("-wal", "-shm")


def _root(root: "str | Path | None") -> Path:
    from .catalogue import default_home

    root = Path(root).expanduser() if root is not None else default_home()
    if not root.exists():
        raise InputError(str(root), "no run archive here; set ISSIM_HOME or --archive to the folder that holds your runs")
    if not root.is_dir():
        raise InputError(str(root), "is a file, not a run archive folder")
    return root


def _tmp_ids(root: Path) -> set[int]:
    """Ids of half-written folders in ``.tmp`` (``000004-nominal.1234``): taken, even if never finished."""
    out = set()
    try:
        for p in (root / TMP).iterdir():
            m = RUN_DIR.fullmatch(p.name.rsplit(".", 1)[0])
            if m and len(m.group(1)) <= 19:
                out.add(int(m.group(1)))
    except OSError:
        pass
    return out


def _read_catalogue(path: Path, readonly: bool = True) -> tuple[Optional[sqlite3.Connection], list[str]]:
    """A connection to a catalogue and its problems (``[]``: sound), never writing to it."""
    try:
        conn = connect(path, readonly)
    except sqlite3.Error as exc:
        return None, [f"{path}: cannot be opened ({exc})"]
    try:
        found = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        problems = [] if found == ["ok"] else [f"{path}: damaged: {' '.join(str(f).split())}" for f in found]
        if not problems:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"runs", "events", "commands"} <= tables:
                problems.append(f"{path}: not an issim catalogue (it lacks the runs, events and commands tables)")
            elif version > SCHEMA_VERSION:
                problems.append(f"{path}: made by a newer issim (schema {version}, this issim reads {SCHEMA_VERSION})")
    except sqlite3.DatabaseError as exc:
        problems = [f"{path}: damaged: {' '.join(str(exc).split())}"]
    return conn, problems


# --------------------------------------------------------------------------- check


def check(root: "str | Path | None" = None) -> list[str]:
    """Every problem of the archive at ``root``, one line each (``[]``: none). Writes nothing."""
    root = _root(root)
    folders = run_folders(root)
    path = root / CATALOGUE
    if not path.exists():
        if not folders:
            raise InputError(str(root), "no run archive here (no catalogue.sqlite and no run folders)")
        return [f"{path}: missing, with {len(folders)} run folder(s) beside it; `issim archive repair` rebuilds it"]
    conn, problems = _read_catalogue(path)
    if conn is None or problems:
        if conn is not None:
            conn.close()
        return problems + ["`issim archive repair` moves the damaged catalogue aside and rebuilds it from the run folders"]
    try:
        names = [d[0] for d in conn.execute("SELECT * FROM runs LIMIT 0").description]
        rows = [dict(zip(names, r)) for r in conn.execute("SELECT * FROM runs ORDER BY id")]
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        return [f"{path}: damaged: {exc}"]
    conn.close()
    host = socket.gethostname()
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        folder = root / (r["dir"] or "")
        if r["status"] == "complete" and (not r["dir"] or not folder.is_dir()):
            problems.append(f"run {r['id']}: complete, but its folder {r['dir'] or '(none)'} is missing")
        if r["status"] == "running" and r.get("host") == host and not process_alive(r.get("pid"), r.get("pid_started") or ""):
            problems.append(f"run {r['id']}: marked running, but its process ({r.get('pid')}) is gone "
                            "(any reader marks it incomplete)")
    for rid, folder in sorted(folders.items()):
        row = by_id.get(rid)
        if row is None:
            problems.append(f"{folder}: a run folder with no row in the catalogue; `issim archive repair` adds it")
        elif row["dir"] != folder.name:
            problems.append(f"{folder}: named as run {rid}, but run {rid} is {row['scenario']!r} in {row['dir']}")
    highest = max([*folders, *_tmp_ids(root)], default=0)
    if highest > (seq[0] if seq else 0):
        problems.append(f"{path}: the next run would be numbered {(seq[0] if seq else 0) + 1}, an id a run folder "
                        f"already has (up to {highest}); `issim archive repair` moves the sequence on")
    return problems


# --------------------------------------------------------------------------- repair


def _salvage(conn: Optional[sqlite3.Connection]) -> tuple[dict[int, dict], dict, dict, int]:
    """What a damaged catalogue still gives: rows, events and commands by run, the highest id."""
    rows: dict[int, dict] = {}
    events: dict[int, list] = {}
    commands: dict[int, list] = {}
    highest = 0
    if conn is None:
        return rows, events, commands, highest
    try:
        names = [d[0] for d in conn.execute("SELECT * FROM runs LIMIT 0").description]
        for r in conn.execute("SELECT * FROM runs ORDER BY id"):
            row = dict(zip(names, r))
            rows[row["id"]] = row
    except sqlite3.DatabaseError:
        pass
    for query, into in (("SELECT run_id, seq, t_ms, kind, entry FROM events ORDER BY run_id, seq", events),
                        (f"SELECT run_id, seq, {', '.join(COMMAND_FIELDS)} FROM commands ORDER BY run_id, seq",
                         commands)):
        try:
            for r in conn.execute(query):
                into.setdefault(r[0], []).append(r[1:])
        except sqlite3.DatabaseError:
            pass
    for query in ("SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'runs'", "SELECT MAX(id) FROM runs"):
        try:
            highest = max(highest, int(conn.execute(query).fetchone()[0] or 0))
        except (sqlite3.DatabaseError, TypeError, ValueError):
            pass
    return rows, events, commands, highest


def _json(path: Path) -> Optional[dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mtime(path: Path) -> str:
    try:
        t = path.stat().st_mtime
    except OSError:
        return utc_now()
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _folder_row(rid: int, folder: Path) -> tuple[dict, list[str]]:
    """A catalogue row for a run folder, and notes on what could not be recovered."""
    notes: list[str] = []
    record = _json(folder / "run.json")
    toml_bytes = b""
    try:
        toml_bytes = (folder / "scenario.toml").read_bytes()
    except OSError:
        pass
    if record is not None:
        row = dict(record)
    else:
        summary = _json(folder / "summary.json") or {}
        notes.append("rebuilt from summary.json (no run.json): wall-clock times from the folder, planned end "
                     "taken as the end" if summary else "rebuilt from the folder name alone (no run.json or summary.json)")
        title = ""
        if toml_bytes:
            import tomllib

            try:
                title = str(tomllib.loads(toml_bytes.decode()).get("scenario", {}).get("title", ""))
            except (ValueError, UnicodeDecodeError, AttributeError):
                pass
        outcome = ""
        if summary:
            from .recording import outcome_line

            try:
                outcome = outcome_line(summary)
            except Exception:  # an old or odd summary: the row keeps no outcome line
                outcome = ""
        seed = summary.get("seed")
        row = {
            "scenario": str(summary.get("scenario") or RUN_DIR.fullmatch(folder.name).group(2)),
            "title": title, "scenario_source": "", "seed": seed if isinstance(seed, int) and not isinstance(seed, bool)
            and -MAX_ID - 1 <= seed <= MAX_ID else 0,
            "version": str(summary.get("version") or ""), "sim_start": str(summary.get("start") or ""),
            "sim_end": summary.get("end"), "sim_planned_end": str(summary.get("end") or ""),
            "frames": summary.get("frames") if isinstance(summary.get("frames"), int) else None,
            "started_at": _mtime(folder), "finished_at": _mtime(folder / "summary.json"),
            "status": "complete" if summary else "incomplete", "outcome": outcome,
            "outcome_json": json.dumps(summary.get("outcome")) if summary.get("outcome") is not None else None,
            "event_log_sha256": summary.get("event_log_sha256"), "error": "",
        }
    row["id"], row["dir"] = rid, folder.name
    if toml_bytes and not row.get("scenario_sha256"):
        row["scenario_sha256"] = hashlib.sha256(toml_bytes).hexdigest()
    return row, notes


def _folder_events(folder: Path, row: dict) -> Optional[list[tuple]]:
    """The event log from ``events.jsonl``, if it is there and its digest is the run's."""
    try:
        data = (folder / "events.jsonl").read_bytes()
    except OSError:
        return None
    if row.get("event_log_sha256") and hashlib.sha256(data).hexdigest() != row["event_log_sha256"]:
        return None
    out = []
    for seq, line in enumerate(data.decode().splitlines()):
        try:
            entry = json.loads(line)
            from ..times import parse_iso

            out.append((seq, parse_iso(entry["t"]), str(entry["kind"]), line))
        except (ValueError, KeyError, TypeError, InputError):
            return None
    return out


def _folder_commands(folder: Path) -> Optional[list[tuple]]:
    try:
        lines = (folder / "commands.jsonl").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    out = []
    for seq, line in enumerate(lines):
        try:
            d = json.loads(line)
            out.append((seq, *(d[k] for k in COMMAND_FIELDS)))
        except (ValueError, KeyError, TypeError):
            return None
    return out


def _events_digest(events: list[tuple]) -> str:
    return hashlib.sha256("".join(e[-1] + "\n" for e in events).encode()).hexdigest()


_ROW_COLUMNS = ("id", "scenario", "title", "scenario_source", "scenario_sha256", "seed", "version", "sim_start",
                "sim_end", "sim_planned_end", "frames", "started_at", "finished_at", "status", "outcome",
                "outcome_json", "event_log_sha256", "error", "dir", "host", "pid", "pid_started", "parent_id",
                "fork_at", "changes")
_DEFAULTS = {"title": "", "scenario_source": "", "scenario_sha256": "", "seed": 0, "version": "", "sim_start": "",
             "sim_planned_end": "", "started_at": "", "status": "incomplete", "outcome": "", "error": "", "dir": "",
             "host": "", "pid_started": "", "changes": ""}


def _insert_row(c: sqlite3.Connection, row: dict) -> None:
    values = []
    for k in _ROW_COLUMNS:
        v = row.get(k)
        if v is None and k in _DEFAULTS:
            v = _DEFAULTS[k]
        if k == "outcome_json" and v is not None and not isinstance(v, str):
            v = json.dumps(v)
        values.append(v)
    if values[_ROW_COLUMNS.index("status")] not in ("running", "complete", "failed", "incomplete"):
        values[_ROW_COLUMNS.index("status")] = "incomplete"
    c.execute(f"INSERT INTO runs ({', '.join(_ROW_COLUMNS)}) VALUES ({', '.join('?' * len(_ROW_COLUMNS))})", values)


def _add_note(row: dict, notes: list[str]) -> None:
    if notes:
        text = "; ".join(notes)
        row["error"] = f"{row['error']}; {text}" if row.get("error") else text
        row["error"] = " ".join(row["error"].split())[:500]


def _restore_run(c: sqlite3.Connection, rid: int, folder: Optional[Path], salvaged: dict, events: dict,
                 commands: dict) -> str:
    """Put one run back into catalogue ``c``; return the line that says how."""
    if folder is not None:
        row, notes = _folder_row(rid, folder)
        log = _folder_events(folder, row)
        where = "events.jsonl"
        if log is None and events.get(rid) and (not row.get("event_log_sha256")
                                                or _events_digest(events[rid]) == row["event_log_sha256"]):
            log, where = events[rid], "the damaged catalogue"
        cmds = _folder_commands(folder)
        cwhere = "commands.jsonl"
        if cmds is None and commands.get(rid):
            cmds, cwhere = commands[rid], "the damaged catalogue"
        if log is None:
            notes.append("its event log could not be recovered")
        if cmds is None:
            notes.append("its command history could not be recovered")
        source = f"{folder.name}"
    else:
        row, notes = dict(salvaged[rid]), []
        if row.get("status") == "running":
            row["status"] = "incomplete"
            notes.append("the process stopped before the run was stored")
        log, where = events.get(rid), "the damaged catalogue"
        cmds, cwhere = commands.get(rid), "the damaged catalogue"
        source = f"the damaged catalogue (no folder; {row.get('status')})"
    _add_note(row, notes)
    _insert_row(c, row)
    if log:
        c.executemany("INSERT INTO events (run_id, seq, t_ms, kind, entry) VALUES (?, ?, ?, ?, ?)",
                      [(rid, *e) for e in log])
    if cmds:
        c.executemany(f"INSERT INTO commands (run_id, seq, {', '.join(COMMAND_FIELDS)}) "
                      f"VALUES ({', '.join('?' * (len(COMMAND_FIELDS) + 2))})", [(rid, *e) for e in cmds])
    got = [f"{len(log)} event(s) from {where}" if log is not None else "events lost",
           f"{len(cmds)} command(s) from {cwhere}" if cmds is not None else "commands lost"]
    return f"run {rid}: restored from {source} ({', '.join(got)})"


def _set_sequence(c: sqlite3.Connection, at_least: int) -> None:
    seq = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    if seq is None:
        c.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (at_least,))
    elif seq[0] < at_least:
        c.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", (at_least,))


def repair(root: "str | Path | None" = None) -> list[str]:
    """Make the archive's catalogue whole; return what was done, one line each.

    A missing or damaged catalogue is rebuilt from the run folders (the damaged file moved
    aside, never deleted); a sound one gains a row for each folder it lacks, its dead
    ``running`` rows are marked incomplete, and its id sequence is moved above every id seen.
    """
    root = _root(root)
    if not writable(root):
        raise InputError(str(root), "the run archive is read-only: it cannot be repaired here")
    path = root / CATALOGUE
    with _creation_lock(root):
        folders = run_folders(root)
        if not path.exists() and not folders:
            raise InputError(str(root), "no run archive here (no catalogue.sqlite and no run folders)")
        conn, problems = _read_catalogue(path) if path.exists() else (None, ["missing"])
        if not problems:
            conn.close()
            return _repair_sound(root, folders)
        return _rebuild(root, path, conn, folders, moved=path.exists())


def _repair_sound(root: Path, folders: dict[int, Path]) -> list[str]:
    done: list[str] = []
    with Archive.open(root) as arc:
        dead = arc.reap()
        done += [f"run {rid}: marked incomplete (its process is gone)" for rid in dead]
        have = {r[0] for r in arc.conn.execute("SELECT id FROM runs")}
        highest = max([*folders, *_tmp_ids(root), *have], default=0)
        with arc.transaction() as c:
            for rid, folder in sorted(folders.items()):
                if rid not in have:
                    done.append(_restore_run(c, rid, folder, {}, {}, {}))
            seq = c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
            if highest > (seq[0] if seq else 0):
                _set_sequence(c, highest)
                done.append(f"new runs will be numbered from {highest + 1}")
    return done or ["the catalogue is sound and lists every run folder: nothing to repair"]


def _rebuild(root: Path, path: Path, damaged: Optional[sqlite3.Connection], folders: dict[int, Path],
             moved: bool) -> list[str]:
    done: list[str] = []
    rows, events, commands, highest = _salvage(damaged)
    if damaged is not None:
        damaged.close()
    host = socket.gethostname()
    alive = [rid for rid, r in rows.items() if r.get("status") == "running" and r.get("host") == host
             and process_alive(r.get("pid"), r.get("pid_started") or "")]
    if alive:
        raise InputError(str(path), f"run {alive[0]} is still running (process {rows[alive[0]].get('pid')}); "
                                    "repair the archive when it has ended")
    leftovers = [path.with_name(CATALOGUE + side) for side in _SIDE if path.with_name(CATALOGUE + side).exists()]
    if moved or leftovers:  # a log left without its catalogue must not be read into the new one
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{CATALOGUE}.damaged-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{CATALOGUE}.damaged-{stamp}-{n}")
        for side in _SIDE:  # the log first: the main file alone is never left beside another's log
            if path.with_name(CATALOGUE + side).exists():
                os.replace(path.with_name(CATALOGUE + side), aside.with_name(aside.name + side))
        if moved:
            os.replace(path, aside)
            done.append(f"moved the damaged catalogue aside to {aside.name} (kept, not deleted)")
        else:
            done.append(f"moved the log left without its catalogue aside to {aside.name}-wal/-shm")
    fresh = path.with_name(f"{CATALOGUE}.rebuild-{os.getpid()}")
    for p in (fresh, *(fresh.with_name(fresh.name + s) for s in _SIDE)):
        p.unlink(missing_ok=True)
    arc = Archive(root, connect(fresh))
    try:
        arc._prepare(create=True)
        with arc.transaction() as c:
            for rid in sorted(set(folders) | set(rows)):
                folder = folders.get(rid)
                if folder is None and rows[rid].get("dir") and (root / rows[rid]["dir"]).is_dir():
                    folder = None  # its folder carries another id in its name: leave the row out, say so
                    done.append(f"run {rid}: its folder {rows[rid]['dir']} names another id; not restored")
                    continue
                done.append(_restore_run(c, rid, folder, rows, events, commands))
            top = max([highest, *folders, *rows, *_tmp_ids(root)], default=0)
            _set_sequence(c, top)
    except BaseException:
        arc.close()
        for p in (fresh, *(fresh.with_name(fresh.name + s) for s in _SIDE)):
            p.unlink(missing_ok=True)
        raise
    arc.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    arc.close()
    for s in _SIDE:
        fresh.with_name(fresh.name + s).unlink(missing_ok=True)
    os.replace(fresh, path)
    done.append(f"rebuilt {CATALOGUE}: {len(set(folders) | set(rows))} run(s); new runs will be numbered from {top + 1}")
    return done
