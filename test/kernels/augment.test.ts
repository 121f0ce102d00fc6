/**
 * The augment kernel: the WebAssembly batch against the TypeScript reference
 * (transformImage on the image as floats, the field under its symmetry, then the
 * normalization's f32 operations) over many random draws and the edges: samples
 * outside the image, turns of any angle, shrinking and growing, every symmetry of
 * every field, images with ink up to the border, blank ones, other normalizations.
 *
 * Tolerance: the kernel computes the sample coordinates in float32, the reference
 * in float64. The coordinates reach about 100 (far shifts, half scale), where a
 * float32 is within 4e-6, and a few roundings add up to under 4e-5 of a pixel per
 * axis; a bilinear sample moves at most 255 per pixel along each axis, so the raw
 * value differs by at most 255 x 2 x 4e-5 = 0.02 (the interpolation's own float32
 * rounding, 1e-4, is below that). So |wasm - ref| <= 0.02 / divisor + 1e-6 |ref|:
 * 1/12,750 of the intensity range. Where the coordinates are exact (whole-pixel
 * shifts, no turn, no field), the two are equal bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { loadWasm } from '../../src/kernels';
import { bankField, fieldFloats, PARAMS, symmetry, transformImage, type Transform } from '../../src/kernels/augment';
import { allocF32, allocU8, allocU32 } from '../../src/kernels/memory';
import { instantiate, wasmPath } from '../../src/kernels/wasm';
import { elasticField } from '../../src/data/augment';
import { loadDataset } from '../../src/data/mnist';
import { Rng } from '../../src/util/rng';

const side = 28;
const D = side * side;
const FIELDS = 8;
const wasm = loadWasm().kernels;
const ds = loadDataset();
const exports = wasmPath() ? instantiate(wasmPath()!) : null; // the raw exports, to call on part of the pixels

// a pool of images in the shared memory: real digits, then images that reach the border, noise, a blank one
const REAL = 40;
const pool = allocU8(64 * D);
const rng = new Rng(11);
for (let k = 0; k < REAL; k++) pool.set(ds.images.subarray(k * 1237 * D, k * 1237 * D + D), k * D);
pool.fill(255, REAL * D, (REAL + 1) * D); // all white: every sample inside the image is 255
for (let k = REAL + 1; k < 63; k++) for (let j = 0; j < D; j++) pool[k * D + j] = rng.next() < 0.5 ? 0 : rng.int(256);
for (const [x, y] of [[0, 0], [side - 1, 0], [0, side - 1], [side - 1, side - 1]]) pool[(REAL + 2) * D + y * side + x] = 255; // ink in the corners
// image 63 stays blank

// elastic fields as the run makes them, and one of large plain noise (samples thrown far)
const bank = allocF32(FIELDS * fieldFloats(D));
for (let k = 0; k < FIELDS - 1; k++) bankField(elasticField(rng, side, 34, 4), side, bank, k * fieldFloats(D));
bankField(Float32Array.from({ length: 2 * D }, () => 8 * (2 * rng.next() - 1)), side, bank, (FIELDS - 1) * fieldFloats(D));

/** (offset, divisor) for x/255, and per-pixel standardization as the normalizer makes them. */
function normalizations(): Array<{ offset: Float32Array; divisor: Float32Array }> {
  const scale = { offset: allocF32(D), divisor: allocF32(D).fill(255) };
  const std = { offset: allocF32(D), divisor: allocF32(D) };
  for (let j = 0; j < D; j++) {
    std.offset[j] = Math.fround(255 * 0.3 * rng.next());
    std.divisor[j] = Math.fround(255 * (0.01 + 0.5 * rng.next()));
  }
  return [scale, std];
}

/** The reference: each row through transformImage in float64, then (v - offset) / divisor in f32. */
function reference(idx: Uint32Array, B: number, params: Float64Array, fields: Float32Array | null, offset: Float32Array, divisor: Float32Array): Float32Array {
  const out = new Float32Array(B * D);
  const raw = new Float32Array(D);
  const moved = new Float32Array(D);
  const variant = new Float32Array(2 * D);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < D; j++) raw[j] = pool[idx[r] * D + j];
    const p = r * PARAMS;
    const t: Transform = { dx: params[p], dy: params[p + 1], angle: params[p + 2], scale: params[p + 3], field: null };
    if (fields && params[p + 4] >= 0) {
      symmetry(fields, params[p + 4] * fieldFloats(D), params[p + 5], side, variant);
      t.field = variant;
    }
    transformImage(raw, t, side, moved);
    for (let j = 0; j < D; j++) out[r * D + j] = Math.fround(moved[j] - offset[j]) / divisor[j];
  }
  return out;
}

function paramsArray(B: number): Float64Array {
  const f = allocF32(2 * B * PARAMS);
  return new Float64Array(f.buffer, f.byteOffset, B * PARAMS);
}

/** Random draws over wide ranges: shifts up to `shift` pixels, any angle up to `turn`, scale in [1 - grow, 1 + grow]; symmetries in turn. */
function draws(B: number, shift: number, turn: number, grow: number, fields: boolean): Float64Array {
  const p = paramsArray(B);
  const u = () => 2 * rng.next() - 1;
  for (let r = 0; r < B; r++) {
    p.set([shift * u(), shift * u(), turn * u(), 1 + grow * u(), fields ? rng.int(FIELDS) : -1, r % 16], r * PARAMS);
  }
  return p;
}

