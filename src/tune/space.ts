/**
 * The search space: params at dotted paths into a config ("model.layers.0.units",
 * list items by index), each a float, an int or a choice, some of them only
 * under conditions (`when`). A trial's config is the base with its params set,
 * shortest path first, so a whole-object choice is set before the keys inside
 * it; a param whose condition does not hold is neither drawn nor set.
 */

export type ParamSpec =
  | { type: 'float'; low: number; high: number; log: boolean; step?: number }
  | { type: 'int'; low: number; high: number; log: boolean; step: number }
  | { type: 'choice'; values: unknown[] };

export interface Param {
  path: string;
  spec: ParamSpec;
  /** Applies only when the trial's value at each of these paths is one of those listed. */
  when: Array<{ path: string; values: unknown[] }>;
}

/** A trial's params: value by path, for the params that applied. */
export type Params = Record<string, unknown>;

/** The params in the order they apply: shortest path first, the file's order among equals. */
export function orderParams(params: Param[]): Param[] {
  return params.map((p, i) => ({ p, i, depth: p.path.split('.').length })).sort((a, b) => a.depth - b.depth || a.i - b.i).map((x) => x.p);
}

// ---- dotted paths ----

const NOT_FOUND = Symbol('not found');

/** The value at `path` in `obj`, or NOT_FOUND. */
function lookup(obj: unknown, path: string): unknown {
  let node = obj;
  for (const k of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(k) && Number(k) < node.length) node = node[Number(k)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.prototype.hasOwnProperty.call(node, k)) node = (node as Record<string, unknown>)[k];
    else return NOT_FOUND;
  }
  return node;
}

export function getPath(obj: unknown, path: string): unknown {
  const v = lookup(obj, path);
  return v === NOT_FOUND ? undefined : v;
}

export function hasPath(obj: unknown, path: string): boolean {
  return lookup(obj, path) !== NOT_FOUND;
}

/** Sets `path` in `obj` (in place): its parent must exist; a list item must exist already. */
export function setPath(obj: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.length ? lookup(obj, keys.join('.')) : obj;
  if (Array.isArray(parent)) {
    if (!/^\d+$/.test(last) || Number(last) >= parent.length) throw new Error(`${path}: no list item ${last}`);
    parent[Number(last)] = value;
  } else if (parent !== null && typeof parent === 'object') {
    (parent as Record<string, unknown>)[last] = value;
  } else {
    throw new Error(`${path}: ${keys.join('.') || '(top level)'} is not a mapping or a list`);
  }
}

/** Deep equality of plain JSON-like values (choices may be objects and lists). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** Whether param `p` applies to `config` as built so far. */
export function isActive(p: Param, config: unknown): boolean {
  return p.when.every((w) => w.values.some((v) => sameValue(getPath(config, w.path), v)));
}

/**
 * The config of a trial: a copy of `base` with each param that applies set to
 * `choose(param)`, in order. Returns the config and the params that applied.
 */
export function walkSpace(base: unknown, space: Param[], choose: (p: Param) => unknown): { config: unknown; params: Params } {
  const config = structuredClone(base);
  const params: Params = {};
  for (const p of space) {
    if (!isActive(p, config)) continue;
    const v = choose(p);
    params[p.path] = v;
    setPath(config, p.path, structuredClone(v));
  }
  return { config, params };
}

// ---- numeric params: the line they are drawn on ----

/**
 * A numeric param as an interval of the real line that samplers draw from
 * (log space for log params; widened by half a step around a discrete grid so
 * each value gets an equal share), and the value a point of it stands for.
 */
export interface Line {
  lo: number;
  hi: number;
  value(u: number): number; // the param's value at u (rounded to its step or to an integer)
  point(v: number): number; // where a value lies on the line
  step?: number; // on a grid's line (a float with a step, an int without log): the width of each value's cell
}

export function lineOf(spec: Exclude<ParamSpec, { type: 'choice' }>): Line {
  const step = spec.step;
  if (spec.log) {
    // ints: each integer k owns [ln(k - 0.5), ln(k + 0.5)); floats: the plain log line
    const lo = spec.type === 'int' ? Math.log(spec.low - 0.5) : Math.log(spec.low);
    const hi = spec.type === 'int' ? Math.log(spec.high + 0.5) : Math.log(spec.high);
    const value = spec.type === 'int' ? (u: number) => clamp(Math.round(Math.exp(u)), spec.low, spec.high) : (u: number) => clamp(Math.exp(u), spec.low, spec.high);
    return { lo, hi, value, point: (v) => Math.log(v) };
  }
  if (step) {
    const top = gridCount(spec.low, spec.high, step) - 1; // values low + k step, k = 0..top
    return {
      lo: spec.low - step / 2,
      hi: spec.low + (top + 0.5) * step,
      value: (u) => onGrid(spec.low, step, clamp(Math.round((u - spec.low) / step), 0, top)),
      point: (v) => v,
      step,
    };
  }
  return { lo: spec.low, hi: spec.high, value: (u) => clamp(u, spec.low, spec.high), point: (v) => v };
}

/** How many values low, low + step, ... <= high there are. */
export function gridCount(low: number, high: number, step: number): number {
  return Math.floor((high - low) / step + 1e-9) + 1;
}

/** low + k step, without the float noise of the product (0.1 * 3 = 0.30000000000000004). */
export function onGrid(low: number, step: number, k: number): number {
  return +(low + k * step).toPrecision(12);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Every value a grid search tries for a param. */
export function gridValues(spec: ParamSpec): unknown[] {
  if (spec.type === 'choice') return spec.values;
  const step = spec.step!; // (a grid over a float without a step is refused when the tune file is read)
  return Array.from({ length: gridCount(spec.low, spec.high, step) }, (_, k) => onGrid(spec.low, step, k));
}

/**
 * Every combination of the grid, in a fixed order (the first param slowest). A
 * param that does not apply under the earlier values is not varied there, so
 * no two points give the same config.
 */
export function gridPoints(base: unknown, space: Param[]): Params[] {
  const points: Params[] = [];
  const expand = (i: number, config: unknown, params: Params) => {
    if (i === space.length) {
      points.push(params);
      return;
    }
    const p = space[i];
    if (!isActive(p, config)) return expand(i + 1, config, params);
    for (const v of gridValues(p.spec)) {
      const next = structuredClone(config);
      setPath(next, p.path, structuredClone(v));
      expand(i + 1, next, { ...params, [p.path]: v });
    }
  };
  expand(0, base, {});
  return points;
}

/** A param value for people: numbers to 4 significant digits, objects and lists as compact JSON. */
export function showValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
