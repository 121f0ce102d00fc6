import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { loadModel, saveModel } from '../../src/io/modelfile';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile } from '../../src/io/safetensors';
import { Model } from '../../src/nn/model';
import { UserError } from '../../src/util/errors';
import { randomArray } from '../helpers/gradcheck';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('nn-model-');
const cfg = resolveConfig(
  { model: { layers: [{ type: 'dense', units: 5, activation: 'leaky_relu', alpha: 0.1 }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10, activation: 'softmax' }] } },
  'test',
);
const norm = { mode: 'standardize' as const, mean: 0.13, std: 0.31 };

function saved(): string {
  const m = new Model(cfg.model, 12, 7);
  const file = path.join(dir, `m-${Math.random().toString(36).slice(2)}.safetensors`);
  saveModel(file, m, norm, 3, 4);
  return file;
}

/** Rewrites a saved file with changed metadata or tensors. */
function tamper(file: string, change: (t: Map<string, { shape: number[]; data: Float32Array }>, meta: Record<string, string>) => void): string {
  const { tensors, metadata } = readSafetensorsFile(file);
  change(tensors, metadata);
  const out = file.replace('.safetensors', '-x.safetensors');
  fs.writeFileSync(out, encodeSafetensors(tensors, metadata));
  return out;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('model files', () => {
  it('round-trip: same outputs, and weights stored as PyTorch (Out, In)', () => {
    const m = new Model(cfg.model, 12, 7);
    const file = path.join(dir, 'rt.safetensors');
    saveModel(file, m, norm, 3, 4);
    const back = loadModel(file);
    expect(back.normalization).toEqual(norm);
    expect([back.rows, back.cols]).toEqual([3, 4]);
    const x = randomArray(2 * 12, 5, 1);
    expect(Array.from(back.model.forward(x, 2, false))).toEqual(Array.from(m.forward(x, 2, false)));
    const raw = decodeSafetensors(fs.readFileSync(file), file);
    expect(raw.tensors.get('layers.0.weight')!.shape).toEqual([5, 12]);
    // element (o=1, i=2) of the file is Wt[i=2, o=1] in memory
    expect(raw.tensors.get('layers.0.weight')!.data[1 * 12 + 2]).toBe(m.params.get('layers.0.weight').data[2 * 5 + 1]);
  });

  it('answers bad metadata and tensors with one line naming the file and what was expected', () => {
    const f = saved();
    const cases: Array<[string, Parameters<typeof tamper>[1], RegExp]> = [
      ['newer format', (_t, m) => (m.format = '9'), /model format 9 is newer than this program reads \(1\)/],
      ['no config', (_t, m) => delete m.config, /metadata has no "config"/],
      ['config not JSON', (_t, m) => (m.config = '{'), /metadata "config" is not valid JSON/],
      ['bad activation', (_t, m) => (m.config = m.config.replace('leaky_relu', 'swish')), /metadata config\.layers\[0\]\.activation: expected one of linear, relu/],
      ['bad layer type', (_t, m) => (m.config = m.config.replace('"dropout"', '"conv"')), /metadata config\.layers\[1\]\.type: expected dense, dropout, batchnorm or residual/],
      ['std not positive', (_t, m) => (m.normalization = JSON.stringify({ ...norm, std: 0 })), /metadata normalization: std: expected a number > 0/],
      ['per-pixel mean of the wrong length', (_t, m) => (m.normalization = JSON.stringify({ ...norm, mean: [0, 1] })), /mean has 2 values; expected 12, one per pixel/],
      ['bad input size', (_t, m) => (m.input = '{"rows": 0, "cols": 4}'), /metadata input: expected/],
      ['wrong tensor shape', (t) => t.set('layers.2.weight', { shape: [10, 4], data: new Float32Array(40) }), /tensor layers\.2\.weight has shape \[10, 4\]; the architecture in its metadata needs \[10, 5\]/],
      ['missing tensor', (t) => t.delete('layers.0.bias'), /tensor layers\.0\.bias is missing/],
      ['extra tensor', (t) => t.set('layers.9.weight', { shape: [1], data: new Float32Array(1) }), /unexpected tensor layers\.9\.weight/],
      ['non-finite value', (t) => (t.get('layers.0.bias')!.data[3] = NaN), /tensor layers\.0\.bias holds a non-finite value \(NaN\) at index 3/],
    ];
    for (const [name, change, want] of cases) {
      const msg = errorOf(() => loadModel(tamper(f, change)));
      expect(msg, name).toMatch(want);
      expect(msg, name).toContain('-x.safetensors');
    }
  });
});
