"""Scenarios: the file format, loading and checking, building a simulation, the summary."""

from .build import build_simulation, scenario_events
from .load import bundled_names, load_scenario, parse_scenario
from .schema import Scenario
from .summary import gas_balance, summarize

__all__ = [
    "Scenario", "build_simulation", "bundled_names", "gas_balance", "load_scenario", "parse_scenario",
    "scenario_events", "summarize",
]
