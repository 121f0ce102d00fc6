/**
 * Batch normalization kernels: WebAssembly (f32 sums, four features at a time) against
 * the float64 reference loops (naive.ts, also the TypeScript backends' form). Tolerance:
 * TOL (absolute) + TOL relative on every output. A sum of B f32 values is off by at most
 * about B/2 units of 2^-24 of the sum's magnitude (3e-6 at B = 100), and the normalized
 * values are a few units in size, so 1e-4 leaves a margin of more than 10 while a wrong
 * formula (a missing 1/B, the biased variance in the running average) is off by far more.
 */
import { describe, expect, it } from 'vitest';
import { loadWasm } from '../../src/kernels';
import { allocF32 } from '../../src/kernels/memory';
import * as naive from '../../src/kernels/naive';
import { Rng } from '../../src/util/rng';

const TOL = 1e-4;
const wasm = loadWasm().kernels!;
// (B, N): whole 4-feature groups and tails, one and two rows, W's layers
const SHAPES: Array<[number, number]> = [[64, 128], [64, 64], [7, 13], [1, 5], [2, 6], [100, 3]];

/** n values in shared memory (where the WebAssembly kernels take buffers): uniform in [lo, hi). */
function filled(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const a = allocF32(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}
const copy = (a: Float32Array) => {
  const c = allocF32(a.length);
  c.set(a);
  return c;
};

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (TOL + TOL * Math.abs(want[i]));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  expect(worst, `${what}: worst error in units of the tolerance`).toBeLessThanOrEqual(1);
}

describe.each(SHAPES)('batch normalization kernels, B=%i N=%i', (B, N) => {
  const rng = new Rng(B * 1000 + N);
  // activations with an offset and a spread, as after a dense layer
  const x = filled(rng, B * N, -2, 5);
  const g = filled(rng, N, 0.5, 1.5);
  const b = filled(rng, N, -0.5, 0.5);
  const rm = filled(rng, N, -1, 1);
  const rv = filled(rng, N, 0.5, 2);

  it('training forward: outputs, x̂, 1/σ and the running statistics', () => {
    const out = [allocF32(B * N), allocF32(B * N), allocF32(N), copy(rm), copy(rv)];
    const ref = [allocF32(B * N), allocF32(B * N), allocF32(N), copy(rm), copy(rv)];
    wasm.batchnormTrain(x, out[0], out[1], out[2], g, b, out[3], out[4], B, N, 0.1, 1e-5);
    naive.batchnormTrainNaive(x, ref[0], ref[1], ref[2], g, b, ref[3], ref[4], B, N, 0.1, 1e-5);
    ['y', 'x̂', '1/σ', 'running mean', 'running var'].forEach((what, k) => expectClose(out[k], ref[k], what));
    // feature 0 from its definition, in float64: the running variance moves towards the unbiased batch variance
    let mean = 0, q = 0;
    for (let r = 0; r < B; r++) mean += x[r * N] / B;
    for (let r = 0; r < B; r++) q += (x[r * N] - mean) ** 2;
    expect(out[3][0]).toBeCloseTo(0.9 * rm[0] + 0.1 * mean, 5);
    expect(out[4][0]).toBeCloseTo(0.9 * rv[0] + 0.1 * (B > 1 ? q / (B - 1) : 0), 4);
  });

  it('evaluation forward', () => {
    const y = allocF32(B * N), want = allocF32(B * N);
    wasm.batchnormEval(x, y, g, b, rm, rv, B, N, 1e-5);
    naive.batchnormEvalNaive(x, want, g, b, rm, rv, B, N, 1e-5);
    expectClose(y, want, 'y');
  });

  it.each([true, false])('backward (input gradient: %s)', (needDx) => {
    const xh = allocF32(B * N), inv = allocF32(N);
    naive.batchnormTrainNaive(x, allocF32(B * N), xh, inv, g, b, copy(rm), copy(rv), B, N, 0.1, 1e-5);
    const dy = filled(rng, B * N, -1, 1);
    const [d1, d2] = [copy(dy), copy(dy)];
    const [dg1, db1, dg2, db2] = [allocF32(N), allocF32(N), allocF32(N), allocF32(N)];
    wasm.batchnormBackward(d1, xh, inv, g, dg1, db1, B, N, needDx);
    naive.batchnormBackwardNaive(d2, xh, inv, g, dg2, db2, B, N, needDx);
    expectClose(dg1, dg2, 'dγ');
    expectClose(db1, db2, 'dβ');
    expectClose(d1, d2, needDx ? 'dx' : 'dy (untouched)');
    if (!needDx) expect(Array.from(d1)).toEqual(Array.from(dy));
  });
});
