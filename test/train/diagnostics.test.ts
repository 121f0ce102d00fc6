/**
 * The diagnostics fire on deliberately bad configs and stay quiet on a healthy one;
 * a loss that stops being finite ends training with the last good weights.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { prepareData, runTraining } from '../../src/train/pipeline';

const train = async (raw: Record<string, unknown>) => {
  const cfg = resolveConfig({ data: { subset: 0.05 }, ...raw, training: { epochs: 2, earlyStopping: false, ...(raw.training as object) } }, 'test');
  const warned: string[] = [];
  const out = await runTraining(cfg, prepareData(cfg), [{ onWarning: (m) => warned.push(m) }]);
  return { out, warned };
};
const relu = (units: number) => ({ type: 'dense', units, activation: 'relu' });
const softmax = { type: 'dense', units: 10, activation: 'softmax' };

describe('diagnostics', () => {
  it('record, per epoch and dense layer, the gradient norm, the update ratio and dead ReLUs', async () => {
    const { out, warned } = await train({ model: { layers: [relu(64), softmax] } });
    expect(warned).toEqual([]); // a healthy network: nothing to say
    for (const h of out.fit.history) {
      expect(h.diagnostics!.map((d) => d.layer)).toEqual(['layers.0', 'layers.1']);
      for (const d of h.diagnostics!) {
        expect(d.gradNorm).toBeGreaterThan(0);
        expect(d.updateRatio).toBeGreaterThan(1e-5);
        expect(d.updateRatio).toBeLessThan(0.1);
      }
      expect(h.diagnostics![0].deadRelu).toBeGreaterThanOrEqual(0);
      expect(h.diagnostics![1].deadRelu).toBeUndefined(); // softmax has no dead units
    }
  });

  it('warn of vanishing gradients in a 10-layer sigmoid network, once', async () => {
    const sigmoid = Array.from({ length: 10 }, () => ({ type: 'dense', units: 32, activation: 'sigmoid' }));
    const { out, warned } = await train({ model: { init: 'xavier', layers: [...sigmoid, softmax] }, training: { optimizer: { type: 'sgd', learningRate: 0.1 } } });
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^vanishing gradients: layers\.\d's gradient norm .* times smaller .* use relu/);
    const d = out.fit.history[0].diagnostics!;
    expect(d[0].gradNorm).toBeLessThan(1e-3 * d[10].gradNorm);
    expect(out.fit.warnings).toEqual(warned);
  });

  it('warn of exploding gradients at a learning rate of 10, and of the ReLUs it kills', async () => {
    const { warned } = await train({ model: { layers: [relu(32), softmax] }, training: { optimizer: { type: 'sgd', learningRate: 10 } } });
    expect(warned.some((w) => /^exploding gradients: .*lower the learning rate/.test(w))).toBe(true);
  });

  it('warn of dying ReLUs when most units of a layer give 0 for a whole epoch', async () => {
    const { out, warned } = await train({ model: { layers: [relu(64), relu(64), softmax] }, training: { optimizer: { type: 'adam', learningRate: 0.1 } } });
    expect(warned.some((w) => /^dying ReLUs: \d+% of layers\.\d's units gave 0/.test(w))).toBe(true);
    expect(Math.max(...out.fit.history.flatMap((h) => h.diagnostics!.map((d) => d.deadRelu ?? 0)))).toBeGreaterThan(0.5);
  });

  it('a loss that is no longer finite stops training, keeping the weights from the start of that epoch', async () => {
    const linear = { type: 'dense', units: 32, activation: 'linear' };
    const { out } = await train({ model: { layers: [linear, linear, { type: 'dense', units: 10, activation: 'linear' }] }, training: { loss: 'mse', epochs: 5, optimizer: { type: 'sgd', learningRate: 10 } } });
    expect(out.fit.stopReason).toMatch(/^training loss became (NaN|Infinity|-Infinity) at epoch \d+, step \d+: the learning rate is probably too high/);
    expect(out.model.params.data.every(Number.isFinite)).toBe(true);
    expect(out.fit.history.every((h) => Number.isFinite(h.loss))).toBe(true);
  });
});
