/** nn train: parse options, run the training pipeline, write the run folder, print a summary. */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, configureKernels, type BackendName } from '../../kernels';
import { writeFileAtomic } from '../../io/atomic';
import { writeMetrics } from '../../io/metrics';
import { saveModel } from '../../io/modelfile';
import { markLatest, prepareRunDir } from '../../io/run';
import { UserError } from '../../util/errors';
import { intOption } from '../options';

export function trainCommand(): Command {
  return new Command('train')
    .description('train a network on MNIST from a YAML or JSON config; writes the model and its metrics to a run folder')
    .option('-c, --config <file>', 'network and training config (.yaml, .yml or .json)', 'configs/mlp.yaml')
    .option('-o, --out <dir>', 'run folder (default: runs/<config name>, or a numbered sibling if that holds a run)')
    .addOption(new Option('--seed <n>', 'override the config seed').argParser(intOption('--seed', 0)))
    .addOption(new Option('--epochs <n>', 'override training.epochs').argParser(intOption('--epochs', 1)))
    .option('-f, --force', 'overwrite the files of an earlier run in --out')
    .addOption(new Option('--backend <name>', 'kernels: wasm (WebAssembly SIMD), ts, or naive (the reference); default: the fastest available').choices([...BACKEND_NAMES]))
    .addOption(new Option('--threads <n>', 'threads for the large products (default: all cores); results do not depend on it').argParser(intOption('--threads', 1)))
    .action(async (opts: { config: string; out?: string; seed?: number; epochs?: number; force?: boolean; backend?: BackendName; threads?: number }) => {
      const started = performance.now();
      // The config schema, YAML and the trainer load only when training: other commands start faster.
      const { loadConfig } = require('../../config/load') as typeof import('../../config/load');
      const { prepareData, runTraining } = require('../../train/pipeline') as typeof import('../../train/pipeline');
      const { pct, progressCallback } = require('../progress') as typeof import('../progress');
      const { backend, threads } = configureKernels({ backend: opts.backend, threads: opts.threads });
      const { config, name, file } = loadConfig(opts.config, { seed: opts.seed, 'training.epochs': opts.epochs });
      const data = prepareData(config);
      const dir = prepareRunDir(name, opts.out, Boolean(opts.force));
      writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
      const { ds, split } = data;
      process.stdout.write(
        `training ${file} -> ${dir}\n` +
          `data: ${ds.n} images ${ds.rows}x${ds.cols} from ${displayPath(ds.dir)}; split ${split.train.length}/${split.val.length}/${split.test.length} (train/val/test)\n` +
          `kernels: ${backend}, ${threads} thread${threads > 1 ? 's' : ''}\n`,
      );
      const outcome = await runTraining(config, data, [progressCallback(config.training.epochs)]);
      saveModel(path.join(dir, 'model.safetensors'), outcome.model, outcome.normalization, ds.rows, ds.cols);
      writeMetrics(dir, {
        config: file,
        history: outcome.fit.history,
        bestEpoch: outcome.bestEpoch,
        stopReason: outcome.fit.stopReason,
        warnings: outcome.fit.warnings,
        trainSeconds: outcome.fit.trainSeconds,
        totalSeconds: (performance.now() - started) / 1000,
        split: {
          mode: config.data.split === 'official' ? 'official' : config.data.split.join('/'),
          seed: config.seed,
          train: split.train.length,
          val: split.val.length,
          test: split.test.length,
        },
        val: outcome.val,
        test: outcome.test,
        environment: { node: process.version, platform: `${process.platform}-${process.arch}`, nn: require('../../../package.json').version, backend, threads: String(threads) },
      });
      markLatest(dir);
      const best = outcome.bestEpoch ? ` (weights of epoch ${outcome.bestEpoch}, the best on ${config.training.earlyStopping ? config.training.earlyStopping.monitor : 'val_loss'})` : '';
      process.stdout.write(
        `stopped: ${outcome.fit.stopReason}\n` +
          `test: accuracy ${pct(outcome.test.accuracy)}  loss ${outcome.test.loss.toFixed(4)}  on ${outcome.test.samples} images${best}\n` +
          `time: ${outcome.fit.trainSeconds.toFixed(1)}s training, ${(outcome.fit.trainSeconds / outcome.fit.history.length).toFixed(2)}s per epoch\n` +
          `wrote ${['model.safetensors', 'metrics.json', 'metrics.csv', 'config.json'].map((f) => path.join(dir, f)).join(', ')}\n`,
      );
      if (!Number.isFinite(outcome.fit.history[outcome.fit.history.length - 1]?.loss)) {
        throw new UserError(`training diverged (loss ${outcome.fit.history[outcome.fit.history.length - 1].loss}); lower training.optimizer.learningRate`, 1);
      }
    });
}

/** Relative to the working folder when inside it, else absolute. */
function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : path.resolve(p);
}
