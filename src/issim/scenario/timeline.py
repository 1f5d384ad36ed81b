"""The run's timeline as it happens: one readable line per notable entry of the event log.

``issim run`` (without ``--json``) prints these above its progress bar while the run goes
on. Routine entries (the crew's moves between work and sleep modules, desaturations) are
left out, and an entry that keeps recurring (a bus going down every eclipse) is shown the
first :data:`REPEATS_SHOWN` times and then counted.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

from ..times import format_iso

REPEATS_SHOWN = 3
_ROUTINE = {("attitude", "desaturation")}
_SUBJECT_KEYS = ("person", "actor", "machine", "segment", "engine", "target", "id")


def _details(entry) -> dict:
    _, _, details = entry
    return dict(details)


def _short(value, limit: int = 70) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _generic(kind: str, d: dict) -> str:
    what = d.pop("what", "")
    subject = next((str(d.pop(k)) for k in _SUBJECT_KEYS if d.get(k) not in (None, "")), "")
    extra = ", ".join(f"{k} {_short(v, 90 if k == 'reason' else 40)}" for k, v in d.items()
                      if not isinstance(v, (tuple, list)))
    return f"{kind}: {what} {subject}".rstrip() + (f"; {extra}" if extra else "")


def _command(d: dict) -> str:
    args = dict(d.get("args", ()))
    detail = f" “{_short(args['text'], 60)}”" if "text" in args else ""
    text = f"{d.get('actor')}: {d.get('command')} {d.get('target', '')}".rstrip() + detail + f" — {d.get('result')}"
    why = d.get("message") or d.get("reason")
    shown = why and (d.get("result") != "done" or d.get("command") == "confront")  # a fight's outcome
    return text + (f" ({_short(why, 160)})" if shown else "")


def _agents(d: dict) -> str:
    who, what = d.get("person", ""), d.get("what", "")
    if what == "order":
        return f"{who} receives the order '{d.get('goal')}' from {d.get('ground')}"
    if what == "decided":
        return f"{who} decides {d.get('key')} = {d.get('choice')}" + (" (by chance)" if d.get("drawn") else "")
    if what == "goal":
        return f"{who} now pursues '{d.get('goal')}'" + (f" ({d['why']})" if d.get("why") else "")
    why = f" ({d['why']})" if d.get("why") else ""
    if what == "intent":
        if not d.get("intent"):
            return f"{who} has nothing more to do{why}"
        return f"{who} intends: {d.get('intent')}" + (f" {d['target']}" if d.get("target") else "") + why
    if what == "lure":
        return f"{who} tells {d.get('asked')}: “{d.get('said')}”"
    if what == "told":
        return f"{who} tells {d.get('to')}: “{d.get('said')}”"
    if what == "lost":
        return f"{who} is lost outside" + (" (heard on the radio)" if d.get("heard") else " (the radio is silent)")
    if what == "sides":
        return f"{who} now sides with {d.get('side')}{why}"
    if what == "later":
        return f"{who} will {d.get('intent')} later{why}"
    if what == "believes":
        return f"{who} believes {d.get('belief')} (told by {d.get('told_by')})"
    if what == "warned":
        return f"{who} warns {d.get('to')} over the radio"
    return _generic("agents", d)


def describe(entry, everything: bool = False) -> Optional[str]:
    """One line for a log entry, or ``None`` when it is routine or shown elsewhere (never, with ``everything``)."""
    t_ms, kind, _ = entry
    d = _details(entry)
    when = format_iso(t_ms, 0)[:19].replace("T", " ")
    if not everything and (d.get("why") == "schedule" or (kind, d.get("what")) in _ROUTINE):
        return None
    if kind == "event":
        source = str(d.get("source", ""))
        scripted = source == "scenario" or source.startswith("trigger")
        if not everything and (d.get("action") == "command" or not scripted):
            return None  # a command's own dispatch: the command line says it
        origin = "scenario" if scripted else source or "event"
        line = f"{origin}: {d.get('action')} {d.get('target', '')}".rstrip() + f" — {d.get('result')}"
        return f"{when}  " + line + (f" ({_short(d['reason'], 90)})" if d.get("reason") else "")
    if kind == "command":
        return f"{when}  {_command(d)}"
    if kind == "comms" and d.get("what") == "delivered":
        return f"{when}  comms: {d.get('from')} → {d.get('to')} delivered after {float(d.get('delay_s', 0)):.0f} s"
    if kind == "agents":
        return f"{when}  {_agents(d)}"
    return f"{when}  {_generic(kind, d)}"


class Timeline:
    """Follows a simulation's event log and yields the new notable lines."""

    def __init__(self) -> None:
        self.position = 0
        self.seen: Counter = Counter()
        self.hidden: Counter = Counter()

    def new_lines(self, log: list) -> Iterable[str]:
        for entry in log[self.position:]:
            line = describe(entry)
            if line is None:
                continue
            d = _details(entry)
            key = (entry[1], d.get("what") or d.get("action") or d.get("command"),
                   next((d.get(k) for k in _SUBJECT_KEYS if d.get(k)), None), d.get("key"))
            # (a decision's key is part of it: each decision point is shown, only its repeats are counted)
            self.seen[key] += 1
            if self.seen[key] <= REPEATS_SHOWN:
                yield line
            else:
                self.hidden[key] += 1
        self.position = len(log)

    def hidden_summary(self) -> list[str]:
        return [f"… and {n} more '{kind}: {what} {subject or ''}".rstrip() + (f" {key}" if key else "") + "' not shown"
                for (kind, what, subject, key), n in self.hidden.items()]
