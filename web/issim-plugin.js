// The issim plugin for Open MCT: a clock in simulation time, the object tree
// (segment → module → system → channel) from the server's dictionary, a telemetry
// provider (history, realtime, limits, staleness) and issim's own views.

import { folderKey, getJSON, limitEvaluator, twoSided } from './lib/api.js';
import { consoleView } from './views/console.js';
import { controlView } from './views/control.js';
import { schematicView } from './views/schematic.js';
import { storyView } from './views/story.js';
import { trackView } from './views/track.js';

export const NS = 'issim'; // the views, the layout and the tree's folders
export const TM = 'issim.tm'; // the channels, keyed by their channel key
export const CLOCK = 'issim';
const HOUR = 3600 * 1000;

// Open MCT's own views in the layout: a LAD table of the station's vital signs and a stacked
// plot of the air's CO2 on both sides and the US battery (those the served run has).
const VITALS = ['orbit.alt_km', 'comms.USOS.contact', 'comms.ROS.contact', 'power.USOS.soc', 'power.ROS.soc',
  'atm.unity.pressure_pa', 'atm.zvezda.pressure_pa', 'atm.unity.pp_o2_pa', 'atm.zvezda.pp_o2_pa',
  'atm.unity.pp_co2_pa', 'atm.zvezda.pp_co2_pa', 'att.held'];
const PLOTTED = ['atm.unity.pp_co2_pa', 'atm.zvezda.pp_co2_pa', 'power.USOS.soc'];

// issim's own views: [key (the object's type and the view's), name, icon, build]
const VIEWS = [
  ['schematic', 'Station schematic', 'icon-object', schematicView],
  ['track', 'Ground track', 'icon-map', trackView],
  ['story', 'Story', 'icon-notebook-shift-log', storyView],
  ['control', 'Control map', 'icon-connectivity', controlView],
  ['console', 'Commanding', 'icon-command', consoleView]
];

/**
 * The clock Open MCT follows: simulation time, ticked by every websocket frame (a frame
 * apart). A jump (a seek in a replay, back or forth, a fast-forward, from this page or
 * another) calls `onJump` after the tick, so that views can ask their history again.
 */
class SimulationClock {
  constructor(realtime, now, jump) {
    this.key = CLOCK;
    this.name = 'Simulation time';
    this.cssClass = 'icon-clock';
    this.description = "The simulation's own time, from issim serve (live or replay).";
    this.last = now;
    this.jump = jump; // ms: a tick further than this from the last one is a jump
    this.onJump = () => {};
    this.listeners = new Set();
    realtime.on('tick', (t) => this.tick(t));
  }

  tick(t) {
    const jumped = t < this.last || t - this.last > this.jump;
    this.last = t;
    this.listeners.forEach((fn) => fn(t));
    if (jumped) this.onJump(t);
  }

  on(event, fn) {
    if (event === 'tick') this.listeners.add(fn);
    return this;
  }

  off(event, fn) {
    if (event === 'tick') this.listeners.delete(fn);
    return this;
  }

  currentValue() {
    return this.last;
  }
}


function buildObjects(ctx) {
  const { session, dictionary } = ctx;
  const objects = new Map(); // keystring -> domain object
  const children = new Map(); // keystring of a folder -> child identifiers
  const id = (namespace, key) => ({ namespace, key });
  const keystring = ({ namespace, key }) => `${namespace}:${key}`;
  const add = (obj, parent) => {
    obj.location = parent;
    objects.set(keystring(obj.identifier), obj);
    return obj.identifier;
  };
  const root = id(NS, 'root');
  const rootKey = keystring(root);
  const top = [];

  const views = VIEWS.map(([key, name]) =>
    add({ identifier: id(NS, key), name, type: `issim.${key}` }, rootKey)
  );
  const channel = (key) => id(TM, key);
  const vitals = add(
    { identifier: id(NS, 'vitals'), name: 'Vital signs', type: 'LadTable', composition: VITALS.filter((k) => dictionary.has(k)).map(channel) },
    rootKey
  );
  const plotted = PLOTTED.filter((k) => dictionary.has(k)).map(channel);
  const plot = add(
    {
      identifier: id(NS, 'plot'),
      name: 'CO2 and charge',
      type: 'telemetry.plot.stacked',
      composition: plotted,
      configuration: { series: plotted.map((identifier) => ({ identifier })), yAxis: {}, xAxis: {} }
    },
    rootKey
  );
  const layout = id(NS, 'mission');
  const frame = (identifier, size) => ({ id: `frame-${identifier.key}`, domainObjectIdentifier: identifier, size, noFrame: false });
  const [schematic, track, story, control, commanding] = views;
  add(
    {
      identifier: layout,
      name: 'Mission control',
      type: 'flexible-layout',
      composition: [...views, vitals, plot],
      configuration: {
        rowsLayout: false,
        containers: [
          { id: 'station', size: 40, frames: [frame(schematic, 50), frame(track, 50)] },
          { id: 'values', size: 28, frames: [frame(vitals, 45), frame(plot, 55)] },
          { id: 'people', size: 32, frames: [frame(story, 36), frame(control, 22), frame(commanding, 42)] }
        ]
      }
    },
    rootKey
  );
  top.push(layout, ...views, vitals, plot);

  const walk = (node, parent) => {
    const identifier = id(NS, folderKey(node.key));
    const kids = [];
    add({ identifier, name: node.name, type: 'folder' }, parent);
    const here = keystring(identifier);
    for (const child of node.children ?? []) kids.push(walk(child, here));
    for (const key of node.channels ?? []) {
      const m = dictionary.get(key);
      kids.push(add({ identifier: id(TM, key), name: m.name, type: 'issim.telemetry', telemetry: { values: m.values } }, here));
    }
    children.set(here, kids);
    return identifier;
  };
  for (const node of ctx.tree) top.push(walk(node, rootKey));
  add({ identifier: root, name: `issim · ${session.scenario}${session.mode === 'replay' ? ` (run ${session.run ?? ''})` : ''}`, type: 'folder' }, 'ROOT');
  children.set(rootKey, top);
  return { objects, children, root };
}

