// WebAssembly SIMD kernels, written in AssemblyScript (compiled by `asc` during
// install to dist/kernels/kernels.wasm). Pointers are byte offsets into the
// shared memory of src/kernels/memory.ts. Shapes: B batch, In, Out; weights are
// Wt (In, Out). Each product takes a range of output rows, so that threads can
// split it; every output element is computed by the same sequence of f32
// operations whatever the tiling, so the split never changes a result.

// @ts-nocheck: AssemblyScript, not TypeScript (excluded from tsc)

const F = 4; // bytes per f32

// ---- scratch: each instance (one per thread) has its own ----
// A 256-byte shuffle table, then the lists below. Pointers set by set_scratch.
let lut: usize = 0; // lut[m]: the byte shuffle moving the i32 lanes set in 4-bit mask m to the front
let lists: usize = 0;
let listBytes: usize = 0;
export function set_scratch(p: usize, bytes: usize): void {
  lut = p;
  for (let m = 0; m < 16; m++) {
    let k = 0;
    for (let j = 0; j < 4; j++) {
      if ((m & (1 << j)) == 0) continue;
      for (let q = 0; q < 4; q++) store<u8>(p + <usize>(m * 16 + k * 4 + q), <u8>(j * 4 + q));
      k++;
    }
    for (; k < 4; k++) for (let q = 0; q < 4; q++) store<u8>(p + <usize>(m * 16 + k * 4 + q), 0x80);
  }
  lists = p + 256;
  listBytes = bytes - 256;
}

/**
 * Writes the pairs (i * ws, x[i]) of the i in [0, n) with x[i] != 0 to `list` (8 bytes each, in
 * ascending i) and returns how many: the byte offset of W's row i and the input, so that the
 * products take both with one load each, no multiply. Four floats at a time, compared, their
 * mask's lanes moved to the front by one shuffle and stored whole (no branch per element; writes
 * up to 4 pairs past the count).
 */
@inline function nonzero_pairs(xp: usize, n: i32, ws: usize, list: usize): i32 {
  const zero = f32x4.splat(0);
  const step = i32x4.splat(<i32>ws * 4);
  let off = i32x4(0, <i32>ws, 2 * <i32>ws, 3 * <i32>ws);
  let c = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(xp + <usize>i * F);
    const m = i32x4.bitmask(f32x4.ne(x, zero));
    const s = v128.load(lut + <usize>m * 16);
    const o = i8x16.swizzle(off, s), v = i8x16.swizzle(x, s);
    const p = list + <usize>c * 8;
    v128.store(p, v128.shuffle<i32>(o, v, 0, 4, 1, 5));
    v128.store(p, v128.shuffle<i32>(o, v, 2, 6, 3, 7), 16);
    c += popcnt<i32>(m);
    off = i32x4.add(off, step);
  }
  for (; i < n; i++) {
    const x = load<f32>(xp + <usize>i * F);
    const p = list + <usize>c * 8;
    store<u32>(p, <u32>(<usize>i * ws));
    store<f32>(p, x, 4);
    c += <i32>(x != 0);
  }
  return c;
}

// A block of four rows with more than this many inputs in 16 non-zero goes through 4-row tiles
// that load each weight once for four rows, zeros included (measured: the lists are faster
// below about 70% non-zero, the tiles above).
const DENSE_16THS = 11;
// Beyond this many bytes of W, the columns go in slabs of at most this many bytes, each
// slab through every row before the next, so that it stays in this core's cache (measured:
// 96 kB for the forward pass, 1.1x faster than 256 kB on MNIST's first layer; 256 kB for the
// weight gradient's dY).
const SLAB_BYTES: u64 = 96 << 10;
const GRAD_SLAB_BYTES: u64 = 256 << 10;
// With at least this many rows, each slab is first copied to the scratch (see copy_pays).
const PACK_ROWS = 16;
const MAX_BLOCK_ROWS = 4096;

// ---- Y (B, Out) = act(X (B, In) · Wt (In, Out) + bias), rows b in [r0, r1), inputs i in [i0, i1) ----
// act: 0 linear, 1 relu; bias 0: none. Per element: c = bias; for i in order: c = c + x*w.
// (Over a part of the inputs, the result is a partial sum: see add_act.)
// Zero inputs are skipped (c + 0*w == c): MNIST pixels, ReLU and dropout give many.
// Each row's non-zero inputs are listed first, as pairs (offset of W's row, x), for a block
// of rows that fits the scratch; then each row runs over its list, 16 columns at a time in 4
// accumulators, or, four dense rows at a time, 8 columns in 8 accumulators with each weight
// loaded once. Not 8 accumulators for one row: V8 gives wasm 16 SIMD registers, and 8
// accumulators plus the weights loaded for them spill one accumulator to the stack, which
// puts a store and a load in its dependency chain (measured 1.4x slower).

export function linear_forward(X: usize, Wt: usize, bias: usize, Y: usize, In: i32, Out: i32, r0: i32, r1: i32, act: i32, i0: i32, i1: i32): void {
  const xs = <usize>In * F;
  const ws = <usize>Out * F;
  const n = i1 - i0;
  const X0 = X + <usize>i0 * F;
  const W0 = Wt + <usize>i0 * ws;
  let S = Out; // columns per slab
  if (<u64>n * <u64>ws > SLAB_BYTES) S = max<i32>(16, <i32>(SLAB_BYTES / (<u64>n * F)) & ~15);
  const L = <usize>(n + 4) * 8; // the most one row's list takes, with nonzero_pairs' overrun
  const H = <usize>MAX_BLOCK_ROWS * 8; // per row of a block: its list's start and length
  // packed slabs: n rows of PS bytes (an odd number of cache lines), at the scratch's start,
  // when they leave room for the heads and one list
  let PS = (<usize>S * F + 63) & ~63 | 64;
  const pack = r1 - r0 >= PACK_ROWS && copy_pays(ws) && <u64>n * PS + H + L <= <u64>listBytes;
  if (!pack) PS = ws;
  const P = lists;
  const heads = pack ? P + <usize>n * PS : lists;
  const room = lists + listBytes;
  for (let c0 = r0; c0 < r1; ) {
    // as many rows as the scratch holds, at least one (the heads and one list always fit)
    const most = min(r1 - c0, MAX_BLOCK_ROWS);
    let c1 = c0;
    let at = heads + H;
    while (c1 < c0 + most && (c1 == c0 || at + L <= room)) {
      const h = heads + <usize>(c1 - c0) * 8;
      const c = nonzero_pairs(X0 + <usize>c1 * xs, n, PS, at);
      store<u32>(h, <u32>at);
      store<i32>(h, c, 4);
      at += <usize>c * 8;
      c1++;
    }
    for (let o0 = 0; o0 < Out; o0 += S) {
      const o1 = Out - o0 <= S ? Out : o0 + S; // the last slab takes the columns left
      let Wb = W0; // where column o of W's row 0 is at Wb + o * F, rows PS bytes apart
      if (pack) {
        pack_columns(W0, ws, n, o0, o1, P, PS);
        Wb = P - <usize>o0 * F;
      }
      let b = c0;
      for (; b + 4 <= c1; b += 4) {
        const h = heads + <usize>(b - c0) * 8;
        const n0 = load<i32>(h, 4), n1 = load<i32>(h, 12), n2 = load<i32>(h, 20), n3 = load<i32>(h, 28);
        if (<i64>(n0 + n1 + n2 + n3) * 4 > <i64>n * DENSE_16THS) {
          forward_tile4(X0 + <usize>b * xs, xs, n, Wb, PS, bias, Y, Out, b, act, o0, o1);
          continue;
        }
        forward_row(Wb, bias, Y, Out, b, <usize>load<u32>(h), n0, act, o0, o1);
        forward_row(Wb, bias, Y, Out, b + 1, <usize>load<u32>(h, 8), n1, act, o0, o1);
        forward_row(Wb, bias, Y, Out, b + 2, <usize>load<u32>(h, 16), n2, act, o0, o1);
        forward_row(Wb, bias, Y, Out, b + 3, <usize>load<u32>(h, 24), n3, act, o0, o1);
      }
      for (; b < c1; b++) {
        const h = heads + <usize>(b - c0) * 8;
        forward_row(Wb, bias, Y, Out, b, <usize>load<u32>(h), load<i32>(h, 4), act, o0, o1);
      }
    }
    c0 = c1;
  }
}

