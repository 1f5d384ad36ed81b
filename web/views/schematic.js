// The station schematic: every module and docked vehicle as a box placed by its docking
// ports (forward/aft along x; zenith, nadir, port and starboard across), hatches between
// them (open, closed or locked), who is where, each box's air coloured by its worst limit.

import { SEVERITY_RANK, folderKey, h, limitState, svg, view } from '../lib/api.js';

const STEP = { forward: [1, 0], aft: [-1, 0], zenith: [0, -1], nadir: [0, 1], port: [0, -1], starboard: [0, 1] };
const W = 118;
const H = 56;
const GAP_X = 34;
const GAP_Y = 26;

/** Grid cells for the volumes, walking the ports from the first volume; a taken cell pushes further out. */
export function place(world) {
  const ids = new Set(world.volumes.map((v) => v.id));
  const links = new Map([...ids].map((id) => [id, []]));
  for (const { module, direction, attached } of world.ports) {
    if (!ids.has(module) || !ids.has(attached) || !STEP[direction]) continue;
    const [dx, dy] = STEP[direction];
    links.get(module).push([attached, dx, dy]);
    links.get(attached).push([module, -dx, -dy]);
  }
  const cells = new Map();
  const taken = new Set();
  const put = (id, x, y, dx, dy) => {
    while (taken.has(`${x},${y}`)) {
      x += dx;
      y += dy;
    }
    cells.set(id, [x, y]);
    taken.add(`${x},${y}`);
  };
  let row = 0;
  for (const start of ids) {
    if (cells.has(start)) continue;
    put(start, 0, row, 0, 1);
    const queue = [start];
    while (queue.length) {
      const id = queue.shift();
      const [x, y] = cells.get(id);
      for (const [other, dx, dy] of links.get(id)) {
        if (cells.has(other)) continue;
        put(other, x + dx, y + dy, dx || 0, dy || 0);
        queue.push(other);
      }
    }
    row = Math.max(...[...cells.values()].map(([, y]) => y)) + 2;
  }
  return cells;
}

const shortName = (name) => name.replace(/\s*\(.*\)\s*$/, '');
const initials = (name) => name.split(/\s+/).map((w) => w[0]).join('');

