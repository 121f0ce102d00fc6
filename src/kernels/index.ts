/**
 * The kernel backend, picked once at start-up: 'wasm' (WebAssembly SIMD) when
 * the module is built and the runtime has SIMD, else 'ts'. 'naive' is the
 * reference every other backend is tested against. `--backend` forces one.
 */
import { augment } from './augment';
import { qlinearForward, type PackedInt8, type QuantMode } from './int8';
import { sparseForwardLoops } from './sparse';
import type { SparseWeights } from './sparse';
import * as naive from './naive';
import * as ts from './ts';
import { defaultThreads, setThreads, threadCount } from './threads';
import { instantiate, wasmKernels, wasmPath } from './wasm';

export interface Kernels {
  name: string;
  /**
   * Y (B, Out) = X (B, In) · Wt (In, Out) + bias, then ReLU when `relu`.
   * With a shift (In), for inputs X + shift in every row: Y = X · Wt + (bias + shift · Wt), so X keeps its zeros.
   */
  linearForward(X: Float32Array, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number, relu: boolean, shift?: Float32Array | null): void;
  /**
   * Y (B, Out) = act(sx_b · sw · (q_b · Wᵀ) + bias): int8 weights W packed (int8.ts), each row of X
   * quantized on its own (QuantMode: signed int8, pixel bytes as they are, or unsigned), exact integer sums
   * (naive.qlinearForwardNaive is the reference). wscale and bias are padded to W.OutP.
   */
  qlinearForward(X: Float32Array, W: PackedInt8, wscale: Float32Array, bias: Float32Array, Y: Float32Array, B: number, mode: QuantMode, relu: boolean): void;
  /**
   * linearForward over a pruned layer's non-zero weights only (kernels/sparse.ts), for one image at a
   * time; Wt is the same weights dense (for a shift's term). Equal to linearForward up to the order of
   * its sums (float32 rounding).
   */
  sparseForward(X: Float32Array, S: SparseWeights, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, relu: boolean, shift?: Float32Array | null): void;
  /** dX (B, In) = dY (B, Out) · Wtᵀ */
  linearBackwardInput(dY: Float32Array, Wt: Float32Array, dX: Float32Array, B: number, In: number, Out: number): void;
  /**
   * dWt (In, Out) = Xᵀ · dY; db (Out) = Σ_b dY, overwriting: a backward pass sets its gradients, so no zeroing pass is needed.
   * With a shift (In), the gradients for inputs X + shift in every row: dWt = Xᵀ · dY + shift ⊗ db.
   */
  linearBackwardWeight(dY: Float32Array, X: Float32Array, dWt: Float32Array, db: Float32Array, B: number, In: number, Out: number, shift?: Float32Array | null): void;
  /**
   * out (B, D) = (images[idx[start + r]] - offset) / divisor, per pixel, in f32 (a batch, normalized);
   * then starts loading the `ahead` images after it from memory (the next batch), where a backend can.
   */
  gather(images: Uint8Array, idx: Uint32Array, start: number, B: number, D: number, offset: Float32Array, divisor: Float32Array, out: Float32Array, ahead?: number): void;
  /**
   * out (B, D = side²) = (transform_r(images[idx[start + r]]) - offset) / divisor, per pixel: augmented images,
   * each through the transform in its row of params (B, PARAMS), elastic fields from the bank `fields` (augment.ts).
   */
  augment(images: Uint8Array, idx: Uint32Array, start: number, B: number, side: number, params: Float64Array, fields: Float32Array | null, offset: Float32Array, divisor: Float32Array, out: Float32Array): void;
  /** Inverted dropout: draws masks from a 4-lane xoshiro128** state (Rng4's 16 words), y = x * mask (see ts.ts) */
  dropoutMask(state: Uint32Array, x: Float32Array, mask: Float32Array, y: Float32Array, n: number, keep: number, scale: number): void;
  /** g = a > 0 ? g : 0 */
  /** sum[j] += x_j and sumSq[j] += x_j² over the images idx[start .. start + count) of D bytes (u32 counters: flush before 66,000 images) */
  pixelSums(images: Uint8Array, idx: Uint32Array, start: number, count: number, D: number, sum: Uint32Array, sumSq: Uint32Array): void;
  reluBackward(a: Float32Array, g: Float32Array, n: number): void;
  /** g = g * mask */
  mulInPlace(g: Float32Array, mask: Float32Array, n: number): void;
  /** z = f(z) in place over n values, and g = g * f'(z) from the output a (nn/activations.ts has the formulas) */
  leakyReluForward(z: Float32Array, n: number, alpha: number): void;
  leakyReluBackward(a: Float32Array, g: Float32Array, n: number, alpha: number): void;
  eluForward(z: Float32Array, n: number, alpha: number): void;
  eluBackward(a: Float32Array, g: Float32Array, n: number, alpha: number): void;
  sigmoidForward(z: Float32Array, n: number): void;
  sigmoidBackward(a: Float32Array, g: Float32Array, n: number): void;
  tanhForward(z: Float32Array, n: number): void;
  tanhBackward(a: Float32Array, g: Float32Array, n: number): void;
  /** Batch normalization (nn/batchnorm.ts; naive.ts has the reference): training forward, evaluation forward, backward (dy becomes dx in place when needDx). Shapes (B, N), per-feature vectors (N). */
  batchnormTrain(x: Float32Array, y: Float32Array, xh: Float32Array, inv: Float32Array, g: Float32Array, b: Float32Array, rm: Float32Array, rv: Float32Array, B: number, N: number, momentum: number, eps: number): void;
  batchnormEval(x: Float32Array, y: Float32Array, g: Float32Array, b: Float32Array, rm: Float32Array, rv: Float32Array, B: number, N: number, eps: number): void;
  batchnormBackward(dy: Float32Array, xh: Float32Array, inv: Float32Array, g: Float32Array, dg: Float32Array, db: Float32Array, B: number, N: number, needDx: boolean): void;
  /** One SGD step: momentum mu with velocity v (null when mu = 0), Nesterov or not. */
  sgd(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, mu: number, nesterov: boolean): void;
  /** One RMSprop step with running square average s. */
  rmsprop(p: Float32Array, g: Float32Array, s: Float32Array, lr: number, rho: number, eps: number): void;
  /** One AdaGrad step with sum of squares s. */
  adagrad(p: Float32Array, g: Float32Array, s: Float32Array, lr: number, eps: number): void;
  /** One Adam step over flat arrays; c1, c2 are the bias corrections 1/(1 - β^t); decay multiplies p first (AdamW: 1 - lr·weightDecay). */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, decay?: number): void;
}

