/**
 * Fast kernels in plain TypeScript: 4x4 register blocking, so each value loaded
 * from memory feeds four multiply-adds instead of one. Same results as
 * naive.ts up to float rounding (tested in test/kernels). Weights are Wt (In, Out).
 */
import { xoshiroStep } from '../util/rng';

/** C (M, N) = A (M, K) · Bmᵀ, Bm (N, K): dot products of rows, both contiguous. */
function dotRows(X: Float32Array, W: Float32Array, Y: Float32Array, B: number, Out: number, In: number): void {
  const B4 = B & ~3;
  const O4 = Out & ~3;
  for (let b = 0; b < B4; b += 4) {
    const x0 = b * In, x1 = x0 + In, x2 = x1 + In, x3 = x2 + In;
    for (let o = 0; o < O4; o += 4) {
      const w0 = o * In, w1 = w0 + In, w2 = w1 + In, w3 = w2 + In;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0; i < In; i++) {
        const a0 = X[x0 + i], a1 = X[x1 + i], a2 = X[x2 + i], a3 = X[x3 + i];
        const c0 = W[w0 + i], c1 = W[w1 + i], c2 = W[w2 + i], c3 = W[w3 + i];
        s00 += a0 * c0; s01 += a0 * c1; s02 += a0 * c2; s03 += a0 * c3;
        s10 += a1 * c0; s11 += a1 * c1; s12 += a1 * c2; s13 += a1 * c3;
        s20 += a2 * c0; s21 += a2 * c1; s22 += a2 * c2; s23 += a2 * c3;
        s30 += a3 * c0; s31 += a3 * c1; s32 += a3 * c2; s33 += a3 * c3;
      }
      let y = b * Out + o;
      Y[y] = s00; Y[y + 1] = s01; Y[y + 2] = s02; Y[y + 3] = s03; y += Out;
      Y[y] = s10; Y[y + 1] = s11; Y[y + 2] = s12; Y[y + 3] = s13; y += Out;
      Y[y] = s20; Y[y + 1] = s21; Y[y + 2] = s22; Y[y + 3] = s23; y += Out;
      Y[y] = s30; Y[y + 1] = s31; Y[y + 2] = s32; Y[y + 3] = s33;
    }
    for (let o = O4; o < Out; o++) {
      const w = o * In;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < In; i++) {
        const c = W[w + i];
        s0 += X[x0 + i] * c; s1 += X[x1 + i] * c; s2 += X[x2 + i] * c; s3 += X[x3 + i] * c;
      }
      Y[b * Out + o] = s0; Y[(b + 1) * Out + o] = s1;
      Y[(b + 2) * Out + o] = s2; Y[(b + 3) * Out + o] = s3;
    }
  }
  for (let b = B4; b < B; b++) {
    const x = b * In;
    for (let o = 0; o < Out; o++) {
      const w = o * In;
      let s = 0;
      for (let i = 0; i < In; i++) s += X[x + i] * W[w + i];
      Y[b * Out + o] = s;
    }
  }
}

/**
 * C (M, N) (+)= A · Bm, where Bm (K, N) is row-major and A is read through strides
 * (A[m, k] = A[m * am + k * ak]) so the same kernel serves A and Aᵀ.
 * The inner loop runs along contiguous rows of Bm and C.
 */
function gemmStridedA(A: Float32Array, am: number, ak: number, Bm: Float32Array, C: Float32Array, M: number, N: number, K: number, accumulate: boolean): void {
  if (!accumulate) C.fill(0, 0, M * N);
  const M4 = M & ~3;
  const K4 = K & ~3;
  for (let m = 0; m < M4; m += 4) {
    const c0 = m * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    for (let k = 0; k < K4; k += 4) {
      const r0 = k * N, r1 = r0 + N, r2 = r1 + N, r3 = r2 + N;
      const p = m * am + k * ak;
      const a00 = A[p], a01 = A[p + ak], a02 = A[p + 2 * ak], a03 = A[p + 3 * ak];
      const a10 = A[p + am], a11 = A[p + am + ak], a12 = A[p + am + 2 * ak], a13 = A[p + am + 3 * ak];
      const a20 = A[p + 2 * am], a21 = A[p + 2 * am + ak], a22 = A[p + 2 * am + 2 * ak], a23 = A[p + 2 * am + 3 * ak];
      const a30 = A[p + 3 * am], a31 = A[p + 3 * am + ak], a32 = A[p + 3 * am + 2 * ak], a33 = A[p + 3 * am + 3 * ak];
      // Zero coefficient blocks are common after ReLU and dropout: skip them.
      if (a00 === 0 && a01 === 0 && a02 === 0 && a03 === 0 && a10 === 0 && a11 === 0 && a12 === 0 && a13 === 0 &&
          a20 === 0 && a21 === 0 && a22 === 0 && a23 === 0 && a30 === 0 && a31 === 0 && a32 === 0 && a33 === 0) continue;
      for (let n = 0; n < N; n++) {
        const b0 = Bm[r0 + n], b1 = Bm[r1 + n], b2 = Bm[r2 + n], b3 = Bm[r3 + n];
        C[c0 + n] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3;
        C[c1 + n] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3;
        C[c2 + n] += a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3;
        C[c3 + n] += a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3;
      }
    }
    for (let k = K4; k < K; k++) {
      const r = k * N;
      const p = m * am + k * ak;
      const a0 = A[p], a1 = A[p + am], a2 = A[p + 2 * am], a3 = A[p + 3 * am];
      for (let n = 0; n < N; n++) {
        const bv = Bm[r + n];
        C[c0 + n] += a0 * bv; C[c1 + n] += a1 * bv; C[c2 + n] += a2 * bv; C[c3 + n] += a3 * bv;
      }
    }
  }
  for (let m = M4; m < M; m++) {
    const c = m * N;
    for (let k = 0; k < K; k++) {
      const a = A[m * am + k * ak];
      if (a === 0) continue;
      const r = k * N;
      for (let n = 0; n < N; n++) C[c + n] += a * Bm[r + n];
    }
  }
}

