// The ground track: the bundled coastlines (Natural Earth, from /api/coastlines) on an
// equirectangular map, the last orbits flown (sunlit or in eclipse), the station now, the
// ground sites, and whether each segment has contact with its ground.

import { getJSON, h, svg, utc, view } from '../lib/api.js';

const W = 720; // the map: 2 px a degree
const H = 360;
const STRIP = 14; // a row of contact windows under the map, one per segment
const SEGMENTS = ['USOS', 'ROS'];
const ORBITS_SHOWN = 2 * 93 * 60 * 1000; // about two orbits behind the station
const px = (lon, lat) => [((lon + 180) / 360) * W, ((90 - lat) / 180) * H];

let land; // fetched once a page

/** Polylines of a track, cut where it crosses the antimeridian and where sunlight changes. */
function pieces(points) {
  const out = [];
  let run = null;
  for (const p of points) {
    if (!run || run.sunlit !== p.sunlit || Math.abs(p.lon_deg - run.last.lon_deg) > 180) {
      run = { sunlit: p.sunlit, points: run && run.sunlit !== p.sunlit && Math.abs(p.lon_deg - run.last.lon_deg) <= 180 ? [run.last] : [], last: p };
      out.push(run);
    }
    run.points.push(p);
    run.last = p;
  }
  return out;
}

const pathOf = (points) => points.map((p, i) => `${i ? 'L' : 'M'}${px(p.lon_deg, p.lat_deg).map((v) => v.toFixed(1)).join(',')}`).join('');

export function trackView(ctx) {
  const { world, realtime, session } = ctx;
  return view((element) => {
    const map = svg('svg', { viewBox: `0 0 ${W} ${H + STRIP * SEGMENTS.length + 4}`, class: 'issim-track__svg', role: 'img' });
    const sea = svg('rect', { x: 0, y: 0, width: W, height: H, class: 'sea' });
    const coast = svg('g', { class: 'land' });
    const grid = svg('g', { class: 'graticule' });
    for (let lon = -150; lon <= 150; lon += 30) grid.append(svg('line', { x1: px(lon, 0)[0], x2: px(lon, 0)[0], y1: 0, y2: H }));
    for (let lat = -60; lat <= 60; lat += 30) grid.append(svg('line', { y1: px(0, lat)[1], y2: px(0, lat)[1], x1: 0, x2: W }));
    const path = svg('g', { class: 'track' });
    const sites = svg('g', { class: 'sites' });
    for (const s of world.sites) {
      const [x, y] = px(s.lon_deg, s.lat_deg);
      sites.append(svg('g', {}, svg('title', {}, `${s.name}: ${s.role}`), svg('rect', { x: x - 2.5, y: y - 2.5, width: 5, height: 5 })));
    }
    const station = svg('circle', { r: 6, class: 'station', cx: -20, cy: -20 });
    const windows = svg('g', { class: 'windows' });
    map.append(sea, grid, coast, path, sites, station, windows);

    const contact = new Map();
    const badges = h('span', { class: 'issim-track__contact' });
    const caption = h('span', { class: 'issim-track__now' });
    const legend = h(
      'div', { class: 'issim-legend' },
      h('span', { class: 'swatch track-sunlit' }), 'sunlit ',
      h('span', { class: 'swatch track-eclipse' }), 'eclipse ',
      h('span', { class: 'swatch site' }), 'ground sites · contact windows ', h('span', { class: 'swatch aos' }), 'AOS · ',
      caption, ' ', badges
    );
    element.append(h('div', { class: 'issim-view issim-track' }, legend, map));

    const drawContact = () => {
      badges.replaceChildren(
        ...SEGMENTS.map((seg) => {
          const state = contact.get(seg);
          const label = state === undefined ? '…' : state ? 'AOS' : 'LOS';
          return h('span', { class: `badge ${state ? 'aos' : 'los'}`, 'data-contact': seg, 'data-state': label }, `${seg} ${label}`);
        })
      );
    };
    const moveStation = (p) => {
      const [x, y] = px(p.lon_deg, p.lat_deg);
      station.setAttribute('cx', x);
      station.setAttribute('cy', y);
      station.classList.toggle('eclipse', !p.sunlit);
      caption.textContent = `${utc(p.timestamp)} · ${p.lat_deg.toFixed(1)}°, ${p.lon_deg.toFixed(1)}° · ${p.alt_km.toFixed(0)} km · ${p.sunlit ? 'sunlit' : 'in eclipse'}`;
    };
    let last = -Infinity;
    const redraw = async (now) => {
      last = now;
      const start = Math.max(session.start_ms, now - ORBITS_SHOWN);
      const [points, ...contacts] = await Promise.all([
        getJSON('/api/track', { start, end: now, size: 600 }),
        ...SEGMENTS.map((seg) => getJSON(`/api/history/comms.${seg}.contact`, { start, end: now }))
      ]);
      path.replaceChildren(...pieces(points).map((run) => svg('path', { d: pathOf(run.points), class: run.sunlit ? 'sunlit' : 'eclipse' })));
      path.dataset.points = points.length;
      // Contact windows: each segment's AOS spans over the same time as the track drawn above.
      const x = (t) => ((t - start) / Math.max(1, now - start)) * W;
      windows.replaceChildren(
        ...SEGMENTS.flatMap((seg, row) => {
          const y = H + 2 + row * STRIP;
          const spans = [];
          contacts[row].forEach((d, i) => {
            const next = contacts[row][i + 1]?.timestamp ?? now;
            if (d.value === 1) spans.push(svg('rect', { x: x(d.timestamp), y: y + 2, width: Math.max(0.5, x(next) - x(d.timestamp)), height: STRIP - 4, class: 'aos' }));
          });
          return [svg('rect', { x: 0, y, width: W, height: STRIP, class: 'los' }), ...spans, svg('text', { x: 4, y: y + STRIP - 3 }, `${seg} contact`)];
        })
      );
    };

    (async () => {
      land ??= getJSON('/api/coastlines');
      const { rings } = await land;
      coast.replaceChildren(...rings.map((ring) => svg('path', { d: `${pathOf(ring.map(([lon, lat]) => ({ lon_deg: lon, lat_deg: lat })))}Z` })));
      coast.dataset.rings = rings.length;
      const p = await getJSON('/api/position');
      moveStation(p);
      await redraw(p.timestamp);
    })();
    drawContact();
    return [
      realtime.on('track', (p) => {
        moveStation(p);
        // the recorded track grows a point a simulated minute: redraw it every few, or after a seek
        if (p.timestamp - last > 5 * 60 * 1000 || p.timestamp < last) redraw(p.timestamp);
      }),
      ...SEGMENTS.map((seg) => realtime.subscribe(`comms.${seg}.contact`, (d) => { contact.set(seg, d.value); drawContact(); }))
    ];
  });
}
