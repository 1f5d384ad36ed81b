"""A campaign in the run archive: its row in the catalogue, each run's row, and Parquet chunks.

::

    runs/
      catalogue.sqlite            ... and the tables campaigns, campaign_runs
      campaigns/iss-500/
        scenario.toml             the scenario's bytes, as the campaign ran them
        outcomes/part-000001.parquet   one row a run: ending, class, path, digest, the drawn inputs
        people/part-000001.parquet     one row a run and person: their fate
        beats/part-000001.parquet      the story: one row a beat, with its time in hours
        decisions/part-000001.parquet  one row a decision made
        mind/part-000001.parquet       each mind quantity at the end

A finished run goes into ``campaign_runs`` in one short transaction (``INSERT OR IGNORE``
on the campaign and the run's index: a run is never there twice) with its whole record.
Every so many runs the records not yet in Parquet are written as a chunk: each table's file
through a temporary file and a rename, then the rows name their chunk and drop their record
in one transaction. A chunk file that no row names (the process died between the two) is
removed when the campaign is next opened, and its runs are written again. So a campaign
killed at any moment loses at most the runs still running, and its rerun repeats none.

One process runs a campaign at a time (a lock on its folder; the kernel lets go of it when
the process dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Optional

from ..errors import InputError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
TABLES = ("outcomes", "people", "beats", "decisions", "mind")
OUTCOME_COLUMNS = ("run", "seed", "class", "ending", "path", "beats", "dead", "departed", "resolved", "hours_run",
                   "digest")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name             TEXT PRIMARY KEY,
    scenario         TEXT NOT NULL,
    scenario_source  TEXT NOT NULL,
    scenario_sha256  TEXT NOT NULL,
    seed             INTEGER NOT NULL,
    hours            REAL,
    until_resolved   INTEGER NOT NULL,
    runs             INTEGER NOT NULL,
    dispersions      TEXT NOT NULL,
    version          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    dir              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_runs (
    campaign     TEXT NOT NULL REFERENCES campaigns(name) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    seed         INTEGER NOT NULL,
    inputs       TEXT NOT NULL,
    class        TEXT NOT NULL,
    digest       TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    chunk        INTEGER,
    record       TEXT,
    PRIMARY KEY (campaign, idx)
);
"""


def check_name(name: str, source: str = "--name") -> str:
    if not NAME.match(name or ""):
        raise InputError(source, f"{name!r} is not a campaign name: letters, digits, - _ . (up to 80), "
                                 "starting with a letter or digit")
    return name


def default_name(scenario: str, hours: Optional[float], until_resolved: bool) -> str:
    return scenario + (f"-{hours:g}h" if hours is not None else "") + ("" if until_resolved else "-to-the-end")


def _ensure_tables(archive) -> None:
    with archive.transaction() as c:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                c.execute(statement)


def _has_tables(archive) -> bool:
    rows = archive.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                                "('campaigns', 'campaign_runs')").fetchall()
    return len(rows) == 2