/**
 * Whether reading rows ws bytes apart pays for copying them first to rows an odd number of cache
 * lines apart (measured): when ws is not a multiple of 16 bytes (Out 795), many 16-byte loads
 * straddle two cache lines; when it is a multiple of 16 lines (Out 256, 512, 1024), the rows all
 * fall in a few of the cache's sets, which then hold a few of them (784x1024 forward 2.2x faster
 * with the copy, weight gradient 1.6x). Otherwise the copy costs about what it saves.
 */
@inline function copy_pays(ws: usize): bool {
  return (ws & 15) != 0 || (ws & 1023) == 0;
}

/** Columns [o0, o1) of n rows of W (ws bytes apart) to P, rows PS bytes apart. */
function pack_columns(W: usize, ws: usize, n: i32, o0: i32, o1: i32, P: usize, PS: usize): void {
  const bytes = <usize>(o1 - o0) * F;
  const b16 = bytes & ~15;
  let src = W + <usize>o0 * F;
  let dst = P;
  for (let i = 0; i < n; i++, src += ws, dst += PS) {
    let k: usize = 0;
    for (; k < b16; k += 16) v128.store(dst + k, v128.load(src + k));
    for (; k < bytes; k += 4) store<f32>(dst + k, load<f32>(src + k));
  }
}

/** Y = act(Y + P) over n elements: a partial sum over the rest of the inputs added, in that order. */
export function add_act(Y: usize, P: usize, n: i32, act: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    v128.store(Y + off, relu4(f32x4.add(v128.load(Y + off), v128.load(P + off)), act));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    store<f32>(Y + off, relu1(load<f32>(Y + off) + load<f32>(P + off), act));
  }
}

/** Four bias values at byte offset `off`, or zeros when there is no bias (bias 0). */
@inline function biasAt(bias: usize, off: usize): v128 {
  return bias ? v128.load(bias + off) : f32x4.splat(0);
}

@inline function relu4(v: v128, act: i32): v128 {
  return act == 1 ? f32x4.max(v, f32x4.splat(0)) : v;
}
@inline function relu1(v: f32, act: i32): f32 {
  return act == 1 ? (v > 0 ? v : 0) : v;
}

/** c + x * (the four weights at wp + off): one step of a sum */
@inline function mac(c: v128, x: v128, wp: usize, off: usize): v128 {
  return f32x4.add(c, f32x4.mul(x, v128.load(wp + off)));
}

/**
 * Row b, columns [o0, o1), over its list of n pairs (offset of W's row from Wt, x); bias 0:
 * none (sums start at zero). Two pairs a step (fewer loop instructions a pair: measured 5-8%).
 */
function forward_row(Wt: usize, bias: usize, Y: usize, Out: i32, b: i32, list: usize, n: i32, act: i32, o0: i32, o1: i32): void {
  const yrow = Y + <usize>b * <usize>Out * F;
  const end = list + <usize>n * 8;
  const end2 = list + <usize>(n & ~1) * 8;
  let o = o0;
  for (; o + 16 <= o1; o += 16) {
    const bp = <usize>o * F;
    let c0 = biasAt(bias, bp), c1 = biasAt(bias, bp + 16), c2 = biasAt(bias, bp + 32), c3 = biasAt(bias, bp + 48);
    const wbase = Wt + bp;
    let p = list;
    for (; p < end2; p += 16) {
      let wp = wbase + <usize>load<u32>(p);
      let x = v128.load32_splat(p, 4);
      c0 = mac(c0, x, wp, 0); c1 = mac(c1, x, wp, 16); c2 = mac(c2, x, wp, 32); c3 = mac(c3, x, wp, 48);
      wp = wbase + <usize>load<u32>(p, 8);
      x = v128.load32_splat(p, 12);
      c0 = mac(c0, x, wp, 0); c1 = mac(c1, x, wp, 16); c2 = mac(c2, x, wp, 32); c3 = mac(c3, x, wp, 48);
    }
    if (p < end) {
      const wp = wbase + <usize>load<u32>(p);
      const x = v128.load32_splat(p, 4);
      c0 = mac(c0, x, wp, 0); c1 = mac(c1, x, wp, 16); c2 = mac(c2, x, wp, 32); c3 = mac(c3, x, wp, 48);
    }
    const yp = yrow + bp;
    v128.store(yp, relu4(c0, act));
    v128.store(yp, relu4(c1, act), 16);
    v128.store(yp, relu4(c2, act), 32);
    v128.store(yp, relu4(c3, act), 48);
  }
  for (; o + 4 <= o1; o += 4) {
    const bp = <usize>o * F;
    let c = biasAt(bias, bp);
    const wbase = Wt + bp;
    for (let p = list; p < end; p += 8) c = mac(c, v128.load32_splat(p, 4), wbase + <usize>load<u32>(p), 0);
    v128.store(yrow + bp, relu4(c, act));
  }
  for (; o < o1; o++) {
    const bp = <usize>o * F;
    let c: f32 = bias ? load<f32>(bias + bp) : 0;
    const wbase = Wt + bp;
    for (let p = list; p < end; p += 8) c = c + load<f32>(p, 4) * load<f32>(wbase + <usize>load<u32>(p));
    store<f32>(yrow + bp, relu1(c, act));
  }
}

/**
 * Rows b..b+3, columns [o0, o1), over every one of n inputs (row b's at x0p, rows xs bytes
 * apart), zeros included: each loaded weight feeds four rows. 8 columns in 8 accumulators
 * (2 weight loads and 4 broadcasts for 8 multiply-adds: near two a cycle, measured).
 */
