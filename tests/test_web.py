"""The mission-control page (web/: Open MCT with the issim plugin) in a real browser.

Each test starts ``issim serve`` as a user would (a subprocess on a free loopback port, with
its own tokens file), opens the page in Debian's chromium driven by Playwright (never a
downloaded browser), and records every request and console message: the page must ask
nothing of any other origin and log no error. Screenshots are kept under the test's
tmp_path and, when ``ISSIM_WEB_SCREENSHOTS`` names a folder, copied there.

Nothing is skipped: without chromium or without web/node_modules (``make web``) the tests
fail and say what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from issim.cli import main

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
OPENMCT = ROOT / "web" / "node_modules" / "openmct" / "dist" / "openmct.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 30_000


def _need_browser_and_page() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    if not OPENMCT.exists():
        pytest.fail(f"{OPENMCT.relative_to(ROOT)} is missing: run `make web` (npm ci --prefix web) first")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``issim serve ARGS`` in a subprocess; its tokens file is written by the server itself."""

    def __init__(self, tmp_path: Path, *args: str):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tokens_file = tmp_path / "tokens.json"
        self.tokens_file.write_text("{}")
        self.tokens_file.chmod(0o600)
        self.log = open(tmp_path / "serve.log", "w")
        import issim  # the server runs the issim this test imports, and serves the web/ beside its src/

        src = str(Path(issim.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "issim.cli", "serve", *args, "--port", str(self.port),
             "--tokens", str(self.tokens_file)], stdout=self.log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/api/session")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"issim serve did not start: {(tmp_path / 'serve.log').read_text()}")
                time.sleep(0.3)
        self.tokens = json.loads(self.tokens_file.read_text())
        with urllib.request.urlopen(self.base + "/", timeout=10) as r:
            assert b"openmct.js" in r.read(), "the server did not serve web/ (its Open MCT page)"

    def get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.load(r)

    def values_now(self, keys: list[str]) -> dict:
        """Channels' values now, as the websocket gives them on subscribing (the recorder's
        history has a sample a minute; this is the last frame's)."""
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{self.port}/api/realtime") as ws:
            ws.send(json.dumps({"subscribe": keys}))
            while True:
                frame = json.loads(ws.recv(timeout=10))
                if frame["type"] == "telemetry" and frame["data"]:
                    return {d["id"]: d["value"] for d in frame["data"]}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Browser:
    """A chromium page that records console errors, page errors and every request's URL."""

    def __init__(self, playwright, server: Server, shots: Path):
        self.server = server
        self.shots = shots
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1600, "height": 1000})
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.refusals: list[tuple[int, str]] = []  # answers >= 400: the browser logs each as a console error
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", lambda r: self.refusals.append((r.status, r.url.split("?")[0].removeprefix(server.base)))
                     if r.status >= 400 else None)

    def open(self, hash_: str = "") -> None:
        self.page.goto(self.server.base + "/" + hash_)
        self.page.locator(".issim-schematic [data-hatch][data-state]:not([data-state=unknown])").first.wait_for(state="attached")

    def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        target = os.environ.get("ISSIM_WEB_SCREENSHOTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / path.name)

    def sign_in(self, role: str) -> None:
        console = self.page.locator(".issim-console")
        console.locator("button[name=sign-out]").click()
        console.locator("input[name=issim-token]").fill(self.server.tokens[role])
        console.locator("button[name=sign-in]").click()
        self.page.locator(".issim-console[data-signed-in='true']").wait_for()

    def clock(self, action: str) -> None:
        self.page.locator(f".issim-console button[name={action}]").click()

    def follows(self, t_ms: int) -> None:
        """Open MCT's clock, its time conductor, the ground track and the control map show ``t_ms``."""
        self.page.wait_for_function(f"() => openmct.time.now() === {t_ms}")
        shown = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t_ms / 1000))
        expect(self.page.locator(".c-compact-tc__current-update")).to_contain_text(shown)
        expect(self.page.locator(".issim-track__now")).to_contain_text(shown)
        expect(self.page.locator(".issim-control .issim-legend")).to_contain_text(shown)

    def check_clean(self, refusals=()) -> None:
        """No console error but the browser's own line for each refusal expected, no outside request."""
        assert self.refusals == list(refusals), self.refusals
        errors = list(self.errors)
        for status, _ in refusals:
            errors.remove(f"console: Failed to load resource: the server responded with a status of {status} (Forbidden)")
        assert errors == [], errors
        own = self.server.base + "/"
        outside = [u for u in self.requests if not u.startswith((own, "data:", "blob:"))]
        assert outside == [], outside
        assert any(u.endswith("/node_modules/openmct/dist/openmct.js") for u in self.requests)

    def close(self) -> None:
        self.browser.close()


