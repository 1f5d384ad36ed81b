"""The orbit commands of the ``issim`` command line: output forms, errors, warnings, updates.

Physical ranges are from the reference sheet (ISS altitude about 400-440 km, speed about
7.66 km/s, inclination 51.64 degrees), not from issim's own output.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest

from issim import cli
from issim.orbit import catalog
from issim.times import parse_iso

AT = "2025-03-10T00:00:00Z"
START = "2025-03-09T00:00:00Z"
OMM_FILE = "iss-omm-2024-09-to-2025-03.json"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """A private data directory for every test, no proxies, and no stale warnings remembered."""
    monkeypatch.setenv("ISSIM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ISSIM_CELESTRAK_URL", raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    catalog._warned.clear()
    yield
    catalog._warned.clear()


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def bundled_records() -> list[dict]:
    return json.loads(resources.files("issim.data").joinpath("elements", OMM_FILE).read_text())


def newest_record() -> dict:
    return max(bundled_records(), key=lambda r: r["EPOCH"])


def newest_bundled_epoch() -> datetime:
    return datetime.fromisoformat(newest_record()["EPOCH"]).replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_one_error_line(status, out, err, want_status, *fragments):
    assert status == want_status, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("issim: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- track


def test_track_json(capsys):
    status, out, err = run(capsys, "track", "--json", "--at", AT)
    assert status == 0, err
    assert err == ""  # the newest bundled set is less than a day away: no warning
    fix = json.loads(out)
    assert set(fix) == {"at", "lat_deg", "lon_deg", "alt_km", "sunlit", "speed_km_s"}
    assert fix["at"].endswith("Z")
    assert parse_iso(fix["at"]) == parse_iso(AT)
    assert 400.0 <= fix["alt_km"] <= 440.0
    assert 7.6 <= fix["speed_km_s"] <= 7.7
    assert abs(fix["lat_deg"]) <= 51.7
    assert -180.0 <= fix["lon_deg"] <= 360.0
    assert isinstance(fix["sunlit"], bool)


def test_track_moves_a_minute_later(capsys):
    """A minute later the station is about 460 km (7.66 km/s x 60 s) further along the ground."""
    import math

    fixes = []
    for at in (AT, "2025-03-10T00:01:00Z"):
        status, out, err = run(capsys, "track", "--json", "--at", at)
        assert status == 0, err
        fixes.append(json.loads(out))
    a, b = fixes
    p1, p2 = math.radians(a["lat_deg"]), math.radians(b["lat_deg"])
    dl = math.radians(b["lon_deg"] - a["lon_deg"])
    angle = math.acos(min(1.0, math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)))
    ground_km = angle * 6371.0
    assert 380.0 < ground_km < 470.0  # ground track speed is below the orbital speed


# --------------------------------------------------------------------------- passes


def passes_json(capsys, *extra):
    status, out, err = run(capsys, "passes", "--start", START, "--days", "2", "--json", *extra)
    assert status == 0, err
    assert err == ""
    found = json.loads(out)
    assert found["unreliable"] is False  # the newest bundled set is 9 hours from START
    return found["passes"]


def test_passes_json_over_london(capsys):
    found = passes_json(capsys, "--site", "london")
    assert isinstance(found, list)
    # London at 51.5 N sees the ISS (inclination 51.6) on several orbits a day.
    assert len(found) >= 4
    previous_los = None
    for p in found:
        assert {"aos", "culmination", "los", "max_elevation_deg"} <= set(p)
        for key in ("aos_azimuth_deg", "culmination_azimuth_deg", "los_azimuth_deg"):
            assert 0.0 <= p[key] < 360.0
        for key in ("aos", "culmination", "los"):
            assert p[key].endswith("Z")
        aos, culm, los = (parse_iso(p[k]) for k in ("aos", "culmination", "los"))
        assert aos < culm < los
        assert los - aos < 15 * 60 * 1000  # a low-orbit pass lasts minutes, not more
        assert 10.0 <= p["max_elevation_deg"] <= 90.0
        assert parse_iso(START) <= aos and los <= parse_iso("2025-03-11T00:00:00Z")
        if previous_los is not None:
            assert aos > previous_los
        previous_los = los


def test_passes_higher_mask_gives_a_subset(capsys):
    low = passes_json(capsys, "--site", "london")
    high = passes_json(capsys, "--site", "london", "--min-elevation", "30")
    assert 0 < len(high) < len(low)
    for p in high:
        assert p["max_elevation_deg"] >= 30.0
        match = [q for q in low if abs(parse_iso(q["culmination"]) - parse_iso(p["culmination"])) <= 1000]
        assert len(match) == 1, p
        q = match[0]
        # With the higher mask the pass starts later and ends sooner.
        assert parse_iso(p["aos"]) > parse_iso(q["aos"])
        assert parse_iso(p["los"]) < parse_iso(q["los"])
        assert p["max_elevation_deg"] == pytest.approx(q["max_elevation_deg"], abs=0.05)
    # And no pass that clearly rises above 30 degrees is missing from the 30-degree list.
    clear = [q for q in low if q["max_elevation_deg"] >= 30.5]
    for q in clear:
        assert any(abs(parse_iso(q["culmination"]) - parse_iso(p["culmination"])) <= 1000 for p in high), q


def test_passes_by_coordinates_match_the_named_site(capsys):
    by_site = passes_json(capsys, "--site", "london")
    by_coords = passes_json(capsys, "--lat", "51.5074", "--lon", "-0.1278")
    assert len(by_site) == len(by_coords)
    for a, b in zip(by_site, by_coords):
        for key in ("aos", "culmination", "los"):
            assert abs(parse_iso(a[key]) - parse_iso(b[key])) <= 1000, (a, b)
        assert a["max_elevation_deg"] == pytest.approx(b["max_elevation_deg"], abs=0.05)


def test_passes_table(capsys):
    status, out, err = run(capsys, "passes", "--site", "london", "--start", START, "--days", "1")
    assert status == 0, err
    assert "rise" in out and "highest" in out
    assert "passes" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


# --------------------------------------------------------------------------- eclipses


def test_eclipses_json(capsys):
    status, out, err = run(capsys, "eclipses", "--start", START, "--days", "1", "--json")
    assert status == 0, err
    assert err == ""
    found = json.loads(out)
    # About 92.9 min a revolution: 15.5 orbits a day, each with one pass through the shadow.
    assert 15 <= len(found) <= 17
    previous_end = None
    for e in found:
        assert set(e) == {"start", "end"}
        assert e["start"].endswith("Z") and e["end"].endswith("Z")
        start, end = parse_iso(e["start"]), parse_iso(e["end"])
        assert 25 * 60_000 <= end - start <= 40 * 60_000
        if previous_end is not None:
            assert start > previous_end
            assert 50 * 60_000 < start - previous_end < 70 * 60_000  # sunlit part of an orbit
        previous_end = end


def test_eclipses_table(capsys):
    status, out, err = run(capsys, "eclipses", "--start", START, "--days", "1")
    assert status == 0, err
    assert "eclipses" in out and "beta angle" in out


# --------------------------------------------------------------------------- bad arguments


BAD_ARGS = {
    "at-word": (["track", "--at", "yesterday"], "--at"),
    "at-no-zone": (["track", "--at", "2025-03-10T00:00:00"], "--at"),
    "days-zero": (["eclipses", "--start", START, "--days", "0"], "--days"),
    "days-negative": (["eclipses", "--start", START, "--days", "-1"], "--days"),
    "days-text": (["eclipses", "--start", START, "--days", "abc"], "--days"),
    "passes-days-zero": (["passes", "--site", "london", "--start", START, "--days", "0"], "--days"),
    "start-bad": (["passes", "--site", "london", "--start", "2025-13-01T00:00:00Z"], "--start"),
    "lat-95": (["passes", "--lat", "95", "--lon", "0", "--start", START], "--lat"),
    "site-unknown": (["passes", "--site", "nowhere", "--start", START], "--site"),
    "site-and-coords": (["passes", "--site", "london", "--lat", "1", "--lon", "2", "--start", START], "--site"),
    "no-site": (["passes", "--start", START], "--site"),
    "lat-without-lon": (["passes", "--lat", "51", "--start", START], "--site"),
    "min-elevation-95": (["passes", "--site", "london", "--start", START, "--min-elevation", "95"], "--min-elevation"),
    "unknown-option": (["track", "--at", AT, "--bogus"], "--bogus"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_bad_argument_is_one_error_line(capsys, case):
    args, option = BAD_ARGS[case]
    status, out, err = run(capsys, *args)
    assert_one_error_line(status, out, err, 2, f"issim: error: {option}")


def test_unknown_site_lists_the_known_ones(capsys):
    status, out, err = run(capsys, "passes", "--site", "nowhere", "--start", START)
    assert status == 2
    assert "london" in err


# --------------------------------------------------------------------------- stale warning


def test_stale_elements_warn_once_on_one_line(capsys):
    late = iso(newest_bundled_epoch() + timedelta(days=100))
    status, out, err = run(capsys, "track", "--json", "--at", late)
    assert status == 0, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "issim: warning:" in lines[0] and "elements update" in lines[0]
    assert json.loads(out)["at"].startswith(late[:19])
    # Once per process and set: the same question again does not repeat it.
    status, out, err = run(capsys, "track", "--json", "--at", late)
    assert status == 0 and err == ""
    json.loads(out)


@pytest.mark.parametrize("at", [AT, "2024-12-01T12:00:00Z", "2024-10-14T09:00:00Z"])
def test_no_warning_near_a_bundled_set(capsys, at):
    status, out, err = run(capsys, "track", "--json", "--at", at)
    assert status == 0
    assert err == ""
    json.loads(out)


def test_stale_warning_looks_at_both_ends_of_a_span(capsys):
    """A search ending 15 days after the newest set warns, although it starts 10 days after."""
    start = iso(newest_bundled_epoch() + timedelta(days=10))
    status, out, err = run(capsys, "eclipses", "--json", "--start", start, "--days", "5")
    assert status == 0
    assert len(err.splitlines()) == 1 and "issim: warning:" in err
    assert len(json.loads(out)) > 0


# --------------------------------------------------------------------------- elements update


class Server:
    """A local HTTP server in a thread; ``reply`` is (status, body) for every request."""

    def __init__(self):
        self.reply = (200, b"[]")
        self.paths: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.paths.append(self.path)
                status, body = owner.reply
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/gp.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, status: int, body: bytes) -> None:
        self.reply = (status, body)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def record_at(epoch: str) -> dict:
    rec = {k: v for k, v in newest_record().items() if k != "date_fetched"}
    rec["EPOCH"] = epoch
    return rec


def list_epochs(capsys) -> list[str]:
    status, out, err = run(capsys, "elements", "list", "--json", "--limit", "0")
    assert status == 0, err
    return [row["epoch"] for row in json.loads(out)]


def test_update_adds_a_set_that_becomes_the_default(capsys, server, tmp_path):
    first = record_at("2026-06-01T00:00:00.000000")
    server.serve(200, json.dumps([first]).encode())
    user_file = tmp_path / "elements" / "iss.json"

    # Before: the newest set is the bundled one of March 2025, far from June 2026.
    assert "2026-06-01T00:00:00.000Z" not in list_epochs(capsys)
    status, out, err = run(capsys, "track", "--json", "--at", "2026-06-02T00:00:00Z")
    assert status == 0
    assert "issim: warning:" in err and "elements update" in err

    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert status == 0, err
    assert err == ""
    assert "saved 1" in out
    assert server.paths == ["/gp.json"]
    assert user_file.is_file()
    saved = json.loads(user_file.read_text())
    assert [r["EPOCH"] for r in saved] == ["2026-06-01T00:00:00.000000"]
    assert saved[0]["MEAN_MOTION"] == pytest.approx(first["MEAN_MOTION"], rel=1e-12)
    assert saved[0]["NORAD_CAT_ID"] == 25544
    assert "2026-06-01T00:00:00.000Z" in list_epochs(capsys)

    # After: the downloaded set is one day away, so there is nothing to warn about
    # (the remembered warnings are forgotten first, so that silence means something).
    catalog._warned.clear()
    status, out, err = run(capsys, "track", "--json", "--at", "2026-06-02T00:00:00Z")
    assert status == 0
    assert err == ""
    fix = json.loads(out)
    assert 380.0 <= fix["alt_km"] <= 460.0

    # A second update with another epoch keeps both: the file grows into a history.
    server.serve(200, json.dumps(record_at("2026-06-05T12:00:00.000000")).encode())
    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert status == 0, err
    saved = json.loads(user_file.read_text())
    assert [r["EPOCH"] for r in saved] == ["2026-06-01T00:00:00.000000", "2026-06-05T12:00:00.000000"]
    epochs = list_epochs(capsys)
    assert "2026-06-01T00:00:00.000Z" in epochs and "2026-06-05T12:00:00.000Z" in epochs
    assert len(epochs) == 499 + 12 + 2  # bundled OMM and TLE sets, and the two downloads

    # The same set fetched again is not stored twice.
    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert status == 0, err
    assert len(json.loads(user_file.read_text())) == 2


def test_update_with_nothing_listening(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/gp.json"
    status, out, err = run(capsys, "elements", "update", "--url", url)
    assert_one_error_line(status, out, err, 1, f"issim: error: {url}: cannot download")


def test_update_garbage_reply_leaves_the_file_alone(capsys, server, tmp_path):
    elements_dir = tmp_path / "elements"
    user_file = elements_dir / "iss.json"
    server.serve(200, b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe")

    # With no file yet, a bad reply creates none.
    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert_one_error_line(status, out, err, 2, f"issim: error: {server.url}")
    assert not user_file.exists()

    server.serve(200, json.dumps([record_at("2026-06-01T00:00:00.000000")]).encode())
    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert status == 0, err
    before = user_file.read_bytes()

    for garbage in (b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe", b"<html><body>Try again later</body></html>", b"[{]"):
        server.serve(200, garbage)
        status, out, err = run(capsys, "elements", "update", "--url", server.url)
        assert_one_error_line(status, out, err, 2, f"issim: error: {server.url}")
        assert user_file.read_bytes() == before
        assert sorted(p.name for p in elements_dir.iterdir()) == ["iss.json"]


def test_update_http_404(capsys, server, tmp_path):
    server.serve(404, b"not found")
    status, out, err = run(capsys, "elements", "update", "--url", server.url)
    assert_one_error_line(status, out, err, 1, f"issim: error: {server.url}", "404")
    assert not (tmp_path / "elements" / "iss.json").exists()
