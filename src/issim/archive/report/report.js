/* issim run report: the ground track around the chosen moment, following the schematic's slider.
   The track comes packed from mapview.track_payload: lat/lon in 0.01° as int16, a flag byte per
   sample (1 sunlit, 2 US contact, 4 Russian contact), base64. Nothing here is fetched. */
(function () {
  "use strict";

  function bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  }

  function fmt(t) {
    return new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  /* Points i0..i1 (inclusive) where keep(i) holds, as one line broken (null) between stretches
     and where it crosses the antimeridian. */
  function gapped(lon, lat, keep, i0, i1, dy) {
    var xs = [], ys = [], prev = false;
    for (var i = i0; i <= i1; i++) {
      if (keep(i)) {
        if (prev && Math.abs(lon[i] - lon[i - 1]) > 18000) { xs.push(null); ys.push(null); }
        xs.push(lon[i] / 100); ys.push(lat[i] / 100 + dy);
        prev = true;
      } else if (prev) {
        xs.push(null); ys.push(null); prev = false;
      }
    }
    return [xs, ys];
  }

  window.issimTrack = function (mapId, data, schematicId) {
    var div = document.getElementById(mapId);
    var lat = new Int16Array(bytes(data.lat)), lon = new Int16Array(bytes(data.lon));
    var flags = new Uint8Array(bytes(data.flags)), n = data.n;
    var t = data.t ? new Float64Array(bytes(data.t)) : null;
    var time = function (i) { return t ? t[i] : data.t0 + i * data.dt; };
    var whole = false, at = data.at_ms;

    function index(ms) {  // the last sample at or before ms
      var lo = 0, hi = n - 1;
      while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (time(mid) <= ms) lo = mid; else hi = mid - 1; }
      return lo;
    }

    function draw() {
      var i0 = 0, i1 = n - 1;
      if (!whole) {  // one period around the moment, kept inside the run
        var from = Math.max(time(0), Math.min(at - data.period_ms / 2, time(n - 1) - data.period_ms));
        i0 = index(from);
        i1 = Math.min(n - 1, index(from + data.period_ms) + 1);
      }
      var sun = function (i) { return (flags[i] & 1) === 1; };
      var day = function (i) { return sun(i) || (i > i0 && sun(i - 1)); };  // the two share their boundary points
      var night = function (i) { return !sun(i) || (i > i0 && !sun(i - 1)); };
      var us = function (i) { return (flags[i] & 2) === 2; };
      var ru = function (i) { return (flags[i] & 4) === 4; };
      var lines = [gapped(lon, lat, us, i0, i1, data.rail_deg), gapped(lon, lat, ru, i0, i1, -data.rail_deg),
                   gapped(lon, lat, day, i0, i1, 0), gapped(lon, lat, night, i0, i1, 0)];
      var k = index(at);
      var first = data.first_trace;
      Plotly.restyle(div, {
        x: lines.map(function (l) { return l[0]; }).concat([[lon[k] / 100]]),
        y: lines.map(function (l) { return l[1]; }).concat([[lat[k] / 100]]),
        customdata: [null, null, null, null, [fmt(time(k))]]
      }, [first, first + 1, first + 2, first + 3, first + 4]);
      div.dataset.trackFrom = String(time(i0));
      div.dataset.trackTo = String(time(i1));
      div.dataset.trackPoints = String(i1 - i0 + 1);
      var label = document.getElementById(mapId + "-when");
      if (label) {
        label.textContent = whole ? "the whole run, " + fmt(time(0)) + " to " + fmt(time(n - 1))
          : "one orbit, " + fmt(time(i0)) + " to " + fmt(time(i1)) + ", around " + fmt(at);
      }
    }

    document.querySelectorAll("input[name=" + mapId + "-span]").forEach(function (input) {
      input.addEventListener("change", function () { whole = input.value === "run" && input.checked; draw(); });
    });
    var schematic = schematicId && document.getElementById(schematicId);
    if (schematic && schematic.on) {
      schematic.on("plotly_sliderchange", function (e) {
        var ms = Number(e.step.value);
        if (isFinite(ms)) { at = ms; draw(); }
      });
    }
    draw();
  };
})();
