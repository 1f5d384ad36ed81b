"""The run report: one HTML file that opens offline and shows the map, charts and timeline.

The browser test opens it in headless Chromium (Debian's ``chromium``, driven by the
``playwright`` package; no browser download), records every request and console message,
checks that the map, the schematic, the charts and the timeline were drawn, and keeps a
screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from issim.archive import Archive, write_report
from issim.cli import main
from issim.sim import build_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
FIGURES = ("map", "light-contact", "schematic", "air", "power", "altitude", "timeline", "control", "health")


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
    assert (home / "000001-nominal" / "report.html").stat().st_size > 1_000_000  # plotly.js is inside


@pytest.mark.browser
def test_report_renders_offline_in_chromium(stored, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    _, path = stored
    requests, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(path.as_uri())
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length === {len(FIGURES)}",
                                   timeout=30_000)
            page.wait_for_timeout(500)
            counts = page.evaluate("""() => {
                const n = (sel) => document.querySelectorAll(sel).length;
                const land = document.querySelector('#fig-map .scatterlayer .trace path.js-fill');
                return {
                  plots: n('.js-plotly-plot .main-svg'),
                  mapTraces: n('#fig-map .scatterlayer .trace'),
                  landPath: land ? land.getAttribute('d').length : 0,
                  trackPath: Math.max(0, ...Array.from(document.querySelectorAll('#fig-map .scatterlayer .trace .js-line'))
                                      .map(e => (e.getAttribute('d') || '').length)),
                  modules: n('#fig-schematic .scatterlayer .trace:nth-child(3) .point'),
                  slider: n('#fig-schematic .slider-container'),
                  airLines: n('#fig-air .scatterlayer .trace'),
                  heatmaps: n('#fig-control .hm image, #fig-control image'),
                  timelinePoints: n('#fig-timeline .scatterlayer .point'),
                  tableRows: n('#timeline-table tbody tr'),
                  people: n('.person'),
                  verdict: (document.getElementById('verdict') || {}).textContent || '',
                };
            }""")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)

            # moving the schematic's slider to the start recolours the modules to the air there
            squares = """() => Array.from(document.querySelectorAll('#fig-schematic .scatterlayer .point'))
                .filter(e => e.style.fillOpacity !== '0' && e.getAttribute('d').includes('H'))
                .map(e => e.style.fill)"""
            label = "() => document.querySelector('#fig-schematic .slider-container .slider-label').textContent"
            end_fills, end_label = page.evaluate(squares), page.evaluate(label)
            rail = page.locator("#fig-schematic .slider-rail-rect")
            rail.scroll_into_view_if_needed()
            box = rail.bounding_box()
            page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(500)
            start_fills, start_label = page.evaluate(squares), page.evaluate(label)
        finally:
            browser.close()
    keep = os.environ.get("ISSIM_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)

    assert problems == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert requests == [path.as_uri()]
    assert counts["plots"] >= len(FIGURES)
    assert counts["mapTraces"] >= 4 and counts["landPath"] > 10_000 and counts["trackPath"] > 1_000
    volumes = len(build_world().volumes)  # the scenario's modules and its three vehicles
    assert counts["modules"] == volumes and counts["slider"] == 1
    assert counts["airLines"] >= 3 * volumes
    assert counts["heatmaps"] >= 1
    assert counts["timelinePoints"] > 10 and counts["tableRows"] > 10
    assert counts["people"] == 7
    assert "All 7 crew alive" in counts["verdict"]
    assert shot.stat().st_size > 200_000
    assert end_label.endswith("03-10 12:00 UTC") and start_label.endswith("03-10 00:00 UTC")
    assert len(end_fills) == len(start_fills) == volumes and end_fills != start_fills