class Campaign:
    """A stored campaign (see the module). :meth:`start` makes or resumes one to run;
    :meth:`open` reads one back."""

    def __init__(self, archive, row: dict):
        self.archive = archive
        self.row = row
        self.name = row["name"]
        self.dir = archive.root / row["dir"]
        self._lock_fd: Optional[int] = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def names(cls, archive) -> list[dict]:
        if not _has_tables(archive):
            return []
        cur = archive.conn.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM campaign_runs r WHERE r.campaign = c.name) AS done "
            "FROM campaigns c ORDER BY c.created_at, c.name")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    @classmethod
    def open(cls, archive, name: str, source: str = "NAME") -> "Campaign":
        check_name(name, source)
        row = None
        if _has_tables(archive):
            cur = archive.conn.execute("SELECT * FROM campaigns WHERE name = ?", (name,))
            r = cur.fetchone()
            if r is not None:
                row = dict(zip([d[0] for d in cur.description], r))
        if row is None:
            have = [c["name"] for c in cls.names(archive)]
            raise InputError(source, f"no campaign {name!r} in {archive.root} (campaigns: "
                                     f"{', '.join(have) if have else 'none yet'}; issim campaign SCENARIO makes one)")
        return cls(archive, row)

    @classmethod
    def start(cls, archive, name: str, spec, raw: bytes, seed: int, hours: Optional[float], until_resolved: bool,
              runs: int) -> "Campaign":
        """Make the campaign ``name``, or take up the one there: the same scenario bytes, seed,
        length and stopping rule, or an :class:`InputError` naming ``--name`` (nothing is
        changed). Locks it for this process; ``runs`` raises the number asked for."""
        from .. import __version__
        from ..archive.catalogue import utc_now

        check_name(name)
        for i, d in enumerate(spec.dispersions):
            if d.name in OUTCOME_COLUMNS:
                raise InputError(f"{spec.source}:dispersions[{i}].name", f"{d.name!r} is a column of the campaign's "
                                 f"outcomes ({', '.join(OUTCOME_COLUMNS)}); give the dispersion another name")
        sha = hashlib.sha256(raw).hexdigest()
        dispersions = json.dumps([d.model_dump(exclude_none=True) for d in spec.dispersions]
                                 + [c.model_dump() for c in spec.correlations], sort_keys=True)
        _ensure_tables(archive)
        try:
            existing = cls.open(archive, name, "--name")
        except InputError:
            existing = None
        if existing is not None:
            r = existing.row
            theirs = r["hours"]
            if r["scenario_sha256"] != sha:
                raise InputError("--name", f"campaign {name} ran another scenario file ({r['scenario']}, "
                                           f"{r['scenario_sha256'][:12]}); give another --name")
            if r["seed"] != seed:
                raise InputError("--name", f"campaign {name} ran with --seed {r['seed']}, not {seed}; give the same "
                                           "--seed or another --name")
            if (theirs is None) != (hours is None) or (theirs is not None and abs(theirs - hours) > 1e-9):
                said = "the scenario's length" if theirs is None else f"{theirs:g} hours"
                raise InputError("--name", f"campaign {name} ran runs of {said}; give the same --hours or another --name")
            if bool(r["until_resolved"]) != bool(until_resolved):
                raise InputError("--name", f"campaign {name} ran runs {'stopped' if r['until_resolved'] else 'not stopped'}"
                                           " once resolved; give the same --until-resolved/--to-the-end or another --name")
            camp = existing
        else:
            folder = f"campaigns/{name}"
            (archive.root / folder).mkdir(parents=True, exist_ok=True)
            now = utc_now()
            with archive.transaction() as c:
                c.execute("INSERT OR IGNORE INTO campaigns (name, scenario, scenario_source, scenario_sha256, seed, hours, "
                          "until_resolved, runs, dispersions, version, created_at, updated_at, dir) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (name, spec.name, spec.source, sha, seed, hours, int(until_resolved), runs, dispersions,
                           __version__, now, now, folder))
            camp = cls.open(archive, name, "--name")
        camp.lock()
        scenario_copy = camp.dir / "scenario.toml"
        if not scenario_copy.exists():
            tmp = scenario_copy.with_suffix(".tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, scenario_copy)
        if runs > camp.row["runs"]:
            with archive.transaction() as c:
                c.execute("UPDATE campaigns SET runs = ?, updated_at = ? WHERE name = ?", (runs, utc_now(), name))
            camp.row["runs"] = runs
        camp._tidy()
        return camp

    def lock(self) -> None:
        """Hold the campaign for this process, or refuse (another is running it)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError("--name", f"campaign {self.name} is being run by another process; wait for it, "
                                       "or give another --name") from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _tidy(self) -> None:
        """Remove chunk files no run names (written by a process that died before naming them),
        and leftover temporary files."""
        named = {r[0] for r in self.archive.conn.execute(
            "SELECT DISTINCT chunk FROM campaign_runs WHERE campaign = ? AND chunk IS NOT NULL", (self.name,))}
        for table in TABLES:
            folder = self.dir / table
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                m = re.fullmatch(r"part-(\d+)\.parquet", p.name)
                if p.name.endswith(".tmp") or (m and int(m.group(1)) not in named):
                    p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ runs

    @property
    def raw(self) -> bytes:
        return (self.dir / "scenario.toml").read_bytes()

    def done(self) -> set[int]:
        return {r[0] for r in self.archive.conn.execute("SELECT idx FROM campaign_runs WHERE campaign = ?", (self.name,))}

    def inputs(self, index: int) -> Optional[tuple[int, dict, str]]:
        """``(seed, inputs, digest)`` of a finished run, else ``None``."""
        r = self.archive.conn.execute("SELECT seed, inputs, digest FROM campaign_runs WHERE campaign = ? AND idx = ?",
                                      (self.name, int(index))).fetchone()
        return None if r is None else (r[0], json.loads(r[1]), r[2])

    def add(self, rec: dict) -> bool:
        """Store one finished run (in the catalogue before this returns); False when it was there."""
        from ..archive.catalogue import utc_now

        with self.archive.transaction() as c:
            cur = c.execute("INSERT OR IGNORE INTO campaign_runs (campaign, idx, seed, inputs, class, digest, finished_at, "
                            "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (self.name, rec["index"], rec["seed"], json.dumps(rec["inputs"], sort_keys=True),
                             rec["class"], rec["digest"], utc_now(), json.dumps(rec, ensure_ascii=False)))
        return cur.rowcount == 1

    def pending(self) -> int:
        return self.archive.conn.execute("SELECT COUNT(*) FROM campaign_runs WHERE campaign = ? AND chunk IS NULL",
                                         (self.name,)).fetchone()[0]

    def flush(self) -> int:
        """Write the runs not yet in Parquet as one chunk; return how many."""
        rows = self.archive.conn.execute("SELECT idx, record FROM campaign_runs WHERE campaign = ? AND chunk IS NULL "
                                         "ORDER BY idx", (self.name,)).fetchall()
        if not rows:
            return 0
        from .._arrow import pq

        last = self.archive.conn.execute("SELECT MAX(chunk) FROM campaign_runs WHERE campaign = ?",
                                         (self.name,)).fetchone()[0]
        chunk = (last or 0) + 1
        tables = arrow_tables([json.loads(r[1]) for r in rows])
        for table, data in tables.items():
            folder = self.dir / table
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"part-{chunk:06d}.parquet"
            tmp = folder / f"part-{chunk:06d}.parquet.tmp"
            pq.write_table(data, tmp, compression="zstd")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        with self.archive.transaction() as c:
            c.executemany("UPDATE campaign_runs SET chunk = ?, record = NULL WHERE campaign = ? AND idx = ?",
                          [(chunk, self.name, r[0]) for r in rows])
        return len(rows)

    # ------------------------------------------------------------------ reading

    def frames(self) -> dict:
        """Each table as a pandas DataFrame: the Parquet chunks and the runs not yet written
        to one (a campaign stopped before its last chunk)."""
        from .._arrow import pa, pd, pq

        pending = [json.loads(r[0]) for r in self.archive.conn.execute(
            "SELECT record FROM campaign_runs WHERE campaign = ? AND chunk IS NULL ORDER BY idx", (self.name,))]
        extra = arrow_tables(pending) if pending else {}
        out = {}
        for table in TABLES:
            parts = sorted((self.dir / table).glob("part-*.parquet")) if (self.dir / table).is_dir() else []
            pieces = [pq.read_table(p) for p in parts] + ([extra[table]] if table in extra else [])
            if pieces:
                data = pa.concat_tables(pieces, promote_options="default")
                frame = data.to_pandas()
                out[table] = frame.sort_values(["run"] + (["seq"] if "seq" in frame else [])).reset_index(drop=True)
            else:
                out[table] = pd.DataFrame()
        return out

    def records(self, frames: Optional[dict] = None) -> list[dict]:
        """The runs as the records :func:`issim.campaign.endings.table` sums (:func:`records`)."""
        return records(frames if frames is not None else self.frames())


def records(f: dict) -> list[dict]:
    """A campaign's tables as the records :func:`issim.campaign.endings.table` sums."""
    o = f["outcomes"]
    if o.empty:
        return []
    decisions: dict[int, list] = {}
    for row in f["decisions"].itertuples(index=False):
        decisions.setdefault(row.run, []).append((row.key, row.person, row.choice, bool(row.drawn)))
    mind: dict[int, dict] = {}
    for row in f["mind"].itertuples(index=False):
        mind.setdefault(row.run, {})[row.quantity] = float(row.value)
    return [{"seed": int(r.seed), "run": int(r.run), "class": r["class"], "path": r.path, "ending": r.ending,
             "decisions": decisions.get(int(r.run), []), "quantities": mind.get(int(r.run), {})}
            for _, r in o.iterrows()]


def arrow_tables(records: list[dict]) -> dict:
    """The records as the campaign's tables (pyarrow), one row a run / person / beat / decision / quantity."""
    from .._arrow import pa

    from .endings import _quantities

    outcomes: dict[str, list] = {c: [] for c in OUTCOME_COLUMNS}
    inputs: dict[str, list] = {}
    people: dict[str, list] = {"run": [], "person": [], "fate": [], "cause": []}
    beats: dict[str, list] = {"run": [], "seq": [], "kind": [], "hours": [], "who": [], "whom": []}
    decisions: dict[str, list] = {"run": [], "seq": [], "key": [], "person": [], "choice": [], "drawn": []}
    mind: dict[str, list] = {"run": [], "quantity": [], "value": []}
    for rec in records:
        run = rec["index"]
        for col, value in (("run", run), ("seed", rec["seed"]), ("class", rec["class"]), ("ending", rec["ending"]),
                           ("path", rec["path"]), ("beats", rec["beats"]), ("dead", len(rec["dead"])),
                           ("departed", sum(len(v) for v in rec["departed"].values())), ("resolved", rec["resolved"]),
                           ("hours_run", rec["hours_run"]), ("digest", rec["digest"])):
            outcomes[col].append(value)
        for name, value in rec["inputs"].items():
            inputs.setdefault(name, []).append(value)
        for person, fate in rec["fates"].items():
            people["run"].append(run)
            people["person"].append(person)
            people["fate"].append(fate)
            people["cause"].append(rec["dead"].get(person, "") if fate == "dead" else
                                   next((v for v, aboard in rec["departed"].items() if person in aboard), ""))
        for seq, (kind, hours, who, whom) in enumerate(rec["story"]):
            for col, value in (("run", run), ("seq", seq), ("kind", kind), ("hours", float(hours)), ("who", who),
                               ("whom", whom)):
                beats[col].append(value)
        for seq, (key, person, choice, drawn) in enumerate(rec["decisions"]):
            for col, value in (("run", run), ("seq", seq), ("key", key), ("person", person), ("choice", choice),
                               ("drawn", bool(drawn))):
                decisions[col].append(value)
        for quantity, value in _quantities(rec).items():
            mind["run"].append(run)
            mind["quantity"].append(quantity)
            mind["value"].append(float(value))
    schema = {"run": pa.int64(), "seq": pa.int64(), "seed": pa.int64(), "beats": pa.int64(), "dead": pa.int64(),
              "departed": pa.int64(), "resolved": pa.bool_(), "drawn": pa.bool_(), "hours": pa.float64(),
              "hours_run": pa.float64(), "value": pa.float64()}

    def table(cols: dict) -> "pa.Table":
        return pa.table({c: pa.array(v, type=schema.get(c, pa.string())) for c, v in cols.items()})

    o = table(outcomes)
    for name, values in inputs.items():
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        o = o.append_column(name, pa.array([float(v) for v in values] if numeric else [str(v) for v in values]))
    return {"outcomes": o, "people": table(people), "beats": table(beats), "decisions": table(decisions),
            "mind": table(mind)}


# ------------------------------------------------------------------------ reading back


class CampaignTables:
    """A stored campaign read back (:func:`open_campaign`): ``outcomes``, ``people``, ``beats``,
    ``decisions`` and ``mind`` as pandas DataFrames, ``info`` its catalogue row,
    :meth:`query` for SQL over them (DuckDB) and :meth:`summary` for the sums."""

    def __init__(self, camp: Campaign):
        self.campaign = camp
        self.info = dict(camp.row)
        self._frames = camp.frames()
        for table in TABLES:
            setattr(self, table, self._frames[table])

    @property
    def inputs(self) -> list[str]:
        """The dispersed inputs' names (columns of ``outcomes``)."""
        return [d["name"] for d in json.loads(self.info["dispersions"]) if "target" in d]

    def summary(self, top: int = 10) -> dict:
        from .stats import summary

        return summary(self._frames, self.inputs, top)

    def query(self, sql: str):
        """The result of ``sql`` (DuckDB) over the tables, as a pandas DataFrame."""
        return query(self.campaign, sql, self._frames)


def open_campaign(name: str, archive=None) -> CampaignTables:
    """A stored campaign by name (``archive``: a folder or an open :class:`~issim.archive.Archive`;
    default ``$ISSIM_HOME``, else ./runs)."""
    from ..archive import Archive

    store = archive if isinstance(archive, Archive) else Archive.open(archive)
    return CampaignTables(Campaign.open(store, name))


def query(camp: Campaign, sql: str, frames: Optional[dict] = None):
    """``sql`` over the campaign's tables with DuckDB: the Parquet chunks as they are (no run
    not yet in a chunk: see :meth:`Campaign.pending`), or ``frames`` when given."""
    try:
        import duckdb
    except ImportError:
        raise InputError("SQL", "duckdb is not installed: pip install duckdb") from None
    con = duckdb.connect()
    try:
        for table in TABLES:
            if frames is not None:
                if not frames[table].empty:
                    con.register(table, frames[table])
                continue
            parts = sorted((camp.dir / table).glob("part-*.parquet")) if (camp.dir / table).is_dir() else []
            if parts:
                files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{files}], union_by_name = true)")
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            text = " ".join(str(exc).split())
            raise InputError("SQL", f"{text[:300]} (tables: {', '.join(TABLES)})") from None
    finally:
        con.close()
