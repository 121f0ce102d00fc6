import { describe, expect, it } from 'vitest';
import { kernels } from '../../src/kernels';
import { Rng } from '../../src/util/rng';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds and purposes', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(1)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(1)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(2)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Rng.derive(1, 'dropout').nextU32()).not.toBe(Rng.derive(1, 'shuffle').nextU32());
  });

  it('uniform draws have mean 1/2; normal draws mean 0 and variance 1 (within 4 standard errors)', () => {
    const r = new Rng(7);
    const n = 100000;
    let s = 0;
    let sn = 0;
    let sn2 = 0;
    for (let i = 0; i < n; i++) {
      s += r.next();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(Math.abs(s / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('int(n) covers 0..n-1 evenly and shuffle is a permutation', () => {
    const r = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    counts.forEach((c) => expect(Math.abs(c - 10000)).toBeLessThan(400));
    const a = Uint32Array.from({ length: 100 }, (_, i) => i);
    r.shuffle(a);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('state round-trips: a restored generator continues the same sequence', () => {
    const r = new Rng(9);
    r.normal();
    const st = r.getState();
    const want = [r.normal(), r.nextU32()];
    const q = new Rng(0);
    q.setState(st);
    expect([q.normal(), q.nextU32()]).toEqual(want);
  });
});

describe('dropout masks (kernels.dropoutMask over the generator state)', () => {
  it('draws exactly what next() < keep would, and leaves the generator where n draws would', () => {
    const a = new Rng(11);
    const b = new Rng(11);
    const n = 1001;
    const x = Float32Array.from({ length: n }, (_, i) => i + 1);
    const mask = new Float32Array(n);
    const y = new Float32Array(n);
    kernels.dropoutMask(a.words, x, mask, y, n, 0.8, 1.25);
    for (let i = 0; i < n; i++) {
      const want = b.next() < 0.8 ? 1.25 : 0;
      expect(mask[i]).toBe(want);
      expect(y[i]).toBe(Math.fround(x[i] * want));
    }
    expect(a.nextU32()).toBe(b.nextU32());
  });
});
