"""The run report: one HTML file that opens offline and shows the map, charts and timeline.

The browser tests open it in headless Chromium (Debian's ``chromium``, driven by the
``playwright`` package; no browser download), record every request and console message,
check that the map, the schematic, the charts and the timeline were drawn, and keep
screenshots under the test's tmp_path (the path is printed; ``ISSIM_REPORT_SCREENSHOTS``
names a folder to copy them into). The slow tests report a 3-day ``iss`` run and a 7-day
``nominal`` run: each page under 2 MB, one orbit on the map, the quiet days folded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from issim.archive import Archive, write_report
from issim.archive.report import decimate, story
from issim.archive.report.figures import ReportData, air_figure, segment_air
from issim.cli import main
from issim.sim import build_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
FIGURES = ("map", "light-contact", "schematic", "air", "power", "altitude", "timeline", "control", "health")
MAX_PAGE_BYTES = 2_000_000


def _figures(text: str) -> dict[str, dict]:
    """Each chart's plotly figure, read back from the page."""
    found = re.findall(r'<div id="fig-([\w-]+)"[^>]*></div>\n<script>\(function \(\) \{ var f = (.*?);\nPlotly', text,
                       flags=re.S)
    return {name: json.loads(payload) for name, payload in found}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A standoff run (orders, a blackout, the crews acting) stored and reported."""
    home = tmp_path_factory.mktemp("report-home")
    assert main(["run", "standoff", "--hours", "12", "--out", str(home), "--json"]) == 0
    record = Archive.open(home).get("last")
    return record, write_report(record)


def test_report_is_one_self_contained_file(stored):
    record, path = stored
    assert path == record.path / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['\"]?https?:", text, flags=re.I)
    assert text.count("Plotly.newPlot(") == len(FIGURES)
    for name in FIGURES:
        assert f'id="fig-{name}"' in text
    assert "plotly.js (basic - minified) v" in text  # the small bundle, not the 4.8 MB one
    types = {t.get("type", "scatter") for f in _figures(text).values() for t in f["data"]}
    assert types <= {"scatter", "bar"}, types  # all the basic bundle can draw
    assert record.title in text
    assert f"seed <code>{record.seed}</code>" in text
    assert record.event_log_sha256 in text
    assert "change_credentials" in text  # the timeline has the standoff's commands


def test_report_command(stored, tmp_path, capsys):
    record, _ = stored
    home = str(record.path.parent)
    out = tmp_path / "sub" / "mine.html"
    assert main(["report", str(record.id), "--out", str(out), "--archive", home]) == 0
    assert out.exists() and "mine.html" in capsys.readouterr().out
    assert main(["report", "last", "--out", str(tmp_path), "--archive", home,
                 "--at", "2025-03-10T09:30:00Z"]) == 0
    capsys.readouterr()
    text = (tmp_path / f"report-{record.id}.html").read_text()
    assert "starts at 2025-03-10 09:30 UTC" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_run_report_flag_says_where_the_report_is(tmp_path, capsys):
    home = tmp_path / "home"
    assert main(["run", "nominal", "--hours", "2", "--out", str(home), "--report"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"^Report: (.+report\.html)$", out, flags=re.M)
    assert m, out
    assert Path(m.group(1)).resolve() == (home / "000001-nominal" / "report.html").resolve()
    assert 1_000_000 < (home / "000001-nominal" / "report.html").stat().st_size < MAX_PAGE_BYTES  # plotly.js is inside


def test_a_run_that_ends_before_its_story_says_so(tmp_path, capsys):
    home = tmp_path / "home"
    assert main(["run", "iss", "--hours", "2", "--out", str(home), "--report"]) == 0
    capsys.readouterr()
    text = (home / "000001-iss" / "report.html").read_text()
    m = re.search(r'<div class="notice bad" id="story-notice">(.*?)</div>', text)
    assert m, "no notice"
    assert "before its story began" in m.group(1) and "30.5 h in" in m.group(1)
    assert "issim run iss --hours 32" in m.group(1)  # long enough for its last timed event


def test_a_run_that_has_its_story_has_no_notice(stored):
    _, path = stored
    assert 'id="story-notice"' not in path.read_text()


COUNTS = """() => {
    const n = (sel) => document.querySelectorAll(sel).length;
    const land = document.querySelector('#fig-map .scatterlayer .trace path.js-fill');
    const map = document.getElementById('fig-map');
    return {
      plots: n('.js-plotly-plot .main-svg'),
      mapTraces: n('#fig-map .scatterlayer .trace'),
      landPath: land ? land.getAttribute('d').length : 0,
      trackPath: Math.max(0, ...Array.from(document.querySelectorAll('#fig-map .scatterlayer .trace .js-line'))
                          .map(e => (e.getAttribute('d') || '').length)),
      track: Object.assign({}, map ? map.dataset : {}),
      slider: n('#fig-schematic .slider-container'),
      airTraces: n('#fig-air .scatterlayer .trace'),
      contactBars: n('#fig-light-contact .barlayer .point'),
      controlBars: n('#fig-control .barlayer .point'),
      timelinePoints: n('#fig-timeline .scatterlayer .point'),
      tableRows: n('#timeline-table tbody tr'),
      people: n('.person'),
      verdict: (document.getElementById('verdict') || {}).textContent || '',
    };
}"""
SQUARES = """() => Array.from(document.querySelectorAll('#fig-schematic .scatterlayer .point'))
    .filter(e => e.style.fillOpacity !== '0' && e.getAttribute('d').includes('H'))
    .map(e => e.style.fill)"""
SLIDER_LABEL = "() => document.querySelector('#fig-schematic .slider-container .slider-label').textContent"


class ReportPage:
    """A report open in headless Chromium, recording requests, console errors and page errors."""

    def __init__(self, playwright, path: Path):
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.goto(path.as_uri())
        self.page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length === {len(FIGURES)}",
                                    timeout=30_000)
        self.page.wait_for_function("document.getElementById('fig-map').dataset.trackPoints !== undefined",
                                    timeout=30_000)
        self.page.wait_for_timeout(300)

    def counts(self) -> dict:
        return self.page.evaluate(COUNTS)

    def slide_to_start(self) -> None:
        rail = self.page.locator("#fig-schematic .slider-rail-rect")
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        self.page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
        self.page.wait_for_timeout(500)

    def shot(self, folder: Path, name: str) -> Path:
        """A full-page screenshot in ``folder``, copied to $ISSIM_REPORT_SCREENSHOTS when set; its path is printed."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        keep = os.environ.get("ISSIM_REPORT_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(keep) / path.name)
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        self.browser.close()


