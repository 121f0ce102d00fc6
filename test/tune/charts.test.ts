/**
 * The study's pictures compile with Vega-Lite without warnings and render to
 * SVG with Vega, for small hand-made studies (a conditional param, a pruned
 * trial, one complete trial only), and the SVG holds what each must show:
 * titles, the params' names, one mark per trial drawn. Nothing about pixels.
 */
import { describe, expect, it } from 'vitest';
import { renderSvg } from '../../src/io/charts';
import { historySpec, importanceSpec, parallelSpec } from '../../src/tune/charts';
import type { Param, Params } from '../../src/tune/space';
import type { TrialRecord } from '../../src/tune/storage/store';
import type { TrialState } from '../../src/tune/trial';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60000;

function trial(number: number, state: TrialState, params: Params, value: number | null, o: { reports?: number[]; start?: number; end?: number | null } = {}): TrialRecord {
  return {
    number, state, params, value, config: {}, testAccuracy: null, bestEpoch: o.reports?.length ?? 3, epochs: 3, seconds: 60, reason: null, attempts: 1, host: 'h',
    reports: new Map((o.reports ?? []).map((v, i) => [i + 1, v])),
    startedAt: T0 + (o.start ?? number) * MIN,
    finishedAt: o.end === null ? null : T0 + (o.end ?? number + 1) * MIN,
  };
}

// optimizer.momentum applies only to sgd.
const space: Param[] = [
  { path: 'optimizer.type', spec: { type: 'choice', values: ['sgd', 'adam'] }, when: [] },
  { path: 'optimizer.lr', spec: { type: 'float', low: 1e-4, high: 0.1, log: true }, when: [] },
  { path: 'optimizer.momentum', spec: { type: 'float', low: 0, high: 0.99, log: false }, when: [{ path: 'optimizer.type', values: ['sgd'] }] },
  { path: 'units', spec: { type: 'int', low: 32, high: 512, log: false, step: 32 }, when: [] },
];
const sgd = (lr: number, momentum: number, units: number) => ({ 'optimizer.type': 'sgd', 'optimizer.lr': lr, 'optimizer.momentum': momentum, units });
const adam = (lr: number, units: number) => ({ 'optimizer.type': 'adam', 'optimizer.lr': lr, units });

const study: TrialRecord[] = [
  trial(0, 'complete', sgd(0.01, 0.9, 128), 0.975, { reports: [0.95, 0.97, 0.975] }),
  trial(1, 'complete', adam(0.001, 256), 0.981, { reports: [0.96, 0.978, 0.981] }),
  trial(2, 'pruned', sgd(0.0002, 0.1, 64), null, { reports: [0.71, 0.83] }),
  trial(3, 'failed', adam(0.05, 512), null),
  trial(4, 'complete', adam(0.09, 32), 0.1135, { reports: [0.1135, 0.1135, 0.1135] }), // diverged
  trial(5, 'complete', sgd(0.05, 0.5, 512), 0.979, { reports: [0.96, 0.975, 0.979] }),
  trial(6, 'complete', adam(0.003, 384), 0.984, { reports: [0.97, 0.98, 0.984] }),
  trial(7, 'running', adam(0.002, 96), null, { reports: [0.96], end: null }),
];
const complete = study.filter((t) => t.state === 'complete');

/** Compiles with Vega-Lite, failing on any warning; then renders the SVG with Vega. */
async function draw(spec: Record<string, unknown>): Promise<string> {
  const vl = require('vega-lite') as typeof import('vega-lite');
  const warnings: string[] = [];
  const logger = { level: () => logger, warn: (...m: unknown[]) => (warnings.push(m.join(' ')), logger), info: () => logger, debug: () => logger, error: (...m: unknown[]) => (warnings.push(m.join(' ')), logger) };
  vl.compile(spec as never, { logger: logger as never });
  expect(warnings).toEqual([]);
  const svg = await renderSvg(spec);
  expect(svg.startsWith('<svg')).toBe(true);
  return svg;
}

/** Every line of text drawn: each <text> element, or each of its lines (tspans). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].flatMap((m) =>
    m[1]
      .split(/<\/tspan>/)
      .map((line) => line.replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&amp;/g, '&'))
      .filter((line) => line !== ''),
  );
}

/** The text of each <text> element, its lines joined: the param paths the parallel axes wrap after a dot. */
function labels(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));
}