function forward_tile4(x0p: usize, xs: usize, n: i32, Wt: usize, wstride: usize, bias: usize, Y: usize, Out: i32, b: i32, act: i32, o0: i32, o1: i32): void {
  const ws = <usize>Out * F;
  const xend = x0p + <usize>n * F;
  const y0 = Y + <usize>b * ws;
  let o = o0;
  for (; o + 8 <= o1; o += 8) {
    const bp = <usize>o * F;
    let a0 = biasAt(bias, bp), a1 = biasAt(bias, bp + 16);
    let b0 = a0, b1 = a1, c0 = a0, c1 = a1, d0 = a0, d1 = a1;
    let wp = Wt + bp;
    for (let xp = x0p; xp < xend; xp += F, wp += wstride) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16);
      const x0 = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(x0, w0)); a1 = f32x4.add(a1, f32x4.mul(x0, w1));
      const x1 = v128.load32_splat(xp + xs);
      b0 = f32x4.add(b0, f32x4.mul(x1, w0)); b1 = f32x4.add(b1, f32x4.mul(x1, w1));
      const x2 = v128.load32_splat(xp + 2 * xs);
      c0 = f32x4.add(c0, f32x4.mul(x2, w0)); c1 = f32x4.add(c1, f32x4.mul(x2, w1));
      const x3 = v128.load32_splat(xp + 3 * xs);
      d0 = f32x4.add(d0, f32x4.mul(x3, w0)); d1 = f32x4.add(d1, f32x4.mul(x3, w1));
    }
    const yp = y0 + bp;
    v128.store(yp, relu4(a0, act)); v128.store(yp, relu4(a1, act), 16);
    v128.store(yp + ws, relu4(b0, act)); v128.store(yp + ws, relu4(b1, act), 16);
    v128.store(yp + 2 * ws, relu4(c0, act)); v128.store(yp + 2 * ws, relu4(c1, act), 16);
    v128.store(yp + 3 * ws, relu4(d0, act)); v128.store(yp + 3 * ws, relu4(d1, act), 16);
  }
  for (; o + 4 <= o1; o += 4) {
    const bp = <usize>o * F;
    let a = biasAt(bias, bp), c = a, d = a, e = a;
    let wp = Wt + bp;
    for (let xp = x0p; xp < xend; xp += F, wp += wstride) {
      const w = v128.load(wp);
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(xp), w));
      c = f32x4.add(c, f32x4.mul(v128.load32_splat(xp + xs), w));
      d = f32x4.add(d, f32x4.mul(v128.load32_splat(xp + 2 * xs), w));
      e = f32x4.add(e, f32x4.mul(v128.load32_splat(xp + 3 * xs), w));
    }
    const yp = y0 + bp;
    v128.store(yp, relu4(a, act));
    v128.store(yp + ws, relu4(c, act));
    v128.store(yp + 2 * ws, relu4(d, act));
    v128.store(yp + 3 * ws, relu4(e, act));
  }
  for (; o < o1; o++) {
    const bp = <usize>o * F;
    let a: f32 = bias ? load<f32>(bias + bp) : 0;
    let c = a, d = a, e = a;
    let wp = Wt + bp;
    for (let xp = x0p; xp < xend; xp += F, wp += wstride) {
      const w = load<f32>(wp);
      a = a + load<f32>(xp) * w;
      c = c + load<f32>(xp + xs) * w;
      d = d + load<f32>(xp + 2 * xs) * w;
      e = e + load<f32>(xp + 3 * xs) * w;
    }
    const yp = y0 + bp;
    store<f32>(yp, relu1(a, act));
    store<f32>(yp + ws, relu1(c, act));
    store<f32>(yp + 2 * ws, relu1(d, act));
    store<f32>(yp + 3 * ws, relu1(e, act));
  }
}

// ---- dWt (In, Out) = Xᵀ (In, B) · dY (B, Out), rows i in [i0, i1), overwritten ----
// Per element: acc = 0; for b in order: acc = acc + x*dy (zero x skipped); dWt = acc.
// Inputs go in pairs (i, i + 1), each pair with the list of the b where either is non-zero:
// (offset of dY's row b, x[b, i], x[b, i + 1]), so that each loaded row of dY feeds both
// (a zero x adds 0 * dy, which leaves the sum as it is). The lists of a block of pairs that
// fits the scratch are built by scanning X's rows once; then dY goes by slabs of columns,
// each copied to the scratch with a row stride of an odd number of cache lines (as in the
// forward pass), through every pair of the block: 16 columns of two rows in 8 accumulators.
// With a shift (inputs X + shift; 0: none), dWt = Xᵀ·dY + shift ⊗ db: the shift is one
// more row of X, whose gradient is db, last in each pair's list (db as one more row of dY).

export function linear_backward_weight(dY: usize, X: usize, dWt: usize, B: i32, In: i32, Out: i32, i0: i32, i1: i32, shift: usize, db: usize): void {
  const xs = <usize>In * F;
  const ys = <usize>Out * F;
  const rows = shift ? B + 1 : B; // dY's rows, and db's
  // one pair's list: an odd number of cache lines (lists a power of two apart, 2 kB for B 128,
  // fell in a few cache sets: dense inputs 1.2x slower)
  const E = (<usize>rows * 16 + 63) & ~63 | 64;
  let S = Out; // columns per slab
  if (<u64>rows * <u64>ys > GRAD_SLAB_BYTES) S = max<i32>(16, <i32>(GRAD_SLAB_BYTES / (<u64>rows * F)) & ~15);
  let PS = (<usize>S * F + 63) & ~63 | 64;
  // room for the slab and one pair (its count, its list, the row scan's list of one pair)
  const pack = copy_pays(ys) && <u64>rows * PS + 64 + E + 32 <= <u64>listBytes;
  if (!pack) PS = ys;
  const P = lists;
  const counts = pack ? P + <usize>rows * PS : lists;
  // pairs per block: each takes a count (4 bytes), a list (E) and a place in the row scan's list (4, + 16 overrun)
  const CP = max<i32>(1, <i32>((lists + listBytes - counts - 32) / (E + 8)));
  const dboff = pack ? <usize>B * PS : db - dY; // db's row (without packing, its offset from dY may be "negative": wraps as u32)
  for (let c0 = i0; c0 < i1; c0 += 2 * CP) {
    const w = min(2 * CP, i1 - c0); // inputs of this block
    const np = (w + 1) >> 1; // pairs, the last with one input when w is odd
    const entries = counts + ((<usize>np * 4 + 15) & ~15);
    const tmp = entries + <usize>np * E;
    // counts[p]: where pair p's next entry goes, until the lists are made; then how many
    for (let p = 0; p < np; p++) store<u32>(counts + <usize>p * 4, <u32>(entries + <usize>p * E));
    for (let b = 0; b < B; b++) {
      const xp = X + <usize>b * xs + <usize>c0 * F;
      const yoff = <u32>(<usize>b * PS);
      const m = nonzero_pairs_of(xp, w >> 1, tmp);
      for (let k = 0; k < m; k++) {
        const p = <usize>load<i32>(tmp + <usize>k * 4);
        append(counts + p * 4, yoff, load<u64>(xp + p * 8));
      }
      if (w & 1) {
        const x = load<f32>(xp + <usize>(w - 1) * F);
        if (x != 0) append(counts + <usize>(np - 1) * 4, yoff, <u64>reinterpret<u32>(x));
      }
    }
    if (shift) {
      for (let p = 0; p < np; p++) {
        const i = c0 + 2 * p;
        const s0 = load<f32>(shift + <usize>i * F);
        const s1: f32 = i + 1 < c0 + w ? load<f32>(shift + <usize>(i + 1) * F) : 0;
        if (s0 != 0 || s1 != 0) append(counts + <usize>p * 4, <u32>dboff, <u64>reinterpret<u32>(s0) | (<u64>reinterpret<u32>(s1) << 32));
      }
    }
    for (let p = 0; p < np; p++) {
      const cp = counts + <usize>p * 4;
      store<i32>(cp, <i32>((<usize>load<u32>(cp) - (entries + <usize>p * E)) >> 4));
    }
    for (let o0 = 0; o0 < Out; o0 += S) {
      const o1 = Out - o0 <= S ? Out : o0 + S; // the last slab takes the columns left
      let Yb = dY; // column o of dY's row b is at Yb + b * PS + o * F
      if (pack) {
        pack_columns(dY, ys, B, o0, o1, P, PS);
        if (shift) pack_columns(db, 0, 1, o0, o1, P + <usize>B * PS, PS);
        Yb = P - <usize>o0 * F;
      }
      for (let p = 0; p < np; p++) {
        const n = load<i32>(counts + <usize>p * 4);
        const two = 2 * p + 1 < w;
        const wrow = dWt + <usize>(c0 + 2 * p) * ys;
        if (n > 0) {
          weight_pair(Yb, wrow, ys, two, o0, o1, entries + <usize>p * E, n);
        } else {
          // inputs that are zero in every row (and in the shift)
          memory.fill(wrow + <usize>o0 * F, 0, <usize>(o1 - o0) * F);
          if (two) memory.fill(wrow + ys + <usize>o0 * F, 0, <usize>(o1 - o0) * F);
        }
      }
    }
  }
}

