/**
 * A trained model measured on its run's own data split: the run's config.json
 * (beside the model) says which data and split it was trained on, so the test
 * images are the ones it never saw. For nn eval and nn serve's run pages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRawConfig, resolveConfig } from '../config/load';
import type { Dataset } from '../data/mnist';
import { Normalizer } from '../data/normalize';
import { loadModel } from '../io/modelfile';
import { makeLoss } from '../nn/losses';
import { UserError } from '../util/errors';
import { evaluate, type Evaluation } from './evaluate';
import { prepareData } from './pipeline';

export type SplitName = 'test' | 'val' | 'train';

export interface RunEvaluation {
  evaluation: Evaluation;
  ds: Dataset;
  indices: Uint32Array; // the split's samples, in the order of evaluation.guesses
}

export function evaluateRun(modelPath: string, splitName: SplitName): RunEvaluation {
  const saved = loadModel(modelPath);
  const cfgPath = path.join(path.dirname(modelPath), 'config.json');
  if (!fs.existsSync(cfgPath)) throw new UserError(`${cfgPath}: not found; eval needs the run's config.json beside the model to rebuild its data split`);
  const config = resolveConfig(readRawConfig(cfgPath), cfgPath);
  const { ds, split } = prepareData(config);
  if (ds.rows !== saved.rows || ds.cols !== saved.cols) {
    throw new UserError(`${ds.dir}: images are ${ds.rows}x${ds.cols} but ${modelPath} expects ${saved.rows}x${saved.cols}`);
  }
  const loss = makeLoss(config.training.loss, saved.model.outputActivation);
  const indices = split[splitName];
  const evaluation = evaluate(saved.model, loss, ds, indices, new Normalizer(saved.normalization, ds.dim, saved.model.takesInputShift));
  return { evaluation, ds, indices };
}

export interface Misclassified {
  index: number; // the sample's index in the data set
  label: number;
  guess: number;
  pixels: Uint8Array; // rows x cols, MNIST's polarity
}

/** Every sample of the split the model got wrong, in split order. */
export function misclassified(r: RunEvaluation): Misclassified[] {
  const { evaluation, ds, indices } = r;
  const out: Misclassified[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (evaluation.guesses[k] !== ds.labels[i]) out.push({ index: i, label: ds.labels[i], guess: evaluation.guesses[k], pixels: ds.images.subarray(i * ds.dim, (i + 1) * ds.dim) });
  }
  return out;
}
