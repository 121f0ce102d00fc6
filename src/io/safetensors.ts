/**
 * Reader and writer for the safetensors format
 * (https://github.com/huggingface/safetensors), restricted to F32 and I8 tensors:
 *
 *   8 bytes   little-endian u64 N
 *   N bytes   UTF-8 JSON header, space-padded to a multiple of 8
 *   rest      data buffer; each tensor's bytes at header.data_offsets
 *
 * The reader treats its input as hostile: every problem becomes a one-line
 * UserError naming the file, and nothing is allocated from a size the file
 * has not been checked to contain.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors';
import { writeFileAtomic } from './atomic';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** An int8 tensor (dtype I8: nn quantize's weights). */
export interface Int8Tensor {
  shape: number[];
  data: Int8Array;
}

export type AnyTensor = Tensor | Int8Tensor;

export interface SafetensorsContents {
  /** F32 tensors (any I8 ones are in `int8`) */
  tensors: Map<string, Tensor>;
  int8: Map<string, Int8Tensor>;
  metadata: Record<string, string>;
}

export type TensorList = Array<[string, AnyTensor]> | Map<string, AnyTensor>;

const METADATA_KEY = '__metadata__';
const LENGTH_BYTES = 8;
const DTYPE_BYTES: Record<string, number> = { F32: 4, I8: 1 };
// Same limit as the reference reader: anything bigger is corrupt or hostile.
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- encoding

/**
 * Tensors are laid out in the order given; `__metadata__` comes first in the
 * header, as the reference writer does. Throws plain Errors: bad input here
 * is a bug in the caller, not something the user can fix.
 */
export function encodeSafetensors(tensors: TensorList, metadata?: Record<string, string>): Uint8Array {
  const parts = encodeSafetensorsParts(tensors, metadata);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * The file as parts: the length and header, then each tensor's bytes (on a little-endian
 * host, views of the tensors themselves): a writer writes them one after the other, with no
 * copy of a checkpoint's megabytes into a fresh buffer first (fresh pages cost here).
 */
export function encodeSafetensorsParts(tensors: TensorList, metadata?: Record<string, string>): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors] : tensors;
  checkEncodable(entries, metadata);

  // Built by hand rather than JSON.stringify(object) because JS objects put
  // integer-like keys ("0", "1") first, which would reorder the header.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const fields = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    const info = `{"dtype":"${t.data instanceof Int8Array ? 'I8' : 'F32'}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`;
    parts.push(`${JSON.stringify(name)}:${info}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = roundUpTo8(json.length);

  const head = new Uint8Array(LENGTH_BYTES + headerLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, LENGTH_BYTES);
  head.fill(0x20, LENGTH_BYTES + json.length, LENGTH_BYTES + headerLength);
  return [head, ...entries.map(([, t]) => (t.data instanceof Int8Array ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : f32LE(t.data)))];
}

function checkEncodable(entries: Array<[string, AnyTensor]>, metadata: Record<string, string> | undefined): void {
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (typeof name !== 'string') throw new Error(`safetensors: tensor name ${String(name)} is not a string`);
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`safetensors: duplicate tensor name ${quote(name)}`);
    seen.add(name);
    if (!(t.data instanceof Float32Array || t.data instanceof Int8Array)) throw new Error(`safetensors: tensor ${quote(name)} data is not a Float32Array or Int8Array`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
      throw new Error(`safetensors: tensor ${quote(name)} has an invalid shape ${JSON.stringify(t.shape)}`);
    }
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) {
      throw new Error(
        `safetensors: tensor ${quote(name)} has shape ${JSON.stringify(t.shape)} (${elements} elements) but ${t.data.length} values`,
      );
    }
  }
  if (metadata === undefined) return;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata value for ${quote(k)} is not a string`);
  }
}

function roundUpTo8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** The tensor's bytes, little-endian: a view of it (bytes, not floats: NaN payloads stay bit-exact), or a swapped copy. */
function f32LE(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const copy = bytes.slice();
  swap32(copy);
  return copy;
}

function swap32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

// ---------------------------------------------------------------- decoding

type Fail = (what: string) => never;

interface Entry {
  name: string;
  dtype: 'F32' | 'I8';
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Validates like the reference reader (including its rejection of gaps and
 * trailing bytes in the data buffer) and copies each tensor into a fresh,
 * aligned Float32Array. Tensors come back in data-buffer order.
 */
export function decodeSafetensors(bytes: Uint8Array, fileLabel: string): SafetensorsContents {
  const fail: Fail = (what) => {
    throw new UserError(`${fileLabel}: ${what}`);
  };
  const headerLength = readHeaderLength(bytes, fail);
  const header = parseHeaderJson(bytes.subarray(LENGTH_BYTES, LENGTH_BYTES + headerLength), fail);

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === METADATA_KEY) metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(key, value, fail));
  }

  const data = bytes.subarray(LENGTH_BYTES + headerLength);
  checkLayout(entries, data.length, fail);

  const tensors = new Map<string, Tensor>();
  const int8 = new Map<string, Int8Tensor>();
  for (const e of entries) {
    const bytes = data.subarray(e.begin, e.end);
    if (e.dtype === 'I8') int8.set(e.name, { shape: e.shape, data: Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) });
    else tensors.set(e.name, { shape: e.shape, data: copyF32LE(bytes) });
  }
  return { tensors, int8, metadata };
}