@pytest.mark.browser
def test_report_renders_offline_in_chromium(stored, tmp_path):
    from playwright.sync_api import sync_playwright

    _, path = stored
    with sync_playwright() as p:
        page = ReportPage(p, path)
        try:
            counts = page.counts()
            shot = page.shot(tmp_path, "report-standoff")
            first_fills, first_label = page.page.evaluate(SQUARES), page.page.evaluate(SLIDER_LABEL)
            page.slide_to_start()  # the schematic recolours, and the map follows the slider
            start_fills, start_label = page.page.evaluate(SQUARES), page.page.evaluate(SLIDER_LABEL)
            moved = page.counts()["track"]
        finally:
            page.close()

    assert page.problems == []
    assert [u for u in page.requests if not u.startswith("file://")] == []
    assert page.requests == [path.as_uri()]
    assert counts["plots"] >= len(FIGURES)
    assert counts["mapTraces"] >= 4 and counts["landPath"] > 10_000 and counts["trackPath"] > 1_000
    volumes = len(build_world().volumes)  # the scenario's modules and its three vehicles
    assert counts["slider"] == 1
    assert 18 <= counts["airTraces"] < 3 * volumes  # bands per segment, not a line per module
    assert counts["contactBars"] > 10 and counts["controlBars"] >= 1
    assert counts["timelinePoints"] > 10 and counts["tableRows"] > 10
    assert counts["people"] == 7
    assert "All 7 crew alive" in counts["verdict"]
    assert shot.stat().st_size > 200_000
    # the slider starts where the caption says: when the air the run is about was at its worst
    opens = re.search(r"it starts at \d{4}-(\d\d-\d\d \d\d:\d\d) UTC", path.read_text()).group(1)
    assert "opens on ppCO2, the quantity this run is about" in path.read_text()
    assert first_label.endswith(f"{opens} UTC") and start_label.endswith("03-10 00:00 UTC")
    assert len(first_fills) == len(start_fills) == volumes and first_fills != start_fills
    assert int(moved["trackFrom"]) == 1_741_564_800_000 < int(counts["track"]["trackFrom"])


# ---------------------------------------------------------------------------------- long runs (slow)


def _long_run(tmp_path_factory, scenario: str):
    home = tmp_path_factory.mktemp(f"report-{scenario}")
    assert main(["run", scenario, "--out", str(home), "--json"]) == 0  # its full length: 3 days, a week
    record = Archive.open(home).get("last")
    return record, write_report(record)


@pytest.fixture(scope="module")
def iss_3_days(tmp_path_factory):
    return _long_run(tmp_path_factory, "iss")


@pytest.fixture(scope="module")
def nominal_7_days(tmp_path_factory):
    return _long_run(tmp_path_factory, "nominal")


