/**
 * int8 weights as the kernels take them (wasm/int8.ts has the layout): tiles of 16 outputs, each
 * ceil(In / 2) pairs of inputs, 32 bytes a pair: w(o, 2k), w(o, 2k + 1) for the tile's 16 outputs.
 * Outputs past Out and the input past an odd In are zero, so they add nothing. Also the TypeScript
 * kernel over that layout, for runtimes without WebAssembly SIMD (naive.ts has the reference).
 */
import { allocF32, allocI8 } from './memory';
import { roundHalfEven } from './naive';

export const INT8_TILE = 16;

export interface PackedInt8 {
  data: Int8Array; // in the shared memory
  In: number;
  Out: number;
  In2: number; // pairs of inputs
  OutP: number; // Out rounded up to whole tiles
}

/** W (Out, In) int8, PyTorch's layout, to the kernels' tiles. */
export function packInt8(W: Int8Array, In: number, Out: number): PackedInt8 {
  const In2 = Math.ceil(In / 2);
  const OutP = Math.ceil(Out / INT8_TILE) * INT8_TILE;
  const data = allocI8(OutP * In2 * 2);
  data.fill(0);
  for (let o = 0; o < Out; o++) {
    const tile = Math.floor(o / INT8_TILE) * In2 * 2 * INT8_TILE;
    const lane = (o % INT8_TILE) * 2;
    for (let i = 0; i < In; i++) data[tile + (i >> 1) * 2 * INT8_TILE + lane + (i & 1)] = W[o * In + i];
  }
  return { data, In, Out, In2, OutP };
}

/** A per-output vector (Out) padded with zeros to OutP, in the shared memory. */
export function padOutputs(v: Float32Array, OutP: number): Float32Array {
  const p = allocF32(OutP);
  p.fill(0);
  p.set(v);
  return p;
}

/** Y (B, Out) through packed int8 weights; wscale and bias (OutP); see naive.qlinearForwardNaive for the arithmetic. */
export function qlinearForward(X: Float32Array, W: PackedInt8, wscale: Float32Array, bias: Float32Array, Y: Float32Array, B: number, mode: 0 | 1, relu: boolean): void {
  const f = Math.fround;
  const { In, Out, In2, data } = W;
  const q = new Int32Array(In2 * 2);
  const lo = mode === 0 ? -127 : 0;
  const hi = mode === 0 ? 127 : 255;
  for (let b = 0; b < B; b++) {
    const x = X.subarray(b * In, (b + 1) * In);
    let sx = 1;
    if (mode === 0) {
      let m = 0;
      for (let i = 0; i < In; i++) m = Math.max(m, Math.abs(x[i]));
      sx = Math.max(f(m / 127), f(1e-30));
    }
    for (let i = 0; i < In; i++) {
      const v = roundHalfEven(f(x[i] / sx));
      q[i] = Number.isNaN(v) ? 0 : Math.min(hi, Math.max(lo, v));
    }
    for (let o = 0; o < Out; o++) {
      const tile = Math.floor(o / INT8_TILE) * In2 * 2 * INT8_TILE;
      const lane = (o % INT8_TILE) * 2;
      let s = 0;
      for (let k = 0; k < In2; k++) {
        const at = tile + k * 2 * INT8_TILE + lane;
        s += q[2 * k] * data[at] + q[2 * k + 1] * data[at + 1];
      }
      const y = f(f(f(s) * f(sx * wscale[o])) + bias[o]);
      Y[b * Out + o] = relu && !(y > 0) ? 0 : y;
    }
  }
}