/** Adds (yoff, the two inputs' bits x) at *at, the end of a pair's list, and moves *at past it. */
@inline function append(at: usize, yoff: u32, x: u64): void {
  const e = <usize>load<u32>(at);
  store<u32>(e, yoff);
  store<u64>(e, x, 4);
  store<u32>(at, <u32>(e + 16));
}

/**
 * Writes the p in [0, n) with x[2p] != 0 or x[2p + 1] != 0 to `list` in ascending order and
 * returns how many: four pairs at a time, as in nonzero_pairs (writes up to 3 ints past the count).
 */
@inline function nonzero_pairs_of(xp: usize, n: i32, list: usize): i32 {
  const zero = f32x4.splat(0);
  const four = i32x4.splat(4);
  let idx = i32x4(0, 1, 2, 3);
  let c = 0;
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    const a = f32x4.ne(v128.load(xp + <usize>p * 8), zero), b = f32x4.ne(v128.load(xp + <usize>p * 8, 16), zero);
    const m = i32x4.bitmask(v128.or(v128.shuffle<i32>(a, b, 0, 2, 4, 6), v128.shuffle<i32>(a, b, 1, 3, 5, 7)));
    v128.store(list + <usize>c * 4, i8x16.swizzle(idx, v128.load(lut + <usize>m * 16)));
    c += popcnt<i32>(m);
    idx = i32x4.add(idx, four);
  }
  for (; p < n; p++) {
    store<i32>(list + <usize>c * 4, p);
    c += <i32>((load<f32>(xp + <usize>p * 8) != 0) | (load<f32>(xp + <usize>p * 8, 4) != 0));
  }
  return c;
}

/**
 * Rows i and i + 1 of dWt (at wrow, ws bytes apart; the second only when `two`), columns
 * [o0, o1), from their list of n entries (offset of dY's row from Yb, x[b, i], x[b, i + 1]).
 */
function weight_pair(Yb: usize, wrow: usize, ws: usize, two: bool, o0: i32, o1: i32, list: usize, n: i32): void {
  const end = list + <usize>n * 16;
  let o = o0;
  for (; o + 16 <= o1; o += 16) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    const yb = Yb + <usize>o * F;
    for (let p = list; p < end; p += 16) {
      const yp = yb + <usize>load<u32>(p);
      const d0 = v128.load(yp), d1 = v128.load(yp, 16), d2 = v128.load(yp, 32), d3 = v128.load(yp, 48);
      const x = v128.load32_splat(p, 4);
      a0 = f32x4.add(a0, f32x4.mul(x, d0)); a1 = f32x4.add(a1, f32x4.mul(x, d1)); a2 = f32x4.add(a2, f32x4.mul(x, d2)); a3 = f32x4.add(a3, f32x4.mul(x, d3));
      const y = v128.load32_splat(p, 8);
      b0 = f32x4.add(b0, f32x4.mul(y, d0)); b1 = f32x4.add(b1, f32x4.mul(y, d1)); b2 = f32x4.add(b2, f32x4.mul(y, d2)); b3 = f32x4.add(b3, f32x4.mul(y, d3));
    }
    const wp = wrow + <usize>o * F;
    store4(wp, a0, a1, a2, a3);
    if (two) store4(wp + ws, b0, b1, b2, b3);
  }
  for (; o + 4 <= o1; o += 4) {
    let a = f32x4.splat(0), c = a;
    const yb = Yb + <usize>o * F;
    for (let p = list; p < end; p += 16) {
      const d = v128.load(yb + <usize>load<u32>(p));
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(p, 4), d));
      c = f32x4.add(c, f32x4.mul(v128.load32_splat(p, 8), d));
    }
    const wp = wrow + <usize>o * F;
    v128.store(wp, a);
    if (two) v128.store(wp + ws, c);
  }
  for (; o < o1; o++) {
    let a: f32 = 0, c: f32 = 0;
    const yb = Yb + <usize>o * F;
    for (let p = list; p < end; p += 16) {
      const d = load<f32>(yb + <usize>load<u32>(p));
      a = a + load<f32>(p, 4) * d;
      c = c + load<f32>(p, 8) * d;
    }
    const wp = wrow + <usize>o * F;
    store<f32>(wp, a);
    if (two) store<f32>(wp + ws, c);
  }
}

@inline function store4(p: usize, a: v128, b: v128, c: v128, d: v128): void {
  v128.store(p, a);
  v128.store(p, b, 16);
  v128.store(p, c, 32);
  v128.store(p, d, 48);
}

/** db (Out) = Σ_b dY (B, Out), b in order. */
export function bias_grad(dY: usize, db: usize, B: i32, Out: i32): void {
  const ys = <usize>Out * F;
  let o = 0;
  for (; o + 4 <= Out; o += 4) {
    let c = f32x4.splat(0);
    let yp = dY + <usize>o * F;
    for (let b = 0; b < B; b++, yp += ys) c = f32x4.add(c, v128.load(yp));
    v128.store(db + <usize>o * F, c);
  }
  for (; o < Out; o++) {
    let c: f32 = 0;
    let yp = dY + <usize>o * F;
    for (let b = 0; b < B; b++, yp += ys) c = c + load<f32>(yp);
    store<f32>(db + <usize>o * F, c);
  }
}

// ---- dX (B, In) = dY (B, Out) · Wtᵀ, rows b in [r0, r1) ----
// When W fits the scratch: W (Out, In) = Wtᵀ is copied there, and each row of dX
// runs like a forward row over the non-zero dY[b, o] (ReLU and dropout zero about
// half): per element, s = 0; for o in order: s = s + dy*w.
// Otherwise (W over ~1 MB), 4x4 tiles of dot products along Wt's rows: per element,
// four lane sums over o in steps of 4, combined as (l0 + l1) + (l2 + l3), then the
// o % 4 tail in order.

export function linear_backward_input(dY: usize, Wt: usize, dX: usize, In: i32, Out: i32, r0: i32, r1: i32): void {
  const wBytes = <usize>In * <usize>Out * F;
  const L = (<usize>Out + 4) * 8;
  if (wBytes + L <= listBytes) {
    const W = lists;
    const list = lists + wBytes;
    transpose(Wt, W, In, Out);
    const ys = <usize>Out * F;
    for (let b = r0; b < r1; b++) {
      const yp = dY + <usize>b * ys;
      forward_row(W, 0, dX, In, b, list, nonzero_pairs(yp, Out, <usize>In * F, list), 0, 0, In);
    }
    return;
  }
  let b = r0;
  for (; b + 4 <= r1; b += 4) {
    let i = 0;
    for (; i + 4 <= In; i += 4) input_tile4x4(dY, Wt, dX, In, Out, b, i);
    for (; i < In; i++) for (let r = 0; r < 4; r++) input_scalar(dY, Wt, dX, In, Out, b + r, i);
  }
  for (; b < r1; b++) for (let i = 0; i < In; i++) input_scalar(dY, Wt, dX, In, Out, b, i);
}

