/**
 * Saliency by integrated gradients (Sundararajan et al. 2017), against its
 * definition: the gradients it integrates match finite differences of the class
 * score (tolerance of helpers/gradcheck.ts: |a - n| <= 2e-4 + 2e-2 max(|a|, |n|),
 * central differences with h = 1e-3), through dense layers, dropout (off at
 * inference), batch normalization on running statistics and a residual block;
 * the attributions add up to z_c(p) - z_c(black) (completeness); and on a
 * network with no hidden layer, where the gradient is constant, they are
 * exactly p_j w_cj / (255 std).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { Normalizer } from '../../src/data/normalize';
import { IG_STEPS, IntegratedGradients, scoreGradients } from '../../src/explain/saliency';
import { allocF32 } from '../../src/kernels/memory';
import { Model } from '../../src/nn/model';
import { checkGradient, randomArray, sampleIndices } from '../helpers/gradcheck';

const In = 12;

function model(out: 'linear' | 'softmax', hidden = 'tanh'): Model {
  const cfg = resolveConfig(
    {
      model: {
        layers: [
          { type: 'dense', units: 9, activation: hidden },
          { type: 'batchnorm' },
          { type: 'dropout', rate: 0.5 },
          { type: 'residual', layers: [{ type: 'dense', units: 9, activation: hidden }, { type: 'batchnorm' }] },
          { type: 'dense', units: 10, activation: out },
        ],
      },
      training: { loss: out === 'linear' ? 'mse' : 'cross_entropy' },
    },
    'test',
  );
  const m = new Model(cfg.model, In, 3);
  m.params.data.set(randomArray(m.params.data.length, 17, 0.6));
  for (const view of m.params.views.filter((p) => p.name.endsWith('running_var'))) {
    for (let j = 0; j < view.data.length; j++) view.data[j] = 0.5 + Math.abs(view.data[j]); // variances away from 0
  }
  return m;
}

function signature(m: Model): string {
  return m.allLayers().map((l) => Array.from((l as unknown as { a?: Float32Array }).a ?? [], (v) => (v > 0 ? 1 : 0)).join('')).join('|');
}

/** d z_c / d x of one row, copied out of the model's buffer. */
function gradient(m: Model, x: Float32Array, c: number, B = 1): Float32Array {
  const g = allocF32(B * 10);
  for (let b = 0; b < B; b++) g[b * 10 + c] = 1;
  return Float32Array.from(scoreGradients(m, x, B, g));
}

describe('the class score gradient that integrated gradients sums', () => {
  for (const hidden of ['tanh', 'relu', 'elu']) {
    it(`equals finite differences of z_c, output linear (${hidden})`, () => {
      const m = model('linear', hidden);
      const x = allocF32(In);
      x.set(randomArray(In, 5, 1));
      for (const c of [0, 3, 9]) {
        const grad = gradient(m, x, c);
        const f = () => m.forward(x, 1, false)[c];
        const skipped: number[] = [];
        expect(checkGradient(x, grad, f, sampleIndices(In), () => signature(m), skipped)).toEqual([]);
        expect(skipped.length).toBeLessThan(3);
        expect(grad.some((v) => Math.abs(v) > 1e-3)).toBe(true); // a real gradient, not zeros
      }
    });
  }

  it('is taken before softmax: d log p_c = d z_c - sum_k p_k d z_k, against finite differences of log p_c', () => {
    const m = model('softmax');
    const x = allocF32(In);
    x.set(randomArray(In, 7, 1));
    const p = Float32Array.from(m.forward(x, 1, false));
    const dz = Array.from({ length: 10 }, (_, k) => gradient(m, x, k));
    for (const c of [2, 7]) {
      const dlogp = dz[c].map((v, j) => v - dz.reduce((s, d, k) => s + p[k] * d[j], 0));
      const f = () => Math.log(m.forward(x, 1, false)[c]);
      expect(checkGradient(x, dlogp, f, sampleIndices(In))).toEqual([]);
    }
    expect(m.lastGradIsPreActivation).toBe(false); // left as it was found
  });

  it('gives each row of a batch what it gives the row alone (within 1e-5)', () => {
    const m = model('linear', 'relu');
    const x = allocF32(4 * In);
    x.set(randomArray(4 * In, 9, 1));
    const together = gradient(m, x, 6, 4);
    for (let b = 0; b < 4; b++) {
      const row = allocF32(In);
      row.set(x.subarray(b * In, (b + 1) * In));
      const alone = gradient(m, row, 6);
      for (let j = 0; j < In; j++) expect(together[b * In + j]).toBeCloseTo(alone[j], 5);
    }
  });
});

describe('integrated gradients', () => {
  const norm = new Normalizer({ mode: 'standardize', mean: 0.13, std: 0.31 }, In);
  const pixels = Uint8Array.from({ length: In }, (_, j) => (j % 4 === 0 ? 0 : (j * 53) % 256));
  const score = (m: Model, p: Uint8Array, c: number) => m.forward(norm.apply(p, allocF32(In)), 1, false)[c];

  // ReLU's kinks make the integrand a step function: its Riemann sum converges more slowly than tanh's
  for (const [hidden, checks] of [['tanh', [[256, 0.01], [IG_STEPS, 0.05]]], ['relu', [[1024, 0.01]]]] as const) {
    it(`adds up to z_c(p) - z_c(black) (completeness; ${hidden}: ${checks.map(([s, t]) => `within ${100 * t}% at ${s} steps`).join(', ')})`, () => {
      const m = model('linear', hidden);
      for (const [steps, tol] of checks) {
        const ig = new IntegratedGradients(m, norm, steps);
        for (const c of [1, 5]) {
          const a = ig.attributions(pixels, c);
          const want = score(m, pixels, c) - score(m, new Uint8Array(In), c);
          const sum = a.reduce((s, v) => s + v, 0);
          expect(Math.abs(sum - want)).toBeLessThanOrEqual(tol * Math.abs(want) + 1e-4);
          expect(Math.abs(want)).toBeGreaterThan(0.05); // a test with something to add up
        }
      }
    });
  }

  it('gives blank pixels 0, and on a network without hidden layers exactly p_j w_cj / (255 std)', () => {
    const cfg = resolveConfig({ model: { layers: [{ type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
    const m = new Model(cfg.model, In, 3);
    m.params.data.set(randomArray(m.params.data.length, 29, 0.5));
    const ig = new IntegratedGradients(m, norm);
    const c = 8;
    const a = ig.attributions(pixels, c);
    const W = m.params.get('layers.0.weight').data; // stored (In, Out)
    for (let j = 0; j < In; j++) {
      if (pixels[j] === 0) expect(a[j]).toBe(0);
      expect(a[j]).toBeCloseTo((pixels[j] * W[j * 10 + c]) / (255 * 0.31), 4);
    }
    const map = ig.map(pixels, c);
    expect(Math.max(...map.map(Math.abs))).toBeCloseTo(1, 6);
  });
});
