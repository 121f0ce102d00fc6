/**
 * Augmentation: exact geometry on known images (identity, one-pixel shift, quarter
 * turn), pixels stay in range, seeded draws repeat, labels stay right (a network
 * trained on augmented batches learns), and flipping is refused with the reason.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load';
import { Augmenter, elasticField, transformImage, type Transform } from '../../src/data/augment';
import { loadDataset } from '../../src/data/mnist';
import { fitNormalization, Normalizer } from '../../src/data/normalize';
import { allocF32 } from '../../src/kernels/memory';
import { prepareData, runTraining } from '../../src/train/pipeline';
import { Rng } from '../../src/util/rng';

const side = 28;
const D = side * side;
const none: Transform = { dx: 0, dy: 0, angle: 0, scale: 1, field: null };
const ds = loadDataset();
const idx = Uint32Array.from({ length: 64 }, (_, i) => i * 97);
const raw = (k: number) => Float32Array.from(ds.images.subarray(idx[k] * D, idx[k] * D + D));

describe('transformImage', () => {
  it('the identity copies the image exactly', () => {
    const out = new Float32Array(D);
    transformImage(raw(0), none, side, out);
    expect(out).toEqual(raw(0));
  });

  it('a shift of one pixel right and two down moves every pixel so', () => {
    const src = raw(1);
    const out = new Float32Array(D);
    transformImage(src, { ...none, dx: 1, dy: 2 }, side, out);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) expect(out[y * side + x]).toBe(x >= 1 && y >= 2 ? src[(y - 2) * side + x - 1] : 0);
  });

  it('a quarter turn takes the pixel at (x, y) to (27 - y, x) (y down, so clockwise on screen)', () => {
    const src = new Float32Array(D);
    src[3 * side + 5] = 200; // x 5, y 3
    const out = new Float32Array(D);
    transformImage(src, { ...none, angle: Math.PI / 2 }, side, out);
    expect(out[5 * side + (27 - 3)]).toBeCloseTo(200, 3);
    expect(out.reduce((a, v) => a + v, 0)).toBeCloseTo(200, 3);
  });

  it('keeps pixels in 0..255 under random shifts, turns, scaling and elastic fields', () => {
    const aug = new Augmenter({ shift: 3, rotate: 30, scale: 0.2, elastic: { alpha: 8, sigma: 3 } }, 1);
    const out = new Float32Array(D);
    for (let k = 0; k < 64; k++) {
      transformImage(raw(k), aug.draw(), side, out);
      for (const v of out) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(255);
      }
    }
  });

  it('elastic fields are smooth displacements of the size alpha asks for', () => {
    const f = elasticField(new Rng(3), side, 34, 4);
    const rms = Math.sqrt(f.reduce((a, v) => a + v * v, 0) / f.length);
    expect(rms).toBeGreaterThan(0.3);
    expect(rms).toBeLessThan(10);
    let jump = 0; // neighbours differ by far less than the field's size: smooth
    for (let y = 0; y < side; y++) for (let x = 1; x < side; x++) jump = Math.max(jump, Math.abs(f[y * side + x] - f[y * side + x - 1]));
    expect(jump).toBeLessThan(rms);
  });
});

describe('Augmenter batches', () => {
  const norm = new Normalizer(fitNormalization('standardize', false, ds.images, idx, D), D);
  it('with nothing to do, equal the plain gather exactly', () => {
    const a = allocF32(4 * D);
    const b = allocF32(4 * D);
    new Augmenter({ shift: 0, rotate: 0, scale: 0, elastic: false }, 1).batch(ds.images, idx, 0, 4, norm, a);
    norm.gather(ds.images, idx, 0, 4, b);
    expect(a).toEqual(b);
  });

  it('repeat with the same seed and differ with another', () => {
    const cfg = { shift: 2, rotate: 10, scale: 0.1, elastic: { alpha: 10, sigma: 4 } };
    const run = (seed: number) => {
      const out = allocF32(8 * D);
      new Augmenter(cfg, seed).batch(ds.images, idx, 0, 8, norm, out);
      return Array.from(out);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('keep the labels right: a network trained on augmented batches learns', async () => {
    const cfg = resolveConfig(
      {
        data: { subset: 0.05, augment: { shift: 2, rotate: 10, scale: 0.1, elastic: { alpha: 8, sigma: 4 } } },
        model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
        training: { epochs: 3, earlyStopping: false },
      },
      'test',
    );
    const out = await runTraining(cfg, prepareData(cfg), []);
    expect(out.val.accuracy).toBeGreaterThan(0.8); // wrong labels would leave it near 10%
  });
});

describe('flipping', () => {
  it('is refused with the reason', () => {
    expect(() => resolveConfig({ data: { augment: { flip: true } }, model: { layers: [{ type: 'dense', units: 10, activation: 'softmax' }] } }, 'c.yaml')).toThrow(
      'c.yaml: data.augment.flip: expected false: mirroring changes which digit an image shows',
    );
  });
});