/** T (Out, In) = Wt (In, Out)ᵀ, in 4x4 blocks of shuffles. */
function transpose(Wt: usize, T: usize, In: i32, Out: i32): void {
  const ws = <usize>Out * F;
  const ts = <usize>In * F;
  let i = 0;
  for (; i + 4 <= In; i += 4) {
    let o = 0;
    for (; o + 4 <= Out; o += 4) {
      const p = Wt + <usize>i * ws + <usize>o * F;
      const r0 = v128.load(p), r1 = v128.load(p + ws), r2 = v128.load(p + 2 * ws), r3 = v128.load(p + 3 * ws);
      const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
      const q = T + <usize>o * ts + <usize>i * F;
      v128.store(q, v128.shuffle<i64>(t0, t2, 0, 2));
      v128.store(q + ts, v128.shuffle<i64>(t0, t2, 1, 3));
      v128.store(q + 2 * ts, v128.shuffle<i64>(t1, t3, 0, 2));
      v128.store(q + 3 * ts, v128.shuffle<i64>(t1, t3, 1, 3));
    }
    for (; o < Out; o++) for (let r = 0; r < 4; r++) store<f32>(T + <usize>o * ts + <usize>(i + r) * F, load<f32>(Wt + <usize>(i + r) * ws + <usize>o * F));
  }
  for (; i < In; i++) for (let o = 0; o < Out; o++) store<f32>(T + <usize>o * ts + <usize>i * F, load<f32>(Wt + <usize>i * ws + <usize>o * F));
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

function input_tile4x4(dY: usize, Wt: usize, dX: usize, In: i32, Out: i32, b: i32, i: i32): void {
  const ys = <usize>Out * F;
  const O4 = Out & ~3;
  let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
  let s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
  const y0 = dY + <usize>b * ys;
  const w0 = Wt + <usize>i * ys;
  for (let o = 0; o < O4; o += 4) {
    const off = <usize>o * F;
    const d0 = v128.load(y0 + off), d1 = v128.load(y0 + ys + off), d2 = v128.load(y0 + 2 * ys + off), d3 = v128.load(y0 + 3 * ys + off);
    const e0 = v128.load(w0 + off), e1 = v128.load(w0 + ys + off), e2 = v128.load(w0 + 2 * ys + off), e3 = v128.load(w0 + 3 * ys + off);
    s00 = f32x4.add(s00, f32x4.mul(d0, e0)); s01 = f32x4.add(s01, f32x4.mul(d0, e1)); s02 = f32x4.add(s02, f32x4.mul(d0, e2)); s03 = f32x4.add(s03, f32x4.mul(d0, e3));
    s10 = f32x4.add(s10, f32x4.mul(d1, e0)); s11 = f32x4.add(s11, f32x4.mul(d1, e1)); s12 = f32x4.add(s12, f32x4.mul(d1, e2)); s13 = f32x4.add(s13, f32x4.mul(d1, e3));
    s20 = f32x4.add(s20, f32x4.mul(d2, e0)); s21 = f32x4.add(s21, f32x4.mul(d2, e1)); s22 = f32x4.add(s22, f32x4.mul(d2, e2)); s23 = f32x4.add(s23, f32x4.mul(d2, e3));
    s30 = f32x4.add(s30, f32x4.mul(d3, e0)); s31 = f32x4.add(s31, f32x4.mul(d3, e1)); s32 = f32x4.add(s32, f32x4.mul(d3, e2)); s33 = f32x4.add(s33, f32x4.mul(d3, e3));
  }
  const xs = <usize>In * F;
  const xp = dX + (<usize>b * <usize>In + <usize>i) * F;
  store<f32>(xp, tail(dY, Wt, Out, O4, b, i, hsum(s00))); store<f32>(xp, tail(dY, Wt, Out, O4, b, i + 1, hsum(s01)), 4);
  store<f32>(xp, tail(dY, Wt, Out, O4, b, i + 2, hsum(s02)), 8); store<f32>(xp, tail(dY, Wt, Out, O4, b, i + 3, hsum(s03)), 12);
  store<f32>(xp + xs, tail(dY, Wt, Out, O4, b + 1, i, hsum(s10))); store<f32>(xp + xs, tail(dY, Wt, Out, O4, b + 1, i + 1, hsum(s11)), 4);
  store<f32>(xp + xs, tail(dY, Wt, Out, O4, b + 1, i + 2, hsum(s12)), 8); store<f32>(xp + xs, tail(dY, Wt, Out, O4, b + 1, i + 3, hsum(s13)), 12);
  store<f32>(xp + 2 * xs, tail(dY, Wt, Out, O4, b + 2, i, hsum(s20))); store<f32>(xp + 2 * xs, tail(dY, Wt, Out, O4, b + 2, i + 1, hsum(s21)), 4);
  store<f32>(xp + 2 * xs, tail(dY, Wt, Out, O4, b + 2, i + 2, hsum(s22)), 8); store<f32>(xp + 2 * xs, tail(dY, Wt, Out, O4, b + 2, i + 3, hsum(s23)), 12);
  store<f32>(xp + 3 * xs, tail(dY, Wt, Out, O4, b + 3, i, hsum(s30))); store<f32>(xp + 3 * xs, tail(dY, Wt, Out, O4, b + 3, i + 1, hsum(s31)), 4);
  store<f32>(xp + 3 * xs, tail(dY, Wt, Out, O4, b + 3, i + 2, hsum(s32)), 8); store<f32>(xp + 3 * xs, tail(dY, Wt, Out, O4, b + 3, i + 3, hsum(s33)), 12);
}

@inline function tail(dY: usize, Wt: usize, Out: i32, O4: i32, b: i32, i: i32, s: f32): f32 {
  for (let o = O4; o < Out; o++) s = s + load<f32>(dY + (<usize>b * <usize>Out + <usize>o) * F) * load<f32>(Wt + (<usize>i * <usize>Out + <usize>o) * F);
  return s;
}

function input_scalar(dY: usize, Wt: usize, dX: usize, In: i32, Out: i32, b: i32, i: i32): void {
  const O4 = Out & ~3;
  let s = f32x4.splat(0);
  const yp = dY + <usize>b * <usize>Out * F;
  const wp = Wt + <usize>i * <usize>Out * F;
  for (let o = 0; o < O4; o += 4) s = f32x4.add(s, f32x4.mul(v128.load(yp + <usize>o * F), v128.load(wp + <usize>o * F)));
  store<f32>(dX + (<usize>b * <usize>In + <usize>i) * F, tail(dY, Wt, Out, O4, b, i, hsum(s)));
}

// ---- Adam over the flat parameter block: one SIMD loop ----
// p <- p * decay - step: decay = 1 - lr * weightDecay is AdamW's decoupled weight decay (1: Adam).
// Moments below the smallest normal f32 are stored as 0. The weights of a unit that stopped
// firing get g = 0, and their m decays by b1 each step through about 150 steps of subnormals,
// each operation on which costs the CPU tens of cycles (WebAssembly cannot set flush-to-zero):
// thousands of them in W (measured: Adam 1.35x slower). A subnormal moment moves p by under
// 1e-30, nothing at f32 precision, so the weights come out the same (checked bit for bit on W).
const MIN_NORMAL: f32 = 1.17549435e-38;
@inline function flush4(x: v128): v128 {
  return v128.and(x, f32x4.ge(f32x4.abs(x), f32x4.splat(MIN_NORMAL)));
}
@inline function flush1(x: f32): f32 {
  return Mathf.abs(x) >= MIN_NORMAL ? x : 0;
}

export function adam(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, c1: f32, c2: f32, decay: f32): void {
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2), vdecay = f32x4.splat(decay);
  const vlr = f32x4.splat(lr), vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), veps = f32x4.splat(eps);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const gk = v128.load(g + off);
    const mk = flush4(f32x4.add(f32x4.mul(vb1, v128.load(m + off)), f32x4.mul(vb1c, gk)));
    const vk = flush4(f32x4.add(f32x4.mul(vb2, v128.load(v + off)), f32x4.mul(f32x4.mul(vb2c, gk), gk)));
    v128.store(m + off, mk);
    v128.store(v + off, vk);
    const step = f32x4.div(f32x4.mul(vlr, f32x4.mul(mk, vc1)), f32x4.add(f32x4.sqrt(f32x4.mul(vk, vc2)), veps));
    v128.store(p + off, f32x4.sub(f32x4.mul(v128.load(p + off), vdecay), step));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const gk = load<f32>(g + off);
    const mk = flush1(b1 * load<f32>(m + off) + (1 - b1) * gk);
    const vk = flush1(b2 * load<f32>(v + off) + (1 - b2) * gk * gk);
    store<f32>(m + off, mk);
    store<f32>(v + off, vk);
    store<f32>(p + off, load<f32>(p + off) * decay - (lr * (mk * c1)) / (Mathf.sqrt(vk * c2) + eps));
  }
}

