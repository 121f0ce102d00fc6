/**
 * The int8 dense kernels (nn quantize) against the naive integer reference, exactly: every output
 * bit-equal (the integer sums are exact, and the float epilogue is the same three float32 operations),
 * on shapes that are not multiples of the tiles (16 outputs, pairs and groups of 8 inputs), in both
 * input modes, with and without ReLU, and split into parts by rows as the threads split it.
 */
import { describe, expect, it } from 'vitest';
import { loadWasm } from '../../src/kernels';
import { packInt8, padOutputs, qlinearForward as qlinearTs } from '../../src/kernels/int8';
import { ARGS, BOUNDS, CTRL_INTS, OP, OP_QLINEAR, PARTS, runPart } from '../../src/kernels/jobs';
import { allocF32, allocU32, allocU8 } from '../../src/kernels/memory';
import { qlinearForwardNaive, roundHalfEven } from '../../src/kernels/naive';
import { instantiate, laneLut, quantStride, wasmPath } from '../../src/kernels/wasm';
import { Rng } from '../../src/util/rng';

const wasm = loadWasm().kernels;

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A random layer and batch: mode 0 inputs of both signs, a fraction of them 0; mode 1 pixel bytes as floats; mode 2 inputs >= 0. */
function layer(B: number, In: number, Out: number, mode: 0 | 1 | 2, zeros: number, seed: number) {
  const rng = new Rng(seed);
  const X = allocF32(B * In);
  for (let i = 0; i < X.length; i++) {
    if (rng.next() < zeros) X[i] = 0;
    else X[i] = mode === 1 ? Math.floor(rng.next() * 256) : mode === 2 ? rng.next() * 3 : (rng.next() - 0.3) * 4;
  }
  const W = new Int8Array(Out * In);
  for (let i = 0; i < W.length; i++) W[i] = Math.floor(rng.next() * 255) - 127;
  const wscale = new Float32Array(Out).map(() => 0.001 + rng.next() * 0.01);
  const bias = new Float32Array(Out).map(() => rng.next() - 0.5);
  return { X, W, wscale, bias };
}

const SHAPES: Array<[number, number, number]> = [];
for (const B of [1, 5, 33]) for (const In of [1, 2, 7, 8, 9, 16, 63, 784]) for (const Out of [1, 10, 16, 17, 33]) SHAPES.push([B, In, Out]);
// a slab of several tiles, and weights over the slab size (128 kB: 8,192 inputs of 16 bytes a tile)
SHAPES.push([40, 784, 128], [7, 2050, 70], [3, 1024, 1024], [2, 9000, 20]);

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour, like f32.nearest and ONNX Round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, -3.5, 7].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -4, 7]);
  });
});

