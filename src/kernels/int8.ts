/**
 * int8 weights as the kernels take them (wasm/int8.ts): tiles of 16 outputs, each In inputs of 16
 * bytes, w(o, i) for the tile's outputs o. Outputs past Out are zero, so they add nothing. Also the
 * TypeScript kernel over that layout, for runtimes without WebAssembly SIMD (naive.ts has the reference).
 */
import { allocF32, allocI8 } from './memory';
import { roundHalfEven } from './naive';

export const INT8_TILE = 16;

/**
 * How a row of inputs becomes integers: 0 signed, int8 by its largest magnitude; 1 pixel bytes as
 * they are; 2 unsigned (inputs >= 0, after ReLU), 0..255 by its largest value.
 */
export type QuantMode = 0 | 1 | 2;

export interface PackedInt8 {
  data: Int8Array; // in the shared memory
  In: number;
  Out: number;
  OutP: number; // Out rounded up to whole tiles
}

/** W (Out, In) int8, PyTorch's layout, to the kernels' tiles. */
export function packInt8(W: Int8Array, In: number, Out: number): PackedInt8 {
  const OutP = Math.ceil(Out / INT8_TILE) * INT8_TILE;
  const data = allocI8(OutP * In);
  data.fill(0);
  for (let o = 0; o < Out; o++) {
    const tile = Math.floor(o / INT8_TILE) * In * INT8_TILE;
    for (let i = 0; i < In; i++) data[tile + i * INT8_TILE + (o % INT8_TILE)] = W[o * In + i];
  }
  return { data, In, Out, OutP };
}

/** A per-output vector (Out) padded with zeros to OutP, in the shared memory. */
export function padOutputs(v: Float32Array, OutP: number): Float32Array {
  const p = allocF32(OutP);
  p.fill(0);
  p.set(v);
  return p;
}

/** Y (B, Out) through packed int8 weights; wscale and bias (OutP); see naive.qlinearForwardNaive for the arithmetic. */
export function qlinearForward(X: Float32Array, W: PackedInt8, wscale: Float32Array, bias: Float32Array, Y: Float32Array, B: number, mode: QuantMode, relu: boolean): void {
  const f = Math.fround;
  const { In, Out, data } = W;
  const q = new Int32Array(In);
  const lo = mode === 0 ? -127 : 0;
  const hi = mode === 0 ? 127 : 255;
  for (let b = 0; b < B; b++) {
    const x = X.subarray(b * In, (b + 1) * In);
    let sx = 1;
    if (mode !== 1) {
      let m = 0;
      for (let i = 0; i < In; i++) m = Math.max(m, Math.abs(x[i]));
      sx = Math.max(f(m / (mode === 0 ? 127 : 255)), f(1e-30));
    }
    const inv = mode === 1 ? 1 : f(1 / sx);
    for (let i = 0; i < In; i++) {
      const v = roundHalfEven(f(x[i] * inv));
      q[i] = Number.isNaN(v) ? 0 : Math.min(hi, Math.max(lo, v));
    }
    for (let o = 0; o < Out; o++) {
      const at = Math.floor(o / INT8_TILE) * In * INT8_TILE + (o % INT8_TILE);
      let s = 0;
      for (let i = 0; i < In; i++) s += q[i] * data[at + i * INT8_TILE];
      const y = f(f(f(f(s) * wscale[o]) * sx) + bias[o]);
      Y[b * Out + o] = relu && !(y > 0) ? 0 : y;
    }
  }
}
