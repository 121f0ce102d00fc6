/**
 * nn train: parse options, run the training pipeline, write the run folder, print a summary.
 * After every epoch the run folder gets a checkpoint; Ctrl-C or SIGTERM stops at the next batch
 * and prints the command that resumes (`--resume DIR`), which goes on exactly where it stopped.
 */
import * as fs from 'node:fs';
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
    .option('--resume <dir>', 'go on with an interrupted run from its last checkpoint (its own config and folder)')
    .option('--json', 'one JSON object per epoch and one for the result on stdout (JSON Lines); messages on stderr')
    .option('-q, --quiet', 'print nothing but warnings and errors')
    .action(async function (this: Command, opts: { config: string; out?: string; seed?: number; epochs?: number; force?: boolean; backend?: BackendName; threads?: number; resume?: string; json?: boolean; quiet?: boolean }) {
      const started = performance.now();
      // The config schema, YAML and the trainer load only when training: other commands start faster.
      const { loadConfig } = require('../../config/load') as typeof import('../../config/load');
      const { prepareData, runTraining } = require('../../train/pipeline') as typeof import('../../train/pipeline');
      const { pct, progressCallback } = require('../progress') as typeof import('../progress');
      // messages for people: stdout, or stderr when stdout carries JSON; nothing when quiet
      const say = (text: string) => {
        if (!opts.quiet) (opts.json ? process.stderr : process.stdout).write(text);
      };
      const mode = opts.quiet ? 'quiet' : opts.json ? 'json' : 'text';
      const { loadCheckpoint, provenanceDiff, saveCheckpoint, sha256, CHECKPOINT_FILE } = require('../../io/checkpoint') as typeof import('../../io/checkpoint');
      if (opts.resume) {
        for (const o of ['config', 'seed', 'epochs', 'out', 'force']) {
          if (this.getOptionValueSource(o) === 'cli') throw new UserError(`--resume goes on with the run's own config and folder; drop --${o}`);
        }
      }
      const { backend, threads } = configureKernels({ backend: opts.backend, threads: opts.threads });
      const resumeFrom = opts.resume ? checkRunDir(opts.resume) : null;
      const { config, name, file } = resumeFrom ? loadConfig(path.join(resumeFrom, 'config.json')) : loadConfig(opts.config, { seed: opts.seed, 'training.epochs': opts.epochs });
      const data = prepareData(config);
      const { ds, split } = data;
      const provenance = {
        configHash: sha256(JSON.stringify(config)),
        dataHash: sha256(ds.images, ds.labels),
        split: { train: split.train.length, val: split.val.length, test: split.test.length, seed: config.seed },
        nn: require('../../../package.json').version as string,
        node: process.version,
      };
      let resume: import('../../train/trainer').TrainState | undefined;
      if (resumeFrom) {
        const ckpt = path.join(resumeFrom, CHECKPOINT_FILE);
        if (!fs.existsSync(ckpt)) throw new UserError(`${resumeFrom}: no ${CHECKPOINT_FILE}; the run had not finished an epoch (or this is not a run folder)`);
        const loaded = loadCheckpoint(ckpt);
        const diff = provenanceDiff(loaded.provenance, provenance);
        if (diff) throw new UserError(`${ckpt}: cannot resume: ${diff}`);
        resume = loaded.state;
      }
      const dir = resumeFrom ?? prepareRunDir(name, opts.out, Boolean(opts.force));
      if (!resumeFrom) {
        writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
        writeFileAtomic(path.join(dir, 'run.json'), JSON.stringify(provenance, null, 2) + '\n');
      }
      say(
        (resume ? `resuming ${dir} after epoch ${resume.epoch}\n` : `training ${file} -> ${dir}\n`) +
          `data: ${ds.n} images ${ds.rows}x${ds.cols} from ${displayPath(ds.dir)}; split ${split.train.length}/${split.val.length}/${split.test.length} (train/val/test)\n` +
          `kernels: ${backend}, ${threads} thread${threads > 1 ? 's' : ''}\n`,
      );
      const writeRunMetrics = (outcome: import('../../train/pipeline').TrainOutcome) =>
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

      // Ctrl-C or SIGTERM: stop at the next batch (the last checkpoint stays); a second one quits at once.
      let trainer: import('../../train/trainer').Trainer | null = null;
      let signal: NodeJS.Signals | null = null;
      const onSignal = (sig: NodeJS.Signals) => {
        if (signal) process.exit(exitCodeOf(sig));
        signal = sig;
        if (!opts.quiet) process.stderr.write(`\n${sig}: stopping at the next batch (again to quit at once)\n`);
        trainer?.requestStop(`interrupted by ${sig}`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const outcome = await runTraining(config, data, [progressCallback(config.training.epochs, process.stdout, mode)], {
        resume,
        started: (t) => {
          trainer = t;
          if (signal) t.requestStop(`interrupted by ${signal}`);
        },
        onCheckpoint: (s) => saveCheckpoint(path.join(dir, CHECKPOINT_FILE), s, provenance),
      });
      // (the handlers stay until the command ends: a second signal while the files are written quits
      // at once, and every file is written atomically, so each is the old one or the new one)
      const { writeRunCharts } = require('../../io/charts') as typeof import('../../io/charts');
      if (outcome.fit.interrupted) {
        writeRunMetrics(outcome);
        if (outcome.fit.history.length) await writeRunCharts(dir, outcome.fit.history, outcome.test.confusion);
        const done = outcome.fit.history.length;
        if (opts.json) process.stdout.write(JSON.stringify({ type: 'interrupted', stopReason: outcome.fit.stopReason, epochs: done, resume: done > 0 ? `nn train --resume ${dir}` : null }) + '\n');
        say(
          `stopped: ${outcome.fit.stopReason}\n` +
            (done > 0 ? `resume with: nn train --resume ${dir}\n` : `no epoch had finished, so there is nothing to resume: start again with nn train --config ${file}\n`),
        );
        process.exitCode = exitCodeOf(signal ?? 'SIGINT');
        return;
      }
      saveModel(path.join(dir, 'model.safetensors'), outcome.model, outcome.normalization, ds.rows, ds.cols);
      writeRunMetrics(outcome);
      await writeRunCharts(dir, outcome.fit.history, outcome.test.confusion);
      markLatest(dir);
      const best = outcome.bestEpoch ? ` (weights of epoch ${outcome.bestEpoch}, the best on ${config.training.earlyStopping ? config.training.earlyStopping.monitor : 'val_loss'})` : '';
      if (opts.json) {
        const result = { type: 'result', stopReason: outcome.fit.stopReason, bestEpoch: outcome.bestEpoch, test: { accuracy: outcome.test.accuracy, loss: outcome.test.loss, samples: outcome.test.samples }, trainSeconds: outcome.fit.trainSeconds, dir };
        process.stdout.write(JSON.stringify(result) + '\n');
      }
      say(
        `stopped: ${outcome.fit.stopReason}\n` +
          `test: accuracy ${pct(outcome.test.accuracy)}  loss ${outcome.test.loss.toFixed(4)}  on ${outcome.test.samples} images${best}\n` +
          `time: ${outcome.fit.trainSeconds.toFixed(1)}s training, ${(outcome.fit.trainSeconds / outcome.fit.history.length).toFixed(2)}s per epoch\n` +
          `wrote ${['model.safetensors', 'metrics.json', 'metrics.csv', 'config.json', 'curves.svg', 'confusion.svg'].map((f) => path.join(dir, f)).join(', ')} (and PNGs)\n`,
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

/** 128 + the signal's number, as shells report a process ended by it. */
function exitCodeOf(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

/** The folder of a run to resume: it must exist and hold the run's config. */
function checkRunDir(dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: no such run folder (--resume)`);
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw new UserError(`${dir}: no config.json; expected the folder of a run started by nn train`);
  return dir;
}
