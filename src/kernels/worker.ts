/**
 * A kernel worker thread: loads kernels.wasm over the main thread's shared
 * memory and runs its part of each job posted in the control block. It spins
 * briefly before sleeping, because jobs come every few tens of microseconds
 * while training and a sleep/wake costs about as much as a small product.
 */
import { workerData } from 'node:worker_threads';
import { CTRL_INTS, DONE, GEN, OP, OP_EXIT, runPart, TIMES } from './jobs';
import { instantiateOver } from './wasm-module';

const { memory, wasmModule, ctrlOffset, scratch, index } = workerData as { memory: WebAssembly.Memory; wasmModule: WebAssembly.Module; ctrlOffset: number; scratch: number; index: number };
const w = instantiateOver(wasmModule, memory, scratch);
const ctrl = new Int32Array(memory.buffer, ctrlOffset, CTRL_INTS);
const f = new Float32Array(memory.buffer, ctrlOffset, CTRL_INTS);
// Poll this long for the next job before sleeping: while training, jobs come
// every few hundred microseconds, and this core has nothing else to do.
const SPIN_MS = 2;

// The control block is new with each pool, so generation 0 is "no job yet". Reading GEN
// here instead would miss a job posted while this thread was still starting.
// A wake-up is not a new job: the main thread bumps GEN and then notifies, and when it is
// pushed off its core between the two, this thread may run the job, go to sleep on the new
// generation and only then receive that notify. So the loop checks GEN again after every
// wake-up (running a job twice would apply an optimizer step twice, and count in DONE as
// another thread's part, letting the main thread go on while that part is still being written).
let gen = 0;
for (;;) {
  const until = performance.now() + SPIN_MS;
  for (let k = 0; Atomics.load(ctrl, GEN) === gen; k++) {
    if ((k & 255) === 255 && performance.now() > until) Atomics.wait(ctrl, GEN, gen);
  }
  gen = Atomics.load(ctrl, GEN);
  if (ctrl[OP] === OP_EXIT) break;
  const t0 = performance.now();
  runPart(w, ctrl, f, index);
  f[TIMES + index] = performance.now() - t0; // for the balance (threads.ts)
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE); // the main thread may be asleep waiting for this (threads.ts, awaitWorkers)
}