// ---- batches: out (B, D) = (images[idx[start + r]] (bytes) - offset) / divisor, per pixel ----
// The normalization of data/normalize.ts as an affine map per pixel: the same
// f32 operations as the TypeScript path, so both give identical batches.
// Pixels j in [j0, j1) of each row (threads split the pixels). Then one byte of each
// cache line of the `ahead` images after the batch is read, so that the next batch is
// on its way from memory while this one trains: the pool is 55 MB, and gathering cold
// images waited on one miss after another (52 us a batch on W, 13 us warm).
let touched: u32 = 0;
export function gather(images: usize, idx: usize, start: i32, B: i32, D: i32, offset: usize, divisor: usize, out: usize, j0: i32, j1: i32, ahead: i32): void {
  for (let r = 0; r < B; r++) {
    const src = images + <usize>load<u32>(idx + (<usize>(start + r) << 2)) * <usize>D;
    const dst = out + <usize>r * <usize>D * F;
    let j = j0;
    for (; j + 16 <= j1; j += 16) {
      const bytes = v128.load(src + <usize>j);
      const lo = i16x8.extend_low_i8x16_u(bytes);
      const hi = i16x8.extend_high_i8x16_u(bytes);
      const q0 = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo));
      const q1 = f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo));
      const q2 = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi));
      const q3 = f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi));
      const op = offset + <usize>j * F;
      const dp = divisor + <usize>j * F;
      const o = dst + <usize>j * F;
      v128.store(o, f32x4.div(f32x4.sub(q0, v128.load(op)), v128.load(dp)));
      v128.store(o, f32x4.div(f32x4.sub(q1, v128.load(op, 16)), v128.load(dp, 16)), 16);
      v128.store(o, f32x4.div(f32x4.sub(q2, v128.load(op, 32)), v128.load(dp, 32)), 32);
      v128.store(o, f32x4.div(f32x4.sub(q3, v128.load(op, 48)), v128.load(dp, 48)), 48);
    }
    for (; j < j1; j++) {
      const v = <f32>load<u8>(src + <usize>j);
      store<f32>(dst + <usize>j * F, (v - load<f32>(offset + <usize>j * F)) / load<f32>(divisor + <usize>j * F));
    }
  }
  let sum: u32 = 0;
  for (let r = B; r < B + ahead; r++) {
    const src = images + <usize>load<u32>(idx + (<usize>(start + r) << 2)) * <usize>D;
    for (let j = j0; j < j1; j += 64) sum += load<u8>(src + <usize>j);
  }
  touched = sum; // kept, so the reads are not optimized away
}

// ---- elementwise backward steps, in place on g ----
/** g = a > 0 ? g : 0 (ReLU's derivative, from its output a) */
export function relu_backward(a: usize, g: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    v128.store(g + off, v128.and(v128.load(g + off), f32x4.gt(v128.load(a + off), zero)));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    if (!(load<f32>(a + off) > 0)) store<f32>(g + off, 0);
  }
}

/** g = g * mask (inverted dropout) */
export function mul_inplace(g: usize, mask: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    v128.store(g + off, f32x4.mul(v128.load(g + off), v128.load(mask + off)));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    store<f32>(g + off, load<f32>(g + off) * load<f32>(mask + off));
  }
}

// ---- the other optimizers, one SIMD loop each over the flat parameter block ----

/** SGD with momentum mu (v <- mu v + g; p <- p - lr v), Nesterov (p <- p - lr (g + mu v)); mu = 0: p <- p - lr g. */
export function sgd(p: usize, g: usize, v: usize, n: i32, lr: f32, mu: f32, nesterov: i32): void {
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(mu);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const gk = v128.load(g + off);
    if (mu == 0) {
      v128.store(p + off, f32x4.sub(v128.load(p + off), f32x4.mul(vlr, gk)));
      continue;
    }
    const vk = f32x4.add(f32x4.mul(vmu, v128.load(v + off)), gk);
    v128.store(v + off, vk);
    const d = nesterov ? f32x4.add(gk, f32x4.mul(vmu, vk)) : vk;
    v128.store(p + off, f32x4.sub(v128.load(p + off), f32x4.mul(vlr, d)));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const gk = load<f32>(g + off);
    if (mu == 0) {
      store<f32>(p + off, load<f32>(p + off) - lr * gk);
      continue;
    }
    const vk = mu * load<f32>(v + off) + gk;
    store<f32>(v + off, vk);
    store<f32>(p + off, load<f32>(p + off) - lr * (nesterov ? gk + mu * vk : vk));
  }
}

/** RMSprop: s <- rho s + (1 - rho) g^2; p <- p - lr g / (sqrt(s) + eps) */
export function rmsprop(p: usize, g: usize, s: usize, n: i32, lr: f32, rho: f32, eps: f32): void {
  const vlr = f32x4.splat(lr), vrho = f32x4.splat(rho), vrc = f32x4.splat(1 - rho), veps = f32x4.splat(eps);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const gk = v128.load(g + off);
    const sk = f32x4.add(f32x4.mul(vrho, v128.load(s + off)), f32x4.mul(f32x4.mul(vrc, gk), gk));
    v128.store(s + off, sk);
    v128.store(p + off, f32x4.sub(v128.load(p + off), f32x4.div(f32x4.mul(vlr, gk), f32x4.add(f32x4.sqrt(sk), veps))));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const gk = load<f32>(g + off);
    const sk = rho * load<f32>(s + off) + (1 - rho) * gk * gk;
    store<f32>(s + off, sk);
    store<f32>(p + off, load<f32>(p + off) - (lr * gk) / (Mathf.sqrt(sk) + eps));
  }
}

/** AdaGrad: s <- s + g^2; p <- p - lr g / (sqrt(s) + eps) */
export function adagrad(p: usize, g: usize, s: usize, n: i32, lr: f32, eps: f32): void {
  const vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const gk = v128.load(g + off);
    const sk = f32x4.add(v128.load(s + off), f32x4.mul(gk, gk));
    v128.store(s + off, sk);
    v128.store(p + off, f32x4.sub(v128.load(p + off), f32x4.div(f32x4.mul(vlr, gk), f32x4.add(f32x4.sqrt(sk), veps))));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const gk = load<f32>(g + off);
    const sk = load<f32>(s + off) + gk * gk;
    store<f32>(s + off, sk);
    store<f32>(p + off, load<f32>(p + off) - (lr * gk) / (Mathf.sqrt(sk) + eps));
  }
}

