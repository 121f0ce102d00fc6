/**
 * The WebAssembly SIMD backend: loads dist/kernels/kernels.wasm (compiled from
 * src/kernels/wasm/kernels.ts during install) over the shared memory, and
 * passes buffers by address. A buffer outside the shared memory (rare: tests,
 * one-off callers) goes to the TypeScript kernel instead, so results never
 * depend on where a caller allocated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernels } from './index';
import { inMemory, memory } from './memory';
import * as ts from './ts';

interface Exports {
  linear_forward(X: number, Wt: number, bias: number, Y: number, In: number, Out: number, r0: number, r1: number, act: number): void;
  linear_backward_weight(dY: number, X: number, dWt: number, B: number, In: number, Out: number, i0: number, i1: number): void;
  linear_backward_input(dY: number, Wt: number, dX: number, In: number, Out: number, r0: number, r1: number): void;
  bias_grad(dY: number, db: number, B: number, Out: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number): void;
}

export const WASM_FILE = 'kernels.wasm';

/** Where the compiled module is: beside this file in dist/, or in dist/ when running from src/ (tests). */
export function wasmPath(): string | null {
  for (const p of [path.join(__dirname, WASM_FILE), path.join(__dirname, '..', '..', 'dist', 'kernels', WASM_FILE)]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export function instantiate(file: string): Exports {
  const module = new WebAssembly.Module(fs.readFileSync(file));
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('kernels.wasm aborted');
      },
    },
  });
  return instance.exports as unknown as Exports;
}

const all = (...a: ArrayBufferView[]) => a.every(inMemory);

export function wasmKernels(w: Exports): Kernels {
  return {
    name: 'wasm',
    linearForward(X, Wt, bias, Y, B, In, Out, relu) {
      if (!all(X, Wt, bias, Y)) return ts.linearForward(X, Wt, bias, Y, B, In, Out, relu);
      w.linear_forward(X.byteOffset, Wt.byteOffset, bias.byteOffset, Y.byteOffset, In, Out, 0, B, relu ? 1 : 0);
    },
    linearBackwardInput(dY, Wt, dX, B, In, Out) {
      if (!all(dY, Wt, dX)) return ts.linearBackwardInput(dY, Wt, dX, B, In, Out);
      w.linear_backward_input(dY.byteOffset, Wt.byteOffset, dX.byteOffset, In, Out, 0, B);
    },
    linearBackwardWeight(dY, X, dWt, db, B, In, Out) {
      if (!all(dY, X, dWt, db)) return ts.linearBackwardWeight(dY, X, dWt, db, B, In, Out);
      w.linear_backward_weight(dY.byteOffset, X.byteOffset, dWt.byteOffset, B, In, Out, 0, In);
      w.bias_grad(dY.byteOffset, db.byteOffset, B, Out);
    },
    adam(p, g, m, v, lr, b1, b2, eps, c1, c2) {
      if (!all(p, g, m, v)) return ts.adam(p, g, m, v, lr, b1, b2, eps, c1, c2);
      w.adam(p.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, p.length, lr, b1, b2, eps, c1, c2);
    },
  };
}
