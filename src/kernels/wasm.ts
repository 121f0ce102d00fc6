/**
 * The WebAssembly SIMD backend: kernels.wasm (compiled from
 * src/kernels/wasm/kernels.ts during install) over the shared memory, taking
 * buffers by address, with large products split across the worker threads.
 * A buffer outside the shared memory (tests, one-off callers) goes to the
 * TypeScript kernel instead.
 */
import type { Kernels } from './index';
import { OP_ADAM, OP_BACKWARD_INPUT, OP_BACKWARD_WEIGHT, OP_FORWARD, OP_FORWARD_HALVES, OP_GATHER, OP_QLINEAR, part } from './jobs';
import { qlinearForward as qlinearTs } from './int8';
import { sparseForwardLoops } from './sparse';
import { augment as augmentTs } from './augment';
import { allocF32, allocU32, allocU8, inMemory, memory } from './memory';
import { runJob } from './threads';
import * as naive from './naive';
import * as ts from './ts';
import { builtFile, instantiateOver, MAX_ROWS, SCRATCH_BYTES, type KernelExports } from './wasm-module';

export const WASM_FILE = 'kernels.wasm';

export function wasmPath(): string | null {
  return builtFile(WASM_FILE);
}

export function instantiate(file: string): KernelExports {
  return instantiateOver(file, memory, allocU8(SCRATCH_BYTES).byteOffset);
}

const all = (...a: ArrayBufferView[]) => a.every(inMemory);

// Whether the memory holds a byte after the view (it only grows: once true, true for good).
let memoryBytes = 0;
function byteAfter(a: ArrayBufferView): boolean {
  const end = a.byteOffset + a.byteLength + 1;
  if (end > memoryBytes) memoryBytes = memory.buffer.byteLength;
  return end <= memoryBytes;
}

// Partial sums of a forward pass split by inputs (grown as needed, kept for reuse).
let partial: Float32Array | null = null;
function partialSums(n: number): Float32Array {
  if (!partial || partial.length < n) partial = allocF32(n);
  return partial;
}
const fits = (B: number, In: number) => B <= MAX_ROWS && In <= MAX_ROWS;

// bias + shift · Wt (Out), on this thread, in a buffer grown as needed and kept for reuse
let shifted: Float32Array | null = null;
function shiftedBias(w: KernelExports, shift: Float32Array, Wt: Float32Array, bias: Float32Array, In: number, Out: number): Float32Array {
  if (!shifted || shifted.length < Out) shifted = allocF32(Out);
  w.linear_forward(shift.byteOffset, Wt.byteOffset, bias.byteOffset, shifted.byteOffset, In, Out, 0, 1, 0, 0, In);
  return shifted.subarray(0, Out);
}

// The sparse kernel's accumulator row (Out rounded up to whole blocks of 4), grown as needed.
let sparseAcc: Float32Array | null = null;

// The int8 layers' lists of non-zero input pairs (wasm/int8.ts), counts and row scales, grown as needed.
let qlists: Uint8Array | null = null;
let qrows: Uint32Array | null = null;
export function quantStride(In: number): number {
  return Math.ceil(((In + 4) * 6) / 16) * 16; // In + 4 offsets (u32) and values (i16): room for the 4-wide stores
}
let lut: Uint8Array | null = null;
/** lut[16 m + 4 k + b] = byte b of the k-th i32 lane set in mask m, 0x80 (zero) past them (read by every thread). */
export function laneLut(): number {
  if (!lut) {
    lut = allocU8(256);
    lut.fill(0x80);
    for (let m = 0; m < 16; m++) {
      let k = 0;
      for (let j = 0; j < 4; j++) if (m & (1 << j)) for (let b = 0, kk = k++; b < 4; b++) lut[16 * m + 4 * kk + b] = 4 * j + b;
    }
  }
  return lut.byteOffset;
}
function quantScratch(B: number, In: number): { lists: number; stride: number; counts: number; scales: number } {
  const stride = quantStride(In);
  if (!qlists || qlists.length < B * stride) qlists = allocU8(B * stride);
  if (!qrows || qrows.length < 2 * B) qrows = allocU32(2 * B);
  return { lists: qlists.byteOffset, stride, counts: qrows.byteOffset, scales: qrows.byteOffset + 4 * B };
}

