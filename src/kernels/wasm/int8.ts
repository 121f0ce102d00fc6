// int8 dense layers (nn quantize): Y (B, Out) = act(sx_r · sw_o · Σ_i q_ri w_oi + bias_o), where w
// holds the weights as int8 (one scale sw per output unit, symmetric) and q each input row quantized
// as it comes (dynamic, one scale sx per row): the sums are exact 32-bit integers, so a row's
// answer depends on neither its batch, nor the tiling, nor the threads.
//
//   mode 0, signed: sx = max(max_i |x_ri| / 127, MIN_SCALE), q = nearest(x * (1 / sx)) in [-127, 127]
//   mode 1, pixels: the inputs are pixel bytes held as floats: sx = 1, q = nearest(x) in [0, 255]
//   mode 2, unsigned (inputs >= 0, after ReLU): sx = max(max_i x_ri / 255, MIN_SCALE), q = nearest(x * (1 / sx)) in [0, 255]
// (times the reciprocal, one division a row: a division per input cost a third of the quantizing)
//
// nearest is round half to even (f32.nearest), as ONNX's Round and QuantizeLinear. The weights are
// packed in tiles of 16 outputs: tile t holds, for each input i, 16 bytes w(o, i) of its outputs o
// (kernels/int8.ts packs them). A row's non-zero inputs (blank pixels and ReLU's zeros are skipped)
// go in pairs (i, j): the two inputs' 16 bytes are interleaved, w(o, i), w(o, j), widened to i16,
// and i32x4.dot_i16x8_s multiplies them by (q_i, q_j) and adds the two products, four outputs at a time.

// @ts-nocheck: AssemblyScript, not TypeScript (excluded from tsc)

const F = 4;
const TILE = 16; // outputs per tile
const ROW_BYTES: u32 = 16; // one input's weights in a tile
const MIN_SCALE: f32 = 1e-30;
// A slab of tiles this many bytes goes through every row before the next (stays in this core's cache).
const QSLAB_BYTES: usize = 128 << 10;

/**
 * Rows [r0, r1) of X (B, In) quantized into lists: row r's non-zero inputs in ascending order, at
 * lists + r * stride bytes: their offsets in a tile (i * 16, u32), then from + 4 * (In + 4) their
 * values (i16); an even count of them (an odd one out gets a partner at offset 0 with value 0),
 * taken two by two by qlinear. counts[r]: how many pairs; scales[r]: the row's scale. lut: the
 * 16 byte shuffles that move the i32 lanes set in a 4-bit mask to the front (kernels/wasm.ts).
 */
export function quantize_rows(X: usize, In: i32, lists: usize, stride: i32, counts: usize, scales: usize, r0: i32, r1: i32, mode: i32, lut: usize): void {
  for (let r = r0; r < r1; r++) {
    const x = X + <usize>r * <usize>In * F;
    let s: f32 = 1;
    if (mode != 1) {
      let m = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= In; i += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + <usize>i * F))); // pmax: one instruction (maxps)
      let a = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      for (; i < In; i++) a = max(a, abs(load<f32>(x + <usize>i * F)));
      s = max(a / <f32>(mode == 0 ? 127 : 255), MIN_SCALE);
    }
    const lo = mode == 0 ? -127 : 0;
    const hi = mode == 0 ? 127 : 255;
    const inv: f32 = mode == 1 ? 1 : 1 / s;
    const iv = f32x4.splat(inv);
    const zero = f32x4.splat(0);
    const lov = i32x4.splat(lo);
    const hiv = i32x4.splat(hi);
    const offs = lists + <usize>r * <usize>stride;
    const vals = offs + <usize>(In + 4) * 4;
    // four at a time: quantized, the non-zero ones' lanes moved to the front by one shuffle and
    // stored whole (no branch per input; writes up to 3 past the count, which the stride leaves room for)
    let off = i32x4(0, <i32>ROW_BYTES, 2 * <i32>ROW_BYTES, 3 * <i32>ROW_BYTES);
    const step = i32x4.splat(4 * <i32>ROW_BYTES);
    let k = 0;
    let i = 0;
    for (; i + 4 <= In; i += 4) {
      const xv = v128.load(x + <usize>i * F);
      // Pixels: blank runs skipped before any arithmetic. Otherwise no branch: ReLU's zeros fall at
      // random, and a mispredicted branch costs more than the stores (measured: 4x slower on 1024 ReLU units)
      if (mode == 1 && i32x4.bitmask(f32x4.ne(xv, zero)) == 0) {
        off = i32x4.add(off, step);
        continue;
      }
      const q = i32x4.min_s(i32x4.max_s(round4(f32x4.mul(xv, iv)), lov), hiv);
      const m = i32x4.bitmask(i32x4.ne(q, i32x4.splat(0)));
      const sh = v128.load(lut + <usize>m * 16);
      v128.store(offs + <usize>k * 4, i8x16.swizzle(off, sh));
      const v = i8x16.swizzle(q, sh);
      v128.store64_lane(vals + <usize>k * 2, i16x8.narrow_i32x4_s(v, v), 0);
      k += popcnt<i32>(m);
      off = i32x4.add(off, step);
    }
    for (; i < In; i++) {
      const v = quantize_one(load<f32>(x + <usize>i * F), inv, lo, hi);
      store<u32>(offs + <usize>k * 4, <u32>i * ROW_BYTES);
      store<i16>(vals + <usize>k * 2, <i16>v);
      k += <i32>(v != 0);
    }
    if (k & 1) {
      store<u32>(offs + <usize>k * 4, 0);
      store<i16>(vals + <usize>k * 2, 0);
      k++;
    }
    store<i32>(counts + <usize>r * 4, k >> 1);
    store<f32>(scales + <usize>r * 4, s);
  }
}

