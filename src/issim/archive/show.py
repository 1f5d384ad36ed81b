"""Stored runs on the terminal: ``issim show`` and ``issim diff`` (rich)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

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
        for line in shown:
            console.print("  " + line, markup=False, highlight=False)
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


def _short(value, limit: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_diff(result: dict, console: Console) -> None:
    a, b = result["a"], result["b"]
    console.print(f"[bold]Run {a}[/] and [bold]run {b}[/]")
    if result["metadata"]:
        meta = Table(title="What differs in the record", title_justify="left")
        for col in ("field", f"run {a}", f"run {b}"):
            meta.add_column(col)
        for k, v in result["metadata"].items():
            meta.add_row(k, _short(v["a"], 70), _short(v["b"], 70))
        console.print(meta)
    ev = result["events"]
    first = result["first_difference"]
    if first is None:
        console.print(f"[green]Same event log[/]: {ev['a']} entries, identical one for one.")
    else:
        console.print(f"The runs part at event {first['index'] + 1} ({first['t']}), after {first['same_before']} "
                      f"identical entries (run {a} has {ev['a']}, run {b} {ev['b']}):", highlight=False)
        for run, entry in ((a, first["a"]), (b, first["b"])):
            text = "(its log ends here)" if entry is None else _short(
                {k: v for k, v in entry.items()}, 200)
            console.print(f"  run {run}: {text}", markup=False, highlight=False)
    if result["outcome"]:
        table = Table(title="How the outcomes differ", title_justify="left")
        for col in ("", f"run {a}", f"run {b}"):
            table.add_column(col)
        for d in result["outcome"]:
            table.add_row(d["what"], _short(d["a"]), _short(d["b"]))
        console.print(table)
    else:
        console.print("Same outcome." if result["outcome_line"]["a"] else "No outcome to compare.")
    console.print(f"  run {a}: {result['outcome_line']['a'] or '—'}", markup=False, highlight=False)
    console.print(f"  run {b}: {result['outcome_line']['b'] or '—'}", markup=False, highlight=False)
