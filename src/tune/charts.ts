/**
 * Pictures of a search, as Vega-Lite specs (drawn like a run's pictures, by
 * src/io/charts.ts):
 *   historySpec     each trial's metric over the study's time, and the running best
 *   parallelSpec    parallel coordinates: each complete trial's params and its metric
 *   importanceSpec  how much of the metric each param explains (importance.ts)
 * Param paths have dots, which Vega-Lite reads as nested fields, so data rows
 * carry params under plain keys (p0, p1, ...) and the paths only as titles.
 */
import type { Metric } from './file';
import { TREES } from './importance';
import { lineOf, sameValue, showValue, type Param } from './space';
import type { TrialRecord } from './storage/store';
import { better, directionOf, type Direction } from './trial';

type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const STATE_COLORS = { complete: '#4c78a8', pruned: '#f58518' };
const STATE_SHAPES = { complete: 'circle', pruned: 'triangle-down' };
const BEST_COLOR = '#222222';

// ---- history ----

/** A trial as the history draws it. */
interface Point {
  trial: number;
  state: 'complete' | 'pruned';
  minutes: number; // when it finished
  value: number; // complete: its value; pruned: the last value it reported
  y: number; // where it is drawn: its value, or the far-worse line
  epoch: number | null; // complete: its best epoch; pruned: the epoch it stopped at
  about: string; // the tooltip's content as one line, for the SVG (aria-label), where tooltips do not show
  [param: string]: unknown; // p0, p1, ...: its params, shown
}

/**
 * Each finished trial's metric against the minutes since the study started (when
 * it finished): complete trials at their value, pruned ones at the last value
 * they reported; a step line of the best complete value so far. Running and
 * failed trials have no value to draw.
 */
