/**
 * One seeded PRNG for everything random: init, dropout and shuffling.
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that nearby
 * seeds give unrelated streams. 32-bit integer math only, so the sequence is
 * the same on every machine, and the state is four numbers we can save.
 */
import { allocU32 } from '../kernels/memory';

export class Rng {
  private s: Uint32Array;
  private spare: number | null = null; // second Box-Muller value

  constructor(seed: number) {
    this.s = allocU32(4); // in the shared memory, so the dropout kernel can draw from it in place
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A child stream for one purpose (e.g. 'dropout'), independent of how much the parent was used. */
  static derive(seed: number, purpose: string): Rng {
    let h = 0x811c9dc5 ^ (seed >>> 0);
    for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h ^ Math.imul(seed >>> 0, 0x9e3779b1));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32(); while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle(a: Uint32Array | Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** The whole state, to save in a checkpoint. */
  getState(): number[] {
    return [...this.s, this.spare === null ? NaN : this.spare];
  }

  setState(st: number[]): void {
    for (let i = 0; i < 4; i++) this.s[i] = st[i] >>> 0;
    this.spare = Number.isNaN(st[4]) ? null : st[4];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Four xoshiro128** generators side by side, for kernels that draw four numbers
 * at a time with SIMD (dropout). Draw k goes to lane k % 4, so element i of a
 * bulk draw comes from lane i % 4. The state is 16 words in the shared memory,
 * word 4*j + l being word j of lane l (so each of s0..s3 loads as one vector).
 */
export class Rng4 {
  readonly words: Uint32Array;

  constructor(parent: Rng) {
    this.words = allocU32(16);
    for (let l = 0; l < 4; l++) {
      for (let j = 0; j < 4; j++) this.words[4 * j + l] = parent.nextU32();
      if ((this.words[l] | this.words[4 + l] | this.words[8 + l] | this.words[12 + l]) === 0) this.words[l] = 1;
    }
  }

  /** The next draw of lane l (what the kernels compute for it). */
  nextU32(l: number): number {
    return xoshiroStep(this.words, l);
  }

  getState(): number[] {
    return Array.from(this.words);
  }

  setState(st: number[]): void {
    for (let k = 0; k < 16; k++) this.words[k] = st[k] >>> 0;
  }
}

/** One xoshiro128** step of lane l of a 4-lane state (see Rng4); returns its output. */
export function xoshiroStep(w: Uint32Array, l: number): number {
  const s0 = w[l], s1 = w[4 + l], s2 = w[8 + l], s3 = w[12 + l];
  const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  w[4 + l] = s1 ^ n2;
  w[l] = s0 ^ n3;
  w[8 + l] = n2 ^ t;
  w[12 + l] = rotl(n3, 11);
  return result;
}