function readHeaderLength(bytes: Uint8Array, fail: Fail): number {
  if (bytes.length < LENGTH_BYTES) {
    fail(`not a safetensors file (only ${bytes.length} bytes; it must start with an 8-byte header length)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, LENGTH_BYTES).getBigUint64(0, true);
  // Compared as BigInt: a hostile u64 may not fit in a double exactly.
  if (n > BigInt(bytes.length - LENGTH_BYTES)) {
    fail(`not a safetensors file (header length ${n} is larger than the file, ${bytes.length} bytes)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(`not a safetensors file (header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit)`);
  }
  return Number(n);
}

function parseHeaderJson(raw: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    // fatal: reject invalid UTF-8 instead of substituting U+FFFD; ignoreBOM:
    // keep a BOM so it fails JSON.parse, as it does in the reference reader.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return fail('not a safetensors file (header is not valid UTF-8)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may span lines.
    return fail('not a safetensors file (header is not valid JSON)');
  }
  if (!isPlainObject(parsed)) return fail('not a safetensors file (header is not a JSON object)');
  return parsed;
}

function parseMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (value === null) return {}; // the reference reader accepts null as "no metadata"
  if (!isPlainObject(value)) {
    return fail(`corrupt safetensors header: ${METADATA_KEY} is not an object of strings`);
  }
  const pairs = Object.entries(value);
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') {
      fail(`corrupt safetensors header: ${METADATA_KEY} value for ${quote(k)} is ${describe(v)}, expected a string`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(pairs) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, fail: Fail): Entry {
  const what = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) {
    return fail(`corrupt safetensors header: ${what} is ${describe(value)}, expected {dtype, shape, data_offsets}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') return fail(`corrupt safetensors header: ${what} has no dtype string`);
  if (dtype !== 'F32' && dtype !== 'I8') {
    return fail(`${what} has dtype ${quote(dtype)}; only F32 and I8 tensors are supported`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(`corrupt safetensors header: ${what} has an invalid shape (expected an array of non-negative integers)`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    return fail(`corrupt safetensors header: ${what} has invalid data_offsets (expected [begin, end] with 0 <= begin <= end)`);
  }
  // `+ 0` turns a JSON -0 into 0 so it prints and compares like one.
  return { name, dtype, shape: shape.map((d: number) => d + 0), begin: offsets[0] + 0, end: offsets[1] + 0 };
}

/** Sizes against shapes, then coverage: every data byte belongs to exactly one tensor. */
function checkLayout(entries: Entry[], dataLength: number, fail: Fail): void {
  const needed = entries.reduce((max, e) => Math.max(max, e.end), 0);
  if (needed > dataLength) {
    fail(`truncated: header says ${needed} bytes of tensor data, file has ${dataLength}`);
  }
  for (const e of entries) {
    // BigInt: the product of hostile dimensions can exceed 2^53.
    const expected = e.shape.reduce((acc, d) => acc * BigInt(d), BigInt(DTYPE_BYTES[e.dtype]));
    if (expected !== BigInt(e.end - e.begin)) {
      fail(
        `corrupt safetensors header: tensor ${quote(e.name)} has shape [${e.shape.join(',')}] ` +
          `(${expected} bytes of ${e.dtype}) but data_offsets [${e.begin},${e.end}] span ${e.end - e.begin} bytes`,
      );
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      fail(
        `corrupt safetensors header: tensors ${quote(previous!.name)} [${previous!.begin},${previous!.end}] ` +
          `and ${quote(e.name)} [${e.begin},${e.end}] overlap`,
      );
    }
    if (e.begin > cursor) {
      fail(`corrupt safetensors header: data bytes ${cursor}..${e.begin} belong to no tensor`);
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor < dataLength) {
    fail(`not a valid safetensors file (${dataLength - cursor} bytes of trailing data after the last tensor)`);
  }
}

/** Fresh buffer: the source may sit at an odd offset inside a Node Buffer pool. */
function copyF32LE(src: Uint8Array): Float32Array {
  const bytes = new Uint8Array(src.length);
  bytes.set(src);
  if (!LITTLE_ENDIAN_HOST) swap32(bytes);
  return new Float32Array(bytes.buffer);
}

function isPlainObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Quoted, escaped and shortened, so hostile names keep messages on one line. */
function quote(s: string): string {
  const MAX = 60;
  const short = s.length > MAX ? `${s.slice(0, MAX)}...` : s;
  return JSON.stringify(short).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

// ---------------------------------------------------------------- files

export function readSafetensorsFile(path: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw fileError(path, err, 'read');
  }
  return decodeSafetensors(bytes, path);
}

export function writeSafetensorsFile(path: string, tensors: TensorList, metadata?: Record<string, string>): void {
  const parts = encodeSafetensorsParts(tensors, metadata);
  try {
    writeFileAtomic(path, parts);
  } catch (err) {
    throw fileError(path, err, 'write');
  }
}

/** Filesystem errors become one-line UserErrors; anything else is a bug and passes through. */
function fileError(path: string, err: unknown, verb: 'read' | 'write'): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (code === 'ENOENT') {
    return new UserError(verb === 'read' ? `${path}: file not found` : `${path}: cannot write: folder does not exist`);
  }
  if (code === 'EISDIR') return new UserError(`${path}: is a folder; expected a safetensors file`);
  if (code === 'ERR_FS_FILE_TOO_LARGE') return new UserError(`${path}: file is too large to load`);
  return new UserError(`${path}: cannot ${verb} file (${code})`);
}
