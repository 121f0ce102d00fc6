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
  const h = parseIdxHeader(bytes, bytes.length, label);
  return { dims: h.dims, data: bytes.subarray(h.headerLen, h.headerLen + h.size) };
}

export interface IdxHeader {
  dims: number[];
  headerLen: number; // bytes before the data
  size: number; // bytes of data
}

/** Checks an IDX header (the first bytes of a file of `total` bytes) and its promise about the data's size. */
export function parseIdxHeader(bytes: Uint8Array, total: number, label: string): IdxHeader {
  if (total < 4 || bytes.length < 4) throw new UserError(`${label}: truncated IDX file (${total} bytes, expected a 4-byte magic number and sizes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new UserError(`${label}: bad magic number 0x${hex(bytes, 0, 4)}: not an IDX file (expected 0x00000801 for labels or 0x00000803 for images)`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
  if (type !== UBYTE) throw new UserError(`${label}: IDX data type 0x${type.toString(16).padStart(2, '0')} is not supported (expected 0x08, unsigned bytes)`);
  if (ndim < 1 || ndim > 4) throw new UserError(`${label}: IDX file has ${ndim} dimensions (expected 1 for labels or 3 for images)`);
  const headerLen = 4 + 4 * ndim;
  if (total < headerLen || bytes.length < headerLen) throw new UserError(`${label}: truncated IDX header (${total} bytes, expected ${headerLen})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  if (size > MAX_IDX_BYTES) throw new UserError(`${label}: IDX sizes ${dims.join('x')} are implausibly large (corrupt header?)`);
  const have = total - headerLen;
  if (have < size) throw new UserError(`${label}: truncated: header promises ${dims.join('x')} = ${size} bytes of data, file has ${have}`);
  if (have > size) throw new UserError(`${label}: ${have - size} unexpected bytes after the ${dims.join('x')} data (corrupt file?)`);
  return { dims, headerLen, size };
}

/**
 * An uncompressed IDX file read straight into memory that `alloc` gives (one copy from the
 * page cache, none through a Buffer: for MNIST's 55 MB that is what a trial's start-up costs).
 * Gzipped files go through readIdxFile and a copy.
 */
export function readIdxInto(path: string, alloc: (bytes: number) => Uint8Array): IdxArray {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new UserError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`);
  }
  try {
    const head = new Uint8Array(20);
    const got = fs.readSync(fd, head, 0, head.length, 0);
    if (got >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      const a = readIdxFile(path);
      const data = alloc(a.data.length);
      data.set(a.data);
      return { dims: a.dims, data };
    }
    const h = parseIdxHeader(head.subarray(0, got), fs.fstatSync(fd).size, path);
    const data = alloc(h.size);
    for (let done = 0; done < h.size; ) {
      const n = fs.readSync(fd, data, done, h.size - done, h.headerLen + done);
      if (n === 0) throw new UserError(`${path}: ended early while being read`);
      done += n;
    }
    return { dims: h.dims, data };
  } finally {
    fs.closeSync(fd);
  }
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
