import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdxFile } from '../../src/data/idx';
import { UserError } from '../../src/util/errors';
import { idx } from '../helpers/idx';

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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-idx-'));
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
