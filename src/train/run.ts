/**
 * A training run as a user starts one: the config read and checked (memory
 * included) before anything is written, the data loaded and split, the run
 * folder chosen and its provenance recorded, training with a checkpoint after
 * every epoch, stop requests honoured at the next batch, then the model, the
 * metrics and the pictures written. `nn train` and every trial of `nn tune`
 * run through here. Never prints: progress goes to the callbacks given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load';
import type { Config } from '../config/schema';
import { CHECKPOINT_FILE, loadCheckpoint, provenanceDiff, saveCheckpoint, sha256, type Provenance } from '../io/checkpoint';
import { writeFileAtomic } from '../io/atomic';
import { kernels } from '../kernels';
import { describeHugePages } from '../kernels/hugepages';
import { hugePages } from '../kernels/memory';
import { threadCount } from '../kernels/threads';
import { writeEpochsCsv, writeMetrics } from '../io/metrics';
import { saveModel } from '../io/modelfile';
import { markLatest, prepareRunDir } from '../io/run';
import { UserError } from '../util/errors';
import { watchStopRequests, type StopCause } from '../util/signals';
import type { Callback } from './callbacks';
import { checkFootprint } from './footprint';
import { prepareData, runTraining, splitSeedOf, type PreparedData, type TrainOutcome } from './pipeline';
import type { Trainer, TrainState } from './trainer';

export interface RunRequest {
  config?: string; // the config file (not with resume)
  overrides?: Record<string, unknown>; // keys by dotted path, e.g. { seed: 7, 'training.epochs': 3 }
  out?: string;
  force?: boolean;
  resume?: string; // the folder of an interrupted run
  charts?: boolean; // curves and confusion pictures (default true)
  markLatest?: boolean; // record the run in runs/.latest (default true)
  measureWhenStopped?: boolean; // measure the model on validation and test when stopped early (default true)
  callbacks?: (config: Config) => Callback[]; // given the resolved config (progress shows its epochs)
  /** Fine-tuning: start from these parameters, and see the model before it trains (runTraining's hooks). */
  initialParams?: Float32Array;
  onModel?: (model: import('../nn/model').Model) => void;
  /** Once the folder is chosen, before training: what is about to run, for a caller's message. */
  onStart?: (s: RunStart) => void;
  /**
   * Stop at the next batch on SIGINT or SIGTERM (and, with `withParent`, when the parent that
   * started this process over an IPC channel goes away); `again` gets every later signal.
   */
  stopRequests?: { again: (cause: StopCause) => void; withParent?: boolean; onFirst?: (cause: StopCause) => void };
}

export interface RunStart {
  dir: string;
  file: string;
  config: Config;
  resumedAfter: number | null; // the epoch a resume goes on from
  data: PreparedData;
}

export interface RunResult {
  dir: string;
  file: string;
  config: Config;
  outcome: TrainOutcome;
  /** What stopped it early (a signal, the parent gone), or null when training ended on its own. */
  stoppedBy: StopCause | null;
  /** The files written (the model only when the run ended). */
  files: string[];
}