function batchIndices(B: number): Uint32Array {
  const idx = allocU32(B);
  for (let r = 0; r < B; r++) idx[r] = r < 64 ? r : rng.int(64);
  return idx;
}

/** The largest |wasm - ref| over the batch, in units of the tolerance (<= 1 passes). */
function worst(got: Float32Array, want: Float32Array, divisor: Float32Array): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const tol = 0.02 / divisor[i % D] + 1e-6 * Math.abs(want[i]);
    const e = Math.abs(got[i] - want[i]) / tol;
    if (!(e <= w)) w = e; // NaN shows as NaN
  }
  return w;
}

describe.skipIf(!wasm)('the WebAssembly augment kernel against the TypeScript reference', () => {
  const B = 160;
  const idx = batchIndices(B);
  const cases: Array<[string, number, number, number, boolean]> = [
    ['best.yaml ranges, elastic fields', 2, Math.PI / 18, 0.1, true],
    ['far shifts (samples outside the image), any angle, half to 1.5x size, elastic', 20, Math.PI, 0.5, true],
    ['far shifts, any angle, no fields', 20, Math.PI, 0.5, false],
    ['small shifts only', 1.5, 0, 0, false],
  ];
  it.each(cases)('%s: within 0.02 / divisor for every symmetry, both normalizations', (_, shift, turn, grow, fields) => {
    for (const { offset, divisor } of normalizations()) {
      for (let round = 0; round < 4; round++) {
        const params = draws(B, shift, turn, grow, fields);
        const out = allocF32(B * D);
        wasm!.augment(pool, idx, 0, B, side, params, fields ? bank : null, offset, divisor, out);
        const want = reference(idx, B, params, fields ? bank : null, offset, divisor);
        expect(worst(out, want, divisor)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('the TypeScript form (the ts and naive backends) is the reference itself, bit for bit', async () => {
    const { augment } = await import('../../src/kernels/augment');
    const [, { offset, divisor }] = normalizations();
    const params = draws(B, 4, Math.PI / 4, 0.2, true);
    const out = new Float32Array(B * D);
    augment(pool, idx, 0, B, side, params, bank, offset, divisor, out);
    expect(out).toEqual(reference(idx, B, params, bank, offset, divisor));
  });

  it('whole-pixel shifts with no turn and no field give the reference bit for bit (the coordinates are exact)', () => {
    const [scale, std] = normalizations();
    for (const { offset, divisor } of [scale, std]) {
      const params = paramsArray(B);
      for (let r = 0; r < B; r++) params.set([rng.int(61) - 30, rng.int(61) - 30, 0, 1, -1, 0], r * PARAMS);
      params.set([0, 0, 0, 1, -1, 0], 0); // the identity
      params.set([-1, 27, 0, 1, -1, 0], PARAMS); // the last row and column at the edge
      const out = allocF32(B * D);
      wasm!.augment(pool, idx, 0, B, side, params, null, offset, divisor, out);
      expect(out).toEqual(reference(idx, B, params, null, offset, divisor));
    }
  });

  it('samples on the image border and beyond it: a white image moved by fractions of a pixel fades to 0 over one pixel', () => {
    const [{ offset, divisor }] = normalizations();
    const white = allocU32(B).fill(REAL);
    const params = paramsArray(B);
    for (let r = 0; r < B; r++) params.set([(r % 40) / 10 - 2, ((r * 7) % 40) / 10 - 2, 0, 1, -1, 0], r * PARAMS);
    const out = allocF32(B * D);
    wasm!.augment(pool, white, 0, B, side, params, null, offset, divisor, out);
    const want = new Float32Array(B * D);
    const raw = new Float32Array(D).fill(255);
    const moved = new Float32Array(D);
    for (let r = 0; r < B; r++) {
      transformImage(raw, { dx: params[r * PARAMS], dy: params[r * PARAMS + 1], angle: 0, scale: 1, field: null }, side, moved);
      for (let j = 0; j < D; j++) want[r * D + j] = Math.fround(moved[j] - offset[j]) / divisor[j];
    }
    expect(worst(out, want, divisor)).toBeLessThanOrEqual(1);
    expect(out.some((v) => v > 0 && v < 1)).toBe(true); // partly outside: the border pixels fade
  });

  it('any split of the pixels (a range [j0, j1) a call could take) gives bit-identical batches', () => {
    const [, { offset, divisor }] = normalizations();
    const params = draws(B, 3, Math.PI / 6, 0.2, true);
    const whole = allocF32(B * D);
    wasm!.augment(pool, idx, 0, B, side, params, bank, offset, divisor, whole);
    for (const cuts of [[0, 4, D], [0, 392, D], [0, 100, 300, 604, D], [0, 28, 56, 780, D]]) {
      const split = allocF32(B * D);
      for (let t = 0; t + 1 < cuts.length; t++) wasmPart(idx, B, params, offset, divisor, split, cuts[t], cuts[t + 1]);
      expect(split).toEqual(whole);
    }
  });
});

/** The kernel's export over pixels [j0, j1) only, as a thread would take them. */
function wasmPart(idx: Uint32Array, B: number, params: Float64Array, offset: Float32Array, divisor: Float32Array, out: Float32Array, j0: number, j1: number): void {
  exports!.augment(pool.byteOffset, idx.byteOffset, 0, B, side, params.byteOffset, bank.byteOffset, offset.byteOffset, divisor.byteOffset, out.byteOffset, j0, j1);
}
