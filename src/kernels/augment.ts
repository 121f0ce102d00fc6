/**
 * The augment kernel's TypeScript form: the reference the WebAssembly one
 * (wasm/augment.ts) is tested against, and what the ts and naive backends run.
 * Each image of a batch is redrawn through its own transform (data/augment.ts
 * draws the parameters) and normalized like the gather kernel:
 *   out[r] = (transform(images[idx[start + r]]) - offset) / divisor, per pixel.
 * Geometry in float64; the normalization in the gather's f32 operations.
 */

/** One image's transform. */
export interface Transform {
  dx: number;
  dy: number;
  angle: number; // radians
  scale: number;
  field: Float32Array | null; // (2, side, side) displacements in pixels, or none
}

/**
 * f64 slots a row of the parameter array takes, (B, PARAMS): dx, dy, angle (radians), scale,
 * the elastic field's index in the bank (-1: none) and its symmetry (0..15), then 2 unused.
 */
export const PARAMS = 8;

/**
 * Floats one field takes in the bank, (FIELDS, 2, 2, D): each field (2, D) as made, then
 * transposed with its two components swapped, so that the WebAssembly kernel reads any
 * symmetry of it along rows (this form uses the first copy only).
 */
export const fieldFloats = (D: number) => 4 * D;

// Scratch for one image, grown as needed.
let raw = new Float32Array(0);
let moved = new Float32Array(0);
let variant = new Float32Array(0);

/** out (B, D) = (transform_r(images[idx[start + r]]) - offset) / divisor, the transforms in params (B, PARAMS). */
export function augment(
  images: Uint8Array,
  idx: Uint32Array,
  start: number,
  B: number,
  side: number,
  params: Float64Array,
  fields: Float32Array | null,
  offset: Float32Array,
  divisor: Float32Array,
  out: Float32Array,
): void {
  const D = side * side;
  if (raw.length < D) {
    raw = new Float32Array(D);
    moved = new Float32Array(D);
    variant = new Float32Array(2 * D);
  }
  const t: Transform = { dx: 0, dy: 0, angle: 0, scale: 1, field: null };
  for (let r = 0; r < B; r++) {
    const src = idx[start + r] * D;
    for (let j = 0; j < D; j++) raw[j] = images[src + j];
    const p = r * PARAMS;
    t.dx = params[p];
    t.dy = params[p + 1];
    t.angle = params[p + 2];
    t.scale = params[p + 3];
    t.field = null;
    if (fields && params[p + 4] >= 0) {
      symmetry(fields, params[p + 4] * fieldFloats(D), params[p + 5], side, variant);
      t.field = variant;
    }
    transformImage(raw, t, side, moved);
    const dst = r * D;
    for (let j = 0; j < D; j++) out[dst + j] = Math.fround(moved[j] - offset[j]) / divisor[j];
  }
}

/**
 * out (side x side) = src seen through t: output pixel (x, y) samples src at
 * c + R(-angle) ((x, y) - c - (dx, dy)) / scale + field(x, y), c the centre, bilinearly.
 */
export function transformImage(src: Float32Array, t: Transform, side: number, out: Float32Array): void {
  const c = (side - 1) / 2;
  const cos = Math.cos(t.angle) / t.scale;
  const sin = Math.sin(t.angle) / t.scale;
  const D = side * side;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const ux = x - c - t.dx;
      const uy = y - c - t.dy;
      let sx = c + cos * ux + sin * uy;
      let sy = c - sin * ux + cos * uy;
      if (t.field) {
        sx += t.field[y * side + x];
        sy += t.field[D + y * side + x];
      }
      out[y * side + x] = bilinear(src, side, sx, sy);
    }
  }
}

function bilinear(src: Float32Array, side: number, x: number, y: number): number {
  if (!(x > -1 && y > -1 && x < side && y < side)) return 0; // all four neighbours outside (or NaN)
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const inX0 = x0 >= 0, inX1 = x0 + 1 < side, inY0 = y0 >= 0, inY1 = y0 + 1 < side;
  const p = y0 * side + x0;
  const a = inY0 && inX0 ? src[p] : 0;
  const b = inY0 && inX1 ? src[p + 1] : 0;
  const c = inY1 && inX0 ? src[p + side] : 0;
  const d = inY1 && inX1 ? src[p + side + 1] : 0;
  return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
}

/** out (2, D) = the field f[from ..] (2, D) under symmetry s (0..15): bit 0 transposes, bits 1-2 mirror x and y, bit 3 negates. */
export function symmetry(f: Float32Array, from: number, s: number, side: number, out: Float32Array): void {
  const D = side * side;
  const transpose = s & 1, mx = s & 2, my = s & 4, sign = s & 8 ? -1 : 1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const mxx = mx ? side - 1 - x : x;
      const myy = my ? side - 1 - y : y;
      const at = from + (transpose ? mxx * side + myy : myy * side + mxx);
      // a mirrored or transposed field moves along the mirrored or swapped axes
      let ddx = transpose ? f[D + at] : f[at];
      let ddy = transpose ? f[at] : f[D + at];
      if (mx) ddx = -ddx;
      if (my) ddy = -ddy;
      out[y * side + x] = sign * ddx;
      out[D + y * side + x] = sign * ddy;
    }
  }
}

/** Writes field f (2, D) into the bank at `at` as the kernels read it: as made, then transposed with its components swapped. */
export function bankField(f: Float32Array, side: number, bank: Float32Array, at: number): void {
  const D = side * side;
  bank.set(f, at);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      bank[at + 2 * D + y * side + x] = f[D + x * side + y];
      bank[at + 3 * D + y * side + x] = f[x * side + y];
    }
}
