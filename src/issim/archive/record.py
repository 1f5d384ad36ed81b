"""A stored run, read back: its catalogue record, telemetry, ground track, events and commands.

::

    import issim
    run = issim.open_run("last")                      # or an id: issim.open_run(12)
    print(run.scenario, run.seed, run.status, run.outcome)
    co2 = run.telemetry("atm.*.pp_co2_pa", start="2025-03-10T06:00:00Z")   # pandas, Pa
    run.events().query("kind == 'command'")
    run.commands().groupby("result").size()

Tables come as :class:`pandas.DataFrame`. Telemetry is indexed by ``t`` (UTC timestamps,
millisecond resolution) with one column per channel, in the SI units of the telemetry
dictionary (:meth:`RunRecord.channels`).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

from ..errors import InputError

INPUTS = "inputs.json"  # a campaign run's drawn inputs, beside its scenario.toml

if TYPE_CHECKING:
    from .._arrow import pd

    from .catalogue import Archive



def _time_ms(value, source: str) -> Optional[int]:
    """UTC milliseconds from an int (ms), ISO 8601 text ending in Z, or a datetime/Timestamp."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(source, "a time is UTC milliseconds, ISO 8601 text or a datetime")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        from ..times import parse_iso

        return parse_iso(value, source)
    if isinstance(value, datetime):
        from .._arrow import pd

        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            raise InputError(source, "give a time zone (UTC) with the datetime")
        return int(ts.tz_convert("UTC").value // 1_000_000)
    raise InputError(source, f"a time is UTC milliseconds, ISO 8601 text or a datetime, not {type(value).__name__}")


@dataclass(frozen=True)
class RunRecord:
    """One run in the archive, as the catalogue lists it; the methods read its data."""

    id: int
    scenario: str
    title: str
    seed: int
    version: str
    status: str
    outcome: str
    sim_start: str
    sim_end: Optional[str]
    sim_planned_end: str
    frames: Optional[int]
    started_at: str
    finished_at: Optional[str]
    scenario_source: str
    scenario_sha256: str
    event_log_sha256: Optional[str]
    error: str
    path: Path
    outcome_details: Optional[dict] = field(default=None, repr=False)
    archive: "Archive" = field(default=None, repr=False, compare=False)
    parent_id: Optional[int] = None  # a branch: the run it was forked from, when, and what it changed
    fork_at: Optional[str] = None
    changes: str = ""

    @classmethod
    def from_row(cls, archive: "Archive", row: dict) -> "RunRecord":
        return cls(
            id=row["id"], scenario=row["scenario"], title=row["title"], seed=row["seed"], version=row["version"],
            status=row["status"], outcome=row["outcome"], sim_start=row["sim_start"], sim_end=row["sim_end"],
            sim_planned_end=row["sim_planned_end"], frames=row["frames"], started_at=row["started_at"],
            finished_at=row["finished_at"], scenario_source=row["scenario_source"],
            scenario_sha256=row["scenario_sha256"], event_log_sha256=row["event_log_sha256"], error=row["error"],
            path=archive.root / row["dir"], outcome_details=row["outcome_json"], archive=archive,
            parent_id=row.get("parent_id"), fork_at=row.get("fork_at"), changes=row.get("changes") or "",
        )

    @property
    def change_details(self) -> dict:
        """What a branch changed, or the policies a run was started with, as the catalogue
        keeps them: ``{"decisions": {key: choice}, "policies": {person: policy}}`` (either may
        be missing; ``{}`` for none); a played game (``issim play``) has ``"player"``: the
        person, from when, how it ended and the commands they gave."""
        try:
            out = json.loads(self.changes) if self.changes else {}
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}

    @property
    def change_summary(self) -> str:
        """:attr:`change_details` in a line: ``d3_eva=refuse; Kira Foster as idle``."""
        c = self.change_details
        player = c.get("player")
        played = [f"{player.get('person')} played"] if isinstance(player, dict) else []
        return "; ".join(played + [f"{k}={v}" for k, v in c.get("decisions", {}).items()]
                         + [f"{p} as {v}" for p, v in c.get("policies", {}).items()])

    @property
    def player(self) -> str:
        """The crew member a person played in this run (``issim play``), or ``""``."""
        player = self.change_details.get("player")
        return str(player.get("person", "")) if isinstance(player, dict) else ""

    @property
    def name(self) -> str:
        """How commands name this run: ``run 12``."""
        return f"run {self.id}"

    def to_json(self) -> dict:
        """The catalogue record as JSON-ready data."""
        out = {k: getattr(self, k) for k in (
            "id", "scenario", "title", "seed", "version", "status", "outcome", "sim_start", "sim_end",
            "sim_planned_end", "frames", "started_at", "finished_at", "scenario_source", "scenario_sha256",
            "event_log_sha256", "error", "parent_id", "fork_at", "changes")}
        out["path"] = str(self.path)
        out["outcome_details"] = self.outcome_details
        return out

    # ------------------------------------------------------------------ files

    def _file(self, name: str) -> Path:
        path = self.path / name
        if not path.is_file():
            if self.status != "complete":
                raise InputError(self.name, f"is {self.status}: its {name} was never stored"
                                            + (f" ({self.error})" if self.error else ""))
            raise InputError(str(path), "missing from the archive: the run's folder was moved or deleted")
        return path

    def scenario_spec(self):
        """``(the scenario as this run ran it, its file's bytes, the inputs written into it)``:
        from the run's own ``scenario.toml`` and, for a campaign's run, the dispersed inputs it
        drew (``inputs.json``, ``{}`` for other runs). Raises :class:`~issim.errors.InputError`
        when the copy is missing or no longer reads."""
        from ..scenario import parse_scenario

        raw_path = self.path / "scenario.toml"
        if not raw_path.exists():
            raise InputError("RUN", f"{self.name} has no copy of its scenario ({raw_path} is missing), so it cannot "
                                    "be replayed")
        inputs = self.inputs()
        raw = raw_path.read_bytes()
        return parse_scenario(raw, self.scenario_source or str(raw_path), inputs or None), raw, inputs

    def inputs(self) -> dict:
        """The dispersed inputs a campaign's run drew (``{name: value}``), ``{}`` for other runs."""
        path = self.path / INPUTS
        if not path.exists():
            return {}
        try:
            inputs = json.loads(path.read_text())
        except ValueError as exc:
            raise InputError(str(path), f"is not JSON ({exc})") from None
        if not isinstance(inputs, dict):
            raise InputError(str(path), "is not a table of inputs")
        return inputs

    def summary(self) -> dict:
        """The run's summary (the ``issim run --json`` object, without the event log)."""
        return json.loads(self._file("summary.json").read_text())

    def world(self) -> dict:
        """The station as the run had it: volumes, hatches, ports, crew, systems, factions, sites."""
        return json.loads(self._file("world.json").read_text())

    def channels(self) -> "pd.DataFrame":
        """The telemetry dictionary: key, name, unit, limits, source, one row per channel."""
        from .._arrow import pd, pq

        from .tables import channels_from_schema

        meta = channels_from_schema(pq.read_schema(str(self._file("telemetry.parquet"))))
        return pd.DataFrame([{k: v for k, v in c.items() if k not in ("array", "index")} for c in meta])

    def channel_meta(self) -> list[dict]:
        from .._arrow import pq

        from .tables import channels_from_schema

        return channels_from_schema(pq.read_schema(str(self._file("telemetry.parquet"))))

    def telemetry(self, channels: "str | Iterable[str] | None" = None, start=None, end=None) -> "pd.DataFrame":
        """Recorded telemetry as a DataFrame indexed by ``t`` (UTC), one column per channel.

        ``channels`` is a key, a pattern (``atm.*.pp_co2_pa``) or a list of them; ``None``
        means all. ``start`` and ``end`` (inclusive) are UTC milliseconds, ISO 8601 text
        or timezone-aware datetimes. Values are in the channel's SI unit, exactly as the
        run recorded them.
        """
        from .._arrow import pq

        path = self._file("telemetry.parquet")
        names = [n for n in pq.read_schema(str(path)).names if n != "t_ms"]
        columns = self._select(names, channels)
        t0, t1 = _time_ms(start, "start"), _time_ms(end, "end")
        filters = [("t_ms", ">=", t0)] if t0 is not None else []
        filters += [("t_ms", "<=", t1)] if t1 is not None else []
        table = pq.read_table(str(path), columns=["t_ms", *columns], filters=filters or None)
        df = table.to_pandas()
        df.index = _utc_index(df.pop("t_ms"))
        return df

    def _select(self, names: list[str], wanted) -> list[str]:
        if wanted is None:
            return names
        patterns = [wanted] if isinstance(wanted, str) else list(wanted)
        chosen: list[str] = []
        for p in patterns:
            hits = [n for n in names if fnmatch.fnmatchcase(n, p)] if any(ch in p for ch in "*?[") else \
                ([p] if p in names else [])
            if not hits:
                import difflib

                near = difflib.get_close_matches(p, names, n=3)
                hint = f"; did you mean {', '.join(near)}?" if near else "; run.channels() lists them"
                raise InputError(str(p), f"no such channel in {self.name}{hint}")
            chosen += [h for h in hits if h not in chosen]
        return chosen

    def track(self) -> "pd.DataFrame":
        """The ground track at the recorder's rate: ``lat_deg``, ``lon_deg``, ``alt_km``, ``sunlit``."""
        from .._arrow import pq

        df = pq.read_table(str(self._file("track.parquet"))).to_pandas()
        df.index = _utc_index(df.pop("t_ms"))
        return df

    # ------------------------------------------------------------------ catalogue

    def event_log(self) -> list[dict]:
        """The event log as the run's JSON records (what ``event_log_sha256`` digests)."""
        with self.archive.guard():
            rows = self.archive.conn.execute("SELECT entry FROM events WHERE run_id = ? ORDER BY seq",
                                             (self.id,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def event_log_entries(self) -> list[str]:
        """The event log's entries as the canonical JSON text they are stored (and digested) as."""
        with self.archive.guard():
            rows = self.archive.conn.execute("SELECT entry FROM events WHERE run_id = ? ORDER BY seq",
                                             (self.id,)).fetchall()
        return [r[0] for r in rows]

    def events(self) -> "pd.DataFrame":
        """The event log: ``t`` (UTC), ``t_ms``, ``kind`` and the entries' details as columns."""
        from .._arrow import pd

        with self.archive.guard():
            rows = self.archive.conn.execute("SELECT t_ms, entry FROM events WHERE run_id = ? ORDER BY seq",
                                             (self.id,)).fetchall()
        records = []
        for t_ms, entry in rows:
            d = json.loads(entry)
            d.pop("t", None)
            records.append({"t_ms": t_ms, **{k: _cell(v) for k, v in d.items()}})
        df = pd.DataFrame.from_records(records, columns=None if records else ["t_ms", "kind"])
        df.insert(0, "t", _utc_index(df["t_ms"]))
        return df

    def commands(self) -> "pd.DataFrame":
        """The command history: every command tried, by whom, from where, and what became of it."""
        from .._arrow import pd

        from .tables import COMMAND_FIELDS

        with self.archive.guard():
            rows = self.archive.conn.execute(
                f"SELECT {', '.join(COMMAND_FIELDS)} FROM commands WHERE run_id = ? ORDER BY seq",
                (self.id,)).fetchall()
        df = pd.DataFrame.from_records(rows, columns=list(COMMAND_FIELDS))
        df["args"] = [json.loads(a) for a in df["args"]]
        df.insert(0, "t", _utc_index(df["t_ms"]))
        return df


def _utc_index(t_ms) -> "pd.DatetimeIndex":
    """UTC timestamps at millisecond resolution from integer milliseconds."""
    import numpy as np
    from .._arrow import pd

    values = np.asarray(t_ms, dtype=np.int64).astype("datetime64[ms]")
    return pd.DatetimeIndex(values, name="t").tz_localize("UTC")


def _cell(value):
    """Details that are lists of pairs (``args``) become dicts; other lists stay lists."""
    if isinstance(value, list) and value and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                 for p in value):
        return {k: _cell(v) for k, v in value}
    return value
