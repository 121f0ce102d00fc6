import { describe, expect, it } from 'vitest';
import { kernels } from '../../src/kernels';
import { keepLimit } from '../../src/kernels/ts';
import { Rng, Rng4 } from '../../src/util/rng';

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

describe('Rng4: four xoshiro128** lanes', () => {
  it('each lane runs the xoshiro128** sequence from its own state', () => {
    const lanes = new Rng4(new Rng(3));
    for (let l = 0; l < 4; l++) {
      // a one-lane Rng started from lane l's words must draw what lane l draws
      const one = new Rng(0);
      one.setState([lanes.words[l], lanes.words[4 + l], lanes.words[8 + l], lanes.words[12 + l], NaN]);
      const copy = new Rng4(new Rng(3));
      for (let k = 0; k < 50; k++) expect(copy.nextU32(l)).toBe(one.nextU32());
    }
  });

  it('seeds four different lanes, and the state round-trips', () => {
    const a = new Rng4(new Rng(9));
    const first = [0, 1, 2, 3].map((l) => a.nextU32(l));
    expect(new Set(first).size).toBe(4);
    const st = a.getState();
    const b = new Rng4(new Rng(1));
    b.setState(st);
    expect([0, 1, 2, 3].map((l) => b.nextU32(l))).toEqual([0, 1, 2, 3].map((l) => a.nextU32(l)));
  });
});

describe('dropout masks (kernels.dropoutMask over a 4-lane state)', () => {
  it('unit i keeps when lane i % 4 draws below keep * 2^32; every lane advances ceil(n / 4) times', () => {
    const a = new Rng4(new Rng(11));
    const b = new Rng4(new Rng(11));
    const n = 1001;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3.3);
    const mask = new Float32Array(n);
    const y = new Float32Array(n);
    kernels.dropoutMask(a.words, x, mask, y, n, 0.8, 1.25);
    let kept = 0;
    for (let i = 0; i < Math.ceil(n / 4) * 4; i++) {
      const draw = b.nextU32(i % 4);
      if (i >= n) continue;
      const want = draw / 4294967296 < 0.8 ? 1.25 : 0;
      expect(mask[i]).toBe(want);
      expect(y[i]).toBe(Math.fround(x[i] * want));
      kept += want ? 1 : 0;
    }
    expect(Math.abs(kept - 0.8 * n)).toBeLessThan(4 * Math.sqrt(n * 0.8 * 0.2));
    expect(a.getState()).toEqual(b.getState());
  });

  it('keeps where the draw is below keep * 2^32, exactly at the boundary', () => {
    // keepLimit is the largest draw that keeps: r < keep * 2^32
    expect(keepLimit(0.5)).toBe(2147483647);
    expect(keepLimit(0.75)).toBe(3221225471);
    expect(keepLimit(1e-12)).toBe(0);
    expect(keepLimit(1 - 1e-12)).toBe(4294967295);
  });
});
