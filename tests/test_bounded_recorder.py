"""A stored run keeps one chunk of telemetry in memory and spills the rest (issue 11, item 4).

Chunks are made small here (:data:`CHUNK`) so that a few simulated hours spill a dozen of
them. What a stored run holds is checked against the same run kept wholly in memory (the
engine is deterministic), and the summary, worked out a chunk at a time, against the
formulas applied to the whole history at once.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from issim.archive import Archive
from issim.archive.chunks import SpilledChunk
from issim.physics.gas import CO2, O2, PA_PER_MMHG
from issim.runner import Runner
from issim.scenario import summarize
from issim.sim.telemetry import Recorder
from issim.times import format_iso

CHUNK = 64  # samples a chunk: standoff's 12 hours (721 samples) make 11 full chunks and an open one
HOURS = 12


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(Recorder, "CHUNK_ROWS", CHUNK)


@pytest.fixture
def archive(tmp_path):
    return Archive.open(tmp_path / "runs", create=True)


def _in_memory(scenario="standoff", **kw) -> Runner:
    run = Runner(scenario, hours=HOURS, **kw)
    run.run()
    return run


def _plain(summary: dict) -> dict:
    """A summary as it is stored (JSON, without the event log)."""
    return json.loads(json.dumps({k: v for k, v in summary.items() if k != "events"},
                                 default=lambda v: v.tolist() if isinstance(v, np.ndarray) else v.item()))


def test_a_stored_run_keeps_one_chunk_in_memory(archive):
    run = Runner("standoff", hours=HOURS)
    rec = run.sim.recorder
    seen = []

    def watch(frames: int) -> None:
        files = list((archive.root / ".tmp").glob("*/chunks/*.npy.zst"))
        seen.append((rec.chunks_in_memory, len(files)))

    with archive.recording(run) as recording:
        recording.run(progress=watch)
    assert all(n <= 1 for n, _ in seen) and rec.most_chunks_in_memory == 1
    assert seen[-1][1] == len(rec) // CHUNK  # every full chunk went to a file
    assert not list((archive.root / ".tmp").iterdir())  # and the files went once the run was stored

    alone = _in_memory()
    assert alone.sim.recorder.most_chunks_in_memory == len(alone.sim.recorder) // CHUNK + 1  # not stored: all kept


def test_the_stored_telemetry_is_the_in_memory_telemetry_bit_for_bit(archive):
    stored = Runner("standoff", hours=HOURS).store(archive)
    alone = _in_memory()
    df = stored.telemetry()
    t_ms = df.index.as_unit("ms").asi8
    assert len(df) == len(alone.sim.recorder) == HOURS * 60 + 1
    for key in alone.sim.recorder.channels:
        t, values = alone.sim.telemetry(key)
        assert np.array_equal(t_ms, t)
        assert df[key].to_numpy().tobytes() == values.tobytes(), key
    assert stored.event_log_sha256 == alone.sim.event_log_sha256()
    assert pq.ParquetFile(stored.path / "telemetry.parquet").num_row_groups == len(df) // CHUNK + 1  # a chunk each
    track = stored.track()
    assert np.array_equal(track.index.as_unit("ms").asi8, t_ms)


def test_the_summary_a_chunk_at_a_time_is_the_summary_of_the_whole(archive, monkeypatch):
    run = Runner("standoff", hours=HOURS)
    read = []  # the columns read back from the chunk files
    load = SpilledChunk.load
    monkeypatch.setattr(SpilledChunk, "load", lambda self, into=None, columns=None: (
        read.append(columns), load(self, into, columns))[1])
    with archive.recording(run) as rec:
        rec.run()
    stored = _plain(rec.summary)
    # what the summary takes from the history (the air, the orbit, the control map's changes) was
    # folded in as each chunk was spilled: nothing was read back from the chunk files for it
    assert len(run.sim.recorder.full_chunks) == 11 and read == []
    alone = _in_memory()
    assert stored == _plain(alone.summary())  # spilled chunks or chunks in memory: the same numbers

    # the formulas of the summary on the whole history at once
    recorder, sim = alone.sim.recorder, alone.sim

    def stats(values):
        return {"min": round(float(values.min()), 4), "max": round(float(values.max()), 4),
                "mean": round(float(values.mean()), 4)}

    pp = recorder.block("atm.pp_pa")
    for i, v in enumerate(sim.world.volumes):
        assert stored["module_air"][v.id] == {"pressure_kpa": stats(pp.sum(axis=2)[:, i] / 1000.0),
                                              "pp_o2_kpa": stats(pp[:, i, O2] / 1000.0),
                                              "pp_co2_mmhg": stats(pp[:, i, CO2] / PA_PER_MMHG)}, v.id
    assert stored["orbit"]["alt_km"] == stats(recorder.block("orbit.alt_km")[:, 0])
    assert stored["orbit"]["mean_alt_km"] == stats(recorder.block("orbit.mean_alt_km")[:, 0])

    custody = next(s for s in sim.subsystems if s.name == "control")
    block, times = recorder.block("control.map"), recorder.t_ms
    whole = {}
    for s, key in enumerate(custody.systems):
        rows = block[:, s, :]
        changes = [0] + [int(i) + 1 for i in np.flatnonzero((rows[1:] != rows[:-1]).any(axis=1))]
        whole[key] = [[format_iso(times[i]), [f for j, f in enumerate(custody.factions) if rows[i, j]]]
                      for i in changes]
    assert stored["outcome"]["control_over_time"] == whole
    assert alone.outcome()["control_over_time"] == whole  # (the outcome alone folds the map alone)
    assert any(len(changes) > 1 for changes in whole.values())  # the map did change, across chunks


def test_a_snapshot_goes_back_over_spilled_chunks(archive):
    run = Runner("standoff", hours=HOURS)
    sim = run.sim
    key = "atm.zvezda.pp_co2_pa"
    with archive.recording(run) as rec:
        rec.run(sim.start_ms + 3 * 3_600_000)
        snap = sim.snapshot()
        assert not any(isinstance(c, tuple) for c in snap.recorder[0])  # the snapshot names files, not rows
        rec.run(sim.start_ms + 8 * 3_600_000)
        first = sim.telemetry(key)
        later = sim.snapshot()
        sim.restore(snap)  # back five hours: the chunks since go to new files, telemetry.parquet is written anew
        rec.run(sim.start_ms + 8 * 3_600_000)
        again = sim.telemetry(key)
        assert np.array_equal(first[0], again[0]) and first[1].tobytes() == again[1].tobytes()
        other = Runner("standoff", hours=HOURS).sim  # a snapshot restores into another simulation, in memory
        other.restore(later)
        assert other.telemetry(key)[1].tobytes() == first[1].tobytes()
        rec.run()
    stored = archive.get(rec.run_id)
    alone = _in_memory()
    assert stored.event_log_sha256 == alone.sim.event_log_sha256()
    assert _plain(rec.summary) == _plain(alone.summary())  # the air folded at the spills went back with the restore
    assert stored.telemetry(key)[key].to_numpy().tobytes() == alone.sim.telemetry(key)[1].tobytes()
    with pytest.raises(FileNotFoundError, match="read the run's telemetry from the archive"):
        sim.telemetry(key)  # the chunk files went with the recording


def test_a_chunk_file_reads_without_issim(tmp_path):
    from numpy.lib import format as npy
    import pyarrow as pa

    from issim.archive.chunks import ChunkFolder

    rows = np.arange(CHUNK * 7, dtype=np.float64).reshape(CHUNK, 7) / 3.0
    t_ms = np.arange(CHUNK, dtype=np.int64) * 60_000
    chunk = ChunkFolder(tmp_path / "chunks").keep(t_ms, rows)
    assert isinstance(chunk, SpilledChunk) and chunk.path.name == "000001.npy.zst"
    with pa.CompressedInputStream(str(chunk.path), "zstd") as f:  # two .npy arrays in one zstd stream
        assert np.array_equal(npy.read_array(f), t_ms)
        assert np.array_equal(npy.read_array(f), rows.T)
    t2, rows2 = chunk.load()
    assert np.array_equal(t2, t_ms) and rows2.tobytes(order="C") == rows.tobytes()
    assert not list((tmp_path / "chunks").glob("*.part"))


def test_a_forked_child_writing_its_recorder_leaves_the_parents_alone():
    """The chunk buffers are private memory: a child forked mid-run (a worker pool's fork)
    that records on writes its own copy, not the parent's telemetry."""
    import os

    run = Runner("nominal", hours=2)
    run.run()  # 121 samples: two full chunks of CHUNK and one open
    before = run.telemetry("atm.zvezda.pp_co2_pa")[1].copy()
    recorder = run.sim.recorder
    pid = os.fork()
    if pid == 0:  # the child: overwrite every buffer it holds, then leave at once
        try:
            for _, rows in recorder.full_chunks:
                rows[:] = -1.0
            recorder._rows[:] = -1.0
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    after = run.telemetry("atm.zvezda.pp_co2_pa")[1]
    assert len(after) == 121 and np.array_equal(after, before)
    assert not np.any(after == -1.0)
