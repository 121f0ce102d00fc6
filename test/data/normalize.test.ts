import { describe, expect, it } from 'vitest';
import { fitNormalization, Normalizer } from '../../src/data/normalize';

describe('normalization', () => {
  // two images of 3 pixels
  const images = Uint8Array.of(0, 255, 51, 255, 255, 102);
  const both = Uint32Array.of(0, 1);

  it('scale maps bytes to [0, 1]', () => {
    const n = new Normalizer(fitNormalization('scale', false, images, both, 3), 3);
    expect(Array.from(n.apply(Uint8Array.of(0, 51, 255)))).toEqual([0, Math.fround(0.2), 1]);
  });

  it('standardize (global) gives zero mean and unit variance on the training images', () => {
    const spec = fitNormalization('standardize', false, images, both, 3);
    const n = new Normalizer(spec, 3);
    const out = new Float32Array(6);
    n.gather(images, both, 0, 2, out);
    const mean = out.reduce((a, b) => a + b) / 6;
    const variance = out.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
    expect(mean).toBeCloseTo(0, 6);
    expect(variance).toBeCloseTo(1, 5);
  });

  it('standardize per pixel uses each pixel`s own statistics, and a constant pixel does not divide by zero', () => {
    const spec = fitNormalization('standardize', true, images, both, 3);
    expect((spec.mean as number[])[1]).toBeCloseTo(1, 9); // pixel 1 is 255 in both images
    const n = new Normalizer(spec, 3);
    const out = n.apply(Uint8Array.of(255, 255, 102));
    expect(out[0]).toBeCloseTo(1, 5); // (1 - 0.5) / 0.5
    expect(Number.isFinite(out[1])).toBe(true);
    expect(out[2]).toBeCloseTo(1, 5);
  });

  it('statistics come only from the indices given (the training split)', () => {
    const onlyFirst = fitNormalization('standardize', false, images, Uint32Array.of(0), 3);
    expect(onlyFirst.mean as number).toBeCloseTo((0 + 1 + 0.2) / 3, 9);
  });
});
