"""The readable summary of a run (``issim run`` without ``--json``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .schema import Scenario


def _band(stats: dict, fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(stats['mean'])} [{fmt.format(stats['min'])}–{fmt.format(stats['max'])}]"


def render_summary(summary: dict, scenario: Scenario, console: Console) -> None:
    console.print(f"[bold]{scenario.scenario.title}[/]")
    console.print(f"{summary['start']} → {summary['end']}, {summary['frames']:,} frames, seed {summary['seed']}")

    air = Table(title="Cabin air: mean [min–max]", title_justify="left")
    for col in ("volume", "pressure kPa", "ppO2 kPa", "ppCO2 mmHg"):
        air.add_column(col)
    for vid, a in summary["module_air"].items():
        air.add_row(vid, _band(a["pressure_kpa"]), _band(a["pp_o2_kpa"], "{:.2f}"), _band(a["pp_co2_mmhg"], "{:.2f}"))
    console.print(air)

    t = summary["totals"]
    per_day = t["crew_days"] or float("nan")
    console.print(
        f"O2 consumed {t['o2_consumed_kg']:.2f} kg ({t['o2_consumed_kg'] / per_day:.3f} kg per crew-day), "
        f"CO2 produced {t['co2_produced_kg']:.2f} kg ({t['co2_produced_kg'] / per_day:.3f} per crew-day), "
        f"O2 generated {t['o2_generated_kg']:.2f} kg; {t['crew_days']:.2f} crew-days; "
        f"gas balance closes to {t['gas_balance_relative_error']:.1e}"
    )

    if "orbit" in summary:
        o = summary["orbit"]
        console.print(
            f"Orbit: geodetic altitude {_band(o['alt_km'])} km, mean altitude {_band(o['mean_alt_km'])} km; "
            f"{len(o['reboosts'])} reboost(s); propellant left "
            + ", ".join(f"{k} {v:.0f} kg" for k, v in o["propellant_kg"].items())
        )
        for r in o["reboosts"]:
            console.print(f"  {r['at'][:19]} {r['engine']} Δv {r['dv_m_s']:.2f} m/s, {r['propellant_kg']:.0f} kg, "
                          f"{r['duration_s']:.0f} s, +{r['raise_km']:.2f} km ({r['source']})")
        if o.get("lost"):
            console.print(f"[bold red]{o['lost']}[/] at {summary['end']}")
    for name in ("power", "attitude", "comms", "control"):
        if name in summary:
            items = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary[name].items()
                              if isinstance(v, (int, float, str, bool)))
            console.print(f"{name.capitalize()}: {items}")

    crew = Table(title="Crew", title_justify="left")
    for col in ("name", "alive", "where", "health"):
        crew.add_column(col)
    for name, c in summary["crew"].items():
        crew.add_row(name, "yes" if c["alive"] else "[red]no[/]", c["location"], f"{c['health']:.2f}")
    console.print(crew)

    if "outcome" in summary:
        render_outcome(summary["outcome"], summary.get("commands"), console)
    # The events themselves were shown as they happened (the live timeline) and are in --json.


def render_outcome(outcome: dict, commands: dict | None, console: Console) -> None:
    """Who lived, who died and why, who left in what, who controls what."""
    console.print("[bold]Outcome[/]" + (f": {outcome['ending']}" if outcome.get("ending") else ""))
    if outcome.get("story") and outcome.get("ending_class"):  # a run with no story has no ending to class
        from rich.markup import escape

        cls = outcome["ending_class"]
        console.print(f"  Ending class: {cls['id']} ({escape(cls['label'])}), after {len(outcome['story'])} beats "
                      "(docs/endings.md):")
        for b in outcome["story"]:
            whom = f" → {b['whom']}" if b["whom"] else ""
            at = b["where"]  # a module, "outside", or a landing place ("in Kazakhstan")
            where = "" if not at else f" {at}" if at == "outside" or at.startswith("in ") else f" in {at}"
            why = f": {b['why']}" if b["why"] else ""
            console.print(escape(f"    {b['t'][5:16].replace('T', ' ')}  {b['kind']}  {b['who']}{whom}{where}{why}"),
                          highlight=False)
    console.print(f"  Survivors: {', '.join(outcome['survivors']) or 'none'}")
    if outcome["dead"]:
        console.print("  [red]Dead[/]: " + "; ".join(f"{n} ({c.replace('_', ' ')})" for n, c in outcome["dead"].items()))
    for vehicle, names in outcome["departed"].items():
        console.print(f"  Left in {vehicle}: {', '.join(names) or 'nobody aboard'}")
    st = outcome["station"]
    state = "crewed" if st["crewed"] else "[red]uncrewed[/]"
    alt = f", altitude {st['altitude_km']:.1f} km" if st.get("altitude_km") is not None else ""
    lost = f", [bold red]lost: {st['lost']}[/]" if st.get("lost") else ""
    console.print(f"  Station: {state}{alt}{lost}")
    for seg, run in st.get("life_support_running", {}).items():
        off = [k.replace("_", " ") for k, on in run.items() if not on]
        console.print(f"  {seg} life support: {'running' if not off else 'not running: ' + ', '.join(off)}")
    control = outcome["control"]
    if control:
        by = {}
        for system, factions in control.items():
            by.setdefault(", ".join(factions) or "nobody", []).append(system)
        for who, systems in by.items():
            console.print(f"  Controlled by {who}: {', '.join(systems)}")
    if commands:
        reasons = ", ".join(f"{r} {n}" for r, n in commands["by_reason"].items())
        console.print(f"  Commands: {commands['done']} done, {commands['refused']} refused, {commands['failed']} failed"
                      + (f" ({reasons})" if reasons else ""))
