/**
 * npm run bench -- --quantize: nn quantize against PyTorch's dynamic quantization, on the same
 * weights and the same test images. Trains configs/mlp.yaml and the wide network (the same with
 * 1,024 units in both hidden layers, 6 epochs) with nn train, quantizes each with nn quantize, and
 * reports for the float and the int8 model: file size, test accuracy, predictions changed by
 * quantization, and the time of the forward pass over the 7,000 test images in batches of 500 (as
 * nn eval runs them; the images normalized beforehand, as the peer has them), on 1 and 2 threads
 * (a child process each, best of 3), median of 15 after 3 warm-up passes, alternating float and int8; beside
 * src/bench/quantize_peer.py, which loads the same float weights into PyTorch and times it the
 * same way, float and after torch.quantization.quantize_dynamic.
 * Also nn eval as a command, start to exit, float against int8.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureKernels } from '../kernels';
import { loadModel } from '../io/modelfile';
import { Normalizer } from '../data/normalize';
import { allocF32, allocU32 } from '../kernels/memory';
import { evaluateRun } from '../train/evaluate-run';
import { median, mnistDir, NN, PYTHON, REPO, trainMlpAndWide } from './runs';

const REPEATS = 15;
const EVAL_RUNS = 7;

interface Side {
  bytes: number;
  accuracy: number;
  ms: Record<string, number>; // by threads
}

export interface QuantizeBench {
  model: string;
  samples: number;
  nn: { float: Side; int8: Side; changed: number; evalCommand: { float: number; int8: number } };
  torch: Record<string, { float: { accuracy: number; ms: number; bytes: number }; int8: { accuracy: number; ms: number; bytes: number }; changed: number; engine: string; torch: string }>;
}

function nn(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [NN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`nn ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const BATCH = 500;

/** In a child process (its own thread count): ms of a forward pass over the split, median of REPEATS, the models alternating. */
function timeForward(files: string[], threads: number): number[] {
  // the threads start after evaluateRun and the gathering: the pool's first jobs, waking workers
  // that went to sleep between batches, would otherwise send it solo for its next 2,048 jobs (threads.ts)
  configureKernels({ threads: 1 });
  const run = evaluateRun(files[0], 'test');
  const n = run.indices.length;
  const idx = allocU32(n);
  idx.set(run.indices);
  const sides = files.map((f) => {
    const saved = loadModel(f);
    const norm = new Normalizer(saved.normalization, run.ds.dim, saved.model.takesInputShift);
    const x = allocF32(n * run.ds.dim);
    for (let s = 0; s < n; s += BATCH) norm.gather(run.ds.images, idx, s, Math.min(BATCH, n - s), x.subarray(s * run.ds.dim));
    return { model: saved.model, x, shift: norm.shift };
  });
  configureKernels({ threads });
  // and are given time to start: a job that waits for a worker still starting counts against the pool too
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  const once = (k: number) => {
    const { model, x, shift } = sides[k];
    const D = run.ds.dim;
    const t = process.hrtime.bigint();
    for (let s = 0; s < n; s += BATCH) model.forward(x.subarray(s * D, Math.min(n, s + BATCH) * D), Math.min(BATCH, n - s), false, shift);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let w = 0; w < 3; w++) sides.forEach((_, k) => once(k));
  const times: number[][] = sides.map(() => []);
  for (let r = 0; r < REPEATS; r++) sides.forEach((_, k) => times[k].push(once(k)));
  return times.map((t) => +median(t).toFixed(2));
}

/** The best of CHILD_RUNS child processes' medians, per model (a pool that judged its threads not to pay runs alone: threads.ts). */
const CHILD_RUNS = 3;
function timeChild(files: string[], threads: number): number[] {
  let best: number[] = [];
  for (let k = 0; k < CHILD_RUNS; k++) {
    const r = spawnSync(process.execPath, [__filename, '--time', String(threads), ...files], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`timing ${files.join(', ')}: ${r.stderr || r.stdout}`);
    const ms = JSON.parse(line.slice(7)) as number[];
    best = k === 0 ? ms : best.map((v, j) => Math.min(v, ms[j]));
  }
  return best;
}

if (require.main === module && process.argv[2] === '--time') {
  process.stdout.write(`RESULT ${JSON.stringify(timeForward(process.argv.slice(4), Number(process.argv[3])))}\n`);
  process.exit(0); // the worker threads
}

