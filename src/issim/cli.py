"""The ``issim`` command line: a thin layer over the Python API.

Every command validates its input at the edge and leaves the work to the library.
Bad input of any kind ends with one line on stderr, ``issim: error: SOURCE: PROBLEM``,
and exit status 2.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import FetchError, InputError, StoreError
from .inputs import SEED_LIMIT, check_seed

if TYPE_CHECKING:
    from rich.console import Console

# Startup: this module imports only typer and issim's light bottom layer. Everything else
# (numpy, pydantic, skyfield, the archive, rich's tables...) is imported inside the command
# that needs it, so that a one-shot command pays only for what it uses
# (tests/test_startup.py holds that; bench/startup.py measures it).


class _BareFlags:
    """Help that shows a flag as a flag: typer prints every boolean option, ``--help`` too, as
    ``--json <bool>``, as if it took a value; a flag takes none."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_bool_flag", False):
                param.metavar = ""
        return params


class _Group(_BareFlags, TyperGroup):
    pass


class _Command(_BareFlags, TyperCommand):
    pass


class _Typer(typer.Typer):
    """issim's command groups: commands and groups whose help shows flags as flags."""

    def __init__(self, **kwargs):
        super().__init__(cls=_Group, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                         **kwargs)

    def command(self, name: Optional[str] = None, **kwargs):
        return super().command(name, cls=_Command, **kwargs)


def _examples(*lines: str) -> str:
    """A command's ``--help`` epilogue: examples that work as shown (tests/test_cli_help.py runs them
    through the parser). A line is ``issim ...``, then optionally two spaces and ``# what it does``."""
    return "Examples:\n" + "\n".join(lines)


app = _Typer(help="issim: the International Space Station and the people aboard it, simulated.",
             epilog=_examples("issim track", "issim run nominal", "issim runs",
                              "issim passes --help  # each command's options, and examples"))


def _print_version(wanted: bool) -> None:
    if not wanted:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("issim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from . import __version__ as number
    sys.stdout.write(f"issim {number}\n")
    raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print issim's version and exit."),
) -> None:
    """The options that come before a command."""


@lru_cache(maxsize=None)
def out() -> Console:
    """The console for results, on stdout."""
    from rich.console import Console

    return Console(emoji=False)


@lru_cache(maxsize=None)
def err() -> Console:
    """The console for progress bars and notes, on stderr."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def _say(line: str) -> None:
    """One line on stderr as plain text: no markup, no emoji codes, no wrapping, no colour.

    Errors and warnings quote what the user gave (``a:x:b.toml``, ``[bold]``) and must show it as given.
    """
    sys.stderr.write(" ".join(str(line).split()) + "\n")
    sys.stderr.flush()


def _print_json(data) -> None:
    """Print JSON on stdout, plain (no colour), so that tools can read it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- long lists


def _limit_opt(default: int, what: str, order: str = ""):
    """``--limit N`` of a listing; 0 shows everything."""
    return typer.Option(default, "--limit", metavar="N", help=f"Show at most N {what}{order} (0: all).")


MatchOpt = typer.Option(None, "--match", metavar="TEXT", help="Only the rows with TEXT in a name (any case), or "
                                                               "matching it as a pattern with * and ? (atm.*.pp_co2_pa).")


def _check_limit(limit: int) -> None:
    if not 0 <= limit < SEED_LIMIT:
        raise InputError("--limit", "must be zero (all) or positive, below 2**63")


def _matches(pattern: Optional[str], *fields: str) -> bool:
    """Whether a row is wanted: any row without a pattern; with ``*``, ``?`` or ``[`` in it, a field
    that matches the pattern whole; otherwise a field that holds the text, in any case."""
    if not pattern:
        return True
    wanted = pattern.casefold()
    if any(c in pattern for c in "*?["):
        from fnmatch import fnmatchcase

        return any(fnmatchcase(str(f).casefold(), wanted) for f in fields)
    return any(wanted in str(f).casefold() for f in fields)


def _listing(title: str):
    """A table for a long list: a rule under the head, no boxes, so that the columns fit 80 characters."""
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)


def _print_listing(table, shown: int, total: int, noun: str, wanted: str = "") -> None:
    """A listing's table, then what it left out and how to see it; ``wanted`` says which rows were asked for."""
    if shown:
        out().print(table)
    if total == 0:
        out().print(f"No {noun}{' ' + wanted if wanted else ''}.", markup=False, highlight=False)
    elif shown < total:
        out().print(f"{shown} of {total} {noun} shown; --limit 0 shows all.", markup=False, highlight=False)


# --------------------------------------------------------------------------- station


@app.command(epilog=_examples(
    "issim station",
    "issim station --era 2018  # August 2018: Pirs, no Nauka",
    "issim station --json"))
def station(
    json_output: bool = typer.Option(False, "--json", help="Print the station as JSON data."),
    file: Optional[str] = typer.Option(
        None, "--file", metavar="PATH", help="Read this station TOML file instead of the bundled one."
    ),
    era: Optional[str] = typer.Option(
        None, "--era", help="The station as it was that day: an era of the file (bundled: 2018, 2020, 2024)."
    ),
) -> None:
    """Show the station: its modules by segment and the hatch graph."""
    from .station import load_station

    iss = load_station(file, era=era)
    if json_output:
        _print_json(iss.to_dict())
        return
    from .station.report import render_station

    render_station(iss, out())


# --------------------------------------------------------------------------- orbit

elements_app = _Typer(help="Element sets: list them, or download the current one.",
                      epilog=_examples("issim elements list", "issim elements update"))
app.add_typer(elements_app, name="elements")

ElementsOpt = typer.Option(
    None, "--elements", metavar="FILE", help="An element-set file (TLE, or OMM JSON/CSV/XML); default: bundled and downloaded sets."
)


def _time_arg(value: Optional[str], option: str) -> int:
    from .times import now_ms, parse_iso

    return now_ms() if value is None else parse_iso(value, option)


def _span(start: Optional[str], days: float) -> tuple[int, int]:
    from .times import MS_PER_DAY

    if not 0.0 < days <= 3660.0:
        raise InputError("--days", f"{days:g} is outside (0, 3660]")
    start_ms = _time_arg(start, "--start")
    return start_ms, start_ms + round(days * MS_PER_DAY)


def _hms(ms: int) -> str:
    from .times import format_iso

    return format_iso(ms, 0).replace("T", " ")


@app.command(epilog=_examples(
    "issim track",
    "issim track --at 2025-03-10T00:00:00Z --json",
    "issim track --elements iss.tle  # your own element set"))
