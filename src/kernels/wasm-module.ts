/**
 * Loading kernels.wasm over a given shared memory. Kept apart from memory.ts
 * so that worker threads can load it over the main thread's memory without
 * creating one of their own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KernelExports {
  linear_forward(X: number, Wt: number, bias: number, Y: number, In: number, Out: number, r0: number, r1: number, act: number, i0: number, i1: number): void;
  add_act(Y: number, P: number, n: number, act: number): void;
  linear_backward_weight(dY: number, X: number, dWt: number, B: number, In: number, Out: number, i0: number, i1: number, shift: number, db: number): void;
  linear_backward_input(dY: number, Wt: number, dX: number, In: number, Out: number, r0: number, r1: number): void;
  bias_grad(dY: number, db: number, B: number, Out: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, decay: number): void;
  set_scratch(p: number, bytes: number): void;
  dropout_mask(state: number, x: number, mask: number, y: number, n: number, keepLimit: number, scale: number): void;
  sgd(p: number, g: number, v: number, n: number, lr: number, mu: number, nesterov: number): void;
  rmsprop(p: number, g: number, s: number, n: number, lr: number, rho: number, eps: number): void;
  adagrad(p: number, g: number, s: number, n: number, lr: number, eps: number): void;
  gather(images: number, idx: number, start: number, B: number, D: number, offset: number, divisor: number, out: number, j0: number, j1: number, ahead: number): void;
  relu_backward(a: number, g: number, n: number): void;
  mul_inplace(g: number, mask: number, n: number): void;
  pixel_sums(images: number, idx: number, start: number, count: number, D: number, sum: number, sumSq: number): void;
  leaky_relu_forward(z: number, n: number, alpha: number): void;
  leaky_relu_backward(a: number, g: number, n: number, alpha: number): void;
  elu_forward(z: number, n: number, alpha: number): void;
  elu_backward(a: number, g: number, n: number, alpha: number): void;
  sigmoid_forward(z: number, n: number): void;
  sigmoid_backward(a: number, g: number, n: number): void;
  tanh_forward(z: number, n: number): void;
  tanh_backward(a: number, g: number, n: number): void;
  add_act_shift(Y: number, P: number, E: number, B: number, Out: number, act: number): void;
  batchnorm_train(x: number, y: number, xh: number, inv: number, g: number, b: number, rm: number, rv: number, B: number, N: number, momentum: number, eps: number): void;
  batchnorm_eval(x: number, y: number, g: number, b: number, rm: number, rv: number, B: number, N: number, eps: number): void;
  batchnorm_backward(dy: number, xh: number, inv: number, g: number, dg: number, db: number, B: number, N: number, needDx: number): void;
  augment(images: number, idx: number, start: number, B: number, side: number, params: number, fields: number, offset: number, divisor: number, out: number, j0: number, j1: number): void;
  sparse_forward(X: number, rowptr: number, blocks: number, vals: number, bias: number, Y: number, In: number, Out: number, acc: number, r0: number, r1: number, act: number): void;
  quantize_rows(X: number, In: number, lists: number, stride: number, counts: number, scales: number, r0: number, r1: number, mode: number, lut: number): void;
  qlinear(lists: number, stride: number, counts: number, scales: number, W: number, In: number, OutP: number, wscale: number, bias: number, Y: number, Out: number, r0: number, r1: number, act: number): void;
}

/**
 * Bytes of scratch each instance needs: a shuffle table, then the kernels' lists and copied slabs (kernels.ts),
 * at least one list of MAX_ROWS pairs (16 bytes each) for a weight gradient over a batch of MAX_ROWS.
 */
export const SCRATCH_BYTES = 5 * 4 * 65536;
/** Products with In or B above this run on the TypeScript kernels (their lists would not fit). */
export const MAX_ROWS = 65536;

/** A file built beside the compiled code: dist/kernels/<name>, also when running from src/ (tests). */
export function builtFile(name: string): string | null {
  for (const p of [path.join(__dirname, name), path.join(__dirname, '..', '..', 'dist', 'kernels', name)]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

const modules = new Map<string, WebAssembly.Module>();
/**
 * The compiled module for a file, once per thread. Workers get this same object (it
 * crosses threads without recompiling), so they share the code V8 optimizes as it runs
 * instead of each starting again from the baseline compiler's.
 */
export function compiled(file: string): WebAssembly.Module {
  let m = modules.get(file);
  if (!m) modules.set(file, (m = new WebAssembly.Module(fs.readFileSync(file))));
  return m;
}

/** An instance over `memory`, with its own scratch area at `scratch` (SCRATCH_BYTES long). */
export function instantiateOver(file: string | WebAssembly.Module, memory: WebAssembly.Memory, scratch: number): KernelExports {
  const module = typeof file === 'string' ? compiled(file) : file;
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('kernels.wasm aborted');
      },
    },
  });
  const w = instance.exports as unknown as KernelExports;
  w.set_scratch(scratch, SCRATCH_BYTES);
  return w;
}
