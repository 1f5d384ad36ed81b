"""The summary of a run: one JSON-ready object (the form ``issim run --json`` prints)."""

from __future__ import annotations

import numpy as np

from .. import __version__
from ..physics.gas import CO2, MOLAR_MASS_KG_PER_MOL, O2, PA_PER_MMHG, SPECIES
from ..sim import Simulation
from ..times import format_iso

O2_GENERATORS = ("elektron", "oga", "candle")


def _stats(values: np.ndarray) -> dict:
    """min/max/mean over the first axis, rounded for reading (4 significant decimals)."""
    return {"min": round(float(values.min()), 4), "max": round(float(values.max()), 4), "mean": round(float(values.mean()), 4)}


def gas_balance(sim: Simulation) -> dict:
    """Moles of each species: at the start, in, out, now, and the relative closure error.

    """
    initial = sim.state["atm.initial_moles"].sum(axis=0)
    now = sim.state["atm.moles"].sum(axis=0)
    gas_in = np.zeros(len(SPECIES))
    gas_out = np.zeros(len(SPECIES))
    for key, value in sim.state.totals.items():
        parts = key.split(".")
        if parts[0] == "gas" and len(parts) == 4:
            i = SPECIES.index(parts[2])
            if parts[1] == "in_mol":
                gas_in[i] += value
            elif parts[1] == "out_mol":
                gas_out[i] += value
    expected = initial + gas_in - gas_out
    error = float(abs(expected.sum() - now.sum()) / initial.sum())
    return {"initial_mol": initial, "in_mol": gas_in, "out_mol": gas_out, "now_mol": now, "relative_error": error}


def totals_by_process(sim: Simulation, direction: str, species: str) -> dict[str, float]:
    prefix = f"gas.{direction}_mol.{species}."
    return {k[len(prefix):]: v for k, v in sim.state.totals.items() if k.startswith(prefix)}


def summarize(sim: Simulation, scenario_name: str) -> dict:
    """The run's summary: air per module, totals, each person's state, the event log."""
    world = sim.world
    pp = sim.recorder.block("atm.pp_pa")  # (samples, volumes, species)
    pressure = pp.sum(axis=2)
    module_air = {}
    for i, v in enumerate(world.volumes):
        module_air[v.id] = {
            "pressure_kpa": _stats(pressure[:, i] / 1000.0),
            "pp_o2_kpa": _stats(pp[:, i, O2] / 1000.0),
            "pp_co2_mmhg": _stats(pp[:, i, CO2] / PA_PER_MMHG),
        }
    t = sim.state.totals
    generated = totals_by_process(sim, "in", "o2")
    o2_generated_kg = sum(v for k, v in generated.items() if k in O2_GENERATORS) * MOLAR_MASS_KG_PER_MOL[O2]
    balance = gas_balance(sim)
    subs = {s.name: s for s in sim.subsystems}
    crew_sub = subs["crew"]
    extra = {}
    if "propulsion" in subs:
        prop = subs["propulsion"].summary(sim.state)
        alt = sim.recorder.block("orbit.alt_km")[:, 0]
        mean_alt = sim.recorder.block("orbit.mean_alt_km")[:, 0]
        extra["orbit"] = {"alt_km": _stats(alt), "mean_alt_km": _stats(mean_alt), **prop}
    for name in ("power", "attitude", "comms", "control"):
        if name in subs and hasattr(subs[name], "summary"):
            extra[name] = subs[name].summary(sim.state)
    return {
        "scenario": scenario_name,
        "seed": sim.seed,
        "version": __version__,
        "start": format_iso(sim.start_ms),
        "end": format_iso(sim.state.t_ms),
        "frames": sim.state.frame,
        "event_log_sha256": sim.event_log_sha256(),
        "module_air": module_air,
        "totals": {
            "o2_consumed_kg": round(t.get("crew.o2_consumed_kg", 0.0), 4),
            "co2_produced_kg": round(t.get("crew.co2_produced_kg", 0.0), 4),
            "o2_generated_kg": round(o2_generated_kg, 4),
            "crew_days": round(t.get("crew.days", 0.0), 4),
            "gas_balance_relative_error": balance["relative_error"],
        },
        "crew": crew_sub.summary(sim.state),
        **extra,
        "events": sim.event_log(),
    }
