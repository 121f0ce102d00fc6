/**
 * Activation functions, each with its derivative beside it. Every derivative is
 * written in terms of the output a = f(z), so the forward pass needs to keep
 * only its output for the backward pass. The elementwise ones run in the kernel
 * backend (WebAssembly SIMD where it runs; src/kernels/ts.ts has the plain loops).
 */
import { kernels } from '../kernels';

export const ACTIVATIONS = ['linear', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export interface ActivationOptions {
  alpha: number; // leaky_relu: the slope for z < 0; elu: the negative saturation value (-alpha)
}

/** alpha when a config does not give one: 0.01 for leaky_relu (PyTorch's), 1 for elu (Clevert et al. 2016). */
export function defaultAlpha(name: ActivationName): number {
  return name === 'elu' ? 1 : 0.01;
}

/** a = f(z) in place over (B, N). */
export function activationForward(name: ActivationName, z: Float32Array, B: number, N: number, opts: ActivationOptions): void {
  const len = B * N;
  switch (name) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < len; i++) if (z[i] < 0) z[i] = 0;
      return;
    case 'leaky_relu':
      // alpha z below 0
      kernels.leakyReluForward(z, len, opts.alpha);
      return;
    case 'elu':
      // z for z > 0, alpha (e^z - 1) below: smooth at 0 when alpha = 1, and saturating at -alpha
      kernels.eluForward(z, len, opts.alpha);
      return;
    case 'sigmoid':
      // 1 / (1 + e^-z)
      kernels.sigmoidForward(z, len);
      return;
    case 'tanh':
      kernels.tanhForward(z, len);
      return;
    case 'softmax':
      for (let b = 0; b < B; b++) {
        const r = b * N;
        let max = -Infinity;
        for (let j = 0; j < N; j++) if (z[r + j] > max) max = z[r + j];
        let sum = 0;
        for (let j = 0; j < N; j++) {
          const e = Math.exp(z[r + j] - max); // shifted by the max so exp cannot overflow
          z[r + j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let j = 0; j < N; j++) z[r + j] *= inv;
      }
      return;
  }
}

/** g (dL/da) becomes dL/dz in place, given the forward output a, over (B, N). */
export function activationBackward(name: ActivationName, a: Float32Array, g: Float32Array, B: number, N: number, opts: ActivationOptions): void {
  const len = B * N;
  switch (name) {
    case 'linear':
      return;
    case 'relu':
      kernels.reluBackward(a, g, len); // a SIMD loop where the buffers allow it
      return;
    case 'leaky_relu':
      // a > 0 exactly when z > 0, because alpha >= 0 (at z = 0 the slope is alpha, as in PyTorch)
      kernels.leakyReluBackward(a, g, len, opts.alpha);
      return;
    case 'elu':
      // for z <= 0, d/dz alpha (e^z - 1) = alpha e^z = a + alpha (at z = 0 the slope is alpha, as in PyTorch)
      kernels.eluBackward(a, g, len, opts.alpha);
      return;
    case 'sigmoid':
      // a (1 - a)
      kernels.sigmoidBackward(a, g, len);
      return;
    case 'tanh':
      // 1 - a², as (1 - a)(1 + a), which keeps its precision near |a| = 1
      kernels.tanhBackward(a, g, len);
      return;
    case 'softmax':
      // Jacobian-vector product: dz_j = a_j (g_j - Σ_k g_k a_k)
      for (let b = 0; b < B; b++) {
        const r = b * N;
        let dot = 0;
        for (let j = 0; j < N; j++) dot += g[r + j] * a[r + j];
        for (let j = 0; j < N; j++) g[r + j] = a[r + j] * (g[r + j] - dot);
      }
      return;
  }
}