describe('int8 dense kernels equal the naive integer reference exactly', () => {
  const backends = [{ name: 'ts', run: qlinearTs }, ...(wasm ? [{ name: 'wasm', run: wasm.qlinearForward.bind(wasm) }] : [])];
  for (const { name, run } of backends) {
    it.each(SHAPES)(`${name}: B=%i In=%i Out=%i`, (B, In, Out) => {
      for (const mode of [0, 1, 2] as const) {
        for (const relu of [false, true]) {
          const { X, W, wscale, bias } = layer(B, In, Out, mode, 0.5, B * 1000 + In * 10 + Out + mode);
          const ref = new Float32Array(B * Out);
          qlinearForwardNaive(X, W, wscale, bias, ref, B, In, Out, mode, relu);
          const P = packInt8(W, In, Out);
          const Y = allocF32(B * Out);
          Y.fill(NaN);
          run(X, P, padOutputs(wscale, P.OutP), padOutputs(bias, P.OutP), Y, B, mode, relu);
          expect(bits(Y).equals(bits(new Float32Array(ref)))).toBe(true);
        }
      }
    });
  }

  it.skipIf(!wasm)('gives the exact integer sums at the extremes (pixels 255 against weights ±127 over 2,050 inputs: past 2^24, no overflow)', () => {
    const B = 3, In = 2050, Out = 20;
    const X = allocF32(B * In).fill(255);
    const W = new Int8Array(Out * In);
    for (let o = 0; o < Out; o++) for (let i = 0; i < In; i++) W[o * In + i] = o % 2 ? 127 : -127;
    const ones = new Float32Array(Out).fill(1);
    const zero = new Float32Array(Out);
    const ref = new Float32Array(B * Out);
    const sums = qlinearForwardNaive(X, W, ones, zero, ref, B, In, Out, 1, false);
    expect(sums[0]).toBe(-255 * 127 * In);
    expect(sums[1]).toBe(255 * 127 * In);
    const P = packInt8(W, In, Out);
    const Y = allocF32(B * Out);
    wasm!.qlinearForward(X, P, padOutputs(ones, P.OutP), padOutputs(zero, P.OutP), Y, B, 1, false);
    expect(Array.from(Y.subarray(0, 2))).toEqual([Math.fround(-255 * 127 * In), Math.fround(255 * 127 * In)]);
    expect(bits(Y).equals(bits(ref))).toBe(true);
  });

  it.skipIf(!wasm)('rounds inputs halfway between two levels to the even one (pixel mode)', () => {
    const In = 8, Out = 16;
    const X = allocF32(In);
    X.set([0.5, 1.5, 2.5, 3.5, 254.5, 255.7, -3, 7.49]);
    const W = new Int8Array(Out * In);
    for (let i = 0; i < In; i++) W[i * In + i] = 1; // output i (i < 8) reads input i
    const ones = new Float32Array(Out).fill(1);
    const zero = new Float32Array(Out);
    const P = packInt8(W, In, Out);
    const Y = allocF32(Out);
    wasm!.qlinearForward(X, P, padOutputs(ones, P.OutP), padOutputs(zero, P.OutP), Y, 1, 1, false);
    expect(Array.from(Y.subarray(0, In))).toEqual([0, 2, 2, 4, 254, 255, 0, 7]);
  });

  it.skipIf(!wasm)('gives a row the same bits alone, in any batch, and split across threads by rows', () => {
    const B = 37, In = 300, Out = 50;
    const { X, W, wscale, bias } = layer(B, In, Out, 0, 0.4, 9);
    const P = packInt8(W, In, Out);
    const sw = padOutputs(wscale, P.OutP), b = padOutputs(bias, P.OutP);
    const whole = allocF32(B * Out);
    wasm!.qlinearForward(X, P, sw, b, whole, B, 0, true);
    const alone = allocF32(Out);
    for (const r of [0, 17, 36]) {
      wasm!.qlinearForward(X.subarray(r * In, (r + 1) * In), P, sw, b, alone, 1, 0, true);
      expect(bits(alone).equals(bits(whole.subarray(r * Out, (r + 1) * Out)))).toBe(true);
    }
    // the job as the threads run it: parts of the rows, each quantized and multiplied on its own
    const w = instantiate(wasmPath()!);
    const stride = quantStride(In);
    const lists = allocU8(B * stride), rows = allocU32(2 * B);
    for (const splits of [[0, 1, B], [0, 13, 29, B]]) {
      const Y = allocF32(B * Out);
      const ctrl = new Int32Array(CTRL_INTS);
      ctrl[OP] = OP_QLINEAR;
      ctrl[PARTS] = splits.length - 1;
      [X.byteOffset, In, lists.byteOffset, stride, rows.byteOffset, rows.byteOffset + 4 * B, 0, P.data.byteOffset, In, P.OutP, sw.byteOffset, b.byteOffset, Y.byteOffset, Out, 1, laneLut()].forEach((v, j) => (ctrl[ARGS + j] = v));
      splits.forEach((r, t) => (ctrl[BOUNDS + t] = r));
      for (let t = 0; t + 1 < splits.length; t++) runPart(w, ctrl, new Float32Array(CTRL_INTS), t);
      expect(bits(Y).equals(bits(whole))).toBe(true);
    }
  });
});
