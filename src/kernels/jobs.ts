/**
 * The work a product is split into, shared by the main thread and the
 * workers: a control block in the shared memory says which kernel, its
 * arguments, and how many threads take part; thread t (the main thread is 0)
 * computes part t of the rows. Parts are fixed, not claimed: the same thread
 * then always touches the same rows of the same weights, gradients and
 * optimizer state, which stay in its core's cache instead of crossing between
 * cores every step (claiming chunks cost more in those transfers than it saved
 * in balance: measured). Parts' outputs are disjoint and every element is
 * computed the same way whatever the split, so results do not depend on the
 * scheduling.
 */
import type { KernelExports } from './wasm-module';

export const OP_FORWARD = 1;
export const OP_BACKWARD_INPUT = 2;
export const OP_BACKWARD_WEIGHT = 3;
export const OP_ADAM = 4;
export const OP_GATHER = 5;
export const OP_FORWARD_HALVES = 6;
export const OP_EXIT = 99;

// Int32 slots of the control block.
export const GEN = 0; // bumped for each job; workers wait on it
export const DONE = 1; // workers that finished the current job
export const OP = 2;
export const PARTS = 3; // threads taking part in the job (thread t < PARTS does part t)
export const ARGS = 6; // integer arguments from here
export const FARGS = 24; // float arguments (as Float32) from here
export const CTRL_INTS = 32;

/** Rows [start, end) of `rows` for thread `index` of `count`, aligned to the kernels' 4-row tiles. */
export function part(rows: number, index: number, count: number): [number, number] {
  const chunk = Math.ceil(rows / count / 4) * 4;
  return [Math.min(rows, index * chunk), Math.min(rows, (index + 1) * chunk)];
}

/** Thread `index`'s part of the job described in the control block (nothing if it takes no part). */
export function runPart(w: KernelExports, ctrl: Int32Array, f: Float32Array, index: number): void {
  const count = ctrl[PARTS];
  if (index >= count) return;
  const a = (k: number) => ctrl[ARGS + k];
  switch (ctrl[OP]) {
    case OP_FORWARD: {
      const [r0, r1] = part(a(6), index, count);
      if (r0 < r1) w.linear_forward(a(0), a(1), a(2), a(3), a(4), a(5), r0, r1, a(7), 0, a(4));
      return;
    }
    case OP_FORWARD_HALVES: {
      // inputs [0, k) into Y with the bias, inputs [k, In) into the partial sums P; thread t takes halves h with h % count == t
      if (index === 0) w.linear_forward(a(0), a(1), a(2), a(3), a(4), a(5), 0, a(6), 0, 0, a(8));
      if (index === 1 % count) w.linear_forward(a(0), a(1), 0, a(7), a(4), a(5), 0, a(6), 0, a(8), a(4));
      return;
    }
    case OP_BACKWARD_INPUT: {
      const [r0, r1] = part(a(5), index, count);
      if (r0 < r1) w.linear_backward_input(a(0), a(1), a(2), a(3), a(4), r0, r1);
      return;
    }
    case OP_BACKWARD_WEIGHT: {
      const [i0, i1] = part(a(4), index, count);
      if (i0 < i1) w.linear_backward_weight(a(0), a(1), a(2), a(3), a(4), a(5), i0, i1);
      return;
    }
    case OP_ADAM: {
      const [k0, k1] = part(a(4), index, count);
      const o = k0 * 4;
      if (k0 < k1) w.adam(a(0) + o, a(1) + o, a(2) + o, a(3) + o, k1 - k0, f[FARGS], f[FARGS + 1], f[FARGS + 2], f[FARGS + 3], f[FARGS + 4], f[FARGS + 5]);
      return;
    }
    case OP_GATHER: {
      // by pixels: thread t normalizes the inputs whose weights' rows it owns in the first layer's weight gradient
      const [j0, j1] = part(a(4), index, count);
      if (j0 < j1) w.gather(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), j0, j1);
      return;
    }
  }
}