def track(
    elements: Optional[str] = ElementsOpt,
    at: Optional[str] = typer.Option(None, "--at", help="ISO 8601 UTC time ending in Z; default: now."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where the ISS is: latitude, longitude, altitude, sunlight and speed."""
    from . import orbit

    at_ms = _time_arg(at, "--at")
    iss = orbit.elements_for(at_ms, path=elements)
    try:
        fix = orbit.track(iss, at_ms)
    except ValueError as exc:
        raise InputError(elements or "elements", str(exc)) from None
    if json_output:
        _print_json(fix.to_json())
        return
    from rich.table import Table

    table = Table(title="ISS position", show_header=False, title_justify="left")
    table.add_row("time (UTC)", _hms(fix.at_ms))
    table.add_row("latitude", f"{fix.lat_deg:+.4f}°")
    table.add_row("longitude", f"{fix.lon_deg:+.4f}°")
    table.add_row("altitude", f"{fix.alt_km:.2f} km")
    table.add_row("sunlit", "yes" if fix.sunlit else "no (in the Earth's shadow)")
    table.add_row("speed", f"{fix.speed_km_s:.3f} km/s")
    table.add_row("element set", f"{iss.epoch_iso} ({iss.source})")
    out().print(table)


@app.command(epilog=_examples(
    "issim passes --site london --days 3",
    "issim passes --site london --days 7 --visible --ics iss.ics  # a calendar",
    "issim passes --lat 48.85 --lon 2.35 --alt-m 35 --min-elevation 20 --json",
    "issim passes --site mcc-houston --chart charts  # a sky chart (SVG) per pass"))
def passes(
    site: Optional[str] = typer.Option(None, "--site", help="A known site (see the list in the error when wrong)."),
    lat: Optional[float] = typer.Option(None, "--lat", help="Latitude in degrees north (WGS84)."),
    lon: Optional[float] = typer.Option(None, "--lon", help="Longitude in degrees east (WGS84)."),
    alt_m: float = typer.Option(0.0, "--alt-m", help="Height above the ellipsoid in metres."),
    elements: Optional[str] = ElementsOpt,
    start: Optional[str] = typer.Option(None, "--start", help="ISO 8601 UTC start; default: now."),
    days: float = typer.Option(1.0, "--days", help="How many days to search."),
    min_elevation: float = typer.Option(10.0, "--min-elevation", help="Elevation mask in degrees."),
    visible: bool = typer.Option(False, "--visible", help="Only what the naked eye can see: the station "
                                                          "sunlit, the Sun 6° or more below the horizon."),
    tz: Optional[str] = typer.Option(None, "--tz", help="IANA time zone for the times shown (Europe/London); "
                                                        "default: the site's own, else UTC."),
    chart: Optional[str] = typer.Option(None, "--chart", metavar="DIR", help="Write a sky chart (SVG) of each "
                                                                             "pass into this folder."),
    ics: Optional[str] = typer.Option(None, "--ics", metavar="FILE", help="Write the passes as an iCalendar "
                                                                          "file (RFC 5545)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """When the ISS passes over a place: rise, highest point and set, with azimuths, visibility and brightness.
    """
    from . import orbit
    from .files import check_writable
    from .orbit.forecast import forecast
    from .orbit.sites import time_zone

    if site is not None and (lat is not None or lon is not None):
        raise InputError("--site", "give either --site or --lat and --lon, not both")
    if site is None and (lat is None or lon is None):
        raise InputError("--site", "say where: --site NAME, or --lat DEG --lon DEG")
    if site is not None:
        where = orbit.find_site(site)
    else:
        if not -90.0 <= lat <= 90.0:
            raise InputError("--lat", f"{lat:g} is outside [-90, 90]")
        if not -180.0 <= lon <= 360.0:
            raise InputError("--lon", f"{lon:g} is outside [-180, 360]")
        if not -500.0 <= alt_m <= 9000.0:
            raise InputError("--alt-m", f"{alt_m:g} m is not a height on Earth's surface")
        where = orbit.GroundSite(id="custom", name=f"{lat:.4f}, {lon:.4f}", lat_deg=lat, lon_deg=lon, alt_m=alt_m)
    if not 0.0 <= min_elevation < 90.0:
        raise InputError("--min-elevation", f"{min_elevation:g} is outside [0, 90)")
    if tz is not None:
        time_zone(tz, "--tz")
    if ics is not None:
        check_writable(ics, "--ics")
    if chart is not None:
        _check_folder(chart, "--chart")
    start_ms, end_ms = _span(start, days)
    iss = orbit.elements_for(start_ms, end_ms, path=elements)
    seen = forecast(iss, where, start_ms, end_ms, min_elevation, tz, visible)
    if ics is not None:
        _write_ics(seen, ics)
    if chart is not None:
        _write_charts(seen, chart)
    if json_output:
        _print_json(seen.to_json())
        return
    _print_passes(seen)


def _check_folder(path: str, option: str) -> None:
    from pathlib import Path

    if Path(path).exists() and not Path(path).is_dir():
        raise InputError(option, f"{path} is a file; give a folder")


def _write_ics(seen, path: str) -> None:
    from .files import write_atomic
    from .orbit.ical import calendar_text
    from .times import now_ms

    name = f"ISS {'visible ' if seen.visible_only else ''}passes over {seen.site.name}"
    write_atomic(path, calendar_text(seen.calendar_events(), name, now_ms()), "--ics")


def _write_charts(seen, folder: str) -> None:
    from pathlib import Path

    from .files import write_atomic
    from .orbit.skychart import sky_chart
    from .times import in_zone

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--chart", f"cannot make the folder {folder}: {exc.strerror or exc}") from None
    for p, parts in zip(seen.passes, seen.visible):
        local = in_zone(p.aos_ms, seen.zone)
        brightest = f", mag {min(v.magnitude for v in parts):.1f}" if parts else ""
        title = f"ISS over {seen.site.name}, {local:%Y-%m-%d %H:%M %Z}, {p.max_elevation_deg:.0f}°{brightest}"
        svg = sky_chart(seen.elements, seen.site, p, parts, seen.zone, title)
        write_atomic(Path(folder) / f"pass-{_hms(p.aos_ms).replace('-', '').replace(':', '').replace(' ', '-')}.svg",
                     svg, "--chart")


def _print_passes(seen) -> None:
    """The forecast as a table of at most 80 columns, times in the forecast's zone."""
    from rich.table import Table

    from .orbit.forecast import compass
    from .times import in_zone

    if seen.unreliable:
        out().print(seen.banner(), markup=False, highlight=False, style="bold")

    def at(ms: int, el: float | None, az: float) -> str:
        high = "" if el is None else f" {el:2.0f}°"
        return f"{in_zone(ms, seen.zone):%H:%M:%S}{high} {compass(az)}"

    zone_now = in_zone(seen.start_ms, seen.zone).tzname()
    what = "visible passes" if seen.visible_only else "passes"
    title = f"ISS {what} over {seen.site.name} above {seen.min_elevation_deg:g}°, times {seen.zone_name}"
    if zone_now and zone_now != seen.zone_name:
        title += f" ({zone_now})"
    if seen.unreliable:
        title = "UNRELIABLE " + title
    table = Table(title=title, title_justify="left")
    if seen.visible_only:
        for col in ("date", "appears", "highest", "disappears", "mag"):
            table.add_column(col, justify="right" if col == "mag" else "left", no_wrap=True)
        for p, parts in zip(seen.passes, seen.visible):
            for v in parts:
                table.add_row(f"{in_zone(v.start.t_ms, seen.zone):%Y-%m-%d}",
                              at(v.start.t_ms, v.start.elevation_deg, v.start.azimuth_deg),
                              at(v.highest.t_ms, v.highest.elevation_deg, v.highest.azimuth_deg),
                              at(v.end.t_ms, v.end.elevation_deg, v.end.azimuth_deg), f"{v.magnitude:.1f}")
    else:
        for col in ("date", "rise", "highest", "set", "seen, mag"):
            table.add_column(col, justify="right" if col == "seen, mag" else "left", no_wrap=True)
        for p, parts in zip(seen.passes, seen.visible):
            brightness = f"{min(v.magnitude for v in parts):.1f}" if parts else "no"
            table.add_row(f"{in_zone(p.aos_ms, seen.zone):%Y-%m-%d}", at(p.aos_ms, None, p.aos_azimuth_deg),
                          at(p.culmination_ms, p.max_elevation_deg, p.culmination_azimuth_deg),
                          at(p.los_ms, None, p.los_azimuth_deg), brightness)
    out().print(table)
    count = sum(len(v) for v in seen.visible) if seen.visible_only else len(seen.passes)
    out().print(f"{count} {what}; element set {seen.elements.epoch_iso}"
              + ("" if seen.visible_only else "; seen: visible to the naked eye (magnitude)"),
              markup=False, highlight=False)
    if seen.unreliable:
        out().print(seen.banner(), markup=False, highlight=False, style="bold")


@app.command(epilog=_examples(
    "issim eclipses",
    "issim eclipses --start 2025-03-09T00:00:00Z --days 1 --json"))
def eclipses(
    elements: Optional[str] = ElementsOpt,
    start: Optional[str] = typer.Option(None, "--start", help="ISO 8601 UTC start; default: now."),
    days: float = typer.Option(1.0, "--days", help="How many days to search."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """When the ISS is in the Earth's shadow (the Sun's centre hidden)."""
    from . import orbit

    start_ms, end_ms = _span(start, days)
    iss = orbit.elements_for(start_ms, end_ms, path=elements)
    found = orbit.eclipses(iss, start_ms, end_ms)
    if json_output:
        _print_json([e.to_json() for e in found])
        return
    from rich.table import Table

    table = Table(title="ISS eclipses", title_justify="left")
    table.add_column("entry (UTC)")
    table.add_column("exit")
    table.add_column("duration", justify="right")
    for e in found:
        table.add_row(_hms(e.start_ms), _hms(e.end_ms)[11:], f"{e.duration_s / 60:.1f} min")
    out().print(table)
    beta = float(orbit.beta_angle_deg(iss, [start_ms])[0])
    out().print(f"{len(found)} eclipses; beta angle at the start {beta:+.1f}°; element set {iss.epoch_iso}")


@elements_app.command("update", epilog=_examples(
    "issim elements update",
    "issim elements list --limit 1  # the newest set, now the default"))
def elements_update(
    url: Optional[str] = typer.Option(None, "--url", help="Where to download from; default: CelesTrak's GP service."),
) -> None:
    """Download the current ISS element set; it becomes the default."""
    from . import orbit

    path, fresh = orbit.update(url)
    newest = max(fresh, key=lambda s: s.epoch_ms)
    out().print(f"saved {len(fresh)} element set(s) to {path}; newest epoch {newest.epoch_iso}")


@elements_app.command("list", epilog=_examples(
    "issim elements list",
    "issim elements list --since 2025-01-01 --limit 0  # every set of 2025",
    "issim elements list --until 2020-01-01 --limit 3  # before 2020",
    "issim elements list --limit 1 --json"))
def elements_list(
    elements: Optional[str] = ElementsOpt,
    since: Optional[str] = typer.Option(None, "--since", metavar="TIME", help="Only sets with an epoch at or after "
                                                                           "TIME (ISO 8601 UTC, or a date)."),
    until: Optional[str] = typer.Option(None, "--until", metavar="TIME", help="Only sets with an epoch before TIME."),
    limit: int = _limit_opt(20, "sets", ", newest first"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The element sets available, newest first: epoch, mean altitude, inclination and where each is from."""
    from . import orbit

    _check_limit(limit)
    lo = None if since is None else _time_arg(since, "--since")
    hi = None if until is None else _time_arg(until, "--until")
    sets = [s for s in reversed(orbit.available_sets(elements))
            if (lo is None or s.epoch_ms >= lo) and (hi is None or s.epoch_ms < hi)]
    shown = sets[:limit or None]
    if json_output:
        _print_json([{"epoch": s.epoch_iso, "norad_id": s.norad_id, "mean_altitude_km": round(s.mean_altitude_km, 2),
                      "inclination_deg": round(s.inclination_deg, 4), "source": s.source} for s in shown])
        return
    table = _listing(f"ISS element sets, newest first ({len(sets)} in all)" if sets else "ISS element sets")
    for col, justify in (("epoch (UTC)", "left"), ("mean altitude", "right"), ("inclination", "right"),
                         ("from", "left")):
        table.add_column(col, justify=justify, no_wrap=col != "from")
    for s in shown:
        table.add_row(_hms(s.epoch_ms), f"{s.mean_altitude_km:.1f} km", f"{s.inclination_deg:.3f}°",
                      _source_text(s.source, orbit.user_elements_path()))
    wanted = " and ".join(w for w in (since and f"since {since}", until and f"before {until}") if w)
    _print_listing(table, len(shown), len(sets), "element sets", wanted)


def _source_text(source: str, downloads) -> str:
    """Where a set is from, short: ``bundled record 499``, ``downloaded record 2``, ``iss.tle line 3``."""
    import os

    m = re.fullmatch(r"(.*?)(?: (record \d+)|:(\d+))", source)
    where, place = (m.group(1), m.group(2) or f"line {m.group(3)}") if m else (source, "")
    if where.startswith("bundled:"):
        name = "bundled"
    elif where == str(downloads):
        name = "downloaded"
    else:
        name = os.path.basename(where) or where
    return f"{name} {place}".strip()


# --------------------------------------------------------------------------- scenarios


@app.command(epilog=_examples(
    "issim run nominal",
    "issim run leak --hours 12 --seed 7 --json",
    'issim run iss --as "Gordon Barrett=idle"  # another policy for one person',
    "issim run my-scenario.toml --report  # your own scenario, and its report"))
def run(
    scenario: str = typer.Argument(..., help="A bundled scenario name (see issim scenarios) or a TOML file."),
    days: Optional[float] = typer.Option(None, "--days", help="Simulated days (default: the scenario's)."),
    hours: Optional[float] = typer.Option(None, "--hours", help="Simulated hours, instead of --days."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Root random seed (default: the scenario's)."),
    json_output: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
    out_dir: Optional[str] = typer.Option(
        None, "--out", metavar="DIR", help="The run archive to store the run in (default: $ISSIM_HOME, else ./runs)."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not store the run in the archive."),
    report: bool = typer.Option(False, "--report", help="Write the run's HTML report too, and say where it is."),
    as_: list[str] = typer.Option([], "--as", metavar="PERSON=POLICY",
                                  help="A crew member decided by another policy: mind, idle or random (repeatable)."),
) -> None:
    """Run a scenario, store it in the run archive, and summarise what happened."""
    from contextlib import nullcontext

    from .runner import Runner, check_policies
    from .scenario import load_scenario
    from .times import MS_PER_DAY

    if days is not None and hours is not None:
        raise InputError("--days", "give --days or --hours, not both")
    length_days = days if days is not None else (hours / 24.0 if hours is not None else None)
    if length_days is not None and not 0.0 < length_days <= 3660.0:
        if hours is not None:
            raise InputError("--hours", f"{hours:g} hours is outside (0, {3660 * 24}]")
        raise InputError("--days", f"{length_days:g} days is outside (0, 3660]")
    if seed is not None:
        check_seed(seed, "--seed")
    if no_store and (out_dir is not None or report):
        raise InputError("--no-store", "--out and --report need the run stored; leave out --no-store")
    spec = load_scenario(scenario)
    end_ms = spec.default_end_ms if length_days is None else spec.start_ms + round(length_days * MS_PER_DAY)
    frame_ms = round(spec.scenario.frame_s * 1000)
    if length_days is not None and end_ms - spec.start_ms < frame_ms:
        raise InputError("--hours" if hours is not None else "--days",
                         f"{length_days * 24:g} hours is shorter than one frame ({spec.scenario.frame_s:g} s): "
                         f"nothing would run")
    policies = _pairs(as_, "--as")
    check_policies(spec, policies)
    runner = Runner(spec, seed=seed, end_ms=end_ms, policies=policies)
    sim = runner.sim
    archive = None
    if not no_store:
        from .archive import Archive

        archive = Archive.open(out_dir, create=True)
    from .sim.compiled import CompileClock

    recording = archive.recording(runner) if archive is not None else nullcontext()
    compiling = CompileClock()  # a checkout's first run compiles the physics kernels: say how long it took
    if json_output:
        with recording as rec, compiling:
            (rec.run if rec is not None else runner.run)(end_ms)
        if compiling.note():
            err().print(compiling.note(), markup=False, highlight=False)
        _print_json(rec.summary if rec is not None else runner.summary())
        if rec is not None:
            _stored(archive, rec.run_id, report, err())
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .scenario.timeline import Timeline

    total = (end_ms - sim.t_ms) // sim.dt_ms
    timeline = Timeline()
    from rich.markup import escape

    out().print(f"[bold]{escape(spec.scenario.title)}[/] — seed {sim.seed}")
    with recording as rec, compiling:
        with Progress(
            TextColumn(f"[bold]{spec.name}[/]"), BarColumn(), TextColumn("{task.fields[day]}"), TimeElapsedColumn(),
            console=out(), transient=True,
        ) as bar:
            task = bar.add_task("run", total=total, day="")

            def show(frames: int) -> None:
                for line in timeline.new_lines(sim.state.log):
                    bar.console.print(line, markup=False, highlight=False)
                bar.update(task, completed=frames, day=f"day {sim.days_run:.1f}")

            (rec.run if rec is not None else runner.run)(end_ms, progress=show)
            show(sim.state.frame)
    if compiling.note():
        err().print(compiling.note(), markup=False, highlight=False)
    for line in timeline.hidden_summary():
        out().print(line, markup=False, highlight=False)
    from .scenario.report import render_summary

    render_summary(rec.summary if rec is not None else runner.summary(), spec, out())
    if rec is not None:
        _stored(archive, rec.run_id, report, out())


@app.command(epilog=_examples(
    'issim play iss --as "Gordon Barrett"  # from +30 h, the war seen',
    'issim play iss --as "Nicholai Pulov" --seed 7 --start +30h20m',
    'issim play nominal --as "Maya Torres" --start +0h'))
def play(
    scenario: str = typer.Argument(..., help="A bundled scenario name (see issim scenarios) or a TOML file."),
    person: str = typer.Option(..., "--as", metavar="PERSON", help="The crew member you play."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Root random seed (default: the scenario's)."),
    start: Optional[str] = typer.Option(None, "--start", metavar="OFFSET",
                                        help="Where you take over, after the scenario's start (+30h); before it the "
                                             "crew mind decides for you. Default: +30h for iss, else +0h."),
    out_dir: Optional[str] = typer.Option(
        None, "--out", metavar="DIR", help="The run archive to store the game in (default: $ISSIM_HOME, else ./runs)."
    ),
) -> None:
    """Play one crew member in the terminal: you see what they see, give their commands, the others are the crew mind.
    """
    from .play.game import session, start_offset_ms
    from .scenario import load_scenario

    if seed is not None:
        check_seed(seed, "--seed")
    spec = load_scenario(scenario)
    crew = [c.name for c in spec.crew]
    if person not in crew:
        raise InputError("--as", f"no crew member {person!r}; the crew are {', '.join(crew) or 'nobody'}")
    offset = start_offset_ms(spec, start)  # a bad --start stops here, before anything runs
    try:
        from .play.app import PlayApp
    except ImportError:
        raise InputError("play", "the terminal game needs Textual: pip install 'issim[play]'") from None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    frames = max(1, offset // round(spec.scenario.frame_s * 1000))
    bar = Progress(TextColumn(f"[bold]{spec.name}[/] up to where you take over"), BarColumn(), TimeElapsedColumn(),
                   console=err(), transient=True)
    task = bar.add_task("warm", total=frames)
    bar.start()
    try:
        with session(spec, person, seed=seed, start=start, archive=out_dir,
                     progress=lambda n: bar.update(task, completed=n)) as game:
            bar.stop()
            PlayApp(game, spec.name).run()
            run_id, view = game.run_id, game.view()
    finally:
        bar.stop()
    from .archive import Archive

    arc = Archive.open(out_dir)
    out().print(f"{view.person}: {view.ended or 'you ended the game'} at {view.clock}.", markup=False, highlight=False)
    if view.ending:
        out().print(f"Ending: {view.ending.splitlines()[0]}", markup=False, highlight=False)
    _stored(arc, run_id, False, out())


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` as a mapping (a name may hold spaces, not '=')."""
    pairs = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(option, f"{v!r} is not NAME=VALUE")
        if key.strip() in pairs:
            raise InputError(option, f"{key.strip()} is given twice")
        pairs[key.strip()] = value.strip()
    return pairs


def _shown_path(path) -> str:
    """A path as the user would type it: relative to here when it is below here."""
    import os
    from pathlib import Path

    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path) if os.sep in str(path) else f"./{path}"


def _stored(archive, run_id: int, report: bool, console: Console) -> None:
    """Say where the run went (and write its report when asked)."""
    record = archive.get(run_id)
    console.print(f"Stored as run {run_id} in {_shown_path(record.path)} "
                  f"(issim show {run_id} · issim report {run_id})", markup=False, highlight=False, soft_wrap=True)
    if report:
        from .archive import write_report

        path = write_report(record)
        console.print(f"Report: {_shown_path(path)}", markup=False, highlight=False, soft_wrap=True)


@app.command(epilog=_examples(
    "issim scenarios",
    "issim run leak  # run one"))
def scenarios() -> None:
    """List the bundled scenarios, one line each."""
    from rich.table import Table

    from .scenario import bundled_names, load_scenario

    table = Table(show_header=True, title="Bundled scenarios", title_justify="left")
    table.add_column("name")
    table.add_column("days", justify="right")
    table.add_column("what happens")
    for name in bundled_names():
        s = load_scenario(name)
        table.add_row(name, f"{s.scenario.days:g}", s.scenario.title)
    out().print(table)


@app.command(epilog=_examples(
    "issim telemetry",
    "issim telemetry leak --match atm.poisk  # one module's air",
    "issim telemetry --match '*.pp_co2_pa'  # carbon dioxide everywhere",
    "issim telemetry iss --json"))
def telemetry(
    scenario: str = typer.Argument("nominal", help="A bundled scenario name or a TOML file."),
    match: Optional[str] = MatchOpt,
    limit: int = _limit_opt(0, "channels"),
    json_output: bool = typer.Option(False, "--json", help="Print the dictionary as JSON."),
) -> None:
    """The telemetry dictionary of a scenario: every channel, its unit and limits."""
    from .scenario import build_simulation

    _check_limit(limit)
    channels = [c.describe() for c in build_simulation(scenario).channels()]
    channels = [c for c in channels if _matches(match, c["key"], c["name"])]
    shown = channels[:limit or None]
    if json_output:
        _print_json(shown)
        return
    table = _listing(f"Telemetry of {scenario}: {len(channels)} channels (docs/telemetry.md)")
    limits = [_limits_text(c["limits"]) for c in shown]
    # Keys and units whole; limits folded within at most 24 columns; names cut to the rest (whole in --json).
    key_w = max([len("key")] + [len(c["key"]) for c in shown])
    unit_w = max([len("unit")] + [len(c["unit"]) for c in shown])
    room = out().width - key_w - unit_w - 9  # 9: the gaps between four columns
    limits_w = max(8, min(24, room - 16, max([len("limits")] + [len(t) for t in limits])))
    for col, width in (("key", key_w), ("unit", unit_w), ("limits", limits_w)):
        table.add_column(col, width=width)
    table.add_column("name", no_wrap=True, overflow="ellipsis", max_width=max(8, room - limits_w))
    for c, text in zip(shown, limits):
        table.add_row(c["key"], c["unit"], text, c["name"])
    _print_listing(table, len(shown), len(channels), "channels", f"match {match!r}" if match else "")


def _limits_text(limits: dict) -> str:
    """``{"warn_low": 19500, "warn_high": 23100, "danger_low": 16000}`` -> ``warn <19500 >23100; danger <16000``."""
    parts = []
    for level in ("warn", "danger"):
        bounds = [f"{sign}{limits[f'{level}_{side}']:g}" for side, sign in (("low", "<"), ("high", ">"))
                  if limits.get(f"{level}_{side}") is not None]
        if bounds:
            parts.append(f"{level} {' '.join(bounds)}")
    return "; ".join(parts) or "—"


@app.command(epilog=_examples(
    "issim state iss-canon",
    "issim state --match crew.  # the crew's bodies and whereabouts",
    "issim state leak --match 'atm.*' --json"))
def state(
    scenario: str = typer.Argument("nominal", help="A bundled scenario name or a TOML file."),
    match: Optional[str] = MatchOpt,
    limit: int = _limit_opt(0, "keys"),
    json_output: bool = typer.Option(False, "--json", help="Print the declared state as JSON."),
) -> None:
    """The declared state of a scenario: every key, its owner, shape, dtype, unit and readers."""
    from .scenario import build_simulation
    from .sim.schema import check_schema, describe

    _check_limit(limit)
    sim = build_simulation(scenario)
    check_schema(sim)
    rows = [r for r in describe(sim) if _matches(match, r["key"], r["owner"])]
    shown = rows[:limit or None]
    if json_output:
        _print_json(shown)
        return
    table = _listing(f"State of {scenario}: {len(rows)} keys (docs/state.md)")
    table.add_column("key", no_wrap=True)
    table.add_column("owner", no_wrap=True)
    table.add_column("shape", overflow="fold")
    table.add_column("dtype", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("readers (writers)", overflow="fold", min_width=16)
    for r in shown:
        if r["kind"] == "fact":
            shape = "fact"
        else:
            size = "×".join(str(n) for n in r["resolved"] or ()) or "?"
            shape = f"({', '.join(str(d) for d in r['shape'])}) {size}"
        readers = ", ".join(r["readers"] + [f"({w})" for w in r["writers"]])
        table.add_row(r["key"], r["owner"], shape, r["dtype"], r["unit"], readers or "—")
    _print_listing(table, len(shown), len(rows), "keys", f"match {match!r}" if match else "")


# --------------------------------------------------------------------------- commands


@app.command(epilog=_examples(
    "issim commands",
    "issim commands --match hatch",
    "issim commands close_hatch  # one in full, with who may issue it",
    "issim commands --match propulsion --json"))
def commands(
    name: Optional[str] = typer.Argument(None, metavar="[NAME]", help="One command, shown in full."),
    match: Optional[str] = MatchOpt,
    limit: int = _limit_opt(0, "commands"),
    json_output: bool = typer.Option(False, "--json", help="Print the catalogue as JSON."),
) -> None:
    """The command catalogue: every command, its target, arguments and significance; one in full with who may issue it.

    --match looks in the command's name, target, system, significance and summary.
    """
    from .control.commands import SPECS, describe

    _check_limit(limit)
    rows = [describe(s) for s in SPECS]
    if name is not None:
        found = [r for r in rows if r["name"] == name]
        if not found:
            import difflib

            close = difflib.get_close_matches(name, [r["name"] for r in rows], n=1)
            raise InputError("NAME", f"no command {name!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                                "; issim commands lists them"))
        if json_output:
            _print_json(found[0])
        else:
            _print_command(found[0])
        return
    rows = [r for r in rows if _matches(match, r["name"], r["target"], r["system"], r["significance"], r["summary"])]
    shown = rows[:limit or None]
    if json_output:
        _print_json(shown)
        return
    table = _listing(f"{len(rows)} commands (issim commands NAME for one in full; docs/commands.md)")
    table.add_column("command", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("arguments", max_width=24)
    table.add_column("level", no_wrap=True)
    table.add_column("what it does", min_width=20)
    for r in shown:
        table.add_row(r["name"], r["target"], ", ".join(r["args"]) or "—", r["significance"], r["summary"])
    _print_listing(table, len(shown), len(rows), "commands", f"match {match!r}" if match else "")


def _print_command(r: dict) -> None:
    from rich.table import Table

    card = Table(show_header=False, box=None, pad_edge=False, title=f"{r['name']}: {r['summary']}",
                 title_justify="left", title_style="bold")
    card.add_column(style="bold", no_wrap=True)
    card.add_column()
    card.add_row("target", f"{r['target']} ({r['target_text']})" if r.get("target_text") else r["target"])
    card.add_row("arguments", "\n".join(r["args"]) or "—")
    card.add_row("significance", r["significance"])
    card.add_row("system", r["system"])
    card.add_row("who may", r["who"])
    out().print(card)


@app.command(epilog=_examples(
    "issim endings iss --seeds 200",
    "issim endings iss --seeds 200 --out iss.jsonl  # Ctrl-C stops; rerun goes on",
    "issim endings standoff --seeds 20 --hours 48 --json"))
def endings(
    scenario: str = typer.Argument(..., help="A bundled scenario name or a TOML file."),
    seeds: int = typer.Option(20, "--seeds", help="How many seeds: 1, 2, ..., N."),
    first: int = typer.Option(1, "--first-seed", help="The first seed."),
    hours: Optional[float] = typer.Option(None, "--hours", help="Simulated hours per run (default: the scenario's)."),
    jobs: int = typer.Option(2, "--jobs", help="Worker processes."),
    out_file: Optional[str] = typer.Option(
        None, "--out", metavar="FILE",
        help="The results file, one JSON line per run, written as each finishes; seeds already in it are not run "
             "again (default: endings/SCENARIO.jsonl in the run archive, $ISSIM_HOME or ./runs)."),
    until_resolved: bool = typer.Option(
        True, "--until-resolved/--to-the-end",
        help="Stop each run once its story is over (the crew gone, or six quiet hours with no one acting), "
             "or run each to its end."),
    top: int = typer.Option(10, "--top", metavar="N", help="Show the N commonest story paths."),
    json_output: bool = typer.Option(False, "--json", help="Print every run's record and the sums as JSON."),
) -> None:
    """Run a scenario over many seeds: the classes of its endings, the story paths to them, and why."""
    from .scenario import load_scenario
    from .campaign.endings import Results, default_out, render, stream, table

    if not 1 <= seeds <= 100_000:
        raise InputError("--seeds", f"{seeds} is outside [1, 100000]")
    check_seed(first, "--first-seed")
    check_seed(first + seeds - 1, "--seeds")
    if not 1 <= jobs <= 64:
        raise InputError("--jobs", f"{jobs} is outside [1, 64]")
    if hours is not None and not 0.0 < hours <= 87_840.0:
        raise InputError("--hours", f"{hours:g} is outside (0, 87840]")
    if not 1 <= top <= 1000:
        raise InputError("--top", f"{top} is outside [1, 1000]")
    spec = load_scenario(scenario)  # bad files fail here, once, with one line
    length_ms = None if hours is None else round(hours * 3_600_000)
    if length_ms is not None and length_ms < spec.scenario.frame_s * 1000:
        raise InputError("--hours", f"{hours:g} hours is shorter than one frame ({spec.scenario.frame_s:g} s): "
                                    f"nothing would run")
    from .scenario import build_simulation

    build_simulation(spec, seed=first)  # what only a built run checks (its decisions) fails here, before any file
    path = out_file if out_file is not None else default_out(spec.name, hours, until_resolved)
    results = Results.open(path, spec.name, hours, until_resolved)
    wanted = list(range(first, first + seeds))
    done = results.done()
    todo = [s for s in wanted if s not in done]
    if results.dropped:
        _say(f"issim: note: the last line of {results.path} was cut short; its run is done again")
    if len(todo) < len(wanted):
        _say(f"issim: note: {len(wanted) - len(todo)} of the {len(wanted)} seed{'s' if len(wanted) != 1 else ''} "
             f"{'is' if len(wanted) - len(todo) == 1 else 'are'} already in {results.path}; "
             f"running the other {len(todo)} (give another --out to start afresh)")
    import time

    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    interrupted = False
    runs = stream(scenario, todo, jobs=jobs, length_ms=length_ms, until_resolved=until_resolved)
    try:
        with Progress(TextColumn(f"[bold]{spec.name}[/]"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
                      TimeElapsedColumn(), console=err(), transient=True) as bar:
            task = bar.add_task("runs", total=len(wanted), completed=len(wanted) - len(todo), rate="")
            started, finished = time.monotonic(), 0
            for rec in runs:
                results.add(rec)
                finished += 1
                rate = finished / max(time.monotonic() - started, 1e-9)
                bar.update(task, advance=1, rate=f"{rate:.2f} runs/s")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runs.close()
        results.close()
    mine = sorted((r for r in results.records if first <= r["seed"] < first + seeds), key=lambda r: r["seed"])
    if interrupted:
        _say(f"issim: interrupted: {len(mine)} of {len(wanted)} runs are in {results.path}; "
             "run the same command again to go on")
    if json_output:
        _print_json({"scenario": spec.name, "out": str(results.path), "complete": len(mine) == len(wanted),
                     "runs": mine, **table(mine, top)})
    else:
        render(spec.name, mine, out(), hours, until_resolved=until_resolved, wanted=len(wanted), top=top)
    if interrupted:
        raise typer.Exit(130)


@app.command(epilog=_examples(
    'issim evaluate cooperative --role "Kira Foster" --episodes 20',
    'issim evaluate mind --role "Gordon Barrett"  # the crew mind: the reference',
    'issim evaluate random --role "Nicholai Pulov" --population paranoid --json',
    'issim evaluate my_policy.py:act --role "Kira Foster" --jobs 2'))
def evaluate(
    policy: str = typer.Argument(
        ..., metavar="POLICY",
        help="random or cooperative (the baselines), mind (the crew's own mind: the reference), or FILE.py:NAME "
             "or MODULE:NAME: a callable (agent, obs, env) -> action, or a class of them (reset() before each "
             "episode)."),
    role: str = typer.Option(..., "--role", metavar="PERSON", help="The crew member the policy plays."),
    scenario: str = typer.Option("iss", "--scenario", help="A bundled scenario name or a TOML file."),
    episodes: int = typer.Option(20, "--episodes", "-n", help="Episodes per population (seeds S, S+1, ...)."),
    seed: int = typer.Option(1, "--seed", metavar="S", help="The first episode's seed (the same in every population)."),
    start: str = typer.Option("+30h", "--start", metavar="OFFSET",
                              help="Where the policy takes over, after the scenario's start; before it the crew "
                                   "mind decides for the role."),
    hours: Optional[float] = typer.Option(
        None, "--hours", help="Simulated hours of each episode after --start (default: to the scenario's end); "
                              "an episode ends sooner once its story is over."),
    population: Optional[List[str]] = typer.Option(
        None, "--population", metavar="NAME",
        help="A population of co-players: cooperative, paranoid, loyalist, mixed (repeat; default all four)."),
    json_output: bool = typer.Option(False, "--json", help="Print the result and every episode as JSON."),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes."),
) -> None:
    """Score a policy for one person against held-out crews: endings, survival, control, with 95 % CIs."""
    import time

    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .rl.evaluate import plan, render, run as run_checked

    checked = plan(policy, role, scenario=scenario, populations=population, episodes=episodes, seed=seed,
                   start=start, hours=hours, jobs=jobs)  # bad input stops here, before anything runs
    total = checked["episodes"] * len(checked["populations"])
    started = time.monotonic()
    # The bar only on a terminal: elsewhere it would leave an empty line before an error's one line.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                   TimeRemainingColumn(), TimeElapsedColumn(), console=err(), transient=True,
                   disable=not err().is_terminal)
    with bar:
        task = bar.add_task(f"[bold]{escape(checked['name'])}[/] {escape(policy)} as {escape(role)}", total=total)
        result = run_checked(checked, progress=lambda _rec: bar.update(task, advance=1))
    if json_output:
        _print_json(result)
    else:
        render(result, out(), time.monotonic() - started)


# --------------------------------------------------------------------------- run archive

ArchiveOpt = typer.Option(
    None, "--archive", metavar="DIR", help="The run archive (default: $ISSIM_HOME, else ./runs)."
)


def _run_arg(text: str, source: str = "RUN") -> str:
    """A run id as typed, refused at once when its number cannot be one (before any archive is opened)."""
    from .archive.catalogue import check_run_number

    check_run_number(text, source)
    return text


def _open_archive(path: Optional[str]):
    from .archive import Archive

    return Archive.open(path)


# --------------------------------------------------------------------------- campaigns


class _CampaignGroup(_Group):
    """``issim campaign SCENARIO ...`` runs one (the ``run`` command); ``issim campaign show|query|...`` the rest."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


campaign_app = typer.Typer(cls=_CampaignGroup, add_completion=False, no_args_is_help=True,
                           pretty_exceptions_enable=False,
                           help="Campaigns: many runs of a scenario with dispersed inputs, stored, summed up, "
                                "queried. `issim campaign SCENARIO ...` is `issim campaign run SCENARIO ...`.",
                           epilog=_examples("issim campaign run iss --runs 200",
                                            "issim campaign show iss",
                                            "issim campaign query iss \"SELECT class, count(*) FROM outcomes GROUP BY 1\""))
app.add_typer(campaign_app, name="campaign")


def _campaign_command(name: str, *examples: str):
    return campaign_app.command(name, cls=_Command, epilog=_examples(*examples))


@_campaign_command("run", "issim campaign run iss --runs 200",
                   "issim campaign run iss --runs 1000 --engine ray --name iss-1000",
                   "issim campaign run standoff --runs 20 --hours 6  # rerun it to go on")
def campaign_run(
    scenario: str = typer.Argument(..., help="A bundled scenario name or a TOML file (with [[dispersions]])."),
    runs: int = typer.Option(..., "--runs", help="How many runs: 0, 1, ..., N-1."),
    engine: str = typer.Option("local", "--engine", help="local (worker processes) or ray."),
    address: Optional[str] = typer.Option(None, "--address", metavar="ADDR",
                                          help="A Ray cluster's address (with --engine ray; default: a local Ray)."),
    workers: int = typer.Option(2, "--workers", help="Worker processes (local) or runs in flight (ray)."),
    name: Optional[str] = typer.Option(None, "--name", help="The campaign's name (default: the scenario's, "
                                                           "with -Nh for --hours). The same name goes on with it."),
    seed: Optional[int] = typer.Option(None, "--seed", help="The campaign's seed (default: the scenario's); "
                                                            "run i has seed SEED + i."),
    hours: Optional[float] = typer.Option(None, "--hours", help="Simulated hours per run (default: the scenario's)."),
    until_resolved: bool = typer.Option(True, "--until-resolved/--to-the-end",
                                        help="Stop each run once its story is over, or run each to its end."),
    chunk: int = typer.Option(200, "--chunk", help="Runs per Parquet chunk."),
    archive: Optional[str] = typer.Option(None, "--archive", metavar="DIR",
                                          help="The run archive (default: $ISSIM_HOME, else ./runs)."),
    json_output: bool = typer.Option(False, "--json", help="Print the sums as JSON."),
) -> None:
    """Run a scenario many times with its dispersed inputs drawn afresh each run, into the archive."""
    import time

    from .archive import Archive
    from .campaign.runs import ENGINES, plan, run_campaign, scenario_bytes
    from .campaign.store import Campaign, check_name, default_name
    from .scenario.load import parse_scenario

    if not 1 <= runs <= 1_000_000:
        raise InputError("--runs", f"{runs} is outside [1, 1000000]")
    if engine not in ENGINES:
        raise InputError("--engine", f"no engine {engine!r}; engines: {', '.join(ENGINES)}")
    if address is not None and engine != "ray":
        raise InputError("--address", "is for --engine ray")
    if not 1 <= workers <= 4096:
        raise InputError("--workers", f"{workers} is outside [1, 4096]")
    if not 1 <= chunk <= 100_000:
        raise InputError("--chunk", f"{chunk} is outside [1, 100000]")
    if hours is not None and not 0.0 < hours <= 87_840.0:
        raise InputError("--hours", f"{hours:g} is outside (0, 87840]")
    if name is not None:
        check_name(name)
    raw, source = scenario_bytes(scenario)
    spec = parse_scenario(raw, source)  # a bad file or dispersion fails here, with one line
    seed = spec.scenario.seed if seed is None else seed
    check_seed(seed, "--seed")
    check_seed(seed + runs - 1, "--runs")
    length_ms = None if hours is None else round(hours * 3_600_000)
    if length_ms is not None and length_ms < spec.scenario.frame_s * 1000:
        raise InputError("--hours", f"{hours:g} hours is shorter than one frame ({spec.scenario.frame_s:g} s)")
    name = name or default_name(spec.name, hours, until_resolved)
    if engine == "ray":
        from .campaign.runs import connect_ray

        connect_ray(address, workers)  # a wrong address fails here, before the archive is touched
    store = Archive.open(archive, create=True)
    camp = Campaign.start(store, name, spec, raw, seed, hours, until_resolved, runs)
    try:
        done = camp.done()
        todo = [i for i in range(runs) if i not in done]
        tasks = plan(spec, raw, source, todo, seed, length_ms, until_resolved)
        if done and todo:
            _say(f"issim: note: {runs - len(todo)} of the {runs} runs of campaign {name} are done; running the other "
                 f"{len(todo)}")
        elif done:
            _say(f"issim: note: all {runs} runs of campaign {name} are done")
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        interrupted = False
        try:
            with Progress(TextColumn(f"[bold]{name}[/]"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
                          TimeElapsedColumn(), console=err(), transient=True) as bar:
                task = bar.add_task("runs", total=runs, completed=runs - len(todo), rate="")
                started, finished = time.monotonic(), [0]

                def tick(_rec) -> None:
                    finished[0] += 1
                    rate = finished[0] / max(time.monotonic() - started, 1e-9)
                    bar.update(task, advance=1, rate=f"{rate:.2f} runs/s")

                run_campaign(camp, tasks, engine=engine, workers=workers, address=address, chunk=chunk, progress=tick)
        except KeyboardInterrupt:
            interrupted = True
        _campaign_print(camp, json_output)
        if interrupted:
            _say(f"issim: interrupted: {len(camp.done())} of {runs} runs are in campaign {name}; run the same "
                 "command again to go on")
            raise typer.Exit(130)
    finally:
        camp.close()


def _campaign_print(camp, json_output: bool) -> None:
    from .campaign.stats import render
    from .campaign.store import CampaignTables

    tables = CampaignTables(camp)
    sums = tables.summary()
    if json_output:
        _print_json({"campaign": camp.name, **{k: v for k, v in tables.info.items() if k != "dispersions"},
                     "inputs": tables.inputs, **sums})
    else:
        render(camp.name, tables.info, sums, out())


def _campaign_open(name: str, archive: Optional[str]):
    from .campaign.store import Campaign

    return Campaign.open(_open_archive(archive), name)


@_campaign_command("show", "issim campaign show iss", "issim campaign show iss --json")
def campaign_show(name: str = typer.Argument(..., help="The campaign's name (issim campaign list)."),
                  archive: Optional[str] = ArchiveOpt,
                  json_output: bool = typer.Option(False, "--json", help="Print the sums as JSON.")) -> None:
    """A stored campaign summed up: endings, paths, survival, beats, and what moves each ending."""
    _campaign_print(_campaign_open(name, archive), json_output)


@_campaign_command("list", "issim campaign list")
def campaign_list(archive: Optional[str] = ArchiveOpt) -> None:
    """The campaigns in the archive: name, scenario, runs done of those asked for."""
    from .campaign.store import Campaign

    rows = Campaign.names(_open_archive(archive))
    if not rows:
        _say("issim: no campaigns yet (issim campaign SCENARIO --runs N makes one)")
        return
    for r in rows:
        length = "the scenario's length" if r["hours"] is None else f"{r['hours']:g} h"
        out().print(f"{r['name']}  {r['scenario']}  {r['done']} of {r['runs']} runs  seed {r['seed']}  {length}",
                    highlight=False, markup=False)


@_campaign_command("query", "issim campaign query iss \"SELECT class, count(*) FROM outcomes GROUP BY 1\"",
                   "issim campaign query iss \"SELECT * FROM people WHERE fate = 'dead'\" --json")
def campaign_query(name: str = typer.Argument(..., help="The campaign's name."),
                   sql: str = typer.Argument(..., help="SQL (DuckDB) over outcomes, people, beats, decisions, mind."),
                   archive: Optional[str] = ArchiveOpt,
                   json_output: bool = typer.Option(False, "--json", help="Print the rows as JSON.")) -> None:
    """SQL over a campaign's Parquet tables, with DuckDB."""
    from .campaign.store import query

    camp = _campaign_open(name, archive)
    frame = query(camp, sql)
    if camp.pending():
        _say(f"issim: note: {camp.pending()} runs of {name} are not in Parquet yet (it is running, or was stopped: "
             "run it again to finish)")
    if json_output:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False) + "\n")
    else:
        out().print(frame.to_string(index=False), highlight=False, markup=False)


@_campaign_command("report", "issim campaign report iss", "issim campaign report iss --out iss.html")
def campaign_report(name: str = typer.Argument(..., help="The campaign's name."),
                    out_file: Optional[str] = typer.Option(None, "--out", metavar="FILE",
                                                           help="The HTML file (default: report.html in the "
                                                                "campaign's folder)."),
                    archive: Optional[str] = ArchiveOpt) -> None:
    """A campaign's report: one self-contained HTML file with its charts and tables."""
    from .campaign.report import render
    from .campaign.store import CampaignTables
    from .files import check_writable, write_atomic

    camp = _campaign_open(name, archive)
    path = check_writable(out_file, "--out") if out_file is not None else camp.dir / "report.html"
    tables = CampaignTables(camp)
    write_atomic(path, render(camp.name, tables.info, tables.summary()), "--out")
    out().print(_shown_path(path), highlight=False, markup=False)


@_campaign_command("replay", "issim campaign replay iss 17",
                   "issim campaign replay iss 17 --store  # a run: issim branch last ...")
def campaign_replay(name: str = typer.Argument(..., help="The campaign's name."),
                    run_index: int = typer.Argument(..., metavar="RUN", help="The run's number (from 0)."),
                    archive: Optional[str] = ArchiveOpt,
                    store: bool = typer.Option(False, "--store", help="Also store the replay as a run of the archive "
                                                                      "(to branch, report or serve it)."),
                    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Run one stored campaign run again from its seed and inputs; check its event log's digest."""
    from .campaign.runs import replay

    camp = _campaign_open(name, archive)
    got = replay(camp, run_index, store=store)
    if store:
        _stored(camp.archive, got["run_id"], False, err())
    if json_output:
        _print_json(got)
    else:
        out().print(f"run {got['run']} (seed {got['seed']}): {got['class']}: {got['ending']}", highlight=False,
                    markup=False)
        out().print(f"inputs {json.dumps(got['inputs'])}", highlight=False, markup=False)
        out().print("the same event log (digest " + got["stored"][:16] + ")" if got["same"] else
                    f"a different event log: stored {got['stored'][:16]}, replayed {got['replayed'][:16]}",
                    highlight=False, markup=False)
    if not got["same"]:
        raise typer.Exit(1)


@app.command("runs", epilog=_examples(
    "issim runs",
    "issim runs --scenario iss --status complete --limit 10",
    "issim runs --status failed  # what went wrong, and when",
    "issim runs --limit 0 --json"))
def runs_(
    archive: Optional[str] = ArchiveOpt,
    scenario: Optional[str] = typer.Option(None, "--scenario", metavar="NAME", help="Only the runs of this scenario."),
    status: Optional[str] = typer.Option(None, "--status", help="Only the runs with this status: complete, running, "
                                                                "failed or incomplete."),
    limit: int = _limit_opt(50, "runs", ", newest first"),
    json_output: bool = typer.Option(False, "--json", help="Print the catalogue records as JSON."),
) -> None:
    """The stored runs, newest first: id (``7 ← 3``: run 7 branched from run 3), scenario, seed, when, status, outcome."""
    from .archive.catalogue import STATUSES

    _check_limit(limit)
    if status is not None and status not in STATUSES:
        raise InputError("--status", f"{status!r} is not a status; choose {', '.join(STATUSES)}")
    arc = _open_archive(archive)
    from .archive import RunRecord

    rows = arc.rows(scenario=scenario, status=status)
    records = [RunRecord.from_row(arc, r) for r in rows[:limit or None]]
    if json_output:
        _print_json([r.to_json() for r in records])
        return
    from .archive.show import status_text, when_text

    table = _listing(f"Runs in {_shown_path(arc.root)}, newest first")
    wide = out().width >= 100  # else the outcome keeps the room (the simulated span is in issim show)
    for col, justify in (("id", "right"), ("scenario", "left"), ("seed", "right"), ("when (UTC)", "left"),
                         ("simulated", "right"), ("status", "left")):
        if col != "simulated" or wide:
            table.add_column(col, justify=justify, no_wrap=True)
    table.add_column("outcome", min_width=20)
    for r in records:
        cells = [str(r.id) if r.parent_id is None else f"{r.id} ← {r.parent_id}", r.scenario, str(r.seed),
                 when_text(r.started_at), _span_text(r), status_text(r), r.outcome or r.error]
        table.add_row(*(cells if wide else cells[:4] + cells[5:]))
    wanted = " and ".join(w for w in (scenario and f"of {scenario}", status and status) if w)
    if not rows and not wanted:
        out().print("No runs yet: issim run SCENARIO stores one.")
        return
    _print_listing(table, len(records), len(rows), "runs", wanted)


def _span_text(record) -> str:
    from .times import parse_iso

    if not record.sim_end:
        return "—"
    days = (parse_iso(record.sim_end) - parse_iso(record.sim_start)) / 86_400_000
    return f"{days:.2f} d" if days < 10 else f"{days:.0f} d"


@app.command(epilog=_examples(
    "issim show last",
    "issim show 12 --json"))
def show(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (issim runs), or last."),
    archive: Optional[str] = ArchiveOpt,
    json_output: bool = typer.Option(False, "--json", help="Print the record and summary as JSON."),
) -> None:
    """One stored run: what it was, how it ended, what happened, and where its files are."""
    from .archive.show import render_run

    run_id = _run_arg(run_id)
    record = _open_archive(archive).get(run_id, "RUN")
    if json_output:
        data = record.to_json()
        data["summary"] = record.summary() if record.status == "complete" else None
        data["events"] = len(record.event_log_entries())
        _print_json(data)
        return
    render_run(record, out())


@app.command(epilog=_examples(
    "issim branch 12 --at +29h --set d3_eva=refuse",
    'issim branch last --at 2025-03-11T04:00:00Z --as "Gordon Barrett=idle"'))
def branch(
    run_id: str = typer.Argument(..., metavar="RUN", help="The stored run to branch (issim runs), or last."),
    at: str = typer.Option(..., "--at", help="When to fork: a time (2025-03-11T04:00:00Z) or an offset from the "
                                             "run's start (+28h)."),
    set_: list[str] = typer.Option([], "--set", metavar="DECISION=CHOICE",
                                   help="A decision made otherwise from the fork on (repeatable)."),
    as_: list[str] = typer.Option([], "--as", metavar="PERSON=POLICY",
                                  help="A crew member decided by another policy: mind, idle or random (repeatable)."),
    archive: Optional[str] = ArchiveOpt,
    report: bool = typer.Option(False, "--report", help="Write the new run's HTML report too."),
) -> None:
    """What if: replay a stored run to a time, change decisions or policies, run on, and store the branch.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .runner import branch as branch_run
    from .runner import plan_branch

    decisions, policies = _pairs(set_, "--set"), _pairs(as_, "--as")
    run_id = _run_arg(run_id)
    arc = _open_archive(archive)
    parent = arc.get(run_id, "RUN")
    plan_branch(parent, at, decisions, policies)  # bad input stops here, before anything is stored
    with Progress(TextColumn(f"[bold]branch of run {parent.id}[/]"), BarColumn(), TimeElapsedColumn(),
                  console=err(), transient=True) as bar:
        frames = parent.frames or 1
        task = bar.add_task("branch", total=frames)
        child = branch_run(parent, at, decisions=decisions, policies=policies,
                           progress=lambda n: bar.update(task, completed=n))
    out().print(f"Run {child.id} branched from run {parent.id} at {child.fork_at} ({child.change_summary or 'no change'})",
              markup=False, highlight=False)
    out().print(f"Outcome: {child.outcome}", markup=False, highlight=False)
    out().print(f"Parent:  {parent.outcome}", markup=False, highlight=False)
    _stored(arc, child.id, report, out())


@app.command(epilog=_examples(
    "issim export last",
    "issim export 12 --format csv --out run12"))
def export(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (issim runs), or last."),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
    form: str = typer.Option("wide", "--form", help="wide (a column per channel, per detail, per argument) or long "
                                                     "(a row per value: key and value columns)."),
    channels: Optional[List[str]] = typer.Option(None, "--channels", metavar="PATTERN",
                                                 help="Only these telemetry channels (a key or a pattern such as "
                                                      "'atm.*.pp_co2_pa'; repeat for more)."),
    out_dir: Optional[str] = typer.Option(None, "--out", metavar="DIR",
                                          help="Where to write the files (default: ./run-ID)."),
    archive: Optional[str] = ArchiveOpt,
) -> None:
    """Export a run's telemetry, track, events, commands and channel list as Parquet or CSV files."""
    from .archive import export_run
    from .archive.export import FORMATS, FORMS, check_choice

    check_choice("--format", fmt, FORMATS, "format")
    check_choice("--form", form, FORMS, "form")
    run_id = _run_arg(run_id)
    record = _open_archive(archive).get(run_id, "RUN")
    written = export_run(record, fmt, out_dir if out_dir is not None else f"run-{record.id}", form=form,
                         channels=channels or None)
    out().print(f"Exported run {record.id} ({fmt}, {form}) to {_shown_path(written[0].parent)}: "
              + ", ".join(p.name for p in written), markup=False, highlight=False, soft_wrap=True)


@app.command("report", epilog=_examples(
    "issim report last",
    "issim report 12 --at 2025-03-11T04:00:00Z --out iss.html"))
def report_(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (issim runs), or last."),
    out_file: Optional[str] = typer.Option(None, "--out", metavar="FILE",
                                           help="Where to write the report (default: report.html in the run's folder)."),
    at: Optional[str] = typer.Option(None, "--at", help="The moment the schematic and map show first (ISO 8601 UTC); "
                                                         "default: when the air the run is about was at its worst, "
                                                         "else the end of the run."),
    archive: Optional[str] = ArchiveOpt,
) -> None:
    """Write a run's report: one HTML file that opens offline, with the map, schematic, charts and timeline."""
    from .archive import write_report

    at_ms = None if at is None else _time_arg(at, "--at")
    run_id = _run_arg(run_id)
    record = _open_archive(archive).get(run_id, "RUN")
    path = write_report(record, out_file, at_ms)
    out().print(f"Report: {_shown_path(path)}", markup=False, highlight=False, soft_wrap=True)


@app.command(epilog=_examples(
    "issim diff 12 13",
    "issim diff 12 last --json"))
def diff(
    run_a: str = typer.Argument(..., metavar="RUN_A", help="A run id (issim runs), or last."),
    run_b: str = typer.Argument(..., metavar="RUN_B", help="Another run id."),
    archive: Optional[str] = ArchiveOpt,
    json_output: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Where two runs part (their first differing event) and how their outcomes differ."""
    from .archive import diff_runs
    from .archive.show import render_diff

    run_a, run_b = _run_arg(run_a, "RUN_A"), _run_arg(run_b, "RUN_B")
    arc = _open_archive(archive)
    a, b = arc.get(run_a, "RUN_A"), arc.get(run_b, "RUN_B")
    result = diff_runs(a, b)
    if json_output:
        _print_json(result)
        return
    render_diff(result, out())


@app.command(epilog=_examples(
    "issim serve",
    "issim serve leak --speed 600",
    "issim serve 12  # replay stored run 12",
    "issim serve --host 0.0.0.0 --port 8000  # for others on your network"))
def serve(
    what: str = typer.Argument("iss", metavar="[SCENARIO | RUN]",
                               help="A bundled scenario's name (a live run) or a stored run's id or last (a replay)."),
    speed: float = typer.Option(60.0, "--speed", help="Times real time (60: a 10-second frame every 1/6 s)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on (loopback unless you mean it)."),
    port: int = typer.Option(8080, "--port", help="The port to listen on."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Root random seed of a live run (default: the scenario's)"),
    paused: bool = typer.Option(False, "--paused", help="Start with the clock stopped."),
    archive: Optional[str] = ArchiveOpt,
    tokens_file: Optional[str] = typer.Option(None, "--tokens", metavar="FILE",
                                              help="The tokens file (default: $ISSIM_TOKENS, else tokens.json in "
                                                   "your config folder)."),
) -> None:
    """Mission control in the browser: a live run at a pace, or a stored run's replay (Open MCT's telemetry API)."""
    from pathlib import Path

    from .serve import open_source, open_tokens
    from .serve.session import MAX_SPEED

    if not 0.0 < speed <= MAX_SPEED:
        raise InputError("--speed", f"{speed:g} is outside (0, {MAX_SPEED:g}]")
    if not 1 <= port <= 65535:
        raise InputError("--port", f"{port} is not a port (1 to 65535)")
    if seed is not None:
        check_seed(seed, "--seed")
    source = open_source(what, archive, seed)
    _check_port(host, port)
    import uvicorn

    from .serve.app import create_app

    creds = open_tokens(source, tokens_file)
    web = Path(__file__).resolve().parents[2] / "web"
    loopback = ("127.0.0.1", "localhost", "::1")
    local = host in loopback
    hosts = loopback if local else None if host in ("0.0.0.0", "::") else (*loopback, host)
    server_app = create_app(source, tokens=creds, speed=speed, paused=paused, hosts=hosts, web_dir=web,
                            archive=archive)
    shown = f"[{host}]" if ":" in host else host
    which = f"{source.scenario} (run {source.record.id})" if source.mode == "replay" else source.scenario
    _say(f"issim serve: {source.mode} {which} at {speed:g}x real time: http://{shown}:{port}/")
    if creds.path is not None:
        _say(f"issim serve: command tokens for {', '.join(creds.tokens)} are in {creds.path} (mode 0600)"
             + (f"; new: {', '.join(creds.created)}" if creds.created else ""))
    if (web / "index.html").is_file() and not (web / "node_modules" / "openmct" / "dist" / "openmct.js").is_file():
        _say("issim serve: warning: the page needs Open MCT, which is not installed: run `make web` "
             "(npm ci --prefix web)")
    if not local:
        _say(f"issim: warning: listening on {host}, not loopback: anyone who can reach it can watch; "
             "tokens travel in clear text without TLS")
    uvicorn.run(server_app, host=host, port=port, log_level="warning", ws_max_size=64 * 1024)


def _check_port(host: str, port: int) -> None:
    """Refuse, in one line, an address that cannot be listened on (a port in use, a host not this machine's)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as exc:
        raise InputError("--port" if getattr(exc, "errno", None) in (98, 48, 10048) else "--host",
                         f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


archive_app = _Typer(help="The run archive itself: check it, repair its catalogue.",
                     epilog=_examples("issim archive check", "issim archive repair"))
app.add_typer(archive_app, name="archive")


@archive_app.command("check", epilog=_examples(
    "issim archive check",
    "issim archive check --archive runs"))
def archive_check(archive: Optional[str] = ArchiveOpt) -> None:
    """Report the archive's problems, one line each: a damaged catalogue, rows without folders, folders
    without rows, runs marked running whose process is gone. Exit 0 when clean, 1 when problems are found."""
    from .archive.repair import check

    problems = check(archive)
    for line in problems:
        out().print(line, markup=False, highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    from .archive.catalogue import default_home

    out().print(f"{_shown_path(archive or default_home())}: no problems found", markup=False, highlight=False,
              soft_wrap=True)


@archive_app.command("repair", epilog=_examples(
    "issim archive repair",
    "issim archive repair --archive runs"))
def archive_repair(archive: Optional[str] = ArchiveOpt) -> None:
    """Rebuild a missing or damaged catalogue from the run folders (the damaged file is moved aside, never
    deleted; ids are kept and never reused), or add to a sound one the run folders it lacks."""
    from .archive.repair import repair

    for line in repair(archive):
        out().print(line, markup=False, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- entry point


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    _say(f"issim: warning: {message}")


def _usage_source(exc: typer.TyperException) -> str:
    param = getattr(exc, "param", None)
    if param is not None:
        opts = getattr(param, "opts", None) or [param.name or "argument"]
        return max(opts, key=len)
    hint = getattr(exc, "param_hint", None)
    if hint:
        return str(hint).strip("'\"")
    if getattr(exc, "option_name", None):
        return exc.option_name
    ctx = getattr(exc, "ctx", None)
    return ctx.command_path if ctx is not None else "issim"


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; return (and exit with) its status."""
    warnings.showwarning = _one_line_warning
    try:
        status = app(args=argv, prog_name="issim", standalone_mode=False)
    except InputError as exc:
        _say(f"issim: error: {exc.source}: {exc.message}")
        status = 2
    except FetchError as exc:
        _say(f"issim: error: {exc.source}: {exc.message}")
        status = 1
    except StoreError as exc:  # storing a run failed (a full disk...): one line too, status 1
        _say(f"issim: error: {exc.source}: {exc.message}")
        status = 1
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
        message = " ".join(exc.format_message().split())
        if message:
            message = re.sub(r"^Invalid value for [^:]+: ", "", message)
            _say(f"issim: error: {_usage_source(exc)}: {message}")
        status = 2 if message else 0  # an empty message: help was asked for by giving no command
    except RecursionError:  # a reader met input nested past Python's stack (files check 32 levels first)
        _say("issim: error: input: nested too deeply to read (more than 32 levels of arrays or tables)")
        status = 2
    except (typer.Abort, KeyboardInterrupt):
        _say("issim: interrupted")
        status = 130
    except typer.Exit as exc:
        status = exc.exit_code
    status = status if isinstance(status, int) else 0
    if argv is None:
        sys.exit(status)
    return status


if __name__ == "__main__":  # pragma: no cover
    main()
