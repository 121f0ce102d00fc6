/**
 * The fast TypeScript kernels against the naive reference on awkward shapes
 * (sizes that are not multiples of the 4x4 blocks, and 1). Tolerance: 1e-5
 * relative to the size of the terms summed (float32 rounding of In-long sums).
 */
import { describe, expect, it } from 'vitest';
import * as naive from '../../src/kernels/naive';
import * as fast from '../../src/kernels/ts';
import { randomArray } from '../helpers/gradcheck';

const SIZES = [1, 3, 7, 63, 65];
const SHAPES: Array<[number, number, number]> = [];
for (const B of [1, 33, 64]) for (const In of [...SIZES, 784]) for (const Out of [1, 3, 7, 65]) SHAPES.push([B, In, Out]);

function close(a: Float32Array, b: Float32Array, scale: number): boolean {
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-5 * scale)) return false;
  return true;
}

describe('fast kernels match the naive reference', () => {
  it.each(SHAPES)('B=%i In=%i Out=%i', (B, In, Out) => {
    const X = randomArray(B * In, 1 + B + In, 1);
    const W = randomArray(Out * In, 2 + Out, 1);
    const bias = randomArray(Out, 3, 1);
    const dY = randomArray(B * Out, 4 + B, 1);
    // zero some of dY in blocks, as ReLU and dropout do, to exercise the skip path
    for (let i = 0; i < dY.length; i += 3) dY[i] = 0;

    const y1 = new Float32Array(B * Out);
    const y2 = new Float32Array(B * Out);
    naive.linearForwardNaive(X, W, bias, y1, B, In, Out);
    fast.linearForward(X, W, bias, y2, B, In, Out);
    expect(close(y1, y2, In)).toBe(true);

    const dx1 = new Float32Array(B * In);
    const dx2 = new Float32Array(B * In).fill(123); // stale contents must be overwritten
    naive.linearBackwardInputNaive(dY, W, dx1, B, In, Out);
    fast.linearBackwardInput(dY, W, dx2, B, In, Out);
    expect(close(dx1, dx2, Out)).toBe(true);

    // weight gradients accumulate onto what is there
    const start = randomArray(Out * In, 5, 1);
    const dw1 = Float32Array.from(start);
    const dw2 = Float32Array.from(start);
    const db1 = Float32Array.from(bias);
    const db2 = Float32Array.from(bias);
    naive.linearBackwardWeightNaive(dY, X, dw1, db1, B, In, Out);
    fast.linearBackwardWeight(dY, X, dw2, db2, B, In, Out);
    expect(close(dw1, dw2, B)).toBe(true);
    expect(close(db1, db2, B)).toBe(true);
  });

  it('the naive forward computes a known product', () => {
    // X = [[1, 2]], W = [[3, 4], [5, 6]] (Out x In) stored as Wt = [[3, 5], [4, 6]], b = [0.5, -1]
    //   ->  [1*3+2*4+0.5, 1*5+2*6-1]
    const y = new Float32Array(2);
    naive.linearForwardNaive(Float32Array.of(1, 2), Float32Array.of(3, 5, 4, 6), Float32Array.of(0.5, -1), y, 1, 2, 2);
    expect(Array.from(y)).toEqual([11.5, 16]);
  });
});
