/**
 * Folded normalization (data/normalize.ts, nn/dense.ts): standardized batches are
 * gathered as x' = raw / (255 std), keeping their zeros, and the first dense layer
 * adds the rest, x = x' + shift. The same network on the same images must give
 * what the unfolded path gives (today's: x normalized in the gather), up to float
 * rounding, in a forward and backward pass, in training and in evaluation.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { Augmenter } from '../../src/data/augment';
import { fitNormalization, Normalizer } from '../../src/data/normalize';
import { allocF32, allocU8 } from '../../src/kernels/memory';
import { makeLoss } from '../../src/nn/losses';
import { Model } from '../../src/nn/model';
import { makeOptimizer } from '../../src/optim';
import { evaluate } from '../../src/train/evaluate';
import { prepareData } from '../../src/train/pipeline';
import { Trainer } from '../../src/train/trainer';
import { randomArray } from '../helpers/gradcheck';

const layers = [
  { type: 'dense', units: 32, activation: 'relu' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 16, activation: 'tanh' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
const config = (data: object, training: object = {}) => resolveConfig({ seed: 7, data: { subset: 0.02, ...data }, model: { layers }, training: { earlyStopping: false, ...training } }, 'test');
const data = prepareData(config({}));
const { ds, split } = data;
const D = ds.dim;

/**
 * Float32 rounding is all that differs: x' + shift against (raw - 255 mean) / (255 std), and
 * the sums taken in another order (the bias term apart, shift ⊗ db added last). Each is a few
 * ulps (6e-8 relative) of the terms summed, which are up to about 3 (|x| ≤ 255 / (255 std))
 * times the weights, so 1e-5 relative plus 1e-6 of the tensor's largest value (where a sum
 * cancels to near 0, as dW does between Σ dy x' and shift ⊗ db, its rounding is that of its terms).
 */
function expectClose(a: Float32Array, b: Float32Array, what: string): void {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6 * scale)) throw new Error(`${what}[${i}]: folded ${a[i]}, unfolded ${b[i]} (largest ${scale})`);
  }
}

for (const perPixel of [false, true]) {
  const name = perPixel ? 'per pixel' : 'global';
  const spec = fitNormalization('standardize', perPixel, ds.images, split.train, D);

  describe(`folded standardization (${name})`, () => {
    it('keeps the zeros: blank pixels gather as 0, and x\' + shift is the standardized image', () => {
      const plain = new Normalizer(spec, D);
      const folded = new Normalizer(spec, D, true);
      expect(plain.shift).toBeNull();
      const x = allocF32(4 * D);
      const xf = allocF32(4 * D);
      plain.gather(ds.images, split.train, 0, 4, x);
      folded.gather(ds.images, split.train, 0, 4, xf);
      for (let k = 0; k < 4 * D; k++) {
        const raw = ds.images[split.train[Math.floor(k / D)] * D + (k % D)];
        if (raw === 0) expect(xf[k]).toBe(0);
        expect(Math.abs(xf[k] + folded.shift![k % D] - x[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(x[k])));
      }
    });

    it('a forward and a backward pass give the unfolded outputs and gradients', () => {
      const B = 64;
      const run = (fold: boolean) => {
        const model = new Model(config({ normalize: 'standardize', perPixel }).model, D, 3);
        model.params.trainData.set(randomArray(model.params.trainable, 5, 0.1)); // biases not 0 either
        const loss = makeLoss('cross_entropy', model.outputActivation);
        model.setFusedOutput(true);
        const norm = new Normalizer(spec, D, fold);
        const x = allocF32(B * D);
        const labels = allocU8(B);
        norm.gather(ds.images, split.train, 0, B, x);
        for (let r = 0; r < B; r++) labels[r] = ds.labels[split.train[r]];
        const p = Float32Array.from(model.forward(x, B, true, norm.shift));
        const g = new Float32Array(B * 10);
        loss.backward(p, labels, B, 10, g);
        model.params.grad.fill(NaN); // every gradient must be set
        model.backward(g, B);
        return { p, grads: model.params.views.map((v) => ({ name: v.name, grad: Float32Array.from(v.grad) })) };
      };
      const plain = run(false);
      const folded = run(true);
      expectClose(folded.p, plain.p, 'output');
      folded.grads.forEach((g, k) => expectClose(g.grad, plain.grads[k].grad, g.name));
    });

    it('training (mini-batches, full batches, augmented) follows the unfolded loss curve, and evaluation agrees', async () => {
      for (const training of [{ epochs: 3, batchSize: 64 }, { epochs: 3, batchSize: 'full', optimizer: { type: 'adam', learningRate: 0.01 } }]) {
        for (const augment of [false, { shift: 2, rotate: 10, scale: 0.1, elastic: false }]) {
          const cfg = config({ normalize: 'standardize', perPixel, augment }, training);
          const plain = await train(cfg, false);
          const folded = await train(cfg, true);
          // the same steps from the same start: the curves part only by rounding, which training
          // carries forward (measured: at most 1.4e-7 relative over these 54 or 3 steps; 1e-5 leaves room)
          folded.losses.forEach((l, e) => expect(Math.abs(l - plain.losses[e])).toBeLessThanOrEqual(1e-5 * plain.losses[e]));
          folded.valLosses.forEach((l, e) => expect(Math.abs(l - plain.valLosses[e])).toBeLessThanOrEqual(1e-5 * plain.valLosses[e]));
          expect(folded.accuracy).toBe(plain.accuracy); // (measured: the same in every case)
          // one model, evaluated both ways: the same guesses (but for a near tie) and loss
          const a = evaluate(folded.model, folded.loss, ds, split.test, new Normalizer(spec, D, true));
          const b = evaluate(folded.model, folded.loss, ds, split.test, new Normalizer(spec, D));
          expect(Math.abs(a.accuracy - b.accuracy)).toBeLessThanOrEqual(1 / a.samples);
          expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-5 * b.loss);
        }
      }
    }, 120_000);
  });
}

