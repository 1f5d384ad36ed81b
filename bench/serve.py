"""Benchmark: ``issim serve`` under load, on loopback only.

``.venv/bin/python bench/serve.py [--clients 50] [--channels 100] [--rate 10] [--seconds 60]``

1. **Realtime.** Starts ``issim serve iss`` in a child process on a free loopback port,
   paced so that it sends ``--rate`` frames a second (speed = rate x the 10 s frame), and
   connects ``--clients`` websocket clients, each subscribed to the same ``--channels``
   channels. For ``--seconds`` it times every frame from the moment the server built it
   (``sent_ms``, the server's wall clock) to the moment a client had parsed it (the same
   machine's clock), and reads the server's CPU time from ``/proc``. It prints p50/p99 of
   that latency, the frames each client got a second, and the server's CPU as a share of
   one core. The clients run in this process: their own CPU shares the machine's two cores
   and shows in the latency.
2. **History.** A channel of 1,000,000 points (one a second, a random walk) answered
   through the app with ``strategy=minmax&size=1000`` (a 1,000-pixel plot): the median of
   ``--repeat`` requests, and of the decimation alone.

The server never binds anything but 127.0.0.1, and every part ends by itself. Tests never
assert on these numbers; ``bench/RESULTS.md`` records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, speed: float, home: str) -> subprocess.Popen:
    env = {**os.environ, "ISSIM_TOKENS": str(Path(home) / "tokens.json"), "ISSIM_HOME": home}
    code = ("import sys; from issim.cli import main; "
            f"sys.exit(main(['serve', 'iss', '--speed', '{speed}', '--host', '{HOST}', '--port', '{port}']))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_ready(port: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> dict:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {proc.stderr.read()}")
        try:
            return httpx.get(f"http://{HOST}:{port}/api/dictionary", timeout=2.0).json()
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within a minute")


async def watch(port: int, keys: list[str], seconds: float, latencies: list, counts: list) -> None:
    import websockets

    async with websockets.connect(f"ws://{HOST}:{port}/api/realtime", max_size=2**22) as ws:
        await ws.send(json.dumps({"subscribe": keys}))
        end = time.monotonic() + seconds
        n = 0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                break
            frame = json.loads(raw)
            if frame["type"] == "telemetry" and len(frame["data"]) == len(keys):
                latencies.append(time.time() * 1000.0 - frame["sent_ms"])
                n += 1
        counts.append(n)


def realtime(args) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        proc = start_server(port, args.rate * 10.0, home)
        try:
            d = wait_ready(port, proc)
            keys = [m["key"] for m in d["measurements"]][: args.channels]
            latencies: list[float] = []
            counts: list[int] = []
            warm = 2.0  # connect everyone, then measure

            async def run():
                tasks = [asyncio.create_task(watch(port, keys, args.seconds + warm, latencies, counts))
                         for _ in range(args.clients)]
                await asyncio.sleep(warm)
                del latencies[:]
                cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
                await asyncio.gather(*tasks)
                return cpu_seconds(proc.pid) - cpu0, time.monotonic() - t0

            cpu, wall = asyncio.run(run())
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    lat = sorted(latencies)
    return {"clients": args.clients, "channels": len(keys), "seconds": round(wall, 1), "frames": len(lat),
            "frames_per_client_s": round(len(lat) / args.clients / wall, 2),
            "clients_done": len(counts),
            "p50_ms": round(lat[len(lat) // 2], 2) if lat else None,
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else None,
            "server_cpu_pct_of_one_core": round(100.0 * cpu / wall, 1)}


def history(args) -> dict:
    import numpy as np
    from fastapi.testclient import TestClient

    from issim.runner import Runner
    from issim.serve import decimate
    from issim.serve.app import Limits, create_app
    from issim.serve.sources import LiveSource
    from issim.serve.tokens import Tokens

    n = 1_000_000
    rng = np.random.default_rng(1)
    t = 1_741_564_800_000 + np.arange(n, dtype=np.int64) * 1000
    v = np.cumsum(rng.normal(size=n))
    source = LiveSource(Runner("iss"))
    source.history = lambda key: (t, v)  # every channel answers with the million points
    key = source.metas[0]["key"]
    params = {"start": int(t[0]), "end": int(t[-1]), "strategy": "minmax", "size": 1000}
    app = create_app(source, tokens=Tokens({}), paused=True, limits=Limits(read_burst=1e6))
    whole, alone, points = [], [], 0
    with TestClient(app, base_url=f"http://{HOST}") as c:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = c.get(f"/api/history/{key}", params=params)
            whole.append(time.perf_counter() - t0)
            points = len(r.json())
            t0 = time.perf_counter()
            decimate.minmax(t, v, params["start"], params["end"], 1000)
            alone.append(time.perf_counter() - t0)
    return {"points_in": n, "points_out": points, "request_ms": round(1000 * statistics.median(whole), 1),
            "decimation_ms": round(1000 * statistics.median(alone), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="frames a second the server sends")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients watch (at most 600)")
    parser.add_argument("--repeat", type=int, default=5, help="history requests timed")
    args = parser.parse_args()
    if not (1 <= args.clients <= 500 and 1 <= args.channels <= 400 and 0 < args.rate <= 100
            and 0 < args.seconds <= 600 and 1 <= args.repeat <= 50):
        raise SystemExit("keep it bounded: clients 1-500, channels 1-400, rate (0, 100], seconds (0, 600], repeat 1-50")
    print("realtime:", json.dumps(realtime(args)))
    print("history: ", json.dumps(history(args)))


if __name__ == "__main__":
    main()
