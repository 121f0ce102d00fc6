/**
 * The reference kernels: the plainest loops that compute each product.
 * Every fast kernel is tested against these; they are also the fallback.
 * Shapes: B batch, In inputs, Out outputs. Weights are stored transposed,
 * Wt (In, Out), so that all three products run along contiguous rows of
 * Out (model files still hold PyTorch's (Out, In); see io/modelfile.ts).
 */

/** Y (B, Out) = (X (B, In) + shift (In), when given, in every row) · Wt (In, Out) + bias (Out), then ReLU when `relu` */
export function linearForwardNaive(X: Float32Array, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number, relu = false, shift?: Float32Array | null): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Out; o++) {
      let s = bias[o];
      for (let i = 0; i < In; i++) s += (X[b * In + i] + (shift ? shift[i] : 0)) * Wt[i * Out + o];
      Y[b * Out + o] = relu && s < 0 ? 0 : s;
    }
  }
}

/** dX (B, In) = dY (B, Out) · Wtᵀ */
export function linearBackwardInputNaive(dY: Float32Array, Wt: Float32Array, dX: Float32Array, B: number, In: number, Out: number): void {
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < In; i++) {
      let s = 0;
      for (let o = 0; o < Out; o++) s += dY[b * Out + o] * Wt[i * Out + o];
      dX[b * In + i] = s;
    }
  }
}

/**
 * dWt (In, Out) = Xᵀ · dY; db (Out) = Σ_b dY  (overwriting: each parameter is used once per pass).
 * With a shift (In), for inputs X + shift in every row: dWt[i, o] = Σ_b (X[b, i] + shift[i]) dY[b, o].
 */
export function linearBackwardWeightNaive(dY: Float32Array, X: Float32Array, dWt: Float32Array, db: Float32Array, B: number, In: number, Out: number, shift?: Float32Array | null): void {
  for (let i = 0; i < In; i++) {
    for (let o = 0; o < Out; o++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += (X[b * In + i] + (shift ? shift[i] : 0)) * dY[b * Out + o];
      dWt[i * Out + o] = s;
    }
  }
  for (let o = 0; o < Out; o++) {
    let s = 0;
    for (let b = 0; b < B; b++) s += dY[b * Out + o];
    db[o] = s;
  }
}

/**
 * Adam: m ← β1 m + (1-β1) g; v ← β2 v + (1-β2) g²; p ← p·decay - lr (m c1) / (sqrt(v c2) + ε), c = 1/(1 - β^t);
 * decay = 1 - lr·weightDecay for AdamW's decoupled weight decay (1 for Adam)
 */
export function adamNaive(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, decay = 1): void {
  for (let i = 0; i < p.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] = p[i] * decay - (lr * (m[i] * c1)) / (Math.sqrt(v[i] * c2) + eps);
  }
}

/**
 * Batch normalization, training (nn/batchnorm.ts has the formulas), per feature j over the B rows, in float64:
 * xh (B, N) = (x - mean) * inv, inv (N) = 1 / sqrt(biased var + eps), y = g * xh + b; the running
 * mean and unbiased variance (N) move towards the batch's by momentum.
 */
export function batchnormTrainNaive(x: Float32Array, y: Float32Array, xh: Float32Array, inv: Float32Array, g: Float32Array, b: Float32Array, rm: Float32Array, rv: Float32Array, B: number, N: number, momentum: number, eps: number): void {
  for (let j = 0; j < N; j++) {
    let mean = 0;
    for (let r = 0; r < B; r++) mean += x[r * N + j];
    mean /= B;
    let q = 0;
    for (let r = 0; r < B; r++) q += (x[r * N + j] - mean) ** 2;
    const iv = 1 / Math.sqrt(q / B + eps);
    inv[j] = iv;
    for (let r = 0; r < B; r++) {
      const h = (x[r * N + j] - mean) * iv;
      xh[r * N + j] = h;
      y[r * N + j] = g[j] * h + b[j];
    }
    rm[j] = (1 - momentum) * rm[j] + momentum * mean;
    rv[j] = (1 - momentum) * rv[j] + momentum * (B > 1 ? q / (B - 1) : q / B);
  }
}

