// The page: Open MCT (the global `openmct` from node_modules/openmct/dist/openmct.js) with the
// issim plugin, opened on the mission-control layout.

import IssimPlugin from './issim-plugin.js';
import { getJSON } from './lib/api.js';
import { Realtime } from './lib/realtime.js';

if (typeof openmct === 'undefined') {
  document.body.textContent =
    'Open MCT is not installed beside this page: run `make web` (npm ci --prefix web) and reload.';
  throw new Error('web/node_modules/openmct is missing');
}

const [session, dict, clock, world] = await Promise.all(
  ['/api/session', '/api/dictionary', '/api/clock', '/api/world'].map((path) => getJSON(path))
);
const ctx = {
  session,
  clock,
  world,
  tree: dict.tree,
  dictionary: new Map(dict.measurements.map((m) => [m.key, m])),
  realtime: new Realtime()
};
ctx.now = () => clock.timestamp; // simulation time now, as the last frame said
ctx.realtime.on('tick', (t) => (clock.timestamp = t));
window.issim = ctx; // for a curious reader in the browser's console, and the browser test

document.title = `issim · ${session.scenario} · ${session.mode}`;
openmct.setAssetPath('node_modules/openmct/dist/');
openmct.install(openmct.plugins.Espresso());
openmct.install(openmct.plugins.LocalStorage()); // "My Items": one's own plots and layouts, in this browser
openmct.install(openmct.plugins.MyItems());
openmct.install(openmct.plugins.DisplayLayout({ showAsView: ['issim.telemetry'] }));
openmct.install(openmct.plugins.LADTable());
openmct.install(IssimPlugin(ctx));
if (!location.hash || location.hash === '#/' || location.hash === '#/browse') {
  location.hash = '#/browse/issim:root/issim:mission?hideInspector=true'; // the layout, with room to breathe
}
openmct.start();
