/**
 * nn inspect against references computed here: the share of zero weights and the
 * weight norm of each dense layer; dead units on the run's test images against a
 * float64 pass of the first layer over the same images (three units made dead on
 * purpose: every incoming weight and the bias negative, on inputs that are never
 * negative); histograms that count every value; and the command's files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRawConfig, resolveConfig } from '../../src/config/load';
import { ACTIVATION_IMAGES, inspectModel } from '../../src/inspect/inspect';
import { loadModel, saveModel } from '../../src/io/modelfile';
import { prepareData } from '../../src/train/pipeline';
import { buildDist, runNn, trainIn } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';

let work: string;
let file: string;
const nn = (args: string[]) => runNn(work, args, 60_000);

beforeAll(() => {
  buildDist();
  work = tempDir('nn-inspect-');
  trainIn(work, 'tiny', { data: { subset: 0.05, normalize: 'scale' }, model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs: 1 } }, 'run');
  // units 0, 1 and 2 of the first layer can never fire; a quarter of the second layer's weights are pruned
  file = path.join(work, 'run', 'model.safetensors');
  const saved = loadModel(file);
  const W = saved.model.params.get('layers.0.weight').data; // (784, 32)
  const b = saved.model.params.get('layers.0.bias').data;
  for (const u of [0, 1, 2]) {
    for (let j = 0; j < 784; j++) W[j * 32 + u] = -Math.abs(W[j * 32 + u]) - 1e-3;
    b[u] = -0.1;
  }
  const W2 = saved.model.params.get('layers.1.weight').data;
  for (let i = 0; i < W2.length; i += 4) W2[i] = 0;
  saveModel(file, saved.model, saved.normalization, saved.rows, saved.cols);
}, 120_000);

describe('nn inspect', () => {
  it('counts zero weights and measures norms exactly', () => {
    const saved = loadModel(file);
    const r = inspectModel(file, saved);
    expect(r.layers.map((l) => l.kind)).toEqual(['dense 32 relu', 'dense 16 relu', 'dense 10 softmax']);
    const W2 = saved.model.params.get('layers.1.weight').data;
    expect(r.layers[1].zeroWeights).toBe(Array.from(W2).filter((v) => v === 0).length / W2.length);
    expect(r.layers[1].zeroWeights).toBeGreaterThanOrEqual(0.25);
    const W1 = saved.model.params.get('layers.0.weight').data;
    expect(r.layers[0].weightNorm).toBeCloseTo(Math.sqrt(Array.from(W1).reduce((s, v) => s + v * v, 0)), 6);
    expect(r.layers[0].parameters).toBe(784 * 32 + 32);
    for (const l of r.layers) expect(l.weights!.counts.reduce((a, c) => a + c, 0)).toBe(saved.model.params.get(`${l.name}.weight`).data.length);
  });

  it("finds the dead units of the first layer as a float64 pass over the run's test images does", () => {
    const saved = loadModel(file);
    const r = inspectModel(file, saved);
    const cfg = resolveConfig(readRawConfig(path.join(work, 'run', 'config.json')), 'config.json');
    const { ds, split } = prepareData(cfg);
    const idx = split.test.subarray(0, ACTIVATION_IMAGES);
    expect(r.images).toBe(idx.length);
    const W = saved.model.params.get('layers.0.weight').data;
    const b = saved.model.params.get('layers.0.bias').data;
    const fired = new Uint8Array(32);
    for (const i of idx) {
      for (let u = 0; u < 32; u++) {
        let z = b[u];
        for (let j = 0; j < 784; j++) z += (ds.images[i * 784 + j] / 255) * W[j * 32 + u];
        if (z > 1e-6) fired[u] = 1; // (a margin for float32 against float64 right at 0)
      }
    }
    const dead = fired.reduce((a, f) => a + (f ? 0 : 1), 0);
    expect(dead).toBeGreaterThanOrEqual(3);
    expect(r.layers[0].deadUnits).toBe(dead / 32);
    expect(r.layers[2].deadUnits).toBeNull(); // the output layer is not ReLU
    expect(r.layers[0].activations!.counts.reduce((a, c) => a + c, 0)).toBe(idx.length * 32);
  });

  it('writes the weight pictures and the histograms, and prints a summary', async () => {
    const r = nn(['inspect', '--model', 'run', '--out', 'look']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/layers\.0\s+dense 32 relu\s+25,120\s+0\.0%\s+[\d.]+\s+\d+\.\d% of 32/);
    for (const f of ['weights.png', 'weights.svg', 'histograms.png', 'histograms.svg']) expect(fs.existsSync(path.join(work, 'look', f)), f).toBe(true);
    const meta = await sharp(path.join(work, 'look', 'weights.png')).metadata();
    expect([meta.width, meta.height]).toEqual([6 * (84 + 2) + 2, 6 * (84 + 2) + 2]); // 32 units: 6 x 6 tiles of 28 x 3 pixels
    const j = nn(['inspect', '--model', 'run', '--out', 'look', '--json']);
    expect(JSON.parse(j.stdout).layers[1].zeroWeights).toBeGreaterThanOrEqual(0.25);
    const bad = nn(['inspect', '--model', 'nothing.safetensors']);
    expect([bad.status, bad.stderr]).toEqual([2, 'error: nothing.safetensors: file not found\n']);
  });
});