export function schematicView(ctx) {
  const { world, dictionary, realtime } = ctx;
  return view((element) => {
    const cells = place(world);
    const xs = [...cells.values()].map(([x]) => x);
    const ys = [...cells.values()].map(([, y]) => y);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    const width = (Math.max(...xs) - x0 + 1) * (W + GAP_X);
    const height = (Math.max(...ys) - y0 + 1) * (H + GAP_Y);
    const corner = (id) => {
      const [x, y] = cells.get(id);
      return [(x - x0) * (W + GAP_X) + GAP_X / 2, (y - y0) * (H + GAP_Y) + GAP_Y / 2];
    };
    const values = new Map(); // channel key -> value now
    const stale = new Map(); // channel key -> isStale
    const volumeIndex = new Map(); // location value -> volume id (from the enumerations)

    // The tree's folder of each module (segment → module), to open it with a click.
    const folders = new Map();
    for (const segment of ctx.tree) {
      for (const module of segment.children ?? []) {
        const id = module.key.split('/').pop();
        folders.set(id, `issim:root/issim:${folderKey(segment.key)}/issim:${folderKey(module.key)}`);
      }
    }
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'issim-schematic__svg', role: 'img' });
    const boxes = new Map();
    for (const v of world.volumes) {
      const [x, y] = corner(v.id);
      const rect = svg('rect', { x, y, width: W, height: H, rx: v.kind === 'vehicle' ? 18 : 4, class: `module seg-${v.segment}` });
      const title = svg('text', { x: x + 6, y: y + 16, class: 'module__name' }, shortName(v.name));
      const people = svg('text', { x: x + 6, y: y + 34, class: 'module__people' });
      const air = svg('text', { x: x + 6, y: y + 50, class: 'module__air' });
      const tip = svg('title', {}, v.name);
      const g = svg('g', { 'data-module': v.id, 'data-segment': v.segment, class: 'module-box' }, tip, rect, title, people, air);
      const folder = folders.get(v.id);
      if (folder) g.addEventListener('click', () => (location.hash = `#/browse/${folder}`)); // its channels in the tree
      root.append(g);
      boxes.set(v.id, { g, rect, people, air, tip, name: v.name, channels: [] });
    }
    const hatches = new Map();
    for (const hatch of world.hatches) {
      if (!cells.has(hatch.a) || !cells.has(hatch.b)) continue;
      const [ax, ay] = corner(hatch.a);
      const [bx, by] = corner(hatch.b);
      const [cx, cy] = [(ax + bx) / 2 + W / 2, (ay + by) / 2 + H / 2];
      const mark = svg('rect', { x: cx - 8, y: cy - 8, width: 16, height: 16, class: 'hatch' });
      const g = svg('g', { 'data-hatch': hatch.id }, svg('title', {}, `hatch ${hatch.id}`), mark);
      root.append(g);
      hatches.set(hatch.id, { g, mark, title: g.firstChild });
    }

    // The channels each part of the drawing follows.
    const keys = [];
    for (const m of dictionary.values()) {
      const [kind, owner] = m.key.split('.');
      if (kind === 'atm' && boxes.has(owner) && Object.keys(m.limits).length) {
        boxes.get(owner).channels.push(m);
        keys.push(m.key);
      }
    }
    for (const id of hatches.keys()) keys.push(`hatch.${id}.open`, `hatch.${id}.locked_from`);
    for (const p of world.crew) {
      keys.push(`crew.${p.slug}.location`, `crew.${p.slug}.alive`);
      for (const e of dictionary.get(`crew.${p.slug}.location`)?.values[0].enumerations ?? []) {
        volumeIndex.set(e.value, e.string);
      }
    }

    let pending = false;
    const draw = () => {
      pending = false;
      const aboard = new Map();
      for (const p of world.crew) {
        const where = volumeIndex.get(values.get(`crew.${p.slug}.location`));
        if (!where || !aboard.has(where)) aboard.set(where, []);
        aboard.get(where).push(p);
      }
      for (const [id, box] of boxes) {
        let worst = null;
        let why = '';
        const reasons = [];
        for (const m of box.channels) {
          const state = limitState(m, values.get(m.key));
          if (!state) continue;
          reasons.push(`${m.name}: ${state.name.toLowerCase()}`);
          if (!worst || SEVERITY_RANK[state.severity] > SEVERITY_RANK[worst]) {
            worst = state.severity;
            why = reasons.at(-1);
          }
        }
        const isStale = box.channels.some((m) => stale.get(m.key));
        box.g.dataset.air = worst ?? (box.channels.length ? 'ok' : 'none');
        box.rect.classList.toggle('is-stale', isStale);
        box.air.textContent = worst ? why : box.channels.length ? 'air within limits' : '';
        const here = aboard.get(id) ?? [];
        box.people.textContent = here.map((p) => initials(p.name) + (values.get(`crew.${p.slug}.alive`) === 0 ? '†' : '')).join(' ');
        box.g.dataset.people = here.map((p) => p.slug).join(' ');
        box.tip.textContent = [box.name, ...here.map((p) => p.name), ...reasons].join('\n');
      }
      for (const [id, hatch] of hatches) {
        const open = values.get(`hatch.${id}.open`);
        const lockedFrom = values.get(`hatch.${id}.locked_from`);
        const state = open === undefined ? 'unknown' : open ? 'open' : lockedFrom >= 0 ? 'locked' : 'closed';
        hatch.g.dataset.state = state;
        hatch.mark.setAttribute('class', `hatch hatch--${state}`);
        hatch.title.textContent = `hatch ${id}: ${state}${state === 'locked' ? ` from ${volumeIndex.get(lockedFrom)}` : ''}`;
      }
    };
    const later = () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(draw);
      }
    };

    const legend = h(
      'div',
      { class: 'issim-legend' },
      h('span', { class: 'swatch air-ok' }), 'air within limits ',
      h('span', { class: 'swatch air-WARNING' }), 'warning ',
      h('span', { class: 'swatch air-CRITICAL' }), 'critical · hatch ',
      h('span', { class: 'swatch hatch--open' }), 'open ',
      h('span', { class: 'swatch hatch--closed' }), 'closed ',
      h('span', { class: 'swatch hatch--locked' }), 'locked · dashed: no signal'
    );
    element.append(h('div', { class: 'issim-view issim-schematic' }, legend, root));
    draw();
    return [
      ...keys.map((key) => realtime.subscribe(key, (d) => { values.set(key, d.value); later(); })),
      ...keys.filter((k) => k.startsWith('atm.')).map((key) => realtime.subscribeStaleness(key, (s) => { stale.set(key, s.isStale); later(); }))
    ];
  });
}
