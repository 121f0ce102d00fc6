/**
 * The reference kernels: the plainest loops that compute each product.
 * Every fast kernel is tested against these; they are also the fallback.
 * Shapes: B batch, In inputs, Out outputs. Weights are stored transposed,
 * Wt (In, Out), so that all three products run along contiguous rows of
 * Out (model files still hold PyTorch's (Out, In); see io/modelfile.ts).
 */

/** Y (B, Out) = X (B, In) · Wt (In, Out) + bias (Out) */
export function linearForwardNaive(X: Float32Array, Wt: Float32Array, bias: Float32Array, Y: Float32Array, B: number, In: number, Out: number): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Out; o++) {
      let s = bias[o];
      for (let i = 0; i < In; i++) s += X[b * In + i] * Wt[i * Out + o];
      Y[b * Out + o] = s;
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

/** dWt (In, Out) += Xᵀ · dY; db (Out) += Σ_b dY  (gradients accumulate) */
export function linearBackwardWeightNaive(dY: Float32Array, X: Float32Array, dWt: Float32Array, db: Float32Array, B: number, In: number, Out: number): void {
  for (let i = 0; i < In; i++) {
    for (let o = 0; o < Out; o++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += X[b * In + i] * dY[b * Out + o];
      dWt[i * Out + o] += s;
    }
  }
  for (let o = 0; o < Out; o++) {
    let s = 0;
    for (let b = 0; b < B; b++) s += dY[b * Out + o];
    db[o] += s;
  }
}
