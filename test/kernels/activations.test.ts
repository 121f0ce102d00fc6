/**
 * The elementwise activation kernels (leaky_relu, elu, sigmoid, tanh).
 *
 * Forward: the WebAssembly kernels against the plain reference, Math.* in float64
 * rounded to float32 (ts.ts, which is also the TypeScript backend), within
 * ULPS = 2 units in the last place of the float32 reference. That is what the
 * approximation achieves, measured over 2.2 million floats (every 997th float32
 * bit pattern with |z| < 90): elu with alpha = 1 at most 1 ulp; sigmoid and tanh at
 * most 2 (the polynomial's and the range reduction's errors, then one division);
 * elu with alpha = 0.3 at most 2 (the f32 alpha, and one more product); leaky_relu 1
 * (the f32 alpha). One exception: sigmoid below z = -80, where the kernel clamps,
 * returns e^-80 = 1.8e-35 for a true value below that (absolute error < 2e-35).
 *
 * Backward: WebAssembly equals TypeScript bit for bit (the same f32 operations), and
 * both are within 2 ulps of the derivative computed in float64 from the same output
 * a (three f32 roundings at most, each half an ulp).
 */
import { describe, expect, it } from 'vitest';
import { loadWasm, type Kernels } from '../../src/kernels';
import { allocF32 } from '../../src/kernels/memory';
import * as ts from '../../src/kernels/ts';
import { randomArray } from '../helpers/gradcheck';

const ULPS = 2;
const LENGTHS = [1, 3, 7, 63, 65, 1000];
const wasm = loadWasm().kernels;

/** The spacing of float32 values at x's magnitude (2^-149 at 0). */
function ulp(x: number): number {
  const bits = new Uint32Array(Float32Array.of(Math.abs(x)).buffer)[0];
  return 2 ** (Math.max(bits >>> 23, 1) - 150);
}

// The awkward places: 0 and signed zeros, tiny values (expm1's cancellation), the
// range reduction's first boundary (ln2 / 2 = 0.3466), tanh's saturation (|z| > 9.01
// rounds to ±1), expm1's (z < -17.3 rounds to -1), the kernels' clamp (-80), the
// largest floats and the infinities.
const SPECIAL = [
  -100, -88, -80.5, -79.9, -20, -17.5, -9.1, -1, -0.34657359, -0.34657362, -1e-3, -1e-8, -1e-30, -0, 0,
  1e-30, 1e-8, 1e-3, 0.34657359, 1, 9.1, 20, 88, 100, -3.4e38, 3.4e38, -Infinity, Infinity,
];
/** SPECIAL, then values of every magnitude from 1e-8 to 100 with both signs. */
function inputs(): number[] {
  const u = randomArray(3000, 71, 1);
  const m = randomArray(3000, 72, 1);
  return [...SPECIAL, ...Array.from(u, (s, i) => Math.sign(s) * 10 ** (-8 + 5 * (m[i] + 1)))].map(Math.fround); // the kernels' inputs exactly
}
/** Every 997th float32 with |z| < 90, both signs. */
function sweep(): Float32Array {
  const bits = new Uint32Array(2 * Math.ceil(0x42b40000 / 997));
  let k = 0;
  for (let b = 0; b < 0x42b40000; b += 997) bits[k++] = b, bits[k++] = (b | 0x80000000) >>> 0;
  return new Float32Array(bits.buffer);
}

interface Forward {
  name: string;
  run(k: Kernels, z: Float32Array, n: number): void;
  ref(z: number): number; // float64
}
const FORWARD: Forward[] = [
  { name: 'leaky_relu (alpha 0.01)', run: (k, z, n) => k.leakyReluForward(z, n, 0.01), ref: (z) => (z < 0 ? 0.01 * z : z) },
  { name: 'leaky_relu (alpha 0.2)', run: (k, z, n) => k.leakyReluForward(z, n, 0.2), ref: (z) => (z < 0 ? 0.2 * z : z) },
  { name: 'elu (alpha 1)', run: (k, z, n) => k.eluForward(z, n, 1), ref: (z) => (z < 0 ? Math.expm1(z) : z) },
  { name: 'elu (alpha 0.3)', run: (k, z, n) => k.eluForward(z, n, 0.3), ref: (z) => (z < 0 ? 0.3 * Math.expm1(z) : z) },
  { name: 'sigmoid', run: (k, z, n) => k.sigmoidForward(z, n), ref: (z) => 1 / (1 + Math.exp(-z)) },
  { name: 'tanh', run: (k, z, n) => k.tanhForward(z, n), ref: Math.tanh },
];

/** z through `f` in slices of `len` values, each in a shared buffer of exactly that length (a guard value after it must stay). */
function forwardInSlices(k: Kernels, f: Forward, z: ArrayLike<number>, len: number): Float32Array {
  const out = new Float32Array(z.length);
  const buf = allocF32(len + 4);
  for (let s = 0; s < z.length; s += len) {
    const n = Math.min(len, z.length - s);
    buf.fill(12345);
    for (let i = 0; i < n; i++) buf[i] = z[s + i];
    f.run(k, buf, n);
    for (let i = n; i < buf.length; i++) if (buf[i] !== 12345) throw new Error(`wrote past the end (n = ${n})`);
    out.set(buf.subarray(0, n), s);
  }
  return out;
}

