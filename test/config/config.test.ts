/**
 * The config contract: defaults, the files we ship, YAML and JSON, command-line
 * overrides, and the quality of every error message (one line, names the file
 * and the key, says what was expected and what was found).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyOverrides, loadConfig, readRawConfig, resolveConfig, suggest } from '../../src/config/load';
import { UserError } from '../../src/util/errors';
import { tempDir } from '../helpers/tmp';

const REPO = path.resolve(__dirname, '../..');
const FILE = 'conf/tiny.yaml'; // the label resolveConfig puts in front of its messages

let tmp: string;
beforeAll(() => {
  tmp = tempDir('nn-config-test-');
});

/** Writes `text` to a fresh file in the temp folder and returns its path. */
function write(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

/** A valid raw config: 784-32-10 with dropout. Each call returns a fresh copy to mutate. */
function base(): Record<string, any> {
  return {
    model: {
      layers: [
        { type: 'dense', units: 32, activation: 'relu' },
        { type: 'dropout', rate: 0.1 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
  };
}

/** The thrown error of fn, checked to be a one-line UserError with exit code 2. */
function errorOf(fn: () => unknown): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(UserError);
  const err = caught as UserError;
  expect(err.exitCode).toBe(2);
  expect(err.message).not.toContain('\n');
  expect(err.message).not.toContain('\r');
  return err;
}

/** The message for a raw config edited by `edit`. */
function resolveError(edit: (c: Record<string, any>) => void): string {
  const c = base();
  edit(c);
  const msg = errorOf(() => resolveConfig(c, FILE)).message;
  expect(msg.startsWith(`${FILE}: `), msg).toBe(true);
  return msg;
}

describe('defaults', () => {
  it('a config with only model.layers resolves with every default filled in', () => {
    const c = resolveConfig(base(), FILE);
    expect(c.seed).toBe(42);
    expect(c.data).toEqual({ split: [0.8, 0.1, 0.1], normalize: 'standardize', perPixel: false, subset: 1, augment: false });
    expect(c.data.dir).toBeUndefined();
    expect(c.model.init).toBe('he');
    expect(c.model.initStd).toBe(0.01);
    expect(c.training.epochs).toBe(20);
    expect(c.training.batchSize).toBe(64);
    expect(c.training.loss).toBe('cross_entropy');
    expect(c.training.optimizer).toEqual({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
    expect(c.training.l1).toBe(0);
    expect(c.training.l2).toBe(0);
    expect(c.training.clipNorm).toBe(false);
    expect(c.training.schedule).toEqual({ type: 'constant', warmupEpochs: 0 });
    expect(c.training.earlyStopping).toEqual({ monitor: 'val_loss', patience: 3, minDelta: 0, restoreBest: true });
  });

  it('fills in layer and optimizer defaults', () => {
    const c = base();
    c.model.layers[0] = { type: 'dense', units: 16 };
    c.training = { optimizer: { type: 'momentum' } };
    const r = resolveConfig(c, FILE);
    expect(r.model.layers[0]).toEqual({ type: 'dense', units: 16, activation: 'linear' });
    expect(r.training.optimizer).toEqual({ type: 'momentum', learningRate: 0.01, momentum: 0.9, nesterov: false });
    expect(resolveConfig({ ...base(), training: { optimizer: { type: 'sgd' } } }, FILE).training.optimizer).toEqual({
      type: 'sgd',
      learningRate: 0.01,
      momentum: 0,
      nesterov: false,
    });
  });

  it('keeps what the user wrote over the defaults', () => {
    const c = base();
    c.seed = 7;
    c.data = { split: 'official', normalize: 'scale', subset: 0.5 };
    c.training = { epochs: 3, batchSize: 128, optimizer: { type: 'rmsprop', learningRate: 0.01 }, earlyStopping: false };
    const r = resolveConfig(c, FILE);
    expect(r.seed).toBe(7);
    expect(r.data.split).toBe('official');
    expect(r.data.normalize).toBe('scale');
    expect(r.data.subset).toBe(0.5);
    expect(r.training.epochs).toBe(3);
    expect(r.training.batchSize).toBe(128);
    expect(r.training.optimizer).toEqual({ type: 'rmsprop', learningRate: 0.01, rho: 0.9, epsilon: 1e-8 });
    expect(r.training.earlyStopping).toBe(false);
  });

  it('does not mutate the raw config it is given', () => {
    const c = base();
    const before = JSON.stringify(c);
    resolveConfig(c, FILE);
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('files', () => {
  it('configs/mlp.yaml loads as the 784-128-64-10 network', () => {
    const { config, name, file } = loadConfig(path.join(REPO, 'configs/mlp.yaml'));
    expect(name).toBe('mlp');
    expect(file).toBe(path.join(REPO, 'configs/mlp.yaml'));
    expect(config.seed).toBe(42);
    expect(config.model.layers).toEqual([
      { type: 'dense', units: 128, activation: 'relu' },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 64, activation: 'relu' },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 10, activation: 'softmax' },
    ]);
    expect(config.training.optimizer.type).toBe('adam');
    expect(config.training.epochs).toBe(30);
    expect(config.training.reduceLROnPlateau).toEqual({ monitor: 'val_loss', factor: 0.5, patience: 2, minDelta: 0, minLr: 1e-6 });
  });

  it('YAML (.yaml and .yml) and JSON give the same resolved config', () => {
    const yaml = [
      'seed: 3',
      'model:',
      '  layers:',
      '    - { type: dense, units: 32, activation: relu }',
      '    - type: dropout',
      '      rate: 0.1',
      '    - { type: dense, units: 10, activation: softmax }',
      'training:',
      '  epochs: 2',
      '  optimizer: { type: sgd, learningRate: 0.1 }',
      '',
    ].join('\n');
    const json = JSON.stringify({
      seed: 3,
      model: base().model,
      training: { epochs: 2, optimizer: { type: 'sgd', learningRate: 0.1 } },
    });
    const a = loadConfig(write('net.yaml', yaml));
    const b = loadConfig(write('net.yml', yaml));
    const c = loadConfig(write('net.json', json));
    const d = loadConfig(write('NET.JSON', json)); // the extension is matched case-insensitively
    expect(a.name).toBe('net');
    expect(c.name).toBe('net');
    expect(a.config.seed).toBe(3);
    expect(a.config.training.optimizer).toEqual({ type: 'sgd', learningRate: 0.1, momentum: 0, nesterov: false });
    expect(b.config).toEqual(a.config);
    expect(c.config).toEqual(a.config);
    expect(d.config).toEqual(a.config);
  });

  it('readRawConfig returns the file as written, without defaults', () => {
    const p = write('raw.yaml', 'seed: 5\ntraining: { epochs: 1 }\n');
    expect(readRawConfig(p)).toEqual({ seed: 5, training: { epochs: 1 } });
  });

  it('a missing file: "config file not found"', () => {
    const p = path.join(tmp, 'nope.yaml');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}: config file not found`);
  });

  it('a folder instead of a file', () => {
    expect(errorOf(() => readRawConfig(tmp)).message).toBe(`${tmp}: is a folder; expected a config file`);
  });

  it('an unknown extension names the formats it accepts', () => {
    const p = write('net.toml', 'seed = 1\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}: unknown config format .toml; expected .yaml, .yml or .json`);
    const q = write('netconfig', 'seed: 1\n');
    expect(errorOf(() => loadConfig(q)).message).toBe(`${q}: unknown config format (no extension); expected .yaml, .yml or .json`);
  });

  it('an empty file or a top-level list is not a config', () => {
    for (const [name, text] of [['empty.yaml', ''], ['list.yaml', '- 1\n- 2\n'], ['scalar.json', '42']]) {
      const p = write(name, text);
      expect(errorOf(() => loadConfig(p)).message).toBe(`${p}: expected a mapping of keys (seed, data, model, training) at the top level`);
    }
  });
});

describe('syntax errors report file:line:column', () => {
  it('YAML: an unclosed flow mapping', () => {
    const p = write('unclosed.yaml', 'model:\n  layers:\n    - { type: dense, units: 10\n');
    const msg = errorOf(() => loadConfig(p)).message;
    expect(msg).toMatch(new RegExp(`^${escape(p)}:4:1: YAML syntax error: Flow map .*end with a \\}$`));
  });

  it('YAML: a duplicate key', () => {
    const p = write('dup.yaml', 'seed: 1\nseed: 2\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}:2:1: YAML syntax error: Map keys must be unique`);
  });

  it('YAML: tabs as indentation', () => {
    const p = write('tabs.yaml', 'model:\n\tlayers: []\n');
    expect(errorOf(() => loadConfig(p)).message).toMatch(new RegExp(`^${escape(p)}:2:\\d+: YAML syntax error: Tabs`));
  });

  it('JSON: a missing comma, on the line where the parser stopped', () => {
    const p = write('comma.json', '{\n  "seed": 1\n  "model": {}\n}\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}:3:3: JSON syntax error: Expected ',' or '}' after property value`);
  });

  it('JSON: a trailing comma', () => {
    const p = write('trailing.json', '{\n  "seed": 1,\n}\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}:3:1: JSON syntax error: Expected double-quoted property name`);
  });

  it('JSON: an unexpected token stays one line and does not echo the file', () => {
    // V8 puts (part of) the source text, newlines included, into this message.
    const p = write('token.json', '{\n  "model": {\n    "layers": [,]\n  }\n}\n');
    const msg = errorOf(() => loadConfig(p)).message;
    expect(msg).toMatch(new RegExp(`^${escape(p)}(:\\d+:\\d+)?: JSON syntax error: Unexpected token ','$`));
    expect(msg).not.toContain('"layers"');
  });

  // V8 (Node 20) gives no position for "Unexpected token" errors: load.ts locates them itself.
  it('JSON: an unexpected token reports line:column', () => {
    const p = write('token2.json', '{\n  "model": x\n}\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}:2:12: JSON syntax error: Unexpected token 'x'`);
  });

  it('JSON: an empty file', () => {
    const p = write('empty.json', '');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}:1:1: JSON syntax error: Unexpected end of JSON input`);
  });
});

describe('validation messages', () => {
  it('an unknown optimizer lists the known ones', () => {
    expect(resolveError((c) => (c.training = { optimizer: { type: 'adamw' } }))).toBe(
      `${FILE}: training.optimizer.type: expected one of sgd, momentum, adam, rmsprop, adagrad; got "adamw"`,
    );
  });

  it('an optimizer without a type', () => {
    expect(resolveError((c) => (c.training = { optimizer: { learningRate: 0.1 } }))).toBe(
      `${FILE}: training.optimizer.type: expected one of sgd, momentum, adam, rmsprop, adagrad; got nothing`,
    );
  });

  describe('unknown keys get a did-you-mean', () => {
    const cases: [string, (c: Record<string, any>) => void, string, string][] = [
      ['learningrate (case)', (c) => (c.training = { optimizer: { type: 'adam', learningrate: 0.01 } }), 'training.optimizer.learningrate', 'learningRate'],
      ['lr (alias)', (c) => (c.training = { optimizer: { type: 'sgd', lr: 0.1 } }), 'training.optimizer.lr', 'learningRate'],
      ['learning_rate (snake case)', (c) => (c.training = { optimizer: { type: 'rmsprop', learning_rate: 0.1 } }), 'training.optimizer.learning_rate', 'learningRate'],
      ['bathSize (typo)', (c) => (c.training = { bathSize: 32 }), 'training.bathSize', 'batchSize'],
      ['batch_size', (c) => (c.training = { batch_size: 32 }), 'training.batch_size', 'batchSize'],
      ['rat on a dropout layer', (c) => (c.model.layers[1] = { type: 'dropout', rat: 0.1 }), 'model.layers[1].rat', 'rate'],
      ['neurons on a dense layer', (c) => (c.model.layers[0] = { type: 'dense', neurons: 32 }), 'model.layers[0].neurons', 'units'],
      ['activaton', (c) => (c.model.layers[0].activaton = 'relu'), 'model.layers[0].activaton', 'activation'],
      ['top-level trainig', (c) => (c.trainig = { epochs: 2 }), 'trainig', 'training'],
      ['top-level Seed', (c) => (c.Seed = 1), 'Seed', 'seed'],
      ['data.normalise', (c) => (c.data = { normalise: 'scale' }), 'data.normalise', 'normalize'],
      ['earlyStopping.patients', (c) => (c.training = { earlyStopping: { patients: 2 } }), 'training.earlyStopping.patients', 'patience'],
      ['momentum optimizer nesterow', (c) => (c.training = { optimizer: { type: 'momentum', nesterow: true } }), 'training.optimizer.nesterow', 'nesterov'],
    ];
    for (const [label, edit, at, guess] of cases) {
      it(label, () => {
        expect(resolveError(edit)).toBe(`${FILE}: ${at}: unknown key; did you mean "${guess}"?`);
      });
    }

    it('a key unlike any known one lists what is allowed instead', () => {
      expect(resolveError((c) => (c.zzzzzz = 1))).toBe(`${FILE}: zzzzzz: unknown key; expected one of seed, data, model, training`);
      expect(resolveError((c) => (c.model.layers[1].colour = 'red'))).toBe(`${FILE}: model.layers[1].colour: unknown key; expected one of type, rate`);
    });

    it('beta1 is an adam key, not an sgd one', () => {
      expect(resolveError((c) => (c.training = { optimizer: { type: 'sgd', beta1: 0.9 } }))).toMatch(
        /^conf\/tiny\.yaml: training\.optimizer\.beta1: unknown key; expected one of type, learningRate, momentum, nesterov$/,
      );
    });
  });

  describe('wrong types', () => {
    it('epochs: "ten"', () => {
      expect(resolveError((c) => (c.training = { epochs: 'ten' }))).toBe(`${FILE}: training.epochs: expected a number; got "ten"`);
    });
    it('epochs: 2.5', () => {
      expect(resolveError((c) => (c.training = { epochs: 2.5 }))).toBe(`${FILE}: training.epochs: expected an integer; got 2.5`);
    });
    it('seed: "42" (a quoted number)', () => {
      expect(resolveError((c) => (c.seed = '42'))).toBe(`${FILE}: seed: expected a number; got "42"`);
    });
    it('layers: a mapping instead of a list', () => {
      expect(resolveError((c) => (c.model.layers = { type: 'dense', units: 10 }))).toBe(`${FILE}: model.layers: expected a list; got a mapping`);
    });
    it('a null layer', () => {
      expect(resolveError((c) => (c.model.layers[0] = null))).toBe(`${FILE}: model.layers[0]: expected a mapping; got null`);
    });
    it('optimizer: "adam" (a string instead of a mapping)', () => {
      expect(resolveError((c) => (c.training = { optimizer: 'adam' }))).toBe(`${FILE}: training.optimizer: expected a mapping; got "adam"`);
    });
    it('earlyStopping: true', () => {
      expect(resolveError((c) => (c.training = { earlyStopping: true }))).toBe(`${FILE}: training.earlyStopping: expected false or a mapping; got true`);
    });
    it('model missing', () => {
      expect(resolveError((c) => delete c.model)).toBe(`${FILE}: model: missing; expected a mapping`);
    });
    it('units missing on a dense layer', () => {
      expect(resolveError((c) => delete c.model.layers[0].units)).toBe(`${FILE}: model.layers[0].units: missing; expected a number`);
    });
  });

  describe('unknown names', () => {
    it('layer type', () => {
      expect(resolveError((c) => (c.model.layers[0].type = 'conv'))).toBe(`${FILE}: model.layers[0].type: expected one of dense, dropout, batchnorm, residual; got "conv"`);
    });
    it('activation', () => {
      expect(resolveError((c) => (c.model.layers[0].activation = 'relu6'))).toBe(
        `${FILE}: model.layers[0].activation: expected one of linear, relu, leaky_relu, elu, sigmoid, tanh, softmax; got "relu6"`,
      );
    });
    it('alpha: per activation', () => {
      expect(resolveError((c) => Object.assign(c.model.layers[0], { activation: 'leaky_relu', alpha: 1.5 }))).toBe(`${FILE}: model.layers[0].alpha: expected a leaky_relu slope in [0, 1); got 1.5`);
      expect(resolveError((c) => Object.assign(c.model.layers[0], { activation: 'elu', alpha: 0 }))).toBe(`${FILE}: model.layers[0].alpha: expected an elu alpha above 0; got 0`);
      expect(resolveError((c) => Object.assign(c.model.layers[0], { activation: 'tanh', alpha: 0.5 }))).toBe(`${FILE}: model.layers[0].alpha: alpha applies to leaky_relu and elu only; this layer's activation is tanh`);
    });
    it('loss', () => {
      expect(resolveError((c) => (c.training = { loss: 'ce' }))).toBe(`${FILE}: training.loss: expected one of cross_entropy, mse, binary_cross_entropy; got "ce"`);
    });
    it('normalize', () => {
      expect(resolveError((c) => (c.data = { normalize: 'minmax' }))).toBe(`${FILE}: data.normalize: expected one of scale, standardize; got "minmax"`);
    });
    it('early-stopping monitor', () => {
      expect(resolveError((c) => (c.training = { earlyStopping: { monitor: 'loss' } }))).toBe(
        `${FILE}: training.earlyStopping.monitor: expected one of val_loss, val_accuracy; got "loss"`,
      );
    });
  });

  describe('impossible values', () => {
    it('learningRate 0', () => {
      expect(resolveError((c) => (c.training = { optimizer: { type: 'adam', learningRate: 0 } }))).toBe(
        `${FILE}: training.optimizer.learningRate: expected a number > 0; got 0`,
      );
    });
    it('learningRate negative', () => {
      expect(resolveError((c) => (c.training = { optimizer: { type: 'sgd', learningRate: -0.1 } }))).toBe(
        `${FILE}: training.optimizer.learningRate: expected a number > 0; got -0.1`,
      );
    });
    it('dropout rate 1', () => {
      expect(resolveError((c) => (c.model.layers[1].rate = 1))).toBe(`${FILE}: model.layers[1].rate: expected a number < 1; got 1`);
    });
    it('dropout rate -0.1', () => {
      expect(resolveError((c) => (c.model.layers[1].rate = -0.1))).toBe(`${FILE}: model.layers[1].rate: expected a number >= 0; got -0.1`);
    });
    it('dropout rate 0 is allowed', () => {
      const c = base();
      c.model.layers[1].rate = 0;
      expect(resolveConfig(c, FILE).model.layers[1]).toEqual({ type: 'dropout', rate: 0 });
    });
    it('epochs 0', () => {
      expect(resolveError((c) => (c.training = { epochs: 0 }))).toBe(`${FILE}: training.epochs: expected a number >= 1; got 0`);
    });
    it('batchSize 0', () => {
      expect(resolveError((c) => (c.training = { batchSize: 0 }))).toBe(`${FILE}: training.batchSize: expected a number >= 1; got 0`);
    });
    it('units 0 on a hidden layer', () => {
      expect(resolveError((c) => (c.model.layers[0].units = 0))).toBe(`${FILE}: model.layers[0].units: expected a number >= 1; got 0`);
    });
    it('seed -1', () => {
      expect(resolveError((c) => (c.seed = -1))).toBe(`${FILE}: seed: expected a number >= 0; got -1`);
    });
    it('subset 0 and 1.5', () => {
      expect(resolveError((c) => (c.data = { subset: 0 }))).toBe(`${FILE}: data.subset: expected a number > 0; got 0`);
      expect(resolveError((c) => (c.data = { subset: 1.5 }))).toBe(`${FILE}: data.subset: expected a number <= 1; got 1.5`);
    });
    it('split ratios that do not sum to 1', () => {
      expect(resolveError((c) => (c.data = { split: [0.5, 0.3, 0.3] }))).toBe(
        `${FILE}: data.split: expected three ratios that sum to 1; got [0.5, 0.3, 0.3] (sum 1.1)`,
      );
    });
    it('split ratios that sum to 1 up to rounding are accepted', () => {
      const c = base();
      c.data = { split: [0.7, 0.2, 0.1] }; // 0.7 + 0.2 + 0.1 = 0.9999999999999999
      expect(resolveConfig(c, FILE).data.split).toEqual([0.7, 0.2, 0.1]);
    });
    it('a split with an empty part', () => {
      expect(resolveError((c) => (c.data = { split: [0.9, 0.1, 0] }))).toBe(
        `${FILE}: data.split: expected train, validation and test ratios all above 0; got [0.9, 0.1, 0]`,
      );
    });
    it('a split ratio above 1', () => {
      expect(resolveError((c) => (c.data = { split: [1.5, -0.25, -0.25] }))).toMatch(/^conf\/tiny\.yaml: data\.split\[\d\]: expected a number (<= 1; got 1\.5|>= 0; got -0\.25)$/);
    });
    it('a split of two ratios, or a misspelt "official"', () => {
      expect(resolveError((c) => (c.data = { split: [0.9, 0.1] }))).toBe(`${FILE}: data.split: expected "official" or a list of 3 items; got a list`);
      expect(resolveError((c) => (c.data = { split: 'offical' }))).toBe(`${FILE}: data.split: expected "official" or a list; got "offical"`);
    });
    it('last layer with 5 units', () => {
      expect(resolveError((c) => (c.model.layers[2].units = 5))).toBe(`${FILE}: model.layers[2].units: expected 10 (one unit per class) on the last layer; got 5`);
    });
    it('a dropout layer last', () => {
      expect(
        resolveError((c) => {
          c.model.layers[2].activation = 'relu';
          c.model.layers.push({ type: 'dropout', rate: 0.5 });
        }),
      ).toBe(`${FILE}: model.layers[3].type: expected the last layer to be dense with 10 units (one per class); got dropout`);
    });
    it('softmax on a hidden layer', () => {
      expect(resolveError((c) => (c.model.layers[0].activation = 'softmax'))).toBe(
        `${FILE}: model.layers[0].activation: softmax is only allowed on the last layer (it turns the outputs into class probabilities)`,
      );
    });
    it('cross_entropy with a sigmoid output', () => {
      expect(resolveError((c) => (c.model.layers[2].activation = 'sigmoid'))).toBe(
        `${FILE}: model.layers[2].activation: training.loss cross_entropy needs a softmax output layer; got sigmoid`,
      );
    });
    it('binary_cross_entropy with a linear output', () => {
      expect(
        resolveError((c) => {
          c.model.layers[2].activation = 'linear';
          c.training = { loss: 'binary_cross_entropy' };
        }),
      ).toBe(`${FILE}: model.layers[2].activation: training.loss binary_cross_entropy needs outputs in (0, 1): a sigmoid or softmax output layer; got linear`);
    });
    it('mse with a linear output is allowed', () => {
      const c = base();
      c.model.layers[2].activation = 'linear';
      c.training = { loss: 'mse' };
      expect(resolveConfig(c, FILE).training.loss).toBe('mse');
    });
    // z.array(...).min(1) does not abort, so the refinement must return early on an empty list (it does)
    it('no layers at all', () => {
      expect(resolveError((c) => (c.model.layers = []))).toBe(`${FILE}: model.layers: expected at least 1 item(s); got 0`);
    });
  });

  it('the file label comes from loadConfig: YAML errors name the file on disk', () => {
    const p = write('typo.yaml', 'model:\n  layers:\n    - { type: dense, units: 10, activation: softmax }\ntraining:\n  bathSize: 3\n');
    expect(errorOf(() => loadConfig(p)).message).toBe(`${p}: training.bathSize: unknown key; did you mean "batchSize"?`);
  });
});

describe('suggest', () => {
  it('finds close keys and refuses distant ones', () => {
    expect(suggest('epoch', ['epochs', 'batchSize'])).toBe('epochs');
    expect(suggest('optimiser', ['optimizer', 'loss'])).toBe('optimizer');
    expect(suggest('lr', ['learningRate', 'momentum'])).toBe('learningRate');
    expect(suggest('lr', ['type', 'rate'])).toBeNull(); // the alias applies only where learningRate is a key
    expect(suggest('colour', ['type', 'rate'])).toBeNull();
    expect(suggest('x', [])).toBeNull();
  });
});

describe('applyOverrides (the command-line --seed and --epochs)', () => {
  it('sets keys by dotted path, creating missing objects, without touching the input', () => {
    const raw = { seed: 1, model: { layers: [] } };
    const out = applyOverrides(raw, { seed: 7, 'training.epochs': 3, 'training.optimizer.learningRate': 0.5 });
    expect(out).toEqual({ seed: 7, model: { layers: [] }, training: { epochs: 3, optimizer: { learningRate: 0.5 } } });
    expect(raw).toEqual({ seed: 1, model: { layers: [] } });
  });

  it('keeps sibling keys and skips undefined overrides (options not given)', () => {
    const raw = { seed: 1, training: { epochs: 9, batchSize: 16 } };
    expect(applyOverrides(raw, { seed: undefined, 'training.epochs': undefined })).toEqual(raw);
    expect(applyOverrides(raw, { 'training.epochs': 2 })).toEqual({ seed: 1, training: { epochs: 2, batchSize: 16 } });
  });

  it('returns a non-mapping unchanged, for resolveConfig to reject', () => {
    expect(applyOverrides(null, { seed: 1 })).toBeNull();
    expect(applyOverrides([1, 2], { seed: 1 })).toEqual([1, 2]);
  });

  it('does not hide a wrong value under an override', () => {
    // training: 5 with --epochs 3 must still report training, not an invented top-level "epochs" key
    const raw = applyOverrides({ ...base(), training: 5 }, { 'training.epochs': 3, seed: 9 });
    expect(raw).toMatchObject({ training: 5, seed: 9 });
    expect(errorOf(() => resolveConfig(raw, FILE)).message).toBe(`${FILE}: training: expected a mapping; got 5`);
  });

  it('loadConfig applies overrides before validating and defaulting', () => {
    const p = write('over.yaml', 'seed: 1\nmodel:\n  layers:\n    - { type: dense, units: 10, activation: softmax }\ntraining:\n  epochs: 9\n');
    const { config } = loadConfig(p, { seed: 7, 'training.epochs': 2 });
    expect(config.seed).toBe(7);
    expect(config.training.epochs).toBe(2);
    expect(config.training.batchSize).toBe(64);
    expect(loadConfig(p).config.training.epochs).toBe(9); // the file itself is untouched
    expect(errorOf(() => loadConfig(p, { 'training.epochs': 0 })).message).toBe(`${p}: training.epochs: expected a number >= 1; got 0`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('residual blocks in a config', () => {
  const layers = (inner: unknown[]) => ({ model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'residual', layers: inner }, { type: 'dense', units: 10, activation: 'softmax' }] } });
  it('resolve with their layers\' defaults', () => {
    const c = resolveConfig(layers([{ type: 'dense', units: 8 }, { type: 'batchnorm' }]), 'c.yaml');
    expect(c.model.layers[1]).toEqual({ type: 'residual', layers: [{ type: 'dense', units: 8, activation: 'linear' }, { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 }] });
  });
  it('check the layers inside them too', () => {
    expect(() => resolveConfig(layers([{ type: 'dense', units: 8, activation: 'softmax' }]), 'c.yaml')).toThrow('c.yaml: model.layers[1].layers[0].activation: softmax is only allowed on the last layer');
    expect(() => resolveConfig(layers([{ type: 'residual', layers: [] }]), 'c.yaml')).toThrow('c.yaml: model.layers[1].layers[0].type');
    expect(() => resolveConfig(layers([]), 'c.yaml')).toThrow('c.yaml: model.layers[1].layers');
  });
});

describe('residual width, checked with the config', () => {
  it('refuses a block that changes the width before any file is written', () => {
    expect(() =>
      resolveConfig({ model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'residual', layers: [{ type: 'dense', units: 32, activation: 'relu' }] }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'c.yaml'),
    ).toThrow('c.yaml: model.layers[1].layers: a residual block must keep its width (output = input + block(input)); it takes 64 values and its layers give 32');
  });
});

describe('data.splitSeed', () => {
  it('defaults to none (the split follows seed) and takes an integer seed of its own', () => {
    expect(resolveConfig(base(), FILE).data.splitSeed).toBeUndefined();
    const c = base();
    c.data = { splitSeed: 7 };
    expect(resolveConfig(c, FILE).data.splitSeed).toBe(7);
    c.data = { splitSeed: -1 };
    expect(() => resolveConfig(c, FILE)).toThrow(/data\.splitSeed: expected a number >= 0; got -1/);
  });
});
