/**
 * Every backward pass against finite differences (tolerance in helpers/gradcheck.ts:
 * |a - n| <= 2e-4 + 2e-2 max(|a|, |n|), central differences with h = 1e-3).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend, type BackendName } from '../../src/kernels';
import { allocF32 } from '../../src/kernels/memory';
import { loadModel, saveModel } from '../../src/io/modelfile';
import { ACTIVATIONS, activationForward, defaultAlpha, type ActivationName } from '../../src/nn/activations';
import { BatchNorm } from '../../src/nn/batchnorm';
import { Dense } from '../../src/nn/dense';
import { Dropout } from '../../src/nn/dropout';
import { LOSSES, makeLoss } from '../../src/nn/losses';
import { Model } from '../../src/nn/model';
import { Params } from '../../src/nn/params';
import { addPenalties } from '../../src/train/penalties';
import { Rng, Rng4 } from '../../src/util/rng';
import { checkGradient, randomArray, sampleIndices } from '../helpers/gradcheck';
import { resolveConfig } from '../../src/config/load';
import { tempDir } from '../helpers/tmp';

const B = 5;

/** A scalar loss of a layer output: L = Σ c ⊙ y, so dL/dy = c, an arbitrary upstream gradient. */
function weightedSum(y: Float32Array, c: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += y[i] * c[i];
  return s;
}

// The WebAssembly backend (the default, where the activations are SIMD approximations)
// and the TypeScript one (Math.* in float64).
const BACKENDS: BackendName[] = ['wasm', 'ts'];
afterAll(() => {
  useBackend('wasm');
});

describe('Dense backward, each activation', () => {
  for (const backend of BACKENDS) for (const act of ACTIVATIONS) {
    it(`${act} (${backend}): dW, db and dX match finite differences`, () => {
      expect(useBackend(backend).name).toBe(backend);
      const In = 7;
      const Out = act === 'softmax' ? 10 : 6;
      const layer = new Dense(0, In, Out, act, { alpha: 0.1 });
      const params = new Params(layer.paramSpecs());
      layer.bind(params);
      params.data.set(randomArray(params.data.length, 11, 0.5));
      const x = randomArray(B * In, 23, 1);
      const c = randomArray(B * Out, 37, 1);
      const f = () => weightedSum(layer.forward(x, B, true), c, B * Out);

      f();
      params.grad.fill(NaN); // backward must set every gradient, not add to it
      const dy = allocF32(B * Out); // in the shared memory, so that the WebAssembly kernels take it
      dy.set(c);
      const dx = Float32Array.from(layer.backward(dy, B, true)!);
      const signature = () => Array.from(layer.forward(x, B, true), (v) => (v > 0 ? 1 : 0)).join('');
      const skipped: number[] = [];
      expect(checkGradient(params.data, params.grad, f, sampleIndices(params.data.length), signature, skipped)).toEqual([]);
      expect(checkGradient(x, dx, f, sampleIndices(x.length), signature, skipped)).toEqual([]);
      expect(skipped.length).toBeLessThan(5);
      // the check is not vacuous: gradients are not all zero
      expect(Math.max(...Array.from(params.grad, Math.abs))).toBeGreaterThan(1e-3);
    });
  }
});

describe('Dropout backward', () => {
  it('passes gradients through the same mask as forward, scaled by 1/(1-rate)', () => {
    const D = 40;
    const rng = new Rng4(new Rng(5));
    const layer = new Dropout(0, D, 0.3, rng);
    const x = randomArray(B * D, 3, 1);
    const c = randomArray(B * D, 4, 1);
    const state = rng.getState();
    // the same mask for every evaluation: reset the generator before each forward
    const f = () => {
      rng.setState(state);
      return weightedSum(layer.forward(x, B, true), c, B * D);
    };
    f();
    const dx = Float32Array.from(layer.backward(Float32Array.from(c), B, true)!);
    expect(checkGradient(x, dx, f, sampleIndices(x.length))).toEqual([]);
    const zeros = Array.from(dx).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(0.15 * B * D); // about 30% dropped
    expect(zeros).toBeLessThan(0.45 * B * D);
  });

  it('is the identity at evaluation', () => {
    const layer = new Dropout(0, 8, 0.5, new Rng4(new Rng(1)));
    const x = randomArray(16, 9);
    expect(layer.forward(x, 2, false)).toBe(x);
  });
});

