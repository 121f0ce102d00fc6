/**
 * Losses over a batch of outputs p (B, C) and integer labels (B) (targets are
 * their one-hot vectors). forward returns the mean loss; backward writes dL/dp,
 * or dL/dz when the loss is fused with the output activation: softmax with
 * cross-entropy and sigmoid with binary cross-entropy both give (p - t) / n,
 * exact and stable where the separate derivatives would divide by p ≈ 0.
 */
import type { ActivationName } from './activations';

export const LOSSES = ['cross_entropy', 'mse', 'binary_cross_entropy'] as const;
export type LossName = (typeof LOSSES)[number];

export interface Loss {
  readonly name: LossName;
  /** The output activation this loss folds into its gradient, if any. */
  readonly fusedWith: ActivationName | null;
  forward(p: Float32Array, labels: Uint8Array, B: number, C: number): number;
  /** grad (B, C) = dL/dp, or dL/dz if fused (see fusedWith). */
  backward(p: Float32Array, labels: Uint8Array, B: number, C: number, grad: Float32Array): void;
}

// log(0) guard: a probability is never taken below this (as in Keras and the NumPy peer).
const EPS = 1e-12;
// Binary cross-entropy clips at a coarser level, like Keras, because float32 1 - p rounds to 0 near 1.
const BCE_EPS = 1e-7;

/** Categorical cross-entropy: L = -(1/B) Σ_b log p[b, y_b]. */
export function crossEntropy(outputActivation: ActivationName): Loss {
  const fused = outputActivation === 'softmax';
  return {
    name: 'cross_entropy',
    fusedWith: fused ? 'softmax' : null,
    forward(p, labels, B, C) {
      let s = 0;
      for (let b = 0; b < B; b++) s -= Math.log(Math.max(p[b * C + labels[b]], EPS));
      return s / B;
    },
    backward(p, labels, B, C, grad) {
      const inv = 1 / B;
      if (fused) {
        for (let i = 0; i < B * C; i++) grad[i] = p[i] * inv;
        for (let b = 0; b < B; b++) grad[b * C + labels[b]] -= inv;
      } else {
        grad.fill(0, 0, B * C);
        for (let b = 0; b < B; b++) grad[b * C + labels[b]] = -inv / Math.max(p[b * C + labels[b]], EPS);
      }
    },
  };
}

/** Mean squared error against one-hot targets: L = (1/(B C)) Σ (p - t)². */
export function mse(): Loss {
  return {
    name: 'mse',
    fusedWith: null,
    forward(p, labels, B, C) {
      let s = 0;
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          const d = p[b * C + c] - (labels[b] === c ? 1 : 0);
          s += d * d;
        }
      }
      return s / (B * C);
    },
    backward(p, labels, B, C, grad) {
      const k = 2 / (B * C);
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) grad[b * C + c] = k * (p[b * C + c] - (labels[b] === c ? 1 : 0));
      }
    },
  };
}

/** Binary cross-entropy per output unit: L = -(1/(B C)) Σ [t log p + (1 - t) log(1 - p)]. */
export function binaryCrossEntropy(outputActivation: ActivationName): Loss {
  const fused = outputActivation === 'sigmoid';
  const clip = (v: number) => Math.min(Math.max(v, BCE_EPS), 1 - BCE_EPS);
  return {
    name: 'binary_cross_entropy',
    fusedWith: fused ? 'sigmoid' : null,
    forward(p, labels, B, C) {
      let s = 0;
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          const q = clip(p[b * C + c]);
          s -= labels[b] === c ? Math.log(q) : Math.log(1 - q);
        }
      }
      return s / (B * C);
    },
    backward(p, labels, B, C, grad) {
      const inv = 1 / (B * C);
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          const t = labels[b] === c ? 1 : 0;
          const i = b * C + c;
          if (fused) grad[i] = (p[i] - t) * inv;
          else {
            const q = clip(p[i]);
            grad[i] = ((q - t) / (q * (1 - q))) * inv;
          }
        }
      }
    },
  };
}

export function makeLoss(name: LossName, outputActivation: ActivationName): Loss {
  switch (name) {
    case 'cross_entropy':
      return crossEntropy(outputActivation);
    case 'mse':
      return mse();
    case 'binary_cross_entropy':
      return binaryCrossEntropy(outputActivation);
  }
}
