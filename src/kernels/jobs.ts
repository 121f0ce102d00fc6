/**
 * The work a product is split into, shared by the main thread and the
 * workers: a control block in the shared memory says which kernel, its
 * arguments, and how many threads take part; each thread computes the rows
 * chunks it claims, one at a time, until none are left (so a thread whose rows
 * were sparser, or that woke later, takes more). Chunks' output rows are
 * disjoint, and every element is computed the same way whatever the split, so
 * results depend on neither the thread count nor the scheduling.
 */
import type { KernelExports } from './wasm-module';

export const OP_FORWARD = 1;
export const OP_BACKWARD_INPUT = 2;
export const OP_BACKWARD_WEIGHT = 3;
export const OP_ADAM = 4;
export const OP_EXIT = 99;

// Int32 slots of the control block.
export const GEN = 0; // bumped for each job; workers wait on it
export const DONE = 1; // workers that finished the current job
export const OP = 2;
export const CHUNKS = 3; // the job's rows are cut into this many chunks
export const NEXT = 5; // the next chunk to take (threads claim chunks with Atomics.add)
export const ARGS = 6; // integer arguments from here
export const FARGS = 24; // float arguments (as Float32) from here
export const CTRL_INTS = 32;

/** Rows [start, end) of `rows` for thread `index` of `count`, in chunks aligned to the kernels' 4-row tiles. */
export function part(rows: number, index: number, count: number): [number, number] {
  const chunk = Math.ceil(rows / count / 4) * 4;
  return [Math.min(rows, index * chunk), Math.min(rows, (index + 1) * chunk)];
}

/** Takes chunks of the job described in the control block until none are left. */
export function runPart(w: KernelExports, ctrl: Int32Array, f: Float32Array): void {
  const count = ctrl[CHUNKS];
  for (let c = Atomics.add(ctrl, NEXT, 1); c < count; c = Atomics.add(ctrl, NEXT, 1)) runChunk(w, ctrl, f, c, count);
}

function runChunk(w: KernelExports, ctrl: Int32Array, f: Float32Array, index: number, count: number): void {
  const a = (k: number) => ctrl[ARGS + k];
  switch (ctrl[OP]) {
    case OP_FORWARD: {
      const [r0, r1] = part(a(6), index, count);
      if (r0 < r1) w.linear_forward(a(0), a(1), a(2), a(3), a(4), a(5), r0, r1, a(7));
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
  }
}
