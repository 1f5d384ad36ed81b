"""What a server shows: a live simulation, or the replay of a stored run.

Both answer the same questions, so the app does not care which it has: the channels
(their dictionary entries), the time now, each channel's value now, a channel's recorded
history, whether each channel is stale, the world (volumes, hatches, crew), the control
map, the event log, the command history and the ground track. The app's pacing loop calls
:meth:`step` to move on one frame (live: one simulation frame; replay: one recorded sample).

**Staleness.** A channel is stale when the ground could not be receiving it: each channel
is carried by the segment it belongs to (:meth:`~issim.serve.dictionary.Layout.place`), and
a segment's channels go stale when it has no contact with its ground (``comms.<SEG>.contact``,
which the comms subsystem computes from its links). The whole station's channels are stale
only when neither segment has contact; a person's, when the segment they are in has none.
"""

from __future__ import annotations

import json

import numpy as np

from ..archive.tables import channel_meta, entry_json
from ..errors import InputError
from ..times import parse_iso
from ..sim.world import SEGMENTS
from .dictionary import CREW, STATION, Layout


class Source:
    """The common part: the dictionary's inputs, and staleness worked out from them."""

    mode = ""
    metas: list[dict]
    layout: Layout
    title: str = ""
    scenario: str = ""

    def _index(self) -> None:
        self.keys = {m["key"]: m for m in self.metas}
        self.feeds: dict[str, str] = {}  # channel -> what carries it: USOS, ROS, Station or crew.<slug>
        for m in self.metas:
            root, _, _ = self.layout.place(m["key"])
            self.feeds[m["key"]] = f"crew.{m['key'].split('.')[1]}" if root == CREW else root
        self.contact_keys = {s: f"comms.{s}.contact" for s in SEGMENTS if f"comms.{s}.contact" in self.keys}

    # Overridden by each source.
    t_ms: int
    start_ms: int
    end_ms: int
    period_ms: int  # how much simulated time a step moves on

    def value(self, key: str) -> float:
        raise NotImplementedError

    def history(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        raise NotImplementedError

    def step(self) -> bool:
        raise NotImplementedError

    def stale_feeds(self) -> dict[str, bool]:
        """``{feed: stale}`` now, for every feed of the dictionary."""
        if not self.contact_keys:
            return {f: False for f in set(self.feeds.values())}
        contact = {s: bool(self.value(k)) for s, k in self.contact_keys.items()}
        out = {s: not contact.get(s, True) for s in SEGMENTS}
        out[STATION] = not any(contact.values())
        seg_of = [v[2] for v in self.layout.volumes]
        for feed in set(self.feeds.values()):
            if feed.startswith("crew."):
                where = self.keys.get(f"{feed}.location")
                volume = int(self.value(where["key"])) if where is not None else -1
                out[feed] = not contact.get(seg_of[volume], False) if 0 <= volume < len(seg_of) else out[STATION]
        return out

    def is_stale(self, key: str) -> bool:
        return self.stale_feeds().get(self.feeds[key], False)

    def info(self) -> dict:
        return {"mode": self.mode, "scenario": self.scenario, "title": self.title,
                "start_ms": self.start_ms, "end_ms": self.end_ms, "period_ms": self.period_ms}

    world: dict  # the station as drawn: issim.archive.world.world_record's keys

    def control_map(self) -> dict[str, list[str]]:
        """``{system: [factions that could command it now]}``, read from the control map's
        channels (``control.<system>.<faction>``), so a replay answers as the live run did."""
        out = {}
        for system in self.world.get("systems", ()):
            keys = [(f, f"control.{system}.{f}") for f in self.world.get("factions", ())]
            out[system] = [f for f, k in keys if k in self.keys and self.value(k) >= 0.5]
        return out

    def events(self, start: int, end: int) -> list[dict]:
        """The event log's entries (each with its ``timestamp``, UTC ms) in ``[start, end]``."""
        raise NotImplementedError

    def new_events(self) -> list[dict]:
        """The entries logged since the last call (the story feed's next lines)."""
        raise NotImplementedError

    def command_history(self) -> list[dict]:
        """Every command that reached the pipeline up to now, oldest first
        (:func:`issim.control.pipeline.history`'s records)."""
        raise NotImplementedError

    def track(self) -> dict[str, np.ndarray]:
        """The ground track so far (live) or whole (replay), at the recorder's rate:
        ``t_ms``, ``lat_deg``, ``lon_deg`` (geodetic, degrees), ``alt_km``, ``sunlit``."""
        raise NotImplementedError

    def position(self) -> dict:
        """Where the station is now: ``{timestamp, lat_deg, lon_deg, alt_km, sunlit}``."""
        raise NotImplementedError


class LiveSource(Source):
    """A simulation run as it goes, through the one run façade (:class:`issim.runner.Runner`)."""

    mode = "live"

    def __init__(self, runner):
        self.runner = runner
        sim = runner.sim
        self.layout = Layout.of(sim)
        self.metas = [channel_meta(c) for c in sim.channels()]
        self.title = runner.scenario.scenario.title
        self.scenario = runner.scenario.name
        self.start_ms, self.end_ms, self.period_ms = sim.start_ms, runner.end_ms, sim.dt_ms
        self._channels = sim.recorder.channels
        from ..archive.world import world_record

        self.world = world_record(sim)
        self._told = 0  # log entries already handed out by new_events
        from ..archive.recording import TrackWatch

        self._environment = sim.environment  # the ground track is kept as a stored run keeps it
        sim.environment = self._watch = TrackWatch(sim.environment, sim.recorder.every_frames)
        self._index()

    @property
    def t_ms(self) -> int:
        return self.runner.sim.state.t_ms

    @property
    def finished(self) -> bool:
        return self.runner.finished

    def step(self) -> bool:
        if self.finished:
            return False
        self.runner.step()
        return True

    def value(self, key: str) -> float:
        return self._channels[key].read(self.runner.sim.state)

    def history(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        return self.runner.sim.telemetry(key)

    @staticmethod
    def _entry(t_ms: int, kind: str, details) -> dict:
        return {"timestamp": t_ms, **json.loads(entry_json(t_ms, kind, details))}

    def events(self, start: int, end: int) -> list[dict]:
        return [self._entry(t, kind, d) for t, kind, d in self.runner.sim.state.log if start <= t <= end]

    def info(self) -> dict:
        return {**super().info(), "seed": self.runner.sim.seed}

    def command_history(self) -> list[dict]:
        from ..control.pipeline import history

        return history(self.runner.sim.state)

    def track(self) -> dict[str, np.ndarray]:
        return self._watch.columns()

    def position(self) -> dict:
        env = self._environment.at(self.runner.sim.state)
        return {"timestamp": env.t_ms, "lat_deg": env.lat_deg, "lon_deg": env.lon_deg, "alt_km": env.alt_km,
                "sunlit": env.sunlit}

    def new_events(self) -> list[dict]:
        log = self.runner.sim.state.log
        new = [self._entry(t, kind, d) for t, kind, d in log[self._told:]]
        self._told = len(log)
        return new


class ReplaySource(Source):
    """A stored run read back from its Parquet telemetry; a step is one recorded sample.

    The channels' columns are read from the file when first asked for and kept. Where the
    run's folder holds its copy of the scenario, the station is rebuilt from it to place the
    channels (which module each machine is in, which arrays are booleans); else from the
    ``world.json`` the run stored, with what that file says.
    """

    mode = "replay"

    def __init__(self, record):
        from .._arrow import pq

        if record.status != "complete":
            raise InputError("RUN", f"{record.name} is {record.status}: only a complete stored run can be replayed")
        self.record = record
        self.path = record.path / "telemetry.parquet"
        if not self.path.is_file():
            raise InputError(record.name, "its telemetry.parquet is missing from the archive")
        self._file = pq.ParquetFile(str(self.path))
        self.metas = record.channel_meta()
        self.t = self._file.read(columns=["t_ms"]).column("t_ms").to_numpy()
        if len(self.t) == 0:
            raise InputError(record.name, "recorded no telemetry, so there is nothing to replay")
        self._columns: dict[str, np.ndarray] = {}
        self.layout = self._layout(record)
        self.title, self.scenario = record.title, record.scenario
        self.start_ms, self.end_ms = int(self.t[0]), int(self.t[-1])
        self.period_ms = int(np.median(np.diff(self.t))) if len(self.t) > 1 else 1
        self.cursor = 0
        self.world = json.loads((record.path / "world.json").read_text())
        self.log = [{"timestamp": parse_iso(e["t"], "t"), **e} for e in record.event_log()]
        self._log_t = np.array([e["timestamp"] for e in self.log], dtype=np.int64)
        self._told_t = self.t_ms  # new_events hands out what lies after this
        from ..archive.tables import COMMAND_FIELDS

        self._commands = record.commands()[list(COMMAND_FIELDS)].to_dict("records")
        df = record.track()
        self._track = {"t_ms": df.index.as_unit("ms").asi8.astype(np.int64),
                       **{k: df[k].to_numpy() for k in ("lat_deg", "lon_deg", "alt_km", "sunlit")}}
        self._index()

    @staticmethod
    def _layout(record) -> Layout:
        from ..scenario import build_simulation

        try:
            spec = record.scenario_spec()[0]
            return Layout.of(build_simulation(spec, seed=record.seed))
        except (OSError, InputError, ValueError, KeyError):
            world = json.loads((record.path / "world.json").read_text())
            ids = [v["id"] for v in world["volumes"]]
            return Layout(volumes=tuple((v["id"], v["name"], v["segment"]) for v in world["volumes"]),
                          hatches={h["id"]: h["a"] for h in world["hatches"] if h["a"] in ids},
                          crew=tuple((c["name"], c["slug"]) for c in world["crew"]))

    def column(self, key: str) -> np.ndarray:
        col = self._columns.get(key)
        if col is None:
            col = self._columns[key] = self._file.read(columns=[key]).column(key).to_numpy().astype(np.float64)
        return col

    @property
    def t_ms(self) -> int:
        return int(self.t[self.cursor])

    @property
    def finished(self) -> bool:
        return self.cursor >= len(self.t) - 1

    def step(self) -> bool:
        if self.finished:
            return False
        self.cursor += 1
        return True

    def seek(self, t_ms: int) -> None:
        """Put the cursor on the last sample at or before ``t_ms`` (within the run)."""
        if not self.start_ms <= t_ms <= self.end_ms:
            raise InputError("t", f"{t_ms} is outside the run ({self.start_ms} to {self.end_ms})")
        self.cursor = int(np.searchsorted(self.t, t_ms, side="right")) - 1
        self._told_t = self.t_ms  # a seek is no story: the feed goes on from here

    def value(self, key: str) -> float:
        return float(self.column(key)[self.cursor])

    def history(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        return self.t, self.column(key)

    def command_history(self) -> list[dict]:
        return [c for c in self._commands if c["t_ms"] <= self.t_ms]

    def track(self) -> dict[str, np.ndarray]:
        return self._track

    def position(self) -> dict:
        """The last track point at or before the replay's time."""
        tr = self._track
        i = max(0, int(np.searchsorted(tr["t_ms"], self.t_ms, side="right")) - 1)
        return {"timestamp": int(tr["t_ms"][i]), **{k: tr[k][i].item() for k in ("lat_deg", "lon_deg", "alt_km",
                                                                              "sunlit")}}

    def events(self, start: int, end: int) -> list[dict]:
        i0, i1 = np.searchsorted(self._log_t, start, "left"), np.searchsorted(self._log_t, end, "right")
        return self.log[i0:i1]

    def new_events(self) -> list[dict]:
        i0 = np.searchsorted(self._log_t, self._told_t, "right")
        i1 = np.searchsorted(self._log_t, self.t_ms, "right")
        self._told_t = self.t_ms
        return self.log[i0:i1]

    def info(self) -> dict:
        return {**super().info(), "run": self.record.id, "seed": self.record.seed}
