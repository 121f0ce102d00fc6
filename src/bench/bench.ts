/**
 * npm run bench: trains workload W (784-128-64-10, ReLU, dropout 0.2, softmax
 * cross-entropy, Adam 0.001, batch 64, 56,000 samples an epoch, x/255) through
 * the real trainer, and with --vs runs a peer from ../shared/bench/peers on the
 * same kind of work, alternating runs, and prints the ratio of epoch times.
 * Each run is a child process, so its peak memory is its own.
 *
 *   npm run bench [-- --epochs N] [--wide | --workload NAME] [--vs numpy|numpy-avx512|torch|sklearn|tfjs]...
 *                 [--runs K] [--backend wasm|ts|naive] [--threads N] [--json]
 *   npm run bench -- --targets [--runs K] [--json]   every figure of the speed targets in one session (targets.ts)
 *   npm run bench -- --predict-folder                 nn predict on 1,000 PNGs (digit-folder.ts), images/s
 *   npm run bench -- --quantize                       nn quantize against PyTorch's dynamic quantization (quantize.ts)
 *   npm run bench -- --pruned                         pruned models, one image at a time: sparse against dense (pruned.ts)
 *   npm run bench -- --together [--epochs N]          two trainings at once (together.ts)
 *   npm run bench -- --tune FILE [--timeout T] [--trials N] [--workers N] [--runs K] [--keep DIR]
 *                                                     nn tune against Optuna + PyTorch (tune.ts)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, configureKernels, type BackendName } from '../kernels';
import { commit, machine, PEERS, PYTHON, REPO, mnistDir, peerSpec, predictFolder, predictStartup, runOurs, runOursChild, runPeer, type RunResult } from './runs';
import { workload, WORKLOAD_NAMES, type WorkloadName } from './workloads';

async function main(): Promise<void> {
  const program = new Command('bench')
    .option('--epochs <n>', 'epochs per run (the median skips the first)', (v) => Number(v), 8)
    .addOption(new Option('--workload <name>', 'the network to train (src/bench/workloads.ts): W, or W changed one way, or a config from configs/').choices(WORKLOAD_NAMES as unknown as string[]).default('w'))
    .option('--wide', 'the wide network 784-1024-1024-10 (the same as --workload wide)')
    .option('--targets', 'measure every figure of the speed targets in one session, alternating runs (targets.ts)')
    .option('--vs <peer...>', 'peers to compare with: numpy, numpy-avx512, torch, sklearn, tfjs (with --wide: torch, numpy, numpy-avx512)')
    .option('--runs <k>', 'alternating runs of each (the best median counts)', (v) => Number(v), 1)
    .addOption(new Option('--backend <name>', 'kernel backend').choices(BACKEND_NAMES as unknown as string[]))
    .option('--threads <n>', 'threads for the products (default: all cores)', (v) => Number(v))
    .option('--predict', 'also time nn predict on one image, start to exit')
    .option('--predict-folder', 'only time nn predict on a folder of 1,000 PNGs of MNIST test digits, start to exit, in images/s')
    .option('--json', 'print the results as JSON (with the machine and the commit), to keep and compare later')
    .option('--compare <file>', 'with --targets: show each figure beside the one in this earlier --targets --json output')
    .option('--serve', 'POST /api/predict against nn serve (and a Python + PyTorch server): requests/s, p50/p99 latency, memory over 20,000 requests')
    .option('--quantize', "nn quantize on configs/mlp.yaml and the wide network against PyTorch's quantize_dynamic: size, accuracy, time of a pass over the test images")
    .option('--pruned', 'pruned models answering one image at a time (as nn predict): the sparse product against the dense one')
    .option('--together', 'two trainings of W at once (1+1, 2+2, 1+2 threads), each against a lone one-thread run')
    .option('--tune <file>', 'run this tune file with nn tune and with the Optuna + PyTorch peer, one after the other')
    .option('--timeout <duration>', 'with --tune: the wall-clock budget of each search (e.g. 10m)')
    .option('--trials <n>', 'with --tune: the trial budget of each search', (v) => Number(v))
    .option('--workers <n>', 'with --tune: trials at once', (v) => Number(v))
    .option('--keep <dir>', "with --tune: keep nn tune's study folders there (run1, run2, ...) to look at afterwards")
    .option('--child', 'internal: one run of ours, printed as RESULT {json}');
  const o = program.parse(process.argv).opts<{ epochs: number; workload: WorkloadName; wide?: boolean; targets?: boolean; compare?: string; vs?: string[]; runs: number; backend?: string; threads?: number; predict?: boolean; predictFolder?: boolean; json?: boolean; child?: boolean; together?: boolean; quantize?: boolean; pruned?: boolean; serve?: boolean; tune?: string; timeout?: string; trials?: number; workers?: number; keep?: string }>();
  const name: WorkloadName = o.wide ? 'wide' : o.workload;
  if (o.child) {
    configureKernels({ backend: o.backend as BackendName | undefined, threads: o.threads });
    process.stdout.write(`RESULT ${JSON.stringify(await runOurs(o.epochs, name))}\n`);
    return;
  }
  const say = (s: string) => (o.json ? process.stderr : process.stdout).write(s + '\n');
  if (o.targets) {
    const { measureTargets, printTargets } = require('./targets') as typeof import('./targets');
    const before = o.compare ? readReport(o.compare) : undefined; // a bad file fails before minutes of measuring
    const report = await measureTargets({ runs: Math.max(o.runs, 2), epochs: o.epochs }, say);
    if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else printTargets(report, say, before);
    return;
  }
  if (o.predictFolder) {
    const r = await predictFolder(1000);
    if (o.json) process.stdout.write(JSON.stringify({ machine: machine(), commit: commit(), predictFolder: r }, null, 2) + '\n');
    else say(`nn predict over a folder of ${r.images} PNGs, start to exit: ${r.medianSeconds.toFixed(3)} s, ${r.imagesPerSecond} images/s (median of 7: ${r.runs.join(', ')})`);
    return;
  }
  if (o.serve) {
    const { benchServe, printServe } = require('./serve') as typeof import('./serve');
    const r = await benchServe(say);
    if (o.json) process.stdout.write(JSON.stringify({ machine: machine(), commit: commit(), serve: r }, null, 2) + '\n');
    else printServe(r, say);
    return;
  }
  if (o.quantize) {
    const { benchQuantize, printQuantize } = require('./quantize') as typeof import('./quantize');
    const r = await benchQuantize(say);
    if (o.json) process.stdout.write(JSON.stringify({ machine: machine(), commit: commit(), quantize: r }, null, 2) + '\n');
    else printQuantize(r, say);
    return;
  }
  if (o.pruned) {
    const { benchPruned } = require('./pruned') as typeof import('./pruned');
    const r = benchPruned(say);
    if (o.json) process.stdout.write(JSON.stringify({ machine: machine(), commit: commit(), pruned: r }, null, 2) + '\n');
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
  if (o.vs?.length && name !== 'w' && name !== 'wide') throw new Error(`--vs: the peers train W and the wide network only, not --workload ${name}`);
  const peers = (o.vs ?? []).map((p) => peerSpec(p, o.epochs, name === 'wide'));
  const results: Record<string, RunResult[]> = {};
  const log = say;
  for (let k = 0; k < o.runs; k++) {
    const ours = runOursChild(o.epochs, name, o.backend, o.threads);
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
    process.stdout.write(JSON.stringify({ workload: name, title: workload(name, o.epochs).title, epochs: o.epochs, runs: o.runs, machine: machine(), commit: commit(), results: rows, predictStartup: startup }, null, 2) + '\n');
    return;
  }
  const table = [
    ['tool', 's/epoch', 'samples/s', 'GFLOP/s', 'peak MB', 'test acc', 'nn time / tool time'],
    ...rows.map((r) => [r.tool, r.medianEpoch.toFixed(3), String(r.samplesPerSecond), r.gflops === null ? '-' : r.gflops.toFixed(1), String(r.peakRssMb), r.testAccuracy === null ? '-' : r.testAccuracy.toFixed(4), r.ratio.toFixed(3)]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  log('');
  log(`workload ${workload(name, o.epochs).title}; median of epochs 2..${o.epochs}, best of ${o.runs} run(s)`);
  for (const row of table) log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (startup) log(`\nnn predict on one image, start to exit: ${startup.medianSeconds.toFixed(3)} s (median of 7: ${startup.runs.join(', ')})`);
}

/** An earlier --targets --json output, checked enough to name the file when it is not one. */
function readReport(file: string): import('./targets').TargetsReport {
  let r: unknown;
  try {
    r = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--compare ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(e as Error).message})`}`);
  }
  if (!r || typeof r !== 'object' || !Array.isArray((r as { rows?: unknown }).rows)) throw new Error(`--compare ${file}: expected the JSON that npm run bench -- --targets --json prints (an object with rows)`);
  return r as import('./targets').TargetsReport;
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
