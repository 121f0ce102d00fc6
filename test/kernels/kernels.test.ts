/**
 * Every fast backend against the naive reference on awkward shapes (sizes that
 * are not multiples of the register tiles, and 1). Tolerance: 1e-5 times the
 * number of terms summed (float32 rounding of long sums; the reference sums in float64).
 */
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, loadWasm, type Kernels } from '../../src/kernels';
import { allocF32, inMemory } from '../../src/kernels/memory';
import * as naive from '../../src/kernels/naive';
import * as ts from '../../src/kernels/ts';
import { ARGS, BOUNDS, CTRL_INTS, OP, OP_FORWARD_HALVES, PARTS, part, runPart } from '../../src/kernels/jobs';
import { boundsFor } from '../../src/kernels/threads';
import { instantiate, wasmPath } from '../../src/kernels/wasm';
import { randomArray } from '../helpers/gradcheck';
import { Rng, Rng4 } from '../../src/util/rng';

const SIZES = [1, 3, 7, 63, 65];
// [B, In, Out, zeros]: zeros 0.2 (every fifth input: dense rows, which the WebAssembly forward
// pass takes four at a time in tiles) or 0.7 (sparse rows, each over its list of non-zero inputs)
const SHAPES: Array<[number, number, number, number]> = [];
for (const zeros of [0.2, 0.7]) for (const B of [1, 33, 64]) for (const In of [...SIZES, 784]) for (const Out of [1, 3, 7, 10, 65]) SHAPES.push([B, In, Out, zeros]);
// W over the WebAssembly forward pass's slab size (96 kB): the columns go in slabs (copied to the
// scratch when Out is not a multiple of 4); W over their 1.3 MB scratch: the input gradient
// takes dot-product tiles instead of W's transpose
SHAPES.push([33, 784, 400, 0.2], [66, 521, 515, 0.2], [9, 700, 500, 0.2], [66, 521, 515, 0.7]);
// Out a power of two (copied, to a stride that avoids it); more rows than the scratch holds
// lists for at once (forward) and more inputs than it holds pairs' lists for (weight gradient);
// dY over the slab size (weight gradient in slabs of columns, copied for Out 1024); a batch too
// large to copy dY (weight gradient straight from dY), whose forward pass goes in blocks of 4,096 rows
SHAPES.push([40, 257, 1024, 0.7], [300, 784, 65, 0.2], [300, 784, 65, 0.7], [300, 130, 400, 0.7], [300, 30, 1024, 0.7], [20000, 3, 5, 0.5]);

/** A copy of `a` in the shared memory, so the WebAssembly kernels take it by address. */
function shared(a: Float32Array): Float32Array {
  const s = allocF32(a.length);
  s.set(a);
  return s;
}

function close(a: Float32Array, b: Float32Array, terms: number): boolean {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-5 * terms)) return false;
  return true;
}

const wasm = loadWasm().kernels;
const fast: Kernels[] = [
  { name: 'ts', linearForward: ts.linearForward, linearBackwardInput: ts.linearBackwardInput, linearBackwardWeight: ts.linearBackwardWeight, adam: ts.adam },
  ...(wasm ? [wasm] : []),
];

describe('the WebAssembly backend', () => {
  it('is built and loads here (npm ci compiles it)', () => {
    expect(wasmPath()).not.toBeNull();
    expect(wasm?.name).toBe('wasm');
    expect(BACKEND_NAMES).toContain('wasm');
  });
});