@pytest.mark.slow
@pytest.mark.parametrize("run, days", [("iss_3_days", 3), ("nominal_7_days", 7)])
def test_long_reports_weigh_under_2_mb(request, run, days, capsys):
    record, path = request.getfixturevalue(run)
    size = path.stat().st_size
    with capsys.disabled():
        print(f"\n{record.scenario}, {days} days: report {size:,} bytes")
    assert size < MAX_PAGE_BYTES
    figures = _figures(path.read_text())
    k = decimate.bucket_size(int(days * 1440) + 1)
    assert k > 1
    power = next(t for t in figures["power"]["data"] if t["name"] == "USOS generated")
    assert "x0" in power and "x" not in power  # no time column: the grid is x0 + i·dx
    assert power["dx"] == k * 60_000 / 2


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("run", ["iss_3_days", "nominal_7_days"])
def test_long_report_in_chromium(request, run, tmp_path):
    from playwright.sync_api import sync_playwright

    record, path = request.getfixturevalue(run)
    track = record.track()
    with sync_playwright() as p:
        page = ReportPage(p, path)
        try:
            orbit = page.counts()
            page.shot(tmp_path, f"report-{record.scenario}")
            page.page.locator("input[name=fig-map-span][value=run]").check()
            page.page.wait_for_timeout(300)
            whole = page.counts()["track"]
            page.page.locator("input[name=fig-map-span][value=orbit]").check()
            page.slide_to_start()
            start = page.counts()["track"]
        finally:
            page.close()
    assert page.problems == []
    assert page.requests == [path.as_uri()]
    # one orbit (about 93 minutes, a sample a minute) around the moment, the whole run on request
    assert 85 <= int(orbit["track"]["trackPoints"]) <= 100
    assert int(whole["trackPoints"]) == len(track)
    assert int(start["trackFrom"]) == int(track.index.as_unit("ms").asi8[0]) < int(orbit["track"]["trackFrom"])
    assert orbit["contactBars"] > 50 and orbit["people"] == len(record.world()["crew"])


@pytest.mark.slow
def test_iss_report_zooms_to_the_crisis_and_explains_its_lanes(iss_3_days):
    record, path = iss_3_days
    text = path.read_text()
    timeline = _figures(text)["timeline"]["layout"]
    folds = timeline["xaxis"]["rangebreaks"]
    shown = timeline["xaxis"]["range"][1] - timeline["xaxis"]["range"][0] - sum(b["dvalue"] for b in folds)
    # the quiet stretches folded: the crisis hours (about a day of the three, spread by the story) get the width
    assert folds and shown < 0.5 * 3 * 86_400_000
    assert "the whole run, to scale" in json.dumps(timeline["updatemenus"])
    assert "The Russian segment was in contact with its own ground" in text and "Luch" in text
    assert "cut link ros-lira" in text  # why the lanes end: the scenario cut every link
# ---------------------------------------------------------------------------------- thinning, bands, focus


