/**
 * Reader for the IDX format MNIST ships in (http://yann.lecun.com/exdb/mnist/):
 * magic [0, 0, type, ndim], ndim big-endian uint32 sizes, then the data.
 * We only need unsigned bytes (type 0x08). Files may be gzipped.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { UserError } from '../util/errors';

export interface IdxArray {
  dims: number[];
  data: Uint8Array; // row-major, product(dims) bytes
}

const UBYTE = 0x08;
// Anything above this is a corrupt size field, not a dataset: refuse it before allocating.
const MAX_IDX_BYTES = 2 ** 31;

export function parseIdx(bytes: Uint8Array, label: string): IdxArray {
  if (bytes.length < 4) throw new UserError(`${label}: truncated IDX file (${bytes.length} bytes, expected a 4-byte magic number and sizes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new UserError(`${label}: bad magic number 0x${hex(bytes, 0, 4)}: not an IDX file (expected 0x00000801 for labels or 0x00000803 for images)`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
  if (type !== UBYTE) throw new UserError(`${label}: IDX data type 0x${type.toString(16).padStart(2, '0')} is not supported (expected 0x08, unsigned bytes)`);
  if (ndim < 1 || ndim > 4) throw new UserError(`${label}: IDX file has ${ndim} dimensions (expected 1 for labels or 3 for images)`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) throw new UserError(`${label}: truncated IDX header (${bytes.length} bytes, expected ${headerLen})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  if (size > MAX_IDX_BYTES) throw new UserError(`${label}: IDX sizes ${dims.join('x')} are implausibly large (corrupt header?)`);
  const have = bytes.length - headerLen;
  if (have < size) throw new UserError(`${label}: truncated: header promises ${dims.join('x')} = ${size} bytes of data, file has ${have}`);
  if (have > size) throw new UserError(`${label}: ${have - size} unexpected bytes after the ${dims.join('x')} data (corrupt file?)`);
  return { dims, data: bytes.subarray(headerLen, headerLen + size) };
}

export function readIdxFile(path: string): IdxArray {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  let bytes: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES });
    } catch (e) {
      throw new UserError(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

function hex(b: Uint8Array, start: number, n: number): string {
  let s = '';
  for (let i = start; i < start + n && i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}
