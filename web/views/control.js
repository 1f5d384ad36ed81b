// The control map: which faction could command each system now (/api/control), asked
// again as simulation time moves (at most every two seconds of the reader's time).

import { getJSON, h, utc, view } from '../lib/api.js';

const EVERY_MS = 2000;

export function controlView(ctx) {
  const { world, realtime } = ctx;
  return view((element) => {
    const body = h('tbody');
    const when = h('span');
    const factions = world.factions;
    element.append(
      h('div', { class: 'issim-view issim-control' },
        h('div', { class: 'issim-legend' }, 'Who could command each system now · ', when),
        h('table', { class: 'issim-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'system'), ...factions.map((f) => h('th', {}, f)))),
          body))
    );
    let asked = 0;
    let busy = false;
    const ask = async () => {
      if (busy) return;
      busy = true;
      asked = performance.now();
      try {
        const map = await getJSON('/api/control');
        when.textContent = utc(map.timestamp);
        body.replaceChildren(
          ...Object.entries(map.systems).map(([system, who]) =>
            h('tr', { 'data-system': system },
              h('td', {}, system),
              ...factions.map((f) => h('td', { class: who.includes(f) ? 'yes' : 'no', 'data-faction': f }, who.includes(f) ? '✓' : '—')))
          )
        );
      } finally {
        busy = false;
      }
    };
    let later = null; // the last tick's question, when it came too soon after the one before
    ask();
    return [
      realtime.on('tick', () => {
        if (performance.now() - asked > EVERY_MS) ask();
        else later ??= setTimeout(() => { later = null; ask(); }, EVERY_MS);
      }),
      () => clearTimeout(later)
    ];
  });
}
