/**
 * Each optimizer's first three steps against torch.optim (PyTorch 1.13, float64), on
 * p0 = [0.5, -1, 2, 0] with the gradients below. Generated once by:
 *   torch.optim.SGD(lr=0.1), SGD(lr=0.1, momentum=0.9), SGD(lr=0.1, momentum=0.9, nesterov=True),
 *   Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8), AdamW(same, weight_decay=0.1), RMSprop(lr=0.01, alpha=0.9, eps=1e-8),
 *   Adagrad(lr=0.1, eps=1e-10, initial_accumulator_value=0)
 * Our state is float32, so the tolerance is 1e-6 absolute.
 */
import { describe, expect, it } from 'vitest';
import { AdaGrad } from '../../src/optim/adagrad';
import { Adam } from '../../src/optim/adam';
import type { Optimizer } from '../../src/optim/optimizer';
import { RMSprop } from '../../src/optim/rmsprop';
import { SGD } from '../../src/optim/sgd';
import { makeOptimizer } from '../../src/optim';
import { allocF32 } from '../../src/kernels/memory';
import { clipGradNorm } from '../../src/train/clip';

const P0 = [0.5, -1.0, 2.0, 0.0];
const GRADS = [
  [0.1, -0.2, 0.3, 0.0],
  [-0.05, 0.4, 0.3, 1.0],
  [0.2, 0.2, -0.6, -1.0],
];
const TORCH: Record<string, number[][]> = {
  sgd: [[0.49, -0.98, 1.97, 0.0], [0.495, -1.02, 1.94, -0.1], [0.475, -1.04, 2.0, 0.0]],
  momentum: [[0.49, -0.98, 1.97, 0.0], [0.486, -1.002, 1.913, -0.1], [0.4624, -1.0418, 1.9217, -0.09]],
  nesterov: [[0.481, -0.962, 1.943, 0.0], [0.4824, -1.0218, 1.8617, -0.19], [0.44116, -1.07762, 1.92953, -0.081]],
  adam: [[0.490000001, -0.9900000005, 1.990000000333, 0.0], [0.48733663094, -0.993661035655, 1.980000000667, -0.00744136813], [0.480755515435, -0.998853443633, 1.980756493956, -0.006989545738]],
  rmsprop: [[0.468377233398, -0.968377228398, 1.968377226732, 0.0], [0.483121424666, -0.996948654929, 1.945435655099, -0.031622775602], [0.45493563563, -1.010544347571, 1.971903094194, -0.008681202741]],
  adamw: [[0.489500001, -0.9890000005, 1.988000000333, 0.0], [0.486347130939, -0.991672035654, 1.976012000666, -0.00744136813], [0.479279668303, -0.995872771597, 1.974792481955, -0.00698210437]],
  adagrad: [[0.4000000001, -0.90000000005, 1.900000000033, 0.0], [0.44472135961, -0.98944271913, 1.829289321931, -0.09999999999], [0.357434203554, -1.030267548168, 1.910938980013, -0.029289321876]],
};

const make: Record<string, () => [Optimizer, number]> = {
  sgd: () => [new SGD(4), 0.1],
  momentum: () => [new SGD(4, 0.9), 0.1],
  nesterov: () => [new SGD(4, 0.9, true), 0.1],
  adam: () => [new Adam(4, 0.9, 0.999, 1e-8), 0.01],
  adamw: () => [new Adam(4, 0.9, 0.999, 1e-8, 0.1), 0.01],
  rmsprop: () => [new RMSprop(4, 0.9, 1e-8), 0.01],
  adagrad: () => [new AdaGrad(4, 1e-10, 0), 0.1],
};

/** A Float32Array in the shared memory: the WebAssembly kernels take those by address. */
function shared(values: number[]): Float32Array {
  const a = allocF32(values.length);
  a.set(values);
  return a;
}

