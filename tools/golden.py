"""Write the golden telemetry the physics is held to (``tests/test_golden.py``).

``.venv/bin/python tools/golden.py`` runs each scenario of :data:`GOLDEN` through the
Runner for its length and keeps every telemetry channel once a simulated hour, in
``tests/golden/<scenario>.npz``. Run it only when the physics is meant to change, and say
why in the commit: the files are what a faster core must reproduce.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# scenario -> simulated days (each long enough for its events to have played out)
GOLDEN = {"nominal": 1.0, "leak": 1.5, "isolation": 1.0, "power-split": 1.0, "cdra-failure": 1.0}
EVERY_MS = 3_600_000
FOLDER = Path(__file__).resolve().parents[1] / "tests" / "golden"


def sample(scenario: str, days: float) -> dict[str, np.ndarray]:
    """Every channel of a Runner run of ``scenario``, once an hour of simulated time."""
    from issim.runner import Runner

    run = Runner(scenario, days=days)
    run.run()
    sim = run.sim
    keys = [c.key for c in sim.channels()]
    t, _ = sim.telemetry(keys[0])
    rows = np.flatnonzero((t - sim.start_ms) % EVERY_MS == 0)
    values = np.stack([sim.telemetry(k)[1][rows] for k in keys], axis=1)
    return {"t_ms": t[rows], "keys": np.array(keys), "values": values}


def main() -> int:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, days in GOLDEN.items():
        data = sample(name, days)
        np.savez_compressed(FOLDER / f"{name}.npz", **data)
        print(f"{name}: {data['values'].shape[0]} samples x {data['values'].shape[1]} channels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