/** Batch normalization, evaluation: y (B, N) = (x - running mean) * g / sqrt(running var + eps) + b. */
export function batchnormEvalNaive(x: Float32Array, y: Float32Array, g: Float32Array, b: Float32Array, rm: Float32Array, rv: Float32Array, B: number, N: number, eps: number): void {
  for (let j = 0; j < N; j++) {
    const s = g[j] / Math.sqrt(rv[j] + eps);
    for (let r = 0; r < B; r++) y[r * N + j] = (x[r * N + j] - rm[j]) * s + b[j];
  }
}

/** Batch normalization, backward: db = Σ dy, dg = Σ dy xh; when needDx, dy becomes dx = g inv (dy - Σdy/B - xh Σ(dy xh)/B) in place. */
export function batchnormBackwardNaive(dy: Float32Array, xh: Float32Array, inv: Float32Array, g: Float32Array, dg: Float32Array, db: Float32Array, B: number, N: number, needDx: boolean): void {
  for (let j = 0; j < N; j++) {
    let sum = 0, dot = 0;
    for (let r = 0; r < B; r++) {
      sum += dy[r * N + j];
      dot += dy[r * N + j] * xh[r * N + j];
    }
    db[j] = sum;
    dg[j] = dot;
    if (!needDx) continue;
    const k = g[j] * inv[j];
    for (let r = 0; r < B; r++) dy[r * N + j] = k * (dy[r * N + j] - sum / B - (xh[r * N + j] * dot) / B);
  }
}

/**
 * The int8 dense layer (nn quantize), plainly: W (Out, In) int8, one scale per output; each input row
 * quantized on its own (mode 0: symmetric, sx = max(max|x| / 127, 1e-30), q = roundEven(x * (1 / sx))
 * in [-127, 127]; mode 1: pixel bytes as floats, sx = 1, q = roundEven(x) in [0, 255]; mode 2: inputs
 * >= 0, sx = max(max|x| / 255, 1e-30), q = roundEven(x * (1 / sx)) in [0, 255]); the integer
 * sum Σ_i q_i W_oi, then y = (f32(sum) * sw_o) * sx + bias_o in float32, ReLU when `relu`.
 * Returns the integer sums (B, Out) too, for tests of the integer kernels.
 */
export function qlinearForwardNaive(X: Float32Array, W: Int8Array, wscale: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number, mode: 0 | 1 | 2, relu: boolean): Int32Array {
  const f = Math.fround;
  const sums = new Int32Array(B * Out);
  const q = new Int32Array(In);
  for (let b = 0; b < B; b++) {
    let sx = 1;
    if (mode !== 1) {
      let m = 0;
      for (let i = 0; i < In; i++) m = Math.max(m, Math.abs(X[b * In + i]));
      sx = Math.max(f(m / (mode === 0 ? 127 : 255)), f(1e-30));
    }
    const inv = mode === 1 ? 1 : f(1 / sx);
    for (let i = 0; i < In; i++) {
      const v = roundHalfEven(f(X[b * In + i] * inv));
      q[i] = Number.isNaN(v) ? 0 : mode === 0 ? Math.min(127, Math.max(-127, v)) : Math.min(255, Math.max(0, v));
    }
    for (let o = 0; o < Out; o++) {
      let s = 0;
      for (let i = 0; i < In; i++) s += q[i] * W[o * In + i];
      sums[b * Out + o] = s;
      const y = f(f(f(f(s) * wscale[o]) * sx) + bias[o]);
      Y[b * Out + o] = relu && !(y > 0) ? 0 : y;
    }
  }
  return sums;
}

/** Round to the nearest integer, halves to the even one (IEEE 754's default, wasm's f32.nearest, ONNX's Round). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // halves up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
