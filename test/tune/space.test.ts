/**
 * The search space and the two samplers that need no model: dotted paths, conditions,
 * the grid's fixed order, and random search as a pure function of (seed, trial number),
 * each value checked against its definition (uniform on the line; log-uniform for log).
 */
import { describe, expect, it } from 'vitest';
import { GridSampler } from '../../src/tune/samplers/grid';
import { RandomSampler, randomValue } from '../../src/tune/samplers/random';
import { getPath, gridPoints, lineOf, orderParams, setPath, walkSpace, type Param } from '../../src/tune/space';
import { Rng } from '../../src/util/rng';

const base = {
  training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 64 },
  model: { layers: [{ type: 'dense', units: 32 }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 10 }] },
};
const space: Param[] = orderParams([
  { path: 'model.layers.1.rate', spec: { type: 'float', low: 0, high: 0.5, log: false, step: 0.25 }, when: [] },
  { path: 'training.optimizer.momentum', spec: { type: 'float', low: 0.5, high: 0.9, log: false, step: 0.4 }, when: [{ path: 'training.optimizer.type', values: ['momentum'] }] },
  { path: 'training.optimizer', spec: { type: 'choice', values: [{ type: 'adam', learningRate: 0.001 }, { type: 'momentum', learningRate: 0.01, momentum: 0.9 }] }, when: [] },
  { path: 'training.optimizer.learningRate', spec: { type: 'float', low: 1e-4, high: 1e-1, log: true }, when: [] },
  { path: 'model.layers.0.units', spec: { type: 'int', low: 16, high: 1024, log: true, step: 1 }, when: [] },
]);

describe('dotted paths and conditions', () => {
  it('get and set by path, list items by index; a missing list item is an error', () => {
    const c = structuredClone(base);
    expect(getPath(c, 'model.layers.1.rate')).toBe(0.1);
    setPath(c, 'model.layers.0.units', 64);
    expect(c.model.layers[0].units).toBe(64);
    expect(() => setPath(c, 'model.layers.5.units', 1)).toThrow(/no list item|not a mapping/);
  });

  it('params apply shortest path first: a whole-object choice, then keys inside it; a when param only where it holds', () => {
    expect(space.map((p) => p.path)).toEqual(['training.optimizer', 'training.optimizer.momentum', 'training.optimizer.learningRate', 'model.layers.1.rate', 'model.layers.0.units']);
    const pick = (opt: number) => walkSpace(base, space, (p) => (p.spec.type === 'choice' ? p.spec.values[opt] : p.spec.low));
    const adam = pick(0);
    expect(adam.params).not.toHaveProperty(['training.optimizer.momentum']);
    expect((adam.config as typeof base).training.optimizer).toEqual({ type: 'adam', learningRate: 1e-4 });
    const mom = pick(1);
    expect(mom.params['training.optimizer.momentum']).toBe(0.5);
    expect((mom.config as typeof base).training.optimizer).toEqual({ type: 'momentum', learningRate: 1e-4, momentum: 0.5 });
    expect(base.training.optimizer).toEqual({ type: 'adam', learningRate: 0.001 }); // the base is never changed
  });

  it('lines: log ints own [ln(k - 0.5), ln(k + 0.5)); steps round to the grid, half a step each side', () => {
    const units = lineOf({ type: 'int', low: 16, high: 1024, log: true, step: 1 });
    expect([units.lo, units.hi]).toEqual([Math.log(15.5), Math.log(1024.5)]);
    expect(units.value(Math.log(100.4))).toBe(100);
    expect(units.value(units.lo)).toBe(16);
    const rate = lineOf({ type: 'float', low: 0, high: 0.5, log: false, step: 0.1 });
    expect([rate.lo, rate.hi]).toEqual([-0.05, 0.55]);
    expect([rate.value(0.26), rate.value(-0.05), rate.value(0.549)]).toEqual([0.3, 0, 0.5]);
  });
});

