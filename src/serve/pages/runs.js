// nn serve, the runs page: the runs (live), an overlay of the ticked ones' curves, and the studies.
'use strict';

const picked = new Set();

async function loadRuns() {
  const { runs } = await api('/api/runs');
  const body = $('runs').querySelector('tbody');
  body.textContent = '';
  for (const r of runs) {
    const box = el('input', { type: 'checkbox', 'aria-label': `overlay ${r.name}`, checked: picked.has(r.name) });
    box.addEventListener('change', () => {
      if (box.checked) picked.add(r.name);
      else picked.delete(r.name);
      void loadOverlay();
    });
    body.append(
      el('tr', { 'data-run': r.name },
        el('td', {}, box),
        el('td', {}, el('a', { href: `/runs/${encodeURIComponent(r.name)}` }, r.name)),
        el('td', {}, el('span', { class: `state ${r.state}` }, r.state)),
        el('td', {}, r.summary),
        el('td', { class: 'num', 'data-testid': 'epochs' }, String(r.epochs)),
        el('td', { class: 'num' }, r.bestEpoch ?? '–'),
        el('td', { class: 'num' }, pct(r.valAccuracy)),
        el('td', { class: 'num' }, pct(r.testAccuracy)),
      ),
    );
  }
  $('runs-empty').hidden = runs.length > 0;
  for (const name of [...picked]) if (!runs.some((r) => r.name === name)) picked.delete(name);
}

async function loadOverlay() {
  const box = $('overlay');
  box.hidden = picked.size === 0;
  if (!picked.size) return chart(box, null);
  const { chart: spec } = await api(`/api/runs/overlay?names=${[...picked].map(encodeURIComponent).join(',')}`);
  await chart(box, spec);
}

async function loadStudies() {
  const { studies } = await api('/api/studies');
  const body = $('studies').querySelector('tbody');
  body.textContent = '';
  for (const s of studies) {
    body.append(
      el('tr', {},
        el('td', {}, el('a', { href: `/tune/${encodeURIComponent(s.name)}` }, s.name)),
        el('td', {}, s.metric),
        el('td', { class: 'num' }, String(s.trials)),
        el('td', {}, Object.entries(s.states).map(([k, v]) => `${v} ${k}`).join(', ')),
        el('td', { class: 'num' }, num(s.best)),
        el('td', { class: 'muted' }, s.storage),
      ),
    );
  }
  $('studies-empty').hidden = studies.length > 0;
}

// live: a new run, a state change or an epoch reloads the table (at most every 0.3 s)
const refresh = coalesce(async () => {
  await loadRuns();
  if (picked.size) await loadOverlay();
});
listen({ run: refresh, epoch: refresh, trial: () => void loadStudies() });
void header('runs');
void loadRuns();
void loadStudies();
