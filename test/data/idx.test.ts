import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdxFile } from '../../src/data/idx';
import { UserError } from '../../src/util/errors';
import { Rng } from '../../src/util/rng';
import { idx } from '../helpers/idx';
import { tempDir } from '../helpers/tmp';

describe('parseIdx', () => {
  it('reads dims and data of an image file', () => {
    const a = parseIdx(idx([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 'x');
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('rejects a bad magic number, naming the file and the expected magic', () => {
    const b = idx([1], [7]);
    b[0] = 0x1f;
    expect(() => parseIdx(b, 'labels.idx')).toThrow(/labels\.idx: bad magic number 0x1f000801.*expected 0x00000801/);
  });

  it('rejects a data type other than unsigned bytes', () => {
    const b = idx([1], [0, 0, 0, 0]);
    b[2] = 0x0d; // float
    expect(() => parseIdx(b, 'f')).toThrow(/data type 0x0d is not supported/);
  });

  it('rejects a truncated file with the sizes involved', () => {
    const b = idx([3, 2, 2], new Array(12).fill(1)).subarray(0, 20);
    expect(() => parseIdx(b, 't.idx')).toThrow(/t\.idx: truncated: header promises 3x2x2 = 12 bytes of data, file has 4/);
    expect(() => parseIdx(Uint8Array.of(0, 0), 'short')).toThrow(/short: truncated IDX file/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1), 'hdr')).toThrow(/hdr: truncated IDX header/);
  });

  it('rejects trailing bytes and absurd sizes before allocating', () => {
    expect(() => parseIdx(idx([2], [1, 2, 3]), 'long')).toThrow(/1 unexpected bytes/);
    expect(() => parseIdx(idx([0xffffffff, 0xffffffff, 0xffffffff], []), 'huge')).toThrow(/implausibly large/);
  });

  it('throws UserError for every malformed input (never a raw RangeError)', () => {
    const good = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    for (let cut = 0; cut < good.length; cut++) {
      try {
        parseIdx(good.subarray(0, cut), 'cut');
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
      }
    }
  });
});

describe('readIdxFile', () => {
  const dir = tempDir('nn-idx-');
  it('reads plain and gzipped files alike', () => {
    const raw = idx([4], [0, 1, 2, 9]);
    fs.writeFileSync(path.join(dir, 'a'), raw);
    fs.writeFileSync(path.join(dir, 'a.gz'), zlib.gzipSync(raw));
    expect(Array.from(readIdxFile(path.join(dir, 'a')).data)).toEqual([0, 1, 2, 9]);
    expect(Array.from(readIdxFile(path.join(dir, 'a.gz')).data)).toEqual([0, 1, 2, 9]);
  });
  it('names a missing file', () => {
    expect(() => readIdxFile(path.join(dir, 'nope'))).toThrow(/nope: file not found/);
  });
  it('reports corrupt gzip data', () => {
    fs.writeFileSync(path.join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => readIdxFile(path.join(dir, 'bad.gz'))).toThrow(/bad\.gz: corrupt gzip data/);
  });
});

describe('fuzz', () => {
  it('3,000 seeded mutations of valid files (bit flips, truncations, huge sizes, junk): each parses or throws one UserError line', () => {
    const rng = new Rng(2024);
    const int = (n: number) => rng.int(n);
    const images = idx([5, 4, 4], Array.from({ length: 80 }, (_, i) => (i * 13) % 256));
    const labels = idx([5], [1, 2, 3, 4, 5]);
    const mutations: Array<(base: Uint8Array) => Uint8Array> = [
      (b) => { // flip a few bits anywhere
        const m = Uint8Array.from(b);
        for (let k = 1 + int(4); k > 0; k--) m[int(m.length)] ^= 1 << int(8);
        return m;
      },
      (b) => b.subarray(0, int(b.length)), // truncate
      (b) => { // a size field set to something huge
        const m = Uint8Array.from(b);
        const dims = m[3];
        new DataView(m.buffer).setUint32(4 + 4 * int(Math.max(1, dims)), [0xffffffff, 0x7fffffff, 1 << 24, 0][int(4)]);
        return m;
      },
      (b) => { // the number of dimensions or the data type changed
        const m = Uint8Array.from(b);
        m[2 + int(2)] = int(256);
        return m;
      },
      (b) => Uint8Array.from([...b, ...Array.from({ length: 1 + int(8) }, () => int(256))]), // junk after
      (b) => Uint8Array.from(Array.from({ length: int(40) }, () => int(256))), // noise
    ];
    let parsed = 0;
    let rejected = 0;
    for (let k = 0; k < 3000; k++) {
      const input = mutations[k % mutations.length](k % 2 ? images : labels);
      try {
        const out = parseIdx(input, 'fuzz');
        expect(out.data.length).toBe(out.dims.reduce((a, d) => a * d, 1));
        parsed++;
      } catch (e) {
        if (!(e instanceof UserError)) throw new Error(`mutation ${k}: ${String(e)} for ${Buffer.from(input).toString('hex')}`);
        expect(e.message.startsWith('fuzz: ')).toBe(true);
        expect(e.message).not.toContain('\n');
        rejected++;
      }
    }
    expect(parsed + rejected).toBe(3000);
    expect(rejected).toBeGreaterThan(1500); // the mutations do corrupt
    expect(parsed).toBeGreaterThan(50); // and flips inside the data still read
  });
});
