/**
 * Whole training runs across backends and thread counts: the WebAssembly
 * backend follows the naive reference's losses (float32 rounding differs, so
 * within 1e-3 relative over a few hundred steps), and any number of threads
 * gives bit-identical weights, with ReLU and with every other elementwise activation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { configureKernels, useBackend, type BackendName } from '../../src/kernels';
import { stopWorkers } from '../../src/kernels/threads';
import { prepareData, runTraining } from '../../src/train/pipeline';

const cfg = resolveConfig(
  {
    seed: 3,
    data: { subset: 0.02, normalize: 'scale' }, // 1,120 training images: 18 steps an epoch
    model: {
      layers: [
        { type: 'dense', units: 33, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 17, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    training: { epochs: 3, batchSize: 64, earlyStopping: false },
  },
  'test',
);
// the same with every elementwise activation (these run on the main thread only)
const smooth = resolveConfig(
  {
    seed: 3,
    data: { subset: 0.02, normalize: 'scale' },
    model: {
      layers: [
        { type: 'dense', units: 33, activation: 'elu' },
        { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 21, activation: 'tanh' },
        { type: 'dense', units: 17, activation: 'leaky_relu' },
        { type: 'dense', units: 13, activation: 'sigmoid' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    training: { epochs: 3, batchSize: 64, earlyStopping: false },
  },
  'test',
);
const data = prepareData(cfg);

async function train(backend: BackendName, threads: number, config = cfg) {
  useBackend(backend);
  configureKernels({ threads });
  const out = await runTraining(config, data, []);
  const p = out.model.params.data;
  return { losses: out.fit.history.map((h) => h.loss), bytes: Buffer.from(p.buffer, p.byteOffset, p.byteLength) };
}

afterAll(() => stopWorkers());

describe('backends and threads', () => {
  it('wasm training follows the naive reference (losses within 1e-3 relative)', async () => {
    const ref = await train('naive', 1);
    const fast = await train('wasm', 1);
    fast.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThan(1e-3 * ref.losses[k]));
  }, 60_000);

  it('1, 2 and 3 threads give bit-identical weights', async () => {
    const one = await train('wasm', 1);
    const two = await train('wasm', 2);
    const three = await train('wasm', 3);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(three.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('also with elu, tanh, leaky_relu and sigmoid layers: 1 and 2 threads, and a second run, give bit-identical weights', async () => {
    const one = await train('wasm', 1, smooth);
    const two = await train('wasm', 2, smooth);
    const again = await train('wasm', 1, smooth);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    expect(again.bytes.equals(one.bytes)).toBe(true);
  }, 60_000);

  it('with elu, tanh, leaky_relu and sigmoid layers, wasm training follows the naive reference (losses within 1e-3 relative)', async () => {
    const ref = await train('naive', 1, smooth);
    const fast = await train('wasm', 1, smooth);
    fast.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThan(1e-3 * ref.losses[k]));
  }, 60_000);
});
