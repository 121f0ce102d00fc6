// nn serve, the drawing page: strokes on a canvas (Pointer Events: mouse, pen and touch alike),
// sent as a PNG to POST /api/predict while drawing, at most one request in flight; the answer shows
// the guess, the ten probabilities, the 28x28 input the network saw and its saliency map.
'use strict';

const pad = $('pad');
const ctx = pad.getContext('2d');
const widthInput = $('width');
const strokes = []; // {width, points: [[x, y], ...]} in the canvas's own pixels
let active = null; // the stroke being drawn, and its pointer
let upload = null; // {blob} an image given by file or drop, shown on the pad
let uploadImage = null;
let generation = 0; // bumped when the drawing is replaced (clear, undo, upload): older answers are dropped
let inFlight = false;
let dirty = false;

const probs = $('probabilities');
const bars = [];
for (let d = 0; d < 10; d++) {
  const fill = el('span');
  const val = el('span', { class: 'val' }, '');
  const row = el('div', { class: 'prob', 'data-testid': `prob-${d}`, 'data-value': '0' }, el('span', {}, String(d)), el('span', { class: 'bar' }, fill), val);
  probs.append(row);
  bars.push({ row, fill, val });
}

function render() {
  ctx.fillStyle = '#fff'; // opaque white paper: the PNG sent has no transparency
  ctx.fillRect(0, 0, pad.width, pad.height);
  if (uploadImage) {
    const s = Math.min(pad.width / uploadImage.width, pad.height / uploadImage.height);
    const w = uploadImage.width * s;
    const h = uploadImage.height * s;
    ctx.drawImage(uploadImage, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  }
  for (const s of strokes) drawStroke(s);
}

function drawStroke(s) {
  ctx.strokeStyle = '#000';
  ctx.fillStyle = '#000';
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = s.width;
  const p = s.points;
  if (p.length === 1) {
    ctx.beginPath();
    ctx.arc(p[0][0], p[0][1], s.width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(p[0][0], p[0][1]);
  for (let i = 1; i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
  ctx.stroke();
}

/** A pointer event's position in the canvas's pixels (the canvas is scaled by CSS). */
function at(e) {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
}

pad.addEventListener('pointerdown', (e) => {
  if (active || (e.pointerType === 'mouse' && e.button !== 0)) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  active = { id: e.pointerId, stroke: { width: Number(widthInput.value), points: [at(e)] } };
  strokes.push(active.stroke);
  drawStroke(active.stroke);
  changed();
});
pad.addEventListener('pointermove', (e) => {
  if (!active || e.pointerId !== active.id) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const c of events.length ? events : [e]) active.stroke.points.push(at(c));
  render();
  changed();
});
for (const type of ['pointerup', 'pointercancel']) {
  pad.addEventListener(type, (e) => {
    if (!active || e.pointerId !== active.id) return;
    active = null;
    changed();
  });
}
// a finger on the pad draws; the page must not scroll or zoom under it (touch-action: none does it; this is for old browsers)
pad.addEventListener('touchmove', (e) => e.preventDefault(), { passive: false });

$('clear').addEventListener('click', () => {
  strokes.length = 0;
  upload = uploadImage = null;
  generation++;
  render();
  reset('Draw a digit.');
});
$('undo').addEventListener('click', () => {
  if (strokes.length) strokes.pop();
  else upload = uploadImage = null;
  generation++;
  render();
  if (!strokes.length && !upload) reset('Draw a digit.');
  else changed();
});

// an image from the file picker or dropped on the pad: sent as it is, shown on the pad
$('upload').addEventListener('change', (e) => {
  if (e.target.files[0]) take(e.target.files[0]);
  e.target.value = '';
});
const wrap = document.getElementById('pad-wrap');
wrap.addEventListener('dragover', (e) => {
  e.preventDefault();
  wrap.classList.add('dragging');
});
wrap.addEventListener('dragleave', () => wrap.classList.remove('dragging'));
wrap.addEventListener('drop', (e) => {
  e.preventDefault();
  wrap.classList.remove('dragging');
  if (e.dataTransfer.files[0]) take(e.dataTransfer.files[0]);
});

function take(file) {
  if (!['image/png', 'image/jpeg'].includes(file.type)) {
    reset(`${file.name}: not a PNG or JPEG`, true);
    return;
  }
  strokes.length = 0;
  upload = { blob: file };
  generation++;
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    uploadImage = img;
    render();
    URL.revokeObjectURL(url);
  };
  img.src = url;
  changed();
}

/** The drawing changed: ask again, unless a request is under way (then ask when it answers). */
function changed() {
  dirty = true;
  if (!inFlight) void ask();
}

async function ask() {
  dirty = false;
  if (!strokes.length && !upload) return;
  inFlight = true;
  const gen = generation;
  try {
    const blob = upload && !strokes.length ? upload.blob : await new Promise((resolve) => pad.toBlob(resolve, 'image/png'));
    const answer = await api('/api/predict', { method: 'POST', headers: { 'Content-Type': blob.type || 'image/png' }, body: blob });
    if (gen === generation) show(answer);
  } catch (e) {
    if (gen === generation) reset(e.code === 'no_ink' ? 'No ink yet: draw a little more.' : e.message, e.code !== 'no_ink');
  } finally {
    inFlight = false;
    if (dirty) void ask();
  }
}

function show(a) {
  $('guess').textContent = String(a.digit);
  $('status').textContent = `${(100 * a.confidence).toFixed(1)}% sure`;
  $('status').classList.remove('error');
  a.probabilities.forEach((p, d) => {
    bars[d].row.dataset.value = String(p);
    bars[d].row.classList.toggle('top', d === a.digit);
    bars[d].fill.style.width = `${(100 * p).toFixed(1)}%`;
    bars[d].val.textContent = `${(100 * p).toFixed(1)}%`;
  });
  paintPixels($('input28'), a.input, 28);
  // ink for the guess in hot colours (red to yellow), ink against it in blue, on black
  paintPixels($('saliency'), a.saliency, 28, (s) => (s >= 0 ? [255 * Math.min(1, 2 * s), 255 * Math.max(0, 2 * s - 1), 0] : [0, 0.4 * 255 * -s, 255 * -s]));
}

function reset(message, isError = false) {
  $('guess').textContent = '';
  $('status').textContent = message;
  $('status').classList.toggle('error', isError);
  for (const b of bars) {
    b.row.dataset.value = '0';
    b.row.classList.remove('top');
    b.fill.style.width = '0';
    b.val.textContent = '';
  }
  for (const id of ['input28', 'saliency']) {
    const c = $(id);
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }
}

render();
void header('draw');