export default function IssimPlugin(ctx) {
  return function install(openmct) {
    const { realtime, dictionary, session } = ctx;
    const { objects, children, root } = buildObjects(ctx);

    openmct.types.addType('issim.telemetry', {
      name: 'issim channel',
      description: 'A channel of the simulated station, in its SI unit.',
      cssClass: 'icon-telemetry'
    });
    for (const [key, name, cssClass] of VIEWS) {
      openmct.types.addType(`issim.${key}`, { name, description: `issim: ${name.toLowerCase()}`, cssClass });
    }

    const provider = {
      get: (identifier) => Promise.resolve(objects.get(`${identifier.namespace}:${identifier.key}`))
    };
    openmct.objects.addProvider(NS, provider);
    openmct.objects.addProvider(TM, provider);
    openmct.objects.addRoot(root);

    openmct.composition.addProvider({
      appliesTo: (obj) => obj.identifier.namespace === NS && children.has(`${NS}:${obj.identifier.key}`),
      load: (obj) => Promise.resolve(children.get(`${NS}:${obj.identifier.key}`))
    });

    const ours = (obj) => obj.identifier.namespace === TM && dictionary.has(obj.identifier.key);
    openmct.telemetry.addProvider({
      supportsRequest: ours,
      async request(obj, options = {}) {
        const key = obj.identifier.key;
        const params = { start: options.start, end: options.end };
        if (options.strategy === 'latest' || options.strategy === 'minmax') {
          params.strategy = options.strategy;
          if (options.size) params.size = Math.min(Math.max(1, Math.round(options.size)), 10000);
        }
        if (params.start === undefined || params.end === undefined) {
          const b = openmct.time.getBounds();
          params.start = b.start;
          params.end = b.end;
        }
        if (openmct.time.isRealTime()) {
          // a replay's history runs past the replay's now: "now" shows nothing of what came later
          params.end = Math.max(params.start, Math.min(params.end, ctx.now()));
        }
        return getJSON(`/api/history/${encodeURIComponent(key)}`, params, options.signal);
      },
      supportsSubscribe: ours,
      subscribe(obj, callback) {
        return realtime.subscribe(obj.identifier.key, (datum) => {
          if (datum.value !== null) callback(datum);
        });
      },
      supportsLimits: (obj) => ours(obj) && Object.keys(dictionary.get(obj.identifier.key).limits).length > 0,
      getLimitEvaluator: (obj) => limitEvaluator(dictionary.get(obj.identifier.key)),
      getLimits: (obj) => ({ limits: () => Promise.resolve(twoSided(dictionary.get(obj.identifier.key).severities)) }),
      supportsStaleness: ours,
      isStale: (obj, options = {}) => getJSON(`/api/staleness/${encodeURIComponent(obj.identifier.key)}`, {}, options.signal),
      subscribeToStaleness: (obj, callback) => realtime.subscribeStaleness(obj.identifier.key, callback)
    });

    for (const [key, name, cssClass, build] of VIEWS) {
      openmct.objectViews.addProvider({
        key: `issim.${key}`,
        name,
        cssClass,
        canView: (obj) => obj.type === `issim.${key}`,
        view: () => build(ctx),
        priority: () => 1
      });
    }

    const clock = new SimulationClock(realtime, ctx.clock.timestamp, Math.max(10 * 60 * 1000, 20 * session.period_ms));
    clock.onJump = () => {
      // the same offsets from the new now: Open MCT's views take new bounds (not a tick) and ask their history again
      if (openmct.time.isRealTime() && openmct.time.getClock()?.key === CLOCK) {
        openmct.time.setClockOffsets(openmct.time.getClockOffsets());
      }
    };
    openmct.time.addClock(clock);
    openmct.install(openmct.plugins.UTCTimeSystem());
    const span = Math.max(HOUR, Math.min(6 * HOUR, session.end_ms - session.start_ms));
    openmct.install(
      openmct.plugins.Conductor({
        menuOptions: [
          { name: 'Simulation time', timeSystem: 'utc', clock: CLOCK, clockOffsets: { start: -2 * HOUR, end: 5 * 60 * 1000 } },
          { name: 'Fixed', timeSystem: 'utc', bounds: { start: session.start_ms, end: session.start_ms + span } }
        ]
      })
    );
  };
}
