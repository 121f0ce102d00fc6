/**
 * Whole training runs across backends and thread counts: the WebAssembly
 * backend follows the naive reference's losses (float32 rounding differs, so
 * within 1e-3 relative over a few hundred steps), and any number of threads
 * gives bit-identical weights, with ReLU and with every other elementwise activation,
 * and with augmented batches.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { configureKernels, useBackend, type BackendName } from '../../src/kernels';
import { stopWorkers } from '../../src/kernels/threads';
import { prepareData, runTraining } from '../../src/train/pipeline';

const RELU = [
  { type: 'dense', units: 33, activation: 'relu' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 17, activation: 'relu' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
// every elementwise activation (these run on the main thread only)
const SMOOTH = [
  { type: 'dense', units: 33, activation: 'elu' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 21, activation: 'tanh' },
  { type: 'dense', units: 17, activation: 'leaky_relu' },
  { type: 'dense', units: 13, activation: 'sigmoid' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
const configFor = (data: object, layers: object[] = RELU) =>
  resolveConfig(
    {
      seed: 3,
      data: { subset: 0.02, ...data }, // 1,120 training images: 18 steps an epoch
      model: { layers },
      training: { epochs: 3, batchSize: 64, earlyStopping: false },
    },
    'test',
  );
// scale; and standardized, which folds the normalization into the first layer (its own job parts)
const normalizations = [{ normalize: 'scale' }, { normalize: 'standardize' }, { normalize: 'standardize', perPixel: true }];
const data = prepareData(configFor({}));

async function train(backend: BackendName, threads: number, normalization: object, layers: object[] = RELU) {
  useBackend(backend);
  configureKernels({ threads });
  const out = await runTraining(configFor(normalization, layers), data, []);
  const p = out.model.params.data;
  return { losses: out.fit.history.map((h) => h.loss), bytes: Buffer.from(p.buffer, p.byteOffset, p.byteLength) };
}

afterAll(() => stopWorkers());

describe.each(normalizations)('backends and threads (%o)', (normalization) => {
  it('wasm training follows the naive reference (losses within 1e-3 relative)', async () => {
    const ref = await train('naive', 1, normalization);
    const fast = await train('wasm', 1, normalization);
    fast.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThan(1e-3 * ref.losses[k]));
  }, 60_000);

  it('1, 2 and 3 threads give bit-identical weights', async () => {
    const one = await train('wasm', 1, normalization);
    const two = await train('wasm', 2, normalization);
    const three = await train('wasm', 3, normalization);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(three.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);
});

describe('backends and threads with augmented batches (elastic fields, standardized)', () => {
  const augmented = { normalize: 'standardize', augment: { shift: 2, rotate: 10, scale: 0.1, elastic: { alpha: 34, sigma: 4 } } };
  it('1, 2 and 3 threads give bit-identical weights', async () => {
    const one = await train('wasm', 1, augmented);
    const two = await train('wasm', 2, augmented);
    const three = await train('wasm', 3, augmented);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(three.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('wasm training follows the naive reference (losses within 1e-3 relative)', async () => {
    const ref = await train('naive', 1, augmented);
    const fast = await train('wasm', 1, augmented);
    fast.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThan(1e-3 * ref.losses[k]));
  }, 60_000);
});

describe('backends and threads with elu, tanh, leaky_relu and sigmoid layers', () => {
  const scale = { normalize: 'scale' };
  it('1 and 2 threads, and a second run, give bit-identical weights', async () => {
    const one = await train('wasm', 1, scale, SMOOTH);
    const two = await train('wasm', 2, scale, SMOOTH);
    const again = await train('wasm', 1, scale, SMOOTH);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(again.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('wasm training follows the naive reference (losses within 1e-3 relative)', async () => {
    const ref = await train('naive', 1, scale, SMOOTH);
    const fast = await train('wasm', 1, scale, SMOOTH);
    fast.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThan(1e-3 * ref.losses[k]));
  }, 60_000);
});
