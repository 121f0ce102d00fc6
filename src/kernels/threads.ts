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
  jobs++;
  if (!c || n === 1 || work < MIN_SPLIT_WORK || jobs < soloUntil) {
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
  const t0 = performance.now();
  Atomics.add(c, GEN, 1);
  Atomics.notify(c, GEN);
  runPart(w, c, fctrl!, 0);
  const own = performance.now() - t0;
  fctrl![TIMES] = own;
  awaitWorkers(c, n, t0 + own + SPIN_MS);
  judge(own, performance.now() - t0 - own);
  if (rows > 0) learn(speed, c, fctrl!, n);
}

// ---- waiting for the workers: spin briefly, then sleep ----
// They usually finish their parts about when this thread finishes its own, and a
// sleep and a wake-up cost about as much as a small product: so spin first. But a
// worker pushed off its core (another training on the machine) may not finish for
// a whole time slice, and spinning then takes the core it needs: so after a short
// while, sleep until a worker says it is done (worker.ts notifies DONE).
const SPIN_MS = 0.05;

function awaitWorkers(c: Int32Array, n: number, spinUntil: number): void {
  for (let k = 0; ; k++) {
    const done = Atomics.load(c, DONE);
    if (done >= n - 1) return;
    if ((k & 63) === 63 && performance.now() > spinUntil) {
      if (Atomics.wait(c, DONE, done, WORKER_TIMEOUT_MS) === 'timed-out' && Atomics.load(c, DONE) === done) {
        throw new Error('a kernel worker thread stopped responding; run with --threads 1');
      }
    }
  }
}

// ---- whether the other threads pay ----
// When another process trains on the same cores, a worker waits for a core at every
// job: this thread then waits for it longer than its own part took, job after job
// (alone on the machine it waits a few microseconds, and a hiccup of the OS now and
// then does not count). When most of JUDGE_JOBS split jobs wait like that, the next
// jobs run on this thread alone (the workers sleep), then splitting is tried again;
// while it keeps failing, the solo stretches double, up to MAX_SOLO_JOBS. Results do
// not depend on the split, so this changes only the time.
const JUDGE_JOBS = 16;
const MIN_SOLO_JOBS = 2048; // about a third of a W epoch's jobs
const MAX_SOLO_JOBS = 65536;
let jobs = 0;
let soloUntil = 0;
let soloJobs = MIN_SOLO_JOBS;
let judged = 0;
let waited = 0; // of the judged jobs, those where the workers took longer than this thread's part again

function judge(own: number, wait: number): void {
  if (wait > own) waited++;
  if (++judged < JUDGE_JOBS) return;
  if (2 * waited > JUDGE_JOBS) {
    soloUntil = jobs + soloJobs;
    soloJobs = Math.min(MAX_SOLO_JOBS, 2 * soloJobs);
  } else {
    soloJobs = MIN_SOLO_JOBS;
  }
  judged = 0;
  waited = 0;
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
