/**
 * Pruning against its paper's definition (Zhu & Gupta 2017, eq. 1) and its
 * promises: the schedule's sparsity at each step; each mask update zeroes exactly
 * round(s n) weights of each hidden layer, the smallest in magnitude; masked
 * weights stay 0 through optimizer steps; the output layer is untouched; and
 * nn prune end to end writes a run whose hidden weights have the asked sparsity.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { loadModel } from '../../src/io/modelfile';
import { Model } from '../../src/nn/model';
import { MagnitudePruning } from '../../src/prune/magnitude';
import { fineTuneSchedule, sparsityAt, type PruningSchedule } from '../../src/prune/schedule';
import type { EpochLog } from '../../src/train/callbacks';
import { randomArray } from '../helpers/gradcheck';
import { buildDist, runNn, trainIn } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

describe('the gradual pruning schedule (Zhu & Gupta 2017, eq. 1)', () => {
  const s: PruningSchedule = { initial: 0.1, final: 0.9, start: 20, every: 10, updates: 8 };
  it('follows s_f + (s_i - s_f)(1 - (t - t0)/(n Δt))^3 at each update, holds between them, ends at s_f', () => {
    expect(sparsityAt(s, 0)).toBe(0); // before t0
    for (let k = 0; k <= 8; k++) {
      const t = 20 + 10 * k;
      const want = 0.9 + (0.1 - 0.9) * (1 - k / 8) ** 3;
      expect(sparsityAt(s, t)).toBeCloseTo(want, 12);
      if (k < 8) expect(sparsityAt(s, t + 9)).toBeCloseTo(want, 12); // constant until the next update
    }
    expect(sparsityAt(s, 20)).toBeCloseTo(0.1, 12);
    expect(sparsityAt(s, 1000)).toBe(0.9);
  });
  it('for fine-tuning: four updates an epoch, done after two thirds of the run', () => {
    const f = fineTuneSchedule(0.8, 9, 100);
    expect([f.every, f.updates, f.start, f.initial]).toEqual([25, 24, 0, 0]);
    expect(sparsityAt(f, 600)).toBe(0.8);
    expect(sparsityAt(f, 599)).toBeLessThan(0.8);
  });
});

describe('magnitude pruning as a callback', () => {
  it('masks exactly round(s n) of the smallest weights per hidden layer, keeps them 0 through steps, leaves the output layer', () => {
    const cfg = resolveConfig({ model: { layers: [{ type: 'dense', units: 20, activation: 'relu' }, { type: 'dense', units: 12, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
    const m = new Model(cfg.model, 30, 1);
    m.params.data.set(randomArray(m.params.data.length, 3, 1));
    const out = Float32Array.from(m.params.get('layers.2.weight').data);
    const batches = 12;
    const p = new MagnitudePruning((b) => fineTuneSchedule(0.75, 3, b));
    p.attach(m);
    const plan = fineTuneSchedule(0.75, 3, batches);
    let seed = 11;
    for (let epoch = 1; epoch <= 3; epoch++) {
      p.onEpochBegin(epoch, batches);
      for (let b = 0; b < batches; b++) {
        // an optimizer step: every weight moves, the masked ones too
        for (const name of ['layers.0.weight', 'layers.1.weight', 'layers.2.weight']) {
          const w = m.params.get(name).data;
          const step = randomArray(w.length, seed++, 0.05);
          for (let i = 0; i < w.length; i++) w[i] += step[i];
          if (name === 'layers.2.weight') out.set(w);
        }
        p.onBatchEnd();
        const t = (epoch - 1) * batches + b + 1;
        for (const name of ['layers.0.weight', 'layers.1.weight']) {
          const w = m.params.get(name).data;
          const zeros = Array.from(w).filter((v) => v === 0).length;
          expect(zeros, `${name} at step ${t}`).toBe(Math.round(sparsityAt(plan, t) * w.length));
        }
        expect(Array.from(m.params.get('layers.2.weight').data)).toEqual(Array.from(out)); // the output layer as the steps left it
      }
      p.onEpochEnd({ epoch, val_accuracy: 0.5 } as EpochLog);
    }
    expect(p.sparsity()).toBeCloseTo(0.75, 2);
    expect(p.log.map((l) => l.epoch)).toEqual([1, 2, 3]);
  });

  it('prunes the smallest weights by magnitude', () => {
    const cfg = resolveConfig({ model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
    const m = new Model(cfg.model, 16, 1);
    const w = m.params.get('layers.0.weight').data;
    for (let i = 0; i < w.length; i++) w[i] = (i % 2 ? -1 : 1) * (i + 1); // |w| = i + 1: the first ones are the smallest
    const p = new MagnitudePruning(() => ({ initial: 0.5, final: 0.5, start: 0, every: 1, updates: 1 }));
    p.attach(m);
    p.onEpochBegin(1, 4);
    for (let i = 0; i < w.length; i++) expect(w[i] === 0).toBe(i < 64);
  });
});

describe('nn prune', () => {
  let work: string;
  const nn = (args: string[]) => runNn(work, args);
  beforeAll(() => {
    buildDist();
    work = tempDir('nn-prune-');
    trainIn(work, 'tiny', { data: { subset: 0.1 }, model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs: 3 } }, 'runs/tiny');
  }, 120_000);

  it('writes a new run whose hidden weights have the sparsity asked, and which the other commands take', () => {
    const r = nn(['prune', '--model', 'runs/tiny', '--sparsity', '0.8', '--epochs', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pruned: 80\.0% of the hidden layers' weights are 0/);
    const saved = loadModel(path.join(work, 'runs/tiny-pruned-80/model.safetensors'));
    for (const name of ['layers.0.weight', 'layers.1.weight']) {
      const w = saved.model.params.get(name).data;
      expect(Array.from(w).filter((v) => v === 0).length).toBe(Math.round(0.8 * w.length));
    }
    const report = JSON.parse(fs.readFileSync(path.join(work, 'runs/tiny-pruned-80/pruning.json'), 'utf8'));
    expect(report.epochs.map((e: { sparsity: number }) => e.sparsity).at(-1)).toBeCloseTo(0.8, 3);
    expect(report.testAccuracy).toBeGreaterThan(report.testAccuracyBefore - 0.1);
    const e = nn(['eval', '--model', 'runs/tiny-pruned-80', '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBe(report.testAccuracy);
  }, 120_000);

  it('refuses a bad sparsity or a model without its run, in one line, exit 2', () => {
    const a = nn(['prune', '--model', 'runs/tiny', '--sparsity', '1.5']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--sparsity.*from 0 to below 1/);
    fs.mkdirSync(path.join(work, 'alone'), { recursive: true });
    fs.copyFileSync(path.join(work, 'runs/tiny/model.safetensors'), path.join(work, 'alone/model.safetensors'));
    const b = nn(['prune', '--model', 'alone', '--sparsity', '0.5']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/config\.json: not found/);
    expect(fs.existsSync(path.join(work, 'runs/alone-pruned-50'))).toBe(false);
  });
});
