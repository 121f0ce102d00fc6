/**
 * The networks the bench trains, by name. W is the benchmark network of the
 * peers' scripts; the others are W changed in one way each (wider, batch
 * normalization, another activation) or a config from configs/ as a user runs
 * it, so that each can be timed against W or against itself in one session.
 */
import * as path from 'node:path';
import { loadConfig, resolveConfig } from '../config/load';
import type { Config } from '../config/schema';

const REPO = path.resolve(__dirname, '..', '..');

export const WORKLOAD_NAMES = ['w', 'wide', 'batchnorm', 'elu', 'mlp', 'best', 'best-noaug'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface Workload {
  name: WorkloadName;
  /** One line for tables: the network and what differs from W. */
  title: string;
  config: Config;
}

type Hidden = { units: number; activation: string; batchnorm?: boolean };

/** W's layers with the given hidden layers: dense, [batchnorm], dropout 0.2 each, then softmax over 10. */
export function wLayers(hidden: Hidden[]): unknown[] {
  return [
    ...hidden.flatMap((h) => [
      { type: 'dense', units: h.units, activation: h.activation },
      ...(h.batchnorm ? [{ type: 'batchnorm' }] : []),
      { type: 'dropout', rate: 0.2 },
    ]),
    { type: 'dense', units: 10, activation: 'softmax' },
  ];
}

function w(hidden: Hidden[], epochs: number): Config {
  return resolveConfig(
    {
      seed: 42,
      data: { normalize: 'scale' },
      model: { init: 'xavier', layers: wLayers(hidden) },
      training: { epochs, batchSize: 64, optimizer: { type: 'adam', learningRate: 0.001 }, earlyStopping: false },
    },
    'bench',
  );
}

/** A config file as users run it, for a fixed number of epochs (no early stop). */
function file(name: string, epochs: number, overrides: Record<string, unknown> = {}): Config {
  return loadConfig(path.join(REPO, 'configs', name), { 'training.epochs': epochs, 'training.earlyStopping': false, ...overrides }).config;
}

const relu = (units: number, extra: Partial<Hidden> = {}): Hidden => ({ units, activation: 'relu', ...extra });

export function workload(name: WorkloadName, epochs: number): Workload {
  switch (name) {
    case 'w':
      return { name, title: 'W: 784-128-64-10, ReLU, dropout 0.2, Adam, batch 64, x/255', config: w([relu(128), relu(64)], epochs) };
    case 'wide':
      return { name, title: 'wide: 784-1024-1024-10 (W otherwise)', config: w([relu(1024), relu(1024)], epochs) };
    case 'batchnorm':
      return { name, title: 'W with batch normalization after each hidden dense layer', config: w([relu(128, { batchnorm: true }), relu(64, { batchnorm: true })], epochs) };
    case 'elu':
      return { name, title: 'W with ELU instead of ReLU', config: w([{ units: 128, activation: 'elu' }, { units: 64, activation: 'elu' }], epochs) };
    case 'mlp':
      return { name, title: 'configs/mlp.yaml (standardized pixels, He init)', config: file('mlp.yaml', epochs) };
    case 'best':
      return { name, title: 'configs/best.yaml (784-800-800-10, batch 128, augmented)', config: file('best.yaml', epochs) };
    case 'best-noaug':
      return { name, title: 'configs/best.yaml without augmentation', config: file('best.yaml', epochs, { 'data.augment': false }) };
  }
}

/** The widths of the network's dense layers, input first: 784, 128, 64, 10 for W. */
export function denseWidths(cfg: Config, inDim = 784): number[] {
  const widths = [inDim];
  for (const l of cfg.model.layers) if (l.type === 'dense') widths.push(l.units);
  return widths;
}
