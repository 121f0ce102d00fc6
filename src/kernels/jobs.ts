/**
 * The work a product is split into, shared by the main thread and the
 * workers: a control block in the shared memory says which kernel, its
 * arguments, how many threads take part, and where each thread's rows start;
 * thread t (the main thread is 0) computes rows [BOUNDS[t], BOUNDS[t + 1]).
 * Parts are assigned, not claimed: the same thread then keeps touching about
 * the same rows of the same weights, gradients and optimizer state, which stay
 * in its core's cache instead of crossing between cores every step (claiming
 * chunks cost more in those transfers than it saved in balance: measured).
 * threads.ts sizes the parts by each thread's measured speed. Parts' outputs
 * are disjoint and every element is computed the same way whatever the split,
 * so results depend on neither the split nor the scheduling.
 */
import type { KernelExports } from './wasm-module';

export const OP_FORWARD = 1;
export const OP_BACKWARD_INPUT = 2;
export const OP_BACKWARD_WEIGHT = 3;
export const OP_ADAM = 4;
export const OP_GATHER = 5;
export const OP_FORWARD_HALVES = 6;
export const OP_QLINEAR = 7;
export const OP_EXIT = 99;

// Int32 slots of the control block.
export const GEN = 0; // bumped for each job; workers wait on it
export const DONE = 1; // workers that finished the current job
export const OP = 2;
export const PARTS = 3; // threads taking part in the job (thread t < PARTS does part t)
export const ARGS = 6; // integer arguments from here
export const FARGS = 24; // float arguments (as Float32) from here
export const BOUNDS = 32; // thread t's rows start at BOUNDS + t (PARTS + 1 of them)
export const TIMES = 160; // milliseconds thread t spent on its part (as Float32), for the balance
export const MAX_THREADS = TIMES - BOUNDS - 1;
export const CTRL_INTS = TIMES + MAX_THREADS;

/** Rows [start, end) of `rows` for thread `index` of `count` in equal parts aligned to the kernels' 4-row tiles. */
export function part(rows: number, index: number, count: number): [number, number] {
  const chunk = Math.ceil(rows / count / 4) * 4;
  return [Math.min(rows, index * chunk), Math.min(rows, (index + 1) * chunk)];
}

/** Thread `index`'s part of the job described in the control block (nothing if it takes no part). */
export function runPart(w: KernelExports, ctrl: Int32Array, f: Float32Array, index: number): void {
  const count = ctrl[PARTS];
  if (index >= count) return;
  const a = (k: number) => ctrl[ARGS + k];
  const r0 = ctrl[BOUNDS + index];
  const r1 = ctrl[BOUNDS + index + 1];
  switch (ctrl[OP]) {
    case OP_FORWARD: {
      if (r0 < r1) w.linear_forward(a(0), a(1), a(2), a(3), a(4), a(5), r0, r1, a(7), 0, a(4));
      return;
    }
    case OP_FORWARD_HALVES: {
      // 2B rows: row u < B is row u of inputs [0, k) into Y, with the bias; row u >= B is
      // row u - B of inputs [k, In) into the partial sums P. With equal parts, thread 0
      // takes the first half of the inputs and thread 1 the second.
      const B = a(6);
      if (r0 < Math.min(r1, B)) w.linear_forward(a(0), a(1), a(2), a(3), a(4), a(5), r0, Math.min(r1, B), 0, 0, a(8));
      if (Math.max(r0, B) < r1) w.linear_forward(a(0), a(1), 0, a(7), a(4), a(5), Math.max(r0, B) - B, r1 - B, 0, a(8), a(4));
      // a shift (a(9)): its first half goes with row 0, its second with the last row, into E (a(10), 2 rows)
      if (a(9) && r0 === 0 && r0 < r1) w.linear_forward(a(9), a(1), 0, a(10), a(4), a(5), 0, 1, 0, 0, a(8));
      if (a(9) && r1 === 2 * B && r0 < r1) w.linear_forward(a(9), a(1), 0, a(10) + 4 * a(5), a(4), a(5), 0, 1, 0, a(8), a(4));
      return;
    }
    case OP_BACKWARD_INPUT: {
      if (r0 < r1) w.linear_backward_input(a(0), a(1), a(2), a(3), a(4), r0, r1);
      return;
    }
    case OP_BACKWARD_WEIGHT: {
      // with a shift (a(6); db, already summed, at a(7)), each row gets shift ⊗ db added as it is made
      if (r0 < r1) w.linear_backward_weight(a(0), a(1), a(2), a(3), a(4), a(5), r0, r1, a(6), a(7));
      return;
    }
    case OP_ADAM: {
      const o = r0 * 4;
      if (r0 < r1) w.adam(a(0) + o, a(1) + o, a(2) + o, a(3) + o, r1 - r0, f[FARGS], f[FARGS + 1], f[FARGS + 2], f[FARGS + 3], f[FARGS + 4], f[FARGS + 5], f[FARGS + 6]);
      return;
    }
    case OP_QLINEAR: {
      // by rows: each thread quantizes its rows into their lists, then runs them through the int8 weights
      if (r0 < r1) {
        w.quantize_rows(a(0), a(1), a(2), a(3), a(4), a(5), r0, r1, a(6), a(15));
        w.qlinear(a(2), a(3), a(4), a(5), a(7), a(8), a(9), a(10), a(11), a(12), a(13), r0, r1, a(14));
      }
      return;
    }
    case OP_GATHER: {
      // by pixels, so that each thread writes the inputs it reads for its half of the first layer
      if (r0 < r1) w.gather(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), r0, r1, a(8));
      return;
    }
  }
}