function timeCommand(args: string[], cwd: string): number {
  const t = process.hrtime.bigint();
  nn(args, cwd);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export async function benchQuantize(say: (s: string) => void): Promise<QuantizeBench[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-quantize-'));
  try {
    trainMlpAndWide(dir, 6, say);
    const out: QuantizeBench[] = [];
    for (const name of ['mlp', 'wide']) {
      say(`${name}: nn quantize`);
      const q = JSON.parse(nn(['quantize', '--model', `runs/${name}`, '--json'], dir));
      const files = [q.from, q.to].map((f: string) => path.resolve(dir, f));
      const ms1 = timeChild(files, 1);
      const ms2 = timeChild(files, 2);
      const evalFloat: number[] = [];
      const evalInt8: number[] = [];
      for (let r = 0; r < EVAL_RUNS; r++) {
        evalFloat.push(timeCommand(['eval', '--model', files[0], '--json'], dir));
        evalInt8.push(timeCommand(['eval', '--model', files[1], '--json'], dir));
      }
      // the peer: the same float weights, the same test images (their indices in the pool of 70,000)
      const idxFile = path.join(dir, `${name}.test.u32`);
      const { indices } = evaluateRun(files[0], 'test');
      fs.writeFileSync(idxFile, Buffer.from(new Uint32Array(indices).buffer));
      const torch: QuantizeBench['torch'] = {};
      for (const threads of [1, 2]) {
        say(`${name}: PyTorch, ${threads} thread(s)`);
        const r = spawnSync(PYTHON, [path.join(REPO, 'src', 'bench', 'quantize_peer.py'), files[0], idxFile, '--threads', String(threads), '--repeats', String(REPEATS), '--data', mnistDir()], { encoding: 'utf8' });
        const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (!line) throw new Error(`quantize_peer.py: ${r.stderr || r.stdout}`);
        torch[threads] = JSON.parse(line.slice(7));
      }
      out.push({
        model: name === 'mlp' ? 'configs/mlp.yaml (784-128-64-10)' : 'wide (784-1024-1024-10)',
        samples: q.samples,
        nn: {
          float: { bytes: q.floatBytes, accuracy: q.floatAccuracy, ms: { 1: ms1[0], 2: ms2[0] } },
          int8: { bytes: q.int8Bytes, accuracy: q.int8Accuracy, ms: { 1: ms1[1], 2: ms2[1] } },
          changed: q.changed,
          evalCommand: { float: +median(evalFloat).toFixed(3), int8: +median(evalInt8).toFixed(3) },
        },
        torch,
      });
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function printQuantize(rs: QuantizeBench[], say: (s: string) => void): void {
  const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
  const kb = (b: number) => `${(b / 1024).toFixed(0)} kB`;
  for (const r of rs) {
    const t1 = r.torch[1];
    const t2 = r.torch[2];
    say('');
    say(`${r.model}, ${r.samples} test images`);
    say(`  size:     nn float ${kb(r.nn.float.bytes)}, int8 ${kb(r.nn.int8.bytes)} (${((100 * r.nn.int8.bytes) / r.nn.float.bytes).toFixed(1)}%); PyTorch float ${kb(t1.float.bytes)}, int8 ${kb(t1.int8.bytes)} (${((100 * t1.int8.bytes) / t1.float.bytes).toFixed(1)}%)`);
    say(`  accuracy: nn float ${pct(r.nn.float.accuracy)}, int8 ${pct(r.nn.int8.accuracy)} (${r.nn.changed} answers changed); PyTorch float ${pct(t1.float.accuracy)}, int8 ${pct(t1.int8.accuracy)} (${t1.changed} changed)`);
    for (const th of [1, 2] as const) {
      const t = th === 1 ? t1 : t2;
      say(`  forward pass over the test images, ${th} thread${th > 1 ? 's' : ''}: nn float ${r.nn.float.ms[th]} ms, int8 ${r.nn.int8.ms[th]} ms (int8 / float ${(r.nn.int8.ms[th] / r.nn.float.ms[th]).toFixed(2)}); PyTorch float ${t.float.ms} ms, int8 ${t.int8.ms} ms (${(t.int8.ms / t.float.ms).toFixed(2)})`);
    }
    say(`  nn eval, start to exit (median of ${EVAL_RUNS}): float ${r.nn.evalCommand.float} s, int8 ${r.nn.evalCommand.int8} s`);
  }
}
