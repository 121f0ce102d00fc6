/**
 * Input normalization. Statistics come from the training split only, are
 * stored with the model, and eval/predict apply exactly the same mapping:
 *   x = (raw / 255 - mean) / std
 * The dataset stays as bytes; batches are normalized as they are gathered.
 */
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

/** Turns raw bytes into normalized floats; precomputed so the per-batch cost is one table lookup. */
export class Normalizer {
  private readonly lut: Float32Array | null; // 256 values, for a global mapping
  private readonly scale: Float32Array | null; // (D) 1/(255 std) per pixel
  private readonly shift: Float32Array | null; // (D) mean/std per pixel

  constructor(readonly spec: Normalization, readonly D: number) {
    if (typeof spec.mean === 'number' && typeof spec.std === 'number') {
      this.lut = new Float32Array(256);
      for (let v = 0; v < 256; v++) this.lut[v] = (v / 255 - spec.mean) / spec.std;
      this.scale = this.shift = null;
    } else {
      const mean = spec.mean as number[];
      const std = spec.std as number[];
      this.lut = null;
      this.scale = new Float32Array(D);
      this.shift = new Float32Array(D);
      for (let j = 0; j < D; j++) {
        this.scale[j] = 1 / (255 * std[j]);
        this.shift[j] = mean[j] / std[j];
      }
    }
  }

  /** out[r*D + j] = normalize(images[idx[start + r]*D + j]) for r < B. */
  gather(images: Uint8Array, idx: Uint32Array, start: number, B: number, out: Float32Array): void {
    const D = this.D;
    const lut = this.lut;
    for (let r = 0; r < B; r++) {
      const src = idx[start + r] * D;
      const dst = r * D;
      if (lut) {
        for (let j = 0; j < D; j++) out[dst + j] = lut[images[src + j]];
      } else {
        const sc = this.scale!;
        const sh = this.shift!;
        for (let j = 0; j < D; j++) out[dst + j] = images[src + j] * sc[j] - sh[j];
      }
    }
  }

  /** Normalizes one raw image (for predict). */
  apply(raw: Uint8Array, out: Float32Array = new Float32Array(this.D)): Float32Array {
    this.gather(raw, Uint32Array.of(0), 0, 1, out);
    return out;
  }
}
