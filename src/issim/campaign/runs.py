"""One run of a campaign, and the engines that run many: worker processes, or Ray.

:func:`run_task` is the worker: a task is plain data (the scenario's bytes and source, the
run's index, seed and drawn inputs, its length and stopping rule), so it travels to a
process of this machine or to a Ray task on another as it is. It returns the run's record:
what ``issim endings`` keeps of a run (:func:`issim.campaign.endings.record`) and, for the
campaign, the inputs, the event log's digest, the story's beats with their times, and each
person's fate.

:func:`stream` runs tasks on an engine and yields the records as they finish: ``local``
(worker processes, :func:`issim.campaign.endings.pool_map`) or ``ray`` (``ray.init`` at an
address, a local Ray without one; the same :func:`run_task` as Ray tasks). Both give the
same record for the same task: the run depends on its task alone.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ..errors import InputError

ENGINES = ("local", "ray")
HOUR_MS = 3_600_000


def task(raw: bytes, source: str, index: int, seed: int, inputs: dict, length_ms: Optional[int],
         until_resolved: bool) -> dict:
    return {"raw": raw, "source": source, "index": int(index), "seed": int(seed), "inputs": dict(inputs),
            "length_ms": length_ms, "until_resolved": bool(until_resolved)}


def run_task(t: dict) -> dict:
    """One campaign run from its task: its record (see the module)."""
    from ..scenario.load import parse_scenario
    from ..times import parse_iso
    from .endings import record

    spec = parse_scenario(t["raw"], t["source"], t["inputs"] or None)
    rec, run = record(spec, t["seed"], t["length_ms"], t["until_resolved"])
    sim, o = run.sim, run.last_outcome
    start = sim.start_ms
    departed = {p for aboard in o["departed"].values() for p in aboard}
    rec.update({
        "index": t["index"],
        "inputs": t["inputs"],
        "digest": sim.event_log_sha256(),
        "hours_run": (sim.state.t_ms - start) / HOUR_MS,
        "story": [[b["kind"], round((parse_iso(b["t"], "t") - start) / HOUR_MS, 4), b.get("who") or "",
                   b.get("whom") or ""] for b in o["story"]],
        "fates": {p: ("dead" if p in o["dead"] else "departed" if p in departed else "aboard") for p in sim.people},
    })
    return rec


def _ray_run(raw: bytes, t: dict) -> dict:
    return run_task({**t, "raw": raw})


def stream(tasks: list[dict], engine: str = "local", workers: int = 2,
           address: Optional[str] = None) -> Iterator[dict]:
    """The records of ``tasks`` as they finish, run on ``engine``. Closing the generator
    (or Ctrl-C) stops the workers (a Ray cluster given by address keeps running)."""
    if engine == "local":
        from .endings import pool_map

        yield from pool_map(run_task, tasks, workers)
    elif engine == "ray":
        yield from _ray_stream(tasks, workers, address)
    else:
        raise InputError("--engine", f"no engine {engine!r}; engines: {', '.join(ENGINES)}")


def connect_ray(address: Optional[str], workers: int):
    """``ray`` after ``ray.init``: at ``address`` (an existing cluster), else a local Ray of
    ``workers`` CPUs. A missing Ray or an address with no cluster is one :class:`InputError`."""
    try:
        import ray
    except ImportError:
        raise InputError("--engine", "ray is not installed: pip install 'issim[campaign]' (or ray)") from None
    if ray.is_initialized():
        return ray
    import logging
    import os

    env = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    if address and address != "auto":
        _reachable(address)
    try:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False,
                     runtime_env={"env_vars": env} if env else None)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError: Ray says why in many ways
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError("--address", f"cannot join a Ray cluster at {address!r}: {text}") from None
    return ray


def _reachable(address: str, timeout_s: float = 3.0) -> None:
    """Refuse at once an address that is not ``[ray://]HOST:PORT`` or where nothing listens
    (Ray itself would keep trying for minutes)."""
    import socket

    text = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError("--address", f"{address!r} is not a Ray address: give HOST:PORT (the head's, as "
                                      "`ray start --head` prints it), ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError("--address", f"no Ray cluster answers at {address} ({exc.strerror or exc})") from None


def _ray_stream(tasks: list[dict], workers: int, address: Optional[str]) -> Iterator[dict]:
    if not tasks:
        return
    ray = connect_ray(address, workers)
    remote = ray.remote(num_cpus=1, max_retries=2)(_ray_run)
    raws: dict[bytes, object] = {}
    pending: list = []
    queue = list(tasks)
    in_flight = max(1, 2 * workers)
    try:
        while queue or pending:
            while queue and len(pending) < in_flight:
                t = queue.pop(0)
                raw = raws.get(t["raw"])
                if raw is None:
                    raw = raws[t["raw"]] = ray.put(t["raw"])
                pending.append(remote.remote(raw, {k: v for k, v in t.items() if k != "raw"}))
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


# ------------------------------------------------------------------------ a campaign


def scenario_bytes(name: str) -> tuple[bytes, str]:
    """A scenario's bytes and the source its messages name: a bundled one's, or a file's."""
    from ..inputs import read_bytes
    from ..scenario.load import _bundled, bundled_names

    if name in bundled_names():
        source, raw = _bundled(name)
        return raw, source
    from pathlib import Path

    return read_bytes(Path(name), "a scenario TOML file"), name


def drawn(spec, seed: int, indices):
    """``(i, its seed, its drawn inputs)`` for each run ``i`` of ``indices`` of a campaign with
    base ``seed`` (:func:`issim.scenario.dispersions.run_seed` and ``draw``)."""
    from ..scenario.dispersions import cholesky, draw, run_seed

    factor = cholesky(spec) if spec.correlations else None
    for i in indices:
        yield i, run_seed(seed, i), draw(spec, seed, i, factor)


def plan(spec, raw: bytes, source: str, indices, seed: int, length_ms: Optional[int], until_resolved: bool) -> list[dict]:
    """The tasks of runs ``indices``: each run's inputs drawn (:func:`issim.scenario.dispersions.draw`)
    and checked by building its scenario, so that a bad draw is refused before anything runs."""
    from ..inputs import SEED_LIMIT
    from ..scenario.load import parse_scenario

    out = []
    for i, s, inputs in drawn(spec, seed, indices):
        if not 0 <= s < SEED_LIMIT:
            raise InputError("--runs", f"run {i} would have seed {s}, outside [0, {SEED_LIMIT})")
        if inputs:
            parse_scenario(raw, source, inputs)
        out.append(task(raw, source, i, s, inputs, length_ms, until_resolved))
    return out


def replay(camp, index: int, store: bool = False) -> dict:
    """Run a stored campaign run again from its scenario bytes, seed and inputs: ``{"run",
    "seed", "inputs", "stored", "replayed", "same", "class", "ending"}`` (the event log's
    digests). With ``store`` the replay is also stored in the campaign's archive as a run of
    its own (``"run_id"``), with its scenario and drawn inputs, so that ``issim branch``,
    ``issim report`` and ``issim serve`` take it like any other run."""
    got = camp.inputs(index)
    if got is None:
        raise InputError("RUN", f"campaign {camp.name} has no finished run {index} (it has {len(camp.done())} runs, "
                                "numbered from 0)")
    seed, inputs, digest = got
    hours = camp.row["hours"]
    t = task(camp.raw, camp.row["scenario_source"], index, seed, inputs,
             None if hours is None else round(hours * HOUR_MS), bool(camp.row["until_resolved"]))
    if not store:
        rec = run_task(t)
        return {"run": index, "seed": seed, "inputs": inputs, "stored": digest, "replayed": rec["digest"],
                "same": digest == rec["digest"], "class": rec["class"], "ending": rec["ending"]}
    from ..runner import Runner
    from ..scenario.load import parse_scenario

    spec = parse_scenario(t["raw"], t["source"], inputs or None)
    end = spec.default_end_ms if t["length_ms"] is None else spec.start_ms + t["length_ms"]
    runner = Runner(spec, seed=seed, end_ms=end, until_resolved=t["until_resolved"])
    runner.scenario_raw, runner.scenario_inputs = t["raw"], dict(inputs)
    with camp.archive.recording(runner) as rec:
        rec.run()
    o = runner.outcome()
    replayed = runner.sim.event_log_sha256()
    return {"run": index, "seed": seed, "inputs": inputs, "stored": digest, "replayed": replayed,
            "same": digest == replayed, "class": o["ending_class"]["id"], "ending": o["ending"],
            "run_id": rec.run_id}


FLUSH_S = 30.0  # a chunk at least this often while runs finish


def run_campaign(camp, tasks: list[dict], *, engine: str = "local", workers: int = 2, address: Optional[str] = None,
                 chunk: int = 200, progress=None) -> int:
    """Run ``tasks`` on ``engine`` into the stored campaign ``camp``: each run in the catalogue as
    it finishes, a Parquet chunk every ``chunk`` runs (or :data:`FLUSH_S` seconds) and at the end,
    also when stopped by Ctrl-C. ``progress(record)`` after each; return the runs added."""
    import time

    added = 0
    last = time.monotonic()
    runs = stream(tasks, engine, workers, address)
    try:
        for rec in runs:
            added += camp.add(rec)
            if progress is not None:
                progress(rec)
            if camp.pending() >= chunk or time.monotonic() - last > FLUSH_S:
                camp.flush()
                last = time.monotonic()
    finally:
        runs.close()
        camp.flush()
    return added
