// nn serve: what every page shares: the header, JSON requests, live events, Vega charts.
// Text from the server (run names, params, messages) is always set as text, never as HTML.
'use strict';

/** The element of the page with this data-testid or id. */
function $(id) {
  return document.querySelector(`[data-testid="${id}"]`) || document.getElementById(id);
}

/** An element with attributes and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** GET or POST JSON; rejects with the server's error message. */
async function api(path, options = {}) {
  const r = await fetch(path, { credentials: 'same-origin', ...options });
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const err = new Error(body && body.error ? body.error.message : `${r.status} ${r.statusText}`);
    err.status = r.status;
    err.code = body && body.error ? body.error.code : null;
    throw err;
  }
  return body;
}

/** The header: the brand, the pages, and the model being served. */
async function header(current) {
  const nav = el('nav', {}, el('a', { href: '/', 'aria-current': current === 'draw' ? 'page' : null }, 'Draw'), el('a', { href: '/runs', 'aria-current': current === 'runs' ? 'page' : null }, 'Runs & studies'));
  const model = el('span', { class: 'model', 'data-testid': 'model' });
  document.body.prepend(el('header', {}, el('span', { class: 'brand' }, 'nn'), nav, model));
  try {
    const m = await api('/api/model');
    model.textContent = `model ${m.path}: ${m.layers.filter((l) => l.startsWith('dense')).map((l) => l.split(' ')[1]).join('-')}, ${m.parameters.toLocaleString()} parameters${m.testAccuracy !== null ? `, test accuracy ${(100 * m.testAccuracy).toFixed(2)}%` : ''}`;
  } catch (e) {
    model.textContent = e.code === 'no_model' ? 'no model yet' : '';
  }
}

/** Live events from the server: handlers by event name ('epoch', 'run', 'trial'). Reconnects by itself. */
function listen(handlers) {
  const source = new EventSource('/api/events');
  for (const [name, fn] of Object.entries(handlers)) source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  return source;
}

/** fn, called at most once per `ms` however often the returned function is: for bursts of live events. */
function coalesce(fn, ms = 300) {
  let pending = null;
  return () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      void fn();
    }, ms);
  };
}

/** Draws a Vega spec (compiled by the server) into the element, replacing what was there. */
async function chart(container, spec) {
  if (container._view) container._view.finalize();
  container.textContent = '';
  if (!spec) return;
  const runtime = vega.parse(spec, null, { ast: true });
  const view = new vega.View(runtime, { renderer: 'svg', container, hover: true, expr: vega.expressionInterpreter });
  container._view = view;
  await view.runAsync();
}

const pct = (v) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(2)}%`);
const num = (v, d = 4) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));

/** A grey 28x28 (or any square) image of bytes into a canvas; `tint` colours a 0..1 map instead. */
function paintPixels(canvas, values, side, tint) {
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = values[i];
    const [r, g, b] = tint ? tint(v) : [v, v, v];
    img.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}
