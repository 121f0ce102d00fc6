/** Loss, accuracy and confusion matrix of a model on a set of samples, in evaluation mode (no dropout). */
import type { Dataset } from '../data/mnist';
import type { Normalizer } from '../data/normalize';
import type { Loss } from '../nn/losses';
import type { Model } from '../nn/model';
import { allocF32, allocU32, allocU8 } from '../kernels/memory';
import { argmaxRow } from './metrics';

export interface Evaluation {
  samples: number;
  loss: number;
  accuracy: number;
  confusion: number[][]; // [true][predicted]
  guesses: Uint8Array; // the predicted digit of each sample, in the order of the indices
}

const EVAL_BATCH = 500;

// Evaluation sets are copied into the shared memory once, so batches gather in WebAssembly.
const MAX_SHARED_INDICES = 1 << 20;
const sharedCopies = new WeakMap<Uint32Array, Uint32Array>();
function sharedIndices(indices: Uint32Array): Uint32Array {
  let s = sharedCopies.get(indices);
  if (!s) {
    s = allocU32(indices.length);
    s.set(indices);
    sharedCopies.set(indices, s);
  }
  return s;
}

// One pair of buffers per input width, reused by every evaluation.
const buffers = new Map<number, { x: Float32Array; labels: Uint8Array }>();
function evalBuffers(D: number): { x: Float32Array; labels: Uint8Array } {
  let b = buffers.get(D);
  if (!b) {
    b = { x: allocF32(EVAL_BATCH * D), labels: allocU8(EVAL_BATCH) };
    buffers.set(D, b);
  }
  return b;
}

export function evaluate(model: Model, loss: Loss, ds: Dataset, indices: Uint32Array, norm: Normalizer): Evaluation {
  const C = model.outDim;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const { x, labels } = evalBuffers(ds.dim);
  const idx = indices.length <= MAX_SHARED_INDICES ? sharedIndices(indices) : indices;
  const guesses = new Uint8Array(indices.length);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += EVAL_BATCH) {
    const B = Math.min(EVAL_BATCH, indices.length - start);
    norm.gather(ds.images, idx, start, B, x);
    for (let r = 0; r < B; r++) labels[r] = ds.labels[indices[start + r]];
    const p = model.forward(x, B, false, norm.shift);
    lossSum += loss.forward(p, labels, B, C) * B;
    for (let r = 0; r < B; r++) {
      const guess = argmaxRow(p, r, C);
      guesses[start + r] = guess;
      confusion[labels[r]][guess]++;
      if (guess === labels[r]) correct++;
    }
  }
  const n = indices.length;
  return { samples: n, loss: n ? lossSum / n : NaN, accuracy: n ? correct / n : NaN, confusion, guesses };
}
