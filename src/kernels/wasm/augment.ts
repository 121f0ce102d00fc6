// The augment kernel in WebAssembly SIMD (AssemblyScript; exported by kernels.ts).
// Its TypeScript form, src/kernels/augment.ts, is the reference: the same map, with
// the coordinates in float64 there and in float32 here (tested within a stated tolerance).

// @ts-nocheck: AssemblyScript, not TypeScript (excluded from tsc)

/**
 * out (B, D) = (transform_r(images[idx[start + r]]) - offset) / divisor for the pixels j in
 * [j0, j1) of each row (multiples of 4; side a multiple of 4, so 4 pixels never straddle two
 * image rows; each pixel is computed alone, so any split gives the same batch). params (B, 8) f64: dx, dy, angle, scale, field index (-1: none), symmetry;
 * fields (FIELDS, 2, 2, D) f32, each field as made then transposed with its components swapped
 * (or 0: none). Output pixel (x, y) samples the image bilinearly at
 *   (sx, sy) = c + R(-angle) ((x, y) - c - (dx, dy)) / scale + field_s(x, y),
 * 4 pixels at a time: their coordinates, weights and masks in SIMD, the 4 neighbours of each
 * loaded as two 16-bit pairs (WebAssembly has no gather). Reads 1 byte before and after an
 * image at most (the binding checks that the memory has them).
 */
