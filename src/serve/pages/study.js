// nn serve, a study's page: its trials (state, params, metric), history and parallel coordinates,
// live while nn tune runs (each change of its trials reloads it).
'use strict';

const name = decodeURIComponent(location.pathname.split('/').pop());

async function load() {
  const s = await api(`/api/studies/${encodeURIComponent(name)}`);
  document.title = `nn: study ${s.name}`;
  $('study-name').textContent = `Study ${s.name}`;
  $('study-summary').textContent = `${s.trials} trials (${Object.entries(s.states).map(([k, v]) => `${v} ${k}`).join(', ')}); ${s.metric} (${s.direction}), best ${num(s.best)}; ${s.storage}`;
  await chart($('history'), s.charts ? s.charts.history : null);
  await chart($('parallel'), s.charts ? s.charts.parallel : null);
  const head = $('trials').querySelector('thead');
  head.textContent = '';
  head.append(el('tr', {}, ['#', 'state', s.metric, ...s.space, 'test', 'epochs', 'seconds', 'note'].map((h) => el('th', {}, h))));
  const body = $('trials').querySelector('tbody');
  body.textContent = '';
  for (const t of s.rows) {
    const last = t.reports.length ? t.reports[t.reports.length - 1][1] : null;
    body.append(
      el('tr', {},
        el('td', { class: 'num' }, String(t.number)),
        el('td', {}, el('span', { class: `state ${t.state}` }, t.state)),
        el('td', { class: 'num' }, num(t.value ?? last)),
        ...s.space.map((p) => el('td', {}, show(t.params[p]))),
        el('td', { class: 'num' }, pct(t.testAccuracy)),
        el('td', { class: 'num' }, t.epochs ?? t.reports.length),
        el('td', { class: 'num' }, t.seconds === null ? '–' : t.seconds.toFixed(1)),
        el('td', { class: 'muted' }, t.reason ?? ''),
      ),
    );
  }
}

function show(v) {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const reload = coalesce(load);
listen({ trial: (e) => e.study === name && reload() });
void header('runs');
load().catch((e) => {
  $('study-name').textContent = name;
  $('study-summary').textContent = e.message;
});
