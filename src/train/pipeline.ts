/**
 * One training run from a resolved config: load and split the data, fit the
 * normalization on the training split, build model, loss and optimizer, train,
 * and measure the final model on validation and test. No printing: progress
 * goes to the callbacks the caller passes.
 */
import type { Config } from '../config/schema';
import { defaultDataDir, loadDataset, type Dataset } from '../data/mnist';
import { fitNormalization, Normalizer, type Normalization } from '../data/normalize';
import { makeSplit, type Split } from '../data/split';
import { makeLoss, type Loss } from '../nn/losses';
import { Model } from '../nn/model';
import { makeOptimizer } from '../optim';
import { EarlyStopping, ReduceLROnPlateau, type Callback } from './callbacks';
import { evaluate, type Evaluation } from './evaluate';
import { Trainer, type FitResult, type TrainState } from './trainer';

export interface PreparedData {
  ds: Dataset;
  split: Split;
}

/** The seed the split is drawn with: data.splitSeed, else the run's seed. */
export function splitSeedOf(cfg: Config): number {
  return cfg.data.splitSeed ?? cfg.seed;
}

/** Loads the dataset named by the config and makes its split (the same every time for the same split seed). */
export function prepareData(cfg: Config): PreparedData {
  const ds = loadDataset(cfg.data.dir ?? defaultDataDir());
  const full = makeSplit(ds.labels, ds.n, ds.officialTrain, cfg.data.split, splitSeedOf(cfg));
  const take = (a: Uint32Array) => (cfg.data.subset < 1 ? a.subarray(0, Math.max(1, Math.round(a.length * cfg.data.subset))) : a);
  return { ds, split: { train: take(full.train), val: take(full.val), test: take(full.test) } };
}

export interface TrainOutcome {
  model: Model;
  loss: Loss;
  normalization: Normalization;
  fit: FitResult;
  bestEpoch: number | null;
  /** The final model on validation and test: null when training was stopped and the caller said not to measure it. */
  val: Evaluation | null;
  test: Evaluation | null;
}

/** How a caller follows and steers a run: resume from a checkpoint, receive checkpoints, get the trainer (to stop it). */
export interface RunHooks {
  resume?: TrainState;
  onCheckpoint?: (s: TrainState) => void;
  started?: (trainer: Trainer) => void;
  /** Skip measuring the final model when training was stopped (a pruned trial of nn tune: nobody reads it). */
  skipEvaluationWhenStopped?: boolean;
  /** Start from these parameters (the model's whole flat block) instead of a fresh initialization: fine-tuning. */
  initialParams?: Float32Array;
  /** The model, once built and before training (callbacks that work on its weights). */
  onModel?: (model: Model) => void;
}

export async function runTraining(cfg: Config, data: PreparedData, callbacks: Callback[], hooks: RunHooks = {}): Promise<TrainOutcome> {
  const { ds, split } = data;
  const normalization = fitNormalization(cfg.data.normalize, cfg.data.perPixel, ds.images, split.train, ds.dim);
  const model = new Model(cfg.model, ds.dim, cfg.seed);
  if (hooks.initialParams) {
    if (hooks.initialParams.length !== model.params.data.length) throw new Error(`initial parameters: ${hooks.initialParams.length} values for a model of ${model.params.data.length}`);
    model.params.data.set(hooks.initialParams);
  }
  hooks.onModel?.(model);
  // standardized batches keep their zeros when the first layer takes the shift (data/normalize.ts)
  const norm = new Normalizer(normalization, ds.dim, model.takesInputShift);
  const loss = makeLoss(cfg.training.loss, model.outputActivation);
  const optimizer = makeOptimizer(cfg.training.optimizer, model.params.trainable);
  const es = cfg.training.earlyStopping ? new EarlyStopping(cfg.training.earlyStopping, model.params) : null;
  const plateau = cfg.training.reduceLROnPlateau ? new ReduceLROnPlateau(cfg.training.reduceLROnPlateau) : null;
  const trainer = new Trainer(
    model,
    optimizer,
    loss,
    {
      epochs: cfg.training.epochs,
      batchSize: cfg.training.batchSize,
      learningRate: cfg.training.optimizer.learningRate,
      schedule: cfg.training.schedule,
      l1: cfg.training.l1,
      l2: cfg.training.l2,
      clipNorm: cfg.training.clipNorm,
      augment: cfg.data.augment,
      seed: cfg.seed,
    },
    [...(es ? [es] : []), ...(plateau ? [plateau] : []), ...callbacks],
  );
  hooks.started?.(trainer);
  const fit = await trainer.fit(ds, split.train, split.val, norm, hooks.resume, hooks.onCheckpoint);
  const bestEpoch = es && cfg.training.earlyStopping && cfg.training.earlyStopping.restoreBest ? es.bestEpoch : null;
  const measure = !(fit.interrupted && hooks.skipEvaluationWhenStopped);
  return {
    model,
    loss,
    normalization,
    fit,
    bestEpoch,
    val: measure ? evaluate(model, loss, ds, split.val, norm) : null,
    test: measure ? evaluate(model, loss, ds, split.test, norm) : null,
  };
}