@pytest.fixture(autouse=True)
def patient_expect():
    """A busy CI machine: a view may take a few seconds to follow (Playwright's default is 5 s)."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def _hatch_and_two(server: Server, world: dict) -> tuple[str, str, str]:
    """An open hatch, someone in one of its two volumes, and someone in neither, now."""
    enums = {m["key"]: m["values"][0].get("enumerations", []) for m in server.get("/api/dictionary")["measurements"]
             if m["key"].endswith(".location")}
    keys = [f"crew.{p['slug']}.location" for p in world["crew"]] + [f"hatch.{h['id']}.open" for h in world["hatches"]]
    now = server.values_now(keys)
    where = {p["slug"]: next(e["string"] for e in enums[f"crew.{p['slug']}.location"]
                             if e["value"] == now[f"crew.{p['slug']}.location"]) for p in world["crew"]}
    for h in world["hatches"]:
        beside = [s for s, v in where.items() if v in (h["a"], h["b"])]
        away = [s for s, v in where.items() if v not in (h["a"], h["b"])]
        if now[f"hatch.{h['id']}.open"] == 1 and beside and away:
            return h["id"], beside[0], away[0]
    raise AssertionError(f"no open hatch with someone beside it and someone away: {where}")


def test_live_page_plots_and_commands(tmp_path, shots):
    """The flagship live: the layout opens on its views (issim's and Open MCT's); time moves and the
    page with it (the conductor, the track, the control map, a value in the LAD table); someone far
    from an open hatch is refused when closing it and someone beside it closes it (the schematic and
    the story show both); a module's box opens its folder; a channel opens as an Open MCT plot with
    its history."""
    _need_browser_and_page()

    server = Server(tmp_path, "iss", "--paused", "--speed", "600")
    try:
        with sync_playwright() as p:
            b = Browser(p, server, shots)
            page = b.page
            try:
                b.open()
                assert "#/browse/issim:root/issim:mission" in page.url
                for view in ("schematic", "track", "story", "control", "console"):
                    expect(page.locator(f".issim-{view}")).to_be_visible()
                # Open MCT's own views in the layout: the LAD table and a stacked plot, with its history drawn
                expect(page.locator(".js-lad-table__body__row")).to_have_count(12)
                expect(page.locator(".gl-plot.js-series-data-loaded")).to_have_count(3)
                world = server.get("/api/world")
                assert page.locator(".issim-schematic [data-module]").count() == len(world["volumes"])
                assert int(page.locator(".issim-track .land").get_attribute("data-rings")) > 100
                expect(page.locator(".issim-control tr[data-system]")).to_have_count(len(world["systems"]))
                b.shot("01-layout-paused")

                # Time moves: signed in (a ground), speed up, resume; the clock and a live value change.
                b.sign_in("houston")
                t0 = server.get("/api/clock")["timestamp"]
                page.locator(".issim-console input[name=speed]").fill("3000")
                b.clock("set-speed")
                caption = page.locator(".issim-track__now")
                before = caption.inner_text()
                altitude = page.locator(".js-lad-table__body__row", has_text="geodetic altitude").locator(".js-third-data")
                expect(altitude).to_have_text(re.compile(r"^\s*\d{3}\.\d+\s*$"))  # Open MCT's LAD table: km
                lad_before = altitude.inner_text()
                b.clock("resume")
                page.wait_for_function(f"() => window.issim.now() > {t0 + 3_600_000}", timeout=60_000)
                b.clock("pause")
                expect(caption).not_to_have_text(before)
                for _ in range(100):  # the click returns before the server has the request: wait for it
                    clock = server.get("/api/clock")
                    if clock["paused"]:
                        break
                    time.sleep(0.1)
                t1 = server.get("/api/clock")["timestamp"]
                assert t1 > t0 + 3_600_000
                b.follows(t1)
                expect(altitude).not_to_have_text(lad_before)
                now_km = server.values_now(["orbit.alt_km"])["orbit.alt_km"]
                page.wait_for_function("([cell, km]) => Math.abs(parseFloat(cell.textContent) - km) < 1e-6",
                                       arg=[altitude.element_handle(), now_km])
                b.shot("02-layout-an-hour-on")

                # Each module's air in the schematic: the worst limit of its air channels now, as the server rules it.
                from issim.serve.dictionary import severity

                air = {m["key"]: m for m in server.get("/api/dictionary")["measurements"]
                       if m["key"].startswith("atm.") and m["limits"]}
                now = server.values_now(list(air))
                rank = {None: 0, "WARNING": 1, "CRITICAL": 2}
                for v in world["volumes"]:
                    mine = [severity(now[k], air[k]["limits"]) for k in air if k.split(".")[1] == v["id"]]
                    want = (max(mine, key=rank.get) or "ok") if mine else "none"
                    expect(page.locator(f".issim-schematic [data-module='{v['id']}']")).to_have_attribute("data-air", want)

                # Refused: one far from an open hatch may not close it (403, with the pipeline's reason).
                hatch, near, far = _hatch_and_two(server, world)
                drawn = page.locator(f".issim-schematic [data-hatch='{hatch}']")
                expect(drawn).to_have_attribute("data-state", "open")
                console = page.locator(".issim-console")
                answer = console.locator("[data-role=command-answer]")
                b.sign_in(far)
                expect(console).to_have_attribute("data-role", far)
                console.locator("select[name=command]").select_option("close_hatch")
                console.locator("select[name=target]").select_option(hatch)
                console.locator("button[name=issue]").click()
                expect(answer).to_have_attribute("data-status", "403")
                assert "authority" in answer.inner_text()
                assert server.values_now([f"hatch.{hatch}.open"]) == {f"hatch.{hatch}.open": 1}
                b.shot("03-refused")

                # Done: the one beside it closes it; after the next frame the schematic shows it shut.
                b.sign_in(near)
                expect(console).to_have_attribute("data-role", near)
                expect(console.locator(f"tr[data-command=close_hatch][data-allowed=true]")).to_have_count(1)
                console.locator("select[name=command]").select_option("close_hatch")
                console.locator("select[name=target]").select_option(hatch)
                console.locator("button[name=issue]").click()
                expect(answer).to_have_attribute("data-status", "200")
                b.clock("step")
                expect(drawn).to_have_attribute("data-state", "closed")
                assert server.values_now([f"hatch.{hatch}.open"]) == {f"hatch.{hatch}.open": 0}
                rows = console.locator(".issim-console__history tr[data-command=close_hatch]")
                expect(rows.filter(has=page.locator("td", has_text="done"))).to_have_count(1)
                assert rows.count() >= 2
                history = server.get("/api/commands/history")
                mine = [r for r in history if r["command"] == "close_hatch" and r["source"] == "browser"]
                assert [r["result"] for r in mine] == ["refused", "done"], mine
                assert mine[0]["stage"] == "authority" and mine[0]["actor"] != mine[1]["actor"], mine
                volume = next(h for h in world["hatches"] if h["id"] == hatch)["a"]
                story = page.locator(".issim-story li[data-kind=command]", has_text="close_hatch")
                expect(story.and_(page.locator("[data-result=refused]"))).to_have_count(1)
                expect(story.and_(page.locator("[data-result=done]"))).to_have_count(1)
                b.shot("04-hatch-closed")

                # A dry run says what would become of opening it again, and changes nothing.
                console.locator("select[name=command]").select_option("open_hatch")
                console.locator("select[name=target]").select_option(hatch)
                with page.expect_response(lambda r: "/api/command?dry_run=true" in r.url) as dry:
                    console.locator("button[name=dry-run]").click()
                assert dry.value.json()["dry_run"] is True
                expect(answer).to_contain_text("dry run")
                assert server.values_now([f"hatch.{hatch}.open"]) == {f"hatch.{hatch}.open": 0}
                assert len(server.get("/api/commands/history")) == len(history)

                # Fast-forward half an hour: the page follows the jump, and its plots ask their history again.
                t2 = server.get("/api/clock")["timestamp"]
                console.locator("input[name=fast-forward]").fill("30")
                with page.expect_request(lambda r: "/api/history/power.USOS.soc?" in r.url and "strategy=minmax" in r.url
                                         and f"end={t2 + 30 * 60_000}&" in r.url):
                    b.clock("fast-forward")
                assert server.get("/api/clock")["timestamp"] == t2 + 30 * 60_000
                b.follows(t2 + 30 * 60_000)

                # A click on the module opens its folder from Open MCT's tree: its systems.
                page.locator(f".issim-schematic [data-module='{volume}']").click()
                expect(page.locator(".l-shell__main-container").get_by_text("atmosphere", exact=True)).to_be_visible()
                assert f"~{volume}?" in page.url or page.url.split("?")[0].endswith(f"~{volume}"), page.url

                # A plot with history: the hatch's neighbour's pressure, asked with minmax for the plot's width.
                key = f"atm.{volume}.pressure_pa"
                segment = next(v["segment"] for v in world["volumes"] if v["id"] == volume)
                folder = f"issim:tree~{segment}~{volume}"
                with page.expect_response(lambda r: f"/api/history/{key}?" in r.url and "strategy=minmax" in r.url) as got:
                    page.goto(f"{server.base}/#/browse/issim:root/issim:tree~{segment}/{folder}/"
                              f"{folder}~atmosphere/issim.tm:{key}")
                points = got.value.json()
                assert len(points) > 60 and all(p["id"] == key for p in points)
                assert points == sorted(points, key=lambda p: p["timestamp"])
                page.locator(".gl-plot.js-series-data-loaded").wait_for()
                assert page.locator(".gl-plot-y-tick-label").count() >= 2
                expect(page.locator(".plot-series-name")).to_contain_text("pressure")
                b.shot("05-plot")
                b.check_clean(refusals=[(403, "/api/command")])
            finally:
                b.close()
    finally:
        server.stop()


def test_replay_and_seek(tmp_path, shots):
    """A stored run served as a replay: the seek bar moves it forwards and back, and the page
    follows: the conductor, the ground track, the control map, the story (as long as the log up
    to then), the plots (their history asked again for the new window), and the staleness of
    each segment's channels in the LAD table (stale while that segment has no contact)."""
    _need_browser_and_page()

    home = tmp_path / "runs"
    assert main(["run", "nominal", "--hours", "2", "--out", str(home)]) == 0
    server = Server(tmp_path, "last", "--archive", str(home), "--paused")
    try:
        session = server.get("/api/session")
        assert session["mode"] == "replay"
        start = session["start_ms"]
        contact = {seg: server.get(f"/api/history/comms.{seg}.contact?start={start}&end={session['end_ms']}")
                   for seg in ("USOS", "ROS")}
        # two moments where the Russian segment's contact differs, so that staleness must change;
        # the first, if there is one, while the US segment has contact, so that the two differ too
        usos = {d["timestamp"]: d["value"] for d in contact["USOS"]}
        later = [d for d in contact["ROS"] if d["timestamp"] > start + 10 * 60_000]
        los = [d["timestamp"] for d in later if d["value"] == 0]
        aos = [d["timestamp"] for d in later if d["value"] == 1]
        assert los and aos, "the nominal run should have both AOS and LOS for the ROS in two hours"
        los = [t for t in los if usos.get(t) == 1] or los
        soc = {seg: f"power.{seg}.soc" for seg in ("USOS", "ROS")}
        names = {m["key"]: m["name"] for m in server.get("/api/dictionary")["measurements"]}
        with sync_playwright() as p:
            b = Browser(p, server, shots)
            page = b.page
            try:
                b.open()
                b.sign_in("houston")
                console = page.locator(".issim-console")
                expect(console.locator(".issim-console__who")).to_contain_text("replay")
                seek = console.locator("input[name=seek]")
                for i, t in enumerate((los[len(los) // 2], aos[len(aos) // 2])):
                    with page.expect_request(lambda r: "/api/history/power.USOS.soc?" in r.url
                                             and f"end={t}&" in r.url) as asked:
                        seek.evaluate("(el, t) => { el.value = String(t); el.dispatchEvent(new Event('change')); }", t)
                    assert "strategy=minmax" in asked.value.url  # the stacked plot, for its new window
                    b.follows(t)
                    assert server.get("/api/clock")["timestamp"] == t
                    told = server.get(f"/api/events?start={start}&end={t}&limit=400")
                    expect(page.locator(".issim-story li")).to_have_count(len(told))
                    for seg, key in soc.items():
                        up = [d["value"] for d in contact[seg] if d["timestamp"] <= t][-1] == 1
                        cell = page.locator(".js-lad-table__body__row", has_text=names[key]).locator(".js-third-data")
                        (expect(cell).not_to_have_class if up else expect(cell).to_have_class)(re.compile(r"\bis-stale\b"))
                        # the LAD table's value is the replay's now, not a later one of the stored run
                        link = page.locator(".js-lad-table__body__row", has_text=names[f"comms.{seg}.contact"])
                        expect(link.locator(".js-third-data")).to_have_text("AOS" if up else "LOS")
                        badge = page.locator(f".issim-track [data-contact={seg}]")
                        expect(badge).to_have_attribute("data-state", "AOS" if up else "LOS")
                    expect(console.locator("[data-role=clock-answer]")).to_have_text("")
                    b.shot(f"0{6 + i}-replay-at-{(t - start) // 60_000}-min")
                b.check_clean()
            finally:
                b.close()
    finally:
        server.stop()


def test_the_pages_limits_are_the_servers(tmp_path, shots):
    """Open MCT's limit evaluator, as the plugin gives it, says of every channel with limits what
    the server says (issim.serve.dictionary.severity), at each bound, just inside and just beyond."""
    _need_browser_and_page()
    import math

    from issim.serve.dictionary import severity

    server = Server(tmp_path, "iss", "--paused")
    try:
        limited = [m for m in server.get("/api/dictionary")["measurements"] if m["limits"]]
        cases = []
        for m in limited:
            for bound in m["limits"].values():
                for v in (bound, math.nextafter(bound, math.inf), math.nextafter(bound, -math.inf),
                          bound + 1.0, bound - 1.0, bound * 2.0):
                    cases.append([m["key"], v, severity(v, m["limits"])])
        assert len({m["key"] for m in limited}) > 50 and len(cases) > 500
        with sync_playwright() as p:
            b = Browser(p, server, shots)
            try:
                b.open()
                shown = b.page.evaluate("""async (cases) => {
                    const out = [];
                    for (const [key, value] of cases) {
                        const obj = await openmct.objects.get({ namespace: 'issim.tm', key });
                        const valueMetadata = openmct.telemetry.getMetadata(obj).value('value');
                        const limit = openmct.telemetry.getLimitEvaluator(obj).evaluate({ value }, valueMetadata);
                        out.push(limit ? limit.cssClass : null);
                    }
                    return out;
                }""", cases)
                colour = {"CRITICAL": "is-limit--red", "WARNING": "is-limit--yellow", None: None}
                wrong = [(c, s) for c, s in zip(cases, shown) if (s and s.split()[-1]) != colour[c[2]]]
                assert wrong == [], wrong[:10]
                b.check_clean()
            finally:
                b.close()
    finally:
        server.stop()