export function historySpec(trials: TrialRecord[], metric: Metric, direction: Direction): Spec {
  const times = trials.flatMap((t) => [t.startedAt, t.finishedAt]).filter((v): v is number => v !== null);
  const t0 = times.length ? Math.min(...times) : 0;
  const keys = paramKeys(trials);
  const points: Point[] = [];
  for (const t of trials) {
    if (t.finishedAt === null) continue;
    let value: number | null = null;
    let epoch: number | null = null;
    if (t.state === 'complete') [value, epoch] = [t.value, t.bestEpoch];
    else if (t.state === 'pruned' && t.reports.size) {
      epoch = Math.max(...t.reports.keys());
      value = t.reports.get(epoch)!;
    }
    if (value === null || !Number.isFinite(value)) continue;
    const state = t.state as Point['state'];
    const shown = keys.map(({ path }) => (path in t.params ? showValue(t.params[path]) : '(not set)'));
    const when = state === 'complete' ? (epoch !== null ? `, best epoch ${epoch}` : '') : ` at epoch ${epoch}`;
    points.push({
      trial: t.number,
      state,
      minutes: (t.finishedAt - t0) / 60000,
      value,
      y: value,
      epoch,
      about: `trial ${t.number}, ${state}${when}: ${metric} ${showValue(value)}; ` + keys.map(({ path }, i) => `${path} ${shown[i]}`).join(', '),
      ...Object.fromEntries(keys.map(({ key }, i) => [key, shown[i]])),
    });
  }
  points.sort((a, b) => a.minutes - b.minutes);

  // Trials far worse than the rest (diverged: accuracy 0.11 beside 0.98) are drawn on
  // a line of their own just beyond the worst of the rest, so the rest keep the axis.
  const far = farWorse(points.map((p) => p.value), direction);
  const drawn = (v: number) => (far && better(far.edge, v, direction) ? far.line : v);
  for (const p of points) p.y = drawn(p.value);

  const best: Array<{ minutes: number; best: number }> = [];
  for (const p of points) {
    if (p.state === 'complete' && (!best.length || better(p.value, best[best.length - 1].best, direction))) best.push({ minutes: p.minutes, best: p.value });
  }
  // The best holds until the last trial finished: carry it to the right edge.
  const end = points.length ? points[points.length - 1].minutes : 0;
  if (best.length && end > best[best.length - 1].minutes) best.push({ minutes: end, best: best[best.length - 1].best });
  const steps = best.map((b) => ({ minutes: b.minutes, y: drawn(b.best) }));

  const count = (state: Point['state']) => points.filter((p) => p.state === state).length;
  const states = (['complete', 'pruned'] as const).filter((st) => count(st) > 0);
  const valueless = trials.filter((t) => t.state === 'complete' && !(t.value !== null && Number.isFinite(t.value))).length; // diverged to NaN
  return {
    $schema: SCHEMA,
    background: 'white',
    title: {
      text: `Search history: ${metric} of each trial`,
      subtitle: [
        plural(count('complete'), 'complete trial') +
          (count('pruned') ? `, ${count('pruned')} pruned (at the last value reported)` : '') +
          (valueless ? `; ${valueless} complete without a finite ${metric}, not shown` : ''),
        `the line: the best complete trial so far (${direction === 'maximize' ? 'higher' : 'lower'} is better)`,
        ...(far ? [`on the dashed line, not to scale: ${plural(far.count, 'trial')} far worse than the rest (the worst ${showValue(far.worst)})`] : []),
      ],
    },
    width: 560,
    height: 300,
    layer: [
      ...(far ? [{ data: { values: [{ y: far.line }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#999999' }, encoding: { y: { field: 'y', type: 'quantitative' } } }] : []),
      {
        data: { values: steps },
        mark: { type: 'line', interpolate: 'step-after', color: BEST_COLOR, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'minutes', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          description: { value: 'the best complete trial so far' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.85 },
        encoding: {
          x: { field: 'minutes', type: 'quantitative', title: 'minutes since the study started', scale: { zero: true } },
          y: { field: 'y', type: 'quantitative', title: metric, scale: { zero: false, padding: 8 } }, // padded: no point sits on the frame
          // (the legend lists only the states drawn)
          color: { field: 'state', type: 'nominal', title: 'trial', scale: { domain: states, range: states.map((st) => STATE_COLORS[st]) } },
          shape: { field: 'state', type: 'nominal', title: 'trial', scale: { domain: states, range: states.map((st) => STATE_SHAPES[st]) } },
          tooltip: [
            { field: 'trial', type: 'quantitative', title: 'trial' },
            { field: 'state', type: 'nominal', title: 'state' },
            { field: 'value', type: 'quantitative', title: metric, format: '.4f' },
            { field: 'epoch', type: 'quantitative', title: 'epoch (complete: best; pruned: last)' },
            ...keys.map(({ key, path }) => ({ field: key, type: 'nominal', title: path })),
          ],
          description: { field: 'about', type: 'nominal' },
        },
      },
    ],
  };
}

/**
 * The values far worse than the rest: beyond a gap wider than half of the whole
 * range, on the worse side, fewer than half of all values (and only among 5 or
 * more, where "the rest" means something). They are drawn on a line of their
 * own at `line`, a tenth of the rest's range beyond `edge`, the worst of the rest.
 */
function farWorse(values: number[], direction: Direction): { edge: number; line: number; count: number; worst: number } | null {
  const n = values.length;
  if (n < 5) return null;
  const s = [...values].sort((a, b) => (direction === 'maximize' ? b - a : a - b)); // best first
  const range = Math.abs(s[0] - s[n - 1]);
  let cut = -1;
  let widest = 0.5 * range;
  for (let i = Math.ceil(n / 2); i < n; i++) {
    const gap = Math.abs(s[i - 1] - s[i]);
    if (gap > widest) [widest, cut] = [gap, i];
  }
  if (cut < 0) return null;
  const edge = s[cut - 1];
  const spread = Math.abs(s[0] - edge) || Math.abs(edge) * 0.01 || 0.01;
  return { edge, line: direction === 'maximize' ? edge - 0.1 * spread : edge + 0.1 * spread, count: n - cut, worst: s[n - 1] };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The params any of `trials` has, in the order first seen, each with its plain key. */
function paramKeys(trials: TrialRecord[]): Array<{ key: string; path: string }> {
  const paths = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  return paths.map((path, i) => ({ key: `p${i}`, path }));
}

// ---- parallel coordinates ----

const BELOW = -0.15; // where a trial crosses an axis it has no place on: below the axis's low end
const LABEL_CHARS = 14; // beside an axis 125 px apart from the next, at 10 px
const KEY_CHARS = 110;

interface Axis {
  name: string;
  position: (t: TrialRecord) => number; // in [0, 1], or BELOW
  labels: Array<{ pos: number; text: string }>;
}

/**
 * Parallel coordinates of the complete trials: one axis per param and a last one
 * for the metric, each scaled to [0, 1] here (the "normalized fold" of Vega-Lite's
 * parallel-coordinates example, done before the spec so that each axis can be
 * scaled as its param is drawn): numeric params from low to high on their line
 * (log space for log params), choices by the index of their value, the metric
 * from its worst to its best trial. A trial that lacks a param (its `when` did
 * not hold) crosses that axis below it, at "(not set)"; one far worse than the
 * rest (diverged) crosses the metric's axis there too. One line per trial,
 * colored by the metric, the best on top. Choices too long to print beside an
 * axis (whole layer lists) are numbered there and spelled out in a key below.
 */
export function parallelSpec(trials: TrialRecord[], space: Param[], metric: Metric): Spec {
  const direction = directionOf(metric);
  const complete = trials.filter((t) => t.state === 'complete' && t.value !== null && Number.isFinite(t.value));
  const valueless = trials.filter((t) => t.state === 'complete').length - complete.length; // diverged to NaN
  const ranked = [...complete].sort((a, b) => (better(a.value!, b.value!, direction) ? 1 : better(b.value!, a.value!, direction) ? -1 : 0)); // worst first: drawn first
  const values = ranked.map((t) => t.value!);
  const far = farWorse(values, direction);
  const kept = far ? values.filter((v) => !better(far.edge, v, direction)) : values;
  const worst = kept[0];
  const best = kept[kept.length - 1];
  const spread = Math.abs(best - worst);

  const key: string[] = [];
  const axes: Axis[] = space.map((p): Axis => {
    const spec = p.spec;
    if (spec.type === 'choice') {
      const k = spec.values.length;
      const at = (i: number) => (k === 1 ? 0.5 : i / (k - 1));
      const shown = spec.values.map(showValue);
      const numbered = shown.some((v) => v.length > LABEL_CHARS);
      if (numbered) key.push(...shown.map((v, i) => clip(`${p.path} ${i + 1}: ${v}`, KEY_CHARS)));
      return {
        name: p.path,
        position: (t) => {
          const i = p.path in t.params ? spec.values.findIndex((v) => sameValue(v, t.params[p.path])) : -1;
          return i < 0 ? BELOW : at(i);
        },
        labels: shown.map((v, i) => ({ pos: at(i), text: numbered ? String(i + 1) : v })),
      };
    }
    const line = lineOf(spec);
    const a = line.point(spec.low);
    const b = line.point(spec.high);
    return {
      name: p.path,
      position: (t) => {
        const v = t.params[p.path];
        return typeof v !== 'number' ? BELOW : b > a ? (line.point(v) - a) / (b - a) : 0.5;
      },
      labels: [
        { pos: 0, text: showValue(spec.low) + (spec.log ? ' (log)' : '') },
        { pos: 1, text: showValue(spec.high) },
      ],
    };
  });
  for (const a of axes) if (complete.some((t) => a.position(t) === BELOW)) a.labels.push({ pos: BELOW, text: '(not set)' });
  axes.push({
    name: metric,
    position: (t) => (far && better(far.edge, t.value!, direction) ? BELOW : spread > 0 ? Math.abs(t.value! - worst) / spread : 0.5),
    labels: [
      ...(!kept.length ? [] : spread > 0 ? [{ pos: 0, text: showValue(worst) }, { pos: 1, text: showValue(best) }] : [{ pos: 0.5, text: showValue(best) }]),
      ...(far ? [{ pos: BELOW, text: `${far.count} far worse` }] : []),
    ],
  });

  const order = axes.map((a) => a.name);
  const rows = ranked.flatMap((t, rank) => axes.map((a) => ({ trial: t.number, rank, axis: a.name, pos: a.position(t), value: t.value, about: `trial ${t.number}: ${metric} ${showValue(t.value)}` })));
  const labels = axes.flatMap((a) => a.labels.map((l) => ({ axis: a.name, ...l })));
  const x = {
    field: 'axis',
    type: 'nominal',
    scale: { type: 'point', padding: 0.25, domain: order }, // (as for importance: no sort in each layer)
    axis: { title: null, labelAngle: 0, orient: 'bottom', domain: false, ticks: false, labelFontSize: 11, labelFontWeight: 'bold', labelLimit: 0, labelExpr: wrapExpr(order) },
  };
  const y = { field: 'pos', type: 'quantitative', axis: null, scale: { domain: [labels.some((l) => l.pos < 0) ? BELOW - 0.05 : -0.05, 1.05] } };
  const text = { type: 'text', align: 'left', dx: 5, fontSize: 10 };
  const width = Math.max(360, 125 * axes.length);

  const chart = {
    width,
    height: 300,
    layer: [
      {
        data: { values: order.map((axis) => ({ axis })) },
        mark: { type: 'rule', color: '#bbbbbb' },
        encoding: { x, y: { datum: 0, type: 'quantitative', axis: null }, y2: { datum: 1 } },
      },
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 },
        encoding: {
          x,
          y,
          detail: { field: 'rank', type: 'quantitative' },
          color:
            spread > 0
              ? { field: 'value', type: 'quantitative', title: metric, scale: { scheme: 'viridis', reverse: direction === 'maximize', domain: direction === 'maximize' ? [worst, best] : [best, worst], clamp: true } }
              : { value: '#4c78a8' }, // one value: nothing for a legend to tell
          tooltip: [
            { field: 'trial', type: 'quantitative' },
            { field: 'value', type: 'quantitative', title: metric, format: '.4f' },
          ],
          description: { field: 'about', type: 'nominal' },
        },
      },
      // The axes' labels over a white outline, so the lines crossing them do not hide them.
      { data: { values: labels }, mark: { ...text, stroke: 'white', strokeWidth: 3, strokeJoin: 'round' }, encoding: { x, y, text: { field: 'text', type: 'nominal' } } },
      { data: { values: labels }, mark: { ...text, color: '#333333' }, encoding: { x, y, text: { field: 'text', type: 'nominal' } } },
    ],
  };
  const keyView = {
    width,
    height: 15 * key.length,
    data: { values: key.map((text, line) => ({ text, line })) },
    mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 10, color: '#333333' },
    encoding: { x: { datum: 0, type: 'quantitative', axis: null, scale: { domain: [0, 1] } }, y: { field: 'line', type: 'ordinal', axis: null }, text: { field: 'text', type: 'nominal' } },
  };
  return {
    $schema: SCHEMA,
    background: 'white',
    title: {
      text: `The params of each complete trial, and its ${metric}`,
      anchor: 'middle', // (a concatenation with the key would put it at the start)
      subtitle: [
        (complete.length === 1 ? '1 complete trial' : `${complete.length} complete trials, one line each, the best darkest and on top`) +
          (valueless ? `; ${valueless} without a finite ${metric}, not shown` : ''),
        `each param's axis runs from its low (bottom) to its high (top); ${metric}'s from the worst trial to the best`,
      ],
    },
    config: { view: { stroke: null } }, // the axes are the frame
    ...(key.length ? { vconcat: [chart, keyView], spacing: 10 } : chart),
  };
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/**
 * An axis labelExpr that writes each name on lines of at most 16 characters,
 * broken after its dots (model.layers.0.units: "model.layers.0." over "units"),
 * so that long paths side by side do not run into each other.
 */
function wrapExpr(names: string[]): string {
  const wrap = (name: string) => {
    const lines: string[] = [];
    for (const part of name.split(/(?<=\.)/)) {
      if (lines.length && lines[lines.length - 1].length + part.length <= 16) lines[lines.length - 1] += part;
      else lines.push(part);
    }
    return lines;
  };
  return names.reduceRight((rest, name) => `datum.label === ${JSON.stringify(name)} ? ${JSON.stringify(wrap(name))} : ${rest}`, 'datum.label');
}

// ---- importance ----

/** Horizontal bars of each param's share, largest on top, the share printed at its end. */
export function importanceSpec(importance: Array<{ path: string; importance: number }>, metric: Metric): Spec {
  const top = Math.max(0, ...importance.map((x) => x.importance));
  return {
    $schema: SCHEMA,
    background: 'white',
    title: {
      text: `Param importance for ${metric}`,
      subtitle: [`mean decrease in impurity of a random forest of ${TREES} regression trees:`, `each param's share of the variance of ${metric} that the trees explain`],
    },
    width: 420,
    height: Math.max(60, 26 * importance.length),
    data: { values: importance },
    encoding: {
      // Largest on top, by an explicit domain: a sort in each layer would be unioned into alphabetical order.
      y: { field: 'path', type: 'nominal', scale: { domain: [...importance].sort((a, b) => b.importance - a.importance).map((x) => x.path) }, title: null, axis: { labelLimit: 300, labelFontSize: 11 } },
      // Room beyond the longest bar for its printed share.
      x: { field: 'importance', type: 'quantitative', title: 'share of importance', axis: { format: '.0%', tickCount: 5 }, scale: { domain: [0, Math.min(1, Math.max(0.1, top * 1.15))], nice: false } },
    },
    layer: [
      { mark: { type: 'bar', color: '#4c78a8' } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'importance', type: 'quantitative', format: '.1%' } } },
    ],
  };
}
