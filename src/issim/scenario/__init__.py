"""Scenarios: the file format, loading and checking, building a simulation, triggers, the summary."""

from .build import build_simulation, scenario_events, scenario_triggers
from .load import bundled_names, load_scenario, parse_scenario
from .schema import Scenario
from .summary import command_counts, gas_balance, outcome, summarize
from .triggers import Triggers, TriggerSpec

__all__ = [
    "Scenario", "TriggerSpec", "Triggers", "build_simulation", "bundled_names", "command_counts", "gas_balance",
    "load_scenario", "outcome", "parse_scenario", "scenario_events", "scenario_triggers", "summarize",
]
