/**
 * The kernel worker thread's handshake with the main thread (threads.ts, worker.ts),
 * driven by hand over a control block of our own: a job posted once is run once.
 * A wake-up without a new generation (the main thread notifies after bumping GEN, and
 * may be pushed off its core between the two) must not run the job again: that
 * applied an optimizer step twice and counted as another thread's part in DONE.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { ARGS, BOUNDS, CTRL_INTS, DONE, FARGS, GEN, OP, OP_ADAM, OP_EXIT, PARTS } from '../../src/kernels/jobs';
import { allocF32, allocU8, memory } from '../../src/kernels/memory';
import { builtFile, compiled, SCRATCH_BYTES } from '../../src/kernels/wasm-module';
import { wasmPath } from '../../src/kernels/wasm';

const workerFile = builtFile('worker.js');
const wasm = wasmPath();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

let worker: Worker | null = null;
afterAll(() => worker?.terminate());

describe.skipIf(!workerFile || !wasm)('kernel worker thread', () => {
  it('runs each posted job once, and a wake-up with no new job runs nothing', async () => {
    const f = allocF32(CTRL_INTS);
    const ctrl = new Int32Array(f.buffer, f.byteOffset, CTRL_INTS);
    const n = 8;
    const [p, g, m, v] = [allocF32(n), allocF32(n), allocF32(n), allocF32(n)];
    for (let i = 0; i < n; i++) [p[i], g[i]] = [1 + i, 0.5 - i / 4];
    // one Adam step over all n values, every one of them in thread 1's part (the worker's)
    ctrl[OP] = OP_ADAM;
    ctrl[PARTS] = 2;
    [0, 0, n].forEach((b, t) => (ctrl[BOUNDS + t] = b));
    [p, g, m, v].forEach((a, k) => (ctrl[ARGS + k] = a.byteOffset));
    ctrl[ARGS + 4] = n;
    [0.1, 0.9, 0.999, 1e-8, 1 / (1 - 0.9), 1 / (1 - 0.999), 1].forEach((x, k) => (f[FARGS + k] = x));
    worker = new Worker(workerFile!, { workerData: { memory, wasmModule: compiled(wasm!), ctrlOffset: f.byteOffset, scratch: allocU8(SCRATCH_BYTES).byteOffset, index: 1 } });
    const exited = new Promise((r) => worker!.on('exit', r));

    const post = () => {
      Atomics.store(ctrl, DONE, 0);
      Atomics.add(ctrl, GEN, 1);
      Atomics.notify(ctrl, GEN);
    };
    post();
    await until('the first job', () => Atomics.load(ctrl, DONE) === 1);
    const once = p.slice();
    // Adam's first step moves each value by lr against its gradient's sign (m̂/√v̂ = ±1)
    for (let i = 0; i < n; i++) expect(Math.abs(once[i] - (1 + i) + 0.1 * Math.sign(g[i]))).toBeLessThan(1e-6);

    // the worker falls asleep on generation 1 (notify says how many it woke: wait for 1),
    // and is woken without a new job, again and again
    let woken = 0;
    await until('the worker to sleep and be woken', () => {
      woken += Atomics.notify(ctrl, GEN);
      return woken >= 5;
    });
    await sleep(20);
    expect(Atomics.load(ctrl, DONE)).toBe(1); // no second run
    expect(Array.from(p)).toEqual(Array.from(once)); // no second step

    // a real second job still runs, once
    post();
    await until('the second job', () => Atomics.load(ctrl, DONE) === 1);
    await sleep(20);
    expect(Atomics.load(ctrl, DONE)).toBe(1);
    expect(p.some((x, i) => x !== once[i])).toBe(true);

    ctrl[OP] = OP_EXIT;
    Atomics.add(ctrl, GEN, 1);
    Atomics.notify(ctrl, GEN);
    await exited;
  }, 30_000);
});