def test_minmax_keeps_every_bucket_extreme_in_time_order():
    rng = np.random.default_rng(5)
    values = rng.normal(size=10_081)
    values[7_777] = 40.0  # a one-sample spike
    values[123] = -40.0
    k = decimate.bucket_size(len(values))
    assert k > 1 and -(-len(values) // k) <= decimate.MAX_BUCKETS
    thin = decimate.minmax(values, k)
    assert len(thin) == 2 * -(-len(values) // k)
    assert thin.max() == 40.0 and thin.min() == -40.0
    for j in (0, 123 // k, 7_777 // k, len(thin) // 2 - 1):
        bucket = values[j * k:(j + 1) * k]
        first, second = thin[2 * j], thin[2 * j + 1]
        assert {first, second} == {bucket.min(), bucket.max()}
        assert (first == bucket.min()) == (np.argmin(bucket) <= np.argmax(bucket))
    short = rng.normal(size=700)
    assert decimate.bucket_size(len(short)) == 1 and np.array_equal(decimate.minmax(short, 1), short)


def _fake_data(n: int = 5_000, seed: int = 2) -> ReportData:
    """A run's worth of cabin air for two segments of three modules, once a minute."""
    rng = np.random.default_rng(seed)
    volumes = [{"id": f"{seg.lower()}{i}", "name": f"{seg} module {i}", "segment": seg, "kind": "module"}
               for seg in ("USOS", "ROS") for i in range(3)]
    t = pd.to_datetime(1_741_564_800_000 + 60_000 * np.arange(n), unit="ms", utc=True)
    columns = {}
    for v in volumes:
        columns[f"atm.{v['id']}.pp_co2_pa"] = 350 + 60 * rng.random(n)
        columns[f"atm.{v['id']}.pp_o2_pa"] = 21_300 + 200 * rng.random(n)
        columns[f"atm.{v['id']}.pressure_pa"] = 101_300 + 100 * rng.random(n)
    limits = {"pp_co2_pa": {"warn_high": 533.3}, "pp_o2_pa": {"warn_low": 19_500, "warn_high": 23_100},
              "pressure_pa": {"warn_low": 97_900, "warn_high": 102_700}}
    channels = {k: {"key": k, "limits": limits[k.split(".")[2]]} for k in columns}
    return ReportData(record=None, summary={}, world={"volumes": volumes}, telemetry=pd.DataFrame(columns, index=t),
                      track=pd.DataFrame(), channels=channels, events=[], commands=None, at_ms=int(t[-1].value // 10**6))


def _decoded(y) -> np.ndarray:
    return np.asarray(y, dtype=np.float64)


def test_air_bands_are_min_mean_max_of_each_segments_modules():
    d = _fake_data()
    k = d.k
    assert k > 1
    fig = air_figure(d)
    traces = {t.name: t for t in fig.data}
    co2 = segment_air(d, "pp_co2_pa")
    for seg, name in (("USOS", "US segment"), ("ROS", "Russian segment")):
        lo = _decoded(traces[f"{name} lowest"].y)
        hi = _decoded(next(t.y for n, t in traces.items() if n.startswith(f"{name}: range") and
                           t.yaxis == traces[f"{name} lowest"].yaxis))
        mean = _decoded(next(t.y for n, t in traces.items() if n == f"{name}: mean" and
                             t.yaxis == traces[f"{name} lowest"].yaxis))
        assert len(lo) == len(hi) == len(mean) == 2 * -(-len(d.t_ms) // k)
        assert np.all(lo <= mean + 1e-3) and np.all(mean <= hi + 1e-3)
    # the ppCO2 row (the second) against the modules' own values, bucket by bucket, in mmHg
    rows = [t for t in fig.data if t.yaxis == "y2"]
    for seg, name in (("USOS", "US segment"), ("ROS", "Russian segment")):
        block = co2[seg][1] / 133.322387415
        lo = _decoded(next(t.y for t in rows if t.name == f"{name} lowest"))
        hi = _decoded(next(t.y for t in rows if t.name.startswith(f"{name}: range")))
        for j in (0, 100, len(lo) // 2 - 1):
            bucket = block[j * k:(j + 1) * k]
            assert lo[2 * j] == pytest.approx(bucket.min(), rel=1e-6)
            assert hi[2 * j] == pytest.approx(bucket.max(), rel=1e-6)
        assert lo.min() == pytest.approx(block.min(), rel=1e-6) and hi.max() == pytest.approx(block.max(), rel=1e-6)
    assert sum(1 for t in fig.data if t.name and "lowest" in t.name) == 6  # a band per segment and row, not a line per module


def test_focus_is_the_quantity_that_strayed_towards_its_limit():
    d = _fake_data(n=900)
    quiet = story.focus(d)
    assert quiet is not None and not quiet.notable
    leak = _fake_data(n=900)
    drop = np.linspace(0, 40_000, 600)  # a hole: the module's pressure falls, its ppO2 with it
    leak.telemetry.loc[leak.telemetry.index[300:], "atm.ros1.pressure_pa"] -= drop
    leak.telemetry.loc[leak.telemetry.index[300:], "atm.ros1.pp_o2_pa"] -= drop * 0.21
    f = story.focus(leak)
    assert (f.suffix, f.volume, f.index) == ("pressure_pa", "ros1", 899) and f.notable and f.score > 1
    scrubbers_off = _fake_data(n=900)
    scrubbers_off.telemetry["atm.usos2.pp_co2_pa"] += np.linspace(0, 500, 900)
    f = story.focus(scrubbers_off)
    assert f.suffix == "pp_co2_pa" and f.volume == "usos2" and f.notable


def test_busy_stretches_fold_the_quiet_days():
    day, h = 86_400_000, 3_600_000
    start, end = 0, 3 * day
    crisis = [26.5 * h + i * 60_000 for i in range(200)]
    stretches = story.busy_stretches([0.0] + crisis + [51.5 * h], start, end)
    assert len(stretches) == 3
    assert stretches[0][0] == 0 and stretches[1][0] < 26.5 * h < 30 * h < stretches[1][1]
    assert sum(b - a for a, b in stretches) < 0.4 * (end - start)
    spread = [i * h for i in range(72)]
    assert story.busy_stretches(spread, start, end) == [(0.0, float(end))]  # nothing to fold
    assert story.busy_stretches([], start, end) == [(0.0, float(end))]