export function wasmKernels(w: KernelExports): Kernels {
  return {
    name: 'wasm',
    linearForward(X, Wt, bias, Y, B, In, Out, relu, shift = null) {
      if (!all(X, Wt, bias, Y) || !fits(B, In) || (shift && !inMemory(shift))) return ts.linearForward(X, Wt, bias, Y, B, In, Out, relu, shift);
      if (In < 4 * B) {
        if (shift) bias = shiftedBias(w, shift, Wt, bias, In, Out); // the batch outweighs W: one more row, first
        runJob(w, OP_FORWARD, [X.byteOffset, Wt.byteOffset, bias.byteOffset, Y.byteOffset, In, Out, B, relu ? 1 : 0], B * In * Out, B);
        return;
      }
      // W outweighs the batch: sum the inputs in two fixed halves, about one per thread, so
      // that each thread reads mostly its half of W, the half whose gradients it computes and
      // updates (jobs.ts); then Y = act(Y + P). The halves are the same whatever the thread
      // count, so the results are too. A shift's product over each half goes with the first
      // and the last row (to the threads of those halves), into E (2, Out): Y = act(Y + P + (E0 + E1)).
      const P = partialSums(B * Out + 2 * Out);
      const E = P.byteOffset + B * Out * 4;
      const k = part(In, 1, 2)[0];
      runJob(w, OP_FORWARD_HALVES, [X.byteOffset, Wt.byteOffset, bias.byteOffset, Y.byteOffset, In, Out, B, P.byteOffset, k, shift ? shift.byteOffset : 0, E], B * In * Out, 2 * B);
      if (shift) w.add_act_shift(Y.byteOffset, P.byteOffset, E, B, Out, relu ? 1 : 0);
      else w.add_act(Y.byteOffset, P.byteOffset, B * Out, relu ? 1 : 0);
    },
    qlinearForward(X, W, wscale, bias, Y, B, mode, relu) {
      if (!all(X, W.data, wscale, bias, Y) || W.In > MAX_ROWS) return qlinearTs(X, W, wscale, bias, Y, B, mode, relu);
      const q = quantScratch(B, W.In);
      runJob(w, OP_QLINEAR, [X.byteOffset, W.In, q.lists, q.stride, q.counts, q.scales, mode, W.data.byteOffset, W.In, W.OutP, wscale.byteOffset, bias.byteOffset, Y.byteOffset, W.Out, relu ? 1 : 0, laneLut()], (B * W.In * W.Out) / 4, B);
    },
    sparseForward(X, S, Wt, bias, Y, B, relu, shift = null) {
      const { In, Out } = S;
      if (!all(X, S.rowptr, S.blocks, S.vals, bias, Y, Wt) || (shift && !inMemory(shift))) return sparseForwardLoops(X, S, Wt, bias, Y, B, relu, shift);
      if (shift) bias = shiftedBias(w, shift, Wt, bias, In, Out);
      if (!sparseAcc || sparseAcc.length < Out + 4) sparseAcc = allocF32(Out + 4);
      w.sparse_forward(X.byteOffset, S.rowptr.byteOffset, S.blocks.byteOffset, S.vals.byteOffset, bias.byteOffset, Y.byteOffset, In, Out, sparseAcc.byteOffset, 0, B, relu ? 1 : 0);
    },
    linearBackwardInput(dY, Wt, dX, B, In, Out) {
      if (!all(dY, Wt, dX)) return ts.linearBackwardInput(dY, Wt, dX, B, In, Out);
      runJob(w, OP_BACKWARD_INPUT, [dY.byteOffset, Wt.byteOffset, dX.byteOffset, In, Out, B], B * In * Out, B);
    },
    linearBackwardWeight(dY, X, dWt, db, B, In, Out, shift = null) {
      if (!all(dY, X, dWt, db) || !fits(B, In) || (shift && !inMemory(shift))) return ts.linearBackwardWeight(dY, X, dWt, db, B, In, Out, shift);
      w.bias_grad(dY.byteOffset, db.byteOffset, B, Out); // first: a shift's term needs db
      runJob(w, OP_BACKWARD_WEIGHT, [dY.byteOffset, X.byteOffset, dWt.byteOffset, B, In, Out, shift ? shift.byteOffset : 0, db.byteOffset], B * In * Out, In);
    },
    gather(images, idx, start, B, D, scale, shift, out, ahead = 0) {
      if (!all(images, idx, scale, shift, out)) return ts.gather(images, idx, start, B, D, scale, shift, out);
      runJob(w, OP_GATHER, [images.byteOffset, idx.byteOffset, start, B, D, scale.byteOffset, shift.byteOffset, out.byteOffset, ahead], 64 * B * D, D);
    },
    augment(images, idx, start, B, side, params, fields, offset, divisor, out) {
      // the kernel takes 4 pixels of a row at a time, and reads up to 1 byte past the images
      if (!all(images, idx, params, offset, divisor, out) || (fields && !inMemory(fields)) || side % 4 !== 0 || !byteAfter(images)) {
        return augmentTs(images, idx, start, B, side, params, fields, offset, divisor, out);
      }
      // on this thread: split by pixels across the threads (each computes its own part; the
      // results are the same) it measured no faster in training (0.27 ms a batch of 128 here)
      w.augment(images.byteOffset, idx.byteOffset, start, B, side, params.byteOffset, fields ? fields.byteOffset : 0, offset.byteOffset, divisor.byteOffset, out.byteOffset, 0, side * side);
    },
    dropoutMask(state, x, mask, y, n, keep, scale) {
      if (!all(state, x, mask, y)) return ts.dropoutMask(state, x, mask, y, n, keep, scale);
      w.dropout_mask(state.byteOffset, x.byteOffset, mask.byteOffset, y.byteOffset, n, ts.keepLimit(keep), Math.fround(scale));
    },
    pixelSums(images, idx, start, count, D, sum, sumSq) {
      if (!all(images, idx, sum, sumSq)) return ts.pixelSums(images, idx, start, count, D, sum, sumSq);
      w.pixel_sums(images.byteOffset, idx.byteOffset, start, count, D, sum.byteOffset, sumSq.byteOffset);
    },
    reluBackward(a, g, n) {
      if (!all(a, g)) return ts.reluBackward(a, g, n);
      w.relu_backward(a.byteOffset, g.byteOffset, n);
    },
    mulInPlace(g, mask, n) {
      if (!all(g, mask)) return ts.mulInPlace(g, mask, n);
      w.mul_inplace(g.byteOffset, mask.byteOffset, n);
    },
    leakyReluForward(z, n, alpha) {
      if (!all(z)) return ts.leakyReluForward(z, n, alpha);
      w.leaky_relu_forward(z.byteOffset, n, alpha);
    },
    leakyReluBackward(a, g, n, alpha) {
      if (!all(a, g)) return ts.leakyReluBackward(a, g, n, alpha);
      w.leaky_relu_backward(a.byteOffset, g.byteOffset, n, alpha);
    },
    eluForward(z, n, alpha) {
      if (!all(z)) return ts.eluForward(z, n, alpha);
      w.elu_forward(z.byteOffset, n, alpha);
    },
    eluBackward(a, g, n, alpha) {
      if (!all(a, g)) return ts.eluBackward(a, g, n, alpha);
      w.elu_backward(a.byteOffset, g.byteOffset, n, alpha);
    },
    sigmoidForward(z, n) {
      if (!all(z)) return ts.sigmoidForward(z, n);
      w.sigmoid_forward(z.byteOffset, n);
    },
    sigmoidBackward(a, g, n) {
      if (!all(a, g)) return ts.sigmoidBackward(a, g, n);
      w.sigmoid_backward(a.byteOffset, g.byteOffset, n);
    },
    tanhForward(z, n) {
      if (!all(z)) return ts.tanhForward(z, n);
      w.tanh_forward(z.byteOffset, n);
    },
    tanhBackward(a, g, n) {
      if (!all(a, g)) return ts.tanhBackward(a, g, n);
      w.tanh_backward(a.byteOffset, g.byteOffset, n);
    },
    batchnormTrain(x, y, xh, inv, g, b, rm, rv, B, N, momentum, eps) {
      if (!all(x, y, xh, inv, g, b, rm, rv)) return naive.batchnormTrainNaive(x, y, xh, inv, g, b, rm, rv, B, N, momentum, eps);
      w.batchnorm_train(x.byteOffset, y.byteOffset, xh.byteOffset, inv.byteOffset, g.byteOffset, b.byteOffset, rm.byteOffset, rv.byteOffset, B, N, momentum, eps);
    },
    batchnormEval(x, y, g, b, rm, rv, B, N, eps) {
      if (!all(x, y, g, b, rm, rv)) return naive.batchnormEvalNaive(x, y, g, b, rm, rv, B, N, eps);
      w.batchnorm_eval(x.byteOffset, y.byteOffset, g.byteOffset, b.byteOffset, rm.byteOffset, rv.byteOffset, B, N, eps);
    },
    batchnormBackward(dy, xh, inv, g, dg, db, B, N, needDx) {
      if (!all(dy, xh, inv, g, dg, db)) return naive.batchnormBackwardNaive(dy, xh, inv, g, dg, db, B, N, needDx);
      w.batchnorm_backward(dy.byteOffset, xh.byteOffset, inv.byteOffset, g.byteOffset, dg.byteOffset, db.byteOffset, B, N, needDx ? 1 : 0);
    },
    sgd(p, g, v, lr, mu, nesterov) {
      if (!all(p, g) || (v && !inMemory(v))) return ts.sgd(p, g, v, lr, mu, nesterov);
      w.sgd(p.byteOffset, g.byteOffset, v ? v.byteOffset : 0, p.length, lr, v ? mu : 0, nesterov ? 1 : 0);
    },
    rmsprop(p, g, s, lr, rho, eps) {
      if (!all(p, g, s)) return ts.rmsprop(p, g, s, lr, rho, eps);
      w.rmsprop(p.byteOffset, g.byteOffset, s.byteOffset, p.length, lr, rho, eps);
    },
    adagrad(p, g, s, lr, eps) {
      if (!all(p, g, s)) return ts.adagrad(p, g, s, lr, eps);
      w.adagrad(p.byteOffset, g.byteOffset, s.byteOffset, p.length, lr, eps);
    },
    adam(p, g, m, v, lr, b1, b2, eps, c1, c2, decay = 1) {
      if (!all(p, g, m, v)) return ts.adam(p, g, m, v, lr, b1, b2, eps, c1, c2, decay);
      // split like the weight gradients, so each thread updates about the rows whose gradients it computed
      runJob(w, OP_ADAM, [p.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, p.length], 16 * p.length, p.length, [lr, b1, b2, eps, c1, c2, decay]);
    },
  };
}
