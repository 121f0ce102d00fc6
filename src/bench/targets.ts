/**
 * npm run bench -- --targets: every figure of the speed targets (README, Speed)
 * measured in one session. Each run trains every workload once, ours and the
 * peers' one after the other, so that the ratios come from runs minutes apart;
 * with --runs K the runs alternate K times and each tool keeps its best median.
 */
import { commit, machine, peerSpec, predictFolder, predictStartup, runOursChild, runPeer, type RunResult } from './runs';
import type { WorkloadName } from './workloads';

/** One timed thing: our run of a workload (at a thread count) or a peer's. */
interface Job {
  key: string;
  label: string;
  run: () => RunResult;
}

export interface TargetRow {
  what: string;
  /** The figure: a ratio of two epoch times (a / b), or seconds, or images per second. */
  value: number;
  unit: 'ratio' | 's' | 'images/s';
  target: number;
  /** lower: the target is a ceiling; higher: a floor. */
  better: 'lower' | 'higher';
  met: boolean;
  /** What the figure was made of, in words (a's and b's seconds an epoch). */
  from: string;
}

export interface TargetsReport {
  machine: Record<string, unknown>;
  commit: { sha: string; dirty: boolean } | null;
  runs: number;
  rows: TargetRow[];
  /** Every run of every job, as the bench's RunResult. */
  results: Record<string, RunResult[]>;
  predictStartup: { medianSeconds: number; runs: number[] };
  predictFolder: { images: number; medianSeconds: number; imagesPerSecond: number; runs: number[] };
}

function jobs(epochs: number): Job[] {
  const EPOCHS = epochs; // W and its variants: median of epochs 2..N (8 by default, as the bench's)
  const BIG_EPOCHS = Math.min(3, epochs); // the wide and best.yaml networks: median of epochs 2-3
  const ours = (key: string, name: WorkloadName, epochs: number, threads?: number): Job => ({
    key,
    label: `nn ${name}${threads ? `, ${threads} thread${threads > 1 ? 's' : ''}` : ''}`,
    run: () => runOursChild(epochs, name, undefined, threads),
  });
  const peer = (key: string, name: string, wide: boolean): Job => {
    const spec = peerSpec(name, wide ? BIG_EPOCHS : EPOCHS, wide);
    return { key, label: `${spec.label}${wide ? ', wide' : ''}`, run: () => runPeer(spec) };
  };
  return [
    ours('w', 'w', EPOCHS),
    ours('w1', 'w', EPOCHS, 1),
    peer('numpyAvx512', 'numpy-avx512', false),
    peer('torch', 'torch', false),
    ours('mlp', 'mlp', EPOCHS),
    ours('batchnorm', 'batchnorm', EPOCHS),
    ours('elu', 'elu', EPOCHS),
    ours('best', 'best', BIG_EPOCHS),
    ours('bestNoAug', 'best-noaug', BIG_EPOCHS),
    ours('wide', 'wide', BIG_EPOCHS),
    peer('wideNumpyAvx512', 'numpy-avx512', true),
    peer('wideTorch', 'torch', true),
  ];
}

export async function measureTargets(opts: { runs: number; epochs: number }, say: (s: string) => void): Promise<TargetsReport> {
  const list = jobs(opts.epochs);
  const results: Record<string, RunResult[]> = {};
  for (let k = 0; k < opts.runs; k++) {
    for (const j of list) {
      const r = j.run();
      (results[j.key] ??= []).push(r);
      say(`run ${k + 1}: ${j.label}: ${r.medianEpoch.toFixed(3)} s/epoch`);
    }
  }
  say('nn predict on one image, start to exit (median of 7)');
  const startup = predictStartup();
  say('nn predict over a folder of 1,000 PNGs, start to exit');
  const folder = await predictFolder(1000);
  const best = (key: string) => Math.min(...results[key].map((r) => r.medianEpoch));
  const ratio = (what: string, a: string, b: string, target: number): TargetRow => {
    const [x, y] = [best(a), best(b)];
    const value = +(x / y).toFixed(3);
    // the same ratio within each run (both measured minutes apart): how far the machine's drift moves it
    const paired = results[a].map((r, k) => (r.medianEpoch / results[b][k].medianEpoch).toFixed(2));
    return { what, value, unit: 'ratio', target, better: 'lower', met: value <= target, from: `${x.toFixed(3)} s against ${y.toFixed(3)} s an epoch; run by run ${paired.join(', ')}` };
  };
  const rows: TargetRow[] = [
    ratio('W epoch, nn / NumPy AVX-512 (1 thread)', 'w', 'numpyAvx512', 0.5),
    ratio('W epoch, nn / PyTorch (1 thread)', 'w', 'torch', 0.28),
    ratio('W with 2 threads / W with 1 thread (nn)', 'w', 'w1', 0.6),
    ratio('configs/mlp.yaml epoch / W epoch', 'mlp', 'w', 1.15),
    ratio('wide 784-1024-1024-10 epoch, nn / NumPy AVX-512', 'wide', 'wideNumpyAvx512', 0.7),
    ratio('wide 784-1024-1024-10 epoch, nn / PyTorch', 'wide', 'wideTorch', 0.5),
    ratio('W with batch normalization / W (nn)', 'batchnorm', 'w', 1.2),
    ratio('W with ELU / W with ReLU (nn)', 'elu', 'w', 1.2),
    ratio('configs/best.yaml epoch, augmented / not', 'best', 'bestNoAug', 1.05),
    { what: 'nn predict, one image, start to exit', value: startup.medianSeconds, unit: 's', target: 0.3, better: 'lower', met: startup.medianSeconds <= 0.3, from: `median of 7: ${startup.runs.join(', ')} s` },
    { what: 'nn predict over a folder of 1,000 PNGs', value: folder.imagesPerSecond, unit: 'images/s', target: 2000, better: 'higher', met: folder.imagesPerSecond >= 2000, from: `median of ${folder.runs.length}: ${folder.runs.join(', ')} s start to exit` },
  ];
  return { machine: machine(), commit: commit(), runs: opts.runs, rows, results, predictStartup: startup, predictFolder: folder };
}

/** Prints the table; with an earlier report (--compare FILE), each figure beside the earlier one. */
export function printTargets(r: TargetsReport, say: (s: string) => void, before?: TargetsReport): void {
  const fmt = (row: TargetRow) => (row.unit === 'ratio' ? row.value.toFixed(3) : row.unit === 's' ? `${row.value.toFixed(3)} s` : `${Math.round(row.value)} images/s`);
  const earlier = (row: TargetRow) => {
    const old = before?.rows.find((o) => o.what === row.what);
    return old ? fmt(old) : '-';
  };
  const table = [
    ['what', ...(before ? ['before'] : []), 'measured', 'target', 'met', 'from'],
    ...r.rows.map((row) => [row.what, ...(before ? [earlier(row)] : []), fmt(row), `${row.better === 'lower' ? '<=' : '>='} ${row.target}`, row.met ? 'yes' : 'no', row.from]),
  ];
  const last = table[0].length - 1;
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  say('');
  if (before) say(`before: ${before.commit ? `commit ${before.commit.sha.slice(0, 7)}` : 'an earlier run'}`);
  say(`${r.commit ? `commit ${r.commit.sha.slice(0, 7)}${r.commit.dirty ? ' (with changes)' : ''}, ` : ''}${r.machine.cpu}, ${r.machine.cores} cores, Node ${String(r.machine.node).slice(1)}; best of ${r.runs} alternating runs`);
  for (const row of table) say(row.map((c, i) => (i === 0 || i === last ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}
