/**
 * fitInside against what a resampler must do: sizes that keep the aspect ratio,
 * the identity at scale 1, flat stays flat, and shrinking by an integer factor
 * lands within 2 grey levels of the block averages (antialiasing: every input
 * pixel counts, none is skipped).
 */
import { describe, expect, it } from 'vitest';
import { fitInside } from '../../src/io/resize';

const img = (width: number, height: number, f: (x: number, y: number) => number) => {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
};

describe('fitInside', () => {
  it('makes the longer side the size and keeps the aspect ratio', () => {
    for (const [w, h, ow, oh] of [[80, 40, 20, 10], [40, 80, 10, 20], [7, 3, 20, 9], [100, 1, 20, 1], [1, 1, 20, 20]]) {
      const out = fitInside(img(w, h, () => 9), 20);
      expect([out.width, out.height]).toEqual([ow, oh]);
    }
  });

  it('is the identity at scale 1 and keeps a flat image flat at any scale', () => {
    const noise = img(20, 13, (x, y) => (x * 37 + y * 91) % 256);
    expect(Array.from(fitInside(noise, 20).data)).toEqual(Array.from(noise.data));
    for (const [w, h] of [[80, 60], [9, 5], [20, 20]]) expect(new Set(fitInside(img(w, h, () => 173), 20).data)).toEqual(new Set([173]));
  });

  it('shrinking 4x lands within 2 grey levels of the 4x4 block averages on smooth content', () => {
    const smooth = img(80, 80, (x, y) => Math.round(127 + 100 * Math.sin(x / 13) * Math.cos(y / 17)));
    const out = fitInside(smooth, 20);
    for (let by = 0; by < 20; by++) {
      for (let bx = 0; bx < 20; bx++) {
        let s = 0;
        for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) s += smooth.data[(by * 4 + y) * 80 + bx * 4 + x];
        expect(Math.abs(out.data[by * 20 + bx] - s / 16)).toBeLessThanOrEqual(2);
      }
    }
  });
});
