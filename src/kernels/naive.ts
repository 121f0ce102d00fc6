/**
 * The reference kernels: the plainest loops that compute each product.
 * Every fast kernel is tested against these; they are also the fallback.
 * Shapes: B batch, In inputs, Out outputs. W is (Out, In), as PyTorch's Linear.
 */

/** Y (B, Out) = X (B, In) · Wᵀ + bias (Out) */
export function linearForwardNaive(X: Float32Array, W: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Out; o++) {
      let s = bias[o];
      for (let i = 0; i < In; i++) s += X[b * In + i] * W[o * In + i];
      Y[b * Out + o] = s;
    }
  }
}

/** dX (B, In) = dY (B, Out) · W (Out, In) */
export function linearBackwardInputNaive(dY: Float32Array, W: Float32Array, dX: Float32Array, B: number, In: number, Out: number): void {
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < In; i++) {
      let s = 0;
      for (let o = 0; o < Out; o++) s += dY[b * Out + o] * W[o * In + i];
      dX[b * In + i] = s;
    }
  }
}

/** dW (Out, In) += dYᵀ · X; db (Out) += Σ_b dY  (gradients accumulate) */
export function linearBackwardWeightNaive(dY: Float32Array, X: Float32Array, dW: Float32Array, db: Float32Array, B: number, In: number, Out: number): void {
  for (let o = 0; o < Out; o++) {
    for (let i = 0; i < In; i++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += dY[b * Out + o] * X[b * In + i];
      dW[o * In + i] += s;
    }
    let sb = 0;
    for (let b = 0; b < B; b++) sb += dY[b * Out + o];
    db[o] += sb;
  }
}
