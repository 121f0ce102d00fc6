/** metrics.json and metrics.csv of a run, written atomically. */
import * as path from 'node:path';
import type { EpochLog } from '../train/callbacks';
import type { Evaluation } from '../train/evaluate';
import { perClassMetrics } from '../train/metrics';
import { writeFileAtomic } from './atomic';

export const METRICS_FORMAT = 1;

export interface RunReport {
  config: string; // the config file it came from
  history: EpochLog[];
  bestEpoch: number | null; // the epoch whose weights were kept (restoreBest), else null
  stopReason: string;
  warnings: string[]; // from the diagnostics: vanishing or exploding gradients, dying ReLUs
  trainSeconds: number;
  totalSeconds: number;
  split: { mode: string; seed: number; train: number; val: number; test: number };
  val: Evaluation | null; // null: a stopped run whose final model was not measured
  test: Evaluation | null;
  environment: Record<string, string>;
}

export function writeMetrics(dir: string, r: RunReport): void {
  const samples = r.history.reduce((a, h) => a + h.samplesPerSecond * h.seconds, 0);
  const json = {
    format: METRICS_FORMAT,
    config: r.config,
    epochsRun: r.history.length,
    bestEpoch: r.bestEpoch,
    stopReason: r.stopReason,
    warnings: r.warnings,
    trainSeconds: round(r.trainSeconds, 3),
    totalSeconds: round(r.totalSeconds, 3),
    samplesPerSecond: Math.round(samples / r.trainSeconds),
    split: r.split,
    epochs: r.history.map((h) => ({
      epoch: h.epoch,
      loss: round(h.loss, 6),
      accuracy: round(h.accuracy, 6),
      val_loss: round(h.val_loss, 6),
      val_accuracy: round(h.val_accuracy, 6),
      lr: h.lr,
      seconds: round(h.seconds, 3),
      samplesPerSecond: Math.round(h.samplesPerSecond),
      // per dense layer, measured on about 10 steps an epoch: weight-gradient norm, ‖Δw‖/‖w‖ of a step, ReLU units dead on all of them
      diagnostics: h.diagnostics?.map((d) => ({ layer: d.layer, gradNorm: sig(d.gradNorm), updateRatio: sig(d.updateRatio), maxUpdateRatio: sig(d.maxUpdateRatio), ...(d.deadRelu === undefined ? {} : { deadRelu: round(d.deadRelu, 4) }) })),
    })),
    val: r.val && { samples: r.val.samples, loss: round(r.val.loss, 6), accuracy: round(r.val.accuracy, 6) },
    test: r.test && {
      samples: r.test.samples,
      loss: round(r.test.loss, 6),
      accuracy: round(r.test.accuracy, 6),
      confusion: r.test.confusion,
      perClass: perClassMetrics(r.test.confusion).map((c) => ({ ...c, precision: round(c.precision, 6), recall: round(c.recall, 6), f1: round(c.f1, 6) })),
    },
    environment: r.environment,
  };
  writeFileAtomic(path.join(dir, 'metrics.json'), JSON.stringify(json, null, 2) + '\n');
  writeEpochsCsv(dir, r.history);
}

/**
 * metrics.csv: one row per epoch. Written after every epoch while a run trains (as Keras'
 * CSVLogger does), so a reader (nn serve's runs page) can follow it live; metrics.json, with
 * the test results, comes at the end.
 */
export function writeEpochsCsv(dir: string, history: EpochLog[]): void {
  const header = 'epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second';
  const rows = history.map((h) => [h.epoch, round(h.loss, 6), round(h.accuracy, 6), round(h.val_loss, 6), round(h.val_accuracy, 6), h.lr, round(h.seconds, 3), Math.round(h.samplesPerSecond)].join(','));
  writeFileAtomic(path.join(dir, 'metrics.csv'), [header, ...rows].join('\n') + '\n');
}

function round(v: number, digits: number): number {
  if (!Number.isFinite(v)) return v;
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/** v to 4 significant digits (diagnostics span many orders of magnitude; non-finite values as null in JSON). */
function sig(v: number): number {
  return Number.isFinite(v) ? +v.toPrecision(4) : v;
}
