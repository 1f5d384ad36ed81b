// The fallback page: every channel of /api/dictionary, its value kept current over /api/realtime.
"use strict";
const cells = new Map();
const limits = new Map();
const states = new Map();  // a discrete channel's value -> its name

function severity(value, lim) {
  if (value === null) return "";
  for (const [level, name] of [["danger", "CRITICAL"], ["warn", "WARNING"]]) {
    if ((lim[level + "_low"] !== undefined && value <= lim[level + "_low"]) ||
        (lim[level + "_high"] !== undefined && value >= lim[level + "_high"])) return name;
  }
  return "";
}

async function main() {
  const dict = await (await fetch("/api/dictionary")).json();
  document.getElementById("title").textContent = dict.name;
  const root = document.getElementById("channels");
  for (const seg of dict.tree) {
    const h = document.createElement("h2");
    h.textContent = seg.name;
    root.appendChild(h);
    const table = document.createElement("table");
    for (const mod of seg.children) for (const sys of mod.children) for (const key of sys.channels) {
      const m = dict.measurements.find((x) => x.key === key);
      const tr = table.insertRow();
      tr.insertCell().textContent = mod.name + " · " + sys.name;
      tr.insertCell().textContent = m.name;
      const v = tr.insertCell();
      v.className = "v";
      tr.insertCell().textContent = m.unit === "1" ? "" : m.unit;
      cells.set(key, v);
      limits.set(key, m.limits);
      const e = m.values[0].enumerations;
      if (e) states.set(key, new Map(e.map((x) => [x.value, x.string])));
    }
    root.appendChild(table);
  }
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/realtime");
  ws.onopen = () => ws.send(JSON.stringify({subscribe: [...cells.keys()]}));
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.timestamp !== undefined) document.getElementById("clock").textContent = new Date(frame.timestamp).toISOString();
    if (frame.type === "telemetry") {
      for (const d of frame.data) {
        const cell = cells.get(d.id);
        const named = states.has(d.id) ? states.get(d.id).get(d.value) : undefined;
        cell.textContent = d.value === null ? "—" : named !== undefined ? named : Number(d.value.toPrecision(6)).toString();
        cell.parentElement.classList.remove("WARNING", "CRITICAL");
        const s = severity(d.value, limits.get(d.id));
        if (s) cell.parentElement.classList.add(s);
      }
    } else if (frame.type === "staleness") {
      for (const d of frame.data) cells.get(d.id).parentElement.classList.toggle("stale", d.isStale);
    }
  };
  const clock = await (await fetch("/api/clock")).json();
  document.getElementById("pace").textContent = clock.mode + ", " + clock.speed + "× real time" + (clock.paused ? " (paused)" : "");
}
main();
