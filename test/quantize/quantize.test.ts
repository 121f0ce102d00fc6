/**
 * Post-training int8 quantization (src/quantize/quantize.ts, nn/qdense.ts, the int8 model file):
 * each weight within half its unit's step of the float weight; the first layer's folded
 * normalization against the float layer in float64, within the bound its rounding allows; the
 * input modes chosen from the architecture; the file round trip bit for bit; an int8 model's answers
 * independent of the batch; bad int8 files refused in one line naming the tensor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/schema';
import { Normalizer, type Normalization } from '../../src/data/normalize';
import { loadModel, saveModel, saveQuantizedModel, type SavedModel } from '../../src/io/modelfile';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/io/safetensors';
import { allocF32 } from '../../src/kernels/memory';
import { Model } from '../../src/nn/model';
import { QDense } from '../../src/nn/qdense';
import { PIXEL_BYTES, quantizeModel, quantizeRows } from '../../src/quantize/quantize';
import { UserError } from '../../src/util/errors';
import { Rng } from '../../src/util/rng';
import { tempDir } from '../helpers/tmp';

const D = 784;
const dense = (units: number, activation: string) => ({ type: 'dense', units, activation }) as const;
const config = (layers: unknown[]): ModelConfig => ({ init: 'he', initStd: 0.01, layers }) as unknown as ModelConfig;
const MLP = config([dense(64, 'relu'), { type: 'dropout', rate: 0.2 }, dense(32, 'relu'), dense(10, 'softmax')]);

function saved(cfg: ModelConfig, normalization: Normalization, seed = 1): SavedModel {
  const model = new Model(cfg, D, seed);
  // biases too, so that the fold of the mean into them is tested with non-zero ones
  for (const v of model.params.views) if (v.name.endsWith('.bias')) for (let i = 0; i < v.data.length; i++) v.data[i] = Math.sin(i + seed) * 0.1;
  return { model, config: cfg, normalization, rows: 28, cols: 28 };
}

function digits(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const p = new Uint8Array(n * D);
  for (let i = 0; i < p.length; i++) p[i] = rng.next() < 0.8 ? 0 : Math.floor(rng.next() * 256);
  return p;
}

function forward(s: SavedModel, pixels: Uint8Array, B: number): Float32Array {
  const norm = new Normalizer(s.normalization, D, s.model.takesInputShift);
  const x = allocF32(B * D);
  const idx = Uint32Array.from({ length: B }, (_, i) => i);
  norm.gather(pixels, idx, 0, B, x);
  return Float32Array.from(s.model.forward(x, B, false, norm.shift));
}

describe('quantizeRows: one symmetric scale per output unit', () => {
  it('puts every weight within half a step of its float value, with the largest at ±127', () => {
    const rng = new Rng(3);
    const In = 50;
    const Out = 7;
    const w = Float64Array.from({ length: In * Out }, (_, k) => (rng.next() - 0.5) * (1 + Math.floor(k / In))); // rows of different ranges
    w.fill(0, 3 * In, 4 * In); // a dead unit
    const { q, scale } = quantizeRows(w, In, Out);
    for (let o = 0; o < Out; o++) {
      const row = w.subarray(o * In, (o + 1) * In);
      const m = Math.max(...row.map(Math.abs));
      if (m === 0) {
        expect(scale[o]).toBe(1);
        expect(q.subarray(o * In, (o + 1) * In).every((v) => v === 0)).toBe(true);
        continue;
      }
      expect(scale[o]).toBe(Math.fround(m / 127));
      let top = 0;
      for (let i = 0; i < In; i++) {
        expect(Math.abs(q[o * In + i] * scale[o] - row[i])).toBeLessThanOrEqual(scale[o] / 2 + 1e-12);
        top = Math.max(top, Math.abs(q[o * In + i]));
      }
      expect(top).toBe(127);
    }
  });
});

describe('quantizeModel', () => {
  it('folds a global normalization into the first layer: its pre-activations on pixel bytes within the rounding bound of the float layer', () => {
    const norm: Normalization = { mode: 'standardize', mean: 0.1307, std: 0.3081 };
    const f = saved(MLP, norm);
    const q = quantizeModel(f);
    expect(q.normalization).toEqual(PIXEL_BYTES);
    expect(q.quantization!.input).toBe('pixels');
    const first = q.model.layers[0] as QDense;
    expect(first.inputMode).toBe(1);
    const wt = f.model.params.get('layers.0.weight').data; // (In, Out)
    const b = f.model.params.get('layers.0.bias').data;
    const sw = q.model.params.get('layers.0.weight_scale').data;
    const bq = q.model.params.get('layers.0.bias').data;
    const Out = 64;
    const p = digits(20, 5);
    let worst = 0;
    for (let r = 0; r < 20; r++) {
      for (let o = 0; o < Out; o++) {
        let zf = b[o]; // the float layer on normalized pixels, in float64
        let zq = bq[o]; // the int8 layer, dequantized, on the bytes
        let bound = 1e-5; // bias' float32 rounding
        for (let i = 0; i < D; i++) {
          const px = p[r * D + i];
          zf += wt[i * Out + o] * ((px / 255 - 0.1307) / 0.3081);
          zq += first.weights[o * D + i] * sw[o] * px;
          bound += (sw[o] / 2) * px;
        }
        expect(Math.abs(zq - zf)).toBeLessThanOrEqual(bound);
        worst = Math.max(worst, Math.abs(zq - zf) / bound);
      }
    }
    expect(worst).toBeGreaterThan(0.01); // the bound is not loose by orders of magnitude
  });

  it('keeps a per-pixel normalization (no fold: it would scale the blank border 100x) and quantizes the first input like any other', () => {
    const norm: Normalization = { mode: 'standardize', mean: new Array(D).fill(0.1), std: new Array(D).fill(0.3) };
    const q = quantizeModel(saved(MLP, norm));
    expect(q.normalization).toBe(norm);
    expect(q.quantization!.input).toBe('normalized');
    expect((q.model.layers[0] as QDense).inputMode).toBe(0);
  });

  it('quantizes inputs after ReLU or sigmoid to 0..255, others (tanh, batch normalization, residual sums) to int8', () => {
    const cfg = config([
      dense(32, 'relu'),
      { type: 'dropout', rate: 0.1 },
      dense(32, 'tanh'),
      dense(32, 'sigmoid'),
      { type: 'residual', layers: [dense(32, 'relu'), dense(32, 'relu')] },
      dense(16, 'relu'),
      { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
      dense(10, 'softmax'),
    ]);
    const q = quantizeModel(saved(cfg, { mode: 'scale', mean: 0, std: 1 }));
    const modes = q.model.allLayers().filter((l): l is QDense => l instanceof QDense).map((l) => [l.name, l.inputMode]);
    expect(modes).toEqual([
      ['layers.0', 1], // pixels
      ['layers.2', 2], // after ReLU (through dropout)
      ['layers.3', 0], // after tanh
      ['layers.4.layers.0', 2], // the block's input: after sigmoid
      ['layers.4.layers.1', 2],
      ['layers.5', 0], // input + block(input)
      ['layers.7', 0], // after batch normalization
    ]);
  });

  it('agrees with the float model and gives each image the same bits alone as in a batch', () => {
    const f = saved(MLP, { mode: 'standardize', mean: 0.1307, std: 0.3081 }, 7);
    const q = quantizeModel(f);
    const p = digits(64, 9);
    const pf = forward(f, p, 64);
    const pq = forward(q, p, 64);
    let same = 0;
    let worst = 0;
    for (let r = 0; r < 64; r++) {
      const am = (a: Float32Array) => a.subarray(r * 10, r * 10 + 10).reduce((best, v, c, row) => (v > row[best] ? c : best), 0);
      if (am(pf) === am(pq)) same++;
      for (let c = 0; c < 10; c++) worst = Math.max(worst, Math.abs(pf[r * 10 + c] - pq[r * 10 + c]));
    }
    expect(same).toBeGreaterThanOrEqual(62);
    expect(worst).toBeLessThan(0.05);
    for (const r of [0, 31, 63]) {
      const alone = forward(q, p.subarray(r * D, (r + 1) * D), 1);
      expect(Buffer.from(alone.buffer).equals(Buffer.from(pq.buffer, r * 40, 40))).toBe(true);
    }
  });
});

describe('the int8 model file', () => {
  const dir = tempDir('nn-quantize-file-');
  const f = saved(MLP, { mode: 'standardize', mean: 0.1307, std: 0.3081 }, 11);
  const q = quantizeModel(f);
  const floatFile = path.join(dir, 'model.safetensors');
  const file = path.join(dir, 'model.int8.safetensors');
  saveModel(floatFile, f.model, f.normalization, 28, 28);
  saveQuantizedModel(file, q);

  it('holds I8 weights (Out, In), F32 scales and biases, and loads to the same answers bit for bit', () => {
    const raw = fs.readFileSync(file);
    const header = JSON.parse(raw.subarray(8, 8 + Number(raw.readBigUInt64LE(0))).toString());
    expect(header['layers.0.weight']).toMatchObject({ dtype: 'I8', shape: [64, 784] });
    expect(header['layers.0.weight_scale']).toMatchObject({ dtype: 'F32', shape: [64] });
    expect(header['layers.3.bias']).toMatchObject({ dtype: 'F32', shape: [10] });
    expect(JSON.parse(header.__metadata__.quantization).input).toBe('pixels');
    expect(raw.length / fs.statSync(floatFile).size).toBeLessThan(0.3);
    const back = loadModel(file);
    expect(back.quantization).toEqual(q.quantization);
    const p = digits(16, 4);
    expect(Buffer.from(forward(back, p, 16).buffer).equals(Buffer.from(forward(q, p, 16).buffer))).toBe(true);
    expect(back.model.parameterCount).toBe(f.model.parameterCount);
  });

  const rewrite = (name: string, change: (t: ReturnType<typeof readSafetensorsFile>) => void, meta?: (m: Record<string, string>) => void) => {
    const c = readSafetensorsFile(file);
    change(c);
    meta?.(c.metadata);
    const out = path.join(dir, name);
    writeSafetensorsFile(out, [...c.tensors, ...c.int8], c.metadata);
    return out;
  };
  const refuses = (p: string, re: RegExp) => {
    let err: unknown;
    try {
      loadModel(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toMatch(/\n/);
  };

  it('refuses a weight stored as float, a weight of the wrong shape, and int8 tensors in a float file, naming the tensor', () => {
    refuses(
      rewrite('f32.safetensors', (c) => {
        const w = c.int8.get('layers.2.weight')!;
        c.int8.delete('layers.2.weight');
        c.tensors.set('layers.2.weight', { shape: w.shape, data: Float32Array.from(w.data) });
      }),
      /layers\.2\.weight is missing as int8 \(I8\): it is float32/,
    );
    refuses(
      rewrite('shape.safetensors', (c) => {
        c.int8.set('layers.2.weight', { shape: [32, 63], data: new Int8Array(32 * 63) });
      }),
      /layers\.2\.weight has shape \[32, 63\]; the architecture in its metadata needs \[32, 64\]/,
    );
    refuses(
      rewrite('nometa.safetensors', () => undefined, (m) => delete m.quantization),
      /unexpected int8 tensor layers\.\d\.weight in a float model/,
    );
    refuses(
      rewrite('noscale.safetensors', (c) => c.tensors.delete('layers.3.weight_scale')),
      /tensor layers\.3\.weight_scale is missing/,
    );
  });
});
