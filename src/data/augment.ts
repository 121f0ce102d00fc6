/**
 * Data augmentation for training batches, on the fly and seeded: each image is
 * redrawn through a random affine map (shift in pixels, rotation in degrees,
 * scaling) and, optionally, an elastic distortion as in Simard, Steinkraus &
 * Platt (2003): a random displacement field of uniform noise, smoothed by a
 * Gaussian of std `sigma` and scaled by `alpha`. Pixels are sampled bilinearly
 * from the raw image (outside it: 0, the background) and then normalized, so
 * the result stays in the range of real images. Labels are untouched.
 *
 * Smoothing a fresh field per image would cost more than the training step, so
 * FIELDS fields are made once per run and each image takes one of them under
 * one of its 8 symmetries (transposed, mirrored) with either sign: 64 x 16 variants.
 */
import type { Normalizer } from './normalize';
import { Rng } from '../util/rng';

export interface AugmentConfig {
  shift: number; // pixels, uniform in [-shift, shift] on each axis
  rotate: number; // degrees, uniform in [-rotate, rotate]
  scale: number; // the size is multiplied by a factor uniform in [1 - scale, 1 + scale]
  elastic: false | { alpha: number; sigma: number };
}

/** One image's draw: the parameters of its transform. */
export interface Transform {
  dx: number;
  dy: number;
  angle: number; // radians
  scale: number;
  field: Float32Array | null; // (2, side, side) displacements in pixels, or none
}

const FIELDS = 64;

export class Augmenter {
  private readonly rng: Rng;
  private readonly fields: Float32Array[] = [];
  private readonly raw: Float32Array;
  private readonly moved: Float32Array;
  private readonly variant: Float32Array;

  constructor(readonly cfg: AugmentConfig, seed: number, readonly side = 28) {
    this.rng = Rng.derive(seed, 'augment');
    const D = side * side;
    this.raw = new Float32Array(D);
    this.moved = new Float32Array(D);
    this.variant = new Float32Array(2 * D);
    if (cfg.elastic) for (let k = 0; k < FIELDS; k++) this.fields.push(elasticField(this.rng, side, cfg.elastic.alpha, cfg.elastic.sigma));
  }

  /** The generator's state, for checkpoints (the field bank is remade from the seed). */
  getState(): number[] {
    return this.rng.getState();
  }

  setState(s: number[]): void {
    this.rng.setState(s);
  }

  /** out's row r = normalize(transform(images[idx[start + r]])), a fresh random transform each. */
  batch(images: Uint8Array, idx: Uint32Array, start: number, B: number, norm: Normalizer, out: Float32Array): void {
    const D = this.side * this.side;
    for (let r = 0; r < B; r++) {
      const src = idx[start + r] * D;
      for (let j = 0; j < D; j++) this.raw[j] = images[src + j];
      transformImage(this.raw, this.draw(), this.side, this.moved);
      norm.applyFloat(this.moved, out, r * D);
    }
  }

  /** The next random transform (shared buffers: valid until the next draw). */
  draw(): Transform {
    const { shift, rotate, scale } = this.cfg;
    const u = () => 2 * this.rng.next() - 1; // uniform in [-1, 1)
    const t: Transform = { dx: shift * u(), dy: shift * u(), angle: ((rotate * Math.PI) / 180) * u(), scale: 1 + scale * u(), field: null };
    if (this.fields.length) {
      const f = this.fields[this.rng.int(this.fields.length)];
      symmetry(f, this.rng.int(16), this.side, this.variant);
      t.field = this.variant;
    }
    return t;
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

/** alpha times uniform noise in [-1, 1] smoothed by a Gaussian of std sigma (separable, radius 3 sigma), both axes. */
export function elasticField(rng: Rng, side: number, alpha: number, sigma: number): Float32Array {
  const D = side * side;
  const f = new Float32Array(2 * D);
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel: number[] = [];
  for (let k = -radius; k <= radius; k++) kernel.push(Math.exp(-(k * k) / (2 * sigma * sigma)));
  const ksum = kernel.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(D);
  for (let axis = 0; axis < 2; axis++) {
    const noise = new Float32Array(D);
    for (let j = 0; j < D; j++) noise[j] = 2 * rng.next() - 1;
    // rows, then columns; outside the image counts as 0, as in Simard et al.
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) if (x + k >= 0 && x + k < side) s += kernel[k + radius] * noise[y * side + x + k];
        tmp[y * side + x] = s / ksum;
      }
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) if (y + k >= 0 && y + k < side) s += kernel[k + radius] * tmp[(y + k) * side + x];
        f[axis * D + y * side + x] = (alpha * s) / ksum;
      }
  }
  return f;
}

/** out = field f under symmetry s (0..15): bit 0 transposes, bits 1-2 mirror x and y, bit 3 negates. */
function symmetry(f: Float32Array, s: number, side: number, out: Float32Array): void {
  const D = side * side;
  const transpose = s & 1, mx = s & 2, my = s & 4, sign = s & 8 ? -1 : 1;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const mxx = mx ? side - 1 - x : x;
      const myy = my ? side - 1 - y : y;
      const at = transpose ? mxx * side + myy : myy * side + mxx;
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
