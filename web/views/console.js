// Commanding: sign in with a role's token (kept in this tab's sessionStorage only), see the
// commands the role may issue now and why not the others, issue one (or dry-run it), read the
// answer and the command history; and, signed in, work the clock (pause, resume, step, speed,
// fast-forward a live run, seek in a replay).

import { getJSON, getWithToken, h, post, utc, view } from '../lib/api.js';

const TOKEN = 'issim.token';
const REFRESH_MS = 5000;

/** A command's argument from its description (`"on: bool"`, `"count: int [1, 50] = 1"`). */
function argSpec(text) {
  const [name, rest = ''] = text.split(/:\s*/, 2);
  const kind = rest.split(/\s+/)[0];
  return { name, kind, optional: rest.includes('='), text };
}

function argValue(spec, input) {
  if (spec.kind === 'bool') return input.value === 'true';
  const raw = input.value.trim();
  if (raw === '') return undefined;
  if ((spec.kind === 'number' || spec.kind === 'int') && Number.isFinite(Number(raw))) return Number(raw);
  if (spec.kind === 'people') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

export function consoleView(ctx) {
  const { session, realtime } = ctx;
  const live = session.mode === 'live';
  return view((element) => {
    let token = sessionStorage.getItem(TOKEN) ?? '';
    let commands = [];
    let lastRefresh = 0;

    // ---- sign in
    const tokenInput = h('input', { type: 'password', placeholder: 'role token', autocomplete: 'off', name: 'issim-token', class: 'issim-console__token' });
    const who = h('span', { class: 'issim-console__who' });
    const signIn = h('button', { class: 'c-button', name: 'sign-in', type: 'submit' }, 'Sign in');
    const signOut = h('button', { class: 'c-button', name: 'sign-out', type: 'button' }, 'Sign out');

    // ---- clock
    const clockText = h('span', { class: 'issim-console__clock' });
    const button = (label, name, fn) => h('button', { class: 'c-button', name, onclick: fn }, label);
    const speedInput = h('input', { type: 'number', min: '0.1', step: 'any', value: '60', name: 'speed', class: 'issim-console__num' });
    const ffInput = h('input', { type: 'number', min: '1', step: 'any', value: '60', name: 'fast-forward', class: 'issim-console__num' });
    const seek = h('input', { type: 'range', min: session.start_ms, max: session.end_ms, step: session.period_ms, name: 'seek', class: 'issim-console__seek' });
    const clockAnswer = h('span', { class: 'issim-console__answer', 'data-role': 'clock-answer' });
    const clockRow = h('div', { class: 'issim-console__row' },
      button('Pause', 'pause', () => sim('pause')),
      button('Resume', 'resume', () => sim('resume')),
      button('Step', 'step', () => sim('step')),
      ' speed ', speedInput, '× ', button('Set', 'set-speed', () => sim('speed', { speed: Number(speedInput.value) })),
      live ? [' ', ffInput, ' min ', button('Fast-forward', 'fast-forward', () => sim('fast-forward', { t: ctx.now() + Number(ffInput.value) * 60000 }))] : '',
      live ? '' : [' ', seek],
      ' ', clockAnswer);
    seek.addEventListener('change', () => sim('seek', { t: Number(seek.value) }));

    // ---- commands
    const commandSelect = h('select', { name: 'command' });
    const targetSelect = h('select', { name: 'target' });
    const argsBox = h('span', { class: 'issim-console__args' });
    const answer = h('div', { class: 'issim-console__answer', 'data-role': 'command-answer' });
    const allowedList = h('tbody');
    const history = h('tbody');
    const form = h('div', { class: 'issim-console__row' },
      commandSelect, ' ', targetSelect, ' ', argsBox, ' ',
      button('Dry run', 'dry-run', () => issue(true)), ' ',
      button('Issue', 'issue', () => issue(false)));

    const signedIn = h('div', { class: 'issim-console__signed-in' },
      h('h3', {}, 'Clock'), clockRow,
      live ? [h('h3', {}, 'Command'), form, answer,
        h('h3', {}, 'What this role may issue now'),
        h('table', { class: 'issim-table issim-console__allowed' }, h('thead', {}, h('tr', {}, h('th', {}, 'command'), h('th', {}, 'may?'), h('th', {}, 'why not'))), allowedList)]
        : h('p', {}, 'A replay takes no commands: it shows a stored run as it was.'));
    const root = h('div', { class: 'issim-view issim-console' },
      h('form', { class: 'issim-console__row', onsubmit: (e) => e.preventDefault() }, tokenInput, ' ', signIn, ' ', signOut, ' ', who),
      signedIn,
      h('h3', {}, 'Command history'),
      h('table', { class: 'issim-table issim-console__history' },
        h('thead', {}, h('tr', {}, ...['time', 'actor', 'source', 'command', 'target', 'result', 'why'].map((t) => h('th', {}, t)))),
        history));
    element.append(root);

    const showClock = (c) => {
      clockText.textContent = `${utc(c.timestamp)} · ${c.mode} · ${c.speed}× · ${c.paused ? 'paused' : 'running'}${c.finished ? ' · ended' : ''}`;
      if (!live && document.activeElement !== seek) seek.value = c.timestamp;
    };

    async function refreshHistory() {
      const rows = await getJSON('/api/commands/history', { limit: 50 });
      history.replaceChildren(...rows.reverse().map((r) =>
        h('tr', { class: `result-${r.result}`, 'data-command': r.command, 'data-result': r.result, 'data-actor': r.actor ?? '' },
          h('td', {}, utc(r.t_ms).slice(11, 19)), h('td', {}, r.actor ?? ''), h('td', {}, r.source ?? ''),
          h('td', {}, r.command), h('td', {}, r.target ?? ''), h('td', {}, r.result),
          h('td', {}, r.result === 'done' ? '' : `${r.stage ?? ''}: ${r.message ?? r.reason ?? ''}`))));
    }

    function showCommand() {
      const c = commands.find((x) => x.name === commandSelect.value);
      targetSelect.replaceChildren(...(c?.targets ?? ['']).map((t) => h('option', { value: t }, t || '(none)')));
      argsBox.replaceChildren(...(c?.args ?? []).map(argSpec).map((spec) =>
        spec.kind === 'bool'
          ? h('label', {}, `${spec.name} `, h('select', { 'data-arg': spec.name }, h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false')))
          : h('label', {}, `${spec.name} `, h('input', { 'data-arg': spec.name, placeholder: spec.text, class: 'issim-console__arg' }))));
    }

    async function refreshAllowed() {
      lastRefresh = performance.now();
      if (!token) return;
      const me = await getWithToken('/api/whoami', token);
      if (me.status !== 200) {
        who.textContent = `not signed in: ${me.body.detail}`;
        delete root.dataset.signedIn;
        root.dataset.role = '';
        return;
      }
      root.dataset.signedIn = 'true';
      root.dataset.role = me.body.role;
      who.textContent = `signed in as ${me.body.actor} (${me.body.role})${live ? '' : ' · a replay: the clock only'}`;
      if (!live) return;
      const { status, body } = await getWithToken('/api/commands/allowed', token);
      if (status !== 200) return;
      const chosen = commandSelect.value;
      commands = body.commands;
      commandSelect.replaceChildren(...commands.map((c) => h('option', { value: c.name }, `${c.name}${c.allowed ? '' : ' ✗'}`)));
      if (chosen && commands.some((c) => c.name === chosen)) commandSelect.value = chosen;
      if (targetSelect.dataset.for !== commandSelect.value) {
        showCommand();
        targetSelect.dataset.for = commandSelect.value;
      }
      allowedList.replaceChildren(...commands.map((c) =>
        h('tr', { class: c.allowed ? 'yes' : 'no', 'data-command': c.name, 'data-allowed': String(c.allowed) },
          h('td', { title: c.summary }, c.name), h('td', {}, c.allowed ? '✓' : '✗'), h('td', {}, c.reason ?? ''))));
    }

    async function issue(dryRun) {
      const args = {};
      for (const el of argsBox.querySelectorAll('[data-arg]')) {
        const spec = argSpec((commands.find((c) => c.name === commandSelect.value)?.args ?? []).find((a) => a.startsWith(`${el.dataset.arg}:`)) ?? el.dataset.arg);
        const value = argValue(spec, el);
        if (value !== undefined) args[el.dataset.arg] = value;
      }
      const body = { command: commandSelect.value, target: targetSelect.value, args };
      const { status, body: result } = await post(`/api/command${dryRun ? '?dry_run=true' : ''}`, body, token);
      answer.dataset.status = status;
      answer.dataset.result = result.result ?? 'refused';
      answer.className = `issim-console__answer ${status === 200 ? 'ok' : 'refused'}`;
      answer.textContent = `${dryRun ? 'dry run: ' : ''}${status} ${result.result ?? ''} ${result.stage ? `at ${result.stage}` : ''} ${result.message ?? result.detail ?? ''}`;
      await Promise.all([refreshHistory(), refreshAllowed()]);
    }

    async function sim(action, body) {
      const { status, body: answerBody } = await post(`/api/sim/${action}`, body, token);
      clockAnswer.dataset.status = status;
      clockAnswer.textContent = status === 200 ? '' : `${status}: ${answerBody.detail}`;
      if (status === 200) {
        Object.assign(ctx.clock, { speed: answerBody.speed, paused: answerBody.paused, finished: answerBody.finished });
        showClock(answerBody); // a jump reaches Open MCT's views through the clock (issim-plugin.js)
      }
    }

    signIn.addEventListener('click', () => {
      token = tokenInput.value.trim();
      sessionStorage.setItem(TOKEN, token);
      tokenInput.value = '';
      refreshAllowed();
    });
    signOut.addEventListener('click', () => {
      token = '';
      sessionStorage.removeItem(TOKEN);
      commands = [];
      allowedList.replaceChildren();
      commandSelect.replaceChildren();
      who.textContent = 'signed out';
      delete root.dataset.signedIn;
      root.dataset.role = '';
    });
    commandSelect.addEventListener('change', () => {
      showCommand();
      targetSelect.dataset.for = commandSelect.value;
    });
    root.querySelector('h3').after(clockText);

    getJSON('/api/clock').then((c) => {
      speedInput.value = c.speed;
      showClock(c);
    });
    refreshHistory();
    refreshAllowed();
    let ticks = 0;
    return [
      realtime.on('tick', (t) => {
        showClock({ ...ctx.clock, timestamp: t });
        if (++ticks % 10 === 0) refreshHistory();
        if (performance.now() - lastRefresh > REFRESH_MS) refreshAllowed();
      })
    ];
  });
}
