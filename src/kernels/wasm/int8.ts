// int8 dense layers (nn quantize): Y (B, Out) = act(sx_r · sw_o · Σ_i q_ri w_oi + bias_o), where w
// holds the weights as int8 (one scale sw per output unit, symmetric) and q each input row quantized
// as it comes (dynamic, one scale sx per row): the sums are exact 32-bit integers, so a row's
// answer depends on neither its batch, nor the tiling, nor the threads.
//
//   mode 0: sx = max(max_i |x_ri| / 127, MIN_SCALE), q = nearest(x / sx) in [-127, 127]
//   mode 1: the inputs are pixel bytes held as floats: sx = 1, q = nearest(x) in [0, 255]
//
// nearest is round half to even (f32.nearest), as ONNX's Round and QuantizeLinear. The weights are
// packed in tiles of 16 outputs: tile t's pairs of inputs (2k, 2k + 1) are 32 bytes each,
// w(o, 2k), w(o, 2k + 1) for its 16 outputs o, so i32x4.dot_i16x8_s multiplies a pair of weights
// by a pair of inputs and adds the two products, four outputs at a time (kernels/int8.ts packs them).
// Zero input pairs are skipped: blank pixels and ReLU's zeros.

// @ts-nocheck: AssemblyScript, not TypeScript (excluded from tsc)

const F = 4;
const TILE = 16; // outputs per tile
const PAIR_BYTES: usize = 32; // one pair of inputs for a tile's 16 outputs
const MIN_SCALE: f32 = 1e-30;
// A slab of tiles this many bytes goes through every row before the next (stays in this core's cache).
const QSLAB_BYTES: usize = 128 << 10;

/**
 * Rows [r0, r1) of X (B, In) quantized into lists: row r's non-zero input pairs at lists + r * stride
 * bytes, 8 bytes each (the pair's byte offset in a tile, k * 32; the pair (q_2k, q_2k+1) as two i16),
 * ascending k, their count at counts[r] and the row's scale at scales[r]. Writes one entry past the count.
 */
export function quantize_rows(X: usize, In: i32, lists: usize, stride: i32, counts: usize, scales: usize, r0: i32, r1: i32, mode: i32): void {
  for (let r = r0; r < r1; r++) {
    const x = X + <usize>r * <usize>In * F;
    let s: f32 = 1;
    if (mode == 0) {
      let m = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= In; i += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + <usize>i * F)));
      let a = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      for (; i < In; i++) a = max(a, abs(load<f32>(x + <usize>i * F)));
      s = max(a / 127, MIN_SCALE);
    }
    const lo = mode == 0 ? -127 : 0;
    const hi = mode == 0 ? 127 : 255;
    const sv = f32x4.splat(s);
    const lov = i32x4.splat(lo);
    const hiv = i32x4.splat(hi);
    const list = lists + <usize>r * <usize>stride;
    let c = 0;
    let i = 0;
    for (; i + 8 <= In; i += 8) {
      const q0 = i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(x + <usize>i * F), sv))), lov), hiv);
      const q1 = i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(v128.load(x + <usize>i * F, 16), sv))), lov), hiv);
      const pairs = i16x8.narrow_i32x4_s(q0, q1); // i32 lane j: the pair (q_{i+2j}, q_{i+2j+1})
      const k = <u32>(i >> 1) * <u32>PAIR_BYTES;
      let v = i32x4.extract_lane(pairs, 0);
      let p = list + <usize>c * 8;
      store<u32>(p, k);
      store<i32>(p, v, 4);
      c += <i32>(v != 0);
      v = i32x4.extract_lane(pairs, 1);
      p = list + <usize>c * 8;
      store<u32>(p, k + <u32>PAIR_BYTES);
      store<i32>(p, v, 4);
      c += <i32>(v != 0);
      v = i32x4.extract_lane(pairs, 2);
      p = list + <usize>c * 8;
      store<u32>(p, k + 2 * <u32>PAIR_BYTES);
      store<i32>(p, v, 4);
      c += <i32>(v != 0);
      v = i32x4.extract_lane(pairs, 3);
      p = list + <usize>c * 8;
      store<u32>(p, k + 3 * <u32>PAIR_BYTES);
      store<i32>(p, v, 4);
      c += <i32>(v != 0);
    }
    for (; i < In; i += 2) {
      const a = quantize_one(load<f32>(x + <usize>i * F), s, lo, hi);
      const b = i + 1 < In ? quantize_one(load<f32>(x + <usize>(i + 1) * F), s, lo, hi) : 0;
      const v = (a & 0xffff) | (b << 16);
      const p = list + <usize>c * 8;
      store<u32>(p, <u32>(i >> 1) * <u32>PAIR_BYTES);
      store<i32>(p, v, 4);
      c += <i32>(v != 0);
    }
    store<i32>(counts + <usize>r * 4, c);
    store<f32>(scales + <usize>r * 4, s);
  }
}

