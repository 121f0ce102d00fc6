/** nn prune: magnitude pruning of a trained model's dense weights, fine-tuned as the sparsity rises, into a new run. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../../util/errors';
import { intOption } from '../options';

export function pruneCommand(): Command {
  return new Command('prune')
    .description("prune a trained model's dense weights by magnitude to a sparsity, fine-tuning as it rises (Zhu & Gupta 2017); writes a new run")
    .option('-m, --model <path>', 'model.safetensors or its run folder (default: the most recent run)')
    .requiredOption('-s, --sparsity <share>', "the share of the hidden layers' weights set to 0 at the end, e.g. 0.9 (0: the same fine-tuning without pruning)", parseShare)
    .addOption(new Option('-e, --epochs <n>', 'fine-tuning epochs: the sparsity rises over the first two thirds').argParser(intOption('--epochs', 1)).default(10))
    .option('--lr <rate>', "the fine-tuning learning rate (default: the run's own)", parseRate)
    .option('-o, --out <dir>', 'the new run folder (default: runs/<run>-pruned-<percent>)')
    .option('--force', 'overwrite --out if it holds a run')
    .action(async (opts: { model?: string; sparsity: number; epochs: number; lr?: number; out?: string; force?: boolean }) => {
      const { resolveModelPath, RUNS_DIR } = require('../../io/run') as typeof import('../../io/run');
      const { loadModel } = require('../../io/modelfile') as typeof import('../../io/modelfile');
      const { trainRun } = require('../../train/run') as typeof import('../../train/run');
      const { MagnitudePruning } = require('../../prune/magnitude') as typeof import('../../prune/magnitude');
      const { fineTuneSchedule } = require('../../prune/schedule') as typeof import('../../prune/schedule');
      const { writeFileAtomic } = require('../../io/atomic') as typeof import('../../io/atomic');
      const modelPath = resolveModelPath(opts.model);
      const from = path.dirname(modelPath);
      const cfgFile = path.join(from, 'config.json');
      if (!fs.existsSync(cfgFile)) throw new UserError(`${cfgFile}: not found; nn prune fine-tunes on the run's own data and split, and needs the run's config.json beside the model`);
      const saved = loadModel(modelPath);
      if (saved.quantization) throw new UserError(`${modelPath}: is an int8 model, which does not train; prune the float model (model.safetensors) and quantize the pruned run`);
      const before = readTestAccuracy(from);
      const pruning = new MagnitudePruning((batches) => fineTuneSchedule(opts.sparsity, opts.epochs, batches));
      const out = opts.out ?? path.join(RUNS_DIR, `${path.basename(path.resolve(from))}-pruned-${Math.round(100 * opts.sparsity)}`);
      const say = (s: string) => process.stdout.write(s);
      const run = await trainRun({
        config: cfgFile,
        // fine-tuning: a fixed number of epochs at one rate; early stopping would restore weights from before full sparsity
        overrides: { 'training.epochs': opts.epochs, 'training.earlyStopping': false, 'training.reduceLROnPlateau': false, 'training.schedule': { type: 'constant' }, ...(opts.lr ? { 'training.optimizer.learningRate': opts.lr } : {}) },
        out,
        force: opts.force,
        initialParams: Float32Array.from(saved.model.params.data),
        onModel: (m) => pruning.attach(m),
        onStart: ({ dir }) => say(`pruning ${modelPath} to ${(100 * opts.sparsity).toFixed(1)}% sparsity over ${opts.epochs} epochs -> ${dir}\n`),
        callbacks: () => [
          pruning,
          { onEpochEnd: (log) => void say(`epoch ${log.epoch}: sparsity ${(100 * pruning.log[pruning.log.length - 1]?.sparsity || 0).toFixed(1)}%, val accuracy ${(100 * log.val_accuracy).toFixed(2)}%\n`) },
        ],
        stopRequests: { again: () => process.exit(130) },
      });
      const test = run.outcome.test?.accuracy ?? null;
      writeFileAtomic(
        path.join(run.dir, 'pruning.json'),
        JSON.stringify({ from: modelPath, sparsity: opts.sparsity, achieved: pruning.sparsity(), epochs: pruning.log, testAccuracy: test, testAccuracyBefore: before }, null, 2) + '\n',
      );
      say(`pruned: ${(100 * pruning.sparsity()).toFixed(1)}% of the hidden layers' weights are 0 (the output layer is kept); test accuracy ${test === null ? '-' : `${(100 * test).toFixed(2)}%`}${before === null ? '' : ` (before: ${(100 * before).toFixed(2)}%)`}\nwrote ${run.dir} (model.safetensors, metrics.json, pruning.json)\n`);
    });
}

function readTestAccuracy(dir: string): number | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')).test?.accuracy ?? null;
  } catch {
    return null;
  }
}

function parseShare(v: string): number {
  const x = Number(v);
  if (!/^\s*[\d.]+\s*$/.test(v) || !(x >= 0 && x < 1)) throw new InvalidArgumentError('expected a share from 0 to below 1, e.g. 0.9 (0: fine-tune the same way without pruning, the baseline to compare with).');
  return x;
}

function parseRate(v: string): number {
  const x = Number(v);
  if (!(x > 0 && Number.isFinite(x))) throw new InvalidArgumentError('expected a positive number.');
  return x;
}