/** The inputs where `a` is not within ULPS of the float32 reference (sigmoid below -80: within 2e-35). */
function mismatches(f: Forward, z: ArrayLike<number>, a: Float32Array): string[] {
  const bad: string[] = [];
  for (let i = 0; i < z.length; i++) {
    const r = Math.fround(f.ref(z[i]));
    if (a[i] === r) continue;
    const tol = f.name === 'sigmoid' && z[i] < -80 ? 2e-35 : ULPS * ulp(r);
    if (!(Math.abs(a[i] - r) <= tol)) bad.push(`z=${z[i]}: ${a[i]} vs ${r}`);
  }
  return bad;
}

describe.skipIf(!wasm)('WebAssembly activations forward: within 2 ulps of Math.* (float64, rounded to float32)', () => {
  const z = inputs();
  for (const f of FORWARD) {
    it.each(LENGTHS)(`${f.name}, in slices of %i`, (len) => {
      expect(mismatches(f, z, forwardInSlices(wasm!, f, z, len)).slice(0, 5)).toEqual([]);
    });
  }

  it.each(FORWARD)('$name over a sweep of 220,000 floats with |z| < 90', (f) => {
    const z = sweep();
    expect(mismatches(f, z, forwardInSlices(wasm!, f, z, z.length)).slice(0, 5)).toEqual([]);
  });

  it('saturates cleanly: finite for finite input, tanh(±large) = ±1 and sigmoid in [0, 1] exactly, elu >= -alpha; NaN stays NaN', () => {
    const z = [...inputs(), -3e38, 3e38, -1e4, 1e4];
    const run = (f: Forward) => forwardInSlices(wasm!, f, z, 65);
    const [, , elu, elu3, sig, tanh] = FORWARD.map(run);
    z.forEach((v, i) => {
      if (Number.isFinite(v)) for (const a of [elu, elu3, sig, tanh]) expect(Number.isFinite(a[i])).toBe(true);
      expect(sig[i] >= 0 && sig[i] <= 1).toBe(true);
      expect(Math.abs(tanh[i]) <= 1 && Math.sign(tanh[i]) === Math.sign(v)).toBe(true);
      if (Math.abs(v) >= 9.1) expect(tanh[i]).toBe(Math.sign(v));
      if (v >= 17) expect(sig[i]).toBe(1);
      expect(elu[i]).toBeGreaterThanOrEqual(-1);
      expect(elu3[i]).toBeGreaterThanOrEqual(Math.fround(-0.3));
    });
    for (const f of FORWARD) expect(Array.from(forwardInSlices(wasm!, f, [NaN, 1, NaN], 3)).map(Number.isNaN)).toEqual([true, false, true]);
  });
});

interface Backward {
  name: string;
  forward: Forward;
  run(k: Kernels, a: Float32Array, g: Float32Array, n: number): void;
  ref(a: number, g: number): number; // float64, from the float32 output a and alpha as float32
}
const A32 = Math.fround(0.3);
const BACKWARD: Backward[] = [
  { name: 'leaky_relu', forward: FORWARD[1], run: (k, a, g, n) => k.leakyReluBackward(a, g, n, 0.2), ref: (a, g) => (a > 0 ? g : g * Math.fround(0.2)) },
  { name: 'elu', forward: FORWARD[3], run: (k, a, g, n) => k.eluBackward(a, g, n, 0.3), ref: (a, g) => (a > 0 ? g : g * (a + A32)) },
  { name: 'sigmoid', forward: FORWARD[4], run: (k, a, g, n) => k.sigmoidBackward(a, g, n), ref: (a, g) => g * a * (1 - a) },
  { name: 'tanh', forward: FORWARD[5], run: (k, a, g, n) => k.tanhBackward(a, g, n), ref: (a, g) => g * (1 - a * a) },
];

describe('activations backward: g * f\'(z) from the output a', () => {
  const z = inputs().filter(Number.isFinite);
  for (const b of BACKWARD) {
    it.skipIf(!wasm).each(LENGTHS)(`${b.name}: WebAssembly equals TypeScript bit for bit, in slices of %i`, (len) => {
      const a = forwardInSlices(wasm!, b.forward, z, z.length);
      const g0 = randomArray(z.length, 73, 2);
      const g1 = allocF32(len + 4);
      const g2 = allocF32(len);
      const as = allocF32(len);
      for (let s = 0; s < z.length; s += len) {
        const n = Math.min(len, z.length - s);
        as.set(a.subarray(s, s + n));
        g1.fill(12345);
        g1.set(g0.subarray(s, s + n));
        g2.set(g0.subarray(s, s + n));
        b.run(wasm!, as, g1, n);
        b.run(ts as unknown as Kernels, as, g2, n);
        expect(Array.from(g1.subarray(0, n))).toEqual(Array.from(g2.subarray(0, n)));
        expect(g1.subarray(n).every((v) => v === 12345)).toBe(true); // nothing written past the end
      }
    });

    it(`${b.name}: within 2 ulps of the float64 derivative`, () => {
      const a = Float32Array.from(z);
      b.forward.run(ts as unknown as Kernels, a, a.length);
      const g = randomArray(z.length, 74, 2);
      const out = Float32Array.from(g);
      b.run(ts as unknown as Kernels, a, out, a.length);
      for (let i = 0; i < a.length; i++) {
        const r = b.ref(a[i], g[i]);
        expect(Math.abs(out[i] - r)).toBeLessThanOrEqual(ULPS * ulp(r));
      }
    });
  }
});
