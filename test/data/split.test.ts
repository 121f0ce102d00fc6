import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/mnist';
import { apportion, makeSplit } from '../../src/data/split';

const ds = loadDataset();

function classCounts(idx: Uint32Array): number[] {
  const c = new Array(10).fill(0);
  for (const i of idx) c[ds.labels[i]]++;
  return c;
}

describe('split', () => {
  const s = makeSplit(ds.labels, ds.n, ds.officialTrain, [0.8, 0.1, 0.1], 42);

  it('80/10/10 of 70,000 is exactly 56,000/7,000/7,000', () => {
    expect([s.train.length, s.val.length, s.test.length]).toEqual([56000, 7000, 7000]);
  });

  it('has no overlap and covers every image once', () => {
    const seen = new Uint8Array(ds.n);
    for (const part of [s.train, s.val, s.test]) for (const i of part) seen[i]++;
    expect(seen.every((v) => v === 1)).toBe(true);
  });

  it('is stratified: each class is within one image of its exact share in every part', () => {
    const all = classCounts(Uint32Array.from({ length: ds.n }, (_, i) => i));
    const parts: Array<[Uint32Array, number]> = [[s.train, 0.8], [s.val, 0.1], [s.test, 0.1]];
    for (const [part, f] of parts) {
      classCounts(part).forEach((c, k) => expect(Math.abs(c - all[k] * f)).toBeLessThanOrEqual(1));
    }
  });

  it('same seed, same split; another seed, another split', () => {
    const again = makeSplit(ds.labels, ds.n, ds.officialTrain, [0.8, 0.1, 0.1], 42);
    expect(Buffer.from(again.test.buffer).equals(Buffer.from(s.test.buffer))).toBe(true);
    const other = makeSplit(ds.labels, ds.n, ds.officialTrain, [0.8, 0.1, 0.1], 43);
    expect(Buffer.from(other.test.buffer).equals(Buffer.from(s.test.buffer))).toBe(false);
  });

  it('is not ordered by class', () => {
    const firstLabels = Array.from(s.train.subarray(0, 50), (i) => ds.labels[i]);
    expect(new Set(firstLabels).size).toBeGreaterThan(5);
  });

  it('takes other ratios', () => {
    const t = makeSplit(ds.labels, ds.n, ds.officialTrain, [0.7, 0.15, 0.15], 1);
    expect([t.train.length, t.val.length, t.test.length]).toEqual([49000, 10500, 10500]);
  });

  it('official: the 10,000 official test images are the test set; validation is 10% of the 60,000', () => {
    const o = makeSplit(ds.labels, ds.n, ds.officialTrain, 'official', 42);
    expect([o.train.length, o.val.length, o.test.length]).toEqual([54000, 6000, 10000]);
    expect(Math.min(...o.test)).toBe(60000);
    expect(Math.max(...o.train, ...o.val)).toBeLessThan(60000);
  });
});

describe('apportion', () => {
  it('gives integers that sum to the total', () => {
    expect(apportion(10, [1 / 3, 1 / 3, 1 / 3])).toEqual([4, 3, 3]);
    expect(apportion(7, [0.8, 0.1, 0.1]).reduce((a, b) => a + b)).toBe(7);
  });
});
