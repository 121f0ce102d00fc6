/**
 * Input normalization. Statistics come from the training split only, are
 * stored with the model, and eval/predict apply exactly the same mapping:
 *   x = (raw / 255 - mean) / std
 * The dataset stays as bytes; batches are normalized as they are gathered.
 */
import { kernels } from '../kernels';
import { allocF32, allocU32 } from '../kernels/memory';
import * as ts from '../kernels/ts';

export type NormalizeMode = 'scale' | 'standardize';

export interface Normalization {
  mode: NormalizeMode;
  mean: number | number[]; // global, or one per pixel
  std: number | number[];
}

// Pixels that never vary in the training split (the blank border) would divide by ~0.
const MIN_STD = 1e-2;

export function fitNormalization(mode: NormalizeMode, perPixel: boolean, images: Uint8Array, indices: Uint32Array, D: number): Normalization {
  if (mode === 'scale') return { mode, mean: 0, std: 1 };
  // Per-pixel sums of the raw bytes (a SIMD kernel: every trial of a search pays this at
  // start-up), exact integers, so x/255 enters once at the end.
  const sum = new Float64Array(D);
  const sumSq = new Float64Array(D);
  const s32 = allocU32(D);
  const q32 = allocU32(D);
  const idx = allocU32(indices.length); // in the shared memory, where the kernel reads it
  idx.set(indices);
  for (let start = 0; start < idx.length; start += FLUSH_EVERY) {
    s32.fill(0);
    q32.fill(0);
    const end = Math.min(idx.length, start + FLUSH_EVERY);
    // in calls of 1,024 images: V8 runs a WebAssembly function's first call on its baseline
    // code and the optimized code only from a later call
    for (let r = start; r < end; r += 1024) kernels.pixelSums(images, idx, r, Math.min(1024, end - r), D, s32, q32);
    for (let j = 0; j < D; j++) {
      sum[j] += s32[j];
      sumSq[j] += q32[j];
    }
  }
  const n = indices.length;
  const stats = (s: number, q: number, count: number) => {
    const m = s / count / 255;
    return { m, sd: Math.max(MIN_STD, Math.sqrt(Math.max(0, q / count / (255 * 255) - m * m))) };
  };
  if (perPixel) {
    const mean: number[] = [];
    const std: number[] = [];
    for (let j = 0; j < D; j++) {
      const { m, sd } = stats(sum[j], sumSq[j], n);
      mean.push(m);
      std.push(sd);
    }
    return { mode, mean, std };
  }
  let s = 0;
  let q = 0;
  for (let j = 0; j < D; j++) {
    s += sum[j];
    q += sumSq[j];
  }
  const { m, sd } = stats(s, q, n * D);
  return { mode, mean: m, std: sd };
}

// u32 sums of squares of bytes hold 66,000 images (66,000 x 255^2 < 2^32): flush before.
const FLUSH_EVERY = 65536;

/**
 * Turns raw bytes into normalized floats as one affine map per pixel,
 * x = (raw - 255 mean) / (255 std), so a batch is one pass of the gather
 * kernel whatever the mode (and scale mode maps 0..255 exactly onto 0..1).
 *
 * Folded (`fold`, standardize only): batches are x' = raw / (255 std), so that
 * blank pixels stay 0 and the first layer keeps skipping them, and the rest of
 * the map, x = x' + shift with shift = -mean / std per pixel, is left to a first
 * dense layer, which adds W·shift to its bias (nn/dense.ts). Only a model whose
 * first layer is dense can take folded batches (Model.forward checks).
 */
export class Normalizer {
  private readonly offset: Float32Array; // (D) 255 mean; 0 when folded
  private readonly divisor: Float32Array; // (D) 255 std
  /** (D) what a folded batch leaves out: x = x' + shift; null when not folded. */
  readonly shift: Float32Array | null = null;

  constructor(readonly spec: Normalization, readonly D: number, fold = false) {
    this.offset = allocF32(D);
    this.divisor = allocF32(D);
    for (let j = 0; j < D; j++) {
      this.offset[j] = 255 * (typeof spec.mean === 'number' ? spec.mean : spec.mean[j]);
      this.divisor[j] = 255 * (typeof spec.std === 'number' ? spec.std : spec.std[j]);
    }
    if (fold && spec.mode === 'standardize') {
      const shift = allocF32(D);
      for (let j = 0; j < D; j++) shift[j] = -this.offset[j] / this.divisor[j];
      this.offset.fill(0);
      this.shift = shift;
    }
  }

  /** out[r*D + j] = normalize(images[idx[start + r]*D + j]) (x' when folded) for r < B; then starts loading the `ahead` images after them. */
  gather(images: Uint8Array, idx: Uint32Array, start: number, B: number, out: Float32Array, ahead = 0): void {
    kernels.gather(images, idx, start, B, this.D, this.offset, this.divisor, out, ahead);
  }

  /**
   * out[r*D + j] = normalize(transform_r(images[idx[start + r]]))[j] (x' when folded) for r < B:
   * augmented images, their transforms in params (B, PARAMS) and fields (kernels/augment.ts).
   */
  augment(images: Uint8Array, idx: Uint32Array, start: number, B: number, side: number, params: Float64Array, fields: Float32Array | null, out: Float32Array): void {
    kernels.augment(images, idx, start, B, side, params, fields, this.offset, this.divisor, out);
  }

  /** out[at + j] = normalize(raw[j]) for raw intensities as floats (0..255; the augment kernel's reference). */
  applyFloat(raw: Float32Array, out: Float32Array, at = 0): void {
    for (let j = 0; j < this.D; j++) out[at + j] = Math.fround(raw[j] - this.offset[j]) / this.divisor[j];
  }

  /** Normalizes one raw image (for predict; x' when folded). */
  apply(raw: Uint8Array, out: Float32Array = allocF32(this.D)): Float32Array {
    ts.gather(raw, Uint32Array.of(0), 0, 1, this.D, this.offset, this.divisor, out);
    return out;
  }
}