// as the vector path: nearest(x / s), NaN to 0, clamped to [lo, hi]
@inline function quantize_one(x: f32, s: f32, lo: i32, hi: i32): i32 {
  const q = nearest(x / s);
  if (q != q) return 0;
  return <i32>min(max(q, <f32>lo), <f32>hi);
}

/**
 * Y (B, Out) for rows [r0, r1) from their lists (quantize_rows): W the packed tiles (OutP / 16 of
 * them, each In2 pairs of 32 bytes, In2 = ceil(In / 2)), wscale and bias (OutP, zero past Out),
 * act 1: ReLU. Per output: the integer sum, then y = f32(sum) * (sx * sw) + bias.
 */
export function qlinear(lists: usize, stride: i32, counts: usize, scales: usize, W: usize, In2: i32, OutP: i32, wscale: usize, bias: usize, Y: usize, Out: i32, r0: i32, r1: i32, act: i32): void {
  const tileBytes = <usize>In2 * PAIR_BYTES;
  const tiles = OutP / TILE;
  const perSlab = max<i32>(1, <i32>(QSLAB_BYTES / tileBytes));
  for (let t0 = 0; t0 < tiles; t0 += perSlab) {
    const t1 = min(tiles, t0 + perSlab);
    for (let r = r0; r < r1; r++) {
      const list = lists + <usize>r * <usize>stride;
      const n = load<i32>(counts + <usize>r * 4);
      const sx = f32x4.splat(load<f32>(scales + <usize>r * 4));
      for (let t = t0; t < t1; t++) {
        const Wt = W + <usize>t * tileBytes;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (let e = 0; e < n; e++) {
          const p = list + <usize>e * 8;
          const w = Wt + <usize>load<u32>(p);
          const xs = v128.load32_splat(p, 4);
          const w0 = v128.load(w), w1 = v128.load(w, 16);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), xs));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), xs));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w1), xs));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w1), xs));
        }
        const o = t * TILE;
        const y = Y + (<usize>r * <usize>Out + <usize>o) * F;
        const rest = Out - o;
        const sc = wscale + <usize>o * F, bc = bias + <usize>o * F;
        store_upto(y, epilogue(a0, sx, v128.load(sc), v128.load(bc), act), rest);
        store_upto(y + 16, epilogue(a1, sx, v128.load(sc, 16), v128.load(bc, 16), act), rest - 4);
        store_upto(y + 32, epilogue(a2, sx, v128.load(sc, 32), v128.load(bc, 32), act), rest - 8);
        store_upto(y + 48, epilogue(a3, sx, v128.load(sc, 48), v128.load(bc, 48), act), rest - 12);
      }
    }
  }
}

// f32(sum) * (sx * sw) + bias, then ReLU (max with +0: -0 becomes +0, as y > 0 ? y : 0)
@inline function epilogue(acc: v128, sx: v128, sw: v128, b: v128, act: i32): v128 {
  const y = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.mul(sx, sw)), b);
  return act == 1 ? f32x4.max(y, f32x4.splat(0)) : y;
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
