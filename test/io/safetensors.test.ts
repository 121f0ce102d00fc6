import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  type Tensor,
} from '../../src/io/safetensors';
import { UserError } from '../../src/util/errors';

const LABEL = 'runs/x/model.safetensors';

function f32(values: number[]): Float32Array {
  return Float32Array.from(values);
}

function u64le(n: number): number[] {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return [...out];
}

function ascii(s: string): number[] {
  return [...Buffer.from(s, 'utf8')];
}

/** A file from its JSON header text and data bytes, header padded like the reference writer. */
function buildFile(headerJson: string, data: number[] = []): Uint8Array {
  const header = ascii(headerJson);
  while (header.length % 8 !== 0) header.push(0x20);
  return Uint8Array.from([...u64le(header.length), ...header, ...data]);
}

function f32Bytes(values: number[]): number[] {
  return [...new Uint8Array(Float32Array.from(values).buffer)];
}

function expectUserError(fn: () => unknown, pattern: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  const err = caught as UserError;
  expect(err.message.startsWith(`${LABEL}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  expect(err.message).toMatch(pattern);
  return err;
}

function bitsOf(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

describe('encode/decode round trip', () => {
  it('keeps names, order, shapes, bit-exact values and metadata', () => {
    const weird = new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]);
    // A NaN with a non-canonical payload must survive: the copy is bytewise.
    new Uint32Array(weird.buffer)[0] = 0x7fa12345;
    const tensors: Array<[string, Tensor]> = [
      ['layer1.weight', { shape: [2, 3], data: f32([1, 2, 3, 4, 5, 6.5]) }],
      ['layer1.bias', { shape: [3], data: f32([-1, 0.1, 1e30]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ['scalar', { shape: [], data: f32([42]) }],
      ['1', { shape: [6], data: weird }],
      ['ünïcødé ✓', { shape: [1], data: f32([7]) }],
    ];
    const metadata = { format: 'pt', epoch: '3', note: 'line1\nline2 "quoted"', __proto__x: 'y' };
    const bytes = encodeSafetensors(tensors, metadata);
    const out = decodeSafetensors(bytes, LABEL);

    expect([...out.tensors.keys()]).toEqual(tensors.map(([n]) => n));
    for (const [name, t] of tensors) {
      const got = out.tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(got.data).toBeInstanceOf(Float32Array);
      expect(bitsOf(got.data)).toEqual(bitsOf(t.data));
    }
    expect(out.metadata).toEqual(metadata);
  });

  it('accepts a Map and no metadata', () => {
    const m = new Map<string, Tensor>([['w', { shape: [2], data: f32([1, 2]) }]]);
    const out = decodeSafetensors(encodeSafetensors(m), LABEL);
    expect(out.metadata).toEqual({});
    expect([...out.tensors.get('w')!.data]).toEqual([1, 2]);
  });

  it('encodes Float32Array views without including neighbouring data', () => {
    const backing = f32([9, 1, 2, 3, 9]);
    const view = backing.subarray(1, 4);
    const out = decodeSafetensors(encodeSafetensors([['v', { shape: [3], data: view }]]), LABEL);
    expect([...out.tensors.get('v')!.data]).toEqual([1, 2, 3]);
  });

  it('decodes from a buffer at an unaligned offset into aligned arrays', () => {
    const bytes = encodeSafetensors([['a', { shape: [3], data: f32([1.5, -2.5, 3.25]) }]], { k: 'v' });
    // Odd header padding is impossible from our writer, so misalign the whole file instead.
    const host = new Uint8Array(bytes.length + 1);
    host.set(bytes, 1);
    const out = decodeSafetensors(host.subarray(1), LABEL);
    const a = out.tensors.get('a')!.data;
    expect(a.byteOffset % 4).toBe(0);
    expect([...a]).toEqual([1.5, -2.5, 3.25]);
    expect(out.metadata).toEqual({ k: 'v' });
  });

  it('keeps a "__proto__" metadata key as data', () => {
    const file = buildFile('{"__metadata__":{"__proto__":"x"}}');
    const { metadata } = decodeSafetensors(file, LABEL);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it('rejects programming errors when encoding', () => {
    expect(() => encodeSafetensors([['a', { shape: [3], data: f32([1, 2]) }]])).toThrow(/3 elements/);
    expect(() => encodeSafetensors([['a', { shape: [-1], data: f32([]) }]])).toThrow(/invalid shape/);
    expect(() =>
      encodeSafetensors([
        ['a', { shape: [1], data: f32([1]) }],
        ['a', { shape: [1], data: f32([1]) }],
      ]),
    ).toThrow(/duplicate/);
    expect(() => encodeSafetensors([['__metadata__', { shape: [1], data: f32([1]) }]])).toThrow(/reserved/);
  });
});

describe('byte layout', () => {
  it('writes the length, a compact header padded with spaces to 8, then the data in order', () => {
    const bytes = encodeSafetensors(
      [
        ['b', { shape: [1], data: f32([1]) }],
        ['a', { shape: [2], data: f32([2, 3]) }],
      ],
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const json = '{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(n % 8).toBe(0);
    expect(n).toBe(Math.ceil(json.length / 8) * 8);
    const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    expect(headerText).toBe(json + ' '.repeat(n - json.length));
    expect(JSON.parse(headerText)).toEqual({
      __metadata__: { k: 'v' },
      b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    });
    expect(bytes.length).toBe(8 + n + 12);
    expect([...bytes.subarray(8 + n)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40]);
  });

  it('matches the reference implementation test vectors exactly', () => {
    // From safetensors/src/tensor.rs (test_serialization): 64-byte header, no padding needed.
    const attn = encodeSafetensors([['attn.0', { shape: [1, 2, 3], data: f32([0, 1, 2, 3, 4, 5]) }]]);
    expect([...attn]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58,
      34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116,
      97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    // test_empty, with and without metadata.
    expect([...encodeSafetensors([])]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...encodeSafetensors([], { framework: 'pt' })]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114,
      97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
    expect(decodeSafetensors(encodeSafetensors([]), LABEL).tensors.size).toBe(0);
  });

  it('reads and reproduces what safetensors.torch.save_file writes', () => {
    // save_file({"weight": torch.tensor([[1.0, -2.0], [0.5, 3.0]])}, f, metadata={"format": "pt"})
    const header = '{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(header.length).toBe(93); // padded with 3 spaces to 96
    const expected = Uint8Array.from([
      96, 0, 0, 0, 0, 0, 0, 0,
      ...ascii(header), 0x20, 0x20, 0x20,
      0x00, 0x00, 0x80, 0x3f, // 1.0  = 0x3f800000
      0x00, 0x00, 0x00, 0xc0, // -2.0 = 0xc0000000
      0x00, 0x00, 0x00, 0x3f, // 0.5  = 0x3f000000
      0x00, 0x00, 0x40, 0x40, // 3.0  = 0x40400000
    ]);
    const out = decodeSafetensors(expected, LABEL);
    expect(out.metadata).toEqual({ format: 'pt' });
    expect(out.tensors.get('weight')!.shape).toEqual([2, 2]);
    expect([...out.tensors.get('weight')!.data]).toEqual([1, -2, 0.5, 3]);

    const ours = encodeSafetensors([['weight', { shape: [2, 2], data: f32([1, -2, 0.5, 3]) }]], { format: 'pt' });
    expect([...ours]).toEqual([...expected]);
  });

  it('reads headers in any key order, with whitespace and unknown fields', () => {
    const header =
      '{ "b": {"shape": [1], "dtype": "F32", "data_offsets": [4, 8], "extra": true},\n' +
      '  "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} }';
    const out = decodeSafetensors(buildFile(header, f32Bytes([1, 2])), LABEL);
    expect([...out.tensors.keys()]).toEqual(['a', 'b']); // data-buffer order
    expect(out.tensors.get('b')!.data[0]).toBe(2);
  });
});

describe('corrupt files', () => {
  const one = (offsets: string, shape = '[2]', dtype = 'F32'): string =>
    `{"t":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;

  it('too short', () => {
    expectUserError(() => decodeSafetensors(new Uint8Array(0), LABEL), /not a safetensors file.*0 bytes/);
    expectUserError(() => decodeSafetensors(Uint8Array.from([1, 2, 3]), LABEL), /8-byte header length/);
  });

  it('header length past the end of the file', () => {
    const text = Uint8Array.from(ascii('std::vector<int> is not a tensor file'));
    const err = expectUserError(() => decodeSafetensors(text, LABEL), /header length \d+ is larger than the file/);
    expect(err.exitCode).toBe(2);
    const huge = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 123, 125]);
    expectUserError(() => decodeSafetensors(huge, LABEL), /header length 18446744073709551615 is larger/);
  });

  it('header over the 100 MB limit', () => {
    // Needs a file that really is that large; a zero-filled buffer is cheap.
    const big = new Uint8Array(8 + 100_000_008);
    new DataView(big.buffer).setBigUint64(0, 100_000_008n, true);
    expectUserError(() => decodeSafetensors(big, LABEL), /over the 100000000-byte limit/);
  });

  it('invalid UTF-8, invalid JSON, not an object', () => {
    const badUtf8 = Uint8Array.from([...u64le(8), 0x7b, 0xff, 0xfe, 0x7d, 32, 32, 32, 32]);
    expectUserError(() => decodeSafetensors(badUtf8, LABEL), /not valid UTF-8/);
    expectUserError(() => decodeSafetensors(buildFile('{"t": {'), LABEL), /not valid JSON/);
    expectUserError(() => decodeSafetensors(buildFile(''), LABEL), /not valid JSON/);
    expectUserError(() => decodeSafetensors(buildFile('[1,2]'), LABEL), /not a JSON object/);
    expectUserError(() => decodeSafetensors(buildFile('null'), LABEL), /not a JSON object/);
  });

  it('bad entries and metadata', () => {
    expectUserError(() => decodeSafetensors(buildFile('{"t":5}'), LABEL), /tensor "t" is a number/);
    expectUserError(() => decodeSafetensors(buildFile('{"t":{"shape":[0],"data_offsets":[0,0]}}'), LABEL), /no dtype/);
    expectUserError(() => decodeSafetensors(buildFile(one('[0,8]', '[2.5]')), LABEL), /invalid shape/);
    expectUserError(() => decodeSafetensors(buildFile(one('[0,8]', '[-2]')), LABEL), /invalid shape/);
    expectUserError(() => decodeSafetensors(buildFile(one('[0,8]', '"2"')), LABEL), /invalid shape/);
    expectUserError(() => decodeSafetensors(buildFile(one('[8,0]')), LABEL), /invalid data_offsets/);
    expectUserError(() => decodeSafetensors(buildFile(one('[0]')), LABEL), /invalid data_offsets/);
    expectUserError(() => decodeSafetensors(buildFile(one('[0,1e400]')), LABEL), /invalid data_offsets/);
    expectUserError(
      () => decodeSafetensors(buildFile('{"__metadata__":{"a":1}}'), LABEL),
      /__metadata__ value for "a" is a number, expected a string/,
    );
    expectUserError(() => decodeSafetensors(buildFile('{"__metadata__":[]}'), LABEL), /__metadata__ is not an object/);
  });

  it('unsupported dtype', () => {
    const file = buildFile(one('[0,4]', '[2]', 'BF16'), [0, 0, 0, 0]);
    expectUserError(() => decodeSafetensors(file, LABEL), /tensor "t" has dtype "BF16"; only F32 .* supported/);
  });

  it('offsets past the end (truncated file)', () => {
    const file = buildFile(one('[0,8]'), f32Bytes([1]));
    const err = expectUserError(() => decodeSafetensors(file, LABEL), /truncated/);
    expect(err.message).toBe(`${LABEL}: truncated: header says 8 bytes of tensor data, file has 4`);
  });

  it('size mismatch with shape', () => {
    const file = buildFile(one('[0,12]'), f32Bytes([1, 2, 3]));
    expectUserError(() => decodeSafetensors(file, LABEL), /shape \[2\] \(8 bytes of F32\) but data_offsets \[0,12\] span 12/);
    // Dimensions whose product overflows 2^53 must not wrap around to a match.
    const overflow = buildFile(one('[0,0]', '[4294967296,4294967296,4294967296,0,1]'));
    expect(decodeSafetensors(overflow, LABEL).tensors.get('t')!.data.length).toBe(0);
    const huge = buildFile(one('[0,4]', '[4294967296,4294967296,4294967296]'), f32Bytes([1]));
    expectUserError(() => decodeSafetensors(huge, LABEL), /but data_offsets \[0,4\] span 4 bytes/);
  });

  it('offsets overlapping', () => {
    const header =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const file = buildFile(header, f32Bytes([1, 2, 3]));
    expectUserError(() => decodeSafetensors(file, LABEL), /tensors "a" \[0,8\] and "b" \[4,12\] overlap/);
    const same =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectUserError(() => decodeSafetensors(buildFile(same, f32Bytes([1])), LABEL), /overlap/);
  });

  it('gaps between tensors', () => {
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectUserError(() => decodeSafetensors(buildFile(header, f32Bytes([1, 2])), LABEL), /bytes 0\.\.4 belong to no tensor/);
  });

  it('trailing garbage', () => {
    const good = encodeSafetensors([['t', { shape: [1], data: f32([1]) }]]);
    const file = Uint8Array.from([...good, 0xde, 0xad]);
    expectUserError(() => decodeSafetensors(file, LABEL), /2 bytes of trailing data/);
  });

  it('keeps hostile tensor names on one short line', () => {
    const name = 'x\n'.repeat(1000) + '\u2028';
    const header = `{${JSON.stringify(name)}:{"dtype":"F16","shape":[0],"data_offsets":[0,0]}}`;
    const err = expectUserError(() => decodeSafetensors(buildFile(header), LABEL), /only F32/);
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).not.toMatch(/[\u2028\u2029]/);
  });
});