describe('optimizer steps match torch.optim', () => {
  // plain arrays take the TypeScript loops; arrays in the shared memory the WebAssembly SIMD ones
  for (const [where, arr] of [['TypeScript', (v: number[]) => Float32Array.from(v)], ['WebAssembly', shared]] as const) {
    for (const name of Object.keys(TORCH)) {
      it(`${name} (${where})`, () => {
        const [opt, lr] = make[name]();
        const p = arr(P0);
        GRADS.forEach((g, t) => {
          opt.step(p, arr(g), lr);
          TORCH[name][t].forEach((want, i) => expect(Math.abs(p[i] - want)).toBeLessThan(1e-6));
        });
        expect(opt.t).toBe(3);
      });
    }
  }
});

describe('optimizer kernels on long arrays', () => {
  it('WebAssembly and TypeScript agree to 1e-6 over 3 steps on 103 parameters (SIMD body and scalar tail)', () => {
    const n = 103;
    const P = Array.from({ length: n }, (_, i) => Math.sin(i));
    const G = (t: number) => Array.from({ length: n }, (_, i) => Math.cos(i * (t + 1)) * 0.3);
    const sized: Record<string, () => Optimizer> = {
      sgd: () => new SGD(n),
      momentum: () => new SGD(n, 0.9),
      nesterov: () => new SGD(n, 0.9, true),
      adam: () => new Adam(n),
      rmsprop: () => new RMSprop(n),
      adagrad: () => new AdaGrad(n),
    };
    for (const name of Object.keys(sized)) {
      const lr = make[name]()[1];
      const oa = sized[name]();
      const ob = sized[name]();
      const pa = Float32Array.from(P);
      const pb = shared(P);
      for (let t = 0; t < 3; t++) {
        oa.step(pa, Float32Array.from(G(t)), lr);
        ob.step(pb, shared(G(t)), lr);
      }
      for (let i = 0; i < n; i++) expect(Math.abs(pa[i] - pb[i]), `${name}[${i}]`).toBeLessThan(1e-6);
    }
  });
});

describe('optimizer factory', () => {
  it('builds each type from its config with the configured settings', () => {
    const m = makeOptimizer({ type: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: true }, 4);
    const p = Float32Array.from(P0);
    m.step(p, Float32Array.from(GRADS[0]), 0.1);
    expect(Array.from(p).map((v) => +v.toFixed(6))).toEqual(TORCH.nesterov[0]);
    expect(makeOptimizer({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 4)).toBeInstanceOf(Adam);
    expect(makeOptimizer({ type: 'rmsprop', learningRate: 0.001, rho: 0.9, epsilon: 1e-8 }, 4)).toBeInstanceOf(RMSprop);
    expect(makeOptimizer({ type: 'adagrad', learningRate: 0.01, epsilon: 1e-10, initialAccumulator: 0.1 }, 4)).toBeInstanceOf(AdaGrad);
  });

  it('state round-trips (for checkpoints): a restored optimizer continues identically', () => {
    const a = new Adam(4);
    const pa = Float32Array.from(P0);
    a.step(pa, Float32Array.from(GRADS[0]), 0.01);
    const saved = a.getState();
    const copy = { t: saved.t, buffers: Object.fromEntries(Object.entries(saved.buffers).map(([k, v]) => [k, Float32Array.from(v)])) };
    const b = new Adam(4);
    b.setState(copy);
    const pb = Float32Array.from(pa);
    a.step(pa, Float32Array.from(GRADS[1]), 0.01);
    b.step(pb, Float32Array.from(GRADS[1]), 0.01);
    expect(Array.from(pb)).toEqual(Array.from(pa));
  });
});

describe('gradient-norm clipping', () => {
  it('scales all gradients to the norm, as torch.nn.utils.clip_grad_norm_ (to 1e-6)', () => {
    // torch: grads [3, 4] and [12] (norm 13) clipped to 6.5 -> [1.49999988, 1.99999985], [5.99999954]
    const g = Float32Array.of(3, 4, 12);
    expect(clipGradNorm(g, 6.5)).toBeCloseTo(13, 6);
    [1.4999998846153937, 1.9999998461538582, 5.999999538461575].forEach((want, i) => expect(Math.abs(g[i] - want)).toBeLessThan(1e-6));
  });
  it('leaves gradients under the norm alone', () => {
    const g = Float32Array.of(0.3, -0.4);
    expect(clipGradNorm(g, 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(g)).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
  });
});