export const BACKEND_NAMES = ['wasm', 'ts', 'naive'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

// Kernels with no faster TypeScript form serve both TypeScript backends.
const plainLoops = {
  sparseForward: sparseForwardLoops,
  batchnormTrain: naive.batchnormTrainNaive,
  batchnormEval: naive.batchnormEvalNaive,
  batchnormBackward: naive.batchnormBackwardNaive,
  dropoutMask: ts.dropoutMask,
  sgd: ts.sgd,
  rmsprop: ts.rmsprop,
  adagrad: ts.adagrad,
  gather: ts.gather,
  pixelSums: ts.pixelSums,
  augment,
  qlinearForward,
  reluBackward: ts.reluBackward,
  mulInPlace: ts.mulInPlace,
  leakyReluForward: ts.leakyReluForward,
  leakyReluBackward: ts.leakyReluBackward,
  eluForward: ts.eluForward,
  eluBackward: ts.eluBackward,
  sigmoidForward: ts.sigmoidForward,
  sigmoidBackward: ts.sigmoidBackward,
  tanhForward: ts.tanhForward,
  tanhBackward: ts.tanhBackward,
};

const builtin: Record<'ts' | 'naive', Kernels> = {
  naive: {
    ...plainLoops,
    name: 'naive',
    linearForward: naive.linearForwardNaive,
    linearBackwardInput: naive.linearBackwardInputNaive,
    linearBackwardWeight: naive.linearBackwardWeightNaive,
    adam: naive.adamNaive,
  },
  ts: {
    ...plainLoops,
    name: 'ts',
    linearForward: ts.linearForward,
    linearBackwardInput: ts.linearBackwardInput,
    linearBackwardWeight: ts.linearBackwardWeight,
    adam: ts.adam,
  },
};

let wasmLoad: { kernels: Kernels | null; reason: string } | undefined;

/** The WebAssembly backend, or null with the reason it cannot run here (tried once). */
export function loadWasm(): { kernels: Kernels | null; reason: string } {
  if (wasmLoad) return wasmLoad;
  const file = wasmPath();
  if (!file) return (wasmLoad = { kernels: null, reason: 'dist/kernels/kernels.wasm is not built (run npm ci)' });
  try {
    wasmLoad = { kernels: wasmKernels(instantiate(file)), reason: '' };
  } catch (e) {
    wasmLoad = { kernels: null, reason: `WebAssembly SIMD is not available here (${(e as Error).message})` };
  }
  return wasmLoad;
}

function best(): Kernels {
  return loadWasm().kernels ?? builtin.ts;
}

export let kernels: Kernels = best();

/** Forces a backend; throws with the reason when it cannot run here. */
export function useBackend(name: BackendName): Kernels {
  if (name === 'wasm') {
    const { kernels: k, reason } = loadWasm();
    if (!k) throw new Error(`backend wasm: ${reason}`);
    kernels = k;
  } else {
    kernels = builtin[name];
  }
  return kernels;
}

/**
 * Start-up choice for a command: the backend (default: the best available) and,
 * for wasm, how many threads split the large products (default: all cores).
 */
export function configureKernels(opts: { backend?: BackendName; threads?: number }): { backend: string; threads: number } {
  if (opts.backend) useBackend(opts.backend);
  const threads = opts.threads ?? defaultThreads();
  const file = wasmPath();
  if (kernels.name === 'wasm' && file) setThreads(threads, file);
  else setThreads(1, '');
  return { backend: kernels.name, threads: threadCount() };
}
