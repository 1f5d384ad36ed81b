"""A run's report: one self-contained HTML file, for people to look at rather than read.

:func:`write_report` gathers a stored run (summary, station, telemetry, ground track,
event log, commands), draws it with plotly (:mod:`.figures`) and lays it out in one page
(:mod:`.page`): a header with the scenario, seed and outcome, then the ground track on a
world map with sunlight and contact, the station schematic with each module's air at a
chosen moment, the air, power and orbit over time, a timeline of events and commands,
who controls each system over time, and each person's fate.

The file needs nothing from the network: plotly.js (its basic bundle, packaged with issim
in ``data/plotly``) is inlined once, and the map is drawn from Natural Earth coastlines
packaged with issim (``data/coastlines``), not from a map server. Telemetry is thinned
for the page with each stretch's min and max kept (:mod:`.decimate`), so a week's report
weighs about as much as a day's. It is written beside its final name and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ...errors import InputError
from ..record import RunRecord


def load_data(record: RunRecord, at_ms: Optional[int] = None):
    """Read what the report draws; ``at_ms`` is the chosen moment (default: when the air
    quantity the run is about was at its worst, if it strayed towards a limit; else the end)."""
    from ...times import format_iso, parse_iso
    from .figures import ReportData
    from .story import focus

    summary = record.summary()
    world = record.world()
    telemetry = record.telemetry()
    track = record.track()
    channels = {c["key"]: c for c in record.channel_meta()}
    start, end = parse_iso(record.sim_start), parse_iso(record.sim_end)
    if at_ms is not None and not start <= at_ms <= end:
        raise InputError("--at", f"{format_iso(at_ms)} is outside the run ({record.sim_start} to {record.sim_end})")
    d = ReportData(record=record, summary=summary, world=world, telemetry=telemetry, track=track,
                   channels=channels, events=record.event_log(), commands=record.commands(),
                   at_ms=end if at_ms is None else at_ms)
    d.focus = focus(d)
    if at_ms is None and d.focus is not None and d.focus.notable:
        d.at_ms = int(d.t_ms[d.focus.index])
    return d


def render_report(record: RunRecord, at_ms: Optional[int] = None) -> str:
    """The report's HTML text."""
    from .page import render

    return render(load_data(record, at_ms))


def write_report(record: RunRecord, out: "str | Path | None" = None, at_ms: Optional[int] = None) -> Path:
    """Write the report of a stored run; return its path.

    ``out`` defaults to ``report.html`` in the run's folder; an existing folder gets
    ``report-ID.html`` inside it. From a read-only archive the default is ``report-ID.html``
    in the current folder.
    """
    if out is None and record.archive is not None and getattr(record.archive, "readonly", False):
        out = Path.cwd() / f"report-{record.id}.html"
    path = Path(out) if out is not None else record.path / "report.html"
    if path.is_dir():
        path = path / f"report-{record.id}.html"
    html = render_report(record, at_ms)  # everything that can fail on input fails before a byte is written
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(str(path), f"cannot write the report: {exc.strerror or exc}") from None
    return path
