"""Stored runs on the terminal: ``issim show`` and ``issim diff`` (rich)."""

from __future__ import annotations

import json

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .record import RunRecord

_STATUS_STYLE = {"complete": "green", "running": "cyan", "failed": "red", "incomplete": "yellow"}


def when_text(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def status_text(record: RunRecord) -> str:
    return f"[{_STATUS_STYLE.get(record.status, 'white')}]{record.status}[/]"


def render_run(record: RunRecord, console: Console) -> None:
    """The record, the outcome, the counts, the notable events and where the files are."""
    console.print(f"[bold]Run {record.id}[/]: {record.title}", highlight=False)
    info = Table(show_header=False, box=None, pad_edge=False)
    info.add_column(style="bold")
    info.add_column()
    info.add_row("scenario", f"{record.scenario} ({record.scenario_source}, sha256 {record.scenario_sha256[:12]}…)"
                 if record.scenario_sha256 else record.scenario)
    info.add_row("seed", str(record.seed))
    if record.parent_id is not None:
        info.add_row("branched", f"from run {record.parent_id} at {record.fork_at}: "
                                 f"{record.change_summary or 'no change'} (issim diff {record.parent_id} {record.id})")
    elif record.change_summary:
        info.add_row("policies", record.change_summary)
    info.add_row("issim", record.version)
    info.add_row("simulated", f"{record.sim_start} → {record.sim_end or '?'}"
                 + (f" ({record.frames:,} frames)" if record.frames else ""))
    info.add_row("ran", f"{when_text(record.started_at)} → {when_text(record.finished_at) or '…'} UTC")
    info.add_row("status", status_text(record) + (f" — {record.error}" if record.error else ""))
    if record.outcome:
        info.add_row("outcome", record.outcome)
    cls = (record.outcome_details or {}).get("ending_class")
    if cls and (record.outcome_details or {}).get("story"):  # (a run with no story has no ending to class)
        info.add_row("ending class", f"{cls['id']} ({cls['label']}), after {len(record.outcome_details['story'])} "
                                     "beats (docs/endings.md)")
    if record.event_log_sha256:
        info.add_row("event log", f"sha256 {record.event_log_sha256}")
    info.add_row("files", str(record.path))
    console.print(info)

    entries = record.event_log()
    commands = record.commands()
    if len(commands):
        counts = commands["result"].value_counts().to_dict()
        console.print("Commands: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    console.print(f"Event log: {len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
                  + ("" if record.status == "complete" else " (saved before the run stopped)"))
    lines = notable_lines(entries)
    if lines:
        shown = lines[:40]
        timeline = Table.grid(padding=(0, 2), pad_edge=True)  # a long line wraps under its own text
        timeline.add_column(no_wrap=True)
        timeline.add_column()
        for line in shown:
            when, gap, text = line.partition("  ")
            timeline.add_row(*((when, Text(text)) if gap and when[:4].isdigit() else ("", Text(line))))
        console.print(timeline)
        if len(lines) > len(shown):
            console.print(f"  … {len(lines) - len(shown)} more: issim report {record.id} has them all")


def log_tuples(entries: list[dict]) -> list[tuple]:
    """Stored JSON entries back in the engine's ``(t_ms, kind, details)`` form."""
    from ..times import parse_iso

    out = []
    for e in entries:
        details = tuple(sorted((k, v) for k, v in e.items() if k not in ("t", "kind")))
        out.append((parse_iso(e["t"]), e["kind"], details))
    return out


def notable_lines(entries: list[dict]) -> list[str]:
    """The lines ``issim run`` printed live: notable entries, recurring ones counted."""
    from ..scenario.timeline import Timeline

    timeline = Timeline()
    lines = list(timeline.new_lines(log_tuples(entries)))
    return lines + timeline.hidden_summary()


_RECORD_LABELS = {"scenario": "scenario", "scenario_sha256": "scenario file (SHA-256)", "seed": "seed",
                  "version": "issim version", "sim_start": "simulated from", "sim_end": "simulated to",
                  "frames": "frames", "status": "status", "event_log_sha256": "event log (SHA-256)"}


def _value_text(value) -> str:
    """A value of a record or an outcome as a person reads it: no JSON, no nulls."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _record_text(field: str, value) -> str:
    if field.endswith("sha256") and value:
        return f"{value[:12]}…"
    if field in ("sim_start", "sim_end") and value:
        return value[:19].replace("T", " ") + "Z"
    return _value_text(value)


def _two_runs(title: str, a: int, b: int):
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    table.add_column("", style="bold", max_width=36)
    table.add_column(f"run {a}", min_width=12)
    table.add_column(f"run {b}", min_width=12)
    return table


def render_diff(result: dict, console: Console) -> None:
    """The comparison of two runs for people: what differs in their records, the first event where they part
    (as the timeline says it), and how their outcomes differ; ``issim diff --json`` has the same as data."""
    from ..scenario.timeline import describe

    a, b = result["a"], result["b"]
    console.print(f"[bold]Run {a} and run {b}[/]", highlight=False)
    if result["metadata"]:
        meta = _two_runs("What differs in the record", a, b)
        for k, v in result["metadata"].items():
            meta.add_row(_RECORD_LABELS.get(k, k), _record_text(k, v["a"]), _record_text(k, v["b"]))
        console.print(meta)
    else:
        console.print("Same record: scenario, seed, issim version and times.")
    ev = result["events"]
    first = result["first_difference"]
    if first is None:
        console.print(f"Same event log: {ev['a']:,} entries, identical one for one.", highlight=False)
    else:
        same = first["same_before"]
        console.print(f"The runs part at event {first['index'] + 1} (of {ev['a']:,} in run {a}, {ev['b']:,} in "
                      f"run {b}), after {same:,} identical {'entry' if same == 1 else 'entries'}:", highlight=False)
        parting = Table.grid(padding=(0, 2), pad_edge=True)
        parting.add_column(no_wrap=True)
        parting.add_column()
        for run, entry in ((a, first["a"]), (b, first["b"])):
            text = "(its log ends here)" if entry is None else describe(log_tuples([entry])[0], everything=True)
            parting.add_row(f"run {run}", Text(text))
        console.print(parting)
    if result["outcome"]:
        table = _two_runs("How the outcomes differ", a, b)
        for d in result["outcome"]:
            table.add_row(d.get("label", d["what"]), _value_text(d["a"]), _value_text(d["b"]))
        console.print(table)
    elif result["outcome_line"]["a"]:
        console.print("Same outcome.")
    else:
        console.print("No outcome to compare.")
    console.print("[bold]Endings[/]")
    endings = Table.grid(padding=(0, 2), pad_edge=True)
    endings.add_column(no_wrap=True)
    endings.add_column()
    for run, side in ((a, "a"), (b, "b")):
        endings.add_row(f"run {run}", Text(result["outcome_line"][side] or "—"))
    console.print(endings)