/** The marks whose description (aria-label) starts with "trial N", by N. */
function trialMarks(svg: string): number[] {
  return [...svg.matchAll(/aria-label="trial (\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

describe('historySpec', () => {
  it('draws each complete and pruned trial once, not failed or running ones', async () => {
    const svg = await draw(historySpec(study, 'val_accuracy', 'maximize'));
    expect(trialMarks(svg)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(svg).toContain('trial 2, pruned at epoch 2: val_accuracy 0.83'); // at its last report
    expect(svg).toContain('trial 1, complete, best epoch 3: val_accuracy 0.981; optimizer.type adam, optimizer.lr 0.001, optimizer.momentum (not set), units 256');
    const t = texts(svg);
    expect(t).toContain('Search history: val_accuracy of each trial');
    expect(t).toContain('minutes since the study started');
    expect(t).toContain('5 complete trials, 1 pruned (at the last value reported)');
    // the diverged trial is drawn apart, and said so
    expect(t.some((s) => s.startsWith('on the dashed line, not to scale: 1 trial far worse than the rest (the worst 0.1135)'))).toBe(true);
  });

  it('says how many complete trials have no finite value to draw', async () => {
    const nan = trial(8, 'complete', adam(0.1, 64), NaN, { reports: [NaN] });
    const svg = await draw(historySpec([...study, nan], 'val_loss', 'minimize'));
    expect(trialMarks(svg)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(texts(svg)).toContain('5 complete trials, 1 pruned (at the last value reported); 1 complete without a finite val_loss, not shown');
    expect(texts(await draw(parallelSpec([...complete, nan], space, 'val_loss')))).toContain('5 complete trials, one line each, the best darkest and on top; 1 without a finite val_loss, not shown');
  });

  it('draws a loss, lower being better', async () => {
    const loss = study.map((t) => ({ ...t, value: t.value === null ? null : 1 - t.value, reports: new Map([...t.reports].map(([e, v]) => [e, 1 - v])) }));
    const svg = await draw(historySpec(loss, 'val_loss', 'minimize'));
    expect(trialMarks(svg)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(texts(svg)).toContain('the line: the best complete trial so far (lower is better)');
  });

  it('draws one complete trial alone, a pruned one alone, and nothing at all', async () => {
    expect(trialMarks(await draw(historySpec([study[0]], 'val_accuracy', 'maximize')))).toEqual([0]);
    expect(trialMarks(await draw(historySpec([study[2], study[3]], 'val_accuracy', 'maximize')))).toEqual([2]);
    expect(trialMarks(await draw(historySpec([], 'val_accuracy', 'maximize')))).toEqual([]);
  });
});

describe('parallelSpec', () => {
  it('has an axis per param and one for the metric, and a line per complete trial', async () => {
    const svg = await draw(parallelSpec(complete, space, 'val_accuracy'));
    expect(trialMarks(svg)).toEqual([0, 1, 4, 5, 6]);
    const t = texts(svg);
    for (const name of ['optimizer.type', 'optimizer.lr', 'optimizer.momentum', 'units', 'val_accuracy']) expect(labels(svg)).toContain(name);
    expect(t).toEqual(expect.arrayContaining(['optimizer.', 'momentum'])); // too long for one line beside the others
    for (const label of ['sgd', 'adam', '0.0001 (log)', '0.1', '32', '512', '0.984']) expect(t).toContain(label);
    expect(t).toContain('(not set)'); // momentum, for the adam trials
    expect(t).toContain('1 far worse'); // the diverged trial, below the metric's axis
    expect(t).toContain('5 complete trials, one line each, the best darkest and on top');
  });

  it('leaves out trials that are not complete', async () => {
    expect(trialMarks(await draw(parallelSpec(study, space, 'val_loss')))).toEqual([0, 1, 4, 5, 6]);
  });

  it('draws one complete trial alone, and none', async () => {
    const svg = await draw(parallelSpec([study[1]], space, 'val_accuracy'));
    expect(trialMarks(svg)).toEqual([1]);
    expect(texts(svg)).toContain('0.981');
    expect(trialMarks(await draw(parallelSpec([], space, 'val_accuracy')))).toEqual([]);
  });

  it('numbers choices too long for an axis and spells them out below', async () => {
    const layers = [[{ type: 'dense', units: 128 }], [{ type: 'dense', units: 512 }, { type: 'dropout', rate: 0.2 }]];
    const sp: Param[] = [{ path: 'model.layers', spec: { type: 'choice', values: layers }, when: [] }, space[1]];
    const trials = [trial(0, 'complete', { 'model.layers': layers[0], 'optimizer.lr': 0.01 }, 0.97), trial(1, 'complete', { 'model.layers': layers[1], 'optimizer.lr': 0.001 }, 0.98)];
    const t = texts(await draw(parallelSpec(trials, sp, 'val_accuracy')));
    expect(t).toEqual(expect.arrayContaining(['1', '2', 'model.layers 1: [{"type":"dense","units":128}]', 'model.layers 2: [{"type":"dense","units":512},{"type":"dropout","rate":0.2}]']));
  });
});

describe('importanceSpec', () => {
  it('draws a bar per param, largest on top, with its share, titled as a forest importance', async () => {
    const svg = await draw(importanceSpec([{ path: 'optimizer.lr', importance: 0.625 }, { path: 'optimizer.type', importance: 0.25 }, { path: 'units', importance: 0.125 }], 'val_accuracy'));
    const t = texts(svg);
    expect(t).toContain('Param importance for val_accuracy');
    expect(t).toContain('mean decrease in impurity of a random forest of 64 regression trees:');
    for (const s of ['62.5%', '25.0%', '12.5%']) expect(t).toContain(s);
    // the y axis lists the params top to bottom
    const names = t.filter((s) => ['optimizer.lr', 'optimizer.type', 'units'].includes(s));
    expect(names).toEqual(['optimizer.lr', 'optimizer.type', 'units']);
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(3);
  });

  it('draws an empty list without failing', async () => {
    expect(await draw(importanceSpec([], 'val_loss'))).not.toContain('aria-roledescription="bar"');
  });
});