// ---- dropout: draw, mask and apply in one pass ----
// Four xoshiro128** generators in the four lanes (state: 16 words, s0..s3 of every
// lane as one vector each; see Rng4 in src/util/rng.ts), so four units are drawn at
// once. A unit is kept when its draw is at most keepLimit: mask = scale, else 0;
// y = x * mask in f32. ts.ts's dropoutMask computes the same, lane by lane.
@inline function keep_lane(x: usize, mask: usize, y: usize, k: f32): void {
  store<f32>(mask, k);
  store<f32>(y, load<f32>(x) * k);
}

export function dropout_mask(state: usize, x: usize, mask: usize, y: usize, n: i32, keepLimit: u32, scale: f32): void {
  let s0 = v128.load(state), s1 = v128.load(state, 16), s2 = v128.load(state, 32), s3 = v128.load(state, 48);
  const five = i32x4.splat(5), nine = i32x4.splat(9), limit = i32x4.splat(keepLimit), m = f32x4.splat(scale);
  for (let i = 0; i < n; i += 4) {
    const a = i32x4.mul(s1, five);
    const r = i32x4.mul(v128.or(i32x4.shl(a, 7), i32x4.shr_u(a, 25)), nine);
    const t = i32x4.shl(s1, 9);
    s2 = v128.xor(s2, s0);
    s3 = v128.xor(s3, s1);
    s1 = v128.xor(s1, s2);
    s0 = v128.xor(s0, s3);
    s2 = v128.xor(s2, t);
    s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
    const k = v128.and(m, i32x4.le_u(r, limit));
    const off = <usize>i * F;
    if (i + 4 <= n) {
      v128.store(mask + off, k);
      v128.store(y + off, f32x4.mul(v128.load(x + off), k));
    } else {
      // the last n % 4 units take lanes 0, 1, 2 of this draw
      const rest = n - i;
      keep_lane(x + off, mask + off, y + off, f32x4.extract_lane(k, 0));
      if (rest > 1) keep_lane(x + off + 4, mask + off + 4, y + off + 4, f32x4.extract_lane(k, 1));
      if (rest > 2) keep_lane(x + off + 8, mask + off + 8, y + off + 8, f32x4.extract_lane(k, 2));
    }
  }
  v128.store(state, s0);
  v128.store(state, s1, 16);
  v128.store(state, s2, 32);
  v128.store(state, s3, 48);
}

// ==== activations: leaky_relu, elu, sigmoid, tanh ====
// Forward a = f(z) in place; backward g = g * f'(z), written from the output a as in
// src/nn/activations.ts. The backward steps are the f32 operations of ts.ts, in its
// order, so both backends give identical gradients from identical outputs. The
// forward steps need e^x, which SIMD lacks: expm1_4 below, within a few ulps of
// Math.expm1 (the tolerances are in test/kernels/activations.test.ts).

// e^x - 1 = 2^n (e^r - 1) + (2^n - 1), with x = n ln2 + r, |r| <= ln2 / 2 (Cephes expf).
// n = round(x / ln2) by adding 1.5 * 2^23, which leaves n in the low bits of the
// sum; then 2^n is those bits shifted into the exponent field. ln2 is split in two
// (Cody and Waite): n * LN2_HI is exact (LN2_HI has 9 significant bits, |n| <= 116),
// so r carries no rounding from the reduction. e^r - 1 = r + r^2 P(r), a polynomial
// summed without the 1 of e^r, so that near 0 (n = 0, where the result is just that)
// it keeps its relative accuracy instead of cancelling 1 - 1.
const EXP_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// x is clamped to [EXP_MIN, 0] by every caller: below e^-80 = 1.8e-35, expm1 is -1 in
// f32 and sigmoid's value is of no consequence; and n >= -116 keeps 2^n and nearly every
// 2^n (e^r - 1) normal floats (a denormal costs a microcode assist on many x86 cores).
const EXP_MIN: f32 = -80.0;

/** x * log2(e) + 1.5 * 2^23: n = round(x / ln2) is this minus 1.5 * 2^23, and its low bits */
@inline function exp_round(x: v128): v128 {
  return f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(EXP_MAGIC));
}

/** 2^n from exp_round's t: n + 127 in the exponent field (the bits of 1.5 * 2^23 shift out) */
@inline function exp_scale(t: v128): v128 {
  return i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23));
}

/** e^r - 1 for r = x - n ln2 (n from exp_round's t) */
@inline function expm1_reduced(x: v128, t: v128): v128 {
  const n = f32x4.sub(t, f32x4.splat(EXP_MAGIC));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
}

/** e^x - 1 for x in [EXP_MIN, 0] (NaN stays NaN): 2^n (e^r - 1) + (2^n - 1), both terms exact but the last rounding */
@inline function expm1_4(x: v128): v128 {
  const t = exp_round(x);
  const s = exp_scale(t);
  return f32x4.add(f32x4.mul(s, expm1_reduced(x, t)), f32x4.sub(s, f32x4.splat(1)));
}

/** e^x for x in [EXP_MIN, 0] (NaN stays NaN) */
@inline function exp_4(x: v128): v128 {
  const t = exp_round(x);
  const s = exp_scale(t);
  return f32x4.add(f32x4.mul(s, expm1_reduced(x, t)), s);
}

/** Clamps x to [EXP_MIN, 0]; pmin/pmax keep a NaN in their first operand (and are one instruction each on x86). */
@inline function exp_domain(x: v128): v128 {
  return f32x4.pmax(f32x4.pmin(x, f32x4.splat(0)), f32x4.splat(EXP_MIN));
}

const SIGN: i32 = <i32>0x80000000; // the f32 sign bit

@inline function leaky_relu4(z: v128, alpha: v128): v128 {
  return v128.bitselect(z, f32x4.mul(z, alpha), f32x4.gt(z, f32x4.splat(0)));
}

/** z above 0, alpha (e^z - 1) below */
@inline function elu4(z: v128, alpha: v128): v128 {
  return v128.bitselect(z, f32x4.mul(alpha, expm1_4(exp_domain(z))), f32x4.gt(z, f32x4.splat(0)));
}

/** 1 / (1 + e^-z) as e / (1 + e) below 0 and 1 / (1 + e) above, with e = e^-|z| <= 1: no overflow, and relative accuracy on both sides */
@inline function sigmoid4(z: v128): v128 {
  const e = exp_4(exp_domain(v128.or(z, i32x4.splat(SIGN)))); // -|z|
  const num = v128.bitselect(e, f32x4.splat(1), f32x4.lt(z, f32x4.splat(0)));
  return f32x4.div(num, f32x4.add(f32x4.splat(1), e));
}

/** tanh|z| = -m / (2 + m) with m = e^-2|z| - 1 (expm1 keeps small z accurate), with z's sign; tanh(±large) = ±1 exactly */
@inline function tanh4(z: v128): v128 {
  const m = expm1_4(exp_domain(f32x4.mul(v128.or(z, i32x4.splat(SIGN)), f32x4.splat(2)))); // e^-2|z| - 1
  const t = f32x4.div(f32x4.neg(m), f32x4.add(f32x4.splat(2), m));
  return v128.or(v128.andnot(t, i32x4.splat(SIGN)), v128.and(z, i32x4.splat(SIGN)));
}

