/**
 * Both cores: a pool of worker threads over the shared memory. The main thread
 * posts a job (jobs.ts), does its own part and waits for the workers to finish
 * theirs. Small products run on the main thread alone: splitting them costs
 * more than it saves here (measured).
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ARGS, BOUNDS, CTRL_INTS, DONE, FARGS, GEN, MAX_THREADS, OP, OP_EXIT, PARTS, runPart, TIMES } from './jobs';
import { allocF32, allocU8, memory } from './memory';
import { builtFile, compiled, SCRATCH_BYTES, type KernelExports } from './wasm-module';

// Below this many multiply-adds a product is not worth splitting (measured: the
// 128x64 and 64x10 layers of W gain nothing from a second thread).
const MIN_SPLIT_WORK = 256 * 1024;

let workers: Worker[] = [];
let ctrl: Int32Array | null = null;
let fctrl: Float32Array | null = null;

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export function threadCount(): number {
  return workers.length + 1;
}

/** Starts (or stops) workers so that n threads take part in each large product. */
export function setThreads(n: number, wasmFile: string): void {
  stopWorkers();
  speeds.clear();
  if (n <= 1) return;
  if (n > MAX_THREADS + 1) throw new Error(`--threads: at most ${MAX_THREADS + 1}`);
  const block = allocF32(CTRL_INTS);
  ctrl = new Int32Array(block.buffer, block.byteOffset, CTRL_INTS);
  fctrl = block;
  const file = builtFile('worker.js');
  if (!file) throw new Error('dist/kernels/worker.js is not built (run npm ci)');
  for (let i = 1; i < n; i++) {
    const scratch = allocU8(SCRATCH_BYTES).byteOffset; // each thread its own
    const w = new Worker(file, { workerData: { memory, wasmModule: compiled(wasmFile), ctrlOffset: block.byteOffset, scratch, index: i } });
    w.unref(); // an idle pool must not keep the program alive
    workers.push(w);
  }
}

export function stopWorkers(): void {
  if (ctrl && workers.length) {
    ctrl[OP] = OP_EXIT;
    Atomics.add(ctrl, GEN, 1);
    Atomics.notify(ctrl, GEN);
  }
  for (const w of workers) void w.terminate();
  workers = [];
}

/**
 * Runs a job over all threads (or just this one when it is small), returning when every part is done.
 * ints are the job's integer arguments (see jobs.ts for each op's layout); floats its float ones;
 * rows what its parts split.
 */
export function runJob(w: KernelExports, op: number, ints: number[], work: number, rows: number, floats: number[] = []): void {
  const c = ctrl;
  const n = workers.length + 1;
  if (!c || n === 1 || work < MIN_SPLIT_WORK) {
    const solo = soloBlock();
    solo.ctrl[OP] = op;
    solo.ctrl[PARTS] = 1;
    solo.ctrl[BOUNDS] = 0;
    solo.ctrl[BOUNDS + 1] = rows;
    for (let k = 0; k < ints.length; k++) solo.ctrl[ARGS + k] = ints[k];
    for (let k = 0; k < floats.length; k++) solo.f[FARGS + k] = floats[k];
    runPart(w, solo.ctrl, solo.f, 0);
    return;
  }
  const speed = balance(op, rows, n);
  setBounds(c, speed, rows, n);
  c[OP] = op;
  c[PARTS] = n;
  for (let k = 0; k < ints.length; k++) c[ARGS + k] = ints[k];
  for (let k = 0; k < floats.length; k++) fctrl![FARGS + k] = floats[k];
  Atomics.store(c, DONE, 0);
  Atomics.add(c, GEN, 1);
  Atomics.notify(c, GEN);
  const t0 = performance.now();
  runPart(w, c, fctrl!, 0);
  fctrl![TIMES] = performance.now() - t0;
  // The workers finish their parts at about the same time as this thread: poll.
  for (let k = 0, since = 0; Atomics.load(c, DONE) < n - 1; k++) {
    if ((k & 0xfffff) === 0xfffff) {
      since ||= performance.now();
      if (performance.now() - since > WORKER_TIMEOUT_MS) throw new Error('a kernel worker thread stopped responding; run with --threads 1');
    }
  }
  if (rows > 0) learn(speed, c, fctrl!, n);
}

// ---- balance: parts sized by each thread's measured speed ----
// The two vCPUs of these machines do not run at the same speed (measured: the
// same kernel ran 20-28% slower on one of them, alone on the machine), and
// which thread lands on which is up to the OS. So each kind of job (op and row
// count) keeps a running estimate of each thread's rows per millisecond, and
// cuts its rows in proportion. Moving a boundary never changes a result.

const speeds = new Map<number, Float64Array>(); // by op and row count: op * 2^32 + rows (no string per job)

function balance(op: number, rows: number, n: number): Float64Array {
  const key = op * 2 ** 32 + rows;
  let s = speeds.get(key);
  if (!s || s.length !== n) speeds.set(key, (s = new Float64Array(n).fill(1)));
  return s;
}

function setBounds(c: Int32Array, speed: Float64Array, rows: number, n: number): void {
  const b = boundsFor(speed, rows);
  for (let t = 0; t <= n; t++) c[BOUNDS + t] = b[t];
}

/**
 * Where each thread's rows start (and, last, `rows`): in proportion to its speed, on
 * multiples of 4 rows (the kernels' tiles: a split never cuts one).
 */
export function boundsFor(speed: ArrayLike<number>, rows: number): number[] {
  const n = speed.length;
  let total = 0;
  for (let t = 0; t < n; t++) total += speed[t];
  const b = [0];
  let acc = 0;
  for (let t = 1; t < n; t++) {
    acc += speed[t - 1];
    b.push(Math.min(rows, Math.max(b[t - 1], Math.round((rows * acc) / total / 4) * 4)));
  }
  b.push(rows);
  return b;
}

function learn(speed: Float64Array, c: Int32Array, f: Float32Array, n: number): void {
  for (let t = 0; t < n; t++) {
    const r = c[BOUNDS + t + 1] - c[BOUNDS + t];
    const ms = f[TIMES + t];
    if (r > 0 && ms > 0) speed[t] = 0.9 * speed[t] + 0.1 * (r / ms);
  }
}

const WORKER_TIMEOUT_MS = 30_000;

// A private block for jobs this thread runs alone (it never wakes the workers).
let solo: { ctrl: Int32Array; f: Float32Array } | null = null;
function soloBlock(): { ctrl: Int32Array; f: Float32Array } {
  if (!solo) {
    const f = new Float32Array(CTRL_INTS);
    solo = { ctrl: new Int32Array(f.buffer), f };
  }
  return solo;
}