describe('grid search', () => {
  it('every combination once, in a fixed order, the first param slowest; a when param varies only where it applies', () => {
    const pts = gridPoints(base, space.filter((p) => p.spec.type !== 'float' || p.spec.step !== undefined).filter((p) => p.path !== 'model.layers.0.units'));
    // adam: 3 rates; momentum: 2 momenta x 3 rates
    expect(pts).toHaveLength(3 + 6);
    expect(pts[0]).toEqual({ 'training.optimizer': { type: 'adam', learningRate: 0.001 }, 'model.layers.1.rate': 0 });
    expect(pts[2]['model.layers.1.rate']).toBe(0.5);
    expect(pts[3]).toMatchObject({ 'training.optimizer.momentum': 0.5, 'model.layers.1.rate': 0 });
    expect(pts[8]).toMatchObject({ 'training.optimizer.momentum': 0.9, 'model.layers.1.rate': 0.5 });
    expect(new Set(pts.map((p) => JSON.stringify(p))).size).toBe(pts.length);
    const g = new GridSampler(base, space.filter((p) => p.path === 'model.layers.1.rate'));
    expect([0, 1, 2, 3].map((n) => g.propose(n))).toEqual([{ 'model.layers.1.rate': 0 }, { 'model.layers.1.rate': 0.25 }, { 'model.layers.1.rate': 0.5 }, null]);
  });
});

describe('random search', () => {
  it("trial n's value of a param is drawn from (seed, n, path) alone: the definitions, exactly", () => {
    const u = (seed: number, n: number, path: string) => Rng.derive(seed, `random/${n}/${path}`).next();
    for (const n of [0, 1, 7, 123]) {
      const lr = space.find((p) => p.path === 'training.optimizer.learningRate')!;
      // log-uniform on [1e-4, 1e-1]: exp(ln 1e-4 + U (ln 1e-1 - ln 1e-4))
      expect(randomValue(lr, 5, n)).toBeCloseTo(Math.exp(Math.log(1e-4) + u(5, n, lr.path) * (Math.log(0.1) - Math.log(1e-4))), 15);
      const units = space.find((p) => p.path === 'model.layers.0.units')!;
      expect(randomValue(units, 5, n)).toBe(Math.min(1024, Math.max(16, Math.round(Math.exp(Math.log(15.5) + u(5, n, units.path) * (Math.log(1024.5) - Math.log(15.5)))))));
      const opt = space.find((p) => p.path === 'training.optimizer')!;
      expect(randomValue(opt, 5, n)).toEqual((opt.spec as { values: unknown[] }).values[Rng.derive(5, `random/${n}/${opt.path}`).int(2)]);
    }
  });

  it('the same for any number of workers and in any order of asking; another seed, other params', () => {
    const a = new RandomSampler(base, space, 11);
    const forward = [0, 1, 2, 3, 4, 5].map((n) => a.propose(n));
    const b = new RandomSampler(base, space, 11);
    const backward = [5, 4, 3, 2, 1, 0].map((n) => b.propose(n)).reverse();
    expect(backward).toEqual(forward);
    expect(new RandomSampler(base, space, 12).propose(0)).not.toEqual(forward[0]);
  });

  it('draws spread over the whole line: a log param is uniform in log space (Kolmogorov-Smirnov, 2,000 draws, D < 0.04)', () => {
    const lr = space.find((p) => p.path === 'training.optimizer.learningRate')!;
    const xs = Array.from({ length: 2000 }, (_, n) => (Math.log(randomValue(lr, 3, n) as number) - Math.log(1e-4)) / (Math.log(0.1) - Math.log(1e-4))).sort((p, q) => p - q);
    const D = Math.max(...xs.map((x, i) => Math.max(Math.abs(x - i / xs.length), Math.abs(x - (i + 1) / xs.length))));
    expect(D).toBeLessThan(0.04); // the 1% critical value for n = 2000 is 1.63 / sqrt(2000) = 0.036
  });
});
