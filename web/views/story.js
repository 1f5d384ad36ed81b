// The story feed: the event log (beats, commands, refusals) from /api/events, then live
// from the websocket's `events` stream, newest on top.

import { getJSON, h, utc, view } from '../lib/api.js';

const KEPT = 400; // entries on screen

// The fields that say who did what to what, in the order a sentence wants them.
const LEAD = ['person', 'actor', 'what', 'action', 'command', 'target', 'module'];
const META = new Set(['timestamp', 't', 'kind', 'result', 'stage', 'reason', 'message', 'source', 'args']);

/** One log entry in words, whatever its kind: who did what to what, the rest as key=value. */
export function describe(entry) {
  const args = (entry.args ?? []).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join(' ');
  const rest = Object.entries(entry)
    .filter(([k, v]) => !META.has(k) && !LEAD.includes(k) && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const message = entry.message ? `· ${entry.message}` : '';
  return [...LEAD.map((k) => entry[k]), args, rest, message].filter(Boolean).join(' ');
}

export function storyView(ctx) {
  const { realtime, session } = ctx;
  return view((element) => {
    const list = h('ol', { class: 'issim-story__list', reversed: true });
    const count = h('span', { class: 'issim-story__count' });
    element.append(h('div', { class: 'issim-view issim-story' }, h('div', { class: 'issim-legend' }, 'The event log, newest first · ', count), list));
    let newest = -Infinity;
    const add = (entries) => {
      for (const e of entries) {
        const outcome = e.result ?? '';
        list.prepend(
          h('li', { class: `entry kind-${e.kind ?? 'event'} result-${outcome}`, 'data-kind': e.kind ?? '', 'data-result': outcome },
            h('time', {}, utc(e.timestamp).slice(5, 19)), ' ',
            h('span', { class: 'tag' }, e.kind ?? 'event'), ' ',
            e.source ? h('span', { class: 'source' }, `${e.source} `) : '',
            describe(e),
            outcome && outcome !== 'done' ? h('span', { class: 'outcome' }, ` ${outcome}${e.reason ? ` (${e.reason})` : ''}`) : '')
        );
        newest = Math.max(newest, e.timestamp);
      }
      while (list.childElementCount > KEPT) list.lastElementChild.remove();
      count.textContent = `${list.childElementCount} shown`;
    };
    let ready = false;
    let early = [];
    let tick = ctx.now();
    const load = async () => {
      ready = false;
      early = [];
      const entries = await getJSON('/api/events', { start: session.start_ms, end: ctx.now(), limit: KEPT });
      list.replaceChildren();
      newest = -Infinity;
      add(entries);
      ready = true;
      add(early.filter((e) => e.timestamp > newest));
    };
    const stop = realtime.on('events', (entries) => (ready ? add(entries) : early.push(...entries)));
    const stopTick = realtime.on('tick', (t) => {
      if (t < tick) load(); // a replay went back: the story so far is shorter
      tick = t;
    });
    load();
    return [stop, stopTick];
  });
}