export async function trainRun(req: RunRequest): Promise<RunResult> {
  const started = performance.now();
  const resumeFrom = req.resume ? checkRunDir(req.resume) : null;
  const loaded: LoadedConfig = resumeFrom ? loadConfig(path.join(resumeFrom, 'config.json')) : loadConfig(req.config ?? 'configs/mlp.yaml', req.overrides ?? {});
  const { config, name, file } = loaded;
  const data = prepareData(config);
  const { ds, split } = data;
  checkFootprint(config, file, ds.dim, ds.n); // before any folder is written
  const provenance: Provenance = {
    configHash: sha256(JSON.stringify(config)),
    dataHash: sha256(ds.images, ds.labels),
    split: { train: split.train.length, val: split.val.length, test: split.test.length, seed: splitSeedOf(config) },
    nn: require('../../package.json').version as string,
    node: process.version,
  };
  let resume: TrainState | undefined;
  if (resumeFrom) {
    const ckpt = path.join(resumeFrom, CHECKPOINT_FILE);
    if (!fs.existsSync(ckpt)) throw new UserError(`${resumeFrom}: no ${CHECKPOINT_FILE}; the run had not finished an epoch (or this is not a run folder)`);
    const loadedCkpt = loadCheckpoint(ckpt);
    const diff = provenanceDiff(loadedCkpt.provenance, provenance);
    if (diff) throw new UserError(`${ckpt}: cannot resume: ${diff}`);
    resume = loadedCkpt.state;
  }
  const dir = resumeFrom ?? prepareRunDir(name, req.out, Boolean(req.force));
  if (!resumeFrom) {
    writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    writeFileAtomic(path.join(dir, 'run.json'), JSON.stringify(provenance, null, 2) + '\n');
  }
  req.onStart?.({ dir, file, config, resumedAfter: resume ? resume.epoch : null, data });

  // A stop request ends training at the next batch; the last checkpoint stays.
  let trainer: Trainer | null = null;
  let stoppedBy: StopCause | null = null;
  const unwatch = req.stopRequests
    ? watchStopRequests(
        (cause) => {
          stoppedBy = cause;
          req.stopRequests!.onFirst?.(cause);
          trainer?.requestStop(`interrupted by ${cause}`);
        },
        req.stopRequests.again,
        req.stopRequests.withParent,
      )
    : () => {};
  try {
    const outcome = await runTraining(config, data, req.callbacks?.(config) ?? [], {
      resume,
      started: (t) => {
        trainer = t;
        if (stoppedBy) t.requestStop(`interrupted by ${stoppedBy}`);
      },
      onCheckpoint: (s) => {
        saveCheckpoint(path.join(dir, CHECKPOINT_FILE), s, provenance);
        writeEpochsCsv(dir, s.history); // the epochs so far, for whoever follows the run
      },
      skipEvaluationWhenStopped: req.measureWhenStopped === false,
      initialParams: req.initialParams,
      onModel: req.onModel,
    });
    // (the watch stays while the files are written: a second signal then quits at once, and every
    // file is written atomically, so each is the old one or the new one)
    const writeRunMetrics = () =>
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
          seed: splitSeedOf(config),
          train: split.train.length,
          val: split.val.length,
          test: split.test.length,
        },
        val: outcome.val,
        test: outcome.test,
        environment: environment(),
      });
    const charts = req.charts !== false;
    const { writeRunCharts } = charts ? (require('../io/charts') as typeof import('../io/charts')) : { writeRunCharts: null };
    const files = ['metrics.json', 'metrics.csv', 'config.json', ...(charts ? ['curves.svg', 'confusion.svg'] : [])].map((f) => path.join(dir, f));
    if (outcome.fit.interrupted) {
      writeRunMetrics();
      if (writeRunCharts && outcome.fit.history.length && outcome.test) await writeRunCharts(dir, outcome.fit.history, outcome.test.confusion);
      return { dir, file, config, outcome, stoppedBy: stoppedBy ?? 'SIGINT', files };
    }
    saveModel(path.join(dir, 'model.safetensors'), outcome.model, outcome.normalization, ds.rows, ds.cols);
    writeRunMetrics();
    if (writeRunCharts) await writeRunCharts(dir, outcome.fit.history, outcome.test!.confusion);
    if (req.markLatest !== false) markLatest(dir);
    return { dir, file, config, outcome, stoppedBy: null, files: [path.join(dir, 'model.safetensors'), ...files] };
  } finally {
    unwatch();
  }
}

function environment(): Record<string, string> {
  return { node: process.version, platform: `${process.platform}-${process.arch}`, nn: require('../../package.json').version, backend: kernels.name, threads: String(threadCount()), hugePages: describeHugePages(hugePages) };
}

/** The folder of a run to resume: it must exist and hold the run's config. */
function checkRunDir(dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: no such run folder (--resume)`);
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw new UserError(`${dir}: no config.json; expected the folder of a run started by nn train`);
  return dir;
}