export function augment(images: usize, idx: usize, start: i32, B: i32, side: i32, params: usize, fields: usize, offset: usize, divisor: usize, out: usize, j0: i32, j1: i32): void {
  const D = side * side;
  const c: f64 = <f64>(side - 1) / 2;
  const sideF = f32x4.splat(<f32>side);
  const lastF = f32x4.splat(<f32>(side - 1));
  const minusOneF = f32x4.splat(-1);
  const zeroF = f32x4.splat(0);
  const one = f32x4.splat(1);
  const lanes = f32x4(0, 1, 2, 3);
  const lowBytes = i16x8.splat(0xff);
  if (B <= 0 || j0 >= j1) return;
  // Loops are do-while: V8 hoists a loop's invariant arithmetic only from blocks that
  // dominate its exit, and a top-tested loop's body does not (seen in its code: the
  // image's set-up was recomputed for every 4 pixels).
  let r = 0;
  do {
    const img = images + <usize>load<u32>(idx + (<usize>(start + r) << 2)) * <usize>D;
    const pr = params + (<usize>r << 6);
    const dx = load<f64>(pr), dy = load<f64>(pr, 8), angle = load<f64>(pr, 16), scale = load<f64>(pr, 24);
    const k = <i32>load<f64>(pr, 32), s = <i32>load<f64>(pr, 40);
    const cos = Math.cos(angle) / scale, sin = Math.sin(angle) / scale;
    // sx = ax + cos x + sin y, sy = ay - sin x + cos y
    const ax = c - cos * (c + dx) - sin * (c + dy);
    const ay = c + sin * (c + dx) - cos * (c + dy);
    const vcos = f32x4.splat(<f32>cos), vsin = f32x4.splat(<f32>sin);

    // The box around the image's non-zero pixels: a sample with none of its 4 neighbours in
    // it is 0 (the background), found without loading them. Most of an MNIST image is blank.
    let xmin = side, xmax = -1, ymin = side, ymax = -1;
    const words = side >> 2;
    for (let y = 0; y < side; y++) {
      const row = img + <usize>(y * side);
      let any: u32 = 0;
      for (let w = 0; w < words; w++) any |= load<u32>(row + (<usize>w << 2));
      if (any == 0) continue;
      if (y < ymin) ymin = y;
      ymax = y;
      let w = 0;
      let v: u32 = 0;
      while ((v = load<u32>(row + (<usize>w << 2))) == 0) w++;
      const first = (w << 2) + (<i32>ctz(v) >> 3);
      if (first < xmin) xmin = first;
      w = words - 1;
      while ((v = load<u32>(row + (<usize>w << 2))) == 0) w--;
      const last = (w << 2) + 3 - (<i32>clz(v) >> 3);
      if (last > xmax) xmax = last;
    }
    // neighbours x0 and x0 + 1 meet the box when xmin - 1 < sx < xmax + 1 (an empty box: never)
    const xlo = f32x4.splat(<f32>(xmin - 1)), xhi = f32x4.splat(<f32>(xmax + 1));
    const ylo = f32x4.splat(<f32>(ymin - 1)), yhi = f32x4.splat(<f32>(ymax + 1));

    // the field under symmetry s, by index: transposed = the bank's second copy; a mirror reads
    // the row or the 4 pixels from the other end (and reverses them); mirror and sign flip components
    let field: usize = 0;
    let sgx = one, sgy = one;
    const mx = (s & 2) != 0, my = (s & 4) != 0;
    if (fields != 0 && k >= 0) {
      field = fields + <usize>(k * 4 + (s & 1) * 2) * <usize>D * 4;
      const sign: f32 = s & 8 ? -1 : 1;
      sgx = f32x4.splat(mx ? -sign : sign);
      sgy = f32x4.splat(my ? -sign : sign);
    }

    const dst = out + <usize>r * <usize>D * 4;
    let y = j0 / side;
    do {
      const rowStart = y * side;
      const xa = max(j0 - rowStart, 0), xb = min(j1 - rowStart, side);
      const bx = f32x4.splat(<f32>(ax + sin * <f64>y));
      const by = f32x4.splat(<f32>(ay + cos * <f64>y));
      const frow = field + <usize>((my ? side - 1 - y : y) * side) * 4;
      let x = xa;
      do {
        const j = rowStart + x;
        const o = <usize>j * 4;
        const xs = f32x4.add(f32x4.splat(<f32>x), lanes);
        let sx = f32x4.add(bx, f32x4.mul(vcos, xs));
        let sy = f32x4.sub(by, f32x4.mul(vsin, xs));
        if (field != 0) {
          const at = frow + <usize>(mx ? side - 4 - x : x) * 4;
          let fx = v128.load(at);
          let fy = v128.load(at + <usize>D * 4);
          if (mx) {
            fx = v128.shuffle<i32>(fx, fx, 3, 2, 1, 0);
            fy = v128.shuffle<i32>(fy, fy, 3, 2, 1, 0);
          }
          sx = f32x4.add(sx, f32x4.mul(fx, sgx));
          sy = f32x4.add(sy, f32x4.mul(fy, sgy));
        }
        const inBox = v128.and(v128.and(f32x4.gt(sx, xlo), f32x4.lt(sx, xhi)), v128.and(f32x4.gt(sy, ylo), f32x4.lt(sy, yhi)));
        let v = f32x4.splat(0);
        if (v128.any_true(inBox)) {
          const x0f = f32x4.floor(sx), y0f = f32x4.floor(sy);
          const fx = f32x4.sub(sx, x0f), fy = f32x4.sub(sy, y0f);
          // the neighbours' rows and columns clamped to [-1, side - 1], in floats (whole numbers,
          // exact): lanes outside the box are masked off at the end but load too, and a NaN
          // lane takes the bound (pmax and pmin return their first operand when unordered)
          const x0 = f32x4.pmin(lastF, f32x4.pmax(minusOneF, x0f));
          const y0 = f32x4.pmin(lastF, f32x4.pmax(minusOneF, y0f));
          const p0 = toInt(f32x4.add(f32x4.mul(f32x4.pmax(zeroF, y0), sideF), x0));
          const p1 = toInt(f32x4.add(f32x4.mul(f32x4.pmin(lastF, f32x4.add(y0, one)), sideF), x0));
          // bytes (x0, x0 + 1) of rows y0 and y0 + 1: lanes 0-3 and 4-7
          let q = i16x8.splat(0);
          q = i16x8.replace_lane(q, 0, load<u16>(img + <usize>i32x4.extract_lane(p0, 0)));
          q = i16x8.replace_lane(q, 1, load<u16>(img + <usize>i32x4.extract_lane(p0, 1)));
          q = i16x8.replace_lane(q, 2, load<u16>(img + <usize>i32x4.extract_lane(p0, 2)));
          q = i16x8.replace_lane(q, 3, load<u16>(img + <usize>i32x4.extract_lane(p0, 3)));
          q = i16x8.replace_lane(q, 4, load<u16>(img + <usize>i32x4.extract_lane(p1, 0)));
          q = i16x8.replace_lane(q, 5, load<u16>(img + <usize>i32x4.extract_lane(p1, 1)));
          q = i16x8.replace_lane(q, 6, load<u16>(img + <usize>i32x4.extract_lane(p1, 2)));
          q = i16x8.replace_lane(q, 7, load<u16>(img + <usize>i32x4.extract_lane(p1, 3)));
          const left = v128.and(q, lowBytes);
          const right = i16x8.shr_u(q, 8);
          // neighbours outside the image count as 0, as in the reference
          const inX0 = f32x4.ge(x0, zeroF), inX1 = f32x4.lt(x0, lastF);
          const inY0 = f32x4.ge(y0, zeroF), inY1 = f32x4.lt(y0, lastF);
          const a = v128.and(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(left)), v128.and(inY0, inX0));
          const b = v128.and(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(right)), v128.and(inY0, inX1));
          const cc = v128.and(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(left)), v128.and(inY1, inX0));
          const d = v128.and(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(right)), v128.and(inY1, inX1));
          const gx = f32x4.sub(one, fx);
          const top = f32x4.add(f32x4.mul(gx, a), f32x4.mul(fx, b));
          const bottom = f32x4.add(f32x4.mul(gx, cc), f32x4.mul(fx, d));
          v = v128.and(f32x4.add(f32x4.mul(f32x4.sub(one, fy), top), f32x4.mul(fy, bottom)), inBox);
        }
        v128.store(dst + o, f32x4.div(f32x4.sub(v, v128.load(offset + o)), v128.load(divisor + o)));
        x += 4;
      } while (x < xb);
      y++;
    } while (y * side < j1);
    r++;
  } while (r < B);
}

// A whole float in [-2^22, 2^22] to its i32: added to 1.5 x 2^23, it sits in the mantissa's
// low bits (one add and one integer subtract, where trunc_sat takes V8 eight instructions).
const MAGIC: f32 = 12582912;
@inline function toInt(v: v128): v128 {
  return i32x4.sub(f32x4.add(v, f32x4.splat(MAGIC)), i32x4.splat(0x4b400000));
}
