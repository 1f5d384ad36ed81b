"""The documentation lists what the code has: every telemetry channel, every action."""

import re
from pathlib import Path

from issim.scenario import build_simulation
from issim.sim import Simulation

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _patterns(text: str) -> list[re.Pattern]:
    keys = re.findall(r"^\| `([a-z0-9_.{}-]+)` \|", text, flags=re.M)
    return [re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", r"[A-Za-z0-9-]+", re.escape(k)) + "$") for k in keys]


def test_every_channel_is_in_the_telemetry_dictionary():
    patterns = _patterns((DOCS / "telemetry.md").read_text())
    assert len(patterns) > 20
    sim = build_simulation("nominal")
    missing = [c.key for c in sim.channels() if not any(p.match(c.key) for p in patterns)]
    assert missing == []


def test_every_action_is_in_the_scenario_docs():
    text = (DOCS / "scenarios.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", text))
    sim = build_simulation("nominal")
    assert set(sim.handlers) - documented == set()
