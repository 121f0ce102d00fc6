/**
 * Input normalization. Statistics come from the training split only, are
 * stored with the model, and eval/predict apply exactly the same mapping:
 *   x = (raw / 255 - mean) / std
 * The dataset stays as bytes; batches are normalized as they are gathered.
 */
import { kernels } from '../kernels';
import { allocF32 } from '../kernels/memory';
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
  const sum = new Float64Array(D);
  const sumSq = new Float64Array(D);
  for (const i of indices) {
    const off = i * D;
    for (let j = 0; j < D; j++) {
      const v = images[off + j] / 255;
      sum[j] += v;
      sumSq[j] += v * v;
    }
  }
  const n = indices.length;
  if (perPixel) {
    const mean: number[] = [];
    const std: number[] = [];
    for (let j = 0; j < D; j++) {
      const m = sum[j] / n;
      mean.push(m);
      std.push(Math.max(MIN_STD, Math.sqrt(Math.max(0, sumSq[j] / n - m * m))));
    }
    return { mode, mean, std };
  }
  let s = 0;
  let ss = 0;
  for (let j = 0; j < D; j++) {
    s += sum[j];
    ss += sumSq[j];
  }
  const m = s / (n * D);
  return { mode, mean: m, std: Math.max(MIN_STD, Math.sqrt(Math.max(0, ss / (n * D) - m * m))) };
}

/**
 * Turns raw bytes into normalized floats as one affine map per pixel,
 * x = (raw - 255 mean) / (255 std), so a batch is one pass of the gather
 * kernel whatever the mode (and scale mode maps 0..255 exactly onto 0..1).
 */
export class Normalizer {
  private readonly offset: Float32Array; // (D) 255 mean
  private readonly divisor: Float32Array; // (D) 255 std

  constructor(readonly spec: Normalization, readonly D: number) {
    this.offset = allocF32(D);
    this.divisor = allocF32(D);
    for (let j = 0; j < D; j++) {
      this.offset[j] = 255 * (typeof spec.mean === 'number' ? spec.mean : spec.mean[j]);
      this.divisor[j] = 255 * (typeof spec.std === 'number' ? spec.std : spec.std[j]);
    }
  }

  /** out[r*D + j] = normalize(images[idx[start + r]*D + j]) for r < B; then starts loading the `ahead` images after them. */
  gather(images: Uint8Array, idx: Uint32Array, start: number, B: number, out: Float32Array, ahead = 0): void {
    kernels.gather(images, idx, start, B, this.D, this.offset, this.divisor, out, ahead);
  }

  /** out[at + j] = normalize(raw[j]) for raw intensities as floats (0..255; augmented images). */
  applyFloat(raw: Float32Array, out: Float32Array, at = 0): void {
    for (let j = 0; j < this.D; j++) out[at + j] = Math.fround(raw[j] - this.offset[j]) / this.divisor[j];
  }

  /** Normalizes one raw image (for predict). */
  apply(raw: Uint8Array, out: Float32Array = allocF32(this.D)): Float32Array {
    ts.gather(raw, Uint32Array.of(0), 0, 1, this.D, this.offset, this.divisor, out);
    return out;
  }
}
