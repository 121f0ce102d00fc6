/**
 * Learning-rate schedules: each schedule's rate at known epochs (exact, up to
 * float64 rounding: 1e-15 relative), and the trainer using and recording them.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { Model } from '../../src/nn/model';
import { prepareData, runTraining } from '../../src/train/pipeline';
import { scheduledRate, type ScheduleConfig } from '../../src/optim/schedule';

const L = 0.1;
const rates = (s: ScheduleConfig, epochs: number) => Array.from({ length: epochs }, (_, i) => scheduledRate(s, L, i + 1, epochs));
const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 15));

describe('learning-rate schedules', () => {
  it('constant', () => {
    expect(rates({ type: 'constant', warmupEpochs: 0 }, 3)).toEqual([L, L, L]);
  });
  it('step: times gamma every stepSize epochs', () => {
    close(rates({ type: 'step', stepSize: 2, gamma: 0.5, warmupEpochs: 0 }, 6), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });
  it('exponential: times gamma every epoch', () => {
    close(rates({ type: 'exponential', gamma: 0.9, warmupEpochs: 0 }, 4), [0.1, 0.09, 0.081, 0.0729]);
  });
  it('cosine: from the base rate down towards minLr over the epochs', () => {
    const c = (k: number) => 0.01 + (0.09 * (1 + Math.cos((Math.PI * k) / 5))) / 2;
    close(rates({ type: 'cosine', minLr: 0.01, warmupEpochs: 0 }, 5), [0.1, c(1), c(2), c(3), c(4)]);
    expect(rates({ type: 'cosine', minLr: 0, warmupEpochs: 0 }, 5)[2]).toBeCloseTo(0.1 * (1 + Math.cos((2 * Math.PI) / 5)) / 2, 15);
  });
  it('linear warmup in front of any schedule: L/W, 2L/W, ..., L, then the schedule from its start', () => {
    close(rates({ type: 'step', stepSize: 1, gamma: 0.5, warmupEpochs: 4 }, 7), [0.025, 0.05, 0.075, 0.1, 0.1, 0.05, 0.025]);
    // cosine after warmup runs over the remaining E - W epochs
    const r = rates({ type: 'cosine', minLr: 0, warmupEpochs: 2 }, 6);
    close(r.slice(0, 3), [0.05, 0.1, 0.1]);
    expect(r[4]).toBeCloseTo(0.1 * (1 + Math.cos((2 * Math.PI) / 4)) / 2, 15);
  });
});

describe('the trainer follows the schedule', () => {
  const layers = [
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ];
  it('uses each epoch\'s rate and records it in the history', async () => {
    const cfg = resolveConfig(
      {
        data: { subset: 0.02 },
        model: { layers },
        training: { epochs: 4, earlyStopping: false, optimizer: { type: 'sgd', learningRate: 0.2 }, schedule: { type: 'step', stepSize: 1, gamma: 0.5, warmupEpochs: 1 } },
      },
      'test',
    );
    const out = await runTraining(cfg, prepareData(cfg), []);
    close(out.fit.history.map((h) => h.lr), [0.2, 0.2, 0.1, 0.05]);
  });
  it('reduce-on-plateau lowers the scheduled rates from then on', async () => {
    const cfg = resolveConfig(
      {
        data: { subset: 0.02 },
        model: { layers },
        // every epoch after the first counts as a plateau (minDelta 10, patience 0)
        training: { epochs: 4, earlyStopping: false, schedule: { type: 'exponential', gamma: 0.5 }, reduceLROnPlateau: { factor: 0.1, patience: 0, minDelta: 10, minLr: 0 } },
      },
      'test',
    );
    const out = await runTraining(cfg, prepareData(cfg), []);
    // epoch 1 sets the first best; the plateaus after epochs 2 and 3 lower epochs 3 and 4
    close(out.fit.history.map((h) => h.lr), [0.001, 0.0005, 0.00025 * 0.1, 0.000125 * 0.01]);
  });
});

describe('gradient-norm clipping in the trainer', () => {
  it('bounds every step: with clipNorm c and SGD rate lr, the weights move at most lr·c a step', async () => {
    const layers = [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ];
    const cfg = resolveConfig(
      { data: { subset: 0.02 }, model: { layers }, training: { epochs: 1, batchSize: 64, earlyStopping: false, optimizer: { type: 'sgd', learningRate: 0.1 }, clipNorm: 1e-4 } },
      'test',
    );
    const data = prepareData(cfg);
    const start = Float32Array.from(new Model(cfg.model, data.ds.dim, cfg.seed).params.data);
    const out = await runTraining(cfg, data, []);
    const steps = Math.ceil(data.split.train.length / 64);
    let moved = 0;
    out.model.params.data.forEach((v, i) => (moved += (v - start[i]) ** 2));
    expect(Math.sqrt(moved)).toBeLessThanOrEqual(steps * 0.1 * 1e-4 * 1.001);
    expect(Math.sqrt(moved)).toBeGreaterThan(0.5 * steps * 0.1 * 1e-4); // it did train, at the clipped pace
  });
});

describe('gradient descent modes: batchSize full, 1 or N through the same loop', () => {
  const layers = [
    { type: 'dense', units: 16, activation: 'tanh' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ];
  const run = async (batchSize: number | 'full', learningRate = 0.5) => {
    const cfg = resolveConfig({ data: { subset: 0.02 }, model: { layers }, training: { epochs: 1, batchSize, earlyStopping: false, optimizer: { type: 'sgd', learningRate } } }, 'test');
    const data = prepareData(cfg);
    const steps: number[] = [];
    const out = await runTraining(cfg, data, [{ onEpochBegin: (_e, batches) => steps.push(batches) }]);
    return { out, steps, n: data.split.train.length };
  };

  it('full: one step an epoch, the same step as one batch of the whole set (chunks of 1,000 averaged; 1e-5)', async () => {
    const full = await run('full');
    expect(full.n).toBeGreaterThan(1000); // so that the full batch takes two chunks
    expect(full.steps).toEqual([1]);
    const whole = await run(full.n);
    expect(whole.steps).toEqual([1]);
    const a = full.out.model.params.data;
    const b = whole.out.model.params.data;
    let worst = 0;
    a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]))));
    expect(worst).toBeLessThan(1e-5);
    expect(full.out.fit.history[0].loss).toBeCloseTo(whole.out.fit.history[0].loss, 5);
  });

  it('1: stochastic gradient descent, a step per sample', async () => {
    const sgd = await run(1, 0.01);
    expect(sgd.steps).toEqual([sgd.n]);
    expect(sgd.out.val.accuracy).toBeGreaterThan(0.5); // 1,120 steps of one sample each do learn
  });
});