/** A run of the trainer with the unfolded or the folded batches (runTraining folds when it can). */
async function train(cfg: Config, fold: boolean) {
  const spec = fitNormalization(cfg.data.normalize, cfg.data.perPixel, ds.images, split.train, D);
  const norm = new Normalizer(spec, D, fold);
  const model = new Model(cfg.model, D, cfg.seed);
  const loss = makeLoss(cfg.training.loss, model.outputActivation);
  const optimizer = makeOptimizer(cfg.training.optimizer, model.params.trainable);
  const t = cfg.training;
  const trainer = new Trainer(model, optimizer, loss, { epochs: t.epochs, batchSize: t.batchSize, learningRate: t.optimizer.learningRate, schedule: t.schedule, l1: 0, l2: 0, clipNorm: false, augment: cfg.data.augment, seed: cfg.seed });
  const fit = await trainer.fit(ds, split.train, split.val, norm);
  return { model, loss, losses: fit.history.map((h) => h.loss), valLosses: fit.history.map((h) => h.val_loss), accuracy: evaluate(model, loss, ds, split.test, norm).accuracy };
}

describe('where folding does not apply', () => {
  it('scale mode has nothing to fold; a first layer that is not dense takes no shift', () => {
    const scale = fitNormalization('scale', false, ds.images, split.train, D);
    expect(new Normalizer(scale, D, true).shift).toBeNull();
    for (const first of [{ type: 'dropout', rate: 0.1 }, { type: 'batchnorm' }]) {
      const cfg = resolveConfig({ model: { layers: [first, ...layers] } }, 'test');
      const model = new Model(cfg.model, D, 1);
      expect(model.takesInputShift).toBe(false);
      expect(() => model.forward(allocF32(D), 1, false, allocF32(D))).toThrow('an input shift needs a dense first layer');
    }
    expect(new Model(config({}).model, D, 1).takesInputShift).toBe(true);
  });

  it('the augmented path folds the same way as the gather (applyFloat)', () => {
    const spec = fitNormalization('standardize', true, ds.images, split.train, D);
    const aug = { shift: 2, rotate: 10, scale: 0.1, elastic: false as const };
    const x = allocF32(3 * D);
    const xf = allocF32(3 * D);
    new Augmenter(aug, 9).batch(ds.images, split.train, 0, 3, new Normalizer(spec, D), x);
    const folded = new Normalizer(spec, D, true);
    new Augmenter(aug, 9).batch(ds.images, split.train, 0, 3, folded, xf);
    for (let k = 0; k < 3 * D; k++) expect(Math.abs(xf[k] + folded.shift![k % D] - x[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(x[k])));
    expect(xf.filter((v) => v === 0).length).toBeGreaterThan(0.5 * 3 * D); // the background stays 0
  });
});