/** The last n % 4 values (1 to 3) as one vector, so they go through the same lanes' arithmetic as the rest. */
@inline function load_tail(p: usize, rest: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (rest > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rest > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
@inline function store_tail(p: usize, v: v128, rest: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (rest > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (rest > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** z = leaky_relu(z) in place over n values: alpha z below 0 */
export function leaky_relu_forward(z: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const p = z + <usize>k * F;
    v128.store(p, leaky_relu4(v128.load(p), va));
  }
  if (k < n) store_tail(z + <usize>k * F, leaky_relu4(load_tail(z + <usize>k * F, n - k), va), n - k);
}

/** z = elu(z) in place over n values */
export function elu_forward(z: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const p = z + <usize>k * F;
    v128.store(p, elu4(v128.load(p), va));
  }
  if (k < n) store_tail(z + <usize>k * F, elu4(load_tail(z + <usize>k * F, n - k), va), n - k);
}

/** z = sigmoid(z) in place over n values */
export function sigmoid_forward(z: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const p = z + <usize>k * F;
    v128.store(p, sigmoid4(v128.load(p)));
  }
  if (k < n) store_tail(z + <usize>k * F, sigmoid4(load_tail(z + <usize>k * F, n - k)), n - k);
}

/** z = tanh(z) in place over n values */
export function tanh_forward(z: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const p = z + <usize>k * F;
    v128.store(p, tanh4(v128.load(p)));
  }
  if (k < n) store_tail(z + <usize>k * F, tanh4(load_tail(z + <usize>k * F, n - k)), n - k);
}

/** g = a > 0 ? g : g alpha (a > 0 exactly when z > 0, as alpha >= 0) */
export function leaky_relu_backward(a: usize, g: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha), zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const gk = v128.load(g + off);
    v128.store(g + off, v128.bitselect(gk, f32x4.mul(gk, va), f32x4.gt(v128.load(a + off), zero)));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    if (!(load<f32>(a + off) > 0)) store<f32>(g + off, load<f32>(g + off) * alpha);
  }
}

/** g = a > 0 ? g : g (a + alpha): below 0, d/dz alpha (e^z - 1) = alpha e^z = a + alpha */
export function elu_backward(a: usize, g: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha), zero = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const ak = v128.load(a + off), gk = v128.load(g + off);
    v128.store(g + off, v128.bitselect(gk, f32x4.mul(gk, f32x4.add(ak, va)), f32x4.gt(ak, zero)));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const ak = load<f32>(a + off);
    if (!(ak > 0)) store<f32>(g + off, load<f32>(g + off) * (ak + alpha));
  }
}

/** g = g (a (1 - a)) */
export function sigmoid_backward(a: usize, g: usize, n: i32): void {
  const one = f32x4.splat(1);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const ak = v128.load(a + off);
    v128.store(g + off, f32x4.mul(v128.load(g + off), f32x4.mul(ak, f32x4.sub(one, ak))));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const ak = load<f32>(a + off);
    store<f32>(g + off, load<f32>(g + off) * (ak * (1 - ak)));
  }
}

/**
 * g = g (1 - a^2), as (1 - a)(1 + a): near |a| = 1, where 1 - a^2 is small, 1 - a is exact
 * (and 1 + a rounds little), while a^2 would round first and leave 1 - a^2 few correct bits.
 */
export function tanh_backward(a: usize, g: usize, n: i32): void {
  const one = f32x4.splat(1);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const off = <usize>k * F;
    const ak = v128.load(a + off);
    v128.store(g + off, f32x4.mul(v128.load(g + off), f32x4.mul(f32x4.sub(one, ak), f32x4.add(one, ak))));
  }
  for (; k < n; k++) {
    const off = <usize>k * F;
    const ak = load<f32>(a + off);
    store<f32>(g + off, load<f32>(g + off) * ((1 - ak) * (1 + ak)));
  }
}
// ==== end of activations ====

// ==== folded input normalization (src/data/normalize.ts, src/nn/dense.ts) ====
// A first layer whose inputs are x + shift, x keeping its zeros (standardized pixels
// gathered as raw / (255 std), shift = -mean / std): the products skip x's zeros, and
// the shift's terms are added apart. Forward: y = act(x·Wt + b + shift·Wt), the last
// term summed over each half of the inputs by the thread of that half (jobs.ts).
// Weight gradient: Xᵀ·dY + shift ⊗ db, the shift as one more row of X in
// linear_backward_weight's lists (and db as one more row of dY).

/**
 * Y (B, Out) = act((Y + P) + (E0 + E1)): a product split by inputs (Y with the bias over the
 * first half, P over the second), then the shift's product over each half (E (2, Out)).
 */
export function add_act_shift(Y: usize, P: usize, E: usize, B: i32, Out: i32, act: i32): void {
  const ys = <usize>Out * F;
  for (let b = 0; b < B; b++) {
    const yr = Y + <usize>b * ys, pr = P + <usize>b * ys;
    let o = 0;
    for (; o + 4 <= Out; o += 4) {
      const off = <usize>o * F;
      const e = f32x4.add(v128.load(E + off), v128.load(E + ys + off));
      v128.store(yr + off, relu4(f32x4.add(f32x4.add(v128.load(yr + off), v128.load(pr + off)), e), act));
    }
    for (; o < Out; o++) {
      const off = <usize>o * F;
      const e = load<f32>(E + off) + load<f32>(E + ys + off);
      store<f32>(yr + off, relu1((load<f32>(yr + off) + load<f32>(pr + off)) + e, act));
    }
  }
}

// ==== pixel statistics (src/data/normalize.ts) ====
/**
 * For the images idx[start], ..., idx[start + count - 1] (rows of D bytes): sum[j] += x_j and
 * sumSq[j] += x_j^2, both u32 (the caller flushes them before 66,000 images, where sumSq could
 * wrap: 66,000 x 255^2 > 2^32).
 */
export function pixel_sums(images: usize, idx: usize, start: i32, count: i32, D: i32, sum: usize, sumSq: usize): void {
  for (let r = 0; r < count; r++) {
    const src = images + <usize>load<u32>(idx + (<usize>(start + r) << 2)) * <usize>D;
    let j = 0;
    for (; j + 16 <= D; j += 16) {
      const v = v128.load(src + <usize>j);
      const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
      const s = sum + (<usize>j << 2), q = sumSq + (<usize>j << 2);
      v128.store(s, i32x4.add(v128.load(s), i32x4.extend_low_i16x8_u(lo)));
      v128.store(s, i32x4.add(v128.load(s, 16), i32x4.extend_high_i16x8_u(lo)), 16);
      v128.store(s, i32x4.add(v128.load(s, 32), i32x4.extend_low_i16x8_u(hi)), 32);
      v128.store(s, i32x4.add(v128.load(s, 48), i32x4.extend_high_i16x8_u(hi)), 48);
      v128.store(q, i32x4.add(v128.load(q), i32x4.extmul_low_i16x8_u(lo, lo)));
      v128.store(q, i32x4.add(v128.load(q, 16), i32x4.extmul_high_i16x8_u(lo, lo)), 16);
      v128.store(q, i32x4.add(v128.load(q, 32), i32x4.extmul_low_i16x8_u(hi, hi)), 32);
      v128.store(q, i32x4.add(v128.load(q, 48), i32x4.extmul_high_i16x8_u(hi, hi)), 48);
    }
    for (; j < D; j++) {
      const x = <u32>load<u8>(src + <usize>j);
      const s = sum + (<usize>j << 2), q = sumSq + (<usize>j << 2);
      store<u32>(s, load<u32>(s) + x);
      store<u32>(q, load<u32>(q) + x * x);
    }
  }
}

// ---- augmented batches (wasm/augment.ts) ----
export { augment } from './augment';

// ---- batch normalization (wasm/batchnorm.ts) ----
export { batchnorm_train, batchnorm_eval, batchnorm_backward } from './batchnorm';

// ---- int8 dense layers (wasm/int8.ts) ----
export { quantize_rows, qlinear } from './int8';

// ---- pruned layers, one image at a time (wasm/sparse.ts) ----
export { sparse_forward } from './sparse';