describe('Losses backward (with the output layer they fuse with)', () => {
  const outputs: Record<string, ActivationName[]> = {
    cross_entropy: ['softmax'],
    mse: ['softmax', 'sigmoid', 'linear', 'tanh'],
    binary_cross_entropy: ['sigmoid', 'softmax'],
  };
  for (const lossName of LOSSES) {
    for (const act of outputs[lossName]) {
      it(`${lossName} after ${act}: gradient through the output layer matches`, () => {
        const In = 6;
        const C = 10;
        const layer = new Dense(0, In, C, act, { alpha: 0.01 });
        const params = new Params(layer.paramSpecs());
        layer.bind(params);
        params.data.set(randomArray(params.data.length, 17, 0.6));
        const loss = makeLoss(lossName, act);
        layer.gradIsPreActivation = loss.fusedWith === act;
        const labels = Uint8Array.from([3, 0, 9, 3, 7]);
        const x = randomArray(B * In, 29, 1);
        const f = () => loss.forward(layer.forward(x, B, true), labels, B, C);
        const p = layer.forward(x, B, true);
        const g = new Float32Array(B * C);
        loss.backward(p, labels, B, C, g);
        params.grad.fill(NaN); // backward must set every gradient
        const dx = Float32Array.from(layer.backward(g, B, true)!);
        expect(checkGradient(params.data, params.grad, f, sampleIndices(params.data.length))).toEqual([]);
        expect(checkGradient(x, dx, f, sampleIndices(x.length))).toEqual([]);
      });
    }
  }

  it('cross-entropy fuses with softmax, binary cross-entropy with sigmoid, MSE with nothing', () => {
    expect(makeLoss('cross_entropy', 'softmax').fusedWith).toBe('softmax');
    expect(makeLoss('binary_cross_entropy', 'sigmoid').fusedWith).toBe('sigmoid');
    expect(makeLoss('binary_cross_entropy', 'softmax').fusedWith).toBe(null);
    expect(makeLoss('mse', 'softmax').fusedWith).toBe(null);
  });

  it('known values: cross-entropy of a uniform prediction is ln 10; MSE of a perfect one-hot is 0', () => {
    const p = new Float32Array(10).fill(0.1);
    expect(makeLoss('cross_entropy', 'softmax').forward(p, Uint8Array.of(4), 1, 10)).toBeCloseTo(Math.log(10), 6);
    const onehot = new Float32Array(10);
    onehot[2] = 1;
    expect(makeLoss('mse', 'softmax').forward(onehot, Uint8Array.of(2), 1, 10)).toBe(0);
    // BCE of p = 0.5 everywhere is ln 2
    expect(makeLoss('binary_cross_entropy', 'sigmoid').forward(new Float32Array(10).fill(0.5), Uint8Array.of(1), 1, 10)).toBeCloseTo(Math.log(2), 6);
  });
});

