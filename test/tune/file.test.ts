/**
 * The tune file: every mistake is one line naming the file, the key and what was
 * expected, found before anything runs; a good file resolves to the search it means.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTuneFile } from '../../src/tune/file';
import { UserError } from '../../src/util/errors';
import { tempDir } from '../helpers/tmp';

const BASE = `seed: 7
model:
  layers:
    - { type: dense, units: 32, activation: relu }
    - { type: dropout, rate: 0.1 }
    - { type: dense, units: 10, activation: softmax }
training: { epochs: 2, optimizer: { type: adam, learningRate: 0.003 } }
`;
const GOOD_SPACE = `space:
  training.optimizer: { type: choice, values: [ {type: adam, learningRate: 0.001}, {type: momentum, learningRate: 0.01, momentum: 0.9} ] }
  training.optimizer.momentum: { type: float, low: 0.5, high: 0.99, when: { training.optimizer.type: [momentum] } }
  model.layers.0.units: { type: int, low: 16, high: 64, log: true }
  model.layers.1.rate: { type: float, low: 0.0, high: 0.5, step: 0.1 }
`;

let dir: string;
beforeAll(() => {
  dir = tempDir('nn-tunefile-');
  fs.writeFileSync(path.join(dir, 'base.yaml'), BASE);
});

function write(text: string, name = 't.yaml'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** The one-line message loading `text` gives (exit code 2). */
function errorOf(text: string): string {
  const f = write(text);
  try {
    loadTuneFile(f);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message.replace(f, 'FILE');
  }
  throw new Error('expected an error');
}

describe('the tune file: mistakes, one line each', () => {
  it('an unknown key, with a suggestion', () => {
    expect(errorOf(`base: base.yaml\nmetrc: val_loss\ntrials: 3\n${GOOD_SPACE}`)).toBe('FILE: metrc: unknown key; did you mean "metric"?');
  });
  it('a path that does not exist in the base', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.7.units: { type: int, low: 1, high: 4 }\n`)).toMatch(/^FILE: space\.model\.layers\.7\.units: no such key in the base config base\.yaml .*expected a dotted path/);
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  training.optimizer.momentum: { type: float, low: 0.1, high: 0.9 }\n`)).toMatch(/^FILE: space\.training\.optimizer\.momentum: no such key/); // adam has none, and no choice brings one
  });
  it('a when on an unknown path', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.1.rate: { type: float, low: 0, high: 0.5, when: { training.optimiser.type: [adam] } }\n`)).toMatch(/^FILE: space\.model\.layers\.1\.rate\.when\.training\.optimiser\.type: no such key in the base config base\.yaml or in the space/);
  });
  it('an empty choice', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  training.batchSize: { type: choice, values: [] }\n`)).toBe('FILE: space.training.batchSize.values: expected at least 1 item(s); got 0');
  });
  it('low > high', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.0.units: { type: int, low: 64, high: 16 }\n`)).toBe('FILE: space.model.layers.0.units: low 64 > high 16; expected low <= high');
  });
  it('log with low <= 0', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  training.optimizer.learningRate: { type: float, low: 0, high: 0.1, log: true }\n`)).toBe('FILE: space.training.optimizer.learningRate: log needs low > 0; got low 0');
  });
  it('a grid over a float without a step', () => {
    expect(errorOf(`base: base.yaml\nmethod: grid\nspace:\n  model.layers.1.rate: { type: float, low: 0, high: 0.5 }\n`)).toBe('FILE: space.model.layers.1.rate: a grid over a float needs a step; expected step (e.g. step: 0.1)');
  });
  it('an int with fractional bounds; log with a step', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.0.units: { type: int, low: 1.5, high: 4 }\n`)).toMatch(/expected whole numbers low and high for an int; got 1\.5, 4/);
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.0.units: { type: int, low: 1, high: 64, log: true, step: 2 }\n`)).toMatch(/log and step together/);
  });
  it('a key that would change the split', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  data.splitSeed: { type: int, low: 1, high: 4 }\n`)).toMatch(/^FILE: space\.data\.splitSeed: every trial is trained and judged on the same split/);
  });
  it('a value no trial could train with, through nn train\'s own checks', () => {
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.1.rate: { type: float, low: 0, high: 1.5 }\n`)).toBe('FILE: space.model.layers.1.rate = 1.5: model.layers[1].rate: expected a number < 1; got 1.5');
    expect(errorOf(`base: base.yaml\ntrials: 3\nspace:\n  model.layers.0.units: { type: int, low: 16, high: 1000000000, log: true }\n`)).toMatch(/^FILE: space\.model\.layers\.0\.units = 1000000000: model\.layers\[0\]\.units: 1000000000 units make the network need about .* the limit is 4\.0 GiB/);
  });
  it('no budget for a random search', () => {
    expect(errorOf(`base: base.yaml\nmethod: random\n${GOOD_SPACE}`)).toMatch(/^FILE: trials: expected a number of trials, or a timeout/);
  });
  it('a bad timeout, metric, method or pruner', () => {
    expect(errorOf(`base: base.yaml\ntimeout: soon\n${GOOD_SPACE}`)).toMatch(/^FILE: timeout: /);
    expect(errorOf(`base: base.yaml\ntrials: 2\nmetric: accuracy\n${GOOD_SPACE}`)).toBe('FILE: metric: expected one of val_accuracy, val_loss; got "accuracy"');
    expect(errorOf(`base: base.yaml\ntrials: 2\nmethod: bayes\n${GOOD_SPACE}`)).toBe('FILE: method: expected one of grid, random, tpe; got "bayes"');
    expect(errorOf(`base: base.yaml\ntrials: 2\npruner: { type: hyperband }\n${GOOD_SPACE}`)).toMatch(/^FILE: pruner/);
  });
  it('a missing base config, and a YAML error, name their files', () => {
    expect(errorOf(`base: nowhere.yaml\ntrials: 2\n${GOOD_SPACE}`)).toMatch(/nowhere\.yaml: config file not found$/);
    expect(errorOf(`base: base.yaml\ntrials: [\n`)).toMatch(/^FILE:\d+:\d+: YAML syntax error/);
  });
});

