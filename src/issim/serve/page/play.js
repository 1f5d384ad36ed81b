// issim play in the browser: the page of /play over /api/play (docs/play.md).
// It shows the game's view as the server sends it and nothing else; the player token
// stays in this page's memory only.
"use strict";

const $ = (id) => document.getElementById(id);
let game = null, token = null, busy = false;

function text(tag, content, cls) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
}

function list(id, rows, empty) {
  const ul = $(id);
  ul.replaceChildren(...(rows.length ? rows : [empty]).map((r) => text("li", r, r.startsWith("ALARM") ? "alarm" : "")));
}

async function api(method, path, body) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await r.json().catch(() => ({detail: r.statusText}));
  if (!r.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail));
  return data;
}

async function act(work) {
  if (busy) return;
  busy = true;
  document.body.style.cursor = "progress";
  for (const b of document.querySelectorAll("button")) b.dataset.was = b.disabled, b.disabled = true;
  $("error").textContent = "";
  try {
    show(await work());
  } catch (e) {
    $("error").textContent = e.message;
    for (const b of document.querySelectorAll("button")) b.disabled = b.dataset.was === "true";
  } finally {
    busy = false;
    document.body.style.cursor = "";
  }
}

function show(v) {
  $("top").textContent = `· ${v.scenario} · ${v.person} · ${v.clock} (${v.utc})`;
  const you = [`in ${v.where} (${v.segment})`, ...v.body,
    "sees: " + (v.in_sight.length ? v.in_sight.join(", ") : "no one"), ...v.hatches];
  list("you", you, "");
  const station = $("station");
  station.replaceChildren();
  for (const seg of v.station) {
    station.append(text("div", seg.segment, "seg"));
    const ul = document.createElement("ul");
    for (const vol of seg.volumes) {
      const li = text("li", vol.id);
      if (vol.mark) li.append(text("span", vol.mark, "mark"));
      ul.append(li);
    }
    station.append(ul);
  }
  list("laptops", v.laptops, "");
  list("messages", v.messages, "none yet");
  $("feed").textContent = v.feed.join("\n");
  $("feed").scrollTop = $("feed").scrollHeight;
  const cmds = $("commands");
  cmds.replaceChildren();
  for (const c of v.choices) {
    const b = text("button", c.refused ? `${c.label} — ${c.refused}` : c.label);
    b.type = "button";
    b.dataset.index = c.index;
    b.disabled = c.refused !== null;
    if (c.refused) b.title = c.refused;
    b.addEventListener("click", () => act(() => api("POST", `/api/play/${game}/command`, {index: c.index})));
    cmds.append(b);
  }
  $("next").disabled = $("wait").disabled = v.over;
  $("quit").disabled = false;
  if (v.over) {
    $("end").classList.remove("hidden");
    $("quit").textContent = v.stored ? "Stored" : "End and store";
    $("quit").disabled = !!v.stored;
    const story = v.story.length ? v.story : ["nothing of note happened"];
    $("end-text").textContent = [`GAME OVER: ${v.ended}`, "", `Ending: ${v.ending}`, "", "The story:", ...story, "",
      v.stored ? `Stored as run ${v.run_id} (issim show ${v.run_id}).` : "Press End to store it."].join("\n");
  }
}

$("start").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const body = {scenario: $("scenario").value.trim(), person: $("person").value.trim()};
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  if ($("start-at").value.trim()) body.start = $("start-at").value.trim();
  $("go").textContent = "Starting…";
  act(async () => {
    try {
      token = null;
      const r = await api("POST", "/api/play", body);
      game = r.game;
      token = r.token;
      $("start").classList.add("hidden");
      $("game").classList.remove("hidden");
      return r.view;
    } finally {
      $("go").textContent = "Start the game";
    }
  });
});
$("next").addEventListener("click", () => act(() => api("POST", `/api/play/${game}/advance`, {mode: "next"})));
$("wait").addEventListener("click", () => act(() => api("POST", `/api/play/${game}/advance`, {mode: "wait"})));
$("quit").addEventListener("click", () => act(async () => ({...await api("POST", `/api/play/${game}/end`), stored: true})));