for (const k of fast) {
  describe(`${k.name} kernels match the naive reference`, () => {
    it.each(SHAPES)('B=%i In=%i Out=%i zeros=%f', (B, In, Out, zeros) => {
      const X = shared(randomArray(B * In, 1 + B + In, 1));
      const rng = new Rng(B + In + Out);
      for (let i = 0; i < X.length; i++) if (zeros === 0.2 ? i % 5 === 0 : rng.next() < zeros) X[i] = 0; // zero inputs take the skip path
      const Wt = shared(randomArray(In * Out, 2 + Out, 1));
      const bias = shared(randomArray(Out, 3, 1));
      const dY = shared(randomArray(B * Out, 4 + B, 1));
      for (let i = 0; i < dY.length; i += 3) dY[i] = 0;
      expect(inMemory(X)).toBe(true);

      for (const relu of [false, true]) {
        const y1 = new Float32Array(B * Out);
        const y2 = allocF32(B * Out);
        naive.linearForwardNaive(X, Wt, bias, y1, B, In, Out, relu);
        k.linearForward(X, Wt, bias, y2, B, In, Out, relu);
        expect(close(y1, y2, In)).toBe(true);
      }

      const dx1 = new Float32Array(B * In);
      const dx2 = allocF32(B * In).fill(123); // stale contents must be overwritten
      naive.linearBackwardInputNaive(dY, Wt, dx1, B, In, Out);
      k.linearBackwardInput(dY, Wt, dx2, B, In, Out);
      expect(close(dx1, dx2, Out)).toBe(true);

      // weight gradients overwrite what is there (stale values must go)
      const dw1 = new Float32Array(In * Out);
      const dw2 = shared(randomArray(In * Out, 5, 1));
      const db1 = new Float32Array(Out);
      const db2 = shared(bias);
      naive.linearBackwardWeightNaive(dY, X, dw1, db1, B, In, Out);
      k.linearBackwardWeight(dY, X, dw2, db2, B, In, Out);
      expect(close(dw1, dw2, B)).toBe(true);
      expect(close(db1, db2, B)).toBe(true);

      // inputs X + shift (folded normalization): the reference adds the shift to every input;
      // the fast kernels fold it into the bias and add shift ⊗ db to the weight gradient.
      // Terms up to twice as large (|x + shift| <= 2): tolerance 2e-5 per term.
      const shift = shared(randomArray(In, 6 + In, 1));
      for (let i = 0; i < In; i += 4) shift[i] = 0; // zero shifts take the skip path
      for (const relu of [false, true]) {
        const y1 = new Float32Array(B * Out);
        const y2 = allocF32(B * Out);
        naive.linearForwardNaive(X, Wt, bias, y1, B, In, Out, relu, shift);
        k.linearForward(X, Wt, bias, y2, B, In, Out, relu, shift);
        expect(close(y1, y2, 2 * In)).toBe(true);
      }
      naive.linearBackwardWeightNaive(dY, X, dw1, db1, B, In, Out, shift);
      k.linearBackwardWeight(dY, X, dw2, db2, B, In, Out, shift);
      expect(close(dw1, dw2, 2 * B)).toBe(true);
      expect(close(db1, db2, B)).toBe(true);
    });

    it('inputs zero in every row (and in the shift) get zero weight gradients, over stale contents', () => {
      // the WebAssembly kernel takes inputs in pairs: a whole pair, one of a pair, the last input alone
      const [B, In, Out] = [33, 67, 21];
      const dead = [10, 11, 20, 66];
      const X = shared(randomArray(B * In, 51, 1));
      for (let b = 0; b < B; b++) for (const i of dead) X[b * In + i] = 0;
      const dY = shared(randomArray(B * Out, 52, 1));
      const shift = shared(randomArray(In, 53, 1));
      for (const i of dead) shift[i] = 0;
      for (const s of [null, shift]) {
        const dw1 = new Float32Array(In * Out);
        const db1 = new Float32Array(Out);
        const dw2 = shared(randomArray(In * Out, 54, 1));
        const db2 = allocF32(Out);
        naive.linearBackwardWeightNaive(dY, X, dw1, db1, B, In, Out, s);
        k.linearBackwardWeight(dY, X, dw2, db2, B, In, Out, s);
        expect(close(dw1, dw2, 2 * B)).toBe(true);
        for (const i of dead) expect(dw2.subarray(i * Out, (i + 1) * Out).every((v) => v === 0)).toBe(true);
      }
    });

    it('adam matches the reference step to 1e-6 relative over 3 steps', () => {
      const n = 103; // not a multiple of 4
      const p1 = randomArray(n, 9, 1);
      const p2 = shared(p1);
      const [m1, v1, m2, v2] = [new Float32Array(n), new Float32Array(n), allocF32(n), allocF32(n)];
      for (let t = 1; t <= 3; t++) {
        const g = shared(randomArray(n, 10 + t, 0.5));
        const c1 = 1 / (1 - 0.9 ** t);
        const c2 = 1 / (1 - 0.999 ** t);
        naive.adamNaive(p1, g, m1, v1, 0.01, 0.9, 0.999, 1e-8, c1, c2);
        k.adam(p2, g, m2, v2, 0.01, 0.9, 0.999, 1e-8, c1, c2);
      }
      for (let i = 0; i < n; i++) expect(Math.abs(p1[i] - p2[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(p1[i])));
    });
  });
}

describe('the naive forward', () => {
  it('computes a known product', () => {
    // X = [[1, 2]], W = [[3, 4], [5, 6]] (Out x In) stored as Wt = [[3, 5], [4, 6]], b = [0.5, -1]
    //   ->  [1*3+2*4+0.5, 1*5+2*6-1]
    const y = new Float32Array(2);
    naive.linearForwardNaive(Float32Array.of(1, 2), Float32Array.of(3, 5, 4, 6), Float32Array.of(0.5, -1), y, 1, 2, 2);
    expect(Array.from(y)).toEqual([11.5, 16]);
  });
});

describe('WebAssembly products split into row ranges', () => {
  // What threads rely on: any split of the rows gives bit-identical results.
  it('give bit-identical results to the whole product, whatever the split', () => {
    checkSplits(64, 65, 10, 0);
  });
  it('also where W goes in copied slabs, and dense rows take the 4-row tiles (or, when sparse, the lists)', () => {
    checkSplits(64, 600, 450, 0);
    checkSplits(64, 600, 450, 0.5);
    checkSplits(64, 800, 450, 0.5); // W beyond the scratch: input gradient by dot-product tiles
  });
  it('also with an odd number of inputs (pairs of inputs that start at odd ones), MNIST-like zeros and Out a power of two', () => {
    checkSplits(64, 801, 1024, 0.8);
    checkSplits(64, 801, 1024, 0.3);
    checkSplits(64, 131, 37, 0.8);
  });

  function checkSplits(B: number, In: number, Out: number, zeros: number): void {
    const w = instantiate(wasmPath()!);
    const X = shared(randomArray(B * In, 21, 1));
    const rng = new Rng(7);
    for (let i = 0; i < X.length; i++) if (rng.next() < zeros) X[i] = 0;
    const Wt = shared(randomArray(In * Out, 22, 1));
    const bias = shared(randomArray(Out, 23, 1));
    const dY = shared(randomArray(B * Out, 24, 1));
    const shift = shared(randomArray(In, 25, 1));
    for (let i = 0; i < In; i += 3) shift[i] = 0;
    const run = (splits: number[]) => {
      const Y = allocF32(B * Out);
      const dX = allocF32(B * In);
      const dWt = allocF32(In * Out);
      for (let s = 0; s + 1 < splits.length; s++) {
        w.linear_forward(X.byteOffset, Wt.byteOffset, bias.byteOffset, Y.byteOffset, In, Out, splits[s], splits[s + 1], 1, 0, In);
        w.linear_backward_input(dY.byteOffset, Wt.byteOffset, dX.byteOffset, In, Out, splits[s], splits[s + 1]);
      }
      const iSplits = splits.map((r) => Math.round((r / B) * In));
      for (let s = 0; s + 1 < iSplits.length; s++) w.linear_backward_weight(dY.byteOffset, X.byteOffset, dWt.byteOffset, B, In, Out, iSplits[s], iSplits[s + 1], 0, 0);
      // with a shift (folded normalization): shift ⊗ db added to each row
      const dWs = allocF32(In * Out);
      for (let s = 0; s + 1 < iSplits.length; s++) w.linear_backward_weight(dY.byteOffset, X.byteOffset, dWs.byteOffset, B, In, Out, iSplits[s], iSplits[s + 1], shift.byteOffset, bias.byteOffset);
      // the forward pass split by inputs in two halves, with a shift, as the threads run it
      const Ys = allocF32(B * Out);
      const P = allocF32(B * Out + 2 * Out);
      const k = part(In, 1, 2)[0];
      const ctrl = new Int32Array(CTRL_INTS);
      ctrl[OP] = OP_FORWARD_HALVES;
      ctrl[PARTS] = splits.length - 1;
      [X.byteOffset, Wt.byteOffset, bias.byteOffset, Ys.byteOffset, In, Out, B, P.byteOffset, k, shift.byteOffset, P.byteOffset + 4 * B * Out].forEach((v, j) => (ctrl[ARGS + j] = v));
      splits.forEach((r, t) => (ctrl[BOUNDS + t] = 2 * r)); // 2B rows: each batch row over each half
      for (let t = 0; t + 1 < splits.length; t++) runPart(w, ctrl, new Float32Array(CTRL_INTS), t);
      w.add_act_shift(Ys.byteOffset, P.byteOffset, P.byteOffset + 4 * B * Out, B, Out, 1);
      return [Y, dX, dWt, dWs, Ys].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    };
    const whole = run([0, B]);
    for (const splits of [[0, 1, B], [0, 31, B], [0, 13, 29, 50, B]]) {
      run(splits).forEach((bytes, k) => expect(bytes.equals(whole[k])).toBe(true));
    }
  }
});

describe('batch and elementwise kernels: WebAssembly equals TypeScript exactly', () => {
  it.skipIf(!wasm)('gather (normalize a batch of bytes), relu backward and in-place multiply', () => {
    const k = wasm!;
    const D = 37; // not a multiple of 16
    const bytes = allocF32(Math.ceil((10 * D) / 4));
    const img = new Uint8Array(bytes.buffer, bytes.byteOffset, 10 * D);
    for (let i = 0; i < img.length; i++) img[i] = (i * 37) % 256;
    const idxF = allocF32(4);
    const idx = new Uint32Array(idxF.buffer, idxF.byteOffset, 4);
    idx.set([7, 0, 9, 3]);
    const offset = shared(randomArray(D, 31, 40).map((v) => v + 40));
    const divisor = shared(randomArray(D, 32, 20).map((v) => Math.abs(v) + 30));
    const a = allocF32(3 * D);
    const b = allocF32(3 * D);
    k.gather(img, idx, 1, 3, D, offset, divisor, a);
    ts.gather(img, idx, 1, 3, D, offset, divisor, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[0]).toBeCloseTo((img[0] - offset[0]) / divisor[0], 5); // row idx[1] = 0

    const act = shared(randomArray(103, 33, 1));
    const g1 = shared(randomArray(103, 34, 1));
    const g2 = shared(g1);
    k.reluBackward(act, g1, 103);
    ts.reluBackward(act, g2, 103);
    expect(Array.from(g1)).toEqual(Array.from(g2));
    expect(g1.filter((v, i) => act[i] <= 0 && v !== 0).length).toBe(0);

    const mask = shared(randomArray(103, 35, 2));
    k.mulInPlace(g1, mask, 103);
    ts.mulInPlace(g2, mask, 103);
    expect(Array.from(g1)).toEqual(Array.from(g2));
  });
});

describe('pixel sums (the normalization statistics)', () => {
  it.skipIf(!wasm)('WebAssembly equals TypeScript and the definition exactly, for row lengths off the 16-byte tiles, adding to what is there', () => {
    const k = wasm!;
    for (const D of [1, 3, 16, 17, 37, 784]) {
      const block = allocF32(Math.ceil((12 * D) / 4));
      const images = new Uint8Array(block.buffer, block.byteOffset, 12 * D);
      for (let i = 0; i < images.length; i++) images[i] = (i * 97 + 13) % 256;
      images[0] = 255;
      const idxF = allocF32(5);
      const idx = new Uint32Array(idxF.buffer, idxF.byteOffset, 5);
      idx.set([11, 0, 4, 4, 7]);
      const u32 = () => {
        const f = allocF32(D);
        const a = new Uint32Array(f.buffer, f.byteOffset, D);
        a.fill(5); // it adds to what is there
        return a;
      };
      const [s1, q1, s2, q2] = [u32(), u32(), u32(), u32()];
      k.pixelSums(images, idx, 1, 4, D, s1, q1); // images 0, 4, 4, 7
      ts.pixelSums(images, idx, 1, 4, D, s2, q2);
      expect(Array.from(s1)).toEqual(Array.from(s2));
      expect(Array.from(q1)).toEqual(Array.from(q2));
      for (const j of [0, D - 1]) {
        const px = [0, 4, 4, 7].map((r) => images[r * D + j]);
        expect(s1[j]).toBe(5 + px.reduce((a, b) => a + b, 0));
        expect(q1[j]).toBe(5 + px.reduce((a, b) => a + b * b, 0));
      }
    }
  });
});

describe('dropout masks: WebAssembly draws exactly what TypeScript draws', () => {
  it.skipIf(!wasm)('same masks, outputs and final generator state', () => {
    const n = 1003;
    const x = shared(randomArray(n, 41, 1));
    const run = (k: Kernels) => {
      const lanes = new Rng4(new Rng(77));
      const mask = allocF32(n);
      const y = allocF32(n);
      k.dropoutMask(lanes.words, x, mask, y, n, 0.8, 1 / 0.8);
      return { mask: Array.from(mask), y: Array.from(y), state: lanes.getState() };
    };
    const a = run(wasm!);
    const b = run({ ...wasm!, dropoutMask: ts.dropoutMask });
    expect(a).toEqual(b);
    const kept = a.mask.filter((m) => m !== 0).length;
    expect(Math.abs(kept - 0.8 * n)).toBeLessThan(4 * Math.sqrt(n * 0.8 * 0.2));
  });
});

describe('thread parts sized by speed', () => {
  it('cover every row once, on multiples of 4, in proportion to speed', () => {
    expect(boundsFor([1, 1], 784)).toEqual([0, 392, 784]);
    expect(boundsFor([3, 1], 784)).toEqual([0, 588, 784]);
    expect(boundsFor([1, 1, 1], 64)).toEqual([0, 20, 44, 64]);
    expect(boundsFor([1, 1], 3)).toEqual([0, 0, 3]); // fewer rows than a tile: one thread takes them
    expect(boundsFor([1], 10)).toEqual([0, 10]);
    for (const [speeds, rows] of [[[5, 0.1, 2], 1001], [[1e-9, 1], 128], [[1, 2, 3, 4], 4]] as Array<[number[], number]>) {
      const b = boundsFor(speeds, rows);
      expect(b[0]).toBe(0);
      expect(b[b.length - 1]).toBe(rows);
      for (let t = 1; t < b.length; t++) {
        expect(b[t]).toBeGreaterThanOrEqual(b[t - 1]);
        if (t < b.length - 1) expect(b[t] % 4).toBe(0);
      }
    }
  });
});