describe('Whole model backward', () => {
  const cases: Array<[string, string, string]> = [
    ['relu', 'cross_entropy', 'softmax'],
    ['tanh', 'mse', 'softmax'],
    ['sigmoid', 'binary_cross_entropy', 'sigmoid'],
    ['leaky_relu', 'cross_entropy', 'softmax'],
    ['elu', 'cross_entropy', 'softmax'],
  ];
  for (const backend of BACKENDS) for (const [hidden, lossName, out] of cases) {
    it(`${hidden} hidden layers, dropout, ${lossName} (${backend}): every parameter's gradient matches`, () => {
      useBackend(backend);
      const cfg = resolveConfig(
        {
          model: {
            init: 'xavier',
            layers: [
              { type: 'dense', units: 9, activation: hidden },
              { type: 'dropout', rate: 0.25 },
              { type: 'dense', units: 8, activation: hidden },
              { type: 'dense', units: 10, activation: out },
            ],
          },
          training: { loss: lossName },
        },
        'test',
      );
      const In = 12;
      const model = new Model(cfg.model, In, 3);
      // Random biases too: with zero biases, a sample whose inputs dropout zeroed entirely
      // puts every unit of the next layer exactly on ReLU's kink, where no derivative exists.
      model.params.data.set(randomArray(model.params.data.length, 13, 0.5));
      const loss = makeLoss(cfg.training.loss, model.outputActivation);
      model.setFusedOutput(loss.fusedWith === model.outputActivation);
      const x = randomArray(B * In, 41, 1);
      const labels = Uint8Array.from([1, 5, 5, 0, 9]);
      // freeze the dropout mask: the model's dropout generator is reseeded identically for each forward
      const dropout = model.layers[1] as Dropout;
      const state = dropout.lanes.getState();
      const f = () => {
        dropout.lanes.setState(state);
        return loss.forward(model.forward(x, B, true), labels, B, 10);
      };
      f();
      const p = model.forward((dropout.lanes.setState(state), x), B, true);
      const g = allocF32(B * 10); // shared, so the output layer's backward runs in the WebAssembly kernels too
      loss.backward(p, labels, B, 10, g);
      model.params.grad.fill(NaN); // the trainer does not zero gradients: backward must set them all
      model.backward(g, B);
      // which units sit on which side of a kink (relu, leaky_relu): see checkGradient
      const signature = () => model.layers.map((l) => Array.from((l as unknown as { a?: Float32Array }).a ?? [], (v) => (v > 0 ? 1 : 0)).join('')).join('|');
      const skipped: number[] = [];
      const indices = sampleIndices(model.params.data.length, 400);
      expect(checkGradient(model.params.data, model.params.grad, f, indices, signature, skipped)).toEqual([]);
      expect(skipped.length).toBeLessThan(0.05 * indices.length);
    });
  }
});

describe('L1/L2 penalties', () => {
  it('gradient of l1 Σ|w| + l2 Σw² over weights matches, and biases are not penalized', () => {
    const params = new Params([
      { name: 'w', shape: [4, 3], decay: true },
      { name: 'b', shape: [4], decay: false },
    ]);
    params.data.set(randomArray(16, 7, 1));
    const f = () => {
      const saved = Float32Array.from(params.grad);
      const v = addPenalties(params, 0.01, 0.05);
      params.grad.set(saved);
      return v;
    };
    params.zeroGrad();
    addPenalties(params, 0.01, 0.05);
    expect(checkGradient(params.data, params.grad, f, sampleIndices(16))).toEqual([]);
    expect(Array.from(params.get('b').grad)).toEqual([0, 0, 0, 0]);
    const w = params.get('w').data;
    const expected = Array.from(w).reduce((a, v) => a + 0.01 * Math.abs(v) + 0.05 * v * v, 0);
    expect(f()).toBeCloseTo(expected, 6);
  });
});

describe('ELU', () => {
  it('is z above 0 and alpha (e^z - 1) below, with the alpha of the layer', () => {
    const z = Float32Array.of(2, 0, -1, -30);
    activationForward('elu', z, 1, 4, { alpha: 1 });
    expect(Array.from(z)).toEqual([2, 0, Math.fround(Math.exp(-1) - 1), Math.fround(Math.expm1(-30))]);
    const y = Float32Array.of(-1);
    activationForward('elu', y, 1, 1, { alpha: 0.5 });
    expect(y[0]).toBeCloseTo(0.5 * (Math.exp(-1) - 1), 7);
  });
  it('defaults alpha to 1 (and leaky_relu to 0.01)', () => {
    expect(defaultAlpha('elu')).toBe(1);
    expect(defaultAlpha('leaky_relu')).toBe(0.01);
  });
});

