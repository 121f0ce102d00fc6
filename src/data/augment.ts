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
 * The draws are made here, in TypeScript, in a fixed order (a seed gives the same
 * draws on every backend); the pixels are the augment kernel's work (kernels/augment.ts
 * is its TypeScript form and the geometry's reference; wasm/augment.ts its SIMD form).
 */
import { bankField, fieldFloats, PARAMS, symmetry, type Transform } from '../kernels/augment';
import { allocF32 } from '../kernels/memory';
import type { Normalizer } from './normalize';
import { Rng } from '../util/rng';

export interface AugmentConfig {
  shift: number; // pixels, uniform in [-shift, shift] on each axis
  rotate: number; // degrees, uniform in [-rotate, rotate]
  scale: number; // the size is multiplied by a factor uniform in [1 - scale, 1 + scale]
  elastic: false | { alpha: number; sigma: number };
}

export type { Transform } from '../kernels/augment';
export { transformImage } from '../kernels/augment';

const FIELDS = 64;

export class Augmenter {
  private readonly rng: Rng;
  /** (FIELDS, 2, 2, D) the field bank as the kernels read it (kernels/augment.ts), or null without elastic distortions */
  private readonly bank: Float32Array | null = null;
  private params: Float64Array = new Float64Array(0); // (B, PARAMS) one batch's draws, in the shared memory
  private readonly variant: Float32Array;

  constructor(readonly cfg: AugmentConfig, seed: number, readonly side = 28) {
    this.rng = Rng.derive(seed, 'augment');
    const D = side * side;
    this.variant = new Float32Array(2 * D);
    if (cfg.elastic) {
      this.bank = allocF32(FIELDS * fieldFloats(D));
      for (let k = 0; k < FIELDS; k++) bankField(elasticField(this.rng, side, cfg.elastic.alpha, cfg.elastic.sigma), side, this.bank, k * fieldFloats(D));
    }
  }

  /** The generator's state, for checkpoints (the field bank is remade from the seed). */
  getState(): number[] {
    return this.rng.getState();
  }

  setState(s: number[]): void {
    this.rng.setState(s);
  }

  /**
   * out's row r = normalize(transform(images[idx[start + r]])), a fresh random transform each:
   * the draws here, in image order, the images in one kernel call (kernels/augment.ts).
   */
  batch(images: Uint8Array, idx: Uint32Array, start: number, B: number, norm: Normalizer, out: Float32Array): void {
    if (this.params.length < B * PARAMS) {
      const f = allocF32(2 * B * PARAMS); // f64s: the allocator aligns to 64 bytes
      this.params = new Float64Array(f.buffer, f.byteOffset, B * PARAMS);
    }
    for (let r = 0; r < B; r++) this.drawInto(this.params, r * PARAMS);
    norm.augment(images, idx, start, B, this.side, this.params, this.bank, out);
  }

  /** The next random transform (shared buffers: valid until the next draw). */
  draw(): Transform {
    const p = new Float64Array(PARAMS);
    this.drawInto(p, 0);
    const t: Transform = { dx: p[0], dy: p[1], angle: p[2], scale: p[3], field: null };
    if (this.bank) {
      symmetry(this.bank, p[4] * fieldFloats(this.side * this.side), p[5], this.side, this.variant);
      t.field = this.variant;
    }
    return t;
  }

  /** One image's draws into p[at ..] (PARAMS slots): dx, dy, angle, scale, then the field and its symmetry, in that order. */
  private drawInto(p: Float64Array, at: number): void {
    const { shift, rotate, scale } = this.cfg;
    const u = () => 2 * this.rng.next() - 1; // uniform in [-1, 1)
    p[at] = shift * u();
    p[at + 1] = shift * u();
    p[at + 2] = ((rotate * Math.PI) / 180) * u();
    p[at + 3] = 1 + scale * u();
    p[at + 4] = this.bank ? this.rng.int(FIELDS) : -1;
    p[at + 5] = this.bank ? this.rng.int(16) : 0;
  }
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
