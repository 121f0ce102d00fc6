/**
 * A pruned dense layer's weights as the sparse kernel takes them (wasm/sparse.ts): by input row,
 * the blocks of 4 outputs that hold a non-zero weight. Built once for a model loaded to answer
 * (predict, serve), when it pays: measured (npm run bench -- --pruned) on one image at a time, it
 * beats the dense kernel, which already skips zero inputs, only for large layers with most weights 0
 * (784-1024-1024-10: 0.70x the time at 80%, 0.45x at 90%; 784-128-64-10: never, even at 95%),
 * and for batches only at 95% (the dense kernel then loads each weight once for many rows).
 */
import { allocF32, allocU32 } from './memory';
import { linearForward } from './ts';

export const SPARSE_MIN_ZEROS = 0.8;
export const SPARSE_MIN_WEIGHTS = 256 * 1024;

export interface SparseWeights {
  rowptr: Uint32Array; // (In + 1) where input i's blocks start
  blocks: Uint32Array; // the block (output / 4) of each
  vals: Float32Array; // 4 weights each
  In: number;
  Out: number;
  zeros: number; // share of the weights that are 0
}

export function zeroShare(Wt: Float32Array): number {
  let z = 0;
  for (let k = 0; k < Wt.length; k++) if (Wt[k] === 0) z++;
  return Wt.length ? z / Wt.length : 0;
}

/** Wt (In, Out) by input row, in blocks of 4 outputs that hold a non-zero weight (in the shared memory). */
export function toSparse(Wt: Float32Array, In: number, Out: number): SparseWeights {
  const rowptr = allocU32(In + 1);
  const kept: number[] = []; // the blocks, in order: input i's are kept[rowptr[i] .. rowptr[i + 1])
  const block = new Float32Array(4);
  const values: Float32Array[] = [];
  for (let i = 0; i < In; i++) {
    rowptr[i] = kept.length;
    for (let b = 0; 4 * b < Out; b++) {
      block.fill(0);
      block.set(Wt.subarray(i * Out + 4 * b, i * Out + Math.min(Out, 4 * b + 4)));
      if (block.every((v) => v === 0)) continue;
      kept.push(b);
      values.push(block.slice());
    }
  }
  rowptr[In] = kept.length;
  const blocks = allocU32(Math.max(1, kept.length));
  blocks.set(kept);
  const vals = allocF32(Math.max(4, 4 * kept.length));
  vals.fill(0);
  values.forEach((v, p) => vals.set(v, 4 * p));
  return { rowptr, blocks, vals, In, Out, zeros: zeroShare(Wt) };
}

/**
 * The product in plain loops, for runtimes without WebAssembly SIMD (or buffers outside its memory):
 * a shift's term, bias + shift · Wt, through the dense product first, as the WebAssembly backend does.
 */
export function sparseForwardLoops(X: Float32Array, S: SparseWeights, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, relu: boolean, shift: Float32Array | null = null): void {
  if (!shift) return sparseForwardTs(X, S, bias, Y, B, relu);
  const b = new Float32Array(S.Out);
  linearForward(shift, Wt, bias, b, 1, S.In, S.Out, false);
  sparseForwardTs(X, S, b, Y, B, relu);
}

/** The same product in plain loops over the blocks (the tests' reference for the WebAssembly one). */
export function sparseForwardTs(X: Float32Array, S: SparseWeights, bias: Float32Array, Y: Float32Array, B: number, relu: boolean): void {
  const { In, Out, rowptr, blocks, vals } = S;
  const f = Math.fround;
  const acc = new Float32Array(Math.ceil(Out / 4) * 4);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    acc.set(bias.subarray(0, Out));
    for (let i = 0; i < In; i++) {
      const x = X[b * In + i];
      if (x === 0) continue;
      for (let p = rowptr[i]; p < rowptr[i + 1]; p++) for (let l = 0; l < 4; l++) acc[4 * blocks[p] + l] = f(acc[4 * blocks[p] + l] + f(x * vals[4 * p + l]));
    }
    for (let o = 0; o < Out; o++) Y[b * Out + o] = relu && !(acc[o] > 0) ? 0 : acc[o];
  }
}