/** Y (B, Out) = X (B, In) · Wt (In, Out) + bias (Out), then ReLU when `relu`; with a shift (In), the bias is bias + shift · Wt (inputs X + shift) */
export function linearForward(X: Float32Array, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number, relu = false, shift?: Float32Array | null): void {
  if (shift) bias = shiftedBias(shift, Wt, bias, In, Out);
  for (let b = 0; b < B; b++) for (let o = 0; o < Out; o++) Y[b * Out + o] = bias[o];
  gemmStridedA(X, In, 1, Wt, Y, B, Out, In, true);
  if (relu) for (let k = 0; k < B * Out; k++) if (Y[k] < 0) Y[k] = 0;
}

// bias + shift · Wt, in a buffer kept for reuse (grown as needed)
let shifted = new Float32Array(0);
function shiftedBias(shift: Float32Array, Wt: Float32Array, bias: Float32Array, In: number, Out: number): Float32Array {
  if (shifted.length < Out) shifted = new Float32Array(Out);
  const e = shifted.subarray(0, Out);
  e.set(bias.subarray(0, Out));
  gemmStridedA(shift, In, 1, Wt, e, 1, Out, In, true);
  return e;
}

/** dX (B, In) = dY (B, Out) · Wtᵀ */
export function linearBackwardInput(dY: Float32Array, Wt: Float32Array, dX: Float32Array, B: number, In: number, Out: number): void {
  dotRows(dY, Wt, dX, B, In, Out);
}

/** dWt (In, Out) = Xᵀ · dY; db (Out) = Σ_b dY (overwriting); with a shift (In), dWt += shift ⊗ db (inputs X + shift) */
export function linearBackwardWeight(dY: Float32Array, X: Float32Array, dWt: Float32Array, db: Float32Array, B: number, In: number, Out: number, shift?: Float32Array | null): void {
  gemmStridedA(X, 1, In, dY, dWt, In, Out, B, false);
  db.fill(0, 0, Out);
  for (let b = 0; b < B; b++) {
    const r = b * Out;
    for (let o = 0; o < Out; o++) db[o] += dY[r + o];
  }
  if (shift) addOuter(shift, db, dWt, In, Out);
}

/** dWt (In, Out) += shift ⊗ db: each element gets shift[i] * db[o] added in f32 (as the WebAssembly kernel). */
function addOuter(shift: Float32Array, db: Float32Array, dWt: Float32Array, In: number, Out: number): void {
  for (let i = 0; i < In; i++) {
    const c = shift[i];
    if (c === 0) continue;
    const r = i * Out;
    for (let o = 0; o < Out; o++) dWt[r + o] = dWt[r + o] + Math.fround(c * db[o]);
  }
}

/** One Adam step (see naive.ts), with the per-element work kept in locals. */
export function adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, decay = 1): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = b1 * m[i] + (1 - b1) * gi;
    const vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
  }
}

/**
 * A normalized batch, (raw - offset) / divisor per pixel: the same f32 operations as the
 * WebAssembly kernel (each double result rounds to the f32 one: double rounding is
 * harmless for f32 subtraction and division).
 */
export function gather(images: Uint8Array, idx: Uint32Array, start: number, B: number, D: number, offset: Float32Array, divisor: Float32Array, out: Float32Array): void {
  for (let r = 0; r < B; r++) {
    const src = idx[start + r] * D;
    const dst = r * D;
    for (let j = 0; j < D; j++) out[dst + j] = Math.fround(images[src + j] - offset[j]) / divisor[j];
  }
}

/** sum[j] += x_j, sumSq[j] += x_j² over images idx[start .. start + count) (u32: the caller flushes before they could wrap). */
export function pixelSums(images: Uint8Array, idx: Uint32Array, start: number, count: number, D: number, sum: Uint32Array, sumSq: Uint32Array): void {
  for (let r = 0; r < count; r++) {
    const src = idx[start + r] * D;
    for (let j = 0; j < D; j++) {
      const x = images[src + j];
      sum[j] += x;
      sumSq[j] += x * x;
    }
  }
}