// nearest(v) as i32 for |v| < 2^22, halves to even: adding 1.5 * 2^23 rounds v to an integer in
// the float addition (whose rounding is to nearest, ties to even), which then sits in the low bits
@inline function round4(v: v128): v128 {
  const M = f32x4.splat(12582912.0);
  return i32x4.sub(f32x4.add(v, M), M);
}

// as the vector path: nearest(x * inv), NaN to 0, clamped to [lo, hi]
@inline function quantize_one(x: f32, inv: f32, lo: i32, hi: i32): i32 {
  const q = nearest(x * inv);
  if (q != q) return 0;
  return <i32>min(max(q, <f32>lo), <f32>hi);
}

/**
 * Y (B, Out) for rows [r0, r1) from their lists (quantize_rows): W the packed tiles (OutP / 16 of
 * them, In inputs of 16 bytes each), wscale and bias (OutP, zero past Out), act 1: ReLU. Per
 * output: the integer sum, then y = (f32(sum) * sw) * sx + bias (in that order: ONNX Runtime fuses
 * f32(sum) * (sx * sw) into an operator that takes one sx for the whole batch, export/onnx.ts).
 */
export function qlinear(lists: usize, stride: i32, counts: usize, scales: usize, W: usize, In: i32, OutP: i32, wscale: usize, bias: usize, Y: usize, Out: i32, r0: i32, r1: i32, act: i32): void {
  const tileBytes = <usize>In * <usize>ROW_BYTES;
  const tiles = OutP / TILE;
  const perSlab = max<i32>(1, <i32>(QSLAB_BYTES / tileBytes));
  for (let t0 = 0; t0 < tiles; t0 += perSlab) {
    const t1 = min(tiles, t0 + perSlab);
    for (let r = r0; r < r1; r++) {
      const offs = lists + <usize>r * <usize>stride;
      const vals = offs + <usize>(In + 4) * 4;
      const n = load<i32>(counts + <usize>r * 4);
      const sx = f32x4.splat(load<f32>(scales + <usize>r * 4));
      let t = t0;
      for (; t + 2 <= t1; t += 2) {
        // two tiles at once (32 outputs): each pair's offsets and values loaded once for both
        const Wt = W + <usize>t * tileBytes;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
        for (let e = 0; e < n; e++) {
          const p = offs + <usize>e * 8;
          const pi = Wt + <usize>load<u32>(p), pj = Wt + <usize>load<u32>(p, 4);
          const xs = v128.load32_splat(vals + <usize>e * 4);
          let wi = v128.load(pi), wj = v128.load(pj);
          let lo = i8x16.shuffle(wi, wj, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
          let hi = i8x16.shuffle(wi, wj, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), xs));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), xs));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), xs));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), xs));
          wi = v128.load(pi + tileBytes);
          wj = v128.load(pj + tileBytes);
          lo = i8x16.shuffle(wi, wj, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
          hi = i8x16.shuffle(wi, wj, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
          a4 = i32x4.add(a4, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), xs));
          a5 = i32x4.add(a5, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), xs));
          a6 = i32x4.add(a6, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), xs));
          a7 = i32x4.add(a7, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), xs));
        }
        finish(a0, a1, a2, a3, sx, wscale, bias, Y, Out, r, t, act);
        finish(a4, a5, a6, a7, sx, wscale, bias, Y, Out, r, t + 1, act);
      }
      for (; t < t1; t++) {
        const Wt = W + <usize>t * tileBytes;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (let e = 0; e < n; e++) {
          const p = offs + <usize>e * 8;
          const wi = v128.load(Wt + <usize>load<u32>(p));
          const wj = v128.load(Wt + <usize>load<u32>(p, 4));
          const xs = v128.load32_splat(vals + <usize>e * 4);
          const lo = i8x16.shuffle(wi, wj, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
          const hi = i8x16.shuffle(wi, wj, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), xs));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), xs));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), xs));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), xs));
        }
        finish(a0, a1, a2, a3, sx, wscale, bias, Y, Out, r, t, act);
      }
    }
  }
}

// tile t's 16 outputs of row r from its four accumulators
@inline function finish(a0: v128, a1: v128, a2: v128, a3: v128, sx: v128, wscale: usize, bias: usize, Y: usize, Out: i32, r: i32, t: i32, act: i32): void {
  const o = t * TILE;
  const y = Y + (<usize>r * <usize>Out + <usize>o) * F;
  const rest = Out - o;
  const sc = wscale + <usize>o * F, bc = bias + <usize>o * F;
  store_upto(y, epilogue(a0, sx, v128.load(sc), v128.load(bc), act), rest);
  store_upto(y + 16, epilogue(a1, sx, v128.load(sc, 16), v128.load(bc, 16), act), rest - 4);
  store_upto(y + 32, epilogue(a2, sx, v128.load(sc, 32), v128.load(bc, 32), act), rest - 8);
  store_upto(y + 48, epilogue(a3, sx, v128.load(sc, 48), v128.load(bc, 48), act), rest - 12);
}

// (f32(sum) * sw) * sx + bias, then ReLU: pmax(0, y) = 0 < y ? y : 0, as the reference (-0 and NaN give +0)
@inline function epilogue(acc: v128, sx: v128, sw: v128, b: v128, act: i32): v128 {
  const y = f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(acc), sw), sx), b);
  return act == 1 ? f32x4.pmax(f32x4.splat(0), y) : y;
}

// the first n (if any) of the 4 floats of v to p
@inline function store_upto(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