/** mulberry32: small, fast, and reproducible across runs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz', () => {
  it('every mutation of a valid file decodes or throws a UserError, quickly', () => {
    const base = encodeSafetensors(
      [
        ['w1', { shape: [3, 4], data: f32(Array.from({ length: 12 }, (_, i) => i / 7)) }],
        ['b1', { shape: [4], data: f32([0.5, -0.5, 1, -1]) }],
        ['empty', { shape: [0], data: new Float32Array(0) }],
        ['w2', { shape: [4, 2], data: f32([1, 2, 3, 4, 5, 6, 7, 8]) }],
      ],
      { epoch: '7', format: 'pt' },
    );
    const headerLength = Number(new DataView(base.buffer).getBigUint64(0, true));
    const headerText = Buffer.from(base.subarray(8, 8 + headerLength)).toString('utf8').trimEnd();
    const dataBytes = [...base.subarray(8 + headerLength)];
    const random = rng(20240611);
    const int = (n: number): number => Math.floor(random() * n);
    const HUGE = [2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 32n, 100_000_001n, BigInt(base.length), BigInt(base.length - 7), 0n];
    const NUMBERS = ['0', '-1', '1e400', '-0', '1.5', '9007199254740993', '4294967296', '99999999', '"8"', 'null', '[]', '{}'];

    const mutations: Array<() => Uint8Array> = [
      () => {
        const b = base.slice();
        for (let k = 1 + int(8); k > 0; k--) b[int(b.length)]! ^= 1 << int(8);
        return b;
      },
      () => base.slice(0, int(base.length)),
      () => {
        const b = base.slice();
        new DataView(b.buffer).setBigUint64(0, random() < 0.5 ? HUGE[int(HUGE.length)]! : BigInt(int(2 ** 32)), true);
        return b;
      },
      () => {
        const b = base.slice();
        for (let k = 1 + int(6); k > 0; k--) b[8 + int(headerLength)] = int(256);
        return b;
      },
      // Structure-aware: valid JSON whose numbers are wrong reaches the semantic checks.
      () => {
        let i = 0;
        const target = int(40);
        const text = headerText.replace(/-?\d+/g, (m) => (i++ === target ? NUMBERS[int(NUMBERS.length)]! : m));
        return buildFile(text, dataBytes.slice(0, dataBytes.length - (random() < 0.2 ? 4 * int(3) : 0)));
      },
      () => {
        const text = headerText.replace(/"F32"/g, (m) => (random() < 0.3 ? '"F16"' : m));
        return buildFile(text, dataBytes);
      },
      () => Uint8Array.from([...base, ...Array.from({ length: 1 + int(16) }, () => int(256))]),
    ];

    const start = performance.now();
    let decoded = 0;
    let rejected = 0;
    for (let iteration = 0; iteration < 3000; iteration++) {
      const input = mutations[iteration % mutations.length]!();
      try {
        const out = decodeSafetensors(input, LABEL);
        for (const t of out.tensors.values()) {
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        }
        decoded++;
      } catch (err) {
        if (!(err instanceof UserError)) {
          throw new Error(`iteration ${iteration}: ${String(err)} for input ${Buffer.from(input).toString('hex')}`);
        }
        expect(err.message.startsWith(`${LABEL}: `)).toBe(true);
        expect(err.message).not.toContain('\n');
        rejected++;
      }
    }
    const elapsed = performance.now() - start;
    expect(decoded + rejected).toBe(3000);
    expect(rejected).toBeGreaterThan(1000); // the mutations really do corrupt
    expect(decoded).toBeGreaterThan(10); // e.g. bit flips inside tensor data
    expect(elapsed).toBeLessThan(2000);
  });
});

describe('files', () => {
  it('writes and reads back through the filesystem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-st-'));
    try {
      const file = path.join(dir, 'model.safetensors');
      writeSafetensorsFile(file, [['w', { shape: [2], data: f32([3, 4]) }]], { epoch: '1' });
      const out = readSafetensorsFile(file);
      expect([...out.tensors.get('w')!.data]).toEqual([3, 4]);
      expect(out.metadata).toEqual({ epoch: '1' });
      expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing file and names the path in decode errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-st-'));
    try {
      const missing = path.join(dir, 'nope.safetensors');
      expect(() => readSafetensorsFile(missing)).toThrow(new UserError(`${missing}: file not found`));
      const junk = path.join(dir, 'junk.safetensors');
      fs.writeFileSync(junk, 'hello');
      expect(() => readSafetensorsFile(junk)).toThrow(`${junk}: not a safetensors file`);
      expect(() => readSafetensorsFile(dir)).toThrow(UserError);
      expect(() => writeSafetensorsFile(path.join(dir, 'no/such/dir/m.safetensors'), [])).toThrow(UserError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