export function reluBackward(a: Float32Array, g: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if (!(a[i] > 0)) g[i] = 0;
}

export function mulInPlace(g: Float32Array, mask: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) g[i] *= mask[i];
}

// ---- activations (see nn/activations.ts) ----
// The forward passes are the references the WebAssembly ones are tested against:
// Math.* in float64, rounded once to float32 on store (leaky_relu is one f32 product
// either way). The backward passes do the WebAssembly kernels' f32 operations in
// their order (a product of two f32 values is exact in f64, so rounding it once is
// the f32 product), so both backends give identical gradients from identical outputs.

/** z = leaky_relu(z): z * alpha (as f32) where z is not above 0 */
export function leakyReluForward(z: Float32Array, n: number, alpha: number): void {
  const a32 = Math.fround(alpha);
  for (let i = 0; i < n; i++) if (!(z[i] > 0)) z[i] *= a32;
}

export function leakyReluBackward(a: Float32Array, g: Float32Array, n: number, alpha: number): void {
  const a32 = Math.fround(alpha);
  for (let i = 0; i < n; i++) if (!(a[i] > 0)) g[i] *= a32;
}

export function eluForward(z: Float32Array, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) if (z[i] < 0) z[i] = alpha * Math.expm1(z[i]);
}

export function eluBackward(a: Float32Array, g: Float32Array, n: number, alpha: number): void {
  const a32 = Math.fround(alpha);
  for (let i = 0; i < n; i++) if (!(a[i] > 0)) g[i] *= Math.fround(a[i] + a32);
}

export function sigmoidForward(z: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) z[i] = 1 / (1 + Math.exp(-z[i]));
}

export function sigmoidBackward(a: Float32Array, g: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) g[i] *= Math.fround(a[i] * Math.fround(1 - a[i]));
}

export function tanhForward(z: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) z[i] = Math.tanh(z[i]);
}

export function tanhBackward(a: Float32Array, g: Float32Array, n: number): void {
  // (1 - a)(1 + a) rather than 1 - a²: see tanh_backward in wasm/kernels.ts
  for (let i = 0; i < n; i++) g[i] *= Math.fround(Math.fround(1 - a[i]) * Math.fround(1 + a[i]));
}

/** SGD (see optim/sgd.ts): momentum mu with velocity v, or plain when mu = 0 (v unused). */
export function sgd(p: Float32Array, g: Float32Array, v: Float32Array | null, lr: number, mu: number, nesterov: boolean): void {
  const n = p.length;
  if (mu === 0 || !v) {
    for (let i = 0; i < n; i++) p[i] -= lr * g[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    const vi = mu * v[i] + g[i];
    v[i] = vi;
    p[i] -= lr * (nesterov ? g[i] + mu * vi : vi);
  }
}

/** RMSprop (see optim/rmsprop.ts). */
export function rmsprop(p: Float32Array, g: Float32Array, s: Float32Array, lr: number, rho: number, eps: number): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const si = rho * s[i] + (1 - rho) * gi * gi;
    s[i] = si;
    p[i] -= (lr * gi) / (Math.sqrt(si) + eps);
  }
}

/** AdaGrad (see optim/adagrad.ts). */
export function adagrad(p: Float32Array, g: Float32Array, s: Float32Array, lr: number, eps: number): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const si = s[i] + gi * gi;
    s[i] = si;
    p[i] -= (lr * gi) / (Math.sqrt(si) + eps);
  }
}

/**
 * Inverted dropout over a 4-lane xoshiro128** state (util/rng.ts, Rng4): element i
 * takes the next draw of lane i % 4, and is kept (mask = scale as f32) when that draw
 * is at most `keepLimit(keep)`, else dropped (mask = 0); y = x * mask in f32. The
 * lanes advance together, ceil(n / 4) draws each, as the SIMD kernel does.
 */
export function dropoutMask(state: Uint32Array, x: Float32Array, mask: Float32Array, y: Float32Array, n: number, keep: number, scale: number): void {
  const limit = keepLimit(keep);
  const m32 = Math.fround(scale);
  for (let i = 0; i < n; i += 4) {
    for (let l = 0; l < 4; l++) {
      const r = xoshiroStep(state, l);
      if (i + l >= n) continue;
      const m = r <= limit ? m32 : 0;
      mask[i + l] = m;
      y[i + l] = x[i + l] * m; // exact in f64 (two f32 factors), rounded once on store: the f32 product
    }
  }
}

/** The largest 32-bit draw that keeps a unit: draws r < keep * 2^32 keep it. */
export function keepLimit(keep: number): number {
  return Math.min(4294967295, Math.max(0, Math.ceil(keep * 4294967296) - 1));
}
