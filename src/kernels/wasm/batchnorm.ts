// Batch normalization over (B, N) row-major buffers, per feature j: four features at a
// time (f32x4), walking down the rows; the tail features (N % 4) one at a time.
// Sums are f32 over the batch (tested against the float64 reference: see kernels tests).
// BatchNorm (nn/batchnorm.ts) has the formulas; these are its forward and backward.

const F: usize = 4;

@inline function at(buf: usize, r: i32, N: i32, j: i32): usize {
  return buf + (<usize>r * <usize>N + <usize>j) * F;
}

/**
 * Training: mean (N) and biased variance of each feature over the batch; xh (B, N) = (x - mean) * inv,
 * inv (N) = 1 / sqrt(var + eps); y (B, N) = g * xh + b; running mean and (unbiased) variance move by momentum.
 */
export function batchnorm_train(x: usize, y: usize, xh: usize, inv: usize, g: usize, b: usize, rm: usize, rv: usize, B: i32, N: i32, momentum: f32, eps: f32): void {
  const n = f32x4.splat(<f32>B);
  const unbias = f32x4.splat(B > 1 ? <f32>(B - 1) : <f32>B);
  const mo = f32x4.splat(momentum), keep = f32x4.splat(1 - momentum), e = f32x4.splat(eps), one = f32x4.splat(1);
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    let s = f32x4.splat(0);
    for (let r = 0; r < B; r++) s = f32x4.add(s, v128.load(at(x, r, N, j)));
    const mean = f32x4.div(s, n);
    let q = f32x4.splat(0);
    for (let r = 0; r < B; r++) {
      const d = f32x4.sub(v128.load(at(x, r, N, j)), mean);
      q = f32x4.add(q, f32x4.mul(d, d));
    }
    const variance = f32x4.div(q, n);
    const iv = f32x4.div(one, f32x4.sqrt(f32x4.add(variance, e)));
    v128.store(inv + <usize>j * F, iv);
    const p = rm + <usize>j * F, pv = rv + <usize>j * F;
    v128.store(p, f32x4.add(f32x4.mul(keep, v128.load(p)), f32x4.mul(mo, mean)));
    v128.store(pv, f32x4.add(f32x4.mul(keep, v128.load(pv)), f32x4.mul(mo, f32x4.div(q, unbias))));
    const gj = v128.load(g + <usize>j * F), bj = v128.load(b + <usize>j * F);
    for (let r = 0; r < B; r++) {
      const h = f32x4.mul(f32x4.sub(v128.load(at(x, r, N, j)), mean), iv);
      v128.store(at(xh, r, N, j), h);
      v128.store(at(y, r, N, j), f32x4.add(f32x4.mul(gj, h), bj));
    }
  }
  for (; j < N; j++) {
    let s: f32 = 0;
    for (let r = 0; r < B; r++) s += load<f32>(at(x, r, N, j));
    const mean = s / <f32>B;
    let q: f32 = 0;
    for (let r = 0; r < B; r++) {
      const d = load<f32>(at(x, r, N, j)) - mean;
      q += d * d;
    }
    const iv: f32 = 1 / Mathf.sqrt(q / <f32>B + eps);
    store<f32>(inv + <usize>j * F, iv);
    const p = rm + <usize>j * F, pv = rv + <usize>j * F;
    store<f32>(p, (1 - momentum) * load<f32>(p) + momentum * mean);
    store<f32>(pv, (1 - momentum) * load<f32>(pv) + momentum * (q / (B > 1 ? <f32>(B - 1) : <f32>B)));
    const gj = load<f32>(g + <usize>j * F), bj = load<f32>(b + <usize>j * F);
    for (let r = 0; r < B; r++) {
      const h = (load<f32>(at(x, r, N, j)) - mean) * iv;
      store<f32>(at(xh, r, N, j), h);
      store<f32>(at(y, r, N, j), gj * h + bj);
    }
  }
}

/** Evaluation: y (B, N) = (x - running mean) * g / sqrt(running var + eps) + b. */
export function batchnorm_eval(x: usize, y: usize, g: usize, b: usize, rm: usize, rv: usize, B: i32, N: i32, eps: f32): void {
  const e = f32x4.splat(eps);
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const s = f32x4.div(v128.load(g + <usize>j * F), f32x4.sqrt(f32x4.add(v128.load(rv + <usize>j * F), e)));
    const m = v128.load(rm + <usize>j * F), bj = v128.load(b + <usize>j * F);
    for (let r = 0; r < B; r++) v128.store(at(y, r, N, j), f32x4.add(f32x4.mul(f32x4.sub(v128.load(at(x, r, N, j)), m), s), bj));
  }
  for (; j < N; j++) {
    const s = load<f32>(g + <usize>j * F) / Mathf.sqrt(load<f32>(rv + <usize>j * F) + eps);
    const m = load<f32>(rm + <usize>j * F), bj = load<f32>(b + <usize>j * F);
    for (let r = 0; r < B; r++) store<f32>(at(y, r, N, j), (load<f32>(at(x, r, N, j)) - m) * s + bj);
  }
}

/**
 * Backward: db (N) = Σ dy, dg (N) = Σ dy xh over the batch; with dx, dy (B, N) becomes
 * dx = g inv (dy - Σ dy / B - xh Σ (dy xh) / B), in place.
 */
export function batchnorm_backward(dy: usize, xh: usize, inv: usize, g: usize, dg: usize, db: usize, B: i32, N: i32, needDx: i32): void {
  const n = f32x4.splat(<f32>B);
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    let s = f32x4.splat(0), d = f32x4.splat(0);
    for (let r = 0; r < B; r++) {
      const gy = v128.load(at(dy, r, N, j));
      s = f32x4.add(s, gy);
      d = f32x4.add(d, f32x4.mul(gy, v128.load(at(xh, r, N, j))));
    }
    v128.store(db + <usize>j * F, s);
    v128.store(dg + <usize>j * F, d);
    if (!needDx) continue;
    const k = f32x4.mul(v128.load(g + <usize>j * F), v128.load(inv + <usize>j * F));
    const ms = f32x4.div(s, n);
    for (let r = 0; r < B; r++) {
      const p = at(dy, r, N, j);
      const t = f32x4.div(f32x4.mul(v128.load(at(xh, r, N, j)), d), n);
      v128.store(p, f32x4.mul(k, f32x4.sub(f32x4.sub(v128.load(p), ms), t)));
    }
  }
  for (; j < N; j++) {
    let s: f32 = 0, d: f32 = 0;
    for (let r = 0; r < B; r++) {
      const gy = load<f32>(at(dy, r, N, j));
      s += gy;
      d += gy * load<f32>(at(xh, r, N, j));
    }
    store<f32>(db + <usize>j * F, s);
    store<f32>(dg + <usize>j * F, d);
    if (!needDx) continue;
    const k = load<f32>(g + <usize>j * F) * load<f32>(inv + <usize>j * F);
    const ms = s / <f32>B;
    for (let r = 0; r < B; r++) {
      const p = at(dy, r, N, j);
      store<f32>(p, k * (load<f32>(p) - ms - (load<f32>(at(xh, r, N, j)) * d) / <f32>B));
    }
  }
}
