// nn serve, a run's page: its curves and epochs (live while it trains), then its test results:
// confusion matrix, per-class table and the test images its model got wrong.
'use strict';

const name = decodeURIComponent(location.pathname.split('/').pop());
let shownMisclassified = false;

async function load() {
  const r = await api(`/api/runs/${encodeURIComponent(name)}`);
  document.title = `nn: ${r.name}`;
  $('run-name').textContent = r.name;
  $('run-state').textContent = r.state;
  $('run-state').className = `state ${r.state}`;
  $('run-summary').textContent = r.summary;
  $('run-result').textContent = [
    r.stopReason,
    r.bestEpoch ? `best epoch ${r.bestEpoch}` : null,
    r.valAccuracy !== null ? `validation ${pct(r.valAccuracy)}` : null,
    r.testAccuracy !== null ? `test ${pct(r.testAccuracy)}` : null,
  ].filter(Boolean).join(' · ');
  const warnings = $('warnings');
  warnings.textContent = '';
  for (const w of r.warnings) warnings.append(el('li', {}, w));
  await chart($('curves'), r.charts.curves);
  const body = $('epochs').querySelector('tbody');
  body.textContent = '';
  for (const e of r.history) {
    body.append(el('tr', {}, [e.epoch, num(e.loss), pct(e.accuracy), num(e.val_loss), pct(e.val_accuracy), e.lr, num(e.seconds, 2)].map((v) => el('td', { class: 'num' }, String(v)))));
  }
  $('final').hidden = !r.confusion;
  if (r.confusion) {
    await chart($('confusion'), r.charts.confusion);
    const pc = $('per-class').querySelector('tbody');
    pc.textContent = '';
    for (const c of r.perClass ?? []) pc.append(el('tr', {}, el('td', {}, String(c.digit)), ...[num(c.precision), num(c.recall), num(c.f1), c.support].map((v) => el('td', { class: 'num' }, String(v)))));
    if (r.hasModel && !shownMisclassified) void loadMisclassified();
  }
}

async function loadMisclassified() {
  shownMisclassified = true;
  const note = $('misclassified-note');
  try {
    const m = await api(`/api/runs/${encodeURIComponent(name)}/misclassified`);
    note.textContent = `${m.count} of ${m.samples.toLocaleString()} test images are misclassified (accuracy ${pct(m.accuracy)})${m.shown < m.count ? `; the first ${m.shown}` : ''}, labelled truth → guess:`;
    const box = $('misclassified');
    box.textContent = '';
    for (const item of m.items) {
      const bytes = Uint8Array.from(atob(item.pixels), (c) => 255 - c.charCodeAt(0)); // dark ink on white
      const canvas = el('canvas');
      paintPixels(canvas, bytes, 28);
      box.append(el('figure', { title: `test image ${item.index}` }, canvas, el('figcaption', {}, `${item.label} → ${item.guess}`)));
    }
  } catch (e) {
    note.textContent = e.message;
    shownMisclassified = false;
  }
}

const reload = coalesce(load, 200);
listen({
  epoch: (e) => e.run === name && reload(),
  run: (e) => e.name === name && reload(),
});
void header('runs');
load().catch((e) => {
  $('run-name').textContent = name;
  $('run-result').textContent = e.message;
});
