/**
 * The sparse product for pruned layers (kernels/sparse.ts, wasm/sparse.ts): its blocks hold exactly
 * the layer's weights; WebAssembly equals the TypeScript loops bit for bit (the same float32 sums in
 * the same order), and both the naive reference within 1e-5 times the number of terms, with and
 * without a shift and ReLU, on shapes that are not multiples of the blocks; and a pruned model takes
 * it only where it pays, giving the answers the dense product gives.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/schema';
import { loadWasm } from '../../src/kernels';
import { allocF32 } from '../../src/kernels/memory';
import { linearForwardNaive } from '../../src/kernels/naive';
import { SPARSE_MIN_WEIGHTS, sparseForwardTs, toSparse } from '../../src/kernels/sparse';
import { Dense } from '../../src/nn/dense';
import { Model } from '../../src/nn/model';
import { Classifier } from '../../src/predict/classify';
import { Rng } from '../../src/util/rng';

const wasm = loadWasm().kernels;

function pruned(In: number, Out: number, sparsity: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const w = allocF32(In * Out);
  for (let k = 0; k < w.length; k++) w[k] = rng.next() < sparsity ? 0 : rng.next() - 0.5;
  return w;
}

function inputs(B: number, In: number, zeros: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = allocF32(B * In);
  for (let k = 0; k < x.length; k++) x[k] = rng.next() < zeros ? 0 : rng.next() * 2 - 0.5;
  return x;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('toSparse', () => {
  it('keeps every non-zero weight, in blocks of 4 outputs that hold one', () => {
    const In = 37, Out = 10;
    const w = pruned(In, Out, 0.8, 1);
    const S = toSparse(w, In, Out);
    const back = new Float32Array(In * Out);
    for (let i = 0; i < In; i++) {
      for (let p = S.rowptr[i]; p < S.rowptr[i + 1]; p++) {
        const lanes = Array.from({ length: 4 }, (_, l) => S.vals[4 * p + l]);
        expect(lanes.some((v) => v !== 0)).toBe(true); // no empty block
        lanes.forEach((v, l) => {
          const o = 4 * S.blocks[p] + l;
          if (o < Out) back[i * Out + o] = v;
          else expect(v).toBe(0); // past Out: padding
        });
      }
    }
    expect(Array.from(back)).toEqual(Array.from(w));
    expect(S.zeros).toBeCloseTo(Array.from(w).filter((v) => v === 0).length / w.length, 12);
  });
});

describe('the sparse product', () => {
  const SHAPES: Array<[number, number, number]> = [[1, 37, 10], [1, 784, 128], [3, 100, 1023], [1, 1024, 1024], [2, 16, 4], [1, 5, 1]];
  for (const [B, In, Out] of SHAPES) {
    for (const sparsity of [0.5, 0.9, 1]) {
      it(`B=${B} In=${In} Out=${Out} sparsity ${sparsity}: WebAssembly = TypeScript exactly, both the naive reference within 1e-5 x terms`, () => {
        const w = pruned(In, Out, sparsity, In + Out);
        const S = toSparse(w, In, Out);
        const x = inputs(B, In, 0.6, B + In);
        const bias = allocF32(Out);
        for (let o = 0; o < Out; o++) bias[o] = Math.sin(o);
        const shift = allocF32(In);
        for (let i = 0; i < In; i++) shift[i] = -0.4 + 0.01 * (i % 7);
        for (const relu of [false, true]) {
          for (const sh of [null, shift]) {
            const ref = new Float32Array(B * Out);
            linearForwardNaive(x, w, bias, ref, B, In, Out, relu, sh);
            const t = allocF32(B * Out);
            if (!sh) {
              sparseForwardTs(x, S, bias, t, B, relu);
              for (let k = 0; k < t.length; k++) expect(Math.abs(t[k] - ref[k])).toBeLessThanOrEqual(1e-5 * In);
            }
            if (!wasm) continue;
            const y = allocF32(B * Out);
            wasm.sparseForward(x, S, w, bias, y, B, relu, sh);
            for (let k = 0; k < y.length; k++) expect(Math.abs(y[k] - ref[k])).toBeLessThanOrEqual(1e-5 * In);
            if (!sh) expect(bits(y).equals(bits(t))).toBe(true);
          }
        }
      });
    }
  }
});

describe('a pruned model answering one image at a time', () => {
  const cfg = { init: 'he', initStd: 0.01, layers: [{ type: 'dense', units: 512, activation: 'relu' }, { type: 'dense', units: 512, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] } as unknown as ModelConfig;
  const prune = (m: Model, s: number) => {
    for (const l of m.layers) {
      if (!(l instanceof Dense) || l.outDim === 10) continue;
      const w = m.params.get(`${l.name}.weight`).data;
      const order = Array.from(w, (v, k) => [Math.abs(v), k]).sort((a, b) => a[0] - b[0]);
      for (let k = 0; k < Math.round(s * w.length); k++) w[order[k][1]] = 0;
    }
  };

  it('takes the sparse product only for large layers (at least 256K weights) with 80% of them 0', () => {
    expect(784 * 512).toBeGreaterThanOrEqual(SPARSE_MIN_WEIGHTS);
    expect(512 * 512).toBeGreaterThanOrEqual(SPARSE_MIN_WEIGHTS);
    const dense = new Model(cfg, 784, 1);
    expect(dense.answerSparse()).toBe(0);
    const some = new Model(cfg, 784, 1);
    prune(some, 0.7);
    expect(some.answerSparse()).toBe(0);
    const most = new Model(cfg, 784, 1);
    prune(most, 0.9);
    expect(most.answerSparse()).toBe(2); // the output layer is small
  });

  it('gives the dense product answers, to float32 rounding, through nn predict\'s classifier', () => {
    const a = new Model(cfg, 784, 2);
    prune(a, 0.9);
    const b = new Model(cfg, 784, 2);
    b.params.data.set(a.params.data);
    const norm = { mode: 'standardize' as const, mean: 0.13, std: 0.31 };
    const sparse = new Classifier(a, norm, 784); // prepares the sparse layers
    const x = allocF32(784);
    const rng = new Rng(5);
    for (let r = 0; r < 20; r++) {
      const px = Uint8Array.from({ length: 784 }, () => (rng.next() < 0.8 ? 0 : Math.floor(rng.next() * 256)));
      const p = sparse.classify(px);
      for (let j = 0; j < 784; j++) x[j] = (px[j] / 255 - 0.13) / 0.31;
      const q = b.forward(x, 1, false); // never prepared: dense
      expect(p.digit).toBe(q.indexOf(Math.max(...q)));
      p.probabilities.forEach((v, c) => expect(Math.abs(v - q[c])).toBeLessThan(2e-6));
    }
  });
});