describe('BatchNorm', () => {
  const N = 6;
  const make = () => {
    const layer = new BatchNorm(0, N, 0.1, 1e-5);
    const params = new Params(layer.paramSpecs());
    layer.bind(params);
    layer.initialize();
    params.get('layers.0.weight').data.set(randomArray(N, 51, 1)); // γ away from 1, β away from 0
    params.get('layers.0.bias').data.set(randomArray(N, 52, 1));
    return { layer, params };
  };

  it('backward: dγ, dβ and dx match finite differences of the training forward (batch statistics)', () => {
    const { layer, params } = make();
    const x = randomArray(B * N, 53, 2);
    const c = randomArray(B * N, 54, 1);
    const f = () => weightedSum(layer.forward(x, B, true), c, B * N);
    f();
    params.grad.fill(NaN); // backward must set every gradient
    const dx = Float32Array.from(layer.backward(Float32Array.from(c), B, true)!);
    const trained = params.trainData; // γ and β: the running statistics are not trained
    expect(trained.length).toBe(2 * N);
    expect(checkGradient(trained, params.trainGrad, f, sampleIndices(trained.length))).toEqual([]);
    expect(checkGradient(x, dx, f, sampleIndices(x.length))).toEqual([]);
  });

  it('normalizes each feature over the batch in training, and moves the running statistics as PyTorch does', () => {
    const { layer, params } = make();
    params.get('layers.0.weight').data.fill(1);
    params.get('layers.0.bias').data.fill(0);
    const x = randomArray(B * N, 55, 3);
    const y = layer.forward(x, B, true);
    for (let j = 0; j < N; j++) {
      let m = 0, v = 0, xm = 0, xv = 0;
      for (let r = 0; r < B; r++) m += y[r * N + j] / B;
      for (let r = 0; r < B; r++) v += (y[r * N + j] - m) ** 2 / B;
      expect(m).toBeCloseTo(0, 6);
      expect(v).toBeCloseTo(1, 3); // 1 up to epsilon
      for (let r = 0; r < B; r++) xm += x[r * N + j] / B;
      for (let r = 0; r < B; r++) xv += (x[r * N + j] - xm) ** 2 / (B - 1); // unbiased, as torch.nn.BatchNorm1d
      expect(params.get('layers.0.running_mean').data[j]).toBeCloseTo(0.1 * xm, 6);
      expect(params.get('layers.0.running_var').data[j]).toBeCloseTo(0.9 + 0.1 * xv, 5);
    }
  });

  it('inside a model: every trained parameter\'s gradient matches through two batch norms', () => {
    const cfg = resolveConfig(
      {
        model: {
          init: 'xavier',
          layers: [
            { type: 'dense', units: 9, activation: 'tanh' },
            { type: 'batchnorm' },
            { type: 'dense', units: 8, activation: 'tanh' },
            { type: 'batchnorm' },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
        },
      },
      'test',
    );
    const model = new Model(cfg.model, 12, 3);
    expectModelGradients(model, 59);
  });

  it('uses the running statistics at evaluation, and in a model file', () => {
    const cfg = resolveConfig({ model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'batchnorm' }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
    const m = new Model(cfg.model, 12, 3);
    const bn = m.params.get('layers.1.running_mean');
    bn.data.set(randomArray(8, 56, 1));
    m.params.get('layers.1.running_var').data.set(randomArray(8, 57, 1).map((v) => 1 + Math.abs(v)));
    const x = randomArray(4 * 12, 58, 1);
    const before = Array.from(m.forward(x, 4, false));
    // evaluation does not depend on the batch: a row alone gives the same output (up to the kernels' rounding)
    Array.from(m.forward(x.subarray(0, 12), 1, false)).forEach((v, i) => expect(v).toBeCloseTo(before[i], 6));
    expect(m.params.trainable).toBe(m.params.data.length - 16); // the running statistics are last, untrained
    // saved and loaded with the model: the same outputs, the statistics under PyTorch's names
    const file = path.join(tempDir('nn-bn-'), 'bn.safetensors');
    saveModel(file, m, { mode: 'scale', mean: 0, std: 1 }, 3, 4);
    const back = loadModel(file);
    expect(Array.from(back.model.params.get('layers.1.running_mean').data)).toEqual(Array.from(bn.data));
    expect(Array.from(back.model.forward(x, 4, false))).toEqual(before);
  });
});

describe('Residual blocks', () => {
  const block = (units: number) => ({ type: 'residual', layers: [{ type: 'dense', units, activation: 'tanh' }, { type: 'batchnorm' }, { type: 'dense', units, activation: 'tanh' }] });
  const cfgOf = (layers: unknown[]) => resolveConfig({ model: { init: 'xavier', layers } }, 'test').model;

  it('backward: every parameter gradient through two blocks (and the identity paths) matches finite differences', () => {
    const model = new Model(cfgOf([{ type: 'dense', units: 8, activation: 'tanh' }, block(8), block(8), { type: 'dense', units: 10, activation: 'softmax' }]), 12, 3);
    expect(model.params.get('layers.1.layers.0.weight').shape).toEqual([8, 8]);
    expectModelGradients(model, 61);
  });

  it('adds the input to the block: a block whose last layer is all zero is the identity', () => {
    const model = new Model(cfgOf([{ type: 'dense', units: 6, activation: 'linear' }, { type: 'residual', layers: [{ type: 'dense', units: 6, activation: 'linear' }] }, { type: 'dense', units: 10, activation: 'softmax' }]), 4, 1);
    model.params.get('layers.1.layers.0.weight').data.fill(0);
    model.params.get('layers.1.layers.0.bias').data.fill(0);
    const x = randomArray(2 * 4, 63, 1);
    const h = Float32Array.from(model.layers[0].forward(x, 2, false));
    expect(Array.from(model.layers[1].forward(h, 2, false))).toEqual(Array.from(h));
  });

  it('must keep its width: a block on the raw input is checked against the data, one line naming the layer', () => {
    // (after a dense layer the config check refuses it first: see test/config)
    expect(() => new Model(cfgOf([{ type: 'residual', layers: [{ type: 'dense', units: 7, activation: 'relu' }] }, { type: 'dense', units: 10, activation: 'softmax' }]), 12, 1)).toThrow(
      'model.layers[0]: a residual block must keep its width (output = input + block(input)); it takes 12 values and its layers give 7',
    );
  });

  it('are saved and loaded with the model', () => {
    const m = new Model(cfgOf([{ type: 'dense', units: 8, activation: 'relu' }, block(8), { type: 'dense', units: 10, activation: 'softmax' }]), 12, 5);
    const file = path.join(tempDir('nn-res-'), 'res.safetensors');
    saveModel(file, m, { mode: 'scale', mean: 0, std: 1 }, 3, 4);
    const x = randomArray(3 * 12, 64, 1);
    expect(Array.from(loadModel(file).model.forward(x, 3, false))).toEqual(Array.from(m.forward(x, 3, false)));
  });
});

describe('An input shift (folded normalization: inputs x + shift, x keeping its zeros)', () => {
  it('every parameter\'s gradient matches finite differences, with zero inputs and zero shifts', () => {
    const cfg = resolveConfig({ model: { init: 'xavier', layers: [{ type: 'dense', units: 9, activation: 'tanh' }, { type: 'dense', units: 8, activation: 'elu' }, { type: 'dense', units: 10, activation: 'softmax' }] } }, 'test');
    const shift = randomArray(12, 71, 1);
    shift[3] = 0;
    expectModelGradients(new Model(cfg.model, 12, 3), 73, shift);
  });
});

/**
 * Every trained parameter of a model with 12 inputs and a softmax output over 10 classes against
 * finite differences of the cross-entropy of a batch in training mode, from random weights (seed);
 * with a shift, of inputs x + shift (a third of x zero, as blank pixels are).
 */
function expectModelGradients(model: Model, seed: number, shift: Float32Array | null = null): void {
  model.params.trainData.set(randomArray(model.params.trainable, seed, 0.5));
  const loss = makeLoss('cross_entropy', model.outputActivation);
  model.setFusedOutput(true);
  const x = randomArray(B * 12, seed + 1, 1);
  if (shift) for (let i = 0; i < x.length; i += 3) x[i] = 0;
  const labels = Uint8Array.from([1, 5, 5, 0, 9]);
  const f = () => loss.forward(model.forward(x, B, true, shift), labels, B, 10);
  const g = new Float32Array(B * 10);
  loss.backward(model.forward(x, B, true, shift), labels, B, 10, g);
  model.params.grad.fill(NaN); // backward must set every gradient
  model.backward(g, B);
  expect(checkGradient(model.params.trainData, model.params.trainGrad, f, sampleIndices(model.params.trainable))).toEqual([]);
}