describe('the tune file: what it resolves to', () => {
  it('params apply shortest path first; defaults filled; the split held at the base seed', () => {
    const s = loadTuneFile(write(`base: base.yaml\nmethod: random\ntrials: 5\n${GOOD_SPACE}`, 'mine.yaml'));
    expect(s.name).toBe('mine');
    expect(s.space.map((p) => p.path)).toEqual(['training.optimizer', 'training.optimizer.momentum', 'model.layers.0.units', 'model.layers.1.rate']); // by depth, then the file's order
    expect(s.base.data.splitSeed).toBe(7);
    expect(s).toMatchObject({ metric: 'val_accuracy', seed: 42, startupTrials: 10, trials: 5, timeoutSeconds: null, retries: 2, storage: null, pruner: { type: 'none' } });
    expect(s.space[1].when).toEqual([{ path: 'training.optimizer.type', values: ['momentum'] }]);
  });
  it('a grid\'s budget defaults to (and is capped at) its size; durations read as seconds', () => {
    const grid = `base: base.yaml\nmethod: grid\ntimeout: 1.5m\nspace:\n  model.layers.1.rate: { type: float, low: 0, high: 0.5, step: 0.25 }\n  training.batchSize: { type: choice, values: [32, 64] }\n`;
    expect(loadTuneFile(write(grid))).toMatchObject({ trials: 6, timeoutSeconds: 90 });
    expect(loadTuneFile(write(grid.replace('method: grid', 'method: grid\ntrials: 100'))).trials).toBe(6);
    expect(loadTuneFile(write(grid), { trials: 4, timeout: '2h', workers: 3 })).toMatchObject({ trials: 4, timeoutSeconds: 7200, workers: 3 });
  });
});
