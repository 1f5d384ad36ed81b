// The server's HTTP API (docs/serve.md), limits as Open MCT sees them, and small DOM helpers.

export async function getJSON(path, params = {}, signal = undefined) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null)
  ).toString();
  const response = await fetch(query ? `${path}?${query}` : path, { signal });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** POST with the signed-in role's token: `{status, body}` whatever the status (a refusal is an answer). */
export async function post(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  let answer;
  try {
    answer = await response.json();
  } catch {
    answer = { detail: response.statusText };
  }
  return { status: response.status, body: answer };
}

export async function getWithToken(path, token) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

// issim's two limit levels as Open MCT's severities (docs/serve.md, "Limits and severities").
const LEVELS = [
  ['danger', 'CRITICAL', 'red', 'Critical'],
  ['warn', 'WARNING', 'yellow', 'Warning']
];

/** The worst limit a value is at or beyond: `{severity, side, color, name}`, or null inside. */
export function limitState(measurement, value) {
  const limits = measurement?.limits;
  if (!limits || value === null || value === undefined || !Number.isFinite(value)) return null;
  for (const [level, severity, color, name] of LEVELS) {
    const low = limits[`${level}_low`];
    const high = limits[`${level}_high`];
    if (low !== undefined && value <= low) return { severity, side: 'low', color, name: `${name} low` };
    if (high !== undefined && value >= high) return { severity, side: 'high', color, name: `${name} high` };
  }
  return null;
}

/** The object key of a folder of the dictionary's tree: no '/', which would cut Open MCT's navigation paths. */
export const folderKey = (treeKey) => `tree~${treeKey.replaceAll('/', '~')}`;

export const SEVERITY_RANK = { CRITICAL: 2, WARNING: 1 };

/** Open MCT's limit evaluator for one measurement (TelemetryAPI.getLimitEvaluator). */
export function limitEvaluator(measurement) {
  return {
    evaluate(datum, valueMetadata) {
      const key = valueMetadata?.key ?? 'value';
      const state = limitState(measurement, datum?.[key]);
      if (!state) return undefined;
      const limits = measurement.limits;
      const level = state.severity === 'CRITICAL' ? 'danger' : 'warn';
      return {
        cssClass: `is-limit--${state.side === 'low' ? 'lwr' : 'upr'} is-limit--${state.color}`,
        name: state.name,
        low: state.side === 'low' ? Number.NEGATIVE_INFINITY : limits[`${level}_high`],
        high: state.side === 'low' ? limits[`${level}_low`] : Number.POSITIVE_INFINITY
      };
    }
  };
}

/**
 * A measurement's `severities` (Open MCT's `getLimits().limits()`) with both sides of every
 * level: the server gives only the sides issim has, and Open MCT's LAD table reads both; a
 * missing side is an infinity, a limit never reached.
 */
export function twoSided(severities) {
  const out = {};
  for (const [level, { low, high }] of Object.entries(severities ?? {})) {
    const color = (low ?? high).color;
    out[level] = {
      low: low ?? { color, value: Number.NEGATIVE_INFINITY },
      high: high ?? { color, value: Number.POSITIVE_INFINITY }
    };
  }
  return out;
}

/** `h('div', {class: 'x', onclick: f}, child, 'text')`: an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : String(child));
    }
  }
  return el;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : String(child));
  return el;
}

export function utc(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** A view whose `show(element)` builds once and whose `destroy()` undoes every listener it was given. */
export function view(build) {
  let stops = [];
  return {
    show(element) {
      stops = build(element) ?? [];
    },
    destroy() {
      stops.forEach((stop) => stop());
      stops = [];
    }
  };
}
