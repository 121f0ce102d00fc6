/**
 * nn train: parse options, run training (train/run.ts), print what happened.
 * After every epoch the run folder gets a checkpoint; Ctrl-C or SIGTERM stops at the next batch
 * and prints the command that resumes (`--resume DIR`), which goes on exactly where it stopped.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, configureKernels, type BackendName } from '../../kernels';
import { UserError } from '../../util/errors';
import { exitCodeOf } from '../../util/signals';
import { intOption } from '../options';

interface TrainOptions {
  config: string;
  out?: string;
  seed?: number;
  epochs?: number;
  force?: boolean;
  backend?: BackendName;
  threads?: number;
  resume?: string;
  json?: boolean;
  quiet?: boolean;
  charts: boolean;
  trial?: boolean;
}

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
    .option('--resume <dir>', 'go on with an interrupted run from its last checkpoint (its own config and folder)')
    .option('--json', 'one JSON object per epoch and one for the result on stdout (JSON Lines); messages on stderr')
    .option('-q, --quiet', 'print nothing but warnings and errors')
    .option('--no-charts', 'skip the pictures (curves and confusion matrix)')
    // nn tune's trials: runs/.latest untouched, and a stop when the tune process that started this one goes away
    .addOption(new Option('--trial').hideHelp())
    .action(async function (this: Command, opts: TrainOptions) {
      // The config schema, YAML and the trainer load only when training: other commands start faster.
      const { trainRun } = require('../../train/run') as typeof import('../../train/run');
      const { pct, progressCallback } = require('../progress') as typeof import('../progress');
      // messages for people: stdout, or stderr when stdout carries JSON; nothing when quiet
      const say = (text: string) => {
        if (!opts.quiet) (opts.json ? process.stderr : process.stdout).write(text);
      };
      const mode = opts.quiet ? 'quiet' : opts.json ? 'json' : 'text';
      if (opts.resume) {
        for (const o of ['config', 'seed', 'epochs', 'out', 'force']) {
          if (this.getOptionValueSource(o) === 'cli') throw new UserError(`--resume goes on with the run's own config and folder; drop --${o}`);
        }
      }
      const { backend, threads } = configureKernels({ backend: opts.backend, threads: opts.threads });
      const run = await trainRun({
        config: opts.config,
        overrides: { seed: opts.seed, 'training.epochs': opts.epochs },
        out: opts.out,
        force: opts.force,
        resume: opts.resume,
        charts: opts.charts && !opts.trial,
        markLatest: !opts.trial,
        measureWhenStopped: !opts.trial, // a stopped trial (pruned) ends at once
        onStart: ({ dir, file, resumedAfter, data: { ds, split } }) => {
          say(
            (resumedAfter !== null ? `resuming ${dir} after epoch ${resumedAfter}\n` : `training ${file} -> ${dir}\n`) +
              `data: ${ds.n} images ${ds.rows}x${ds.cols} from ${displayPath(ds.dir)}; split ${split.train.length}/${split.val.length}/${split.test.length} (train/val/test)\n` +
              `kernels: ${backend}, ${threads} thread${threads > 1 ? 's' : ''}\n`,
          );
        },
        callbacks: (config) => [progressCallback(config.training.epochs, process.stdout, mode)],
        stopRequests: {
          withParent: opts.trial,
          onFirst: (cause) => {
            if (!opts.quiet) process.stderr.write(`\n${cause}: stopping at the next batch${cause === 'parent gone' ? '' : ' (again to quit at once)'}\n`);
          },
          again: (cause) => process.exit(exitCodeOf(cause)),
        },
      });
      const { dir, outcome, config, file } = run;
      const history = outcome.fit.history;
      if (run.stoppedBy) {
        const done = history.length;
        if (opts.json) process.stdout.write(JSON.stringify({ type: 'interrupted', stopReason: outcome.fit.stopReason, epochs: done, resume: done > 0 ? `nn train --resume ${dir}` : null }) + '\n');
        say(
          `stopped: ${outcome.fit.stopReason}\n` +
            (done > 0 ? `resume with: nn train --resume ${dir}\n` : `no epoch had finished, so there is nothing to resume: start again with nn train --config ${file}\n`),
        );
        process.exitCode = exitCodeOf(run.stoppedBy);
        return;
      }
      const val = outcome.val!;
      const test = outcome.test!; // (measured: the run ended on its own)
      const best = outcome.bestEpoch ? ` (weights of epoch ${outcome.bestEpoch}, the best on ${config.training.earlyStopping ? config.training.earlyStopping.monitor : 'val_loss'})` : '';
      if (opts.json) {
        const result = {
          type: 'result',
          stopReason: outcome.fit.stopReason,
          bestEpoch: outcome.bestEpoch,
          epochs: history.length,
          val: { accuracy: val.accuracy, loss: val.loss, samples: val.samples },
          test: { accuracy: test.accuracy, loss: test.loss, samples: test.samples },
          trainSeconds: outcome.fit.trainSeconds,
          dir,
        };
        process.stdout.write(JSON.stringify(result) + '\n');
      }
      say(
        `stopped: ${outcome.fit.stopReason}\n` +
          `test: accuracy ${pct(test.accuracy)}  loss ${test.loss.toFixed(4)}  on ${test.samples} images${best}\n` +
          `time: ${outcome.fit.trainSeconds.toFixed(1)}s training${history.length ? `, ${(outcome.fit.trainSeconds / history.length).toFixed(2)}s per epoch` : ''}\n` +
          `wrote ${run.files.join(', ')}${opts.charts && !opts.trial ? ' (and PNGs)' : ''}\n`,
      );
      // the files are written (the weights from before it diverged), but the run did not succeed
      if (outcome.fit.diverged) throw new UserError(`training diverged: ${outcome.fit.stopReason}; lower training.optimizer.learningRate`, 1);
    });
}

/** Relative to the working folder when inside it, else absolute. */
function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : path.resolve(p);
}
